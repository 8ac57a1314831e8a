//! The sync protocol's messages, shared by the client (this crate) and the server.
//!
//! Every request and response body is `brotli(postcard(message))` with the content type
//! [`CONTENT_TYPE`]: Automerge changes are binary and already compact, so a binary encoding
//! plus one compression pass over a whole batch keeps the bytes on a 2G link at those of the
//! same records as gzip-compressed JSON (measured in BENCHMARKS.md; brotli at quality 5 was
//! 20% smaller than gzip on sync batches and as fast). Errors come back as JSON
//! ([`ErrorBody`]) because people read them.
//!
//! - **Push** ([`PushRequest`]): a batch of changes from the device's outbox, bounded in bytes
//!   and signed as a batch ([`push_manifest`]); the server answers item by item
//!   ([`PushOutcome`]), idempotent by change hash. A rejected item carries a code and a
//!   message; the rest of the batch is still taken.
//! - **Pull** ([`PullRequest`]): the changes after a per-scope server sequence cursor, in pages
//!   bounded by bytes. The client applies a page and stores its cursor in one transaction.
//! - **Heads** ([`HeadsRequest`]): which of the device's records differ from the server's;
//!   asked only when a pull shows that the server lost changes (its sequence is below the
//!   device's cursor: a restored backup, a reset).
//! - **Repair** ([`RepairRequest`]): Automerge's own sync protocol for the few documents whose
//!   heads still disagree (a cursor reset, a restored backup), many documents per request.
//! - **Unreadable** ([`UnreadableRequest`]): which of the device's records its account may no
//!   longer read, so that the device forgets them; asked when a pull names scopes the account
//!   no longer reads ([`PullResponse::retired`]: a team it left, an assignment that ended, a
//!   colleague who left, a scope whose contents narrowed and so changed its name).

use std::io::{Read, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Rejection codes that may pass on a later push.
pub const TRANSIENT_REJECTIONS: &[&str] = &["internal", "unknown_reference"];

/// Content type of protocol bodies.
pub const CONTENT_TYPE: &str = "application/x-cunji-sync";
/// Header carrying the device's clock (RFC 3339 with its zone) when it sent a request: the
/// server keeps the offset from its own clock beside each change it receives, which is how
/// clock drift (R2) is known.
pub const DEVICE_TIME_HEADER: &str = "x-cunji-device-time";
/// The protocol version this build speaks, sent with every sync request in
/// [`PROTOCOL_HEADER`] and answered in the same header.
///
/// **Versions.** A server speaks every version from [`OLDEST_PROTOCOL`] to its own, so a phone
/// a release or more older keeps syncing after the server is upgraded (it answers each request
/// in the version the request came in; `tests/fixtures/protocol-v1` keeps a store and a push
/// of version 1, and a test syncs them against today's server). A request in a version older
/// than that gets `426 update_required` and one newer than the server's `400
/// protocol_too_new`, each with a message saying what to do; the phone keeps its records and
/// stops. A request without the header is read as version 1 (the first release sent it, but
/// nothing checked it). A change of any message below is a new version; the messages of
/// earlier versions stay, frozen, in modules of their own ([`v1`]).
///
/// - **1**: pushes signed as a batch ([`v1::PushRequest`]); pulls and repairs carry no proof of
///   authorship.
/// - **2**: every pushed change carries its device's signature ([`PushItem::signature`]); the
///   server keeps it, and every pulled or repaired change carries its [`Proof`], which the
///   device checks before applying it.
pub const PROTOCOL_VERSION: u32 = 2;
/// The oldest protocol version the server still speaks.
pub const OLDEST_PROTOCOL: u32 = 1;
/// The header carrying the protocol version, on requests and on the server's answers.
pub const PROTOCOL_HEADER: &str = "x-cunji-protocol";

/// Local changes for the server, each signed by the pushing device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    pub items: Vec<PushItem>,
}

/// One change of record `doc_id`, with its author device's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushItem {
    pub doc_id: String,
    pub change: Vec<u8>,
    /// The device's Ed25519 signature over the record id and the change's hash
    /// ([`crate::identity::DeviceIdentity::sign_change`], made when the change entered the
    /// outbox). The server keeps it beside the change and every pull carries it, so what a
    /// device wrote stays provably its own after the push ([`Proof::Device`]). Per change, not
    /// per batch: a proof must hold for one change pulled on its own, long after its batch.
    pub signature: Vec<u8>,
}

impl PushItem {
    /// An item for `change` of record `doc_id`, signed by `device`; `None` if the bytes are
    /// not an Automerge change.
    pub fn signed(
        device: &crate::identity::DeviceIdentity,
        doc_id: &str,
        change: Vec<u8>,
    ) -> Option<PushItem> {
        let hash = crate::doc::change_from_bytes(change.clone()).ok()?.hash();
        Some(PushItem {
            doc_id: doc_id.to_string(),
            signature: device.sign_change(doc_id, &hash).to_vec(),
            change,
        })
    }
}

/// What proves who wrote a change the server holds: the author device's own signature, or,
/// for a change that reached the server without one (pushed by a phone of protocol 1, whose
/// batch signature was checked and dropped; made by the server itself: an import, a rebuilt
/// record; logged before the server kept signatures), the server's attestation that it took
/// the change, made with its key ([`crate::identity::verify_attestation`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Proof {
    /// The author device's signature ([`PushItem::signature`]), checked against the key the
    /// response lists for the change's actor ([`AuthorKey`]).
    Device(Vec<u8>),
    /// The server's attestation, checked against [`PullResponse::server_key`].
    Server(Vec<u8>),
}

/// A device's public key, for the changes of its actor in a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorKey {
    /// The Automerge actor id (bytes) its changes carry.
    pub actor: Vec<u8>,
    /// Its Ed25519 public key, as registered when the device signed in.
    pub public_key: Vec<u8>,
}

/// The messages of protocol 1 that differ from today's, frozen: what phones of that release
/// send and read. The server still takes and answers them ([`PROTOCOL_VERSION`]).
pub mod v1 {
    use serde::{Deserialize, Serialize};

    /// Local changes for the server, signed as a batch by the pushing device.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct PushRequest {
        pub items: Vec<PushItem>,
        /// The device's Ed25519 signature over [`push_manifest`] of these items.
        pub signature: Vec<u8>,
    }

    /// One change of record `doc_id`.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct PushItem {
        pub doc_id: String,
        pub change: Vec<u8>,
    }

    /// What a device signs for a push: a domain tag, its device id, the number of items and,
    /// for each item in order, its record id and the SHA-256 of its change bytes.
    pub fn push_manifest(device_id: &str, items: &[PushItem]) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        let mut m = Vec::with_capacity(32 + device_id.len() + items.len() * 72);
        m.extend_from_slice(b"cunji-push-v1\0");
        m.extend_from_slice(device_id.as_bytes());
        m.push(0);
        m.extend_from_slice(&(items.len() as u64).to_le_bytes());
        for item in items {
            m.extend_from_slice(item.doc_id.as_bytes());
            m.push(0);
            m.extend_from_slice(&Sha256::digest(&item.change));
        }
        m
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct PullResponse {
        pub pages: Vec<PullPage>,
        pub more: bool,
        pub server_seq: i64,
        pub device_clock_offset_ms: Option<i64>,
        pub retired: Vec<String>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct PullPage {
        pub scope: String,
        pub changes: Vec<PulledChange>,
        pub cursor: i64,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct PulledChange {
        pub doc_id: String,
        pub change: Vec<u8>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct RepairResponse {
        pub docs: Vec<super::RepairMessage>,
    }

    impl From<super::PullResponse> for PullResponse {
        /// Today's pull answer as protocol 1 gives it: without proofs.
        fn from(r: super::PullResponse) -> PullResponse {
            PullResponse {
                pages: r
                    .pages
                    .into_iter()
                    .map(|p| PullPage {
                        scope: p.scope,
                        changes: p
                            .changes
                            .into_iter()
                            .map(|c| PulledChange {
                                doc_id: c.doc_id,
                                change: c.change,
                            })
                            .collect(),
                        cursor: p.cursor,
                    })
                    .collect(),
                more: r.more,
                server_seq: r.server_seq,
                device_clock_offset_ms: r.device_clock_offset_ms,
                retired: r.retired,
            }
        }
    }

    impl From<super::RepairResponse> for RepairResponse {
        fn from(r: super::RepairResponse) -> RepairResponse {
            RepairResponse { docs: r.docs }
        }
    }

    impl super::Response for PullResponse {}
    impl super::Response for RepairResponse {}
}

/// The server's answer to each item, in the request's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<PushResult>,
    /// The device's clock minus the server's when the request arrived, in ms
    /// ([`DEVICE_TIME_HEADER`]); `None` without the header. Last, so that older devices
    /// decode the fields before it and stop ([`Response`]).
    pub device_clock_offset_ms: Option<i64>,
}

/// What devices before the clock offset decode, and what older servers send.
#[derive(Deserialize)]
struct PushResponseV1 {
    results: Vec<PushResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResult {
    /// The change's hash as the server computed it (empty when the bytes did not parse).
    pub hash: Vec<u8>,
    pub outcome: PushOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PushOutcome {
    /// Checked, stored and merged.
    Accepted,
    /// The server already had it.
    Duplicate,
    /// Stored, waiting for changes it depends on.
    Held,
    /// Refused; nothing of it was stored.
    Rejected { code: String, message: String },
}

impl PushOutcome {
    /// The server holds the change, or has refused it for good: the device may drop it from
    /// its outbox. A change refused for a reason that can pass (a server error, a record it
    /// refers to that has not reached the server yet) stays queued and is pushed again.
    pub fn is_settled(&self) -> bool {
        !matches!(self, PushOutcome::Rejected { code, .. } if TRANSIENT_REJECTIONS.contains(&code.as_str()))
    }
}

/// A request for the changes after the given cursors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// Cursors the device has; scopes it does not list start at 0.
    pub cursors: Vec<ScopeCursor>,
    /// The most bytes of changes the response should carry (at least one change is sent).
    pub max_bytes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeCursor {
    pub scope: String,
    pub cursor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    pub pages: Vec<PullPage>,
    /// More changes wait beyond this response.
    pub more: bool,
    /// The server's highest sequence number. A device cursor above it means the server lost
    /// changes (restored from a backup, or reset): the device then checks its records' heads.
    pub server_seq: i64,
    /// As in [`PushResponse`]: the device's clock minus the server's, in ms.
    pub device_clock_offset_ms: Option<i64>,
    /// Scopes of the request's cursors that the account no longer reads: the device drops
    /// their cursors and asks which of its records it may no longer read
    /// ([`UnreadableRequest`]).
    pub retired: Vec<String>,
    /// The keys of the devices whose signatures the pages carry ([`Proof::Device`]).
    pub keys: Vec<AuthorKey>,
    /// The server's public key, for its attestations ([`Proof::Server`]).
    pub server_key: Vec<u8>,
}

/// A response body a device decodes.
///
/// postcard is positional and has no field names: a field added at the end of a message is
/// simply not read by an older device (postcard ignores bytes after the message), but a newer
/// device cannot read an older server's shorter message as the new type (`#[serde(default)]`
/// does not apply: postcard has no "field missing", only "input ended"). So a response that
/// grew a field decodes its previous form when the new one does not parse.
pub trait Response: DeserializeOwned {
    fn decode_response(body: &[u8], max_decoded: usize) -> Result<Self, WireError> {
        decode(body, max_decoded)
    }
}

impl Response for HeadsResponse {}
impl Response for RepairResponse {}

impl Response for PushResponse {
    fn decode_response(body: &[u8], max_decoded: usize) -> Result<Self, WireError> {
        decode(body, max_decoded).or_else(|e| match e {
            WireError::Malformed(_) => {
                let old: PushResponseV1 = decode(body, max_decoded)?;
                Ok(PushResponse {
                    results: old.results,
                    device_clock_offset_ms: None,
                })
            }
            other => Err(other),
        })
    }
}

impl Response for PullResponse {}
impl Response for UnreadableResponse {}

/// Changes of one scope, in server order, and the cursor after the last of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullPage {
    pub scope: String,
    pub changes: Vec<PulledChange>,
    pub cursor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PulledChange {
    pub doc_id: String,
    pub change: Vec<u8>,
    /// What proves its author; the device checks it before applying the change.
    pub proof: Proof,
}

/// The heads of the device's records, to find those that differ from the server's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadsRequest {
    pub docs: Vec<DocHeads>,
}

/// Records whose heads differ, with the server's heads (empty: the server lacks the record).
/// Records the account may not read are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadsResponse {
    pub differ: Vec<DocHeads>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocHeads {
    pub doc_id: String,
    /// Change hashes, 32 bytes each.
    pub heads: Vec<Vec<u8>>,
}

/// Record ids the device holds, to learn which of them its account may no longer read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadableRequest {
    pub docs: Vec<String>,
}

/// The ids of the request that the server holds and the account may not read (ids the server
/// lacks are not named: they may be changes it lost, which the device keeps).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadableResponse {
    pub docs: Vec<String>,
}

/// Automerge sync messages for several documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairRequest {
    pub docs: Vec<RepairMessage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairResponse {
    pub docs: Vec<RepairMessage>,
    /// What proves the author of each change the messages carry, by change hash: the device
    /// checks the changes a repair brings as it checks pulled ones.
    pub proofs: Vec<ChangeProof>,
    pub keys: Vec<AuthorKey>,
    pub server_key: Vec<u8>,
}

/// The proof of the change with this hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeProof {
    pub hash: Vec<u8>,
    pub proof: Proof,
}

/// One document's sync message (`None` when that side has nothing more to say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairMessage {
    pub doc_id: String,
    pub message: Option<Vec<u8>>,
}

/// Sign-in: a password, and the device being registered (online once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
    pub device_id: String,
    /// The device's Automerge actor id, hex.
    pub actor: String,
    /// The device's Ed25519 public key, hex.
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    /// RFC 3339.
    pub expires_at: String,
    pub cadre_id: String,
    pub role: String,
}

/// An error a person may read: a stable code, a Chinese message and an English one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    pub message_en: String,
}

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("the body is not brotli-compressed data: {0}")]
    NotCompressed(String),
    #[error("the body decompresses to more than {0} bytes")]
    TooLarge(usize),
    #[error("the body is not a valid message: {0}")]
    Malformed(String),
}

/// Brotli quality of protocol bodies: 5 compresses sync batches as well as 9 at a third of
/// the time (BENCHMARKS.md).
const BROTLI_QUALITY: u32 = 5;
const BROTLI_WINDOW: u32 = 22;

/// Encodes a message as a protocol body.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    let raw = postcard::to_stdvec(message).unwrap_or_default();
    let mut out = Vec::with_capacity(raw.len() / 4 + 64);
    {
        let mut w =
            brotli::CompressorWriter::new(&mut out, 64 * 1024, BROTLI_QUALITY, BROTLI_WINDOW);
        // Writing to a Vec cannot fail.
        let _ = w.write_all(&raw);
    }
    out
}

/// Decodes a protocol body, refusing one that inflates beyond `max_decoded` bytes.
pub fn decode<T: DeserializeOwned>(body: &[u8], max_decoded: usize) -> Result<T, WireError> {
    let mut raw = Vec::new();
    brotli::Decompressor::new(body, 64 * 1024)
        .take(max_decoded as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| WireError::NotCompressed(e.to_string()))?;
    if raw.len() > max_decoded {
        return Err(WireError::TooLarge(max_decoded));
    }
    postcard::from_bytes(&raw).map_err(|e| WireError::Malformed(e.to_string()))
}

/// Most probes a Bloom filter in a sync message may ask for (Automerge uses 7).
const MAX_BLOOM_PROBES: u64 = 64;

/// Decodes an Automerge sync message from the other side (a repair), refusing one that
/// automerge 0.12 would crash on: a Bloom filter with entries but no bits makes its probe
/// computation divide by zero (a panic, found by fuzzing: RELIABILITY.md), and one with
/// billions of probes makes it allocate gigabytes. Both sides decode with this.
pub fn decode_sync_message(bytes: &[u8]) -> Result<automerge::sync::Message, WireError> {
    let message = automerge::sync::Message::decode(bytes)
        .map_err(|e| WireError::Malformed(format!("sync message: {e}")))?;
    for have in &message.have {
        let bloom = have.bloom.to_bytes();
        if bloom.is_empty() {
            continue; // no entries: never probed
        }
        let mut rest = bloom.as_slice();
        let mut header = [0u64; 3];
        for field in header.iter_mut() {
            *field = read_uleb(&mut rest)
                .ok_or_else(|| WireError::Malformed("sync message: bad Bloom filter".into()))?;
        }
        let [_, _, probes] = header;
        if rest.is_empty() || probes == 0 || probes > MAX_BLOOM_PROBES {
            return Err(WireError::Malformed(format!(
                "sync message: a Bloom filter with {} bytes and {probes} probes",
                rest.len()
            )));
        }
    }
    Ok(message)
}

fn read_uleb(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A device from before the clock offset reads a newer server's push answers (postcard
    /// stops at the fields it knows), and a newer device reads an older server's.
    #[test]
    fn push_answers_that_grew_fields_stay_readable_both_ways() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct OldPush {
            results: Vec<PushResult>,
        }
        let results = vec![PushResult {
            hash: vec![7; 32],
            outcome: PushOutcome::Accepted,
        }];
        let new_push = PushResponse {
            results: results.clone(),
            device_clock_offset_ms: Some(-259_200_000),
        };
        let old: OldPush = decode(&encode(&new_push), 1 << 20).unwrap();
        assert_eq!(old.results, results);
        let read = PushResponse::decode_response(&encode(&old), 1 << 20).unwrap();
        assert_eq!(read.results, results);
        assert_eq!(read.device_clock_offset_ms, None);
        assert_eq!(
            PushResponse::decode_response(&encode(&new_push), 1 << 20).unwrap(),
            new_push
        );
        // Damage is still an error, not an old-format answer.
        assert!(PushResponse::decode_response(&encode(&[1u8, 2, 3]), 1 << 20).is_err());
    }

    /// A protocol-1 phone reads today's pull answer in its own form: the same changes without
    /// their proofs, and nothing of today's form parses as the other.
    #[test]
    fn a_pull_answer_in_protocol_1_is_todays_without_proofs() {
        let today = PullResponse {
            pages: vec![PullPage {
                scope: "village:530322101201".into(),
                changes: vec![PulledChange {
                    doc_id: "d".into(),
                    change: vec![1, 2, 3],
                    proof: Proof::Device(vec![9; 64]),
                }],
                cursor: 9,
            }],
            more: true,
            server_seq: 12,
            device_clock_offset_ms: Some(240_000),
            retired: vec!["village:530322101202".into()],
            keys: vec![AuthorKey {
                actor: vec![1; 16],
                public_key: vec![2; 32],
            }],
            server_key: vec![3; 32],
        };
        let old = v1::PullResponse::from(today.clone());
        let read: v1::PullResponse =
            v1::PullResponse::decode_response(&encode(&old), 1 << 20).unwrap();
        assert_eq!(read.pages[0].changes[0].change, vec![1, 2, 3]);
        assert_eq!((read.more, read.server_seq), (true, 12));
        assert_eq!(read.retired, today.retired);
        assert!(PullResponse::decode_response(&encode(&old), 1 << 20).is_err());
        assert_eq!(
            PullResponse::decode_response(&encode(&today), 1 << 20).unwrap(),
            today
        );
    }

    /// A sync message whose Bloom filter header is replaced by `header` (its bits kept).
    fn message_with_bloom(header: &[u8]) -> Vec<u8> {
        use automerge::sync::SyncDoc;
        use automerge::transaction::Transactable;
        let mut doc = automerge::AutoCommit::new();
        doc.put(automerge::ROOT, "k", 1).unwrap();
        doc.commit();
        let m = doc
            .sync()
            .generate_sync_message(&mut automerge::sync::State::new())
            .unwrap();
        let bloom = m.have[0].bloom.to_bytes();
        // One entry, 10 bits each, 7 probes, 2 bytes of bits.
        assert_eq!(&bloom[..3], &[1, 10, 7]);
        let bytes = m.encode();
        let mut needle = vec![bloom.len() as u8];
        needle.extend(&bloom);
        let at = bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap();
        let mut patched_bloom = header.to_vec();
        patched_bloom.extend(&bloom[3..]);
        let mut out = bytes[..at].to_vec();
        out.push(patched_bloom.len() as u8);
        out.extend(&patched_bloom);
        out.extend(&bytes[at + needle.len()..]);
        out
    }

    #[test]
    fn sync_messages_that_would_crash_automerge_are_refused() {
        assert!(decode_sync_message(&message_with_bloom(&[1, 10, 7])).is_ok());
        // Billions of probes: gigabytes allocated by automerge.
        let huge = message_with_bloom(&[1, 10, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(automerge::sync::Message::decode(&huge).is_ok());
        assert!(matches!(
            decode_sync_message(&huge),
            Err(WireError::Malformed(m)) if m.contains("4294967295 probes")
        ));
        assert!(decode_sync_message(&message_with_bloom(&[1, 10, 0])).is_err());
        assert!(decode_sync_message(b"not a message").is_err());
    }

    #[test]
    fn messages_round_trip_and_bad_bodies_are_refused() {
        let req = PushRequest {
            items: vec![PushItem {
                doc_id: "d".into(),
                change: vec![1, 2, 3],
                signature: vec![9; 64],
            }],
        };
        let body = encode(&req);
        assert_eq!(decode::<PushRequest>(&body, 1 << 20).unwrap(), req);
        assert!(decode::<PushRequest>(b"plain", 1 << 20).is_err());
        assert!(matches!(
            decode::<PushRequest>(&body, 10),
            Err(WireError::TooLarge(10))
        ));
        let junk = encode(&"not a push request, just a string".repeat(3));
        assert!(decode::<PullResponse>(&junk, 1 << 20).is_err());
    }
}

//! What the fuzz targets (`fuzz/`, cargo-fuzz) run, kept here so that every input the fuzzer
//! found is replayed by the normal test suite (`tests/tests/it/fuzz_regressions.rs` runs each file
//! under `tests/fixtures/fuzz/<target>/` through the same function).
//!
//! Three targets, each over what a stranger can put in front of the server:
//! - [`decode_request`]: a request body as the server decodes it: brotli, then postcard, for
//!   each `/v1/sync/*` message; the login JSON; a repair's Automerge sync message received by
//!   a document, and a stored sync state.
//! - [`push_change`]: a pushed change as the server checks and merges it ([`check_batch`] then
//!   [`ingest`], in a transaction rolled back after each input). The batch is signed by the
//!   principal the change names, so that fuzzing reaches past the signature to the change's
//!   parsing, the record's validation and the write rules. Mode 0 takes raw change bytes,
//!   mode 1 a record's JSON (`{"meta": …, "data": …}`) turned into a change here.
//! - [`load_document`]: stored document bytes (a snapshot and chunks) loaded strictly, then
//!   read the way the server and the devices read them.
//! - [`json_body`]: the JSON bodies a stranger may send without a device: the sign-ins
//!   (`/v1/login`, `/v1/session`) and a county's settings (`PUT /v1/settings/county/{code}`),
//!   read and checked as their handlers do.
//!
//! Automerge chunks carry a checksum (the first 4 bytes of a SHA-256 of their body), which
//! random mutations nearly always break; [`fix_checksums`] recomputes it so that the fuzzer
//! gets past it. The checksum itself is tested by the inputs that do not go through it.
//!
//! Any panic that escapes is a finding. Errors are fine: they are the answers bad input should
//! get. A panic that the code catches on purpose (automerge panics on some changes, and
//! `RecordDoc::apply` turns that into an error) is not: libfuzzer-sys installs a panic hook
//! that aborts on *every* panic, caught or not, so each target first calls
//! [`only_escaping_panics_crash`].

use std::sync::OnceLock;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, Change, ObjType, ScalarValue};
use cunji_core::doc::{ChangeMeta, RecordDoc};
use cunji_core::sync::protocol::{
    self, HeadsRequest, LoginRequest, PullRequest, PushItem, PushOutcome, PushRequest,
    RepairRequest,
};
use cunji_sync_server::accounts::{Principal, Role};
use cunji_sync_server::merge::{check_batch, ingest};
use cunji_sync_server::store::{Account, Db, DeviceRow, StoreError};
use ed25519_dalek::SigningKey;
use serde_json::Value as Json;

/// Replaces libfuzzer-sys's abort-on-any-panic hook with the default one (once), so that a
/// panic caught inside the code under test is an answer, like in production, and only a panic
/// that escapes the target crashes it (libfuzzer-sys aborts on those itself).
pub fn only_escaping_panics_crash() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // `take_hook` puts the default hook (print the message) back in place.
        drop(std::panic::take_hook());
    });
}

/// Largest decoded body the server takes by default.
const MAX_DECODED: usize = 8 << 20;

/// A request body, every way the server decodes one. Byte 0 picks the stage: even, the whole
/// body as sent (brotli then postcard); odd, postcard alone (what brotli would have produced),
/// so that the fuzzer need not learn brotli to reach postcard.
pub fn decode_request(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let _ = protocol::decode::<PushRequest>(body, MAX_DECODED);
        let _ = protocol::decode::<PullRequest>(body, MAX_DECODED);
        let _ = protocol::decode::<HeadsRequest>(body, MAX_DECODED);
        if let Ok(r) = protocol::decode::<RepairRequest>(body, MAX_DECODED) {
            repair_messages(&r);
        }
        let _ = serde_json::from_slice::<LoginRequest>(body);
    } else {
        let _ = postcard::from_bytes::<PushRequest>(body);
        let _ = postcard::from_bytes::<PullRequest>(body);
        let _ = postcard::from_bytes::<HeadsRequest>(body);
        if let Ok(r) = postcard::from_bytes::<RepairRequest>(body) {
            repair_messages(&r);
        }
        // A device's sync message and a stored sync state, as `pull::repair` reads them.
        repair_message(body);
        let _ = automerge::sync::State::decode(body);
    }
}

fn repair_messages(r: &RepairRequest) {
    for m in &r.docs {
        if let Some(bytes) = &m.message {
            repair_message(bytes);
        }
    }
}

/// Receives a device's sync message into a small record document, read-only, as the server's
/// repair does, and answers it.
fn repair_message(bytes: &[u8]) {
    use automerge::sync::{State, SyncDoc};
    let Ok(message) = protocol::decode_sync_message(bytes) else {
        return;
    };
    let mut doc = sample_doc();
    let mut state = State::new();
    state.read_only = true;
    let _ = doc.sync().receive_sync_message(&mut state, message);
    let _ = doc.sync().generate_sync_message(&mut state);
}

fn sample_doc() -> AutoCommit {
    let root = serde_json::json!({
        "meta": {"id": "r", "kind": "village"},
        "data": {"name": "样村", "list": [1, 2, 3]},
    });
    let mut doc = AutoCommit::new().with_actor(ActorId::from(b"fuzz-server".as_slice()));
    put_json_root(&mut doc, &root);
    doc.commit();
    doc
}

/// A pushed change, checked and merged by the server. Byte 0: bit 0 picks the mode (0 raw
/// change bytes, 1 a record's JSON); bits 1–3 the pushing account's role. Returns the
/// server's outcome for the change (`None` when the input made no change).
pub fn push_change(data: &[u8]) -> Option<PushOutcome> {
    let (&mode, rest) = data.split_first()?;
    let role = Role::ALL[usize::from(mode >> 1) % Role::ALL.len()];
    let change = if mode & 1 == 0 {
        let mut bytes = rest.to_vec();
        fix_checksums(&mut bytes);
        match cunji_core::doc::change_from_bytes(bytes.clone()) {
            Ok(c) => c,
            Err(_) => {
                // Unparsable bytes must be refused as such, under a valid signature too.
                return push_raw(role, b"fuzz-device-actor", "fuzz", "fuzz-device", bytes);
            }
        }
    } else {
        let root = serde_json::from_slice::<Json>(rest).ok()?;
        change_from_json(&root)?
    };
    let meta = ChangeMeta::from_message(change.message());
    let actor = change.actor_id().to_bytes().to_vec();
    push_raw(
        role,
        &actor,
        &meta.cadre_id,
        &meta.device_id,
        change.raw_bytes().to_vec(),
    )
}

/// The record id every fuzzed change is pushed under (a change that names another id in its
/// envelope is refused `invalid_record`; the seeds use this one).
pub const FUZZ_DOC_ID: &str = "0190f5a2-0000-7000-8000-00000000f022";

fn push_raw(
    role: Role,
    actor: &[u8],
    login: &str,
    device_id: &str,
    change: Vec<u8>,
) -> Option<PushOutcome> {
    let key = SigningKey::from_bytes(&[7; 32]);
    let principal = Principal::new(
        Account {
            login: login.to_string(),
            name: login.to_string(),
            role,
            division: "530322".into(),
            password_hash: String::new(),
            active: true,
        },
        DeviceRow {
            device_id: device_id.to_string(),
            login: login.to_string(),
            actor: actor.to_vec(),
            public_key: key.verifying_key().to_bytes().to_vec(),
            registered_ts: "2026-01-01T00:00:00Z".into(),
            revoked_ts: None,
        },
    );
    // Signed by the device as a phone signs it (a change that does not parse gets a signature
    // of nothing: it is refused before its signature matters).
    let identity = cunji_core::identity::DeviceIdentity::from_parts(
        device_id.to_string(),
        actor,
        &key.to_bytes(),
    )?;
    let item = PushItem::signed(&identity, FUZZ_DOC_ID, change.clone()).unwrap_or(PushItem {
        doc_id: FUZZ_DOC_ID.to_string(),
        change,
        signature: vec![0; 64],
    });
    let batch = check_batch(&principal, PushRequest { items: vec![item] });
    let db = fuzz_db();
    // Rolled back: every input meets the same database.
    let mut outcome = None;
    let _ = db.write(|tx| {
        outcome = ingest(tx, batch, "2026-01-01T00:00:00+00:00")?
            .pop()
            .map(|(_, o)| o);
        Err::<(), _>(StoreError::Corrupt("rolled back".into()))
    });
    outcome
}

/// One server database per process, with a village team and a household so that the write
/// rules have something to find.
fn fuzz_db() -> &'static Db {
    static DB: OnceLock<(Db, tempfile::TempDir)> = OnceLock::new();
    &DB.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = Db::open(&dir.path().join("fuzz.sqlite3").display().to_string())
            .expect("server database");
        (db, dir)
    })
    .0
}

/// A change that creates a document whose root is `root` (an object), made the way devices
/// make them: one change, its message naming the author in `root.meta`.
pub fn change_from_json(root: &Json) -> Option<Change> {
    let Json::Object(_) = root else { return None };
    let meta = root.get("meta");
    let text = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let message = serde_json::json!({
        "reason": "fuzz",
        "cadre_id": text("author_id"),
        "device_id": text("device_id"),
    })
    .to_string();
    let mut doc = AutoCommit::new().with_actor(ActorId::from(b"fuzz-device-actor".as_slice()));
    put_json_root(&mut doc, root);
    doc.commit_with(
        automerge::transaction::CommitOptions::default()
            .with_message(message)
            .with_time(1_767_225_600_000),
    )?;
    doc.get_last_local_change()
}

fn put_json_root(doc: &mut AutoCommit, root: &Json) {
    if let Json::Object(map) = root {
        for (k, v) in map {
            put_json(doc, &automerge::ROOT, Key::Map(k), v);
        }
    }
}

enum Key<'a> {
    Map(&'a str),
    List(usize),
}

fn put_json(doc: &mut AutoCommit, obj: &automerge::ObjId, key: Key<'_>, value: &Json) {
    let scalar = match value {
        Json::Null => return,
        Json::Bool(b) => ScalarValue::Boolean(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => ScalarValue::Int(i),
            (None, Some(u)) => ScalarValue::Uint(u),
            _ => ScalarValue::F64(n.as_f64().unwrap_or_default()),
        },
        Json::String(s) => ScalarValue::Str(s.as_str().into()),
        Json::Array(items) => {
            let Ok(list) = (match key {
                Key::Map(k) => doc.put_object(obj, k, ObjType::List),
                Key::List(i) => doc.insert_object(obj, i, ObjType::List),
            }) else {
                return;
            };
            for (i, item) in items.iter().enumerate() {
                put_json(doc, &list, Key::List(i), item);
            }
            return;
        }
        Json::Object(map) => {
            let Ok(child) = (match key {
                Key::Map(k) => doc.put_object(obj, k, ObjType::Map),
                Key::List(i) => doc.insert_object(obj, i, ObjType::Map),
            }) else {
                return;
            };
            for (k, v) in map {
                put_json(doc, &child, Key::Map(k), v);
            }
            return;
        }
    };
    let _ = match key {
        Key::Map(k) => doc.put(obj, k, scalar),
        Key::List(i) => doc.insert(obj, i, scalar),
    };
}

/// Stored document bytes, loaded strictly and read. Byte 0 and 1 give where the snapshot ends
/// and the one incremental chunk begins (as a store keeps them).
pub fn load_document(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let split = usize::from(u16::from_le_bytes([data[0], data[1]]));
    let mut bytes = data[2..].to_vec();
    fix_checksums(&mut bytes);
    let split = split.min(bytes.len());
    let (snapshot, chunk) = bytes.split_at(split);
    let chunks = if chunk.is_empty() {
        Vec::new()
    } else {
        vec![chunk.to_vec()]
    };
    let Ok(mut doc) = RecordDoc::load(
        "fuzz-record",
        Some(snapshot),
        &chunks,
        ActorId::from(b"fuzz-server".as_slice()),
    ) else {
        return;
    };
    let _ = doc.heads();
    let _ = doc.to_json();
    let _ = doc.conflicts();
    let _ = doc.history();
    let _ = doc.save();
    if let (Ok(env), Ok(data)) = (doc.envelope(), doc.data_json()) {
        let mut rows = cunji_core::projection::Rows::default();
        let _ = cunji_core::domain::facts_and_rows(&env, data, &mut rows);
    }
}

/// Recomputes the checksum of every uncompressed Automerge chunk in `bytes`, chunk after
/// chunk, as long as they parse as chunks: `magic, checksum[4], type, uleb128 length, body`
/// with `checksum = SHA-256(type, length, body)[..4]`. Compressed chunks (type 2) carry the
/// checksum of their uncompressed form and are left alone.
pub fn fix_checksums(bytes: &mut [u8]) {
    use sha2::{Digest, Sha256};
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    let mut at = 0usize;
    while bytes.len() >= at + 10 && bytes[at..at + 4] == MAGIC {
        let typ = bytes[at + 8];
        // uleb128 length
        let (mut len, mut shift, mut i) = (0u64, 0u32, at + 9);
        loop {
            let Some(&b) = bytes.get(i) else { return };
            if shift > 56 {
                return;
            }
            len |= u64::from(b & 0x7f) << shift;
            shift += 7;
            i += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        let Some(end) = usize::try_from(len).ok().and_then(|l| i.checked_add(l)) else {
            return;
        };
        if end > bytes.len() {
            return;
        }
        if typ != 2 {
            let sum = Sha256::digest(&bytes[at + 8..end]);
            bytes[at + 4..at + 8].copy_from_slice(&sum[..4]);
        }
        at = end;
    }
}

/// Seeds for the fuzz targets: a real request of each kind, and a record of each kind (its
/// change, its stored document, its JSON), written under `dir/<target>/`.
pub fn write_seeds(dir: &std::path::Path) -> std::io::Result<()> {
    use cunji_core::domain::{self, Kind, Record};
    let mk = |t: &str| -> std::io::Result<std::path::PathBuf> {
        let d = dir.join(t);
        std::fs::create_dir_all(&d)?;
        Ok(d)
    };
    let (decode, push, load) = (
        mk("decode_request")?,
        mk("push_change")?,
        mk("load_document")?,
    );
    fn root<T: Record>(kind: Kind, record: &T) -> Json {
        serde_json::json!({
            "meta": {
                "id": FUZZ_DOC_ID, "kind": kind.code(), "author_id": "cadre-1",
                "device_id": "device-1", "created_device_ts": "2026-01-01T08:00:00+08:00",
                "device_uptime_ms": 1000, "state": "submitted",
            },
            "data": serde_json::to_value(record).unwrap_or_default(),
        })
    }
    let roots = [
        root(Kind::Village, &domain::Village::example()),
        root(Kind::Household, &domain::Household::example()),
        root(Kind::Visit, &domain::Visit::example()),
        root(Kind::CheckIn, &domain::CheckIn::example()),
        root(Kind::Leave, &domain::Leave::example()),
        root(Kind::Team, &domain::Team::example()),
        root(Kind::Entitlement, &domain::Entitlement::example()),
        root(Kind::WorkLog, &domain::WorkLog::example()),
        root(Kind::Petition, &domain::Petition::example()),
        root(Kind::StatusChange, &domain::StatusChange::example()),
    ];
    let mut changes = Vec::new();
    for (i, r) in roots.iter().enumerate() {
        let mut json = vec![1u8 | (3 << 1)];
        json.extend(serde_json::to_vec(r).unwrap_or_default());
        std::fs::write(push.join(format!("json-{i}")), json)?;
        if let Some(c) = change_from_json(r) {
            let mut raw = vec![3 << 1];
            raw.extend_from_slice(c.raw_bytes());
            std::fs::write(push.join(format!("change-{i}")), raw)?;
            let mut doc = AutoCommit::new();
            let _ = doc.apply_changes(vec![c.clone()]);
            let saved = doc.save();
            let mut stored = (saved.len() as u16).to_le_bytes().to_vec();
            stored.extend(&saved);
            std::fs::write(load.join(format!("doc-{i}")), stored)?;
            changes.push(c);
        }
    }
    let items: Vec<PushItem> = changes
        .iter()
        .map(|c| PushItem {
            doc_id: FUZZ_DOC_ID.into(),
            change: c.raw_bytes().to_vec(),
            signature: vec![1; 64],
        })
        .collect();
    let push_req = PushRequest { items };
    let pull_req = PullRequest {
        cursors: vec![protocol::ScopeCursor {
            scope: "village:530322101201".into(),
            cursor: 12,
        }],
        max_bytes: 65536,
    };
    let mut doc = sample_doc();
    let mut state = automerge::sync::State::new();
    let message = automerge::sync::SyncDoc::generate_sync_message(&doc.sync(), &mut state)
        .map(automerge::sync::Message::encode);
    let repair_req = RepairRequest {
        docs: vec![protocol::RepairMessage {
            doc_id: FUZZ_DOC_ID.into(),
            message,
        }],
    };
    let seeds: [(&str, Vec<u8>); 3] = [
        ("push", postcard::to_stdvec(&push_req).unwrap_or_default()),
        ("pull", postcard::to_stdvec(&pull_req).unwrap_or_default()),
        (
            "repair",
            postcard::to_stdvec(&repair_req).unwrap_or_default(),
        ),
    ];
    for (name, raw) in seeds {
        let mut plain = vec![1u8];
        plain.extend(&raw);
        std::fs::write(decode.join(format!("{name}-postcard")), plain)?;
        let mut compressed = vec![0u8];
        compressed.extend(match name {
            "push" => protocol::encode(&push_req),
            "pull" => protocol::encode(&pull_req),
            _ => protocol::encode(&repair_req),
        });
        std::fs::write(decode.join(format!("{name}-brotli")), compressed)?;
    }
    let login = serde_json::json!({"login": "a", "password": "b", "device_id": "d",
        "actor": "00ff", "public_key": "11".repeat(32)});
    let mut l = vec![0u8];
    l.extend(serde_json::to_vec(&login).unwrap_or_default());
    std::fs::write(decode.join("login-json"), l)?;
    let json = mk("json_body")?;
    let seeds = [
        ("login", 0u8, login),
        (
            "session",
            0,
            serde_json::json!({"login": "township-zhang", "password": "village-password-1"}),
        ),
        (
            "settings-default",
            1,
            serde_json::to_value(cunji_core::rules::CountySettings::default()).unwrap_or_default(),
        ),
        (
            "settings-some",
            1,
            serde_json::json!({"check_in_photo": "required",
                "rules": {"visits": {"interval_days": 30}, "adjustment": {"annual_months": [11]}}}),
        ),
    ];
    for (name, mode, body) in seeds {
        let mut bytes = vec![mode];
        bytes.extend(serde_json::to_vec(&body).unwrap_or_default());
        std::fs::write(json.join(name), bytes)?;
    }
    Ok(())
}

/// A JSON body as the server reads one. Byte 0 picks the endpoint: even, the sign-ins' JSON
/// (`/v1/login`'s request with its hex fields decoded, `/v1/session`'s); odd, a county's
/// settings (`PUT /v1/settings/county/{code}`: parsed, unknown fields and ranges checked,
/// then stored as JSON and read back as the effective settings are).
pub fn json_body(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(r) = serde_json::from_slice::<LoginRequest>(body) {
            let _ = hex::decode(&r.actor);
            let _ = hex::decode(&r.public_key);
        }
        let _ = serde_json::from_slice::<cunji_sync_server::api::SessionRequest>(body);
    } else if let Ok(settings) = cunji_core::rules::CountySettings::from_json(body) {
        let stored = serde_json::to_vec(&settings).unwrap_or_default();
        assert!(
            cunji_core::rules::CountySettings::from_json(&stored).is_ok(),
            "settings the server took do not read back: {}",
            String::from_utf8_lossy(&stored)
        );
    }
}

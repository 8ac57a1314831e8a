//! Handover: a device's unsynced changes carried to the server without the network.
//!
//! When a cadre is replaced (transferred, ill, the secondment over), everything their phone
//! recorded must reach the server, whatever the state of their account or the village's
//! signal. Two ways, in order of preference:
//! 1. **Sync, then reset.** While the old cadre can still sign in, [`super::sync_now`] until
//!    the outbox is empty ([`Store::outbox_len`] = 0). The phone's store is then deleted and the
//!    new cadre signs in on a fresh one: a server binds each device (actor and key) to one
//!    account, so a device is never passed between accounts.
//! 2. **Handover bundle.** When that cannot happen (the old account is already revoked, no
//!    signal before the phone is handed back), [`export`] writes the whole outbox as one file:
//!    the push request a sync would have sent, signed by the device's key over the same
//!    manifest. An administrator ingests it (`cunji-sync-server ingest-handover FILE`); the
//!    server checks it exactly as a push from that device by its registered account, so a
//!    bundle can carry nothing the device could not have pushed, and ingesting it twice
//!    stores nothing twice.
//!
//! Either way the records keep their author: every change names the cadre who made it, and
//! event records (visits, check-ins, logs) stay editable only by that author. The new cadre
//! takes over households through new assignment records (the server's `import-assignments`).
//!
//! Not here: the transport of the file (USB, a messaging app; it holds the records in clear,
//! so the app should hand it only to the administrator) and the reset of the phone (the app).

use serde::{Deserialize, Serialize};

use super::protocol::v1::{self, PushItem, PushRequest};
use super::protocol::{self, WireError};
use crate::error::Result;
use crate::store::Store;

/// Format version of [`HandoverBundle`].
pub const HANDOVER_VERSION: u32 = 1;

/// A device's outbox, signed, for a server to ingest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoverBundle {
    pub version: u32,
    /// The device that made and signed the changes.
    pub device_id: String,
    /// When the bundle was written (device clock, RFC 3339).
    pub created_ts: String,
    /// Every outbox entry, signed as one push batch (protocol 1's push: the server checks the
    /// batch signature and attests each change it takes, `protocol::Proof::Server`).
    pub request: PushRequest,
}

/// The device's whole outbox as a bundle (protocol encoding: brotli(postcard)).
pub fn export(store: &Store) -> Result<Vec<u8>> {
    let items: Vec<PushItem> = store
        .outbox_batch(usize::MAX, usize::MAX)?
        .into_iter()
        .map(|i| PushItem {
            doc_id: i.doc_id,
            change: i.change,
        })
        .collect();
    let device_id = store.device().device_id.clone();
    let manifest = v1::push_manifest(&device_id, &items);
    let bundle = HandoverBundle {
        version: HANDOVER_VERSION,
        device_id,
        created_ts: crate::store::now().to_rfc3339(),
        request: PushRequest {
            signature: store.device().sign_message(&manifest).to_vec(),
            items,
        },
    };
    Ok(protocol::encode(&bundle))
}

/// Reads a bundle, refusing one that inflates beyond `max_decoded` bytes or has another
/// version.
pub fn decode(bytes: &[u8], max_decoded: usize) -> Result<HandoverBundle, WireError> {
    let bundle: HandoverBundle = protocol::decode(bytes, max_decoded)?;
    if bundle.version != HANDOVER_VERSION {
        return Err(WireError::Malformed(format!(
            "handover bundle version {} (this build reads {HANDOVER_VERSION})",
            bundle.version
        )));
    }
    Ok(bundle)
}

//! Ingesting a handover bundle: the outbox of a device whose cadre was replaced, brought in
//! by an administrator (`cunji-sync-server ingest-handover FILE`) instead of a sync.
//!
//! The bundle ([`cunji_core::sync::handover`]) is the push request the device would have
//! sent, signed by its key. It is checked and merged exactly as a push from that device by the
//! account the device is registered to ([`crate::merge`]): the batch signature against the
//! registered key, every change's actor, author, device and scope. The account may be revoked
//! or inactive by now: the device's signature, not a token, is what proves the changes are
//! that cadre's. Ingesting a bundle twice reports duplicates and stores nothing twice.
//!
//! Not here: bundles from devices the server never registered (refused: there is no key to
//! check them against).

use cunji_core::sync::handover;
use cunji_core::sync::protocol::{PushOutcome, WireError};

use crate::accounts::Principal;
use crate::merge;
use crate::store::{Db, StoreError};

/// What an ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandoverReport {
    pub device_id: String,
    /// The account the device is registered to (the changes' author).
    pub login: String,
    pub accepted: usize,
    pub duplicate: usize,
    pub held: usize,
    /// Refused changes: hash (hex), code, message.
    pub rejected: Vec<(String, String, String)>,
}

/// Why a bundle was not ingested; nothing of it is stored then.
#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error("not a handover bundle: {0}")]
    Wire(#[from] WireError),
    #[error("device {0} was never registered on this server")]
    UnknownDevice(String),
    /// A phone cut off (`revoke-device`): what it made after it was reported lost is not
    /// taken, by push or by bundle.
    #[error("device {0} was cut off on {1}: its bundle is not taken")]
    RevokedDevice(String, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks and merges a bundle's changes as a push from its device.
pub fn ingest_bundle(
    db: &Db,
    bytes: &[u8],
    max_decoded: usize,
) -> Result<HandoverReport, HandoverError> {
    let bundle = handover::decode(bytes, max_decoded)?;
    let device_id = bundle.device_id.clone();
    let principal = db.read(|tx| {
        let Some(device) = tx.device(&device_id)? else {
            return Ok(None);
        };
        if let Some(ts) = &device.revoked_ts {
            return Ok(Some(Err(ts.clone())));
        }
        let account = tx.account(&device.login)?;
        Ok::<_, StoreError>(account.map(|a| Ok(Principal::new(a, device))))
    })?;
    let principal = match principal {
        None => return Err(HandoverError::UnknownDevice(device_id)),
        Some(Err(revoked)) => return Err(HandoverError::RevokedDevice(device_id, revoked)),
        Some(Ok(p)) => p,
    };
    let mut report = HandoverReport {
        device_id,
        login: principal.login.clone(),
        ..HandoverReport::default()
    };
    let now = chrono::Utc::now().to_rfc3339();
    let checked = merge::check_batch(&principal, bundle.request);
    let results = db.write(|tx| merge::ingest(tx, checked, &now))?;
    for (hash, outcome) in results {
        match outcome {
            PushOutcome::Accepted => report.accepted += 1,
            PushOutcome::Duplicate => report.duplicate += 1,
            PushOutcome::Held => report.held += 1,
            PushOutcome::Rejected { code, message } => {
                report.rejected.push((hex::encode(hash), code, message))
            }
        }
    }
    Ok(report)
}

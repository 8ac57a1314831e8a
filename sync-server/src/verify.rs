//! `cunji-sync-server verify-log`: checks every change in the log against what proves its
//! author (the [store docs](crate::store)): a device's signature against the key that device
//! registered when it signed in, and the change's actor against that device's; the server's
//! attestation against the server's key. A change altered in the database (its bytes, its
//! record, its signature) no longer verifies and is reported by its sequence number and
//! record; so is a device key altered in the database, through every change it signed.
//!
//! Reads the log in pages in read transactions, so it runs beside a serving server.

use std::collections::HashMap;

use cunji_core::identity::{verify_attestation, verify_change};
use cunji_core::sync::protocol::Proof;
use serde::Serialize;

use crate::store::{Db, DeviceRow, StoreError, StoreResult};

/// What `verify-log` found.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Changes checked.
    pub changes: u64,
    /// Of them, proved by their device's signature.
    pub device_signed: u64,
    /// Of them, proved by the server's attestation.
    pub attested: u64,
    /// The server's public key (hex) the attestations were checked against.
    pub server_key: String,
    /// Every change that did not verify.
    pub failures: Vec<Failure>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// A change that did not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub seq: i64,
    pub doc_id: String,
    pub device_id: String,
    pub reason: String,
}

/// Checks the whole log; `progress` is called after each page with the changes checked so far.
pub fn verify_log(db: &Db, progress: &mut dyn FnMut(u64)) -> StoreResult<VerifyReport> {
    const PAGE: usize = 2_000;
    let mut report = VerifyReport::default();
    let mut devices: HashMap<String, Option<DeviceRow>> = HashMap::new();
    let mut after = 0;
    loop {
        let (rows, server_key) = db.read(|tx| {
            let rows = tx.log_after(after, PAGE)?;
            let mut fresh = Vec::new();
            for r in &rows {
                if matches!(r.proof, Some(Proof::Device(_)))
                    && !devices.contains_key(&r.device_id)
                    && !fresh.iter().any(|(id, _)| id == &r.device_id)
                {
                    fresh.push((r.device_id.clone(), tx.device(&r.device_id)?));
                }
            }
            devices.extend(fresh);
            Ok::<_, StoreError>((rows, tx.server_public_key()))
        })?;
        report.server_key = hex::encode(server_key);
        let Some(last) = rows.last().map(|r| r.seq) else {
            break;
        };
        for r in rows {
            report.changes += 1;
            let fail = |reason: &str| Failure {
                seq: r.seq,
                doc_id: r.doc_id.clone(),
                device_id: r.device_id.clone(),
                reason: reason.to_string(),
            };
            let change = match cunji_core::doc::change_from_bytes(r.bytes.clone()) {
                Ok(c) => c,
                Err(_) => {
                    report
                        .failures
                        .push(fail("the bytes are not an Automerge change"));
                    continue;
                }
            };
            let hash = change.hash();
            match &r.proof {
                None => report.failures.push(fail("nothing proves its author")),
                Some(Proof::Server(signature)) => {
                    report.attested += 1;
                    if verify_attestation(&server_key, &r.doc_id, &hash, signature).is_err() {
                        report
                            .failures
                            .push(fail("the server's attestation does not match the change"));
                    }
                }
                Some(Proof::Device(signature)) => {
                    report.device_signed += 1;
                    let Some(Some(device)) = devices.get(&r.device_id) else {
                        report
                            .failures
                            .push(fail("signed by a device the server has no record of"));
                        continue;
                    };
                    if device.actor != change.actor_id().to_bytes() {
                        report
                            .failures
                            .push(fail("the change's actor is not its device's"));
                    } else if verify_change(&device.public_key, &r.doc_id, &hash, signature)
                        .is_err()
                    {
                        report
                            .failures
                            .push(fail("its device's signature does not match the change"));
                    }
                }
            }
        }
        progress(report.changes);
        after = last;
    }
    Ok(report)
}

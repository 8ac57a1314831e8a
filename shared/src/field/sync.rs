//! The sync job: what a sync needs, taken from the app so that it runs on a connection of
//! its own, and the server's reachability.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::{FieldApp, FieldError, FieldResult, STORE_FILE, now};
use crate::store::Store;
use crate::store::key::DeviceKey;
use crate::sync::client::{self, HttpTransport, SyncEvent, SyncOptions, SyncReport};

impl FieldApp {
    /// Pushes this device's records and pulls the others', reporting progress (the sign-in's
    /// first sync; the app runs a [`SyncJob`] instead, off the app's lock).
    pub fn sync(&mut self, on_event: &mut dyn FnMut(SyncEvent)) -> FieldResult<SyncReport> {
        self.sync_job()?.run(on_event)
    }

    /// What a sync needs, taken from the app so that the sync can run on its own connection
    /// while the cadre goes on recording: the network may take minutes at 2G rates.
    pub fn sync_job(&self) -> FieldResult<SyncJob> {
        let session = self.store.app_session()?.ok_or(FieldError::NotSignedIn)?;
        Ok(SyncJob {
            path: self.dir.join(STORE_FILE),
            key: Arc::clone(&self.key),
            url: session.server_url,
            token: session.token,
            syncing: Arc::clone(&self.syncing),
        })
    }
}

/// Whether the sync server at `server_url` accepts a connection within two seconds (a plain TCP connect:
/// cheap enough to poll, and no HTTP client to build and drop on every poll).
pub fn server_reachable(server_url: &str) -> bool {
    use std::net::ToSocketAddrs;
    let rest = server_url.split_once("://").map_or(server_url, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or(rest);
    let default_port = if server_url.starts_with("https") {
        443
    } else {
        80
    };
    let addr = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:{default_port}")
    };
    let Ok(mut addrs) = addr.to_socket_addrs() else {
        return false;
    };
    addrs.any(|a| {
        std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(2)).is_ok()
    })
}

/// A sync taken from a [`FieldApp`] ([`FieldApp::sync_job`]): it opens its own connection to
/// the encrypted store, so the app's other commands go on while it waits on the network
/// (SQLite's WAL lets both connections work; a write waits for the other's at most a few
/// seconds). Only one job runs at a time; a second waits for the first.
#[derive(Debug)]
pub struct SyncJob {
    path: PathBuf,
    key: Arc<DeviceKey>,
    url: String,
    token: String,
    syncing: Arc<Mutex<()>>,
}

impl SyncJob {
    /// Pushes this device's records and pulls the others', reporting progress.
    pub fn run(self, on_event: &mut dyn FnMut(SyncEvent)) -> FieldResult<SyncReport> {
        let _running = self.syncing.lock().unwrap_or_else(|e| e.into_inner());
        let mut store = Store::open_encrypted(&self.path, &self.key)?;
        let mut transport = HttpTransport::new(&self.url, &self.token);
        let options = SyncOptions {
            attempts: 2,
            ..SyncOptions::default()
        };
        let report = client::sync_now(&mut store, &mut transport, &options, on_event)?;
        store.set_last_sync(&now().to_rfc3339())?;
        // The records are exchanged: a settings fetch that fails now keeps the last ones.
        match transport.county_settings() {
            Ok(settings) => store.set_county_settings(&settings, &now().to_rfc3339())?,
            Err(e) => tracing::warn!(error = %e, "county settings not fetched; the last ones stay"),
        }
        Ok(report)
    }
}

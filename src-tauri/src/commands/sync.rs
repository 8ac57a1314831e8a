//! Syncing, and whether the server can be reached.

use cunji_core::sync::client::SyncReport;
use tauri::Emitter;

commands! {
    /// Syncs now on a connection of its own, emitting `sync-progress` events as it goes; the
    /// app's other commands go on meanwhile.
    async fn sync_now[app, state]() -> SyncReport {
        let job = state.app()?.sync_job()?;
        crate::off_thread(move || job.run(&mut |e| drop(app.emit("sync-progress", e)))).await
    }

    /// Whether the server accepts a connection; the app's lock is not held while it tries.
    async fn server_reachable[state]() -> bool {
        let Some(url) = state.app()?.server_url()? else {
            return Ok(false);
        };
        crate::off_thread(move || Ok(cunji_core::field::server_reachable(&url))).await
    }
}

//! The PIN: whether the store is open, opening it, changing the PIN.

use cunji_core::field::FieldApp;

use crate::LockState;

commands! {
    /// Whether the store is open, waiting for its PIN, or not made yet.
    sync fn lock_state[state]() -> LockState {
        Ok(crate::lock_state(&state))
    }

    /// Opens the store with `pin` (creating it, the first time, encrypted with that PIN). The
    /// Argon2 key derivation runs off the UI thread.
    async fn unlock[state](pin: String) -> () {
        let dir = state.dir.clone();
        let field = crate::off_thread(move || FieldApp::open(&dir, &pin)).await?;
        *state.slot() = Some(field);
        Ok(())
    }

    async fn change_pin[app](old: String, new: String) -> () {
        crate::blocking(app, move |f| f.change_pin(&old, &new)).await
    }
}

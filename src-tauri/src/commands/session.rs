//! The session: who is signed in, signing in and out, the home screen, the code lists and
//! the desktop's fixed location.

use cunji_core::field::{CheckInInput, CodeLists, Home, LoginInput, Me};

commands! {
    sync fn me[state]() -> Option<Me> {
        Ok(state.app()?.me()?)
    }

    async fn login[app](input: LoginInput) -> Me {
        crate::blocking(app, move |f| f.login(&input)).await
    }

    sync fn logout[state]() -> () {
        Ok(state.app()?.logout()?)
    }

    sync fn home[state]() -> Home {
        Ok(state.app()?.home(cunji_core::field::today())?)
    }

    sync fn code_lists[state]() -> CodeLists {
        Ok(state.app()?.code_lists())
    }

    /// The fixed location of a desktop without GPS (`CUNJI_LOCATION`), when the webview has
    /// no geolocation.
    sync fn device_location[]() -> Option<CheckInInput> {
        Ok(cunji_core::field::location_from_env(
            std::env::var("CUNJI_LOCATION").ok().as_deref(),
        ))
    }
}

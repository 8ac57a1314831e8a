//! The Cunji 村记 field app: a Tauri v2 shell over `cunji_core::field`.
//!
//! Every command is one line forwarding to a [`FieldApp`] method; the behaviour and its tests
//! live in the core. Commands are grouped by domain in [`commands`]. Errors cross to the UI as
//! `{code, message}` ([`ShellError`]). The data lives in the platform's app data directory
//! (`$XDG_DATA_HOME/org.cunji.field` on Linux, so each test instance can have its own), or in
//! `CUNJI_DATA_DIR` when set.
//!
//! Not here: any rule, query or record building (core), any screen (ui/).

pub mod commands;

use std::path::PathBuf;
use std::sync::Mutex;

use cunji_core::field::{FieldApp, FieldError, LoginInput};
use serde::Serialize;
use tauri::Manager;

/// The app's state: one [`FieldApp`], behind a lock (commands run on a thread pool).
pub struct AppState(pub Mutex<FieldApp>);

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppState")
    }
}

impl AppState {
    /// Locks the app; a panic in another command does not make the data unreachable.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, FieldApp> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An error as the UI receives it.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ShellError {
    pub code: String,
    pub message: String,
}

impl From<FieldError> for ShellError {
    fn from(e: FieldError) -> Self {
        ShellError {
            code: e.code().to_string(),
            message: e.to_string(),
        }
    }
}

pub type CmdResult<T> = Result<T, ShellError>;

/// Runs `f` on the app state on a thread of its own (for calls that wait on the network): the
/// core's blocking HTTP client panics when dropped inside a Tokio runtime's context, which
/// includes `spawn_blocking` threads, so the work runs on a plain OS thread.
pub async fn blocking<T: Send + 'static>(
    app: tauri::AppHandle,
    f: impl FnOnce(&mut FieldApp) -> Result<T, FieldError> + Send + 'static,
) -> CmdResult<T> {
    let internal = |message: String| ShellError {
        code: "internal".into(),
        message,
    };
    tauri::async_runtime::spawn_blocking(move || {
        std::thread::spawn(move || {
            let state = app.state::<AppState>();
            let mut field = state.lock();
            f(&mut field).map_err(ShellError::from)
        })
        .join()
    })
    .await
    .map_err(|e| internal(e.to_string()))?
    .map_err(|_| internal("the command panicked".into()))?
}

/// Where the app keeps its data: `CUNJI_DATA_DIR`, else the platform's app data directory.
fn data_dir(app: &tauri::App) -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(dir) = std::env::var_os("CUNJI_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    Ok(app.path().app_data_dir()?)
}

/// `--sign-in URL LOGIN PASSWORD`: sign in at start when nobody is (the demo run).
pub fn sign_in_argument(mut args: impl Iterator<Item = String>) -> Option<LoginInput> {
    while let Some(a) = args.next() {
        if a == "--sign-in" {
            return Some(LoginInput {
                server_url: args.next()?,
                login: args.next()?,
                password: args.next()?,
            });
        }
    }
    None
}

/// Starts the app.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = tauri::Builder::default()
        .setup(|app| {
            let dir = data_dir(app)?;
            tracing::info!(dir = %dir.display(), "opening the field app's data");
            let mut field = FieldApp::open(&dir).map_err(|e| e.to_string())?;
            if let Some(input) = sign_in_argument(std::env::args().skip(1))
                && field.me().map_err(|e| e.to_string())?.is_none()
            {
                // scripts/run opens the demo signed in; a failure leaves the sign-in screen.
                if let Err(e) = field.login(&input) {
                    tracing::warn!("--sign-in failed: {e}");
                }
            }
            app.manage(AppState(Mutex::new(field)));
            Ok(())
        })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!("the app stopped: {e}");
        std::process::exit(1);
    }
}

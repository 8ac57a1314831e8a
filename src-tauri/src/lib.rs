//! The Cunji 村记 field app: a Tauri v2 shell over `cunji_core::field`.
//!
//! Every command is one line forwarding to a [`FieldApp`] method; the behaviour and its tests
//! live in the core. Each command is declared once ([`commands`]), and both the invoke handler
//! and the UI's typed calls (`ui/src/commands.ts`) are made from that declaration.
//!
//! The store is encrypted with a key derived from the cadre's PIN, so the app starts locked:
//! [`AppState`] holds no [`FieldApp`] until the UI sends the PIN ([`commands::lock::unlock`];
//! the first time it creates the store with the PIN the cadre chose). Every other command on a
//! locked app answers `locked`, and the UI shows the PIN screen. Commands are grouped by use
//! case in [`commands`], as the core's methods are in `cunji_core::field`. Errors cross to the UI as
//! `{code, message}` ([`ShellError`]). The data lives in the platform's app data directory
//! (`$XDG_DATA_HOME/org.cunji.field` on Linux, so each test instance can have its own), or in
//! `CUNJI_DATA_DIR` when set.
//!
//! Not here: any rule, query or record building (core), any screen (ui/).

pub mod commands;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use cunji_core::field::{FieldApp, FieldError, LoginInput};
use serde::Serialize;
use tauri::Manager;

/// The app's state: the data directory and, once the PIN has opened the store, one
/// [`FieldApp`], behind a lock (commands run on several threads).
pub struct AppState {
    pub dir: PathBuf,
    pub field: Mutex<Option<FieldApp>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppState")
    }
}

impl AppState {
    /// Locks the state; a panic in another command does not make the data unreachable.
    pub fn slot(&self) -> MutexGuard<'_, Option<FieldApp>> {
        self.field.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The unlocked app, or `locked` when the PIN has not opened the store yet.
    pub fn app(&self) -> CmdResult<Unlocked<'_>> {
        let slot = self.slot();
        if slot.is_none() {
            return Err(ShellError {
                code: "locked".into(),
                message: "请输入PIN码解锁 / enter your PIN to unlock".into(),
            });
        }
        Ok(Unlocked(slot))
    }
}

/// The lock on an unlocked app: built only by [`AppState::app`] after it saw a [`FieldApp`],
/// and nothing can take the app out while the guard holds the lock.
pub struct Unlocked<'a>(MutexGuard<'a, Option<FieldApp>>);

impl std::fmt::Debug for Unlocked<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Unlocked")
    }
}

impl std::ops::Deref for Unlocked<'_> {
    type Target = FieldApp;
    fn deref(&self) -> &FieldApp {
        match self.0.as_ref() {
            Some(app) => app,
            None => unreachable!("Unlocked is only made over an open app"),
        }
    }
}

impl std::ops::DerefMut for Unlocked<'_> {
    fn deref_mut(&mut self) -> &mut FieldApp {
        match self.0.as_mut() {
            Some(app) => app,
            None => unreachable!("Unlocked is only made over an open app"),
        }
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

impl ShellError {
    fn internal(message: String) -> Self {
        ShellError {
            code: "internal".into(),
            message,
        }
    }
}

pub type CmdResult<T> = Result<T, ShellError>;

/// The bytes a command was invoked with (`invoke(cmd, uint8Array)`): a photo crosses the IPC
/// as raw bytes. Tauri falls back to a JSON array of numbers where the raw channel is missing;
/// that is taken too.
pub fn raw_bytes(request: &tauri::ipc::Request<'_>) -> CmdResult<Vec<u8>> {
    match request.body() {
        tauri::ipc::InvokeBody::Raw(bytes) => Ok(bytes.clone()),
        tauri::ipc::InvokeBody::Json(value) => {
            serde_json::from_value(value.clone()).map_err(|_| ShellError {
                code: "not_a_photo".into(),
                message: "没有收到照片,请重拍 / no photo bytes received: take it again".into(),
            })
        }
    }
}

/// Where the app stands before any screen: the UI asks the cadre to choose a PIN (`new`),
/// to enter it (`locked`), or goes on (`open`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum LockState {
    New,
    Locked,
    Open,
}

/// The [`LockState`] of `state`.
pub fn lock_state(state: &AppState) -> LockState {
    if state.slot().is_some() {
        LockState::Open
    } else if FieldApp::exists(&state.dir) {
        LockState::Locked
    } else {
        LockState::New
    }
}

/// Runs `f` on a plain OS thread of its own and waits for it without blocking the runtime:
/// for calls that wait on the network or on Argon2. The core's blocking HTTP client panics when
/// dropped inside a Tokio runtime's context (which includes `spawn_blocking` threads), hence a
/// plain thread.
pub async fn off_thread<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, FieldError> + Send + 'static,
) -> CmdResult<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || drop(tx.send(f())));
    rx.await
        .map_err(|_| ShellError::internal("the command panicked".into()))?
        .map_err(ShellError::from)
}

/// Runs `f` on the unlocked app on a thread of its own ([`off_thread`]), holding the app's
/// lock throughout: for the sign-in, which nothing else can usefully run beside.
pub async fn blocking<T: Send + 'static>(
    app: tauri::AppHandle,
    f: impl FnOnce(&mut FieldApp) -> Result<T, FieldError> + Send + 'static,
) -> CmdResult<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let state = app.state::<AppState>();
        let result = match state.app() {
            Ok(mut field) => f(&mut field).map_err(ShellError::from),
            Err(e) => Err(e),
        };
        drop(tx.send(result));
    });
    rx.await
        .map_err(|_| ShellError::internal("the command panicked".into()))?
}

/// Where the app keeps its data: `CUNJI_DATA_DIR`, else the platform's app data directory.
fn data_dir(app: &tauri::App) -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(dir) = std::env::var_os("CUNJI_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    Ok(app.path().app_data_dir()?)
}

/// The demo run's start (`scripts/run`): `--pin PIN` unlocks (or creates) the store, and
/// `--sign-in URL LOGIN PASSWORD` then signs in when nobody is.
#[derive(Debug, Default, PartialEq)]
pub struct DemoStart {
    pub pin: Option<String>,
    pub sign_in: Option<LoginInput>,
}

/// Reads [`DemoStart`] from the command line; anything else is left to Tauri.
pub fn demo_arguments(mut args: impl Iterator<Item = String>) -> DemoStart {
    let mut start = DemoStart::default();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--pin" => start.pin = args.next(),
            "--sign-in" => {
                if let (Some(server_url), Some(login), Some(password)) =
                    (args.next(), args.next(), args.next())
                {
                    start.sign_in = Some(LoginInput {
                        server_url,
                        login,
                        password,
                    });
                }
            }
            _ => {}
        }
    }
    start
}

/// Opens the store at start for the demo run; a failure leaves the PIN or sign-in screen.
fn demo_open(dir: &std::path::Path, start: DemoStart) -> Option<FieldApp> {
    let pin = start.pin?;
    let mut field = match FieldApp::open(dir, &pin) {
        Ok(field) => field,
        Err(e) => {
            tracing::warn!("--pin did not open the store: {e}");
            return None;
        }
    };
    if let Some(input) = start.sign_in
        && matches!(field.me(), Ok(None))
        && let Err(e) = field.login(&input)
    {
        tracing::warn!("--sign-in failed: {e}");
    }
    Some(field)
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
            let field = demo_open(&dir, demo_arguments(std::env::args().skip(1)));
            app.manage(AppState {
                dir,
                field: Mutex::new(field),
            });
            Ok(())
        })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!("the app stopped: {e}");
        std::process::exit(1);
    }
}

//! The commands the UI invokes, one module per use case as in `cunji_core::field`. Each is
//! one line calling the core. Commands that may wait on the network run on a thread of their
//! own ([`crate::off_thread`], [`crate::blocking`]): the core's HTTP client is blocking and
//! must not run on the async runtime or the main thread.
//!
//! ## One list of commands
//! A command is written once, in its module's `commands!` block: its name, the arguments
//! the UI sends (name and type), what it answers, and its body. The block makes the
//! `#[tauri::command]` function, the module's part of the invoke handler, and a
//! [`CommandSpec`] from which the UI's typed calls are generated (`ui/src/commands.ts`,
//! through ts-rs for the types; `src-tauri/tests/bindings.rs` writes it and fails when the
//! checked-in file differs). [`handler`] and [`all`] join the modules named once in
//! `modules!` below. A command's context (the app's [`crate::AppState`], the
//! [`tauri::AppHandle`], the raw [`tauri::ipc::Request`] of a photo) is named in brackets
//! after its name and is not an argument the UI sends.

mod spec;

pub use spec::{CommandSpec, TsType, ts_type, typescript};

/// Defines a module's commands; see the module docs. Each command is
/// `[async] fn name[context…](arg: Type, …) -> Answer { body }`, where `context` is any of
/// `state`, `app`, `request`, a non-async command starts with `sync`, and the body answers
/// `CmdResult<Answer>`.
macro_rules! commands {
    (@ctx state) => { tauri::State<'_, $crate::AppState> };
    (@ctx app) => { tauri::AppHandle };
    (@ctx request) => { tauri::ipc::Request<'_> };
    (@raw) => { false };
    (@raw request $($rest:ident)*) => { true };
    (@raw $first:ident $($rest:ident)*) => { commands!(@raw $($rest)*) };
    (@fn sync [$($doc:literal)*] $name:ident [$($ctx:ident),*] ($($arg:ident : $ty:ty),*) -> $ret:ty $body:block) => {
        $(#[doc = $doc])*
        #[tauri::command]
        pub fn $name($($ctx: commands!(@ctx $ctx),)* $($arg: $ty),*) -> $crate::CmdResult<$ret> $body
    };
    (@fn async [$($doc:literal)*] $name:ident [$($ctx:ident),*] ($($arg:ident : $ty:ty),*) -> $ret:ty $body:block) => {
        $(#[doc = $doc])*
        #[tauri::command]
        pub async fn $name($($ctx: commands!(@ctx $ctx),)* $($arg: $ty),*) -> $crate::CmdResult<$ret> $body
    };
    ($(
        $(#[doc = $doc:literal])*
        $kind:ident fn $name:ident [$($ctx:ident),*] ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty $body:block
    )*) => {
        $( commands!(@fn $kind [$($doc)*] $name [$($ctx),*] ($($arg : $ty),*) -> $ret $body); )*

        /// The names of this module's commands.
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];

        /// This module's part of the invoke handler.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }

        /// This module's commands as the UI calls them.
        pub fn specs() -> Vec<$crate::commands::CommandSpec> {
            vec![$($crate::commands::CommandSpec {
                name: stringify!($name),
                docs: &[$($doc),*],
                args: vec![$((stringify!($arg), $crate::commands::ts_type::<$ty>())),*],
                raw_bytes: commands!(@raw $($ctx)*),
                returns: $crate::commands::ts_type::<$ret>(),
            }),*]
        }
    };
}

/// Declares the command modules, once, and joins them into [`handler`] and [`all`].
macro_rules! modules {
    ($($module:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// The invoke handler with every command: each module's, chosen by the command's name.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
            move |invoke| {
                let command = invoke.message.command();
                $(
                    if $module::NAMES.contains(&command) {
                        return ($module::handler())(invoke);
                    }
                )*
                false
            }
        }

        /// Every command, module by module, as the UI calls them.
        pub fn all() -> Vec<CommandSpec> {
            let mut all = Vec::new();
            $(all.extend($module::specs());)*
            all
        }
    };
}

modules![
    lock,
    session,
    sync,
    attendance,
    households,
    records,
    team,
    conflicts,
    drafts,
    forms,
    petitions,
    status_changes,
    projects,
    inspections,
    surveys,
    feedback,
];

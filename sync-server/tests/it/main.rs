//! The sync server's integration tests, in one test binary (`--test it`): each module was a
//! test binary of its own, and every binary links the whole dependency tree again. Run one
//! module with a filter on its path, e.g. `cargo test -p cunji-sync-server --test it cli::`.
//!
//! The modules run in one process, in parallel threads: none of them may change what the
//! process shares (environment variables, the working directory, global hooks or
//! subscribers); the binary under test gets its environment per command.

mod cli;
mod store_backends;

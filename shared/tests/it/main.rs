//! The core's integration tests on real SQLite files, in one test binary (`--test it`): each
//! module was a test binary of its own, and every binary links the whole dependency tree
//! again. Run one module with a filter on its path, e.g.
//! `cargo test -p cunji-core --test it crash::`.
//!
//! The modules run in one process, in parallel threads: none of them may change what the
//! process shares (environment variables, the working directory, global hooks or
//! subscribers). The crash test's child is this binary again, run with its test's path.

mod common;

mod bad_input;
mod compaction;
mod crash;
mod disk_full;
mod encryption;
mod merge_props;
mod rules;
mod store;

//! The workspace's end-to-end tests, in one test binary (`--test it`): each module was a test
//! binary of its own, and every binary links the whole dependency tree (the server, the core,
//! the TLS and WebDriver clients) again. Run one module with a filter on its path, e.g.
//! `cargo test -p cunji-tests --test it sync::`; the app's end-to-end test is `ignore`d and
//! runs with `cargo test -p cunji-tests --test it -- --ignored app_e2e::`.
//!
//! The modules run in one process, in parallel threads: none of them may change what the
//! process shares (environment variables, the working directory, global hooks or
//! subscribers); each server gets its configuration passed in, on a port of its own. The
//! server crash test's child is this binary again, run with its test's path, and so is the
//! child that removes the reports' shared servers after the run.

mod access;
mod api_schemas;
mod app_e2e;
mod approvals;
mod authz_matrix;
mod checks;
mod feedback;
mod field_forms;
mod fuzz_regressions;
mod generate;
mod hardening;
mod import;
mod ledger;
mod lifecycle;
mod load;
mod phone_approvals;
mod protocol;
mod provenance;
mod rebuild;
mod reports;
mod revocation;
mod server_crash;
mod settings;
mod sync;
mod tls;

//! The HTTP layer: handlers that turn requests into calls of the server's modules and their
//! answers into responses. Domain modules ([`crate::settings`], [`crate::reports`], …) know
//! nothing of axum or [`crate::error::ApiError`]; this layer does.
//!
//! Not here yet: the token extractor, the rate limiter and the sync, record and report
//! handlers, still in `lib.rs`, `records.rs`, `pull.rs`, `dashboard.rs` and `reports/`.

pub(crate) mod settings;

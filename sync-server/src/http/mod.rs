//! The HTTP layer: the extractors and handlers that turn requests into calls of the server's
//! modules and their answers into responses, one file per area. Domain modules
//! ([`crate::settings`], [`crate::reports`], …) know nothing of axum or
//! [`crate::error::ApiError`]; this layer does. The route table naming these handlers is in
//! the crate root, with `router()` and `serve()`.
//!
//! - [`auth`]: the bearer token → [`crate::accounts::Principal`] extractor (and the rate limit),
//!   the password check and `POST /v1/login`;
//! - [`sync`]: `POST /v1/sync/push`, `/pull`, `/repair`, `/heads` and their binary bodies;
//! - [`reports`]: `GET /v1/reports`, `/v1/reports/{name}` and `/v1/supervisor/pull`;
//! - [`settings`]: `GET /v1/settings` and `GET`/`PUT /v1/settings/county/{code}`;
//! - [`dashboard`]: the supervisors' dashboard page under `/dashboard/`, `POST /v1/session`
//!   (browser sign-in) and `GET /v1/records/{id}` (one record and its history, masked);
//! - [`ops`]: `GET /healthz`, `GET /metrics` and `GET /v1/openapi.json`;
//! - [`tls`]: the HTTPS accept loop.

use axum::body::{Body, Bytes};

use crate::error::ApiError;
use crate::state::AppState;

pub(crate) mod auth;
pub(crate) mod dashboard;
pub(crate) mod ops;
pub(crate) mod reports;
pub(crate) mod settings;
pub(crate) mod sync;
pub(crate) mod tls;

/// Reads a body up to the configured size, as a typed error past it.
pub(crate) async fn read_body(state: &AppState, body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, state.config.max_body_bytes)
        .await
        .map_err(|_| ApiError::TooLarge)
}

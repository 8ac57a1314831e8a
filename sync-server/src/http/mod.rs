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
//! - [`approvals`]: `POST /v1/records/{id}/steps` and `POST /v1/steps` (a reviewer's step,
//!   composed and then signed by the browser's key) and `GET /v1/todo` (待办);
//! - [`devices`]: `GET /v1/accounts/{login}/devices` and `POST /v1/devices/{device_id}/revoke`
//!   (a lost phone cut off);
//! - [`import`]: `POST /v1/import` (a county's registers from a file: dry run or commit) and
//!   `GET /v1/import/templates/{kind}`;
//! - [`ops`]: `GET /healthz`, `GET /metrics` and `GET /v1/openapi.json`;
//! - [`conn`]: the accept loop, plain and HTTPS, with its connection limits and timeouts.
//!
//! Every answer that is not a success is an [`ApiError`] (`{code, message, message_en}`), the
//! extractors' rejections too: [`Json`] and [`Path`] wrap axum's, and the router's fallbacks
//! ([`unknown_route`], [`method_not_allowed`]) answer unknown paths and methods.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

pub(crate) mod approvals;
pub(crate) mod auth;
pub(crate) mod conn;
pub(crate) mod dashboard;
pub(crate) mod devices;
pub(crate) mod import;
pub(crate) mod ops;
pub(crate) mod reports;
pub(crate) mod settings;
pub(crate) mod sync;

/// Reads a sync body up to the configured size ([`crate::config::Config::max_body_bytes`]),
/// as a typed error past it.
pub(crate) async fn read_body(state: &AppState, body: Body) -> Result<Bytes, ApiError> {
    read_body_up_to(body, state.config.max_body_bytes).await
}

/// Reads a body of at most `limit` bytes.
pub(crate) async fn read_body_up_to(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        // A body that stops arriving (the router's body timeout) or is cut is not a large one.
        let e = e.into_inner();
        if e.is::<http_body_util::LengthLimitError>() {
            ApiError::TooLarge
        } else {
            ApiError::Malformed(format!("the body did not arrive whole: {e}"))
        }
    })
}

/// Refuses a JSON request (not `/v1/sync/*`, not `/v1/import`) whose `Content-Length` is over `max_json_bytes`
/// before any of its body is read: a sign-in announced at 512 MiB is answered at once, not
/// after it has arrived (a body without a length is cut at the same limit as it is read). The
/// sync endpoints read their bodies only after the token is checked, up to `max_body_bytes`,
/// and answer `too_large` once they have: a phone sending a large batch gets the answer
/// rather than a connection reset mid-send.
pub(crate) async fn refuse_declared_oversize(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    // Sync bodies and imported files are read up to `max_body_bytes` by their handlers.
    let path = req.uri().path();
    let json = !(path.starts_with("/v1/sync/") || path == "/v1/import");
    if json && declared.is_some_and(|n| n > state.config.max_json_bytes as u64) {
        return ApiError::TooLarge.into_response();
    }
    next.run(req).await
}

/// `axum::Json`, its rejections answered as [`ApiError`]s (a body that is not JSON, not of
/// the expected shape, too large, or sent without `Content-Type: application/json`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(ApiError::from(rejection)),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Refuses a body not sent as JSON (`wrong_content_type`), by the rule [`Json`] applies
/// (`application/json`, or `application/<anything>+json`), for a handler that reads its JSON
/// body itself.
pub(crate) fn require_json(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let essence = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let json = essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"));
    if json {
        Ok(())
    } else {
        Err(ApiError::WrongContentType("application/json"))
    }
}

/// `axum::extract::Path`, its rejections answered as [`ApiError`]s.
#[derive(Debug, Clone)]
pub(crate) struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(ApiError::Malformed(rejection.body_text())),
        }
    }
}

/// The answer to a path the server does not serve.
pub(crate) async fn unknown_route() -> ApiError {
    ApiError::UnknownRoute
}

/// The answer to a method a path does not take.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

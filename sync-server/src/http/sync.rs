//! The sync endpoints (`POST /v1/sync/push`, `/pull`, `/repair`, `/heads`, described in
//! [`crate::merge`] and [`crate::pull`]): their `brotli(postcard)` bodies decoded and encoded,
//! the protocol version ([`Protocol`]: each request answered in its own version, one the
//! server no longer or not yet speaks refused first), the batch limit, the device's clock
//! offset, and the push and pull metrics.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use cunji_core::sync::protocol::{self, PushRequest, PushResponse, PushResult};

use super::read_body;
use crate::accounts::Principal;
use crate::error::ApiError;
use crate::merge;
use crate::pull;
use crate::state::AppState;

#[tracing::instrument(skip_all, fields(login = %principal.login, device = ?principal.device_id, protocol = version.0))]
pub(crate) async fn push(
    State(state): State<AppState>,
    version: Protocol,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    principal.require_device()?;
    let started = Instant::now();
    // Measured when the request's headers arrive, before its body: a slow upload does not
    // count as drift.
    let clock_offset = device_clock_offset_ms(&headers, Utc::now());
    let body = sync_body(&state, &headers, body).await?;
    let req: merge::Pushed = if version.0 == 1 {
        decode::<protocol::v1::PushRequest>(&state, &body)?.into()
    } else {
        decode::<PushRequest>(&state, &body)?.into()
    };
    if req.len() > state.config.max_batch_items {
        return Err(ApiError::BatchTooLarge(req.len()));
    }
    let n = req.len();
    // Checked in parallel with other requests; merged one writer at a time.
    let checked = state
        .blocking(move |_| {
            let mut checked = merge::check_batch(&principal, req);
            checked.device_clock_offset_ms = clock_offset;
            Ok(checked)
        })
        .await?;
    let results = state
        .write(move |tx| {
            let now = Utc::now().to_rfc3339();
            merge::ingest(tx, checked, &now).map_err(ApiError::from)
        })
        .await?;
    let mut counts = [0u64; 4];
    let results: Vec<PushResult> = results
        .into_iter()
        .map(|(hash, outcome)| {
            let i = match &outcome {
                protocol::PushOutcome::Accepted => 0,
                protocol::PushOutcome::Duplicate => 1,
                protocol::PushOutcome::Held => 2,
                protocol::PushOutcome::Rejected { .. } => 3,
            };
            counts[i] += 1;
            PushResult { hash, outcome }
        })
        .collect();
    for (i, label) in ["accepted", "duplicate", "held", "rejected"]
        .iter()
        .enumerate()
    {
        metrics::counter!("cunji_push_changes_total", "outcome" => *label).increment(counts[i]);
    }
    metrics::histogram!("cunji_push_seconds").record(started.elapsed().as_secs_f64());
    tracing::info!(
        items = n,
        accepted = counts[0],
        duplicate = counts[1],
        held = counts[2],
        rejected = counts[3],
        "push"
    );
    Ok(binary(
        version,
        &PushResponse {
            results,
            device_clock_offset_ms: clock_offset,
        },
    ))
}

#[tracing::instrument(skip_all, fields(login = %principal.login, device = ?principal.device_id, protocol = version.0))]
pub(crate) async fn pull_handler(
    State(state): State<AppState>,
    version: Protocol,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    principal.require_device()?;
    let started = Instant::now();
    // Returned to the device (it keeps it to warn about its clock, R2); a pull stores nothing.
    let clock_offset = device_clock_offset_ms(&headers, Utc::now());
    let body = sync_body(&state, &headers, body).await?;
    let req = decode(&state, &body)?;
    let max = state.config.max_pull_bytes;
    let resp = state
        .blocking(move |db| {
            db.read(|tx| pull::pull(tx, &principal, &req, max).map_err(ApiError::from))
        })
        .await?;
    let resp = protocol::PullResponse {
        device_clock_offset_ms: clock_offset,
        ..resp
    };
    metrics::histogram!("cunji_pull_seconds").record(started.elapsed().as_secs_f64());
    Ok(if version.0 == 1 {
        binary(version, &protocol::v1::PullResponse::from(resp))
    } else {
        binary(version, &resp)
    })
}

#[tracing::instrument(skip_all, fields(login = %principal.login, device = ?principal.device_id, protocol = version.0))]
pub(crate) async fn repair_handler(
    State(state): State<AppState>,
    version: Protocol,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    principal.require_device()?;
    let body = sync_body(&state, &headers, body).await?;
    let req: protocol::RepairRequest = decode(&state, &body)?;
    // A message automerge would crash on is refused before it reaches a document.
    for m in &req.docs {
        if let Some(bytes) = &m.message {
            protocol::decode_sync_message(bytes)
                .map_err(|e| ApiError::Malformed(format!("{}: {e}", m.doc_id)))?;
        }
    }
    let resp = state
        .write(move |tx| pull::repair(tx, &principal, &req).map_err(ApiError::from))
        .await?;
    Ok(if version.0 == 1 {
        binary(version, &protocol::v1::RepairResponse::from(resp))
    } else {
        binary(version, &resp)
    })
}

#[tracing::instrument(skip_all, fields(login = %principal.login, device = ?principal.device_id, protocol = version.0))]
pub(crate) async fn heads_handler(
    State(state): State<AppState>,
    version: Protocol,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    principal.require_device()?;
    let body = sync_body(&state, &headers, body).await?;
    let req = decode(&state, &body)?;
    let resp = state
        .blocking(move |db| db.read(|tx| pull::heads(tx, &principal, &req).map_err(ApiError::from)))
        .await?;
    Ok(binary(version, &resp))
}

#[tracing::instrument(skip_all, fields(login = %principal.login, device = ?principal.device_id, protocol = version.0))]
pub(crate) async fn unreadable_handler(
    State(state): State<AppState>,
    version: Protocol,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    principal.require_device()?;
    let body = sync_body(&state, &headers, body).await?;
    let req = decode(&state, &body)?;
    let resp = state
        .blocking(move |db| {
            db.read(|tx| pull::unreadable(tx, &principal, &req).map_err(ApiError::from))
        })
        .await?;
    Ok(binary(version, &resp))
}

/// The device's clock minus the server's, in ms, from the device-time header; `None` when
/// absent or unreadable.
fn device_clock_offset_ms(headers: &HeaderMap, server_now: chrono::DateTime<Utc>) -> Option<i64> {
    let text = headers.get(protocol::DEVICE_TIME_HEADER)?.to_str().ok()?;
    let device = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some((device.with_timezone(&Utc) - server_now).num_milliseconds())
}

/// A sync request's body: refused (`wrong_content_type`) unless it says it is a sync message
/// ([`protocol::CONTENT_TYPE`], which every release of the app has sent), then read up to
/// `max_body_bytes`.
async fn sync_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<axum::body::Bytes, ApiError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if essence.as_deref() != Some(protocol::CONTENT_TYPE) {
        return Err(ApiError::WrongContentType(protocol::CONTENT_TYPE));
    }
    read_body(state, body).await
}

/// A sync message from a request body: `too_large` past the decoded-size limit, `malformed`
/// if it is not one.
fn decode<T: serde::de::DeserializeOwned>(state: &AppState, body: &[u8]) -> Result<T, ApiError> {
    protocol::decode(body, state.config.max_decoded_bytes).map_err(|e| match e {
        protocol::WireError::TooLarge(_) => ApiError::TooLarge,
        other => ApiError::Malformed(other.to_string()),
    })
}

/// A sync message as a response, in the request's protocol version.
fn binary<T: serde::Serialize>(version: Protocol, message: &T) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(protocol::CONTENT_TYPE),
            ),
            (
                header::HeaderName::from_static(protocol::PROTOCOL_HEADER),
                HeaderValue::from(version.0),
            ),
        ],
        protocol::encode(message),
    )
        .into_response()
}

/// The sync protocol version a request is in ([`protocol::PROTOCOL_HEADER`]; see
/// [`protocol::PROTOCOL_VERSION`] for what the server speaks). Refused before the token is
/// looked at: a phone too old to sync learns that, not that it should sign in again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Protocol(pub u32);

impl Protocol {
    /// The version of a request with these headers.
    pub(crate) fn of(headers: &HeaderMap) -> Result<Protocol, ApiError> {
        let Some(value) = headers.get(protocol::PROTOCOL_HEADER) else {
            return Ok(Protocol(1));
        };
        let version: u32 = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| {
                ApiError::Malformed(format!(
                    "{} is not a version number: {value:?}",
                    protocol::PROTOCOL_HEADER
                ))
            })?;
        if version < protocol::OLDEST_PROTOCOL {
            return Err(ApiError::UpdateRequired(version));
        }
        if version > protocol::PROTOCOL_VERSION {
            return Err(ApiError::ProtocolTooNew(version));
        }
        Ok(Protocol(version))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Protocol {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Protocol::of(&parts.headers)
    }
}

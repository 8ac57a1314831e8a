//! The endpoints for operators and tools, none behind a token: `GET /healthz`, `GET /metrics`
//! (Prometheus) and `GET /v1/openapi.json`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::openapi;
use crate::state::AppState;

pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    let backend = state.db.backend();
    match state
        .blocking(|db| db.read(|tx| tx.max_seq().map_err(ApiError::from)))
        .await
    {
        Ok(seq) => Json(serde_json::json!({ "status": "ok", "backend": backend, "changes": seq }))
            .into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(h) => h.render().into_response(),
        None => (StatusCode::NOT_FOUND, "metrics recorder not installed").into_response(),
    }
}

pub(crate) async fn openapi() -> Json<serde_json::Value> {
    Json(openapi::document())
}

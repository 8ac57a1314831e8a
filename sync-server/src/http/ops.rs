//! The endpoints for operators and tools: `GET /healthz` and `GET /v1/openapi.json` (no
//! token), `GET /metrics` (Prometheus: an administrator's token on the API's address, none on
//! the metrics address of its own, `Config::metrics_listen`).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::accounts::{Principal, Role};

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

/// `/metrics` on the API's address: the counters say how busy each endpoint is and how many
/// sign-ins failed, which is for the operators, not for every signed-in phone.
pub(crate) async fn metrics(State(state): State<AppState>, principal: Principal) -> Response {
    if principal.role != Role::Admin {
        return ApiError::Forbidden(
            "运行指标只给管理员查看 / only administrators read the server's metrics".into(),
        )
        .into_response();
    }
    metrics_open(State(state)).await
}

/// `/metrics` on its own address, for a Prometheus on the operators' network.
pub(crate) async fn metrics_open(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(h) => h.render().into_response(),
        None => {
            ApiError::NotFound("运行指标(未启用) / the metrics recorder".into()).into_response()
        }
    }
}

pub(crate) async fn openapi() -> Json<serde_json::Value> {
    Json(openapi::document())
}

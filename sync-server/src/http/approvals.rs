//! `POST /v1/records/{id}/steps` (compose a step for the session's key to sign) and
//! `POST /v1/steps` (store the signed step), `POST /v1/ledgers/sign` (compose a ledger
//! signature, [`crate::ledger`]), `POST /v1/feedback` (compose a 投诉建议,
//! [`crate::feedback`]) and `GET /v1/todo` (the signed-in role's 待办):
//! the HTTP side of [`crate::approvals`] and [`crate::todo`].

use axum::extract::State;

use super::{Json, Path};
use crate::accounts::Principal;
use crate::approvals::{self, CommitStep, CommittedStep, PreparedStep, StepError, StepRequest};
use crate::error::ApiError;
use crate::state::AppState;
use crate::todo::{self, TodoList};

impl From<StepError> for ApiError {
    fn from(e: StepError) -> ApiError {
        match e {
            StepError::KeyRequired => ApiError::SigningKeyRequired,
            StepError::NotFound(what) => ApiError::NotFound(what),
            StepError::Bad(what) => ApiError::Malformed(what),
            StepError::Store(e) => ApiError::Store(e),
            StepError::Refused { code, message } => refused(&code, &message),
        }
    }
}

/// A refusal as the API answers it: the code among those documented, the message split into
/// its Chinese and English halves (the sync protocol carries them as `中文 / English`).
pub(crate) fn refused(code: &str, message: &str) -> ApiError {
    let code = approvals::refusal_codes()
        .find(|c| *c == code)
        .unwrap_or("refused");
    let (zh, en) = message.split_once(" / ").unwrap_or((message, message));
    ApiError::Refused {
        code,
        message: zh.to_string(),
        message_en: en.to_string(),
    }
}

#[tracing::instrument(skip_all, err, fields(login = %principal.login, id = ?id))]
pub(crate) async fn prepare(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(step): Json<StepRequest>,
) -> Result<Json<PreparedStep>, ApiError> {
    let prepared = state
        .trial(move |tx| approvals::prepare(tx, &principal, &id, &step))
        .await?;
    Ok(Json(prepared?))
}

/// `POST /v1/ledgers/sign`: composes the township's signature of a ledger
/// ([`crate::ledger`]) for the session's key to sign, then `POST /v1/steps` stores it.
#[tracing::instrument(skip_all, err, fields(login = %principal.login, scope = ?req.scope))]
pub(crate) async fn sign_ledger(
    State(state): State<AppState>,
    principal: Principal,
    Json(req): Json<crate::ledger::SignLedger>,
) -> Result<Json<PreparedStep>, ApiError> {
    let prepared = state
        .trial(move |tx| crate::ledger::prepare(tx, &principal, &req))
        .await?;
    Ok(Json(prepared?))
}

/// `POST /v1/feedback`: composes a 投诉建议 as the session's new record
/// ([`crate::feedback`]) for its key to sign, then `POST /v1/steps` stores it.
#[tracing::instrument(skip_all, err, fields(login = %principal.login))]
pub(crate) async fn submit_feedback(
    State(state): State<AppState>,
    principal: Principal,
    Json(req): Json<crate::feedback::SubmitFeedback>,
) -> Result<Json<PreparedStep>, ApiError> {
    let prepared = state
        .trial(move |tx| crate::feedback::prepare(tx, &principal, &req))
        .await?;
    Ok(Json(prepared?))
}

#[tracing::instrument(skip_all, err, fields(login = %principal.login, id = ?req.record_id))]
pub(crate) async fn commit(
    State(state): State<AppState>,
    principal: Principal,
    Json(req): Json<CommitStep>,
) -> Result<Json<CommittedStep>, ApiError> {
    let record_id = req.record_id.clone();
    let batch = state
        .blocking(move |_| approvals::check(&principal, &req).map_err(ApiError::from))
        .await?;
    let done = state
        .write(move |tx| approvals::store(tx, record_id, batch).map_err(ApiError::from))
        .await?;
    Ok(Json(done))
}

#[tracing::instrument(skip_all, err, fields(login = %principal.login))]
pub(crate) async fn todo(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<TodoList>, ApiError> {
    let list = state
        .blocking(move |db| {
            db.read(|tx| todo::todo(tx, &principal))
                .map_err(ApiError::from)
        })
        .await?;
    Ok(Json(list))
}

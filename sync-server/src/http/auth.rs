//! Who is asking: the bearer token → [`Principal`] extractor every authenticated handler
//! takes (with the per-caller rate limit), the password check, and `POST /v1/login`, which
//! registers a device and hands it its token.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use chrono::{Duration, Utc};
use cunji_core::sync::protocol::{LoginRequest, LoginResponse};

use crate::accounts::{self, Principal};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{self, DeviceRow, TokenRow};

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(ApiError::MissingToken)?;
        let hash = accounts::token_hash(&token);
        let principal = state
            .blocking(move |db| {
                db.read(|tx| {
                    let Some(t) = tx.token(&hash)? else {
                        return Err(ApiError::BadToken);
                    };
                    let expired = chrono::DateTime::parse_from_rfc3339(&t.expires_ts)
                        .map_or(true, |e| e < Utc::now());
                    if t.revoked || expired {
                        return Err(ApiError::BadToken);
                    }
                    let account = tx.account(&t.login)?.ok_or(ApiError::BadToken)?;
                    if !account.active {
                        return Err(ApiError::BadToken);
                    }
                    if t.device_id.is_empty() {
                        // A browser session (dashboard::session): reads only.
                        return Ok(Principal::web(account));
                    }
                    let device = tx.device(&t.device_id)?.ok_or(ApiError::BadToken)?;
                    if device.login != account.login {
                        return Err(ApiError::BadToken);
                    }
                    Ok(Principal::new(account, device))
                })
            })
            .await?;
        let bucket = if principal.is_web() {
            format!("web:{}", principal.login)
        } else {
            principal.device_id.clone()
        };
        if !state.allow(&bucket) {
            metrics::counter!("cunji_rate_limited_total").increment(1);
            return Err(ApiError::RateLimited);
        }
        Ok(principal)
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())).then(|| token.to_string())
}

/// The active account `login` if `password` is its password, else `bad_login` (the same for
/// an unknown login, a wrong password and a disabled account). Hold a
/// [`AppState::password_permit`] around it.
pub(crate) fn authenticate(
    tx: &mut dyn store::Tx,
    login: &str,
    password: &str,
) -> Result<store::Account, ApiError> {
    let account = tx
        .account(login)?
        .filter(|a| a.active)
        .ok_or(ApiError::BadLogin)?;
    if !accounts::verify_password(password, &account.password_hash) {
        return Err(ApiError::BadLogin);
    }
    Ok(account)
}

#[tracing::instrument(skip_all, err, fields(login = %req.login, device = %req.device_id))]
pub(crate) async fn login(
    State(state): State<AppState>,
    Json(req): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let actor =
        hex::decode(&req.actor).map_err(|_| ApiError::Malformed("actor is not hex".into()))?;
    let public_key = hex::decode(&req.public_key)
        .map_err(|_| ApiError::Malformed("public_key is not hex".into()))?;
    if actor.is_empty()
        || actor.len() > 32
        || public_key.len() != 32
        || req.device_id.trim().is_empty()
    {
        return Err(ApiError::Malformed(
            "device_id, actor (1–32 bytes) and a 32-byte public key are required".into(),
        ));
    }
    let ttl = state.config.token_ttl_hours;
    let _permit = state.password_permit().await?;
    let resp = state
        .blocking(move |db| {
            db.write(|tx| {
                let account = authenticate(tx, &req.login, &req.password)?;
                match tx.device(&req.device_id)? {
                    Some(d)
                        if d.login != account.login
                            || d.actor != actor
                            || d.public_key != public_key =>
                    {
                        return Err(ApiError::DeviceConflict);
                    }
                    Some(_) => {}
                    None => {
                        if tx.device_by_actor(&actor)?.is_some() {
                            return Err(ApiError::DeviceConflict);
                        }
                        tx.put_device(&DeviceRow {
                            device_id: req.device_id.clone(),
                            login: account.login.clone(),
                            actor: actor.clone(),
                            public_key: public_key.clone(),
                            registered_ts: Utc::now().to_rfc3339(),
                        })?;
                    }
                }
                let (token, hash) = accounts::new_token();
                let expires = Utc::now() + Duration::hours(ttl);
                tx.put_token(&TokenRow {
                    hash,
                    login: account.login.clone(),
                    device_id: req.device_id.clone(),
                    expires_ts: expires.to_rfc3339(),
                    revoked: false,
                })?;
                Ok(LoginResponse {
                    token,
                    expires_at: expires.to_rfc3339(),
                    cadre_id: account.login,
                    role: account.role.code().to_string(),
                })
            })
        })
        .await?;
    Ok(Json(resp))
}

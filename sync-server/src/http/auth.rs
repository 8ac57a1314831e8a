//! Who is asking: the bearer token → [`Principal`] extractor every authenticated handler
//! takes (with the per-caller rate limit), the password check, and `POST /v1/login`, which
//! registers a device and hands it its token.

use std::net::IpAddr;
use std::time::Instant;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use chrono::{Duration, Utc};
use cunji_core::sync::protocol::{LoginRequest, LoginResponse};

use super::Json;
use super::conn::PeerAddr;
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
                    // A phone cut off is told so (its tokens died with it), not to sign in
                    // again.
                    let device = if t.device_id.is_empty() {
                        None
                    } else {
                        let device = tx.device(&t.device_id)?.ok_or(ApiError::BadToken)?;
                        if device.revoked_ts.is_some() {
                            return Err(ApiError::DeviceRevoked(device.device_id));
                        }
                        Some(device)
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
                    let Some(device) = device else {
                        // A browser session (dashboard::session): reads only.
                        return Ok(Principal::web(account));
                    };
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
        if let Err(seconds) = state.allow(&bucket) {
            metrics::counter!("cunji_rate_limited_total").increment(1);
            return Err(ApiError::RateLimited(seconds));
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
/// an unknown login, a wrong password and a disabled account, and the same work: a login
/// without an account is checked against [`accounts::dummy_password_hash`], so the answer's
/// time does not tell which logins exist). Hold a [`AppState::password_permit`] around it,
/// and [`SignIn`] around that.
///
/// The account is read in a read transaction and the password checked with none open:
/// Argon2id takes tens of milliseconds of a core, and inside the sign-in's write transaction
/// (as it once was) every check, a guesser's too, held back every push behind it (found by
/// the mixed load test, `tests/tests/it/load.rs`). The write that follows takes the account
/// through [`still_as_checked`].
pub(crate) fn authenticate(
    db: &store::Db,
    login: &str,
    password: &str,
) -> Result<store::Account, ApiError> {
    let account = db.read(|tx| Ok::<_, ApiError>(tx.account(login)?.filter(|a| a.active)))?;
    let hash = account
        .as_ref()
        .map_or(accounts::dummy_password_hash(), |a| {
            a.password_hash.as_str()
        });
    let right = accounts::verify_password(password, hash);
    match account {
        Some(a) if right => Ok(a),
        _ => Err(ApiError::BadLogin),
    }
}

/// In the write transaction after [`authenticate`]: the account as it is now, if it is still
/// active with the password that was checked; `bad_login` if it was disabled or its password
/// changed in between.
pub(crate) fn still_as_checked(
    tx: &mut dyn store::Tx,
    checked: &store::Account,
) -> Result<store::Account, ApiError> {
    match tx.account(&checked.login)? {
        Some(a) if a.active && a.password_hash == checked.password_hash => Ok(a),
        _ => Err(ApiError::BadLogin),
    }
}

/// The address a request came from: the connection's peer, or, behind a reverse proxy
/// ([`crate::config::Config::client_ip_header`]), the last address of that header (the one
/// the proxy added). `None` when neither is known.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddress(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let forwarded = state.config.client_ip_header.as_deref().and_then(|name| {
            let value = parts.headers.get(name)?.to_str().ok()?;
            value.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
        });
        let peer = parts.extensions.get::<PeerAddr>().map(|PeerAddr(a)| a.ip());
        Ok(ClientAddress(forwarded.or(peer)))
    }
}

/// A sign-in attempt under the failed sign-ins' back-off ([`crate::state::SignInThrottle`]):
/// refused before any password is checked while `login` or its address is locked, then
/// counted by its outcome.
///
/// A refusal for a lock is answered after [`SignIn::LOCKED_PAUSE`], a pause that costs the
/// server a sleeping task and nothing else. Answered at once, a guesser's loop ran at the
/// server's pace: ~800 refusals a second from four requests in flight, which took the CPU
/// of the syncing devices beside it (PostgreSQL's pushes at a fifth of their rate in the
/// mixed load test, `tests/tests/it/load.rs`). Paused, it runs at one request a second per
/// connection, and connections are limited per address.
pub(crate) struct SignIn<'a> {
    state: &'a AppState,
    login: &'a str,
    address: Option<IpAddr>,
}

impl<'a> SignIn<'a> {
    /// How long a sign-in refused for a lock waits for its answer.
    pub(crate) const LOCKED_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

    /// Checks the login's shape and the back-off.
    pub(crate) async fn start(
        state: &'a AppState,
        login: &'a str,
        address: Option<IpAddr>,
    ) -> Result<SignIn<'a>, ApiError> {
        if !crate::api::sign_in_text_ok(login) {
            return Err(ApiError::Malformed(
                "login: 1–128 characters, no control characters".into(),
            ));
        }
        if let Some(wait) = state.sign_ins.wait(login, address, Instant::now()) {
            metrics::counter!("cunji_sign_ins_throttled_total").increment(1);
            tracing::info!(login = ?login, address = ?address, "sign-in refused: locked after failures");
            tokio::time::sleep(Self::LOCKED_PAUSE).await;
            let wait = wait.saturating_sub(Self::LOCKED_PAUSE);
            return Err(ApiError::SignInThrottled(wait.as_secs().max(1)));
        }
        Ok(SignIn {
            state,
            login,
            address,
        })
    }

    /// Counts the outcome of the password check.
    pub(crate) fn finish<T>(self, result: Result<T, ApiError>) -> Result<T, ApiError> {
        match &result {
            Ok(_) => self.state.sign_ins.succeeded(self.login),
            Err(ApiError::BadLogin) => {
                metrics::counter!("cunji_sign_ins_failed_total").increment(1);
                self.state
                    .sign_ins
                    .failed(self.login, self.address, Instant::now());
                tracing::info!(login = ?self.login, address = ?self.address, "sign-in refused: wrong login or password");
            }
            Err(_) => {}
        }
        result
    }
}

#[tracing::instrument(skip_all, fields(login = ?req.login, device = ?req.device_id))]
pub(crate) async fn login(
    State(state): State<AppState>,
    address: ClientAddress,
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
        || !crate::api::sign_in_text_ok(&req.device_id)
    {
        return Err(ApiError::Malformed(
            "device_id (1–128 characters, no control characters), actor (1–32 bytes) and a \
             32-byte public key are required"
                .into(),
        ));
    }
    let ttl = state.config.token_ttl_hours;
    let login = req.login.clone();
    let sign_in = SignIn::start(&state, &login, address.0).await?;
    let _permit = state.password_permit().await?;
    let resp = async {
        let (login, password) = (req.login.clone(), req.password.clone());
        let checked = state
            .blocking(move |db| authenticate(db, &login, &password))
            .await?;
        state
            .write(move |tx| {
                let account = still_as_checked(tx, &checked)?;
                match tx.device(&req.device_id)? {
                    Some(d)
                        if d.login != account.login
                            || d.actor != actor
                            || d.public_key != public_key =>
                    {
                        return Err(ApiError::DeviceConflict);
                    }
                    Some(d) if d.revoked_ts.is_some() => {
                        return Err(ApiError::DeviceRevoked(d.device_id));
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
                            revoked_ts: None,
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
            .await
    }
    .await;
    Ok(Json(sign_in.finish(resp)?))
}

//! # cunji-sync-server
//!
//! The sync server of Cunji: it merges every team's record documents, serves each device the
//! changes it may read, and (with the supervisors' issue) the reports and exports. A library
//! with a thin binary: [`router`] builds the axum app over an [`AppState`], [`serve`] runs it
//! until a shutdown signal; `main.rs` only reads config, starts tracing and opens the store.
//!
//! Endpoints (bodies of `/v1/sync/*` are `brotli(postcard)` messages of
//! [`cunji_core::sync::protocol`]; everything a person may read is JSON):
//! - `POST /v1/login`: password sign-in that registers the device (actor id and public key)
//!   and returns a bearer token;
//! - `POST /v1/sync/push`, `/v1/sync/pull`, `/v1/sync/heads`, `/v1/sync/repair`: see
//!   [`merge`] and [`pull`];
//! - `GET /v1/reports` (the list) and `GET /v1/reports/<name>?scope=…`: the supervisors'
//!   reports 1–9 as JSON, or CSV/xlsx with `format=` or `Accept` ([`reports`]);
//! - `GET /v1/supervisor/pull?scope=…&after=…`: a scope's merged projection rows by cursor,
//!   masked for the caller ([`reports::supervise`]);
//! - `GET /v1/settings` (a device's county's ⚙ settings) and `GET`/`PUT
//!   /v1/settings/county/{code}` (the county poverty office's): see [`settings`];
//! - `GET /v1/openapi.json`: the OpenAPI 3 description of the JSON API (no sign-in needed);
//! - `GET /healthz`, `GET /metrics` (Prometheus).
//!
//! Every request is authenticated by its token except login, health and metrics; errors are
//! [`error::ApiError`]s with a stable code and a message in Chinese and English.
//!
//! ## Layers
//!
//! Modules import downwards only: the store speaks rows and transactions, the domain modules
//! (accounts, merge, pull, settings, reports) speak the store, and only the HTTP layer
//! (`http`, and still `dashboard` and this file's handlers) speaks axum and [`error::ApiError`].
//! Bottom up, each layer importing only from the layers before it (a unit test reads the
//! modules' `crate::` imports and holds this line to them; this file, the crate root, is the
//! top):
//!
//! backup, config, store < accounts < merge, pull, settings < generate, handover, records, reports < error, openapi < dashboard, http

pub mod accounts;
pub mod backup;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod generate;
pub mod handover;
mod http;
pub mod merge;
pub mod openapi;
pub mod pull;
pub mod records;
pub mod reports;
pub mod settings;
pub mod store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use cunji_core::sync::protocol::{
    self, LoginRequest, LoginResponse, PushRequest, PushResponse, PushResult,
};
use metrics_exporter_prometheus::PrometheusHandle;

use accounts::Principal;
use config::Config;
use error::ApiError;
use store::{Db, DeviceRow, TokenRow};

/// Everything a handler needs; passed in, never global.
#[derive(Clone)]
pub struct AppState {
    pub db: Arc<Db>,
    pub config: Arc<Config>,
    metrics: Option<PrometheusHandle>,
    limiter: Arc<Mutex<HashMap<String, (f64, Instant)>>>,
    /// Password checks running at once. Argon2id takes ~19 MiB and tens of milliseconds of a
    /// core each: 1,000 sign-ins at once (found by the load test) made 1,000 of them run
    /// together, and sign-in needs no token, so anyone could. They now queue, cheaply.
    password_checks: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.db)
            .field("config", &self.config)
            .finish()
    }
}

impl AppState {
    pub fn new(db: Db, config: Config) -> AppState {
        AppState {
            db: Arc::new(db),
            config: Arc::new(config),
            metrics: None,
            limiter: Arc::new(Mutex::new(HashMap::new())),
            password_checks: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
        }
    }

    /// Serves `/metrics` from this Prometheus recorder (installed once per process).
    pub fn with_metrics(mut self, handle: PrometheusHandle) -> AppState {
        self.metrics = Some(handle);
        self
    }

    /// Token bucket per device: `requests_per_minute` sustained, the same as burst.
    fn allow(&self, device: &str) -> bool {
        let rate = f64::from(self.config.requests_per_minute.max(1));
        let mut buckets = self.limiter.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let (tokens, last) = buckets.entry(device.to_string()).or_insert((rate, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate / 60.0).min(rate);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// A turn to check a password: Argon2 is slow and memory-hungry on purpose, so checks
    /// queue, one per core, whichever endpoint signs in (devices or browsers).
    async fn password_permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        self.password_checks
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// Runs blocking storage work off the async threads.
    async fn blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Db) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
    }
}

/// The application.
pub fn router(state: AppState) -> Router {
    routes()
        .router
        .merge(dashboard::static_routes(&state.config))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Every endpoint the server serves: method, path and whether it takes a bearer token. Built
/// with the router itself, so that it cannot miss one; the authorisation matrix test
/// (`tests/tests/it/authz_matrix.rs`) fails for an endpoint it does not cover.
pub fn endpoints() -> Vec<Endpoint> {
    routes().list
}

/// One endpoint of [`endpoints`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    /// Whether the handler takes a [`Principal`] (a bearer token); the others are public.
    pub authenticated: bool,
}

/// The router and the list of what it serves, added to together.
struct Routes {
    router: Router<AppState>,
    list: Vec<Endpoint>,
}

impl Routes {
    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        authenticated: bool,
        handler: axum::routing::MethodRouter<AppState>,
    ) -> Routes {
        self.router = self.router.route(path, handler);
        self.list.push(Endpoint {
            method,
            path,
            authenticated,
        });
        self
    }
}

fn routes() -> Routes {
    Routes {
        router: Router::new(),
        list: Vec::new(),
    }
    .add("GET", "/healthz", false, get(healthz))
    .add("GET", "/metrics", false, get(metrics))
    .add("POST", "/v1/login", false, post(login))
    .add("POST", "/v1/sync/push", true, post(push))
    .add("POST", "/v1/sync/pull", true, post(pull_handler))
    .add("POST", "/v1/sync/repair", true, post(repair_handler))
    .add("POST", "/v1/sync/heads", true, post(heads_handler))
    .add("GET", "/v1/reports", true, get(reports_index))
    .add("GET", "/v1/reports/{name}", true, get(report_handler))
    .add("GET", "/v1/supervisor/pull", true, get(supervisor_pull))
    .add("GET", "/v1/openapi.json", false, get(openapi))
    .add("POST", "/v1/session", false, post(dashboard::session))
    .add("GET", "/v1/records/{id}", true, get(dashboard::record))
    .add("GET", "/v1/settings", true, get(http::settings::mine))
    .add(
        "GET",
        "/v1/settings/county/{code}",
        true,
        get(http::settings::get_county),
    )
    .add(
        "PUT",
        "/v1/settings/county/{code}",
        true,
        axum::routing::put(http::settings::put_county),
    )
}

/// Serves `router(state)` on `listener` until `shutdown` completes: over TLS when the config
/// names a certificate and key ([`Config::tls`]), plain HTTP otherwise (behind a reverse proxy
/// that terminates TLS).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = state
        .config
        .tls()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    match tls {
        None => {
            axum::serve(listener, router(state))
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(tls) => serve_tls(listener, router(state), tls, shutdown).await,
    }
}

/// HTTPS: each accepted connection's TLS handshake and HTTP/1.1 run on their own task; a
/// failed handshake (an untrusting client, a port scan) ends that connection only. On
/// `shutdown` the server stops accepting; connections in flight end with the runtime.
async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let stream = match acceptor.accept(tcp).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::info!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        });
    }
}

async fn healthz(State(state): State<AppState>) -> Response {
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

async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(h) => h.render().into_response(),
        None => (StatusCode::NOT_FOUND, "metrics recorder not installed").into_response(),
    }
}

/// Reads a body up to the configured size, as a typed error past it.
async fn read_body(state: &AppState, body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, state.config.max_body_bytes)
        .await
        .map_err(|_| ApiError::TooLarge)
}

fn decode<T: serde::de::DeserializeOwned>(state: &AppState, body: &[u8]) -> Result<T, ApiError> {
    protocol::decode(body, state.config.max_decoded_bytes).map_err(|e| match e {
        protocol::WireError::TooLarge(_) => ApiError::TooLarge,
        other => ApiError::Malformed(other.to_string()),
    })
}

fn binary<T: serde::Serialize>(message: &T) -> Response {
    (
        [(header::CONTENT_TYPE, protocol::CONTENT_TYPE)],
        protocol::encode(message),
    )
        .into_response()
}

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
async fn login(
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

#[tracing::instrument(skip_all, err, fields(login = %principal.login, device = %principal.device_id))]
async fn push(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    principal.require_device()?;
    let started = Instant::now();
    // Measured when the request's headers arrive, before its body: a slow upload does not
    // count as drift.
    let clock_offset = device_clock_offset_ms(&headers, Utc::now());
    let body = read_body(&state, body).await?;
    let req: PushRequest = decode(&state, &body)?;
    if req.items.len() > state.config.max_batch_items {
        return Err(ApiError::BatchTooLarge(req.items.len()));
    }
    let n = req.items.len();
    let results = state
        .blocking(move |db| {
            let now = Utc::now().to_rfc3339();
            let mut checked = merge::check_batch(&principal, req);
            checked.device_clock_offset_ms = clock_offset;
            db.write(|tx| merge::ingest(tx, checked, &now).map_err(ApiError::from))
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
    Ok(binary(&PushResponse {
        results,
        device_clock_offset_ms: clock_offset,
    }))
}

#[tracing::instrument(skip_all, err, fields(login = %principal.login, device = %principal.device_id))]
async fn pull_handler(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    principal.require_device()?;
    let started = Instant::now();
    // Returned to the device (it keeps it to warn about its clock, R2); a pull stores nothing.
    let clock_offset = device_clock_offset_ms(&headers, Utc::now());
    let body = read_body(&state, body).await?;
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
    Ok(binary(&resp))
}

#[tracing::instrument(skip_all, err, fields(login = %principal.login, device = %principal.device_id))]
async fn repair_handler(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> Result<Response, ApiError> {
    principal.require_device()?;
    let body = read_body(&state, body).await?;
    let req: protocol::RepairRequest = decode(&state, &body)?;
    // A message automerge would crash on is refused before it reaches a document.
    for m in &req.docs {
        if let Some(bytes) = &m.message {
            protocol::decode_sync_message(bytes)
                .map_err(|e| ApiError::Malformed(format!("{}: {e}", m.doc_id)))?;
        }
    }
    let resp = state
        .blocking(move |db| {
            db.write(|tx| pull::repair(tx, &principal, &req).map_err(ApiError::from))
        })
        .await?;
    Ok(binary(&resp))
}

#[tracing::instrument(skip_all, err, fields(login = %principal.login, device = %principal.device_id))]
async fn heads_handler(
    State(state): State<AppState>,
    principal: Principal,
    body: Body,
) -> Result<Response, ApiError> {
    principal.require_device()?;
    let body = read_body(&state, body).await?;
    let req = decode(&state, &body)?;
    let resp = state
        .blocking(move |db| db.read(|tx| pull::heads(tx, &principal, &req).map_err(ApiError::from)))
        .await?;
    Ok(binary(&resp))
}

/// The device's clock minus the server's, in ms, from the device-time header; `None` when
/// absent or unreadable.
fn device_clock_offset_ms(headers: &HeaderMap, server_now: chrono::DateTime<Utc>) -> Option<i64> {
    let text = headers.get(protocol::DEVICE_TIME_HEADER)?.to_str().ok()?;
    let device = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some((device.with_timezone(&Utc) - server_now).num_milliseconds())
}

async fn openapi() -> Json<serde_json::Value> {
    Json(openapi::document())
}

/// The reports and their parameters, for a dashboard to build its forms from.
async fn reports_index(_principal: Principal) -> Json<serde_json::Value> {
    let list: Vec<serde_json::Value> = reports::ReportName::ALL
        .iter()
        .map(|r| {
            serde_json::json!({
                "report": r.path(),
                "number": r.number(),
                "title": r.title_zh(),
                "path": format!("/v1/reports/{}", r.path()),
                "time_basis": r.time_basis(),
                "params": r.params(),
                "columns": reports::export::columns(*r)
                    .iter()
                    .map(|(key, title, show)| {
                        serde_json::json!({ "key": key, "title": title, "show": show.code() })
                    })
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(serde_json::json!({ "reports": list }))
}

type QueryMap = std::collections::BTreeMap<String, String>;

fn query_of(
    q: Result<axum::extract::Query<QueryMap>, axum::extract::rejection::QueryRejection>,
) -> Result<QueryMap, ApiError> {
    q.map(|q| q.0)
        .map_err(|e| ApiError::Malformed(format!("query string: {e}")))
}

#[tracing::instrument(skip_all, err, fields(login = %principal.login, report = %name))]
async fn report_handler(
    State(state): State<AppState>,
    principal: Principal,
    axum::extract::Path(name): axum::extract::Path<String>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<QueryMap>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let report: reports::ReportName = name.parse()?;
    let query = query_of(query)?;
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let format =
        reports::export::negotiate(query.get("format").map(|s| s.as_str()), accept.as_deref())?;
    let started = Instant::now();
    let doc = state
        .blocking(move |db| {
            db.read(|tx| reports::run(tx, &principal, report, &query).map_err(ApiError::from))
        })
        .await?;
    metrics::histogram!("cunji_report_seconds", "report" => report.path())
        .record(started.elapsed().as_secs_f64());
    let file = |ext: &str| {
        format!(
            "attachment; filename=\"{}-{}.{ext}\"",
            report.path(),
            doc.scope.replace(':', "-")
        )
    };
    Ok(match format {
        reports::export::Format::Json => Json(doc).into_response(),
        reports::export::Format::Csv => {
            let body = reports::export::csv(report, &doc)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            (
                [
                    (header::CONTENT_TYPE, reports::export::CSV.to_string()),
                    (header::CONTENT_DISPOSITION, file("csv")),
                ],
                body,
            )
                .into_response()
        }
        reports::export::Format::Xlsx => {
            let body = reports::export::xlsx(report, &doc)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            (
                [
                    (header::CONTENT_TYPE, reports::export::XLSX.to_string()),
                    (header::CONTENT_DISPOSITION, file("xlsx")),
                ],
                body,
            )
                .into_response()
        }
    })
}

#[tracing::instrument(skip_all, err, fields(login = %principal.login))]
async fn supervisor_pull(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<axum::extract::Query<QueryMap>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<reports::supervise::PullPage>, ApiError> {
    let query = query_of(query)?;
    let page = state
        .blocking(move |db| {
            db.read(|tx| reports::supervise::pull(tx, &principal, &query).map_err(ApiError::from))
        })
        .await?;
    Ok(Json(page))
}

/// The layering check of the module docs: the modules' `crate::` imports form no circle.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod layering {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// Each module of `src/` (a file or a folder, the crate root left out) and the other
    /// modules it names as `crate::module` or in `use crate::{a, b}`, comments left out.
    /// The crate root is left out because it is the top: it declares every module and
    /// holds [`crate::AppState`], which the handlers take.
    fn imports() -> BTreeMap<String, BTreeSet<String>> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        let mut stack = vec![src.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for path in files {
            let rel = path.strip_prefix(&src).unwrap();
            let first = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_str()
                .unwrap();
            let module = first.trim_end_matches(".rs").to_string();
            if module == "lib" || module == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let deps = out.entry(module.clone()).or_default();
            for line in text.lines() {
                let code = line.split("//").next().unwrap_or_default();
                let mut rest = code;
                while let Some(i) = rest.find("crate::") {
                    rest = &rest[i + "crate::".len()..];
                    let names: Vec<&str> = match rest.strip_prefix('{') {
                        Some(group) => group
                            .split('}')
                            .next()
                            .unwrap_or_default()
                            .split(',')
                            .collect(),
                        None => vec![rest],
                    };
                    for name in names {
                        let name: String = name
                            .trim()
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        let is_module = name.chars().next().is_some_and(|c| c.is_lowercase());
                        if is_module && name != module {
                            deps.insert(name);
                        }
                    }
                }
            }
        }
        out
    }

    /// The modules in layers where each imports only modules of the layers before it, or the
    /// modules left in or above a circle.
    fn order(graph: &BTreeMap<String, BTreeSet<String>>) -> Result<Vec<Vec<String>>, Vec<String>> {
        let mut layers: Vec<Vec<String>> = Vec::new();
        let mut done: Vec<String> = Vec::new();
        let mut left: BTreeSet<&String> = graph.keys().collect();
        while !left.is_empty() {
            let ready: Vec<&String> = left
                .iter()
                .copied()
                .filter(|m| {
                    graph[*m]
                        .iter()
                        .all(|d| !graph.contains_key(d) || done.contains(d))
                })
                .collect();
            if ready.is_empty() {
                return Err(left.into_iter().cloned().collect());
            }
            for m in &ready {
                left.remove(*m);
            }
            done.extend(ready.iter().map(|m| (*m).clone()));
            layers.push(ready.into_iter().cloned().collect());
        }
        Ok(layers)
    }

    #[test]
    fn modules_import_in_one_direction() {
        let graph = imports();
        assert!(graph.len() > 10, "{graph:?}");
        assert!(graph["http"].contains("settings"), "{graph:?}");
        let order = order(&graph)
            .unwrap_or_else(|circle| panic!("an import circle among {circle:?}: {graph:?}"));
        let stated: Vec<String> = order.iter().map(|layer| layer.join(", ")).collect();
        let stated = format!("//! {}", stated.join(" < "));
        let docs = include_str!("lib.rs");
        assert!(
            docs.lines().any(|l| l == stated),
            "the module docs should state the order\n{stated}"
        );
    }

    #[test]
    fn the_check_finds_a_circle() {
        let mut graph = BTreeMap::new();
        graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
        graph.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
        graph.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
        assert!(order(&graph).is_err());
        graph.remove("b");
        graph.insert("b".to_string(), BTreeSet::new());
        assert_eq!(order(&graph).unwrap(), [["b"], ["a"], ["c"]]);
    }
}

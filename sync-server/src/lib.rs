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
//! - `POST /v1/sync/push`, `/v1/sync/pull`, `/v1/sync/heads`, `/v1/sync/repair`,
//!   `/v1/sync/unreadable`: see
//!   [`merge`] and [`pull`];
//! - `GET /v1/reports` (the list) and `GET /v1/reports/<name>?scope=…`: the supervisors'
//!   reports 1–9 as JSON, or CSV/xlsx with `format=` or `Accept` ([`reports`]);
//! - `GET /v1/supervisor/pull?scope=…&after=…`: a scope's merged projection rows by cursor,
//!   masked for the caller ([`reports::supervise`]);
//! - `GET /v1/settings` (a device's county's ⚙ settings) and `GET`/`PUT
//!   /v1/settings/county/{code}` (the county poverty office's): see [`settings`];
//! - `POST /v1/session` (a browser's sign-in), `GET /v1/records/{id}` (one record and its
//!   history) and the page under `/dashboard/`: the supervisors' dashboard;
//! - `GET /v1/accounts/{login}/devices` and `POST /v1/devices/{device_id}/revoke`: an
//!   account's phones, and cutting a lost one off (the county poverty office, the
//!   administrator);
//! - `GET /v1/openapi.json`: the OpenAPI 3 description of the JSON API (no sign-in needed);
//! - `GET /healthz`; `GET /metrics` (Prometheus: an administrator's token on this address, or
//!   none on its own address, [`config::Config::metrics_listen`]).
//!
//! Every request is authenticated by its token except the sign-ins (login, session), health,
//! the OpenAPI document and the dashboard's page; errors are [`error::ApiError`]s with
//! a stable code and a message in Chinese and English.
//!
//! ## Layers
//!
//! Modules import downwards only: the store speaks rows and transactions, the domain modules
//! (accounts, merge, pull, settings, reports, and `checks`, the rules merge enforces) speak
//! the store, `error` turns their errors into
//! [`error::ApiError`] responses, `state` holds the [`AppState`] every handler is given, and
//! only the HTTP layer (`http`: the extractors and handlers, one file per area) takes requests.
//! Bottom up, each layer importing only from the layers before it (a unit test reads the
//! modules' `crate::` imports and holds this line to them; this file, the crate root, is the
//! top):
//!
//! api, backup, config, store < accounts, verify < pull, settings < reports < checks, error, todo < merge, state < approvals, handover, import, records < feedback, ledger, rebuild < generate, openapi < http

pub mod accounts;
pub mod api;
pub mod approvals;
pub mod backup;
mod checks;
pub mod config;
pub mod error;
pub mod feedback;
pub mod generate;
pub mod handover;
mod http;
pub mod import;
pub mod ledger;
pub mod merge;
pub mod openapi;
pub mod pull;
pub mod rebuild;
pub mod records;
pub mod reports;
pub mod settings;
mod state;
pub mod store;
pub mod todo;
pub mod verify;

pub use state::AppState;

use axum::Router;
use axum::routing::{get, post};
use http::auth::login;
use http::reports::{report_handler, reports_index, supervisor_pull};
use http::sync::{heads_handler, pull_handler, push, repair_handler, unreadable_handler};

/// The application: the routes, the dashboard's page, and the limits every request meets
/// (RELIABILITY.md, "Hardening"): JSON bodies of at most `max_json_bytes` (the sync
/// endpoints read theirs up to `max_body_bytes` themselves; a longer `Content-Length` is
/// refused before the body is read), a body that goes
/// `body_timeout_secs` without a byte is cut, unknown paths and methods get the API's error
/// shape, and every response says `nosniff`.
pub fn router(state: AppState) -> Router {
    let body_timeout = std::time::Duration::from_secs(state.config.body_timeout_secs.max(1));
    routes()
        .router
        .merge(http::dashboard::static_routes(&state.config))
        .fallback(http::unknown_route)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.max_json_bytes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::refuse_declared_oversize,
        ))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            body_timeout,
        ))
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            axum::http::HeaderValue::from_static("nosniff"),
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// `GET /metrics` alone, without a token: what [`config::Config::metrics_listen`] serves.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(http::ops::metrics_open))
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
    /// Whether the handler takes an [`accounts::Principal`] (a bearer token); the others are
    /// public.
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
    .add("GET", "/healthz", false, get(http::ops::healthz))
    .add("GET", "/metrics", true, get(http::ops::metrics))
    .add("POST", "/v1/login", false, post(login))
    .add("POST", "/v1/sync/push", true, post(push))
    .add("POST", "/v1/sync/pull", true, post(pull_handler))
    .add("POST", "/v1/sync/repair", true, post(repair_handler))
    .add("POST", "/v1/sync/heads", true, post(heads_handler))
    .add(
        "POST",
        "/v1/sync/unreadable",
        true,
        post(unreadable_handler),
    )
    .add("GET", "/v1/reports", true, get(reports_index))
    .add("GET", "/v1/reports/{name}", true, get(report_handler))
    .add("GET", "/v1/supervisor/pull", true, get(supervisor_pull))
    .add("GET", "/v1/openapi.json", false, get(http::ops::openapi))
    .add("POST", "/v1/session", false, post(http::dashboard::session))
    .add(
        "GET",
        "/v1/records/{id}",
        true,
        get(http::dashboard::record),
    )
    .add(
        "GET",
        "/v1/accounts/{login}/devices",
        true,
        get(http::devices::list),
    )
    .add(
        "POST",
        "/v1/devices/{device_id}/revoke",
        true,
        post(http::devices::revoke),
    )
    .add(
        "POST",
        "/v1/records/{id}/steps",
        true,
        post(http::approvals::prepare),
    )
    .add("POST", "/v1/steps", true, post(http::approvals::commit))
    .add(
        "POST",
        "/v1/ledgers/sign",
        true,
        post(http::approvals::sign_ledger),
    )
    .add(
        "POST",
        "/v1/feedback",
        true,
        post(http::approvals::submit_feedback),
    )
    .add("GET", "/v1/todo", true, get(http::approvals::todo))
    .add("POST", "/v1/import", true, post(http::import::upload))
    .add(
        "GET",
        "/v1/import/templates/{kind}",
        true,
        get(http::import::template_file),
    )
    .add(
        "GET",
        "/v1/import/export/{kind}",
        true,
        get(http::import::export_file),
    )
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
/// names a certificate and key ([`config::Config::tls`]), plain HTTP otherwise (behind a
/// reverse proxy that terminates TLS); either way within the connection limits and timeouts
/// of the config (`http::conn`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = state
        .config
        .tls()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let limits = http::conn::Limits::of(&state.config);
    http::conn::serve(listener, router(state), tls, limits, shutdown).await
}

/// Serves [`metrics_router`] on `listener` (plain HTTP, the same limits) until `shutdown`.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = http::conn::Limits::of(&state.config);
    http::conn::serve(listener, metrics_router(state), None, limits, shutdown).await
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
    /// builds the router from the handlers. A module naming one of the root's re-exports
    /// (`crate::AppState` rather than `crate::state::AppState`) fails the check: it would
    /// hide the dependency.
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
                        // `crate::AppState` and the like are the root's re-exports: they hide
                        // the module the item comes from, so the check could not see it.
                        assert!(
                            !name.chars().next().is_some_and(|c| c.is_uppercase()),
                            "{}: name `crate::{name}` by its module, not the root's re-export",
                            rel.display()
                        );
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

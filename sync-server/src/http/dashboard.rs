//! The supervisors' dashboard: its static page, browser sessions, and one record with its
//! edit history for drilling down from a report row.
//!
//! - `GET /dashboard/…` serves the built page (`sync-server/dashboard`, Vue 3 + ECharts, built
//!   by `npm run build` into `dashboard/dist`) from [`Config::dashboard_dir`]. When the page
//!   has not been built the server answers with a short page saying how to build it, rather
//!   than a bare 404.
//! - `POST /v1/session` signs a person in from a browser: login and password, no device. The
//!   token it returns reads (reports, the supervisors' pull, records; and manages its county's
//!   settings for the county poverty office or an administrator) but cannot sync: a
//!   browser holds no device key, so the sync endpoints refuse it with `device_required`.
//!   Browser sessions last [`Config::web_session_hours`], shorter than a phone's token. A
//!   sign-in that brings the browser's own signing key (`public_key`) is registered like a
//!   device and takes approval steps, each signed by that key ([`crate::approvals`]).
//! - `GET /v1/records/{id}` returns the merged record, its envelope and its history (who, on
//!   which device, when, why, each field's old and new value), if the access table lets the
//!   caller read the record (else `404 not_found`, as for an id the server does not hold) ([`Principal::sight`]: the township and the village's team in
//!   clear, a team member only its own attendance, the county masked, the city not at all);
//!   reference data (no village) is readable by every signed-in account. What the caller's role may not see is
//!   masked in the record *and* in the history's old/new values, so the history cannot be used
//!   to read a masked number.
//!
//! - `dashboard/src/divisions.ts` is generated from the core's
//!   [`ScopeLevel`](cunji_core::domain::ScopeLevel) (`divisions_ts`; a unit test fails when the
//!   committed file differs), so the page's division levels and code lengths are not a second
//!   copy.
//!
//! Not here: the reports themselves ([`crate::reports`]) and any write: the dashboard's
//! approvals and reviews are signed changes ([`crate::approvals`], `http::approvals`);
//! corrections of what cadres recorded are made on the devices.

use std::path::{Path, PathBuf};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Duration, Utc};
use cunji_core::doc::RecordDoc;
use cunji_core::domain::Kind;
use serde_json::Value;
use tower_http::services::ServeDir;

use crate::accounts::{self, Principal};
use crate::api::{HistoryView, RecordView, SessionRequest, SessionResponse};
use crate::config::Config;
use crate::error::ApiError;
use crate::merge::server_actor;
use crate::reports::Masking;
use crate::state::AppState;
use crate::store::{DeviceRow, TokenRow};
use cunji_core::domain::access::Sight;
use cunji_core::domain::privacy::{mask_at, mask_json};

/// The dashboard's page (the API it calls is in the server's endpoint list: `session`,
/// `record`).
pub fn static_routes(config: &Config) -> Router<AppState> {
    let dir = dashboard_dir(config);
    let routes = if dir.join("index.html").is_file() {
        Router::new().nest_service(
            "/dashboard",
            ServeDir::new(&dir).append_index_html_on_directories(true),
        )
    } else {
        tracing::warn!(dir = %dir.display(), "dashboard not built; /dashboard/ explains how");
        Router::new()
            .route("/dashboard", get(not_built))
            .route("/dashboard/", get(not_built))
            .route("/dashboard/{*rest}", get(not_built))
    };
    // The page loads only its own scripts, styles and data, and no other site may frame it
    // (a signed-in clerk's page under someone else's buttons).
    let header = |name: &'static str, value: &'static str| {
        tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::HeaderName::from_static(name),
            axum::http::HeaderValue::from_static(value),
        )
    };
    routes
        .layer(header("content-security-policy", CONTENT_SECURITY_POLICY))
        .layer(header("x-frame-options", "DENY"))
        .layer(header("referrer-policy", "no-referrer"))
}

/// The dashboard's Content-Security-Policy: its own origin only; inline styles allowed (the
/// charts set element styles), no inline scripts, no framing.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
     object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Where the built dashboard is: the configured directory, else the one beside this crate's
/// sources (a development checkout).
pub fn dashboard_dir(config: &Config) -> PathBuf {
    config.dashboard_dir.clone().map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboard/dist"),
        PathBuf::from,
    )
}

async fn not_built() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html(
            "<!doctype html><meta charset=utf-8><title>村记 · 督查看板</title>\
             <h1>督查看板尚未构建</h1><p>在 <code>sync-server/dashboard</code> 目录运行 \
             <code>npm ci &amp;&amp; npm run build</code>，或用 <code>CUNJI_DASHBOARD_DIR</code> \
             指向已构建的目录，然后重启服务。</p>\
             <p lang=en>The dashboard has not been built: run <code>npm ci &amp;&amp; npm run \
             build</code> in <code>sync-server/dashboard</code>, or point \
             <code>CUNJI_DASHBOARD_DIR</code> at a built copy, then restart the server.</p>",
        ),
    )
        .into_response()
}

#[tracing::instrument(skip_all, fields(login = ?req.login))]
pub(crate) async fn session(
    State(state): State<AppState>,
    address: super::auth::ClientAddress,
    super::Json(req): super::Json<SessionRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    let hours = state.config.web_session_hours;
    let public_key = match &req.public_key {
        Some(k) => Some(
            hex::decode(k)
                .ok()
                .filter(|k| k.len() == 32)
                .ok_or_else(|| ApiError::Malformed("public_key: 32 bytes, hex".into()))?,
        ),
        None => None,
    };
    let login = req.login.clone();
    let sign_in = super::auth::SignIn::start(&state, &login, address.0).await?;
    let _permit = state.password_permit().await?;
    let resp = async {
        let (login, password) = (req.login.clone(), req.password.clone());
        let checked = state
            .blocking(move |db| super::auth::authenticate(db, &login, &password))
            .await?;
        state
            .write(move |tx| {
                let account = super::auth::still_as_checked(tx, &checked)?;
                let division = if account.division.is_empty() {
                    Principal::web(account.clone()).home_village(tx)?
                } else {
                    Some(account.division.clone())
                };
                let (token, hash) = accounts::new_token();
                let expires = Utc::now() + Duration::hours(hours);
                // A session with a signing key is registered like a device (crate::approvals).
                let device_id = match &public_key {
                    Some(key) => {
                        let device_id = format!("web-{}", uuid::Uuid::now_v7());
                        tx.put_device(&DeviceRow {
                            device_id: device_id.clone(),
                            login: account.login.clone(),
                            actor: cunji_core::doc::new_actor().to_bytes().to_vec(),
                            public_key: key.clone(),
                            registered_ts: Utc::now().to_rfc3339(),
                            revoked_ts: None,
                        })?;
                        Some(device_id)
                    }
                    None => None,
                };
                tx.put_token(&TokenRow {
                    hash,
                    login: account.login.clone(),
                    device_id: device_id.clone().unwrap_or_default(),
                    expires_ts: expires.to_rfc3339(),
                    revoked: false,
                })?;
                Ok(SessionResponse {
                    token,
                    expires_at: expires.to_rfc3339(),
                    login: account.login,
                    name: account.name,
                    role: account.role.code().to_string(),
                    role_name: account.role.label_zh().to_string(),
                    role_name_en: account.role.label_en().to_string(),
                    division,
                    device_id,
                })
            })
            .await
    }
    .await;
    Ok(Json(sign_in.finish(resp)?))
}

#[tracing::instrument(skip_all, fields(login = %principal.login, id = ?id))]
pub(crate) async fn record(
    State(state): State<AppState>,
    principal: Principal,
    super::Path(id): super::Path<String>,
) -> Result<Json<RecordView>, ApiError> {
    let view = state
        .blocking(move |db| {
            db.read(|tx| {
                // Readable as the access table says (today's team, assignment or division);
                // a city office reads aggregates, not records; a team member only its own
                // attendance. A record the caller may not read is answered as one the server
                // does not hold, so the answer does not tell which ids exist.
                let not_found = || ApiError::NotFound(format!("记录 {id} / record {id}"));
                let row = tx.doc(&id)?.ok_or_else(not_found)?;
                let sight = match principal.sight(tx, accounts::RecordPlace::of(&row))? {
                    Some(s) if s != Sight::Aggregates => s,
                    _ => return Err(not_found()),
                };
                let masking = Masking::of(sight);
                let mut doc =
                    RecordDoc::load(&row.id, Some(&row.snapshot), &row.chunks, server_actor())
                        .map_err(|e| ApiError::Internal(format!("record {id}: {e}")))?;
                let json = doc.to_json();
                let (kind, household) = (row.kind, row.kind == Kind::Household);
                let mut record = json.get("data").cloned().unwrap_or(Value::Null);
                mask_json(kind, &mut record, masking);
                let meta = json.get("meta").cloned().unwrap_or(Value::Null);
                let history = doc
                    .history()
                    .map_err(|e| ApiError::Internal(format!("record {id}: {e}")))?
                    .into_iter()
                    .flat_map(|entry| {
                        let at = chrono::DateTime::from_timestamp_millis(entry.time_ms)
                            .map(|t| t.to_rfc3339());
                        entry.fields.into_iter().filter_map(move |f| {
                            // The envelope's own bookkeeping is in `meta`; show the record's
                            // fields, with their path below `data`.
                            let path = match f.path.split_first() {
                                Some((root, rest)) if root == "data" => rest.to_vec(),
                                _ => return None,
                            };
                            let mut old = f.old.unwrap_or(Value::Null);
                            let mut new = f.new.unwrap_or(Value::Null);
                            mask_at(kind, &path, &mut old, masking);
                            mask_at(kind, &path, &mut new, masking);
                            Some(HistoryView {
                                field: path.join("."),
                                old,
                                new,
                                cadre_id: entry.cadre_id.clone(),
                                device_id: entry.device_id.clone(),
                                at: at.clone(),
                                reason: entry.reason.clone(),
                            })
                        })
                    })
                    .collect();
                let mut masked = Vec::new();
                if masking.sensitive {
                    masked.push("sensitive".to_string());
                }
                if masking.household_pii && household {
                    masked.push("household_pii".to_string());
                }
                Ok(RecordView {
                    id: row.id.clone(),
                    kind: row.kind.code().to_string(),
                    scope: row
                        .village_code
                        .as_ref()
                        .map_or_else(|| "global".to_string(), |v| format!("village:{v}")),
                    server_received_ts: row.received_ts.clone(),
                    meta,
                    record,
                    history,
                    masked,
                })
            })
        })
        .await?;
    Ok(Json(view))
}

/// The dashboard's `src/divisions.ts`: the division levels and their code lengths, from
/// [`cunji_core::domain::ScopeLevel`]. Only its unit test calls it, to check or rewrite the file.
#[cfg(test)]
pub fn divisions_ts() -> String {
    use cunji_core::domain::ScopeLevel;
    let quoted: Vec<String> = ScopeLevel::ALL
        .iter()
        .map(|l| format!("'{}'", l.code()))
        .collect();
    let lens: Vec<String> = ScopeLevel::ALL
        .iter()
        .map(|l| format!("{}: {}", l.code(), l.code_len()))
        .collect();
    format!(
        "// Generated from cunji_core::domain::ScopeLevel by the sync server's unit test \
         `divisions_ts_is_current`\n\
         // (CUNJI_WRITE_BINDINGS=1 cargo test -p cunji-sync-server --lib divisions_ts). Do not edit.\n\
         \n\
         export type Level = {};\n\
         export const LEVELS: Level[] = [{}];\n\
         /** Digits of a division's code at each level. */\n\
         export const CODE_LEN: Record<Level, number> = {{ {} }};\n",
        quoted.join(" | "),
        quoted.join(", "),
        lens.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn divisions_ts_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboard/src/divisions.ts");
        if std::env::var_os("CUNJI_WRITE_BINDINGS").is_some() {
            std::fs::write(&path, divisions_ts()).expect("write divisions.ts");
        }
        assert_eq!(
            std::fs::read_to_string(&path).expect("read divisions.ts"),
            divisions_ts(),
            "{} is out of date: run CUNJI_WRITE_BINDINGS=1 cargo test -p cunji-sync-server --lib divisions_ts",
            path.display()
        );
    }

    const ABOVE: Masking = Masking {
        household_pii: false,
        sensitive: true,
    };
    const ORG: Masking = Masking {
        household_pii: true,
        sensitive: true,
    };

    #[test]
    fn numbers_health_and_coordinates_are_masked_above_the_township() {
        let mut v = json!({
            "bank_account": "6228480012345678901",
            "home_geo": {"lat": 25.1, "lon": 103.2},
            "members": {"m1": {"name": "张三", "id_no": "530322199001011234", "health": {"status": "healthy"}}}
        });
        mask_json(Kind::Household, &mut v, ABOVE);
        assert_eq!(v["bank_account"], "622************8901");
        assert_eq!(v["home_geo"], "***");
        assert_eq!(v["members"]["m1"]["id_no"], "530***********1234");
        assert_eq!(v["members"]["m1"]["health"], "***");
        assert_eq!(
            v["members"]["m1"]["name"], "张三",
            "names stay for the county office"
        );
    }

    #[test]
    fn the_organisation_department_also_loses_household_names_but_not_cadres() {
        let mut household = json!({"phone": "13812345678", "members": {"m1": {"name": "张三丰"}}});
        mask_json(Kind::Household, &mut household, ORG);
        assert_eq!(household["phone"], "138****5678");
        assert_eq!(household["members"]["m1"]["name"], "张**");
        let mut cadre = json!({"name": "李四", "phone": "13812345678"});
        mask_json(Kind::Cadre, &mut cadre, ORG);
        assert_eq!(cadre["name"], "李四");
    }

    #[test]
    fn a_history_value_is_masked_by_its_path() {
        let path = vec!["members".to_string(), "m1".into(), "id_no".into()];
        let mut v = json!("530322199001011234");
        mask_at(Kind::Household, &path, &mut v, ABOVE);
        assert_eq!(v, "530***********1234");
        let mut whole = json!({"name": "王五", "id_no": "530322199001011234"});
        mask_at(
            Kind::Household,
            &["members".to_string(), "m2".into()],
            &mut whole,
            ORG,
        );
        assert_eq!(whole, json!({"name": "王*", "id_no": "530***********1234"}));
        let mut untouched = json!(3);
        mask_at(
            Kind::Household,
            &["members".to_string(), "m1".into(), "age".into()],
            &mut untouched,
            ORG,
        );
        assert_eq!(untouched, json!(3));
    }
}

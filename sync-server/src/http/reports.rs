//! The supervisors' endpoints: `GET /v1/reports` (the list), `GET /v1/reports/{name}` (one
//! report as JSON, CSV or xlsx, see [`crate::reports`]) and `GET /v1/supervisor/pull` (a
//! scope's projection rows by cursor, [`crate::reports::supervise`]).

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::accounts::Principal;
use crate::error::ApiError;
use crate::reports;
use crate::state::AppState;

/// The reports and their parameters, for a dashboard to build its forms from.
pub(crate) async fn reports_index(_principal: Principal) -> Json<reports::list::ReportList> {
    Json(reports::list::list())
}

type QueryMap = std::collections::BTreeMap<String, String>;

/// A query string whose parameters are named once each: a repeated one is refused
/// (`bad_param`) rather than one of its values read and the other dropped.
pub(crate) fn query_of(uri: &axum::http::Uri) -> Result<QueryMap, ApiError> {
    let axum::extract::Query(pairs) =
        axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map_err(|e| ApiError::Malformed(format!("query string: {e}")))?;
    let mut map = QueryMap::new();
    for (name, value) in pairs {
        if map.contains_key(&name) {
            return Err(ApiError::BadParam {
                message: "只能给一次 / is given more than once".into(),
                name,
            });
        }
        map.insert(name, value);
    }
    Ok(map)
}

#[tracing::instrument(skip_all, fields(login = %principal.login, report = ?name))]
pub(crate) async fn report_handler(
    State(state): State<AppState>,
    principal: Principal,
    super::Path(name): super::Path<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let report: reports::ReportName = name.parse()?;
    let query = query_of(&uri)?;
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

#[tracing::instrument(skip_all, fields(login = %principal.login))]
pub(crate) async fn supervisor_pull(
    State(state): State<AppState>,
    principal: Principal,
    uri: axum::http::Uri,
) -> Result<Json<reports::supervise::PullPage>, ApiError> {
    let query = query_of(&uri)?;
    let page = state
        .blocking(move |db| {
            db.read(|tx| reports::supervise::pull(tx, &principal, &query).map_err(ApiError::from))
        })
        .await?;
    Ok(Json(page))
}

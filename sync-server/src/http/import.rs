//! The county office's import (issue 15, [`crate::import`]): `POST /v1/import` checks an
//! uploaded file (a dry run) or, with `commit=true`, writes it; `GET
//! /v1/import/templates/{kind}` gives the .xlsx template of a kind, and `GET
//! /v1/import/export/{kind}` the stored records of that kind in the same layout.
//!
//! The body is the file itself (`application/octet-stream`), its name in the `file` parameter
//! (`.xlsx` or `.csv`), read up to `max_body_bytes` like a sync body. One file per request: a
//! workbook holds all of a county's sheets; a CSV holds one sheet, so new households (which
//! need their 户 and 家庭成员 rows together) come as a workbook here, or as several CSV files
//! through the CLI's `import`. The answer is the import's report, with its problems, whether
//! or not it was written (`committed`).
//!
//! Who: the county poverty office, inside its county, and the administrator; the access table
//! then decides which sheets each may import. Not here: keeping an upload between the dry run
//! and the commit (the commit sends the file again and is checked again).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::accounts::{Principal, Role};
use crate::error::ApiError;
use crate::import::export::export;
use crate::import::template::{TemplateKind, template, workbook};
use crate::import::{FILE_NAME_MAX, ImportError, InputFile, Ran, Read, Report};
use crate::state::{AppState, Written};

fn may_import(principal: &Principal) -> Result<(), ApiError> {
    match principal.role {
        Role::Admin => Ok(()),
        Role::CountyOffice if !principal.division.is_empty() => Ok(()),
        _ => Err(ApiError::Forbidden(
            "只有县扶贫办和管理员可以导入数据 / only the county poverty office and administrators import data".into(),
        )),
    }
}

/// The `file` and `commit` parameters.
fn params(uri: &axum::http::Uri) -> Result<(String, bool), ApiError> {
    let query = super::reports::query_of(uri)?;
    if let Some(name) = query
        .keys()
        .find(|k| !matches!(k.as_str(), "file" | "commit"))
    {
        return Err(ApiError::UnknownParam(name.clone()));
    }
    let file = query.get("file").cloned().unwrap_or_default();
    let lower = file.to_lowercase();
    let named = !file.trim().is_empty()
        && file.chars().count() <= FILE_NAME_MAX
        && !file.chars().any(char::is_control)
        && (lower.ends_with(".xlsx") || lower.ends_with(".csv"));
    if !named {
        return Err(ApiError::BadParam {
            name: "file".into(),
            message: format!(
                "请给出文件名（.xlsx 或 .csv，最多 {FILE_NAME_MAX} 个字符） / the file's name, ending in .xlsx or .csv, at most {FILE_NAME_MAX} characters"
            ),
        });
    }
    let commit = match query.get("commit").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::BadParam {
                name: "commit".into(),
                message: "填 true 或 false / true or false".into(),
            });
        }
    };
    Ok((file, commit))
}

#[tracing::instrument(skip_all, fields(login = %principal.login))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    uri: axum::http::Uri,
    body: Body,
) -> Result<Json<Report>, ApiError> {
    may_import(&principal)?;
    let (name, commit) = params(&uri)?;
    let bytes = super::read_body(&state, body).await?;
    if bytes.is_empty() {
        return Err(ApiError::Malformed(
            "the body is the file to import, and it is empty".into(),
        ));
    }
    let login = principal.login.clone();
    let read = state
        .blocking(move |_| {
            Ok(Read::files(&[InputFile {
                name,
                bytes: bytes.to_vec(),
            }]))
        })
        .await?;
    // The plan reads the stored records and the merge writes them in one transaction, on the
    // writer thread like every write; a dry run's is rolled back.
    let report = state
        .write_or_discard(move |tx| {
            match read.run(tx, &login, commit).map_err(|e| match e {
                ImportError::Store(s) => ApiError::from(s),
                other => ApiError::Internal(other.to_string()),
            })? {
                Ran::Keep(r) => Ok(Written::Keep(r)),
                Ran::Discard(r) => Ok(Written::Discard(r)),
            }
        })
        .await?;
    tracing::info!(
        committed = report.committed,
        problems = report.problems.len(),
        changes = report.changes,
        "import"
    );
    Ok(Json(report))
}

fn kind_of(kind: &str, what: &str, what_en: &str) -> Result<TemplateKind, ApiError> {
    TemplateKind::from_code(kind).ok_or_else(|| {
        ApiError::NotFound(format!(
            "{what} {kind}（可用：{}） / {what_en} {kind} (one of {})",
            TemplateKind::CODES.join("、"),
            TemplateKind::CODES.join(", ")
        ))
    })
}

/// An .xlsx download named `name`.
fn xlsx(name: String, bytes: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

#[tracing::instrument(skip_all, fields(login = %principal.login, kind = ?kind))]
pub(crate) async fn template_file(
    principal: Principal,
    super::Path(kind): super::Path<String>,
) -> Result<Response, ApiError> {
    may_import(&principal)?;
    let k = kind_of(&kind, "模板", "template")?;
    let bytes = template(k).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(xlsx(format!("import-{kind}.xlsx"), bytes))
}

/// `GET /v1/import/export/{kind}`: the stored register in the import's layout, masked as the
/// caller reads it ([`crate::import::export`]).
#[tracing::instrument(skip_all, fields(login = %principal.login, kind = ?kind))]
pub(crate) async fn export_file(
    State(state): State<AppState>,
    principal: Principal,
    super::Path(kind): super::Path<String>,
) -> Result<Response, ApiError> {
    may_import(&principal)?;
    let k = kind_of(&kind, "导出", "export")?;
    let bytes = state
        .blocking(move |db| {
            let sheets = db.read(|tx| export(tx, &principal, k))?;
            workbook(&sheets).map_err(|e| ApiError::Internal(e.to_string()))
        })
        .await?;
    Ok(xlsx(format!("register-{kind}.xlsx"), bytes))
}

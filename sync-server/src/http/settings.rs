//! The county settings endpoints (`GET /v1/settings`, `GET`/`PUT /v1/settings/county/{code}`,
//! described in [`crate::settings`]) and who may manage a county's settings.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use chrono::Utc;
use cunji_core::domain::ScopeLevel;
use cunji_core::rules::{CountySettings, EffectiveSettings};

use crate::accounts::{Principal, Role};
use crate::error::ApiError;
use crate::settings::{county_of, effective};
use crate::state::AppState;
use crate::store::{SettingsRow, Tx};

/// Refuses anyone but `county`'s own poverty office and the administrator; then a county the
/// server does not know.
fn may_manage(tx: &mut dyn Tx, principal: &Principal, county: &str) -> Result<(), ApiError> {
    if county.len() != ScopeLevel::County.code_len() || !county.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(ApiError::BadParam {
            name: "code".into(),
            message: format!("县代码应为 6 位数字 / a county code is 6 digits, got `{county}`"),
        });
    }
    match principal.role {
        Role::Admin => {}
        Role::CountyOffice if principal.division == county => {}
        Role::CountyOffice => return Err(ApiError::OutOfScope(format!("county:{county}"))),
        _ => {
            return Err(ApiError::Forbidden(
                "只有县扶贫办和管理员可以查看和修改县级设置 / only the county poverty office and administrators manage county settings".into(),
            ));
        }
    }
    if !tx.county_known(county)? {
        return Err(ApiError::NotFound(format!("县 {county} / county {county}")));
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(login = %principal.login))]
pub(crate) async fn mine(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<EffectiveSettings>, ApiError> {
    let settings = state
        .blocking(move |db| {
            db.read(|tx| {
                let county = county_of(tx, &principal)?;
                Ok::<_, ApiError>(effective(tx, county.as_deref())?)
            })
        })
        .await?;
    Ok(Json(settings))
}

#[tracing::instrument(skip_all, fields(login = %principal.login, county = ?code))]
pub(crate) async fn get_county(
    State(state): State<AppState>,
    principal: Principal,
    super::Path(code): super::Path<String>,
) -> Result<Json<EffectiveSettings>, ApiError> {
    let settings = state
        .blocking(move |db| {
            db.read(|tx| {
                may_manage(tx, &principal, &code)?;
                Ok::<_, ApiError>(effective(tx, Some(&code))?)
            })
        })
        .await?;
    Ok(Json(settings))
}

#[tracing::instrument(skip_all, fields(login = %principal.login, county = ?code))]
pub(crate) async fn put_county(
    State(state): State<AppState>,
    principal: Principal,
    super::Path(code): super::Path<String>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<Json<EffectiveSettings>, ApiError> {
    super::require_json(&headers)?;
    let body = super::read_body_up_to(body, state.config.max_json_bytes).await?;
    let settings = state
        .write(move |tx| {
            may_manage(tx, &principal, &code)?;
            let settings =
                CountySettings::from_json(&body).map_err(|problems| match problems.first() {
                    Some(p) if p.field.is_empty() => ApiError::Malformed(p.message_en.clone()),
                    _ => ApiError::InvalidSettings(problems),
                })?;
            let json =
                serde_json::to_string(&settings).map_err(|e| ApiError::Internal(e.to_string()))?;
            tx.put_county_settings(&SettingsRow {
                county_code: code.clone(),
                settings_json: json,
                updated_by: principal.login.clone(),
                updated_ts: Utc::now().to_rfc3339(),
            })?;
            tracing::info!(county = %code, by = %principal.login, "county settings changed");
            Ok::<_, ApiError>(effective(tx, Some(&code))?)
        })
        .await?;
    Ok(Json(settings))
}

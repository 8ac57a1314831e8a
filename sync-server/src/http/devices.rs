//! An account's devices, and cutting one off (issue 14: a lost or stolen phone):
//! `GET /v1/accounts/{login}/devices` and `POST /v1/devices/{device_id}/revoke`, for the
//! administrator (within its division, if it has one) and the county poverty office (its
//! county's accounts). The `devices` and `revoke-device` commands do the same from the
//! server's shell. A device cut off keeps what it pushed; its tokens die at once and its
//! sign-in and sync are answered `device_revoked` (`http::auth`).
//!
//! An account is where its division is, or for a cadre where its teams' villages and its
//! assigned households are, of any date (`places_of`); the caller's division must hold one
//! of them. An account or device the caller may not manage is answered `404 not_found`, like
//! an unknown one.

use axum::Json;
use axum::extract::State;
use chrono::Utc;

use crate::accounts::{Principal, Role};
use crate::api::{DeviceList, DeviceRevoked, DeviceView};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Tx;

/// Refuses anyone but an administrator and a county poverty office; then an account outside
/// the caller's division, as if unknown.
fn may_manage(tx: &mut dyn Tx, principal: &Principal, login: &str) -> Result<(), ApiError> {
    if !matches!(principal.role, Role::Admin | Role::CountyOffice) {
        return Err(ApiError::Forbidden(
            "只有县扶贫办和管理员可以查看和停用手机 / only the county poverty office and administrators manage devices".into(),
        ));
    }
    let unknown = || ApiError::NotFound(format!("账号 {login} / account {login}"));
    let Some(account) = tx.account(login)? else {
        return Err(unknown());
    };
    if principal.role == Role::Admin && principal.division.is_empty() {
        return Ok(());
    }
    if principal.division.is_empty() {
        // A county office without a county manages nothing.
        return Err(unknown());
    }
    let places = places_of(tx, &account)?;
    if places.iter().any(|p| p.starts_with(&principal.division)) {
        Ok(())
    } else {
        Err(unknown())
    }
}

/// Where an account works: its division, or a cadre's team villages and its assigned
/// households' villages, of any date (a phone lost after the cadre moved on is still cut off
/// by the county it served).
fn places_of(tx: &mut dyn Tx, account: &crate::store::Account) -> Result<Vec<String>, ApiError> {
    let mut places = Vec::new();
    if !account.division.is_empty() {
        places.push(account.division.clone());
    }
    places.extend(tx.cadre_teams(&account.login)?.into_iter().map(|p| p.place));
    for p in tx.cadre_assignments(&account.login)? {
        places.extend(tx.household_village(&p.place)?);
    }
    Ok(places)
}

#[tracing::instrument(skip_all, fields(login = %principal.login, account = ?login))]
pub(crate) async fn list(
    State(state): State<AppState>,
    principal: Principal,
    super::Path(login): super::Path<String>,
) -> Result<Json<DeviceList>, ApiError> {
    let list = state
        .blocking(move |db| {
            db.read(|tx| {
                may_manage(tx, &principal, &login)?;
                let name = tx.account(&login)?.map(|a| a.name).unwrap_or_default();
                let devices = tx
                    .devices_of(&login)?
                    .into_iter()
                    .map(|d| DeviceView {
                        device_id: d.device_id,
                        registered_ts: d.registered_ts,
                        revoked_ts: d.revoked_ts,
                    })
                    .collect();
                Ok::<_, ApiError>(DeviceList {
                    login,
                    name,
                    devices,
                })
            })
        })
        .await?;
    Ok(Json(list))
}

#[tracing::instrument(skip_all, fields(login = %principal.login, device = ?device_id))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    super::Path(device_id): super::Path<String>,
) -> Result<Json<DeviceRevoked>, ApiError> {
    let done = state
        .write(move |tx| {
            let unknown = || ApiError::NotFound(format!("手机 {device_id} / device {device_id}"));
            let Some(device) = tx.device(&device_id)? else {
                // Who may not manage devices learns nothing of which exist.
                may_manage(tx, &principal, "")?;
                return Err(unknown());
            };
            may_manage(tx, &principal, &device.login).map_err(|e| match e {
                ApiError::NotFound(_) => unknown(),
                other => other,
            })?;
            let now = Utc::now().to_rfc3339();
            let newly = tx.revoke_device(&device_id, &now)?;
            let revoked_ts = if newly {
                now
            } else {
                device.revoked_ts.unwrap_or(now)
            };
            tracing::info!(device = ?device_id, account = ?device.login, newly, "device cut off");
            Ok::<_, ApiError>(DeviceRevoked {
                device_id,
                login: device.login,
                revoked_ts,
                already: !newly,
            })
        })
        .await?;
    Ok(Json(done))
}

//! The JSON bodies of the supervisors' API that are not reports: a browser's sign-in and
//! session, and one record with its edit history (`http::dashboard` answers them).
//!
//! Plain data, apart from the handlers, so that the OpenAPI document ([`crate::openapi`])
//! derives their schemas from these very structs ([`schemars`]) and the dashboard's
//! generated TypeScript types are what the server serialises.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most characters a login or a device id may have (neither may be empty or hold a
/// control character): what the sign-ins check and the OpenAPI document states.
pub const SIGN_IN_TEXT_MAX: usize = 128;

/// The OpenAPI pattern of a text without control characters (Unicode's Cc: U+0000–U+001F,
/// U+007F–U+009F, what `char::is_control` is true for).
pub const NO_CONTROL_CHARACTERS: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// Whether `s` is a login or device id the sign-ins take: 1 to [`SIGN_IN_TEXT_MAX`]
/// characters, none of them a control character.
pub fn sign_in_text_ok(s: &str) -> bool {
    !s.is_empty() && s.chars().count() <= SIGN_IN_TEXT_MAX && !s.chars().any(char::is_control)
}

/// A browser's sign-in: an account's login and password, and optionally the public key of a
/// signing key the browser made for the session (`crate::approvals`).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SessionRequest {
    #[schemars(schema_with = "login_schema")]
    pub login: String,
    pub password: String,
    /// The session's Ed25519 public key (32 bytes, hex): given, the session is registered
    /// like a device and may take approval steps, each signed by the browser's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "public_key_schema")]
    pub public_key: Option<String>,
}

fn public_key_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["string", "null"], "pattern": "^[0-9a-fA-F]{64}$"})
}

/// A browser session: a token that reads (reports, the supervisors' pull, records) but
/// cannot sync.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SessionResponse {
    /// The bearer token for `Authorization: Bearer <token>`.
    pub token: String,
    /// When the token stops working (RFC 3339).
    pub expires_at: String,
    pub login: String,
    /// The account holder's name.
    pub name: String,
    /// The role's code.
    #[schemars(schema_with = "role_schema")]
    pub role: String,
    /// The role as people read it, in Chinese.
    pub role_name: String,
    /// The role in English.
    pub role_name_en: String,
    /// The account's division code (a cadre's: their first village's); null for the
    /// administrator.
    pub division: Option<String>,
    /// The device registered for the session's key (`web-…`), null when no key was given.
    pub device_id: Option<String>,
}

fn login_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "minLength": 1, "maxLength": SIGN_IN_TEXT_MAX,
        "pattern": NO_CONTROL_CHARACTERS})
}

fn role_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "enum": cunji_core::domain::Role::CODES})
}

/// One record as a supervisor drills down to it: the merged record, its envelope and its
/// edit history, masked as the caller's role requires.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RecordView {
    pub id: String,
    /// The record's kind code (`household`, `visit`, …).
    pub kind: String,
    /// `village:<code>`, or `global` for reference data.
    pub scope: String,
    /// When the server first received the record (server clock, RFC 3339).
    pub server_received_ts: String,
    /// The record's envelope (DOMAIN §2): who made it, on which device, when.
    pub meta: Value,
    /// The merged record's fields, masked.
    pub record: Value,
    /// Every change of a field, oldest first.
    pub history: Vec<HistoryView>,
    /// What was masked: `sensitive` (ID and bank numbers, health, home coordinates) and
    /// `household_pii` (a household's names and phones).
    pub masked: Vec<String>,
}

/// One field's change in a record's history.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HistoryView {
    /// The field's dotted path within the record.
    pub field: String,
    /// The value before (null when the field was new), masked like the record.
    pub old: Value,
    /// The value after (null when the change removed it), masked like the record.
    pub new: Value,
    /// The cadre whose change it is.
    pub cadre_id: String,
    /// The device the change was made on.
    pub device_id: String,
    /// When the device made it (RFC 3339).
    pub at: Option<String>,
    /// The reason given for the change (may be empty).
    pub reason: String,
}

/// An account's devices (phones), for the county poverty office and the administrator to
/// find the one lost (`GET /v1/accounts/{login}/devices`).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DeviceList {
    pub login: String,
    /// The account holder's name.
    pub name: String,
    /// Oldest first.
    pub devices: Vec<DeviceView>,
}

/// One device of an account.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DeviceView {
    pub device_id: String,
    /// When it first signed in (RFC 3339).
    pub registered_ts: String,
    /// When it was cut off (RFC 3339); null while it may sync.
    pub revoked_ts: Option<String>,
}

/// A device cut off (`POST /v1/devices/{device_id}/revoke`): its tokens died at once, it can
/// neither sign in nor sync again (`device_revoked`); what it synced before stays.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DeviceRevoked {
    pub device_id: String,
    /// The account it was registered to.
    pub login: String,
    /// When it was cut off (RFC 3339): now, or the earlier time if it already was.
    pub revoked_ts: String,
    /// Whether it had been cut off before this request.
    pub already: bool,
}

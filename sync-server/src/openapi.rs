//! The OpenAPI 3 description of the server's HTTP API, served at `GET /v1/openapi.json`:
//! every endpoint of the router (`tests/tests/it/api_schemas.rs` compares the two lists),
//! each parameter with the bounds the server enforces, and every status each operation
//! answers with.
//!
//! Built from the same declarations the handlers use: each report's spec
//! ([`cunji_core::reports::spec::ReportSpec`] and its row type's columns) gives its
//! parameters (their [`ParamKind`]s are what the server parses them by), time basis, summary
//! and row fields; the
//! end-to-end test `tests/tests/it/reports.rs` checks every documented row field against real
//! responses, both ways, so the document cannot drift from the server unnoticed.
//!
//! The county settings endpoints ([`crate::settings`]) are described here too; a unit test
//! keeps their schema's fields equal to `CountySettings`'. The browser session, the report
//! list and the record view have their schemas derived from the structs the handlers
//! serialise ([`schemars`]); `tests/tests/it/api_schemas.rs` checks real answers against them.
//!
//! The error answers are listed per operation as the [`ApiError`]s its handler and extractors
//! can return ([`answers`]): their statuses, codes and headers come from the error type itself.
//! `scripts/schemathesis` fuzzes a real server from this document, once per role, and fails on
//! a server error, an undocumented status, header or content type, or a body that is not its
//! schema.
//!
//! Not here: the sync endpoints' message types (`/v1/sync/*` carry brotli(postcard) bodies of
//! [`cunji_core::sync::protocol`]), which are described as binary; their headers and statuses
//! are here. Nor the dashboard's page (`/dashboard/`), which is not an API.

use cunji_core::reports::spec::{ColumnType, Field, ParamKind};
use cunji_core::rules::visits::INTERVAL_DAYS;
use cunji_core::sync::protocol as wire;
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::api::{
    DeviceList, DeviceRevoked, NO_CONTROL_CHARACTERS, RecordView, SIGN_IN_TEXT_MAX, SessionRequest,
    SessionResponse,
};
use crate::approvals::{CommitStep, CommittedStep, PreparedStep, StepRequest, refusal_codes};
use crate::error::ApiError;
use crate::reports::ReportName;
use crate::reports::export::{CSV, XLSX};
use crate::reports::list::{ReportList, time_basis_codes};
use crate::reports::supervise::{DEFAULT_PAGE, MAX_PAGE};
use crate::store::StoreError;
use crate::todo::TodoList;

/// The schemas of the API's own JSON types, derived from the structs the handlers serialise
/// (OpenAPI 3.0 flavour, as serialised: an `Option` is a required, nullable field), added to
/// `schemas`; returns the references to the request and response types.
struct Derived {
    session_request: Value,
    session: Value,
    record: Value,
    report_list: Value,
    devices: Value,
    device_revoked: Value,
    step_request: Value,
    prepared_step: Value,
    commit_step: Value,
    committed_step: Value,
    todo: Value,
    sign_ledger: Value,
    submit_feedback: Value,
    import_report: Value,
}

fn derived(schemas: &mut serde_json::Map<String, Value>) -> Derived {
    let mut generator = SchemaSettings::openapi3().for_serialize().into_generator();
    let derived = Derived {
        session_request: generator.subschema_for::<SessionRequest>().to_value(),
        session: generator.subschema_for::<SessionResponse>().to_value(),
        record: generator.subschema_for::<RecordView>().to_value(),
        report_list: generator.subschema_for::<ReportList>().to_value(),
        devices: generator.subschema_for::<DeviceList>().to_value(),
        device_revoked: generator.subschema_for::<DeviceRevoked>().to_value(),
        step_request: generator.subschema_for::<StepRequest>().to_value(),
        prepared_step: generator.subschema_for::<PreparedStep>().to_value(),
        commit_step: generator.subschema_for::<CommitStep>().to_value(),
        committed_step: generator.subschema_for::<CommittedStep>().to_value(),
        todo: generator.subschema_for::<TodoList>().to_value(),
        sign_ledger: generator
            .subschema_for::<crate::ledger::SignLedger>()
            .to_value(),
        submit_feedback: generator
            .subschema_for::<crate::feedback::SubmitFeedback>()
            .to_value(),
        import_report: generator
            .subschema_for::<crate::import::Report>()
            .to_value(),
    };
    schemas.extend(generator.take_definitions(true));
    derived
}

/// An object schema from field declarations (a row's columns or a summary's fields, from the
/// report's spec).
fn object(fields: &[Field]) -> Value {
    let mut props = serde_json::Map::new();
    let mut required = Vec::new();
    for f in fields {
        let s = match (f.ty, f.schema) {
            (ColumnType::Array, Some(name)) => {
                json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{name}")}})
            }
            (ColumnType::Object, Some(name)) => {
                json!({"allOf": [{"$ref": format!("#/components/schemas/{name}")}]})
            }
            _ => {
                let mut s = json!({"type": f.ty.json(), "description": f.description});
                if f.nullable {
                    s["nullable"] = json!(true);
                }
                s
            }
        };
        props.insert(f.key.into(), s);
        required.push(f.key);
    }
    json!({"type": "object", "required": required, "properties": props})
}

fn basis_text(report: ReportName) -> &'static str {
    use cunji_core::reports::TimeBasis::*;
    match report.time_basis() {
        DeviceEventTime => {
            "Time basis: device event time (the check-in's or visit's own timestamp, as the device recorded it)."
        }
        RecordDates => "Time basis: record dates (dates entered as facts of the records).",
        DeviceEventAndServerReceived => {
            "Time basis: device event time for the visits, and server_received_ts (the server's receipt time) for entry delays."
        }
    }
}

/// The schema name of a report (`visit-coverage` → `VisitCoverage`).
pub fn schema_name(report: ReportName) -> String {
    report
        .path()
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// The responses of an operation: its success (`ok`, keyed by status) and the errors it may
/// answer with, as [`ApiError`]s. Each error's status, code and English message come from
/// [`ApiError::parts`], the very function that builds the answer, so a status cannot be
/// documented under another number than the server sends; each status's body schema names
/// its codes (`code` is one of them), and the headers some errors carry are listed with
/// them (`Retry-After` of `sign_in_throttled` and `rate_limited`, `Upgrade` of `update_required`).
fn answers(ok: Value, errors: &[ApiError]) -> Value {
    let mut by_status: std::collections::BTreeMap<u16, Vec<&ApiError>> = Default::default();
    for e in errors {
        by_status.entry(e.parts().0.as_u16()).or_default().push(e);
    }
    let mut responses = ok;
    for (status, errors) in by_status {
        let mut codes: Vec<&str> = Vec::new();
        let mut lines: Vec<String> = Vec::new();
        for e in &errors {
            let (_, code, _, message_en) = e.parts();
            if !codes.contains(&code) {
                codes.push(code);
            }
            let line = format!("`{code}`: {}", message_en.trim_end_matches([':', ' ']));
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
        let mut response = json!({
            "description": lines.join("; "),
            "content": {"application/json": {"schema": {"allOf": [
                {"$ref": "#/components/schemas/Error"},
                {"type": "object", "properties": {"code": {"type": "string", "enum": codes}}}
            ]}}}
        });
        let carry = |f: fn(&ApiError) -> bool| {
            let n = errors.iter().filter(|e| f(e)).count();
            (n > 0).then_some(n == errors.len())
        };
        if let Some(required) = carry(|e| {
            matches!(e, ApiError::SignInThrottled(_) | ApiError::RateLimited(_))
                || matches!(e, ApiError::Store(s) if s.is_unavailable())
        }) {
            response["headers"]["Retry-After"] = json!({
                "description": "seconds until the request is worth sending again (sign_in_throttled: sign-in; rate_limited: the caller's next request; database_unavailable: a few seconds)",
                "required": required, "schema": {"type": "integer", "minimum": 1}
            });
        }
        if let Some(required) = carry(|e| matches!(e, ApiError::UpdateRequired(_))) {
            response["headers"]["Upgrade"] = json!({
                "description": "the sync protocol to move to, `cunji-sync/<version>` (update_required)",
                "required": required, "schema": {"type": "string", "pattern": "^cunji-sync/[0-9]+$"}
            });
        }
        responses[status.to_string()] = response;
    }
    responses
}

/// A `200` JSON answer.
fn ok_json(description: &str, schema: Value) -> Value {
    json!({"200": {"description": description, "content": {"application/json": {"schema": schema}}}})
}

/// The store failing: `internal`, `database_unavailable` (no connection to be had for now), or
/// `server_full` where the operation writes and the disk is
/// full (the error's own test builds the same SQLite failure).
fn store_failure(writes: bool) -> Vec<ApiError> {
    let mut errors = vec![
        ApiError::Internal(String::new()),
        ApiError::Store(StoreError::Pool(String::new())),
    ];
    if writes {
        let full = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(13), None);
        errors.push(ApiError::Store(StoreError::Sqlite(full)));
    }
    errors
}

/// What every JSON endpoint may answer before its handler runs: a declared body over
/// `max_json_bytes` (refused for every route but the sync endpoints, whatever the method).
fn any_json_route() -> Vec<ApiError> {
    vec![ApiError::TooLarge]
}

/// What every endpoint that takes a bearer token may answer from the token's check
/// (`http::auth`): none or a malformed one, an unknown, expired or revoked one, a phone cut
/// off, the caller's rate limit.
fn signed_in() -> Vec<ApiError> {
    vec![
        ApiError::MissingToken,
        ApiError::BadToken,
        ApiError::DeviceRevoked(String::new()),
        ApiError::RateLimited(20),
    ]
}

/// A path parameter that is not UTF-8 once percent-decoded (axum's `Path` rejection).
fn bad_path() -> ApiError {
    ApiError::Malformed("a path segment is not UTF-8 once percent-decoded".into())
}

/// An authenticated JSON endpoint's errors: the declared-body limit, the token's check
/// ([`signed_in`]), then `more`, then the store's failures.
fn authenticated(more: Vec<ApiError>, writes: bool) -> Vec<ApiError> {
    let mut errors = any_json_route();
    errors.extend(signed_in());
    errors.extend(more);
    errors.extend(store_failure(writes));
    errors
}

/// A string parameter of the browser's and the phone's sign-in: `max` characters at most, at
/// least one, no control characters (what `http::auth` checks).
fn sign_in_text(max: usize, description: &str) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max,
        "pattern": NO_CONTROL_CHARACTERS, "description": description})
}

/// A report parameter's schema: its kind and bounds, as [`crate::reports`] reads it.
fn param_schema(kind: ParamKind) -> Value {
    match kind {
        ParamKind::Date => {
            json!({"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})
        }
        ParamKind::Month => json!({"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"}),
        ParamKind::Integer { min, max } => {
            json!({"type": "integer", "minimum": min, "maximum": max})
        }
        ParamKind::OneOf(values) => json!({"type": "integer", "enum": values}),
        ParamKind::Number { min, max } => json!({"type": "number", "minimum": min, "maximum": max}),
    }
}

const ONCE: &str = " Each parameter at most once: a repeated one is refused (bad_param).";

/// The OpenAPI 3 document.
///
/// A copy is checked in as `sync-server/openapi.json` for tools that read it offline (a
/// dashboard's type generator); a unit test keeps the two equal
/// (`CUNJI_WRITE_OPENAPI=1 cargo test -p cunji-sync-server openapi` rewrites the copy).
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    let scope = json!({
        "name": "scope", "in": "query", "required": true,
        "description": "village:<12 digits> | township:<9> | county:<6> | city:<4>; must lie within the caller's division",
        "schema": {"type": "string", "pattern": "^(village:[0-9]{12}|township:[0-9]{9}|county:[0-9]{6}|city:[0-9]{4})$"}
    });
    let format = json!({
        "name": "format", "in": "query", "required": false,
        "description": "json (default), csv (UTF-8 with BOM, Chinese headers) or xlsx; Accept: text/csv or the xlsx media type does the same",
        "schema": {"type": "string", "enum": ["json", "csv", "xlsx"]}
    });
    for report in ReportName::ALL {
        let name = schema_name(report);
        let mut params = vec![scope.clone(), format.clone()];
        for p in report.params() {
            let schema = param_schema(p.kind);
            params.push(json!({
                "name": p.name, "in": "query", "required": p.required,
                "description": p.description, "schema": schema,
            }));
        }
        schemas.insert(format!("{name}Row"), object(&report.row_fields()));
        schemas.insert(format!("{name}Summary"), object(report.spec().summary));
        schemas.insert(
            format!("{name}Report"),
            json!({"allOf": [
                {"$ref": "#/components/schemas/ReportDocument"},
                {"type": "object", "properties": {
                    "summary": {"$ref": format!("#/components/schemas/{name}Summary")},
                    "rows": {"type": "array", "items": {"$ref": format!("#/components/schemas/{name}Row")}}
                }}
            ]}),
        );
        let responses = answers(
            json!({"200": {
                "description": format!("{} ({})", report.title_zh(), basis_text(report)),
                "content": {
                    "application/json": {"schema": {"$ref": format!("#/components/schemas/{name}Report")}},
                    CSV.split(';').next().unwrap_or("text/csv"): {"schema": {"type": "string"}},
                    XLSX: {"schema": {"type": "string", "format": "binary"}}
                }
            }}),
            &query_errors(),
        );
        paths.insert(
            format!("/v1/reports/{}", report.path()),
            json!({"get": {
                "tags": ["reports"],
                "summary": format!("{}. {}", report.number(), report.title_zh()),
                "description": format!("DOMAIN §4 report {}. {}{ONCE}", report.number(), basis_text(report)),
                "operationId": format!("report{name}"),
                "security": [{"bearer": []}],
                "parameters": params,
                "responses": responses,
            }}),
        );
    }
    schemas.insert("ReportDocument".into(), json!({
        "type": "object",
        "required": ["report", "number", "title", "scope", "params", "time_basis", "time_basis_note", "time_basis_note_en", "generated_at", "masking", "summary", "rows"],
        "properties": {
            "report": {"type": "string", "description": "path name, e.g. visit-coverage"},
            "number": {"type": "integer", "description": "DOMAIN §4 number, 1–9"},
            "title": {"type": "string", "description": "Chinese title"},
            "scope": {"type": "string", "description": "<level>:<code>"},
            "params": {"type": "object", "additionalProperties": {"type": "string"}, "description": "parameters used, defaults filled in"},
            "time_basis": {"type": "string", "enum": time_basis_codes(), "description": "which clock the report's dates come from"},
            "time_basis_note": {"type": "string"},
            "time_basis_note_en": {"type": "string"},
            "generated_at": {"type": "string", "format": "date-time"},
            "masking": {"$ref": "#/components/schemas/Masking"},
            "summary": {"type": "object"},
            "rows": {"type": "array", "items": {"type": "object"}}
        }
    }));
    schemas.insert("Masking".into(), json!({
        "type": "object", "required": ["household_pii", "sensitive"],
        "properties": {
            "household_pii": {"type": "boolean", "description": "household names and phones masked (组织部, city)"},
            "sensitive": {"type": "boolean", "description": "ID/bank numbers, health data and home coordinates masked (above township)"}
        }
    }));
    schemas.insert(
        "GroupCount".into(),
        json!({
            "type": "object", "required": ["key", "label", "total", "count", "rate"],
            "properties": {
                "key": {"type": "string"}, "label": {"type": "string"},
                "total": {"type": "integer"}, "count": {"type": "integer"},
                "rate": {"type": "number", "nullable": true, "description": "count / total"}
            }
        }),
    );
    schemas.insert("LedgerSignatureStatus".into(), json!({
        "type": "object",
        "required": ["scope", "scope_name", "record_id", "by", "by_name", "at", "on_time", "due", "figures_changed", "figures_sha256", "current_sha256"],
        "properties": {
            "scope": {"type": "string", "description": "the signed village's or township's code"},
            "scope_name": {"type": "string", "nullable": true},
            "record_id": {"type": "string", "description": "the ledger_signature record"},
            "by": {"type": "string", "description": "the signer's login"},
            "by_name": {"type": "string", "nullable": true},
            "at": {"type": "string", "description": "when it was signed (RFC 3339, China's zone)"},
            "on_time": {"type": "boolean", "description": "signed by day ledger_due_day⚙ (10) of the next month"},
            "due": {"type": "string", "format": "date"},
            "figures_changed": {"type": "boolean", "description": "today's figures' hash differs from the signed one"},
            "figures_sha256": {"type": "string"}, "current_sha256": {"type": "string"}
        }
    }));
    schemas.insert("Tally".into(), json!({
        "type": "object",
        "required": ["surveyed", "satisfied", "fairly_satisfied", "dissatisfied", "cannot_say", "rate", "strict", "sample"],
        "properties": {
            "surveyed": {"type": "integer"}, "satisfied": {"type": "integer"},
            "fairly_satisfied": {"type": "integer"}, "dissatisfied": {"type": "integer"},
            "cannot_say": {"type": "integer"},
            "rate": {"type": "number", "nullable": true, "description": "(满意 + 基本满意) / surveyed"},
            "strict": {"type": "number", "nullable": true, "description": "满意 / surveyed"},
            "sample": {"type": "number", "nullable": true, "description": "surveyed / registered"}
        }
    }));
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object", "required": ["code", "message", "message_en"],
            "properties": {
                "code": {"type": "string", "description": "stable machine code"},
                "message": {"type": "string", "description": "中文说明,告诉用户下一步怎么做"},
                "message_en": {"type": "string"}
            }
        }),
    );
    schemas.insert("PullPage".into(), json!({
        "type": "object", "required": ["scope", "after", "next_cursor", "has_more", "masking", "records"],
        "properties": {
            "scope": {"type": "string"},
            "after": {"type": "integer"},
            "next_cursor": {"type": "integer", "description": "pass as `after` for the next page"},
            "has_more": {"type": "boolean"},
            "masking": {"$ref": "#/components/schemas/Masking"},
            "records": {"type": "array", "items": {"type": "object",
                "required": ["doc_id", "kind", "village_code", "server_received_ts", "seq", "tables"],
                "properties": {
                    "doc_id": {"type": "string"}, "kind": {"type": "string"},
                    "village_code": {"type": "string", "nullable": true, "description": "null for reference data"},
                    "server_received_ts": {"type": "string", "description": "when the server first received the record (server clock); device times are in the rows"},
                    "seq": {"type": "integer", "description": "sequence number of the record's latest change"},
                    "tables": {"type": "object", "description": "projection table → rows (column → value), masked",
                        "additionalProperties": {"type": "array", "items": {"type": "object"}}}
                }}}
        }
    }));
    let types = derived(&mut schemas);
    paths.insert(
        "/v1/reports".into(),
        json!({"get": {
            "tags": ["reports"], "summary": "The reports, their parameters, time bases and columns",
            "operationId": "listReports", "security": [{"bearer": []}],
            "responses": answers(
                ok_json("every report, in DOMAIN §4's order", types.report_list),
                &authenticated(vec![], false),
            )
        }}),
    );
    let mut session_errors = sign_in_errors();
    session_errors.retain(|e| !matches!(e, ApiError::DeviceConflict | ApiError::DeviceRevoked(_)));
    paths.insert("/v1/session".into(), json!({"post": {
        "tags": ["auth"], "summary": "Sign in from a browser (no device); returns a bearer token that reads (and manages county settings where the role does) but cannot sync",
        "description": "The token reads reports, the supervisors' pull and records for web_session_hours; the sync endpoints refuse it (device_required). Failed sign-ins lock the login and the address for a while that doubles (sign_in_throttled, with Retry-After).",
        "operationId": "session",
        "requestBody": {"required": true, "content": {"application/json": {"schema": types.session_request}}},
        "responses": answers(ok_json("the session", types.session), &session_errors)
    }}));
    let path_text = |name: &str, description: &str| {
        json!({"name": name, "in": "path", "required": true,
            "schema": {"type": "string", "minLength": 1}, "description": description})
    };
    paths.insert("/v1/records/{id}".into(), json!({"get": {
        "tags": ["supervisors"], "summary": "One record with its edit history, masked for the caller",
        "description": "Readable when the access table lets the caller read the record (today's team, assignment or division; not the city, which reads aggregates); reference data (no village) by every signed-in account. A record the caller may not read is answered like one the server does not hold (404).",
        "operationId": "record", "security": [{"bearer": []}],
        "parameters": [path_text("id", "the record's document id")],
        "responses": answers(
            ok_json("the record", types.record),
            &authenticated(vec![
                bad_path(),
                ApiError::NotFound("the record".into()),
                ApiError::Internal("a stored record that does not load".into()),
            ], false),
        )
    }}));
    let manages_devices = || {
        vec![
            bad_path(),
            ApiError::Forbidden(
                "only the county poverty office and administrators manage devices".into(),
            ),
        ]
    };
    let mut list_errors = manages_devices();
    list_errors.push(ApiError::NotFound(
        "no such account, or not one the caller manages: the account".into(),
    ));
    paths.insert("/v1/accounts/{login}/devices".into(), json!({"get": {
        "tags": ["supervisors"], "summary": "An account's devices (phones), to find a lost one",
        "description": "The administrator (within its division, if it has one) and the county poverty office (its county's accounts: by division, or a cadre's by its team's village or assigned households). An account the caller may not manage is answered like an unknown one.",
        "operationId": "devices", "security": [{"bearer": []}],
        "parameters": [path_text("login", "the account's login")],
        "responses": answers(
            ok_json("the account's devices, oldest first", types.devices),
            &authenticated(list_errors, false),
        )
    }}));
    let mut revoke_errors = manages_devices();
    revoke_errors.push(ApiError::NotFound(
        "no such device, or not one the caller manages: the device".into(),
    ));
    paths.insert("/v1/devices/{device_id}/revoke".into(), json!({"post": {
        "tags": ["supervisors"], "summary": "Cut a lost or stolen phone off",
        "description": "Its tokens die at once; it can neither sign in nor sync again (403 device_revoked); what it synced before stays. The cadre signs in on a new phone. Who may: as for the account's devices. Idempotent: a device already cut off keeps its time (already: true). No body.",
        "operationId": "revokeDevice", "security": [{"bearer": []}],
        "parameters": [path_text("device_id", "the device's id, from the account's devices")],
        "responses": answers(
            ok_json("the device, cut off", types.device_revoked),
            &authenticated(revoke_errors, true),
        )
    }}));
    approval_paths(
        &mut paths,
        [
            types.step_request,
            types.prepared_step,
            types.commit_step,
            types.committed_step,
            types.todo,
            types.sign_ledger,
            types.submit_feedback,
        ],
    );
    import_paths(&mut paths, types.import_report.clone());
    paths.insert("/v1/supervisor/pull".into(), json!({"get": {
        "tags": ["supervisors"],
        "summary": "Incremental pull of a scope's merged projection rows (supervisors)",
        "description": format!("Records changed after `after` (the server's change sequence), in the order of their latest change, with their current rows in every projection table of their kind; reference data included. Masked as the caller's role requires; refused (out_of_scope) to the roles that read no records of a division (the city, the phones' roles). Time basis: each record carries server_received_ts (server clock) beside the device times in its rows.{ONCE}"),
        "operationId": "supervisorPull", "security": [{"bearer": []}],
        "parameters": [
            scope,
            {"name": "after", "in": "query", "required": false, "schema": {"type": "integer", "format": "int64", "minimum": 0, "maximum": i64::MAX}, "description": "cursor; 0 (the default) for everything"},
            {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "description": format!("records per page; default {DEFAULT_PAGE}")}
        ],
        "responses": answers(
            json!({"200": {"description": "a page of records changed after the cursor",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PullPage"}}}}}),
            &query_errors(),
        )
    }}));
    let hex = |bytes: &str| format!("^([0-9a-fA-F]{{2}}){{{bytes}}}$");
    paths.insert("/v1/login".into(), json!({"post": {
        "tags": ["auth"], "summary": "Sign in and register this device; returns a bearer token",
        "description": "A device signs in once online: the first sign-in registers the device id with its actor and public key, later ones must bring the same. Failed sign-ins lock the login and the address for a while that doubles (sign_in_throttled, with Retry-After).",
        "operationId": "login",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
            "required": ["login", "password", "device_id", "actor", "public_key"],
            "properties": {
                "login": sign_in_text(SIGN_IN_TEXT_MAX, "the account's login"),
                "password": {"type": "string"},
                "device_id": {"type": "string", "minLength": 1, "maxLength": SIGN_IN_TEXT_MAX,
                    // No control character, and one at least that is not white space either
                    // (Rust's `char::is_whitespace`, which `trim` removes).
                    "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000-\\u001f\\u007f-\\u009f]*$",
                    "description": "the device's own id: not only white space, no control characters"},
                "actor": {"type": "string", "pattern": hex("1,32"), "description": "the device's Automerge actor id, hex, 1–32 bytes"},
                "public_key": {"type": "string", "pattern": hex("32"), "description": "the device's Ed25519 public key, hex, 32 bytes"}
            }}}}},
        "responses": answers(
            ok_json("the device's token", login_response_schema()),
            &sign_in_errors(),
        )
    }}));
    sync_paths(&mut paths);
    paths.insert("/healthz".into(), json!({"get": {
        "tags": ["meta"], "summary": "Whether the server and its store answer", "operationId": "healthz",
        "responses": answers(
            ok_json("the store answered", json!({"type": "object", "required": ["status", "backend", "changes"],
                "additionalProperties": false,
                "properties": {
                    "status": {"type": "string", "enum": ["ok"]},
                    "backend": {"type": "string", "enum": ["sqlite", "postgres"]},
                    "changes": {"type": "integer", "minimum": 0, "description": "the server's change sequence"}
                }})),
            &any_json_route().into_iter().chain(store_failure(false)).collect::<Vec<_>>(),
        )
    }}));
    paths.insert("/metrics".into(), json!({"get": {
        "tags": ["meta"], "summary": "Prometheus metrics (administrators; none needed on metrics_listen)",
        "operationId": "metrics", "security": [{"bearer": []}],
        "responses": answers(
            json!({"200": {"description": "Prometheus text format",
                "content": {"text/plain": {"schema": {"type": "string"}}}}}),
            &authenticated(vec![
                ApiError::Forbidden("only administrators read the server's metrics".into()),
                ApiError::NotFound("the metrics recorder (not enabled)".into()),
            ], false),
        )
    }}));
    settings_paths(&mut paths, &mut schemas);
    paths.insert("/v1/openapi.json".into(), json!({"get": {
        "tags": ["meta"], "summary": "This document", "operationId": "openapi",
        "responses": answers(
            ok_json("OpenAPI 3", json!({"type": "object", "required": ["openapi", "info", "paths", "components"]})),
            &any_json_route(),
        )
    }}));
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Cunji 村记 sync server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Supervisors' reports (DOMAIN §4) and pulls, and the counties' ⚙ settings. Every request but sign-in and this document needs `Authorization: Bearer <token>` from /v1/login (a device) or /v1/session (a browser). Errors are {code, message (Chinese), message_en}; each operation lists every status it answers with and its codes. A path the server does not serve is answered 404 unknown_route, a method a path does not take 405 method_not_allowed (with Allow). The devices' sync endpoints (/v1/sync/*) carry brotli(postcard) bodies (cunji_core::sync::protocol), described here as binary."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas
        },
        "paths": paths
    })
}

/// What the reports and the supervisors' pull answer besides their rows: a parameter missing,
/// malformed, out of its bounds, repeated or unknown, a scope the caller may not read.
fn query_errors() -> Vec<ApiError> {
    authenticated(
        vec![
            ApiError::BadParam {
                name: "<name>".into(),
                message: "missing, malformed, out of its bounds or given twice".into(),
            },
            ApiError::UnknownParam("<name>".into()),
            ApiError::Malformed("the query string".into()),
            ApiError::OutOfScope("<scope>".into()),
        ],
        false,
    )
}

/// What the sign-ins (`/v1/login`, `/v1/session`) may answer: `http::auth::SignIn` and the
/// body's checks; a browser's leaves out the device's two.
fn sign_in_errors() -> Vec<ApiError> {
    let mut errors = any_json_route();
    errors.extend([
        ApiError::Malformed("the body is not JSON of the documented shape".into()),
        ApiError::WrongContentType("application/json"),
        ApiError::BadLogin,
        ApiError::DeviceConflict,
        ApiError::DeviceRevoked(String::new()),
        ApiError::SignInThrottled(1),
    ]);
    errors.extend(store_failure(true));
    errors
}

/// `POST /v1/login`'s answer ([`cunji_core::sync::protocol::LoginResponse`], which has no
/// schema of its own: a unit test keeps these fields equal to what it serialises).
fn login_response_schema() -> Value {
    json!({
        "type": "object", "required": ["token", "expires_at", "cadre_id", "role"],
        "additionalProperties": false,
        "properties": {
            "token": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "the bearer token for `Authorization: Bearer <token>`"},
            "expires_at": {"type": "string", "format": "date-time", "description": "when the token stops working (RFC 3339)"},
            "cadre_id": {"type": "string", "description": "the account's login"},
            "role": {"type": "string", "enum": cunji_core::domain::Role::CODES}
        }
    })
}

/// The county office's import (`http::import`, [`crate::import`]).
fn import_paths(paths: &mut serde_json::Map<String, Value>, report: Value) {
    let who = || {
        ApiError::Forbidden("only the county poverty office and administrators import data".into())
    };
    paths.insert("/v1/import".into(), json!({"post": {
        "tags": ["supervisors"],
        "summary": "Check (dry run) or import a county's registers from one .xlsx or .csv file",
        "description": "The county poverty office (inside its county) and the administrator. The body is the file; every row is checked before anything is written, and a file with any problem writes nothing (the report lists each: file, sheet, row, column, value, code, Chinese and English). Without commit=true nothing is written either; with it, the changes are merged as the caller's own (a device of its own per import). Re-importing applies only differences, with the reason 导入更新：<file>; records the file no longer lists are reported (missing), never deleted. The answer is the report, committed or not. Sheets and columns: the templates. The body is read up to max_body_bytes.",
        "operationId": "importFile", "security": [{"bearer": []}],
        "parameters": [
            {"name": "file", "in": "query", "required": true, "description": "the file's name, ending in .xlsx or .csv (the edits' reason names it)",
                "schema": {"type": "string", "minLength": 1, "maxLength": crate::import::FILE_NAME_MAX, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*\\.([xX][lL][sS][xX]|[cC][sS][vV])$"}},
            {"name": "commit", "in": "query", "required": false, "description": "true writes the changes; false or absent is a dry run",
                "schema": {"type": "string", "enum": ["true", "false"]}}
        ],
        "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
        "responses": answers(
            ok_json("what the import found and (committed: true) did", report),
            &authenticated(vec![
                who(),
                ApiError::UnknownParam("a parameter other than file and commit".into()),
                ApiError::BadParam { name: "file or commit".into(), message: String::new() },
                ApiError::Malformed("the query string, or an empty body".into()),
            ], true),
        )
    }}));
    paths.insert("/v1/import/templates/{kind}".into(), json!({"get": {
        "tags": ["supervisors"],
        "summary": "The .xlsx template of an import",
        "description": "Its sheets with their headers (required ones marked *), a sheet explaining every column (填表说明) and the code lists (代码表), which the code columns take as drop-down validation. Who: as for the import.",
        "operationId": "importTemplate", "security": [{"bearer": []}],
        "parameters": [{"name": "kind", "in": "path", "required": true, "description": "which template",
            "schema": {"type": "string", "enum": crate::import::template::TemplateKind::CODES}}],
        "responses": answers(
            json!({"200": {"description": "the template",
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}}),
            &authenticated(vec![
                bad_path(),
                who(),
                ApiError::NotFound("no such template".into()),
            ], false),
        )
    }}));
    paths.insert("/v1/import/export/{kind}".into(), json!({"get": {
        "tags": ["supervisors"],
        "summary": "The stored register back as an .xlsx in the import's layout",
        "description": "The sheets of the template of the same kind, filled with the stored records the caller may read (its county for the county poverty office), so that importing the file unchanged changes nothing. What the caller reads masked (ID and bank numbers, health, home coordinates) is written masked, coordinates left empty; an import keeps the stored value of a masked cell that masks it and refuses one that does not (masked_value). Who: as for the import.",
        "operationId": "importExport", "security": [{"bearer": []}],
        "parameters": [{"name": "kind", "in": "path", "required": true, "description": "which sheets, as for the templates",
            "schema": {"type": "string", "enum": crate::import::template::TemplateKind::CODES}}],
        "responses": answers(
            json!({"200": {"description": "the register",
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}}),
            &authenticated(vec![
                bad_path(),
                who(),
                ApiError::NotFound("no such kind".into()),
            ], false),
        )
    }}));
}

/// The devices' sync endpoints (`http::sync`): brotli(postcard) messages of
/// [`cunji_core::sync::protocol`] both ways, described as binary, with their headers and
/// every status they answer with.
fn sync_paths(paths: &mut serde_json::Map<String, Value>) {
    let version = json!({"name": wire::PROTOCOL_HEADER, "in": "header", "required": false,
        "description": "the sync protocol version of the request (1 when absent); an older one than the server speaks is answered update_required, a newer one protocol_too_new",
        "schema": {"type": "integer", "minimum": wire::OLDEST_PROTOCOL, "maximum": wire::PROTOCOL_VERSION}});
    let device_time = json!({"name": wire::DEVICE_TIME_HEADER, "in": "header", "required": false,
        "description": "the device's clock (RFC 3339) when it sent the request, for the clock offset the answer carries; ignored when unreadable",
        "schema": {"type": "string"}});
    for (name, summary, clock, writes) in [
        (
            "push",
            "Push signed changes; each is accepted, a duplicate, held or rejected",
            true,
            true,
        ),
        (
            "pull",
            "Pull the changes the device may read that it lacks",
            true,
            false,
        ),
        (
            "repair",
            "Repair documents by Automerge sync messages",
            false,
            true,
        ),
        (
            "heads",
            "The heads of the documents the device may read",
            false,
            false,
        ),
        (
            "unreadable",
            "Which of the device's documents it may no longer read",
            false,
            false,
        ),
    ] {
        let mut params = vec![version.clone()];
        if clock {
            params.push(device_time.clone());
        }
        let mut errors = signed_in();
        errors.extend([
            ApiError::Malformed(format!(
                "{} is not a version number, or the body is not a message of this endpoint",
                wire::PROTOCOL_HEADER
            )),
            ApiError::UpdateRequired(0),
            ApiError::ProtocolTooNew(0),
            ApiError::DeviceRequired,
            ApiError::TooLarge,
            ApiError::WrongContentType(wire::CONTENT_TYPE),
        ]);
        if name == "push" {
            errors.push(ApiError::BatchTooLarge(0));
        }
        errors.extend(store_failure(writes));
        paths.insert(format!("/v1/sync/{name}"), json!({"post": {
            "tags": ["sync"], "summary": summary,
            "description": "A device's token only (a browser session is refused: device_required). The body is read up to max_body_bytes, decoded up to max_decoded_bytes.",
            "operationId": format!("sync{}{}", name[..1].to_uppercase(), &name[1..]),
            "security": [{"bearer": []}],
            "parameters": params,
            "requestBody": {"required": true, "content": {wire::CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
            "responses": answers(
                json!({"200": {"description": "the answer, in the request's protocol version",
                    "headers": {wire::PROTOCOL_HEADER: {"required": true, "schema": {"type": "integer"}, "description": "the version the answer is in"}},
                    "content": {wire::CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}}}}),
                &errors,
            )
        }}));
    }
}

/// The county settings endpoints ([`crate::settings`]) and their schemas.
/// The approval steps (`crate::approvals`) and the to-do lists (`crate::todo`).
fn approval_paths(paths: &mut serde_json::Map<String, Value>, types: [Value; 7]) {
    let [
        step_request,
        prepared_step,
        commit_step,
        committed_step,
        todo,
        sign_ledger,
        submit_feedback,
    ] = types;
    let step_errors = |path: bool| {
        let mut errors = vec![
            ApiError::WrongContentType("application/json"),
            ApiError::Malformed("the body is not a step, or a field is not as described".into()),
            ApiError::SigningKeyRequired,
        ];
        if path {
            errors.push(bad_path());
            errors.push(ApiError::NotFound("the record".into()));
        }
        errors.extend(refusal_codes().map(|code| ApiError::Refused {
            code,
            message: String::new(),
            message_en: "the checks refused the step (the message says why and what to do)".into(),
        }));
        authenticated(errors, true)
    };
    paths.insert("/v1/records/{id}/steps".into(), json!({"post": {
        "tags": ["approvals"], "summary": "Compose a reviewer's step on a record (approve leave, review a log, a case's step, accept a visit, a petition's step, answer a feedback) for the session's key to sign",
        "description": "The session must have signed in with public_key. The server composes the change with the session's actor, runs every check on it and stores nothing: a refusal is answered here (422, with the rule's code). Sign signing_input with the session's Ed25519 key and send it to POST /v1/steps.",
        "operationId": "prepareStep", "security": [{"bearer": []}],
        "parameters": [{"name": "id", "in": "path", "required": true,
            "schema": {"type": "string", "minLength": 1}, "description": "the record's document id"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": step_request}}},
        "responses": answers(ok_json("the change to sign", prepared_step.clone()), &step_errors(true))
    }}));
    paths.insert("/v1/ledgers/sign".into(), json!({"post": {
        "tags": ["approvals"], "summary": "Compose the township's signature of an attendance ledger (report 1) for the session's key to sign",
        "description": "The session must have signed in with public_key. The server computes the scope's figures for the month now (report 1 as of the month's last day, the core's canonical form, SHA-256), composes a new ledger_signature record with the session's actor, runs every check on it and stores nothing: only a township inside its division signs (out_of_scope), once per scope and month (ledger_already_signed), a month that is over (month_not_over). Sign signing_input and send it to POST /v1/steps, which checks the figures again (figures_changed: reload and sign again).",
        "operationId": "signLedger", "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": sign_ledger}}},
        "responses": answers(ok_json("the signature's change to sign", prepared_step.clone()), &step_errors(false))
    }}));
    paths.insert("/v1/feedback".into(), json!({"post": {
        "tags": ["approvals"], "summary": "Compose the signed-in account's 投诉建议 (feedback) for the session's key to sign",
        "description": "The session must have signed in with public_key. The server composes a new feedback record in the account's name, placed in the county it lies in today (no_county for the city and city-wide accounts), runs every check on it and stores nothing. Sign signing_input and send it to POST /v1/steps. Its author, its county's poverty office and the administrator read it; nobody else. The county office answers it with the step feedback_answer.",
        "operationId": "submitFeedback", "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": submit_feedback}}},
        "responses": answers(ok_json("the feedback's change to sign", prepared_step), &step_errors(false))
    }}));
    paths.insert("/v1/steps".into(), json!({"post": {
        "tags": ["approvals"], "summary": "Store a step signed by the session's key",
        "description": "Checked like a phone's push: the signature must be the session key's over the change (bad_signature), then every rule again (the record may have moved on since the step was composed).",
        "operationId": "commitStep", "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": commit_step}}},
        "responses": answers(ok_json("the stored step", committed_step), &step_errors(false))
    }}));
    paths.insert("/v1/todo".into(), json!({"get": {
        "tags": ["approvals"], "summary": "The signed-in role's 待办: what waits for its step, with counts and ids",
        "operationId": "todo", "security": [{"bearer": []}],
        "responses": answers(ok_json("the lists", todo), &authenticated(vec![], false))
    }}));
}

fn settings_paths(
    paths: &mut serde_json::Map<String, Value>,
    schemas: &mut serde_json::Map<String, Value>,
) {
    let int = |min: i64, max: i64, description: &str| json!({"type": "integer", "minimum": min, "maximum": max, "description": description});
    schemas.insert("CountySettings".into(), json!({
        "type": "object",
        "description": "A county's ⚙ settings (DOMAIN). Every field is optional in a PUT: a missing one takes DOMAIN's default; an unknown one is refused.",
        "additionalProperties": false,
        "properties": {
            "check_in_photo": {"type": "string", "enum": ["off", "optional", "required"], "description": "whether the phone's check-in offers (optional) or requires a photo; off by default (DOMAIN compliance caution)"},
            "rules": {"type": "object", "additionalProperties": false, "properties": {
                "attendance": {"type": "object", "additionalProperties": false, "properties": {
                    "required_days": int(1, 31, "R1: in-village days required in a full month (20)"),
                    "count_official_days": {"type": "boolean", "description": "R1: 公务外出 days count (true)"},
                    "min_checkins": int(1, 10, "R2: valid check-ins for a 在村 day (1)"),
                    "window_start": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$", "description": "R2: check-in window start, local time (06:00:00)"},
                    "window_end": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$", "description": "R2: check-in window end, after the start (22:00:00)"},
                    "max_clock_drift_s": int(0, 86_400, "R2: largest clock drift in seconds (600)"),
                    "sick_leave_grace_days": int(0, 31, "R3: sick leave may be requested this many days after it starts (2)"),
                    "township_max_leave_days": int(1, 366, "R3: leave up to this many days is approved by the township (3)"),
                    "ledger_due_day": int(1, 28, "report 1: the township signs month M's ledger, and the 组织部 receives it, by this day of M+1 (10)")
                }},
                "visits": {"type": "object", "additionalProperties": false, "properties": {
                    "interval_days": int(INTERVAL_DAYS.0, INTERVAL_DAYS.1, "R5: longest gap between counting visits (60)")
                }},
                "adjustment": {"type": "object", "additionalProperties": false, "properties": {
                    "quarterly_months": {"type": "array", "items": int(1, 12, "a month"), "minItems": 1, "uniqueItems": true, "description": "R13: months in which inclusions and data changes (新识别纳入, 返贫纳入, 成员自然增减) are opened ([1, 4, 7, 10])"},
                    "annual_months": {"type": "array", "items": int(1, 12, "a month"), "minItems": 1, "uniqueItems": true, "description": "R13: months in which exits (标注脱贫, 清退, 自然销户) are opened ([10])"},
                    "poverty_lines": {"type": "array", "description": "R12: the county's poverty lines, each from an income year on; empty: the national line of each year", "items": {"type": "object", "required": ["from_year", "line"], "additionalProperties": false, "properties": {
                        "from_year": int(2000, 2100, "the first income year the line applies to"),
                        "line": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,2})?$", "description": "yuan per person-year"}
                    }}}
                }}
            }}
        }
    }));
    schemas.insert("EffectiveSettings".into(), json!({
        "type": "object",
        "required": ["county_code", "source", "updated_ts", "updated_by", "settings"],
        "properties": {
            "county_code": {"type": "string", "nullable": true, "description": "6 digits; null when the account has no county (admin, city)"},
            "source": {"type": "string", "enum": ["default", "county"], "description": "default: the county set nothing, DOMAIN's defaults apply"},
            "updated_ts": {"type": "string", "format": "date-time", "nullable": true},
            "updated_by": {"type": "string", "nullable": true, "description": "login of the last change"},
            "settings": {"$ref": "#/components/schemas/CountySettings"}
        }
    }));
    let ok = |description: &str| {
        ok_json(
            description,
            json!({"$ref": "#/components/schemas/EffectiveSettings"}),
        )
    };
    paths.insert(
        "/v1/settings".into(),
        json!({"get": {
            "tags": ["settings"],
            "summary": "The caller's county's ⚙ settings (phones fetch them after each sync)",
            "operationId": "mySettings", "security": [{"bearer": []}],
            "responses": answers(
                ok("the county's settings, or the defaults (source: default)"),
                &authenticated(vec![], false),
            )
        }}),
    );
    let code = json!({"name": "code", "in": "path", "required": true,
        "description": "county code, 6 digits", "schema": {"type": "string", "pattern": "^[0-9]{6}$"}});
    let responses = |verb_ok: &str, put: bool| {
        let mut errors = vec![
            bad_path(),
            ApiError::BadParam {
                name: "code".into(),
                message: "a county code is 6 digits".into(),
            },
            ApiError::Forbidden(
                "only the county poverty office and administrators manage county settings".into(),
            ),
            ApiError::OutOfScope("another county".into()),
            ApiError::NotFound(
                "no village or account of that county on this server: the county".into(),
            ),
        ];
        if put {
            errors.extend([
                ApiError::WrongContentType("application/json"),
                ApiError::Malformed("the body is not a JSON object".into()),
                ApiError::InvalidSettings(vec![]),
            ]);
        }
        answers(ok(verb_ok), &authenticated(errors, put))
    };
    paths.insert("/v1/settings/county/{code}".into(), json!({
        "get": {
            "tags": ["settings"], "summary": "A county's ⚙ settings (县扶贫办, admin)",
            "operationId": "countySettings", "security": [{"bearer": []}],
            "parameters": [code.clone()],
            "responses": responses("the county's settings, or the defaults (source: default)", false)
        },
        "put": {
            "tags": ["settings"], "summary": "Replace a county's ⚙ settings (县扶贫办, admin); the change is kept in the county's history",
            "operationId": "putCountySettings", "security": [{"bearer": []}],
            "parameters": [code],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CountySettings"}}}},
            "responses": responses("the settings now in force", true)
        }
    }));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `v` with every object's keys in sorted order. Whether serde_json keeps insertion
    /// order depends on its `preserve_order` feature, which other crates of the workspace
    /// (thirtyfour, tauri's schemars) turn on in a whole-workspace build: the checked-in file
    /// is written in sorted order so it is the same bytes either way.
    fn sorted(v: Value) -> Value {
        match v {
            Value::Object(map) => {
                let mut entries: Vec<(String, Value)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
            }
            Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
            other => other,
        }
    }

    #[test]
    fn the_checked_in_openapi_json_is_the_served_document() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
        let served = serde_json::to_string_pretty(&sorted(document())).unwrap() + "\n";
        if std::env::var_os("CUNJI_WRITE_OPENAPI").is_some() {
            std::fs::write(path, &served).unwrap();
        }
        let checked_in = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            checked_in == served,
            "sync-server/openapi.json is out of date: run CUNJI_WRITE_OPENAPI=1 cargo test -p cunji-sync-server openapi"
        );
    }

    /// The settings schema lists exactly the fields `CountySettings` serialises.
    #[test]
    fn the_settings_schema_has_every_settings_field() {
        fn paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
            if let Some(map) = v.as_object() {
                for (k, v) in map {
                    out.push(format!("{prefix}{k}"));
                    paths(v, &format!("{prefix}{k}."), out);
                }
            }
        }
        fn schema_paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
            if let Some(map) = v["properties"].as_object() {
                for (k, v) in map {
                    out.push(format!("{prefix}{k}"));
                    schema_paths(v, &format!("{prefix}{k}."), out);
                }
            }
        }
        let mut served = Vec::new();
        paths(
            &serde_json::to_value(cunji_core::rules::CountySettings::default()).unwrap(),
            "",
            &mut served,
        );
        let mut documented = Vec::new();
        schema_paths(
            &document()["components"]["schemas"]["CountySettings"],
            "",
            &mut documented,
        );
        served.sort();
        documented.sort();
        assert_eq!(served, documented);
    }

    /// The sign-in's answer is documented field for field, as the protocol's type serialises.
    #[test]
    fn the_login_answer_schema_has_every_field_of_the_protocols_type() {
        let served = serde_json::to_value(wire::LoginResponse {
            token: "0".repeat(64),
            expires_at: "2026-01-01T00:00:00+00:00".into(),
            cadre_id: "c".into(),
            role: "team_member".into(),
        })
        .unwrap();
        let mut served: Vec<&String> = served.as_object().unwrap().keys().collect();
        let schema = login_response_schema();
        let mut documented: Vec<&String> =
            schema["properties"].as_object().unwrap().keys().collect();
        served.sort();
        documented.sort();
        assert_eq!(served, documented);
    }

    /// Each error status is documented under the number the server sends, with its codes, and
    /// the throttled sign-in's wait as a header.
    #[test]
    fn error_answers_take_status_code_and_headers_from_the_error_itself() {
        let doc = document();
        let login = &doc["paths"]["/v1/login"]["post"]["responses"];
        let codes = |r: &Value| {
            r["content"]["application/json"]["schema"]["allOf"][1]["properties"]["code"]["enum"]
                .clone()
        };
        assert_eq!(codes(&login["429"]), json!(["sign_in_throttled"]));
        assert_eq!(
            login["429"]["headers"]["Retry-After"]["required"],
            json!(true)
        );
        assert_eq!(codes(&login["413"]), json!(["too_large"]));
        assert_eq!(codes(&login["415"]), json!(["wrong_content_type"]));
        assert_eq!(codes(&login["403"]), json!(["device_revoked"]));
        let push = &doc["paths"]["/v1/sync/push"]["post"]["responses"];
        assert_eq!(codes(&push["426"]), json!(["update_required"]));
        assert_eq!(push["426"]["headers"]["Upgrade"]["required"], json!(true));
        assert_eq!(codes(&push["413"]), json!(["too_large", "batch_too_large"]));
        assert_eq!(codes(&push["507"]), json!(["server_full"]));
        assert_eq!(codes(&push["415"]), json!(["wrong_content_type"]));
        assert_eq!(codes(&push["429"]), json!(["rate_limited"]));
        assert_eq!(
            push["429"]["headers"]["Retry-After"]["required"],
            json!(true)
        );
        assert_eq!(codes(&push["503"]), json!(["database_unavailable"]));
        assert_eq!(
            push["503"]["headers"]["Retry-After"]["required"],
            json!(true)
        );
        let record = &doc["paths"]["/v1/records/{id}"]["get"]["responses"];
        assert_eq!(
            codes(&record["403"]),
            json!(["device_revoked"]),
            "an unreadable record is a 404"
        );
        assert!(record.get("422").is_none());
    }

    #[test]
    fn every_report_has_row_and_summary_schemas() {
        let doc = document();
        for r in ReportName::ALL {
            let name = schema_name(r);
            for suffix in ["Row", "Summary", "Report"] {
                assert!(doc["components"]["schemas"][format!("{name}{suffix}")].is_object());
            }
        }
    }
}

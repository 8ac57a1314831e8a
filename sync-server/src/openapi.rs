//! The OpenAPI 3 description of the server's JSON API, served at `GET /v1/openapi.json`.
//!
//! Built from the same declarations the handlers use: each report's spec
//! ([`cunji_core::reports::spec::ReportSpec`] and its row type's columns) gives its
//! parameters, time basis, summary and row fields; the
//! end-to-end test `tests/tests/it/reports.rs` checks every documented row field against real
//! responses, both ways, so the document cannot drift from the server unnoticed.
//!
//! The county settings endpoints ([`crate::settings`]) are described here too; a unit test
//! keeps their schema's fields equal to `CountySettings`'. The browser session, the report
//! list and the record view have their schemas derived from the structs the handlers
//! serialise ([`schemars`]); `tests/tests/it/api_schemas.rs` checks real answers against them.
//!
//! Not here: the devices' binary sync endpoints (`/v1/sync/*`, brotli(postcard) bodies, see
//! [`cunji_core::sync::protocol`]), listed only by name.

use cunji_core::reports::spec::{ColumnType, Field};
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::api::{DeviceList, DeviceRevoked, RecordView, SessionRequest, SessionResponse};
use crate::reports::ReportName;
use crate::reports::export::{CSV, XLSX};
use crate::reports::list::{ReportList, time_basis_codes};

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

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn errors() -> Value {
    json!({
        "400": error_response("bad_param / unknown_param / malformed: a parameter is missing, unknown or malformed"),
        "401": error_response("missing_token / bad_token: sign in again"),
        "403": error_response("out_of_scope: the account may not read that scope"),
        "429": error_response("rate_limited"),
    })
}

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
            let schema = match p.kind {
                "date" => json!({"type": "string", "format": "date"}),
                "month" => json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}),
                "integer" => json!({"type": "integer"}),
                _ => json!({"type": "number"}),
            };
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
        let mut responses = errors();
        responses["200"] = json!({
            "description": format!("{} ({})", report.title_zh(), basis_text(report)),
            "content": {
                "application/json": {"schema": {"$ref": format!("#/components/schemas/{name}Report")}},
                CSV.split(';').next().unwrap_or("text/csv"): {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}}
            }
        });
        paths.insert(
            format!("/v1/reports/{}", report.path()),
            json!({"get": {
                "tags": ["reports"],
                "summary": format!("{}. {}", report.number(), report.title_zh()),
                "description": format!("DOMAIN §4 report {}. {}", report.number(), basis_text(report)),
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
            "responses": {"200": {"description": "every report, in DOMAIN §4's order",
                "content": {"application/json": {"schema": types.report_list}}},
                "401": error_response("missing_token / bad_token: sign in again")}
        }}),
    );
    paths.insert("/v1/session".into(), json!({"post": {
        "tags": ["auth"], "summary": "Sign in from a browser (no device); returns a bearer token that reads (and manages county settings where the role does) but cannot sync",
        "description": "The token reads reports, the supervisors' pull and records for web_session_hours; the sync endpoints refuse it (device_required).",
        "operationId": "session",
        "requestBody": {"required": true, "content": {"application/json": {"schema": types.session_request}}},
        "responses": {"200": {"description": "the session",
            "content": {"application/json": {"schema": types.session}}},
            "400": error_response("malformed: the body is not a login and password"),
            "401": error_response("bad_login: wrong login or password"),
            "429": error_response("rate_limited")}
    }}));
    paths.insert("/v1/records/{id}".into(), json!({"get": {
        "tags": ["supervisors"], "summary": "One record with its edit history, masked for the caller",
        "description": "Readable when the caller may read the record's village (the reports' rule); reference data (no village) by every signed-in account.",
        "operationId": "record", "security": [{"bearer": []}],
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "the record's document id"}],
        "responses": {"200": {"description": "the record",
            "content": {"application/json": {"schema": types.record}}},
            "401": error_response("missing_token / bad_token: sign in again"),
            "403": error_response("out_of_scope: the account may not read the record's village"),
            "404": error_response("not_found: no such record")}
    }}));
    paths.insert("/v1/accounts/{login}/devices".into(), json!({"get": {
        "tags": ["supervisors"], "summary": "An account's devices (phones), to find a lost one",
        "description": "The administrator (within its division, if it has one) and the county poverty office (its county's accounts: by division, or a cadre's by its team's village or assigned households). An account the caller may not manage is answered like an unknown one.",
        "operationId": "devices", "security": [{"bearer": []}],
        "parameters": [{"name": "login", "in": "path", "required": true, "schema": {"type": "string"}, "description": "the account's login"}],
        "responses": {"200": {"description": "the account's devices, oldest first",
            "content": {"application/json": {"schema": types.devices}}},
            "401": error_response("missing_token / bad_token: sign in again"),
            "403": error_response("forbidden: only the county poverty office and administrators manage devices; device_revoked: the caller's own device was cut off"),
            "404": error_response("not_found: no such account, or not one the caller manages")}
    }}));
    paths.insert("/v1/devices/{device_id}/revoke".into(), json!({"post": {
        "tags": ["supervisors"], "summary": "Cut a lost or stolen phone off",
        "description": "Its tokens die at once; it can neither sign in nor sync again (403 device_revoked); what it synced before stays. The cadre signs in on a new phone. Who may: as for the account's devices. Idempotent: a device already cut off keeps its time (already: true).",
        "operationId": "revokeDevice", "security": [{"bearer": []}],
        "parameters": [{"name": "device_id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "the device's id, from the account's devices"}],
        "responses": {"200": {"description": "the device, cut off",
            "content": {"application/json": {"schema": types.device_revoked}}},
            "401": error_response("missing_token / bad_token: sign in again"),
            "403": error_response("forbidden: only the county poverty office and administrators manage devices"),
            "404": error_response("not_found: no such device, or not one the caller manages")}
    }}));
    let mut pull_responses = errors();
    pull_responses["200"] = json!({"description": "a page of records changed after the cursor",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PullPage"}}}});
    paths.insert("/v1/supervisor/pull".into(), json!({"get": {
        "tags": ["supervisors"],
        "summary": "Incremental pull of a scope's merged projection rows (supervisors)",
        "description": "Records changed after `after` (the server's change sequence), in the order of their latest change, with their current rows in every projection table of their kind; reference data included. Masked as the caller's role requires. Time basis: each record carries server_received_ts (server clock) beside the device times in its rows.",
        "operationId": "supervisorPull", "security": [{"bearer": []}],
        "parameters": [
            scope,
            {"name": "after", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0}, "description": "cursor; 0 for everything"},
            {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 5000}, "description": "records per page; default 500"}
        ],
        "responses": pull_responses
    }}));
    paths.insert("/v1/login".into(), json!({"post": {
        "tags": ["auth"], "summary": "Sign in and register this device; returns a bearer token",
        "operationId": "login",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
            "required": ["login", "password", "device_id", "actor", "public_key"],
            "properties": {"login": {"type": "string"}, "password": {"type": "string"},
                "device_id": {"type": "string"}, "actor": {"type": "string", "description": "hex, 1–32 bytes"},
                "public_key": {"type": "string", "description": "hex Ed25519 public key"}}}}}},
        "responses": {"200": {"description": "{token, expires_at, cadre_id, role}",
            "content": {"application/json": {"schema": {"type": "object"}}}},
            "401": error_response("bad_login"), "409": error_response("device_conflict")}
    }}));
    settings_paths(&mut paths, &mut schemas);
    paths.insert("/v1/openapi.json".into(), json!({"get": {
        "tags": ["meta"], "summary": "This document", "operationId": "openapi",
        "responses": {"200": {"description": "OpenAPI 3", "content": {"application/json": {"schema": {"type": "object"}}}}}
    }}));
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Cunji 村记 sync server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Supervisors' reports (DOMAIN §4) and pulls, and the counties' ⚙ settings. Every request but sign-in and this document needs `Authorization: Bearer <token>` from /v1/login (a device) or /v1/session (a browser). Errors are {code, message, message_en}. The devices' sync endpoints (/v1/sync/push, pull, heads, repair, unreadable) carry brotli(postcard) bodies and are not described here."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas
        },
        "paths": paths
    })
}

/// The county settings endpoints ([`crate::settings`]) and their schemas.
fn settings_paths(
    paths: &mut serde_json::Map<String, Value>,
    schemas: &mut serde_json::Map<String, Value>,
) {
    let int = |min: i64, max: i64, description: &str| json!({"type": "integer", "minimum": min, "maximum": max, "description": description});
    schemas.insert("CountySettings".into(), json!({
        "type": "object",
        "description": "A county's ⚙ settings (DOMAIN). Every field is optional in a PUT: a missing one takes DOMAIN's default; an unknown one is refused.",
        "properties": {
            "check_in_photo": {"type": "string", "enum": ["off", "optional", "required"], "description": "whether the phone's check-in offers (optional) or requires a photo; off by default (DOMAIN compliance caution)"},
            "rules": {"type": "object", "properties": {
                "attendance": {"type": "object", "properties": {
                    "required_days": int(1, 31, "R1: in-village days required in a full month (20)"),
                    "count_official_days": {"type": "boolean", "description": "R1: 公务外出 days count (true)"},
                    "min_checkins": int(1, 10, "R2: valid check-ins for a 在村 day (1)"),
                    "window_start": {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}(:[0-9]{2})?$", "description": "R2: check-in window start, local time (06:00:00)"},
                    "window_end": {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}(:[0-9]{2})?$", "description": "R2: check-in window end, after the start (22:00:00)"},
                    "max_clock_drift_s": int(0, 86_400, "R2: largest clock drift in seconds (600)"),
                    "sick_leave_grace_days": int(0, 31, "R3: sick leave may be requested this many days after it starts (2)"),
                    "township_max_leave_days": int(1, 366, "R3: leave up to this many days is approved by the township (3)")
                }},
                "visits": {"type": "object", "properties": {
                    "interval_days": int(1, 366, "R5: longest gap between counting visits (60)")
                }},
                "adjustment": {"type": "object", "properties": {
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
        json!({"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EffectiveSettings"}}}})
    };
    paths.insert("/v1/settings".into(), json!({"get": {
        "tags": ["settings"],
        "summary": "The caller's county's ⚙ settings (phones fetch them after each sync)",
        "operationId": "mySettings", "security": [{"bearer": []}],
        "responses": {"200": ok("the county's settings, or the defaults (source: default)"),
            "401": error_response("missing_token / bad_token"), "429": error_response("rate_limited")}
    }}));
    let code = json!({"name": "code", "in": "path", "required": true,
        "description": "county code, 6 digits", "schema": {"type": "string", "pattern": "^[0-9]{6}$"}});
    let responses = |verb_ok: &str, put: bool| {
        let mut r = json!({
            "200": ok(verb_ok),
            "400": error_response("bad_param: the code is not 6 digits; malformed: the body is not JSON"),
            "401": error_response("missing_token / bad_token"),
            "403": error_response("forbidden: only the county poverty office (county_office) and admin; out_of_scope: another county's office"),
            "404": error_response("not_found: no village or account of that county on this server"),
            "429": error_response("rate_limited"),
        });
        if put {
            r["422"] = error_response(
                "invalid_settings: fields out of range, of the wrong type or unknown, each named",
            );
        }
        r
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

//! The OpenAPI document describes what the server answers: a browser session, the report
//! list and a record with its history are checked against the schemas the served document
//! gives for them (every required field present, no field the schema does not name, types,
//! nullability and enums), on a real server over HTTP. The dashboard's TypeScript types are
//! generated from the same document, so this is what holds them to the server.
#![allow(clippy::unwrap_used)]

use cunji_core::domain::{Household, Record, Village};
use cunji_sync_server::accounts::Role;
use cunji_sync_server::records::{Provenance, create_with};
use cunji_sync_server::store::StoreError;
use cunji_tests::{Backend, PASSWORD, TestServer, household};
use serde_json::{Value, json};

/// Checks `value` against `schema` (the subset of OpenAPI 3.0 schemas the document uses),
/// resolving `$ref`s in `doc`; returns every mismatch with its path.
fn check(doc: &Value, schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        assert!(!target.is_null(), "{path}: dangling reference {r}");
        return check(doc, target, value, path, out);
    }
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            check(doc, s, value, path, out);
        }
    }
    if value.is_null() {
        if schema.get("type").is_some() && schema["nullable"] != json!(true) {
            out.push(format!("{path}: null, but the schema is not nullable"));
        }
        return;
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        out.push(format!("{path}: {value} is not one of {options:?}"));
    }
    let fits = match schema["type"].as_str() {
        None => true,
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some("array") => value.is_array(),
        Some("object") => value.is_object(),
        Some(other) => panic!("{path}: schema type {other} is not handled here"),
    };
    if !fits {
        out.push(format!("{path}: {value} is not a {}", schema["type"]));
        return;
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            check(doc, items, v, &format!("{path}[{i}]"), out);
        }
    }
    if let (Some(props), Some(fields)) = (schema["properties"].as_object(), value.as_object()) {
        for key in schema["required"].as_array().into_iter().flatten() {
            let key = key.as_str().unwrap();
            if !fields.contains_key(key) {
                out.push(format!("{path}.{key}: required, but missing"));
            }
        }
        for (key, v) in fields {
            match props.get(key) {
                Some(s) => check(doc, s, v, &format!("{path}.{key}"), out),
                None if schema.get("additionalProperties").is_none() => {
                    out.push(format!("{path}.{key}: not in the schema"));
                }
                None => {}
            }
        }
    }
}

/// The schema of `path`'s `method` answer with status `status` (JSON).
fn response_schema<'a>(doc: &'a Value, path: &str, method: &str, status: &str) -> &'a Value {
    let s =
        &doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"];
    assert!(!s.is_null(), "{method} {path} {status} has no JSON schema");
    s
}

fn conforms(doc: &Value, schema: &Value, value: &Value, what: &str) {
    let mut problems = Vec::new();
    check(doc, schema, value, what, &mut problems);
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}

#[test]
fn session_report_list_and_record_answers_match_the_openapi_document() {
    for backend in Backend::available() {
        let server = TestServer::start(backend);
        server.account("town", Role::Township, "530322101");
        server.account("admin", Role::Admin, "");
        let (village_id, household_id) = server
            .db
            .write(|tx| {
                let p = Provenance::now("admin", "测试数据");
                let village = Village {
                    code: "530322101201".into(),
                    township_code: "530322101".into(),
                    name: "新庄村".into(),
                    ..Village::example()
                };
                let mut h: Household = household(1);
                h.village_code = village.code.clone();
                let v = create_with(tx, &p, &village).unwrap();
                let h = create_with(tx, &p, &h).unwrap();
                Ok::<_, StoreError>((v, h))
            })
            .unwrap();
        let http = reqwest::blocking::Client::new();
        let doc: Value = http
            .get(format!("{}/v1/openapi.json", server.url))
            .send()
            .unwrap()
            .json()
            .unwrap();

        // A browser session, for an account with a division and for the administrator
        // (division null).
        let mut token = String::new();
        for login in ["town", "admin"] {
            let resp = http
                .post(format!("{}/v1/session", server.url))
                .json(&json!({"login": login, "password": PASSWORD}))
                .send()
                .unwrap();
            assert_eq!(resp.status().as_u16(), 200, "{login}");
            let session: Value = resp.json().unwrap();
            let schema = response_schema(&doc, "/v1/session", "post", "200");
            conforms(&doc, schema, &session, &format!("session of {login}"));
            if login == "town" {
                assert_eq!(session["role"], "township");
                assert_eq!(session["role_name"], "乡镇");
                assert_eq!(session["division"], "530322101");
                token = session["token"].as_str().unwrap().to_string();
            } else {
                assert_eq!(session["division"], Value::Null);
            }
        }
        let get = |path: &str| -> Value {
            let resp = http
                .get(format!("{}{path}", server.url))
                .bearer_auth(&token)
                .send()
                .unwrap();
            assert_eq!(resp.status().as_u16(), 200, "{path}");
            resp.json().unwrap()
        };

        // The report list: every report, each with its English title and its columns.
        let list = get("/v1/reports");
        let schema = response_schema(&doc, "/v1/reports", "get", "200");
        conforms(&doc, schema, &list, "report list");
        let reports = list["reports"].as_array().unwrap();
        assert_eq!(reports.len(), 9);
        for r in reports {
            let name = r["report"].as_str().unwrap();
            assert!(
                doc["paths"][format!("/v1/reports/{name}")].is_object(),
                "{name} is listed and documented"
            );
            assert!(!r["columns"].as_array().unwrap().is_empty(), "{name}");
        }

        // A household (a village's, with history) and reference data (no village).
        for (id, kind) in [
            (&household_id, Household::KIND),
            (&village_id, Village::KIND),
        ] {
            let view = get(&format!("/v1/records/{id}"));
            let schema = response_schema(&doc, "/v1/records/{id}", "get", "200");
            conforms(&doc, schema, &view, &format!("record {}", kind.code()));
            assert_eq!(view["id"], json!(id));
            assert_eq!(view["kind"], kind.code());
            assert!(!view["history"].as_array().unwrap().is_empty());
        }

        // An account's devices and one cut off, as the administrator's session sees them:
        // the township's account signs in on a phone first.
        let phone = http
            .post(format!("{}/v1/login", server.url))
            .json(&json!({
                "login": "town", "password": PASSWORD, "device_id": "town-phone",
                "actor": "0102030405060708090a0b0c0d0e0f10", "public_key": "11".repeat(32),
            }))
            .send()
            .unwrap();
        assert_eq!(phone.status().as_u16(), 200);
        let admin: Value = http
            .post(format!("{}/v1/session", server.url))
            .json(&json!({"login": "admin", "password": PASSWORD}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let admin = admin["token"].as_str().unwrap().to_string();
        let devices = |expect_revoked: bool| {
            let list: Value = http
                .get(format!("{}/v1/accounts/town/devices", server.url))
                .bearer_auth(&admin)
                .send()
                .unwrap()
                .json()
                .unwrap();
            let schema = response_schema(&doc, "/v1/accounts/{login}/devices", "get", "200");
            conforms(&doc, schema, &list, "devices");
            assert_eq!(list["devices"][0]["device_id"], "town-phone");
            assert_eq!(list["devices"][0]["revoked_ts"].is_string(), expect_revoked);
        };
        devices(false);
        let cut = http
            .post(format!("{}/v1/devices/town-phone/revoke", server.url))
            .bearer_auth(&admin)
            .send()
            .unwrap();
        assert_eq!(cut.status().as_u16(), 200);
        let cut: Value = cut.json().unwrap();
        let schema = response_schema(&doc, "/v1/devices/{device_id}/revoke", "post", "200");
        conforms(&doc, schema, &cut, "device cut off");
        assert_eq!(
            (&cut["login"], &cut["already"]),
            (&json!("town"), &json!(false))
        );
        devices(true);
    }
}

#[test]
fn the_check_finds_missing_unknown_mistyped_and_null_fields() {
    let doc = json!({"components": {"schemas": {"S": {
        "type": "object", "required": ["a", "b"],
        "properties": {
            "a": {"type": "string", "enum": ["x"]},
            "b": {"type": "integer", "nullable": true},
            "c": {"type": "array", "items": {"type": "boolean"}}
        }
    }}}});
    let schema = json!({"$ref": "#/components/schemas/S"});
    let mut ok = Vec::new();
    check(
        &doc,
        &schema,
        &json!({"a": "x", "b": null, "c": [true]}),
        "v",
        &mut ok,
    );
    assert!(ok.is_empty(), "{ok:?}");
    let mut bad = Vec::new();
    check(
        &doc,
        &schema,
        &json!({"a": "y", "c": [1], "d": 1}),
        "v",
        &mut bad,
    );
    bad.sort();
    assert_eq!(
        bad,
        [
            "v.a: \"y\" is not one of [String(\"x\")]",
            "v.b: required, but missing",
            "v.c[0]: 1 is not a \"boolean\"",
            "v.d: not in the schema",
        ]
    );
    let mut null = Vec::new();
    check(
        &doc,
        &json!({"type": "string"}),
        &Value::Null,
        "n",
        &mut null,
    );
    assert_eq!(null, ["n: null, but the schema is not nullable"]);
}

/// Every endpoint the router serves is in the OpenAPI document under its method (a report
/// under its own path), none is documented that it does not serve, and the ones that take a
/// token say so and document the token's refusals.
#[test]
fn the_openapi_document_describes_every_endpoint_and_only_those() {
    let doc = cunji_sync_server::openapi::document();
    let mut served: Vec<(String, bool)> = Vec::new();
    for e in cunji_sync_server::endpoints() {
        if e.path == "/v1/reports/{name}" {
            for r in cunji_sync_server::reports::ReportName::ALL {
                served.push((format!("GET /v1/reports/{}", r.path()), e.authenticated));
            }
        } else {
            served.push((format!("{} {}", e.method, e.path), e.authenticated));
        }
    }
    let mut documented: Vec<(String, bool)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let signed_in = op["security"] == json!([{"bearer": []}]);
            documented.push((format!("{} {path}", method.to_uppercase()), signed_in));
            if signed_in {
                let codes = &op["responses"]["401"]["content"]["application/json"]["schema"]["allOf"]
                    [1]["properties"]["code"]["enum"];
                assert_eq!(
                    codes,
                    &json!(["missing_token", "bad_token"]),
                    "{method} {path}"
                );
            }
        }
    }
    served.sort();
    documented.sort();
    assert_eq!(served, documented);
}

//! The attendance ledger's signature end to end (issue 16 item 6, `sync-server/src/ledger.rs`):
//! the township signs a village's last month from a browser session whose own Ed25519 key
//! signs the record the server composes; report 1 shows it (on time, figures changed after a
//! late check-in), the export carries the signature lines, the 待办 lists move, and the wrong
//! role, a township outside its division, a second signature and a forged hash are refused
//! with their codes, nothing stored. On SQLite, and PostgreSQL when `CUNJI_TEST_POSTGRES_URL`
//! is set.
#![allow(clippy::unwrap_used)]

use chrono::{Datelike, Duration};
use cunji_core::domain::{CheckIn, LedgerSignature, Record, Village};
use cunji_sync_server::accounts::today;
use cunji_tests::{Backend, Device};
use serde_json::{Value, json};

use super::approvals::{COUNTY, Clerk, MEMBER, ORG, OTHER_TOWNSHIP, TOWNSHIP, count, world};

/// The ledger of `scope` for `month`, prepared, signed with the clerk's key and stored: the
/// record's id, or the refusal's (status, code) at either call.
fn sign(clerk: &Clerk, scope: &str, month: &str) -> Result<String, (u16, String)> {
    let (status, prepared) = clerk.call(
        "POST",
        "/v1/ledgers/sign",
        Some(json!({"scope": scope, "month": month})),
    );
    if status != 200 {
        return Err((status, prepared["code"].as_str().unwrap().into()));
    }
    assert!(prepared["summary"].as_str().unwrap().contains("考勤台账"));
    let id = prepared["record_id"].as_str().unwrap().to_string();
    let (status, done) = clerk.commit(&id, &prepared);
    if status != 200 {
        return Err((status, done["code"].as_str().unwrap().into()));
    }
    assert_eq!(done["outcome"], "accepted");
    Ok(id)
}

fn ledger_list(todo: &Value, list: &str) -> Vec<Value> {
    todo["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["list"] == list)
        .unwrap_or_else(|| panic!("no {list} in {todo}"))["ledgers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn the_township_signs_a_villages_month() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let village = Village::example().code;
        let first = (today().with_day0(0).unwrap() - Duration::days(1))
            .with_day0(0)
            .unwrap();
        let month = first.format("%Y-%m").to_string();
        // The member checked in on the month's 3rd.
        let mut c = CheckIn::example();
        c.cadre_id = MEMBER.into();
        c.ts = format!("{}T08:00:00+08:00", first + Duration::days(2))
            .parse()
            .unwrap();
        w.member.store.create(&w.member.author("打卡"), &c).unwrap();
        assert_eq!(w.member.sync().unwrap().rejected, 0);

        let town = Clerk::sign_in(&w.server, TOWNSHIP);
        let org = Clerk::sign_in(&w.server, ORG);
        let todo = town.todo();
        assert_eq!(
            todo["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["list"] == "ledgers_to_sign")
                .unwrap()["month"],
            month
        );
        let to_sign: Vec<String> = ledger_list(&todo, "ledgers_to_sign")
            .iter()
            .map(|l| l["scope"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(to_sign, [village[..9].to_string(), village.clone()]);
        assert_eq!(count(&org.todo(), "ledgers_received"), 0);

        // Refused, nothing stored: a team member, the county office, another township, an
        // unknown village, a month not over.
        let before = w.server.change_count();
        let member = Clerk::sign_in(&w.server, MEMBER);
        let county = Clerk::sign_in(&w.server, COUNTY);
        let elsewhere = Clerk::sign_in(&w.server, OTHER_TOWNSHIP);
        for (clerk, scope, m, code) in [
            (&member, village.as_str(), month.as_str(), "out_of_scope"),
            (&county, village.as_str(), month.as_str(), "out_of_scope"),
            (&elsewhere, village.as_str(), month.as_str(), "out_of_scope"),
            (&town, "530322101299", month.as_str(), "unknown_scope"),
        ] {
            assert_eq!(
                sign(clerk, scope, m),
                Err((422, code.to_string())),
                "{code}"
            );
        }
        let this_month = today().format("%Y-%m").to_string();
        assert_eq!(
            sign(&town, &village, &this_month),
            Err((422, "month_not_over".to_string()))
        );
        assert_eq!(w.server.change_count(), before);

        // The township signs; the record is its session's, with the server's figures.
        let id = sign(&town, &village, &month).unwrap();
        let doc = w.server.stored_doc(&id);
        let s: LedgerSignature = doc.read().unwrap();
        let env = doc.envelope().unwrap();
        assert_eq!(
            (s.signer_id.as_str(), s.scope.as_str()),
            (TOWNSHIP, village.as_str())
        );
        assert_eq!(s.month, month);
        assert!(env.device_id.starts_with("web-"), "{}", env.device_id);
        assert_eq!(s.cadres, 3, "the team's three cadres: {s:?}");
        assert_eq!(s.validate(), Ok(()));

        // Report 1 shows it, on time when signed by day 10 of this month.
        let path = format!("/v1/reports/attendance?scope=village:{village}&month={month}");
        let report = town.report(&path);
        let sigs = report["summary"]["signatures"].as_array().unwrap();
        assert_eq!(sigs.len(), 1, "{report}");
        assert_eq!(sigs[0]["by"], TOWNSHIP);
        assert_eq!(sigs[0]["record_id"], id.as_str());
        assert_eq!(sigs[0]["on_time"], today().day() <= 10);
        assert_eq!(sigs[0]["figures_changed"], false);
        assert_eq!(sigs[0]["figures_sha256"], s.figures_sha256.as_str());

        // Only once per scope and month; the todo lists move.
        let before = w.server.change_count();
        assert_eq!(
            sign(&town, &village, &month),
            Err((422, "ledger_already_signed".to_string()))
        );
        assert_eq!(w.server.change_count(), before);
        let to_sign: Vec<Value> = ledger_list(&town.todo(), "ledgers_to_sign");
        assert_eq!(
            to_sign.len(),
            1,
            "the township's own ledger waits: {to_sign:?}"
        );
        assert_eq!(to_sign[0]["scope"], &village[..9]);
        let received = ledger_list(&org.todo(), "ledgers_received");
        assert_eq!(received.len(), 1);
        assert_eq!(received[0]["record_id"], id.as_str());
        assert_eq!(received[0]["on_time"], today().day() <= 10);

        // A forged hash, pushed from a township phone, is refused.
        let mut phone = Device::new(&w.server.url, TOWNSHIP).sign_in();
        let forged = LedgerSignature {
            scope: village[..9].to_string(),
            month: month.clone(),
            figures_sha256: "ab".repeat(32),
            cadres: 3,
            signer_id: TOWNSHIP.into(),
            signer_name: None,
            signed_at: phone.now(),
        };
        let before = w.server.change_count();
        let fid = phone.store.create(&phone.author("签字"), &forged).unwrap();
        assert_eq!(phone.sync().unwrap().rejected, 1);
        assert_eq!(phone.refusal(&fid).as_deref(), Some("figures_changed"));
        assert_eq!(w.server.change_count(), before);

        // The export carries the signature lines.
        let xlsx = town.raw(&format!("{path}&format=xlsx"));
        let lines = sheet_pairs(&xlsx);
        let by = lines.iter().find(|(k, _)| k == "审核人").unwrap();
        assert!(by.1.contains(TOWNSHIP), "{lines:?}");
        let date = lines.iter().find(|(k, _)| k == "日期").unwrap();
        assert_eq!(date.1, today().to_string());
        assert!(!lines.iter().any(|(k, _)| k == "注意"), "{lines:?}");
        // The township's own ledger, not signed: empty lines to sign by hand.
        let unsigned = sheet_pairs(&town.raw(&format!(
            "/v1/reports/attendance?scope=township:{}&month={month}&format=xlsx",
            &village[..9]
        )));
        assert!(
            unsigned.contains(&("审核人".to_string(), String::new())),
            "{unsigned:?}"
        );

        // A check-in synced late changes the figures: report 1 and the export say so.
        let mut late = CheckIn::example();
        late.cadre_id = MEMBER.into();
        late.ts = format!("{}T08:00:00+08:00", first + Duration::days(4))
            .parse()
            .unwrap();
        w.member
            .store
            .create(&w.member.author("补同步"), &late)
            .unwrap();
        assert_eq!(w.member.sync().unwrap().rejected, 0);
        let report = town.report(&path);
        assert_eq!(
            report["summary"]["signatures"][0]["figures_changed"], true,
            "{report}"
        );
        let csv = String::from_utf8(town.raw(&format!("{path}&format=csv"))).unwrap();
        assert!(csv.contains("签字后台账数据已变化"), "{csv}");

        // Every change stays provable.
        let v = cunji_sync_server::verify::verify_log(&w.server.db, &mut |_| {}).unwrap();
        assert!(v.ok(), "{:?}", v.failures);
    }
}

/// The (first, second) cells of each row of the xlsx's first sheet.
fn sheet_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| {
            let cell = |i: usize| r.get(i).map(|c| c.to_string()).unwrap_or_default();
            (cell(0), cell(1))
        })
        .collect()
}

//! Approvals and reviews end to end (issue 16, `sync-server/src/approvals.rs`,
//! `cunji_core::rules::approvals`): cadres record on real phones; the first secretary endorses
//! and comments on its phone; the township, the county poverty office and the organisation
//! department act from a browser session whose own Ed25519 key (as WebCrypto would make it)
//! signs each step the server composes. For each step: the right role succeeds; the wrong
//! role, the wrong level, the wrong order, self-approval and an action out of scope are refused
//! with their codes, and nothing is stored. Reports 1, 2, 8 and 9 move as the flows say, and
//! every step stays provable (`verify-log`).
//!
//! Each scenario runs on SQLite, and on PostgreSQL when `CUNJI_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used)]

use chrono::{Datelike, Duration, NaiveDate};
use cunji_core::domain::codes::{LeaveStatus, PetitionStatus, StatusChangeResult};
use cunji_core::domain::visit::Acceptance;
use cunji_core::domain::{
    Assignment, Leave, Petition, Record, StatusChange, Village, Visit, WorkLog,
};
use cunji_core::identity::DeviceIdentity;
use cunji_core::rules::approvals::{
    Actor, LeaveAction, LogAction, leave_step, leave_timing, log_step,
};
use cunji_core::values::Geo;
use cunji_sync_server::accounts::{Role, today};
use cunji_tests::{
    Backend, Device, PASSWORD, TestServer, exit_case, household, numbers, serving_team,
};
use serde_json::{Value, json};

pub(crate) const LEADER: &str = "cadre-wang-zhigang";
pub(crate) const MEMBER: &str = "cadre-li-ming";
pub(crate) const TOWNSHIP: &str = "township-zhang";
pub(crate) const OTHER_TOWNSHIP: &str = "township-elsewhere";
pub(crate) const COUNTY: &str = "county-office-x";
pub(crate) const ORG: &str = "county-org-x";

pub(crate) struct World {
    pub(crate) server: TestServer,
    pub(crate) leader: Device,
    pub(crate) member: Device,
    pub(crate) home: String,
}

/// The example village with its team, a household, and the accounts of every role (phones
/// for the leader and the member): shared with `phone_approvals`.
pub(crate) fn world(backend: Backend) -> World {
    let server = TestServer::start(backend);
    let code = Village::example().code;
    server.account("admin", Role::Admin, "");
    server.account(LEADER, Role::FirstSecretary, "");
    server.account(MEMBER, Role::TeamMember, "");
    server.account("cadre-zhao-hong", Role::TeamMember, "");
    server.account(TOWNSHIP, Role::Township, &code[..9]);
    server.account(OTHER_TOWNSHIP, Role::Township, "530322999");
    server.account(COUNTY, Role::CountyOffice, &code[..6]);
    server.account(ORG, Role::CountyOrg, &code[..6]);
    let mut admin = Device::new(&server.url, "admin").sign_in();
    let who = admin.author("建村");
    admin.store.create(&who, &Village::example()).unwrap();
    admin.store.create(&who, &serving_team()).unwrap();
    assert_eq!(admin.sync().unwrap().rejected, 0);
    let mut leader = Device::new(&server.url, LEADER).sign_in();
    let mut h = household(1);
    for income in h.incomes.values_mut() {
        income.wage = cunji_core::values::Money::from_yuan(60_000);
    }
    let home = leader.store.create(&leader.author("建档立卡"), &h).unwrap();
    leader
        .store
        .create(&leader.author("建档立卡"), &numbers(1, &home))
        .unwrap();
    assert_eq!(leader.sync().unwrap().rejected, 0);
    // The member is the household's primary pairing cadre: its visits count for coverage.
    admin
        .store
        .create(
            &admin.author("结对"),
            &Assignment {
                household_id: home.clone(),
                cadre_id: MEMBER.into(),
                from: "2015-01-01".parse().unwrap(),
                to: None,
                is_primary: true,
            },
        )
        .unwrap();
    assert_eq!(admin.sync().unwrap().rejected, 0);
    let mut member = Device::new(&server.url, MEMBER).sign_in();
    member.sync().unwrap();
    World {
        server,
        leader,
        member,
        home,
    }
}

/// A browser session signed in with its own signing key (what the dashboard makes with
/// WebCrypto: an Ed25519 key whose private half the page never reads).
pub(crate) struct Clerk {
    url: String,
    token: String,
    key: DeviceIdentity,
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::new()
}

impl Clerk {
    pub(crate) fn sign_in(server: &TestServer, login: &str) -> Clerk {
        let key = DeviceIdentity::generate();
        let resp = http()
            .post(format!("{}/v1/session", server.url))
            .json(&json!({"login": login, "password": PASSWORD,
                "public_key": hex::encode(key.public_key())}))
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let body: Value = resp.json().unwrap();
        assert!(body["device_id"].as_str().unwrap().starts_with("web-"));
        Clerk {
            url: server.url.clone(),
            token: body["token"].as_str().unwrap().into(),
            key,
        }
    }

    pub(crate) fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = http()
            .request(method.parse().unwrap(), format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().unwrap();
        (resp.status().as_u16(), resp.json().unwrap())
    }

    /// Composes `step` on record `id`, signs it with the session's key and stores it: `Ok`
    /// with the stored step, or the refusal's (status, code), at either call.
    pub(crate) fn step(&self, id: &str, step: Value) -> Result<Value, (u16, String)> {
        let (status, prepared) = self.call("POST", &format!("/v1/records/{id}/steps"), Some(step));
        if status != 200 {
            return Err((status, prepared["code"].as_str().unwrap().into()));
        }
        assert!(!prepared["summary"].as_str().unwrap().is_empty());
        let input = hex::decode(prepared["signing_input"].as_str().unwrap()).unwrap();
        let signature = self.key.sign_message(&input);
        let (status, done) = self.call(
            "POST",
            "/v1/steps",
            Some(json!({"record_id": id, "change": prepared["change"],
                "signature": hex::encode(signature)})),
        );
        if status != 200 {
            return Err((status, done["code"].as_str().unwrap().into()));
        }
        assert_eq!(done["hash"], prepared["hash"]);
        Ok(done)
    }

    /// Stores a prepared change signed with the session's key: (status, body).
    pub(crate) fn commit(&self, id: &str, prepared: &Value) -> (u16, Value) {
        let input = hex::decode(prepared["signing_input"].as_str().unwrap()).unwrap();
        let signature = self.key.sign_message(&input);
        self.call(
            "POST",
            "/v1/steps",
            Some(json!({"record_id": id, "change": prepared["change"],
                "signature": hex::encode(signature)})),
        )
    }

    /// A GET's body bytes (an export), 200 expected.
    pub(crate) fn raw(&self, path: &str) -> Vec<u8> {
        let resp = http()
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        resp.bytes().unwrap().to_vec()
    }

    pub(crate) fn todo(&self) -> Value {
        let (status, list) = self.call("GET", "/v1/todo", None);
        assert_eq!(status, 200, "{list}");
        list
    }

    pub(crate) fn report(&self, path: &str) -> Value {
        let (status, r) = self.call("GET", path, None);
        assert_eq!(status, 200, "{r}");
        r
    }
}

/// How many `list` items the to-do holds.
pub(crate) fn count(todo: &Value, list: &str) -> u64 {
    todo["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["list"] == list)
        .unwrap_or_else(|| panic!("no list {list} in {todo}"))["count"]
        .as_u64()
        .unwrap()
}

/// `clerk`'s step on `id` is refused with `code` (422 unless said), nothing stored.
fn refused(w: &World, clerk: &Clerk, id: &str, step: Value, status: u16, code: &str) {
    let before = w.server.change_count();
    assert_eq!(
        clerk.step(id, step.clone()),
        Err((status, code.to_string())),
        "{step}"
    );
    assert_eq!(w.server.change_count(), before, "nothing stored: {step}");
}

fn taken(clerk: &Clerk, id: &str, step: Value) {
    let done = clerk.step(id, step.clone());
    assert!(
        matches!(&done, Ok(d) if d["outcome"] == "accepted"),
        "{step}: {done:?}"
    );
}

fn stored<T: Record>(w: &World, id: &str) -> T {
    w.server.stored_doc(id).read::<T>().unwrap()
}

/// Syncs `d` and says how the server answered record `id`'s changes (`None`: taken).
fn outcome(d: &mut Device, id: &str) -> Option<String> {
    d.sync().unwrap();
    d.refusal(id)
}

/// A phone's edit of record `id`, refused with `code` and nothing stored; the phone is then
/// replaced by a fresh one (its store keeps the refused edit).
fn phone_refused<T: Record>(
    w: &World,
    d: &mut Device,
    id: &str,
    change: impl FnOnce(&mut T),
    code: &str,
) {
    d.sync().unwrap();
    let mut r: T = d.store.get::<T>(id).unwrap().record;
    change(&mut r);
    let before = w.server.change_count();
    d.store.review(&d.author("修改"), id, &r).unwrap();
    assert_eq!(outcome(d, id).as_deref(), Some(code), "{}", T::KIND.code());
    assert_eq!(w.server.change_count(), before, "nothing stored");
    *d = Device::new(&w.server.url, &d.login.clone()).sign_in();
}

/// A phone's step on record `id` (its own record, or a reviewer's step on another's), taken.
fn phone_taken<T: Record>(d: &mut Device, id: &str, change: impl FnOnce(&mut T)) {
    d.sync().unwrap();
    let mut r: T = d.store.get::<T>(id).unwrap().record;
    change(&mut r);
    d.store.review(&d.author("审核"), id, &r).unwrap();
    assert_eq!(outcome(d, id), None, "{}", T::KIND.code());
}

fn actor(login: &str, role: Role) -> Actor<'_> {
    Actor { login, role }
}

fn request(from: NaiveDate, days: u32) -> Leave {
    Leave {
        cadre_id: MEMBER.into(),
        from,
        to: from + Duration::days(i64::from(days) - 1),
        days,
        // Requested now, on a phone in the county (China's zone): the tests' dates are China's
        // (`accounts::today`), and a request's day is taken in the zone it was recorded in.
        requested_ts: chrono::Utc::now()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()),
        endorsed_by: None,
        approver_id: TOWNSHIP.into(),
        status: LeaveStatus::Pending,
        returned_ts: None,
        decision: None,
        ..Leave::example()
    }
}

#[test]
fn leave_is_requested_endorsed_approved_and_closed_and_the_ledger_follows() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let mut member = std::mem::replace(&mut w.member, Device::new(&w.server.url, MEMBER));
        let from = today() + Duration::days(3);
        // R3 at entry: a request after the leave began (病假: more than 2 days after) is
        // warned of and recorded, excusing nothing; the level must be the one its days need.
        let late = request(today() - Duration::days(1), 1);
        let cfg = cunji_core::rules::attendance::AttendanceConfig::default();
        let warning = leave_timing(&late, &cfg).unwrap_err();
        assert_eq!(warning.code, "leave_late");
        assert!(warning.zh.contains("晚了1天"), "{}", warning.zh);
        let id = member.store.create(&member.author("请假"), &late).unwrap();
        assert_eq!(outcome(&mut member, &id), None);
        let mut sick = request(today() - Duration::days(1), 1);
        sick.leave_type = cunji_core::domain::codes::LeaveType::Sick;
        assert!(leave_timing(&sick, &cfg).is_ok());
        let sick_id = member.store.create(&member.author("病假"), &sick).unwrap();
        assert_eq!(outcome(&mut member, &sick_id), None);
        let long = request(from, 5);
        let id = member.store.create(&member.author("请假"), &long).unwrap();
        assert_eq!(outcome(&mut member, &id).as_deref(), Some("wrong_level"));
        let mut member = Device::new(&w.server.url, MEMBER).sign_in();
        let leave = member
            .store
            .create(&member.author("请假"), &request(from, 1))
            .unwrap();
        assert_eq!(outcome(&mut member, &leave), None);

        let town = Clerk::sign_in(&w.server, TOWNSHIP);
        let org = Clerk::sign_in(&w.server, ORG);
        let elsewhere = Clerk::sign_in(&w.server, OTHER_TOWNSHIP);
        let leader_web = Clerk::sign_in(&w.server, LEADER);
        let member_web = Clerk::sign_in(&w.server, MEMBER);
        assert_eq!(count(&member_web.todo(), "my_leave_pending"), 3);
        let approve = json!({"action": "leave_approve"});
        // Wrong order: not yet endorsed. Wrong level, wrong role, out of scope.
        refused(&w, &town, &leave, approve.clone(), 422, "not_endorsed");
        refused(&w, &org, &leave, approve.clone(), 422, "wrong_level");
        refused(
            &w,
            &leader_web,
            &leave,
            approve.clone(),
            422,
            "wrong_approver",
        );
        refused(&w, &elsewhere, &leave, approve.clone(), 404, "not_found");
        // Self-approval, on the phone.
        let me = actor(MEMBER, Role::TeamMember);
        phone_refused::<Leave>(
            &w,
            &mut member,
            &leave,
            |l| *l = leave_step(l, &me, &LeaveAction::Approve { note: None }, l.requested_ts),
            "self_approval",
        );
        // The phone itself refuses to endorse its own leave (validation); the server too.
        refused(
            &w,
            &member_web,
            &leave,
            json!({"action": "leave_endorse"}),
            422,
            "self_approval",
        );
        let leader_todo = leader_web.todo();
        // This leave, the late one and the sick one wait for 队长同意.
        assert_eq!(count(&leader_todo, "leave_to_endorse"), 3, "{leader_todo}");
        assert_eq!(count(&town.todo(), "leave_to_approve"), 0);

        // 队长同意 on the first secretary's phone.
        let boss = actor(LEADER, Role::FirstSecretary);
        let mut leader = std::mem::replace(&mut w.leader, Device::new(&w.server.url, LEADER));
        phone_taken::<Leave>(&mut leader, &leave, |l| {
            *l = leave_step(l, &boss, &LeaveAction::Endorse, cunji_core::store::now())
        });
        assert_eq!(count(&leader_web.todo(), "leave_to_endorse"), 2);
        let town_todo = town.todo();
        assert_eq!(count(&town_todo, "leave_to_approve"), 1, "{town_todo}");
        assert_eq!(count(&org.todo(), "leave_to_approve"), 0);

        // Sending back needs a reason; a web session without a key takes no step; a change
        // signed by another key is refused.
        refused(
            &w,
            &town,
            &leave,
            json!({"action": "leave_send_back", "reason": "  "}),
            422,
            "reason_required",
        );
        let keyless: Value = http()
            .post(format!("{}/v1/session", w.server.url))
            .json(&json!({"login": TOWNSHIP, "password": PASSWORD}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert!(keyless["device_id"].is_null());
        let resp = http()
            .post(format!("{}/v1/records/{leave}/steps", w.server.url))
            .bearer_auth(keyless["token"].as_str().unwrap())
            .json(&approve)
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 403);
        assert_eq!(
            resp.json::<Value>().unwrap()["code"],
            "signing_key_required"
        );
        let (status, prepared) = town.call(
            "POST",
            &format!("/v1/records/{leave}/steps"),
            Some(approve.clone()),
        );
        assert_eq!(status, 200);
        let input = hex::decode(prepared["signing_input"].as_str().unwrap()).unwrap();
        let forged = DeviceIdentity::generate().sign_message(&input);
        let before = w.server.change_count();
        let (status, body) = town.call(
            "POST",
            "/v1/steps",
            Some(json!({"record_id": leave, "change": prepared["change"],
                "signature": hex::encode(forged)})),
        );
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("bad_signature"))
        );
        assert!(
            body["message"].as_str().unwrap().contains('签'),
            "Chinese first: {body}"
        );
        assert_eq!(w.server.change_count(), before);

        // The ledger (report 1) before the decision: the day is no record, no leave.
        let month = &from.to_string()[..7];
        let after_leave = from + Duration::days(2);
        let ledger_path = format!(
            "/v1/reports/attendance?scope=village:{}&month={month}&today={after_leave}",
            Village::example().code
        );
        let row_of = |r: &Value| {
            r["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|row| row["cadre_id"] == MEMBER)
                .cloned()
                .unwrap()
        };
        let pending = row_of(&town.report(&ledger_path));

        // The township approves, in its own name, signed by its session's key.
        taken(&town, &leave, approve.clone());
        let l: Leave = stored(&w, &leave);
        assert_eq!(l.status, LeaveStatus::Approved);
        assert_eq!(l.decision.unwrap().reviewer_id, TOWNSHIP);
        refused(&w, &town, &leave, approve.clone(), 422, "wrong_order");
        assert_eq!(count(&town.todo(), "leave_to_approve"), 0);
        let approved = row_of(&town.report(&ledger_path));
        // Hand-computed: the report counts the month's days up to `today` (no check-ins: all
        // 无记录 while the leave waits). Approved, the leave's one day is 请假 (事假); not
        // reported back, each day after it is 无故不在岗 (R3) and the leave is unreturned.
        let month_start = from.with_day0(0).unwrap();
        let month_end =
            (month_start + Duration::days(32)).with_day0(0).unwrap() - Duration::days(1);
        let counted = (after_leave.min(month_end) - month_start).num_days() + 1;
        let after = counted - i64::from(from.day());
        let days = |row: &Value, k: &str| row[k].as_i64().unwrap();
        assert_eq!(
            [
                days(&pending, "no_record_days"),
                days(&pending, "personal_leave_days"),
                days(&pending, "absent_days"),
                days(&pending, "unreturned_leaves"),
            ],
            [counted, 0, 0, 0],
            "{pending}"
        );
        assert_eq!(
            [
                days(&approved, "no_record_days"),
                days(&approved, "personal_leave_days"),
                days(&approved, "absent_days"),
                days(&approved, "unreturned_leaves"),
            ],
            [counted - 1 - after, 1, after, 1],
            "{approved}"
        );

        // 销假: the requester only, and only from approved.
        refused(
            &w,
            &town,
            &leave,
            json!({"action": "leave_return"}),
            422,
            "wrong_approver",
        );
        assert_eq!(
            count(&member_web.todo(), "my_leave_pending"),
            2,
            "the late and sick ones"
        );
        taken(&member_web, &leave, json!({"action": "leave_return"}));
        assert_eq!(stored::<Leave>(&w, &leave).status, LeaveStatus::Returned);
        // Reported back: no day after it is absent any more.
        let returned = row_of(&town.report(&ledger_path));
        assert_eq!(
            [
                days(&returned, "no_record_days"),
                days(&returned, "personal_leave_days"),
                days(&returned, "absent_days"),
                days(&returned, "unreturned_leaves"),
            ],
            [counted - 1, 1, 0, 0],
            "{returned}"
        );
        refused(&w, &town, &leave, approve, 422, "leave_locked");
        refused(
            &w,
            &member_web,
            &sick_id,
            json!({"action": "leave_return"}),
            422,
            "wrong_order",
        );

        // Every step is provable: the browser's changes carry its key's signatures.
        let report = cunji_sync_server::verify::verify_log(&w.server.db, &mut |_| {}).unwrap();
        assert!(report.ok(), "{:?}", report.failures);
        assert_eq!(report.attested, 0);
    }
}

fn log_of(day: NaiveDate) -> WorkLog {
    WorkLog {
        date: day,
        village_code: Village::example().code,
        visit_ids: vec![],
        review: None,
        leader_comment: None,
        ..WorkLog::example()
    }
}

#[test]
fn logs_are_commented_by_the_first_secretary_and_reviewed_by_the_township() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let mut member = std::mem::replace(&mut w.member, Device::new(&w.server.url, MEMBER));
        // A log of last month: due for the township's 月考.
        let day = today().with_day0(0).unwrap() - Duration::days(3);
        let log = member
            .store
            .create(&member.author("日志"), &log_of(day))
            .unwrap();
        assert_eq!(outcome(&mut member, &log), None);
        let at = cunji_core::store::now();
        let me = actor(MEMBER, Role::TeamMember);
        phone_refused::<WorkLog>(
            &w,
            &mut member,
            &log,
            |l| *l = log_step(l, &me, &LogAction::Review { comment: None }, at),
            "self_approval",
        );
        let town = Clerk::sign_in(&w.server, TOWNSHIP);
        let leader_web = Clerk::sign_in(&w.server, LEADER);
        let elsewhere = Clerk::sign_in(&w.server, OTHER_TOWNSHIP);
        assert_eq!(count(&town.todo(), "logs_to_review"), 1);
        let review = json!({"action": "log_review", "comment": "记录详实"});
        refused(&w, &leader_web, &log, review.clone(), 422, "wrong_approver");
        refused(&w, &elsewhere, &log, review.clone(), 404, "not_found");
        refused(
            &w,
            &town,
            &log,
            json!({"action": "log_comment", "comment": "好"}),
            422,
            "wrong_approver",
        );
        // The first secretary comments on its phone.
        let boss = actor(LEADER, Role::FirstSecretary);
        let mut leader = std::mem::replace(&mut w.leader, Device::new(&w.server.url, LEADER));
        phone_taken::<WorkLog>(&mut leader, &log, |l| {
            *l = log_step(
                l,
                &boss,
                &LogAction::Comment {
                    comment: "注意跟进危房改造".into(),
                },
                at,
            )
        });
        // A reviewer adds its review and changes nothing the author wrote.
        phone_refused::<WorkLog>(
            &w,
            &mut leader,
            &log,
            |l| l.summary = "改写".into(),
            "review_only",
        );
        taken(&town, &log, review.clone());
        let l: WorkLog = stored(&w, &log);
        assert_eq!(l.review.unwrap().reviewer_id, TOWNSHIP);
        assert_eq!(l.leader_comment.unwrap().reviewer_id, LEADER);
        refused(
            &w,
            &town,
            &log,
            json!({"action": "log_review", "comment": "再审"}),
            422,
            "review_locked",
        );
        assert_eq!(count(&town.todo(), "logs_to_review"), 0);
        // The author cannot take the review away.
        phone_refused::<WorkLog>(&w, &mut member, &log, |l| l.review = None, "review_locked");
    }
}

fn case_step(step: &str, outcome: &str) -> Value {
    json!({"action": "case_step", "step": step, "outcome": outcome})
}

#[test]
fn a_case_passes_the_township_and_the_county_in_order_and_report_8_follows() {
    for backend in Backend::available() {
        let mut w = world(backend);
        // The household's income is well above the line (world), so that only the 公示's
        // length can block the exit.
        let mut leader = std::mem::replace(&mut w.leader, Device::new(&w.server.url, LEADER));
        let short = leader
            .store
            .create(&leader.author("动态调整"), &exit_case(&w.home, 5))
            .unwrap();
        let good = leader
            .store
            .create(&leader.author("动态调整"), &exit_case(&w.home, 7))
            .unwrap();
        assert_eq!(leader.sync().unwrap().rejected, 0);
        let town = Clerk::sign_in(&w.server, TOWNSHIP);
        let county = Clerk::sign_in(&w.server, COUNTY);
        let elsewhere = Clerk::sign_in(&w.server, OTHER_TOWNSHIP);
        assert_eq!(count(&town.todo(), "cases_to_review"), 2);
        let scope = format!("village:{}", Village::example().code);
        let report8 = |c: &Clerk| {
            c.report(&format!(
                "/v1/reports/status-changes?scope={scope}&from=2016-01-01&to=2030-12-31"
            ))
        };
        let case_row = |r: &Value, id: &str| {
            r["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|row| row["case_id"] == id)
                .cloned()
                .unwrap()
        };
        // Report 8's summary, hand-computed: the two exits by their current step, the short
        // notice's exit missing R12's 7 days, and the notices' lengths (5 and 7 days).
        let summary8 = |c: &Clerk| {
            let r = report8(c);
            let s = &r["summary"];
            let mut steps: Vec<(String, String, u64)> = s["by_type_step"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    (
                        t["change_type"].as_str().unwrap().to_string(),
                        t["step"].as_str().unwrap_or("").to_string(),
                        t["count"].as_u64().unwrap(),
                    )
                })
                .collect();
            steps.sort();
            let p = &s["publicity"];
            (
                steps,
                [
                    s["cases"].as_u64(),
                    s["exits"].as_u64(),
                    s["exits_missing_prerequisites"].as_u64(),
                ],
                [
                    p["cases_with_publicity"].as_u64(),
                    p["min_days"].as_u64(),
                    p["max_days"].as_u64(),
                    p["shorter_than_minimum"].as_u64(),
                ],
                p["mean_days"].as_f64(),
            )
        };
        let by_step = |steps: &[(&str, u64)]| -> Vec<(String, String, u64)> {
            let mut v: Vec<_> = steps
                .iter()
                .map(|(s, n)| ("marked_exit".to_string(), s.to_string(), *n))
                .collect();
            v.sort();
            v
        };
        let notices = [Some(2), Some(5), Some(7), Some(1)];
        assert_eq!(
            summary8(&town),
            (
                by_step(&[("publicity", 2)]),
                [Some(2), Some(2), Some(1)],
                notices,
                Some(6.0)
            )
        );
        assert_eq!(
            case_row(&report8(&town), &good)["current_step"],
            "publicity"
        );

        // R12's blockers at 乡镇审核, said in Chinese first.
        let (status, body) = town.call(
            "POST",
            &format!("/v1/records/{short}/steps"),
            Some(case_step("township_review", "passed")),
        );
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("exit_not_ready"))
        );
        assert!(body["message"].as_str().unwrap().contains("公示"), "{body}");
        // Wrong order, wrong level, out of scope.
        refused(
            &w,
            &county,
            &good,
            case_step("county_approval", "passed"),
            422,
            "steps_out_of_order",
        );
        refused(
            &w,
            &county,
            &good,
            case_step("township_review", "passed"),
            422,
            "step_not_yours",
        );
        refused(
            &w,
            &elsewhere,
            &good,
            case_step("township_review", "passed"),
            404,
            "not_found",
        );
        taken(&town, &good, case_step("township_review", "passed"));
        assert_eq!(count(&town.todo(), "cases_to_review"), 1);
        assert_eq!(count(&county.todo(), "cases_to_approve"), 1);
        refused(
            &w,
            &town,
            &good,
            case_step("county_approval", "passed"),
            422,
            "step_not_yours",
        );
        refused(
            &w,
            &county,
            &good,
            case_step("system_entry", "passed"),
            422,
            "steps_out_of_order",
        );
        assert_eq!(
            case_row(&report8(&town), &good)["current_step"],
            "township_review"
        );
        assert_eq!(
            summary8(&town),
            (
                by_step(&[("publicity", 1), ("township_review", 1)]),
                [Some(2), Some(2), Some(1)],
                notices,
                Some(6.0)
            )
        );
        taken(&county, &good, case_step("county_approval", "passed"));
        let c: StatusChange = stored(&w, &good);
        assert_eq!(c.result, Some(StatusChangeResult::Approved));
        assert_eq!(c.steps.last().unwrap().actor_id, COUNTY);
        assert_eq!(
            summary8(&county).0,
            by_step(&[("publicity", 1), ("county_approval", 1)])
        );
        assert_eq!(count(&county.todo(), "cases_to_approve"), 0);
        assert_eq!(count(&county.todo(), "cases_to_enter"), 1);
        taken(&county, &good, case_step("system_entry", "passed"));
        assert_eq!(count(&county.todo(), "cases_to_enter"), 0);
        let row = case_row(&report8(&county), &good);
        // The county reads the same figures; the approved exit counts at its last step and
        // still has every prerequisite, so only the short notice's exit misses one.
        assert_eq!(
            summary8(&county),
            (
                by_step(&[("publicity", 1), ("system_entry", 1)]),
                [Some(2), Some(2), Some(1)],
                notices,
                Some(6.0)
            )
        );
        assert_eq!(
            (row["current_step"].as_str(), row["result"].as_str()),
            (Some("system_entry"), Some("approved"))
        );
        // A village step is not the dashboard's.
        let (status, body) = town.call(
            "POST",
            &format!("/v1/records/{good}/steps"),
            Some(case_step("publicity", "passed")),
        );
        assert_eq!((status, body["code"].as_str()), (400, Some("malformed")));
    }
}

/// A visit by the member to `home` on `day`: level C when `confirmed` is false and there is no
/// position (R8), level A when both hold.
fn visit_of(home: &str, day: NaiveDate, at_home: bool) -> Visit {
    let start = format!("{day}T10:00:00+08:00").parse().unwrap();
    let mut v = Visit {
        household_id: home.into(),
        visitor_id: MEMBER.into(),
        start_ts: start,
        end_ts: start + Duration::minutes(40),
        photos: vec![],
        follow_up_due: None,
        acceptance: None,
        ..Visit::example()
    };
    if at_home {
        let home_geo = household(1).home_geo.unwrap();
        v.geo = Some(Geo {
            fix_ts: Some(start),
            ..home_geo
        });
        v.no_gps_reason = None;
    } else {
        v.geo = None;
        v.no_gps_reason = Some("室内无信号".into());
        v.confirmation = cunji_core::domain::codes::Confirmation::Refused;
        v.confirmation_image_sha256 = None;
        v.refusal_reason = Some("户主外出".into());
    }
    v
}

#[test]
fn the_township_accepts_level_c_visits_which_then_count() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let mut member = std::mem::replace(&mut w.member, Device::new(&w.server.url, MEMBER));
        let day = today() - Duration::days(2);
        let weak = member
            .store
            .create(&member.author("走访"), &visit_of(&w.home, day, false))
            .unwrap();
        let strong = member
            .store
            .create(
                &member.author("走访"),
                &visit_of(&w.home, day - Duration::days(1), true),
            )
            .unwrap();
        assert_eq!(member.sync().unwrap().rejected, 0);
        let town = Clerk::sign_in(&w.server, TOWNSHIP);
        let leader_web = Clerk::sign_in(&w.server, LEADER);
        let elsewhere = Clerk::sign_in(&w.server, OTHER_TOWNSHIP);
        let member_web = Clerk::sign_in(&w.server, MEMBER);
        assert_eq!(count(&town.todo(), "visits_to_accept"), 1);
        let accept = json!({"action": "visit_accept"});
        refused(&w, &town, &strong, accept.clone(), 422, "not_needed");
        refused(&w, &leader_web, &weak, accept.clone(), 422, "not_author");
        refused(
            &w,
            &member_web,
            &weak,
            accept.clone(),
            422,
            "wrong_approver",
        );
        refused(&w, &elsewhere, &weak, accept.clone(), 404, "not_found");
        refused(
            &w,
            &town,
            &weak,
            json!({"action": "visit_reject", "reason": ""}),
            422,
            "reason_required",
        );
        // Report 2 counts the weak visit only once accepted; the strong one is the day before,
        // so the period is the weak visit's day alone.
        let coverage = format!(
            "/v1/reports/visit-coverage?scope=village:{}&from={day}&to={day}",
            Village::example().code
        );
        assert_eq!(town.report(&coverage)["summary"]["covered"], 0);
        // Report 9: the member's level-C visit waits for the township, then is accepted (it
        // stays level C: the evidence is what it is).
        let integrity = format!(
            "/v1/reports/integrity?scope=village:{}&from={}&to={day}",
            Village::example().code,
            day - Duration::days(1)
        );
        let r9 = |c: &Clerk| {
            let r = c.report(&integrity);
            let row = r["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|row| row["cadre_id"] == MEMBER)
                .cloned()
                .unwrap();
            [
                "visits",
                "level_a",
                "level_c",
                "accepted",
                "awaiting_acceptance",
            ]
            .map(|k| row[k].as_u64().unwrap())
        };
        assert_eq!(r9(&town), [2, 1, 1, 0, 1]);
        taken(&town, &weak, accept.clone());
        assert_eq!(r9(&town), [2, 1, 1, 1, 0]);
        let v: Visit = stored(&w, &weak);
        assert!(matches!(
            v.acceptance,
            Some(Acceptance { accepted: true, .. })
        ));
        assert_eq!(town.report(&coverage)["summary"]["covered"], 1);
        assert_eq!(count(&town.todo(), "visits_to_accept"), 0);
        refused(
            &w,
            &town,
            &weak,
            json!({"action": "visit_reject", "reason": "照片不实"}),
            422,
            "review_locked",
        );
        // The visitor cannot take the acceptance away, nor give one.
        phone_refused::<Visit>(
            &w,
            &mut member,
            &weak,
            |v| v.acceptance = None,
            "review_locked",
        );
    }
}

/// An open petition of `home`'s household received on `received`, the member its handler, not
/// yet assigned by the county.
fn intake(home: &str, received: NaiveDate) -> Petition {
    Petition {
        received_date: received,
        household_id: Some(home.to_string()),
        village_code: Village::example().code,
        handler_id: MEMBER.into(),
        due_date: Petition::default_due(received),
        status: PetitionStatus::Accepted,
        resolution: None,
        closed_date: None,
        return_visit: None,
        assignment: None,
        progress: Vec::new(),
        ..Petition::example()
    }
}

#[test]
fn petitions_are_assigned_by_the_county_and_handled_by_their_handler() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let mut member = std::mem::replace(&mut w.member, Device::new(&w.server.url, MEMBER));
        let received = today() - Duration::days(5);
        let intake = intake(&w.home, received);
        let id = member
            .store
            .create(&member.author("信访受理"), &intake)
            .unwrap();
        assert_eq!(outcome(&mut member, &id), None);
        let town = Clerk::sign_in(&w.server, TOWNSHIP);
        let county = Clerk::sign_in(&w.server, COUNTY);
        let elsewhere = Clerk::sign_in(&w.server, OTHER_TOWNSHIP);
        assert_eq!(count(&county.todo(), "petitions_to_assign"), 1);
        let due = (today() + Duration::days(30)).to_string();
        let assign = json!({"action": "petition_assign", "handler_id": TOWNSHIP, "due_date": due});
        refused(&w, &town, &id, assign.clone(), 422, "not_assigner");
        refused(&w, &elsewhere, &id, assign.clone(), 404, "not_found");
        taken(&county, &id, assign.clone());
        assert_eq!(count(&county.todo(), "petitions_to_assign"), 0);
        assert_eq!(count(&town.todo(), "petitions_to_handle"), 1);
        let progress = json!({"action": "petition_progress", "note": "已上门核实"});
        refused(&w, &county, &id, progress.clone(), 422, "not_handler");
        let visit_back = json!({"action": "petition_return_visit", "result": "satisfied"});
        refused(&w, &town, &id, visit_back.clone(), 422, "wrong_order");
        taken(&town, &id, progress);
        refused(
            &w,
            &town,
            &id,
            json!({"action": "petition_close", "resolution": "", "accepted": true}),
            422,
            "reason_required",
        );
        taken(
            &town,
            &id,
            json!({"action": "petition_close", "resolution": "已列入改造计划", "accepted": true}),
        );
        assert_eq!(count(&town.todo(), "petitions_to_handle"), 0);
        // Closed, it waits for the handler's 回访, and leaves that list once done.
        assert_eq!(count(&town.todo(), "petitions_to_return_visit"), 1);
        refused(&w, &county, &id, assign, 422, "wrong_order");
        taken(&town, &id, visit_back);
        assert_eq!(count(&town.todo(), "petitions_to_return_visit"), 0);
        let p: Petition = stored(&w, &id);
        assert_eq!(p.status, PetitionStatus::Closed);
        assert_eq!(p.handler_id, TOWNSHIP);
        assert_eq!(p.assignment.unwrap().reviewer_id, COUNTY);
        assert_eq!(p.progress.len(), 1);
        assert!(p.return_visit.is_some());
    }
}

/// One list's `entries` (what the cards show, `sync-server/src/todo/cards.rs`).
fn entries(todo: &Value, list: &str) -> Vec<Value> {
    todo["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["list"] == list)
        .unwrap_or_else(|| panic!("no {list} in {todo}"))["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn the_todo_names_people_and_households_as_the_reader_may_see_them() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let mut member = std::mem::replace(&mut w.member, Device::new(&w.server.url, MEMBER));
        let received = today() - Duration::days(5);
        let intake = intake(&w.home, received);
        let id = member
            .store
            .create(&member.author("信访受理"), &intake)
            .unwrap();
        assert_eq!(member.sync().unwrap().rejected, 0);
        let h = household(1);
        let head = h.members[&h.head_member_id].name.clone();
        let county = Clerk::sign_in(&w.server, COUNTY);
        // The county office reads household names: the head in clear, the handler by name.
        let e = entries(&county.todo(), "petitions_to_assign");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0]["id"], id.as_str());
        assert_eq!(e[0]["household_id"], w.home.as_str());
        assert_eq!(e[0]["household_head"], head.as_str());
        assert_eq!(e[0]["person_id"], MEMBER);
        assert_eq!(e[0]["date"], received.to_string());
        assert_eq!(e[0]["village_code"], Village::example().code.as_str());
        assert_eq!(e[0]["village_name"], Village::example().name.as_str());
        // Assigned to the organisation department, whose sight hides household names: its
        // card shows the head masked, the first character kept (张*), as the records API does.
        let due = (today() + Duration::days(30)).to_string();
        taken(
            &county,
            &id,
            json!({"action": "petition_assign", "handler_id": ORG, "due_date": due}),
        );
        let org = Clerk::sign_in(&w.server, ORG);
        let e = entries(&org.todo(), "petitions_to_handle");
        assert_eq!(e.len(), 1, "{e:?}");
        let shown = e[0]["household_head"].as_str().unwrap();
        assert_ne!(shown, head, "masked for the organisation department");
        let first = head.chars().next().unwrap();
        assert!(
            shown.starts_with(first) && shown.chars().skip(1).all(|c| c == '*'),
            "{shown}"
        );
    }
}

//! The server refuses what DOMAIN's "check" rules forbid (`sync-server/src/checks.rs`), pushed
//! from real devices against a real server: for each rule the breach is refused with its code
//! and nothing of it is stored, and the compliant record is taken.
//!
//! Each scenario runs on SQLite, and on PostgreSQL when `CUNJI_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, NaiveDate};
use cunji_core::doc::{ChangeMeta, Edit, RecordDoc};
use cunji_core::domain::codes::{
    HouseholdStatus, LeaveStatus, Relation, StatusChangeResult, StatusChangeStep,
};
use cunji_core::domain::{
    Assignment, CheckIn, Household, HouseholdPrivate, Leave, StatusChange, Step, Village,
};
use cunji_core::store::IncomingChange;
use cunji_core::sync::Transport;
use cunji_core::sync::protocol::{self, PushItem, PushOutcome, PushRequest, PushResponse};
use cunji_core::values::Money;
use cunji_sync_server::accounts::{Role, today};
use cunji_sync_server::store::ScopeFilter;
use cunji_tests::{
    Backend, Device, TestServer, exit_case, household, numbers, serving_team, village_step,
};

const LEADER: &str = "cadre-wang-zhigang";
const MEMBER: &str = "cadre-li-ming";
const TOWNSHIP: &str = "township-zhang";
const COUNTY: &str = "county-office-x";

struct World {
    server: TestServer,
    admin: Device,
    leader: Device,
    member: Device,
    /// A household of the village, with a 2015 income well above the poverty line.
    home: String,
}

fn world(backend: Backend) -> World {
    let server = TestServer::start(backend);
    let code = Village::example().code;
    server.account("admin", Role::Admin, "");
    server.account(LEADER, Role::FirstSecretary, "");
    server.account(MEMBER, Role::TeamMember, "");
    server.account("cadre-zhao-hong", Role::TeamMember, "");
    server.account(TOWNSHIP, Role::Township, &code[..9]);
    server.account(COUNTY, Role::CountyOffice, &code[..6]);
    let mut admin = Device::new(&server.url, "admin").sign_in();
    let who = admin.author("建村");
    admin.store.create(&who, &Village::example()).unwrap();
    admin.store.create(&who, &serving_team()).unwrap();
    assert_eq!(admin.sync().unwrap().rejected, 0);
    let mut leader = Device::new(&server.url, LEADER).sign_in();
    let mut h = household(1);
    for income in h.incomes.values_mut() {
        income.wage = Money::from_yuan(60_000);
    }
    let home = leader.store.create(&leader.author("建档立卡"), &h).unwrap();
    leader
        .store
        .create(&leader.author("建档立卡"), &numbers(1, &home))
        .unwrap();
    assert_eq!(leader.sync().unwrap().rejected, 0);
    let mut member = Device::new(&server.url, MEMBER).sign_in();
    member.sync().unwrap();
    World {
        server,
        admin,
        leader,
        member,
        home,
    }
}

/// Syncs and says how the server answered record `id`'s changes: `None` taken, else the code.
fn outcome(d: &mut Device, id: &str) -> Option<String> {
    d.sync().unwrap();
    d.refusal(id)
}

/// Creates `record` on `d`, syncs, and checks the server refused it with `code` and stored
/// nothing of it.
fn refused_new<T: cunji_core::domain::Record>(w: &World, d: &mut Device, record: &T, code: &str) {
    let before = w.server.change_count();
    let id = d.store.create(&d.author("登记"), record).unwrap();
    assert_eq!(outcome(d, &id).as_deref(), Some(code), "{}", T::KIND.code());
    assert!(w.server.db.read(|tx| tx.doc(&id)).unwrap().is_none());
    assert_eq!(w.server.change_count(), before, "nothing stored");
}

/// Creates `record` on `d` and checks the server took it.
fn taken_new<T: cunji_core::domain::Record>(d: &mut Device, record: &T) -> String {
    let id = d.store.create(&d.author("登记"), record).unwrap();
    assert_eq!(outcome(d, &id), None, "{}", T::KIND.code());
    id
}

/// Edits record `id` on `d` and checks the server's answer (`None`: taken); a refused edit
/// stores nothing.
fn edit<T: cunji_core::domain::Record>(
    w: &World,
    d: &mut Device,
    id: &str,
    change: impl FnOnce(&mut T),
    expected: Option<&str>,
) {
    d.sync().unwrap();
    let mut r: T = d.store.get::<T>(id).unwrap().record;
    change(&mut r);
    let before = w.server.change_count();
    // A device whose earlier edit was refused is a new device: its store holds the refusal.
    d.store.update(&d.author("修改"), id, &r).unwrap();
    assert_eq!(outcome(d, id).as_deref(), expected, "{}", T::KIND.code());
    if expected.is_some() {
        assert_eq!(w.server.change_count(), before, "nothing stored");
    }
}

/// Edits record `id` outside `d`'s store and pushes the change signed by `d`: what a phone
/// that skips its own checks sends, and (until the approval screens exist) how a reviewer's
/// step on someone else's record is made here. Returns the server's answer.
fn raw_edit<T: cunji_core::domain::Record>(
    d: &mut Device,
    id: &str,
    change: impl FnOnce(&mut T),
) -> PushOutcome {
    d.sync().unwrap();
    let device = d.store.device();
    let mut doc = RecordDoc::load(
        id,
        None,
        &d.store.changes_of(id).unwrap(),
        device.actor.clone(),
    )
    .unwrap();
    let mut record: T = doc.read().unwrap();
    change(&mut record);
    let edit = Edit {
        meta: ChangeMeta {
            reason: "手工改动".into(),
            cadre_id: d.login.clone(),
            device_id: device.device_id.clone(),
        },
        time_ms: 0,
    };
    let env = doc.envelope().unwrap();
    let made = doc.update(&env, &record, &edit).unwrap().unwrap();
    let items = vec![PushItem::signed(device, id, made.raw_bytes().to_vec()).unwrap()];
    let body = d
        .transport()
        .push(protocol::encode(&PushRequest { items }))
        .unwrap();
    let mut resp: PushResponse = protocol::decode(&body, 1 << 24).unwrap();
    resp.results.remove(0).outcome
}

/// [`raw_edit`], refused with `code` and nothing stored.
fn hostile_edit<T: cunji_core::domain::Record>(
    w: &World,
    d: &mut Device,
    id: &str,
    change: impl FnOnce(&mut T),
    code: &str,
) {
    let before = w.server.change_count();
    match raw_edit(d, id, change) {
        PushOutcome::Rejected { code: got, .. } => assert_eq!(got, code, "{}", T::KIND.code()),
        other => panic!("{}: {other:?}, expected {code}", T::KIND.code()),
    }
    assert_eq!(w.server.change_count(), before, "nothing stored");
}

/// [`raw_edit`], taken.
fn reviewed<T: cunji_core::domain::Record>(d: &mut Device, id: &str, change: impl FnOnce(&mut T)) {
    let got = raw_edit(d, id, change);
    assert!(
        matches!(got, PushOutcome::Accepted),
        "{}: {got:?}",
        T::KIND.code()
    );
}

#[test]
fn an_id_number_is_registered_once_city_wide() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let taken = numbers(1, &w.home);
        // Registered on another phone of the team, which has not synced the first one: a new
        // household, and numbers that repeat one of the first household's.
        let mut other = Device::new(&w.server.url, LEADER).sign_in();
        let second = other
            .store
            .create(&other.author("建档立卡"), &household(2))
            .unwrap();
        let mut copy = numbers(2, &second);
        let first = copy.id_numbers.keys().next().unwrap().clone();
        copy.id_numbers
            .insert(first.clone(), taken.id_numbers[&first].clone());
        let before = w.server.change_count();
        let id = other.store.create(&other.author("登记"), &copy).unwrap();
        assert_eq!(outcome(&mut other, &id).as_deref(), Some("id_number_taken"));
        assert!(w.server.db.read(|tx| tx.doc(&id)).unwrap().is_none());
        // Only the household was stored, not its numbers.
        assert!(w.server.db.read(|tx| tx.doc(&second)).unwrap().is_some());
        assert_eq!(w.server.change_count(), before + 1);
        // One record of numbers per household (another phone that has not synced either).
        let mut third = Device::new(&w.server.url, LEADER).sign_in();
        refused_new(
            &w,
            &mut third,
            &numbers(3, &w.home),
            "household_numbers_exist",
        );
        let mut fourth = Device::new(&w.server.url, LEADER).sign_in();
        taken_new(&mut fourth, &numbers(2, &second));
        let _ = &mut w.leader;
    }
}

#[test]
fn a_members_birth_date_stays_the_one_in_its_id_number() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let mut leader = std::mem::replace(&mut w.leader, Device::new(&w.server.url, LEADER));
        leader.sync().unwrap();
        let numbers_id = leader.store.numbers_id(&w.home).unwrap().unwrap();
        let head = Household::example().head_member_id;
        // A number whose birth date is not the member's.
        edit::<HouseholdPrivate>(
            &w,
            &mut leader,
            &numbers_id,
            |p| {
                let n = p.id_numbers.get_mut(&head).unwrap();
                let first17 = format!("{}19600101{}", &n[..6], &n[14..17]);
                let check = cunji_core::domain::id_number::check_char(&first17).unwrap();
                *n = format!("{first17}{check}");
            },
            Some("id_number_mismatch"),
        );
        // A birth date changed away from the registered number's, by whoever edits the file
        // (a team member does not see the number, the server does).
        let mut member = Device::new(&w.server.url, MEMBER).sign_in();
        edit::<Household>(
            &w,
            &mut member,
            &w.home.clone(),
            |h| {
                h.members.get_mut(&head).unwrap().birth_date = "1960-01-01".parse().unwrap();
            },
            Some("id_number_mismatch"),
        );
        // Other edits of the file pass (a fresh phone: the other holds the refused change).
        let mut member = Device::new(&w.server.url, MEMBER).sign_in();
        edit::<Household>(
            &w,
            &mut member,
            &w.home.clone(),
            |h| h.plan = Some("发展养殖".into()),
            None,
        );
    }
}

#[test]
fn a_household_has_one_primary_pairing_cadre_at_a_time() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let assign = |cadre: &str, primary: bool| Assignment {
            household_id: w.home.clone(),
            cadre_id: cadre.into(),
            from: "2015-09-01".parse().unwrap(),
            to: None,
            is_primary: primary,
        };
        let (first, second, helper) = (
            assign("pairing-a", true),
            assign("pairing-b", true),
            assign("pairing-b", false),
        );
        let mut admin = std::mem::replace(&mut w.admin, Device::new(&w.server.url, "admin"));
        taken_new(&mut admin, &first);
        refused_new(&w, &mut admin, &second, "primary_assignee_taken");
        taken_new(&mut admin, &helper);
        // Once the first assignment has ended, the next primary one may start after it.
        let mut later = assign("pairing-c", true);
        later.from = "2020-01-01".parse().unwrap();
        let id = w
            .server
            .db
            .read(|tx| tx.find_projected("p_assignment", "cadre_id", "pairing-a"))
            .unwrap()
            .remove(0);
        edit::<Assignment>(
            &w,
            &mut admin,
            &id,
            |a| a.to = Some("2019-12-31".parse().unwrap()),
            None,
        );
        taken_new(&mut admin, &later);
    }
}

#[test]
fn a_county_that_requires_photos_takes_no_check_in_without_one() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let county = &Village::example().code[..6];
        let status = reqwest::blocking::Client::new()
            .put(format!("{}/v1/settings/county/{county}", w.server.url))
            .bearer_auth(w.admin.token())
            .json(&serde_json::json!({"check_in_photo": "required"}))
            .send()
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 200);
        let mut c = CheckIn::example();
        c.cadre_id = MEMBER.into();
        c.ts = format!("{}T08:00:00+08:00", today()).parse().unwrap();
        c.photo_sha256 = None;
        let mut member = std::mem::replace(&mut w.member, Device::new(&w.server.url, MEMBER));
        refused_new(&w, &mut member, &c, "photo_required");
        c.photo_sha256 = Some("ab".repeat(32));
        taken_new(&mut member, &c);
    }
}

fn township_review() -> Step {
    Step {
        actor_id: TOWNSHIP.into(),
        ..village_step(StatusChangeStep::TownshipReview, "2016-10-26")
    }
}

#[test]
fn a_status_change_goes_step_by_step_each_by_its_level() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let mut leader = std::mem::replace(&mut w.leader, Device::new(&w.server.url, LEADER));
        // The first secretary cannot take the township's step, nor sign in another's name.
        let mut alone = exit_case(&w.home, 7);
        alone.steps.push(Step {
            actor_id: LEADER.into(),
            ..township_review()
        });
        refused_new(&w, &mut leader, &alone, "step_not_yours");
        let mut other_name = exit_case(&w.home, 7);
        other_name.steps[0].actor_id = MEMBER.into();
        refused_new(&w, &mut leader, &other_name, "step_not_yours");

        // A 公示 of five days cannot pass the township (R12); seven can.
        let short = taken_new(&mut leader, &exit_case(&w.home, 5));
        let good = taken_new(&mut leader, &exit_case(&w.home, 7));
        hostile_edit::<StatusChange>(
            &w,
            &mut leader,
            &good,
            |c| {
                c.steps
                    .push(village_step(StatusChangeStep::Application, "2016-10-25"))
            },
            "steps_out_of_order",
        );
        edit::<StatusChange>(
            &w,
            &mut leader,
            &good,
            |c| c.steps[0].note = Some("改写".into()),
            Some("step_rewritten"),
        );
        let mut township = Device::new(&w.server.url, TOWNSHIP).sign_in();
        edit::<StatusChange>(
            &w,
            &mut township,
            &short,
            |c| c.steps.push(township_review()),
            Some("exit_not_ready"),
        );
        let mut township = Device::new(&w.server.url, TOWNSHIP).sign_in();
        edit::<StatusChange>(
            &w,
            &mut township,
            &good,
            |c| c.steps.push(township_review()),
            None,
        );
        // The result is the county poverty office's: the township does not set it.
        hostile_edit::<StatusChange>(
            &w,
            &mut township,
            &good,
            |c| c.result = Some(StatusChangeResult::Approved),
            "step_not_yours",
        );
        // The status follows the approved case, not a household edit.
        let mut member = std::mem::replace(&mut w.member, Device::new(&w.server.url, MEMBER));
        edit::<Household>(
            &w,
            &mut member,
            &w.home.clone(),
            |h| {
                h.status = HouseholdStatus::ExitedSupported;
                h.exit_year = Some(2016);
            },
            Some("status_without_case"),
        );
        // The county office reads the village masked, so its phone is not sent the case: it
        // approves on the dashboard (not built yet). Here its device is given the case's
        // changes from the server, as that dashboard would hold them.
        let mut county = Device::new(&w.server.url, COUNTY).sign_in();
        let code = Village::example().code;
        let changes: Vec<IncomingChange> = w
            .server
            .db
            .read(|tx| tx.changes_after(&ScopeFilter::Village(code), 0, usize::MAX, usize::MAX))
            .unwrap()
            .into_iter()
            .filter(|c| c.doc_id == good)
            .map(|c| IncomingChange {
                doc_id: c.doc_id,
                bytes: c.bytes,
            })
            .collect();
        county.store.apply_changes(&changes).unwrap();
        edit::<StatusChange>(
            &w,
            &mut county,
            &good,
            |c| {
                c.steps.push(Step {
                    actor_id: COUNTY.into(),
                    ..village_step(StatusChangeStep::CountyApproval, "2016-10-30")
                });
                c.result = Some(StatusChangeResult::Approved);
            },
            None,
        );
        let mut member = Device::new(&w.server.url, MEMBER).sign_in();
        edit::<Household>(
            &w,
            &mut member,
            &w.home.clone(),
            |h| {
                h.status = HouseholdStatus::ExitedSupported;
                h.exit_year = Some(2016);
            },
            None,
        );
    }
}

/// The county poverty office's settings for the example village's county, set by the admin.
fn set_county(w: &World, settings: serde_json::Value) {
    let county = &Village::example().code[..6];
    let resp = reqwest::blocking::Client::new()
        .put(format!("{}/v1/settings/county/{county}", w.server.url))
        .bearer_auth(w.admin.token())
        .json(&settings)
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{}", resp.text().unwrap());
}

#[test]
fn a_case_opens_in_its_countys_window_and_an_exit_passes_the_countys_line() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let mut leader = std::mem::replace(&mut w.leader, Device::new(&w.server.url, LEADER));
        // R13: exits open in October by default; 8 November is outside, for every exit type.
        let november = |mut c: StatusChange| {
            for s in &mut c.steps {
                s.date += Duration::days(31);
            }
            if let Some(p) = c.steps.last_mut().and_then(|s| s.publicity.as_mut()) {
                p.start += Duration::days(31);
                p.end += Duration::days(31);
            }
            c
        };
        refused_new(
            &w,
            &mut leader,
            &november(exit_case(&w.home, 7)),
            "outside_window",
        );
        // A county that runs its exits in November takes the same case.
        set_county(
            &w,
            serde_json::json!({"rules": {"adjustment": {"annual_months": [11]}}}),
        );
        let case = taken_new(&mut leader, &november(exit_case(&w.home, 7)));
        refused_new(&w, &mut leader, &exit_case(&w.home, 7), "outside_window");
        // R12 at 乡镇审核 with the county's own line: above the household's income it blocks
        // the exit, the national line lets it pass.
        let review = Step {
            date: "2016-11-26".parse().unwrap(),
            ..township_review()
        };
        let lines = [
            (
                serde_json::json!([{"from_year": 2015, "line": "1000000"}]),
                Some("exit_not_ready"),
            ),
            (serde_json::json!([]), None),
        ];
        for (poverty_lines, expected) in lines {
            set_county(
                &w,
                serde_json::json!({"rules": {"adjustment": {"annual_months": [11], "poverty_lines": poverty_lines}}}),
            );
            let mut township = Device::new(&w.server.url, TOWNSHIP).sign_in();
            edit::<StatusChange>(
                &w,
                &mut township,
                &case,
                |c| c.steps.push(review.clone()),
                expected,
            );
        }
    }
}

#[test]
fn the_township_records_a_villages_steps_only_where_no_team_serves() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let mut township = Device::new(&w.server.url, TOWNSHIP).sign_in();
        let by_township = |home: &str| {
            let mut c = exit_case(home, 7);
            for s in &mut c.steps {
                s.actor_id = TOWNSHIP.into();
            }
            c
        };
        // The example village has a serving team: its first secretary opens cases there.
        refused_new(&w, &mut township, &by_township(&w.home), "step_not_yours");
        // A village of the same township with no team: the township records its steps.
        let mut lone = Village::example();
        lone.code = format!("{}202", &lone.code[..9]);
        lone.name = "无队村".into();
        let mut admin = std::mem::replace(&mut w.admin, Device::new(&w.server.url, "admin"));
        admin.store.create(&admin.author("建村"), &lone).unwrap();
        let mut h = household(7);
        h.village_code = lone.code.clone();
        for income in h.incomes.values_mut() {
            income.wage = Money::from_yuan(60_000);
        }
        let home = taken_new(&mut admin, &h);
        let mut township = Device::new(&w.server.url, TOWNSHIP).sign_in();
        taken_new(&mut township, &by_township(&home));
    }
}

fn request(from: NaiveDate) -> Leave {
    Leave {
        cadre_id: MEMBER.into(),
        from,
        to: from + Duration::days(1),
        days: 2,
        requested_ts: format!("{}T18:30:00+08:00", from - Duration::days(2))
            .parse()
            .unwrap(),
        endorsed_by: None,
        approver_id: TOWNSHIP.into(),
        status: LeaveStatus::Pending,
        returned_ts: None,
        ..Leave::example()
    }
}

#[test]
fn leave_is_requested_endorsed_approved_and_closed_by_whom_it_should_be() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let mut member = std::mem::replace(&mut w.member, Device::new(&w.server.url, MEMBER));
        let day = today() - Duration::days(6);
        // Created already approved, or endorsed by the requester itself.
        let mut approved = request(day);
        approved.status = LeaveStatus::Approved;
        refused_new(&w, &mut member, &approved, "leave_not_pending");
        let id = taken_new(&mut member, &request(day));
        edit::<Leave>(
            &w,
            &mut member,
            &id,
            |l| l.status = LeaveStatus::Approved,
            Some("self_approval"),
        );
        let mut member = Device::new(&w.server.url, MEMBER).sign_in();
        hostile_edit::<Leave>(
            &w,
            &mut member,
            &id,
            |l| l.endorsed_by = Some(MEMBER.into()),
            "self_approval",
        );
        // The first secretary endorses; the township (the level asked) approves.
        let mut leader = std::mem::replace(&mut w.leader, Device::new(&w.server.url, LEADER));
        reviewed::<Leave>(&mut leader, &id, |l| l.endorsed_by = Some(LEADER.into()));
        hostile_edit::<Leave>(
            &w,
            &mut leader,
            &id,
            |l| l.status = LeaveStatus::Approved,
            "wrong_approver",
        );
        let mut township = Device::new(&w.server.url, TOWNSHIP).sign_in();
        reviewed::<Leave>(&mut township, &id, |l| {
            l.status = LeaveStatus::Approved;
            l.decision = Some(cunji_core::domain::worklog::Review {
                reviewer_id: TOWNSHIP.into(),
                ts: "2026-01-05T09:00:00+08:00".parse().unwrap(),
                comment: None,
            });
        });
        let mut member = Device::new(&w.server.url, MEMBER).sign_in();
        edit::<Leave>(
            &w,
            &mut member,
            &id,
            |l| {
                l.status = LeaveStatus::Returned;
                l.returned_ts = Some(format!("{}T20:00:00+08:00", l.to).parse().unwrap());
            },
            None,
        );
        hostile_edit::<Leave>(
            &w,
            &mut township,
            &id,
            |l| l.status = LeaveStatus::Rejected,
            "leave_locked",
        );
    }
}

/// R10: a household has one 户主. A phone that skips its own checks and makes a second member
/// 户主 is refused, on an edit as on a new record; a household already stored with two (an
/// old import) still takes edits that leave them as they are, and the one that mends it.
#[test]
fn a_household_keeps_one_head() {
    for backend in Backend::available() {
        let mut w = world(backend);
        let mut leader = std::mem::replace(&mut w.leader, Device::new(&w.server.url, LEADER));
        let home = w.home.clone();
        let second_head = |h: &mut Household| {
            let m = h
                .members
                .iter_mut()
                .find(|(key, m)| **key != h.head_member_id && m.active)
                .map(|(_, m)| m)
                .unwrap();
            m.relation = Relation::Head;
        };
        hostile_edit::<Household>(&w, &mut leader, &home, second_head, "invalid_record");
        let stored: Household = w.server.stored_doc(&home).read().unwrap();
        let heads = stored
            .members
            .values()
            .filter(|m| m.relation == Relation::Head)
            .count();
        assert_eq!(heads, 1, "the refused edit left no trace");

        // A household the server holds with two 户主, written before the check.
        let mut admin = std::mem::replace(&mut w.admin, Device::new(&w.server.url, "admin"));
        let old = taken_new(&mut admin, &household(2));
        let mut broken: Household = w.server.stored_doc(&old).read().unwrap();
        second_head(&mut broken);
        let mut doc = w.server.stored_doc(&old);
        let env = doc.envelope().unwrap();
        let edit = Edit {
            meta: ChangeMeta {
                reason: "旧数据".into(),
                cadre_id: "admin".into(),
                device_id: "server".into(),
            },
            time_ms: 0,
        };
        let change = doc.update(&env, &broken, &edit).unwrap().unwrap();
        w.server
            .db
            .write(|tx| {
                tx.append_doc_chunk(&old, change.raw_bytes())?;
                tx.insert_change(&cunji_sync_server::store::ChangeRow {
                    hash: change.hash().0.to_vec(),
                    doc_id: old.clone(),
                    village_code: Some(Village::example().code),
                    household_id: Some(old.clone()),
                    bytes: change.raw_bytes().to_vec(),
                    device_id: "server".into(),
                    received_ts: chrono::Utc::now().to_rfc3339(),
                    device_clock_offset_ms: None,
                    owner: None,
                    proof: None,
                })
            })
            .unwrap();
        let mut leader = Device::new(&w.server.url, LEADER).sign_in();
        assert!(matches!(
            raw_edit::<Household>(&mut leader, &old, |h| h.plan = Some("种植魔芋".into())),
            PushOutcome::Accepted
        ));
        assert!(matches!(
            raw_edit::<Household>(&mut leader, &old, |h| {
                let head = h.head_member_id.clone();
                for (key, m) in h.members.iter_mut() {
                    if *key != head && m.relation == Relation::Head {
                        m.relation = Relation::Son;
                    }
                }
            }),
            PushOutcome::Accepted
        ));
    }
}

#![allow(clippy::unwrap_used)]

use super::*;
use crate::domain::Leave;
use crate::domain::codes::{DayStatus, LeaveStatus, LeaveType};
use crate::domain::{
    Assignment, CheckIn, Delivery, Entitlement, Household, Team, Village, Visit, WorkLog,
};
use crate::rules::CheckInPhoto;
use crate::rules::EffectiveSettings;
use crate::store::{Author, Store};
use attendance::sha256_hex;

/// The PIN the tests' stores are encrypted with.
const PIN: &str = "246810";

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// An app signed in as `cadre` with `role` (no server: the session row a login leaves),
/// holding the example village, its team and the example household, assigned to `cadre`.
/// Shared with the forms' tests.
pub(in crate::field) fn signed_in(
    cadre: &str,
    role: &str,
) -> (tempfile::TempDir, FieldApp, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut app = FieldApp::open(dir.path(), PIN).unwrap();
    app.store
        .set_app_session(&crate::store::AppSession {
            server_url: "http://127.0.0.1:9".into(),
            login: cadre.into(),
            token: "t".into(),
            expires_at: "2099-01-01T00:00:00Z".into(),
            cadre_id: cadre.into(),
            role: role.into(),
            last_sync: None,
        })
        .unwrap();
    let admin = Author::now("server", "import");
    app.store.create(&admin, &Village::example()).unwrap();
    app.store.create(&admin, &Team::example()).unwrap();
    let hh = app.store.create(&admin, &Household::example()).unwrap();
    let assignment = Assignment {
        household_id: hh.clone(),
        cadre_id: cadre.into(),
        from: d("2015-08-25"),
        to: None,
        is_primary: true,
    };
    app.store.create(&admin, &assignment).unwrap();
    (dir, app, hh)
}

/// [`signed_in`], and one entitlement of the household.
fn app_with_village(cadre: &str, role: &str) -> (tempfile::TempDir, FieldApp, String, String) {
    let (dir, mut app, hh) = signed_in(cadre, role);
    let admin = Author::now("server", "import");
    let ent = Entitlement {
        household_id: hh.clone(),
        ..Entitlement::example()
    };
    let ent = app.store.create(&admin, &ent).unwrap();
    (dir, app, hh, ent)
}

#[test]
fn commands_other_than_reading_need_a_signed_in_cadre() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = FieldApp::open(dir.path(), PIN).unwrap();
    assert_eq!(app.me().unwrap(), None);
    let err = app
        .check_in(
            &CheckInInput {
                lat: 25.0,
                lon: 103.6,
                accuracy_m: None,
                photo_sha256: None,
            },
            now(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "not_signed_in");
    assert_eq!(app.store.outbox_len().unwrap(), 0);
    let home = app.home(today()).unwrap();
    assert!(home.me.is_none());
}

#[test]
fn login_refuses_a_bad_server_address_without_calling_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = FieldApp::open(dir.path(), PIN).unwrap();
    let err = app
        .login(&LoginInput {
            server_url: "example.org".into(),
            login: "li".into(),
            password: "pw".into(),
        })
        .unwrap_err();
    assert_eq!(err.code(), "bad_server_url");
    let err = app
        .login(&LoginInput {
            server_url: "http://127.0.0.1:9".into(),
            login: " ".into(),
            password: "pw".into(),
        })
        .unwrap_err();
    assert_eq!(err.code(), "bad_login");
    // Port 9 (discard) is closed here: a network error, said as such.
    let err = app
        .login(&LoginInput {
            server_url: "http://127.0.0.1:9".into(),
            login: "li".into(),
            password: "pw".into(),
        })
        .unwrap_err();
    assert_eq!(err.code(), "network");
    assert_eq!(app.me().unwrap(), None);
}

#[test]
fn check_in_reports_the_geofence_and_shows_on_home() {
    let (_dir, mut app, _, _) = app_with_village("cadre-li-ming", "team_member");
    let at = ts("2015-09-14T07:52:00+08:00");
    let village = Village::example();
    let inside = app
        .check_in(
            &CheckInInput {
                lat: village.geofence.centroid.lat,
                lon: village.geofence.centroid.lon,
                accuracy_m: Some(8.0),
                photo_sha256: None,
            },
            at,
        )
        .unwrap();
    assert_eq!(inside.inside_geofence, Some(true));
    assert_eq!(inside.village_name, village.name);
    // Far away: recorded all the same, flagged outside.
    let outside = app
        .check_in(
            &CheckInInput {
                lat: 39.9,
                lon: 116.4,
                accuracy_m: Some(30.0),
                photo_sha256: None,
            },
            ts("2015-09-14T15:10:00+08:00"),
        )
        .unwrap();
    assert_eq!(outside.inside_geofence, Some(false));
    let home = app.home(d("2015-09-14")).unwrap();
    assert_eq!(home.check_ins.len(), 2);
    assert_eq!(home.check_ins[0].time, "07:52");
    assert_eq!(home.check_ins[0].inside_geofence, Some(true));
    assert_eq!(home.check_ins[1].inside_geofence, Some(false));
    assert_eq!(home.village.unwrap().code, village.code);
    assert!(home.waiting_to_sync >= 2 + 5, "{}", home.waiting_to_sync);
}

#[test]
fn a_cadre_without_a_team_gets_told_what_to_do() {
    let (_dir, mut app, _, _) = app_with_village("cadre-nobody", "team_member");
    let err = app
        .check_in(
            &CheckInInput {
                lat: 25.0,
                lon: 103.6,
                accuracy_m: None,
                photo_sha256: None,
            },
            ts("2015-09-14T07:52:00+08:00"),
        )
        .unwrap_err();
    assert_eq!(err.code(), "no_team");
    assert!(err.to_string().contains("同步"));
}

#[test]
fn leave_then_return_closes_it() {
    let (_dir, mut app, _, _) = app_with_village("cadre-li-ming", "team_member");
    let err = app
        .request_leave(
            &LeaveInput {
                leave_type: LeaveType::Personal,
                from: d("2015-10-09"),
                to: d("2015-10-08"),
                reason: "陪护".into(),
                evidence: None,
            },
            ts("2015-10-06T18:30:00+08:00"),
        )
        .unwrap_err();
    assert_eq!(err.code(), "bad_dates");
    let id = app
        .request_leave(
            &LeaveInput {
                leave_type: LeaveType::Personal,
                from: d("2015-10-08"),
                to: d("2015-10-12"),
                reason: "母亲住院手术".into(),
                evidence: Some(" ".into()),
            },
            ts("2015-10-06T18:30:00+08:00"),
        )
        .unwrap();
    let leaves = app.my_leaves(d("2015-10-07")).unwrap();
    assert_eq!(leaves.len(), 1);
    assert_eq!(leaves[0].leave.days, 5);
    assert_eq!(leaves[0].leave.status, LeaveStatus::Pending);
    // Five days is beyond the township's three (R3).
    assert_eq!(
        leaves[0].leave.level,
        crate::domain::codes::ApprovalLevel::CountyOrg
    );
    assert_eq!(leaves[0].leave.approver_id, "cadre-wang-zhigang");
    assert_eq!(leaves[0].leave.evidence, None);
    assert!(app.home(d("2015-10-09")).unwrap().on_leave.is_some());
    // Not approved yet: no 销假 (R3), nothing stored.
    let outbox = app.store.outbox_len().unwrap();
    let err = app
        .return_from_leave(&id, ts("2015-10-11T20:00:00+08:00"))
        .unwrap_err();
    assert_eq!(err.code(), "wrong_order");
    assert_eq!(app.store.outbox_len().unwrap(), outbox);
    // The organisation department's approval, as a pull brings it.
    let mut l = app.store.get::<Leave>(&id).unwrap().record;
    l.endorsed_by = Some("cadre-wang-zhigang".into());
    l.status = LeaveStatus::Approved;
    l.decision = Some(crate::domain::worklog::Review {
        reviewer_id: "org-wu".into(),
        ts: ts("2015-10-07T09:00:00+08:00"),
        comment: None,
    });
    app.store
        .review(&Author::now("org-wu", "批准请假"), &id, &l)
        .unwrap();
    app.return_from_leave(&id, ts("2015-10-11T20:00:00+08:00"))
        .unwrap();
    let leave = &app.my_leaves(d("2015-10-12")).unwrap()[0].leave;
    assert_eq!(leave.status, LeaveStatus::Returned);
    assert!(app.home(d("2015-10-09")).unwrap().on_leave.is_none());
    let history = app.store.history(&id).unwrap();
    assert_eq!(history.last().unwrap().reason, "销假");
}

#[test]
fn households_filter_by_search_and_days_since_visit() {
    let (_dir, mut app, hh, _) = app_with_village("cadre-li-ming", "team_member");
    let head = Household::example().head().unwrap().name.clone();
    let all = app
        .households(&HouseholdQuery::default(), d("2015-09-20"))
        .unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].assigned_to_me);
    assert_eq!(all[0].days_since_visit, None);
    let found = app
        .households(
            &HouseholdQuery {
                search: Some(head.chars().take(1).collect()),
                ..Default::default()
            },
            d("2015-09-20"),
        )
        .unwrap();
    assert_eq!(found.len(), 1);
    let none = app
        .households(
            &HouseholdQuery {
                search: Some("没有这个人".into()),
                ..Default::default()
            },
            d("2015-09-20"),
        )
        .unwrap();
    assert!(none.is_empty());

    let visit = Visit {
        household_id: hh.clone(),
        visitor_id: "someone-else".into(),
        ..Visit::example()
    };
    let vid = app.record_visit(&visit).unwrap();
    // R6: the visitor is the signed-in author whatever the form said.
    assert_eq!(
        app.store.get::<Visit>(&vid).unwrap().record.visitor_id,
        "cadre-li-ming"
    );
    let q = |n| HouseholdQuery {
        not_visited_days: Some(n),
        ..Default::default()
    };
    // Visited on 2015-09-12: 8 days before the 20th.
    assert_eq!(app.households(&q(7), d("2015-09-20")).unwrap().len(), 1);
    assert_eq!(app.households(&q(8), d("2015-09-20")).unwrap().len(), 0);
    let item = &app
        .households(&HouseholdQuery::default(), d("2015-09-20"))
        .unwrap()[0];
    assert_eq!(item.last_visit.as_deref(), Some("2015-09-12"));
    assert_eq!(item.days_since_visit, Some(8));
}

#[test]
fn household_page_has_flags_entitlements_deliveries_visits_and_history() {
    let (_dir, mut app, hh, ent) = app_with_village("cadre-li-ming", "team_member");
    let visit = Visit {
        household_id: hh.clone(),
        ..Visit::example()
    };
    app.record_visit(&visit).unwrap();
    let delivery = Delivery {
        entitlement_id: ent.clone(),
        ..Delivery::example()
    };
    app.record_delivery(&delivery).unwrap();
    let bad = Delivery {
        entitlement_id: "no-such".into(),
        ..Delivery::example()
    };
    assert_eq!(
        app.record_delivery(&bad).unwrap_err().code(),
        "unknown_entitlement"
    );
    let page = app.household(&hh, d("2015-10-25")).unwrap();
    assert_eq!(page.visits.len(), 1);
    assert_eq!(page.entitlements.len(), 1);
    assert_eq!(page.entitlements[0].deliveries.len(), 1);
    assert_eq!(page.entitlements[0].deliveries[0].delivery, delivery);
    assert_eq!(page.history.len(), 1);
    assert_eq!(page.history[0].cadre_id, "server");
    // The example visit answered 不愁吃穿 "yes".
    assert_eq!(page.flags.food_clothing_ok, Some(true));
    let members = app.household_members(&hh).unwrap();
    assert_eq!(members.len(), Household::example().members.len());
}

/// DOMAIN §1: a team member reads an unassigned household's ID, bank and disability numbers
/// masked (its phone normally does not hold them at all: they come only with its assigned
/// households), and its home masked, on the page and in its history tab; its assigned ones in
/// clear, as the first secretary reads every household.
#[test]
fn a_team_member_sees_unassigned_households_masked() {
    let (_dir, mut app, assigned) = signed_in("cadre-li-ming", "team_member");
    let admin = Author::now("server", "import");
    let other = Household::example();
    let other_id = app.store.create(&admin, &other).unwrap();
    let mut edited = other.clone();
    edited.home_geo = Some(crate::values::Geo::at(25.0401, 103.6799));
    app.store
        .update(&Author::now("cadre-wang", "改位置"), &other_id, &edited)
        .unwrap();
    // Without the numbers on the phone, the page has none.
    let page = app.household(&other_id, d("2015-10-25")).unwrap();
    assert!(page.masked);
    assert_eq!(page.numbers, None);
    // Numbers held from before (a phone that synced before they were split off) show masked.
    let numbers = crate::domain::HouseholdPrivate {
        household_id: other_id.clone(),
        ..crate::domain::HouseholdPrivate::example()
    };
    // The example's numbers are the assigned household's: the other household's differ.
    let mut numbers = numbers;
    for n in numbers.id_numbers.values_mut() {
        let first17 = format!("530322{}{}", &n[6..14], "901");
        let check = crate::domain::id_number::check_char(&first17).unwrap();
        *n = format!("{first17}{check}");
    }
    numbers.bank_account = Some("6210984870007654321".into());
    app.store.create(&admin, &numbers).unwrap();
    let page = app.household(&other_id, d("2015-10-25")).unwrap();
    assert!(page.masked);
    let text = serde_json::to_string(&page).unwrap();
    assert!(
        !text.contains("6210984870007654321"),
        "bank account in clear"
    );
    for (member, n) in &numbers.id_numbers {
        assert!(!text.contains(n.as_str()), "{n} in clear");
        let shown = page.numbers.as_ref().unwrap().id_no(member).unwrap();
        assert_eq!(shown, crate::domain::privacy::mask_number(n));
    }
    for m in other.members.values() {
        // Names stay: the team member knows the village.
        assert!(text.contains(&m.name));
    }
    assert!(page.household.home_geo.is_none());
    assert!(!text.contains("103.6799"), "the home's place in clear");
    // Its own household in clear.
    let mine = app.household(&assigned, d("2015-10-25")).unwrap();
    assert!(!mine.masked);
    assert_eq!(mine.household, Household::example());
    // The first secretary reads every household in clear.
    app.store
        .set_app_session(&crate::store::AppSession {
            role: "first_secretary".into(),
            ..app.store.app_session().unwrap().unwrap()
        })
        .unwrap();
    let page = app.household(&other_id, d("2015-10-25")).unwrap();
    assert!(!page.masked);
    assert_eq!(page.numbers, Some(numbers));
    assert_eq!(page.household.home_geo, edited.home_geo);
}

#[test]
fn work_log_is_one_per_day_and_edits_keep_history() {
    let (_dir, mut app, _, _) = app_with_village("cadre-li-ming", "team_member");
    let log = WorkLog {
        review: None,
        ..WorkLog::example()
    };
    let id = app.write_work_log(&log).unwrap();
    let edited = WorkLog {
        summary: "下午补充:完成3户信息核实".into(),
        ..log.clone()
    };
    assert_eq!(app.write_work_log(&edited).unwrap(), id);
    assert_eq!(app.work_log(log.date).unwrap(), Some(edited));
    assert_eq!(app.store.history(&id).unwrap().len(), 2);
    assert_eq!(app.work_log(d("2015-09-13")).unwrap(), None);
}

#[test]
fn my_month_lays_out_day_statuses_and_due_households() {
    let (_dir, mut app, hh, _) = app_with_village("cadre-li-ming", "team_member");
    let village = Village::example();
    let here = CheckInInput {
        lat: village.geofence.centroid.lat,
        lon: village.geofence.centroid.lon,
        accuracy_m: Some(5.0),
        photo_sha256: None,
    };
    // Two check-ins in the window on the 14th: 在村 under R2's defaults.
    app.check_in(&here, ts("2015-09-14T08:00:00+08:00"))
        .unwrap();
    app.check_in(&here, ts("2015-09-14T16:00:00+08:00"))
        .unwrap();
    let month = app.my_month(2015, 9, d("2015-09-30")).unwrap();
    // 2015-09-01 was a Tuesday.
    assert_eq!(month.me.leading_blanks, 1);
    assert_eq!(month.me.days.len(), 30);
    assert_eq!(month.me.days[13].day, 14);
    assert_eq!(month.me.days[13].status, Some(DayStatus::InVillage));
    assert_eq!(month.me.days[14].status, Some(DayStatus::NoRecord));
    assert_eq!(month.me.summary.in_village_days, 1);
    assert!(
        month.team.is_empty(),
        "a team member sees only their own month"
    );
    // Assigned since 2015-08-25, never visited: 36 days is within R5's 60.
    assert!(month.due.is_empty());
    let later = app.my_month(2015, 11, d("2015-11-01")).unwrap();
    assert_eq!(later.due.len(), 1);
    assert_eq!(later.due[0].household_id, hh);
    assert_eq!(later.due[0].days, 68);
    assert_eq!(
        app.my_month(2015, 13, d("2015-09-30")).unwrap_err().code(),
        "bad_month"
    );
}

#[test]
fn a_first_secretary_sees_each_team_member() {
    let (_dir, app, _, _) = app_with_village("cadre-wang-zhigang", "first_secretary");
    let month = app.my_month(2015, 9, d("2015-09-30")).unwrap();
    let ids: Vec<_> = month.team.iter().map(|m| m.cadre_id.as_str()).collect();
    assert_eq!(ids, ["cadre-li-ming", "cadre-zhao-hong"]);
    // 赵红 joined on the 1st of September: every day is on the team.
    assert_eq!(month.team[1].days.len(), 30);
}

#[test]
fn drafts_survive_reopening_until_discarded() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut app = FieldApp::open(dir.path(), PIN).unwrap();
        app.save_draft("visit:h1", r#"{"demands":"修路"}"#).unwrap();
        app.save_draft("visit:h1", r#"{"demands":"修路和饮水"}"#)
            .unwrap();
        assert_eq!(
            app.save_draft("visit:h1", "{not json").unwrap_err().code(),
            "bad_draft"
        );
    }
    let mut app = FieldApp::open(dir.path(), PIN).unwrap();
    assert_eq!(
        app.draft("visit:h1").unwrap().as_deref(),
        Some(r#"{"demands":"修路和饮水"}"#)
    );
    app.discard_draft("visit:h1").unwrap();
    assert_eq!(app.draft("visit:h1").unwrap(), None);
}

#[test]
fn conflicts_are_listed_and_settled_with_a_reason() {
    let (dir, mut app, hh, _) = app_with_village("cadre-li-ming", "team_member");
    // A second replica edits the same field concurrently.
    let mut other = Store::open(&dir.path().join("other.sqlite3")).unwrap();
    let changes: Vec<_> = app
        .store
        .changes_of(&hh)
        .unwrap()
        .into_iter()
        .map(|bytes| crate::IncomingChange {
            doc_id: hh.clone(),
            bytes,
        })
        .collect();
    other.apply_changes(&changes).unwrap();
    let mut mine = app.store.get::<Household>(&hh).unwrap().record;
    mine.phone = Some("13800000001".into());
    app.store
        .update(&Author::now("cadre-li-ming", "新号码"), &hh, &mine)
        .unwrap();
    let mut theirs = other.get::<Household>(&hh).unwrap().record;
    theirs.phone = Some("13900000002".into());
    other
        .update(&Author::now("cadre-wang-zhigang", "户主说的"), &hh, &theirs)
        .unwrap();
    let back: Vec<_> = other
        .changes_of(&hh)
        .unwrap()
        .into_iter()
        .map(|bytes| crate::IncomingChange {
            doc_id: hh.clone(),
            bytes,
        })
        .collect();
    app.store.apply_changes(&back).unwrap();

    let conflicts = app.conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    let c = &conflicts[0];
    assert_eq!(c.record_id, hh);
    assert_eq!(c.conflict.values.len(), 2);
    let chosen = c.conflict.values[1].value.clone();
    let mut input = ResolveInput {
        record_id: hh.clone(),
        path: c.conflict.path.clone(),
        value: chosen.clone(),
        reason: " ".into(),
    };
    assert_eq!(
        app.resolve_conflict(&input).unwrap_err().code(),
        "reason_required"
    );
    input.reason = "电话核实".into();
    app.resolve_conflict(&input).unwrap();
    assert!(app.conflicts().unwrap().is_empty());
    let phone = app.store.get::<Household>(&hh).unwrap().record.phone;
    assert_eq!(serde_json::json!(phone), chosen);
}

#[test]
fn code_lists_carry_the_core_labels() {
    let lists = CodeLists::all();
    let in_village = lists
        .day_status
        .iter()
        .find(|o| o.code == "in_village")
        .unwrap();
    assert_eq!(in_village.zh, "在村");
    assert_eq!(lists.leave_type.len(), LeaveType::ALL.len());
}

#[test]
fn location_from_env_parses_or_gives_none() {
    assert_eq!(
        location_from_env(Some("25.03, 103.66, 12")),
        Some(CheckInInput {
            lat: 25.03,
            lon: 103.66,
            accuracy_m: Some(12.0),
            photo_sha256: None,
        })
    );
    assert_eq!(
        location_from_env(Some("25.03,103.66")).unwrap().accuracy_m,
        None
    );
    assert_eq!(location_from_env(Some("95,103")), None);
    assert_eq!(location_from_env(Some("a,b")), None);
    assert_eq!(location_from_env(None), None);
}

#[test]
fn the_store_opens_only_with_its_pin_and_the_pin_can_change() {
    let dir = tempfile::tempdir().unwrap();
    assert!(!FieldApp::exists(dir.path()));
    let err = FieldApp::open(dir.path(), "12").unwrap_err();
    assert_eq!(err.code(), "pin_too_short");
    {
        let mut app = FieldApp::open(dir.path(), PIN).unwrap();
        app.save_draft("visit", r#"{"note":"院墙裂缝"}"#).unwrap();
    }
    assert!(FieldApp::exists(dir.path()));
    assert_eq!(
        FieldApp::open(dir.path(), "135790").unwrap_err().code(),
        "wrong_pin"
    );
    let mut app = FieldApp::open(dir.path(), PIN).unwrap();
    // The old PIN must be right before the store is re-keyed.
    assert_eq!(
        app.change_pin("000000", "135790").unwrap_err().code(),
        "wrong_pin"
    );
    app.change_pin(PIN, "135790").unwrap();
    drop(app);
    assert_eq!(
        FieldApp::open(dir.path(), PIN).unwrap_err().code(),
        "wrong_pin"
    );
    let app = FieldApp::open(dir.path(), "135790").unwrap();
    assert_eq!(
        app.draft("visit").unwrap().as_deref(),
        Some(r#"{"note":"院墙裂缝"}"#)
    );
    // Nothing the cadre typed is readable in the store's files (database, WAL, salt).
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes
                .windows("院墙裂缝".len())
                .any(|w| w == "院墙裂缝".as_bytes())
        );
    }
}

#[test]
fn home_warns_when_the_server_found_the_clock_off() {
    let (_dir, mut app, _, _) = app_with_village("liming", "team_member");
    assert_eq!(app.home(today()).unwrap().clock_off_s, None);
    // What a sync stores from the server's answer: 4 minutes fast is within R2's 10 minutes.
    app.store.set_clock_offset(240_000).unwrap();
    assert_eq!(app.home(today()).unwrap().clock_off_s, None);
    app.store.set_clock_offset(-2 * 86_400_000).unwrap();
    assert_eq!(app.home(today()).unwrap().clock_off_s, Some(-2 * 86_400));
}

/// Stores settings as a sync job does after fetching them.
fn fetched(app: &FieldApp, settings: &crate::rules::EffectiveSettings) {
    app.store.set_county_settings(settings, "now").unwrap();
}

fn county(photo: CheckInPhoto, required_days: u32, interval_days: i64) -> EffectiveSettings {
    let mut s = EffectiveSettings {
        county_code: Some("530322".into()),
        source: crate::rules::SettingsSource::County,
        updated_ts: Some("2026-11-22T08:00:00+00:00".into()),
        updated_by: Some("county-office".into()),
        ..EffectiveSettings::default()
    };
    s.settings.check_in_photo = photo;
    s.settings.rules.attendance.required_days = required_days;
    s.settings.rules.visits.interval_days = interval_days;
    s
}

/// A JPEG's first bytes and some more: enough for the photo checks.
fn jpeg(n: u8) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.extend(std::iter::repeat_n(n, 1000));
    b
}

#[test]
fn without_fetched_settings_the_defaults_apply_and_no_photo_is_offered() {
    let (_dir, app, _) = signed_in("cadre-li-ming", "team_member");
    let s = app.settings().unwrap();
    assert_eq!(s.source, crate::rules::SettingsSource::Default);
    assert_eq!(s.settings, crate::rules::CountySettings::default());
    let home = app.home(d("2015-09-14")).unwrap();
    assert_eq!(home.check_in_photo, CheckInPhoto::Off);
    assert_eq!(home.settings_source, crate::rules::SettingsSource::Default);
}

#[test]
fn fetched_settings_set_the_rules_of_my_month() {
    let (dir, app, hh, _) = app_with_village("cadre-li-ming", "team_member");
    // Assigned since 2015-08-25, never visited: on 10-15 that is 51 days, within DOMAIN's 60
    // and past the county's 30.
    let month = app.my_month(2015, 10, d("2015-10-15")).unwrap();
    assert_eq!(month.me.summary.required_days, 20);
    assert!(month.due.is_empty());
    fetched(&app, &county(CheckInPhoto::Off, 12, 30));
    let month = app.my_month(2015, 10, d("2015-10-15")).unwrap();
    assert_eq!(month.me.summary.required_days, 12);
    assert_eq!(month.due.len(), 1);
    assert_eq!(month.due[0].household_id, hh);
    // They are kept in the store: reopening (offline) finds them.
    drop(app);
    let app = FieldApp::open(dir.path(), PIN).unwrap();
    assert_eq!(
        app.settings()
            .unwrap()
            .settings
            .rules
            .attendance
            .required_days,
        12
    );
    // Settings this build cannot read count as none, never as an error.
    app.store
        .set_county_settings_json("{\"settings\": 5}", "now")
        .unwrap();
    assert_eq!(app.settings().unwrap(), EffectiveSettings::default());
}

#[test]
fn a_check_in_photo_is_kept_on_the_phone_and_recorded_by_its_hash() {
    let (dir, mut app, _) = signed_in("cadre-li-ming", "team_member");
    fetched(&app, &county(CheckInPhoto::Optional, 20, 60));
    assert_eq!(
        app.home(d("2015-09-14")).unwrap().check_in_photo,
        CheckInPhoto::Optional
    );
    let photo = jpeg(7);
    let hash = app.save_check_in_photo(&photo).unwrap();
    assert_eq!(hash, sha256_hex(&photo));
    assert_eq!(hash.len(), 64);
    let kept = dir.path().join(PHOTO_DIR).join(format!("{hash}.jpg"));
    assert_eq!(std::fs::read(&kept).unwrap(), photo);
    // The same photo again: the same hash, one file.
    assert_eq!(app.save_check_in_photo(&photo).unwrap(), hash);
    assert_eq!(
        std::fs::read_dir(dir.path().join(PHOTO_DIR))
            .unwrap()
            .count(),
        1
    );

    let village = Village::example();
    let mut input = CheckInInput {
        lat: village.geofence.centroid.lat,
        lon: village.geofence.centroid.lon,
        accuracy_m: Some(8.0),
        photo_sha256: Some(hash.clone()),
    };
    let done = app
        .check_in(&input, ts("2015-09-14T08:00:00+08:00"))
        .unwrap();
    let record = app.store.get::<CheckIn>(&done.id).unwrap().record;
    assert_eq!(record.photo_sha256.as_deref(), Some(hash.as_str()));
    // Optional: no photo is fine too.
    input.photo_sha256 = None;
    let done = app
        .check_in(&input, ts("2015-09-14T09:00:00+08:00"))
        .unwrap();
    assert_eq!(
        app.store
            .get::<CheckIn>(&done.id)
            .unwrap()
            .record
            .photo_sha256,
        None
    );
    // A hash of a photo the phone does not have is refused: it would prove nothing.
    input.photo_sha256 = Some(sha256_hex(&jpeg(8)));
    let err = app
        .check_in(&input, ts("2015-09-14T10:00:00+08:00"))
        .unwrap_err();
    assert_eq!(err.code(), "photo_missing");
}

#[test]
fn a_county_that_requires_a_photo_gets_no_check_in_without_one() {
    let (_dir, mut app, _) = signed_in("cadre-li-ming", "team_member");
    fetched(&app, &county(CheckInPhoto::Required, 20, 60));
    let village = Village::example();
    let mut input = CheckInInput {
        lat: village.geofence.centroid.lat,
        lon: village.geofence.centroid.lon,
        accuracy_m: Some(8.0),
        photo_sha256: None,
    };
    let outbox = app.store.outbox_len().unwrap();
    let err = app
        .check_in(&input, ts("2015-09-14T08:00:00+08:00"))
        .unwrap_err();
    assert_eq!(err.code(), "photo_required");
    assert!(err.to_string().contains("拍照"), "{err}");
    assert_eq!(
        app.store.outbox_len().unwrap(),
        outbox,
        "nothing was recorded"
    );
    input.photo_sha256 = Some(app.save_check_in_photo(&jpeg(1)).unwrap());
    app.check_in(&input, ts("2015-09-14T08:00:00+08:00"))
        .unwrap();
}

#[test]
fn what_is_not_a_photo_is_refused_with_what_to_do() {
    let (dir, app, _) = signed_in("cadre-li-ming", "team_member");
    let err = app.save_check_in_photo(b"hello, not an image").unwrap_err();
    assert_eq!(err.code(), "not_a_photo");
    assert!(err.to_string().contains("相机"));
    let err = app.save_check_in_photo(&[]).unwrap_err();
    assert_eq!(err.code(), "not_a_photo");
    let mut big = jpeg(0);
    big.resize(MAX_PHOTO_BYTES + 1, 0);
    assert_eq!(
        app.save_check_in_photo(&big).unwrap_err().code(),
        "photo_too_large"
    );
    assert!(!dir.path().join(PHOTO_DIR).exists(), "nothing kept");
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend([0u8; 64]);
    let hash = app.save_check_in_photo(&png).unwrap();
    assert!(
        dir.path()
            .join(PHOTO_DIR)
            .join(format!("{hash}.png"))
            .exists()
    );
}

const LEADER: &str = "cadre-wang-zhigang";
const MEMBER: &str = "cadre-li-ming";

/// A team member's leave request of `days` days from 2015-10-08, as it reaches the first
/// secretary's phone (made by the member, on the leader's store as a pull would leave it).
fn members_leave(app: &mut FieldApp, days: u32) -> String {
    let leave = Leave {
        cadre_id: MEMBER.into(),
        leave_type: LeaveType::Personal,
        from: d("2015-10-08"),
        to: d("2015-10-08") + chrono::Duration::days(i64::from(days) - 1),
        days,
        reason: "母亲住院手术".into(),
        requested_ts: ts("2015-10-06T18:30:00+08:00"),
        endorsed_by: None,
        approver_id: LEADER.into(),
        level: crate::domain::codes::ApprovalLevel::Township,
        status: LeaveStatus::Pending,
        returned_ts: None,
        evidence: None,
        decision: None,
    };
    let leave = Leave {
        level: leave.required_level(3),
        ..leave
    };
    app.store
        .create(&Author::now(MEMBER, "请假"), &leave)
        .unwrap()
}

/// A team member's work log of `date`, on the first secretary's phone.
fn members_log(app: &mut FieldApp, date: &str) -> String {
    let log = WorkLog {
        date: d(date),
        review: None,
        leader_comment: None,
        ..WorkLog::example()
    };
    app.store
        .create(&Author::now(MEMBER, "驻村日志"), &log)
        .unwrap()
}

#[test]
fn the_first_secretary_endorses_a_team_members_leave_once() {
    let (_dir, mut app, _) = signed_in(LEADER, "first_secretary");
    let short = members_leave(&mut app, 2);
    let long = members_leave(&mut app, 5);
    let today = d("2015-10-07");
    let pending = app.team_pending(today).unwrap();
    let ids: Vec<_> = pending.leaves.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&short.as_str()) && ids.contains(&long.as_str()));
    assert!(
        pending
            .leaves
            .iter()
            .all(|l| l.stage == LeaveStage::AwaitingEndorsement)
    );

    let outbox = app.store.outbox_len().unwrap();
    app.endorse_leave(&short, true, None, ts("2015-10-07T08:00:00+08:00"))
        .unwrap();
    assert_eq!(
        app.store.outbox_len().unwrap(),
        outbox + 1,
        "one signed change"
    );
    let stored = app.store.get::<Leave>(&short).unwrap().record;
    assert_eq!(stored.endorsed_by.as_deref(), Some(LEADER));
    assert_eq!(stored.status, LeaveStatus::Pending);
    let history = app.store.history(&short).unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.cadre_id.as_str(), last.reason.as_str()),
        (LEADER, "队长同意")
    );
    // Now it waits for the township (2 days ≤ 3⚙); the 5-day one still for the leader.
    let pending = app.team_pending(today).unwrap();
    assert_eq!(pending.leaves.len(), 1);
    assert_eq!(pending.leaves[0].id, long);
    let row = app.leave_row(short.clone(), stored.clone(), today).unwrap();
    assert_eq!(row.stage, LeaveStage::AwaitingTownship);
    assert_eq!(
        row.steps.iter().map(|s| s.step).collect::<Vec<_>>(),
        [LeaveStepKind::Requested, LeaveStepKind::Endorsed]
    );
    assert!(row.steps[1].at.is_some(), "when it was endorsed");
    // Not before approval: 销假 says why.
    assert_eq!(row.return_blocked.unwrap().code, "wrong_order");

    // Endorsing twice is refused, nothing stored.
    let outbox = app.store.outbox_len().unwrap();
    let err = app
        .endorse_leave(&short, true, None, ts("2015-10-07T09:00:00+08:00"))
        .unwrap_err();
    assert_eq!(err.code(), "wrong_order");
    // Sending back after the endorsement is the approver's, not the leader's.
    let err = app
        .endorse_leave(
            &short,
            false,
            Some("不同意"),
            ts("2015-10-07T09:00:00+08:00"),
        )
        .unwrap_err();
    assert_eq!(err.code(), "wrong_approver");
    assert_eq!(app.store.outbox_len().unwrap(), outbox);
    assert_eq!(app.store.get::<Leave>(&short).unwrap().record, stored);
}

#[test]
fn the_first_secretary_sends_back_only_with_a_reason() {
    let (_dir, mut app, _) = signed_in(LEADER, "first_secretary");
    let id = members_leave(&mut app, 5);
    let before = app.store.get::<Leave>(&id).unwrap().record;
    let outbox = app.store.outbox_len().unwrap();
    for reason in [None, Some("  ")] {
        let err = app
            .endorse_leave(&id, false, reason, ts("2015-10-07T08:00:00+08:00"))
            .unwrap_err();
        assert_eq!(err.code(), "reason_required");
    }
    assert_eq!(app.store.outbox_len().unwrap(), outbox, "nothing stored");
    assert_eq!(app.store.get::<Leave>(&id).unwrap().record, before);
    app.endorse_leave(
        &id,
        false,
        Some(" 汛期值班,请改期 "),
        ts("2015-10-07T08:00:00+08:00"),
    )
    .unwrap();
    let l = app.store.get::<Leave>(&id).unwrap().record;
    assert_eq!(l.status, LeaveStatus::Rejected);
    let decision = l.decision.clone().unwrap();
    assert_eq!(decision.reviewer_id, LEADER);
    assert_eq!(decision.comment.as_deref(), Some("汛期值班,请改期"));
    let row = app.leave_row(id.clone(), l, d("2015-10-07")).unwrap();
    assert_eq!(row.stage, LeaveStage::SentBack);
    let back = row.steps.last().unwrap();
    assert_eq!(back.step, LeaveStepKind::SentBack);
    assert_eq!(back.by_name.as_deref(), Some(LEADER));
    assert_eq!(back.note.as_deref(), Some("汛期值班,请改期"));
    assert!(app.team_pending(d("2015-10-07")).unwrap().leaves.is_empty());
    // Closed: nothing more.
    let err = app
        .endorse_leave(&id, true, None, ts("2015-10-07T09:00:00+08:00"))
        .unwrap_err();
    assert_eq!(err.code(), "leave_locked");
}

#[test]
fn a_team_member_neither_endorses_nor_comments() {
    let (_dir, mut app, _) = signed_in("cadre-zhao-hong", "team_member");
    let leave = members_leave(&mut app, 2);
    let log = members_log(&mut app, "2015-10-06");
    let outbox = app.store.outbox_len().unwrap();
    let at = ts("2015-10-07T08:00:00+08:00");
    assert_eq!(
        app.endorse_leave(&leave, true, None, at)
            .unwrap_err()
            .code(),
        "not_endorser"
    );
    assert_eq!(
        app.comment_log(&log, "很好", at).unwrap_err().code(),
        "wrong_approver"
    );
    let pending = app.team_pending(d("2015-10-07")).unwrap();
    assert!(pending.leaves.is_empty() && pending.logs.is_empty());
    assert_eq!(app.store.outbox_len().unwrap(), outbox, "nothing stored");
    assert!(
        app.store
            .get::<Leave>(&leave)
            .unwrap()
            .record
            .endorsed_by
            .is_none()
    );
}

#[test]
fn nobody_endorses_their_own_leave() {
    let (_dir, mut app, _) = signed_in(MEMBER, "first_secretary");
    let id = members_leave(&mut app, 2);
    let err = app
        .endorse_leave(&id, true, None, ts("2015-10-07T08:00:00+08:00"))
        .unwrap_err();
    assert_eq!(err.code(), "self_approval");
    assert!(
        app.store
            .get::<Leave>(&id)
            .unwrap()
            .record
            .endorsed_by
            .is_none()
    );
}

#[test]
fn the_first_secretary_comments_once_on_a_team_members_log() {
    let (_dir, mut app, _) = signed_in(LEADER, "first_secretary");
    let recent = members_log(&mut app, "2015-10-06");
    // August's logs were due for the township's review by 10 September: no longer waiting.
    members_log(&mut app, "2015-08-28");
    let today = d("2015-10-07");
    let pending = app.team_pending(today).unwrap();
    assert_eq!(
        pending
            .logs
            .iter()
            .map(|l| l.id.as_str())
            .collect::<Vec<_>>(),
        [recent.as_str()]
    );
    assert_eq!(
        pending.logs[0].author_name, MEMBER,
        "no file: the id stands for the name"
    );
    let at = ts("2015-10-07T08:00:00+08:00");
    assert_eq!(
        app.comment_log(&recent, "  ", at).unwrap_err().code(),
        "comment_required"
    );
    app.comment_log(&recent, "走访记录详实,下一步跟进危房改造", at)
        .unwrap();
    let log = app.store.get::<WorkLog>(&recent).unwrap().record;
    let c = log.leader_comment.clone().unwrap();
    assert_eq!(c.reviewer_id, LEADER);
    assert_eq!(
        c.comment.as_deref(),
        Some("走访记录详实,下一步跟进危房改造")
    );
    assert!(app.team_pending(today).unwrap().logs.is_empty());
    let outbox = app.store.outbox_len().unwrap();
    assert_eq!(
        app.comment_log(&recent, "再评", at).unwrap_err().code(),
        "review_locked"
    );
    assert_eq!(app.store.outbox_len().unwrap(), outbox);
    assert_eq!(app.store.get::<WorkLog>(&recent).unwrap().record, log);
}

#[test]
fn return_from_leave_follows_the_order_and_late_requests_are_said_at_entry() {
    let (_dir, mut app, _) = signed_in(MEMBER, "team_member");
    let input = |leave_type, from: &str, to: &str| LeaveInput {
        leave_type,
        from: d(from),
        to: d(to),
        reason: "发烧就医".into(),
        evidence: None,
    };
    let at = ts("2015-10-09T08:00:00+08:00");
    // R3 at entry: personal leave after it began is late; sick leave within 2 days⚙ is not.
    let late = app
        .leave_notice(&input(LeaveType::Personal, "2015-10-08", "2015-10-08"), at)
        .unwrap()
        .unwrap();
    assert_eq!(late.code, "leave_late");
    assert!(late.zh.contains("晚了1天"), "{}", late.zh);
    assert_eq!(
        app.leave_notice(&input(LeaveType::Sick, "2015-10-07", "2015-10-08"), at)
            .unwrap(),
        None
    );
    let sick = app
        .leave_notice(&input(LeaveType::Sick, "2015-10-06", "2015-10-08"), at)
        .unwrap()
        .unwrap();
    assert!(sick.zh.contains("2天内"), "{}", sick.zh);
    assert_eq!(
        app.leave_notice(&input(LeaveType::Personal, "2015-10-10", "2015-10-11"), at)
            .unwrap(),
        None
    );
    let id = app
        .request_leave(&input(LeaveType::Sick, "2015-10-07", "2015-10-08"), at)
        .unwrap();
    // Pending: 销假 is refused with the core's code and says why.
    let row = &app.my_leaves(d("2015-10-09")).unwrap()[0];
    assert_eq!(row.stage, LeaveStage::AwaitingEndorsement);
    let why = row.return_blocked.clone().unwrap();
    assert_eq!(why.code, "wrong_order");
    assert!(why.zh.contains("已批准"), "{}", why.zh);
    let outbox = app.store.outbox_len().unwrap();
    assert_eq!(
        app.return_from_leave(&id, at).unwrap_err().code(),
        "wrong_order"
    );
    assert_eq!(app.store.outbox_len().unwrap(), outbox, "nothing stored");
    // Approved (as the township's change would arrive), past its end: 超期未销假, then 销假.
    let mut l = app.store.get::<Leave>(&id).unwrap().record;
    l.endorsed_by = Some(LEADER.into());
    l.status = LeaveStatus::Approved;
    l.decision = Some(crate::domain::worklog::Review {
        reviewer_id: "township-zhang".into(),
        ts: ts("2015-10-09T09:00:00+08:00"),
        comment: None,
    });
    app.store
        .review(&Author::now("township-zhang", "批准请假"), &id, &l)
        .unwrap();
    let row = &app.my_leaves(d("2015-10-10")).unwrap()[0];
    assert_eq!(row.stage, LeaveStage::Overdue);
    assert_eq!(row.return_blocked, None);
    let approved = row
        .steps
        .iter()
        .find(|s| s.step == LeaveStepKind::Approved)
        .unwrap();
    assert_eq!(
        approved.by_name, None,
        "the township's account has no file here"
    );
    assert_eq!(
        approved.by_level,
        Some(crate::domain::codes::ApprovalLevel::Township)
    );
    app.return_from_leave(&id, ts("2015-10-10T08:00:00+08:00"))
        .unwrap();
    let row = &app.my_leaves(d("2015-10-10")).unwrap()[0];
    assert_eq!(row.stage, LeaveStage::Returned);
    assert_eq!(row.return_blocked.clone().unwrap().code, "leave_locked");
}

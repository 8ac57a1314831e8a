//! Reports 1–9 (DOMAIN §4) over a small fixed data set stored through the server's ingest
//! path, checked against figures computed by hand (the computations are in the comments), on
//! SQLite and on PostgreSQL; then the role scoping, the masking, CSV/xlsx exports, the OpenAPI
//! document and the supervisors' pull and export.
//!
//! The data set: township A (530322101) with 新庄村 V1 and 大水井村 V2, township B
//! (530322102) with 外乡村 V3, whose records must never show in A's reports.
//!
//! Each report and each of the checks after them is a test of its own, so that one failure
//! does not hide the others; each runs on every backend in turn. The tests that only read
//! share one server per backend with the accounts and the data set ([`shared`], built by the
//! first of them and kept for the rest of the process). A test that writes gets a server of
//! its own ([`Fixture::new`]), so that the shared data set stays the same whatever the tests
//! run alongside it:
//!
//! - `report_1_and_3_follow_the_county_settings` changes the county's ⚙ settings, which
//!   decide reports 1 and 3;
//! - `report_4_counts_a_visit_synced_from_a_phone` pushes a visit to H4 from 李明's phone,
//!   which takes H4 out of report 4;
//! - `supervisors_pull_and_export` counts that visit too (it makes it first) and stores
//!   another, v10 to H1 on 2 April, which would take H1 out of report 4 and the scoping
//!   checks, and which its pull after the last cursor must find alone.
//!
//! The shared servers are never dropped (they live in `static`s): a child process removes
//! their temporary directories and PostgreSQL databases after this one has ended
//! ([`TestServer::reap_after_exit`]).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use cunji_core::domain::codes::*;
use cunji_core::domain::inspection::HouseholdCheck;
use cunji_core::domain::org::Geofence;
use cunji_core::domain::petition::ReturnVisit;
use cunji_core::domain::status_change::{Publicity, Snapshot, Step};
use cunji_core::domain::worklog::Review;
use cunji_core::domain::{
    Assignment, Cadre, CheckIn, Delivery, Entitlement, Household, Inspection, Leave, Petition,
    PolicyItem, Record, SatisfactionSurvey, StatusChange, Team, TeamMember, Unit, Village, Visit,
    WorkLog,
};
use cunji_core::values::{Date, Geo, Money, Timestamp};
use cunji_sync_server::accounts::Role;
use cunji_sync_server::records::{Provenance, create_with};
use cunji_sync_server::store::Tx;
use cunji_tests::{Backend, Device, Reaper, TestServer, household, numbers};
use serde_json::{Value, json};

const V1: &str = "530322101201";
const V2: &str = "530322101202";
const V3: &str = "530322102201";

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn hash(n: u32) -> String {
    format!("{n:064x}")
}

/// Stores `record` authored by `login` on `device`, received by the server at `received`.
fn put<T: Record>(
    tx: &mut dyn Tx,
    login: &str,
    device: &str,
    id: Option<&str>,
    received: &str,
    record: &T,
) -> String {
    let p = Provenance {
        login: login.into(),
        device_id: device.into(),
        reason: "测试数据".into(),
        created: ts(received),
        received: ts(received).to_utc(),
        id: id.map(String::from),
    };
    create_with(tx, &p, record).unwrap_or_else(|e| panic!("{e}: {record:?}"))
}

fn village(code: &str, name: &str, lat: f64, lon: f64) -> Village {
    Village {
        code: code.into(),
        township_code: code[..9].into(),
        name: name.into(),
        geofence: Geofence::circle(Geo::at(lat, lon)),
        ..Village::example()
    }
}

const HOME: [(f64, f64); 7] = [
    (25.0338, 103.6702), // H1
    (25.0350, 103.6650), // H2
    (25.0300, 103.6700), // H3
    (25.0290, 103.6660), // H4
    (25.0520, 103.7020), // H5
    (25.0480, 103.6980), // H6
    (25.2010, 103.9010), // H7
];

fn home(n: usize) -> Geo {
    Geo::at(HOME[n - 1].0, HOME[n - 1].1)
}

fn hh(n: usize, village: &str, status: HouseholdStatus) -> Household {
    let mut h = household(n as u64);
    h.village_code = village.into();
    h.status = status;
    h.registered_year = 2014;
    h.exit_year = status.is_exited().then_some(2016);
    h.home_geo = Some(home(n));
    h
}

#[allow(clippy::too_many_arguments)]
fn visit(
    h: &str,
    visitor: &str,
    mode: VisitMode,
    start: &str,
    minutes: i64,
    geo: Option<Geo>,
    confirm: Option<String>,
) -> Visit {
    let start = ts(start);
    Visit {
        household_id: h.into(),
        visitor_id: visitor.into(),
        role_at_visit: VisitRole::PairingCadre,
        mode,
        start_ts: start,
        end_ts: start + chrono::Duration::minutes(minutes),
        geo,
        no_gps_reason: geo.is_none().then(|| "室内无信号".into()),
        confirmation: if confirm.is_some() {
            Confirmation::HeadSigned
        } else {
            Confirmation::Refused
        },
        refusal_reason: confirm.is_none().then(|| "户主外出务工".into()),
        confirmation_image_sha256: confirm,
        photos: vec![],
        follow_up_due: None,
        ..Visit::example()
    }
}

fn checkin(cadre: &str, village: &str, at: &str, geo: Geo, mock: bool) -> CheckIn {
    CheckIn {
        cadre_id: cadre.into(),
        village_code: village.into(),
        ts: ts(at),
        geo,
        slot: None,
        photo_sha256: None,
        mock_flag: mock,
    }
}

#[allow(clippy::too_many_arguments)]
fn leave(
    cadre: &str,
    t: LeaveType,
    from: &str,
    to: &str,
    requested: &str,
    status: LeaveStatus,
    returned: Option<&str>,
) -> Leave {
    let (from, to) = (d(from), d(to));
    Leave {
        cadre_id: cadre.into(),
        leave_type: t,
        from,
        to,
        days: (to - from).num_days() as u32 + 1,
        reason: "测试".into(),
        requested_ts: ts(requested),
        endorsed_by: None,
        approver_id: "town-a".into(),
        level: ApprovalLevel::Township,
        status,
        returned_ts: returned.map(ts),
        evidence: None,
        decision: None,
    }
}

fn survey(h: &str, period: &str, source: SurveySource, result: Satisfaction) -> SatisfactionSurvey {
    SatisfactionSurvey {
        household_id: h.into(),
        period: period.into(),
        surveyor_id: "town-a".into(),
        source,
        respondent_member_id: "m1".into(),
        result,
        reasons: Some("测试".into()),
    }
}

#[allow(clippy::too_many_arguments)]
fn petition(
    village: &str,
    h: &str,
    received: &str,
    channel: PetitionChannel,
    domain: PetitionDomain,
    status: PetitionStatus,
    closed: Option<&str>,
    return_visit: Option<(&str, ReturnVisitResult)>,
) -> Petition {
    let received = d(received);
    Petition {
        received_date: received,
        channel,
        household_id: Some(h.into()),
        village_code: village.into(),
        domain,
        due_date: Petition::default_due(received),
        status,
        resolution: closed.map(|_| "已办结".into()),
        closed_date: closed.map(d),
        return_visit: return_visit.map(|(date, result)| ReturnVisit {
            date: d(date),
            result,
        }),
        ..Petition::example()
    }
}

fn step(s: StatusChangeStep, date: &str) -> Step {
    Step {
        step: s,
        date: d(date),
        actor_id: "c-wang".into(),
        outcome: StepOutcome::Passed,
        note: None,
        votes_for: None,
        votes_against: None,
        publicity: None,
    }
}

fn publicity(date: &str, end: &str) -> Step {
    Step {
        publicity: Some(Publicity {
            start: d(date),
            end: d(end),
            objections: vec![],
        }),
        ..step(StatusChangeStep::Publicity, date)
    }
}

fn case(h: &str, t: StatusChangeType, per_capita: Option<i64>, steps: Vec<Step>) -> StatusChange {
    StatusChange {
        household_id: h.into(),
        change_type: t,
        reason: "测试".into(),
        snapshot: Snapshot {
            income_year: 2016,
            per_capita: per_capita.map(Money::from_yuan),
            food_clothing_ok: Some(true),
            education_ok: true,
            medical_ok: true,
            housing_ok: true,
            water_ok: true,
        },
        steps,
        effective_date: None,
        result: None,
    }
}

/// The fixed data set (see the module docs and each report's hand computation).
fn fixture(tx: &mut dyn Tx) {
    let at = "2015-08-20T00:00:00Z";
    put(
        tx,
        "admin",
        "server",
        None,
        at,
        &village(V1, "新庄村", 25.0312, 103.6674),
    );
    put(
        tx,
        "admin",
        "server",
        None,
        at,
        &village(V2, "大水井村", 25.0500, 103.7000),
    );
    put(
        tx,
        "admin",
        "server",
        None,
        at,
        &village(V3, "外乡村", 25.2000, 103.9000),
    );
    for (id, name, level) in [
        ("unit-czj", "曲靖市财政局", UnitLevel::City),
        ("unit-nyj", "师宗县农业局", UnitLevel::County),
    ] {
        put(
            tx,
            "admin",
            "server",
            Some(id),
            at,
            &Unit {
                name: name.into(),
                level,
            },
        );
    }
    for (id, name, unit, level, role) in [
        (
            "c-wang",
            "王志刚",
            "unit-czj",
            UnitLevel::City,
            CadreRole::FirstSecretary,
        ),
        (
            "c-li",
            "李明",
            "unit-czj",
            UnitLevel::City,
            CadreRole::TeamMember,
        ),
        (
            "c-zhao",
            "赵强",
            "unit-nyj",
            UnitLevel::County,
            CadreRole::PairingCadre,
        ),
        (
            "c-sun",
            "孙丽",
            "unit-nyj",
            UnitLevel::County,
            CadreRole::FirstSecretary,
        ),
        (
            "c-zhou",
            "周平",
            "unit-nyj",
            UnitLevel::County,
            CadreRole::FirstSecretary,
        ),
    ] {
        let cadre = Cadre {
            name: name.into(),
            unit_id: unit.into(),
            level,
            role,
            id_no: None,
            ..Cadre::example()
        };
        put(tx, "admin", "server", Some(id), at, &cadre);
    }
    let member = |from: &str| TeamMember {
        from: d(from),
        to: None,
    };
    let team = |village: &str, leader: &str, members: Vec<(&str, TeamMember)>| Team {
        village_code: village.into(),
        leader_id: leader.into(),
        members: members
            .into_iter()
            .map(|(c, m)| (c.to_string(), m))
            .collect(),
    };
    put(
        tx,
        "admin",
        "server",
        None,
        at,
        &team(
            V1,
            "c-wang",
            vec![
                ("c-wang", member("2015-08-25")),
                ("c-li", member("2016-03-16")),
            ],
        ),
    );
    put(
        tx,
        "admin",
        "server",
        None,
        at,
        &team(V2, "c-sun", vec![("c-sun", member("2015-08-25"))]),
    );
    put(
        tx,
        "admin",
        "server",
        None,
        at,
        &team(V3, "c-zhou", vec![("c-zhou", member("2015-08-25"))]),
    );

    // Households H1–H7 (ids hh-1 … hh-7).
    use HouseholdStatus::*;
    for (n, v, status) in [
        (1, V1, NotExited),
        (2, V1, ExitedSupported),
        (3, V1, ExitedUnsupported),
        (4, V1, NotExited),
        (5, V2, ReturnedToPoverty),
        (6, V2, Removed),
        (7, V3, NotExited),
    ] {
        put(
            tx,
            "c-wang",
            "dev-c-wang",
            Some(&format!("hh-{n}")),
            at,
            &hh(n, v, status),
        );
        put(
            tx,
            "c-wang",
            "dev-c-wang",
            Some(&format!("hh-{n}-numbers")),
            at,
            &numbers(n as u64, &format!("hh-{n}")),
        );
    }
    for (h, c, primary) in [
        ("hh-1", "c-li", true),
        ("hh-2", "c-li", true),
        ("hh-3", "c-zhao", true),
        ("hh-4", "c-zhao", true),
        ("hh-5", "c-sun", true),
        ("hh-6", "c-sun", true),
        ("hh-1", "c-zhao", false),
        ("hh-7", "c-zhou", true),
    ] {
        let a = Assignment {
            household_id: h.into(),
            cadre_id: c.into(),
            from: d("2015-09-01"),
            to: None,
            is_primary: primary,
        };
        put(tx, "admin", "server", None, at, &a);
    }

    // Visits v1–v9; each received an hour after it started unless said otherwise.
    use VisitMode::*;
    let visits = [
        (
            "v1",
            "hh-1",
            "c-li",
            InHome,
            "2016-03-10T09:00:00+08:00",
            40,
            Some(home(1)),
            Some(hash(0xa)),
            "dev-c-li",
            None,
        ),
        (
            "v2",
            "hh-2",
            "c-li",
            Phone,
            "2016-03-12T19:00:00+08:00",
            10,
            None,
            None,
            "dev-c-li",
            None,
        ),
        (
            "v3",
            "hh-2",
            "c-li",
            InHome,
            "2016-01-20T10:00:00+08:00",
            30,
            Some(home(2)),
            Some(hash(0xb)),
            "dev-c-li",
            None,
        ),
        (
            "v4",
            "hh-4",
            "c-wang",
            InHome,
            "2016-03-15T10:00:00+08:00",
            30,
            Some(home(4)),
            Some(hash(0xc)),
            "dev-shared",
            None,
        ),
        (
            "v5",
            "hh-5",
            "c-sun",
            InHome,
            "2016-03-05T09:00:00+08:00",
            3,
            Some(Geo::at(25.0700, 103.7020)),
            None,
            "dev-c-sun",
            None,
        ),
        (
            "v6",
            "hh-6",
            "c-sun",
            InHome,
            "2016-03-06T09:10:00+08:00",
            30,
            Some(home(6)),
            Some(hash(0xa)),
            "dev-c-sun",
            None,
        ),
        (
            "v7",
            "hh-1",
            "c-li",
            InHome,
            "2016-03-20T10:00:00+08:00",
            30,
            Some(home(1)),
            Some(hash(0xd)),
            "dev-c-li",
            Some("2016-03-29T12:00:00Z"),
        ),
        (
            "v8",
            "hh-7",
            "c-zhou",
            InHome,
            "2016-03-10T09:00:00+08:00",
            30,
            Some(home(7)),
            Some(hash(0xe)),
            "dev-c-zhou",
            None,
        ),
        (
            "v9",
            "hh-2",
            "c-li",
            InVillage,
            "2016-03-15T15:00:00+08:00",
            20,
            None,
            Some(hash(0xf)),
            "dev-shared",
            None,
        ),
    ];
    for (id, h, c, mode, start, minutes, geo, confirm, device, received) in visits {
        let received = received
            .map(String::from)
            .unwrap_or_else(|| (ts(start) + chrono::Duration::hours(1)).to_rfc3339());
        put(
            tx,
            c,
            device,
            Some(id),
            &received,
            &visit(h, c, mode, start, minutes, geo, confirm),
        );
    }

    // Check-ins (08:00 local unless said otherwise).
    let v1_centre = Geo::at(25.0312, 103.6674);
    let v2_centre = Geo::at(25.0500, 103.7000);
    let mut checkins = Vec::new();
    for day in 1..=20 {
        checkins.push(checkin(
            "c-wang",
            V1,
            &format!("2016-03-{day:02}T08:00:00+08:00"),
            v1_centre,
            false,
        ));
    }
    for day in [16, 17, 18, 19, 28, 29, 30, 31] {
        checkins.push(checkin(
            "c-li",
            V1,
            &format!("2016-03-{day:02}T08:00:00+08:00"),
            v1_centre,
            false,
        ));
    }
    // Outside 新庄村's fence (3.9 km from its centre), during visit v7.
    checkins.push(checkin(
        "c-li",
        V1,
        "2016-03-20T10:15:00+08:00",
        v2_centre,
        false,
    ));
    checkins.push(checkin(
        "c-li",
        V1,
        "2016-03-21T08:00:00+08:00",
        v1_centre,
        true,
    ));
    for day in 1..=10 {
        checkins.push(checkin(
            "c-sun",
            V2,
            &format!("2016-03-{day:02}T08:00:00+08:00"),
            v2_centre,
            false,
        ));
    }
    checkins.push(checkin(
        "c-zhou",
        V3,
        "2016-03-01T08:00:00+08:00",
        Geo::at(25.2, 103.9),
        false,
    ));
    for c in &checkins {
        put(
            tx,
            &c.cadre_id,
            &format!("dev-{}", c.cadre_id),
            None,
            &c.ts.to_rfc3339(),
            c,
        );
    }

    use LeaveStatus::*;
    use LeaveType::*;
    let leaves = [
        leave(
            "c-wang",
            Personal,
            "2016-03-21",
            "2016-03-23",
            "2016-03-18T09:00:00+08:00",
            Returned,
            Some("2016-03-24T08:00:00+08:00"),
        ),
        leave(
            "c-wang",
            OfficialTrip,
            "2016-03-24",
            "2016-03-25",
            "2016-03-20T09:00:00+08:00",
            Returned,
            Some("2016-03-25T20:00:00+08:00"),
        ),
        leave(
            "c-li",
            Sick,
            "2016-03-22",
            "2016-03-24",
            "2016-03-23T08:00:00+08:00",
            Approved,
            None,
        ),
        leave(
            "c-sun",
            Rotation,
            "2016-03-11",
            "2016-03-13",
            "2016-03-05T09:00:00+08:00",
            Returned,
            Some("2016-03-13T20:00:00+08:00"),
        ),
    ];
    for l in &leaves {
        put(
            tx,
            &l.cadre_id,
            &format!("dev-{}", l.cadre_id),
            None,
            &l.requested_ts.to_rfc3339(),
            l,
        );
    }

    // Work logs (R16): 王志刚 on 1–18 March, reviewed on 5 April (1–10) and 15 April (11–18,
    // after the 10 April deadline); 李明 on 16 and 17 March, never reviewed.
    for day in 1..=18u32 {
        let reviewed = if day <= 10 {
            "2016-04-05T10:00:00+08:00"
        } else {
            "2016-04-15T10:00:00+08:00"
        };
        let log = WorkLog {
            date: d(&format!("2016-03-{day:02}")),
            village_code: V1.into(),
            visit_ids: vec![],
            review: Some(Review {
                reviewer_id: "town-a".into(),
                ts: ts(reviewed),
                comment: None,
            }),
            ..WorkLog::example()
        };
        put(
            tx,
            "c-wang",
            "dev-c-wang",
            None,
            &format!("2016-03-{day:02}T20:00:00+08:00"),
            &log,
        );
    }
    for day in [16, 17] {
        let log = WorkLog {
            date: d(&format!("2016-03-{day:02}")),
            village_code: V1.into(),
            visit_ids: vec![],
            review: None,
            ..WorkLog::example()
        };
        put(
            tx,
            "c-li",
            "dev-c-li",
            None,
            &format!("2016-03-{day:02}T20:00:00+08:00"),
            &log,
        );
    }

    let inspection = Inspection {
        inspector_id: "town-a".into(),
        level: InspectionLevel::Township,
        method: InspectionMethod::FieldVisit,
        date: d("2016-03-25"),
        unannounced: true,
        village_code: V1.into(),
        target_cadre_id: Some("c-li".into()),
        on_post: OnPost::Absent,
        households_checked: [("hh-1", true), ("hh-2", false), ("hh-4", true)]
            .into_iter()
            .map(|(h, ok)| HouseholdCheck {
                household_id: h.into(),
                knows_cadre: true,
                claimed_visit_confirmed: ok,
                satisfaction: None,
            })
            .collect(),
        findings: None,
        deadline: None,
        rectified_date: None,
    };
    put(
        tx,
        "town-a",
        "dev-town-a",
        None,
        "2016-03-25T12:00:00Z",
        &inspection,
    );

    // Policy delivery.
    for (code, name) in [("JY-01", "教育资助"), ("YB-01", "医保代缴")] {
        let item = PolicyItem {
            code: code.into(),
            name: name.into(),
            ..PolicyItem::example()
        };
        put(tx, "admin", "server", None, at, &item);
    }
    let entitlement = |h: &str, code: &str, due: &str, yuan: i64| Entitlement {
        household_id: h.into(),
        member_id: None,
        policy_code: code.into(),
        year: 2016,
        due_amount: Some(Money::from_yuan(yuan)),
        due_date: d(due),
        basis: "测试".into(),
    };
    let e1 = put(
        tx,
        "c-wang",
        "dev-c-wang",
        None,
        at,
        &entitlement("hh-1", "JY-01", "2016-03-01", 500),
    );
    let e2 = put(
        tx,
        "c-wang",
        "dev-c-wang",
        None,
        at,
        &entitlement("hh-2", "JY-01", "2016-04-01", 500),
    );
    let e3 = put(
        tx,
        "c-sun",
        "dev-c-sun",
        None,
        at,
        &entitlement("hh-5", "YB-01", "2016-05-01", 180),
    );
    put(
        tx,
        "c-sun",
        "dev-c-sun",
        None,
        at,
        &entitlement("hh-5", "YB-01", "2016-07-15", 180),
    );
    put(
        tx,
        "c-wang",
        "dev-c-wang",
        None,
        at,
        &entitlement("hh-1", "YB-01", "2016-06-30", 180),
    );
    let e6 = put(
        tx,
        "c-zhou",
        "dev-c-zhou",
        None,
        at,
        &entitlement("hh-7", "JY-01", "2016-03-01", 500),
    );
    let delivery = |e: &str, date: &str, yuan: i64, ack: bool, status: DeliveryStatus| Delivery {
        entitlement_id: e.into(),
        amount: Some(Money::from_yuan(yuan)),
        delivered_date: d(date),
        household_ack: ack,
        status,
        voucher_no: None,
        ..Delivery::example()
    };
    use DeliveryStatus::{Delivered, Partial};
    put(
        tx,
        "c-wang",
        "dev-c-wang",
        None,
        at,
        &delivery(&e1, "2016-03-01", 500, true, Delivered),
    );
    put(
        tx,
        "c-wang",
        "dev-c-wang",
        None,
        at,
        &delivery(&e2, "2016-05-01", 500, false, Delivered),
    );
    put(
        tx,
        "c-sun",
        "dev-c-sun",
        None,
        at,
        &delivery(&e3, "2016-05-10", 100, true, Partial),
    );
    put(
        tx,
        "c-zhou",
        "dev-c-zhou",
        None,
        at,
        &delivery(&e6, "2016-03-01", 500, true, Delivered),
    );

    // Surveys; received in the order listed.
    use Satisfaction::*;
    use SurveySource::*;
    for (i, s) in [
        survey("hh-1", "2016-Q1", TownshipCheck, Satisfied),
        survey("hh-1", "2016-Q3", CountyInspection, FairlySatisfied),
        survey("hh-1", "2015", TownshipCheck, Satisfied),
        survey("hh-2", "2016-Q2", ThirdParty, Satisfied),
        survey("hh-4", "2016-Q4", ThirdParty, CannotSay),
        survey("hh-4", "2016-Q2", PairingCadreVisit, Satisfied),
        survey("hh-5", "2016-Q2", TownshipCheck, Satisfied),
        survey("hh-6", "2016-Q1", TownshipCheck, Dissatisfied),
        survey("hh-7", "2016-Q1", TownshipCheck, Dissatisfied),
    ]
    .iter()
    .enumerate()
    {
        put(
            tx,
            "town-a",
            "dev-town-a",
            None,
            &format!("2016-12-{:02}T00:00:00Z", i + 1),
            s,
        );
    }

    use PetitionChannel as Ch;
    use PetitionDomain as Dm;
    use PetitionStatus as St;
    for p in [
        petition(
            V1,
            "hh-1",
            "2016-01-10",
            Ch::InPerson,
            Dm::Identification,
            St::Closed,
            Some("2016-02-01"),
            Some(("2016-02-10", ReturnVisitResult::Satisfied)),
        ),
        petition(
            V1,
            "hh-2",
            "2016-02-01",
            Ch::Phone,
            Dm::HousingRenovation,
            St::Closed,
            Some("2016-03-01"),
            Some(("2016-03-30", ReturnVisitResult::FairlySatisfied)),
        ),
        petition(
            V1,
            "hh-4",
            "2016-03-01",
            Ch::InPerson,
            Dm::Identification,
            St::InProgress,
            None,
            None,
        ),
        petition(
            V2,
            "hh-5",
            "2016-06-01",
            Ch::Letter,
            Dm::SocialAssistance,
            St::Accepted,
            None,
            None,
        ),
        petition(
            V2,
            "hh-5",
            "2016-02-15",
            Ch::InPerson,
            Dm::Identification,
            St::Closed,
            Some("2016-03-01"),
            None,
        ),
        petition(
            V2,
            "hh-6",
            "2015-12-20",
            Ch::InPerson,
            Dm::Other,
            St::Closed,
            Some("2016-01-05"),
            None,
        ),
        petition(
            V3,
            "hh-7",
            "2016-03-01",
            Ch::InPerson,
            Dm::Identification,
            St::Accepted,
            None,
            None,
        ),
    ] {
        put(tx, "c-wang", "dev-c-wang", None, at, &p);
    }

    use StatusChangeStep as S;
    let mut removal = case(
        "hh-6",
        StatusChangeType::Removal,
        None,
        vec![
            step(S::Application, "2016-03-01"),
            step(S::Verification, "2016-03-10"),
            publicity("2016-03-15", "2016-03-21"),
            step(S::TownshipReview, "2016-04-01"),
            step(S::CountyApproval, "2016-04-20"),
            step(S::SystemEntry, "2016-04-28"),
        ],
    );
    removal.result = Some(StatusChangeResult::Approved);
    removal.effective_date = Some(d("2016-05-01"));
    put(tx, "c-wang", "dev-c-wang", Some("case-1"), at, &removal);
    let exit_ok = case(
        "hh-1",
        StatusChangeType::MarkedExit,
        Some(4_120),
        vec![
            step(S::Application, "2016-10-01"),
            step(S::DemocraticReview, "2016-10-05"),
            step(S::Verification, "2016-10-08"),
            step(S::HouseholdConsent, "2016-10-09"),
            publicity("2016-10-10", "2016-10-16"),
        ],
    );
    put(tx, "c-wang", "dev-c-wang", Some("case-2"), at, &exit_ok);
    let exit_short = case(
        "hh-2",
        StatusChangeType::MarkedExit,
        Some(2_900),
        vec![
            step(S::Application, "2016-10-01"),
            step(S::Verification, "2016-10-08"),
            publicity("2016-10-12", "2016-10-16"),
        ],
    );
    put(tx, "c-wang", "dev-c-wang", Some("case-3"), at, &exit_short);
    let old = case(
        "hh-5",
        StatusChangeType::MemberChange,
        None,
        vec![step(S::Application, "2015-11-01")],
    );
    put(tx, "c-sun", "dev-c-sun", Some("case-4"), at, &old);
}

/// A signed-in account's GET.
struct Client {
    url: String,
    token: String,
}

impl Client {
    fn new(server: &TestServer, login: &str) -> Client {
        let device = Device::new(&server.url, login).sign_in();
        Client {
            url: server.url.clone(),
            token: device.token().to_string(),
        }
    }

    fn get_raw(&self, path: &str, accept: Option<&str>) -> reqwest::blocking::Response {
        let mut req = reqwest::blocking::Client::new()
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        req.send().unwrap()
    }

    fn get(&self, path: &str) -> (u16, Value) {
        let r = self.get_raw(path, None);
        let status = r.status().as_u16();
        (status, r.json().unwrap())
    }

    fn ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        body
    }
}

fn close(a: &Value, b: f64) {
    let a = a.as_f64().unwrap_or_else(|| panic!("not a number: {a}"));
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

/// The rows of a report keyed by one of their fields.
fn by<'a>(doc: &'a Value, key: &str) -> BTreeMap<String, &'a Value> {
    doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[key].as_str().unwrap().to_string(), r))
        .collect()
}

fn pick(row: &Value, keys: &[&str]) -> Value {
    Value::Object(
        keys.iter()
            .map(|k| (k.to_string(), row[*k].clone()))
            .collect(),
    )
}

const TOWN_A: &str = "scope=township:530322101";

/// A server with the accounts and the data set, and township A's signed-in client.
struct Fixture {
    server: TestServer,
    town: Client,
}

impl Fixture {
    /// A server of its own: for a test that writes.
    fn new(backend: Backend) -> Fixture {
        let server = TestServer::start(backend);
        for (login, role, division) in [
            ("admin", Role::Admin, ""),
            ("town-a", Role::Township, "530322101"),
            ("town-b", Role::Township, "530322102"),
            ("office", Role::CountyOffice, "530322"),
            ("org", Role::CountyOrg, "530322"),
            ("city", Role::City, "5303"),
            ("c-li", Role::TeamMember, ""),
            ("c-zhao", Role::PairingCadre, ""),
        ] {
            server.account(login, role, division);
        }
        server
            .db
            .write(|tx| {
                fixture(tx);
                Ok::<_, cunji_sync_server::store::StoreError>(())
            })
            .unwrap();
        let town = Client::new(&server, "town-a");
        Fixture { server, town }
    }
}

/// The path of [`reap_shared_servers`] in the test binary.
const REAPER: &str = "reports::reap_shared_servers";

/// The fixture of the tests that only read: one per backend, built by the first test that
/// asks and kept for the rest of the process. Nothing may write to it.
fn shared(backend: Backend) -> &'static Fixture {
    struct Kept {
        fixture: Fixture,
        // After the fixture: were it dropped, the server would go first.
        _reaper: Reaper,
    }
    static SQLITE: OnceLock<Kept> = OnceLock::new();
    static POSTGRES: OnceLock<Kept> = OnceLock::new();
    let kept = match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    &kept
        .get_or_init(|| {
            let fixture = Fixture::new(backend);
            let reaper = fixture.server.reap_after_exit(REAPER);
            Kept {
                fixture,
                _reaper: reaper,
            }
        })
        .fixture
}

/// The child process that removes the shared servers' files and databases once this process
/// has ended ([`TestServer::reap_after_exit`]); it does nothing in a plain run.
#[test]
#[ignore = "child process of the shared fixture"]
fn reap_shared_servers() {
    cunji_tests::reap_after_parent();
}

#[test]
fn report_1_attendance() {
    for backend in Backend::available() {
        let f = shared(backend);
        attendance(&f.town);
    }
}

/// Report 1: attendance and work logs in March 2016.
fn attendance(town: &Client) {
    // ---- Report 1, March 2016, as of 31 March.
    // 王志刚 (V1 leader, whole month): check-ins 1–20 → 在村 20; 事假 21–23 → 请假 3 (事假 3);
    //   公务外出 24–25 → 2; 26–31 → 无记录 6. 20+3+2+6 = 31. Required 20, counted 20+2 = 22 → 达标.
    // 李明 (V1 member from the 16th): assigned 16 days, required ceil(20×16/31) = ceil(10.32) = 11.
    //   在村 16–19 and 28–31 = 8; the 20th's check-in is 3.9 km out of the fence and the 21st's
    //   is mocked → 无记录 2; 病假 22–24 (asked on the 23rd, within 2 days) → 请假 3 (病假 3);
    //   not returned (no 销假) → 25–27 无故不在岗 3. 8+2+3+3 = 16. 8 < 11 → 未达标. The
    //   inspection of 25 March found him absent → 1 this month, 1 this year → R4 not_excellent.
    //   The sick leave is approved, ended the 24th and never closed → 1 unreturned.
    // 孙丽 (V2 leader): 在村 1–10; 轮休 11–13 → 3; 14–31 无记录 18. 10 < 20 → 未达标.
    // 周平 is in township B: not listed. compliance_rate = 1 / 3.
    let r1 = town.ok(&format!(
        "/v1/reports/attendance?{TOWN_A}&month=2016-03&today=2016-03-31"
    ));
    assert_eq!(r1["time_basis"], "device_event_time");
    let keys = [
        "in_village_days",
        "official_days",
        "leave_days",
        "personal_leave_days",
        "sick_leave_days",
        "rest_days",
        "absent_days",
        "no_record_days",
        "assigned_days",
        "required_days",
        "counted_days",
        "compliant",
        "inspection_absences",
        "r4_rating_cap",
        "unreturned_leaves",
    ];
    let rows = by(&r1, "cadre_id");
    assert_eq!(rows.keys().collect::<Vec<_>>(), ["c-li", "c-sun", "c-wang"]);
    assert_eq!(
        pick(rows["c-wang"], &keys),
        json!({
            "in_village_days": 20, "official_days": 2, "leave_days": 3, "personal_leave_days": 3,
            "sick_leave_days": 0, "rest_days": 0, "absent_days": 0, "no_record_days": 6,
            "assigned_days": 31, "required_days": 20, "counted_days": 22, "compliant": true,
            "inspection_absences": 0, "r4_rating_cap": "none", "unreturned_leaves": 0,
        })
    );
    assert_eq!(
        pick(rows["c-li"], &keys),
        json!({
            "in_village_days": 8, "official_days": 0, "leave_days": 3, "personal_leave_days": 0,
            "sick_leave_days": 3, "rest_days": 0, "absent_days": 3, "no_record_days": 2,
            "assigned_days": 16, "required_days": 11, "counted_days": 8, "compliant": false,
            "inspection_absences": 1, "r4_rating_cap": "not_excellent", "unreturned_leaves": 1,
        })
    );
    assert_eq!(
        pick(rows["c-sun"], &keys),
        json!({
            "in_village_days": 10, "official_days": 0, "leave_days": 0, "personal_leave_days": 0,
            "sick_leave_days": 0, "rest_days": 3, "absent_days": 0, "no_record_days": 18,
            "assigned_days": 31, "required_days": 20, "counted_days": 10, "compliant": false,
            "inspection_absences": 0, "r4_rating_cap": "none", "unreturned_leaves": 0,
        })
    );
    assert_eq!(rows["c-wang"]["cadre_name"], "王志刚");
    assert_eq!(rows["c-wang"]["team_role"], "第一书记");
    assert_eq!(r1["summary"]["cadres"], 3);
    assert_eq!(r1["summary"]["compliant"], 1);
    close(&r1["summary"]["compliance_rate"], 1.0 / 3.0);
    assert_eq!(r1["summary"]["due_to_county_org"], "2016-04-10");
    // R16 logs. As of 31 March: 王志刚 logged 1–18 → 18 log days; 在村 19 and 20 have none → 2;
    //   no review is late yet (the reviews are dated in April, the deadline is 10 April).
    // 李明 logged 16 and 17 → 2; his 在村 days 18, 19, 28–31 have none → 6. 孙丽: 0 and 10.
    // As of 20 April: 王志刚's 11–18 were reviewed on 15 April, after 10 April → 8 late; 李明's
    //   two logs were never reviewed and the deadline has passed → 2 late.
    let logs = [
        "log_days",
        "in_village_days_without_log",
        "logs_reviewed_late",
    ];
    for (cadre, want) in [
        ("c-wang", [18, 2, 0]),
        ("c-li", [2, 6, 0]),
        ("c-sun", [0, 10, 0]),
    ] {
        assert_eq!(
            pick(rows[cadre], &logs),
            json!({"log_days": want[0], "in_village_days_without_log": want[1], "logs_reviewed_late": want[2]}),
            "{cadre}"
        );
    }
    let r1b = town.ok(&format!(
        "/v1/reports/attendance?{TOWN_A}&month=2016-03&today=2016-04-20"
    ));
    let later = by(&r1b, "cadre_id");
    assert_eq!(later["c-wang"]["logs_reviewed_late"], 8);
    assert_eq!(later["c-li"]["logs_reviewed_late"], 2);
    assert_eq!(
        later["c-wang"]["in_village_days"], 20,
        "March's statuses do not change"
    );
}

#[test]
fn report_1_and_3_follow_the_county_settings() {
    for backend in Backend::available() {
        // A server of its own: it changes the county's settings.
        let f = Fixture::new(backend);
        county_settings(&f.server, &f.town);
    }
}

/// Reports 1 and 3 under the county's ⚙ settings, then under the defaults again.
fn county_settings(server: &TestServer, town: &Client) {
    // The county's ⚙ settings decide R1 for its villages: with 10 days required in a full
    // month, 孙丽's 10 在村 days are enough, and 李明's partial month needs ceil(10 × 16 / 31)
    // = 6, which his 8 meet. Report 3's default interval follows the county too.
    let office = Client::new(server, "office");
    let settings = |body: &str| {
        let r = reqwest::blocking::Client::new()
            .put(format!("{}/v1/settings/county/530322", office.url))
            .bearer_auth(&office.token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    };
    settings(r#"{"rules":{"attendance":{"required_days":10},"visits":{"interval_days":30}}}"#);
    let r1c = town.ok(&format!(
        "/v1/reports/attendance?{TOWN_A}&month=2016-03&today=2016-03-31"
    ));
    let county_rules = by(&r1c, "cadre_id");
    assert_eq!(county_rules["c-sun"]["required_days"], 10);
    assert_eq!(county_rules["c-sun"]["compliant"], true);
    assert_eq!(county_rules["c-li"]["required_days"], 6);
    assert_eq!(county_rules["c-li"]["compliant"], true);
    assert_eq!(r1c["summary"]["compliant"], 3);
    let r3 = town.ok(&format!(
        "/v1/reports/duty-compliance?{TOWN_A}&date=2016-03-31"
    ));
    assert_eq!(r3["params"]["interval_days"], "30", "{}", r3["params"]);
    settings("{}");
    let back = town.ok(&format!(
        "/v1/reports/attendance?{TOWN_A}&month=2016-03&today=2016-03-31"
    ));
    assert_eq!(back["summary"]["compliant"], 1, "the defaults again");
}

#[test]
fn report_2_visit_coverage() {
    for backend in Backend::available() {
        let f = shared(backend);
        visit_coverage(&f.server, &f.town);
    }
}

/// Report 2: visit coverage in March 2016, over HTTP and from the library.
fn visit_coverage(server: &TestServer, town: &Client) {
    // ---- Report 2, P = March 2016.
    // Registered on 31 March: H1 未脱贫, H2 已脱贫(享受政策), H4 未脱贫, H5 返贫, and H6, whose
    // 清退 takes effect on 1 May (H3 已脱贫(不再享受政策) is not) → V1 3, V2 2, total 5.
    // Counting visits in March: H1 v1 (李明, primary, A) ✓; H2 v2 is a phone call ✗ but v9
    // (李明, in the village, no GPS but signed → B) ✓; H4 only v4 by 王志刚, not its primary ✗;
    // H5 v5 is level C (2.2 km from home, refused to sign) ✗; H6 v6 (孙丽, A) ✓.
    // covered 3 → V1 2/3, V2 1/2, total 3/5. By unit on 31 March: 财政局 (李明: H1, H2) 2/2;
    // 农业局 (赵强: H4; 孙丽: H5, H6) 1/3. By level: 市 2/2, 县 1/3.
    let r2 = town.ok(&format!(
        "/v1/reports/visit-coverage?{TOWN_A}&from=2016-03-01&to=2016-03-31"
    ));
    let rows = by(&r2, "village_code");
    assert_eq!(
        pick(rows[V1], &["registered", "covered", "village_name"]),
        json!({"registered": 3, "covered": 2, "village_name": "新庄村"})
    );
    close(&rows[V1]["coverage"], 2.0 / 3.0);
    assert_eq!(
        pick(rows[V2], &["registered", "covered"]),
        json!({"registered": 2, "covered": 1})
    );
    assert_eq!(
        (
            r2["summary"]["registered"].clone(),
            r2["summary"]["covered"].clone()
        ),
        (json!(5), json!(3))
    );
    close(&r2["summary"]["coverage"], 0.6);
    let units: Vec<(String, u64, u64)> = r2["summary"]["by_unit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["label"].as_str().unwrap().into(),
                g["total"].as_u64().unwrap(),
                g["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        units,
        [("曲靖市财政局".into(), 2, 2), ("师宗县农业局".into(), 3, 1)]
    );
    let levels: Vec<(String, u64, u64)> = r2["summary"]["by_cadre_level"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["label"].as_str().unwrap().into(),
                g["total"].as_u64().unwrap(),
                g["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(levels, [("市".into(), 2, 2), ("县".into(), 3, 1)]);
    // The same figures from the library function, for callers without HTTP.
    let direct = server
        .db
        .read(|tx| {
            cunji_sync_server::reports::visit_coverage(
                tx,
                &"township:530322101".parse().unwrap(),
                cunji_core::reports::DateRange {
                    from: d("2016-03-01"),
                    to: d("2016-03-31"),
                },
            )
        })
        .unwrap();
    assert_eq!((direct.summary.registered, direct.summary.covered), (5, 3));
}

#[test]
fn report_3_duty_compliance() {
    for backend in Backend::available() {
        let f = shared(backend);
        duty_compliance(&f.town);
    }
}

/// Report 3: the pairing cadres' duty on 31 March.
fn duty_compliance(town: &Client) {
    // ---- Report 3 at D = 31 March, interval 60.
    // 李明: H1 last counting visit v7 (20 March) → gap 11; H2 v9 (15 March) → 16. Compliant.
    // 赵强: H4 never visited by him → gap = 31 Mar 2016 − 1 Sep 2015 = 29+31+30+31+31+29+31 = 212
    //   > 60 → overdue (H3 is not registered). Not compliant.
    // 孙丽: H5 only the level-C v5 → 212, overdue; H6 v6 (6 March) → 25. Not compliant.
    // rate 1/3; by unit 财政局 1/1, 农业局 0/2.
    let r3 = town.ok(&format!(
        "/v1/reports/duty-compliance?{TOWN_A}&date=2016-03-31"
    ));
    let rows = by(&r3, "cadre_id");
    let keys = ["assignments", "overdue", "max_gap_days", "compliant"];
    assert_eq!(
        pick(rows["c-li"], &keys),
        json!({"assignments": 2, "overdue": 0, "max_gap_days": 16, "compliant": true})
    );
    assert_eq!(
        pick(rows["c-zhao"], &keys),
        json!({"assignments": 1, "overdue": 1, "max_gap_days": 212, "compliant": false})
    );
    assert_eq!(
        pick(rows["c-sun"], &keys),
        json!({"assignments": 2, "overdue": 1, "max_gap_days": 212, "compliant": false})
    );
    assert_eq!(
        rows["c-sun"]["overdue_households"],
        json!([{"household_id": "hh-5", "last_visit": null, "gap_days": 212}])
    );
    assert_eq!(rows.len(), 3);
    close(&r3["summary"]["rate"], 1.0 / 3.0);
    let units: Vec<(u64, u64)> = r3["summary"]["by_unit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["total"].as_u64().unwrap(), g["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(units, [(1, 1), (2, 0)]);
}

#[test]
fn report_4_not_visited() {
    for backend in Backend::available() {
        let f = shared(backend);
        not_visited(&f.town);
    }
}

/// Report 4: households not visited for 30 and 60 days on 30 April.
fn not_visited(town: &Client) {
    // ---- Report 4 at D = 30 April.
    // Latest counting visit by anyone: H1 v7 20 Mar → 41 days; H2 v9 15 Mar → 46; H4 v4 (王志刚,
    // A) 15 Mar → 46; H5 none (v5 is C) → never; H6 v6 6 Mar → 55 (still registered on 30 Apr).
    // N = 30: all five, never-visited first, then most days: H5, H6 55, H2 46, H4 46, H1 41.
    // N = 60: only H5.
    let r4 = town.ok(&format!(
        "/v1/reports/not-visited?{TOWN_A}&date=2016-04-30&days=30"
    ));
    let got: Vec<(String, Value)> = r4["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["household_id"].as_str().unwrap().into(),
                r["days"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("hh-5".into(), json!(null)),
            ("hh-6".into(), json!(55)),
            ("hh-2".into(), json!(46)),
            ("hh-4".into(), json!(46)),
            ("hh-1".into(), json!(41)),
        ]
    );
    let h4 = by(&r4, "household_id")["hh-4"].clone();
    assert_eq!(
        pick(
            &h4,
            &[
                "assignee_id",
                "last_visitor_id",
                "last_visit_date",
                "status_label",
                "village_name"
            ]
        ),
        json!({
            "assignee_id": "c-zhao", "last_visitor_id": "c-wang", "last_visit_date": "2016-03-15",
            "status_label": "未脱贫", "village_name": "新庄村",
        })
    );
    let head4 = household(4).head().unwrap().name.clone();
    assert_eq!(h4["head_name"], head4.as_str());
    let r4b = town.ok(&format!(
        "/v1/reports/not-visited?{TOWN_A}&date=2016-04-30&days=60"
    ));
    assert_eq!(r4b["rows"].as_array().unwrap().len(), 1);
    assert_eq!(
        r4b["summary"],
        json!({"registered": 5, "not_visited": 1, "never_visited": 1})
    );
}

#[test]
fn report_4_counts_a_visit_synced_from_a_phone() {
    for backend in Backend::available() {
        // A server of its own: a phone pushes a visit.
        let f = Fixture::new(backend);
        not_visited_after_a_phone_visit(&f.server, &f.town);
    }
}

/// Report 4 after 李明's phone has synced a visit to H4.
fn not_visited_after_a_phone_visit(server: &TestServer, town: &Client) {
    // A visit recorded on 李明's phone and synced through the real push path counts like the
    // rest: his in-person, signed visit to H4 on 25 April (at the home; not H4's primary, but
    // report 4 counts any visitor) leaves H4 5 days unvisited on 30 April → 4 rows at N = 30.
    visit_h4_from_phone(server);
    let r4c = town.ok(&format!(
        "/v1/reports/not-visited?{TOWN_A}&date=2016-04-30&days=30"
    ));
    let h4 = r4c["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["household_id"] == "hh-4");
    assert!(h4.is_none(), "{r4c}");
    assert_eq!(r4c["rows"].as_array().unwrap().len(), 4);
}

/// 李明's phone records his in-person, signed visit to H4 on 25 April (at the home) and
/// syncs it through the real push path.
fn visit_h4_from_phone(server: &TestServer) {
    let mut phone = Device::new(&server.url, "c-li").sign_in();
    phone.sync().unwrap();
    let on_phone = visit(
        "hh-4",
        "c-li",
        VisitMode::InHome,
        "2016-04-25T10:00:00+08:00",
        30,
        Some(home(4)),
        Some(hash(0x11)),
    );
    phone
        .store
        .create(&phone.author("走访"), &on_phone)
        .unwrap();
    let report = phone.sync().unwrap();
    assert_eq!((report.pushed, report.rejected), (1, 0), "{report:?}");
}

#[test]
fn report_5_delivery_gaps() {
    for backend in Backend::available() {
        let f = shared(backend);
        delivery_gaps(&f.town);
    }
}

/// Report 5: entitlements due and delivered by 30 June.
fn delivery_gaps(town: &Client) {
    // ---- Report 5 at D = 30 June.
    // JY-01 × V1: E1 (due 1 Mar, 500, delivered 1 Mar, acknowledged) and E2 (due 1 Apr, 500,
    //   delivered 1 May, not acknowledged): due 2, delivered 2, gap 0, 1000/1000/0, unverified 1,
    //   one late delivery of 30 days → mean 30.
    // YB-01 × V1: E5 due 30 June (≤ D), nothing delivered: 1/0/1, 180/0/180.
    // YB-01 × V2: E3 due 1 May, 180, only 部分兑现 100 on 10 May: 1/0/1, 180/100/80; E4 (due
    //   15 July) is not due yet. Township B's E6 is not counted.
    // Total: due 4, delivered 2, gap 2, 1360/1100/260, unverified 1, mean delay 30.
    let r5 = town.ok(&format!(
        "/v1/reports/delivery-gaps?{TOWN_A}&date=2016-06-30"
    ));
    assert_eq!(r5["time_basis"], "record_dates");
    let keys = [
        "policy_code",
        "village_code",
        "due",
        "delivered",
        "gap",
        "due_amount",
        "delivered_amount",
        "gap_amount",
        "unverified",
        "late",
        "mean_delay_days",
    ];
    let rows: Vec<Value> = r5["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| pick(r, &keys))
        .collect();
    assert_eq!(
        rows,
        [
            json!({"policy_code": "JY-01", "village_code": V1, "due": 2, "delivered": 2, "gap": 0, "due_amount": 1000.0, "delivered_amount": 1000.0, "gap_amount": 0.0, "unverified": 1, "late": 1, "mean_delay_days": 30.0}),
            json!({"policy_code": "YB-01", "village_code": V1, "due": 1, "delivered": 0, "gap": 1, "due_amount": 180.0, "delivered_amount": 0.0, "gap_amount": 180.0, "unverified": 0, "late": 0, "mean_delay_days": null}),
            json!({"policy_code": "YB-01", "village_code": V2, "due": 1, "delivered": 0, "gap": 1, "due_amount": 180.0, "delivered_amount": 100.0, "gap_amount": 80.0, "unverified": 0, "late": 0, "mean_delay_days": null}),
        ]
    );
    assert_eq!(r5["rows"][0]["policy_name"], "教育资助");
    assert_eq!(
        r5["summary"],
        json!({"due": 4, "delivered": 2, "gap": 2, "due_amount": 1360.0, "delivered_amount": 1100.0, "gap_amount": 260.0, "unverified": 1, "mean_delay_days": 30.0})
    );
}

#[test]
fn report_6_satisfaction() {
    for backend in Backend::available() {
        let f = shared(backend);
        satisfaction(&f.town);
    }
}

/// Report 6: satisfaction surveys in 2016.
fn satisfaction(town: &Client) {
    // ---- Report 6, P = 2016.
    // Registered on 31 Dec: H1, H2, H4 (V1) and H5 (V2); H6 was removed on 1 May.
    // Official surveys, latest per household in P: H1 Q3 基本满意 (its Q1 满意 is older, its 2015
    // one outside P); H2 满意; H4 说不清; H5 满意. The pairing cadre's H4 survey is separate.
    // V1: surveyed 3 → rate (1+1)/3, strict 1/3, sample 3/3 → below 90% (R14 flags 王志刚).
    //   Cadre-collected: 1 满意 → rate 1, sample 1/3.
    // V2: 1 满意 → rate 1, sample 1/1, not below.
    // Total: surveyed 4 (满意 2, 基本满意 1, 说不清 1) → rate 3/4, strict 2/4, sample 4/4.
    let r6 = town.ok(&format!(
        "/v1/reports/satisfaction?{TOWN_A}&from=2016-01-01&to=2016-12-31"
    ));
    let rows = by(&r6, "village_code");
    let off = &rows[V1]["official"];
    assert_eq!(
        pick(
            off,
            &[
                "surveyed",
                "satisfied",
                "fairly_satisfied",
                "dissatisfied",
                "cannot_say"
            ]
        ),
        json!({"surveyed": 3, "satisfied": 1, "fairly_satisfied": 1, "dissatisfied": 0, "cannot_say": 1})
    );
    close(&off["rate"], 2.0 / 3.0);
    close(&off["strict"], 1.0 / 3.0);
    close(&off["sample"], 1.0);
    close(&rows[V1]["cadre_collected"]["rate"], 1.0);
    close(&rows[V1]["cadre_collected"]["sample"], 1.0 / 3.0);
    assert_eq!(rows[V1]["below_threshold"], true);
    assert_eq!(rows[V1]["first_secretary_id"], "c-wang");
    assert_eq!(rows[V2]["registered"], 1);
    close(&rows[V2]["official"]["rate"], 1.0);
    assert_eq!(rows[V2]["below_threshold"], false);
    assert_eq!(rows[V2]["cadre_collected"]["rate"], Value::Null);
    let s = &r6["summary"];
    assert_eq!(
        (
            s["registered"].clone(),
            s["official"]["surveyed"].clone(),
            s["villages_below_threshold"].clone()
        ),
        (json!(4), json!(4), json!(1))
    );
    close(&s["official"]["rate"], 0.75);
    close(&s["official"]["strict"], 0.5);
    close(&s["official"]["sample"], 1.0);
    close(&s["cadre_collected"]["sample"], 0.25);
}

#[test]
fn report_7_petitions() {
    for backend in Backend::available() {
        let f = shared(backend);
        petitions(&f.town);
    }
}

/// Report 7: petitions received January to June 2016.
fn petitions(town: &Client) {
    // ---- Report 7, P = Jan–June 2016 (judged on 30 June).
    // V1: P1 (closed 1 Feb, 回访 10 Feb 满意: within 15 days), P2 (closed 1 Mar, 回访 30 Mar
    //   基本满意: 29 days, late), P3 (办理中, due 30 Apr < 30 Jun: overdue). received 3, closed 2
    //   → 2/3; overdue 1; without timely 回访 1; 回访 2, satisfied 2 → 1.0.
    // V2: P4 (受理 1 Jun, due 31 Jul: not overdue), P5 (closed 1 Mar, no 回访): received 2,
    //   closed 1 → 0.5, without timely 回访 1, no 回访 → satisfaction null. P6 was received in
    //   2015, P7 is township B's.
    // Total 5/3 → 0.6, overdue 1, untimely 2, satisfaction 2/2.
    // Domains: 危房改造 1 (closed 1), 精准识别 3 (P1, P3, P5; closed 2), 社会救助 1 (0).
    // Channels: 来访 3 (closed 2), 来信 1 (0), 来电 1 (1).
    let r7 = town.ok(&format!(
        "/v1/reports/petitions?{TOWN_A}&from=2016-01-01&to=2016-06-30"
    ));
    let rows = by(&r7, "village_code");
    let keys = [
        "received",
        "closed",
        "overdue_open",
        "closed_without_timely_return_visit",
        "with_return_visit",
        "satisfaction",
    ];
    assert_eq!(
        pick(rows[V1], &keys),
        json!({"received": 3, "closed": 2, "overdue_open": 1, "closed_without_timely_return_visit": 1, "with_return_visit": 2, "satisfaction": 1.0})
    );
    close(&rows[V1]["closure_rate"], 2.0 / 3.0);
    assert_eq!(
        pick(rows[V2], &keys),
        json!({"received": 2, "closed": 1, "overdue_open": 0, "closed_without_timely_return_visit": 1, "with_return_visit": 0, "satisfaction": null})
    );
    let s = &r7["summary"];
    assert_eq!(
        pick(s, &keys),
        json!({"received": 5, "closed": 3, "overdue_open": 1, "closed_without_timely_return_visit": 2, "with_return_visit": 2, "satisfaction": 1.0})
    );
    close(&s["closure_rate"], 0.6);
    let groups = |k: &str| -> Vec<(String, u64, u64)> {
        s[k].as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["label"].as_str().unwrap().into(),
                    g["total"].as_u64().unwrap(),
                    g["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        groups("by_domain"),
        [
            ("危房改造".into(), 1, 1),
            ("精准识别".into(), 3, 2),
            ("社会救助".into(), 1, 0)
        ]
    );
    assert_eq!(
        groups("by_channel"),
        [
            ("来访".into(), 3, 2),
            ("来信".into(), 1, 0),
            ("来电".into(), 1, 1)
        ]
    );
}

#[test]
fn report_8_status_changes() {
    for backend in Backend::available() {
        let f = shared(backend);
        status_changes(&f.town);
    }
}

/// Report 8: status-change cases in 2016 and the R12 prerequisites.
fn status_changes(town: &Client) {
    // ---- Report 8, P = 2016.
    // In P: case-1 (H6 清退, at 系统录入), case-2 (H1 标注脱贫, at 公示), case-3 (H2 标注脱贫,
    // at 公示); case-4's only step is in 2015. By type and step: 标注脱贫/公示 2, 清退/系统录入 1.
    // R12 (line 2952 for 2016): case-2 none (4120 > 2952, flags ok, consent, 7-day notice);
    // case-3: 2900 ≤ 2952, no consent, a 5-day notice → 3 blockers. Exits 2, missing 1.
    // 公示 lengths 7, 7, 5 → min 5, max 7, mean 19/3, shorter than 7: 1.
    let r8 = town.ok(&format!(
        "/v1/reports/status-changes?{TOWN_A}&from=2016-01-01&to=2016-12-31"
    ));
    let rows = by(&r8, "case_id");
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        ["case-1", "case-2", "case-3"]
    );
    assert_eq!(rows["case-2"]["r12_blockers"], json!([]));
    assert_eq!(
        rows["case-3"]["r12_blockers"],
        json!([
            "per_capita_not_above_line",
            "consent_not_signed",
            "publicity_too_short"
        ])
    );
    assert_eq!(
        rows["case-3"]["r12_blockers_label"],
        "人均纯收入未超过贫困线、农户未签字认可、公示不足7天"
    );
    assert_eq!(rows["case-1"]["current_step_label"], "系统录入");
    let s = &r8["summary"];
    let steps: Vec<(String, String, u64)> = s["by_type_step"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["change_type"].as_str().unwrap().into(),
                g["step"].as_str().unwrap().into(),
                g["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("marked_exit".into(), "publicity".into(), 2),
            ("removal".into(), "system_entry".into(), 1)
        ]
    );
    assert_eq!(
        (
            s["cases"].clone(),
            s["exits"].clone(),
            s["exits_missing_prerequisites"].clone()
        ),
        (json!(3), json!(2), json!(1))
    );
    assert_eq!(
        pick(
            &s["publicity"],
            &[
                "cases_with_publicity",
                "min_days",
                "max_days",
                "shorter_than_minimum"
            ]
        ),
        json!({"cases_with_publicity": 3, "min_days": 5, "max_days": 7, "shorter_than_minimum": 1})
    );
    close(&s["publicity"]["mean_days"], 19.0 / 3.0);
    // With a county line of 2800 yuan, case-3's income passes and 2 blockers remain.
    let r8b = town.ok(&format!(
        "/v1/reports/status-changes?{TOWN_A}&from=2016-01-01&to=2016-12-31&poverty_line=2800"
    ));
    assert_eq!(
        by(&r8b, "case_id")["case-3"]["r12_blockers"],
        json!(["consent_not_signed", "publicity_too_short"])
    );
}

#[test]
fn report_9_integrity() {
    for backend in Backend::available() {
        let f = shared(backend);
        integrity(&f.town);
    }
}

/// Report 9: the visits' evidence levels and anomalies in March 2016.
fn integrity(town: &Client) {
    // ---- Report 9, P = March 2016.
    // 李明: v1 (A), v2 (phone, refused → C, remote), v7 (A), v9 (B) → 4 visits, A 2, B 1, C 1,
    //   remote 1. Anomalies: v1 shares its signature image with 孙丽's v6; v7's check-in 15
    //   minutes in, 3.5 km away (> 60 km/h) and received 9 days later; v9 on the device 王志刚
    //   used the same day for v4 → 3 anomalous visits (reused 1, check-in 1, late 1, device 1).
    //   Inspection of 25 March: H1 confirmed, H2 not (both his) → 1/2.
    // 王志刚: v4 (A), shared device → 1 anomalous.
    // 孙丽: v5 (C, 3 minutes → too short), v6 (A, reused signature) → 2 anomalous.
    // 赵强: no visits; H4's inspection confirmed → 1/1.
    // Total: 7 visits, C 2, remote 1, anomalous 6, checked 3, confirmed 2.
    let r9 = town.ok(&format!(
        "/v1/reports/integrity?{TOWN_A}&from=2016-03-01&to=2016-03-31"
    ));
    assert_eq!(r9["time_basis"], "device_event_and_server_received");
    let rows = by(&r9, "cadre_id");
    let keys = [
        "visits",
        "level_a",
        "level_b",
        "level_c",
        "remote_visits",
        "anomalous_visits",
        "reused_hash",
        "too_fast",
        "shared_device",
        "checkin_elsewhere",
        "too_short",
        "entered_late",
        "households_checked",
        "confirmed",
    ];
    assert_eq!(
        pick(rows["c-li"], &keys),
        json!({"visits": 4, "level_a": 2, "level_b": 1, "level_c": 1, "remote_visits": 1, "anomalous_visits": 3, "reused_hash": 1, "too_fast": 0, "shared_device": 1, "checkin_elsewhere": 1, "too_short": 0, "entered_late": 1, "households_checked": 2, "confirmed": 1})
    );
    close(&rows["c-li"]["confirm_rate"], 0.5);
    assert_eq!(
        pick(
            rows["c-wang"],
            &["visits", "level_a", "anomalous_visits", "shared_device"]
        ),
        json!({"visits": 1, "level_a": 1, "anomalous_visits": 1, "shared_device": 1})
    );
    assert_eq!(
        pick(
            rows["c-sun"],
            &[
                "visits",
                "level_a",
                "level_c",
                "anomalous_visits",
                "too_short",
                "reused_hash"
            ]
        ),
        json!({"visits": 2, "level_a": 1, "level_c": 1, "anomalous_visits": 2, "too_short": 1, "reused_hash": 1})
    );
    assert_eq!(
        pick(
            rows["c-zhao"],
            &["visits", "households_checked", "confirmed"]
        ),
        json!({"visits": 0, "households_checked": 1, "confirmed": 1})
    );
    assert_eq!(rows.len(), 4);
    let s = &r9["summary"];
    assert_eq!(
        pick(
            s,
            &[
                "visits",
                "level_c",
                "remote_visits",
                "anomalous_visits",
                "households_checked",
                "confirmed"
            ]
        ),
        json!({"visits": 7, "level_c": 2, "remote_visits": 1, "anomalous_visits": 6, "households_checked": 3, "confirmed": 2})
    );
    close(&s["confirm_rate"], 2.0 / 3.0);
}

#[test]
fn scoping_and_masking() {
    for backend in Backend::available() {
        let f = shared(backend);
        scoping(&f.server, &f.town);
    }
}

#[test]
fn exports_csv_xlsx() {
    for backend in Backend::available() {
        let f = shared(backend);
        exports(&f.server, &f.town);
    }
}

#[test]
fn openapi_document() {
    for backend in Backend::available() {
        let f = shared(backend);
        openapi(&f.server, &f.town);
    }
}

#[test]
fn supervisors_pull_and_export() {
    for backend in Backend::available() {
        // A server of its own: it stores a visit, and counts the phone's.
        let f = Fixture::new(backend);
        visit_h4_from_phone(&f.server);
        pull_and_export(&f.server, &f.town);
    }
}

/// Who may read which scope, and what each sees masked.
fn scoping(server: &TestServer, town: &Client) {
    let coverage = "/v1/reports/visit-coverage?from=2016-03-01&to=2016-03-31&scope=";
    // Township B cannot read township A, nor a village of A; A cannot read the county.
    let b = Client::new(server, "town-b");
    for scope in ["township:530322101", "village:530322101201"] {
        let (status, body) = b.get(&format!("{coverage}{scope}"));
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("out_of_scope")),
            "{body}"
        );
        assert!(body["message"].as_str().unwrap().contains("无权查看"));
    }
    let (status, body) = town.get(&format!("{coverage}county:530322"));
    assert_eq!((status, body["code"].as_str()), (403, Some("out_of_scope")));
    // B's own township shows only its village.
    let own = b.ok(&format!("{coverage}township:530322102"));
    assert_eq!(by(&own, "village_code").keys().collect::<Vec<_>>(), [V3]);
    // A team member reads their own village only; a pairing cadre reads no report.
    let li = Client::new(server, "c-li");
    li.ok(&format!("{coverage}village:{V1}"));
    assert_eq!(li.get(&format!("{coverage}village:{V2}")).0, 403);
    assert_eq!(
        Client::new(server, "c-zhao")
            .get(&format!("{coverage}village:{V1}"))
            .0,
        403
    );
    // The county sees both townships; the organisation department gets household names masked,
    // the county office and the township do not.
    let not_visited = "/v1/reports/not-visited?date=2016-04-30&days=30&scope=";
    let head1 = household(1).head().unwrap().name.clone();
    let masked: String = head1
        .chars()
        .take(1)
        .chain(head1.chars().skip(1).map(|_| '*'))
        .collect();
    let org = Client::new(server, "org").ok(&format!("{not_visited}county:530322"));
    assert_eq!(
        org["masking"],
        json!({"household_pii": true, "sensitive": true})
    );
    let org_rows = by(&org, "household_id");
    assert_eq!(org_rows["hh-1"]["head_name"], masked.as_str());
    assert!(
        org_rows.contains_key("hh-7"),
        "the county covers township B"
    );
    let office = Client::new(server, "office").ok(&format!("{not_visited}county:530322"));
    assert_eq!(
        by(&office, "household_id")["hh-1"]["head_name"],
        head1.as_str()
    );
    let mine = town.ok(&format!("{not_visited}township:530322101"));
    assert_eq!(
        mine["masking"],
        json!({"household_pii": false, "sensitive": false})
    );
    assert_eq!(
        by(&mine, "household_id")["hh-1"]["head_name"],
        head1.as_str()
    );
    let city = Client::new(server, "city").ok(&format!("{not_visited}city:5303"));
    assert_eq!(
        by(&city, "household_id")["hh-1"]["head_name"],
        masked.as_str()
    );

    // Bad requests: unknown parameter, bad date, missing scope, bad scope, unknown report, N.
    for (path, status, code) in [
        (
            format!("{coverage}township:530322101&colour=red"),
            400,
            "unknown_param",
        ),
        (
            "/v1/reports/visit-coverage?scope=township:530322101&from=2016-13-01&to=2016-03-31"
                .into(),
            400,
            "bad_param",
        ),
        (
            "/v1/reports/visit-coverage?from=2016-03-01&to=2016-03-31".into(),
            400,
            "bad_param",
        ),
        (format!("{coverage}township:5303221"), 400, "bad_param"),
        (
            "/v1/reports/visit-coverage?scope=township:530322101&from=2016-04-01&to=2016-03-31"
                .into(),
            400,
            "bad_param",
        ),
        (
            "/v1/reports/not-visited?scope=township:530322101&days=45".into(),
            400,
            "bad_param",
        ),
        (
            "/v1/reports/league-table?scope=township:530322101".into(),
            404,
            "unknown_report",
        ),
        (
            format!("{coverage}township:530322101&format=pdf"),
            400,
            "bad_param",
        ),
    ] {
        let (got, body) = town.get(&path);
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some(code)),
            "{path}: {body}"
        );
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
    let anonymous =
        reqwest::blocking::get(format!("{}{coverage}township:530322101", server.url)).unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
}

/// CSV (BOM + Chinese headers) and xlsx (opened with calamine) of the same report.
fn exports(_server: &TestServer, town: &Client) {
    use calamine::{Data, Reader, Xlsx};
    let path = format!("/v1/reports/visit-coverage?{TOWN_A}&from=2016-03-01&to=2016-03-31");
    let r = town.get_raw(&format!("{path}&format=csv"), None);
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = r.bytes().unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 byte-order mark");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "村代码,村名,建档立卡户数,已走访户数,走访覆盖率",
            "530322101201,新庄村,3,2,66.7%",
            "530322101202,大水井村,2,1,50.0%",
        ]
    );
    // Every report exports with a header row of its own.
    for report in cunji_sync_server::reports::ReportName::ALL {
        let params: String = report
            .params()
            .iter()
            .filter(|p| p.required)
            .map(|p| match p.name {
                "month" => "&month=2016-03".to_string(),
                "days" => "&days=30".to_string(),
                "from" => "&from=2016-01-01".to_string(),
                "to" => "&to=2016-12-31".to_string(),
                other => panic!("no test value for {other}"),
            })
            .collect();
        let r = town.get_raw(
            &format!("/v1/reports/{}?{TOWN_A}{params}&format=csv", report.path()),
            None,
        );
        assert_eq!(r.status().as_u16(), 200, "{}", report.path());
        let body = r.text().unwrap();
        let header = body
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap()
            .to_string();
        let want: Vec<&str> = report.export_columns().iter().map(|c| c.1).collect();
        assert_eq!(header, want.join(","), "{}", report.path());
    }

    let r = town.get_raw(&path, Some(cunji_sync_server::reports::export::XLSX));
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".xlsx")
    );
    let bytes = r.bytes().unwrap().to_vec();
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), ["走访覆盖率", "说明"]);
    let sheet = book.worksheet_range("走访覆盖率").unwrap();
    let rows: Vec<Vec<Data>> = sheet.rows().map(|r| r.to_vec()).collect();
    assert_eq!(
        rows[0],
        ["村代码", "村名", "建档立卡户数", "已走访户数", "走访覆盖率"]
            .map(|s| Data::String(s.into()))
    );
    assert_eq!(
        rows[1][..4],
        [
            Data::String(V1.into()),
            Data::String("新庄村".into()),
            Data::Float(3.0),
            Data::Float(2.0)
        ]
    );
    match &rows[1][4] {
        Data::Float(f) => assert!((f - 2.0 / 3.0).abs() < 1e-9),
        other => panic!("{other:?}"),
    }
    let about = book.worksheet_range("说明").unwrap();
    let about: Vec<String> = about
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("=")
        })
        .collect();
    assert!(
        about.iter().any(|l| l.contains("范围=township:530322101")),
        "{about:?}"
    );
    assert!(
        about.iter().any(|l| l.starts_with("时间口径=按设备记录")),
        "{about:?}"
    );
}

/// The OpenAPI document parses, lists every report with its parameters, and describes the
/// responses the server really gives.
fn openapi(server: &TestServer, town: &Client) {
    let doc: Value = reqwest::blocking::get(format!("{}/v1/openapi.json", server.url))
        .unwrap()
        .json()
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/v1/reports",
        "/v1/supervisor/pull",
        "/v1/login",
        "/v1/openapi.json",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    let required: Vec<String> = doc["components"]["schemas"]["ReportDocument"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let basis: Vec<&str> =
        doc["components"]["schemas"]["ReportDocument"]["properties"]["time_basis"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
    for report in cunji_sync_server::reports::ReportName::ALL {
        let path = format!("/v1/reports/{}", report.path());
        let op = &paths.get(&path).unwrap_or_else(|| panic!("{path} missing"))["get"];
        let mut names: Vec<String> = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        let mut want: Vec<String> = ["scope", "format"]
            .into_iter()
            .chain(report.params().iter().map(|p| p.name))
            .map(String::from)
            .collect();
        want.sort();
        assert_eq!(names, want, "{path}");
        for p in report.params() {
            let documented = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["name"] == p.name)
                .unwrap();
            assert_eq!(
                documented["required"].as_bool().unwrap_or(false),
                p.required,
                "{path} {}",
                p.name
            );
        }
        assert!(
            op["description"]
                .as_str()
                .unwrap()
                .contains(match report.time_basis() {
                    cunji_core::reports::TimeBasis::DeviceEventTime => "device",
                    cunji_core::reports::TimeBasis::RecordDates => "record dates",
                    cunji_core::reports::TimeBasis::DeviceEventAndServerReceived =>
                        "server_received_ts",
                }),
            "{path} says its time basis"
        );
        for code in ["200", "400", "401", "403"] {
            assert!(
                op["responses"].get(code).is_some(),
                "{path} documents {code}"
            );
        }
        // A real response has every documented property.
        let params: String = report
            .params()
            .iter()
            .filter(|p| p.required)
            .map(|p| match p.name {
                "month" => "&month=2016-03",
                "days" => "&days=30",
                "from" => "&from=2016-01-01",
                _ => "&to=2016-12-31",
            })
            .collect();
        let body = town.ok(&format!("{path}?{TOWN_A}{params}"));
        for key in &required {
            assert!(body.get(key).is_some(), "{path} lacks {key}");
        }
        assert!(basis.contains(&body["time_basis"].as_str().unwrap()));
        let summary_schema = &doc["components"]["schemas"]
            [format!("{}Summary", cunji_sync_server::openapi::schema_name(report))];
        let mut documented: Vec<&String> = summary_schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        let mut real: Vec<&String> = body["summary"].as_object().unwrap().keys().collect();
        documented.sort();
        real.sort();
        assert_eq!(documented, real, "{path}: summary fields");
        let row_schema = &doc["components"]["schemas"]
            [format!("{}Row", cunji_sync_server::openapi::schema_name(report))];
        if let (Some(row), Some(props)) =
            (body["rows"].get(0), row_schema["properties"].as_object())
        {
            for key in props.keys() {
                assert!(
                    row.get(key).is_some(),
                    "{path}: documented row field {key} is not in the response"
                );
            }
            for key in row.as_object().unwrap().keys() {
                assert!(
                    props.contains_key(key),
                    "{path}: row field {key} is not documented"
                );
            }
        } else {
            panic!("{path}: no rows to compare or no row schema");
        }
    }
    // The reports index lists the same nine.
    let index = town.ok("/v1/reports");
    assert_eq!(index["reports"].as_array().unwrap().len(), 9);
}

/// The supervisors' cursor pull (masked for the organisation department) and the export
/// command's SQLite and xlsx files.
fn pull_and_export(server: &TestServer, town: &Client) {
    // Township A pages through its records 7 at a time.
    let mut after = 0;
    let mut seen = std::collections::BTreeSet::new();
    let mut pages = 0;
    loop {
        let page = town.ok(&format!(
            "/v1/supervisor/pull?scope=township:530322101&after={after}&limit=7"
        ));
        pages += 1;
        for r in page["records"].as_array().unwrap() {
            assert!(
                seen.insert(r["doc_id"].as_str().unwrap().to_string()),
                "each record once"
            );
            let village = r["village_code"].as_str();
            assert!(village.is_none_or(|v| v.starts_with("530322101")), "{r}");
            assert!(r["server_received_ts"].as_str().is_some());
        }
        let next = page["next_cursor"].as_i64().unwrap();
        assert!(next >= after);
        after = next;
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
    }
    assert!(pages > 3);
    for id in ["hh-1", "hh-6", "v1", "c-wang", "unit-czj", "case-1"] {
        assert!(seen.contains(id), "{id} pulled");
    }
    for id in ["hh-7", "v8"] {
        assert!(!seen.contains(id), "{id} belongs to township B");
    }
    // Nothing new after the last cursor, then a new record shows up, alone.
    let empty = town.ok(&format!(
        "/v1/supervisor/pull?scope=township:530322101&after={after}"
    ));
    assert_eq!(empty["records"].as_array().unwrap().len(), 0);
    server
        .db
        .write(|tx| {
            put(
                tx,
                "c-li",
                "dev-c-li",
                Some("v10"),
                "2016-04-02T02:00:00Z",
                &visit(
                    "hh-1",
                    "c-li",
                    VisitMode::InHome,
                    "2016-04-02T09:00:00+08:00",
                    30,
                    Some(home(1)),
                    Some(hash(0x10)),
                ),
            );
            Ok::<_, cunji_sync_server::store::StoreError>(())
        })
        .unwrap();
    let fresh = town.ok(&format!(
        "/v1/supervisor/pull?scope=township:530322101&after={after}"
    ));
    let ids: Vec<&str> = fresh["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["doc_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["v10"]);

    // The township sees ID numbers and names; the organisation department sees them masked.
    let id_no = numbers(1, "hh-1")
        .id_numbers
        .values()
        .next()
        .unwrap()
        .clone();
    let member_rows = |c: &Client| -> Vec<Value> {
        let page = c.ok("/v1/supervisor/pull?scope=village:530322101201&limit=5000");
        let hh = page["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["doc_id"] == "hh-1")
            .unwrap()
            .clone();
        hh["tables"]["p_member"].as_array().unwrap().clone()
    };
    assert!(
        member_rows(town)
            .iter()
            .any(|m| m["id_no"] == id_no.as_str())
    );
    let org = Client::new(server, "org");
    let masked = member_rows(&org);
    assert!(
        masked
            .iter()
            .all(|m| m["id_no"].as_str().unwrap().contains("****"))
    );
    assert!(!masked.iter().any(|m| m["id_no"] == id_no.as_str()));
    assert!(
        masked
            .iter()
            .all(|m| m["name"].as_str().unwrap().ends_with('*'))
    );
    // Cadres have no supervisor pull; another township's scope is refused.
    assert_eq!(
        Client::new(server, "c-li")
            .get("/v1/supervisor/pull?scope=village:530322101201")
            .0,
        403
    );
    assert_eq!(
        town.get("/v1/supervisor/pull?scope=township:530322102").0,
        403
    );
    assert_eq!(
        town.get("/v1/supervisor/pull?scope=township:530322101&since=3")
            .0,
        400
    );

    // Export: a township's tables to SQLite (ID numbers as stored), the county's to xlsx
    // (masked). An existing file is never overwritten.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("township.sqlite3");
    let scope = "township:530322101".parse().unwrap();
    let written = cunji_sync_server::reports::supervise::export(&server.db, &scope, &file).unwrap();
    assert_eq!(written.tables["p_household"], 6);
    let conn = cunji_core::open_connection(&file).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM p_visit", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 10, "v1–v7, v9, v10 and the phone's visit");
    let stored: String = conn.query_row("SELECT id_no FROM p_member m JOIN p_household h ON h.doc_id = m.doc_id WHERE h.doc_id = 'hh-1' ORDER BY m.member_id LIMIT 1", [], |r| r.get(0)).unwrap();
    assert_eq!(stored.len(), 18);
    assert!(!stored.contains('*'));
    let received: String = conn
        .query_row(
            "SELECT server_received_ts FROM records WHERE doc_id = 'v7'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(received.starts_with("2016-03-29T12:00:00"), "{received}");
    assert!(matches!(
        cunji_sync_server::reports::supervise::export(&server.db, &scope, &file),
        Err(cunji_sync_server::reports::supervise::ExportError::Exists(
            _
        ))
    ));
    // A period's export: the township's event records dated in the period (a leave by its
    // overlap with it) and the rows of their other tables (an inspection's households);
    // registers whole. Each table is checked against the whole export above, filtered here
    // in SQL; then the records each period must and must not hold, by hand.
    let d = |s: &str| s.parse::<cunji_core::values::Date>().unwrap();
    let tables = cunji_core::domain::all_tables();
    let export_part = |from: &str, to: &str| -> BTreeMap<String, Vec<String>> {
        let period = cunji_core::reports::DateRange {
            from: d(from),
            to: d(to),
        };
        let part = dir.path().join(format!("township-{from}-{to}.sqlite3"));
        let got =
            cunji_sync_server::reports::supervise::export_period(&server.db, &scope, period, &part)
                .unwrap();
        conn.execute("ATTACH ?1 AS part", [part.to_str().unwrap()])
            .unwrap();
        let ids = |sql: &str| -> Vec<String> {
            let mut stmt = conn.prepare(sql).unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let mut out = BTreeMap::new();
        for (kind, table) in &tables {
            let name = table.name;
            let main = tables.iter().find(|(k, _)| k == kind).unwrap().1.name;
            let whole = match kind.event_date() {
                None => format!("SELECT doc_id FROM main.{name}"),
                Some(cunji_core::domain::EventDate::On(c)) => format!(
                    "SELECT doc_id FROM main.{name} WHERE doc_id IN
                       (SELECT doc_id FROM main.{main} WHERE {c} BETWEEN '{from}' AND '{to}')"
                ),
                Some(cunji_core::domain::EventDate::Span(a, b)) => format!(
                    "SELECT doc_id FROM main.{name} WHERE doc_id IN
                       (SELECT doc_id FROM main.{main} WHERE {a} <= '{to}' AND {b} >= '{from}')"
                ),
            };
            let want = ids(&format!("{whole} ORDER BY doc_id"));
            let have = ids(&format!("SELECT doc_id FROM part.{name} ORDER BY doc_id"));
            assert_eq!(have, want, "{name}, {from} to {to}");
            assert_eq!(got.tables[name], have.len(), "{name}");
            out.insert(name.to_string(), have);
        }
        out.insert(
            "leave".into(),
            ids("SELECT from_date || '..' || to_date FROM part.p_leave ORDER BY 1"),
        );
        conn.execute("DETACH part", []).unwrap();
        out
    };
    let mid = export_part("2016-03-14", "2016-03-22");
    for (id, inside) in [("v1", false), ("v2", false), ("v4", true), ("v7", true)] {
        assert_eq!(mid["p_visit"].contains(&id.to_string()), inside, "{id}");
    }
    // The township's leave: 11–13 ends before the period, 24–25 starts after it, 21–23 and
    // 22–24 overlap it.
    assert_eq!(
        mid["leave"],
        ["2016-03-21..2016-03-23", "2016-03-22..2016-03-24"]
    );
    assert!(mid["p_inspection"].is_empty());
    let end = export_part("2016-03-25", "2016-03-31");
    assert!(end["p_visit"].is_empty());
    assert_eq!(end["leave"], ["2016-03-24..2016-03-25"]);
    assert_eq!(end["p_inspection"].len(), 1);
    assert_eq!(end["p_inspection_household"].len(), 3, "hh-1, hh-2, hh-4");
    for (register, n) in [
        ("p_household", 6),
        ("p_policy_item", mid["p_policy_item"].len()),
    ] {
        assert_eq!(end[register].len(), n, "{register}: whole in any period");
    }
    let backwards = dir.path().join("backwards.xlsx");
    let bad = cunji_core::reports::DateRange {
        from: d("2016-03-22"),
        to: d("2016-03-12"),
    };
    assert!(matches!(
        cunji_sync_server::reports::supervise::export_period(&server.db, &scope, bad, &backwards),
        Err(cunji_sync_server::reports::supervise::ExportError::Period(
            ..
        ))
    ));
    assert!(!backwards.exists());

    use calamine::{Reader, Xlsx, open_workbook};
    let xlsx = dir.path().join("county.xlsx");
    let county = "county:530322".parse().unwrap();
    cunji_sync_server::reports::supervise::export(&server.db, &county, &xlsx).unwrap();
    let mut book: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let members = book.worksheet_range("p_member").unwrap();
    let header: Vec<String> = members
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let col = header.iter().position(|h| h == "id_no").unwrap();
    let ids: Vec<String> = members.rows().skip(1).map(|r| r[col].to_string()).collect();
    assert!(
        !ids.is_empty() && ids.iter().all(|i| i.contains("****")),
        "{ids:?}"
    );
    let households = book.worksheet_range("p_household").unwrap();
    assert_eq!(households.rows().count(), 1 + 7, "header + H1–H7");

    // A table longer than a sheet continues on `name.2`, `name.3`…, each with the header.
    let small = dir.path().join("county-small-sheets.xlsx");
    let written =
        cunji_sync_server::reports::supervise::export_with(&server.db, &county, None, &small, 3)
            .unwrap();
    let visits = written.tables["p_visit"];
    assert!(visits > 6, "{visits} visits: too few to need three sheets");
    let mut book: Xlsx<_> = open_workbook(&small).unwrap();
    let names = book.sheet_names();
    let parts: Vec<String> = names
        .iter()
        .filter(|n| *n == "p_visit" || n.starts_with("p_visit."))
        .cloned()
        .collect();
    assert_eq!(parts.len(), visits.div_ceil(3), "{names:?}");
    let mut rows = 0;
    for (i, part) in parts.iter().enumerate() {
        let range = book.worksheet_range(part).unwrap();
        let mut it = range.rows();
        assert_eq!(it.next().unwrap()[0].to_string(), "doc_id", "{part}");
        let n = it.count();
        assert!((1..=3).contains(&n), "{part}: {n} rows");
        if i > 0 {
            assert_eq!(part, &format!("p_visit.{}", i + 1));
        }
        rows += n;
    }
    assert_eq!(rows, visits);
}

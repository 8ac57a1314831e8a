//! Rights by date and by record (DOMAIN §1), against a real server with real devices: a team
//! member whose membership ended and a pairing cadre whose assignment ended stop receiving the
//! village or household and may write nothing dated after their last day (a record of the last
//! day still syncs for `LATE_SYNC_DAYS`), while what they recorded stays with the first
//! secretary and the township; a team member receives only its own check-ins, leave and logs.
//! A phone forgets what its account may no longer read (the village it left, colleagues'
//! attendance it received before the rights narrowed).
//!
//! Each scenario runs on SQLite, and on PostgreSQL when `CUNJI_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, NaiveDate};
use cunji_core::domain::access::LATE_SYNC_DAYS;
use cunji_core::domain::codes::VisitRole;
use cunji_core::domain::codes::{Health, LeaveStatus};
use cunji_core::domain::{
    Cadre, CheckIn, Household, HouseholdPrivate, Leave, Team, Village, Visit, WorkLog,
};
use cunji_sync_server::accounts::{Role, today};
use cunji_tests::{Backend, Device, TestServer, household, numbers, serving_team};

const LEADER: &str = "cadre-wang-zhigang";
const MEMBER: &str = "cadre-li-ming";
const LEAVER: &str = "cadre-zhao-hong";
const PAIRING: &str = "pairing-zhou";
const TOWNSHIP: &str = "township-zhang";

fn check_in_on(login: &str, day: NaiveDate) -> CheckIn {
    let mut c = CheckIn::example();
    c.cadre_id = login.into();
    c.ts = format!("{day}T08:00:00+08:00").parse().unwrap();
    c
}

fn visit_on(login: &str, household: &str, day: NaiveDate) -> Visit {
    let mut v = Visit::example();
    let shift = day - v.start_ts.date_naive();
    v.start_ts += shift;
    v.end_ts += shift;
    v.follow_up_due = v.follow_up_due.map(|d| d + shift);
    v.household_id = household.into();
    v.visitor_id = login.into();
    v.role_at_visit = VisitRole::PairingCadre;
    v
}

/// The example village with a team of three serving cadres, a household, and accounts for
/// each role the scenarios use; returns the server, the admin's device and the team's id.
fn world(backend: Backend) -> (TestServer, Device, String, String) {
    let server = TestServer::start(backend);
    server.account("admin", Role::Admin, "");
    server.account(LEADER, Role::FirstSecretary, "");
    server.account(MEMBER, Role::TeamMember, "");
    server.account(LEAVER, Role::TeamMember, "");
    server.account(PAIRING, Role::PairingCadre, "");
    server.account(TOWNSHIP, Role::Township, &Village::example().code[..9]);
    let mut admin = Device::new(&server.url, "admin").sign_in();
    let who = admin.author("建村");
    admin.store.create(&who, &Village::example()).unwrap();
    let team = admin.store.create(&who, &serving_team()).unwrap();
    assert_eq!(admin.sync().unwrap().rejected, 0);
    let mut leader = Device::new(&server.url, LEADER).sign_in();
    let home = leader
        .store
        .create(&leader.author("建档立卡"), &household(1300))
        .unwrap();
    assert_eq!(leader.sync().unwrap().rejected, 0);
    (server, admin, team, home)
}

/// Sets `cadre`'s last day on the team, as the organisation department or the admin records a
/// recall.
fn end_membership(admin: &mut Device, team_id: &str, cadre: &str, last: NaiveDate) {
    let mut team: Team = admin.store.get::<Team>(team_id).unwrap().record;
    team.members.get_mut(cadre).unwrap().to = Some(last);
    admin
        .store
        .update(&admin.author("召回"), team_id, &team)
        .unwrap();
    assert_eq!(admin.sync().unwrap().rejected, 0);
}

/// The ids of the device's refused records with their codes.
fn refused(d: &Device) -> Vec<(String, String)> {
    d.store
        .rejected_changes()
        .unwrap()
        .into_iter()
        .map(|(id, code, _)| (id, code))
        .collect()
}

fn a_member_who_left(backend: Backend) {
    let (server, mut admin, team, home) = world(backend);
    let mut leaver = Device::new(&server.url, LEAVER).sign_in();
    leaver.sync().unwrap();
    assert!(leaver.store.get::<Household>(&home).is_ok());
    let while_serving = leaver
        .store
        .create(
            &leaver.author("打卡"),
            &check_in_on(LEAVER, today() - Duration::days(3)),
        )
        .unwrap();
    assert_eq!(leaver.sync().unwrap().rejected, 0);

    // Recalled: the last day was yesterday.
    let last = today() - Duration::days(1);
    end_membership(&mut admin, &team, LEAVER, last);
    let on_last_day = leaver
        .store
        .create(&leaver.author("打卡"), &check_in_on(LEAVER, last))
        .unwrap();
    let after = leaver
        .store
        .create(&leaver.author("打卡"), &check_in_on(LEAVER, today()))
        .unwrap();
    let mut h = leaver.store.get::<Household>(&home).unwrap().record;
    h.plan = Some("离队后改的计划".into());
    leaver
        .store
        .update(&leaver.author("更新"), &home, &h)
        .unwrap();
    let before = server.change_count();
    let report = leaver.sync().unwrap();
    assert_eq!(report.rejected, 2, "{:?}", refused(&leaver));
    let codes = refused(&leaver);
    assert!(
        codes.contains(&(after.clone(), "out_of_scope".into())),
        "{codes:?}"
    );
    assert!(
        codes.contains(&(home.clone(), "out_of_scope".into())),
        "{codes:?}"
    );
    assert_eq!(
        server.change_count(),
        before + 1,
        "only the last day's check-in is stored"
    );
    // Its phone forgot the village's household (its own check-ins stay: it reads its own).
    assert!(report.forgotten >= 1, "{report:?}");
    assert!(leaver.store.get::<Household>(&home).is_err());
    for id in [&while_serving, &on_last_day] {
        assert!(leaver.store.get::<CheckIn>(id).is_ok(), "leaver lost {id}");
    }

    // It no longer receives the village: a change the leader makes now does not reach it.
    let mut leader = Device::new(&server.url, LEADER).sign_in();
    leader.sync().unwrap();
    let mut h = leader.store.get::<Household>(&home).unwrap().record;
    h.land_mu = Some(9.5);
    leader
        .store
        .update(&leader.author("更新"), &home, &h)
        .unwrap();
    let later = leader
        .store
        .create(&leader.author("建档立卡"), &household(1301))
        .unwrap();
    leader.sync().unwrap();
    leaver.sync().unwrap();
    assert!(leaver.store.get::<Household>(&later).is_err());
    assert!(leaver.store.get::<Household>(&home).is_err());

    // What it recorded while serving stays with the first secretary and the township.
    for id in [&while_serving, &on_last_day] {
        assert!(leader.store.get::<CheckIn>(id).is_ok(), "leader lost {id}");
    }
    assert!(leader.store.get::<CheckIn>(&after).is_err());
    let mut township = Device::new(&server.url, TOWNSHIP).sign_in();
    township.sync().unwrap();
    assert!(township.store.get::<CheckIn>(&while_serving).is_ok());

    // Past the late-sync allowance, even the last day's record is refused.
    let long_ago = today() - Duration::days(LATE_SYNC_DAYS + 1);
    end_membership(&mut admin, &team, LEAVER, long_ago);
    let late = leaver
        .store
        .create(&leaver.author("补打卡"), &check_in_on(LEAVER, long_ago))
        .unwrap();
    leaver.sync().unwrap();
    assert!(
        refused(&leaver).contains(&(late.clone(), "out_of_scope".into())),
        "{:?}",
        refused(&leaver)
    );
    leader.sync().unwrap();
    assert!(leader.store.get::<CheckIn>(&late).is_err());
}

#[test]
fn a_member_whose_membership_ended_stops_reading_and_writing_the_village() {
    for backend in Backend::available() {
        a_member_who_left(backend);
    }
}

fn a_pairing_cadre_whose_assignment_ended(backend: Backend) {
    let (server, _admin, _team, home) = world(backend);
    let last = today() - Duration::days(1);
    let csv = format!(
        "household_id,cadre_id,from,to,is_primary\n{home},{PAIRING},2015-09-01,{last},是\n"
    );
    server
        .db
        .write(|tx| cunji_sync_server::records::import_assignments(tx, "admin", &csv))
        .unwrap();
    let mut cadre = Device::new(&server.url, PAIRING).sign_in();
    cadre.sync().unwrap();
    // Today the assignment is over: the household no longer comes to the phone.
    assert!(cadre.store.get::<Household>(&home).is_err());
    let who = cadre.author("入户走访");
    let on_last_day = cadre
        .store
        .create(&who, &visit_on(PAIRING, &home, last))
        .unwrap();
    let after = cadre
        .store
        .create(&who, &visit_on(PAIRING, &home, today()))
        .unwrap();
    let before_start = cadre
        .store
        .create(
            &who,
            &visit_on(PAIRING, &home, "2015-08-31".parse().unwrap()),
        )
        .unwrap();
    let report = cadre.sync().unwrap();
    assert_eq!(report.rejected, 2, "{:?}", refused(&cadre));
    let codes = refused(&cadre);
    for id in [&after, &before_start] {
        assert!(
            codes.contains(&(id.clone(), "out_of_scope".into())),
            "{codes:?}"
        );
    }
    let mut leader = Device::new(&server.url, LEADER).sign_in();
    leader.sync().unwrap();
    assert!(leader.store.get::<Visit>(&on_last_day).is_ok());
    assert!(leader.store.get::<Visit>(&after).is_err());
    assert!(leader.store.get::<Visit>(&before_start).is_err());
}

#[test]
fn a_pairing_cadre_whose_assignment_ended_stops_reading_and_visiting_the_household() {
    for backend in Backend::available() {
        a_pairing_cadre_whose_assignment_ended(backend);
    }
}

fn own_attendance(backend: Backend) {
    let (server, _admin, _team, _home) = world(backend);
    let mut member = Device::new(&server.url, MEMBER).sign_in();
    let mut other = Device::new(&server.url, LEAVER).sign_in();
    let mut leader = Device::new(&server.url, LEADER).sign_in();
    let day = today() - Duration::days(1);
    let mut made = Vec::new();
    for d in [&mut member, &mut other, &mut leader] {
        let login = d.login.clone();
        let who = d.author("打卡");
        let c = d.store.create(&who, &check_in_on(&login, day)).unwrap();
        let mut log = WorkLog::example();
        log.date = day;
        log.review = None;
        let l = d.store.create(&who, &log).unwrap();
        let leave = d.store.create(&who, &leave_request(&login, day)).unwrap();
        assert_eq!(d.sync().unwrap().rejected, 0, "{login}");
        made.push((login, c, l, leave));
    }
    for d in [&mut member, &mut other, &mut leader] {
        d.sync().unwrap();
    }
    for (author, c, l, leave) in &made {
        // Each member holds its own, the first secretary everyone's.
        for d in [&member, &other] {
            let mine = &d.login == author;
            assert_eq!(d.store.get::<CheckIn>(c).is_ok(), mine, "{} {c}", d.login);
            assert_eq!(d.store.get::<WorkLog>(l).is_ok(), mine, "{} {l}", d.login);
            assert_eq!(
                d.store.get::<Leave>(leave).is_ok(),
                mine,
                "{} {leave}",
                d.login
            );
        }
        assert!(leader.store.get::<CheckIn>(c).is_ok());
        assert!(leader.store.get::<WorkLog>(l).is_ok());
        assert!(leader.store.get::<Leave>(leave).is_ok());
    }
    // A phone that synced before attendance became its owner's (its cursors name the scopes
    // of then: `global` and the whole `village:`) forgets the colleagues' records it holds.
    let mut older = Device::new(&server.url, MEMBER).sign_in();
    for (_, c, l, _) in &made {
        for id in [c, l] {
            let changes: Vec<cunji_core::IncomingChange> = leader
                .store
                .changes_of(id)
                .unwrap()
                .into_iter()
                .map(|bytes| cunji_core::IncomingChange {
                    doc_id: id.clone(),
                    bytes,
                })
                .collect();
            older.store.apply_changes(&changes).unwrap();
        }
    }
    let top = server.change_count();
    older.store.set_cursor("global", top).unwrap();
    older
        .store
        .set_cursor(&format!("village:{}", Village::example().code), top)
        .unwrap();
    let report = older.sync().unwrap();
    assert_eq!(report.forgotten, 4, "{report:?}");
    for (author, c, l, _) in &made {
        let mine = author == MEMBER;
        assert_eq!(older.store.get::<CheckIn>(c).is_ok(), mine, "{c}");
        assert_eq!(older.store.get::<WorkLog>(l).is_ok(), mine, "{l}");
    }
    let scopes: Vec<String> = older
        .store
        .cursors()
        .unwrap()
        .into_iter()
        .map(|c| c.scope)
        .collect();
    assert!(
        !scopes
            .iter()
            .any(|s| s == "global" || s.starts_with("village:")),
        "{scopes:?}"
    );
    // Nothing more to forget on the next sync.
    assert_eq!(older.sync().unwrap().forgotten, 0);

    // Nor through the record view: a member's token is refused another's check-in.
    let (c_other, c_mine) = (&made[1].1, &made[0].1);
    let url = |id: &str| format!("{}/v1/records/{id}", server.url);
    let http = reqwest::blocking::Client::new();
    let get = |token: &str, id: &str| {
        http.get(url(id))
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    let token = member.token();
    assert_eq!(get(token, c_mine), 200);
    assert_eq!(get(token, c_other), 404);
    assert_eq!(get(leader.token(), c_other), 200);
    let (leave_other, leave_mine) = (&made[1].3, &made[0].3);
    assert_eq!(get(token, leave_mine), 200);
    assert_eq!(get(token, leave_other), 404);
    assert_eq!(get(leader.token(), leave_other), 200);
}

/// A pending leave request of `login`'s, made on `day` for the week after.
fn leave_request(login: &str, day: NaiveDate) -> Leave {
    Leave {
        cadre_id: login.into(),
        from: day + Duration::days(7),
        to: day + Duration::days(8),
        days: 2,
        requested_ts: format!("{day}T18:30:00+08:00").parse().unwrap(),
        endorsed_by: None,
        approver_id: TOWNSHIP.into(),
        status: LeaveStatus::Pending,
        returned_ts: None,
        ..Leave::example()
    }
}

#[test]
fn a_team_member_receives_only_its_own_check_ins_and_logs() {
    for backend in Backend::available() {
        own_attendance(backend);
    }
}

fn numbers_reach_their_readers(backend: Backend) {
    let (server, _admin, _team, home) = world(backend);
    let mut leader = Device::new(&server.url, LEADER).sign_in();
    leader.sync().unwrap();
    let who = leader.author("建档立卡");
    let numbers_id = leader.store.create(&who, &numbers(1300, &home)).unwrap();
    let other = leader.store.create(&who, &household(1301)).unwrap();
    let other_numbers = leader.store.create(&who, &numbers(1301, &other)).unwrap();
    assert_eq!(leader.sync().unwrap().rejected, 0);
    // The team member is assigned `home` only.
    let csv = format!("household_id,cadre_id,from,to,is_primary\n{home},{MEMBER},2015-09-01,,是\n");
    server
        .db
        .write(|tx| cunji_sync_server::records::import_assignments(tx, "admin", &csv))
        .unwrap();
    let mut member = Device::new(&server.url, MEMBER).sign_in();
    member.sync().unwrap();
    // Both households, the numbers of its own only: on the phone and in its file.
    assert!(member.store.get::<Household>(&other).is_ok());
    assert!(member.store.get::<HouseholdPrivate>(&numbers_id).is_ok());
    assert!(
        member
            .store
            .get::<HouseholdPrivate>(&other_numbers)
            .is_err()
    );
    let secret = numbers(1301, &other);
    let held: Vec<String> = member
        .store
        .record_ids()
        .unwrap()
        .into_iter()
        .map(|id| member.store.document_json(&id).unwrap().to_string())
        .collect();
    for n in secret.id_numbers.values() {
        assert!(
            !held.iter().any(|d| d.contains(n.as_str())),
            "{n} on the phone"
        );
    }
    let stored: Option<String> = member
        .store
        .conn()
        .query_row(
            "SELECT group_concat(id_no) FROM p_member WHERE doc_id = ?1",
            [&other],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        stored, None,
        "no number projected for the unassigned household"
    );
    let mine: String = member
        .store
        .conn()
        .query_row(
            "SELECT group_concat(id_no) FROM p_member WHERE doc_id = ?1",
            [&home],
            |r| r.get(0),
        )
        .unwrap();
    for n in numbers(1300, &home).id_numbers.values() {
        assert!(
            mine.contains(n.as_str()),
            "{n} missing from its own household"
        );
    }
    // The township receives every household's numbers.
    let mut township = Device::new(&server.url, TOWNSHIP).sign_in();
    township.sync().unwrap();
    assert!(
        township
            .store
            .get::<HouseholdPrivate>(&other_numbers)
            .is_ok()
    );
    // The record view masks them for the team member, whose token reaches only its own.
    let http = reqwest::blocking::Client::new();
    let status = |token: &str, id: &str| {
        http.get(format!("{}/v1/records/{id}", server.url))
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(status(member.token(), &numbers_id), 200);
    assert_eq!(status(member.token(), &other_numbers), 404);
}

#[test]
fn a_team_member_holds_the_id_and_bank_numbers_of_its_assigned_households_only() {
    for backend in Backend::available() {
        numbers_reach_their_readers(backend);
    }
}

const ELSEWHERE: &str = "cadre-elsewhere";
const COUNTY_OFFICE: &str = "county-office-x";
const CITY: &str = "city-x";

/// Writes `login`'s file on the server, as the administrator's import does (its id is the
/// cadre's login).
pub(crate) fn cadre_file(server: &TestServer, login: &str, n: u64) -> Cadre {
    let cadre = Cadre {
        name: format!("干部{n}"),
        phone: format!("1388741{n:04}"),
        ..Cadre::example()
    };
    let now = chrono::Utc::now();
    let p = cunji_sync_server::records::Provenance {
        login: "admin".into(),
        device_id: "server".into(),
        reason: "干部信息".into(),
        created: now.fixed_offset(),
        received: now,
        id: Some(login.into()),
    };
    server
        .db
        .write(|tx| {
            cunji_sync_server::records::create_with(tx, &p, &cadre).map_err(|e| panic!("{e}"))
        })
        .map_err(|e: cunji_sync_server::store::StoreError| e)
        .unwrap();
    cadre
}

fn cadre_files(backend: Backend) {
    let (server, mut admin, _team, home) = world(backend);
    server.account(ELSEWHERE, Role::FirstSecretary, "");
    server.account(
        COUNTY_OFFICE,
        Role::CountyOffice,
        &Village::example().code[..6],
    );
    server.account(CITY, Role::City, &Village::example().code[..4]);
    // A cadre serving in a village of another county.
    let mut far = Village::example();
    far.code = "530423102305".into();
    far.township_code = far.code[..9].into();
    far.name = "外县村".into();
    let mut team = serving_team();
    team.village_code = far.code.clone();
    team.leader_id = ELSEWHERE.into();
    let first = team.members.values().next().unwrap().clone();
    team.members = [(ELSEWHERE.to_string(), first)].into();
    let who = admin.author("建村");
    admin.store.create(&who, &far).unwrap();
    admin.store.create(&who, &team).unwrap();
    assert_eq!(admin.sync().unwrap().rejected, 0);
    let csv =
        format!("household_id,cadre_id,from,to,is_primary\n{home},{PAIRING},2015-09-01,,是\n");
    server
        .db
        .write(|tx| cunji_sync_server::records::import_assignments(tx, "admin", &csv))
        .unwrap();
    let everyone = [LEADER, MEMBER, LEAVER, PAIRING, ELSEWHERE];
    let files: Vec<Cadre> = everyone
        .iter()
        .zip(1..)
        .map(|(login, n)| cadre_file(&server, login, n))
        .collect();

    // Each phone holds the files of the cadres it works with: the team its colleagues', the
    // township its villages' teams', a pairing cadre its own.
    let team_x = [LEADER, MEMBER, LEAVER];
    for (login, expected) in [
        (MEMBER, &team_x[..]),
        (LEADER, &team_x[..]),
        (TOWNSHIP, &team_x[..]),
        (PAIRING, &[PAIRING][..]),
    ] {
        let mut d = Device::new(&server.url, login).sign_in();
        d.sync().unwrap();
        for other in everyone {
            assert_eq!(
                d.store.get::<Cadre>(other).is_ok(),
                expected.contains(&other),
                "{login}'s phone and {other}'s file"
            );
        }
    }

    // The record view: in clear where the cadre works, masked for the county poverty office,
    // never for the city or outside.
    let http = reqwest::blocking::Client::new();
    let view = |d: &Device, id: &str| {
        let resp = http
            .get(format!("{}/v1/records/{id}", server.url))
            .bearer_auth(d.token())
            .send()
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json::<serde_json::Value>().unwrap())
    };
    let id_no = files[0].id_no.clone().unwrap();
    let member = Device::new(&server.url, MEMBER).sign_in();
    let (status, body) = view(&member, LEADER);
    assert_eq!(
        (status, body["record"]["id_no"].as_str()),
        (200, Some(id_no.as_str()))
    );
    assert_eq!(view(&member, ELSEWHERE).0, 404);
    let township = Device::new(&server.url, TOWNSHIP).sign_in();
    assert_eq!(view(&township, LEADER).0, 200);
    assert_eq!(view(&township, ELSEWHERE).0, 404);
    let county = Device::new(&server.url, COUNTY_OFFICE).sign_in();
    let (status, body) = view(&county, LEADER);
    assert_eq!(status, 200, "{body}");
    let masked = body["record"]["id_no"].as_str().unwrap();
    assert!(masked != id_no && masked.contains('*'), "{masked}");
    assert_eq!(body["record"]["name"], files[0].name.as_str());
    assert!(body["masked"].to_string().contains("sensitive"), "{body}");
    assert_eq!(view(&county, ELSEWHERE).0, 404);
    let city = Device::new(&server.url, CITY).sign_in();
    assert_eq!(view(&city, LEADER).0, 404);
    let pairing = Device::new(&server.url, PAIRING).sign_in();
    assert_eq!(view(&pairing, PAIRING).0, 200);
    assert_eq!(view(&pairing, LEADER).0, 404);

    // A household's health data: in clear for the township, masked for the county office,
    // in the record and in its history.
    let (status, body) = view(&township, &home);
    assert_eq!(status, 200);
    let health = |body: &serde_json::Value| -> Vec<String> {
        body["record"]["members"]
            .as_object()
            .unwrap()
            .values()
            .map(|m| m["health"].to_string())
            .collect()
    };
    let clear = health(&body);
    assert!(
        clear
            .iter()
            .all(|h| Health::CODES.contains(&h.trim_matches('"'))),
        "{clear:?}"
    );
    let (status, body) = view(&county, &home);
    assert_eq!(status, 200);
    for (m, c) in health(&body).iter().zip(&clear) {
        assert_ne!(m, c, "health in clear for the county office");
    }
    let history = body["history"].to_string();
    for c in &clear {
        let value = c.trim_matches('"');
        assert!(
            !history.contains(&format!("\"{value}\"")),
            "{value} in the history the county office reads"
        );
    }

    // Only the administrator writes a cadre's file: not the cadre itself.
    let mut member = Device::new(&server.url, MEMBER).sign_in();
    member.sync().unwrap();
    let before = server.change_count();
    let mut mine = member.store.get::<Cadre>(MEMBER).unwrap().record;
    mine.phone = "13900000000".into();
    member
        .store
        .update(&member.author("改电话"), MEMBER, &mine)
        .unwrap();
    member.sync().unwrap();
    assert_eq!(
        refused(&member),
        vec![(MEMBER.to_string(), "out_of_scope".to_string())]
    );
    assert_eq!(server.change_count(), before, "nothing stored");
}

/// A cadre's file (phone and ID number) reaches the phones of those it works with, and the
/// record view shows it in clear where it works, masked to the county poverty office, to
/// nobody outside; a household's health data likewise.
#[test]
fn a_cadres_file_reaches_where_the_cadre_works() {
    for backend in Backend::available() {
        cadre_files(backend);
    }
}

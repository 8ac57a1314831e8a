//! The authorisation matrix: every role × every endpoint × in and out of scope, against a
//! real server on loopback with real accounts, devices and records.
//!
//! The world: village X (`530322101201`, township `530322101`, county `530322`, city `5303`)
//! with its team, two households (HX1 assigned to the pairing cadre, HX2 not) and village Y in
//! another county and city (`530423102305`) with its own team and household HY; a policy item
//! (global reference data). One account per role, each with the division that puts village X
//! in its scope and village Y out of it.
//!
//! What each role may read and write is written out here from DOMAIN §1, not read from the
//! server's code: the server must agree with the table. Anything not listed is denied.
//!
//! Each test runs on SQLite and, when `CUNJI_TEST_POSTGRES_URL` is set, on PostgreSQL: the
//! scoping is partly SQL (the supervisors' pull, reports), so both stores must agree.
//!
//! The list of endpoints comes from the server ([`cunji_sync_server::endpoints`]): an endpoint
//! without a row in [`MATRIX`] fails [`the_matrix_covers_every_endpoint`], and every endpoint
//! that takes a token is tried with missing, malformed, unknown, expired, revoked and
//! another server's tokens.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use cunji_core::domain::codes::{LeaveStatus, VisitRole};
use cunji_core::domain::{
    Assignment, Cadre, CheckIn, Delivery, Entitlement, Household, Inspection, Leave, Petition,
    PolicyItem, Project, SatisfactionSurvey, StatusChange, Team, Unit, Village, Visit, WorkLog,
};
use cunji_core::sync::protocol::{
    self, DocHeads, HeadsRequest, RepairMessage, RepairRequest, UnreadableRequest,
};
use cunji_core::sync::{Transport, TransportError};
use cunji_sync_server::accounts::Role;
use cunji_sync_server::store::TokenRow;
use cunji_tests::{Backend, Device, PASSWORD, TestServer, household, numbers};

const X: &str = "530322101201";
const Y: &str = "530423102305";
const LEADER: &str = "cadre-wang-zhigang";
const MEMBER: &str = "cadre-li-ming";
const LEADER_Y: &str = "cadre-y-leader";

/// How the matrix checks an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Served to anyone, with or without a token.
    Public,
    /// The server's metrics: an administrator's token (on the API's address).
    Metrics,
    Login,
    Push,
    Pull,
    Heads,
    /// Which of the device's records it may no longer read.
    Unreadable,
    Repair,
    /// Browser sign-in (the dashboard): a password, no device.
    Session,
    /// The list of reports: any signed-in account.
    ReportList,
    /// One report of village X's (in) or village Y's (out) scope.
    Report,
    /// The supervisors' pull of a scope's rows.
    SupervisorPull,
    /// One record with its history, for drilling down from a report.
    Record,
    /// The caller's county's settings: any signed-in account, each told its own county.
    MySettings,
    /// A county's settings, read (`GET`) or replaced (`PUT`): county X's or county Y's.
    CountySettings,
    /// An account's devices: the team member of village X's (in) and the first secretary of
    /// village Y's (out); cutting one off: a device nobody has (the matrix's phones must keep
    /// working; `revocation.rs` cuts real ones off).
    Devices,
    /// A reviewer's step composed on a record: here a household of village X (in) or Y
    /// (out), which takes none (`approvals.rs` walks the real steps).
    Steps,
    /// A signed step stored: here one whose change does not parse.
    Commit,
    /// The signed-in account's to-do lists: any signed-in account, each its own.
    Todo,
    /// `POST /v1/ledgers/sign`: only a township, inside its division.
    SignLedger,
    /// `POST /v1/feedback` (投诉建议): every account that lies in a county (composed, nothing
    /// stored); the city and the city-wide administrator lie in none.
    SubmitFeedback,
    /// The county's import (dry runs only) and its templates: the administrator and the
    /// county poverty office; a household of village Y is out of county X's office's scope.
    Import,
    /// The register exported in the import's layout: the administrator (every county) and
    /// the county poverty office (its county: village X's households, not Y's).
    Export,
}

/// Who lists an account's phones and cuts one off: the administrator and the county poverty
/// office of the account's county; another county's office is answered as if the account
/// did not exist (`404`), every other role is refused (`403 forbidden`).
fn manages_devices(role: Role) -> bool {
    matches!(role, Role::Admin | Role::CountyOffice)
}

/// Who manages a county's ⚙ settings (DOMAIN §1: the county poverty office's right): its own
/// office and the administrator; nobody else, not even the county organisation department.
fn manages_settings(role: Role, in_scope: bool) -> bool {
    role == Role::Admin || (role == Role::CountyOffice && in_scope)
}

/// The county each role's account belongs to: village X's for the team, the pairing cadre (by
/// the household assigned to them) and the township and county accounts; none for the city
/// and the administrator.
fn county_of(role: Role) -> Option<&'static str> {
    match role {
        Role::Admin | Role::City => None,
        _ => Some(&X[..6]),
    }
}

/// Who reads reports and records of village X through the report API (DOMAIN §1: reports
/// are what a role may read, summed up): the team, the township and the county and city
/// offices; not a pairing cadre, whose households are read on the phone. Village Y, in
/// another county and city, only the administrator.
fn reads_reports(role: Role, in_scope: bool) -> bool {
    if !in_scope {
        return role == Role::Admin;
    }
    role != Role::PairingCadre
}

/// Who pulls a scope's merged rows for their own tools: supervisors only, and not the city,
/// which reads aggregates (DOMAIN §1).
fn pulls_rows(role: Role, in_scope: bool) -> bool {
    role.is_supervisor() && role != Role::City && (in_scope || role == Role::Admin)
}

/// Who reads one record of the village's (an unassigned household) with its history: whoever
/// reads its reports, but the city (aggregates only).
fn reads_records(role: Role, in_scope: bool) -> bool {
    reads_reports(role, in_scope) && role != Role::City
}

/// One row per endpoint the server serves. Adding an endpoint to the server means adding its
/// row here (and, for a new kind of check, its arm in `check_endpoint`).
const MATRIX: &[(&str, &str, Check)] = &[
    ("GET", "/healthz", Check::Public),
    ("GET", "/metrics", Check::Metrics),
    ("POST", "/v1/login", Check::Login),
    ("POST", "/v1/sync/push", Check::Push),
    ("POST", "/v1/sync/pull", Check::Pull),
    ("POST", "/v1/sync/heads", Check::Heads),
    ("POST", "/v1/sync/unreadable", Check::Unreadable),
    ("POST", "/v1/sync/repair", Check::Repair),
    ("GET", "/v1/openapi.json", Check::Public),
    ("POST", "/v1/session", Check::Session),
    ("GET", "/v1/reports", Check::ReportList),
    ("GET", "/v1/reports/{name}", Check::Report),
    ("GET", "/v1/supervisor/pull", Check::SupervisorPull),
    ("GET", "/v1/records/{id}", Check::Record),
    ("GET", "/v1/settings", Check::MySettings),
    ("GET", "/v1/settings/county/{code}", Check::CountySettings),
    ("PUT", "/v1/settings/county/{code}", Check::CountySettings),
    ("GET", "/v1/accounts/{login}/devices", Check::Devices),
    ("POST", "/v1/devices/{device_id}/revoke", Check::Devices),
    ("POST", "/v1/records/{id}/steps", Check::Steps),
    ("POST", "/v1/steps", Check::Commit),
    ("GET", "/v1/todo", Check::Todo),
    ("POST", "/v1/ledgers/sign", Check::SignLedger),
    ("POST", "/v1/feedback", Check::SubmitFeedback),
    ("POST", "/v1/import", Check::Import),
    ("GET", "/v1/import/templates/{kind}", Check::Import),
    ("GET", "/v1/import/export/{kind}", Check::Export),
];

/// Each role's account: login and division.
fn login_of(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Admin => ("admin", ""),
        Role::FirstSecretary => (LEADER, ""),
        Role::TeamMember => (MEMBER, ""),
        Role::PairingCadre => ("pairing-zhou", ""),
        Role::Township => ("township-x", "530322101"),
        Role::CountyOffice => ("county-office-x", "530322"),
        Role::CountyOrg => ("county-org-x", "530322"),
        Role::City => ("city-x", "5303"),
    }
}

/// The records read checks look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rec {
    /// Household of village X assigned to the pairing cadre.
    Hx1,
    /// Household of village X assigned to nobody.
    Hx2,
    /// The ID and bank numbers of HX1: read in clear by the first secretary, the township and
    /// HX1's pairing cadre, never by a team member it is not assigned to (DOMAIN §1).
    Nx1,
    /// Household of village Y.
    Hy,
    /// A policy item: global reference data.
    Policy,
}

/// What each role reads (DOMAIN §1). Above the township, ID and bank numbers are masked, so
/// those accounts read village records only through reports, never as raw documents.
fn reads(role: Role) -> BTreeSet<Rec> {
    use Rec::*;
    match role {
        Role::FirstSecretary | Role::Township => [Hx1, Hx2, Nx1, Policy].into(),
        Role::TeamMember => [Hx1, Hx2, Policy].into(),
        Role::PairingCadre => [Hx1, Nx1, Policy].into(),
        Role::Admin | Role::CountyOffice | Role::CountyOrg | Role::City => [Policy].into(),
    }
}

/// A record a role tries to create, in scope (village X, household HX1) or out of it
/// (village Y, household HY).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Household,
    /// A visit to HX1 (in) or HY (out).
    Visit,
    /// A visit to HX2, in the village but not assigned to the pairing cadre (in scope only:
    /// its "out" is the same as `Visit`'s).
    VisitUnassigned,
    Petition,
    StatusChange,
    Inspection,
    Survey,
    Village,
    Team,
    /// An assignment of HX2 (in) or HY (out) to a cadre of its own.
    Assignment,
    Entitlement,
    Project,
    CheckIn,
    WorkLog,
    PolicyItem,
    /// A unit (派出单位): reference data, the same in and out of scope.
    Unit,
    /// A cadre's file: reference data placed with its cadre.
    Cadre,
    /// A leave request of the writer's own (in scope only: a leave is placed with its
    /// requester's team).
    Leave,
    /// A delivery against an entitlement of HX2 (in) or HY (out).
    Delivery,
    /// The ID and bank numbers of a household (`household_private`): in X, or in Y. A
    /// household has one such record (`household_numbers_exist`), so each role writes those
    /// of a household of its own ([`World::numbers_homes`]).
    HouseholdNumbers,
}

/// Who may create each record in scope and out of scope (DOMAIN §1); everyone else is
/// refused `out_of_scope`. The installation's administrator (no division) keeps reference data
/// for every division. Decisions DOMAIN leaves open, as `cunji_core::domain::access` takes
/// them: reference data without a village (units, cadres, the policy catalog) and villages are
/// the administrator's; teams are kept by the administrator and the organisation department
/// (dispatch and recall), pairing assignments by the administrator and the county poverty
/// office, never by the village's first secretary (who would decide alone who reads its
/// personal data); entitlements are the county's; a 动态调整 case is opened in the village, the
/// township and the county take its later steps (an edit, not a new case).
/// Refusals of [`WRITES`] that come from a check rule, not the access table: the table lets the
/// township open a 动态调整 case where no work team serves (it records the village's steps for
/// the village committee there), and village X has a team, so its village step is refused by
/// the step check (`sync-server/src/checks.rs`; `it/checks.rs` has the village without one).
const REFUSED_BY_CHECK: &[(Write, &str, bool, &str)] =
    &[(Write::StatusChange, "township", true, "step_not_yours")];

const WRITES: &[(Write, &[&str], &[&str])] = &[
    // The administrator loads the 建档立卡 register (households of villages without a work
    // team have no other writer; the generator does this), in every division; the county
    // poverty office imports its own county's (issue 15).
    (
        Write::Household,
        &["admin", "first_secretary", "team_member", "county_office"],
        &["admin"],
    ),
    (
        Write::Visit,
        &["first_secretary", "team_member", "pairing_cadre"],
        &[],
    ),
    (
        Write::VisitUnassigned,
        &["first_secretary", "team_member"],
        &[],
    ),
    (
        Write::Petition,
        &[
            "first_secretary",
            "team_member",
            "township",
            "county_office",
        ],
        &[],
    ),
    (Write::StatusChange, &["first_secretary"], &[]),
    (Write::Inspection, &["township", "county_org"], &[]),
    (Write::Survey, &["pairing_cadre", "township"], &[]),
    (Write::Village, &["admin"], &["admin"]),
    (Write::Team, &["admin", "county_org"], &["admin"]),
    (Write::Assignment, &["admin", "county_office"], &["admin"]),
    (Write::Entitlement, &["admin", "county_office"], &["admin"]),
    (Write::Project, &["first_secretary", "county_office"], &[]),
    (Write::CheckIn, &["first_secretary", "team_member"], &[]),
    // Work logs are the resident cadres' own; the township and the organisation department
    // review them (an edit), they do not write their own.
    (Write::WorkLog, &["first_secretary", "team_member"], &[]),
    (Write::PolicyItem, &["admin"], &["admin"]),
    (Write::Unit, &["admin"], &["admin"]),
    (Write::Cadre, &["admin"], &["admin"]),
    (Write::Leave, &["first_secretary", "team_member"], &[]),
    (Write::Delivery, &["first_secretary", "team_member"], &[]),
    // Kept by the first secretary and by a team member for its assigned households (the
    // matrix's team member has none: `it/access.rs` has one), imported by the administrator
    // and the county poverty office (inside its county).
    (
        Write::HouseholdNumbers,
        &["admin", "first_secretary", "county_office"],
        &["admin"],
    ),
];

struct World {
    server: TestServer,
    ids: BTreeMap<Rec, String>,
    /// For each role, a household of X (`true`) and one of Y (`false`) whose numbers it
    /// writes, each with its `n` for [`numbers`].
    numbers_homes: BTreeMap<(&'static str, bool), (String, u64)>,
    /// Every team membership in village X and the pairing assignment ended on [`ENDED`]
    /// (DOMAIN §1: rights follow the date).
    ended: bool,
    /// An entitlement of HX2 (`true`) and one of HY (`false`), for deliveries.
    entitlements: BTreeMap<bool, String>,
    /// Village X's team and HX1's pairing assignment.
    team_x: String,
    assignment_x1: String,
}

/// The last day of the ended memberships and assignment, long enough ago that the grace for
/// late sync ([`cunji_core::domain::access::LATE_SYNC_DAYS`]) is over too.
const ENDED: &str = "2020-12-31";

impl World {
    /// Whether `role`'s account still serves in village X: supervisors always; the team and the
    /// pairing cadre until their membership or assignment ends. A cadre who left reads and
    /// writes nothing more there, as if the village were out of its scope.
    fn serves(&self, role: Role) -> bool {
        !(self.ended
            && matches!(
                role,
                Role::FirstSecretary | Role::TeamMember | Role::PairingCadre
            ))
    }

    /// What `role` reads (see [`reads`]), once its time in village X is over.
    fn reads(&self, role: Role) -> BTreeSet<Rec> {
        if self.serves(role) {
            reads(role)
        } else {
            [Rec::Policy].into()
        }
    }
}

fn world(backend: Backend, ended: bool) -> World {
    let server = TestServer::start(backend);
    for &role in Role::ALL {
        let (login, division) = login_of(role);
        server.account(login, role, division);
    }
    server.account("cadre-zhao-hong", Role::TeamMember, "");
    server.account(LEADER_Y, Role::FirstSecretary, "");

    let mut admin = Device::new(&server.url, "admin").sign_in();
    let who = admin.author("建村");
    admin.store.create(&who, &Village::example()).unwrap();
    let mut team = Team::example();
    if ended {
        for m in team.members.values_mut() {
            m.to = Some(ENDED.parse().unwrap());
        }
    }
    let team_x = admin.store.create(&who, &team).unwrap();
    let mut vy = Village::example();
    vy.code = Y.into();
    vy.township_code = Y[..9].into();
    vy.name = "外县村".into();
    admin.store.create(&who, &vy).unwrap();
    let mut ty = Team::example();
    ty.village_code = Y.into();
    ty.leader_id = LEADER_Y.into();
    let first = ty.members.values().next().unwrap().clone();
    ty.members = [(LEADER_Y.to_string(), first)].into();
    admin.store.create(&who, &ty).unwrap();
    let policy = admin.store.create(&who, &PolicyItem::example()).unwrap();
    let r = admin.sync().unwrap();
    assert_eq!(r.rejected, 0, "{:?}", admin.store.rejected_changes());

    // The register: the team's own records, or the administrator's once the team has left.
    let mut registrar = if ended {
        admin
    } else {
        Device::new(&server.url, LEADER).sign_in()
    };
    let who = registrar.author("建档立卡");
    let hx1 = registrar.store.create(&who, &household(1)).unwrap();
    let hx2 = registrar.store.create(&who, &household(2)).unwrap();
    let nx1 = registrar.store.create(&who, &numbers(1, &hx1)).unwrap();
    let mut numbers_homes = BTreeMap::new();
    for (i, role) in Role::ALL.iter().enumerate() {
        let n = 600 + i as u64;
        let home = registrar.store.create(&who, &household(n)).unwrap();
        numbers_homes.insert((role.code(), true), (home, n));
    }
    let r = registrar.sync().unwrap();
    assert_eq!(r.rejected, 0, "{:?}", registrar.store.rejected_changes());
    let mut leader_y = Device::new(&server.url, LEADER_Y).sign_in();
    let mut h = household(3);
    h.village_code = Y.into();
    let hy = leader_y
        .store
        .create(&leader_y.author("建档立卡"), &h)
        .unwrap();
    for (i, role) in Role::ALL.iter().enumerate() {
        let n = 700 + i as u64;
        let mut h = household(n);
        h.village_code = Y.into();
        let home = leader_y
            .store
            .create(&leader_y.author("建档立卡"), &h)
            .unwrap();
        numbers_homes.insert((role.code(), false), (home, n));
    }
    let r = leader_y.sync().unwrap();
    assert_eq!(r.rejected, 0, "{:?}", leader_y.store.rejected_changes());
    let to = if ended { ENDED } else { "" };
    let csv = format!(
        "household_id,cadre_id,from,to,is_primary\n{hx1},pairing-zhou,2015-09-01,{to},是\n"
    );
    server
        .db
        .write(|tx| cunji_sync_server::records::import_assignments(tx, "admin", &csv))
        .unwrap();
    let assignment_x1 = server
        .db
        .read(|tx| tx.find_projected("p_assignment", "household_id", &hx1))
        .unwrap()
        .remove(0);
    let mut admin = Device::new(&server.url, "admin").sign_in();
    let who = admin.author("政策兑现");
    let mut entitlements = BTreeMap::new();
    for (in_scope, home) in [(true, &hx2), (false, &hy)] {
        let e = Entitlement {
            household_id: home.clone(),
            member_id: None,
            ..Entitlement::example()
        };
        entitlements.insert(in_scope, admin.store.create(&who, &e).unwrap());
    }
    let r = admin.sync().unwrap();
    assert_eq!(r.rejected, 0, "{:?}", admin.store.rejected_changes());
    let ids = [
        (Rec::Hx1, hx1),
        (Rec::Hx2, hx2),
        (Rec::Nx1, nx1),
        (Rec::Hy, hy),
        (Rec::Policy, policy),
    ]
    .into();
    World {
        server,
        ids,
        numbers_homes,
        ended,
        entitlements,
        team_x,
        assignment_x1,
    }
}

#[test]
fn the_matrix_covers_every_endpoint() {
    let served: BTreeSet<(&str, &str)> = cunji_sync_server::endpoints()
        .iter()
        .map(|e| (e.method, e.path))
        .collect();
    let covered: BTreeSet<(&str, &str)> = MATRIX.iter().map(|(m, p, _)| (*m, *p)).collect();
    let missing: Vec<_> = served.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "endpoints without a row in the authorisation matrix: {missing:?}"
    );
    let stale: Vec<_> = covered.difference(&served).collect();
    assert!(
        stale.is_empty(),
        "matrix rows for endpoints not served: {stale:?}"
    );
    // Public endpoints are exactly the ones the matrix checks as public.
    for e in cunji_sync_server::endpoints() {
        let row = MATRIX
            .iter()
            .find(|(m, p, _)| (*m, *p) == (e.method, e.path))
            .unwrap();
        assert_eq!(
            e.authenticated,
            !matches!(row.2, Check::Public | Check::Login | Check::Session),
            "{} {}",
            e.method,
            e.path
        );
    }
}

#[test]
fn every_role_on_every_endpoint_in_and_out_of_scope() {
    for backend in Backend::available() {
        every_role_on_every_endpoint(backend, false);
    }
}

/// The same matrix once the team's memberships and the pairing assignment have ended: the
/// cadres read and write nothing more of village X, the supervisors as before.
#[test]
fn every_role_on_every_endpoint_after_the_end_dates() {
    for backend in Backend::available() {
        every_role_on_every_endpoint(backend, true);
    }
}

fn every_role_on_every_endpoint(backend: Backend, ended: bool) {
    let w = world(backend, ended);
    let mut failures = Vec::new();
    // One signed-in device per role (signing in hashes a password: slow in debug builds).
    let mut devices: BTreeMap<&str, Device> = Role::ALL
        .iter()
        .map(|r| {
            (
                r.code(),
                Device::new(&w.server.url, login_of(*r).0).sign_in(),
            )
        })
        .collect();
    for &(method, path, check) in MATRIX {
        for &role in Role::ALL {
            let device = devices.get_mut(role.code()).unwrap();
            check_endpoint(&w, device, method, path, check, role, &mut failures);
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements with the matrix on {backend:?} (ended: {ended}):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn check_endpoint(
    w: &World,
    device: &mut Device,
    method: &str,
    path: &str,
    check: Check,
    role: Role,
    failures: &mut Vec<String>,
) {
    let (login, _) = login_of(role);
    let url = format!("{}{path}", w.server.url);
    let http = reqwest::blocking::Client::new();
    let mut fail = |what: String| failures.push(format!("{role} {method} {path}: {what}"));
    match check {
        Check::Public => {
            let status = http.get(&url).send().unwrap().status().as_u16();
            if status != 200 {
                fail(format!("status {status}"));
            }
        }
        Check::Metrics => {
            let resp = http.get(&url).bearer_auth(device.token()).send().unwrap();
            let status = resp.status().as_u16();
            let expected = if role == Role::Admin { 200 } else { 403 };
            if status != expected {
                fail(format!("status {status}, expected {expected}"));
            }
        }
        Check::Login => {
            // The right password signs in; a wrong one, or another account's, does not.
            let device = Device::new(&w.server.url, login);
            let ok = cunji_core::sync::login(&w.server.url, login, PASSWORD, &device.store);
            if let Err(e) = ok {
                fail(format!("right password refused: {e}"));
            }
            match cunji_core::sync::login(&w.server.url, login, "wrong-password", &device.store) {
                Err(TransportError::Status { status: 401, body }) if body.code == "bad_login" => {}
                other => fail(format!("wrong password: {other:?}")),
            }
        }
        Check::Pull => {
            device.sync().unwrap();
            let have: BTreeSet<String> = device.store.record_ids().unwrap().into_iter().collect();
            for (rec, id) in &w.ids {
                let expected = w.reads(role).contains(rec);
                if have.contains(id) != expected {
                    fail(format!(
                        "{rec:?} pulled: {}, expected {expected}",
                        !expected
                    ));
                }
            }
        }
        Check::Heads => {
            // Every record of the world, and an id the server has never seen.
            let nowhere = "01900000-0000-7000-8000-00000000dead".to_string();
            let req = HeadsRequest {
                docs: w
                    .ids
                    .values()
                    .chain([&nowhere])
                    .map(|id| DocHeads {
                        doc_id: id.clone(),
                        heads: Vec::new(),
                    })
                    .collect(),
            };
            let body = device.transport().heads(protocol::encode(&req)).unwrap();
            let resp: protocol::HeadsResponse = protocol::decode(&body, 1 << 24).unwrap();
            let answer = |id: &str| -> Option<bool> {
                resp.differ
                    .iter()
                    .find(|d| d.doc_id == id)
                    .map(|d| !d.heads.is_empty())
            };
            if answer(&nowhere) != Some(false) {
                fail(format!("an unknown id: {:?}", answer(&nowhere)));
            }
            for (rec, id) in &w.ids {
                let expected = w.reads(role).contains(rec);
                // A readable record differs from the empty heads sent, with the server's
                // heads; an unreadable one gets the unknown id's answer (listed, no heads),
                // so that the reply does not tell whether it exists.
                if answer(id) != Some(expected) {
                    fail(format!(
                        "{rec:?} heads answer {:?}, expected {:?}",
                        answer(id),
                        Some(expected)
                    ));
                }
            }
        }
        Check::Unreadable => {
            // Every record of the world, and an id the server has never seen: named are the
            // records the server holds that the role may not read, never an unknown id.
            let nowhere = "01900000-0000-7000-8000-00000000dead".to_string();
            let req = UnreadableRequest {
                docs: w.ids.values().chain([&nowhere]).cloned().collect(),
            };
            let body = device
                .transport()
                .unreadable(protocol::encode(&req))
                .unwrap();
            let resp: protocol::UnreadableResponse = protocol::decode(&body, 1 << 24).unwrap();
            if resp.docs.contains(&nowhere) {
                fail("an unknown id was named unreadable".into());
            }
            for (rec, id) in &w.ids {
                let unreadable = !w.reads(role).contains(rec);
                if resp.docs.contains(id) != unreadable {
                    fail(format!(
                        "{rec:?} named unreadable: {}, expected {unreadable}",
                        resp.docs.contains(id)
                    ));
                }
            }
        }
        Check::Repair => {
            use automerge::sync::{Message, State, SyncDoc};
            let docs = w
                .ids
                .values()
                .map(|id| {
                    let mut empty = automerge::AutoCommit::new();
                    let message = empty
                        .sync()
                        .generate_sync_message(&mut State::new())
                        .map(Message::encode);
                    RepairMessage {
                        doc_id: id.clone(),
                        message,
                    }
                })
                .collect();
            let body = device
                .transport()
                .repair(protocol::encode(&RepairRequest { docs }))
                .unwrap();
            let resp: protocol::RepairResponse = protocol::decode(&body, 1 << 24).unwrap();
            for (rec, id) in &w.ids {
                let expected = w.reads(role).contains(rec);
                let answer = resp.docs.iter().find(|d| &d.doc_id == id).unwrap();
                // The server's message for a readable record offers its changes.
                let gives = answer
                    .message
                    .as_deref()
                    .and_then(|m| Message::decode(m).ok())
                    .is_some_and(|m| !m.heads.is_empty() || !m.changes.is_empty());
                if gives != expected {
                    fail(format!("{rec:?} repair gave: {gives}, expected {expected}"));
                }
            }
        }
        Check::Push => check_push(w, device, role, &mut fail),
        Check::MySettings | Check::CountySettings => {
            check_settings(w, device, method, check, role, &mut fail)
        }
        Check::Devices => {
            let targets: Vec<(bool, String)> = if method == "GET" {
                vec![
                    (
                        true,
                        format!("{}/v1/accounts/{MEMBER}/devices", w.server.url),
                    ),
                    (
                        false,
                        format!("{}/v1/accounts/{LEADER_Y}/devices", w.server.url),
                    ),
                ]
            } else {
                vec![(
                    true,
                    format!("{}/v1/devices/no-such-phone/revoke", w.server.url),
                )]
            };
            for (in_scope, target) in targets {
                let req = if method == "GET" {
                    http.get(&target)
                } else {
                    http.post(&target)
                };
                let resp = req.bearer_auth(device.token()).send().unwrap();
                let status = resp.status().as_u16();
                let body: serde_json::Value = resp.json().unwrap();
                let expected = match (manages_devices(role), method) {
                    (false, _) => (403, "forbidden"),
                    (true, "POST") => (404, "not_found"),
                    (true, _) if in_scope || role == Role::Admin => (200, ""),
                    (true, _) => (404, "not_found"),
                };
                let got = (status, body["code"].as_str().unwrap_or(""));
                if got != expected {
                    fail(format!("{target}: {got:?}, expected {expected:?}"));
                }
            }
        }
        Check::Export => {
            let target = format!("{}/v1/import/export/households", w.server.url);
            let resp = http
                .get(&target)
                .bearer_auth(device.token())
                .send()
                .unwrap();
            let status = resp.status().as_u16();
            if matches!(role, Role::Admin | Role::CountyOffice) {
                let bytes = resp.bytes().unwrap().to_vec();
                if status != 200 {
                    fail(format!("{target}: {status}, expected a workbook"));
                    return;
                }
                let tables =
                    cunji_sync_server::import::read::read(&cunji_sync_server::import::InputFile {
                        name: "x.xlsx".into(),
                        bytes,
                    })
                    .unwrap();
                let villages: std::collections::BTreeSet<String> =
                    tables[0].rows.iter().map(|(_, c)| c[1].shown()).collect();
                let expected: std::collections::BTreeSet<String> = if role == Role::Admin {
                    [X, Y].map(String::from).into()
                } else {
                    [X].map(String::from).into()
                };
                if villages != expected {
                    fail(format!(
                        "{target}: households of {villages:?}, expected {expected:?}"
                    ));
                }
            } else if (
                status,
                resp.json::<serde_json::Value>().unwrap()["code"].clone(),
            ) != (403, serde_json::json!("forbidden"))
            {
                fail(format!("{target}: {status}, expected 403 forbidden"));
            }
        }
        Check::Import => {
            let imports = matches!(role, Role::Admin | Role::CountyOffice);
            let refused = |status: u16, body: &serde_json::Value| {
                (status, body["code"].as_str().unwrap_or("").to_string())
                    != (403, "forbidden".to_string())
            };
            if method == "GET" {
                let target = format!("{}/v1/import/templates/households", w.server.url);
                let resp = http
                    .get(&target)
                    .bearer_auth(device.token())
                    .send()
                    .unwrap();
                let status = resp.status().as_u16();
                if imports {
                    let bytes = resp.bytes().unwrap();
                    if status != 200 || !bytes.starts_with(b"PK") {
                        fail(format!("{target}: {status}, expected a workbook"));
                    }
                } else if refused(status, &resp.json().unwrap()) {
                    fail(format!("{target}: {status}, expected 403 forbidden"));
                }
            } else {
                // A household of village Y, alone (no members): out of county X's scope for
                // its office; the administrator gets as far as its missing head.
                use cunji_sync_server::import::sheets::{SheetKind, to_cells};
                let mut h = Household::example();
                h.village_code = Y.into();
                let data = serde_json::to_value(&h).unwrap();
                let row = to_cells(SheetKind::Households, &data, &|k| {
                    (k == "#id").then(|| serde_json::json!("matrix-hy"))
                });
                let book = cunji_sync_server::import::template::workbook(&[(
                    SheetKind::Households,
                    vec![row],
                )])
                .unwrap();
                let before = w.server.change_count();
                let resp = http
                    .post(format!(
                        "{}/v1/import?file=hy.xlsx&commit=true",
                        w.server.url
                    ))
                    .bearer_auth(device.token())
                    .body(book)
                    .send()
                    .unwrap();
                let status = resp.status().as_u16();
                let body: serde_json::Value = resp.json().unwrap();
                let codes: Vec<&str> = body["problems"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["code"].as_str())
                    .collect();
                let expected = match role {
                    Role::Admin => Some(vec!["unknown_member"]),
                    Role::CountyOffice => Some(vec!["out_of_scope"]),
                    _ => None,
                };
                match expected {
                    Some(e) if status != 200 || codes != e || body["committed"] != false => fail(
                        format!("import of Y's household: {status} {codes:?}, expected {e:?}"),
                    ),
                    None if refused(status, &body) => {
                        fail(format!("import: {status} {body}, expected 403 forbidden"))
                    }
                    _ => {}
                }
                if w.server.change_count() != before {
                    fail("a refused import wrote changes".into());
                }
            }
        }
        Check::Session => {
            let body = |password: &str| serde_json::json!({ "login": login, "password": password });
            let right = http.post(&url).json(&body(PASSWORD)).send().unwrap();
            if right.status().as_u16() != 200 {
                fail(format!("right password: status {}", right.status()));
            }
            let wrong = http
                .post(&url)
                .json(&body("wrong-password"))
                .send()
                .unwrap();
            let status = wrong.status().as_u16();
            let code = wrong.json::<serde_json::Value>().unwrap()["code"].clone();
            if (status, code.as_str()) != (401, Some("bad_login")) {
                fail(format!("wrong password: {status} {code}"));
            }
        }
        Check::ReportList => {
            let status = http
                .get(&url)
                .bearer_auth(device.token())
                .send()
                .unwrap()
                .status()
                .as_u16();
            if status != 200 {
                fail(format!("status {status}"));
            }
        }
        Check::Steps => {
            // Whoever may read the record is told the step does not apply to a household
            // (400); who may not, that there is no such record (404), as for reading it.
            for (in_scope, rec) in [(true, Rec::Hx2), (false, Rec::Hy)] {
                let reached = in_scope && w.serves(role);
                let expected = if reads_records(role, reached) {
                    (400, "malformed")
                } else {
                    (404, "not_found")
                };
                let resp = http
                    .post(format!("{}/v1/records/{}/steps", w.server.url, w.ids[&rec]))
                    .bearer_auth(device.token())
                    .json(&serde_json::json!({"action": "leave_approve"}))
                    .send()
                    .unwrap();
                let status = resp.status().as_u16();
                let code = resp.json::<serde_json::Value>().unwrap()["code"].clone();
                if (status, code.as_str()) != (expected.0, Some(expected.1)) {
                    fail(format!(
                        "{rec:?}: status {status} {code}, expected {expected:?}"
                    ));
                }
            }
        }
        Check::Commit => {
            let resp = http
                .post(&url)
                .bearer_auth(device.token())
                .json(&serde_json::json!({"record_id": w.ids[&Rec::Hx2], "change": "00", "signature": "00"}))
                .send()
                .unwrap();
            let status = resp.status().as_u16();
            let code = resp.json::<serde_json::Value>().unwrap()["code"].clone();
            if (status, code.as_str()) != (422, Some("malformed_change")) {
                fail(format!(
                    "status {status} {code}, expected 422 malformed_change"
                ));
            }
        }
        Check::SignLedger => {
            // Last month's ledger of village X: the township over it may sign (the change is
            // composed, nothing stored); every other role is refused by the access table.
            use chrono::Datelike;
            let today = cunji_sync_server::accounts::today();
            let first = today.with_day0(0).unwrap() - chrono::Duration::days(1);
            let month = first.format("%Y-%m").to_string();
            let resp = http
                .post(&url)
                .bearer_auth(device.token())
                .json(&serde_json::json!({"scope": X, "month": month}))
                .send()
                .unwrap();
            let status = resp.status().as_u16();
            let code = resp.json::<serde_json::Value>().unwrap()["code"].clone();
            let expected = if role == Role::Township {
                (200, None)
            } else {
                (422, Some("out_of_scope"))
            };
            if (status, code.as_str()) != expected {
                fail(format!("status {status} {code}, expected {expected:?}"));
            }
        }
        Check::SubmitFeedback => {
            let resp = http
                .post(&url)
                .bearer_auth(device.token())
                .json(
                    &serde_json::json!({"category": "suggestion", "subject": "建议",
                    "text": "审批请更快一些"}),
                )
                .send()
                .unwrap();
            let status = resp.status().as_u16();
            let code = resp.json::<serde_json::Value>().unwrap()["code"].clone();
            let in_county = !matches!(role, Role::City | Role::Admin) && w.serves(role);
            let expected = if in_county {
                (200, None)
            } else {
                (422, Some("no_county"))
            };
            if (status, code.as_str()) != expected {
                fail(format!("status {status} {code}, expected {expected:?}"));
            }
        }
        Check::Todo => {
            let resp = http.get(&url).bearer_auth(device.token()).send().unwrap();
            let status = resp.status().as_u16();
            let body = resp.json::<serde_json::Value>().unwrap();
            if status != 200 || body["login"] != login || body["role"] != role.code() {
                fail(format!(
                    "status {status} {body}, expected 200 with its own login"
                ));
            }
        }
        Check::Report | Check::SupervisorPull | Check::Record => {
            for (in_scope, village) in [(true, X), (false, Y)] {
                let target = match check {
                    Check::Report => format!(
                        "{}/v1/reports/visit-coverage?scope=village:{village}&from=2015-01-01&to=2016-12-31",
                        w.server.url
                    ),
                    Check::SupervisorPull => format!(
                        "{}/v1/supervisor/pull?scope=village:{village}&after=0",
                        w.server.url
                    ),
                    _ => {
                        let rec = if in_scope { Rec::Hx2 } else { Rec::Hy };
                        format!("{}/v1/records/{}", w.server.url, w.ids[&rec])
                    }
                };
                let reached = in_scope && w.serves(role);
                let expected = match check {
                    Check::SupervisorPull => pulls_rows(role, reached),
                    Check::Record => reads_records(role, reached),
                    _ => reads_reports(role, reached),
                };
                let resp = http
                    .get(&target)
                    .bearer_auth(device.token())
                    .send()
                    .unwrap();
                let status = resp.status().as_u16();
                let code = resp.json::<serde_json::Value>().unwrap()["code"].clone();
                // A record the caller may not read is answered as an unknown id is, so that
                // the answer does not tell which ids exist; a scope is a public division code.
                let refusal = if check == Check::Record {
                    (404, "not_found")
                } else {
                    (403, "out_of_scope")
                };
                let ok = if expected {
                    status == 200
                } else {
                    (status, code.as_str()) == (refusal.0, Some(refusal.1))
                };
                if !ok {
                    fail(format!(
                        "village {village}: status {status} {code}, expected {}",
                        if expected {
                            "200".to_string()
                        } else {
                            format!("{} {}", refusal.0, refusal.1)
                        }
                    ));
                }
            }
            if check == Check::Record {
                // Reference data is read by every signed-in account.
                let target = format!("{}/v1/records/{}", w.server.url, w.ids[&Rec::Policy]);
                let status = http
                    .get(&target)
                    .bearer_auth(device.token())
                    .send()
                    .unwrap()
                    .status()
                    .as_u16();
                if status != 200 {
                    fail(format!("policy item: status {status}"));
                }
            }
        }
    }
}

fn check_settings(
    w: &World,
    device: &Device,
    method: &str,
    check: Check,
    role: Role,
    fail: &mut impl FnMut(String),
) {
    let http = reqwest::blocking::Client::new();
    if check == Check::MySettings {
        let resp = http
            .get(format!("{}/v1/settings", w.server.url))
            .bearer_auth(device.token())
            .send()
            .unwrap();
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().unwrap();
        if status != 200 || body["county_code"].as_str() != county_of(role) {
            fail(format!(
                "status {status}, county {}, expected 200 and {:?}",
                body["county_code"],
                county_of(role)
            ));
        }
        return;
    }
    for (in_scope, county) in [(true, &X[..6]), (false, &Y[..6])] {
        let url = format!("{}/v1/settings/county/{county}", w.server.url);
        let req = if method == "PUT" {
            http.put(&url)
                .json(&serde_json::json!({"check_in_photo": "optional"}))
        } else {
            http.get(&url)
        };
        let resp = req.bearer_auth(device.token()).send().unwrap();
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().unwrap();
        let expected = manages_settings(role, in_scope);
        let refusal = if role == Role::CountyOffice {
            "out_of_scope"
        } else {
            "forbidden"
        };
        let ok = if expected {
            status == 200 && body["county_code"] == county
        } else {
            status == 403
                && body["code"] == refusal
                && !body["message"].as_str().unwrap_or("").is_empty()
        };
        if !ok {
            fail(format!(
                "county {county}: status {status} {}, expected {}",
                body["code"],
                if expected {
                    "200".to_string()
                } else {
                    format!("403 {refusal}")
                }
            ));
        }
    }
}

fn check_push(w: &World, device: &mut Device, role: Role, fail: &mut impl FnMut(String)) {
    let (login, _) = login_of(role);
    let mut made: Vec<(Write, bool, String)> = Vec::new();
    for &(write, _, _) in WRITES {
        for in_scope in [true, false] {
            if !in_scope && matches!(write, Write::VisitUnassigned | Write::Leave) {
                continue;
            }
            let id = create(device, w, write, in_scope, login, role)
                .unwrap_or_else(|e| panic!("{role} could not make {write:?} locally: {e}"));
            made.push((write, in_scope, id));
        }
    }
    device.sync().unwrap();
    let rejected: BTreeMap<String, String> = device
        .store
        .rejected_changes()
        .unwrap()
        .into_iter()
        .map(|(id, code, _)| (id, code))
        .collect();
    for (write, in_scope, id) in made {
        let (_, allowed_in, allowed_out) = WRITES.iter().find(|r| r.0 == write).unwrap();
        let allowed = if in_scope && w.serves(role) {
            allowed_in
        } else {
            allowed_out
        }
        .contains(&role.code());
        let stored = w.server.db.read(|tx| tx.doc(&id)).unwrap().is_some();
        let scope = if in_scope { "in scope" } else { "out of scope" };
        let refusal = REFUSED_BY_CHECK
            .iter()
            .find(|r| r.0 == write && r.1 == role.code() && r.2 == in_scope)
            .map_or("out_of_scope", |r| r.3);
        match (allowed, rejected.get(&id)) {
            (true, None) if stored => {}
            (true, code) => fail(format!(
                "{write:?} {scope}: refused {code:?}, expected accepted"
            )),
            (false, Some(code)) if code == refusal && !stored => {}
            (false, code) => fail(format!(
                "{write:?} {scope}: {code:?} (stored: {stored}), expected {refusal}"
            )),
        }
    }
}

/// Makes the record of `write` on the device, about its own login where the record names one.
fn create(
    d: &mut Device,
    w: &World,
    write: Write,
    in_scope: bool,
    login: &str,
    role: Role,
) -> cunji_core::Result<String> {
    let village = if in_scope { X } else { Y };
    let hh = |rec_in: Rec| w.ids[&if in_scope { rec_in } else { Rec::Hy }].clone();
    let who = d.author("授权矩阵");
    let n = 100 + 20 * Role::ALL.iter().position(|r| *r == role).unwrap() as u64;
    match write {
        Write::Household => {
            let mut h = household(n + u64::from(in_scope));
            h.village_code = village.into();
            d.store.create(&who, &h)
        }
        Write::Visit | Write::VisitUnassigned => {
            let mut v = Visit::example();
            v.household_id = if write == Write::Visit {
                hh(Rec::Hx1)
            } else {
                w.ids[&Rec::Hx2].clone()
            };
            v.visitor_id = login.into();
            if role == Role::PairingCadre {
                v.role_at_visit = VisitRole::PairingCadre;
            }
            d.store.create(&who, &v)
        }
        Write::Petition => {
            let mut p = Petition::example();
            p.household_id = None;
            p.village_code = village.into();
            d.store.create(&who, &p)
        }
        Write::StatusChange => {
            let mut s = StatusChange::example();
            s.household_id = hh(Rec::Hx2);
            // The village's steps, each signed by the writer (the server checks who signs
            // which step).
            for step in s.steps.iter_mut() {
                step.actor_id = login.into();
            }
            d.store.create(&who, &s)
        }
        Write::Inspection => {
            let mut i = Inspection::example();
            i.inspector_id = login.into();
            i.village_code = village.into();
            i.target_cadre_id = None;
            for c in i.households_checked.iter_mut() {
                c.household_id = hh(Rec::Hx2);
            }
            i.households_checked.truncate(1);
            d.store.create(&who, &i)
        }
        Write::Survey => {
            let mut s = SatisfactionSurvey::example();
            s.household_id = hh(Rec::Hx1);
            s.surveyor_id = login.into();
            d.store.create(&who, &s)
        }
        Write::Village => {
            let mut v = Village::example();
            v.code = format!("{}{:03}", &village[..9], n + u64::from(in_scope));
            v.township_code = village[..9].into();
            v.name = format!("新村{n}");
            d.store.create(&who, &v)
        }
        Write::Team => {
            // A team of a cadre of its own: a team naming the matrix's accounts would put
            // them in the village.
            let mut t = Team::example();
            t.village_code = village.into();
            let member = format!("cadre-team-{n}-{in_scope}");
            let first = t.members.values().next().unwrap().clone();
            t.members = [(member.clone(), first)].into();
            t.leader_id = member;
            d.store.create(&who, &t)
        }
        Write::Assignment => {
            let mut a = Assignment::example();
            a.household_id = hh(Rec::Hx2);
            a.cadre_id = format!("cadre-pairing-{n}-{in_scope}");
            // Several roles assign HX2: helpers beside its one primary cadre (R10).
            a.is_primary = false;
            d.store.create(&who, &a)
        }
        Write::Entitlement => {
            let mut e = Entitlement::example();
            e.household_id = hh(Rec::Hx2);
            e.member_id = None;
            d.store.create(&who, &e)
        }
        Write::Project => {
            let mut p = Project::example();
            p.village_code = village.into();
            d.store.create(&who, &p)
        }
        Write::CheckIn => {
            let mut c = CheckIn::example();
            c.cadre_id = login.into();
            c.village_code = village.into();
            d.store.create(&who, &c)
        }
        Write::WorkLog => {
            let mut l = WorkLog::example();
            l.village_code = village.into();
            l.review = None;
            d.store.create(&who, &l)
        }
        Write::HouseholdNumbers => {
            let (home, n) = &w.numbers_homes[&(role.code(), in_scope)];
            d.store.create(&who, &numbers(*n, home))
        }
        Write::PolicyItem => {
            let mut p = PolicyItem::example();
            p.code = format!("P{n}{}", u8::from(in_scope));
            d.store.create(&who, &p)
        }
        Write::Unit => {
            let mut u = Unit::example();
            u.name = format!("单位{n}{in_scope}");
            d.store.create(&who, &u)
        }
        Write::Cadre => {
            let mut c = Cadre::example();
            c.name = format!("干部{n}{in_scope}");
            c.id_no = None;
            d.store.create(&who, &c)
        }
        Write::Leave => {
            let day = cunji_sync_server::accounts::today();
            let leave = Leave {
                cadre_id: login.into(),
                from: day + chrono::Duration::days(7),
                to: day + chrono::Duration::days(8),
                days: 2,
                requested_ts: format!("{day}T18:30:00+08:00").parse().unwrap(),
                endorsed_by: None,
                // Anyone but the requester (nobody approves their own leave).
                approver_id: "approver-of-the-matrix".into(),
                status: LeaveStatus::Pending,
                returned_ts: None,
                ..Leave::example()
            };
            d.store.create(&who, &leave)
        }
        Write::Delivery => {
            let mut delivery = Delivery::example();
            delivery.entitlement_id = w.entitlements[&in_scope].clone();
            d.store.create(&who, &delivery)
        }
    }
}

/// Every endpoint that takes a token refuses a missing, malformed, unknown, expired, revoked
/// or another server's token with 401 and its code, and serves a good one.
#[test]
fn bad_tokens_are_refused_on_every_authenticated_endpoint() {
    for backend in Backend::available() {
        bad_tokens_are_refused(backend);
    }
}

fn bad_tokens_are_refused(backend: Backend) {
    let server = TestServer::start(backend);
    server.account(MEMBER, Role::TeamMember, "");
    server.account("revoked-one", Role::TeamMember, "");
    let good = Device::new(&server.url, MEMBER).sign_in();
    let revoked = Device::new(&server.url, "revoked-one").sign_in();
    let n = server
        .db
        .write(|tx| tx.revoke_tokens("revoked-one"))
        .unwrap();
    assert_eq!(n, 1);
    // A phone cut off (`revoke-device`): its token, though unexpired, dies with it.
    server.account("lost-phone", Role::TeamMember, "");
    let lost = Device::new(&server.url, "lost-phone").sign_in();
    let lost_id = lost.store.device().device_id.clone();
    assert!(
        server
            .db
            .write(|tx| tx.revoke_device(&lost_id, &chrono::Utc::now().to_rfc3339()))
            .unwrap()
    );
    // An expired token of a registered device.
    let (expired, hash) = cunji_sync_server::accounts::new_token();
    server
        .db
        .write(|tx| {
            tx.put_token(&TokenRow {
                hash,
                login: MEMBER.into(),
                device_id: good.store.device().device_id.clone(),
                expires_ts: (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339(),
                revoked: false,
            })
        })
        .unwrap();
    // Another server (its own database) with the same account and password.
    let other = TestServer::start(backend);
    other.account(MEMBER, Role::TeamMember, "");
    let foreign = Device::new(&other.url, MEMBER).sign_in();
    let unknown = "ab".repeat(32);

    let cases: Vec<(&str, Option<String>, u16, &str)> = vec![
        ("no header", None, 401, "missing_token"),
        (
            "not bearer",
            Some(format!("Basic {}", good.token())),
            401,
            "missing_token",
        ),
        ("short", Some("Bearer abc".into()), 401, "missing_token"),
        (
            "not hex",
            Some(format!("Bearer {}", "zz".repeat(32))),
            401,
            "missing_token",
        ),
        (
            "too long",
            Some(format!("Bearer {}0", good.token())),
            401,
            "missing_token",
        ),
        (
            "unknown",
            Some(format!("Bearer {unknown}")),
            401,
            "bad_token",
        ),
        (
            "expired",
            Some(format!("Bearer {expired}")),
            401,
            "bad_token",
        ),
        (
            "revoked",
            Some(format!("Bearer {}", revoked.token())),
            401,
            "bad_token",
        ),
        (
            "of a phone cut off",
            Some(format!("Bearer {}", lost.token())),
            403,
            "device_revoked",
        ),
        (
            "another server's",
            Some(format!("Bearer {}", foreign.token())),
            401,
            "bad_token",
        ),
    ];
    let http = reqwest::blocking::Client::new();
    let endpoints = cunji_sync_server::endpoints();
    assert!(endpoints.iter().any(|e| e.authenticated));
    for e in endpoints.iter().filter(|e| e.authenticated) {
        let url = format!("{}{}", server.url, e.path);
        let body = protocol::encode(&protocol::PullRequest {
            cursors: vec![],
            max_bytes: 1000,
        });
        for (what, header, status, code) in &cases {
            let mut req = http
                .request(e.method.parse().unwrap(), &url)
                .body(body.clone());
            if let Some(h) = header {
                req = req.header("authorization", h);
            }
            let resp = req.send().unwrap();
            let got = resp.status().as_u16();
            let err: protocol::ErrorBody = resp.json().unwrap();
            assert_eq!(
                (got, err.code.as_str()),
                (*status, *code),
                "{} {} with a {what} token on {backend:?}",
                e.method,
                e.path
            );
            assert!(!err.message.is_empty() && !err.message_en.is_empty());
        }
        // The good token passes authentication (the body may not suit this endpoint).
        let resp = http
            .request(e.method.parse().unwrap(), &url)
            .header("authorization", format!("Bearer {}", good.token()))
            .body(body.clone())
            .send()
            .unwrap();
        assert_ne!(resp.status().as_u16(), 401, "{} {}", e.method, e.path);
    }
    assert_eq!(server.change_count(), 0);
}

/// Gives `d` the stored changes of record `id` from the server: what a phone that got hold of
/// a record outside its pull (or kept it from before its rights narrowed) would hold.
fn give(w: &World, d: &mut Device, id: &str) {
    let changes: Vec<cunji_core::IncomingChange> = w
        .server
        .stored_doc(id)
        .changes()
        .into_iter()
        .map(|c| cunji_core::IncomingChange {
            doc_id: id.into(),
            bytes: c.raw_bytes().to_vec(),
        })
        .collect();
    d.store.apply_changes(&changes).unwrap();
}

/// The devices of [`edits_follow_the_table`], one per login, signed in once.
struct Editors<'w> {
    w: &'w World,
    devices: BTreeMap<String, Device>,
}

impl Editors<'_> {
    fn device(&mut self, login: &str) -> &mut Device {
        let url = self.w.server.url.clone();
        self.devices
            .entry(login.to_string())
            .or_insert_with(|| Device::new(&url, login).sign_in())
    }

    /// `login` changes record `id` (a `T`) on its phone, given the record if its pull does not
    /// bring it, and syncs: `None` when the server took the change, else its refusal, which
    /// must leave nothing stored.
    fn edit<T: cunji_core::domain::Record>(
        &mut self,
        login: &str,
        id: &str,
        change: impl FnOnce(&mut T),
    ) -> Option<String> {
        let w = self.w;
        let d = self.device(login);
        d.sync().unwrap();
        if d.store.get::<T>(id).is_err() {
            give(w, d, id);
        }
        let mut record = d.store.get::<T>(id).unwrap().record;
        change(&mut record);
        self.answer(login, |d| {
            d.store.update(&d.author("修改"), id, &record)?;
            Ok(id.to_string())
        })
    }

    /// `login` creates `record` and syncs: as [`Editors::edit`].
    fn create<T: cunji_core::domain::Record>(&mut self, login: &str, record: &T) -> Option<String> {
        self.answer(login, |d| d.store.create(&d.author("新建"), record))
    }

    /// Makes a change on `login`'s phone (`make` returns the record's id), syncs, and says
    /// how the server answered: `None` taken (one change more stored), else the refusal
    /// (nothing stored).
    fn answer(
        &mut self,
        login: &str,
        make: impl FnOnce(&mut Device) -> cunji_core::Result<String>,
    ) -> Option<String> {
        let before = self.w.server.change_count();
        let d = self.device(login);
        let id = make(d).unwrap();
        d.sync().unwrap();
        let code = d.refusal(&id);
        let after = self.w.server.change_count();
        match &code {
            Some(_) => assert_eq!(after, before, "{login} {id}: refused, yet stored"),
            None => assert_eq!(
                after,
                before + 1,
                "{login} {id}: neither refused nor stored"
            ),
        }
        code
    }
}

/// Edits of records others made, by each role in and out of its reach (DOMAIN §1 and the
/// access table's decisions): the first secretary does not edit its own team or its
/// village's pairing assignments (they decide who reads the village's personal data), the
/// organisation department and the administrator do; the household register is the team's
/// and the administrator's, not the township's, the county's, a pairing cadre's or the
/// city's; an administrator with a division writes only inside it, and no reference data.
/// Phones that do not receive a record are given it (a hostile phone could hold it). Each
/// refusal leaves nothing stored; each accepted edit stores one change.
#[test]
fn edits_follow_the_table() {
    for backend in Backend::available() {
        edits(backend);
    }
}

fn edits(backend: Backend) {
    let w = world(backend, false);
    w.server.account("admin-x", Role::Admin, &X[..6]);
    let mut e = Editors {
        w: &w,
        devices: BTreeMap::new(),
    };
    let oos = Some("out_of_scope".to_string());
    let join = |t: &mut Team| {
        let first = t.members.values().next().unwrap().clone();
        t.members
            .insert(format!("cadre-new-{}", t.members.len()), first);
    };
    let (team, assignment) = (w.team_x.clone(), w.assignment_x1.clone());
    let (hx1, hx2, hy, policy) = (
        w.ids[&Rec::Hx1].clone(),
        w.ids[&Rec::Hx2].clone(),
        w.ids[&Rec::Hy].clone(),
        w.ids[&Rec::Policy].clone(),
    );
    let plan =
        |h: &mut Household| h.plan = Some(format!("{}+", h.plan.clone().unwrap_or_default()));
    let end = |a: &mut Assignment| a.to = Some("2030-12-31".parse().unwrap());

    let mut failures = Vec::new();
    let mut expect = |what: &str, got: Option<String>, expected: &Option<String>| {
        if &got != expected {
            failures.push(format!("{what}: {got:?}, expected {expected:?}"));
        }
    };
    expect(
        "first secretary edits its team",
        e.edit::<Team>(LEADER, &team, join),
        &oos,
    );
    expect(
        "first secretary edits its village's assignment",
        e.edit::<Assignment>(LEADER, &assignment, end),
        &oos,
    );
    expect(
        "team member edits the team",
        e.edit::<Team>(MEMBER, &team, join),
        &oos,
    );
    expect(
        "organisation department edits the team",
        e.edit::<Team>("county-org-x", &team, join),
        &None,
    );
    expect(
        "administrator edits the team",
        e.edit::<Team>("admin", &team, join),
        &None,
    );
    expect(
        "county office edits the team",
        e.edit::<Team>("county-office-x", &team, join),
        &oos,
    );
    expect(
        "county office edits the assignment",
        e.edit::<Assignment>("county-office-x", &assignment, end),
        &None,
    );
    expect(
        "team member edits a household",
        e.edit::<Household>(MEMBER, &hx2, plan),
        &None,
    );
    expect(
        "first secretary edits a household",
        e.edit::<Household>(LEADER, &hx2, plan),
        &None,
    );
    expect(
        "county office edits a household of its county (the register it imports)",
        e.edit::<Household>("county-office-x", &hx2, plan),
        &None,
    );
    for login in ["pairing-zhou", "township-x", "county-org-x", "city-x"] {
        let home = if login == "pairing-zhou" { &hx1 } else { &hx2 };
        expect(
            &format!("{login} edits a household"),
            e.edit::<Household>(login, home, plan),
            &oos,
        );
    }
    expect(
        "city edits the policy item",
        e.edit::<PolicyItem>("city-x", &policy, |p| p.name.push('+')),
        &oos,
    );
    expect(
        "administrator edits the policy item",
        e.edit::<PolicyItem>("admin", &policy, |p| p.name.push('+')),
        &None,
    );
    // An administrator of county X's.
    expect(
        "county administrator edits a household of X",
        e.edit::<Household>("admin-x", &hx2, plan),
        &None,
    );
    expect(
        "county administrator edits a household of Y",
        e.edit::<Household>("admin-x", &hy, plan),
        &oos,
    );
    expect(
        "county administrator edits the policy item",
        e.edit::<PolicyItem>("admin-x", &policy, |p| p.name.push('+')),
        &oos,
    );
    let mut home_y = household(990);
    home_y.village_code = Y.into();
    expect(
        "county administrator registers a household of X",
        e.create("admin-x", &household(991)),
        &None,
    );
    expect(
        "county administrator registers a household of Y",
        e.create("admin-x", &home_y),
        &oos,
    );
    let mut item = PolicyItem::example();
    item.code = "P-X-ADMIN".into();
    expect(
        "county administrator adds to the policy catalog",
        e.create("admin-x", &item),
        &oos,
    );
    expect(
        "county administrator adds a unit",
        e.create("admin-x", &Unit::example()),
        &oos,
    );
    assert!(
        failures.is_empty(),
        "{} disagreements on {backend:?}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

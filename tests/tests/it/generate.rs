//! The synthetic data generator (DOMAIN §5) on a real server database: one whole village with
//! its team, loaded through the server's merge, on SQLite and (when `CUNJI_TEST_POSTGRES_URL`
//! is set) PostgreSQL. What is stored is read back from the change log, as documents, and
//! checked against §5's figures, the kinds' validation, determinism and a real device's sync.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use cunji_core::doc::RecordDoc;
use cunji_core::domain::codes::{
    HouseSafety, HouseholdAttribute, PovertyCause, Satisfaction, VisitMode, VisitPurpose,
};
use cunji_core::domain::{
    CheckIn, Delivery, Entitlement, Household, HouseholdPrivate, Kind, Leave, Petition,
    SatisfactionSurvey, Village, Visit, WorkLog, from_json, project_json,
};
use cunji_core::projection::Rows;
use cunji_sync_server::generate::{self, Options, Report};
use cunji_sync_server::store::{Db, ScopeFilter};
use cunji_tests::{Backend, Device, PASSWORD, TestServer};

fn options(seed: u64, villages: usize) -> Options {
    Options {
        seed,
        villages,
        threads: 2,
        demo_password: Some(PASSWORD.into()),
        registers_only: false,
    }
}

fn run(db: &Db, opts: &Options) -> Report {
    let report = generate::generate(db, opts, &mut |_| {}).unwrap();
    assert_eq!(
        report.unexpected, 0,
        "unexpected outcomes: {:?}",
        report.unexpected_samples
    );
    report
}

/// Every document of a scope, rebuilt from the server's change log.
fn documents(db: &Db, scope: &ScopeFilter) -> BTreeMap<String, RecordDoc> {
    let mut by_doc: BTreeMap<String, Vec<automerge::Change>> = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = db
            .read(|tx| tx.changes_after(scope, after, 16 << 20, 5_000))
            .unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        for cunji_sync_server::store::LoggedChange { doc_id, bytes, .. } in page {
            by_doc
                .entry(doc_id)
                .or_default()
                .push(automerge::Change::from_bytes(bytes).unwrap());
        }
    }
    by_doc
        .into_iter()
        .map(|(id, changes)| {
            let mut doc = RecordDoc::empty(&id, automerge::ActorId::random());
            doc.apply(changes).unwrap();
            (id, doc)
        })
        .collect()
}

/// The generated village's documents, grouped by kind as JSON.
struct Village1 {
    code: String,
    by_kind: HashMap<Kind, Vec<(String, serde_json::Value)>>,
    docs: usize,
}

impl Village1 {
    fn read(db: &Db) -> Village1 {
        let global = documents(db, &ScopeFilter::Global);
        assert!(!global.is_empty(), "no reference data");
        let code = {
            // The one village record is in its own village's scope; find it through a team.
            let division = documents(db, &ScopeFilter::Division("5303".into()));
            let village = division
                .values()
                .find(|d| d.envelope().unwrap().kind == Kind::Village)
                .unwrap();
            village.read::<Village>().unwrap().code
        };
        let docs = documents(db, &ScopeFilter::Village(code.clone()));
        // Cadres' files are each in their cadre's own scope.
        let cadres: Vec<String> = db
            .read(|tx| tx.docs_changed_after(None, 0, usize::MAX))
            .unwrap()
            .into_iter()
            .filter(|c| c.kind == Kind::Cadre)
            .map(|c| c.doc_id)
            .collect();
        assert!(!cadres.is_empty(), "no cadres");
        let mut global = global;
        for cadre in cadres {
            global.extend(documents(db, &ScopeFilter::People(vec![cadre])));
        }
        let mut by_kind: HashMap<Kind, Vec<(String, serde_json::Value)>> = HashMap::new();
        for doc in docs.values().chain(global.values()) {
            let env = doc.envelope().unwrap();
            // Every stored record, in its final merged state, passes its kind's validation.
            let data = doc.data_json().unwrap();
            project_json(&env, data.clone(), &mut Rows::default())
                .unwrap_or_else(|e| panic!("{} {} invalid: {e}", env.kind.code(), env.id));
            by_kind.entry(env.kind).or_default().push((env.id, data));
        }
        Village1 {
            code,
            docs: docs.len() + global.len(),
            by_kind,
        }
    }

    fn all<T: serde::de::DeserializeOwned>(&self, kind: Kind) -> Vec<T> {
        self.with_ids(kind).into_iter().map(|(_, r)| r).collect()
    }

    fn with_ids<T: serde::de::DeserializeOwned>(&self, kind: Kind) -> Vec<(String, T)> {
        self.by_kind
            .get(&kind)
            .map(|v| {
                v.iter()
                    .map(|(id, j)| (id.clone(), from_json(j.clone()).unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn share(part: usize, whole: usize) -> f64 {
    part as f64 / whole.max(1) as f64
}

fn near(what: &str, value: f64, target: f64, tolerance: f64) {
    assert!(
        (value - target).abs() <= tolerance,
        "{what}: {value:.4}, expected {target} ± {tolerance}"
    );
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// One village with its team has §5's shapes, every record is valid, and the planned proxy
/// visits were refused.
#[test]
fn a_generated_village_has_the_shapes_of_section_5() {
    for backend in Backend::available() {
        let server = TestServer::start(backend);
        let report = run(&server.db, &options(11, 1));
        assert_eq!(report.villages, 1);
        assert_eq!(report.team_villages, 1, "the first village has a team");
        let v = Village1::read(&server.db);
        assert_eq!(v.docs, report.total_records(), "{backend:?}");

        // Households: size mix, attribute mix, main cause, housing, insurance.
        let hh: Vec<Household> = v.all(Kind::Household);
        assert_eq!(hh.len(), report.households);
        assert!(hh.len() >= 50, "a whole village: {} households", hh.len());
        let sizes: Vec<usize> = hh
            .iter()
            .map(|h| {
                h.members
                    .values()
                    .filter(|m| m.change_reason.is_none())
                    .count()
            })
            .collect();
        for (k, target) in [(1, 0.11), (2, 0.18), (3, 0.21), (4, 0.24), (5, 0.16)] {
            near(
                &format!("households of {k}"),
                share(sizes.iter().filter(|&&s| s == k).count(), hh.len()),
                target,
                0.08,
            );
        }
        let mean = sizes.iter().sum::<usize>() as f64 / hh.len() as f64;
        near("mean household size", mean, 3.51, 0.3);
        let count = |f: &dyn Fn(&Household) -> bool| hh.iter().filter(|h| f(h)).count();
        near(
            "一般贫困户",
            share(
                count(&|h| h.attribute == HouseholdAttribute::General),
                hh.len(),
            ),
            0.70,
            0.08,
        );
        near(
            "低保贫困户",
            share(
                count(&|h| h.attribute == HouseholdAttribute::Dibao),
                hh.len(),
            ),
            0.25,
            0.08,
        );
        near(
            "因病",
            share(count(&|h| h.main_cause == PovertyCause::Illness), hh.len()),
            0.22,
            0.08,
        );
        near(
            "C/D houses",
            share(
                count(&|h| matches!(h.house_safety, HouseSafety::C | HouseSafety::D)),
                hh.len(),
            ),
            0.15,
            0.07,
        );
        let members: Vec<_> = hh.iter().flat_map(|h| h.members.values()).collect();
        near(
            "uninsured members",
            share(
                members.iter().filter(|m| !m.medical_insured).count(),
                members.len(),
            ),
            0.02,
            0.015,
        );
        // Every member has its ID number, in the household's own record of numbers, unique
        // city-wide (R10).
        let numbers: Vec<HouseholdPrivate> = v.all(Kind::HouseholdPrivate);
        assert_eq!(
            numbers.len(),
            hh.len(),
            "one record of numbers per household"
        );
        let ids: BTreeSet<&str> = numbers
            .iter()
            .flat_map(|p| p.id_numbers.values().map(String::as_str))
            .collect();
        assert_eq!(ids.len(), members.len(), "ID numbers are unique (R10)");

        // Visits: first round by 10-31 (98%) and 11-10 (all), phone share, gaps.
        let visits: Vec<Visit> = v.all(Kind::Visit);
        let mut first_visit: HashMap<&str, NaiveDate> = HashMap::new();
        for vi in &visits {
            if vi.purpose.contains(&VisitPurpose::FirstRound) {
                first_visit.insert(&vi.household_id, vi.start_ts.date_naive());
            }
        }
        // Households in the 2014 register (new inclusions come in October 2015).
        let register: BTreeSet<String> = v
            .with_ids::<Household>(Kind::Household)
            .into_iter()
            .filter(|(_, h)| h.registered_year == 2014)
            .map(|(id, _)| id)
            .collect();
        let first_of_register: Vec<NaiveDate> = register
            .iter()
            .filter_map(|id| first_visit.get(id.as_str()).copied())
            .collect();
        let by_1031 = first_of_register
            .iter()
            .filter(|&&x| x <= d("2015-10-31"))
            .count();
        let by_1110 = first_of_register
            .iter()
            .filter(|&&x| x <= d("2015-11-10"))
            .count();
        let registered_2014 = register.len();
        assert_eq!(first_visit.len(), hh.len(), "every household visited");
        near(
            "visited by 10-31",
            share(by_1031, registered_2014),
            0.98,
            0.03,
        );
        assert!(by_1110 >= registered_2014, "all by 11-10");
        near(
            "phone visits",
            share(
                visits.iter().filter(|x| x.mode == VisitMode::Phone).count(),
                visits.len(),
            ),
            0.03,
            0.012,
        );
        let mut per_household: HashMap<&str, Vec<NaiveDate>> = HashMap::new();
        for vi in &visits {
            per_household
                .entry(&vi.household_id)
                .or_default()
                .push(vi.start_ts.date_naive());
        }
        let gaps: Vec<i64> = per_household
            .values_mut()
            .flat_map(|dates| {
                dates.sort();
                dates
                    .windows(2)
                    .map(|w| (w[1] - w[0]).num_days())
                    .collect::<Vec<_>>()
            })
            .collect();
        let mean_gap = gaps.iter().sum::<i64>() as f64 / gaps.len() as f64;
        near("mean gap between visits (days)", mean_gap, 45.0, 6.0);
        let refused = report.refused.get("forged_author").copied().unwrap_or(0);
        near(
            "proxy attempts refused",
            share(refused, visits.len()),
            0.015,
            0.01,
        );

        // Deliveries: 85% on time, 10% late, 5% not delivered (entitlements due by 2016-09).
        let ent_ids: Vec<(String, Entitlement)> = v.with_ids(Kind::Entitlement);
        let deliveries: Vec<Delivery> = v.all(Kind::Delivery);
        let delivered: HashMap<&str, NaiveDate> = deliveries
            .iter()
            .map(|x| (x.entitlement_id.as_str(), x.delivered_date))
            .collect();
        let due_early: Vec<&(String, Entitlement)> = ent_ids
            .iter()
            .filter(|(_, e)| e.due_date <= d("2016-08-31"))
            .collect();
        let on_time = due_early
            .iter()
            .filter(|(id, e)| delivered.get(id.as_str()).is_some_and(|x| *x <= e.due_date))
            .count();
        let late = due_early
            .iter()
            .filter(|(id, e)| delivered.get(id.as_str()).is_some_and(|x| *x > e.due_date))
            .count();
        near(
            "deliveries on time",
            share(on_time, due_early.len()),
            0.85,
            0.04,
        );
        near("deliveries late", share(late, due_early.len()), 0.10, 0.035);
        let per_year = ent_ids.len() as f64 / (hh.len() as f64 * 2.0);
        assert!(
            (2.5..=6.0).contains(&per_year),
            "entitlements per household-year {per_year}"
        );

        // Attendance: one check-in per in-village day, inside the geofence; leave requested.
        let village: Village = v.all(Kind::Village).pop().unwrap();
        let checkins: Vec<CheckIn> = v.all(Kind::CheckIn);
        assert!(checkins.iter().all(|c| village.geofence.contains(&c.geo)));
        let mut days: BTreeMap<(&str, String), usize> = BTreeMap::new();
        for c in &checkins {
            *days
                .entry((&c.cadre_id, c.ts.format("%Y-%m").to_string()))
                .or_default() += 1;
        }
        // Full months only: every cadre-month falls in one of §5's classes (8–26 days).
        assert!(
            days.iter()
                .filter(|((_, m), _)| m.as_str() > "2015-08")
                .all(|(_, &n)| (8..=26).contains(&n)),
            "{days:?}"
        );
        let leaves: Vec<Leave> = v.all(Kind::Leave);
        assert!(!leaves.is_empty());
        let unreturned = leaves
            .iter()
            .filter(|l| l.returned_ts.is_none() && l.to < d("2016-12-30"))
            .count();
        // §5's 3% never closed is checked tightly on the plan of 165 villages (unit tests);
        // one village's ~60 leaves only bound it.
        assert!(
            unreturned * 8 <= leaves.len(),
            "{unreturned} of {} leaves never closed",
            leaves.len()
        );
        let logs: Vec<WorkLog> = v.all(Kind::WorkLog);
        near(
            "logs per in-village day",
            share(logs.len(), checkins.len()),
            0.90,
            0.04,
        );

        // Petitions, surveys.
        let petitions: Vec<Petition> = v.all(Kind::Petition);
        let rate = petitions.len() as f64 / hh.len() as f64 / (494.0 / 365.0) * 100.0;
        assert!(
            (1.0..=10.0).contains(&rate),
            "petitions per 100 households a year: {rate}"
        );
        let surveys: Vec<SatisfactionSurvey> = v.all(Kind::SatisfactionSurvey);
        let satisfied = surveys
            .iter()
            .filter(|s| {
                matches!(
                    s.result,
                    Satisfaction::Satisfied | Satisfaction::FairlySatisfied
                )
            })
            .count();
        near("satisfied", share(satisfied, surveys.len()), 0.93, 0.06);
    }
}

/// Every table a test compares, dumped in a stable order.
fn dump(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'p\\_%' ESCAPE '\\' OR name IN ('documents', 'changes')) ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.sort();
    let mut out = Vec::new();
    for t in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {t} ORDER BY 1, 2"))
            .unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let mut line = format!("{t}:");
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    line.push_str(&format!("{v:?}|"));
                }
                Ok(line)
            })
            .unwrap();
        for row in rows {
            out.push(row.unwrap());
        }
    }
    out
}

/// The same seed gives byte-identical documents, change log and projections; another seed
/// gives other data.
#[test]
fn the_same_seed_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut dumps = Vec::new();
    for (name, seed) in [("a", 5), ("b", 5), ("c", 6)] {
        let path = dir.path().join(format!("{name}.sqlite3"));
        let db = Db::open(&path.display().to_string()).unwrap();
        run(&db, &options(seed, 1));
        drop(db);
        dumps.push(dump(&path));
    }
    assert!(dumps[0].len() > 5_000, "{} rows", dumps[0].len());
    assert!(dumps[0].iter().any(|r| r.starts_with("p_visit:")));
    assert!(dumps[0] == dumps[1], "same seed, different bytes");
    assert!(dumps[0] != dumps[2], "another seed gave the same data");
}

/// A first secretary's and a pairing cadre's devices sign in to the generated server with the
/// demo password and receive what they may read: the whole village, or the assigned
/// households.
#[test]
fn devices_sync_their_generated_records() {
    for backend in Backend::available() {
        let server = TestServer::start(backend);
        run(&server.db, &options(3, 1));
        let code = Village1::read(&server.db).code;
        let village = documents(&server.db, &ScopeFilter::Village(code));
        // The village's records, reference data, and the files of the cadres on its team today.
        let today = cunji_sync_server::accounts::today();
        let team: BTreeSet<String> = village
            .values()
            .filter(|d| d.envelope().unwrap().kind == Kind::Team)
            .flat_map(|d| {
                let t = d.read::<cunji_core::domain::Team>().unwrap();
                t.members_on(today).map(str::to_string).collect::<Vec<_>>()
            })
            .collect();
        assert!(team.contains("demo-secretary"), "{team:?}");
        let mut expected: BTreeSet<String> = village
            .into_keys()
            .chain(documents(&server.db, &ScopeFilter::Global).into_keys())
            .collect();
        for cadre in &team {
            expected.extend(
                documents(&server.db, &ScopeFilter::People(vec![cadre.clone()])).into_keys(),
            );
        }

        let mut secretary = Device::new(&server.url, "demo-secretary").sign_in();
        secretary.sync().unwrap();
        let got: BTreeSet<String> = secretary.store.record_ids().unwrap().into_iter().collect();
        assert_eq!(got.len(), expected.len(), "{backend:?}");
        assert!(
            got == expected,
            "{backend:?}: the secretary's device misses records"
        );
        let household_id = server
            .db
            .read(|tx| tx.cadre_assignments("demo-pairing"))
            .unwrap()
            .into_iter()
            .map(|p| p.place)
            .collect::<Vec<_>>();
        assert!(!household_id.is_empty());
        let h = &household_id[0];
        let on_device: Household = secretary.store.get::<Household>(h).unwrap().record;
        assert_eq!(on_device.village_code.len(), 12);

        let mut pairing = Device::new(&server.url, "demo-pairing").sign_in();
        pairing.sync().unwrap();
        let got: BTreeSet<String> = pairing.store.record_ids().unwrap().into_iter().collect();
        let mut expected_pairing: BTreeSet<String> = documents(&server.db, &ScopeFilter::Global)
            .into_keys()
            .collect();
        expected_pairing.extend(
            documents(
                &server.db,
                &ScopeFilter::People(vec!["demo-pairing".into()]),
            )
            .into_keys(),
        );
        for h in &household_id {
            expected_pairing
                .extend(documents(&server.db, &ScopeFilter::Household(h.clone())).into_keys());
        }
        assert!(
            got == expected_pairing,
            "{backend:?}: the pairing cadre's records differ"
        );
        // Generated accounts other than the demo ones have no password that signs in.
        let dir = tempfile::tempdir().unwrap();
        let store = cunji_core::Store::open(&dir.path().join("x.sqlite3")).unwrap();
        let cadre = server.db.read(|tx| tx.cadre_teams("gc000002")).unwrap();
        assert_eq!(cadre.len(), 1, "gc000002 is in the team");
        assert!(cunji_core::sync::login(&server.url, "gc000002", PASSWORD, &store).is_err());
        assert!(cunji_core::sync::login(&server.url, "gc000002", "!generated", &store).is_err());
    }
}

/// Generating into a database that already holds data is refused, and stores nothing more.
#[test]
fn generating_twice_into_one_database_is_refused() {
    let server = TestServer::start(Backend::Sqlite);
    run(&server.db, &options(2, 1));
    let before = server.change_count();
    let err = generate::generate(&server.db, &options(2, 1), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("empty database"), "{err}");
    assert_eq!(server.change_count(), before);
}

//! Reference data imported by the administrator from CSV reaches the devices, and scopes the
//! cadres it names.
#![allow(clippy::unwrap_used)]

use cunji_core::domain::{Assignment, Household, Team, Village};
use cunji_sync_server::accounts::Role;
use cunji_sync_server::records::{self, ImportError};
use cunji_tests::{Backend, Device, TestServer};

const VILLAGES: &str = "code,township_code,name,is_poor_village,lat,lon,radius_m,hamlets
530322101201,530322101,新庄村,是,25.0312,103.6674,,上村;下村
530322101202,530322101,大水井村,否,25.0500,103.7000,2000,
";

const TEAMS: &str = "village_code,cadre_id,role,from,to
530322101201,cadre-wang-zhigang,leader,2015-08-25,
530322101201,cadre-li-ming,member,2015-08-25,
530322101202,cadre-other,leader,2015-09-01,
";

fn import_story(backend: Backend) {
    let server = TestServer::start(backend);
    server.account("admin", Role::Admin, "");
    server.account("cadre-li-ming", Role::TeamMember, "");
    server.account("cadre-other", Role::FirstSecretary, "");
    let report = server
        .db
        .write(|tx| records::import_villages(tx, "admin", VILLAGES))
        .unwrap();
    assert_eq!((report.created, report.skipped), (2, 0));
    let report = server
        .db
        .write(|tx| records::import_teams(tx, "admin", TEAMS))
        .unwrap();
    assert_eq!((report.created, report.skipped), (2, 0));
    // Importing the same files again adds nothing.
    let again = server
        .db
        .write(|tx| records::import_villages(tx, "admin", VILLAGES))
        .unwrap();
    assert_eq!((again.created, again.skipped), (0, 2));
    // A bad row names its line and stores nothing of the file.
    let before = server.change_count();
    let bad = "code,township_code,name,is_poor_village,lat,lon,radius_m,hamlets\n530322101203,530322101,三村,否,25.0,103.0,,\n530322101204,530322101,四村,也许,25.0,103.0,,\n";
    match server
        .db
        .write(|tx| records::import_villages(tx, "admin", bad))
    {
        Err(ImportError::Row { line, message }) => {
            assert_eq!(line, 3);
            assert!(message.contains("也许"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.change_count(), before);

    // The member of 新庄村 pulls its village and team (not the other village's), and may
    // write there because the imported team names them.
    let mut member = Device::new(&server.url, "cadre-li-ming").sign_in();
    member.sync().unwrap();
    let ids = member.store.record_ids().unwrap();
    let villages: Vec<Village> = ids
        .iter()
        .filter_map(|id| member.store.get::<Village>(id).ok())
        .map(|s| s.record)
        .collect();
    assert_eq!(villages.len(), 1);
    assert_eq!(
        (villages[0].name.as_str(), villages[0].hamlets.len()),
        ("新庄村", 2)
    );
    let team = ids
        .iter()
        .find_map(|id| member.store.get::<Team>(id).ok())
        .unwrap()
        .record;
    assert_eq!(team.leader_id, "cadre-wang-zhigang");
    let hid = member
        .store
        .create(&member.author("建档立卡"), &Household::example())
        .unwrap();
    let report = member.sync().unwrap();
    assert_eq!(report.rejected, 0, "{:?}", member.store.rejected_changes());

    // Assignments refer to households the server knows.
    let csv =
        format!("household_id,cadre_id,from,to,is_primary\n{hid},cadre-li-ming,2015-09-01,,是\n");
    let report = server
        .db
        .write(|tx| records::import_assignments(tx, "admin", &csv))
        .unwrap();
    assert_eq!(report.created, 1);
    let again = server
        .db
        .write(|tx| records::import_assignments(tx, "admin", &csv))
        .unwrap();
    assert_eq!((again.created, again.skipped), (0, 1));
    let unknown = "household_id,cadre_id,from,to,is_primary\nno-such-household,cadre-li-ming,2015-09-01,,是\n";
    assert!(matches!(
        server
            .db
            .write(|tx| records::import_assignments(tx, "admin", unknown)),
        Err(ImportError::Row { line: 2, .. })
    ));
    // R10 for the file as a whole: a second primary cadre over the same period is refused,
    // naming its row, and nothing of the file is stored; a handover (end the old row, start the
    // new one) may list the new row first.
    let count = |server: &TestServer| {
        server
            .db
            .read(|tx| tx.find_projected("p_assignment", "household_id", &hid))
            .unwrap()
            .len()
    };
    let second = format!(
        "household_id,cadre_id,from,to,is_primary\n{hid},cadre-zhao-hong,2015-09-01,,false\n{hid},cadre-chen,2016-01-01,,true\n"
    );
    match server
        .db
        .write(|tx| records::import_assignments(tx, "admin", &second))
    {
        Err(ImportError::Row { line: 3, message }) => {
            assert!(message.contains("主要帮扶责任人"), "{message}")
        }
        other => panic!("a second primary cadre was not refused: {other:?}"),
    }
    assert_eq!(count(&server), 1, "nothing of the refused file is stored");
    let handover = format!(
        "household_id,cadre_id,from,to,is_primary\n{hid},cadre-chen,2016-01-01,,true\n{hid},cadre-li-ming,2015-09-01,2015-12-31,是\n"
    );
    let report = server
        .db
        .write(|tx| records::import_assignments(tx, "admin", &handover))
        .unwrap();
    assert_eq!((report.created, report.updated), (1, 1));
    assert_eq!(count(&server), 2);
    member.sync().unwrap();
    let assignment = member
        .store
        .record_ids()
        .unwrap()
        .iter()
        .find_map(|id| member.store.get::<Assignment>(id).ok())
        .unwrap();
    assert_eq!(assignment.record.household_id, hid);
    assert_eq!(assignment.envelope.author_id, "admin");
}

#[test]
fn imported_villages_teams_and_assignments_reach_devices_and_scope_them() {
    for backend in Backend::available() {
        import_story(backend);
    }
}

// ---------------------------------------------------------------------------------------------
// A county's registers from its spreadsheets (issue 15, `cunji_sync_server::import`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use cunji_core::domain::Kind;
use cunji_sync_server::import::sheets::{SheetKind, to_cells};
use cunji_sync_server::import::template::workbook;
use cunji_sync_server::import::{self as county_import, InputFile, Report};
use serde_json::{Value, json};

/// Villages the county file is generated from: 1 (about 140 households) unless
/// `CUNJI_TEST_IMPORT_VILLAGES` asks for more (40 give about 5,500 households).
fn villages_to_generate() -> usize {
    std::env::var("CUNJI_TEST_IMPORT_VILLAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// The generator's data as a county keeps it: a villages CSV, the administrator's sheets
/// (units, cadres, the catalog, teams) and the county office's (households, members,
/// incomes, assignments, entitlements), as rows of text per sheet.
struct CountyFile {
    villages_csv: String,
    county: String,
    sheets: BTreeMap<SheetKind, Vec<Vec<String>>>,
    /// Household ids, in the 户 sheet's order.
    households: Vec<String>,
    /// The households' data as generated, by id.
    data: BTreeMap<String, Value>,
}

const ADMIN_SHEETS: [SheetKind; 4] = [
    SheetKind::Units,
    SheetKind::Cadres,
    SheetKind::PolicyItems,
    SheetKind::Teams,
];
const OFFICE_SHEETS: [SheetKind; 5] = [
    SheetKind::Households,
    SheetKind::Members,
    SheetKind::Incomes,
    SheetKind::Assignments,
    SheetKind::Entitlements,
];

fn county_file() -> &'static CountyFile {
    static FILE: OnceLock<CountyFile> = OnceLock::new();
    FILE.get_or_init(|| generated_county_file(villages_to_generate()))
}

/// Villages of [`large_county_file`]: 40 give about 5,500 households.
const LARGE_VILLAGES: usize = 40;

/// A county file of at least 5,000 households (issue 15's size).
fn large_county_file() -> &'static CountyFile {
    static FILE: OnceLock<CountyFile> = OnceLock::new();
    FILE.get_or_init(|| generated_county_file(LARGE_VILLAGES))
}

/// The generator's registers of `villages` villages (seed 15), as a county keeps them.
fn generated_county_file(villages: usize) -> CountyFile {
    {
        let source = TestServer::start(Backend::Sqlite);
        let options = cunji_sync_server::generate::Options {
            seed: 15,
            villages,
            threads: 2,
            demo_password: None,
            registers_only: true,
        };
        let report =
            cunji_sync_server::generate::generate(&source.db, &options, &mut |_| {}).unwrap();
        assert_eq!(report.unexpected, 0, "{:?}", report.unexpected_samples);
        let docs = source
            .db
            .read(|tx| tx.docs_changed_after(None, 0, usize::MAX))
            .unwrap();
        let mut by_kind: BTreeMap<Kind, Vec<(String, Value)>> = BTreeMap::new();
        for d in docs {
            let doc = source.stored_doc(&d.doc_id);
            by_kind
                .entry(d.kind)
                .or_default()
                .push((d.doc_id, doc.data_json().unwrap()));
        }
        // A sample of the generator's villages spreads over the city's counties: they are
        // given codes of one county (the first village's), townships and villages numbered
        // in their order, so that the file is one county's, as a county office keeps it.
        let mut codes: BTreeMap<String, String> = BTreeMap::new();
        let mut townships: BTreeMap<String, String> = BTreeMap::new();
        let villages_of = by_kind.get(&Kind::Village).cloned().unwrap_or_default();
        let county = villages_of
            .iter()
            .map(|(_, v)| v["code"].as_str().unwrap()[..6].to_string())
            .min()
            .unwrap();
        for (_, v) in &villages_of {
            let t = v["township_code"].as_str().unwrap().to_string();
            let n = townships.len();
            let township = townships
                .entry(t)
                .or_insert_with(|| format!("{county}{:03}", 101 + n))
                .clone();
            let n = codes.len();
            codes.insert(
                v["code"].as_str().unwrap().to_string(),
                format!("{township}{:03}", 201 + n),
            );
        }
        for (kind, list) in by_kind.iter_mut() {
            for (_, d) in list.iter_mut() {
                let field = match kind {
                    Kind::Village => "code",
                    Kind::Team | Kind::Household => "village_code",
                    _ => continue,
                };
                let new = codes[d[field].as_str().unwrap()].clone();
                if *kind == Kind::Village {
                    d["township_code"] = json!(new[..9]);
                }
                d[field] = json!(new);
            }
        }
        let all = |k: Kind| by_kind.get(&k).cloned().unwrap_or_default();
        let mut sheets: BTreeMap<SheetKind, Vec<Vec<String>>> = BTreeMap::new();
        let mut row = |sheet: SheetKind, data: &Value, special: &dyn Fn(&str) -> Option<Value>| {
            sheets
                .entry(sheet)
                .or_default()
                .push(to_cells(sheet, data, special));
        };
        let mut villages_csv =
            "code,township_code,name,is_poor_village,lat,lon,radius_m,hamlets\n".to_string();
        for (_, v) in all(Kind::Village) {
            let hamlets: Vec<&str> = v["hamlets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            villages_csv.push_str(&format!(
                "{},{},{},{},{},{},{},{}\n",
                v["code"].as_str().unwrap(),
                v["township_code"].as_str().unwrap(),
                v["name"].as_str().unwrap(),
                v["is_poor_village"],
                v["geofence"]["centroid"]["lat"],
                v["geofence"]["centroid"]["lon"],
                v["geofence"]["radius_m"],
                hamlets.join(";")
            ));
        }
        for kind in [Kind::Unit, Kind::Cadre] {
            let sheet = if kind == Kind::Unit {
                SheetKind::Units
            } else {
                SheetKind::Cadres
            };
            for (id, d) in all(kind) {
                row(sheet, &d, &|k| (k == "#id").then(|| json!(id)));
            }
        }
        for (_, d) in all(Kind::PolicyItem) {
            row(SheetKind::PolicyItems, &d, &|_| None);
        }
        for (_, t) in all(Kind::Team) {
            let leader = t["leader_id"].as_str().unwrap().to_string();
            for (cadre, m) in t["members"].as_object().unwrap() {
                let mut data = m.clone();
                data["village_code"] = t["village_code"].clone();
                let role = if *cadre == leader { "leader" } else { "member" };
                row(SheetKind::Teams, &data, &|k| match k {
                    "#cadre" => Some(json!(cadre)),
                    "#role" => Some(json!(role)),
                    _ => None,
                });
            }
        }
        let numbers: BTreeMap<String, Value> = all(Kind::HouseholdPrivate)
            .into_iter()
            .map(|(_, p)| (p["household_id"].as_str().unwrap().to_string(), p))
            .collect();
        let mut households = Vec::new();
        let mut data = BTreeMap::new();
        for (id, h) in all(Kind::Household) {
            let p = numbers.get(&id).cloned().unwrap_or(json!({}));
            row(SheetKind::Households, &h, &|k| match k {
                "#id" => Some(json!(id)),
                "#bank_account" => p.get("bank_account").cloned(),
                "#lat" => h.pointer("/home_geo/lat").cloned(),
                "#lon" => h.pointer("/home_geo/lon").cloned(),
                _ => None,
            });
            for (mid, m) in h["members"].as_object().unwrap() {
                row(SheetKind::Members, m, &|k| match k {
                    "#household" => Some(json!(id)),
                    "#id_no" => p.pointer(&format!("/id_numbers/{mid}")).cloned(),
                    _ => None,
                });
            }
            for (_, i) in h["incomes"].as_object().into_iter().flatten() {
                row(SheetKind::Incomes, i, &|k| {
                    (k == "#household").then(|| json!(id))
                });
            }
            households.push(id.clone());
            // The register's file has the home's coordinates, not the fix's accuracy.
            let mut h = h;
            if let Some(geo) = h.get_mut("home_geo").and_then(Value::as_object_mut) {
                geo.remove("accuracy_m");
            }
            data.insert(id, h);
        }
        for (_, a) in all(Kind::Assignment) {
            row(SheetKind::Assignments, &a, &|_| None);
        }
        for (_, e) in all(Kind::Entitlement) {
            row(SheetKind::Entitlements, &e, &|_| None);
        }
        let county = data.values().next().unwrap()["village_code"]
            .as_str()
            .unwrap()[..6]
            .to_string();
        CountyFile {
            villages_csv,
            county,
            sheets,
            households,
            data,
        }
    }
}

impl CountyFile {
    fn xlsx(&self, name: &str, kinds: &[SheetKind]) -> InputFile {
        let sheets: Vec<(SheetKind, Vec<Vec<String>>)> = kinds
            .iter()
            .map(|k| (*k, self.sheets.get(k).cloned().unwrap_or_default()))
            .collect();
        InputFile {
            name: name.into(),
            bytes: workbook(&sheets).unwrap(),
        }
    }

    fn rows(&self, kind: SheetKind) -> usize {
        self.sheets.get(&kind).map_or(0, Vec::len)
    }

    /// The column index of `header` in `kind`'s sheet.
    fn col(kind: SheetKind, header: &str) -> usize {
        kind.columns()
            .iter()
            .position(|c| c.header == header)
            .unwrap_or_else(|| panic!("no column {header}"))
    }
}

/// The sheet's rows as CSV text (quoted where needed).
fn csv_text(kind: SheetKind, rows: &[Vec<String>]) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    let headers: Vec<String> = kind.columns().iter().map(|c| quote(c.header)).collect();
    out.push_str(&headers.join(","));
    out.push('\n');
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| quote(c)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// A server with the county's villages, an administrator, the county office and the first
/// village's team member, and the administrator's sheets imported.
fn county_server(backend: Backend, file: &CountyFile) -> TestServer {
    let server = TestServer::start(backend);
    server.account("admin", Role::Admin, "");
    server.account("county-office", Role::CountyOffice, &file.county);
    server.account("demo-member", Role::TeamMember, "");
    server
        .db
        .write(|tx| records::import_villages(tx, "admin", &file.villages_csv))
        .unwrap();
    let report = county_import::import(
        &server.db,
        "admin",
        &[file.xlsx("干部与工作队.xlsx", &ADMIN_SHEETS)],
        true,
    )
    .unwrap();
    assert!(report.ok(), "{:#?}", report.problems);
    assert_eq!(
        report.kind("cadre").unwrap().new,
        file.rows(SheetKind::Cadres)
    );
    server
}

fn problems_text(r: &Report) -> String {
    r.problems
        .iter()
        .take(20)
        .map(|p| {
            format!(
                "{}!{} {} {:?} {:?}: {}",
                p.sheet, p.row, p.code, p.column, p.value, p.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn county_story(backend: Backend) {
    let file = county_file();
    let server = county_server(backend, file);
    let office = file.xlsx("households.xlsx", &OFFICE_SHEETS);
    let n = file.households.len();
    assert!(n > 50, "{n} households");

    // The county office may not import the administrator's sheets: refused by the access
    // table, nothing written.
    let before = server.change_count();
    let refused = county_import::import(
        &server.db,
        "county-office",
        &[file.xlsx("cadres.xlsx", &ADMIN_SHEETS)],
        true,
    )
    .unwrap();
    let codes: BTreeSet<&str> = refused.problems.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(
        codes,
        BTreeSet::from(["out_of_scope"]),
        "{}",
        problems_text(&refused)
    );
    assert_eq!(refused.problems.len(), ADMIN_SHEETS.len());
    assert!(!refused.committed);
    assert_eq!(server.change_count(), before);

    // Dry run: everything new, nothing written.
    let dry = county_import::import(
        &server.db,
        "county-office",
        std::slice::from_ref(&office),
        false,
    )
    .unwrap();
    assert!(dry.ok(), "{}", problems_text(&dry));
    assert!(!dry.committed);
    assert_eq!(server.change_count(), before, "a dry run writes nothing");
    let households = dry.kind("household").unwrap();
    assert_eq!(
        (households.new, households.changed, households.unchanged),
        (n, 0, 0)
    );
    assert_eq!(
        dry.kind("assignment").unwrap().new,
        file.rows(SheetKind::Assignments)
    );
    assert_eq!(
        dry.kind("entitlement").unwrap().new,
        file.rows(SheetKind::Entitlements)
    );
    assert_eq!(households.first_new.len(), county_import::FIRST_ROWS.min(n));
    assert_eq!(households.first_new[0].row, 2);

    // Commit: the same, kept, as the county office's changes.
    let done = county_import::import(
        &server.db,
        "county-office",
        std::slice::from_ref(&office),
        true,
    )
    .unwrap();
    assert!(done.ok() && done.committed, "{}", problems_text(&done));
    assert_eq!(done.kinds, dry.kinds);
    assert_eq!(server.change_count() - before, done.changes as i64);
    let stored: BTreeSet<String> = server
        .db
        .read(|tx| tx.docs_changed_after(None, 0, usize::MAX))
        .unwrap()
        .into_iter()
        .filter(|d| d.kind == Kind::Household)
        .map(|d| d.doc_id)
        .collect();
    assert_eq!(stored, file.households.iter().cloned().collect());
    let first = &file.households[0];
    let mut doc = server.stored_doc(first);
    let env = doc.envelope().unwrap();
    assert_eq!(env.author_id, "county-office");
    assert!(env.device_id.starts_with("import-"), "{}", env.device_id);
    let history = doc.history().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].reason, "导入：households.xlsx");
    // Each stored household is the generated one, field for field.
    for (id, generated) in &file.data {
        let got = server.stored_doc(id).data_json().unwrap();
        assert_eq!(&got, generated, "household {id}");
    }
    // The import's device signed every change, as a phone does.
    let verified = cunji_sync_server::verify::verify_log(&server.db, &mut |_| {}).unwrap();
    assert!(verified.ok(), "{:?}", verified.failures.first());

    // The same file again changes nothing.
    let before = server.change_count();
    let again = county_import::import(&server.db, "county-office", &[office], true).unwrap();
    assert!(again.ok(), "{}", problems_text(&again));
    let h = again.kind("household").unwrap();
    assert_eq!((h.new, h.changed, h.unchanged, h.missing), (0, 0, n, 0));
    assert_eq!(again.changes, 0);
    assert_eq!(server.change_count(), before);

    // A team member of the first village syncs it and finds the imported households there.
    let village = file.data[first]["village_code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut member = Device::new(&server.url, "demo-member").sign_in();
    member.sync().unwrap();
    let on_phone: BTreeSet<String> = member
        .store
        .record_ids()
        .unwrap()
        .into_iter()
        .filter(|id| member.store.get::<Household>(id).is_ok())
        .collect();
    let in_village: BTreeSet<String> = file
        .data
        .iter()
        .filter(|(_, h)| h["village_code"] == village.as_str())
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(on_phone, in_village);
    let h: Household = member.store.get::<Household>(first).unwrap().record;
    assert_eq!(
        serde_json::to_value(&h).unwrap(),
        file.data[first],
        "the phone holds the imported household"
    );
}

#[test]
fn a_county_file_imports_once_and_a_team_members_phone_receives_it() {
    for backend in Backend::available() {
        county_story(backend);
    }
}

/// A server with the county's households imported from the office's workbook.
fn imported_county(backend: Backend, file: &CountyFile) -> TestServer {
    let server = county_server(backend, file);
    let r = county_import::import(
        &server.db,
        "county-office",
        &[file.xlsx("households.xlsx", &OFFICE_SHEETS)],
        true,
    )
    .unwrap();
    assert!(r.ok() && r.committed, "{}", problems_text(&r));
    server
}

/// Rows of `kind` with `f` applied to the cells of each row whose `户编号` is `hid`.
fn edit_rows(
    sheets: &mut BTreeMap<SheetKind, Vec<Vec<String>>>,
    kind: SheetKind,
    key_header: &str,
    key: &str,
    f: impl Fn(&mut Vec<String>),
) -> usize {
    let key_col = CountyFile::col(kind, key_header);
    let mut n = 0;
    for row in sheets.get_mut(&kind).unwrap() {
        if row[key_col] == key {
            f(row);
            n += 1;
        }
    }
    n
}

fn edited_file_story(backend: Backend) {
    let file = county_file();
    let server = imported_county(backend, file);
    let mut sheets = file.sheets.clone();
    let (a, b, gone) = (
        &file.households[1],
        &file.households[2],
        &file.households[3],
    );
    // Household a: its first member's health; household b: its 2015 wage. Household `gone`
    // is left out of the file altogether.
    let health = CountyFile::col(SheetKind::Members, "健康状况");
    let members_col = CountyFile::col(SheetKind::Members, "成员编号");
    let first_member = file.data[a]["head_member_id"].as_str().unwrap().to_string();
    let new_health = if file.data[a]["members"][&first_member]["health"] == "disabled" {
        "健康"
    } else {
        "残疾"
    };
    assert_eq!(
        edit_rows(&mut sheets, SheetKind::Members, "户编号", a, |r| {
            if r[members_col] == first_member {
                r[health] = new_health.into();
            }
        }),
        file.data[a]["members"].as_object().unwrap().len()
    );
    let wage = CountyFile::col(SheetKind::Incomes, "工资性收入");
    let year = CountyFile::col(SheetKind::Incomes, "年度");
    edit_rows(&mut sheets, SheetKind::Incomes, "户编号", b, |r| {
        if r[year] == "2015" {
            r[wage] = "12345.67".into();
        }
    });
    for kind in [
        SheetKind::Households,
        SheetKind::Members,
        SheetKind::Incomes,
    ] {
        let col = CountyFile::col(kind, "户编号");
        sheets.get_mut(&kind).unwrap().retain(|r| r[col] != *gone);
    }
    let edited = CountyFile {
        villages_csv: String::new(),
        county: file.county.clone(),
        sheets,
        households: Vec::new(),
        data: BTreeMap::new(),
    };
    let before = server.change_count();
    let upload = edited.xlsx("households-2016Q1.xlsx", &OFFICE_SHEETS);
    let dry = county_import::import(
        &server.db,
        "county-office",
        std::slice::from_ref(&upload),
        false,
    )
    .unwrap();
    assert!(dry.ok(), "{}", problems_text(&dry));
    let h = dry.kind("household").unwrap();
    let n = file.households.len();
    assert_eq!((h.new, h.changed, h.unchanged, h.missing), (0, 2, n - 3, 1));
    assert_eq!(h.first_missing, vec![gone.clone()]);
    let changed: BTreeMap<&str, &Vec<String>> = h
        .first_changed
        .iter()
        .map(|r| (r.key.as_str(), &r.fields))
        .collect();
    assert_eq!(
        changed[a.as_str()],
        &vec![format!("members.{first_member}.health")]
    );
    assert_eq!(changed[b.as_str()], &vec!["incomes.2015.wage".to_string()]);
    assert_eq!(server.change_count(), before);
    let done = county_import::import(&server.db, "county-office", &[upload], true).unwrap();
    assert!(done.committed);
    assert_eq!(done.changes, 2);
    assert_eq!(server.change_count(), before + 2);
    for (id, expected_field) in [(a, "health"), (b, "wage")] {
        let mut doc = server.stored_doc(id);
        let history = doc.history().unwrap();
        assert_eq!(history.len(), 2, "{id}: created, then edited once");
        let last = history.last().unwrap();
        assert_eq!(last.reason, "导入更新：households-2016Q1.xlsx");
        assert_eq!(last.cadre_id, "county-office");
        let data = doc.data_json().unwrap();
        if expected_field == "wage" {
            assert_eq!(data["incomes"]["2015"]["wage"], "12345.67");
        } else {
            let code = if new_health == "健康" {
                "healthy"
            } else {
                "disabled"
            };
            assert_eq!(data["members"][&first_member]["health"], code);
        }
    }
    // The household left out of the file is reported, never deleted.
    assert_eq!(
        server.stored_doc(gone).data_json().unwrap(),
        file.data[gone]
    );
    for id in &file.households[4..] {
        assert_eq!(
            server.stored_doc(id).history().unwrap().len(),
            1,
            "{id} untouched"
        );
    }
}

#[test]
fn an_edited_file_changes_only_the_edited_records_with_their_history() {
    for backend in Backend::available() {
        edited_file_story(backend);
    }
}

/// Plants ten kinds of mistakes, five of each, each in its own household: exactly those 50
/// problems come back, at their rows, and nothing is written.
fn plant(
    expected: &mut BTreeSet<(String, usize, String)>,
    sheets: &mut BTreeMap<SheetKind, Vec<Vec<String>>>,
    kind: SheetKind,
    i: usize,
    header: &str,
    value: &str,
    code: &str,
) {
    let col = CountyFile::col(kind, header);
    sheets.get_mut(&kind).unwrap()[i][col] = value.to_string();
    expected.insert((kind.name_zh().to_string(), i + 2, code.to_string()));
}

fn planted_errors_story(backend: Backend) {
    let file = county_file();
    let server = county_server(backend, file);
    let mut sheets = file.sheets.clone();
    // Households with at least two active members, for the mistakes that need a second one.
    let big: Vec<&String> = file
        .households
        .iter()
        .filter(|h| {
            file.data[*h]["members"]
                .as_object()
                .unwrap()
                .values()
                .filter(|m| m["active"] == true && m["relation"] != "head")
                .count()
                >= 1
        })
        .collect();
    assert!(big.len() >= 50, "{} households with two members", big.len());
    let row_of = |sheets: &BTreeMap<SheetKind, Vec<Vec<String>>>,
                  kind: SheetKind,
                  pred: &dyn Fn(&Vec<String>) -> bool| {
        sheets[&kind].iter().position(pred).unwrap()
    };
    let hh_col = |kind| CountyFile::col(kind, "户编号");
    let mut expected: BTreeSet<(String, usize, String)> = BTreeSet::new();

    let cadre = sheets[&SheetKind::Cadres][0][0].clone();
    for (n, hid) in big.iter().take(50).enumerate() {
        let hid = hid.as_str();
        let h = &file.data[hid];
        let head = h["head_member_id"].as_str().unwrap();
        let other = h["members"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, m)| k.as_str() != head && m["active"] == true)
            .map(|(k, _)| k.clone())
            .unwrap();
        let hrow = row_of(&sheets, SheetKind::Households, &|r| r[0] == hid);
        let mrow = |sheets: &BTreeMap<SheetKind, Vec<Vec<String>>>, m: &str| {
            let mc = CountyFile::col(SheetKind::Members, "成员编号");
            row_of(sheets, SheetKind::Members, &|r| {
                r[hh_col(SheetKind::Members)] == hid && r[mc] == m
            })
        };
        let mi = mrow(&sheets, &other);
        match n / 5 {
            0 => plant(
                &mut expected,
                &mut sheets,
                SheetKind::Members,
                mi,
                "姓名",
                "",
                "required",
            ),
            1 => plant(
                &mut expected,
                &mut sheets,
                SheetKind::Households,
                hrow,
                "贫困户属性",
                "富裕户",
                "unknown_code",
            ),
            2 => plant(
                &mut expected,
                &mut sheets,
                SheetKind::Members,
                mi,
                "出生日期",
                "1968-13-45",
                "bad_date",
            ),
            3 => {
                let i = mrow(&sheets, &other);
                let col = CountyFile::col(SheetKind::Members, "证件号码");
                let mut id: Vec<char> = sheets[&SheetKind::Members][i][col].chars().collect();
                let last = id.len() - 1;
                id[last] = if id[last] == '1' { '2' } else { '1' };
                let id: String = id.into_iter().collect();
                plant(
                    &mut expected,
                    &mut sheets,
                    SheetKind::Members,
                    i,
                    "证件号码",
                    &id,
                    "bad_id_number",
                );
            }
            4 => {
                // Another household's head's ID number (households 45..50 stay clean).
                let donor = big[45 + n % 5].as_str();
                let donor_head = file.data[donor]["head_member_id"].as_str().unwrap();
                let di = mrow(&sheets, donor_head);
                let col = CountyFile::col(SheetKind::Members, "证件号码");
                let taken = sheets[&SheetKind::Members][di][col].clone();
                let i = mrow(&sheets, &other);
                // The donor's row comes later in the sheet or earlier: the second one is named.
                let named = i.max(di);
                sheets.get_mut(&SheetKind::Members).unwrap()[i][col] = taken;
                expected.insert(("家庭成员".into(), named + 2, "id_number_duplicate".into()));
            }
            5 => plant(
                &mut expected,
                &mut sheets,
                SheetKind::Members,
                mi,
                "与户主关系",
                "户主",
                "two_heads",
            ),
            6 => plant(
                &mut expected,
                &mut sheets,
                SheetKind::Households,
                hrow,
                "行政村代码",
                "530302999999",
                "unknown_village",
            ),
            7 => plant(
                &mut expected,
                &mut sheets,
                SheetKind::Members,
                mi,
                "是否在户",
                "也许",
                "bad_bool",
            ),
            8 => {
                // A second primary pairing cadre over the same period.
                let ai = row_of(&sheets, SheetKind::Assignments, &|r| r[0] == hid);
                let mut row = sheets[&SheetKind::Assignments][ai].clone();
                row[1] = cadre.clone();
                row[CountyFile::col(SheetKind::Assignments, "是否主要帮扶责任人")] = "是".into();
                let rows = sheets.get_mut(&SheetKind::Assignments).unwrap();
                rows.push(row);
                expected.insert((
                    "结对帮扶".into(),
                    rows.len() + 1,
                    "primary_assignee_taken".into(),
                ));
            }
            _ => {
                let i = row_of(&sheets, SheetKind::Incomes, &|r| r[0] == hid);
                plant(
                    &mut expected,
                    &mut sheets,
                    SheetKind::Incomes,
                    i,
                    "工资性收入",
                    "三千元",
                    "bad_number",
                );
            }
        }
    }
    assert_eq!(expected.len(), 50, "50 distinct planted mistakes");
    let bad = CountyFile {
        villages_csv: String::new(),
        county: file.county.clone(),
        sheets,
        households: Vec::new(),
        data: BTreeMap::new(),
    };
    let before = server.change_count();
    for commit in [false, true] {
        let r = county_import::import(
            &server.db,
            "county-office",
            &[bad.xlsx("bad.xlsx", &OFFICE_SHEETS)],
            commit,
        )
        .unwrap();
        let got: BTreeSet<(String, usize, String)> = r
            .problems
            .iter()
            .map(|p| (p.sheet.clone(), p.row, p.code.clone()))
            .collect();
        assert_eq!(r.problems.len(), 50, "{}", problems_text(&r));
        assert_eq!(got, expected);
        for p in &r.problems {
            assert_eq!(p.file, "bad.xlsx");
            assert!(p.column.is_some(), "{p:?}");
            assert!(!p.message.is_empty() && !p.message_en.is_empty());
        }
        assert!(!r.committed);
        // Nine kinds in households' rows, 45 households (the 5 of unknown villages refused
        // before they became records count too), one kind in assignments.
        assert_eq!(r.kind("household").unwrap().refused, 45);
        assert_eq!(r.kind("assignment").unwrap().refused, 5);
        assert_eq!(
            server.change_count(),
            before,
            "nothing of a file with problems is written"
        );
    }
}

#[test]
fn a_file_with_fifty_planted_mistakes_gives_exactly_those_and_writes_nothing() {
    for backend in Backend::available() {
        planted_errors_story(backend);
    }
}

/// A table as a person reads it: headers, then each row's number and cells as text.
type Shown = (Vec<String>, Vec<(usize, Vec<String>)>);

/// The households' three sheets as CSV files, GB18030 (as Excel in China saves them) and
/// UTF-8 with a BOM, read and import as the workbook does.
fn csv_story(backend: Backend) {
    let file = county_file();
    let server = county_server(backend, file);
    let kinds = [
        SheetKind::Households,
        SheetKind::Members,
        SheetKind::Incomes,
    ];
    let xlsx = file.xlsx("户.xlsx", &kinds);
    let xlsx_tables = county_import::read::read(&xlsx).unwrap();
    let csv = |encoding: &str| -> Vec<InputFile> {
        kinds
            .iter()
            .map(|k| {
                let text = csv_text(*k, &file.sheets[k]);
                let bytes = if encoding == "gb18030" {
                    let (b, _, bad) = encoding_rs::GB18030.encode(&text);
                    assert!(!bad);
                    b.into_owned()
                } else {
                    let mut b = b"\xEF\xBB\xBF".to_vec();
                    b.extend_from_slice(text.as_bytes());
                    b
                };
                InputFile {
                    name: format!("{}.csv", k.name_zh()),
                    bytes,
                }
            })
            .collect()
    };
    let shown = |tables: &[county_import::Table]| -> Vec<Shown> {
        tables
            .iter()
            .map(|t| {
                let rows = t
                    .rows
                    .iter()
                    .map(|(n, cells)| {
                        let mut c: Vec<String> = cells.iter().map(|c| c.shown()).collect();
                        while c.last().is_some_and(String::is_empty) {
                            c.pop();
                        }
                        (*n, c)
                    })
                    .collect();
                (t.headers.clone(), rows)
            })
            .collect()
    };
    let dry_xlsx = county_import::import(
        &server.db,
        "county-office",
        std::slice::from_ref(&xlsx),
        false,
    )
    .unwrap();
    assert!(dry_xlsx.ok(), "{}", problems_text(&dry_xlsx));
    for encoding in ["gb18030", "utf-8-bom"] {
        let files = csv(encoding);
        let tables: Vec<county_import::Table> = files
            .iter()
            .flat_map(|f| county_import::read::read(f).unwrap())
            .collect();
        assert_eq!(shown(&tables), shown(&xlsx_tables), "{encoding}");
        let dry = county_import::import(&server.db, "county-office", &files, false).unwrap();
        assert!(dry.ok(), "{encoding}: {}", problems_text(&dry));
        assert_eq!(dry.kinds, dry_xlsx.kinds, "{encoding}");
    }
    // Committed from GB18030, the workbook then finds every household unchanged.
    let done = county_import::import(&server.db, "county-office", &csv("gb18030"), true).unwrap();
    assert!(done.committed);
    let again = county_import::import(&server.db, "county-office", &[xlsx], true).unwrap();
    let h = again.kind("household").unwrap();
    assert_eq!(
        (h.new, h.changed, h.unchanged),
        (0, 0, file.households.len())
    );
    assert_eq!(again.changes, 0);
}

#[test]
fn gb18030_and_bom_utf8_csv_read_the_same_as_the_workbook() {
    for backend in Backend::available() {
        csv_story(backend);
    }
}

/// The county office over HTTP: the template, a dry run, then the commit of the same upload;
/// a team member may do neither.
fn http_story(backend: Backend) {
    let file = county_file();
    let server = county_server(backend, file);
    let office = Device::new(&server.url, "county-office").sign_in();
    // An import is checked and merged while the request waits: no client timeout (reqwest's
    // default 30 s is not a property of the server).
    let http = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .unwrap();
    let template = http
        .get(format!("{}/v1/import/templates/households", server.url))
        .bearer_auth(office.token())
        .send()
        .unwrap();
    assert_eq!(template.status().as_u16(), 200);
    let tables = county_import::read::read(&InputFile {
        name: "import-households.xlsx".into(),
        bytes: template.bytes().unwrap().to_vec(),
    })
    .unwrap();
    assert_eq!(tables[0].sheet, "户");
    let upload = file.xlsx("households.xlsx", &OFFICE_SHEETS);
    let post = |token: &str, commit: bool| {
        http.post(format!(
            "{}/v1/import?file=households.xlsx&commit={commit}",
            server.url
        ))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(upload.bytes.clone())
        .send()
        .unwrap()
    };
    let before = server.change_count();
    let dry = post(office.token(), false);
    assert_eq!(dry.status().as_u16(), 200);
    let dry: Value = dry.json().unwrap();
    assert_eq!(dry["committed"], false);
    assert_eq!(dry["problems"], json!([]));
    let households = dry["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "household")
        .unwrap()
        .clone();
    assert_eq!(households["new"], file.households.len());
    assert_eq!(server.change_count(), before);
    let done: Value = post(office.token(), true).json().unwrap();
    assert_eq!(done["committed"], true, "{done}");
    assert_eq!(
        server.change_count() - before,
        done["changes"].as_i64().unwrap()
    );
    assert!(done["changes"].as_i64().unwrap() > file.households.len() as i64);
    // A team member is refused, and so is a name that is not a spreadsheet's.
    let member = Device::new(&server.url, "demo-member").sign_in();
    let refused = post(member.token(), false);
    assert_eq!(refused.status().as_u16(), 403);
    let bad_name = http
        .post(format!("{}/v1/import?file=households.doc", server.url))
        .bearer_auth(office.token())
        .body(upload.bytes.clone())
        .send()
        .unwrap();
    assert_eq!(bad_name.status().as_u16(), 400);
    assert_eq!(bad_name.json::<Value>().unwrap()["code"], "bad_param");
}

#[test]
fn the_county_office_imports_over_http_with_a_dry_run_first() {
    for backend in Backend::available() {
        http_story(backend);
    }
}

/// Every kind's report of `r`: nothing new, changed, refused or missing.
fn all_unchanged(r: &Report) -> bool {
    r.kinds
        .iter()
        .all(|k| (k.new, k.changed, k.refused, k.missing) == (0, 0, 0, 0))
}

fn round_trip_story(backend: Backend) {
    let file = county_file();
    let server = imported_county(backend, file);
    let http = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .unwrap();
    let office = Device::new(&server.url, "county-office").sign_in();
    let export = |token: &str, kind: &str| {
        let resp = http
            .get(format!("{}/v1/import/export/{kind}", server.url))
            .bearer_auth(token)
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "export {kind}");
        InputFile {
            name: format!("register-{kind}.xlsx"),
            bytes: resp.bytes().unwrap().to_vec(),
        }
    };

    // The county office's own sheets, exported and imported unchanged: nothing changes.
    let before = server.change_count();
    let households = export(office.token(), "households");
    let tables = county_import::read::read(&households).unwrap();
    let members = tables.iter().find(|t| t.sheet == "家庭成员").unwrap();
    assert_eq!(members.rows.len(), file.rows(SheetKind::Members));
    // What the office reads masked is exported masked: no ID number in clear.
    let id_col = members
        .headers
        .iter()
        .position(|h| h.trim_end_matches('*') == "证件号码")
        .unwrap();
    let ids: Vec<String> = members
        .rows
        .iter()
        .map(|(_, c)| c[id_col].shown())
        .collect();
    assert!(ids.iter().all(|s| s.contains('*')), "{:?}", &ids[..3]);
    let clear: BTreeSet<String> = file.sheets[&SheetKind::Members]
        .iter()
        .map(|r| r[CountyFile::col(SheetKind::Members, "证件号码")].clone())
        .collect();
    assert!(ids.iter().all(|s| !clear.contains(s)));
    let mut office_files = vec![households];
    for kind in ["assignments", "entitlements"] {
        office_files.push(export(office.token(), kind));
    }
    let again = county_import::import(&server.db, "county-office", &office_files, true).unwrap();
    assert!(again.ok(), "{}", problems_text(&again));
    assert!(all_unchanged(&again), "{:#?}", again.kinds);
    assert_eq!(
        again.kind("household").unwrap().unchanged,
        file.households.len()
    );
    assert_eq!(again.changes, 0);
    assert_eq!(server.change_count(), before);

    // The administrator's whole county layout, through the CLI's library call: the same.
    let admin = server.db.read(|tx| tx.account("admin")).unwrap().unwrap();
    let sheets = server
        .db
        .read(|tx| {
            cunji_sync_server::import::export::export(
                tx,
                &cunji_sync_server::accounts::Principal::web(admin),
                cunji_sync_server::import::template::TemplateKind::County,
            )
        })
        .unwrap();
    let rows = |kind: SheetKind| sheets.iter().find(|(k, _)| *k == kind).unwrap().1.len();
    for kind in SheetKind::ALL {
        assert_eq!(rows(*kind), file.rows(*kind), "{kind:?}");
    }
    let whole = InputFile {
        name: "register-county.xlsx".into(),
        bytes: workbook(&sheets).unwrap(),
    };
    let again = county_import::import(&server.db, "admin", &[whole], true).unwrap();
    assert!(again.ok(), "{}", problems_text(&again));
    assert!(all_unchanged(&again), "{:#?}", again.kinds);
    assert_eq!(server.change_count(), before);

    // An edit in the exported file is applied; its masked cells keep the stored values.
    let mut edited = county_import::read::read(&office_files[0]).unwrap();
    let h = edited.iter_mut().find(|t| t.sheet == "户").unwrap();
    let phone = h
        .headers
        .iter()
        .position(|x| x.trim_end_matches('*') == "联系电话")
        .unwrap();
    let hid_col = h
        .headers
        .iter()
        .position(|x| x.trim_end_matches('*') == "户编号")
        .unwrap();
    let hid = h.rows[0].1[hid_col].shown();
    let cells = |t: &county_import::Table| -> Vec<Vec<String>> {
        t.rows
            .iter()
            .map(|(_, c)| c.iter().map(|x| x.shown()).collect())
            .collect()
    };
    let mut rows_of_sheet: Vec<(SheetKind, Vec<Vec<String>>)> = edited
        .iter()
        .filter_map(|t| SheetKind::from_name(&t.sheet).map(|k| (k, cells(t))))
        .collect();
    rows_of_sheet[0].1[0][phone] = "13900001111".into();
    let upload = InputFile {
        name: "register-households-edited.xlsx".into(),
        bytes: workbook(&rows_of_sheet).unwrap(),
    };
    let done = county_import::import(&server.db, "county-office", &[upload], true).unwrap();
    assert!(done.ok() && done.committed, "{}", problems_text(&done));
    assert_eq!(done.changes, 1);
    let data = server.stored_doc(&hid).data_json().unwrap();
    assert_eq!(data["phone"], "13900001111");
    assert_eq!(
        data["members"], file.data[&hid]["members"],
        "masked health kept"
    );
    let numbers = server
        .db
        .read(|tx| tx.find_projected("p_household_private", "household_id", &hid))
        .unwrap();
    let numbers = server.stored_doc(&numbers[0]).data_json().unwrap();
    let first_member = file.data[&hid]["head_member_id"].as_str().unwrap();
    let id_no = numbers["id_numbers"][first_member].as_str().unwrap();
    assert!(clear.contains(id_no), "the ID number is kept in clear");

    // A masked cell on a new household, or one that masks another value, is refused.
    let mut bad = rows_of_sheet.clone();
    let id_of = CountyFile::col(SheetKind::Members, "证件号码");
    let member_rows = &mut bad
        .iter_mut()
        .find(|(k, _)| *k == SheetKind::Members)
        .unwrap()
        .1;
    member_rows[0][id_of] = "999***********0000".into();
    let refused = county_import::import(
        &server.db,
        "county-office",
        &[InputFile {
            name: "bad.xlsx".into(),
            bytes: workbook(&bad).unwrap(),
        }],
        false,
    )
    .unwrap();
    let codes: Vec<&str> = refused.problems.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["masked_value"], "{}", problems_text(&refused));
    assert_eq!(refused.problems[0].row, 2);
}

#[test]
fn an_exported_register_imports_back_unchanged_and_keeps_what_it_masks() {
    for backend in Backend::available() {
        round_trip_story(backend);
    }
}

/// The file's rows of `kind` as maps from header to cell.
fn sheet_rows(file: &CountyFile, kind: SheetKind) -> Vec<BTreeMap<&'static str, String>> {
    file.sheets
        .get(&kind)
        .into_iter()
        .flatten()
        .map(|r| {
            kind.columns()
                .iter()
                .zip(r)
                .map(|(c, v)| (c.header, v.clone()))
                .collect()
        })
        .collect()
}

/// After `file` was imported into `server`: a pairing cadre's phone syncs, records a visit to
/// an imported household, and reports 2–9 give the file's figures.
fn serves_phones_and_reports_story(server: &TestServer, file: &CountyFile) {
    use cunji_core::domain::Visit;
    use cunji_core::domain::codes::{Confirmation, HouseholdStatus, VisitMode, VisitRole};
    use cunji_core::values::Geo;
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let today_s = today.to_string();
    let active = |r: &BTreeMap<&str, String>| {
        r["开始日期"].as_str() <= today_s.as_str()
            && (r["结束日期"].is_empty() || r["结束日期"].as_str() >= today_s.as_str())
    };
    // The file's figures, from its rows.
    let status_col = CountyFile::col(SheetKind::Households, "脱贫状态");
    let registered: BTreeSet<String> = file.sheets[&SheetKind::Households]
        .iter()
        .filter(|r| {
            HouseholdStatus::ALL
                .iter()
                .find(|s| s.label_zh() == r[status_col])
                .is_some_and(|s| s.is_registered())
        })
        .map(|r| r[CountyFile::col(SheetKind::Households, "户编号")].clone())
        .collect();
    assert!(!registered.is_empty());
    let primaries: Vec<BTreeMap<&str, String>> = sheet_rows(file, SheetKind::Assignments)
        .into_iter()
        .filter(|r| r["是否主要帮扶责任人"] == "是" && active(r))
        .collect();
    let entitlements = sheet_rows(file, SheetKind::Entitlements);
    let due: Vec<&BTreeMap<&str, String>> = entitlements
        .iter()
        .filter(|r| r["应兑现日期"].as_str() <= today_s.as_str())
        .collect();
    let due_amount: f64 = due
        .iter()
        .map(|r| r["应享金额（元）"].parse::<f64>().unwrap_or(0.0))
        .sum();

    // A registered household's primary cadre (a pairing cadre of the file, given an account)
    // visits it today, at the home, signed.
    let pairing: BTreeSet<String> = sheet_rows(file, SheetKind::Cadres)
        .into_iter()
        .filter(|r| r["角色"] == "帮扶干部")
        .map(|r| r["干部编号"].clone())
        .collect();
    let mine = primaries
        .iter()
        .find(|r| pairing.contains(&r["干部编号"]) && registered.contains(&r["户编号"]))
        .expect("a pairing cadre is the primary cadre of a registered household");
    let (hid, cadre) = (mine["户编号"].clone(), mine["干部编号"].clone());
    server.account(&cadre, Role::PairingCadre, "");
    let home = &file.data[&hid]["home_geo"];
    let mut phone = Device::new(&server.url, &cadre).sign_in();
    phone.sync().unwrap();
    assert!(
        phone.store.get::<Household>(&hid).is_ok(),
        "the phone holds {hid}"
    );
    let start = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        - chrono::Duration::hours(2);
    let visit = Visit {
        household_id: hid.clone(),
        visitor_id: cadre.clone(),
        role_at_visit: VisitRole::PairingCadre,
        mode: VisitMode::InHome,
        start_ts: start,
        end_ts: start + chrono::Duration::minutes(40),
        geo: Some(Geo::at(
            home["lat"].as_f64().unwrap(),
            home["lon"].as_f64().unwrap(),
        )),
        confirmation: Confirmation::HeadSigned,
        confirmation_image_sha256: Some("ab".repeat(32)),
        photos: vec![],
        follow_up_due: None,
        met_member_id: file.data[&hid]["head_member_id"].as_str().map(String::from),
        ..Visit::example()
    };
    phone.store.create(&phone.author("走访"), &visit).unwrap();
    let pushed = phone.sync().unwrap();
    assert_eq!((pushed.pushed, pushed.rejected), (1, 0), "{pushed:?}");

    let county = Device::new(&server.url, "county-office").sign_in();
    let http = reqwest::blocking::Client::new();
    let report = |path: &str| -> Value {
        let resp = http
            .get(format!("{}/v1/reports/{path}", server.url))
            .bearer_auth(county.token())
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        resp.json().unwrap()
    };
    let scope = format!("scope=county:{}", file.county);
    let month = &today_s[..7];
    let (from, to) = (format!("{month}-01"), today_s.clone());
    // Report 2: every registered household of the file, the one visit covering one, by
    // village as the file has them.
    let r2 = report(&format!("visit-coverage?{scope}&from={from}&to={to}"));
    assert_eq!(
        r2["summary"]["registered"],
        registered.len(),
        "{}",
        r2["summary"]
    );
    assert_eq!(r2["summary"]["covered"], 1);
    let village_col = CountyFile::col(SheetKind::Households, "行政村代码");
    let id_col = CountyFile::col(SheetKind::Households, "户编号");
    let mut per_village: BTreeMap<String, usize> = BTreeMap::new();
    for r in &file.sheets[&SheetKind::Households] {
        if registered.contains(&r[id_col]) {
            *per_village.entry(r[village_col].clone()).or_default() += 1;
        }
    }
    let rows: BTreeMap<String, usize> = r2["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["village_code"].as_str().unwrap().to_string(),
                r["registered"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    assert_eq!(rows, per_village);
    // Report 3: each cadre of the file's active primary assignments of registered
    // households, all overdue but the visited one.
    let r3 = report(&format!("duty-compliance?{scope}&date={to}"));
    let mut of_cadre: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &primaries {
        if registered.contains(&r["户编号"]) {
            of_cadre
                .entry(r["干部编号"].clone())
                .or_default()
                .insert(r["户编号"].clone());
        }
    }
    let compliant = of_cadre
        .values()
        .filter(|hs| hs.iter().all(|h| *h == hid))
        .count();
    assert_eq!(
        (
            r3["summary"]["cadres"].clone(),
            r3["summary"]["compliant"].clone()
        ),
        (json!(of_cadre.len()), json!(compliant)),
        "{}",
        r3["summary"]
    );
    let row = r3["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cadre_id"] == cadre.as_str())
        .unwrap();
    assert_eq!(row["assignments"], of_cadre[&cadre].len());
    assert_eq!(row["overdue"], of_cadre[&cadre].len() - 1);
    // Report 4: every registered household but the visited one.
    let r4 = report(&format!("not-visited?{scope}&date={to}&days=30"));
    assert_eq!(r4["summary"]["registered"], registered.len());
    assert_eq!(r4["summary"]["not_visited"], registered.len() - 1);
    assert!(
        r4["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["household_id"] != hid.as_str())
    );
    // Report 5: the file's entitlements due by today, none delivered.
    let r5 = report(&format!("delivery-gaps?{scope}&date={to}"));
    assert_eq!(r5["summary"]["due"], due.len());
    assert_eq!(r5["summary"]["delivered"], 0);
    let amount = r5["summary"]["due_amount"].as_f64().unwrap();
    assert!(
        (amount - due_amount).abs() < 0.005,
        "{amount} != {due_amount}"
    );
    // Report 6: the file's registered households, none surveyed (the file has no surveys).
    let r6 = report(&format!("satisfaction?{scope}&from={from}&to={to}"));
    assert_eq!(r6["summary"]["registered"], registered.len());
    assert_eq!(r6["summary"]["official"]["surveyed"], 0);
    // Reports 7 and 8: the county's, with no petition and no 动态调整 case, as the file has
    // none (the registers do not carry them).
    let r7 = report(&format!("petitions?{scope}&from={from}&to={to}"));
    assert_eq!(r7["summary"]["received"], 0);
    let r8 = report(&format!("status-changes?{scope}&from={from}&to={to}"));
    assert_eq!(r8["summary"]["cases"], 0);
    // Report 9: the one visit, level A (at the home, signed), by its cadre.
    let r9 = report(&format!("integrity?{scope}&from={from}&to={to}"));
    assert_eq!(r9["summary"]["visits"], 1);
    assert_eq!(
        pick_of(
            &r9["rows"][0],
            &["cadre_id", "visits", "level_a", "anomalous_visits"]
        ),
        json!({"cadre_id": cadre, "visits": 1, "level_a": 1, "anomalous_visits": 0})
    );
}

fn pick_of(row: &Value, keys: &[&str]) -> Value {
    Value::Object(
        keys.iter()
            .map(|k| (k.to_string(), row[*k].clone()))
            .collect(),
    )
}

#[test]
fn an_imported_county_serves_the_phones_and_fills_reports_2_to_9() {
    for backend in Backend::available() {
        let file = county_file();
        serves_phones_and_reports_story(&imported_county(backend, file), file);
    }
}

/// Issue 15's size: a county file of at least 5,000 households (members, incomes, cadres,
/// assignments, entitlements) imports and serves a phone and the reports. On SQLite only, to keep the suite's time: the smaller file's stories run the same
/// code on both stores.
#[test]
fn a_county_of_five_thousand_households_imports_and_fills_the_reports() {
    let file = large_county_file();
    let n = file.households.len();
    assert!(n >= 5_000, "{n} households");
    let server = county_server(Backend::Sqlite, file);
    let office = file.xlsx("households.xlsx", &OFFICE_SHEETS);
    // Committed directly: the smaller file's stories check that a dry run reports the same
    // and writes nothing (the benchmark times both at 25,000 households).
    let before = server.change_count();
    let done = county_import::import(&server.db, "county-office", &[office], true).unwrap();
    assert!(done.ok() && done.committed, "{}", problems_text(&done));
    for (kind, sheet) in [
        ("household", SheetKind::Households),
        ("assignment", SheetKind::Assignments),
        ("entitlement", SheetKind::Entitlements),
    ] {
        assert_eq!(done.kind(kind).unwrap().new, file.rows(sheet), "{kind}");
    }
    assert_eq!(server.change_count() - before, done.changes as i64);
    let stored_members: usize = server
        .db
        .read(|tx| tx.docs_changed_after(None, 0, usize::MAX))
        .unwrap()
        .into_iter()
        .filter(|d| d.kind == Kind::Household)
        .map(|d| {
            server.stored_doc(&d.doc_id).data_json().unwrap()["members"]
                .as_object()
                .map_or(0, |m| m.len())
        })
        .sum();
    assert_eq!(stored_members, file.rows(SheetKind::Members));
    serves_phones_and_reports_story(&server, file);
}

/// After an import, every cadre of the county without an account gets one (`cadre-accounts`,
/// `import::accounts`): the 干部编号 as login, the role of the cadre's 角色, a first password
/// in a new CSV the administrator hands out; a pairing cadre then signs in on its phone with
/// that password and receives its households. An account made before is left alone, and a
/// second run creates nothing and writes no file.
fn cadre_accounts_story(backend: Backend) {
    use cunji_core::field::{FieldApp, LoginInput};
    use cunji_sync_server::import::accounts;
    let file = county_file();
    let server = imported_county(backend, file);
    let cadres = sheet_rows(file, SheetKind::Cadres);
    let working: BTreeSet<String> = sheet_rows(file, SheetKind::Teams)
        .into_iter()
        .chain(sheet_rows(file, SheetKind::Assignments))
        .map(|r| r["干部编号"].clone())
        .collect();
    // One cadre already has an account (made by hand before): it keeps its password.
    let by_hand = cadres
        .iter()
        .find(|r| working.contains(&r["干部编号"]))
        .unwrap()["干部编号"]
        .clone();
    server.account(&by_hand, Role::TeamMember, "");

    let dir = tempfile::tempdir().unwrap();
    // A file that exists is never overwritten, and then no account is made.
    let taken = dir.path().join("taken.csv");
    std::fs::write(&taken, "keep me").unwrap();
    let pending = |db: &cunji_sync_server::store::Db| {
        db.read(|tx| accounts::pending(tx, Some(&file.county)))
            .unwrap()
            .0
            .len()
    };
    let before = pending(&server.db);
    let err = accounts::create(&server.db, Some(&file.county), &taken).unwrap_err();
    assert!(err.to_string().contains("new file"), "{err}");
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "keep me");
    assert_eq!(pending(&server.db), before);

    let out = dir.path().join("初始密码.csv");
    let made = accounts::create(&server.db, Some(&file.county), &out).unwrap();
    let expected: BTreeMap<String, Role> = cadres
        .iter()
        .filter(|r| working.contains(&r["干部编号"]) && r["干部编号"] != by_hand)
        .map(|r| {
            let role = match r["角色"].as_str() {
                "第一书记" => Role::FirstSecretary,
                "驻村队员" => Role::TeamMember,
                _ => Role::PairingCadre,
            };
            (r["干部编号"].clone(), role)
        })
        .collect();
    assert!(expected.len() > 1, "{expected:?}");
    let got: BTreeMap<String, Role> = made
        .accounts
        .iter()
        .map(|(p, _)| (p.login.clone(), p.role))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(made.existing, 1);

    // The hand-out list: BOM, Chinese headers, one row per account, passwords that work.
    let text = std::fs::read_to_string(&out).unwrap();
    let body = text.strip_prefix('\u{feff}').expect("a BOM for Excel");
    let mut lines = body.lines();
    assert_eq!(lines.next(), Some("登录账号,姓名,角色,初始密码"));
    let listed: BTreeMap<String, (String, String)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), (f[2].to_string(), f[3].to_string()))
        })
        .collect();
    assert_eq!(
        listed.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "readable by its owner only: {mode:o}");
    }
    for (login, role) in &expected {
        let account = server.db.read(|tx| tx.account(login)).unwrap().unwrap();
        assert_eq!((account.role, account.division.as_str()), (*role, ""));
        assert_eq!(listed[login].0, role.label_zh());
    }

    // A pairing cadre signs in with its first password and receives its households.
    let pairing = expected
        .iter()
        .find(|(_, r)| **r == Role::PairingCadre)
        .map(|(l, _)| l.clone())
        .unwrap();
    let phone_dir = tempfile::tempdir().unwrap();
    let mut phone = FieldApp::open(phone_dir.path(), "246810").unwrap();
    phone
        .login(&LoginInput {
            server_url: server.url.clone(),
            login: pairing.clone(),
            password: listed[&pairing].1.clone(),
        })
        .unwrap();
    let mine: BTreeSet<String> = sheet_rows(file, SheetKind::Assignments)
        .into_iter()
        .filter(|r| r["干部编号"] == pairing)
        .map(|r| r["户编号"].clone())
        .collect();
    assert!(!mine.is_empty());
    let held = phone.store().record_ids().unwrap();
    for hid in &mine {
        assert!(
            held.contains(hid),
            "{pairing}'s household {hid} on its phone"
        );
    }
    // The account made by hand still takes its own password.
    Device::new(&server.url, &by_hand).sign_in();

    let again = dir.path().join("again.csv");
    let second = accounts::create(&server.db, Some(&file.county), &again).unwrap();
    assert!(second.accounts.is_empty());
    assert_eq!(second.existing, expected.len() + 1);
    assert!(!again.exists(), "nothing to hand out, no file");
}

#[test]
fn imported_cadres_get_accounts_and_sign_in_with_their_first_password() {
    for backend in Backend::available() {
        cadre_accounts_story(backend);
    }
}

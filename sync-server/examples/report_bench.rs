//! Report benchmark (BENCHMARKS.md): times the supervisors' reports on a generated
//! database through the real server, over HTTP on loopback, against hand-written SQL over
//! plain tables built in the same run.
//!
//! ```sh
//! cargo run --release -p cunji-sync-server --example report_bench -- \
//!     --database /tmp/perf-city.sqlite3 --county 530326 --month 2016-06 [--only ledger]
//! ```
//!
//! What is timed (each `--runs` times; median and fastest printed):
//! - report 1, the attendance ledger of one county for a month
//!   (`GET /v1/reports/attendance?scope=county:…`, signed in as that county's office);
//! - report 2, visit coverage of the whole city over a quarter (`scope=city:…`, as the city);
//! - the attendance ledger of the county as .xlsx (`format=xlsx`), and the `export` command's
//!   .xlsx of the county's records: all of them ([`reports::supervise::export`]), and those of
//!   the month (`--from`/`--to`, [`reports::supervise::export_period`]).
//!
//! The server runs in this process (the router of `cunji-sync-server serve`, plain HTTP on
//! 127.0.0.1), so peak RSS (VmHWM, reset through `/proc/self/clear_refs` before each report)
//! covers the server and the client. Two accounts are added to the database
//! (`bench-county`, `bench-city`): run it on a copy of a generated file, not on one that is
//! shared.
//!
//! The baseline: every projection table copied into a plain SQLite file (`--plain`, rebuilt
//! each run) with its record's village code as a column and indexes on what the queries
//! filter by; then one hand-written SQL query per report giving its headline figures (per
//! cadre: days with a submitted check-in in the month; per village: households and households
//! with a visit in the quarter), and for the exports the same rows written with
//! rust_xlsxwriter. The baseline computes less than the report (no R2 day statuses, no R8
//! evidence levels, no masking): the ratio is what the real rules cost over bare SQL.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use cunji_sync_server::accounts::{Role, upsert_account};
use cunji_sync_server::config::Config;
use cunji_sync_server::reports::{self, ReportScope};
use cunji_sync_server::store::Db;
use cunji_sync_server::{AppState, serve};
use rusqlite::types::Value;

mod common;

/// The binary's allocator, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PASSWORD: &str = "bench-password-1";

struct Args {
    database: String,
    plain: PathBuf,
    county: String,
    city: String,
    /// The scope of the coverage figure (default the whole city), to measure how it grows.
    coverage_scope: Option<String>,
    month: String,
    from: String,
    to: String,
    runs: usize,
    /// Only this figure (`ledger`, `coverage`, `ledger-xlsx`, `export`, `export-month`,
    /// `baseline`): one
    /// process per figure gives each its own peak RSS (freed memory stays with the process).
    only: Option<String>,
    /// Write the reports' JSON (without `generated_at`) here, to compare two builds.
    save: Option<PathBuf>,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        database: "/tmp/perf-city.sqlite3".into(),
        plain: "/tmp/report-plain.sqlite3".into(),
        county: "530326".into(),
        city: "5303".into(),
        coverage_scope: None,
        month: "2016-06".into(),
        from: "2016-04-01".into(),
        to: "2016-06-30".into(),
        runs: 3,
        only: None,
        save: None,
    };
    common::each_flag(|flag, v| {
        match flag {
            "--database" => a.database = v,
            "--plain" => a.plain = v.into(),
            "--county" => a.county = v,
            "--city" => a.city = v,
            "--coverage-scope" => a.coverage_scope = Some(v),
            "--month" => a.month = v,
            "--from" => a.from = v,
            "--to" => a.to = v,
            "--runs" => a.runs = v.parse()?,
            "--only" => a.only = Some(v),
            "--save" => a.save = Some(v.into()),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(a)
}

fn main() -> anyhow::Result<()> {
    let a = args()?;
    let started = Instant::now();
    let db = Db::open(&a.database).context("opening the database")?;
    println!(
        "opened {} ({}) in {:.1} s",
        a.database,
        db.backend(),
        started.elapsed().as_secs_f64()
    );
    db.write(|tx| {
        upsert_account(
            tx,
            "bench-county",
            "基准县",
            Role::CountyOffice,
            &a.county,
            PASSWORD,
        )
        .map_err(anyhow::Error::msg)?;
        upsert_account(tx, "bench-city", "基准市", Role::City, &a.city, PASSWORD)
            .map_err(anyhow::Error::msg)
    })?;
    let state = AppState::new(db, Config::default());
    let db: Arc<Db> = state.db.clone();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(serve(listener, state, async move {
        let _ = stopped.await;
    }));

    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(600))
        .build()?;
    let token = |login: &str| -> anyhow::Result<String> {
        let r: serde_json::Value = client
            .post(format!("{url}/v1/session"))
            .json(&serde_json::json!({"login": login, "password": PASSWORD}))
            .send()?
            .error_for_status()?
            .json()?;
        r["token"]
            .as_str()
            .map(String::from)
            .context("no token in the session answer")
    };
    let county_token = token("bench-county")?;
    let city_token = token("bench-city")?;
    let get = |token: &str, path: &str| -> anyhow::Result<(Vec<u8>, f64)> {
        let t = Instant::now();
        let r = client
            .get(format!("{url}{path}"))
            .bearer_auth(token)
            .send()?;
        let status = r.status();
        let body = r.bytes()?.to_vec();
        if !status.is_success() {
            bail!("{path}: {status}: {}", String::from_utf8_lossy(&body));
        }
        Ok((body, t.elapsed().as_secs_f64()))
    };

    let ledger_path = format!(
        "/v1/reports/attendance?scope=county:{}&month={}&today=2016-12-31",
        a.county, a.month
    );
    let coverage_scope = a
        .coverage_scope
        .clone()
        .unwrap_or_else(|| format!("city:{}", a.city));
    let coverage_path = format!(
        "/v1/reports/visit-coverage?scope={coverage_scope}&from={}&to={}",
        a.from, a.to
    );

    // Reports through HTTP.
    let want = |what: &str| a.only.as_deref().is_none_or(|o| o == what);
    let save = |name: &str, body: &[u8]| -> anyhow::Result<()> {
        if let Some(dir) = &a.save {
            // The run's time stamp aside, the document is what the report computed.
            let mut doc: serde_json::Value = serde_json::from_slice(body)?;
            doc["generated_at"] = serde_json::Value::Null;
            std::fs::create_dir_all(dir)?;
            std::fs::write(dir.join(name), serde_json::to_vec_pretty(&doc)?)?;
        }
        Ok(())
    };
    let mut results = Vec::new();
    if want("ledger") {
        let (body, _) = get(&county_token, &ledger_path)?;
        save("ledger.json", &body)?;
        let doc: serde_json::Value = serde_json::from_slice(&body)?;
        println!(
            "ledger: {} rows, summary {}",
            doc["rows"].as_array().map_or(0, |r| r.len()),
            doc["summary"]
        );
        results.push(time(
            a.runs,
            "report 1: attendance ledger, county, month (HTTP JSON)",
            || Ok(get(&county_token, &ledger_path)?.1),
        )?);
    }
    if want("coverage") {
        let (body, _) = get(&city_token, &coverage_path)?;
        save("coverage.json", &body)?;
        let doc: serde_json::Value = serde_json::from_slice(&body)?;
        println!(
            "coverage: {} rows, registered {}, covered {}",
            doc["rows"].as_array().map_or(0, |r| r.len()),
            doc["summary"]["registered"],
            doc["summary"]["covered"]
        );
        results.push(time(
            a.runs,
            &format!("report 2: visit coverage, {coverage_scope}, quarter (HTTP JSON)"),
            || Ok(get(&city_token, &coverage_path)?.1),
        )?);
    }
    if want("ledger-xlsx") {
        results.push(time(a.runs, "report 1 as .xlsx, county (HTTP)", || {
            Ok(get(&county_token, &format!("{ledger_path}&format=xlsx"))?.1)
        })?);
    }
    let scope: ReportScope = format!("county:{}", a.county)
        .parse()
        .map_err(anyhow::Error::msg)?;
    let export_file = a.plain.with_extension("export.xlsx");
    if want("export") {
        let mut export_rows = 0;
        results.push(time(
            a.runs,
            "export --scope county --out .xlsx (all tables)",
            || {
                let _ = std::fs::remove_file(&export_file);
                let t = Instant::now();
                let r = reports::supervise::export(&db, &scope, &export_file)?;
                export_rows = r.tables.values().sum::<usize>();
                Ok(t.elapsed().as_secs_f64())
            },
        )?);
        println!("export rows: {export_rows}");
    }
    let (y, m) = a.month.split_once('-').context("month is YYYY-MM")?;
    let month_from = format!("{y}-{m}-01");
    let month_to = format!("{y}-{m}-31");
    if want("export-month") {
        let first: cunji_core::values::Date = month_from.parse()?;
        let month = cunji_core::reports::DateRange {
            from: first,
            to: first
                .checked_add_months(chrono::Months::new(1))
                .and_then(|d| d.pred_opt())
                .context("a month")?,
        };
        let mut export_rows = 0;
        results.push(time(
            a.runs,
            "export --scope county --from --to (a month) --out .xlsx",
            || {
                let _ = std::fs::remove_file(&export_file);
                let t = Instant::now();
                let r = reports::supervise::export_period(&db, &scope, month, &export_file)?;
                export_rows = r.tables.values().sum::<usize>();
                Ok(t.elapsed().as_secs_f64())
            },
        )?);
        println!("export rows (month): {export_rows}");
    }
    let _ = stop.send(());
    let _ = rt.block_on(server);
    drop(rt);

    // The baseline.
    if !want("baseline") {
        let _ = std::fs::remove_file(&export_file);
        return print(&results, &[]);
    }
    let sqlite_path = a.database.strip_prefix("sqlite://").unwrap_or(&a.database);
    if a.database.contains("://") && !a.database.starts_with("sqlite://") {
        println!("baseline: only for a SQLite database");
        return print(&results, &[]);
    }
    let t = Instant::now();
    let conn = plain_tables(Path::new(sqlite_path), &a.plain)?;
    println!("plain tables built in {:.1} s", t.elapsed().as_secs_f64());
    let mut base = Vec::new();
    let mut n = 0;
    base.push(time(
        a.runs,
        "baseline 1: days checked in per cadre, county, month",
        || {
            let t = Instant::now();
            n = ledger_sql(&conn, &a.county, &month_from, &month_to)?.len();
            Ok(t.elapsed().as_secs_f64())
        },
    )?);
    println!("  {n} cadres");
    base.push(time(
        a.runs,
        "baseline 2: households visited per village, city, quarter",
        || {
            let t = Instant::now();
            let mut stmt = conn.prepare_cached(
                "SELECT h.village_code, count(*),
                    sum(EXISTS (SELECT 1 FROM p_visit v WHERE v.household_id = h.doc_id
                                AND v.start_date BETWEEN ?2 AND ?3 AND v.state <> 'void'))
               FROM p_household h
              WHERE h.doc_village >= ?1 AND h.doc_village < ?1 || '~' AND h.state <> 'void'
              GROUP BY h.village_code",
            )?;
            let rows: Vec<(String, i64, i64)> = stmt
                .query_map(rusqlite::params![a.city, a.from, a.to], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect::<Result<_, _>>()?;
            n = rows.len();
            Ok(t.elapsed().as_secs_f64())
        },
    )?);
    println!("  {n} villages");
    let base_xlsx = a.plain.with_extension("base.xlsx");
    base.push(time(a.runs, "baseline 1 as .xlsx", || {
        let t = Instant::now();
        let rows = ledger_sql(&conn, &a.county, &month_from, &month_to)?;
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (r, (cadre, days)) in rows.iter().enumerate() {
            sheet.write_string(r as u32, 0, cadre)?;
            sheet.write_number(r as u32, 1, *days as f64)?;
        }
        book.save(&base_xlsx)?;
        Ok(t.elapsed().as_secs_f64())
    })?);
    let mut base_rows = 0;
    base.push(time(
        a.runs,
        "baseline export: SELECT * per plain table, county, .xlsx",
        || {
            let t = Instant::now();
            base_rows = plain_export(&conn, &a.county, None, &base_xlsx)?;
            Ok(t.elapsed().as_secs_f64())
        },
    )?);
    println!("baseline export rows: {base_rows}");
    base.push(time(
        a.runs,
        "baseline export of a month: the same, event records of the month",
        || {
            let t = Instant::now();
            base_rows = plain_export(&conn, &a.county, Some((&month_from, &month_to)), &base_xlsx)?;
            Ok(t.elapsed().as_secs_f64())
        },
    )?);
    println!("baseline export rows (month): {base_rows}");
    for f in [&export_file, &base_xlsx] {
        let _ = std::fs::remove_file(f);
    }
    drop(conn);
    common::remove_db(&a.plain);
    print(&results, &base)
}

/// One timed figure: median and fastest of `runs` runs, peak RSS of the slowest run's
/// process (VmHWM after resetting it).
struct Timing {
    what: String,
    median: f64,
    min: f64,
    peak_mb: f64,
}

fn time(
    runs: usize,
    what: &str,
    mut f: impl FnMut() -> anyhow::Result<f64>,
) -> anyhow::Result<Timing> {
    let mut times = Vec::new();
    let mut peak = 0u64;
    for _ in 0..runs.max(1) {
        common::reset_peak_rss();
        times.push(f()?);
        peak = peak.max(common::peak_rss_kib());
    }
    times.sort_by(f64::total_cmp);
    let t = Timing {
        what: what.to_string(),
        median: times[times.len() / 2],
        min: times[0],
        peak_mb: peak as f64 / 1024.0,
    };
    eprintln!(
        "{}: median {:.3} s (runs {:?}), peak RSS {:.0} MB",
        t.what,
        t.median,
        times
            .iter()
            .map(|t| (t * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>(),
        t.peak_mb
    );
    Ok(t)
}

fn print(results: &[Timing], base: &[Timing]) -> anyhow::Result<()> {
    println!("\n| what | median | fastest | peak RSS |");
    println!("|---|---|---|---|");
    for r in results.iter().chain(base) {
        println!(
            "| {} | {:.3} s | {:.3} s | {:.0} MB |",
            r.what, r.median, r.min, r.peak_mb
        );
    }
    for (r, b) in results.iter().zip(base) {
        println!(
            "ratio {} / baseline: {:.1}×",
            r.what,
            r.median / b.median.max(1e-9)
        );
    }
    Ok(())
}

/// Copies every projection table of the server's SQLite file into a plain file, with the
/// record's village code (`doc_village`) and receipt time as columns, and indexes the
/// baseline's queries use.
fn plain_tables(server: &Path, plain: &Path) -> anyhow::Result<rusqlite::Connection> {
    common::remove_db(plain);
    let conn = rusqlite::Connection::open(plain)?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;")?;
    conn.execute("ATTACH DATABASE ?1 AS src", [server.display().to_string()])?;
    conn.execute_batch("BEGIN")?;
    for (_, table) in cunji_core::domain::all_tables() {
        conn.execute_batch(&format!(
            "CREATE TABLE {t} AS SELECT d.village_code AS doc_village, d.received_ts, x.*
               FROM src.{t} x JOIN src.documents d ON d.id = x.doc_id;
             CREATE INDEX {t}_doc_village ON {t}(doc_village);",
            t = table.name
        ))?;
    }
    conn.execute_batch(
        "CREATE INDEX p_checkin_cadre_date ON p_checkin(cadre_id, local_date);
         CREATE INDEX p_visit_household_date ON p_visit(household_id, start_date);
         COMMIT; DETACH DATABASE src; ANALYZE;",
    )?;
    Ok(conn)
}

fn ledger_sql(
    conn: &rusqlite::Connection,
    county: &str,
    from: &str,
    to: &str,
) -> anyhow::Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.cadre_id,
                (SELECT count(DISTINCT c.local_date) FROM p_checkin c
                  WHERE c.cadre_id = m.cadre_id AND c.local_date BETWEEN ?2 AND ?3
                    AND c.state = 'submitted')
           FROM (SELECT DISTINCT cadre_id FROM p_team_member
                  WHERE village_code >= ?1 AND village_code < ?1 || '~') m",
    )?;
    let rows = stmt
        .query_map(rusqlite::params![county, from, to], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The county's rows of every plain table into a workbook; with a period, the event kinds'
/// records of the period as the export picks them (by date, a leave by overlap, other tables
/// by their record), in SQL.
fn plain_export(
    conn: &rusqlite::Connection,
    county: &str,
    period: Option<(&str, &str)>,
    out: &Path,
) -> anyhow::Result<usize> {
    use cunji_core::domain::EventDate;
    let _ = std::fs::remove_file(out);
    // The same workbook settings as the export: streamed sheets, compression level 3.
    let mut book = rust_xlsxwriter::Workbook::new();
    book.set_zip_compression_level(3);
    let mut n = 0;
    let tables = cunji_core::domain::all_tables();
    for (kind, table) in &tables {
        let sheet = book.add_worksheet_with_constant_memory()?;
        sheet.set_name(table.name)?;
        let main = tables
            .iter()
            .find(|(k, _)| k == kind)
            .map_or("", |t| t.1.name);
        let dated = match (period.and(kind.event_date()), main == table.name) {
            (None, _) => String::new(),
            (Some(EventDate::On(c)), true) => format!(" AND {c} BETWEEN ?2 AND ?3"),
            (Some(EventDate::Span(a, b)), true) => format!(" AND {a} <= ?3 AND {b} >= ?2"),
            (Some(EventDate::On(c)), false) => {
                format!(" AND doc_id IN (SELECT doc_id FROM {main} WHERE {c} BETWEEN ?2 AND ?3)")
            }
            (Some(EventDate::Span(a, b)), false) => {
                format!(" AND doc_id IN (SELECT doc_id FROM {main} WHERE {a} <= ?3 AND {b} >= ?2)")
            }
        };
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT * FROM {} WHERE doc_village >= ?1 AND doc_village < ?1 || '~'{dated}
                AND coalesce(?2, ?3, 1) IS NOT NULL",
            table.name
        ))?;
        let cols = stmt.column_count();
        let (from, to) = period.unzip();
        let mut rows = stmt.query(rusqlite::params![county, from, to])?;
        let mut r = 0u32;
        while let Some(row) = rows.next()? {
            for c in 0..cols {
                match row.get::<_, Value>(c)? {
                    Value::Integer(i) => {
                        sheet.write_number(r, c as u16, i as f64)?;
                    }
                    Value::Real(f) => {
                        sheet.write_number(r, c as u16, f)?;
                    }
                    Value::Text(s) => {
                        sheet.write_string(r, c as u16, s)?;
                    }
                    Value::Null | Value::Blob(_) => {}
                }
            }
            r += 1;
        }
        n += r as usize;
    }
    book.save(out)?;
    Ok(n)
}

//! Supervisors' own tools: an incremental pull of a scope's merged projection rows (JSON, by
//! cursor) and the `export` command that writes a scope's projection tables to a SQLite file
//! or an xlsx workbook, whole or for a period (a county's month: the event records dated in
//! it, with the registers they refer to).
//!
//! The export reads the store on a thread of its own and hands batches of masked rows to the
//! writer (a `Sink`: SQLite inserts or constant-memory xlsx sheets) in the caller's thread.
//! An xlsx of a whole county's year is millions of rows; that belongs in a SQLite file, and
//! a month's workbook is what meets the 10 s target on the generated city (BENCHMARKS.md).
//!
//! The pull's cursor is the server's change sequence number: a page lists the records that
//! changed after it (each once, with its current rows in every table of its kind), in the
//! order of their latest change, and `next_cursor` is the last one's; a record that changes
//! again later comes again. Reference data (villages' records aside, the catalogue, units,
//! cadres) is included. Rows are masked as the caller's role requires ([`super::Masking`]):
//! above the township ID numbers, health data and home/visit coordinates; for the
//! organisation department and the city also household names and phones.
//!
//! Not here: the devices' binary sync protocol (that is [`crate::pull`]); supervisors' tools
//! read rows, not Automerge documents.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc::SyncSender;

use cunji_core::domain::{EventDate, Kind, all_tables};
use cunji_core::projection::Table;
use cunji_core::reports::DateRange;
use rusqlite::types::Value;
use rust_xlsxwriter::Workbook;
use serde::Serialize;

use super::{Masking, ReportError, ReportScope, authorize, bad};
use crate::accounts::{Principal, RecordPlace};
use crate::store::{Between, Db, RowFilter, StoreError, Tx};
use cunji_core::domain::access::{Reach, Sight, rights};

/// One record in a pull page.
#[derive(Debug, Clone, Serialize)]
pub struct PulledRecord {
    pub doc_id: String,
    pub kind: &'static str,
    pub village_code: Option<String>,
    /// When the server first received the record (RFC 3339 UTC); the device's own times are
    /// in the rows (`ts`, `start_ts`…).
    pub server_received_ts: String,
    /// The sequence number of the record's latest change.
    pub seq: i64,
    /// Projection table → rows (column → value), masked.
    pub tables: BTreeMap<&'static str, Vec<serde_json::Map<String, serde_json::Value>>>,
}

/// One page of a supervisor's pull.
#[derive(Debug, Clone, Serialize)]
pub struct PullPage {
    pub scope: String,
    pub after: i64,
    /// Pass as `after` for the next page.
    pub next_cursor: i64,
    /// More records changed after `next_cursor` when this page was read.
    pub has_more: bool,
    pub masking: Masking,
    pub records: Vec<PulledRecord>,
}

/// The page size when none is asked for, and the largest allowed.
pub const DEFAULT_PAGE: usize = 500;
pub const MAX_PAGE: usize = 5_000;

fn json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null | Value::Blob(_) => serde_json::Value::Null,
        Value::Integer(i) => (*i).into(),
        Value::Real(f) => {
            serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
        }
        Value::Text(s) => s.clone().into(),
    }
}

/// Masks one projection cell as `masking` requires (the core's column marks).
pub use cunji_core::domain::privacy::mask_cell;

/// A page of the records of `scope` changed after `after`.
pub fn pull(
    tx: &mut dyn Tx,
    principal: &Principal,
    query: &BTreeMap<String, String>,
) -> Result<PullPage, ReportError> {
    if let Some(k) = query
        .keys()
        .find(|k| !["scope", "after", "limit"].contains(&k.as_str()))
    {
        return Err(ReportError::UnknownParam(k.clone()));
    }
    let scope: ReportScope = query
        .get("scope")
        .ok_or_else(|| bad("scope", "is required, e.g. township:530322101"))?
        .parse()
        .map_err(|e: String| bad("scope", e))?;
    if !principal.role.is_supervisor() {
        return Err(ReportError::OutOfScope(scope.to_string()));
    }
    let masking = authorize(tx, principal, &scope)?;
    // Row by row only what the access table lets the role read as records; a role that
    // reads none of a division's records that way (the city: aggregates, the reports) pulls
    // nothing, not even the reference data beside them.
    let readable = |kind: Kind| {
        rights(principal.role, kind)
            .read
            .is_some_and(|(_, sight)| sight != Sight::Aggregates)
    };
    let division_kind = |kind: &Kind| {
        rights(principal.role, *kind)
            .read
            .is_some_and(|(reach, _)| reach != Reach::Reference)
    };
    if !Kind::ALL
        .iter()
        .filter(|k| division_kind(k))
        .any(|k| readable(*k))
    {
        return Err(ReportError::OutOfScope(scope.to_string()));
    }
    // As given, within the bounds the OpenAPI document states (`after` 0 or more, `limit`
    // 1 to MAX_PAGE).
    let number = |name: &str, default: i64, min: i64, max: i64| -> Result<i64, ReportError> {
        match query.get(name) {
            None => Ok(default),
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    bad(
                        name,
                        format!("`{s}` is not a whole number from {min} to {max}"),
                    )
                }),
        }
    };
    let after = number("after", 0, 0, i64::MAX)?;
    let limit = number("limit", DEFAULT_PAGE as i64, 1, MAX_PAGE as i64)? as usize;
    let mut changed = tx.docs_changed_after(Some(&scope.code), after, limit + 1)?;
    let has_more = changed.len() > limit;
    changed.truncate(limit);
    let tables = all_tables();
    let mut records = Vec::with_capacity(changed.len());
    for c in changed.iter().filter(|c| readable(c.kind)) {
        // A cadre's file only where the cadre works (the access table's places of a cadre).
        if c.kind == Kind::Cadre {
            let place = RecordPlace {
                kind: c.kind,
                village: None,
                household: None,
                owner: Some(&c.doc_id),
            };
            if principal.sight(tx, place)?.is_none() {
                continue;
            }
        }
        // A kind the role reads only its own of (a 投诉建议, which may be about the reader):
        // only its own.
        if matches!(rights(principal.role, c.kind).read, Some((_, Sight::Own))) {
            let Some(row) = tx.doc(&c.doc_id)? else {
                continue;
            };
            if principal.sight(tx, RecordPlace::of(&row))?.is_none() {
                continue;
            }
        }
        let mut out = BTreeMap::new();
        for (_, table) in tables.iter().filter(|(k, _)| *k == c.kind) {
            let columns: Vec<&str> = table.columns.iter().map(|(n, _)| *n).collect();
            let mut rows = Vec::new();
            tx.scan(table.name, &columns, RowFilter::Doc(&c.doc_id), &mut |v| {
                let mut m = serde_json::Map::new();
                for (i, col) in columns.iter().enumerate() {
                    let cell = v.get(i + 3).unwrap_or(&Value::Null);
                    m.insert(
                        (*col).to_string(),
                        json(&mask_cell(table.name, col, cell, masking)),
                    );
                }
                rows.push(m);
            })?;
            out.insert(table.name, rows);
        }
        records.push(PulledRecord {
            doc_id: c.doc_id.clone(),
            kind: c.kind.code(),
            village_code: c.village_code.clone(),
            server_received_ts: c.received_ts.clone(),
            seq: c.seq,
            tables: out,
        });
    }
    Ok(PullPage {
        scope: scope.to_string(),
        after,
        next_cursor: changed.last().map_or(after, |c| c.seq),
        has_more,
        masking,
        records,
    })
}

/// Why an export failed; nothing is left at the output path then.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0} already exists; choose a new file name")]
    Exists(String),
    #[error("the output file must end in .sqlite3, .sqlite, .db or .xlsx: {0}")]
    Extension(String),
    #[error("the period ends ({1}) before it starts ({0})")]
    Period(String, String),
    /// The writer failed (its own error is the one returned): the reader stopped.
    #[error("the export's writer stopped")]
    WriterStopped,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the SQLite file: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("writing the xlsx file: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// What an export wrote: rows per table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportReport {
    pub tables: BTreeMap<&'static str, usize>,
}

/// Kinds whose records belong to no village (their `scope()` is global: reference data);
/// every scope's export includes them, as the supervisors' pull does.
const GLOBAL_KINDS: [Kind; 3] = [Kind::Unit, Kind::Cadre, Kind::PolicyItem];

/// Where an export's rows go, one table after another.
trait Sink {
    fn begin(&mut self, table: &'static Table, main: bool) -> Result<(), ExportError>;
    /// `[doc_id, server_received_ts, village_code, columns…]`, masked.
    fn row(&mut self, row: &[Value]) -> Result<(), ExportError>;
    fn end(&mut self) -> Result<(), ExportError>;
}

/// What the reader of an export sends its writer: a table starts (with whether it is its
/// kind's main table), rows of it (flat, `width` values each:
/// `[doc_id, server_received_ts, village_code, columns…]`), the table ends.
enum Batch {
    Begin(&'static Table, bool),
    Rows(Vec<Value>, usize),
    End,
}

/// Rows per batch, and batches in flight between the reader and the writer.
const BATCH_ROWS: usize = 1_024;
const BATCHES_IN_FLIGHT: usize = 8;

/// Streams `scope`'s rows of every projection table into `sink` (see [`read_scope`]). The
/// store is read on a thread of its own while this one writes: reading and masking the rows
/// and writing them (xlsx cells, SQLite inserts) take about as long as each other, and a
/// server has more than one core.
fn stream_scope(
    db: &Db,
    scope: &ReportScope,
    period: Option<DateRange>,
    sink: &mut dyn Sink,
) -> Result<ExportReport, ExportError> {
    let (out, batches) = std::sync::mpsc::sync_channel(BATCHES_IN_FLIGHT);
    std::thread::scope(|threads| {
        let reader = threads.spawn(move || read_scope(db, scope, period, &out));
        let mut written = Ok(());
        for batch in batches.iter() {
            written = match batch {
                Batch::Begin(table, main) => sink.begin(table, main),
                Batch::Rows(values, width) => values
                    .chunks_exact(width.max(1))
                    .try_for_each(|row| sink.row(row)),
                Batch::End => sink.end(),
            };
            if written.is_err() {
                break;
            }
        }
        // A failed writer lets the reader go: its next send fails.
        drop(batches);
        let read = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        written?;
        read
    })
}

/// Reads `scope`'s rows of every projection table, masked for the scope's level, and sends
/// them to `out` in batches, table after table. Each table is read through the scope's index
/// (a county reads its own rows, not the city's), and nothing holds a whole table.
///
/// With a `period`, the records of a kind with an event date ([`Kind::event_date`]: visits,
/// check-ins, work logs, deliveries, petitions, inspections, leave) are those dated in it, and
/// the rows of their other tables (a visit's photos) follow them; registers and reference data
/// come whole, as the period's records need them to be read.
fn read_scope(
    db: &Db,
    scope: &ReportScope,
    period: Option<DateRange>,
    out: &SyncSender<Batch>,
) -> Result<ExportReport, ExportError> {
    let masking = Masking {
        household_pii: false,
        sensitive: scope.level.above_township(),
    };
    let (from, to) = match period {
        Some(p) if p.from > p.to => {
            return Err(ExportError::Period(p.from.to_string(), p.to.to_string()));
        }
        Some(p) => (p.from.to_string(), p.to.to_string()),
        None => Default::default(),
    };
    let tables = all_tables();
    db.read(|tx| {
        let mut report = ExportReport::default();
        let mut first_of_kind = None;
        // The records of the current kind dated in the period (when the kind has more tables
        // than its main one): its other tables are read by these ids.
        let mut dated: Vec<String> = Vec::new();
        for (kind, table) in &tables {
            let main = first_of_kind != Some(*kind);
            first_of_kind = Some(*kind);
            let columns: Vec<&str> = table.columns.iter().map(|(n, _)| *n).collect();
            let event_date = period.and(kind.event_date());
            let more_tables = tables.iter().filter(|(k, _)| k == kind).count() > 1;
            let global = GLOBAL_KINDS.contains(kind);
            let at = |c: &str| columns.iter().position(|n| *n == c).map(|i| i + 3);
            // Which of the main table's rows a period keeps: `On` is a condition of the
            // query; a span is checked here, as overlapping [from, to].
            let (between, span) = match (main, event_date) {
                (true, Some(EventDate::On(column))) => (
                    Some(Between {
                        column,
                        from: &from,
                        to: &to,
                    }),
                    None,
                ),
                (true, Some(EventDate::Span(a, b))) => (None, at(a).zip(at(b))),
                _ => (None, None),
            };
            let mut found: Vec<String> = Vec::new();
            let width = columns.len() + 3;
            let mut batch = Vec::with_capacity(width * BATCH_ROWS);
            let mut failed = out.send(Batch::Begin(table, main)).is_err();
            let mut rows = 0usize;
            let mut each = |v: &[Value]| {
                if failed {
                    return;
                }
                // A global kind's record placed in a village after all belongs to that
                // village's scope only.
                if global
                    && let Some(Value::Text(village)) = v.get(2)
                    && !village.starts_with(&scope.code)
                {
                    return;
                }
                if let Some((a, b)) = span {
                    let text = |i: usize| match v.get(i) {
                        Some(Value::Text(s)) => s.as_str(),
                        _ => "",
                    };
                    if text(a) > to.as_str() || text(b) < from.as_str() {
                        return;
                    }
                }
                if main
                    && event_date.is_some()
                    && more_tables
                    && let Some(Value::Text(id)) = v.first()
                {
                    found.push(id.clone());
                }
                batch.extend_from_slice(&v[..3]);
                for (i, col) in columns.iter().enumerate() {
                    let cell = v.get(i + 3).unwrap_or(&Value::Null);
                    batch.push(mask_cell(table.name, col, cell, masking));
                }
                rows += 1;
                if batch.len() >= width * BATCH_ROWS {
                    let full =
                        std::mem::replace(&mut batch, Vec::with_capacity(width * BATCH_ROWS));
                    failed = out.send(Batch::Rows(full, width)).is_err();
                }
            };
            if !main && event_date.is_some() {
                for id in &dated {
                    tx.scan(table.name, &columns, RowFilter::Doc(id), &mut each)?;
                }
            } else {
                let filter = if global {
                    RowFilter::All
                } else {
                    RowFilter::Division(&scope.code)
                };
                tx.scan_where(table.name, &columns, filter, between, &mut each)?;
            }
            if failed
                || out.send(Batch::Rows(batch, width)).is_err()
                || out.send(Batch::End).is_err()
            {
                return Err(ExportError::WriterStopped);
            }
            if main {
                dated = found;
            }
            report.tables.insert(table.name, rows);
        }
        Ok(report)
    })
}

/// Writes `scope`'s projection tables to `out`: a SQLite file (each projection table, plus
/// `records` with each record's kind, village and `server_received_ts`) or, for `.xlsx`, a
/// workbook with one sheet per table (continued on `name.2`, `name.3`… past a sheet's
/// 1,048,575 rows). ID numbers, health data and home coordinates are masked for county and
/// city scopes. An existing file is never overwritten; a failed export leaves nothing.
pub fn export(db: &Db, scope: &ReportScope, out: &Path) -> Result<ExportReport, ExportError> {
    export_with(db, scope, None, out, SHEET_ROWS)
}

/// [`export`] of the records of `period`: of the kinds with an event date
/// ([`Kind::event_date`]), those dated in it (a leave by overlap) with the rows of their other
/// tables (a visit's photos, an inspection's households); registers and reference data whole.
pub fn export_period(
    db: &Db,
    scope: &ReportScope,
    period: DateRange,
    out: &Path,
) -> Result<ExportReport, ExportError> {
    export_with(db, scope, Some(period), out, SHEET_ROWS)
}

/// [`export`], for a period or not, with at most `sheet_rows` rows per xlsx sheet (tests use
/// a small number to see a table continue on a second sheet).
pub fn export_with(
    db: &Db,
    scope: &ReportScope,
    period: Option<DateRange>,
    out: &Path,
    sheet_rows: u32,
) -> Result<ExportReport, ExportError> {
    let name = out.display().to_string();
    if out.exists() {
        return Err(ExportError::Exists(name));
    }
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !["sqlite3", "sqlite", "db", "xlsx"].contains(&ext.as_str()) {
        return Err(ExportError::Extension(name));
    }
    let written = if ext == "xlsx" {
        write_xlsx(db, scope, period, out, sheet_rows.max(1))
    } else {
        write_sqlite(db, scope, period, out)
    };
    if written.is_err() {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{name}{suffix}"));
        }
    }
    written
}

fn write_sqlite(
    db: &Db,
    scope: &ReportScope,
    period: Option<DateRange>,
    out: &Path,
) -> Result<ExportReport, ExportError> {
    struct ToSqlite<'c> {
        tx: rusqlite::Transaction<'c>,
        insert: String,
        main: &'static str,
    }
    impl Sink for ToSqlite<'_> {
        fn begin(&mut self, table: &'static Table, main: bool) -> Result<(), ExportError> {
            self.tx.execute_batch(&table.ddl_for(main))?;
            let cols: Vec<&str> = table.columns.iter().map(|(n, _)| *n).collect();
            let marks: Vec<String> = (1..=cols.len() + 1).map(|i| format!("?{i}")).collect();
            self.insert = format!(
                "INSERT INTO {} (doc_id, {}) VALUES ({})",
                table.name,
                cols.join(", "),
                marks.join(", ")
            );
            self.main = if main { table.name } else { "" };
            Ok(())
        }
        fn row(&mut self, row: &[Value]) -> Result<(), ExportError> {
            let values = std::iter::once(&row[0]).chain(row[3..].iter());
            self.tx
                .prepare_cached(&self.insert)?
                .execute(rusqlite::params_from_iter(values))?;
            if !self.main.is_empty() {
                self.tx
                    .prepare_cached(
                        "INSERT INTO records (doc_id, table_name, village_code, server_received_ts) VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(rusqlite::params![row[0], self.main, row[2], row[1]])?;
            }
            Ok(())
        }
        fn end(&mut self) -> Result<(), ExportError> {
            Ok(())
        }
    }
    let mut conn = cunji_core::open_connection(out).map_err(|e| match e {
        cunji_core::Error::Sqlite(e) => ExportError::Sqlite(e),
        other => ExportError::Store(StoreError::Corrupt(other.to_string())),
    })?;
    let tx = conn.transaction()?;
    tx.execute_batch(
        "CREATE TABLE records (doc_id TEXT NOT NULL, table_name TEXT NOT NULL, village_code TEXT, server_received_ts TEXT NOT NULL);",
    )?;
    let report = {
        let mut sink = ToSqlite {
            tx,
            insert: String::new(),
            main: "",
        };
        let report = stream_scope(db, scope, period, &mut sink)?;
        sink.tx.commit()?;
        report
    };
    conn.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(report)
}

/// Rows per sheet: Excel's 1,048,576 less the header.
const SHEET_ROWS: u32 = 1_048_575;

fn write_xlsx(
    db: &Db,
    scope: &ReportScope,
    period: Option<DateRange>,
    out: &Path,
    sheet_rows: u32,
) -> Result<ExportReport, ExportError> {
    struct ToXlsx {
        book: Workbook,
        sheet_rows: u32,
        table: Option<&'static Table>,
        /// Sheets of the current table so far, and rows on the current sheet.
        sheets: u32,
        rows: u32,
    }
    impl ToXlsx {
        /// Starts the current table's next sheet with its header.
        fn sheet(&mut self) -> Result<(), ExportError> {
            let Some(table) = self.table else {
                return Ok(());
            };
            self.sheets += 1;
            self.rows = 0;
            let name = if self.sheets == 1 {
                table.name.to_string()
            } else {
                format!("{}.{}", table.name, self.sheets)
            };
            // Constant memory: each row goes to a temporary file once the next one starts,
            // so a county's year of records does not sit in memory (the whole workbook did:
            // 1.25 GB for 315,000 rows).
            let sheet = self.book.add_worksheet_with_constant_memory()?;
            sheet.set_name(&name)?;
            let headers = ["doc_id", "server_received_ts", "village_code"]
                .into_iter()
                .chain(table.columns.iter().map(|(n, _)| *n));
            for (c, h) in headers.enumerate() {
                sheet.write_string(0, c as u16, h)?;
            }
            Ok(())
        }
    }
    impl Sink for ToXlsx {
        fn begin(&mut self, table: &'static Table, _main: bool) -> Result<(), ExportError> {
            self.table = Some(table);
            self.sheets = 0;
            self.sheet()
        }
        fn row(&mut self, row: &[Value]) -> Result<(), ExportError> {
            if self.rows == self.sheet_rows {
                self.sheet()?;
            }
            self.rows += 1;
            let r = self.rows;
            let sheet = self.book.worksheets_mut().last_mut().ok_or_else(|| {
                ExportError::Store(StoreError::Corrupt("no sheet to write to".into()))
            })?;
            for (c, v) in row.iter().enumerate() {
                let c = c as u16;
                match v {
                    Value::Integer(i) => {
                        sheet.write_number(r, c, *i as f64)?;
                    }
                    Value::Real(f) => {
                        sheet.write_number(r, c, *f)?;
                    }
                    Value::Text(s) => {
                        sheet.write_string(r, c, s)?;
                    }
                    Value::Null | Value::Blob(_) => {}
                }
            }
            Ok(())
        }
        fn end(&mut self) -> Result<(), ExportError> {
            self.table = None;
            Ok(())
        }
    }
    let mut book = Workbook::new();
    // Level 3, as Excel itself writes: about 30% less time than the default 6 for a file
    // about 5% larger (rust_xlsxwriter's performance notes).
    book.set_zip_compression_level(3);
    let mut sink = ToXlsx {
        book,
        sheet_rows,
        table: None,
        sheets: 0,
        rows: 0,
    };
    let report = stream_scope(db, scope, period, &mut sink)?;
    sink.book.save(out)?;
    Ok(report)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    /// A sink that fails when the `n`th table begins.
    struct FailingSink {
        tables: usize,
        n: usize,
    }

    impl Sink for FailingSink {
        fn begin(&mut self, _: &'static Table, _: bool) -> Result<(), ExportError> {
            self.tables += 1;
            if self.tables == self.n {
                return Err(ExportError::Extension("the sink's own error".into()));
            }
            Ok(())
        }
        fn row(&mut self, _: &[Value]) -> Result<(), ExportError> {
            Ok(())
        }
        fn end(&mut self) -> Result<(), ExportError> {
            Ok(())
        }
    }

    /// A writer that fails stops the reader (no hang on a full channel) and its own error is
    /// the one returned; a whole run visits every table.
    #[test]
    fn a_failed_writer_stops_the_reader_and_its_error_is_returned() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("server.sqlite3").to_str().unwrap()).unwrap();
        let scope: ReportScope = "county:530322".parse().unwrap();
        let mut whole = FailingSink { tables: 0, n: 0 };
        let report = stream_scope(&db, &scope, None, &mut whole).unwrap();
        assert_eq!(whole.tables, all_tables().len());
        assert_eq!(report.tables.len(), all_tables().len());
        for n in [1, 2, all_tables().len()] {
            let mut sink = FailingSink { tables: 0, n };
            match stream_scope(&db, &scope, None, &mut sink) {
                Err(ExportError::Extension(e)) => assert_eq!(e, "the sink's own error"),
                other => panic!("table {n}: {other:?}"),
            }
            assert_eq!(sink.tables, n);
        }
    }
}

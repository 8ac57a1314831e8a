//! A county loads its own registers (issue 15): units and cadres, village work teams, the
//! 建档立卡 households with their members and yearly incomes, pairing assignments, the policy
//! catalog and entitlements (DOMAIN §2.1, §2.2, §2.5), from the spreadsheets it already keeps,
//! and keeps them in step by importing them again.
//!
//! ## Files and sheets
//! An import takes one or more files: `.xlsx` workbooks (read with calamine) and `.csv` files
//! (UTF-8 with or without a BOM, or GB18030 as Excel in China saves them; [`read`]). Each sheet
//! is one [`SheetKind`], known by its name (`户`, `家庭成员`, `年度收支`, `派出单位`, `干部`,
//! `驻村工作队`, `结对帮扶`, `政策目录`, `应享政策`, or the English codes), or, for a CSV and a
//! sheet with another name, by its headers (the kind whose key columns are all there). A
//! county's whole register can be one workbook with a sheet per kind, or one file per kind.
//!
//! The first row holds the column headers: the Chinese names of [`sheets`] (a trailing `*`,
//! which the templates put on required columns, and the difference between full-width and
//! half-width brackets are ignored), or the English field names. Columns the importer does not
//! know are ignored and listed in the report; a required column that is missing is a problem
//! of the sheet. Code lists take the Chinese label or the code (`低保贫困户` or `dibao`); dates
//! are Excel dates or text (`2015-08-25`, `2015/8/25`, `2015年8月25日`, `20150825`); yes/no
//! columns take `是/否`, `1/0`, `true/false`. The households' three sheets are linked by the
//! household number (户编号), which is the household's record id; a member's ID number (证件号码)
//! and the household's bank account go to the household's numbers record
//! (`household_private`), never into the household.
//!
//! ## Checked before anything is written
//! [`plan`] reads every row and finds every problem before anything is written, each named by
//! file, sheet, row (as the spreadsheet numbers it: the header is row 1), column and value,
//! with a stable code and a message in Chinese and English ([`Problem`]):
//! - each cell: required, a code of its list, a date, a number, 是/否, an ID number that passes
//!   GB 11643 (or a 20-character disability certificate number), an ID number that Excel stored
//!   as a number (its last digits are lost);
//! - each row: a key given twice in the files, a reference to a village, household, member,
//!   cadre, unit or policy item that neither the files nor the server know, a village outside
//!   the importing account's division;
//! - R10: one active 户主 per household, whose member number is the household's 户主成员编号;
//!   an ID number registered once city-wide (in the files and against the server's other
//!   households); one active primary 帮扶责任人 per household and period (the file's rows and
//!   the server's assignments the file does not replace);
//! - each record as a whole: its kind's validation (the same the phone and the server run).
//!
//! Then the records are merged in one transaction exactly as a phone's push is ([`apply`]):
//! the access table, the check rules and validation of [`crate::merge`] judge every change,
//! and a refusal there is a problem of the row the record came from. A file with any problem
//! writes nothing: the transaction is rolled back.
//!
//! ## Dry run, then commit
//! A dry run does all of the above and rolls the transaction back; its [`Report`] says, per
//! kind, what would be new, changed (with the fields), unchanged and refused, with counts and
//! the first rows of each, and which stored records the files no longer list (`missing`:
//! households of the files' villages, members and incomes of the files' households, their
//! assignments and entitlements, a team's members). A commit does the same and keeps it.
//!
//! Re-importing compares each row with the stored record: only the fields the file's columns
//! carry are compared and written, so a field the file does not have (a household's home
//! coordinates a team surveyed at its first visit, a member the file leaves out) stays as it
//! is. An empty cell of a present column clears an optional field, except the home
//! coordinates, which an import only sets. A changed record is one edit whose reason is
//! `导入更新：<file name>` (a new one `导入：<file name>`), visible in its history; the same file
//! twice changes nothing; a record the file no longer lists is reported, never deleted.
//!
//! ## Who writes
//! The records are authored by the importing account: the county poverty office inside its
//! county (HTTP), or the administrator (the CLI `import`). Each import registers a device of
//! its own for the account (`import-<uuid>`: a fresh Automerge actor and Ed25519 key, made in
//! memory for this import and never stored), signs each change with it as a phone signs its
//! changes, and hands the signed batch to [`crate::merge::check_batch`] and
//! [`crate::merge::ingest`]: the change log keeps each change's device signature, `verify-log`
//! checks it against the device's public key, and the account's device list shows the import.
//! A dry run's device is rolled back with everything else. What an account may import follows
//! the access table: the county office imports households and their numbers, assignments and
//! entitlements; units, cadres, the policy catalog and teams are the administrator's (the
//! county organisation department's teams are imported by the administrator too).
//!
//! ## Not here
//! Accounts and passwords for imported cadres (`import-accounts`); villages (`import-villages`,
//! [`crate::records`]); deliveries, visits and the other event records, which the phones
//! record; deleting records. Templates are in [`template`].

pub mod accounts;
pub mod apply;
pub mod export;
pub mod plan;
pub mod read;
pub mod sheets;
pub mod template;

use std::collections::BTreeMap;

use serde::Serialize;

pub use read::{InputFile, Table};
pub use sheets::SheetKind;

use crate::store::{Db, StoreError, Tx};

/// One problem of an import: where it is and what is wrong, Chinese first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Problem {
    /// The file's name as given.
    pub file: String,
    /// The sheet (a CSV file's kind name).
    pub sheet: String,
    /// The row as the spreadsheet numbers it (the header is row 1); 0 for the whole sheet or
    /// file.
    pub row: usize,
    /// The column's header, when the problem is in one column.
    pub column: Option<String>,
    /// The cell's value as read.
    pub value: Option<String>,
    /// A stable code (`required`, `unknown_code`, `bad_id_number`, `id_number_taken`, ...).
    pub code: String,
    pub message: String,
    pub message_en: String,
}

/// A record of a report's lists: its key (户编号, 干部编号, ...) and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RowRef {
    pub key: String,
    pub sheet: String,
    pub row: usize,
    /// For a changed record: the fields that change (`name`, `members.m3.health`, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// What an import does to the records of one kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct KindReport {
    /// The record kind's code (`household`, `cadre`, ...).
    pub kind: String,
    /// Its Chinese name.
    pub label: String,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Records with at least one problem.
    pub refused: usize,
    /// Stored records the files no longer list (kept).
    pub missing: usize,
    /// The first few of each (at most [`FIRST_ROWS`]).
    pub first_new: Vec<RowRef>,
    pub first_changed: Vec<RowRef>,
    pub first_refused: Vec<RowRef>,
    /// Keys of the first missing records (`户编号`, `户编号/成员编号`, ...).
    pub first_missing: Vec<String>,
}

/// The longest file name an upload may give (`POST /v1/import`).
pub const FILE_NAME_MAX: usize = 200;

/// How many rows of each list a report shows.
pub const FIRST_ROWS: usize = 20;

/// What an import found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// The files read, by name.
    pub files: Vec<String>,
    /// True when the changes were kept (a commit without problems).
    pub committed: bool,
    /// Every problem; an import with any writes nothing.
    pub problems: Vec<Problem>,
    /// By record kind, in the order they are written.
    pub kinds: Vec<KindReport>,
    /// Columns the importer does not know, by `file/sheet`: read past, not imported.
    pub ignored_columns: BTreeMap<String, Vec<String>>,
    /// Changes written (a commit) or that would be (a dry run).
    pub changes: usize,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The report of one kind, by its code.
    pub fn kind(&self, code: &str) -> Option<&KindReport> {
        self.kinds.iter().find(|k| k.kind == code)
    }
}

/// Why an import could not run at all (its files' problems are in the [`Report`]).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("no account `{0}`")]
    UnknownAccount(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks `files` as `login` and, with `commit`, writes them (see the module docs). Dry run or
/// commit, a file with any problem writes nothing; the report lists the problems.
pub fn import(
    db: &Db,
    login: &str,
    files: &[InputFile],
    commit: bool,
) -> Result<Report, ImportError> {
    let read = Read::files(files);
    let outcome = db.write(|tx| match read.run(tx, login, commit)? {
        Ran::Keep(r) => Ok(r),
        // Nothing of a dry run or of a file with problems is kept.
        Ran::Discard(r) => Err(Rollback::Done(Box::new(r))),
    });
    match outcome {
        Ok(r) => Ok(r),
        Err(Rollback::Done(r)) => Ok(*r),
        Err(Rollback::Failed(e)) => Err(e),
    }
}

/// Files read, before any transaction: their sheets, and the problems of files that could
/// not be read (they are in the report, and the import writes nothing).
#[derive(Debug)]
pub struct Read {
    tables: Vec<read::Table>,
    report: Report,
}

/// What [`Read::run`] did, and whether its transaction is to be kept.
#[derive(Debug)]
pub enum Ran {
    /// A commit without problems: keep the transaction.
    Keep(Report),
    /// A dry run, or files with problems: roll the transaction back.
    Discard(Report),
}

impl Read {
    /// Reads `files` (no database involved).
    pub fn files(files: &[InputFile]) -> Read {
        let mut report = Report {
            files: files.iter().map(|f| f.name.clone()).collect(),
            ..Report::default()
        };
        let started = std::time::Instant::now();
        let mut tables = Vec::new();
        for f in files {
            match read::read(f) {
                Ok(t) => tables.extend(t),
                Err(p) => report.problems.push(*p),
            }
        }
        tracing::info!(
            files = files.len(),
            seconds = started.elapsed().as_secs_f64(),
            "import files read"
        );
        Read { tables, report }
    }

    /// Plans and applies the files in `tx` as `login`. The caller keeps or rolls back the
    /// transaction as the answer says ([`import`], or the HTTP handler on the server's writer
    /// thread).
    pub fn run(self, tx: &mut dyn Tx, login: &str, commit: bool) -> Result<Ran, ImportError> {
        let Read { tables, mut report } = self;
        let account = tx
            .account(login)?
            .ok_or_else(|| ImportError::UnknownAccount(login.to_string()))?;
        let started = std::time::Instant::now();
        let mut planned = plan::plan(tx, &account, &tables, &mut report)?;
        tracing::info!(
            records = planned.records.len(),
            seconds = started.elapsed().as_secs_f64(),
            "import planned"
        );
        if report.ok() {
            apply::apply(tx, &account, &mut planned, &mut report)?;
        }
        plan::summarise(&planned, &mut report);
        if report.ok() && commit {
            report.committed = true;
            Ok(Ran::Keep(report))
        } else {
            Ok(Ran::Discard(report))
        }
    }
}

/// How [`import`] leaves its transaction: rolled back on purpose, with the report, or failed.
enum Rollback {
    Done(Box<Report>),
    Failed(ImportError),
}

impl From<StoreError> for Rollback {
    fn from(e: StoreError) -> Rollback {
        Rollback::Failed(ImportError::Store(e))
    }
}

impl From<ImportError> for Rollback {
    fn from(e: ImportError) -> Rollback {
        Rollback::Failed(e)
    }
}

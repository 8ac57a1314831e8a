//! Data migrations that rebuild stored records: a record whose history holds what its readers
//! may no longer receive gets a new history, under the same id.
//!
//! ## Households from before the numbers split
//! Households stored before ID and bank numbers moved to a record of their own
//! ([`cunji_core::domain::household_private`]) still hold them in their history: every change
//! carries the values it set, so a team member pulling the village would receive the numbers
//! of households not assigned to it, and phones that pulled them keep them. Deleting the field
//! is not enough (the history keeps the old value); only a new history is.
//!
//! [`split_household_numbers`] runs once per database, when the server starts
//! (`cunji-sync-server serve`, before it listens; the `split-household-numbers` command runs it
//! again, [`rebuild_households_with_numbers`]), and for each household whose history ever set `bank_account` or a member's `id_no`, in one
//! transaction:
//! 1. moves the numbers of its merged state into its `household_private` record (created, or
//!    completed where one exists: the record's own numbers win). A number that does not
//!    validate (a wrong check digit) is left out and named in the report;
//! 2. replaces the household's history with one change made on the server's identity from
//!    its merged state without the numbers: the same id, envelope and place, so visits,
//!    entitlements, assignments and cases still find it. The old history is kept, never
//!    served, in `rebuilt_documents` (the 痕迹 of who changed what stays with the server);
//!    its changes leave the log.
//!
//! Phones: a phone that held the old history receives the new one's first change, a second
//! first change for a record it holds. It then drops the old history and carries its own
//! unsent edits of the record onto the new one ([`cunji_core::store`], "rebuilt records"). The
//! server refuses a change that does not continue the new history (`record_rebuilt`), so no
//! old change brings the numbers back, and refuses a household whose data holds them
//! (`numbers_in_household`, `crate::checks`), so no phone of an older version does either.
//!
//! Costs: every household is read once, when the migration first runs (227,500 at city
//! scale). One thread reads and does the Automerge work (load, look through the history,
//! make the new one and its projection rows), another writes, a page of 200 households per
//! transaction; each household's document is read once, and the projection comes from the
//! record rather than from reading the new document back. On the generated city at scale 0.1
//! (23,171 households) that took the migration from 116 s to 39 s (BENCHMARKS.md, "The
//! numbers migration"). The old history's changes leave the log by their hashes (its
//! unique index): the log has no index by record, and a scan per household read the whole
//! log each time; conflicts of the old history settle on the value each field showed; a pairing of
//! a phone's unsent edit with the new history is field by field (a list is one field).

use cunji_core::doc::{ChangeMeta, Edit, RecordDoc};
use cunji_core::domain::access::owner_of;
use cunji_core::domain::{Household, HouseholdPrivate, Kind, Record};

use crate::records::{self, Provenance};
use crate::store::{ChangeRow, Db, DocRow, StoreError, StoreResult, Tx};

/// The name [`split_household_numbers`] is recorded under in `data_migrations`.
pub const SPLIT_HOUSEHOLD_NUMBERS: &str = "split_household_numbers";

/// Why the households were rebuilt: the reason of each new history's change.
const REASON: &str = "服务器迁移:身份证号和银行账号移到户的证件号码记录 \
                      (server migration: ID and bank numbers moved to the household's numbers record)";

/// Households read per write transaction.
const BATCH: usize = 200;

/// What a migration did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RebuildReport {
    /// The migration had run before; nothing was read.
    pub already_done: bool,
    pub households_read: usize,
    pub households_rebuilt: usize,
    /// Numbers records created, and existing ones completed.
    pub numbers_created: usize,
    pub numbers_completed: usize,
    /// Numbers left out because they do not validate: (household id, field, message). They
    /// stay in the household's old history, kept on the server.
    pub numbers_left_out: Vec<(String, String, String)>,
}

/// Rebuilds every household whose history holds ID or bank numbers (see the module docs),
/// once per database.
pub fn split_household_numbers(db: &Db) -> StoreResult<RebuildReport> {
    if db.read(|tx| tx.data_migration_done(SPLIT_HOUSEHOLD_NUMBERS))? {
        return Ok(RebuildReport {
            already_done: true,
            ..RebuildReport::default()
        });
    }
    rebuild_households_with_numbers(db)
}

/// The migration itself, whether or not it ran before (the `split-household-numbers`
/// command): households whose history no longer holds numbers are read and left alone.
///
/// Two threads: one reads the households, a page at a time, and does the Automerge work of
/// each (loading the history, looking for numbers in it, making the new history and its
/// projection rows: most of the cost); this one writes each page in one transaction (the
/// log, the document, the projection, the numbers record). A page is written before the next
/// one's ids are read past it, so nothing is read twice; at most two prepared pages wait.
pub fn rebuild_households_with_numbers(db: &Db) -> StoreResult<RebuildReport> {
    let actor = db.write(|tx| records::identity(tx))?;
    let now = chrono::Utc::now();
    let mut report = RebuildReport::default();
    let started = std::time::Instant::now();
    let mut logged = std::time::Instant::now();
    let (pages, prepared) = std::sync::mpsc::sync_channel::<StoreResult<Page>>(2);
    std::thread::scope(|scope| {
        scope.spawn(|| read_and_prepare(db, &actor, now, pages));
        // The writer owns the receiving end: returning on an error drops it, and the reader,
        // finding no one to send to, stops.
        for page in prepared {
            let page = page?;
            db.write(|tx| {
                for household in page.rebuilt {
                    store_rebuilt(tx, household, now, &mut report)?;
                }
                Ok::<_, StoreError>(())
            })?;
            report.households_read += page.read;
            // Long on a large database (BENCHMARKS.md, "The numbers migration"): the
            // operator sees it move, about twice a minute.
            if logged.elapsed().as_secs() >= 30 {
                logged = std::time::Instant::now();
                tracing::info!(
                    read = report.households_read,
                    rebuilt = report.households_rebuilt,
                    seconds = started.elapsed().as_secs(),
                    "moving ID and bank numbers out of households"
                );
            }
        }
        Ok::<_, StoreError>(())
    })?;
    db.write(|tx| {
        tx.mark_data_migration_done(SPLIT_HOUSEHOLD_NUMBERS, &chrono::Utc::now().to_rfc3339())
    })?;
    Ok(report)
}

/// A page of households read, and those of them to rebuild.
struct Page {
    read: usize,
    rebuilt: Vec<Rebuilt>,
}

/// A household's new history and what goes with it, made off the write transaction.
struct Rebuilt {
    row: DocRow,
    /// The old history (snapshot and chunks) and its changes' hashes.
    old_history: Vec<u8>,
    old_hashes: Vec<Vec<u8>>,
    /// The new history's one change.
    change: automerge::Change,
    rows: cunji_core::projection::Rows,
    /// The household's author, who the numbers record is written for.
    author: String,
    numbers: Option<HouseholdPrivate>,
}

/// The reader's side of [`rebuild_households_with_numbers`]: sends each page until the last.
fn read_and_prepare(
    db: &Db,
    actor: &automerge::ActorId,
    now: chrono::DateTime<chrono::Utc>,
    pages: std::sync::mpsc::SyncSender<StoreResult<Page>>,
) {
    let mut after = String::new();
    loop {
        let page = db.read(|tx| {
            let ids = tx.doc_ids_of_kind(Kind::Household, &after, BATCH)?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in &ids {
                rows.extend(tx.doc(id)?);
            }
            Ok::<_, StoreError>((ids, rows))
        });
        let page = page.and_then(|(ids, rows)| {
            let mut rebuilt = Vec::new();
            for row in rows {
                rebuilt.extend(prepare(row, actor, now)?);
            }
            Ok((ids, rebuilt))
        });
        let (ids, rebuilt) = match page {
            Ok(p) => p,
            Err(e) => {
                let _ = pages.send(Err(e));
                return;
            }
        };
        let Some(last) = ids.last() else { return };
        after = last.clone();
        let page = Page {
            read: ids.len(),
            rebuilt,
        };
        if pages.send(Ok(page)).is_err() {
            return;
        }
    }
}

/// The new history of a household whose history set numbers; `None` for one whose did not.
fn prepare(
    row: DocRow,
    actor: &automerge::ActorId,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<Option<Rebuilt>> {
    let id = row.id.clone();
    let mut doc = row.load()?;
    if !doc.history_sets(&HouseholdPrivate::PRE_SPLIT_KEYS) {
        return Ok(None);
    }
    let corrupt = |e: String| StoreError::Corrupt(format!("household {id}: {e}"));
    let env = doc.envelope().map_err(|e| corrupt(e.to_string()))?;
    if env.kind != Kind::Household {
        return Err(corrupt(format!(
            "a {} stored as a household",
            env.kind.code()
        )));
    }
    // Read once (the document's reads are most of the cost); the typed record has no
    // numbers: reading it leaves them out.
    let data = doc.data_json().map_err(|e| corrupt(e.to_string()))?;
    let household: Household =
        serde_json::from_value(data.clone()).map_err(|e| corrupt(format!("bad record: {e}")))?;
    let edit = Edit {
        meta: ChangeMeta {
            reason: REASON.into(),
            cadre_id: env.author_id.clone(),
            device_id: "server".into(),
        },
        time_ms: now.timestamp_millis(),
    };
    let (_, change) = RecordDoc::create(actor.clone(), &env, &household, &edit)
        .map_err(|e| corrupt(e.to_string()))?;
    // The new history's projection, from the record it was made of: the same JSON a read of
    // it gives back.
    let mut rows = cunji_core::projection::Rows::default();
    let record = serde_json::to_value(&household).map_err(|e| corrupt(e.to_string()))?;
    if let Err(problem) = cunji_core::domain::project_json(&env, record, &mut rows) {
        tracing::info!(doc_id = %id, problem = ?problem.to_string(), "merged record breaks a rule");
    }
    let mut old_history = row.snapshot.clone();
    for chunk in &row.chunks {
        old_history.extend_from_slice(chunk);
    }
    Ok(Some(Rebuilt {
        old_hashes: doc.change_hashes(),
        numbers: HouseholdPrivate::from_pre_split(&id, &data),
        author: env.author_id,
        row,
        old_history,
        change,
        rows,
    }))
}

/// Stores a household's new history in place of its old one, and its numbers in its numbers
/// record.
fn store_rebuilt(
    tx: &mut dyn Tx,
    household: Rebuilt,
    now: chrono::DateTime<chrono::Utc>,
    report: &mut RebuildReport,
) -> StoreResult<()> {
    let Rebuilt {
        row,
        old_history,
        old_hashes,
        change,
        rows,
        author,
        numbers,
    } = household;
    let id = row.id.as_str();
    tx.drop_history(id, &old_history, &old_hashes, REASON, &now.to_rfc3339())?;
    let bytes = change.raw_bytes().to_vec();
    tx.insert_doc(&DocRow {
        snapshot: bytes.clone(),
        chunks: Vec::new(),
        ..row.clone()
    })?;
    tx.insert_change(&ChangeRow {
        hash: change.hash().0.to_vec(),
        doc_id: id.to_string(),
        village_code: row.village_code.clone(),
        household_id: row.household_id.clone(),
        bytes,
        device_id: "server".into(),
        received_ts: now.to_rfc3339(),
        device_clock_offset_ms: Some(0),
        owner: owner_of(Kind::Household, id, &row.author_id).map(str::to_string),
        // Made by the server: the store attests it.
        proof: None,
    })?;
    tx.replace_projection(Kind::Household, id, rows)?;
    report.households_rebuilt += 1;
    if let Some(numbers) = numbers {
        move_numbers(tx, &author, numbers, now, report)?;
    }
    Ok(())
}

/// Stores numbers taken out of a household in its numbers record.
fn move_numbers(
    tx: &mut dyn Tx,
    author: &str,
    numbers: HouseholdPrivate,
    now: chrono::DateTime<chrono::Utc>,
    report: &mut RebuildReport,
) -> StoreResult<()> {
    let household_id = numbers.household_id.clone();
    let existing = tx.find_projected("p_household_private", "household_id", &household_id)?;
    let (target, base) = match existing.first() {
        Some(existing_id) => {
            let row = tx.doc(existing_id)?.ok_or_else(|| {
                StoreError::Corrupt(format!("record {existing_id} is projected but not stored"))
            })?;
            let held: HouseholdPrivate = row
                .load()?
                .read()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            (Some(existing_id.clone()), held)
        }
        None => (
            None,
            HouseholdPrivate {
                household_id: household_id.clone(),
                bank_account: None,
                id_numbers: Default::default(),
            },
        ),
    };
    let mut merged = base.clone();
    if merged.bank_account.is_none()
        && let Some(bank) = numbers.bank_account
    {
        merged.bank_account = Some(bank);
        if let Err(e) = merged.validate() {
            merged.bank_account = None;
            report.numbers_left_out.push((
                household_id.clone(),
                "bank_account".into(),
                e.to_string(),
            ));
        }
    }
    for (member, n) in numbers.id_numbers {
        if merged.id_numbers.contains_key(&member) {
            continue;
        }
        merged.id_numbers.insert(member.clone(), n);
        if let Err(e) = merged.validate() {
            merged.id_numbers.remove(&member);
            report.numbers_left_out.push((
                household_id.clone(),
                format!("id_numbers.{member}"),
                e.to_string(),
            ));
        }
    }
    if merged == base {
        return Ok(());
    }
    let stored = match target {
        Some(id) => records::update(tx, author, REASON, &id, &merged).map(|_| ()),
        None => {
            let p = Provenance {
                login: author.to_string(),
                device_id: "server".into(),
                reason: REASON.into(),
                created: now.fixed_offset(),
                received: now,
                id: None,
            };
            records::create_with(tx, &p, &merged).map(|_| ())
        }
    };
    stored.map_err(|e| StoreError::Corrupt(format!("numbers of household {household_id}: {e}")))?;
    if existing.is_empty() {
        report.numbers_created += 1;
    } else {
        report.numbers_completed += 1;
    }
    Ok(())
}

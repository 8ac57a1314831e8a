//! Reference data the administrator brings in: villages, village work teams and pairing
//! assignments (DOMAIN §2.1), from CSV files a county office keeps in a spreadsheet.
//! A county's whole register (households, members, incomes, cadres, units, teams,
//! assignments, the catalog and entitlements, from .xlsx or .csv, checked row by row and
//! merged as the importing account's push) is [`crate::import`]'s; villages come from here.
//!
//! Each row becomes a record document authored by the administrator on the server's own
//! identity (an actor and key made once per database), stored, logged and projected exactly
//! like a pushed record, so devices pull it like any other. Importing a file again skips the
//! rows whose record already exists (a village by code, a team by village, an assignment by
//! household, cadre and start date), so a corrected file can be re-imported. An assignment
//! row that matches an existing one but gives another end date or primary flag is written as
//! an edit of it: that is how a household moves from a replaced cadre to the next (end the
//! old row with `to`, add the new cadre's row), with the history kept.
//!
//! CSV columns (a header row first):
//! - villages: `code,township_code,name,is_poor_village,lat,lon,radius_m,hamlets` (hamlets
//!   separated by `;`, radius empty for the default 1,500 m);
//! - teams: `village_code,cadre_id,role,from,to` with role `leader` or `member`, one row per
//!   member, dates `YYYY-MM-DD`, `to` empty while serving;
//! - assignments: `household_id,cadre_id,from,to,is_primary`. R10 holds for the file as a
//!   whole: once every row is written, no household may have two primary cadres over one
//!   period (the row is named), so a handover's rows may come in any order.

use cunji_core::domain::access::owner_of;
use std::collections::BTreeMap;

use cunji_core::doc::{ChangeMeta, Edit, RecordDoc};
use cunji_core::domain::org::Geofence;
use cunji_core::domain::{Assignment, Envelope, Record, RecordState, Team, TeamMember, Village};
use cunji_core::sync::protocol::PushOutcome;
use cunji_core::values::{Date, Geo};

use crate::merge::{project, resolve};
use crate::store::{ChangeRow, DocRow, StoreError, Tx};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    /// Existing records whose row changed what may change (an assignment's end date or
    /// primary flag), written as an edit.
    pub updated: usize,
    pub skipped: usize,
}

/// Why an import stopped; nothing of the file is stored then.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line {line}: {message}")]
    Row { line: usize, message: String },
    #[error("reading the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn row_error(line: usize, message: impl Into<String>) -> ImportError {
    ImportError::Row {
        line,
        message: message.into(),
    }
}

/// The server's identity for the records it authors, made on first use.
pub(crate) fn identity(tx: &mut dyn Tx) -> Result<automerge::ActorId, StoreError> {
    if let Some((actor, _)) = tx.server_identity()? {
        return Ok(automerge::ActorId::from(actor.as_slice()));
    }
    let actor = cunji_core::doc::new_actor();
    tx.put_server_identity(actor.to_bytes(), &rand::random::<[u8; 32]>())?;
    Ok(actor)
}

/// Stores a new record authored by `login` on the server's identity; returns its id.
pub fn create<T: Record>(
    tx: &mut dyn Tx,
    login: &str,
    reason: &str,
    record: &T,
) -> Result<String, String> {
    create_with(tx, &Provenance::now(login, reason), record)
}

/// Who a server-stored record names as author and device, when, and under which id.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub login: String,
    /// The envelope's device id (`server` for records the administrator imports).
    pub device_id: String,
    pub reason: String,
    /// The envelope's `created_device_ts`.
    pub created: chrono::DateTime<chrono::FixedOffset>,
    /// The server's receipt time (`server_received_ts`).
    pub received: chrono::DateTime<chrono::Utc>,
    /// The record id; a new UUID v7 when `None` (a Cadre's or Unit's id is its document id).
    pub id: Option<String>,
}

impl Provenance {
    /// Authored by `login` on the server, now.
    pub fn now(login: &str, reason: &str) -> Provenance {
        let now = chrono::Utc::now();
        Provenance {
            login: login.into(),
            device_id: "server".into(),
            reason: reason.into(),
            created: now.fixed_offset(),
            received: now,
            id: None,
        }
    }
}

/// Stores a new record with the given provenance on the server's identity (imports, data
/// generators, test fixtures); checked, logged and projected like a pushed record, but not
/// authorised: the caller is the administrator.
pub fn create_with<T: Record>(
    tx: &mut dyn Tx,
    p: &Provenance,
    record: &T,
) -> Result<String, String> {
    record.validate().map_err(|e| e.to_string())?;
    let (login, reason) = (p.login.as_str(), p.reason.as_str());
    let env = Envelope {
        id: p
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
        kind: T::KIND,
        author_id: login.into(),
        device_id: p.device_id.clone(),
        created_device_ts: p.created,
        device_uptime_ms: 0,
        geo: None,
        server_received_ts: Some(p.received.fixed_offset()),
        state: RecordState::Submitted,
    };
    let actor = identity(tx).map_err(|e| e.to_string())?;
    let edit = Edit {
        meta: ChangeMeta {
            reason: reason.into(),
            cadre_id: login.into(),
            device_id: p.device_id.clone(),
        },
        time_ms: p.created.timestamp_millis(),
    };
    let (mut doc, change) =
        RecordDoc::create(actor, &env, record, &edit).map_err(|e| e.to_string())?;
    let (village, household) = match resolve(tx, &record.scope(), record.record_date(), None)
        .map_err(|e| e.to_string())?
    {
        Ok(place) => place,
        Err(PushOutcome::Rejected { message, .. }) => return Err(message),
        Err(other) => return Err(format!("{other:?}")),
    };
    let received = p.received.to_rfc3339();
    let bytes = change.raw_bytes().to_vec();
    tx.insert_doc(&DocRow {
        id: env.id.clone(),
        kind: T::KIND,
        village_code: village.clone(),
        household_id: household.clone(),
        author_id: login.into(),
        received_ts: received.clone(),
        snapshot: bytes.clone(),
        chunks: Vec::new(),
    })
    .map_err(|e| e.to_string())?;
    tx.insert_change(&ChangeRow {
        hash: change.hash().0.to_vec(),
        doc_id: env.id.clone(),
        village_code: village,
        household_id: household,
        bytes,
        device_id: "server".into(),
        received_ts: received,
        // Made on the server's own clock.
        device_clock_offset_ms: Some(0),
        owner: owner_of(T::KIND, &env.id, login).map(str::to_string),
        // Made by the server: the store attests it.
        proof: None,
    })
    .map_err(|e| e.to_string())?;
    let (kind, rows) = project(&mut doc).map_err(|e| e.to_string())?;
    tx.replace_projection(kind, &env.id, rows)
        .map_err(|e| e.to_string())?;
    Ok(env.id)
}

/// A stored record, read on the server.
fn read_record<T: Record>(tx: &mut dyn Tx, id: &str) -> Result<T, String> {
    let row = tx
        .doc(id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("record {id} is not stored"))?;
    let actor = identity(tx).map_err(|e| e.to_string())?;
    let doc =
        RecordDoc::load(id, Some(&row.snapshot), &row.chunks, actor).map_err(|e| e.to_string())?;
    doc.read::<T>().map_err(|e| e.to_string())
}

/// Edits a stored record as `login` on the server's identity: the changed fields as one
/// change, logged and projected like a pushed one. Returns false when nothing differed.
pub fn update<T: Record>(
    tx: &mut dyn Tx,
    login: &str,
    reason: &str,
    id: &str,
    record: &T,
) -> Result<bool, String> {
    record.validate().map_err(|e| e.to_string())?;
    let row = tx
        .doc(id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("record {id} is not stored"))?;
    let actor = identity(tx).map_err(|e| e.to_string())?;
    let mut doc =
        RecordDoc::load(id, Some(&row.snapshot), &row.chunks, actor).map_err(|e| e.to_string())?;
    let env = doc.envelope().map_err(|e| e.to_string())?;
    let now = chrono::Utc::now();
    let edit = Edit {
        meta: ChangeMeta {
            reason: reason.into(),
            cadre_id: login.into(),
            device_id: "server".into(),
        },
        time_ms: now.timestamp_millis(),
    };
    let Some(change) = doc.update(&env, record, &edit).map_err(|e| e.to_string())? else {
        return Ok(false);
    };
    let bytes = change.raw_bytes().to_vec();
    tx.append_doc_chunk(id, &bytes).map_err(|e| e.to_string())?;
    tx.insert_change(&ChangeRow {
        hash: change.hash().0.to_vec(),
        doc_id: id.into(),
        village_code: row.village_code,
        household_id: row.household_id,
        bytes,
        device_id: "server".into(),
        received_ts: now.to_rfc3339(),
        device_clock_offset_ms: Some(0),
        owner: owner_of(row.kind, id, &row.author_id).map(str::to_string),
        proof: None,
    })
    .map_err(|e| e.to_string())?;
    let (kind, rows) = project(&mut doc).map_err(|e| e.to_string())?;
    tx.replace_projection(kind, id, rows)
        .map_err(|e| e.to_string())?;
    Ok(true)
}

fn date(line: usize, field: &str, s: &str) -> Result<Date, ImportError> {
    Date::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| row_error(line, format!("{field} `{s}` is not a date (YYYY-MM-DD)")))
}

fn opt_date(line: usize, field: &str, s: &str) -> Result<Option<Date>, ImportError> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        date(line, field, s).map(Some)
    }
}

fn number(line: usize, field: &str, s: &str) -> Result<f64, ImportError> {
    s.trim()
        .parse()
        .map_err(|_| row_error(line, format!("{field} `{s}` is not a number")))
}

fn flag(line: usize, field: &str, s: &str) -> Result<bool, ImportError> {
    match s.trim() {
        "1" | "true" | "是" | "yes" => Ok(true),
        "0" | "false" | "否" | "no" | "" => Ok(false),
        other => Err(row_error(
            line,
            format!("{field} `{other}` is not 是/否 (true/false)"),
        )),
    }
}

/// Rows of a CSV with a header, as (line number, fields).
fn rows(csv_text: &str, columns: usize) -> Result<Vec<(usize, Vec<String>)>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv_text.as_bytes());
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec?;
        let line = i + 2;
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let mut fields: Vec<String> = rec.iter().map(str::to_string).collect();
        if fields.len() > columns {
            return Err(row_error(
                line,
                format!("{} columns, expected {columns}", fields.len()),
            ));
        }
        fields.resize(columns, String::new());
        out.push((line, fields));
    }
    Ok(out)
}

pub fn import_villages(
    tx: &mut dyn Tx,
    login: &str,
    csv_text: &str,
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::default();
    for (line, f) in rows(csv_text, 8)? {
        if !tx.find_projected("p_village", "code", &f[0])?.is_empty() {
            report.skipped += 1;
            continue;
        }
        let centroid = Geo::at(number(line, "lat", &f[4])?, number(line, "lon", &f[5])?);
        let mut geofence = Geofence::circle(centroid);
        if !f[6].is_empty() {
            geofence.radius_m = number(line, "radius_m", &f[6])?;
        }
        let village = Village {
            code: f[0].clone(),
            township_code: f[1].clone(),
            name: f[2].clone(),
            is_poor_village: flag(line, "is_poor_village", &f[3])?,
            geofence,
            hamlets: f[7]
                .split(';')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::to_string)
                .collect(),
            water_scarce: false,
        };
        create(tx, login, "导入行政村", &village).map_err(|m| row_error(line, m))?;
        report.created += 1;
    }
    Ok(report)
}

/// A team read from its rows: leader, members, and the first row's line.
type TeamRows = (Option<String>, BTreeMap<String, TeamMember>, usize);

pub fn import_teams(
    tx: &mut dyn Tx,
    login: &str,
    csv_text: &str,
) -> Result<ImportReport, ImportError> {
    let mut teams: BTreeMap<String, TeamRows> = BTreeMap::new();
    for (line, f) in rows(csv_text, 5)? {
        let entry = teams
            .entry(f[0].clone())
            .or_insert((None, BTreeMap::new(), line));
        let member = TeamMember {
            from: date(line, "from", &f[3])?,
            to: opt_date(line, "to", &f[4])?,
        };
        match f[2].as_str() {
            "leader" | "第一书记" | "队长" => {
                if entry.0.replace(f[1].clone()).is_some() {
                    return Err(row_error(line, format!("village {} has two leaders", f[0])));
                }
            }
            "member" | "队员" => {}
            other => {
                return Err(row_error(
                    line,
                    format!("role `{other}` is not leader or member"),
                ));
            }
        }
        entry.1.insert(f[1].clone(), member);
    }
    let mut report = ImportReport::default();
    for (village_code, (leader, members, line)) in teams {
        if !tx
            .find_projected("p_team", "village_code", &village_code)?
            .is_empty()
        {
            report.skipped += 1;
            continue;
        }
        let leader_id = leader
            .ok_or_else(|| row_error(line, format!("village {village_code} has no leader")))?;
        let team = Team {
            village_code,
            leader_id,
            members,
        };
        create(tx, login, "导入驻村工作队", &team).map_err(|m| row_error(line, m))?;
        report.created += 1;
    }
    Ok(report)
}

pub fn import_assignments(
    tx: &mut dyn Tx,
    login: &str,
    csv_text: &str,
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::default();
    let mut written = Vec::new();
    for (line, f) in rows(csv_text, 5)? {
        let from = date(line, "from", &f[2])?;
        let existing = tx.find_projected("p_assignment", "household_id", &f[0])?;
        let assignment = Assignment {
            household_id: f[0].clone(),
            cadre_id: f[1].clone(),
            from,
            to: opt_date(line, "to", &f[3])?,
            is_primary: flag(line, "is_primary", &f[4])?,
        };
        let same_cadre = tx.find_projected("p_assignment", "cadre_id", &f[1])?;
        let same_from = tx.find_projected("p_assignment", "from_date", &from.to_string())?;
        let duplicate = existing
            .iter()
            .any(|id| same_cadre.contains(id) && same_from.contains(id));
        let same: Vec<&String> = existing
            .iter()
            .filter(|id| same_cadre.contains(id) && same_from.contains(id))
            .collect();
        if duplicate {
            let id = same[0].clone();
            let stored: Assignment = read_record(tx, &id).map_err(|m| row_error(line, m))?;
            if stored.to == assignment.to && stored.is_primary == assignment.is_primary {
                report.skipped += 1;
            } else {
                update(tx, login, "导入结对帮扶关系：变更", &id, &assignment)
                    .map_err(|m| row_error(line, m))?;
                report.updated += 1;
                written.push((line, id, assignment));
            }
            continue;
        }
        let id =
            create(tx, login, "导入结对帮扶关系", &assignment).map_err(|m| row_error(line, m))?;
        report.created += 1;
        written.push((line, id, assignment));
    }
    for (line, id, assignment) in &written {
        if crate::checks::primary_taken(tx, id, assignment)? {
            return Err(row_error(*line, crate::checks::PRIMARY_TAKEN));
        }
    }
    Ok(report)
}

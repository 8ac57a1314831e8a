//! One Automerge document per record.
//!
//! A record document's root holds two maps: `meta`, the [`Envelope`], and `data`, the record
//! itself. Records cross into Automerge through their serde JSON form: JSON objects become
//! Automerge maps, arrays lists, and strings, numbers and booleans scalars. A `null` (an
//! absent optional field) is never written; the key is deleted instead.
//!
//! ## Edits are field by field
//! [`RecordDoc::update`] compares the record as it is in the document with the new record and
//! writes only the leaves that differ, as one Automerge change whose message carries the reason,
//! the cadre and the device ([`ChangeMeta`]) and whose time is the edit's time. Writing only what
//! changed is what lets two cadres edit different fields of one household offline and both
//! survive the merge. It is also why this module does not reconcile whole structs (as
//! `autosurgeon` does): rewriting an unchanged field that is in conflict with the value it
//! already shows makes Automerge resolve the conflict silently, and DOMAIN §0 forbids dropping
//! a concurrent value without a person deciding.
//!
//! ## Conflicts
//! When two replicas set the same field to different values concurrently, Automerge keeps both.
//! [`RecordDoc::conflicts`] lists every such field with every value and who wrote it;
//! [`RecordDoc::resolve`] settles one with a chosen value and a reason, as a new change.
//!
//! ## Lists
//! A list that only grew at its end (photos, progress steps) gets the new items appended, so
//! concurrent appends all survive. Any other change to a list replaces it as a whole: a
//! concurrent replacement then shows up as a conflict rather than as an interleaving nobody
//! meant.
//!
//! Damaged stored bytes are refused before Automerge loads them when they declare more than a
//! record could hold ([`bounds`]).
//!
//! Not here: SQLite, signatures, projections. See [`crate::store`].

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, Change, ChangeHash, ObjId, ObjType, Prop, ROOT, ReadDoc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::domain::{Envelope, Record, from_json};
use crate::error::{Error, Result};

pub mod bounds;

/// Who made an edit and why: the message of every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChangeMeta {
    /// Why the record was created or corrected (痕迹管理).
    pub reason: String,
    pub cadre_id: String,
    pub device_id: String,
}

impl ChangeMeta {
    fn message(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the message of a change; changes from foreign tools show as an unknown author.
    pub fn from_message(message: Option<&str>) -> ChangeMeta {
        message
            .and_then(|m| serde_json::from_str(m).ok())
            .unwrap_or_else(|| ChangeMeta {
                reason: message.unwrap_or_default().to_string(),
                cadre_id: String::new(),
                device_id: String::new(),
            })
    }
}

/// One edit to apply: who, why and when (Unix milliseconds).
#[derive(Debug, Clone)]
pub struct Edit {
    pub meta: ChangeMeta,
    pub time_ms: i64,
}

/// A field that holds more than one value after a merge.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Conflict {
    /// Path from the document root, e.g. `["data", "phone"]`.
    pub path: Vec<String>,
    /// Every value, the one currently shown first.
    pub values: Vec<ConflictValue>,
}

/// One of the values of a conflicting field and the edit that wrote it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConflictValue {
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub value: Json,
    pub cadre_id: String,
    pub device_id: String,
    pub reason: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub time_ms: i64,
}

/// One field changed by one change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldChange {
    pub path: Vec<String>,
    /// `None` when the field did not exist before.
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub old: Option<Json>,
    /// `None` when the change deleted the field.
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub new: Option<Json>,
}

/// One change in a record's history: which fields, old and new values, who, when, why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HistoryEntry {
    pub hash: String,
    pub cadre_id: String,
    pub device_id: String,
    pub reason: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub time_ms: i64,
    pub fields: Vec<FieldChange>,
}

/// Parses a change from bytes a stranger may have made. automerge 0.12 panics on some
/// malformed changes instead of returning an error (an operation counter past `u32`, found by
/// fuzzing: `tests/fixtures/fuzz/push_change/panic-while-unwinding`); the panic is caught here
/// and becomes an error, so that no input can take a request handler down.
pub fn change_from_bytes(bytes: Vec<u8>) -> std::result::Result<Change, String> {
    match std::panic::catch_unwind(move || Change::from_bytes(bytes)) {
        Ok(Ok(change)) => Ok(change),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the change's operations are out of range".into()),
    }
}

/// A record's Automerge document.
#[derive(Debug, Clone)]
pub struct RecordDoc {
    id: String,
    doc: AutoCommit,
}

impl RecordDoc {
    /// Starts a document for a new record as one change.
    pub fn create<T: Record>(
        actor: ActorId,
        env: &Envelope,
        record: &T,
        edit: &Edit,
    ) -> Result<(Self, Change)> {
        let mut doc = AutoCommit::new().with_actor(actor);
        let meta = to_json(env)?;
        let data = to_json(record)?;
        let root = serde_json::json!({ "meta": meta, "data": data });
        if let automerge::hydrate::Value::Map(root) = json_to_hydrate(&root) {
            doc.init_root_from_hydrate(&root)?;
        }
        let mut rd = RecordDoc {
            id: env.id.clone(),
            doc,
        };
        let change = rd.commit(edit).ok_or_else(|| Error::CorruptDocument {
            id: env.id.clone(),
            detail: "a new record produced no change".into(),
        })?;
        Ok((rd, change))
    }

    /// Loads a document from its snapshot (if any) and its incremental chunks. Every byte must
    /// parse: a damaged chunk is an error, never a silently shorter history.
    pub fn load(
        id: &str,
        snapshot: Option<&[u8]>,
        chunks: &[Vec<u8>],
        actor: ActorId,
    ) -> Result<Self> {
        let mut bytes = snapshot.unwrap_or_default().to_vec();
        for chunk in chunks {
            bytes.extend_from_slice(chunk);
        }
        // Refuse what would make Automerge allocate without bound (see `bounds`).
        bounds::check(&bytes).map_err(|detail| Error::CorruptDocument {
            id: id.to_string(),
            detail,
        })?;
        let options = automerge::LoadOptions::new()
            .on_partial_load(automerge::OnPartialLoad::Error)
            .verification_mode(automerge::VerificationMode::Check);
        // automerge 0.12 panics on some damaged documents instead of returning an error
        // (found by fuzzing: tests/fixtures/fuzz/load_document/panic-in-load); a damaged
        // document is an error for its record, never a crash of the app or the server.
        let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            AutoCommit::load_with_options(&bytes, options)
        }))
        .map_err(|_| Error::CorruptDocument {
            id: id.to_string(),
            detail: "the document's bytes are damaged (automerge panicked reading them)".into(),
        })?;
        let doc = loaded.map_err(|e| Error::CorruptDocument {
            id: id.to_string(),
            detail: e.to_string(),
        })?;
        Ok(RecordDoc {
            id: id.to_string(),
            doc: doc.with_actor(actor),
        })
    }

    /// An empty document for a record first seen through a change from another replica.
    pub fn empty(id: &str, actor: ActorId) -> Self {
        RecordDoc {
            id: id.to_string(),
            doc: AutoCommit::new().with_actor(actor),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the document has its envelope yet (a change from another replica may arrive
    /// before the change that created the record).
    pub fn has_envelope(&self) -> bool {
        matches!(self.doc.get(ROOT, "meta"), Ok(Some(_)))
    }

    pub fn envelope(&self) -> Result<Envelope> {
        let meta = self
            .json_at(&["meta"])?
            .ok_or_else(|| self.corrupt("no envelope"))?;
        from_json(meta).map_err(|e| self.corrupt(&format!("bad envelope: {e}")))
    }

    /// The record as JSON (the value each conflicting field currently shows).
    pub fn data_json(&self) -> Result<Json> {
        self.json_at(&["data"])?
            .ok_or_else(|| self.corrupt("no record data"))
    }

    /// The whole document as JSON: `{"meta": …, "data": …}`.
    pub fn to_json(&self) -> Json {
        read_obj(&self.doc, &ROOT, None)
    }

    pub fn read<T: Record>(&self) -> Result<T> {
        let env = self.envelope()?;
        if env.kind != T::KIND {
            return Err(Error::WrongKind {
                id: self.id.clone(),
                expected: T::KIND.code(),
                actual: env.kind.code().to_string(),
            });
        }
        from_json(self.data_json()?).map_err(|e| self.corrupt(&format!("bad record: {e}")))
    }

    /// Writes what differs between the document and `record` (and `env`) as one change.
    /// Returns `None` when nothing differs.
    pub fn update<T: Record>(
        &mut self,
        env: &Envelope,
        record: &T,
        edit: &Edit,
    ) -> Result<Option<Change>> {
        let meta = to_json(env)?;
        let data = to_json(record)?;
        self.update_json(&meta, &data, edit)
    }

    /// [`RecordDoc::update`] with the record as JSON (the sync server composing a reviewer's
    /// step, `sync-server/src/approvals.rs`).
    pub fn update_data(
        &mut self,
        env: &Envelope,
        data: &Json,
        edit: &Edit,
    ) -> Result<Option<Change>> {
        let meta = to_json(env)?;
        self.update_json(&meta, data, edit)
    }

    fn update_json(&mut self, meta: &Json, data: &Json, edit: &Edit) -> Result<Option<Change>> {
        for (key, new) in [("meta", meta), ("data", data)] {
            let old = read_prop(&self.doc, &ROOT, key.into(), None);
            let obj = match self.doc.get(ROOT, key)? {
                Some((automerge::Value::Object(ObjType::Map), id)) => Some(id),
                _ => None,
            };
            match (obj, old) {
                (Some(obj), Some(old)) => diff_into(&mut self.doc, &obj, &old, new)?,
                _ => put_json(&mut self.doc, &ROOT, key.into(), new)?,
            }
        }
        Ok(self.commit(edit))
    }

    fn commit(&mut self, edit: &Edit) -> Option<Change> {
        let options = CommitOptions::default()
            .with_message(edit.meta.message())
            .with_time(edit.time_ms.div_euclid(1000));
        self.doc.commit_with(options)?;
        self.doc.get_last_local_change()
    }

    /// Every field holding more than one value, anywhere in the document.
    pub fn conflicts(&mut self) -> Vec<Conflict> {
        let mut found = Vec::new();
        let mut path = Vec::new();
        collect_conflicts(&self.doc, &ROOT, &mut path, &mut found);
        let mut out = Vec::with_capacity(found.len());
        for (path, values) in found {
            let values = values
                .into_iter()
                .map(|(value, opid)| {
                    let (meta, time_ms) = self.author_of(&opid);
                    ConflictValue {
                        value,
                        cadre_id: meta.cadre_id,
                        device_id: meta.device_id,
                        reason: meta.reason,
                        time_ms,
                    }
                })
                .collect();
            out.push(Conflict { path, values });
        }
        out
    }

    fn author_of(&mut self, opid: &automerge::ObjId) -> (ChangeMeta, i64) {
        let Some(hash) = self.doc.hash_for_opid(opid) else {
            return (ChangeMeta::from_message(None), 0);
        };
        match self.doc.get_change_by_hash(&hash) {
            Some(c) => (ChangeMeta::from_message(c.message()), c.timestamp() * 1000),
            None => (ChangeMeta::from_message(None), 0),
        }
    }

    /// Settles the conflict at `path` with `chosen` (one of its values), as a new change.
    pub fn resolve(&mut self, path: &[String], chosen: &Json, edit: &Edit) -> Result<Change> {
        let shown = path.join(".");
        let no_conflict = || Error::NoConflict {
            id: self.id.clone(),
            path: shown.clone(),
        };
        let (parent, last) = match path.split_last() {
            Some((last, parents)) => (self.obj_at(parents).ok_or_else(no_conflict)?, last),
            None => return Err(no_conflict()),
        };
        let prop = prop_for(&self.doc, &parent, last).ok_or_else(no_conflict)?;
        let values = self.doc.get_all(&parent, prop.clone())?;
        if values.len() < 2 {
            return Err(no_conflict());
        }
        let matches = values
            .iter()
            .any(|(v, id)| value_json(&self.doc, v, id, None) == *chosen);
        if !matches {
            return Err(Error::NotAConflictingValue { path: shown });
        }
        put_json(&mut self.doc, &parent, prop, chosen)?;
        self.commit(edit).ok_or(Error::NoConflict {
            id: self.id.clone(),
            path: shown,
        })
    }

    /// The record's history, oldest change first. A document that loaded but whose changes
    /// cannot be rebuilt (automerge 0.12 panics on some, found by fuzzing:
    /// tests/fixtures/fuzz/load_document/panic-in-get-changes) is
    /// [`Error::CorruptDocument`], not a crash.
    pub fn history(&mut self) -> Result<Vec<HistoryEntry>> {
        let id = self.id.clone();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.history_entries())).map_err(
            |_| Error::CorruptDocument {
                id,
                detail:
                    "the document's history is damaged (automerge panicked rebuilding its changes)"
                        .into(),
            },
        )
    }

    fn history_entries(&mut self) -> Vec<HistoryEntry> {
        let changes = self.doc.get_changes(&[]);
        let mut out = Vec::with_capacity(changes.len());
        for change in changes {
            let meta = ChangeMeta::from_message(change.message());
            let before: Vec<ChangeHash> = change.deps().to_vec();
            let after = [change.hash()];
            let patches = self.doc.diff(&before, &after);
            let mut fields: Vec<FieldChange> = Vec::new();
            for patch in patches {
                let mut path: Vec<String> = patch.path.iter().map(|(_, p)| prop_text(p)).collect();
                match patch.action {
                    automerge::PatchAction::PutMap { key, value, .. } => {
                        if matches!(value.0, automerge::Value::Object(_)) {
                            continue; // its fields follow as their own patches
                        }
                        let old =
                            read_prop(&self.doc, &patch.obj, key.as_str().into(), Some(&before));
                        path.push(key);
                        let new = Some(scalar_json(&value.0));
                        fields.push(FieldChange { path, old, new });
                    }
                    automerge::PatchAction::DeleteMap { key } => {
                        let old =
                            read_prop(&self.doc, &patch.obj, key.as_str().into(), Some(&before));
                        path.push(key);
                        fields.push(FieldChange {
                            path,
                            old,
                            new: None,
                        });
                    }
                    _ => {
                        // A list changed: show the whole list before and after, once per change.
                        if fields.iter().any(|f| f.path == path) {
                            continue;
                        }
                        let old = Some(read_obj(&self.doc, &patch.obj, Some(&before)))
                            .filter(|_| self.doc.object_type(&patch.obj).is_ok())
                            .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()));
                        let new = Some(read_obj(&self.doc, &patch.obj, Some(&after)));
                        fields.push(FieldChange { path, old, new });
                    }
                }
            }
            out.push(HistoryEntry {
                hash: change.hash().to_string(),
                cadre_id: meta.cadre_id,
                device_id: meta.device_id,
                reason: meta.reason,
                time_ms: change.timestamp() * 1000,
                fields,
            });
        }
        out
    }

    /// Applies changes from another replica. Changes whose dependencies are missing are kept by
    /// Automerge in a queue; [`Self::contains`] tells which of them got in.
    ///
    /// Automerge 0.12 panics on some well-formed changes that refer to objects the document
    /// does not have ("Missing from Index", found by fuzzing: RELIABILITY.md). Such a change is
    /// an error here, and the document is left as it was: the changes go to a copy, which
    /// replaces the document only when they all applied.
    pub fn apply(&mut self, changes: Vec<Change>) -> Result<()> {
        let mut candidate = self.doc.clone();
        let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            candidate.apply_changes(changes)
        }));
        match applied {
            Ok(result) => {
                result?;
                self.doc = candidate;
                Ok(())
            }
            Err(panic) => Err(Error::CorruptDocument {
                id: self.id.clone(),
                detail: format!(
                    "a change could not be applied: {}",
                    panic
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| panic.downcast_ref::<&str>().copied())
                        .unwrap_or("automerge failed")
                ),
            }),
        }
    }

    /// The bytes of one change of the document.
    pub fn change_bytes(&mut self, hash: &ChangeHash) -> Option<Vec<u8>> {
        self.doc
            .get_change_by_hash(hash)
            .map(|c| c.raw_bytes().to_vec())
    }

    pub fn contains(&mut self, hash: &ChangeHash) -> bool {
        self.doc.get_change_by_hash(hash).is_some()
    }

    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// Every change in the document, in causal order.
    pub fn changes(&mut self) -> Vec<Change> {
        self.doc.get_changes(&[])
    }

    /// The hash of every change in the document, as bytes (how the change logs key them).
    pub fn change_hashes(&mut self) -> Vec<Vec<u8>> {
        self.doc
            .get_changes(&[])
            .iter()
            .map(|change| change.hash().0.to_vec())
            .collect()
    }

    /// The changes added since `heads`, as one incremental chunk.
    pub fn save_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// The compact whole-document form.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    pub fn automerge(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    /// Whether any change of the history put a value under one of `keys` in a map: a field
    /// the record's kind no longer has, which its history still holds.
    pub fn history_sets(&mut self, keys: &[&str]) -> bool {
        self.doc.get_changes(&[]).iter().any(|change| {
            change.decode().operations.iter().any(|op| {
                matches!(&op.key, automerge::legacy::Key::Map(k) if keys.contains(&k.as_str()))
                    && !matches!(
                        op.action,
                        automerge::legacy::OpType::Delete
                            | automerge::legacy::OpType::Put(automerge::ScalarValue::Null)
                    )
            })
        })
    }

    /// The whole document as JSON (`{"meta": …, "data": …}`) as it stood without the
    /// `left_out` changes and those made after them: what the other replicas saw before
    /// this device's edits that did not reach them. `Null` when nothing is left.
    pub fn json_without(&mut self, left_out: &[ChangeHash]) -> Json {
        let changes = self.doc.get_changes(&[]);
        let mut out: std::collections::HashSet<ChangeHash> = left_out.iter().copied().collect();
        let mut kept: Vec<&Change> = Vec::new();
        // Causal order: a change's dependencies come before it.
        for change in &changes {
            if out.contains(&change.hash()) || change.deps().iter().any(|d| out.contains(d)) {
                out.insert(change.hash());
            } else {
                kept.push(change);
            }
        }
        let depended: std::collections::HashSet<ChangeHash> =
            kept.iter().flat_map(|c| c.deps().iter().copied()).collect();
        let heads: Vec<ChangeHash> = kept
            .iter()
            .map(|c| c.hash())
            .filter(|h| !depended.contains(h))
            .collect();
        if heads.is_empty() {
            return Json::Null;
        }
        read_obj(&self.doc, &ROOT, Some(&heads))
    }

    fn corrupt(&self, detail: &str) -> Error {
        Error::CorruptDocument {
            id: self.id.clone(),
            detail: detail.to_string(),
        }
    }

    fn json_at(&self, path: &[&str]) -> Result<Option<Json>> {
        let Some((last, parents)) = path.split_last() else {
            return Ok(Some(self.to_json()));
        };
        let parents: Vec<String> = parents.iter().map(|s| s.to_string()).collect();
        let Some(obj) = self.obj_at(&parents) else {
            return Ok(None);
        };
        Ok(read_prop(&self.doc, &obj, (*last).into(), None))
    }

    fn obj_at(&self, path: &[String]) -> Option<ObjId> {
        let mut obj = ROOT;
        for seg in path {
            let prop = prop_for(&self.doc, &obj, seg)?;
            match self.doc.get(&obj, prop).ok()?? {
                (automerge::Value::Object(_), id) => obj = id,
                _ => return None,
            }
        }
        Some(obj)
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<Json> {
    serde_json::to_value(value).map_err(|e| {
        Error::Invalid(crate::ValidationError::new(
            ".",
            crate::Problem::Malformed,
            e.to_string(),
        ))
    })
}

/// A path segment as a property of `obj`: a list index in a list, a key in a map.
fn prop_for(doc: &AutoCommit, obj: &ObjId, seg: &str) -> Option<Prop> {
    match doc.object_type(obj).ok()? {
        ObjType::List | ObjType::Text => seg.parse::<usize>().ok().map(Prop::Seq),
        _ => Some(Prop::Map(seg.to_string())),
    }
}

fn prop_text(p: &Prop) -> String {
    match p {
        Prop::Map(k) => k.clone(),
        Prop::Seq(i) => i.to_string(),
    }
}

/// Writes `value` at `prop` of `obj`, replacing what was there. Objects and arrays are
/// created in one batch operation, far cheaper than one operation per field.
fn put_json(doc: &mut AutoCommit, obj: &ObjId, prop: Prop, value: &Json) -> Result<()> {
    match value {
        Json::Null => {
            if doc.get(obj, prop.clone())?.is_some() {
                doc.delete(obj, prop)?;
            }
        }
        Json::Object(_) | Json::Array(_) => {
            doc.batch_create_object(obj, prop, &json_to_hydrate(value), false)?;
        }
        scalar => doc.put(obj, prop, json_scalar(scalar))?,
    }
    Ok(())
}

fn insert_json(doc: &mut AutoCommit, list: &ObjId, index: usize, value: &Json) -> Result<()> {
    match value {
        Json::Object(_) | Json::Array(_) => {
            doc.batch_create_object(list, index, &json_to_hydrate(value), true)?;
        }
        scalar => doc.insert(list, index, json_scalar(scalar))?,
    }
    Ok(())
}

/// The JSON tree as an Automerge value tree; `null` members of objects are left out.
fn json_to_hydrate(value: &Json) -> automerge::hydrate::Value {
    use automerge::hydrate::{List, Map, Value};
    match value {
        Json::Object(map) => {
            let entries: std::collections::HashMap<String, Value> = map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), json_to_hydrate(v)))
                .collect();
            Value::Map(Map::from(entries))
        }
        Json::Array(items) => Value::List(List::from(
            items.iter().map(json_to_hydrate).collect::<Vec<_>>(),
        )),
        scalar => Value::Scalar(json_scalar(scalar)),
    }
}

fn json_scalar(value: &Json) -> automerge::ScalarValue {
    use automerge::ScalarValue as S;
    match value {
        Json::Bool(b) => S::Boolean(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => S::Int(i),
            (None, Some(u)) => S::Uint(u),
            _ => S::F64(n.as_f64().unwrap_or_default()),
        },
        Json::String(s) => S::Str(s.as_str().into()),
        _ => S::Null,
    }
}

/// The edits that turned `base` into `mine`, made on `theirs` (JSON trees; `None` for a
/// missing field): a field `mine` left as in `base` keeps `theirs`' value; maps present in all
/// three merge key by key; anything else `mine` changed is `mine`'s. Used to carry a device's
/// unsent edits onto a record whose history the server rebuilt.
pub fn three_way(base: Option<&Json>, mine: Option<&Json>, theirs: Option<&Json>) -> Option<Json> {
    if mine == base {
        return theirs.cloned();
    }
    match (base, mine, theirs) {
        (Some(Json::Object(b)), Some(Json::Object(m)), Some(Json::Object(t))) => {
            let keys: std::collections::BTreeSet<&String> =
                b.keys().chain(m.keys()).chain(t.keys()).collect();
            let merged: Map<String, Json> = keys
                .into_iter()
                .filter_map(|k| three_way(b.get(k), m.get(k), t.get(k)).map(|v| (k.clone(), v)))
                .collect();
            Some(Json::Object(merged))
        }
        _ => mine.cloned(),
    }
}

/// Writes into the map `obj` only the keys whose values differ between `old` and `new`.
fn diff_into(doc: &mut AutoCommit, obj: &ObjId, old: &Json, new: &Json) -> Result<()> {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return Ok(());
    };
    for key in old.keys() {
        if new.get(key).is_none_or(Json::is_null) {
            doc.delete(obj, key.as_str())?;
        }
    }
    for (key, new_v) in new {
        if new_v.is_null() {
            continue;
        }
        let old_v = old.get(key);
        if old_v == Some(new_v) {
            continue;
        }
        let existing = doc.get(obj, key.as_str())?;
        match (old_v, new_v, existing) {
            (
                Some(o @ Json::Object(_)),
                Json::Object(_),
                Some((automerge::Value::Object(ObjType::Map), child)),
            ) => {
                diff_into(doc, &child, o, new_v)?;
            }
            (
                Some(Json::Array(o)),
                Json::Array(n),
                Some((automerge::Value::Object(ObjType::List), child)),
            ) if n.len() > o.len() && n.starts_with(o) => {
                for (i, v) in n.iter().enumerate().skip(o.len()) {
                    insert_json(doc, &child, i, v)?;
                }
            }
            _ => put_json(doc, obj, key.as_str().into(), new_v)?,
        }
    }
    Ok(())
}

fn read_prop(
    doc: &AutoCommit,
    obj: &ObjId,
    prop: Prop,
    heads: Option<&[ChangeHash]>,
) -> Option<Json> {
    let got = match heads {
        Some(h) => doc.get_at(obj, prop, h),
        None => doc.get(obj, prop),
    };
    let (value, id) = got.ok()??;
    Some(value_json(doc, &value, &id, heads))
}

fn value_json(
    doc: &AutoCommit,
    value: &automerge::Value<'_>,
    id: &ObjId,
    heads: Option<&[ChangeHash]>,
) -> Json {
    match value {
        automerge::Value::Object(_) => read_obj(doc, id, heads),
        scalar => scalar_json(scalar),
    }
}

fn scalar_json(value: &automerge::Value<'_>) -> Json {
    use automerge::ScalarValue as S;
    let automerge::Value::Scalar(s) = value else {
        return Json::Null;
    };
    match s.as_ref() {
        S::Str(s) => Json::String(s.to_string()),
        S::Int(i) => Json::from(*i),
        S::Uint(u) => Json::from(*u),
        S::F64(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        S::Boolean(b) => Json::Bool(*b),
        S::Timestamp(t) => Json::from(*t),
        S::Counter(c) => Json::from(i64::from(c)),
        S::Bytes(b) => Json::String(hex::encode(b)),
        S::Unknown { .. } | S::Null => Json::Null,
    }
}

fn read_obj(doc: &AutoCommit, obj: &ObjId, heads: Option<&[ChangeHash]>) -> Json {
    let ty = match doc.object_type(obj) {
        Ok(t) => t,
        Err(_) => return Json::Null,
    };
    match ty {
        ObjType::Map | ObjType::Table => {
            let keys: Vec<String> = match heads {
                Some(h) => doc.keys_at(obj, h).collect(),
                None => doc.keys(obj).collect(),
            };
            let mut map = Map::new();
            for key in keys {
                if let Some(v) = read_prop(doc, obj, key.as_str().into(), heads) {
                    map.insert(key, v);
                }
            }
            Json::Object(map)
        }
        ObjType::List => {
            let len = match heads {
                Some(h) => doc.length_at(obj, h),
                None => doc.length(obj),
            };
            let items = (0..len)
                .filter_map(|i| read_prop(doc, obj, Prop::Seq(i), heads))
                .collect();
            Json::Array(items)
        }
        ObjType::Text => {
            let text = match heads {
                Some(h) => doc.text_at(obj, h),
                None => doc.text(obj),
            };
            Json::String(text.unwrap_or_default())
        }
    }
}

type Found = Vec<(Vec<String>, Vec<(Json, ObjId)>)>;

fn collect_conflicts(doc: &AutoCommit, obj: &ObjId, path: &mut Vec<String>, out: &mut Found) {
    let props: Vec<Prop> = match doc.object_type(obj) {
        Ok(ObjType::Map | ObjType::Table) => doc.keys(obj).map(Prop::Map).collect(),
        Ok(ObjType::List) => (0..doc.length(obj)).map(Prop::Seq).collect(),
        _ => return,
    };
    for prop in props {
        let Ok(values) = doc.get_all(obj, prop.clone()) else {
            continue;
        };
        path.push(prop_text(&prop));
        if values.len() > 1 {
            let vals = values
                .iter()
                .map(|(v, id)| (value_json(doc, v, id, None), id.clone()))
                .collect();
            out.push((path.clone(), vals));
        } else if let Some((automerge::Value::Object(_), child)) = values.first() {
            collect_conflicts(doc, child, path, out);
        }
        path.pop();
    }
}

/// A new random actor id (16 bytes), never derived from a user id.
pub fn new_actor() -> ActorId {
    ActorId::from(rand::random::<[u8; 16]>().as_slice())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::Household;

    fn edit(reason: &str) -> Edit {
        Edit {
            meta: ChangeMeta {
                reason: reason.into(),
                cadre_id: "cadre-li-ming".into(),
                device_id: "phone-1".into(),
            },
            time_ms: 1_700_000_000_000,
        }
    }

    fn env() -> Envelope {
        Envelope {
            id: "hh-1".into(),
            kind: crate::domain::Kind::Household,
            author_id: "cadre-li-ming".into(),
            device_id: "phone-1".into(),
            created_device_ts: "2026-03-01T09:00:00+08:00".parse().unwrap(),
            device_uptime_ms: 0,
            geo: None,
            server_received_ts: None,
            state: crate::domain::RecordState::Submitted,
        }
    }

    #[test]
    fn three_way_keeps_their_fields_and_my_edits() {
        let base = json!({"a": 1, "b": {"x": 1, "y": 2}, "c": [1], "d": "gone"});
        let mine = json!({"a": 1, "b": {"x": 5, "y": 2}, "c": [1, 2]});
        let theirs = json!({"a": 9, "b": {"x": 1, "y": 7}, "c": [3], "d": "gone", "e": true});
        let merged = three_way(Some(&base), Some(&mine), Some(&theirs)).unwrap();
        assert_eq!(
            merged,
            json!({"a": 9, "b": {"x": 5, "y": 7}, "c": [1, 2], "e": true})
        );
        // Nothing edited: theirs, whatever it holds.
        assert_eq!(
            three_way(Some(&base), Some(&base), Some(&theirs)),
            Some(theirs)
        );
    }

    #[test]
    fn history_sets_sees_a_field_set_and_later_deleted() {
        let env = env();
        let household = Household::example();
        let (mut doc, _) = RecordDoc::create(new_actor(), &env, &household, &edit("建档")).unwrap();
        assert!(!doc.history_sets(&["bank_account"]));
        let data = doc.data_json().unwrap();
        let mut with = data.clone();
        with["bank_account"] = json!("6210984870007654321");
        let meta = doc.to_json()["meta"].clone();
        doc.update_json(&meta, &with, &edit("补录"))
            .unwrap()
            .unwrap();
        doc.update_json(&meta, &data, &edit("删除"))
            .unwrap()
            .unwrap();
        assert!(doc.data_json().unwrap().get("bank_account").is_none());
        assert!(doc.history_sets(&["bank_account"]));
    }

    #[test]
    fn json_without_leaves_out_a_change_and_what_came_after_it() {
        let env = env();
        let mut household = Household::example();
        let (mut doc, _) = RecordDoc::create(new_actor(), &env, &household, &edit("建档")).unwrap();
        let before = doc.to_json();
        household.phone = Some("13800000000".into());
        let first = doc.update(&env, &household, &edit("改")).unwrap().unwrap();
        household.phone = Some("13900000000".into());
        doc.update(&env, &household, &edit("再改"))
            .unwrap()
            .unwrap();
        assert_eq!(doc.json_without(&[first.hash()]), before);
        assert_eq!(doc.json_without(&[]), doc.to_json());
    }
}

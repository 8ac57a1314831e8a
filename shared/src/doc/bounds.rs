//! A plausibility check of stored document bytes, run before Automerge loads them.
//!
//! Automerge stores a document as chunks (`magic, checksum, type, uleb128 length, body`)
//! whose operations and changes sit in columns. Most columns are run-length encoded: a few
//! bytes can declare a run of billions of values. Automerge 0.12 turns some columns into one
//! `Vec` entry per value while loading: the op counters of a *bundle* chunk
//! (`storage/bundle/storage.rs`, `decode_delta_int`) and the actor, sequence and max-op columns
//! of a document chunk's change metadata (`change_graph.rs`, `ChangeGraph::load`). Fuzzing
//! found a stored document of 624 bytes whose bundle chunk declares, in a 7-byte op-counter
//! column, a run of 9,519,593,467 copies of one delta: Automerge grew a `Vec<i64>` past 2 GB
//! for it and the process died (`tests/fixtures/fuzz/load_document/bundle-run-of-9.5e9-op-counters`).
//! A damaged file must be an error for its record, never a server or an app killed by memory.
//!
//! So before loading, [`check`] walks the chunks and counts what each column declares, without
//! materialising anything, and refuses the document ([`crate::Error::CorruptDocument`]) when:
//! - a chunk is a bundle (type 3). Cunji writes snapshots with `save()` (one document chunk)
//!   and increments with `save_after()` (change chunks, compressed or not), never bundles,
//!   Automerge's experimental format; a bundle in a stored document is damage.
//! - the columns of all chunks together declare more than [`MAX_VALUES`] values (a value is
//!   one entry of one column: an operation's action, key, counter..., a change's actor, seq...).
//! - DEFLATE-compressed parts inflate to more than [`MAX_INFLATED`] bytes in all.
//!
//! The bounds: a record is one household, visit, check-in or log; a year of daily edits by ten
//! people is about 3,650 changes of ten operations, ~40,000 operations, and each operation
//! fills about a dozen columns, ~500,000 values. [`MAX_VALUES`] (4,194,304) is eight times
//! that, and bounds what Automerge materialises to tens of megabytes (8–16 bytes per value).
//! Records' documents are kilobytes; [`MAX_INFLATED`] (64 MiB) is far above any of them.
//! Both are plausibility bounds on damage, not quotas a cadre could reach: nothing the app
//! writes comes near them (the unit tests check a record of a year's edits against them).
//!
//! Parsed here only as far as counting needs: chunk headers, the prefixes that lead to the
//! column metadata, and each column's run-length structure (values are skipped, not decoded).
//! Everything else (checksums, sorted columns, actor indexes, operations' meaning) stays
//! Automerge's to check, strictly (`RecordDoc::load`). Not here: repairing a damaged document;
//! the stored changes it was built from remain (the device's outbox and the server's change
//! log) and are the way back.

use std::io::Read;

/// Most column values (all columns of all chunks of one document) a stored document may declare.
pub const MAX_VALUES: u64 = 1 << 22;
/// Most bytes the DEFLATE-compressed parts of one stored document may inflate to, in all.
pub const MAX_INFLATED: u64 = 64 << 20;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const HASH_LEN: usize = 32;
/// Bit of a column specification saying its data is DEFLATE-compressed.
const DEFLATE_BIT: u64 = 0b1000;

/// Checks every chunk in `bytes` (a snapshot followed by its chunks). The error says what is
/// implausible, for [`crate::Error::CorruptDocument`]'s detail.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let mut budget = Budget::default();
    let mut rest = bytes;
    let mut index = 0;
    while !rest.is_empty() {
        let mut r = Reader(rest);
        let chunk = (|| {
            if r.take(4)? != MAGIC {
                return Err("not an Automerge chunk (bad magic bytes)".to_string());
            }
            r.take(4)?; // checksum: Automerge checks it
            let kind = r.byte()?;
            let len = r.len()?;
            let body = r.take(len)?;
            match kind {
                0 => document(body, &mut budget),
                1 => change(body, &mut budget),
                2 => {
                    let inflated = budget.inflate(body)?;
                    change(&inflated, &mut budget)
                }
                3 => Err("a bundle chunk, which Cunji never stores".to_string()),
                other => Err(format!("unknown chunk type {other}")),
            }
        })();
        chunk.map_err(|e| format!("chunk {index}: {e}"))?;
        rest = r.0;
        index += 1;
    }
    Ok(())
}

#[derive(Default)]
struct Budget {
    values: u64,
    inflated: u64,
}

impl Budget {
    fn count(&mut self, n: u64) -> Result<(), String> {
        self.values = self.values.saturating_add(n);
        if self.values > MAX_VALUES {
            return Err(format!(
                "its columns declare more than {MAX_VALUES} values (a run of {n} among them)"
            ));
        }
        Ok(())
    }

    fn inflate(&mut self, data: &[u8]) -> Result<Vec<u8>, String> {
        let left = MAX_INFLATED - self.inflated;
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(data)
            .take(left + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("bad DEFLATE data: {e}"))?;
        self.inflated += out.len() as u64;
        if self.inflated > MAX_INFLATED {
            return Err(format!(
                "its compressed parts inflate to more than {MAX_INFLATED} bytes"
            ));
        }
        Ok(out)
    }
}

/// A document chunk: actors, heads, change and operation column metadata, then their data.
fn document(body: &[u8], budget: &mut Budget) -> Result<(), String> {
    let mut r = Reader(body);
    r.skip_actors()?;
    let heads = r.len()?;
    r.take(heads.checked_mul(HASH_LEN).ok_or("too many heads")?)?;
    let change_cols = r.columns()?;
    let op_cols = r.columns()?;
    columns(&mut r, &change_cols, budget)?;
    columns(&mut r, &op_cols, budget)
}

/// A change chunk: dependencies, actor, seq, start op, time, message, other actors, then the
/// operation columns (metadata and data).
fn change(body: &[u8], budget: &mut Budget) -> Result<(), String> {
    let mut r = Reader(body);
    let deps = r.len()?;
    r.take(deps.checked_mul(HASH_LEN).ok_or("too many dependencies")?)?;
    let actor = r.len()?;
    r.take(actor)?;
    r.leb()?; // seq
    r.leb()?; // start op
    r.leb()?; // time
    let message = r.len()?;
    r.take(message)?;
    r.skip_actors()?;
    let cols = r.columns()?;
    columns(&mut r, &cols, budget)
}

/// Counts the values of each column in turn (their data follows one another).
fn columns(r: &mut Reader<'_>, cols: &[(u64, usize)], budget: &mut Budget) -> Result<(), String> {
    for &(spec, len) in cols {
        let data = r.take(len)?;
        if spec & DEFLATE_BIT != 0 {
            let inflated = budget.inflate(data)?;
            column(spec, &inflated, budget)?;
        } else {
            column(spec, data, budget)?;
        }
    }
    Ok(())
}

/// Counts one column's declared values by its type (the low three bits of its specification).
fn column(spec: u64, data: &[u8], budget: &mut Budget) -> Result<(), String> {
    let mut r = Reader(data);
    match spec & 0b111 {
        // Boolean: alternating run lengths of false and true.
        4 => {
            while !r.0.is_empty() {
                budget.count(r.leb()?)?;
            }
        }
        // Raw values: their lengths are in the value-metadata column, counted there.
        7 => {}
        // Run-length encoded: a positive count and one value repeated, a negative count and
        // that many literal values, or zero and a count of nulls. Strings are length-prefixed;
        // every other type's values are one LEB128 number.
        kind => {
            let skip_value = |r: &mut Reader<'_>| -> Result<(), String> {
                if kind == 5 {
                    let len = r.len()?;
                    r.take(len)?;
                } else {
                    r.leb()?;
                }
                Ok(())
            };
            while !r.0.is_empty() {
                let count = r.sleb()?;
                if count > 0 {
                    budget.count(count.unsigned_abs())?;
                    skip_value(&mut r)?;
                } else if count < 0 {
                    let n = count.unsigned_abs();
                    budget.count(n)?;
                    for _ in 0..n {
                        skip_value(&mut r)?;
                    }
                } else {
                    budget.count(r.leb()?)?;
                }
            }
        }
    }
    Ok(())
}

/// The bytes not read yet.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.0.len() {
            return Err(format!(
                "truncated ({n} bytes declared, {} left)",
                self.0.len()
            ));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    /// An unsigned LEB128 number (at most 10 bytes).
    fn leb(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a LEB128 number longer than 10 bytes".into())
    }

    /// A signed LEB128 number (at most 10 bytes).
    fn sleb(&mut self) -> Result<i64, String> {
        let mut value = 0i64;
        let mut shift = 0u32;
        loop {
            let b = self.byte()?;
            value |= i64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                return Ok(value);
            }
            if shift >= 70 {
                return Err("a LEB128 number longer than 10 bytes".into());
            }
        }
    }

    /// A length or count: a LEB128 number that must fit in the bytes left (every counted item
    /// takes at least one byte), so that it can never be a huge allocation's size.
    fn len(&mut self) -> Result<usize, String> {
        let n = self.leb()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.0.len())
            .ok_or_else(|| format!("truncated ({n} bytes declared, {} left)", self.0.len()))
    }

    fn skip_actors(&mut self) -> Result<(), String> {
        let n = self.len()?;
        for _ in 0..n {
            let len = self.len()?;
            self.take(len)?;
        }
        Ok(())
    }

    /// Column metadata: a count, then each column's specification and data length.
    fn columns(&mut self) -> Result<Vec<(u64, usize)>, String> {
        let n = self.len()?;
        let mut cols = Vec::with_capacity(n);
        for _ in 0..n {
            let spec = self.leb()?;
            let len = self.leb()?;
            let len = usize::try_from(len).map_err(|_| format!("a column of {len} bytes"))?;
            cols.push((spec, len));
        }
        Ok(cols)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    #[test]
    fn documents_automerge_writes_pass() {
        let mut doc = AutoCommit::new();
        for i in 0..200 {
            doc.put(ROOT, format!("k{}", i % 7), i).unwrap();
            doc.commit();
        }
        let snapshot = doc.save();
        doc.put(ROOT, "late", "值").unwrap();
        doc.commit();
        let mut bytes = snapshot.clone();
        bytes.extend(doc.save_incremental());
        check(&snapshot).unwrap();
        check(&bytes).unwrap();
        check(&doc.save_nocompress()).unwrap();
    }

    #[test]
    fn a_year_of_edits_to_one_record_is_far_below_the_bound() {
        // 3,650 changes of ten fields each, with strings, numbers and a growing list.
        let mut doc = AutoCommit::new();
        let list = doc
            .put_object(ROOT, "photos", automerge::ObjType::List)
            .unwrap();
        for day in 0..3650i64 {
            for field in 0..9 {
                doc.put(
                    ROOT,
                    format!("field{field}"),
                    format!("第{day}天的值{field}"),
                )
                .unwrap();
            }
            doc.insert(&list, 0, day).unwrap();
            doc.commit();
        }
        let bytes = doc.save();
        let mut budget = Budget::default();
        let mut r = Reader(&bytes);
        r.take(8).unwrap();
        assert_eq!(r.byte().unwrap(), 0);
        let len = r.len().unwrap();
        document(r.take(len).unwrap(), &mut budget).unwrap();
        assert!(budget.values > 36_500, "{}", budget.values);
        assert!(budget.values * 8 < MAX_VALUES, "{}", budget.values);
    }

    #[test]
    fn a_long_run_is_refused_before_anything_is_built() {
        // A change chunk whose one delta column declares a run of 2^40 values.
        let mut body = vec![0u8]; // no deps
        body.extend([1, 0xaa]); // actor
        body.extend([1, 1, 0, 0, 0]); // seq, start op, time, message, other actors
        let run = [0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x01]; // sleb 2^40, then the delta 1
        body.extend([1, (1 << 4) | 3, run.len() as u8]);
        body.extend(run);
        let mut chunk = MAGIC.to_vec();
        chunk.extend([0, 0, 0, 0, 1, body.len() as u8]);
        chunk.extend(body);
        let err = check(&chunk).unwrap_err();
        assert!(err.contains("more than 4194304 values"), "{err}");
    }
}

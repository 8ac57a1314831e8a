//! The register back out, in the import's own layout (issue 15 item 5): the sheets of a
//! [`TemplateKind`] filled with the stored records the account may read, one row per record
//! (a team: one per member; a household: its row, one per member, one per income year), each
//! cell as [`to_cells`] writes it, so that importing the file unchanged changes nothing.
//!
//! **What the account may not see stays masked.** The county poverty office and the
//! administrator read households, their numbers and cadres with sensitive fields masked
//! (DOMAIN §1: ID and bank numbers, health, home coordinates above the township), and an
//! export is a read: those cells are written as the masked text the dashboard shows
//! (`530***********1234`, `***`), the home coordinates left empty. The importer reads a
//! masked cell as "unchanged" (`plan`, `masked_*` problems): it keeps the stored value when
//! the cell is that value's mask, and refuses it on a new record or when it is not, so an
//! exported file can be edited and imported again without ever carrying the numbers in clear.
//!
//! Not here: the reports' exports (`crate::reports`), which are figures, not registers.

use std::collections::{BTreeMap, HashMap};

use cunji_core::doc::RecordDoc;
use cunji_core::domain::Kind;
use cunji_core::domain::access::Sight;
use cunji_core::domain::privacy::{Masking, mask_text};
use serde_json::{Value, json};

use super::sheets::{SheetKind, to_cells};
use super::template::TemplateKind;
use crate::accounts::{Principal, RecordPlace};
use crate::merge::server_actor;
use crate::store::{StoreError, StoreResult, Tx};

/// What a record shows its reader: `None` if the reader does not read it one by one.
type SightOf<'a> =
    dyn FnMut(&mut dyn Tx, &crate::store::DocRow) -> StoreResult<Option<Masking>> + 'a;

/// The sheets of `kind` with the records `who` may read, rows in the order of the records'
/// ids, masked as `who` reads them.
pub fn export(
    tx: &mut dyn Tx,
    who: &Principal,
    kind: TemplateKind,
) -> StoreResult<Vec<(SheetKind, Vec<Vec<String>>)>> {
    sheets(tx, kind, &mut |tx, row| {
        Ok(match who.sight(tx, RecordPlace::of(row))? {
            None | Some(Sight::Aggregates) => None,
            Some(s) => Some(Masking::of(s)),
        })
    })
}

/// The sheets of `kind` with every stored record, nothing masked: files a fresh server can
/// import (ID numbers in clear), for tools that hold the database already (the import's
/// benchmark, `sync-server/examples/import_county.rs`). Never served: the HTTP export and the
/// CLI's `export-register` are [`export`]'s, as the account reads.
pub fn export_in_clear(
    tx: &mut dyn Tx,
    kind: TemplateKind,
) -> StoreResult<Vec<(SheetKind, Vec<Vec<String>>)>> {
    sheets(tx, kind, &mut |_, _| Ok(Some(Masking::NONE)))
}

fn sheets(
    tx: &mut dyn Tx,
    kind: TemplateKind,
    sight: &mut SightOf<'_>,
) -> StoreResult<Vec<(SheetKind, Vec<Vec<String>>)>> {
    let mut out = Vec::new();
    let sheets = kind.sheets();
    // A household's numbers, by household id, read once for its sheets.
    let numbers = if sheets
        .iter()
        .any(|s| matches!(s, SheetKind::Households | SheetKind::Members))
    {
        readable(tx, sight, Kind::HouseholdPrivate)?
            .into_iter()
            .filter_map(|(_, data, masking)| {
                let hid = data.get("household_id")?.as_str()?.to_string();
                Some((hid, (data, masking)))
            })
            .collect::<HashMap<_, _>>()
    } else {
        HashMap::new()
    };
    let mut households = None;
    for &sheet in sheets {
        let rows = match sheet {
            SheetKind::Households | SheetKind::Members | SheetKind::Incomes => {
                if households.is_none() {
                    households = Some(readable(tx, sight, Kind::Household)?);
                }
                household_rows(sheet, households.as_deref().unwrap_or_default(), &numbers)
            }
            SheetKind::Teams => readable(tx, sight, Kind::Team)?
                .iter()
                .flat_map(|(_, t, masking)| team_rows(t, *masking))
                .collect(),
            SheetKind::Units | SheetKind::Cadres => readable(tx, sight, sheet.record_kind())?
                .iter()
                .map(|(id, d, masking)| {
                    let id = json!(id);
                    masked(
                        sheet,
                        to_cells(sheet, d, &|k| (k == "#id").then(|| id.clone())),
                        &[*masking; 1],
                    )
                })
                .collect(),
            SheetKind::PolicyItems | SheetKind::Assignments | SheetKind::Entitlements => {
                readable(tx, sight, sheet.record_kind())?
                    .iter()
                    .map(|(_, d, masking)| {
                        masked(sheet, to_cells(sheet, d, &|_| None), &[*masking])
                    })
                    .collect()
            }
        };
        out.push((sheet, rows));
    }
    Ok(out)
}

/// The records of `kind` the reader reads one by one (not only through the reports'
/// aggregates), with what it may not see in them, in id order.
fn readable(
    tx: &mut dyn Tx,
    sight: &mut SightOf<'_>,
    kind: Kind,
) -> StoreResult<Vec<(String, Value, Masking)>> {
    const PAGE: usize = 500;
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let ids = tx.doc_ids_of_kind(kind, &after, PAGE)?;
        let Some(last) = ids.last() else { break };
        after = last.clone();
        for id in &ids {
            let Some(row) = tx.doc(id)? else { continue };
            let Some(masking) = sight(tx, &row)? else {
                continue;
            };
            let doc = RecordDoc::load(id, Some(&row.snapshot), &row.chunks, server_actor())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let data = doc
                .data_json()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            out.push((id.clone(), data, masking));
        }
        if ids.len() < PAGE {
            break;
        }
    }
    Ok(out)
}

/// `cells` of `sheet` with what the reader may not see masked: each column by the masking of
/// the record it comes from (`maskings[0]` the row's record, `maskings[1]`, if given, the
/// household's numbers record for the `#id_no` and `#bank_account` columns).
fn masked(sheet: SheetKind, mut cells: Vec<String>, maskings: &[Masking]) -> Vec<String> {
    let kind = sheet.record_kind();
    for (cell, c) in cells.iter_mut().zip(sheet.columns()) {
        let masking = match (c.key, maskings) {
            ("#id_no" | "#bank_account", [_, numbers]) => *numbers,
            (_, [first, ..]) => *first,
            (_, []) => Masking::NONE,
        };
        if cell.is_empty() || !masking.hides(c.privacy(kind)) {
            continue;
        }
        *cell = if matches!(c.key, "#lat" | "#lon") {
            // A hidden coordinate is left out: an import keeps the stored one.
            String::new()
        } else {
            mask_text(c.privacy_key(), cell)
        };
    }
    cells
}

/// One team's rows: one per member, the leader's role 队长.
fn team_rows(team: &Value, masking: Masking) -> Vec<Vec<String>> {
    let leader = team.get("leader_id").and_then(Value::as_str).unwrap_or("");
    team.get("members")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(cadre, m)| {
            let mut data = m.clone();
            data["village_code"] = team.get("village_code").cloned().unwrap_or(Value::Null);
            let role = if cadre == leader { "leader" } else { "member" };
            let cells = to_cells(SheetKind::Teams, &data, &|k| match k {
                "#cadre" => Some(json!(cadre)),
                "#role" => Some(json!(role)),
                _ => None,
            });
            masked(SheetKind::Teams, cells, &[masking])
        })
        .collect()
}

/// The rows of one of the households' three sheets.
fn household_rows(
    sheet: SheetKind,
    households: &[(String, Value, Masking)],
    numbers: &HashMap<String, (Value, Masking)>,
) -> Vec<Vec<String>> {
    let none = (json!({}), Masking::NONE);
    let mut out = Vec::new();
    for (id, h, masking) in households {
        let (p, numbers_masking) = numbers.get(id).unwrap_or(&none);
        let maskings = [*masking, *numbers_masking];
        let hid = json!(id);
        match sheet {
            SheetKind::Households => {
                let cells = to_cells(sheet, h, &|k| match k {
                    "#id" => Some(hid.clone()),
                    "#bank_account" => p.get("bank_account").cloned(),
                    "#lat" => h.pointer("/home_geo/lat").cloned(),
                    "#lon" => h.pointer("/home_geo/lon").cloned(),
                    _ => None,
                });
                out.push(masked(sheet, cells, &maskings));
            }
            SheetKind::Members | SheetKind::Incomes => {
                let what = if sheet == SheetKind::Members {
                    "members"
                } else {
                    "incomes"
                };
                // Members and years in their keys' order, as the record keeps them.
                let parts: BTreeMap<&String, &Value> = h
                    .get(what)
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .collect();
                for (key, part) in parts {
                    let cells = to_cells(sheet, part, &|k| match k {
                        "#household" => Some(hid.clone()),
                        "#id_no" => p.pointer(&format!("/id_numbers/{key}")).cloned(),
                        _ => None,
                    });
                    out.push(masked(sheet, cells, &maskings));
                }
            }
            _ => {}
        }
    }
    out
}

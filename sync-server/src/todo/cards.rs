//! What each 待办 card shows besides the record itself ([`TodoEntry`]): the people by name,
//! the household by its head's name, the village by name, the dates, and a 标注脱贫 case's
//! R12 blockers. The dashboard read these from one `GET /v1/records/{id}` per person and
//! household on a card (up to ~20 requests a page); the todo answer now carries them.
//!
//! The names are masked as the records API masks them for the reader (DOMAIN §1,
//! [`cunji_core::domain::privacy`]): a household's head is `张*` for a reader whose sight of
//! that household hides household names (the organisation department), and absent for a
//! household the reader may not read at all; cadres' and officials' names are open. A
//! cadre's name is its cadre file's, else its account's (a township or county official has no
//! cadre file); a login nobody holds stays unnamed.
//!
//! Each entry is read from the projections, not from the documents: for a long list, one scan
//! of the reader's division (the same scan that made the list), else one indexed read per
//! record; each name once per answer.

use std::collections::HashMap;

use cunji_core::domain::Kind;
use cunji_core::domain::access::Sight;
use cunji_core::domain::codes::StatusChangeType;
use cunji_core::domain::privacy::{Masking, mask_name};
use cunji_core::domain::status_change::r12_household_blockers;
use cunji_core::reports::status_changes::blocker_label;
use cunji_core::values::Money;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::accounts::{Principal, RecordPlace};
use crate::reports::facts::load;
use crate::store::{RowFilter, StoreResult, Tx};

use super::TodoItem;

/// One card's names and dates (see the module docs). Fields a record's kind lacks are absent.
#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct TodoEntry {
    /// The record's id (the same as the list's `ids`, in the same order).
    pub id: String,
    /// Whom the item is about: a leave's requester, a log's author, a visit's visitor, a
    /// petition's handler (a login) and its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_name: Option<String>,
    /// A leave's 队长同意, by name (or login when nobody holds a name for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endorser_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_id: Option<String>,
    /// The household's head, masked for a reader who may not see household names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_head: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub village_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub village_name: Option<String>,
    /// The item's date: a leave's first day, a log's day, a visit's, a case's latest step's,
    /// a petition's receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// A leave's last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// A 标注脱贫 case's R12 blockers (codes) and their Chinese labels; empty when none and
    /// for other kinds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blockers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocker_labels: Vec<String>,
}

/// The record kind a list holds, by its name (the module docs of [`super`]); `None` for the
/// ledger lists and any list whose cards read no record.
fn kind_of(list: &str) -> Option<Kind> {
    match list {
        "leave_to_endorse" | "leave_to_approve" | "my_leave_pending" | "my_leave_overdue" => {
            Some(Kind::Leave)
        }
        "logs_to_review" => Some(Kind::WorkLog),
        "visits_to_accept" => Some(Kind::Visit),
        l if l.starts_with("cases_to_") => Some(Kind::StatusChange),
        l if l.starts_with("petitions_to_") => Some(Kind::Petition),
        _ => None,
    }
}

/// What the cards need of one record's projection row.
#[derive(Default)]
struct Facts {
    person: Option<String>,
    endorser: Option<String>,
    household: Option<String>,
    village: Option<String>,
    date: Option<String>,
    to: Option<String>,
    /// A 标注脱贫 case's: (income year, per capita, flags all ok, procedure blockers).
    r12: Option<(i32, Option<Money>, bool, Vec<String>)>,
}

/// The facts of the records of `kind` in `filter`, by id.
fn facts(
    tx: &mut dyn Tx,
    kind: Kind,
    filter: RowFilter<'_>,
) -> StoreResult<HashMap<String, Facts>> {
    let rows = match kind {
        Kind::Leave => load(
            tx,
            "p_leave",
            &["cadre_id", "endorsed_by", "from_date", "to_date"],
            filter,
            |r| {
                Some((
                    r.id(),
                    Facts {
                        person: r.s(0),
                        endorser: r.s(1),
                        date: r.s(2),
                        to: r.s(3),
                        village: r.doc_village(),
                        ..Facts::default()
                    },
                ))
            },
        )?,
        Kind::WorkLog => load(
            tx,
            "p_work_log",
            &["author_id", "date", "village_code"],
            filter,
            |r| {
                Some((
                    r.id(),
                    Facts {
                        person: r.s(0),
                        date: r.s(1),
                        village: r.s(2).or_else(|| r.doc_village()),
                        ..Facts::default()
                    },
                ))
            },
        )?,
        Kind::Visit => load(
            tx,
            "p_visit",
            &["visitor_id", "household_id", "start_date"],
            filter,
            |r| {
                Some((
                    r.id(),
                    Facts {
                        person: r.s(0),
                        household: r.s(1),
                        date: r.s(2),
                        village: r.doc_village(),
                        ..Facts::default()
                    },
                ))
            },
        )?,
        Kind::StatusChange => load(
            tx,
            "p_status_change",
            &[
                "household_id",
                "current_step_date",
                "change_type",
                "income_year",
                "snapshot_per_capita",
                "snapshot_flags_ok",
                "procedure_blockers",
            ],
            filter,
            |r| {
                let exit = r.s(2).as_deref() == Some(StatusChangeType::MarkedExit.code());
                Some((
                    r.id(),
                    Facts {
                        household: r.s(0),
                        date: r.s(1),
                        village: r.doc_village(),
                        r12: exit.then(|| {
                            (
                                r.i(3).unwrap_or_default() as i32,
                                r.i(4).map(Money::from_fen),
                                r.b(5),
                                r.s(6)
                                    .unwrap_or_default()
                                    .split(',')
                                    .filter(|s| !s.is_empty())
                                    .map(String::from)
                                    .collect(),
                            )
                        }),
                        ..Facts::default()
                    },
                ))
            },
        )?,
        Kind::Petition => load(
            tx,
            "p_petition",
            &[
                "handler_id",
                "household_id",
                "received_date",
                "village_code",
            ],
            filter,
            |r| {
                Some((
                    r.id(),
                    Facts {
                        person: r.s(0),
                        household: r.s(1),
                        date: r.s(2),
                        village: r.s(3).or_else(|| r.doc_village()),
                        ..Facts::default()
                    },
                ))
            },
        )?,
        _ => Vec::new(),
    };
    Ok(rows.into_iter().collect())
}

/// Names asked once per todo answer.
struct Names<'a> {
    who: &'a Principal,
    cadres: HashMap<String, Option<String>>,
    villages: HashMap<String, Option<String>>,
    heads: HashMap<String, Option<String>>,
}

impl Names<'_> {
    fn cadre(&mut self, tx: &mut dyn Tx, login: &str) -> StoreResult<Option<String>> {
        if let Some(n) = self.cadres.get(login) {
            return Ok(n.clone());
        }
        let mut name = load(
            tx,
            "p_cadre",
            &["name", "state"],
            RowFilter::Doc(login),
            |r| r.live(1).then(|| r.s(0)).flatten(),
        )?
        .into_iter()
        .next();
        if name.is_none() {
            name = tx.account(login)?.map(|a| a.name).filter(|n| !n.is_empty());
        }
        self.cadres.insert(login.to_string(), name.clone());
        Ok(name)
    }

    fn village(&mut self, tx: &mut dyn Tx, code: &str) -> StoreResult<Option<String>> {
        if let Some(n) = self.villages.get(code) {
            return Ok(n.clone());
        }
        let name = load(
            tx,
            "p_village",
            &["code", "name"],
            RowFilter::Division(code),
            |r| (r.s(0).as_deref() == Some(code)).then(|| r.s(1)).flatten(),
        )?
        .into_iter()
        .next();
        self.villages.insert(code.to_string(), name.clone());
        Ok(name)
    }

    /// The head's name as the reader may see it; `None` when it may not read the household.
    fn head(&mut self, tx: &mut dyn Tx, household: &str) -> StoreResult<Option<String>> {
        if let Some(n) = self.heads.get(household) {
            return Ok(n.clone());
        }
        let row = load(
            tx,
            "p_household",
            &["head_name", "state"],
            RowFilter::Doc(household),
            |r| Some((r.doc_village(), r.s(0))),
        )?
        .into_iter()
        .next();
        let mut name = None;
        if let Some((village, Some(head))) = row {
            let place = RecordPlace {
                kind: Kind::Household,
                village: village.as_deref(),
                household: Some(household),
                owner: None,
            };
            name = match self.who.sight(tx, place)? {
                Some(s) if s != Sight::Aggregates => Some(if Masking::of(s).household_pii {
                    mask_name(&head)
                } else {
                    head
                }),
                _ => None,
            };
        }
        self.heads.insert(household.to_string(), name.clone());
        Ok(name)
    }
}

/// Fills each list's `entries`, one per id, for the lists whose cards read a record.
pub(super) fn describe(
    tx: &mut dyn Tx,
    who: &Principal,
    items: &mut [TodoItem],
) -> StoreResult<()> {
    let mut names = Names {
        who,
        cadres: HashMap::new(),
        villages: HashMap::new(),
        heads: HashMap::new(),
    };
    let mut lines: HashMap<String, Money> = HashMap::new();
    for item in items.iter_mut() {
        let Some(kind) = kind_of(&item.list) else {
            continue;
        };
        // One scan of the reader's division when the list is long (the scan that made the
        // list), else one indexed read per record (a team's few items, wherever they are).
        let mut all = if item.ids.len() > 20 && !who.division.is_empty() {
            facts(tx, kind, RowFilter::Division(&who.division))?
        } else {
            let mut by_id = HashMap::new();
            for id in &item.ids {
                by_id.extend(facts(tx, kind, RowFilter::Doc(id))?);
            }
            by_id
        };
        let mut entries = Vec::with_capacity(item.ids.len());
        for id in &item.ids {
            let f = all.remove(id).unwrap_or_default();
            let mut e = TodoEntry {
                id: id.clone(),
                date: f.date,
                to: f.to,
                ..TodoEntry::default()
            };
            if let Some(p) = f.person {
                e.person_name = names.cadre(tx, &p)?;
                e.person_id = Some(p);
            }
            if let Some(p) = f.endorser {
                e.endorser_name = Some(names.cadre(tx, &p)?.unwrap_or(p));
            }
            if let Some(h) = f.household {
                e.household_head = names.head(tx, &h)?;
                e.household_id = Some(h);
            }
            if let Some(v) = f.village {
                e.village_name = names.village(tx, &v)?;
                if let Some((year, per_capita, flags_ok, procedure)) = f.r12 {
                    let key = format!("{v}:{year}");
                    let line = match lines.get(&key) {
                        Some(l) => *l,
                        None => {
                            let by = crate::settings::ByCounty::read(tx, [v.as_str()])?;
                            let l = by.of(&v).map_or_else(
                                || crate::reports::default_poverty_line(year),
                                |s| s.rules.adjustment.poverty_line(year),
                            );
                            lines.insert(key, l);
                            l
                        }
                    };
                    e.blockers = r12_household_blockers(per_capita, line, flags_ok)
                        .into_iter()
                        .map(String::from)
                        .chain(procedure)
                        .collect();
                    e.blocker_labels = e
                        .blockers
                        .iter()
                        .map(|b| blocker_label(b).to_string())
                        .collect();
                }
                e.village_code = Some(v);
            }
            entries.push(e);
        }
        item.entries = entries;
    }
    Ok(())
}

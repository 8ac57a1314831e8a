//! Privacy marks and the one masking function (DOMAIN §1).
//!
//! Every field a person could be harmed by has a mark ([`Privacy`]):
//!
//! - **sensitive**: ID, bank and disability-certificate numbers, health data and home or visit
//!   coordinates. In clear only to the household's assigned cadres, the first secretary and the
//!   township; masked for everyone else ([`Sight::Masked`] and below).
//! - **personal**: a household's names and phone numbers. Masked for the organisation
//!   department and the city ([`Sight::MaskedWithNames`], [`Sight::Aggregates`]); cadres' own
//!   names and phones are open (supervisors read them).
//! - **open**: everything else.
//!
//! The marks live in two forms that say the same thing: [`of_column`] for projection columns
//! (the supervisors' pull, the exports), [`of_field`] for a record's fields as documents hold
//! them (the record view, the phone's household page and history tab). A unit test walks every
//! projection table so that no column named like personal data goes unmarked.
//!
//! [`Masking::of`] turns a reader's [`Sight`] into what is hidden; [`mask_json`],
//! [`mask_at`] and [`mask_cell`] apply it, each from the marks, so every surface hides the same
//! fields the same way: numbers keep their first 3 and last 4 characters (`530***1234`), names
//! their first character (`张*`), health and coordinates become `***` (or nothing, in a
//! numeric column).

use rusqlite::types::Value as Cell;
use serde::Serialize;
use serde_json::Value;

use super::Kind;
use super::access::Sight;

/// How private a field is (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privacy {
    Open,
    /// A household's names and phones.
    Personal,
    /// ID, bank and certificate numbers, health, coordinates.
    Sensitive,
}

/// What a reader may not see of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Masking {
    /// Household names and phones are masked (县委组织部, city).
    pub household_pii: bool,
    /// ID and bank numbers, health data and home coordinates are masked (above township, and
    /// a team member for households not assigned to it).
    pub sensitive: bool,
}

impl Masking {
    /// Nothing hidden.
    pub const NONE: Masking = Masking {
        household_pii: false,
        sensitive: false,
    };

    /// What a reader with `sight` of a record may not see in it.
    pub fn of(sight: Sight) -> Masking {
        Masking {
            household_pii: matches!(sight, Sight::MaskedWithNames | Sight::Aggregates),
            sensitive: !matches!(sight, Sight::Clear | Sight::Own),
        }
    }

    /// Whether a field marked `privacy` is hidden.
    pub fn hides(self, privacy: Privacy) -> bool {
        match privacy {
            Privacy::Open => false,
            Privacy::Personal => self.household_pii,
            Privacy::Sensitive => self.sensitive,
        }
    }
}

/// Projection columns that are not open, by table. Every column of every table whose name
/// looks personal is listed in [`COLUMN_MARKS`] or [`OPEN_COLUMNS`] (a unit test checks), so a
/// new column is a decision, not an accident.
const COLUMN_MARKS: &[(&str, &str, Privacy)] = &[
    ("p_household", "head_name", Privacy::Personal),
    ("p_household", "phone", Privacy::Personal),
    ("p_household", "home_lat", Privacy::Sensitive),
    ("p_household", "home_lon", Privacy::Sensitive),
    ("p_member", "name", Privacy::Personal),
    ("p_member", "id_no", Privacy::Sensitive),
    ("p_member_id", "id_no", Privacy::Sensitive),
    ("p_member", "health", Privacy::Sensitive),
    ("p_visit", "lat", Privacy::Sensitive),
    ("p_visit", "lon", Privacy::Sensitive),
    ("p_visit", "accuracy_m", Privacy::Sensitive),
    ("p_cadre", "id_no", Privacy::Sensitive),
];

/// Columns named like personal data that are open on purpose: cadres' and units' own names
/// and phones (supervisors read them), places of check-ins (a cadre's own work record, read by
/// those who review attendance), names of villages, projects and policy items.
#[cfg(test)]
const OPEN_COLUMNS: &[(&str, &str)] = &[
    ("p_cadre", "name"),
    ("p_cadre", "phone"),
    // The township official who signed an attendance ledger: an official's name, like a
    // cadre's, not a household's.
    ("p_ledger_signature", "signer_name"),
    ("p_unit", "name"),
    ("p_village", "name"),
    ("p_village", "centroid_lat"),
    ("p_village", "centroid_lon"),
    ("p_member", "relation"),
    ("p_policy_item", "name"),
    ("p_project", "name"),
    ("p_checkin", "lat"),
    ("p_checkin", "lon"),
    ("p_checkin", "accuracy_m"),
];

/// A projection column's mark.
pub fn of_column(table: &str, column: &str) -> Privacy {
    COLUMN_MARKS
        .iter()
        .find(|(t, c, _)| *t == table && *c == column)
        .map_or(Privacy::Open, |(_, _, p)| *p)
}

/// A record field's mark, by its key inside a record of `kind` (any depth: a member's `id_no`
/// inside `members`, a visit's `geo`). Names and phones are personal only in a household's
/// record (its members'), not in cadres', units' or villages' own.
pub fn of_field(kind: Kind, key: &str) -> Privacy {
    if key == "id_no"
        || key == "id_numbers"
        || key.ends_with("_id_no")
        || key.contains("bank")
        || key.ends_with("cert_no")
        || matches!(key, "health" | "disability" | "home_geo" | "geo")
    {
        return Privacy::Sensitive;
    }
    if kind == Kind::Household && matches!(key, "name" | "phone" | "head_name") {
        return Privacy::Personal;
    }
    Privacy::Open
}

/// A household name shown masked: the first character, then `*` (`张*`, `欧阳**`).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first)
            .chain(chars.map(|_| '*'))
            .collect::<String>(),
        None => String::new(),
    }
}

/// An ID, bank or phone number shown masked: the first 3 and last 4 characters kept when it is
/// longer than 8, else all `*`.
pub fn mask_number(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// A hidden text value: names keep their first character, numbers their ends, anything else
/// (health, coordinates written as text) becomes `***`.
pub fn mask_text(key: &str, s: &str) -> String {
    if matches!(key, "name" | "head_name") {
        mask_name(s)
    } else if key == "phone"
        || key == "id_no"
        || key == "id_numbers"
        || key.ends_with("_id_no")
        || key.contains("bank")
        || key.ends_with("cert_no")
    {
        mask_number(s)
    } else {
        "***".into()
    }
}

/// Masks a record's JSON (its `data`, or any part of it) in place, as `masking` requires.
pub fn mask_json(kind: Kind, value: &mut Value, masking: Masking) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if masking.hides(of_field(kind, key)) {
                    hide(key, v);
                    continue;
                }
                mask_json(kind, v, masking);
            }
        }
        Value::Array(items) => {
            for v in items {
                mask_json(kind, v, masking);
            }
        }
        _ => {}
    }
}

/// A hidden field's value: text masked for its key; a household's ID numbers by member each
/// masked (the members stay); anything else `***`.
fn hide(key: &str, v: &mut Value) {
    match v {
        Value::Null => {}
        Value::String(s) => *s = mask_text(key, s),
        Value::Object(map) if key == "id_numbers" => map.values_mut().for_each(|v| hide(key, v)),
        _ => *v = Value::String("***".into()),
    }
}

/// Masks `value` found at `path` inside a record's `data` (a history entry's old or new
/// value), as if it sat in the whole record.
pub fn mask_at(kind: Kind, path: &[String], value: &mut Value, masking: Masking) {
    let mut wrapped = value.take();
    for key in path.iter().rev() {
        let mut map = serde_json::Map::new();
        map.insert(key.clone(), wrapped);
        wrapped = Value::Object(map);
    }
    mask_json(kind, &mut wrapped, masking);
    for key in path {
        wrapped = match wrapped {
            Value::Object(mut map) => map.remove(key).unwrap_or(Value::Null),
            other => other,
        };
    }
    *value = wrapped;
}

/// One projection cell as `masking` shows it: text masked as [`mask_json`] does, a hidden
/// number (a coordinate) left out.
pub fn mask_cell(table: &str, column: &str, v: &Cell, masking: Masking) -> Cell {
    if !masking.hides(of_column(table, column)) {
        return v.clone();
    }
    match v {
        Cell::Text(s) => Cell::Text(mask_text(column, s)),
        Cell::Null => Cell::Null,
        _ => Cell::Null,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::all_tables;

    /// Column names that look like personal data: each such column must be marked or listed
    /// as open on purpose.
    fn looks_personal(column: &str) -> bool {
        [
            "name", "phone", "id_no", "bank", "cert", "health", "lat", "lon", "geo", "accuracy",
        ]
        .iter()
        .any(|w| column.contains(w))
    }

    #[test]
    fn every_personal_looking_column_is_a_decision() {
        let tables = all_tables();
        let mut undecided = Vec::new();
        for (_, table) in &tables {
            for (column, _) in table.columns {
                if !looks_personal(column) {
                    continue;
                }
                let marked = COLUMN_MARKS
                    .iter()
                    .any(|(t, c, _)| *t == table.name && c == column);
                let open = OPEN_COLUMNS
                    .iter()
                    .any(|(t, c)| *t == table.name && c == column);
                if marked == open {
                    undecided.push(format!("{}.{column}", table.name));
                }
            }
        }
        assert!(
            undecided.is_empty(),
            "mark these in COLUMN_MARKS or list them in OPEN_COLUMNS (once): {undecided:?}"
        );
        // Every mark names a real column.
        let listed = OPEN_COLUMNS.iter().copied();
        for (t, c) in COLUMN_MARKS.iter().map(|(t, c, _)| (*t, *c)).chain(listed) {
            assert!(
                tables
                    .iter()
                    .any(|(_, table)| table.name == t && table.columns.iter().any(|(n, _)| *n == c)),
                "{t}.{c} is not a projection column"
            );
        }
    }

    #[test]
    fn columns_and_fields_agree() {
        // The same datum is marked alike as a column and as a field.
        for (table, column, field, kind) in [
            ("p_member", "id_no", "id_no", Kind::Household),
            ("p_member_id", "id_no", "id_numbers", Kind::HouseholdPrivate),
            ("p_member", "health", "health", Kind::Household),
            ("p_member", "name", "name", Kind::Household),
            ("p_household", "phone", "phone", Kind::Household),
            ("p_household", "home_lat", "home_geo", Kind::Household),
            ("p_visit", "lat", "geo", Kind::Visit),
            ("p_cadre", "id_no", "id_no", Kind::Cadre),
            ("p_cadre", "name", "name", Kind::Cadre),
            ("p_cadre", "phone", "phone", Kind::Cadre),
        ] {
            assert_eq!(
                of_column(table, column),
                of_field(kind, field),
                "{table}.{column}"
            );
        }
    }

    #[test]
    fn masking_follows_the_sight() {
        assert_eq!(Masking::of(Sight::Clear), Masking::NONE);
        assert_eq!(Masking::of(Sight::Own), Masking::NONE);
        assert!(Masking::of(Sight::MaskedUnlessAssigned).sensitive);
        assert!(!Masking::of(Sight::Masked).household_pii);
        assert!(Masking::of(Sight::MaskedWithNames).household_pii);
    }

    #[test]
    fn a_household_is_masked_field_by_field() {
        let mut h = serde_json::to_value(crate::domain::Household::example()).unwrap();
        let clear = h.clone();
        mask_json(Kind::Household, &mut h, Masking::of(Sight::Masked));
        let text = h.to_string();
        for m in clear["members"].as_object().unwrap().values() {
            // Names stay for the county office.
            assert!(text.contains(m["name"].as_str().unwrap()));
        }
        assert!(h.get("home_geo").is_some_and(|g| g == "***"), "{h}");
        // The numbers, in their own record: each keeps its ends and its member.
        let p = crate::domain::HouseholdPrivate::example();
        let mut n = serde_json::to_value(&p).unwrap();
        mask_json(Kind::HouseholdPrivate, &mut n, Masking::of(Sight::Masked));
        let text = n.to_string();
        for (member, id) in &p.id_numbers {
            assert!(!text.contains(id.as_str()), "{id} in clear");
            assert_eq!(n["id_numbers"][member], mask_number(id));
        }
        let bank = p.bank_account.as_deref().unwrap();
        assert!(!text.contains(bank));
        assert_eq!(n["bank_account"], mask_number(bank));
        mask_json(Kind::Household, &mut h, Masking::of(Sight::MaskedWithNames));
        for m in clear["members"].as_object().unwrap().values() {
            assert!(!h.to_string().contains(m["name"].as_str().unwrap()));
        }
        // A cadre's own name stays.
        let mut c = serde_json::to_value(crate::domain::Cadre::example()).unwrap();
        let name = c["name"].as_str().unwrap().to_string();
        mask_json(Kind::Cadre, &mut c, Masking::of(Sight::MaskedWithNames));
        assert_eq!(c["name"], name);
        assert_ne!(
            c["id_no"],
            serde_json::to_value(crate::domain::Cadre::example()).unwrap()["id_no"]
        );
    }

    #[test]
    fn numbers_and_names_keep_their_ends() {
        assert_eq!(mask_number("530322199001011234"), "530***********1234");
        assert_eq!(mask_number("1234"), "****");
        assert_eq!(mask_name("欧阳修"), "欧**");
        assert_eq!(
            mask_cell(
                "p_visit",
                "lat",
                &Cell::Real(25.1),
                Masking::of(Sight::Masked)
            ),
            Cell::Null
        );
        assert_eq!(
            mask_cell("p_visit", "lat", &Cell::Real(25.1), Masking::NONE),
            Cell::Real(25.1)
        );
    }
}

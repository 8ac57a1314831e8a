//! A household's ID and bank numbers, in a document of their own (DOMAIN §1: a team member
//! reads the village's households "ID/bank numbers masked unless assigned").
//!
//! A CRDT document travels as its changes, and every change carries the values it set, so a
//! masked copy of a household cannot be sent: whoever receives the household's document
//! receives every number it ever held. The numbers therefore live in a second record per
//! household, kind `household_private`, placed in the household's village and household: the
//! first secretary, the township and the household's assigned cadres receive it; a team member
//! receives the household without it (see [`super::access`]: its read right is the assigned
//! households'), so its phone never holds the numbers of a household not assigned to it.
//!
//! What is here and what is not: the members' resident ID numbers (or 20-character disability
//! certificate numbers, 残疾证号) and the bank or 一卡通 account. DOMAIN §1 masks health and
//! home coordinates only above the township: team members judge 三保障 (health) and check
//! visits against the home (coordinates) for the whole village, so those stay in the
//! household.
//!
//! A household has at most one such record (its `household_id` is unique). On the phone and the
//! server, `p_member.id_no` is filled from this record's `p_member_id` rows whenever either
//! record is projected ([`crate::store::replace_projection_rows`]), so the supervisors' pulls and
//! exports keep the ID number beside the member's name, for those who may read it.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::id_number;
use super::{Envelope, Kind, Record, ScopeHint, UniqueValue};
use crate::error::{Problem, ValidationError};
use crate::projection::{Rows, Sql, SqlType, Table};

/// The ID and bank numbers of one household (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HouseholdPrivate {
    /// The household's record id.
    pub household_id: String,
    /// 一卡通 or bank account that benefits are paid into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_account: Option<String>,
    /// By member id (a key of the household's `members`): the resident ID number, or the
    /// 20-character disability certificate number (残疾证号).
    #[serde(default)]
    pub id_numbers: BTreeMap<String, String>,
}

impl HouseholdPrivate {
    /// The numbers of [`super::Household::example`]'s members (of household `hh-1`).
    pub fn example() -> Self {
        let id_numbers = [
            ("m1", "530322196804122018"),
            ("m2", "530322197008232026"),
            ("m3", "530322199301053018"),
            ("m4", "530322199511204021"),
            ("m5", "530322200803151035"),
        ]
        .into_iter()
        .map(|(m, n)| (m.to_string(), n.to_string()))
        .collect();
        HouseholdPrivate {
            household_id: "hh-1".into(),
            bank_account: Some("6210984870001234567".into()),
            id_numbers,
        }
    }

    /// The numbers as a reader who may not see them in clear sees them (numbers keep their
    /// first 3 and last 4 characters).
    pub fn masked(mut self) -> HouseholdPrivate {
        use super::privacy::mask_number;
        self.bank_account = self.bank_account.map(|b| mask_number(&b));
        for n in self.id_numbers.values_mut() {
            *n = mask_number(n);
        }
        self
    }

    /// The fields under which a household kept these numbers before they moved here:
    /// `bank_account` in the household, `id_no` in each member.
    pub const PRE_SPLIT_KEYS: [&str; 2] = ["bank_account", "id_no"];

    /// The numbers a household's data from before the split holds (`data` as stored: the
    /// household's JSON), or `None` when it holds none.
    pub fn from_pre_split(
        household_id: &str,
        data: &serde_json::Value,
    ) -> Option<HouseholdPrivate> {
        let text = |v: Option<&serde_json::Value>| {
            v.and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let id_numbers: BTreeMap<String, String> = data
            .get("members")
            .and_then(serde_json::Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(key, m)| text(m.get("id_no")).map(|n| (key.clone(), n)))
            .collect();
        let bank_account = text(data.get("bank_account"));
        (bank_account.is_some() || !id_numbers.is_empty()).then(|| HouseholdPrivate {
            household_id: household_id.to_string(),
            bank_account,
            id_numbers,
        })
    }

    /// A member's ID number, if this record has it.
    pub fn id_no(&self, member_id: &str) -> Option<&str> {
        self.id_numbers.get(member_id).map(String::as_str)
    }

    /// The numbers against the household's members: each belongs to a member, whose birth
    /// date is the one in the number (checked where both records are held: the server, and
    /// the phones of those who read the numbers).
    pub fn check_members(&self, household: &super::Household) -> Result<(), ValidationError> {
        for (key, n) in &self.id_numbers {
            let Some(m) = household.members.get(key) else {
                return Err(ValidationError::new(
                    format!("id_numbers.{key}"),
                    Problem::Inconsistent,
                    "the household has no member with this id",
                ));
            };
            if id_number::birth_date(n) != Some(m.birth_date) {
                return Err(ValidationError::new(
                    format!("members.{key}.birth_date"),
                    Problem::Inconsistent,
                    "the birth date differs from the one in the ID number",
                ));
            }
        }
        Ok(())
    }
}

static TABLES: [Table; 2] = [
    Table {
        name: "p_household_private",
        columns: &[("household_id", SqlType::Text)],
        indexes: &[&["household_id"]],
    },
    Table {
        name: "p_member_id",
        columns: &[
            ("household_id", SqlType::Text),
            ("member_id", SqlType::Text),
            ("id_no", SqlType::Text),
        ],
        indexes: &[&["id_no"], &["household_id"]],
    },
];

impl Record for HouseholdPrivate {
    const KIND: Kind = Kind::HouseholdPrivate;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Household(self.household_id.clone())
    }

    /// One record per household; R10: an ID number belongs to one person, whichever household
    /// they are in.
    fn unique_values(&self) -> Vec<UniqueValue> {
        let mut out = vec![UniqueValue {
            field: "household_id".into(),
            table: "p_household_private",
            column: "household_id",
            value: self.household_id.clone(),
        }];
        out.extend(self.id_numbers.iter().map(|(key, n)| UniqueValue {
            field: format!("id_numbers.{key}"),
            table: "p_member_id",
            column: "id_no",
            value: n.clone(),
        }));
        out
    }

    fn validate(&self) -> Result<(), ValidationError> {
        super::org::code_text("household_id", &self.household_id)?;
        if let Some(account) = &self.bank_account {
            let ok =
                (8..=32).contains(&account.len()) && account.bytes().all(|b| b.is_ascii_digit());
            if !ok {
                return Err(ValidationError::new(
                    "bank_account",
                    Problem::Malformed,
                    "an account number has 8 to 32 digits and nothing else",
                ));
            }
        }
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for (key, n) in &self.id_numbers {
            let field = format!("id_numbers.{key}");
            if key.trim().is_empty() {
                return Err(ValidationError::new(
                    field,
                    Problem::Required,
                    "a number belongs to a member",
                ));
            }
            id_number::check_member_id_no(n)
                .map_err(|e| ValidationError::new(&field, Problem::BadIdNumber, e.to_string()))?;
            // A disability certificate number embeds the ID number: compare the first 18.
            let id = n.get(..18).unwrap_or(n);
            if let Some(other) = seen.insert(id, key) {
                return Err(ValidationError::new(
                    field,
                    Problem::Inconsistent,
                    format!("member {other} has the same ID number"),
                ));
            }
        }
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &TABLES
    }

    fn project(&self, _env: &Envelope, rows: &mut Rows) {
        rows.push(
            "p_household_private",
            vec![("household_id", self.household_id.sql())],
        );
        for (member, n) in &self.id_numbers {
            rows.push(
                "p_member_id",
                vec![
                    ("household_id", self.household_id.sql()),
                    ("member_id", member.sql()),
                    ("id_no", n.sql()),
                ],
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::Household;

    #[test]
    fn a_household_from_before_the_split_gives_up_its_numbers() {
        let mut data = serde_json::to_value(Household::example()).unwrap();
        assert_eq!(HouseholdPrivate::from_pre_split("hh-1", &data), None);
        let example = HouseholdPrivate::example();
        data["bank_account"] = example.bank_account.clone().into();
        for (key, n) in &example.id_numbers {
            data["members"][key]["id_no"] = n.clone().into();
        }
        data["members"]["m1"]["id_no"] = " ".into();
        let mut expected = example;
        expected.id_numbers.remove("m1");
        assert_eq!(
            HouseholdPrivate::from_pre_split("hh-1", &data),
            Some(expected)
        );
    }

    #[test]
    fn the_example_is_valid_and_belongs_to_the_example_household() {
        let p = HouseholdPrivate::example();
        p.validate().unwrap();
        p.check_members(&Household::example()).unwrap();
        assert_eq!(p.scope(), ScopeHint::Household("hh-1".into()));
    }

    #[test]
    fn bad_and_repeated_numbers_are_refused_with_their_field() {
        let mut p = HouseholdPrivate::example();
        p.id_numbers
            .insert("m2".into(), "530322197008232027".into());
        let e = p.validate().unwrap_err();
        assert_eq!(e.field, "id_numbers.m2");
        assert_eq!(e.problem, Problem::BadIdNumber);

        let mut p = HouseholdPrivate::example();
        let head = p.id_numbers["m1"].clone();
        // A disability certificate number of the head (its ID + category and grade).
        p.id_numbers.insert("m2".into(), format!("{head}42"));
        let e = p.validate().unwrap_err();
        assert_eq!(e.field, "id_numbers.m2");
        assert_eq!(e.problem, Problem::Inconsistent);

        let mut p = HouseholdPrivate::example();
        p.bank_account = Some("62109848-7000".into());
        assert_eq!(p.validate().unwrap_err().field, "bank_account");

        let mut p = HouseholdPrivate::example();
        p.id_numbers
            .insert("m9".into(), "530322200803151035".into());
        p.id_numbers.remove("m5");
        assert_eq!(
            p.check_members(&Household::example()).unwrap_err().field,
            "id_numbers.m9"
        );
        // A disability certificate number (ID + category 4 肢体 + grade 2) is a number too.
        let mut p = HouseholdPrivate::example();
        p.id_numbers
            .insert("m1".into(), "53032219680412201842".into());
        p.validate().unwrap();
        p.id_numbers
            .insert("m1".into(), "53032219680412201892".into());
        assert_eq!(p.validate().unwrap_err().problem, Problem::BadIdNumber);
        p.id_numbers.insert("m1".into(), String::new());
        assert_eq!(p.validate().unwrap_err().problem, Problem::BadIdNumber);
    }

    #[test]
    fn the_birth_date_must_match_the_id_number() {
        let p = HouseholdPrivate::example();
        let mut h = Household::example();
        h.members.get_mut("m2").unwrap().birth_date = "1970-08-24".parse().unwrap();
        let e = p.check_members(&h).unwrap_err();
        assert_eq!(e.field, "members.m2.birth_date");
        // The gender digit is not checked: a mismatch is a report item, not a block.
        let mut h = Household::example();
        h.members.get_mut("m2").unwrap().gender = crate::domain::codes::Gender::Male;
        p.check_members(&h).unwrap();
    }

    #[test]
    fn masking_keeps_the_ends_of_each_number() {
        let p = HouseholdPrivate::example().masked();
        assert_eq!(p.id_numbers["m1"], "530***********2018");
        assert_eq!(p.bank_account.as_deref(), Some("621************4567"));
    }
}

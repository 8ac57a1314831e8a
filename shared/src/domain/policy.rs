//! Policy delivery (政策兑现, DOMAIN §2.5): the county's policy catalog, what each household
//! is entitled to, and each delivery with the household's acknowledgement.
//!
//! Not here: the delivery gap and the unverified count (R11, report 5). They compare
//! entitlements with deliveries across records and against a report date, so they are
//! queries over `p_entitlement` and `p_delivery`, not fields.

use serde::{Deserialize, Serialize};

use super::check::{consistent, non_empty, range};
use super::codes::{DeliveryChannel, DeliveryStatus, PolicyCategory};
use super::org::{code_text, opt_text};
use super::{Envelope, Kind, Record, ScopeHint};
use crate::error::{Problem, ValidationError};
use crate::projection::{Rows, Sql, SqlType, Table};
use crate::values::{Date, Money};

use chrono::Datelike;

// ---------------------------------------------------------------------------------------------
// PolicyItem 政策项目

/// One item of the county's policy catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyItem {
    /// The county's code for the item, e.g. `JY-ZZ-01`; entitlements refer to it.
    pub code: String,
    pub name: String,
    pub category: PolicyCategory,
    /// The usual amount per household (or person) and year, where the policy has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard_amount: Option<Money>,
    /// Who qualifies, as the county's document says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligibility: Option<String>,
}

impl PolicyItem {
    /// A valid example record, for tests, docs and the demo.
    pub fn example() -> Self {
        PolicyItem {
            code: "JY-YWJY-01".into(),
            name: "义务教育阶段建档立卡学生生活补助".into(),
            category: PolicyCategory::Education,
            standard_amount: Some(Money::from_yuan(1_000)),
            eligibility: Some("建档立卡贫困户家庭义务教育阶段在校学生".into()),
        }
    }
}

static POLICY_ITEM_TABLES: [Table; 1] = [Table {
    name: "p_policy_item",
    columns: &[
        ("code", SqlType::Text),
        ("name", SqlType::Text),
        ("category", SqlType::Text),
        ("standard_amount", SqlType::Integer),
        ("state", SqlType::Text),
    ],
    indexes: &[&["code"], &["category"]],
}];

impl Record for PolicyItem {
    const KIND: Kind = Kind::PolicyItem;

    fn validate(&self) -> Result<(), ValidationError> {
        code_text("code", &self.code)?;
        non_empty("name", &self.name)?;
        if let Some(amount) = self.standard_amount {
            range(
                "standard_amount",
                !amount.is_negative(),
                "an amount cannot be negative",
            )?;
        }
        opt_text("eligibility", &self.eligibility)
    }

    fn tables() -> &'static [Table] {
        &POLICY_ITEM_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        rows.push(
            "p_policy_item",
            vec![
                ("code", self.code.sql()),
                ("name", self.name.sql()),
                ("category", self.category.sql()),
                ("standard_amount", self.standard_amount.sql()),
                ("state", env.state.code().sql()),
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Entitlement 应享政策

/// What a household (or one member) is due under a policy in a year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Entitlement {
    pub household_id: String,
    /// Set when the benefit is a member's (a pupil's allowance, a patient's relief).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    pub policy_code: String,
    pub year: i32,
    /// Not every benefit is money (a relocation home, seedlings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_amount: Option<Money>,
    pub due_date: Date,
    /// Why the household qualifies (致贫原因, attribute, the member's schooling...).
    pub basis: String,
}

impl Entitlement {
    /// A valid example record, for tests, docs and the demo.
    pub fn example() -> Self {
        Entitlement {
            household_id: "hh-530322101201-0007".into(),
            member_id: Some("m5".into()),
            policy_code: "JY-YWJY-01".into(),
            year: 2015,
            due_amount: Some(Money::from_yuan(500)),
            due_date: Date::from_ymd_opt(2015, 10, 31).expect("valid date"),
            basis: "孙子张浩就读小学二年级,秋季学期生活补助".into(),
        }
    }
}

static ENTITLEMENT_TABLES: [Table; 1] = [Table {
    name: "p_entitlement",
    columns: &[
        ("household_id", SqlType::Text),
        ("member_id", SqlType::Text),
        ("policy_code", SqlType::Text),
        ("year", SqlType::Integer),
        ("due_amount", SqlType::Integer),
        ("due_date", SqlType::Text),
        ("state", SqlType::Text),
    ],
    indexes: &[
        &["household_id", "year"],
        &["policy_code", "due_date"],
        &["due_date"],
    ],
}];

impl Record for Entitlement {
    const KIND: Kind = Kind::Entitlement;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Household(self.household_id.clone())
    }

    fn validate(&self) -> Result<(), ValidationError> {
        non_empty("household_id", &self.household_id)?;
        opt_text("member_id", &self.member_id)?;
        code_text("policy_code", &self.policy_code)?;
        range(
            "year",
            (2000..=2100).contains(&self.year),
            "the year is not plausible",
        )?;
        if let Some(amount) = self.due_amount {
            range(
                "due_amount",
                !amount.is_negative(),
                "an amount cannot be negative",
            )?;
        }
        // A year's benefit falls due in that year, or early in the next (year-end payments).
        consistent(
            "due_date",
            (self.year..=self.year + 1).contains(&self.due_date.year()),
            "the due date is not in the entitlement's year or the next",
        )?;
        non_empty("basis", &self.basis)
    }

    fn tables() -> &'static [Table] {
        &ENTITLEMENT_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        rows.push(
            "p_entitlement",
            vec![
                ("household_id", self.household_id.sql()),
                ("member_id", self.member_id.sql()),
                ("policy_code", self.policy_code.sql()),
                ("year", self.year.sql()),
                ("due_amount", self.due_amount.sql()),
                ("due_date", self.due_date.sql()),
                ("state", env.state.code().sql()),
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Delivery 兑现记录

/// One delivery of an entitlement: money (`amount`) or goods (`in_kind`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Delivery {
    pub entitlement_id: String,
    /// Required unless the channel is 实物.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// What was handed over; required for the 实物 channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_kind: Option<String>,
    pub delivered_date: Date,
    pub channel: DeliveryChannel,
    /// 凭证号: bank slip, receipt or payroll number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher_no: Option<String>,
    /// The visit at which a cadre checked the delivery with the household.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_visit_id: Option<String>,
    /// The household signed to confirm it received the benefit (R11).
    pub household_ack: bool,
    pub status: DeliveryStatus,
}

impl Delivery {
    /// A valid example record, for tests, docs and the demo.
    pub fn example() -> Self {
        Delivery {
            entitlement_id: "ent-2015-0007-jy01".into(),
            amount: Some(Money::from_yuan(500)),
            in_kind: None,
            delivered_date: Date::from_ymd_opt(2015, 10, 20).expect("valid date"),
            channel: DeliveryChannel::OneCard,
            voucher_no: Some("LL2015102000731".into()),
            verified_visit_id: None,
            household_ack: true,
            status: DeliveryStatus::Delivered,
        }
    }
}

static DELIVERY_TABLES: [Table; 1] = [Table {
    name: "p_delivery",
    columns: &[
        ("entitlement_id", SqlType::Text),
        ("amount", SqlType::Integer),
        ("in_kind", SqlType::Text),
        ("delivered_date", SqlType::Text),
        ("channel", SqlType::Text),
        ("household_ack", SqlType::Integer),
        ("verified_visit_id", SqlType::Text),
        ("status", SqlType::Text),
        ("author_id", SqlType::Text),
        ("state", SqlType::Text),
    ],
    indexes: &[&["entitlement_id"], &["status", "delivered_date"]],
}];

impl Record for Delivery {
    const KIND: Kind = Kind::Delivery;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Entitlement(self.entitlement_id.clone())
    }

    fn record_date(&self) -> Option<Date> {
        Some(self.delivered_date)
    }

    fn validate(&self) -> Result<(), ValidationError> {
        non_empty("entitlement_id", &self.entitlement_id)?;
        opt_text("in_kind", &self.in_kind)?;
        if let Some(amount) = self.amount {
            range(
                "amount",
                !amount.is_negative(),
                "an amount cannot be negative",
            )?;
        }
        match (self.amount.is_some(), self.in_kind.is_some()) {
            (false, false) => {
                return Err(ValidationError::new(
                    "amount",
                    Problem::Required,
                    "a delivery is an amount of money or goods in kind",
                ));
            }
            (false, true) if self.channel != DeliveryChannel::InKind => {
                return Err(ValidationError::new(
                    "amount",
                    Problem::Required,
                    "money paid through this channel needs its amount",
                ));
            }
            (true, false) if self.channel == DeliveryChannel::InKind => {
                return Err(ValidationError::new(
                    "in_kind",
                    Problem::Required,
                    "say what goods were handed over",
                ));
            }
            _ => {}
        }
        opt_text("voucher_no", &self.voucher_no)?;
        opt_text("verified_visit_id", &self.verified_visit_id)
    }

    fn tables() -> &'static [Table] {
        &DELIVERY_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        rows.push(
            "p_delivery",
            vec![
                ("entitlement_id", self.entitlement_id.sql()),
                ("amount", self.amount.sql()),
                ("in_kind", self.in_kind.sql()),
                ("delivered_date", self.delivered_date.sql()),
                ("channel", self.channel.sql()),
                ("household_ack", self.household_ack.sql()),
                ("verified_visit_id", self.verified_visit_id.sql()),
                ("status", self.status.sql()),
                ("author_id", env.author_id.sql()),
                ("state", env.state.code().sql()),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value;
    use serde_json::json;

    use super::*;
    use crate::domain::codes::testkit::{
        assert_invalid, assert_round_trips, cell, date, edited_json, json_error, project, text,
    };

    #[test]
    fn examples_are_valid_and_round_trip() {
        assert_eq!(PolicyItem::example().validate(), Ok(()));
        assert_round_trips(&PolicyItem::example());
        assert_eq!(Entitlement::example().validate(), Ok(()));
        assert_round_trips(&Entitlement::example());
        assert_eq!(Delivery::example().validate(), Ok(()));
        assert_round_trips(&Delivery::example());
    }

    #[test]
    fn policy_item_rules() {
        let mut p = PolicyItem::example();
        p.code = "JY 01".into();
        assert_invalid(&p, "code", Problem::Malformed);
        let mut p = PolicyItem::example();
        p.standard_amount = Some(Money::from_yuan(-1));
        assert_invalid(&p, "standard_amount", Problem::OutOfRange);
        let err = json_error::<PolicyItem>(edited_json(&PolicyItem::example(), |m| {
            m.insert("category".into(), json!("教育扶贫"));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("category", Problem::UnknownCode)
        );
    }

    #[test]
    fn entitlement_rules() {
        let mut e = Entitlement::example();
        e.due_amount = Some(Money::from_fen(-50));
        assert_invalid(&e, "due_amount", Problem::OutOfRange);

        let mut e = Entitlement::example();
        e.due_date = date("2016-01-15");
        assert_eq!(e.validate(), Ok(()), "due early next year");
        e.due_date = date("2017-01-15");
        assert_invalid(&e, "due_date", Problem::Inconsistent);
        e.due_date = date("2014-12-31");
        assert_invalid(&e, "due_date", Problem::Inconsistent);

        let mut e = Entitlement::example();
        e.basis = String::new();
        assert_invalid(&e, "basis", Problem::Required);

        let err = json_error::<Entitlement>(edited_json(&Entitlement::example(), |m| {
            m.remove("due_date");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("due_date", Problem::Required)
        );
    }

    #[test]
    fn a_delivery_is_money_or_goods() {
        let mut d = Delivery::example();
        d.amount = None;
        assert_invalid(&d, "amount", Problem::Required);

        d.in_kind = Some("化肥 200 公斤".into());
        assert_invalid(&d, "amount", Problem::Required);
        d.channel = DeliveryChannel::InKind;
        assert_eq!(d.validate(), Ok(()));

        let mut d = Delivery::example();
        d.channel = DeliveryChannel::InKind;
        assert_invalid(&d, "in_kind", Problem::Required);

        let mut d = Delivery::example();
        d.amount = Some(Money::from_yuan(-500));
        assert_invalid(&d, "amount", Problem::OutOfRange);

        let mut d = Delivery::example();
        d.in_kind = Some(String::new());
        assert_invalid(&d, "in_kind", Problem::Required);
    }

    #[test]
    fn delivery_json() {
        let err = json_error::<Delivery>(edited_json(&Delivery::example(), |m| {
            m.remove("household_ack");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("household_ack", Problem::Required)
        );
        let err = json_error::<Delivery>(edited_json(&Delivery::example(), |m| {
            m.insert("status".into(), json!("paid"));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("status", Problem::UnknownCode)
        );
        let err = json_error::<Delivery>(edited_json(&Delivery::example(), |m| {
            m.insert("amount".into(), json!("5OO"));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("amount", Problem::Malformed)
        );
    }

    #[test]
    fn projections() {
        let rows = project(&PolicyItem::example());
        assert_eq!(
            cell(&rows, "p_policy_item", 0, "category"),
            &text("education")
        );
        assert_eq!(
            cell(&rows, "p_policy_item", 0, "standard_amount"),
            &Value::Integer(100_000)
        );

        let rows = project(&Entitlement::example());
        assert_eq!(
            cell(&rows, "p_entitlement", 0, "due_amount"),
            &Value::Integer(50_000)
        );
        assert_eq!(
            cell(&rows, "p_entitlement", 0, "due_date"),
            &text("2015-10-31")
        );
        assert_eq!(cell(&rows, "p_entitlement", 0, "member_id"), &text("m5"));

        let mut d = Delivery::example();
        d.household_ack = false;
        let rows = project(&d);
        assert_eq!(
            cell(&rows, "p_delivery", 0, "amount"),
            &Value::Integer(50_000)
        );
        assert_eq!(
            cell(&rows, "p_delivery", 0, "household_ack"),
            &Value::Integer(0)
        );
        assert_eq!(cell(&rows, "p_delivery", 0, "status"), &text("delivered"));
        assert_eq!(cell(&rows, "p_delivery", 0, "channel"), &text("one_card"));
        assert_eq!(cell(&rows, "p_delivery", 0, "in_kind"), &Value::Null);
    }
}

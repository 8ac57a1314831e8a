//! The registered household (建档立卡贫困户, DOMAIN §2.2) with its members and yearly incomes,
//! following the 贫困户登记表 indicators, and its derived 两不愁三保障 + 饮水安全 flags.
//!
//! A household is shared master data: several cadres edit it offline at once. So its members
//! and incomes are maps (by member id, and by year as a string) rather than lists: two cadres
//! who each add a member or fill in a different year merge key by key instead of clashing on
//! one list. The household's id (`household_id` in DOMAIN) is its document id; members and
//! incomes do not repeat it.
//!
//! Not here: derived values frozen into the record. `net_income`, `per_capita` and the flags
//! are computed when read ([`Income::net_income`], [`Household::flags`]); ID numbers are
//! checked one by one here, their city-wide uniqueness by the store.

use std::collections::BTreeMap;

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use super::check::{consistent, non_empty, range};
use super::codes::{
    ChecklistAnswer, Education, Gender, Health, HouseSafety, HouseStructure, HouseholdAttribute,
    HouseholdStatus, IdStandard, Labor, MemberChangeReason, PovertyCause, Relation, RelocationMode,
    RoadType, SchoolStatus, WaterSource, WorkPlace,
};
use super::org::{check_phone, code_text, opt_text};
use super::{Envelope, Kind, Record, ScopeHint};
use crate::error::{Problem, ValidationError};
use crate::projection::{Rows, Sql, SqlType, Table};
use crate::values::{Date, Geo, Money};

/// Sanity bounds on years (registration began in 2014; anything outside is a typo).
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// A registered household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Household {
    pub village_code: String,
    /// 自然村/村民小组, one of the village's `hamlets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hamlet: Option<String>,
    /// The member who is 户主; must be an active member with relation 户主 (R10).
    pub head_member_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Required by DOMAIN, but only known once a cadre has stood at the home: it is set at the
    /// first verified visit (and changed only with the leader's confirmation), so a household
    /// registered from the 登记表 before any visit has none yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_geo: Option<Geo>,
    pub id_standard: IdStandard,
    pub attribute: HouseholdAttribute,
    pub main_cause: PovertyCause,
    /// At most two, never the main cause.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_causes: Vec<PovertyCause>,
    pub status: HouseholdStatus,
    pub registered_year: i32,
    /// The year the household was marked out of poverty (标注脱贫).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_year: Option<i32>,
    /// Contracted farmland (耕地), in mu.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub land_mu: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_structure: Option<HouseStructure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_area_m2: Option<f64>,
    pub house_safety: HouseSafety,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relocation: Option<Relocation>,
    pub water: Water,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub road: Option<RoadType>,
    /// 脱贫计划.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// Keyed by `member_id`. Members who left stay, inactive, with their `change_reason`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub members: BTreeMap<String, Member>,
    /// Keyed by the year as a string (`"2015"`), one entry per year.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub incomes: BTreeMap<String, Income>,
}

/// 易地扶贫搬迁.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Relocation {
    pub is_relocated: bool,
    /// 集中/分散; required when relocated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<RelocationMode>,
    /// The day the household got the keys of its new home; housing counts as safe from then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys_received_date: Option<Date>,
}

/// Drinking water (饮水安全), in the terms of the 农村饮水安全评价准则.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Water {
    pub source: WaterSource,
    /// Litres per person per day.
    pub quantity_lpd: f64,
    /// Time to fetch water and come back. The standard's 800 m horizontal / 80 m vertical are
    /// the same bound expressed as distance (≈20 minutes on foot), so only minutes are kept.
    /// Not needed for piped water.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_round_trip: Option<u32>,
    /// Days a year without water (断水).
    pub outage_days_year: u32,
    /// Water quality acceptable (no visible impurities, no odd taste or smell, tested where
    /// tested).
    pub quality_ok: bool,
}

/// A household member (家庭成员).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Member {
    /// The member's key in [`Household::members`].
    pub member_id: String,
    pub name: String,
    pub gender: Gender,
    pub relation: Relation,
    /// 民族, free text as counties write it (汉族, 彝族...).
    pub ethnicity: String,
    pub birth_date: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub education: Option<Education>,
    pub school_status: SchoolStatus,
    pub health: Health,
    pub labor: Labor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work: Option<WorkPlace>,
    /// Months worked away in the year (务工时间).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_months: Option<u32>,
    /// 城乡居民基本医疗保险.
    pub medical_insured: bool,
    /// 大病保险.
    #[serde(default)]
    pub critical_illness_insured: bool,
    /// 城乡居民基本养老保险.
    #[serde(default)]
    pub pension_insured: bool,
    /// Still a member; members who left keep their row with a departure `change_reason`.
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_reason: Option<MemberChangeReason>,
}

/// A year's income and spending (年度收支), in yuan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Income {
    pub year: i32,
    /// 工资性收入.
    pub wage: Money,
    /// 生产经营性收入.
    pub operating: Money,
    /// 生产经营性支出: a cost, entered as a non-negative amount and subtracted.
    pub operating_cost: Money,
    /// 财产性收入.
    pub property: Money,
    /// 转移性收入, by source.
    pub transfer: Transfers,
}

/// The parts of 转移性收入; a part left out is zero.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Transfers {
    /// 低保金.
    #[serde(default)]
    pub dibao: Money,
    /// 特困供养金.
    #[serde(default)]
    pub tekun: Money,
    /// 养老金.
    #[serde(default)]
    pub pension: Money,
    /// 生态补偿金.
    #[serde(default)]
    pub eco_compensation: Money,
    /// 其他转移性收入.
    #[serde(default)]
    pub other: Money,
}

impl Transfers {
    pub fn total(&self) -> Money {
        self.dibao + self.tekun + self.pension + self.eco_compensation + self.other
    }

    fn parts(&self) -> [(&'static str, Money); 5] {
        [
            ("dibao", self.dibao),
            ("tekun", self.tekun),
            ("pension", self.pension),
            ("eco_compensation", self.eco_compensation),
            ("other", self.other),
        ]
    }
}

impl Income {
    /// 转移性收入: the sum of its parts.
    pub fn transfer(&self) -> Money {
        self.transfer.total()
    }

    /// 纯收入 = wage + operating − operating_cost + property + transfer. Can be negative.
    pub fn net_income(&self) -> Money {
        self.wage + self.operating - self.operating_cost + self.property + self.transfer()
    }

    /// 人均纯收入: net income divided by the active members, rounded to the fen; `None` for a
    /// household without members.
    pub fn per_capita(&self, active_members: usize) -> Option<Money> {
        let n = i64::try_from(active_members).ok().filter(|&n| n > 0)?;
        let net = self.net_income().fen();
        let rounded = (2 * net.abs() + n) / (2 * n);
        Some(Money::from_fen(net.signum() * rounded))
    }

    /// A valid example record, for tests, docs and the demo.
    pub fn example() -> Self {
        Income {
            year: 2015,
            wage: Money::from_yuan(9_600),
            operating: Money::from_yuan(4_800),
            operating_cost: Money::from_yuan(1_500),
            property: Money::ZERO,
            transfer: Transfers {
                eco_compensation: Money::from_yuan(420),
                other: Money::from_yuan(300),
                ..Transfers::default()
            },
        }
    }

    fn validate_at(&self, key: &str) -> Result<(), ValidationError> {
        let field = |name: &str| format!("incomes.{key}.{name}");
        consistent(
            &field("year"),
            key.parse::<i32>().ok() == Some(self.year),
            "an income is filed under its own year",
        )?;
        range(
            &field("year"),
            YEARS.contains(&self.year),
            "the year is not plausible",
        )?;
        let amounts = [
            ("wage", self.wage),
            ("operating", self.operating),
            ("operating_cost", self.operating_cost),
            ("property", self.property),
        ];
        for (name, amount) in amounts {
            range(
                &field(name),
                !amount.is_negative(),
                "an amount cannot be negative",
            )?;
        }
        for (name, amount) in self.transfer.parts() {
            range(
                &field(&format!("transfer.{name}")),
                !amount.is_negative(),
                "an amount cannot be negative",
            )?;
        }
        Ok(())
    }
}

impl Member {
    /// Age in completed years on `date` (negative before birth).
    pub fn age_on(&self, date: Date) -> i32 {
        let mut age = date.year() - self.birth_date.year();
        if (date.month(), date.day()) < (self.birth_date.month(), self.birth_date.day()) {
            age -= 1;
        }
        age
    }

    /// Days since birth on `date`.
    pub fn days_old(&self, date: Date) -> i64 {
        (date - self.birth_date).num_days()
    }

    /// A valid example record (an adult head of household), for tests, docs and the demo.
    pub fn example() -> Self {
        Member {
            member_id: "m1".into(),
            name: "张建国".into(),
            gender: Gender::Male,
            relation: Relation::Head,
            ethnicity: "汉族".into(),
            birth_date: Date::from_ymd_opt(1968, 4, 12).expect("valid date"),
            education: Some(Education::Primary),
            school_status: SchoolStatus::NotInSchool,
            health: Health::Chronic,
            labor: Labor::Weak,
            work: Some(WorkPlace::InTownship),
            work_months: Some(3),
            medical_insured: true,
            critical_illness_insured: true,
            pension_insured: true,
            active: true,
            change_reason: None,
        }
    }

    fn validate_at(&self, key: &str) -> Result<(), ValidationError> {
        let field = |name: &str| format!("members.{key}.{name}");
        non_empty(&field("member_id"), &self.member_id)?;
        consistent(
            &field("member_id"),
            self.member_id == key,
            "a member is filed under its own member_id",
        )?;
        non_empty(&field("name"), &self.name)?;
        non_empty(&field("ethnicity"), &self.ethnicity)?;
        if let Some(months) = self.work_months {
            range(&field("work_months"), months <= 12, "a year has 12 months")?;
        }
        match (self.active, self.change_reason) {
            (false, None) => Err(ValidationError::new(
                field("change_reason"),
                Problem::Required,
                "a member who left needs the reason (死亡/嫁出/...)",
            )),
            (false, Some(r)) => consistent(
                &field("change_reason"),
                r.is_departure(),
                "an inactive member's reason must be one that takes them out",
            ),
            (true, Some(r)) => consistent(
                &field("change_reason"),
                !r.is_departure(),
                "an active member cannot have left the household",
            ),
            (true, None) => Ok(()),
        }
    }
}

/// County settings (⚙) behind the derived flags; a settings file may give only some.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct FlagConfig {
    /// Compulsory-education ages, inclusive: 6–15 by default.
    pub school_age_min: i32,
    pub school_age_max: i32,
    /// Newborns younger than this many days need not be insured yet (default 90).
    pub newborn_grace_days: i64,
    /// Litres per person per day in water-scarce areas (default 20) and elsewhere (35).
    pub water_lpd_scarce: f64,
    pub water_lpd_normal: f64,
    /// Longest round trip to fetch water, in minutes (default 20).
    pub water_max_minutes: u32,
    /// Most days without water in a year (default 36).
    pub water_max_outage_days: u32,
}

impl Default for FlagConfig {
    fn default() -> Self {
        FlagConfig {
            school_age_min: 6,
            school_age_max: 15,
            newborn_grace_days: 90,
            water_lpd_scarce: 20.0,
            water_lpd_normal: 35.0,
            water_max_minutes: 20,
            water_max_outage_days: 36,
        }
    }
}

/// 两不愁三保障 + 饮水安全 on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Flags {
    /// 不愁吃穿, from the latest visit's answer; `None` when not asked or not applicable.
    pub food_clothing_ok: Option<bool>,
    /// 义务教育有保障.
    pub education_ok: bool,
    /// 基本医疗有保障.
    pub medical_ok: bool,
    /// 住房安全有保障.
    pub housing_ok: bool,
    /// 饮水安全.
    pub water_ok: bool,
}

impl Flags {
    /// Every flag holds, as R12 requires for an exit (an unanswered food question does not).
    pub fn all_ok(&self) -> bool {
        self.food_clothing_ok == Some(true)
            && self.education_ok
            && self.medical_ok
            && self.housing_ok
            && self.water_ok
    }
}

impl Household {
    /// The household as a reader with `masking` sees it (DOMAIN §1, the marks of
    /// [`super::privacy`]): the home's coordinates go; names and phones are masked for
    /// `household_pii` (ID and bank numbers are not here: [`super::HouseholdPrivate::masked`]). Health is a code and stays: a page
    /// that shows a masked household hides it.
    pub fn masked(mut self, masking: super::privacy::Masking) -> Household {
        use super::privacy::{mask_name, mask_number};
        if masking.sensitive {
            self.home_geo = None;
        }
        if masking.household_pii {
            self.phone = self.phone.map(|p| mask_number(&p));
            for m in self.members.values_mut() {
                m.name = mask_name(&m.name);
            }
        }
        self
    }

    /// Members still in the household.
    pub fn active_members(&self) -> impl Iterator<Item = &Member> {
        self.members.values().filter(|m| m.active)
    }

    pub fn active_member_count(&self) -> usize {
        self.active_members().count()
    }

    /// The member `head_member_id` points at.
    pub fn head(&self) -> Option<&Member> {
        self.members.get(&self.head_member_id)
    }

    /// The income entered for `year`.
    pub fn income(&self, year: i32) -> Option<&Income> {
        self.incomes.get(&year.to_string())
    }

    /// Per-capita net income of `year`, over today's active members. DOMAIN divides by the
    /// members at that year's end; membership changes are rare and recorded when found, so the
    /// current count is the one the household file shows.
    pub fn per_capita(&self, year: i32) -> Option<Money> {
        self.income(year)?.per_capita(self.active_member_count())
    }

    /// The derived 两不愁三保障 + 饮水安全 flags on `as_of` (DOMAIN §2.2).
    ///
    /// `food_clothing_answer` is the latest visit's checklist answer (不愁吃穿 is asked, not
    /// computed); `water_scarce_area` is the village's county setting.
    pub fn flags(
        &self,
        as_of: Date,
        food_clothing_answer: Option<ChecklistAnswer>,
        cfg: &FlagConfig,
        water_scarce_area: bool,
    ) -> Flags {
        Flags {
            food_clothing_ok: match food_clothing_answer {
                Some(ChecklistAnswer::Yes) => Some(true),
                Some(ChecklistAnswer::No) => Some(false),
                Some(ChecklistAnswer::NotApplicable) | None => None,
            },
            education_ok: self.education_ok(as_of, cfg),
            medical_ok: self.medical_ok(as_of, cfg),
            housing_ok: self.housing_ok(as_of),
            water_ok: self.water_ok(cfg, water_scarce_area),
        }
    }

    /// 义务教育: no active member of compulsory-school age is out of school (非在校生).
    /// A child with a disability or a serious illness is exempt: the county teaches such
    /// children at home (送教上门), which counts as schooling, and the register has no
    /// separate code for it. Preschool is not a gap even at six: the age is in completed years
    /// and children start primary school in the September after turning six.
    pub fn education_ok(&self, as_of: Date, cfg: &FlagConfig) -> bool {
        !self.active_members().any(|m| {
            let age = m.age_on(as_of);
            (cfg.school_age_min..=cfg.school_age_max).contains(&age)
                && m.school_status == SchoolStatus::NotInSchool
                && !m.health.exempts_from_school()
        })
    }

    /// 基本医疗: every active member has basic medical insurance, except newborns within the
    /// grace period (they are enrolled after the 户口 is registered).
    pub fn medical_ok(&self, as_of: Date, cfg: &FlagConfig) -> bool {
        self.active_members()
            .all(|m| m.medical_insured || m.days_old(as_of) < cfg.newborn_grace_days)
    }

    /// 住房安全: a grade A or B house, or relocated with the keys of the new home received by
    /// `as_of`.
    pub fn housing_ok(&self, as_of: Date) -> bool {
        let moved = self.relocation.as_ref().is_some_and(|r| {
            r.is_relocated && r.keys_received_date.is_some_and(|keys| keys <= as_of)
        });
        !self.house_safety.is_dangerous() || moved
    }

    /// 饮水安全: enough water per person (20 L in water-scarce areas, 35 L elsewhere), piped
    /// or within 20 minutes' round trip, at most 36 outage days a year, acceptable quality.
    /// An unknown fetching time for a non-piped source does not count as met.
    pub fn water_ok(&self, cfg: &FlagConfig, water_scarce_area: bool) -> bool {
        let w = &self.water;
        let needed = if water_scarce_area {
            cfg.water_lpd_scarce
        } else {
            cfg.water_lpd_normal
        };
        let access = w.source == WaterSource::Piped
            || w.minutes_round_trip
                .is_some_and(|m| m <= cfg.water_max_minutes);
        w.quantity_lpd >= needed
            && access
            && w.outage_days_year <= cfg.water_max_outage_days
            && w.quality_ok
    }

    /// A valid example record: a five-member household in 新庄村 (a poor village of 陆良县,
    /// Yunnan), registered in 2014 for illness, still in a grade-C house. For tests, docs and
    /// the demo.
    pub fn example() -> Self {
        let d = |y, m, day| Date::from_ymd_opt(y, m, day).expect("valid date");
        let head = Member::example();
        let spouse = Member {
            member_id: "m2".into(),
            name: "李秀英".into(),
            gender: Gender::Female,
            relation: Relation::Spouse,
            ethnicity: "彝族".into(),
            birth_date: d(1970, 8, 23),
            education: Some(Education::Illiterate),
            health: Health::Healthy,
            labor: Labor::Ordinary,
            work: None,
            work_months: None,
            ..head.clone()
        };
        let son = Member {
            member_id: "m3".into(),
            name: "张伟".into(),
            gender: Gender::Male,
            relation: Relation::Son,
            ethnicity: "汉族".into(),
            birth_date: d(1993, 1, 5),
            education: Some(Education::Junior),
            health: Health::Healthy,
            labor: Labor::Ordinary,
            work: Some(WorkPlace::OutOfProvince),
            work_months: Some(8),
            pension_insured: false,
            ..head.clone()
        };
        let daughter_in_law = Member {
            member_id: "m4".into(),
            name: "王丽".into(),
            gender: Gender::Female,
            relation: Relation::DaughterInLaw,
            birth_date: d(1995, 11, 20),
            work: None,
            work_months: None,
            change_reason: Some(MemberChangeReason::MarriedIn),
            ..son.clone()
        };
        let grandson = Member {
            member_id: "m5".into(),
            name: "张浩".into(),
            gender: Gender::Male,
            relation: Relation::Grandson,
            birth_date: d(2008, 3, 15),
            education: Some(Education::Primary),
            school_status: SchoolStatus::Primary,
            labor: Labor::NoLabor,
            work: None,
            work_months: None,
            critical_illness_insured: false,
            ..son.clone()
        };
        let members = [head, spouse, son, daughter_in_law, grandson]
            .into_iter()
            .map(|m| (m.member_id.clone(), m))
            .collect();
        Household {
            village_code: "530322101201".into(),
            hamlet: Some("上村".into()),
            head_member_id: "m1".into(),
            phone: Some("13508741234".into()),
            home_geo: Some(Geo::at(25.0338, 103.6702)),
            id_standard: IdStandard::National,
            attribute: HouseholdAttribute::General,
            main_cause: PovertyCause::Illness,
            other_causes: vec![PovertyCause::LackSkills, PovertyCause::LackFunds],
            status: HouseholdStatus::NotExited,
            registered_year: 2014,
            exit_year: None,
            land_mu: Some(3.5),
            house_structure: Some(HouseStructure::EarthWood),
            house_area_m2: Some(86.0),
            house_safety: HouseSafety::C,
            relocation: None,
            water: Water {
                source: WaterSource::Spring,
                quantity_lpd: 40.0,
                minutes_round_trip: Some(15),
                outage_days_year: 10,
                quality_ok: true,
            },
            road: Some(RoadType::Gravel),
            plan: Some("发展烤烟种植,儿子外出务工,申请危房改造补助".into()),
            members,
            incomes: BTreeMap::from([("2015".into(), Income::example())]),
        }
    }

    fn validate_causes(&self) -> Result<(), ValidationError> {
        range(
            "other_causes",
            self.other_causes.len() <= 2,
            "at most two other causes",
        )?;
        consistent(
            "other_causes",
            !self.other_causes.contains(&self.main_cause),
            "the main cause is not repeated among the other causes",
        )?;
        consistent(
            "other_causes",
            !matches!(self.other_causes.as_slice(), [a, b] if a == b),
            "a cause is listed twice",
        )
    }

    fn validate_years(&self) -> Result<(), ValidationError> {
        range(
            "registered_year",
            YEARS.contains(&self.registered_year),
            "the year is not plausible",
        )?;
        match self.exit_year {
            Some(y) => {
                range(
                    "exit_year",
                    y >= self.registered_year && YEARS.contains(&y),
                    "the exit is before the registration",
                )?;
                consistent(
                    "exit_year",
                    self.status != HouseholdStatus::NotExited,
                    "a household not yet out of poverty has no exit year",
                )
            }
            None if self.status.is_exited() => Err(ValidationError::new(
                "exit_year",
                Problem::Required,
                "an exited household needs its exit year",
            )),
            None => Ok(()),
        }
    }

    fn validate_home(&self) -> Result<(), ValidationError> {
        for (name, value) in [
            ("land_mu", self.land_mu),
            ("house_area_m2", self.house_area_m2),
        ] {
            if let Some(v) = value {
                range(
                    name,
                    v.is_finite() && v >= 0.0,
                    "must be a non-negative number",
                )?;
            }
        }
        if let Some(r) = &self.relocation {
            if r.is_relocated {
                if r.mode.is_none() {
                    return Err(ValidationError::required("relocation.mode"));
                }
            } else {
                consistent(
                    "relocation.mode",
                    r.mode.is_none(),
                    "not relocated, so no mode",
                )?;
                consistent(
                    "relocation.keys_received_date",
                    r.keys_received_date.is_none(),
                    "not relocated, so no keys",
                )?;
            }
        }
        let w = &self.water;
        range(
            "water.quantity_lpd",
            w.quantity_lpd.is_finite() && w.quantity_lpd >= 0.0,
            "must be a non-negative number of litres",
        )?;
        range(
            "water.outage_days_year",
            w.outage_days_year <= 366,
            "a year has 366 days at most",
        )
    }

    fn validate_members(&self) -> Result<(), ValidationError> {
        for (key, m) in &self.members {
            m.validate_at(key)?;
        }
        non_empty("head_member_id", &self.head_member_id)?;
        let Some(head) = self.head() else {
            return Err(ValidationError::new(
                "head_member_id",
                Problem::Inconsistent,
                "no member has this id",
            ));
        };
        consistent(
            "head_member_id",
            head.relation == Relation::Head,
            "this member is not 户主",
        )?;
        // A closed (销户) household may have no active member left, its last head included.
        consistent(
            "head_member_id",
            head.active || self.status == HouseholdStatus::Closed,
            "the head of household has left",
        )?;
        for (key, m) in &self.members {
            if m.active && m.relation == Relation::Head && *key != self.head_member_id {
                return Err(ValidationError::new(
                    format!("members.{key}.relation"),
                    Problem::Inconsistent,
                    "a household has one 户主",
                ));
            }
        }
        Ok(())
    }
}

static HOUSEHOLD_TABLES: [Table; 3] = [
    Table {
        name: "p_household",
        columns: &[
            ("village_code", SqlType::Text),
            ("hamlet", SqlType::Text),
            ("head_member_id", SqlType::Text),
            ("head_name", SqlType::Text),
            ("status", SqlType::Text),
            ("registered", SqlType::Integer),
            ("attribute", SqlType::Text),
            ("main_cause", SqlType::Text),
            ("house_safety", SqlType::Text),
            ("registered_year", SqlType::Integer),
            ("exit_year", SqlType::Integer),
            ("phone", SqlType::Text),
            ("member_count", SqlType::Integer),
            ("home_lat", SqlType::Real),
            ("home_lon", SqlType::Real),
            ("state", SqlType::Text),
        ],
        indexes: &[&["village_code", "status"], &["status"]],
    },
    Table {
        name: "p_member",
        columns: &[
            ("member_id", SqlType::Text),
            ("name", SqlType::Text),
            ("gender", SqlType::Text),
            ("id_no", SqlType::Text),
            ("relation", SqlType::Text),
            ("birth_date", SqlType::Text),
            ("health", SqlType::Text),
            ("school_status", SqlType::Text),
            ("medical_insured", SqlType::Integer),
            ("active", SqlType::Integer),
        ],
        indexes: &[&["id_no"], &["name"]],
    },
    Table {
        name: "p_income",
        columns: &[
            ("year", SqlType::Integer),
            ("net_income", SqlType::Integer),
            ("per_capita", SqlType::Integer),
        ],
        indexes: &[&["year"]],
    },
];

impl Record for Household {
    const KIND: Kind = Kind::Household;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Village(self.village_code.clone())
    }

    fn validate(&self) -> Result<(), ValidationError> {
        code_text("village_code", &self.village_code)?;
        opt_text("hamlet", &self.hamlet)?;
        if let Some(phone) = &self.phone {
            check_phone("phone", phone)?;
        }
        if let Some(geo) = &self.home_geo {
            range("home_geo", geo.is_valid(), "the location is not on Earth")?;
        }
        self.validate_causes()?;
        self.validate_years()?;
        self.validate_home()?;
        opt_text("plan", &self.plan)?;
        self.validate_members()?;
        for (key, income) in &self.incomes {
            income.validate_at(key)?;
        }
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &HOUSEHOLD_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        let active = self.active_member_count();
        rows.push(
            "p_household",
            vec![
                ("village_code", self.village_code.sql()),
                ("hamlet", self.hamlet.sql()),
                ("head_member_id", self.head_member_id.sql()),
                ("head_name", self.head().map(|h| h.name.as_str()).sql()),
                ("status", self.status.sql()),
                ("registered", self.status.is_registered().sql()),
                ("attribute", self.attribute.sql()),
                ("main_cause", self.main_cause.sql()),
                ("house_safety", self.house_safety.sql()),
                ("registered_year", self.registered_year.sql()),
                ("exit_year", self.exit_year.sql()),
                ("phone", self.phone.sql()),
                ("member_count", (active as i64).sql()),
                ("home_lat", self.home_geo.map(|g| g.lat).sql()),
                ("home_lon", self.home_geo.map(|g| g.lon).sql()),
                ("state", env.state.code().sql()),
            ],
        );
        for m in self.members.values() {
            rows.push(
                "p_member",
                vec![
                    ("member_id", m.member_id.sql()),
                    ("name", m.name.sql()),
                    ("gender", m.gender.sql()),
                    // Filled from the household's `household_private` record, where held
                    // (see `super::household_private`).
                    ("id_no", Option::<&str>::None.sql()),
                    ("relation", m.relation.sql()),
                    ("birth_date", m.birth_date.sql()),
                    ("health", m.health.sql()),
                    ("school_status", m.school_status.sql()),
                    ("medical_insured", m.medical_insured.sql()),
                    ("active", m.active.sql()),
                ],
            );
        }
        for income in self.incomes.values() {
            rows.push(
                "p_income",
                vec![
                    ("year", income.year.sql()),
                    ("net_income", income.net_income().sql()),
                    ("per_capita", income.per_capita(active).sql()),
                ],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value;
    use serde_json::json;

    use super::*;
    use crate::domain::codes::testkit::{
        assert_invalid, assert_round_trips, cell, count, date, edited_json, json_error, project,
        text,
    };

    fn cfg() -> FlagConfig {
        FlagConfig::default()
    }

    /// Adds an active child born on `birth` to the example household.
    fn with_child(birth: &str, edit: impl FnOnce(&mut Member)) -> Household {
        let mut h = Household::example();
        let mut child = Member {
            member_id: "m9".into(),
            name: "张小花".into(),
            gender: Gender::Female,
            relation: Relation::Granddaughter,
            birth_date: date(birth),
            school_status: SchoolStatus::Primary,
            health: Health::Healthy,
            labor: Labor::NoLabor,
            change_reason: Some(MemberChangeReason::Newborn),
            ..Member::example()
        };
        edit(&mut child);
        h.members.insert("m9".into(), child);
        h
    }

    fn member_mut<'a>(h: &'a mut Household, key: &str) -> &'a mut Member {
        h.members.get_mut(key).expect("example member")
    }

    #[test]
    fn the_example_is_valid_and_round_trips() {
        let h = Household::example();
        assert_eq!(h.validate(), Ok(()));
        assert_round_trips(&h);
        assert_eq!(h.active_member_count(), 5);
        assert_eq!(h.head().map(|m| m.name.as_str()), Some("张建国"));
    }

    #[test]
    fn income_sums_and_per_capita() {
        let i = Income::example();
        assert_eq!(i.transfer(), Money::from_yuan(720));
        // 9600 + 4800 − 1500 + 0 + 720
        assert_eq!(i.net_income(), Money::from_yuan(13_620));
        assert_eq!(i.per_capita(5), Some(Money::from_yuan(2_724)));
        assert_eq!(i.per_capita(0), None);
        // 13620 / 7 = 1945.714… → 1945.71
        assert_eq!(i.per_capita(7), Some(Money::from_fen(194_571)));
        // 13620 / 9 = 1513.333… → 1513.33; 1/3 yuan rounds to 0.33, 2/3 to 0.67
        let third = Income {
            wage: Money::from_fen(100),
            operating: Money::ZERO,
            operating_cost: Money::ZERO,
            transfer: Transfers::default(),
            ..i.clone()
        };
        assert_eq!(third.per_capita(3), Some(Money::from_fen(33)));
        let two_thirds = Income {
            wage: Money::from_fen(200),
            ..third.clone()
        };
        assert_eq!(two_thirds.per_capita(3), Some(Money::from_fen(67)));
        // Costs above earnings give a negative net income, rounded symmetrically.
        let loss = Income {
            operating_cost: Money::from_fen(400),
            ..two_thirds
        };
        assert_eq!(loss.net_income(), Money::from_fen(-200));
        assert_eq!(loss.per_capita(3), Some(Money::from_fen(-67)));
        let h = Household::example();
        assert_eq!(h.per_capita(2015), Some(Money::from_yuan(2_724)));
        assert_eq!(h.per_capita(2014), None);
    }

    #[test]
    fn transfer_parts_default_to_zero_in_json() {
        let h: Household = crate::domain::from_json(edited_json(&Household::example(), |m| {
            m.insert(
                "incomes".into(),
                json!({"2016": {"year": 2016, "wage": "12000", "operating": 3000,
                    "operating_cost": "800.50", "property": 0, "transfer": {"dibao": "1680"}}}),
            );
        }))
        .expect("parses");
        let i = h.income(2016).expect("2016 income");
        assert_eq!(i.transfer(), Money::from_yuan(1_680));
        assert_eq!(i.net_income(), "15879.50".parse().expect("money"));
    }

    // --- validation -------------------------------------------------------------------------

    #[test]
    fn one_active_head_of_household() {
        let mut h = Household::example();
        h.head_member_id = "m2".into();
        assert_invalid(&h, "head_member_id", Problem::Inconsistent);

        let mut h = Household::example();
        h.head_member_id = "m42".into();
        assert_invalid(&h, "head_member_id", Problem::Inconsistent);

        let mut h = Household::example();
        h.head_member_id = String::new();
        assert_invalid(&h, "head_member_id", Problem::Required);

        let mut h = Household::example();
        member_mut(&mut h, "m3").relation = Relation::Head;
        assert_invalid(&h, "members.m3.relation", Problem::Inconsistent);

        let mut h = Household::example();
        let head = member_mut(&mut h, "m1");
        head.active = false;
        head.change_reason = Some(MemberChangeReason::Death);
        assert_invalid(&h, "head_member_id", Problem::Inconsistent);
        // ...unless the household is closed (销户) because nobody is left.
        h.status = HouseholdStatus::Closed;
        assert_eq!(h.validate(), Ok(()));
    }

    #[test]
    fn a_head_who_died_can_be_succeeded() {
        let mut h = Household::example();
        let old = member_mut(&mut h, "m1");
        old.active = false;
        old.change_reason = Some(MemberChangeReason::Death);
        member_mut(&mut h, "m2").relation = Relation::Head;
        h.head_member_id = "m2".into();
        assert_eq!(h.validate(), Ok(()));
    }

    #[test]
    fn other_causes_are_at_most_two_and_not_the_main_one() {
        let mut h = Household::example();
        h.other_causes.push(PovertyCause::LackLabor);
        assert_invalid(&h, "other_causes", Problem::OutOfRange);

        let mut h = Household::example();
        h.other_causes = vec![PovertyCause::Illness];
        assert_invalid(&h, "other_causes", Problem::Inconsistent);

        let mut h = Household::example();
        h.other_causes = vec![PovertyCause::LackFunds, PovertyCause::LackFunds];
        assert_invalid(&h, "other_causes", Problem::Inconsistent);

        let mut h = Household::example();
        h.other_causes.clear();
        assert_eq!(h.validate(), Ok(()));
    }

    #[test]
    fn member_fields() {
        let mut h = Household::example();
        member_mut(&mut h, "m4").member_id = "m44".into();
        assert_invalid(&h, "members.m4.member_id", Problem::Inconsistent);

        let mut h = Household::example();
        member_mut(&mut h, "m4").name = " ".into();
        assert_invalid(&h, "members.m4.name", Problem::Required);

        let mut h = Household::example();
        member_mut(&mut h, "m4").ethnicity = String::new();
        assert_invalid(&h, "members.m4.ethnicity", Problem::Required);

        let mut h = Household::example();
        member_mut(&mut h, "m3").work_months = Some(13);
        assert_invalid(&h, "members.m3.work_months", Problem::OutOfRange);
    }

    #[test]
    fn members_who_left_need_a_departure_reason() {
        let mut h = Household::example();
        member_mut(&mut h, "m3").active = false;
        assert_invalid(&h, "members.m3.change_reason", Problem::Required);
        member_mut(&mut h, "m3").change_reason = Some(MemberChangeReason::Newborn);
        assert_invalid(&h, "members.m3.change_reason", Problem::Inconsistent);
        member_mut(&mut h, "m3").change_reason = Some(MemberChangeReason::OtherOut);
        assert_eq!(h.validate(), Ok(()));
        assert_eq!(h.active_member_count(), 4);

        let mut h = Household::example();
        member_mut(&mut h, "m4").change_reason = Some(MemberChangeReason::MarriedOut);
        assert_invalid(&h, "members.m4.change_reason", Problem::Inconsistent);
    }

    #[test]
    fn years_and_status() {
        let mut h = Household::example();
        h.status = HouseholdStatus::ExitedSupported;
        assert_invalid(&h, "exit_year", Problem::Required);
        h.exit_year = Some(2013);
        assert_invalid(&h, "exit_year", Problem::OutOfRange);
        h.exit_year = Some(2016);
        assert_eq!(h.validate(), Ok(()));
        h.status = HouseholdStatus::NotExited;
        assert_invalid(&h, "exit_year", Problem::Inconsistent);
        // A household that exited and fell back keeps its exit year.
        h.status = HouseholdStatus::ReturnedToPoverty;
        assert_eq!(h.validate(), Ok(()));

        let mut h = Household::example();
        h.registered_year = 214;
        assert_invalid(&h, "registered_year", Problem::OutOfRange);
    }

    #[test]
    fn amounts_and_measures_cannot_be_negative() {
        let mut h = Household::example();
        if let Some(i) = h.incomes.get_mut("2015") {
            i.operating_cost = Money::from_yuan(-10);
        }
        assert_invalid(&h, "incomes.2015.operating_cost", Problem::OutOfRange);

        let mut h = Household::example();
        if let Some(i) = h.incomes.get_mut("2015") {
            i.transfer.pension = Money::from_fen(-1);
        }
        assert_invalid(&h, "incomes.2015.transfer.pension", Problem::OutOfRange);

        let mut h = Household::example();
        h.land_mu = Some(-1.0);
        assert_invalid(&h, "land_mu", Problem::OutOfRange);

        let mut h = Household::example();
        h.water.quantity_lpd = f64::NAN;
        assert_invalid(&h, "water.quantity_lpd", Problem::OutOfRange);

        let mut h = Household::example();
        h.water.outage_days_year = 400;
        assert_invalid(&h, "water.outage_days_year", Problem::OutOfRange);
    }

    #[test]
    fn an_income_is_filed_under_its_year() {
        let mut h = Household::example();
        let income = h.incomes.remove("2015").expect("2015");
        h.incomes.insert("2016".into(), income);
        assert_invalid(&h, "incomes.2016.year", Problem::Inconsistent);
    }

    #[test]
    fn relocation_fields_agree() {
        let mut h = Household::example();
        h.relocation = Some(Relocation {
            is_relocated: true,
            mode: None,
            keys_received_date: None,
        });
        assert_invalid(&h, "relocation.mode", Problem::Required);
        h.relocation = Some(Relocation {
            is_relocated: false,
            mode: None,
            keys_received_date: Some(date("2016-05-01")),
        });
        assert_invalid(&h, "relocation.keys_received_date", Problem::Inconsistent);
    }

    #[test]
    fn contact_fields() {
        let mut h = Household::example();
        h.phone = Some("call me".into());
        assert_invalid(&h, "phone", Problem::Malformed);
        let mut h = Household::example();
        h.hamlet = Some(String::new());
        assert_invalid(&h, "hamlet", Problem::Required);
        let mut h = Household::example();
        h.home_geo = Some(Geo::at(125.0, 103.0));
        assert_invalid(&h, "home_geo", Problem::OutOfRange);
        let mut h = Household::example();
        h.home_geo = None;
        assert_eq!(
            h.validate(),
            Ok(()),
            "home_geo is set at the first verified visit"
        );
    }

    #[test]
    fn unknown_codes_and_missing_fields_in_json() {
        let h = Household::example();
        let err = json_error::<Household>(edited_json(&h, |m| {
            m.insert("main_cause".into(), json!("laziness"));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("main_cause", Problem::UnknownCode)
        );

        let mut v = serde_json::to_value(&h).expect("serialises");
        v["members"]["m2"]["relation"] = json!("wife");
        let err = json_error::<Household>(v);
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("members.m2.relation", Problem::UnknownCode)
        );

        let err = json_error::<Household>(edited_json(&h, |m| {
            m.remove("house_safety");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("house_safety", Problem::Required)
        );

        let mut v = serde_json::to_value(&h).expect("serialises");
        if let Some(m) = v["members"]["m5"].as_object_mut() {
            m.remove("medical_insured");
        }
        let err = json_error::<Household>(v);
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("members.m5.medical_insured", Problem::Required)
        );

        let mut v = serde_json::to_value(&h).expect("serialises");
        v["water"]["source"] = json!("自来水");
        let err = json_error::<Household>(v);
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("water.source", Problem::UnknownCode)
        );
    }

    // --- derived flags ----------------------------------------------------------------------

    #[test]
    fn the_example_household_flags() {
        let f = Household::example().flags(date("2015-10-01"), None, &cfg(), false);
        assert_eq!(
            f,
            Flags {
                food_clothing_ok: None,
                education_ok: true,
                medical_ok: true,
                housing_ok: false,
                water_ok: true,
            }
        );
        assert!(!f.all_ok());
    }

    #[test]
    fn a_county_setting_overrides_only_what_it_names() {
        let cfg: FlagConfig = serde_json::from_value(json!({"water_lpd_normal": 40.0}))
            .expect("partial settings parse");
        assert_eq!(
            cfg,
            FlagConfig {
                water_lpd_normal: 40.0,
                ..FlagConfig::default()
            }
        );
        // The example household's 40 L still pass; 39.5 L no longer do.
        let mut h = Household::example();
        assert!(h.water_ok(&cfg, false));
        h.water.quantity_lpd = 39.5;
        assert!(!h.water_ok(&cfg, false));
        assert!(h.water_ok(&FlagConfig::default(), false));
    }

    #[test]
    fn food_and_clothing_come_from_the_visit_answer() {
        let h = Household::example();
        let f = |a| {
            h.flags(date("2015-10-01"), a, &cfg(), false)
                .food_clothing_ok
        };
        assert_eq!(f(Some(ChecklistAnswer::Yes)), Some(true));
        assert_eq!(f(Some(ChecklistAnswer::No)), Some(false));
        assert_eq!(f(Some(ChecklistAnswer::NotApplicable)), None);
    }

    #[test]
    fn a_school_age_child_out_of_school_fails_education() {
        let on = date("2015-10-01");
        let h = with_child("2005-06-01", |c| {
            c.school_status = SchoolStatus::NotInSchool
        });
        assert_eq!(h.validate(), Ok(()));
        assert!(!h.education_ok(on, &cfg()), "a 10-year-old 非在校生");

        let h = with_child("2005-06-01", |c| c.school_status = SchoolStatus::Primary);
        assert!(h.education_ok(on, &cfg()));

        // 送教上门: a disabled or seriously ill child taught at home is not a gap.
        let h = with_child("2005-06-01", |c| {
            c.school_status = SchoolStatus::NotInSchool;
            c.health = Health::Disabled;
        });
        assert!(h.education_ok(on, &cfg()));
        let h = with_child("2005-06-01", |c| {
            c.school_status = SchoolStatus::NotInSchool;
            c.health = Health::Chronic;
        });
        assert!(
            !h.education_ok(on, &cfg()),
            "a chronic illness is no exemption"
        );

        // Left the household: not counted.
        let h = with_child("2005-06-01", |c| {
            c.school_status = SchoolStatus::NotInSchool;
            c.active = false;
            c.change_reason = Some(MemberChangeReason::OtherOut);
        });
        assert!(h.education_ok(on, &cfg()));
    }

    #[test]
    fn compulsory_school_age_is_six_to_fifteen_inclusive() {
        let out = |birth| with_child(birth, |c| c.school_status = SchoolStatus::NotInSchool);
        let on = date("2015-10-01");
        assert!(
            out("2009-10-02").education_ok(on, &cfg()),
            "one day short of six"
        );
        assert!(
            !out("2009-10-01").education_ok(on, &cfg()),
            "sixth birthday"
        );
        assert!(!out("1999-10-02").education_ok(on, &cfg()), "still fifteen");
        assert!(
            out("1999-10-01").education_ok(on, &cfg()),
            "sixteenth birthday"
        );
        let longer = FlagConfig {
            school_age_max: 17,
            ..cfg()
        };
        assert!(
            !out("1999-10-01").education_ok(on, &longer),
            "a county that counts to 17"
        );
    }

    #[test]
    fn newborns_have_a_grace_period_for_medical_insurance() {
        let on = date("2015-10-01");
        let uninsured = |birth| with_child(birth, |c| c.medical_insured = false);
        assert!(
            uninsured("2015-09-01").medical_ok(on, &cfg()),
            "30 days old"
        );
        assert!(
            uninsured("2015-07-04").medical_ok(on, &cfg()),
            "89 days old"
        );
        assert!(
            !uninsured("2015-07-03").medical_ok(on, &cfg()),
            "90 days old"
        );
        assert!(
            !uninsured("2015-03-15").medical_ok(on, &cfg()),
            "200 days old"
        );
        assert!(
            with_child("2015-03-15", |_| {}).medical_ok(on, &cfg()),
            "insured"
        );

        let mut h = Household::example();
        member_mut(&mut h, "m2").medical_insured = false;
        assert!(!h.medical_ok(on, &cfg()), "an uninsured adult");
        let m2 = member_mut(&mut h, "m2");
        m2.active = false;
        m2.change_reason = Some(MemberChangeReason::Death);
        assert!(h.medical_ok(on, &cfg()), "...who has left is not counted");
    }

    #[test]
    fn housing_is_safe_for_a_b_houses_or_after_relocation() {
        let on = date("2016-06-01");
        let mut h = Household::example();
        assert!(!h.housing_ok(on), "a C house, not relocated");
        h.house_safety = HouseSafety::D;
        assert!(!h.housing_ok(on));
        h.house_safety = HouseSafety::B;
        assert!(h.housing_ok(on));
        h.house_safety = HouseSafety::A;
        assert!(h.housing_ok(on));

        h.house_safety = HouseSafety::D;
        let relocated = |keys: Option<&str>| Relocation {
            is_relocated: true,
            mode: Some(RelocationMode::Centralized),
            keys_received_date: keys.map(date),
        };
        h.relocation = Some(relocated(None));
        assert!(!h.housing_ok(on), "relocated but no keys yet");
        h.relocation = Some(relocated(Some("2016-07-01")));
        assert!(!h.housing_ok(on), "keys come next month");
        h.relocation = Some(relocated(Some("2016-06-01")));
        assert!(h.housing_ok(on), "keys received today");
        assert_eq!(h.validate(), Ok(()));
    }

    #[test]
    fn water_safety_has_four_conditions() {
        let ok = |edit: &dyn Fn(&mut Water), scarce: bool| {
            let mut h = Household::example();
            edit(&mut h.water);
            h.water_ok(&cfg(), scarce)
        };
        assert!(ok(&|_| {}, false));
        assert!(
            !ok(&|w| w.quantity_lpd = 30.0, false),
            "30 L is too little in a normal area"
        );
        assert!(
            ok(&|w| w.quantity_lpd = 30.0, true),
            "...but enough in a water-scarce one"
        );
        assert!(!ok(&|w| w.quantity_lpd = 19.5, true));
        assert!(ok(&|w| w.quantity_lpd = 35.0, false), "35 L exactly");
        assert!(ok(&|w| w.minutes_round_trip = Some(20), false));
        assert!(
            !ok(&|w| w.minutes_round_trip = Some(25), false),
            "a 25-minute round trip"
        );
        assert!(
            !ok(&|w| w.minutes_round_trip = None, false),
            "unknown distance, not piped"
        );
        assert!(
            ok(
                &|w| {
                    w.source = WaterSource::Piped;
                    w.minutes_round_trip = None;
                },
                false
            ),
            "piped water needs no trip"
        );
        assert!(ok(&|w| w.outage_days_year = 36, false));
        assert!(!ok(&|w| w.outage_days_year = 37, false));
        assert!(!ok(&|w| w.quality_ok = false, false));
    }

    #[test]
    fn all_ok_needs_every_flag_and_a_yes_on_food() {
        let mut h = Household::example();
        h.house_safety = HouseSafety::B;
        let on = date("2016-10-01");
        assert!(
            h.flags(on, Some(ChecklistAnswer::Yes), &cfg(), false)
                .all_ok()
        );
        assert!(!h.flags(on, None, &cfg(), false).all_ok());
        h.water.quality_ok = false;
        assert!(
            !h.flags(on, Some(ChecklistAnswer::Yes), &cfg(), false)
                .all_ok()
        );
    }

    // --- projection -------------------------------------------------------------------------

    #[test]
    fn projection_rows() {
        let mut h = Household::example();
        let m3 = member_mut(&mut h, "m3");
        m3.active = false;
        m3.change_reason = Some(MemberChangeReason::OtherOut);
        let rows = project(&h);
        assert_eq!(
            cell(&rows, "p_household", 0, "village_code"),
            &text("530322101201")
        );
        assert_eq!(cell(&rows, "p_household", 0, "head_name"), &text("张建国"));
        assert_eq!(cell(&rows, "p_household", 0, "status"), &text("not_exited"));
        assert_eq!(
            cell(&rows, "p_household", 0, "registered"),
            &Value::Integer(1)
        );
        assert_eq!(cell(&rows, "p_household", 0, "house_safety"), &text("c"));
        assert_eq!(
            cell(&rows, "p_household", 0, "member_count"),
            &Value::Integer(4)
        );
        assert_eq!(cell(&rows, "p_household", 0, "exit_year"), &Value::Null);
        assert_eq!(cell(&rows, "p_household", 0, "state"), &text("submitted"));

        assert_eq!(
            count(&rows, "p_member"),
            5,
            "members who left keep their row"
        );
        assert_eq!(cell(&rows, "p_member", 2, "member_id"), &text("m3"));
        assert_eq!(cell(&rows, "p_member", 2, "active"), &Value::Integer(0));
        // The ID number is the `household_private` record's, joined in by the store.
        assert_eq!(cell(&rows, "p_member", 2, "id_no"), &Value::Null);
        assert_eq!(cell(&rows, "p_member", 0, "relation"), &text("head"));
        assert_eq!(
            cell(&rows, "p_member", 0, "birth_date"),
            &text("1968-04-12")
        );

        assert_eq!(count(&rows, "p_income"), 1);
        assert_eq!(cell(&rows, "p_income", 0, "year"), &Value::Integer(2015));
        assert_eq!(
            cell(&rows, "p_income", 0, "net_income"),
            &Value::Integer(1_362_000)
        );
        // Over the four members still in the household.
        assert_eq!(
            cell(&rows, "p_income", 0, "per_capita"),
            &Value::Integer(340_500)
        );
    }
}

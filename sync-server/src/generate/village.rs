//! One village's records from mobilisation (2015-08-25) to 2016-12-31: its team, households,
//! assignments, visits, attendance, logs, entitlements and deliveries, petitions, surveys,
//! 动态调整 cases, projects and inspections, each written by the account DOMAIN §1 gives the
//! right to write it, at the time it happened. The figures are DOMAIN §5's; see the module
//! docs of [`super`] for which are assumptions.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, Duration, NaiveTime, Weekday};
use cunji_core::domain::codes::*;
use cunji_core::domain::household::FlagConfig;
use cunji_core::domain::household::{Transfers, Water};
use cunji_core::domain::visit::{Checklist, ChecklistEntry, Photo};
use cunji_core::domain::worklog::Review;
use cunji_core::domain::{
    Assignment, Beneficiaries, CheckIn, Delivery, Entitlement, Funding, Household, HouseholdCheck,
    HouseholdPrivate, Income, Inspection, Leave, Member, Objection, Petition, Progress, Project,
    ProjectPublicity, Publicity, ReturnVisit, SatisfactionSurvey, Snapshot, StatusChange, Step,
    Team, TeamMember, Visit, WorkLog,
};
use cunji_core::values::{Date, Geo, Money, Timestamp};

use super::Logins;
use super::city::{City, VillagePlan, person_name, shuffle, surname};
use super::random::{Rand, at, ymd};
use super::records::{Planned, phase};

/// Mobilisation of the work teams (§5).
pub fn start() -> Date {
    ymd(2015, 8, 25)
}
/// End of the generated window (§5).
pub fn end() -> Date {
    ymd(2016, 12, 31)
}
/// Poverty line per person and year (§5: ≈2,855 yuan for 2015, ≈3,000 for 2016).
pub fn poverty_line(year: i32) -> f64 {
    if year <= 2015 { 2855.0 } else { 3000.0 }
}

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// Where a 动态调整 case in flight at the data's end waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CaseStop {
    /// 公示 passed; 乡镇审核 next.
    Township,
    /// The same, with a villager's objection to the 公示 not yet answered (R12 refuses the exit).
    TownshipWithObjection,
    /// 乡镇审核 passed; 县审批公告 next.
    County,
    /// Approved by 县审批公告; 系统录入 next.
    SystemEntry,
}

/// A household as the plan follows it.
struct Hh {
    id: String,
    rec: Household,
    created: Timestamp,
    /// Index into the village's pairing cadres.
    cadre: usize,
    new_inclusion: bool,
    /// 2015 回头看 清退: the day it took effect.
    removed_on: Option<Date>,
    /// A member of compulsory-school age, for 教育资助.
    pupil: Option<String>,
    /// A member with a serious or chronic illness, for 医疗救助.
    patient: Option<String>,
    dropout: bool,
    uninsured: bool,
    water_bad: bool,
    /// Later states of the file: (who, when, phase, reason, record).
    edits: Vec<(String, Timestamp, u8, &'static str, Household)>,
    /// The members' ID numbers and the bank account as registered, a record of their own
    /// (DOMAIN §1).
    numbers_id: String,
    numbers: HouseholdPrivate,
    /// Later states of the numbers, as `edits`.
    number_edits: Vec<(String, Timestamp, u8, &'static str, HouseholdPrivate)>,
}

/// Per-village state while planning.
struct V<'a> {
    v: &'a VillagePlan,
    r: Rand,
    out: Vec<Planned>,
    admin: String,
    township: String,
    county_office: String,
    county_org: String,
    /// Team logins, the first secretary first (empty without a team).
    team: Vec<String>,
    pairing: Vec<String>,
    county_code: String,
    used_ids: HashSet<(Date, bool)>,
    /// The ID numbers of the members made since the last household: (member id, number).
    numbers: Vec<(String, String)>,
    /// Probability that a household answers 满意/基本满意 (0.93 + the village's effect).
    p_satisfied: f64,
    /// Only the registers: entitlements without their deliveries ([`City::registers_only`]).
    registers_only: bool,
}

/// Plans every record of the `pos`-th selected village.
pub fn plan(city: &City, logins: &Logins, pos: usize) -> Vec<Planned> {
    let v = &city.villages[pos];
    let mut r = Rand::new(city.seed, 0x1000_0000 + v.index as u64);
    let effect = r.normal(0.0, 0.018);
    let mut s = V {
        v,
        r,
        out: Vec::new(),
        admin: logins.admin.clone(),
        township: logins.township(city, v.township),
        county_office: logins.county_office(city, v.county),
        county_org: logins.county_org(city, v.county),
        team: (0..v.team_size())
            .map(|k| logins.cadre(city, pos, k))
            .collect(),
        pairing: (0..v.pairing_cadres)
            .map(|k| logins.cadre(city, pos, v.team_size() + k))
            .collect(),
        county_code: city.counties[v.county].code.clone(),
        used_ids: HashSet::new(),
        numbers: Vec::new(),
        p_satisfied: (0.93 + effect).min(0.995),
        registers_only: city.registers_only,
    };
    s.team();
    let mut hhs = s.households();
    s.assignments(&hhs);
    if city.registers_only {
        if v.has_team {
            s.entitlements(&hhs);
        }
    } else {
        s.status_changes(&mut hhs);
        s.visits(&hhs);
        if v.has_team {
            s.entitlements(&hhs);
            s.attendance();
            s.projects(&hhs);
        }
        s.petitions(&hhs);
        s.surveys(&hhs);
    }
    for h in hhs {
        let mut p = Planned::new(
            h.id.clone(),
            &s.admin,
            h.created,
            phase::REGISTER,
            "建档立卡导入",
            h.rec,
        );
        for (by, when, ph, reason, rec) in h.edits {
            p = p.then(&by, when, ph, reason, rec);
        }
        s.out.push(p);
        let mut n = Planned::new(
            h.numbers_id,
            &s.admin,
            h.created + Duration::seconds(1),
            phase::REGISTER,
            "建档立卡导入",
            h.numbers,
        );
        for (by, when, ph, reason, rec) in h.number_edits {
            n = n.then(&by, when, ph, reason, rec);
        }
        s.out.push(n);
    }
    s.out
}

impl V<'_> {
    fn id(&mut self, when: &Timestamp) -> String {
        self.r.uuid_at(when)
    }

    /// Whoever keeps the household files in this village: the first secretary, or the
    /// administrator (the county's register) where no team is stationed.
    fn file_keeper(&self) -> String {
        self.team
            .first()
            .cloned()
            .unwrap_or_else(|| self.admin.clone())
    }

    /// Who records village-level cases (动态调整, petitions) where no team is stationed.
    fn case_writer(&mut self) -> String {
        match self.team.len() {
            0 => self.township.clone(),
            n => self.team[self.r.below(n)].clone(),
        }
    }

    fn team(&mut self) {
        if self.team.is_empty() {
            return;
        }
        let from = start();
        let members: BTreeMap<String, TeamMember> = self
            .team
            .iter()
            .map(|c| (c.clone(), TeamMember { from, to: None }))
            .collect();
        let team = Team {
            village_code: self.v.code.clone(),
            leader_id: self.team[0].clone(),
            members,
        };
        let when = at(ymd(2015, 8, 24), t(10, 0));
        let id = self.id(&when);
        let admin = self.admin.clone();
        self.out.push(Planned::new(
            id,
            &admin,
            when,
            phase::REGISTER,
            "选派驻村工作队",
            team,
        ));
    }

    fn geo_near(&mut self, (lat, lon): (f64, f64), sigma_m: f64) -> Geo {
        let dlat = self.r.normal(0.0, sigma_m) / 111_320.0;
        let dlon = self.r.normal(0.0, sigma_m) / (111_320.0 * lat.to_radians().cos());
        let mut g = Geo::at(lat + dlat, lon + dlon);
        g.accuracy_m = Some((self.r.uniform(5.0, 25.0) * 10.0).round() / 10.0);
        g
    }

    /// A point `min_m`–`max_m` metres from `centre` in a random direction.
    fn offset(&mut self, (lat, lon): (f64, f64), min_m: f64, max_m: f64) -> (f64, f64) {
        let d = self.r.uniform(min_m, max_m);
        let a = self.r.uniform(0.0, std::f64::consts::TAU);
        (
            lat + d * a.sin() / 111_320.0,
            lon + d * a.cos() / (111_320.0 * lat.to_radians().cos()),
        )
    }

    /// A valid, city-wide unique ID number: county code, birth date, a sequence number unique
    /// to this village within the county (its parity the gender), and the check character.
    fn id_no(&mut self, mut birth: Date, male: bool) -> (String, Date) {
        while !self.used_ids.insert((birth, male)) {
            birth += days(1);
        }
        let seq = 2 * self.v.in_county + usize::from(male);
        let first17 = format!("{}{}{:03}", self.county_code, birth.format("%Y%m%d"), seq);
        let check = cunji_core::domain::id_number::check_char(&first17).unwrap_or('0');
        (format!("{first17}{check}"), birth)
    }

    fn member(
        &mut self,
        key: usize,
        relation: Relation,
        age: i64,
        male: bool,
        surname_of: Option<&str>,
        as_of: Date,
    ) -> Member {
        let birth = as_of - days(age * 365 + self.r.int(0, 364));
        let (id_no, birth) = self.id_no(birth, male);
        let age = (as_of - birth).num_days() / 365;
        let (education, school_status) = schooling(&mut self.r, age);
        let health = self.r.pick(&[
            (Health::Healthy, 82.0),
            (Health::Chronic, 9.0),
            (Health::SeriousIllness, 3.0),
            (Health::Disabled, 6.0),
        ]);
        let labor = match (age, health) {
            (0..=15, _) => Labor::NoLabor,
            (_, Health::SeriousIllness | Health::Disabled) => Labor::Lost,
            (66.., _) => Labor::Weak,
            (_, Health::Chronic) => Labor::Weak,
            _ => self
                .r
                .pick(&[(Labor::Ordinary, 80.0), (Labor::Skilled, 20.0)]),
        };
        let works_away = (18..=50).contains(&age)
            && matches!(labor, Labor::Ordinary | Labor::Skilled)
            && self.r.chance(0.4);
        let ethnicity =
            self.r
                .pick(&[("汉族", 85.0), ("彝族", 10.0), ("回族", 3.0), ("苗族", 2.0)]);
        let insured = !self.r.chance(0.02);
        self.numbers.push((format!("m{key}"), id_no));
        Member {
            member_id: format!("m{key}"),
            name: person_name(&mut self.r, surname_of),
            gender: if male { Gender::Male } else { Gender::Female },
            relation,
            ethnicity: ethnicity.into(),
            birth_date: birth,
            education,
            school_status,
            health,
            labor,
            work: works_away.then(|| {
                self.r.pick(&[
                    (WorkPlace::InCounty, 30.0),
                    (WorkPlace::InProvince, 30.0),
                    (WorkPlace::OutOfProvince, 40.0),
                ])
            }),
            work_months: works_away.then(|| self.r.int(3, 11) as u32),
            medical_insured: insured,
            critical_illness_insured: insured,
            pension_insured: age >= 16 && self.r.chance(0.7),
            active: true,
            change_reason: None,
        }
    }

    fn households(&mut self) -> Vec<Hh> {
        let n = self.v.households;
        let n_new = ((n as f64) * 0.03).round() as usize;
        let mut out = Vec::with_capacity(n);
        // Pairing: every cadre gets one household, the rest go to cadres with fewer than 10.
        let cadres = self.pairing.len().max(1);
        let mut load = vec![0usize; cadres];
        let mut owner: Vec<usize> = (0..n).map(|i| i % cadres).collect();
        for o in owner.iter_mut().skip(cadres) {
            let mut c = self.r.below(cadres);
            while load[c] >= 9 {
                c = (c + 1) % cadres;
            }
            *o = c;
            load[c] += 1;
        }
        shuffle(&mut self.r, &mut owner);
        for (i, &cadre) in owner.iter().enumerate() {
            let new_inclusion = i >= n - n_new;
            let created_date = if new_inclusion {
                self.r.day_between(ymd(2015, 10, 5), ymd(2015, 10, 20))
            } else {
                start()
            };
            let created = at(created_date, t(9, 0)) + Duration::seconds(i as i64);
            let id = self.id(&created);
            let mut hh = self.household(created_date, new_inclusion, cadre);
            hh.numbers.household_id = id.clone();
            let numbers_id = self.id(&(created + Duration::seconds(1)));
            out.push(Hh {
                id,
                created,
                numbers_id,
                ..hh
            });
        }
        out
    }

    fn household(&mut self, as_of: Date, new_inclusion: bool, cadre: usize) -> Hh {
        let size = match self.r.weighted(&[11.0, 18.0, 21.0, 24.0, 16.0, 10.0]) {
            5 => 6 + self.r.below(2),
            k => k + 1,
        };
        let family = surname(&mut self.r);
        let head_age = self.r.normal(52.0, 12.0).clamp(25.0, 85.0) as i64;
        let head_male = self.r.chance(0.85);
        let mut members =
            vec![self.member(1, Relation::Head, head_age, head_male, Some(family), as_of)];
        let dropout = size >= 3 && self.r.chance(0.01 / 0.75);
        let mut eldest_child: Option<i64> = None;
        for k in 2..=size {
            let (relation, age, male, sur) = if k == 2 {
                let age = (head_age + self.r.int(-5, 5)).max(18);
                let rel = Relation::Spouse;
                (rel, age, !head_male, None)
            } else if k <= 4 || eldest_child.is_none_or(|a| a < 24) {
                let age = if dropout && k == 3 {
                    self.r.int(12, 15)
                } else {
                    (head_age - self.r.int(20, 34)).max(0)
                };
                eldest_child = Some(eldest_child.map_or(age, |a| a.max(age)));
                let male = self.r.chance(0.52);
                let rel = if male {
                    Relation::Son
                } else {
                    Relation::Daughter
                };
                (rel, age, male, Some(family))
            } else if k == 5 {
                let age = eldest_child.unwrap_or(25) + self.r.int(-3, 3);
                (Relation::DaughterInLaw, age.max(18), false, None)
            } else {
                let age = (eldest_child.unwrap_or(30) - self.r.int(20, 30)).max(0);
                let male = self.r.chance(0.52);
                let rel = if male {
                    Relation::Grandson
                } else {
                    Relation::Granddaughter
                };
                (rel, age, male, Some(family))
            };
            let mut m = self.member(k, relation, age, male, sur, as_of);
            if dropout && k == 3 {
                m.school_status = SchoolStatus::NotInSchool;
                m.education = Some(Education::Primary);
                m.health = Health::Healthy;
            }
            members.push(m);
        }
        let attribute = self.r.pick(&[
            (HouseholdAttribute::General, 70.0),
            (HouseholdAttribute::Dibao, 25.0),
            (HouseholdAttribute::Tekun, 5.0),
        ]);
        let causes = [
            (PovertyCause::Illness, 22.0),
            (PovertyCause::LackSkills, 18.0),
            (PovertyCause::LackFunds, 17.0),
            (PovertyCause::LackLabor, 10.0),
            (PovertyCause::Disability, 7.0),
            (PovertyCause::Schooling, 7.0),
            (PovertyCause::PoorTransport, 6.0),
            (PovertyCause::LowMotivation, 5.0),
            (PovertyCause::LackLand, 3.0),
            (PovertyCause::LackWater, 3.0),
            (PovertyCause::Disaster, 2.0),
        ];
        let main_cause = self.r.pick(&causes);
        let mut other_causes = Vec::new();
        for _ in 0..self.r.below(3) {
            let c = self.r.pick(&causes);
            if c != main_cause && !other_causes.contains(&c) {
                other_causes.push(c);
            }
        }
        // The main cause shows in the members.
        match main_cause {
            PovertyCause::Illness => {
                let i = self.r.below(members.len());
                members[i].health = if self.r.chance(0.5) {
                    Health::SeriousIllness
                } else {
                    Health::Chronic
                };
            }
            PovertyCause::Disability => {
                let i = self.r.below(members.len());
                members[i].health = Health::Disabled;
            }
            _ => {}
        }
        let patient = members
            .iter()
            .find(|m| matches!(m.health, Health::SeriousIllness | Health::Chronic))
            .map(|m| m.member_id.clone());
        let pupil = members
            .iter()
            .find(|m| {
                matches!(
                    m.school_status,
                    SchoolStatus::Primary | SchoolStatus::Grades7To9 | SchoolStatus::Senior
                )
            })
            .map(|m| m.member_id.clone());
        let uninsured = members.iter().any(|m| !m.medical_insured);
        let house_safety = self.r.pick(&[
            (HouseSafety::A, 25.0),
            (HouseSafety::B, 60.0),
            (HouseSafety::C, 10.0),
            (HouseSafety::D, 5.0),
        ]);
        let water_bad = self.r.chance(0.10);
        let piped = self.r.chance(0.6);
        let mut water = Water {
            source: if piped {
                WaterSource::Piped
            } else {
                self.r.pick(&[
                    (WaterSource::Well, 40.0),
                    (WaterSource::Spring, 40.0),
                    (WaterSource::Cistern, 20.0),
                ])
            },
            quantity_lpd: self.r.int(40, 90) as f64,
            minutes_round_trip: (!piped).then(|| self.r.int(3, 18) as u32),
            outage_days_year: self.r.int(0, 20) as u32,
            quality_ok: true,
        };
        if water_bad {
            match self.r.below(3) {
                0 => water.quality_ok = false,
                1 => water.outage_days_year = self.r.int(45, 90) as u32,
                _ => water.quantity_lpd = self.r.int(10, 25) as f64,
            }
        }
        let hamlet = self.r.choose(&self.v.hamlets).clone();
        let home = self.offset(self.v.centroid, 200.0, 3000.0);
        let mut home_geo = Geo::at(home.0, home.1);
        home_geo.accuracy_m = Some(10.0);
        let exited_2014 = !new_inclusion && self.r.chance(0.02);
        let head_id = members[0].member_id.clone();
        let members: BTreeMap<String, Member> = members
            .into_iter()
            .map(|m| (m.member_id.clone(), m))
            .collect();
        let mut rec = Household {
            village_code: self.v.code.clone(),
            hamlet: Some(hamlet),
            head_member_id: head_id,
            phone: self
                .r
                .chance(0.8)
                .then(|| format!("13{:09}", self.r.int(0, 999_999_999))),
            home_geo: Some(home_geo),
            id_standard: self
                .r
                .pick(&[(IdStandard::National, 90.0), (IdStandard::Provincial, 10.0)]),
            attribute,
            main_cause,
            other_causes,
            status: if exited_2014 {
                HouseholdStatus::ExitedSupported
            } else {
                HouseholdStatus::NotExited
            },
            registered_year: if new_inclusion { 2015 } else { 2014 },
            exit_year: exited_2014.then_some(2014),
            land_mu: Some((self.r.uniform(0.5, 8.0) * 10.0).round() / 10.0),
            house_structure: Some(match house_safety {
                HouseSafety::C | HouseSafety::D => HouseStructure::EarthWood,
                _ => self.r.pick(&[
                    (HouseStructure::BrickConcrete, 50.0),
                    (HouseStructure::BrickWood, 35.0),
                    (HouseStructure::ReinforcedConcrete, 15.0),
                ]),
            }),
            house_area_m2: Some(self.r.int(40, 160) as f64),
            house_safety,
            relocation: None,
            water,
            road: Some(self.r.pick(&[
                (RoadType::Dirt, 30.0),
                (RoadType::Gravel, 40.0),
                (RoadType::Cement, 30.0),
            ])),
            plan: Some("发展种养殖业,劳动力转移就业".into()),
            members,
            incomes: BTreeMap::new(),
        };
        let income = self.income(&rec, 2015);
        rec.incomes.insert("2015".into(), income);
        let numbers = HouseholdPrivate {
            household_id: String::new(),
            bank_account: Some(format!("621098{:013}", self.r.int(0, 9_999_999_999_999))),
            id_numbers: self.numbers.drain(..).collect(),
        };
        Hh {
            numbers_id: String::new(),
            numbers,
            number_edits: Vec::new(),
            id: String::new(),
            rec,
            created: at(as_of, t(9, 0)),
            cadre,
            new_inclusion,
            removed_on: None,
            pupil,
            patient,
            dropout,
            uninsured,
            water_bad,
            edits: Vec::new(),
        }
    }

    /// Net income lognormal around the year's poverty line (§5), split into its parts.
    fn income(&mut self, h: &Household, year: i32) -> Income {
        let median = if year <= 2015 { 2855.0 } else { 3300.0 };
        let per_capita = self.r.lognormal(median, 0.35);
        let net = per_capita * h.active_member_count().max(1) as f64;
        let fen = |share: f64| Money::from_fen((net * share * 100.0).round() as i64);
        let (dibao, tekun) = match h.attribute {
            HouseholdAttribute::Dibao => (0.15, 0.0),
            HouseholdAttribute::Tekun => (0.0, 0.15),
            HouseholdAttribute::General => (0.0, 0.0),
        };
        Income {
            year,
            wage: fen(0.50 - dibao - tekun),
            operating: fen(0.35),
            operating_cost: fen(0.10),
            property: fen(0.02),
            transfer: Transfers {
                dibao: fen(dibao),
                tekun: fen(tekun),
                pension: fen(0.08),
                eco_compensation: fen(0.05),
                other: fen(0.10),
            },
        }
    }

    fn assignments(&mut self, hhs: &[Hh]) {
        let admin = self.admin.clone();
        for (i, h) in hhs.iter().enumerate() {
            let from = h.created.date_naive();
            let when = h.created + Duration::hours(1) + Duration::seconds(i as i64);
            let a = Assignment {
                household_id: h.id.clone(),
                cadre_id: self.pairing[h.cadre].clone(),
                from,
                to: None,
                is_primary: true,
            };
            let id = self.id(&when);
            self.out
                .push(Planned::new(id, &admin, when, phase::ASSIGN, "结对帮扶", a));
        }
    }

    fn snapshot(&self, h: &Household, year: i32, as_of: Date) -> Snapshot {
        let cfg = FlagConfig::default();
        Snapshot {
            income_year: year,
            per_capita: h.per_capita(year),
            food_clothing_ok: Some(true),
            education_ok: h.education_ok(as_of, &cfg),
            medical_ok: h.medical_ok(as_of, &cfg),
            housing_ok: h.housing_ok(as_of),
            water_ok: h.water_ok(&cfg, false),
        }
    }

    /// A 动态调整 case through every step (DOMAIN §2.8): recorded by the team (or township),
    /// reviewed by the township, approved by the county office. Returns the approval date;
    /// `None` for a case stopped before the county's approval (`stop`: work in flight at the
    /// data's end), whose household therefore keeps its status.
    fn case(
        &mut self,
        h: &Hh,
        change_type: StatusChangeType,
        reason: &str,
        opened: Date,
        snapshot: Snapshot,
        stop: Option<CaseStop>,
    ) -> Option<Date> {
        // The first secretary; where no team is stationed, the township records the village's
        // steps (DOMAIN §1 leaves it to the township: checks.rs allows it only there).
        let writer = if self.team.is_empty() {
            self.township.clone()
        } else {
            self.team[0].clone()
        };
        let member_change = change_type == StatusChangeType::MemberChange;
        let mut d = opened;
        let mut steps = vec![Step {
            step: StatusChangeStep::Application,
            date: d,
            actor_id: writer.clone(),
            outcome: StepOutcome::Passed,
            note: None,
            votes_for: None,
            votes_against: None,
            publicity: None,
        }];
        let mut push = |r: &mut Rand, steps: &mut Vec<Step>, step, gap: (i64, i64), actor: &str| {
            d += days(r.int(gap.0, gap.1));
            steps.push(Step {
                step,
                date: d,
                actor_id: actor.to_string(),
                outcome: StepOutcome::Passed,
                note: None,
                votes_for: None,
                votes_against: None,
                publicity: None,
            });
        };
        if !member_change {
            push(
                &mut self.r,
                &mut steps,
                StatusChangeStep::DemocraticReview,
                (2, 6),
                &writer,
            );
            if let Some(s) = steps.last_mut() {
                s.votes_for = Some(self.r.int(25, 40) as u32);
                s.votes_against = Some(self.r.int(0, 4) as u32);
            }
        }
        push(
            &mut self.r,
            &mut steps,
            StatusChangeStep::Verification,
            (1, 4),
            &writer,
        );
        if change_type.is_exit() {
            push(
                &mut self.r,
                &mut steps,
                StatusChangeStep::HouseholdConsent,
                (1, 3),
                &writer,
            );
        }
        push(
            &mut self.r,
            &mut steps,
            StatusChangeStep::Publicity,
            (1, 3),
            &writer,
        );
        let publicity_end = d + days(6 + self.r.int(0, 2));
        // A villager's objection nobody has answered yet: R12 stops the exit at the township.
        let objections = if stop == Some(CaseStop::TownshipWithObjection) {
            vec![Objection {
                summary: "村民反映该户家中有经营性收入未计入".into(),
                resolution: None,
            }]
        } else {
            Vec::new()
        };
        if let Some(s) = steps.last_mut() {
            s.publicity = Some(Publicity {
                start: d,
                end: publicity_end,
                objections,
            });
        }
        let v1 = StatusChange {
            household_id: h.id.clone(),
            change_type,
            reason: reason.into(),
            snapshot,
            steps: steps.clone(),
            effective_date: None,
            result: None,
        };
        let township_day = publicity_end + days(self.r.int(1, 5));
        let mut v2 = v1.clone();
        v2.steps.push(Step {
            step: StatusChangeStep::TownshipReview,
            date: township_day,
            actor_id: self.township.clone(),
            outcome: StepOutcome::Passed,
            note: None,
            votes_for: None,
            votes_against: None,
            publicity: None,
        });
        let county_day = township_day + days(self.r.int(2, 8));
        let mut v3 = v2.clone();
        for (step, day) in [
            (StatusChangeStep::CountyApproval, county_day),
            (
                StatusChangeStep::SystemEntry,
                county_day + days(self.r.int(0, 3)),
            ),
        ] {
            v3.steps.push(Step {
                step,
                date: day,
                actor_id: self.county_office.clone(),
                outcome: StepOutcome::Passed,
                note: None,
                votes_for: None,
                votes_against: None,
                publicity: None,
            });
        }
        v3.result = Some(StatusChangeResult::Approved);
        v3.effective_date = Some(county_day);
        if stop == Some(CaseStop::SystemEntry) {
            // Approved and announced; not yet entered in the national system.
            v3.steps.pop();
        }
        let opened_at = at(opened, t(10, 0));
        let id = self.id(&opened_at);
        let (township, county) = (self.township.clone(), self.county_office.clone());
        let mut p = Planned::new(id, &writer, opened_at, phase::EVENTS, "动态调整申请", v1);
        if matches!(
            stop,
            Some(CaseStop::Township | CaseStop::TownshipWithObjection)
        ) {
            self.out.push(p);
            return None;
        }
        p = p.then(
            &township,
            at(township_day, t(15, 0)),
            phase::REVIEW,
            "乡镇审核",
            v2,
        );
        if stop == Some(CaseStop::County) {
            self.out.push(p);
            return None;
        }
        self.out.push(p.then(
            &county,
            at(county_day, t(16, 0)),
            phase::APPROVE,
            "县审批公告",
            v3,
        ));
        Some(county_day)
    }

    fn status_changes(&mut self, hhs: &mut [Hh]) {
        let keeper = self.file_keeper();
        // 2015 回头看: new inclusions (made at the application) and 2% 清退.
        for h in hhs.iter_mut() {
            if h.new_inclusion {
                let opened = h.created.date_naive();
                let snap = self.snapshot(&h.rec, 2015, opened);
                self.case(
                    h,
                    StatusChangeType::NewInclusion,
                    "回头看新识别纳入",
                    opened,
                    snap,
                    None,
                );
            } else if h.rec.status == HouseholdStatus::NotExited && self.r.chance(0.02) {
                let opened = self.r.day_between(ymd(2015, 10, 8), ymd(2015, 10, 25));
                let snap = self.snapshot(&h.rec, 2015, opened);
                let Some(approved) = self.case(
                    h,
                    StatusChangeType::Removal,
                    "回头看识别不精准:家庭有财政供养人员",
                    opened,
                    snap,
                    None,
                ) else {
                    continue;
                };
                let mut rec = h.rec.clone();
                rec.status = HouseholdStatus::Removed;
                let when = at(approved + days(1), t(11, 0));
                h.edits
                    .push((keeper.clone(), when, phase::CLOSE, "清退", rec));
                h.removed_on = Some(approved + days(1));
            }
        }
        // 2016: the year's income recorded in October for every household still registered.
        for h in hhs.iter_mut() {
            if h.removed_on.is_some() {
                continue;
            }
            let income = self.income(&h.rec, 2016);
            let mut rec = h.rec.clone();
            rec.incomes.insert("2016".into(), income);
            let when = at(
                self.r.day_between(ymd(2016, 10, 1), ymd(2016, 10, 9)),
                t(14, 0),
            );
            h.edits.push((
                keeper.clone(),
                when,
                phase::EVENTS,
                "2016年度收入核算",
                rec.clone(),
            ));
            h.rec = rec;
        }
        // 2016: 1% 返贫 (from those out since 2014), 4% member changes, 20–25% exits.
        let n = hhs.len();
        let target_exits = ((n as f64) * self.r.uniform(0.20, 0.25)).round() as usize;
        let mut exits = 0;
        let mut order: Vec<usize> = (0..n).collect();
        shuffle(&mut self.r, &mut order);
        for i in order {
            if hhs[i].removed_on.is_some() {
                continue;
            }
            let cfg = FlagConfig::default();
            if hhs[i].rec.status == HouseholdStatus::ExitedSupported {
                if self.r.chance(0.5) {
                    // R13: inclusions are opened in the quarterly window (DOMAIN's defaults).
                    let opened = self.r.day_between(ymd(2016, 4, 1), ymd(2016, 4, 30));
                    let snap = self.snapshot(&hhs[i].rec, 2015, opened);
                    let Some(approved) = self.case(
                        &hhs[i],
                        StatusChangeType::ReturnInclusion,
                        "因病返贫",
                        opened,
                        snap,
                        None,
                    ) else {
                        continue;
                    };
                    let mut rec = hhs[i].rec.clone();
                    rec.status = HouseholdStatus::ReturnedToPoverty;
                    let when = at(approved + days(1), t(11, 0));
                    hhs[i]
                        .edits
                        .push((keeper.clone(), when, phase::CLOSE, "返贫纳入", rec));
                }
                continue;
            }
            if self.r.chance(0.04) {
                // R13: data changes in the quarterly window, April or July.
                let month = if self.r.chance(0.5) { 4 } else { 7 };
                let opened = self
                    .r
                    .day_between(ymd(2016, month, 1), ymd(2016, month, 28));
                let snap = self.snapshot(&hhs[i].rec, 2015, opened);
                let Some(approved) = self.case(
                    &hhs[i],
                    StatusChangeType::MemberChange,
                    "家庭成员自然增减",
                    opened,
                    snap,
                    None,
                ) else {
                    continue;
                };
                let mut rec = hhs[i].rec.clone();
                let key = format!("m{}", rec.members.len() + 1);
                let birth = opened - days(self.r.int(10, 60));
                let mut baby = self.member(
                    rec.members.len() + 1,
                    Relation::Grandson,
                    0,
                    true,
                    None,
                    birth,
                );
                self.numbers.clear();
                let (id_no, birth) = self.id_no(birth, true);
                baby.member_id = key.clone();
                baby.birth_date = birth;
                // The latest numbers (the register's, or a newborn's before).
                let mut numbers = hhs[i]
                    .number_edits
                    .last()
                    .map_or_else(|| hhs[i].numbers.clone(), |e| e.4.clone());
                numbers.id_numbers.insert(key.clone(), id_no);
                baby.relation = if rec.members.len() == 1 {
                    Relation::Son
                } else {
                    Relation::Grandson
                };
                baby.change_reason = Some(MemberChangeReason::Newborn);
                baby.medical_insured = true;
                baby.critical_illness_insured = true;
                rec.members.insert(key, baby);
                let when = at(approved + days(1), t(11, 0));
                hhs[i]
                    .edits
                    .push((keeper.clone(), when, phase::CLOSE, "新生儿入户", rec));
                // The newborn's number, once the member is in the file.
                hhs[i].number_edits.push((
                    keeper.clone(),
                    when + Duration::seconds(1),
                    phase::CLOSE,
                    "新生儿身份证号",
                    numbers,
                ));
                continue;
            }
            let as_of = ymd(2016, 10, 10);
            let rec = &hhs[i].rec;
            let eligible = exits < target_exits
                && rec.status == HouseholdStatus::NotExited
                && rec
                    .per_capita(2016)
                    .is_some_and(|p| p.fen() as f64 > poverty_line(2016) * 100.0)
                && rec.education_ok(as_of, &cfg)
                && rec.medical_ok(as_of, &cfg)
                && rec.housing_ok(as_of)
                && rec.water_ok(&cfg, false);
            if eligible {
                exits += 1;
                let opened = self.r.day_between(ymd(2016, 10, 10), ymd(2016, 10, 31));
                let snap = self.snapshot(&hhs[i].rec, 2016, opened);
                // Work in flight at the data's end: of each village's exits, the 1st, 2nd and
                // 3rd of every 25 wait at 乡镇审核 (the first with an open objection, which R12
                // stops), at 县审批公告 and at 系统录入.
                let stop = match (exits - 1) % 25 {
                    0 if exits == 1 => Some(CaseStop::TownshipWithObjection),
                    0 => Some(CaseStop::Township),
                    1 => Some(CaseStop::County),
                    2 => Some(CaseStop::SystemEntry),
                    _ => None,
                };
                let Some(approved) = self.case(
                    &hhs[i],
                    StatusChangeType::MarkedExit,
                    "人均纯收入超过扶贫标准,两不愁三保障达标",
                    opened,
                    snap,
                    stop,
                ) else {
                    continue;
                };
                let mut rec = hhs[i].rec.clone();
                rec.status = HouseholdStatus::ExitedSupported;
                rec.exit_year = Some(2016);
                let when = at(approved + days(1), t(11, 0));
                hhs[i]
                    .edits
                    .push((keeper.clone(), when, phase::CLOSE, "标注脱贫", rec));
            }
        }
    }

    fn visits(&mut self, hhs: &[Hh]) {
        // 15% of cadres let one gap run past 60 days; the others keep under it (§5).
        let lax: Vec<bool> = (0..self.pairing.len())
            .map(|_| self.r.chance(0.15))
            .collect();
        let mut lapsed = vec![false; self.pairing.len()];
        let mut photos: Vec<Vec<String>> = vec![Vec::new(); self.pairing.len()];
        for h in hhs {
            let c = h.cadre;
            let visitor = self.pairing[c].clone();
            let stop = h.removed_on.unwrap_or(end());
            let mut day = if h.new_inclusion {
                h.created.date_naive() + days(self.r.int(1, 10))
            } else if self.r.chance(0.98) {
                self.r.day_between(start() + days(1), ymd(2015, 10, 31))
            } else {
                self.r.day_between(ymd(2015, 11, 1), ymd(2015, 11, 10))
            };
            let mut first = true;
            while day <= stop {
                self.visit(h, &visitor, c, day, first, &mut photos[c]);
                first = false;
                let mut gap = self.r.gamma(8.0, 45.0).round() as i64;
                if !lax[c] {
                    gap = gap.min(58);
                } else if !lapsed[c] && self.r.chance(0.3) {
                    gap = self.r.int(61, 90);
                    lapsed[c] = true;
                }
                day += days(gap.max(7));
            }
        }
    }

    fn visit(
        &mut self,
        h: &Hh,
        visitor: &str,
        cadre: usize,
        day: Date,
        first: bool,
        photos: &mut Vec<String>,
    ) {
        let home = h
            .rec
            .home_geo
            .as_ref()
            .map_or(self.v.centroid, |g| (g.lat, g.lon));
        let start_ts = at(day, self.r.time_between(9.0, 17.0));
        let end_ts = start_ts + Duration::minutes(self.r.int(10, 60));
        let phone = self.r.chance(0.03);
        let mode = if phone {
            VisitMode::Phone
        } else if first || self.r.chance(0.85) {
            VisitMode::InHome
        } else {
            VisitMode::InVillage
        };
        let (geo, no_gps_reason) = if phone {
            (None, Some("电话走访".to_string()))
        } else if self.r.chance(0.01) {
            let far = self.offset(home, 2_000.0, 10_000.0);
            (Some(self.geo_near(far, 15.0)), None)
        } else {
            (Some(self.geo_near(home, 15.0)), None)
        };
        let members: Vec<&Member> = h.rec.active_members().collect();
        let (met, not_met) = if self.r.chance(0.03) {
            (None, Some("户主外出务工,未见本人".to_string()))
        } else if self.r.chance(0.8) {
            (Some(h.rec.head_member_id.clone()), None)
        } else {
            (Some(self.r.choose(&members).member_id.clone()), None)
        };
        let yes = || ChecklistEntry {
            answer: ChecklistAnswer::Yes,
            note: None,
        };
        let no = |note: &str| ChecklistEntry {
            answer: ChecklistAnswer::No,
            note: Some(note.into()),
        };
        let checklist = Checklist {
            food_clothing: yes(),
            education: if h.dropout {
                no("有义务教育阶段子女辍学")
            } else if h.pupil.is_some() {
                yes()
            } else {
                ChecklistEntry {
                    answer: ChecklistAnswer::NotApplicable,
                    note: None,
                }
            },
            medical: if h.uninsured {
                no("有成员未参加基本医保")
            } else {
                yes()
            },
            housing: if matches!(h.rec.house_safety, HouseSafety::C | HouseSafety::D) {
                no("住房为危房")
            } else {
                yes()
            },
            water: if h.water_bad {
                no("饮水不达标")
            } else {
                yes()
            },
        };
        let purpose = if first {
            vec![VisitPurpose::FirstRound, VisitPurpose::PolicyPublicity]
        } else {
            let mut p = vec![VisitPurpose::FollowUp];
            if self.r.chance(0.3) {
                p.push(self.r.pick(&[
                    (VisitPurpose::PolicyPublicity, 1.0),
                    (VisitPurpose::InfoCheck, 1.0),
                    (VisitPurpose::DeliveryCheck, 1.0),
                ]));
            }
            p
        };
        let confirmation = if phone {
            Confirmation::Refused
        } else {
            self.r.pick(&[
                (Confirmation::HeadSigned, 80.0),
                (Confirmation::MemberSigned, 10.0),
                (Confirmation::Fingerprint, 8.0),
                (Confirmation::Refused, 2.0),
            ])
        };
        let refused = confirmation == Confirmation::Refused;
        let mut visit_photos = Vec::new();
        if !phone && self.r.chance(0.9) {
            // 0.5% reuse a photo of an earlier visit (R9).
            let sha = if !photos.is_empty() && self.r.chance(0.005) {
                self.r.choose(photos).clone()
            } else {
                self.r.sha256_hex()
            };
            photos.push(sha.clone());
            visit_photos.push(Photo {
                sha256: sha,
                phash: Some(hex::encode(self.r.bytes::<8>())),
                ts: Some(start_ts + Duration::minutes(5)),
                geo,
            });
        }
        let visit = Visit {
            household_id: h.id.clone(),
            visitor_id: visitor.to_string(),
            role_at_visit: VisitRole::PairingCadre,
            mode,
            start_ts,
            end_ts,
            geo,
            no_gps_reason,
            met_member_id: met,
            not_met_reason: not_met,
            purpose,
            checklist,
            changes_found: None,
            demands: self.r.chance(0.2).then(|| "希望发展养殖项目".to_string()),
            actions: self.r.chance(0.2).then(|| "联系乡镇农技站".to_string()),
            follow_up_due: None,
            knows_cadre: Some(self.r.chance(0.95)),
            confirmation,
            confirmation_image_sha256: (!refused).then(|| self.r.sha256_hex()),
            refusal_reason: refused.then(|| {
                if phone {
                    "电话走访,无法签字"
                } else {
                    "户主不愿签字"
                }
                .to_string()
            }),
            photos: visit_photos,
            acceptance: None,
        };
        let id = self.id(&end_ts);
        self.out.push(Planned::new(
            id,
            visitor,
            end_ts,
            phase::EVENTS,
            "入户走访",
            visit.clone(),
        ));
        // 1.5% proxy attempts: a colleague records the visit in the assignee's name (R6); the
        // server refuses it.
        if self.pairing.len() > 1 && self.r.chance(0.015) {
            let other = (cadre + 1 + self.r.below(self.pairing.len() - 1)) % self.pairing.len();
            let proxy = self.pairing[other].clone();
            let when = end_ts + Duration::minutes(30);
            let id = self.id(&when);
            let mut p = Planned::new(id, &proxy, when, phase::EVENTS, "代访", visit);
            p.refused_as = Some("forged_author");
            self.out.push(p);
        }
    }

    fn entitlements(&mut self, hhs: &[Hh]) {
        for h in hhs {
            for year in [2015, 2016] {
                let registered = match year {
                    2015 => !h.new_inclusion,
                    _ => h.removed_on.is_none(),
                };
                if !registered || h.rec.status == HouseholdStatus::ExitedSupported && year == 2015 {
                    continue;
                }
                self.entitlements_for(h, year);
            }
        }
    }

    fn entitlements_for(&mut self, h: &Hh, year: i32) {
        let y = |m, d| ymd(year, m, d);
        // (code, member, amount in yuan, due date, basis)
        let mut items: Vec<(&'static str, Option<String>, i64, Date, &'static str)> = vec![(
            "HEALTH-YB",
            None,
            120 * h.rec.active_member_count() as i64,
            if year == 2015 { y(9, 30) } else { y(3, 31) },
            "建档立卡贫困户医保个人缴费代缴",
        )];
        if let Some(p) = &h.pupil {
            items.push((
                "EDU-ZZ",
                Some(p.clone()),
                1000,
                y(10, 31),
                "义务教育阶段学生资助",
            ));
        }
        if let Some(p) = &h.patient {
            items.push((
                "HEALTH-JZ",
                Some(p.clone()),
                3000,
                if year == 2015 { y(12, 20) } else { y(6, 30) },
                "大病慢病医疗救助",
            ));
        }
        if year == 2016 && matches!(h.rec.house_safety, HouseSafety::C | HouseSafety::D) {
            items.push(("HOUSE-WG", None, 20_000, y(9, 30), "C/D级危房改造"));
        }
        let safety_net = match h.rec.attribute {
            HouseholdAttribute::Dibao => Some(("SN-DB", 1_200, "低保金(半年)")),
            HouseholdAttribute::Tekun => Some(("SN-TK", 2_400, "特困供养金(半年)")),
            HouseholdAttribute::General => None,
        };
        if let Some((code, amount, basis)) = safety_net {
            if year == 2016 {
                items.push((code, None, amount, y(6, 30), basis));
            }
            items.push((code, None, amount, y(12, 20), basis));
        }
        let target = self.r.int(3, 6) as usize;
        let optional = [
            ("IND-JB", 2_000, "产业扶贫以奖代补"),
            ("EMP-GY", 3_600, "公益岗位补贴"),
            ("FIN-TX", 500, "扶贫小额信贷贴息"),
            ("ECO-BC", 800, "生态公益林补偿"),
            ("ASSET-FH", 600, "资产收益分红"),
            ("EMP-PX", 400, "劳动力技能培训补贴"),
        ];
        let mut extra: Vec<usize> = (0..optional.len()).collect();
        shuffle(&mut self.r, &mut extra);
        for k in extra {
            if items.len() >= target {
                break;
            }
            let (code, amount, basis) = optional[k];
            let due = if year == 2015 {
                self.r.day_between(y(10, 1), y(12, 20))
            } else {
                self.r.day_between(y(3, 1), y(12, 20))
            };
            items.push((code, None, amount, due, basis));
        }
        items.truncate(6);
        let issued = if year == 2015 {
            at(ymd(2015, 9, 1), t(9, 0))
        } else {
            at(ymd(2016, 1, 15), t(9, 0))
        };
        let county = self.county_office.clone();
        for (i, (code, member, amount, due, basis)) in items.into_iter().enumerate() {
            let when = issued + Duration::seconds(i as i64);
            let id = self.id(&when);
            let e = Entitlement {
                household_id: h.id.clone(),
                member_id: member,
                policy_code: code.into(),
                year,
                due_amount: Some(Money::from_yuan(amount)),
                due_date: due,
                basis: basis.into(),
            };
            self.out.push(Planned::new(
                id.clone(),
                &county,
                when,
                phase::ASSIGN,
                "下达应享政策",
                e,
            ));
            if self.registers_only {
                continue;
            }
            // 85% on time, 10% late by 15–120 days, 5% not delivered (§5).
            let outcome = self.r.weighted(&[85.0, 10.0, 5.0]);
            let delivered = match outcome {
                0 => (due - days(self.r.int(0, 20))).max(when.date_naive()),
                1 => due + days(self.r.int(15, 120)),
                _ => continue,
            };
            if delivered > end() {
                continue;
            }
            let by = self.team[self.r.below(self.team.len())].clone();
            let (channel, in_kind) = match code {
                "HEALTH-YB" => (DeliveryChannel::PaidOnBehalf, None),
                "HOUSE-WG" => (DeliveryChannel::Bank, None),
                "IND-JB" if self.r.chance(0.3) => {
                    (DeliveryChannel::InKind, Some("核桃苗200株".to_string()))
                }
                _ => (
                    self.r.pick(&[
                        (DeliveryChannel::OneCard, 60.0),
                        (DeliveryChannel::Bank, 30.0),
                        (DeliveryChannel::Cash, 10.0),
                    ]),
                    None,
                ),
            };
            let d = Delivery {
                entitlement_id: id,
                amount: in_kind.is_none().then(|| Money::from_yuan(amount)),
                in_kind,
                delivered_date: delivered,
                channel,
                voucher_no: Some(format!("PZ{}{:06}", year, self.r.int(0, 999_999))),
                verified_visit_id: None,
                household_ack: self.r.chance(0.97),
                status: DeliveryStatus::Delivered,
            };
            let when = at(delivered, self.r.time_between(14.0, 18.0));
            let id = self.id(&when);
            self.out.push(Planned::new(
                id,
                &by,
                when,
                phase::EVENTS,
                "政策兑现登记",
                d,
            ));
        }
    }

    /// Check-ins, leave and logs of every team cadre, month by month (§5), and the township's
    /// and county's unannounced inspections.
    fn attendance(&mut self) {
        // Per day and cadre: 'v' in the village, 'l' on leave.
        let mut status: Vec<BTreeMap<Date, char>> = vec![BTreeMap::new(); self.team.len()];
        for (k, days_of) in status.iter_mut().enumerate() {
            let cadre = self.team[k].clone();
            let county_dispatched = k == 0 && self.r.chance(0.6);
            let commuter = self.r.chance(if county_dispatched { 0.33 } else { 0.059 });
            let compliant = self.r.chance(0.65 / 0.90);
            let mut month = ymd(2015, 8, 1);
            while month <= end() {
                let next = month
                    .checked_add_months(chrono::Months::new(1))
                    .unwrap_or(end());
                let first = month.max(start());
                let last = (next - days(1)).min(end());
                let span = (last - first).num_days() + 1;
                let month_days = (next - month).num_days();
                let mut leave_days = HashSet::new();
                if span >= 20 {
                    let len = self.r.int(2, 4);
                    let from = first + days(self.r.int(0, span - len));
                    let to = from + days(len - 1);
                    for i in 0..len {
                        leave_days.insert(from + days(i));
                    }
                    self.leave(k, &cadre, from, to, false);
                    for dd in &leave_days {
                        days_of.insert(*dd, 'l');
                    }
                }
                let target = if commuter {
                    self.r.int(8, 15)
                } else if compliant {
                    self.r.int(21, 26)
                } else {
                    self.r.int(17, 20)
                };
                let target = ((target * span) as f64 / month_days as f64).ceil() as usize;
                let mut candidates: Vec<Date> = (0..span)
                    .map(|i| first + days(i))
                    .filter(|d| !leave_days.contains(d))
                    .filter(|d| !commuter || !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
                    .collect();
                shuffle(&mut self.r, &mut candidates);
                candidates.truncate(target);
                candidates.sort();
                for day in candidates {
                    days_of.insert(day, 'v');
                    self.check_in(&cadre, day);
                    if self.r.chance(0.9) {
                        self.work_log(&cadre, day);
                    }
                }
                month = next;
            }
            // Work in flight at the data's end: 80% of team cadres ask, in its last week, for
            // 1–5 days off after it (the new year's); nobody has decided yet.
            if self.r.chance(0.8) {
                let from = end() + days(self.r.int(1, 4));
                let to = from + days(self.r.int(0, 4));
                self.leave(k, &cadre, from, to, true);
            }
        }
        self.review_logs();
        self.inspections(&status);
    }

    fn check_in(&mut self, cadre: &str, day: Date) {
        let ts = at(day, self.r.time_between(7.5, 10.0));
        let spot = self.offset(self.v.centroid, 0.0, 300.0);
        let mut geo = self.geo_near(spot, 15.0);
        geo.fix_ts = Some(ts);
        let c = CheckIn {
            cadre_id: cadre.into(),
            village_code: self.v.code.clone(),
            ts,
            geo,
            slot: Some(CheckInSlot::Morning),
            photo_sha256: None,
            mock_flag: false,
        };
        let id = self.id(&ts);
        self.out
            .push(Planned::new(id, cadre, ts, phase::EVENTS, "到村打卡", c));
    }

    fn work_log(&mut self, cadre: &str, day: Date) {
        let all = [
            WorkActivity::HouseholdVisits,
            WorkActivity::PartyBuilding,
            WorkActivity::Meeting,
            WorkActivity::Project,
            WorkActivity::PolicyDelivery,
            WorkActivity::Mediation,
            WorkActivity::Petitions,
            WorkActivity::Training,
        ];
        let mut activities = Vec::new();
        for _ in 0..self.r.int(1, 3) {
            let a = *self.r.choose(&all);
            if !activities.contains(&a) {
                activities.push(a);
            }
        }
        let log = WorkLog {
            date: day,
            village_code: self.v.code.clone(),
            activities,
            summary: "入户了解生产生活情况,宣传扶贫政策,整理档案资料".into(),
            visit_ids: Vec::new(),
            problems: self
                .r
                .chance(0.2)
                .then(|| "部分农户产业发展资金不足".to_string()),
            next_plan: Some("继续入户走访".into()),
            review: None,
            leader_comment: None,
        };
        let when = at(day, self.r.time_between(19.5, 21.5));
        let id = self.id(&when);
        self.out.push(Planned::new(
            id,
            cadre,
            when,
            phase::EVENTS,
            "驻村日志",
            log,
        ));
    }

    /// The township reviews each cadre's month of logs by the 10th of the next month, except
    /// 5% of cadre-months (§5).
    fn review_logs(&mut self) {
        let township = self.township.clone();
        let mut skip: HashSet<(String, i32, u32)> = HashSet::new();
        let mut decided: HashSet<(String, i32, u32)> = HashSet::new();
        for p in self.out.iter_mut() {
            if p.kind() != cunji_core::domain::Kind::WorkLog {
                continue;
            }
            let Ok(mut log) = serde_json::from_value::<WorkLog>(p.versions[0].record.json()) else {
                continue;
            };
            let key = (p.versions[0].by.clone(), log.date.year(), log.date.month());
            if decided.insert(key.clone()) && self.r.chance(0.05) {
                skip.insert(key.clone());
            }
            if skip.contains(&key) {
                continue;
            }
            let next_month = ymd(key.1, key.2, 1)
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(end());
            let day = next_month + days(self.r.int(0, 9));
            if day > end() {
                continue;
            }
            let ts = at(day, t(10, 0));
            log.review = Some(Review {
                reviewer_id: township.clone(),
                ts,
                comment: Some("已阅".into()),
            });
            p.versions.push(super::records::Version {
                by: township.clone(),
                at: ts,
                phase: phase::REVIEW,
                reason: "乡镇月度审阅",
                record: Box::new(log),
            });
        }
    }

    /// A leave request: endorsed by the first secretary (for a team member), approved by the
    /// township (≤ 3 days) or the organisation department, then closed with 销假 (3% never).
    /// `in_flight`: requested in the data's final week for days after its end, and not yet
    /// decided: endorsed with p = 0.7 (a team member's), waiting for the approver.
    fn leave(&mut self, k: usize, cadre: &str, from: Date, to: Date, in_flight: bool) {
        let len = (to - from).num_days() + 1;
        let retro = !in_flight && self.r.chance(0.05);
        let leave_type = if retro {
            LeaveType::Sick
        } else {
            self.r.pick(&[
                (LeaveType::Personal, 35.0),
                (LeaveType::Sick, 15.0),
                (LeaveType::OfficialMeeting, 20.0),
                (LeaveType::OfficialTrip, 20.0),
                (LeaveType::Rotation, 10.0),
            ])
        };
        let requested = if in_flight {
            at(end() - days(self.r.int(0, 6)), t(17, 0))
        } else if retro {
            at(from + days(1), t(8, 30))
        } else {
            at(from - days(self.r.int(1, 5)), t(17, 0))
        };
        let (approver, level) = if len <= 3 {
            (self.township.clone(), ApprovalLevel::Township)
        } else {
            (self.county_org.clone(), ApprovalLevel::CountyOrg)
        };
        let v1 = Leave {
            cadre_id: cadre.into(),
            leave_type,
            from,
            to,
            days: len as u32,
            reason: match leave_type {
                LeaveType::Sick => "身体不适就医",
                LeaveType::OfficialMeeting => "参加县扶贫业务培训",
                LeaveType::OfficialTrip => "到县里办理项目审批",
                LeaveType::Rotation => "轮休",
                _ => "家中有事",
            }
            .into(),
            requested_ts: requested,
            endorsed_by: None,
            approver_id: approver.clone(),
            level,
            status: LeaveStatus::Pending,
            returned_ts: None,
            evidence: (leave_type == LeaveType::Sick).then(|| "诊断证明".to_string()),
            decision: None,
        };
        let id = self.id(&requested);
        let mut p = Planned::new(id, cadre, requested, phase::EVENTS, "请假申请", v1.clone());
        let mut current = v1;
        if k > 0 && (!in_flight || self.r.chance(0.7)) {
            let leader = self.team[0].clone();
            current.endorsed_by = Some(leader.clone());
            p = p.then(
                &leader,
                requested + Duration::hours(1),
                phase::REVIEW,
                "队长同意",
                current.clone(),
            );
        }
        if in_flight {
            self.out.push(p);
            return;
        }
        current.status = LeaveStatus::Approved;
        current.decision = Some(cunji_core::domain::worklog::Review {
            reviewer_id: approver.clone(),
            ts: requested + Duration::hours(3),
            comment: None,
        });
        p = p.then(
            &approver,
            requested + Duration::hours(3),
            phase::APPROVE,
            "批准请假",
            current.clone(),
        );
        // 3% never report back (§5).
        if !self.r.chance(0.03) {
            let back = at(to + days(1), t(8, 30));
            if back.date_naive() <= end() {
                current.status = LeaveStatus::Returned;
                current.returned_ts = Some(back);
                p = p.then(cadre, back, phase::CLOSE, "销假", current);
            }
        }
        self.out.push(p);
    }

    /// At least one unannounced inspection per team and quarter (§5), by the township or the
    /// county organisation department, of one team cadre: absence is found with p = 0.8.
    fn inspections(&mut self, status: &[BTreeMap<Date, char>]) {
        let quarters = [
            (start(), ymd(2015, 9, 30)),
            (ymd(2015, 10, 1), ymd(2015, 12, 31)),
            (ymd(2016, 1, 1), ymd(2016, 3, 31)),
            (ymd(2016, 4, 1), ymd(2016, 6, 30)),
            (ymd(2016, 7, 1), ymd(2016, 9, 30)),
            (ymd(2016, 10, 1), end()),
        ];
        let households: Vec<String> = self
            .out
            .iter()
            .filter(|p| p.kind() == cunji_core::domain::Kind::Assignment)
            .filter_map(|p| {
                p.versions[0].record.json()["household_id"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect();
        for (q0, q1) in quarters {
            let n = if self.r.chance(0.3) { 2 } else { 1 };
            for _ in 0..n {
                let mut day = self.r.day_between(q0, q1);
                while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && day > q0 {
                    day -= days(1);
                }
                let k = self.r.below(self.team.len());
                let target = self.team[k].clone();
                let county = self.r.chance(0.3);
                let inspector = if county {
                    self.county_org.clone()
                } else {
                    self.township.clone()
                };
                let on_post = match status[k].get(&day) {
                    Some('v') => OnPost::OnPost,
                    Some(_) => OnPost::OnLeave,
                    None if self.r.chance(0.8) => OnPost::Absent,
                    None => OnPost::OnPost,
                };
                let mut checked = Vec::new();
                for _ in 0..3 {
                    if households.is_empty() {
                        break;
                    }
                    let h = self.r.choose(&households).clone();
                    if checked.iter().any(|c: &HouseholdCheck| c.household_id == h) {
                        continue;
                    }
                    let sat = if self.r.chance(self.p_satisfied) {
                        Satisfaction::Satisfied
                    } else {
                        Satisfaction::Dissatisfied
                    };
                    checked.push(HouseholdCheck {
                        household_id: h,
                        knows_cadre: self.r.chance(0.92),
                        claimed_visit_confirmed: self.r.chance(0.95),
                        satisfaction: Some(sat),
                    });
                }
                let absent = on_post == OnPost::Absent;
                let i = Inspection {
                    inspector_id: inspector.clone(),
                    level: if county {
                        InspectionLevel::County
                    } else {
                        InspectionLevel::Township
                    },
                    method: InspectionMethod::FieldVisit,
                    date: day,
                    unannounced: true,
                    village_code: self.v.code.clone(),
                    target_cadre_id: Some(target),
                    on_post,
                    households_checked: checked,
                    findings: absent.then(|| "驻村干部无故不在岗".to_string()),
                    deadline: absent.then(|| day + days(15)),
                    rectified_date: None,
                };
                let when = at(day, self.r.time_between(10.0, 16.0));
                let id = self.id(&when);
                self.out.push(Planned::new(
                    id,
                    &inspector,
                    when,
                    phase::EVENTS,
                    "督查暗访",
                    i,
                ));
            }
        }
    }

    /// Petitions: 5 per 100 households a year (§5), handled by the team (or the township).
    fn petitions(&mut self, hhs: &[Hh]) {
        let years = ((end() - start()).num_days() + 1) as f64 / 365.0;
        let n = self.r.poisson(0.05 * hhs.len() as f64 * years);
        for _ in 0..n {
            let received = self.r.day_between(start(), end());
            let h = &hhs[self.r.below(hhs.len())];
            let domain = self.r.pick(&[
                (PetitionDomain::Identification, 30.0),
                (PetitionDomain::HousingRenovation, 16.0),
                (PetitionDomain::SocialAssistance, 9.0),
                (PetitionDomain::Education, 5.0),
                (PetitionDomain::Health, 4.0),
                (PetitionDomain::Finance, 4.0),
                (PetitionDomain::SocialSupport, 4.0),
                (PetitionDomain::SpecialPrograms, 3.0),
                (PetitionDomain::Relocation, 2.0),
                (PetitionDomain::Other, 23.0),
            ]);
            let handler = self.case_writer();
            let v1 = Petition {
                received_date: received,
                channel: self.r.pick(&[
                    (PetitionChannel::InPerson, 91.0),
                    (PetitionChannel::Phone, 6.0),
                    (PetitionChannel::Letter, 2.0),
                    (PetitionChannel::Online, 1.0),
                ]),
                source: self.r.pick(&[
                    (PetitionSource::PublicComplaint, 80.0),
                    (PetitionSource::PublicReport, 10.0),
                    (PetitionSource::Inspection, 5.0),
                    (PetitionSource::DepartmentReferral, 5.0),
                ]),
                household_id: self.r.chance(0.85).then(|| h.id.clone()),
                village_code: self.v.code.clone(),
                domain,
                subject_level: (domain == PetitionDomain::Identification)
                    .then_some(SubjectLevel::VillageCadre),
                summary: format!("反映{}方面的问题", domain.label_zh()),
                handler_id: handler.clone(),
                due_date: Petition::default_due(received),
                status: PetitionStatus::Accepted,
                resolution: None,
                closed_date: None,
                return_visit: None,
                assignment: None,
                progress: Vec::new(),
            };
            let when = at(received, t(10, 0));
            let id = self.id(&when);
            let mut p = Planned::new(
                id,
                &handler,
                when,
                phase::EVENTS,
                "受理群众诉求",
                v1.clone(),
            );
            // Assumed: 85% closed after 10–75 days, 5% not accepted, the rest still open.
            match self.r.weighted(&[85.0, 5.0, 10.0]) {
                0 => {
                    let closed = received + days(self.r.int(10, 75));
                    if closed <= end() {
                        let mut v2 = v1.clone();
                        v2.status = PetitionStatus::Closed;
                        v2.resolution = Some("已调查核实并答复".into());
                        v2.closed_date = Some(closed);
                        p = p.then(
                            &handler,
                            at(closed, t(16, 0)),
                            phase::EVENTS,
                            "办结",
                            v2.clone(),
                        );
                        // Return visit within 15 days for 90%, later for 5%, none for 5%.
                        let rv = match self.r.weighted(&[90.0, 5.0, 5.0]) {
                            0 => Some(closed + days(self.r.int(1, 15))),
                            1 => Some(closed + days(self.r.int(16, 40))),
                            _ => None,
                        };
                        if let Some(rv) = rv.filter(|d| *d <= end()) {
                            v2.return_visit = Some(ReturnVisit {
                                date: rv,
                                result: self.r.pick(&[
                                    (ReturnVisitResult::Satisfied, 65.0),
                                    (ReturnVisitResult::FairlySatisfied, 33.0),
                                    (ReturnVisitResult::Dissatisfied, 2.0),
                                ]),
                            });
                            p = p.then(&handler, at(rv, t(15, 0)), phase::EVENTS, "回访", v2);
                        }
                    }
                }
                1 => {
                    let mut v2 = v1.clone();
                    v2.status = PetitionStatus::NotAccepted;
                    let closed = received + days(self.r.int(1, 5));
                    v2.closed_date = Some(closed);
                    v2.resolution = Some("不属于受理范围,已告知".into());
                    p = p.then(
                        &handler,
                        at(closed, t(16, 0)),
                        phase::EVENTS,
                        "不予受理",
                        v2,
                    );
                }
                _ => {}
            }
            self.out.push(p);
        }
    }

    /// One survey per registered household and year by the township: 乡镇核查 in late 2015,
    /// 第三方评估 (recorded by the township) in late 2016. P(满意 or 基本满意) = 0.93 + the
    /// village's effect (§5).
    fn surveys(&mut self, hhs: &[Hh]) {
        let township = self.township.clone();
        for h in hhs {
            for (year, source, period, from, to) in [
                (
                    2015,
                    SurveySource::TownshipCheck,
                    "2015-Q4",
                    ymd(2015, 11, 15),
                    ymd(2015, 11, 30),
                ),
                (
                    2016,
                    SurveySource::ThirdParty,
                    "2016",
                    ymd(2016, 11, 1),
                    ymd(2016, 12, 15),
                ),
            ] {
                let out = h.removed_on.is_some_and(|d| d.year() <= year);
                if out {
                    continue;
                }
                let day = self
                    .r
                    .day_between(from.max(h.created.date_naive() + days(1)), to);
                let result = if self.r.chance(self.p_satisfied) {
                    if self.r.chance(0.65) {
                        Satisfaction::Satisfied
                    } else {
                        Satisfaction::FairlySatisfied
                    }
                } else if self.r.chance(0.6) {
                    Satisfaction::Dissatisfied
                } else {
                    Satisfaction::CannotSay
                };
                let s = SatisfactionSurvey {
                    household_id: h.id.clone(),
                    period: period.into(),
                    surveyor_id: township.clone(),
                    source,
                    respondent_member_id: h.rec.head_member_id.clone(),
                    result,
                    reasons: (result == Satisfaction::Dissatisfied)
                        .then(|| "帮扶措施不够具体".to_string()),
                };
                let when = at(day, self.r.time_between(9.0, 17.0));
                let id = self.id(&when);
                self.out.push(Planned::new(
                    id,
                    &township,
                    when,
                    phase::EVENTS,
                    "满意度测评",
                    s,
                ));
            }
        }
    }

    /// 2–6 projects per poor village and year (§5), funded at about seed 001's scale.
    fn projects(&mut self, hhs: &[Hh]) {
        if !self.v.is_poor {
            return;
        }
        let fs = self.team[0].clone();
        for year in [2015, 2016] {
            for _ in 0..self.r.int(2, 6) {
                let listed = if year == 2015 {
                    self.r.day_between(ymd(2015, 9, 1), ymd(2015, 10, 31))
                } else {
                    self.r.day_between(ymd(2016, 2, 1), ymd(2016, 6, 30))
                };
                let category = self.r.pick(&[
                    (ProjectCategory::Industry, 35.0),
                    (ProjectCategory::Infrastructure, 30.0),
                    (ProjectCategory::LivingConditions, 10.0),
                    (ProjectCategory::PublicServices, 10.0),
                    (ProjectCategory::Employment, 5.0),
                    (ProjectCategory::Education, 5.0),
                    (ProjectCategory::Health, 5.0),
                ]);
                let funding = Funding {
                    fiscal_special: Money::from_yuan(self.r.lognormal(50_000.0, 0.5) as i64),
                    integrated: Money::from_yuan(self.r.lognormal(110_000.0, 0.6) as i64),
                    sending_unit: Money::from_yuan(self.r.lognormal(6_000.0, 0.5) as i64),
                    self_raised: Money::from_yuan(self.r.int(0, 5_000)),
                };
                let total = funding.fiscal_special.fen()
                    + funding.integrated.fen()
                    + funding.sending_unit.fen()
                    + funding.self_raised.fen();
                let households = self.r.int(5, 20).min(hhs.len() as i64).max(1) as u32;
                let start_day = listed + days(self.r.int(10, 40));
                let v1 = Project {
                    name: format!("{}{}年{}项目", self.v.name, year, category.label_zh()),
                    category,
                    village_code: self.v.code.clone(),
                    beneficiaries: Some(Beneficiaries {
                        households,
                        persons: Some(households * 3 + self.r.int(0, 10) as u32),
                    }),
                    funding,
                    performance_target: "带动建档立卡户增收".into(),
                    benefit_link: Some("贫困户务工、入股分红".into()),
                    planned_start: start_day,
                    planned_end: start_day + days(self.r.int(60, 180)),
                    progress: Vec::new(),
                    publicity: Some(ProjectPublicity {
                        listing_date: Some(listed),
                        completion_date: None,
                    }),
                };
                let when = at(listed, t(11, 0));
                let id = self.id(&when);
                let mut v2 = v1.clone();
                let mut day = start_day;
                let mut percent = 0u32;
                while percent < 100 {
                    day += days(self.r.int(20, 60));
                    if day > end() {
                        break;
                    }
                    percent = (percent + self.r.int(20, 50) as u32).min(100);
                    v2.progress.push(Progress {
                        date: day,
                        percent,
                        disbursed: Money::from_fen(total * i64::from(percent) / 100),
                        photo_sha256: Some(self.r.sha256_hex()),
                    });
                }
                if percent == 100
                    && let Some(p) = v2.publicity.as_mut()
                {
                    p.completion_date = Some(day);
                }
                let mut p = Planned::new(id, &fs, when, phase::EVENTS, "项目入库公示", v1);
                if !v2.progress.is_empty() {
                    p = p.then(
                        &fs,
                        at(day.min(end()), t(17, 0)),
                        phase::EVENTS,
                        "项目进度",
                        v2,
                    );
                }
                self.out.push(p);
            }
        }
    }
}

/// Education and school status by age (ages 6–15 always in school).
fn schooling(r: &mut Rand, age: i64) -> (Option<Education>, SchoolStatus) {
    match age {
        0..=2 => (Some(Education::Preschool), SchoolStatus::NotInSchool),
        3..=5 => (Some(Education::Preschool), SchoolStatus::Preschool),
        6..=11 => (Some(Education::Primary), SchoolStatus::Primary),
        12..=14 => (Some(Education::Primary), SchoolStatus::Grades7To9),
        15..=17 => (Some(Education::Junior), SchoolStatus::Senior),
        18..=21 if r.chance(0.15) => (Some(Education::Senior), SchoolStatus::College),
        18..=40 => (
            Some(r.pick(&[
                (Education::Junior, 60.0),
                (Education::Senior, 25.0),
                (Education::Primary, 15.0),
            ])),
            SchoolStatus::NotInSchool,
        ),
        _ => (
            Some(r.pick(&[
                (Education::Illiterate, 30.0),
                (Education::Primary, 50.0),
                (Education::Junior, 20.0),
            ])),
            SchoolStatus::NotInSchool,
        ),
    }
}

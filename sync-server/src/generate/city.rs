//! The city's skeleton: counties, townships, villages with their household counts and teams,
//! sending units and the cadres' numbering. Planned for the whole city (seed 001's 1,650
//! villages) and then sampled, so that a fraction of the city has the same shapes as the
//! whole and the first selected village is always a poor village with a work team.

use super::random::Rand;

/// 曲靖市 (seed 001's city): 9 counties; the five national poverty counties flagged.
/// Township counts are an assumption that sums to seed 001's 130.
pub const COUNTIES: [(&str, &str, bool, usize); 9] = [
    ("530302", "麒麟区", false, 12),
    ("530303", "沾益区", false, 11),
    ("530321", "马龙县", false, 10),
    ("530322", "陆良县", false, 10),
    ("530323", "师宗县", true, 9),
    ("530324", "罗平县", true, 13),
    ("530325", "富源县", true, 12),
    ("530326", "会泽县", true, 27),
    ("530381", "宣威市", true, 26),
];
pub const CITY_CODE: &str = "5303";
pub const CITY_VILLAGES: usize = 1_650;
pub const CITY_POOR_TOWNSHIPS: usize = 50;
pub const CITY_POOR_VILLAGES: usize = 475;
pub const CITY_TEAM_VILLAGES: usize = 837;
pub const CITY_HOUSEHOLDS: usize = 227_500;
pub const CITY_CADRES: usize = 80_000;
pub const CITY_UNITS: usize = 834;
/// Share of registered households in team villages (seed 001: ~70%).
const TEAM_HOUSEHOLD_SHARE: f64 = 0.70;
/// Households per pairing cadre: 227,500 households over the ~76,650 cadres who are not in a
/// team (§5 gives a mean of ~2.8 over all 80,000 cadres; team cadres pair with none here).
pub const HOUSEHOLDS_PER_PAIRING_CADRE: f64 = 2.97;

const CITY_CENTRE: (f64, f64) = (25.49, 103.80);

#[derive(Debug, Clone)]
pub struct County {
    pub code: String,
    pub name: String,
    pub is_poor: bool,
}

#[derive(Debug, Clone)]
pub struct Township {
    pub code: String,
    pub name: String,
    pub county: usize,
    pub is_poor: bool,
}

#[derive(Debug, Clone)]
pub struct VillagePlan {
    /// Position among the city's 1,650 villages (its random stream).
    pub index: usize,
    pub code: String,
    pub name: String,
    pub township: usize,
    pub county: usize,
    /// Position among its county's villages (used in members' ID numbers).
    pub in_county: usize,
    pub is_poor: bool,
    pub has_team: bool,
    pub households: usize,
    pub centroid: (f64, f64),
    pub hamlets: Vec<String>,
    /// Team members besides the first secretary (2–4), zero without a team.
    pub team_members: usize,
    pub pairing_cadres: usize,
    /// Number of this village's first cadre in the city's cadre numbering.
    pub first_cadre: usize,
}

impl VillagePlan {
    pub fn team_size(&self) -> usize {
        if self.has_team {
            1 + self.team_members
        } else {
            0
        }
    }
    pub fn cadre_count(&self) -> usize {
        self.team_size() + self.pairing_cadres
    }
}

#[derive(Debug, Clone)]
pub struct UnitPlan {
    pub id: String,
    pub name: String,
    /// 0 省, 1 市, 2 县, 3 乡镇.
    pub level: usize,
}

/// The sampled city.
#[derive(Debug, Clone)]
pub struct City {
    pub seed: u64,
    pub counties: Vec<County>,
    pub townships: Vec<Township>,
    /// Selected villages, in generation order; the first has a team.
    pub villages: Vec<VillagePlan>,
    pub units: Vec<UnitPlan>,
    pub cadres: usize,
    /// Selected share of the city's villages.
    pub fraction: f64,
    /// Only the registers a county keeps (units, cadres, villages, teams, households,
    /// assignments, entitlements), none of a year's work: [`super::Options::registers_only`].
    pub registers_only: bool,
}

/// Cadre levels 省/市/县/乡 = 3/12/45/40% (§5), used for units too.
pub const LEVEL_WEIGHTS: [f64; 4] = [3.0, 12.0, 45.0, 40.0];

const HAMLET_NAMES: [&str; 12] = [
    "上村", "下村", "大寨", "小寨", "新村", "老村", "河边", "山脚", "坝子", "岭头", "沟头", "田心",
];
const VILLAGE_SYLLABLES: [&str; 24] = [
    "大", "小", "新", "老", "石", "水", "龙", "凤", "马", "松", "竹", "林", "河", "山", "坪", "塘",
    "沙", "白", "黑", "红", "清", "花", "金", "银",
];
const VILLAGE_SUFFIX: [&str; 6] = ["村", "社区", "村", "村", "村", "村"];

impl City {
    /// Plans the city for `seed` and keeps `villages` of its villages (at least one).
    pub fn plan(seed: u64, villages: usize) -> City {
        let mut r = Rand::new(seed, 0xC17);
        let counties: Vec<County> = COUNTIES
            .iter()
            .map(|(code, name, poor, _)| County {
                code: (*code).into(),
                name: (*name).into(),
                is_poor: *poor,
            })
            .collect();
        // Townships: poor ones only in poverty counties, 50 of them.
        let mut townships = Vec::new();
        for (ci, (code, name, _, n)) in COUNTIES.iter().enumerate() {
            for t in 0..*n {
                townships.push(Township {
                    code: format!("{code}{:03}", 101 + t),
                    name: format!(
                        "{}第{}乡镇",
                        name.trim_end_matches(['县', '区', '市']),
                        t + 1
                    ),
                    county: ci,
                    is_poor: false,
                });
            }
        }
        let mut poor_candidates: Vec<usize> = (0..townships.len())
            .filter(|&i| counties[townships[i].county].is_poor)
            .collect();
        shuffle(&mut r, &mut poor_candidates);
        for &i in poor_candidates.iter().take(CITY_POOR_TOWNSHIPS) {
            townships[i].is_poor = true;
        }
        // Villages per township: 12 each and the rest spread, more in poor townships.
        let mut per_township = vec![12usize; townships.len()];
        let weights: Vec<f64> = townships
            .iter()
            .map(|t| if t.is_poor { 2.0 } else { 1.0 })
            .collect();
        for _ in 0..CITY_VILLAGES - 12 * townships.len() {
            per_township[r.weighted(&weights)] += 1;
        }
        let mut all = Vec::with_capacity(CITY_VILLAGES);
        let mut in_county = vec![0usize; counties.len()];
        for (ti, t) in townships.iter().enumerate() {
            let county_centre = county_centre(t.county);
            for k in 0..per_township[ti] {
                let name = format!(
                    "{}{}{}",
                    r.choose(&VILLAGE_SYLLABLES),
                    r.choose(&VILLAGE_SYLLABLES),
                    r.choose(&VILLAGE_SUFFIX)
                );
                let hamlets: Vec<String> = {
                    let n = r.int(3, 8) as usize;
                    let mut names: Vec<&str> = HAMLET_NAMES.to_vec();
                    shuffle(&mut r, &mut names);
                    names.into_iter().take(n).map(str::to_string).collect()
                };
                all.push(VillagePlan {
                    index: all.len(),
                    code: format!("{}{:03}", t.code, 201 + k),
                    name,
                    township: ti,
                    county: t.county,
                    in_county: in_county[t.county],
                    is_poor: false,
                    has_team: false,
                    households: 0,
                    centroid: (
                        county_centre.0 + r.normal(0.0, 0.12),
                        county_centre.1 + r.normal(0.0, 0.12),
                    ),
                    hamlets,
                    team_members: 0,
                    pairing_cadres: 0,
                    first_cadre: 0,
                });
                in_county[t.county] += 1;
            }
        }
        // 475 poor villages, mostly in poor townships; every poor village has a team, and 362
        // others. Village 0 is made a poor team village so that any sample has one.
        let mut order: Vec<usize> = (1..all.len()).collect();
        shuffle(&mut r, &mut order);
        order.sort_by_key(|&i| !townships[all[i].township].is_poor);
        all[0].is_poor = true;
        for &i in order.iter().take(CITY_POOR_VILLAGES - 1) {
            all[i].is_poor = true;
        }
        let mut others: Vec<usize> = (1..all.len()).filter(|&i| !all[i].is_poor).collect();
        shuffle(&mut r, &mut others);
        for v in all.iter_mut().filter(|v| v.is_poor) {
            v.has_team = true;
        }
        for &i in others.iter().take(CITY_TEAM_VILLAGES - CITY_POOR_VILLAGES) {
            all[i].has_team = true;
        }
        // Households: ~70% in team villages, noisy sizes, scaled to exactly 227,500.
        let team_mean = CITY_HOUSEHOLDS as f64 * TEAM_HOUSEHOLD_SHARE / CITY_TEAM_VILLAGES as f64;
        let other_mean = CITY_HOUSEHOLDS as f64 * (1.0 - TEAM_HOUSEHOLD_SHARE)
            / (CITY_VILLAGES - CITY_TEAM_VILLAGES) as f64;
        let raw: Vec<f64> = all
            .iter()
            .map(|v| {
                let mean = if v.has_team { team_mean } else { other_mean };
                mean * r.normal(1.0, 0.25).clamp(0.4, 1.8)
            })
            .collect();
        let total: f64 = raw.iter().sum();
        let mut assigned = 0usize;
        for (v, x) in all.iter_mut().zip(&raw) {
            v.households = ((x * CITY_HOUSEHOLDS as f64 / total).floor() as usize).max(1);
            assigned += v.households;
        }
        let mut i = 0;
        while assigned < CITY_HOUSEHOLDS {
            all[i % CITY_VILLAGES].households += 1;
            assigned += 1;
            i += 7;
        }
        for v in &mut all {
            if v.has_team {
                v.team_members = r.int(2, 4) as usize;
            }
            v.pairing_cadres = ((v.households as f64 / HOUSEHOLDS_PER_PAIRING_CADRE).round()
                as usize)
                .clamp(v.households.div_ceil(10), v.households);
        }

        // The sample: every k-th village from village 0.
        let n = villages.clamp(1, CITY_VILLAGES);
        let mut selected: Vec<VillagePlan> =
            (0..n).map(|k| all[k * CITY_VILLAGES / n].clone()).collect();
        let mut next = 0;
        for v in &mut selected {
            v.first_cadre = next;
            next += v.cadre_count();
        }
        let fraction = n as f64 / CITY_VILLAGES as f64;
        let unit_count = ((CITY_UNITS as f64 * fraction).round() as usize).max(4);
        let mut units = Vec::with_capacity(unit_count);
        for u in 0..unit_count {
            // Every level has a unit, then levels by the cadre weights.
            let level = if u < 4 { u } else { r.weighted(&LEVEL_WEIGHTS) };
            let kind = ["省", "市", "县", "乡镇"][level];
            units.push(UnitPlan {
                id: format!("unit-{:04}", u + 1),
                name: format!(
                    "{kind}{}",
                    [
                        "发改委",
                        "财政局",
                        "教育局",
                        "卫生局",
                        "农业局",
                        "交通局",
                        "水务局",
                        "人社局"
                    ][u % 8]
                ) + &format!("{}", u / 8 + 1),
                level,
            });
        }
        City {
            seed,
            counties,
            townships,
            villages: selected,
            units,
            cadres: next,
            fraction,
            registers_only: false,
        }
    }

    /// Villages to keep for a scale factor (1.0 = the whole city).
    pub fn villages_for_scale(scale: f64) -> usize {
        ((CITY_VILLAGES as f64 * scale).round() as usize).clamp(1, CITY_VILLAGES)
    }

    /// Townships that hold a selected village, in order.
    pub fn selected_townships(&self) -> Vec<usize> {
        let mut t: Vec<usize> = self.villages.iter().map(|v| v.township).collect();
        t.sort_unstable();
        t.dedup();
        t
    }

    pub fn selected_counties(&self) -> Vec<usize> {
        let mut c: Vec<usize> = self.villages.iter().map(|v| v.county).collect();
        c.sort_unstable();
        c.dedup();
        c
    }
}

/// Each county somewhere around the city centre.
fn county_centre(county: usize) -> (f64, f64) {
    let angle = county as f64 * 0.7;
    let radius = 0.25 + 0.06 * county as f64;
    (
        CITY_CENTRE.0 + radius * angle.sin(),
        CITY_CENTRE.1 + radius * angle.cos(),
    )
}

pub fn shuffle<T>(r: &mut Rand, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = r.below(i + 1);
        items.swap(i, j);
    }
}

const SURNAMES: [&str; 32] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹",
];
const GIVEN: [&str; 48] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "文", "玉", "兰", "国", "建", "志", "红", "春",
    "海", "云", "福", "贵", "成", "发", "德", "昌", "顺", "林", "梅", "琼", "凤", "金", "银", "翠",
];

/// A Chinese personal name.
pub fn person_name(r: &mut Rand, surname: Option<&str>) -> String {
    let s = surname.map_or_else(|| r.choose(&SURNAMES).to_string(), str::to_string);
    if r.chance(0.6) {
        format!("{s}{}{}", r.choose(&GIVEN), r.choose(&GIVEN))
    } else {
        format!("{s}{}", r.choose(&GIVEN))
    }
}

pub fn surname(r: &mut Rand) -> &'static str {
    SURNAMES[r.below(SURNAMES.len())]
}

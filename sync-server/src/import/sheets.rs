//! The sheets an import reads and the templates write: one [`SheetKind`] per register, each a
//! list of [`Col`]s (Chinese header, the record field it fills, required or not, its type and
//! a note for the template's explanation sheet). The one declaration that the reader, the
//! checks, the templates and their drop-down lists all derive from.
//!
//! Field keys are the record's JSON field names, dotted for nested fields (`water.source`);
//! keys starting with `#` are not record fields: `#id` is the record's id (a unit's or cadre's
//! document id, the 户编号), `#id_no` and `#bank_account` go to the household's numbers record,
//! `#role` is a team member's role in the team, `#lat`/`#lon` the home coordinates.

use cunji_core::domain::Kind;
use cunji_core::domain::codes::*;

/// The type of a column's cells.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Text,
    /// A whole number.
    Int,
    /// A decimal number.
    Decimal,
    /// Yuan, at most two decimals.
    Money,
    Date,
    /// 是/否.
    Bool,
    /// One code of a list: (code, Chinese label) pairs.
    Code(fn() -> Vec<(&'static str, &'static str)>),
    /// Up to two codes of a list, separated by 、 , ; or spaces.
    Codes(fn() -> Vec<(&'static str, &'static str)>),
    /// A resident ID number (GB 11643) or a 20-character disability certificate number.
    IdNo,
}

/// One column of a sheet.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub header: &'static str,
    pub key: &'static str,
    pub required: bool,
    pub ty: Ty,
    pub note: &'static str,
}

impl Col {
    /// The field key this column's value is marked and masked by
    /// ([`cunji_core::domain::privacy::of_field`], `mask_text`): the field's own key, or the
    /// stored field a `#` column stands for.
    pub fn privacy_key(&self) -> &'static str {
        match self.key {
            "#lat" | "#lon" => "home_geo",
            "#id_no" => "id_no",
            "#bank_account" => "bank_account",
            k => k.rsplit('.').next().unwrap_or(k),
        }
    }

    /// How private this column's values are in a record of `kind`.
    pub fn privacy(&self, kind: cunji_core::domain::Kind) -> cunji_core::domain::privacy::Privacy {
        cunji_core::domain::privacy::of_field(kind, self.privacy_key())
    }
}

const fn col(
    header: &'static str,
    key: &'static str,
    required: bool,
    ty: Ty,
    note: &'static str,
) -> Col {
    Col {
        header,
        key,
        required,
        ty,
        note,
    }
}

macro_rules! list {
    ($t:ty) => {
        (|| <$t>::ALL.iter().map(|v| (v.code(), v.label_zh())).collect())
            as fn() -> Vec<(&'static str, &'static str)>
    };
}

/// 队员 or 队长: a team member's role in its team.
fn team_roles() -> Vec<(&'static str, &'static str)> {
    vec![("leader", "队长"), ("member", "队员")]
}

/// A sheet of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SheetKind {
    Units,
    Cadres,
    Teams,
    PolicyItems,
    Households,
    Members,
    Incomes,
    Assignments,
    Entitlements,
}

impl SheetKind {
    pub const ALL: &'static [SheetKind] = &[
        SheetKind::Units,
        SheetKind::Cadres,
        SheetKind::Teams,
        SheetKind::PolicyItems,
        SheetKind::Households,
        SheetKind::Members,
        SheetKind::Incomes,
        SheetKind::Assignments,
        SheetKind::Entitlements,
    ];

    /// The sheet's name in files and templates.
    pub fn name_zh(self) -> &'static str {
        match self {
            SheetKind::Units => "派出单位",
            SheetKind::Cadres => "干部",
            SheetKind::Teams => "驻村工作队",
            SheetKind::PolicyItems => "政策目录",
            SheetKind::Households => "户",
            SheetKind::Members => "家庭成员",
            SheetKind::Incomes => "年度收支",
            SheetKind::Assignments => "结对帮扶",
            SheetKind::Entitlements => "应享政策",
        }
    }

    /// Its English code (also accepted as a sheet name).
    pub fn code(self) -> &'static str {
        match self {
            SheetKind::Units => "units",
            SheetKind::Cadres => "cadres",
            SheetKind::Teams => "teams",
            SheetKind::PolicyItems => "policy_items",
            SheetKind::Households => "households",
            SheetKind::Members => "members",
            SheetKind::Incomes => "incomes",
            SheetKind::Assignments => "assignments",
            SheetKind::Entitlements => "entitlements",
        }
    }

    /// The record kind its rows become (members and incomes are part of their household).
    pub fn record_kind(self) -> Kind {
        match self {
            SheetKind::Units => Kind::Unit,
            SheetKind::Cadres => Kind::Cadre,
            SheetKind::Teams => Kind::Team,
            SheetKind::PolicyItems => Kind::PolicyItem,
            SheetKind::Households | SheetKind::Members | SheetKind::Incomes => Kind::Household,
            SheetKind::Assignments => Kind::Assignment,
            SheetKind::Entitlements => Kind::Entitlement,
        }
    }

    /// The sheet a name stands for: its Chinese name or code, or a file stem ending in one
    /// (`2016年_家庭成员`).
    pub fn from_name(name: &str) -> Option<SheetKind> {
        let n = name.trim().to_lowercase();
        let exact = SheetKind::ALL
            .iter()
            .copied()
            .find(|k| n == k.name_zh() || n == k.code());
        exact.or_else(|| {
            // The longest name that ends the stem (`家庭成员` before `户`).
            let mut found: Vec<SheetKind> = SheetKind::ALL
                .iter()
                .copied()
                .filter(|k| n.ends_with(k.name_zh()) || n.ends_with(k.code()))
                .collect();
            found.sort_by_key(|k| std::cmp::Reverse(k.name_zh().chars().count()));
            found.first().copied()
        })
    }

    /// The kind whose required columns are all among `headers` (the most specific one), for
    /// sheets whose name says nothing.
    pub fn from_headers(headers: &[String]) -> Option<SheetKind> {
        let normal: Vec<String> = headers.iter().map(|h| normalize_header(h)).collect();
        let has = |c: &Col| {
            normal
                .iter()
                .any(|h| *h == normalize_header(c.header) || *h == c.key)
        };
        SheetKind::ALL
            .iter()
            .copied()
            .filter(|k| k.columns().iter().filter(|c| c.required).all(has))
            .max_by_key(|k| k.columns().iter().filter(|c| c.required).count())
    }

    pub fn columns(self) -> &'static [Col] {
        match self {
            SheetKind::Units => UNITS,
            SheetKind::Cadres => CADRES,
            SheetKind::Teams => TEAMS,
            SheetKind::PolicyItems => POLICY_ITEMS,
            SheetKind::Households => HOUSEHOLDS,
            SheetKind::Members => MEMBERS,
            SheetKind::Incomes => INCOMES,
            SheetKind::Assignments => ASSIGNMENTS,
            SheetKind::Entitlements => ENTITLEMENTS,
        }
    }

    /// The column filling `key`.
    pub fn column(self, key: &str) -> Option<&'static Col> {
        self.columns().iter().find(|c| c.key == key)
    }
}

/// A header as compared: no spaces, no trailing `*`, half-width brackets, lower case.
pub fn normalize_header(h: &str) -> String {
    normalize(h.trim().trim_end_matches(['*', '＊']).trim())
}

/// Text as compared with labels: full-width brackets and dashes as half-width, no spaces.
pub fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            '－' | '—' | '–' | '~' | '～' | '至' => '-',
            '，' => ',',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

static UNITS: &[Col] = &[
    col(
        "单位编号",
        "#id",
        true,
        Ty::Text,
        "单位的编号，干部表的“单位编号”引用它",
    ),
    col("单位名称", "name", true, Ty::Text, ""),
    col("单位级别", "level", true, Ty::Code(list!(UnitLevel)), ""),
];

static CADRES: &[Col] = &[
    col(
        "干部编号",
        "#id",
        true,
        Ty::Text,
        "干部的编号，也是其登录村记的账号",
    ),
    col("姓名", "name", true, Ty::Text, ""),
    col("联系电话", "phone", true, Ty::Text, "7 到 15 位数字"),
    col(
        "单位编号",
        "unit_id",
        true,
        Ty::Text,
        "派出单位表或系统中已有的单位编号",
    ),
    col("干部级别", "level", true, Ty::Code(list!(UnitLevel)), ""),
    col("角色", "role", true, Ty::Code(list!(CadreRole)), ""),
    col(
        "身份证号",
        "id_no",
        false,
        Ty::IdNo,
        "18 位，末位校验码（GB 11643）；请把该列设为文本",
    ),
];

static TEAMS: &[Col] = &[
    col(
        "行政村代码",
        "village_code",
        true,
        Ty::Text,
        "12 位行政区划代码",
    ),
    col("干部编号", "#cadre", true, Ty::Text, "每名队员一行"),
    col(
        "队内职务",
        "#role",
        true,
        Ty::Code(team_roles),
        "每村一名队长（第一书记）",
    ),
    col("开始日期", "from", true, Ty::Date, ""),
    col("结束日期", "to", false, Ty::Date, "仍在岗的留空"),
];

static POLICY_ITEMS: &[Col] = &[
    col(
        "政策代码",
        "code",
        true,
        Ty::Text,
        "应享政策表的“政策代码”引用它",
    ),
    col("政策名称", "name", true, Ty::Text, ""),
    col(
        "政策类别",
        "category",
        true,
        Ty::Code(list!(PolicyCategory)),
        "",
    ),
    col("标准金额（元）", "standard_amount", false, Ty::Money, ""),
    col("享受条件", "eligibility", false, Ty::Text, ""),
];

static HOUSEHOLDS: &[Col] = &[
    col(
        "户编号",
        "#id",
        true,
        Ty::Text,
        "每户唯一；家庭成员、年度收支、结对帮扶、应享政策表用它关联本户",
    ),
    col(
        "行政村代码",
        "village_code",
        true,
        Ty::Text,
        "12 位行政区划代码，须是系统中已有的村",
    ),
    col("自然村", "hamlet", false, Ty::Text, "自然村或村民小组"),
    col(
        "户主成员编号",
        "head_member_id",
        true,
        Ty::Text,
        "家庭成员表中户主的成员编号",
    ),
    col("联系电话", "phone", false, Ty::Text, ""),
    col(
        "银行账号",
        "#bank_account",
        false,
        Ty::Text,
        "一卡通或银行账号，8 到 32 位数字；请把该列设为文本",
    ),
    col(
        "识别标准",
        "id_standard",
        true,
        Ty::Code(list!(IdStandard)),
        "",
    ),
    col(
        "贫困户属性",
        "attribute",
        true,
        Ty::Code(list!(HouseholdAttribute)),
        "",
    ),
    col(
        "主要致贫原因",
        "main_cause",
        true,
        Ty::Code(list!(PovertyCause)),
        "只填一个",
    ),
    col(
        "其他致贫原因",
        "other_causes",
        false,
        Ty::Codes(list!(PovertyCause)),
        "最多两个，用顿号分隔",
    ),
    col(
        "脱贫状态",
        "status",
        true,
        Ty::Code(list!(HouseholdStatus)),
        "",
    ),
    col("识别年度", "registered_year", true, Ty::Int, ""),
    col("脱贫年度", "exit_year", false, Ty::Int, ""),
    col("耕地面积（亩）", "land_mu", false, Ty::Decimal, ""),
    col(
        "住房结构",
        "house_structure",
        false,
        Ty::Code(list!(HouseStructure)),
        "",
    ),
    col(
        "住房面积（平方米）",
        "house_area_m2",
        false,
        Ty::Decimal,
        "",
    ),
    col(
        "住房安全等级",
        "house_safety",
        true,
        Ty::Code(list!(HouseSafety)),
        "C、D 级为危房",
    ),
    col(
        "是否易地搬迁",
        "relocation.is_relocated",
        false,
        Ty::Bool,
        "",
    ),
    col(
        "搬迁方式",
        "relocation.mode",
        false,
        Ty::Code(list!(RelocationMode)),
        "易地搬迁户填写",
    ),
    col(
        "领取新房钥匙日期",
        "relocation.keys_received_date",
        false,
        Ty::Date,
        "",
    ),
    col(
        "饮水水源",
        "water.source",
        true,
        Ty::Code(list!(WaterSource)),
        "",
    ),
    col(
        "供水量（升/人·天）",
        "water.quantity_lpd",
        true,
        Ty::Decimal,
        "",
    ),
    col(
        "取水往返时间（分钟）",
        "water.minutes_round_trip",
        false,
        Ty::Int,
        "自来水入户的留空",
    ),
    col("年断水天数", "water.outage_days_year", true, Ty::Int, ""),
    col("水质达标", "water.quality_ok", true, Ty::Bool, ""),
    col("入户路类型", "road", false, Ty::Code(list!(RoadType)), ""),
    col("脱贫计划", "plan", false, Ty::Text, ""),
    col(
        "住房纬度",
        "#lat",
        false,
        Ty::Decimal,
        "已测的住房位置；留空则保留首次核实走访时的位置",
    ),
    col("住房经度", "#lon", false, Ty::Decimal, ""),
];

static MEMBERS: &[Col] = &[
    col("户编号", "#household", true, Ty::Text, "户表中的户编号"),
    col("成员编号", "member_id", true, Ty::Text, "户内唯一"),
    col("姓名", "name", true, Ty::Text, ""),
    col("性别", "gender", true, Ty::Code(list!(Gender)), ""),
    col(
        "证件号码",
        "#id_no",
        true,
        Ty::IdNo,
        "身份证号（18 位）或残疾证号（20 位），全市唯一；请把该列设为文本",
    ),
    col(
        "与户主关系",
        "relation",
        true,
        Ty::Code(list!(Relation)),
        "每户一名户主",
    ),
    col("民族", "ethnicity", true, Ty::Text, ""),
    col(
        "出生日期",
        "birth_date",
        true,
        Ty::Date,
        "须与身份证号中的出生日期一致",
    ),
    col(
        "文化程度",
        "education",
        false,
        Ty::Code(list!(Education)),
        "",
    ),
    col(
        "在校生状况",
        "school_status",
        true,
        Ty::Code(list!(SchoolStatus)),
        "",
    ),
    col("健康状况", "health", true, Ty::Code(list!(Health)), ""),
    col("劳动技能", "labor", true, Ty::Code(list!(Labor)), ""),
    col("务工状况", "work", false, Ty::Code(list!(WorkPlace)), ""),
    col("务工时间（月）", "work_months", false, Ty::Int, "0 到 12"),
    col(
        "参加城乡居民基本医疗保险",
        "medical_insured",
        true,
        Ty::Bool,
        "",
    ),
    col(
        "参加大病保险",
        "critical_illness_insured",
        false,
        Ty::Bool,
        "",
    ),
    col(
        "参加城乡居民基本养老保险",
        "pension_insured",
        false,
        Ty::Bool,
        "",
    ),
    col(
        "是否在户",
        "active",
        true,
        Ty::Bool,
        "已死亡、嫁出等离开本户的填“否”并填变动原因",
    ),
    col(
        "变动原因",
        "change_reason",
        false,
        Ty::Code(list!(MemberChangeReason)),
        "",
    ),
];

static INCOMES: &[Col] = &[
    col("户编号", "#household", true, Ty::Text, "户表中的户编号"),
    col("年度", "year", true, Ty::Int, "每户每年一行"),
    col("工资性收入", "wage", true, Ty::Money, "元"),
    col("生产经营性收入", "operating", true, Ty::Money, "元"),
    col("生产经营性支出", "operating_cost", true, Ty::Money, "元"),
    col("财产性收入", "property", true, Ty::Money, "元"),
    col(
        "低保金",
        "transfer.dibao",
        false,
        Ty::Money,
        "转移性收入的组成，元",
    ),
    col("特困供养金", "transfer.tekun", false, Ty::Money, "元"),
    col("养老金", "transfer.pension", false, Ty::Money, "元"),
    col(
        "生态补偿金",
        "transfer.eco_compensation",
        false,
        Ty::Money,
        "元",
    ),
    col("其他转移性收入", "transfer.other", false, Ty::Money, "元"),
];

static ASSIGNMENTS: &[Col] = &[
    col(
        "户编号",
        "household_id",
        true,
        Ty::Text,
        "户表或系统中已有的户编号",
    ),
    col(
        "干部编号",
        "cadre_id",
        true,
        Ty::Text,
        "干部表或系统中已有的干部编号",
    ),
    col("开始日期", "from", true, Ty::Date, ""),
    col("结束日期", "to", false, Ty::Date, "仍在结对的留空"),
    col(
        "是否主要帮扶责任人",
        "is_primary",
        true,
        Ty::Bool,
        "每户同一时期只有一名主要帮扶责任人",
    ),
];

static ENTITLEMENTS: &[Col] = &[
    col(
        "户编号",
        "household_id",
        true,
        Ty::Text,
        "户表或系统中已有的户编号",
    ),
    col(
        "成员编号",
        "member_id",
        false,
        Ty::Text,
        "按人享受的政策填写",
    ),
    col(
        "政策代码",
        "policy_code",
        true,
        Ty::Text,
        "政策目录中的代码",
    ),
    col("年度", "year", true, Ty::Int, ""),
    col("应享金额（元）", "due_amount", false, Ty::Money, ""),
    col("应兑现日期", "due_date", true, Ty::Date, ""),
    col("依据", "basis", true, Ty::Text, "文件或认定依据"),
];

/// One row of `sheet` for a record's data, as the importer reads it back: each column's value
/// at its key in `data` (a `#` column's from `special`), codes as their Chinese labels, 是/否,
/// dates and amounts as text, empty where there is none. The inverse of reading a row, for
/// the files a county gets back (and the tests' files).
pub fn to_cells(
    sheet: SheetKind,
    data: &serde_json::Value,
    special: &dyn Fn(&str) -> Option<serde_json::Value>,
) -> Vec<String> {
    use serde_json::Value;
    sheet
        .columns()
        .iter()
        .map(|c| {
            let v = if c.key.starts_with('#') {
                special(c.key)
            } else {
                data.pointer(&format!("/{}", c.key.replace('.', "/")))
                    .cloned()
            };
            let label = |list: fn() -> Vec<(&'static str, &'static str)>, code: &str| {
                list()
                    .into_iter()
                    .find(|(c, _)| *c == code)
                    .map_or_else(|| code.to_string(), |(_, l)| l.to_string())
            };
            match (c.ty, v) {
                (_, None | Some(Value::Null)) => String::new(),
                (Ty::Code(list), Some(Value::String(code))) => label(list, &code),
                (Ty::Codes(list), Some(Value::Array(codes))) => codes
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|code| label(list, code))
                    .collect::<Vec<_>>()
                    .join("、"),
                (Ty::Bool, Some(Value::Bool(b))) => if b { "是" } else { "否" }.to_string(),
                (_, Some(Value::String(s))) => s,
                (_, Some(other)) => other.to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sheets_are_known_by_name_code_file_stem_or_headers() {
        assert_eq!(SheetKind::from_name("家庭成员"), Some(SheetKind::Members));
        assert_eq!(SheetKind::from_name("Members"), Some(SheetKind::Members));
        assert_eq!(
            SheetKind::from_name("2016年_家庭成员"),
            Some(SheetKind::Members)
        );
        assert_eq!(SheetKind::from_name("Sheet1"), None);
        for kind in SheetKind::ALL {
            let headers: Vec<String> = kind
                .columns()
                .iter()
                .map(|c| format!("{}*", c.header))
                .collect();
            assert_eq!(SheetKind::from_headers(&headers), Some(*kind), "{kind:?}");
        }
        assert_eq!(
            normalize_header("耕地面积(亩) *"),
            normalize_header("耕地面积（亩）")
        );
    }
}

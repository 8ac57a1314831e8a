//! Every code list of the record kinds (DOMAIN §2.1–2.11).
//!
//! A value is stored as a short ASCII snake_case code (what serde writes, what the projection
//! tables hold) and shown with its Chinese label, exactly as the 登记表 and DOMAIN.md spell it;
//! the English label is for logs and English-speaking developers. Codes are part of the stored
//! format: never rename one, only add.
//!
//! Not here: free-text fields that look like code lists but are not closed (ethnicity 民族 is a
//! plain string, as counties write it differently). The lists of §2.7–2.11 (petitions, 动态调整,
//! projects, inspections, surveys) sit in their own `for_each_process_code_list!` at the end.

use crate::projection::sql_for_codes;
use crate::values::code_enum;

code_enum! {
    /// Level of a sending unit (派出/挂包单位) or of a cadre.
    pub enum UnitLevel {
        Central = "central", "中央", "Central";
        Province = "province", "省", "Province";
        City = "city", "市", "City";
        County = "county", "县", "County";
        Township = "township", "乡镇", "Township";
    }
}

code_enum! {
    /// A cadre's role in the poverty-alleviation work.
    pub enum CadreRole {
        FirstSecretary = "first_secretary", "第一书记", "First secretary";
        TeamMember = "team_member", "驻村队员", "Resident team member";
        PairingCadre = "pairing_cadre", "帮扶干部", "Pairing cadre";
    }
}

impl CadreRole {
    /// First secretaries and resident members are the ones R1 (in-village days) applies to.
    pub fn is_resident(self) -> bool {
        matches!(self, CadreRole::FirstSecretary | CadreRole::TeamMember)
    }
}

code_enum! {
    /// The poverty line a household was identified under (识别标准).
    pub enum IdStandard {
        National = "national", "国家标准", "National standard";
        Provincial = "provincial", "省定标准", "Provincial standard";
        Municipal = "municipal", "市定标准", "Municipal standard";
    }
}

code_enum! {
    /// 贫困户属性.
    pub enum HouseholdAttribute {
        General = "general", "一般贫困户", "General poor household";
        Dibao = "dibao", "低保贫困户", "Minimum-subsistence (dibao) household";
        Tekun = "tekun", "特困供养贫困户", "Extreme-poverty support (tekun) household";
    }
}

code_enum! {
    /// 致贫原因: the main cause (one) and up to two other causes.
    pub enum PovertyCause {
        Illness = "illness", "因病", "Illness";
        Disability = "disability", "因残", "Disability";
        Schooling = "schooling", "因学", "Schooling costs";
        Disaster = "disaster", "因灾", "Disaster";
        LackLand = "lack_land", "缺土地", "Lack of land";
        LackWater = "lack_water", "缺水", "Lack of water";
        LackSkills = "lack_skills", "缺技术", "Lack of skills";
        LackLabor = "lack_labor", "缺劳力", "Lack of labour";
        LackFunds = "lack_funds", "缺资金", "Lack of funds";
        PoorTransport = "poor_transport", "交通条件落后", "Poor transport";
        LowMotivation = "low_motivation", "自身发展动力不足", "Low motivation";
        Other = "other", "其他", "Other";
    }
}

code_enum! {
    /// 脱贫状态 of a household.
    pub enum HouseholdStatus {
        NotExited = "not_exited", "未脱贫", "Not yet out of poverty";
        ExitedSupported = "exited_supported", "已脱贫(享受政策)", "Exited, still supported";
        ExitedUnsupported = "exited_unsupported", "已脱贫(不再享受政策)", "Exited, no longer supported";
        ReturnedToPoverty = "returned_to_poverty", "返贫", "Returned to poverty";
        Removed = "removed", "清退", "Removed (wrongly registered)";
        Closed = "closed", "销户", "Closed";
    }
}

impl HouseholdStatus {
    /// A registered household (R5): 未脱贫, 返贫 or 已脱贫(享受政策). These are the households
    /// visits, coverage and satisfaction are counted over.
    pub fn is_registered(self) -> bool {
        matches!(
            self,
            HouseholdStatus::NotExited
                | HouseholdStatus::ReturnedToPoverty
                | HouseholdStatus::ExitedSupported
        )
    }

    /// The household has been marked out of poverty (标注脱贫), with or without support.
    pub fn is_exited(self) -> bool {
        matches!(
            self,
            HouseholdStatus::ExitedSupported | HouseholdStatus::ExitedUnsupported
        )
    }
}

code_enum! {
    /// 住房结构.
    pub enum HouseStructure {
        ReinforcedConcrete = "reinforced_concrete", "钢混", "Reinforced concrete";
        BrickConcrete = "brick_concrete", "砖混", "Brick and concrete";
        BrickWood = "brick_wood", "砖木", "Brick and timber";
        EarthWood = "earth_wood", "土木", "Earth and timber";
        Cave = "cave", "窑洞", "Cave dwelling";
        Other = "other", "其他", "Other";
    }
}

code_enum! {
    /// 房屋安全等级 (住房安全性鉴定). C and D are 危房.
    pub enum HouseSafety {
        A = "a", "A", "Grade A";
        B = "b", "B", "Grade B";
        C = "c", "C", "Grade C (dangerous)";
        D = "d", "D", "Grade D (dangerous)";
    }
}

impl HouseSafety {
    /// C and D are dangerous houses (危房).
    pub fn is_dangerous(self) -> bool {
        matches!(self, HouseSafety::C | HouseSafety::D)
    }
}

code_enum! {
    /// 易地扶贫搬迁 mode.
    pub enum RelocationMode {
        Centralized = "centralized", "集中", "Centralised resettlement";
        Dispersed = "dispersed", "分散", "Dispersed resettlement";
    }
}

code_enum! {
    /// Surface of the road to the home (入户路).
    pub enum RoadType {
        Dirt = "dirt", "泥土", "Dirt";
        Gravel = "gravel", "砂石", "Gravel";
        Cement = "cement", "水泥", "Cement";
        Asphalt = "asphalt", "沥青", "Asphalt";
    }
}

code_enum! {
    /// Where a household's drinking water comes from (饮水水源).
    pub enum WaterSource {
        Piped = "piped", "自来水", "Piped water";
        Well = "well", "水井", "Well";
        Spring = "spring", "山泉水", "Mountain spring";
        Cistern = "cistern", "水窖", "Cistern";
        Surface = "surface", "河塘", "River or pond";
        Trucked = "trucked", "拉水送水", "Trucked water";
        Other = "other", "其他", "Other";
    }
}

code_enum! {
    pub enum Gender {
        Male = "male", "男", "Male";
        Female = "female", "女", "Female";
    }
}

code_enum! {
    /// 与户主关系.
    pub enum Relation {
        Head = "head", "户主", "Head of household";
        Spouse = "spouse", "配偶", "Spouse";
        Son = "son", "之子", "Son";
        Daughter = "daughter", "之女", "Daughter";
        DaughterInLaw = "daughter_in_law", "之儿媳", "Daughter-in-law";
        SonInLaw = "son_in_law", "之女婿", "Son-in-law";
        Grandson = "grandson", "之孙子", "Grandson (son's son)";
        Granddaughter = "granddaughter", "之孙女", "Granddaughter (son's daughter)";
        DaughtersSon = "daughters_son", "之外孙子", "Grandson (daughter's son)";
        DaughtersDaughter = "daughters_daughter", "之外孙女", "Granddaughter (daughter's daughter)";
        Father = "father", "之父", "Father";
        Mother = "mother", "之母", "Mother";
        WifesFather = "wifes_father", "之岳父", "Father-in-law (wife's father)";
        WifesMother = "wifes_mother", "之岳母", "Mother-in-law (wife's mother)";
        HusbandsFather = "husbands_father", "之公公", "Father-in-law (husband's father)";
        HusbandsMother = "husbands_mother", "之婆婆", "Mother-in-law (husband's mother)";
        Grandfather = "grandfather", "之祖父", "Grandfather";
        Grandmother = "grandmother", "之祖母", "Grandmother";
        Sibling = "sibling", "之兄弟姐妹", "Sibling";
        Other = "other", "其他", "Other";
    }
}

code_enum! {
    /// 文化程度.
    pub enum Education {
        Illiterate = "illiterate", "文盲或半文盲", "Illiterate or semi-literate";
        Primary = "primary", "小学", "Primary school";
        Junior = "junior", "初中", "Junior secondary";
        Senior = "senior", "高中", "Senior secondary";
        College = "college", "大专及以上", "College or above";
        Preschool = "preschool", "学龄前儿童", "Preschool child";
    }
}

code_enum! {
    /// 在校生状况.
    pub enum SchoolStatus {
        NotInSchool = "not_in_school", "非在校生", "Not in school";
        Preschool = "preschool", "学前教育", "Preschool";
        Primary = "primary", "小学", "Primary school";
        Grades7To9 = "grades_7_9", "七–九年级", "Grades 7–9";
        Senior = "senior", "高中", "Senior secondary";
        SecondaryVocational = "secondary_vocational", "中职", "Secondary vocational";
        HigherVocational = "higher_vocational", "高职", "Higher vocational";
        College = "college", "大专及以上", "College or above";
    }
}

code_enum! {
    /// 健康状况.
    pub enum Health {
        Healthy = "healthy", "健康", "Healthy";
        Chronic = "chronic", "长期慢性病", "Long-term chronic illness";
        SeriousIllness = "serious_illness", "大病", "Serious illness";
        Disabled = "disabled", "残疾", "Disability";
    }
}

impl Health {
    /// A school-age child with a disability or a serious illness may be taught at home
    /// (送教上门) instead of attending school, so not being in school is not a 义务教育 gap.
    pub fn exempts_from_school(self) -> bool {
        matches!(self, Health::Disabled | Health::SeriousIllness)
    }
}

code_enum! {
    /// 劳动技能.
    pub enum Labor {
        Ordinary = "ordinary", "普通劳动力", "Ordinary labour";
        Skilled = "skilled", "技能劳动力", "Skilled labour";
        Weak = "weak", "弱劳动力或半劳动力", "Weak or half labour";
        Lost = "lost", "丧失劳动力", "Lost working ability";
        NoLabor = "none", "无劳动力", "No working ability";
    }
}

code_enum! {
    /// 务工状况: where a member works.
    pub enum WorkPlace {
        InTownship = "in_township", "乡镇内", "Within the township";
        InCounty = "in_county", "乡镇外县内", "Outside the township, within the county";
        InProvince = "in_province", "县外省内", "Outside the county, within the province";
        OutOfProvince = "out_of_province", "省外务工", "Outside the province";
    }
}

code_enum! {
    /// Why a member joined or left the household (成员自然增减).
    pub enum MemberChangeReason {
        Death = "death", "死亡", "Death";
        MarriedOut = "married_out", "嫁出", "Married out";
        MarriedIn = "married_in", "嫁入", "Married in";
        Newborn = "newborn", "新生儿", "Newborn";
        Imprisoned = "imprisoned", "判刑收监", "Imprisoned";
        OtherIn = "other_in", "其他转入", "Other, joined";
        OtherOut = "other_out", "其他转出", "Other, left";
    }
}

impl MemberChangeReason {
    /// The reason takes the member out of the household (an inactive member needs one).
    pub fn is_departure(self) -> bool {
        matches!(
            self,
            MemberChangeReason::Death
                | MemberChangeReason::MarriedOut
                | MemberChangeReason::Imprisoned
                | MemberChangeReason::OtherOut
        )
    }
}

code_enum! {
    /// The visitor's role at the time of a visit.
    pub enum VisitRole {
        PairingCadre = "pairing_cadre", "帮扶责任人", "Pairing cadre";
        TeamMember = "team_member", "驻村队员", "Resident team member";
        FirstSecretary = "first_secretary", "第一书记", "First secretary";
        Township = "township", "乡镇干部", "Township cadre";
        Inspector = "inspector", "督查", "Inspector";
    }
}

code_enum! {
    /// How a visit took place.
    pub enum VisitMode {
        InHome = "in_home", "入户", "In the home";
        InVillage = "in_village", "村内面谈", "Face to face in the village";
        Phone = "phone", "电话", "Phone call";
        Video = "video", "微信视频", "WeChat video call";
    }
}

impl VisitMode {
    /// R7: phone and video visits are recorded but never count for R5 or coverage.
    pub fn counts_for_coverage(self) -> bool {
        matches!(self, VisitMode::InHome | VisitMode::InVillage)
    }
}

code_enum! {
    /// 走访目的 (a visit can have several).
    pub enum VisitPurpose {
        FirstRound = "first_round", "首轮遍访", "First-round visit";
        FollowUp = "follow_up", "日常回访", "Routine follow-up";
        PolicyPublicity = "policy_publicity", "政策宣传", "Explaining policies";
        InfoCheck = "info_check", "信息核实", "Checking information";
        DeliveryCheck = "delivery_check", "兑现核实", "Checking a delivery";
        ExitCheck = "exit_check", "脱贫核查", "Exit verification";
        Condolence = "condolence", "慰问", "Condolence visit";
        Mediation = "mediation", "矛盾调解", "Mediating a dispute";
    }
}

code_enum! {
    /// The answer to one 两不愁三保障/饮水 checklist item.
    pub enum ChecklistAnswer {
        Yes = "yes", "是", "Yes";
        No = "no", "否", "No";
        NotApplicable = "not_applicable", "不适用", "Not applicable";
    }
}

code_enum! {
    /// How the household confirmed a visit.
    pub enum Confirmation {
        HeadSigned = "head_signed", "户主签字", "Signed by the head";
        MemberSigned = "member_signed", "成员签字", "Signed by a member";
        Fingerprint = "fingerprint", "按手印", "Fingerprint";
        Refused = "refused", "拒签", "Refused to sign";
    }
}

code_enum! {
    /// 打卡时段 (county-configurable).
    pub enum CheckInSlot {
        Morning = "morning", "上午", "Morning";
        Afternoon = "afternoon", "下午", "Afternoon";
        Night = "night", "夜间在村", "Night in the village";
    }
}

code_enum! {
    /// 请假/外出报备 type.
    pub enum LeaveType {
        Personal = "personal", "事假", "Personal leave";
        Sick = "sick", "病假", "Sick leave";
        OfficialMeeting = "official_meeting", "公假(会议培训)", "Official leave (meeting, training)";
        OfficialTrip = "official_trip", "公务外出报备", "Official trip";
        Rotation = "rotation", "轮休", "Rotation rest";
    }
}

code_enum! {
    /// Who approves a leave request.
    pub enum ApprovalLevel {
        Township = "township", "乡镇", "Township";
        CountyOrg = "county_org", "县委组织部", "County organisation department";
    }
}

code_enum! {
    /// Where a leave request stands.
    pub enum LeaveStatus {
        Pending = "pending", "待审批", "Pending";
        Approved = "approved", "已批准", "Approved";
        Rejected = "rejected", "驳回", "Rejected";
        Returned = "returned", "已销假", "Returned (closed)";
        Overdue = "overdue", "超期未销假", "Overdue, not closed";
    }
}

code_enum! {
    /// What a cadre's day was (derived, one per cadre per day).
    pub enum DayStatus {
        InVillage = "in_village", "在村", "In the village";
        OfficialTrip = "official_trip", "公务外出", "Official trip";
        OnLeave = "on_leave", "请假", "On leave";
        Rotation = "rotation", "轮休", "Rotation rest";
        Absent = "absent", "无故不在岗", "Absent without leave";
        NoRecord = "no_record", "无记录", "No record";
    }
}

impl DayStatus {
    /// R1: the day counts towards the monthly in-village days. Official trips count when the
    /// county's option is on (the default, as Qinghai and Jiangxi count meetings and trips).
    pub fn counts_in_village(self, count_official_trips: bool) -> bool {
        match self {
            DayStatus::InVillage => true,
            DayStatus::OfficialTrip => count_official_trips,
            _ => false,
        }
    }
}

code_enum! {
    /// 政策类别 of the county's policy catalog.
    pub enum PolicyCategory {
        Industry = "industry", "产业扶贫", "Industry support";
        Employment = "employment", "就业扶贫·公益岗位", "Employment and public-welfare jobs";
        Relocation = "relocation", "易地扶贫搬迁", "Poverty relocation";
        Education = "education", "教育扶贫", "Education support";
        Health = "health", "健康扶贫", "Health support";
        HousingRenovation = "housing_renovation", "危房改造", "Dangerous-house renovation";
        Finance = "finance", "金融扶贫·小额信贷", "Finance and microcredit";
        Ecology = "ecology", "生态扶贫", "Ecological support";
        SafetyNet = "safety_net", "兜底保障", "Social safety net";
        AssetIncome = "asset_income", "资产收益", "Asset income";
        Other = "other", "其他", "Other";
    }
}

code_enum! {
    /// How a benefit reached the household.
    pub enum DeliveryChannel {
        OneCard = "one_card", "一卡通", "One-card account";
        Bank = "bank", "银行代发", "Bank transfer";
        Cash = "cash", "现金", "Cash";
        InKind = "in_kind", "实物", "In kind";
        PaidOnBehalf = "paid_on_behalf", "代缴", "Paid on the household's behalf";
    }
}

code_enum! {
    pub enum DeliveryStatus {
        Delivered = "delivered", "已兑现", "Delivered";
        Partial = "partial", "部分兑现", "Partly delivered";
        Revoked = "revoked", "撤销-不符合条件", "Revoked (not eligible)";
    }
}

code_enum! {
    /// What a cadre did on a day (驻村日志).
    pub enum WorkActivity {
        HouseholdVisits = "household_visits", "入户走访", "Household visits";
        PartyBuilding = "party_building", "党建·三会一课", "Party building";
        Meeting = "meeting", "会议", "Meeting";
        Project = "project", "项目推进", "Project work";
        PolicyDelivery = "policy_delivery", "政策兑现", "Policy delivery";
        Mediation = "mediation", "矛盾调解", "Mediation";
        Petitions = "petitions", "信访接待", "Receiving petitions";
        Training = "training", "培训", "Training";
        Other = "other", "其他", "Other";
    }
}

/// Calls `$m!` with every code list above, so the `Sql` impls and the tests cover them all.
macro_rules! for_each_code_list {
    ($m:ident) => {
        $m! {
            UnitLevel, CadreRole, IdStandard, HouseholdAttribute, PovertyCause, HouseholdStatus,
            HouseStructure, HouseSafety, RelocationMode, RoadType, WaterSource, Gender, Relation,
            Education, SchoolStatus, Health, Labor, WorkPlace, MemberChangeReason, VisitRole,
            VisitMode, VisitPurpose, ChecklistAnswer, Confirmation, CheckInSlot, LeaveType,
            ApprovalLevel, LeaveStatus, DayStatus, PolicyCategory, DeliveryChannel,
            DeliveryStatus, WorkActivity
        }
    };
}

for_each_code_list!(sql_for_codes);

/// Joins a list of codes with commas, the projected form of a multi-valued enum field
/// (`"first_round,info_check"`), so a query can use `instr` or `LIKE`.
pub(crate) fn joined_codes<T: Copy>(values: &[T], code: fn(T) -> &'static str) -> String {
    values
        .iter()
        .map(|v| code(*v))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
pub(crate) mod testkit {
    //! Helpers shared by the record kinds' unit tests.

    use rusqlite::types::Value;

    use crate::domain::{Envelope, Kind, Record, RecordState};
    use crate::error::{Problem, ValidationError};
    use crate::projection::{Rows, SqlType};

    /// Words that break as unquoted SQL column names.
    const SQL_KEYWORDS: &[&str] = &[
        "from",
        "to",
        "type",
        "order",
        "group",
        "select",
        "where",
        "table",
        "index",
        "key",
        "default",
        "check",
        "references",
        "primary",
        "values",
        "limit",
        "join",
        "on",
        "in",
        "is",
        "not",
        "null",
        "and",
        "or",
        "as",
        "by",
        "case",
        "when",
        "end",
        "unique",
        "all",
    ];

    pub fn envelope(kind: Kind) -> Envelope {
        Envelope {
            id: "0190c3a2-7b4e-7d10-8a55-3f2e9b6c0001".into(),
            kind,
            author_id: "cadre-author".into(),
            device_id: "device-1".into(),
            created_device_ts: "2015-09-12T10:00:00+08:00".parse().expect("timestamp"),
            device_uptime_ms: 3_600_000,
            geo: None,
            server_received_ts: None,
            state: RecordState::Submitted,
        }
    }

    pub fn ts(s: &str) -> crate::values::Timestamp {
        s.parse().expect("RFC 3339 timestamp")
    }

    pub fn date(s: &str) -> crate::values::Date {
        s.parse().expect("YYYY-MM-DD date")
    }

    /// Asserts that validation fails on `field` with `problem`.
    pub fn assert_invalid<R: Record>(record: &R, field: &str, problem: Problem) {
        match record.validate() {
            Ok(()) => panic!("expected {field} to be rejected with {problem:?}, but it passed"),
            Err(ValidationError {
                field: f,
                problem: p,
                message,
            }) => {
                assert_eq!((f.as_str(), p), (field, problem), "message: {message}");
            }
        }
    }

    /// Parses JSON as a record of type `R` and returns the error.
    pub fn json_error<R: Record>(value: serde_json::Value) -> ValidationError {
        match crate::domain::from_json::<R>(value) {
            Ok(r) => panic!("expected a deserialisation error, got {r:?}"),
            Err(e) => e,
        }
    }

    /// The JSON of `record` with `edit` applied, to test deserialisation failures.
    pub fn edited_json<R: Record>(
        record: &R,
        edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
    ) -> serde_json::Value {
        let mut v = serde_json::to_value(record).expect("record serialises");
        edit(v.as_object_mut().expect("record is a JSON object"));
        v
    }

    /// The record survives a JSON round trip unchanged.
    pub fn assert_round_trips<R: Record>(record: &R) {
        let v = serde_json::to_value(record).expect("record serialises");
        let back: R = crate::domain::from_json(v).expect("record deserialises");
        assert_eq!(&back, record);
    }

    /// Projects `record` and checks the rows against the kind's declared tables: every row's
    /// table and columns are declared with a matching type, every declared column is given,
    /// the first table gets exactly one row, no column is an SQL keyword, and the rows insert
    /// into SQLite tables created from the DDL. Returns the rows.
    pub fn project<R: Record>(record: &R) -> Vec<(&'static str, Vec<(&'static str, Value)>)> {
        let env = envelope(R::KIND);
        let mut rows = Rows::default();
        record.project(&env, &mut rows);
        let tables = R::tables();
        assert!(!tables.is_empty(), "{:?} declares no tables", R::KIND);
        let first = tables[0].name;
        let firsts = rows.rows.iter().filter(|(t, _)| *t == first).count();
        assert_eq!(firsts, 1, "first table {first} must get exactly one row");
        assert!(
            tables[0].columns.iter().any(|(c, _)| *c == "state"),
            "first table {first} needs a state column"
        );

        let conn = rusqlite::Connection::open_in_memory().expect("in-memory SQLite");
        for t in tables {
            assert!(t.name.starts_with("p_"), "{} should be named p_…", t.name);
            for (c, _) in t.columns {
                assert!(
                    !SQL_KEYWORDS.contains(c),
                    "{}.{c} is an SQL keyword",
                    t.name
                );
            }
            conn.execute_batch(&t.ddl()).expect("DDL runs");
        }
        for (table, values) in &rows.rows {
            let t = tables
                .iter()
                .find(|t| t.name == *table)
                .unwrap_or_else(|| panic!("row for undeclared table {table}"));
            assert_eq!(
                values.len(),
                t.columns.len(),
                "{table}: every declared column once"
            );
            for (name, ty) in t.columns {
                let value = values
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v)
                    .unwrap_or_else(|| panic!("{table}.{name} missing from the row"));
                let ok = matches!(
                    (ty, value),
                    (_, Value::Null)
                        | (SqlType::Text, Value::Text(_))
                        | (SqlType::Integer, Value::Integer(_))
                        | (SqlType::Real, Value::Real(_))
                );
                assert!(ok, "{table}.{name}: {value:?} is not {ty:?}");
            }
            let cols: Vec<&str> = values.iter().map(|(n, _)| *n).collect();
            let marks = vec!["?"; cols.len() + 1].join(", ");
            let sql = format!(
                "INSERT INTO {table} (doc_id, {}) VALUES ({marks})",
                cols.join(", ")
            );
            let mut params: Vec<Value> = vec![Value::Text(env.id.clone())];
            params.extend(values.iter().map(|(_, v)| v.clone()));
            conn.execute(&sql, rusqlite::params_from_iter(params))
                .expect("row inserts");
        }
        rows.rows
    }

    /// The value of `column` in the `n`th row of `table`.
    pub fn cell<'a>(
        rows: &'a [(&'static str, Vec<(&'static str, Value)>)],
        table: &str,
        n: usize,
        column: &str,
    ) -> &'a Value {
        let (_, values) = rows
            .iter()
            .filter(|(t, _)| *t == table)
            .nth(n)
            .unwrap_or_else(|| panic!("no row {n} in {table}"));
        values
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no column {column} in {table}"))
    }

    pub fn count(rows: &[(&'static str, Vec<(&'static str, Value)>)], table: &str) -> usize {
        rows.iter().filter(|(t, _)| *t == table).count()
    }

    pub fn text(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::projection::Sql;

    fn is_snake_ascii(code: &str) -> bool {
        !code.is_empty()
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !code.starts_with('_')
            && !code.ends_with('_')
    }

    macro_rules! check_lists {
        ($($t:ident),+ $(,)?) => {$({
            let mut codes = HashSet::new();
            let mut labels = HashSet::new();
            let list = stringify!($t);
            for v in $t::ALL {
                let code = v.code();
                assert!(is_snake_ascii(code), "{list}: `{code}` is not snake_case ASCII");
                assert!(codes.insert(code), "{list}: code `{code}` twice");
                assert!(labels.insert(v.label_zh()), "{list}: label {} twice", v.label_zh());
                assert!(!v.label_en().is_empty());
                assert_eq!($t::from_code(code), Some(*v));
                let json = serde_json::to_string(v).expect("serialises");
                assert_eq!(json, format!("\"{code}\""));
                let back: $t = serde_json::from_str(&json).expect("deserialises");
                assert_eq!(back, *v);
                assert_eq!(v.sql(), rusqlite::types::Value::Text(code.to_string()));
            }
            assert_eq!($t::ALL.len(), $t::CODES.len());
        })+};
    }

    #[test]
    fn every_code_list_has_unique_snake_case_codes_and_labels_that_round_trip() {
        for_each_code_list!(check_lists);
    }

    #[test]
    fn labels_are_the_ones_in_the_domain_spec() {
        assert_eq!(
            HouseholdStatus::ExitedSupported.label_zh(),
            "已脱贫(享受政策)"
        );
        assert_eq!(PovertyCause::LowMotivation.label_zh(), "自身发展动力不足");
        assert_eq!(SchoolStatus::Grades7To9.label_zh(), "七–九年级");
        assert_eq!(LeaveType::OfficialMeeting.label_zh(), "公假(会议培训)");
        assert_eq!(DeliveryStatus::Revoked.label_zh(), "撤销-不符合条件");
        assert_eq!(Relation::DaughtersSon.label_zh(), "之外孙子");
        assert_eq!(PovertyCause::ALL.len(), 12);
        assert_eq!(Relation::ALL.len(), 20);
    }

    #[test]
    fn an_unknown_code_is_rejected() {
        let err = serde_json::from_str::<Gender>("\"unknown\"").expect_err("not a gender");
        assert!(err.to_string().starts_with("unknown variant"), "{err}");
        // Labels are not codes.
        assert!(serde_json::from_str::<Gender>("\"男\"").is_err());
    }

    #[test]
    fn registered_statuses_are_the_three_of_r5() {
        let registered: Vec<_> = HouseholdStatus::ALL
            .iter()
            .filter(|s| s.is_registered())
            .map(|s| s.label_zh())
            .collect();
        assert_eq!(registered, ["未脱贫", "已脱贫(享受政策)", "返贫"]);
    }

    #[test]
    fn only_c_and_d_houses_are_dangerous() {
        let dangerous: Vec<_> = HouseSafety::ALL
            .iter()
            .filter(|s| s.is_dangerous())
            .collect();
        assert_eq!(dangerous, [&HouseSafety::C, &HouseSafety::D]);
    }

    #[test]
    fn phone_and_video_visits_never_count_for_coverage() {
        assert!(VisitMode::InHome.counts_for_coverage());
        assert!(VisitMode::InVillage.counts_for_coverage());
        assert!(!VisitMode::Phone.counts_for_coverage());
        assert!(!VisitMode::Video.counts_for_coverage());
    }

    #[test]
    fn official_trips_count_as_in_village_only_when_configured() {
        assert!(DayStatus::InVillage.counts_in_village(false));
        assert!(DayStatus::OfficialTrip.counts_in_village(true));
        assert!(!DayStatus::OfficialTrip.counts_in_village(false));
        assert!(!DayStatus::OnLeave.counts_in_village(true));
        assert!(!DayStatus::Absent.counts_in_village(true));
    }

    #[test]
    fn departures_are_the_reasons_that_take_a_member_out() {
        let out: Vec<_> = MemberChangeReason::ALL
            .iter()
            .filter(|r| r.is_departure())
            .map(|r| r.code())
            .collect();
        assert_eq!(out, ["death", "married_out", "imprisoned", "other_out"]);
    }

    /// All kinds' tables live in one database: names must not collide, and every example
    /// record, given as JSON with only its kind known, projects through `project_json`.
    #[test]
    fn every_kind_projects_into_one_database() {
        use crate::domain::*;

        let conn = rusqlite::Connection::open_in_memory().expect("in-memory SQLite");
        let mut names = HashSet::new();
        for (_, table) in all_tables() {
            assert!(
                names.insert(table.name),
                "table {} declared twice",
                table.name
            );
            conn.execute_batch(&table.ddl()).expect("DDL runs");
        }
        macro_rules! each {
            ($($t:ty),+) => {$({
                let example = <$t>::example();
                assert_eq!(example.validate(), Ok(()), "{:?}", <$t as Record>::KIND);
                let env = testkit::envelope(<$t as Record>::KIND);
                let json = serde_json::to_value(&example).expect("serialises");
                let mut rows = crate::projection::Rows::default();
                project_json(&env, json, &mut rows).expect("projects");
                assert!(!rows.is_empty());
                let first = <$t as Record>::tables()[0].name;
                assert_eq!(rows.rows.iter().filter(|(t, _)| *t == first).count(), 1);
            })+};
        }
        crate::for_each_kind!(each);
    }

    #[test]
    fn multi_valued_fields_project_as_comma_joined_codes() {
        let joined = joined_codes(
            &[VisitPurpose::FirstRound, VisitPurpose::InfoCheck],
            VisitPurpose::code,
        );
        assert_eq!(joined, "first_round,info_check");
        assert_eq!(joined_codes::<VisitPurpose>(&[], VisitPurpose::code), "");
    }
}

// ---------------------------------------------------------------------------------------------
// Code lists of petitions, status changes, projects, inspections and surveys (DOMAIN §2.7–2.11).
// They get their `Sql` impls and their checks from `for_each_process_code_list!` below.

code_enum! {
    /// How a petition reached the team (信访渠道).
    pub enum PetitionChannel {
        InPerson = "in_person", "来访", "In person";
        Phone = "phone", "来电", "Phone call";
        Letter = "letter", "来信", "Letter";
        Online = "online", "网络", "Online";
        Other = "other", "其他", "Other";
    }
}

code_enum! {
    /// Where a petition came from (问题来源).
    pub enum PetitionSource {
        PublicComplaint = "public_complaint", "群众反映", "Raised by the public";
        PublicReport = "public_report", "群众举报", "Reported by the public";
        Inspection = "inspection", "督查发现", "Found by an inspection";
        PatrolReferral = "patrol_referral", "巡察移交", "Referred by a party patrol";
        DepartmentReferral = "department_referral", "职能部门移交", "Referred by a department";
        Other = "other", "其他", "Other";
    }
}

code_enum! {
    /// The field of poverty-alleviation work a petition is about (问题类别).
    pub enum PetitionDomain {
        Identification = "identification", "精准识别", "Targeting (identification)";
        Finance = "finance", "金融扶贫", "Financial support";
        Health = "health", "健康扶贫", "Health support";
        Education = "education", "教育扶贫", "Education support";
        Relocation = "relocation", "易地搬迁", "Relocation";
        SocialAssistance = "social_assistance", "社会救助", "Social assistance";
        TrainingEmployment = "training_employment", "培训就业", "Training and employment";
        HousingRenovation = "housing_renovation", "危房改造", "Dangerous-house renovation";
        SpecialPrograms = "special_programs", "专项扶贫", "Special poverty programmes";
        SocialSupport = "social_support", "社会帮扶", "Social pairing support";
        EcologicalCompensation = "ecological_compensation", "生态补偿", "Ecological compensation";
        Other = "other", "其他", "Other";
    }
}

code_enum! {
    /// The rank of the official a petition complains about (反映对象级别).
    pub enum SubjectLevel {
        SectionLevel = "section_level", "乡科级", "Township/section-level official";
        GeneralCadre = "general_cadre", "一般干部", "Ordinary cadre";
        VillageCadre = "village_cadre", "行政村干部", "Village cadre";
        GroupCadre = "group_cadre", "村小组干部", "Villager-group cadre";
        Other = "other", "其他", "Other";
    }
}

code_enum! {
    /// Where a petition stands (办理状态).
    pub enum PetitionStatus {
        Accepted = "accepted", "受理", "Accepted";
        InProgress = "in_progress", "办理中", "In progress";
        Closed = "closed", "办结", "Closed (resolved)";
        NotAccepted = "not_accepted", "不予受理", "Not accepted";
    }
}

impl PetitionStatus {
    /// Still to be handled: counts against the due date (R15).
    pub fn is_open(self) -> bool {
        matches!(self, PetitionStatus::Accepted | PetitionStatus::InProgress)
    }
}

code_enum! {
    /// What the petitioner said at the return visit (回访结果).
    pub enum ReturnVisitResult {
        Satisfied = "satisfied", "满意", "Satisfied";
        FairlySatisfied = "fairly_satisfied", "基本满意", "Fairly satisfied";
        Dissatisfied = "dissatisfied", "不满意", "Dissatisfied";
    }
}

code_enum! {
    /// The kind of 动态调整 case.
    pub enum StatusChangeType {
        NewInclusion = "new_inclusion", "新识别纳入", "New identification";
        ReturnInclusion = "return_inclusion", "返贫纳入", "Inclusion after returning to poverty";
        MarkedExit = "marked_exit", "标注脱贫", "Marked out of poverty";
        Removal = "removal", "清退", "Removal (wrongly registered)";
        MemberChange = "member_change", "成员自然增减", "Natural change of members";
        Closure = "closure", "自然销户", "Natural closure of the household";
    }
}

impl StatusChangeType {
    /// The household leaves the register: only these cases have the household's consent step
    /// (农户认可签字, "exits only").
    pub fn is_exit(self) -> bool {
        matches!(
            self,
            StatusChangeType::MarkedExit | StatusChangeType::Removal | StatusChangeType::Closure
        )
    }
}

code_enum! {
    /// The steps of a 动态调整 case, in the order the procedure takes them.
    pub enum StatusChangeStep {
        Application = "application", "申请/村初选", "Application or village pre-selection";
        DemocraticReview = "democratic_review", "村民代表大会民主评议", "Villager representatives' review";
        Verification = "verification", "村两委+工作队核实", "Verification by the village committees and team";
        HouseholdConsent = "household_consent", "农户认可签字", "Household's signed consent";
        Publicity = "publicity", "村内公示", "Public notice in the village";
        TownshipReview = "township_review", "乡镇审核", "Township review";
        CountyApproval = "county_approval", "县审批公告", "County approval and announcement";
        SystemEntry = "system_entry", "系统录入", "Entered in the national system";
    }
}

code_enum! {
    /// How one step of a 动态调整 case ended.
    pub enum StepOutcome {
        Passed = "passed", "通过", "Passed";
        Failed = "failed", "未通过", "Not passed";
        Returned = "returned", "退回补正", "Sent back for correction";
    }
}

code_enum! {
    /// How a 动态调整 case ended.
    pub enum StatusChangeResult {
        Approved = "approved", "批准", "Approved";
        Rejected = "rejected", "驳回", "Rejected";
        Withdrawn = "withdrawn", "撤回", "Withdrawn";
    }
}

code_enum! {
    /// 项目类别.
    pub enum ProjectCategory {
        Industry = "industry", "产业", "Industry";
        Infrastructure = "infrastructure", "水电路基础设施", "Water, power and road infrastructure";
        PublicServices = "public_services", "公共服务", "Public services";
        Relocation = "relocation", "易地搬迁", "Relocation";
        Employment = "employment", "就业", "Employment";
        Education = "education", "教育", "Education";
        Health = "health", "健康", "Health";
        LivingConditions = "living_conditions", "生活条件改善", "Better living conditions";
    }
}

code_enum! {
    /// Who ran an inspection (督查层级).
    pub enum InspectionLevel {
        Township = "township", "乡镇", "Township";
        County = "county", "县", "County";
        City = "city", "市", "City";
    }
}

code_enum! {
    /// How an inspection was done.
    pub enum InspectionMethod {
        FieldVisit = "field_visit", "实地暗访", "Unannounced field visit";
        PhoneCheck = "phone_check", "电话抽查", "Phone spot check";
    }
}

code_enum! {
    /// Whether the inspected cadre was at their post (R4 counts 无故不在岗).
    pub enum OnPost {
        OnPost = "on_post", "在岗", "At the post";
        OnLeave = "on_leave", "请假在册", "On registered leave";
        Absent = "absent", "无故不在岗", "Absent without leave";
    }
}

code_enum! {
    /// A household's answer to "are you satisfied with the poverty-alleviation work?" (满意度).
    pub enum Satisfaction {
        Satisfied = "satisfied", "满意", "Satisfied";
        FairlySatisfied = "fairly_satisfied", "基本满意", "Fairly satisfied";
        Dissatisfied = "dissatisfied", "不满意", "Dissatisfied";
        CannotSay = "cannot_say", "说不清", "Cannot say";
    }
}

impl Satisfaction {
    /// Counts as satisfied for the 满意率 (R14): 满意 and 基本满意.
    pub fn is_satisfied(self) -> bool {
        matches!(
            self,
            Satisfaction::Satisfied | Satisfaction::FairlySatisfied
        )
    }
}

code_enum! {
    /// Who asked a household how satisfied it is.
    pub enum SurveySource {
        PairingCadreVisit = "pairing_cadre_visit", "帮扶干部走访", "Pairing cadre's visit";
        TownshipCheck = "township_check", "乡镇核查", "Township check";
        CountyInspection = "county_inspection", "县级暗访", "County unannounced inspection";
        ThirdParty = "third_party", "第三方评估", "Third-party evaluation";
    }
}

code_enum! {
    /// What a 投诉建议 (feedback) is (issue 16 item 9; not in DOMAIN, see
    /// [`super::feedback`]).
    pub enum FeedbackCategory {
        Complaint = "complaint", "投诉", "Complaint";
        Suggestion = "suggestion", "建议", "Suggestion";
        AppProblem = "app_problem", "系统问题", "Problem with the app";
    }
}

code_enum! {
    /// Where a 投诉建议 stands: submitted (waiting for the county office's answer), answered.
    pub enum FeedbackStatus {
        Submitted = "submitted", "待答复", "Awaiting an answer";
        Answered = "answered", "已答复", "Answered";
    }
}

/// Calls `$m!` with the code lists of §2.7–2.11, so their `Sql` impls and tests cover them all.
macro_rules! for_each_process_code_list {
    ($m:ident) => {
        $m! {
            PetitionChannel, PetitionSource, PetitionDomain, SubjectLevel, PetitionStatus,
            ReturnVisitResult, StatusChangeType, StatusChangeStep, StepOutcome,
            StatusChangeResult, ProjectCategory, InspectionLevel, InspectionMethod, OnPost,
            Satisfaction, SurveySource, FeedbackCategory, FeedbackStatus
        }
    };
}

for_each_process_code_list!(sql_for_codes);

#[cfg(test)]
mod process_code_tests {
    use std::collections::HashSet;

    use super::*;
    use crate::projection::Sql;

    macro_rules! check_lists {
        ($($t:ident),+ $(,)?) => {$({
            let list = stringify!($t);
            let mut codes = HashSet::new();
            let mut labels = HashSet::new();
            for v in $t::ALL {
                let code = v.code();
                let snake = !code.is_empty()
                    && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                    && !code.starts_with('_')
                    && !code.ends_with('_');
                assert!(snake, "{list}: `{code}` is not snake_case ASCII");
                assert!(codes.insert(code), "{list}: code `{code}` twice");
                assert!(labels.insert(v.label_zh()), "{list}: label {} twice", v.label_zh());
                assert!(!v.label_en().is_empty());
                assert_eq!($t::from_code(code), Some(*v));
                let json = serde_json::to_string(v).expect("serialises");
                assert_eq!(json, format!("\"{code}\""));
                let back: $t = serde_json::from_str(&json).expect("deserialises");
                assert_eq!(back, *v);
                assert_eq!(v.sql(), rusqlite::types::Value::Text(code.to_string()));
            }
        })+};
    }

    #[test]
    fn process_code_lists_have_unique_snake_case_codes_and_labels_that_round_trip() {
        for_each_process_code_list!(check_lists);
    }

    #[test]
    fn process_labels_are_the_ones_in_the_domain_spec() {
        let steps: Vec<_> = StatusChangeStep::ALL.iter().map(|s| s.label_zh()).collect();
        assert_eq!(
            steps,
            [
                "申请/村初选",
                "村民代表大会民主评议",
                "村两委+工作队核实",
                "农户认可签字",
                "村内公示",
                "乡镇审核",
                "县审批公告",
                "系统录入",
            ]
        );
        assert_eq!(PetitionDomain::ALL.len(), 12);
        assert_eq!(
            PetitionSource::DepartmentReferral.label_zh(),
            "职能部门移交"
        );
        assert_eq!(ProjectCategory::Infrastructure.label_zh(), "水电路基础设施");
        assert_eq!(OnPost::OnLeave.label_zh(), "请假在册");
        assert_eq!(SurveySource::CountyInspection.label_zh(), "县级暗访");
        assert_eq!(Satisfaction::CannotSay.label_zh(), "说不清");
    }

    #[test]
    fn exits_are_marked_exit_removal_and_closure() {
        let exits: Vec<_> = StatusChangeType::ALL
            .iter()
            .filter(|t| t.is_exit())
            .map(|t| t.label_zh())
            .collect();
        assert_eq!(exits, ["标注脱贫", "清退", "自然销户"]);
    }

    #[test]
    fn satisfied_and_fairly_satisfied_count_for_the_satisfaction_rate() {
        let counted: Vec<_> = Satisfaction::ALL
            .iter()
            .filter(|s| s.is_satisfied())
            .map(|s| s.label_zh())
            .collect();
        assert_eq!(counted, ["满意", "基本满意"]);
    }

    #[test]
    fn open_petitions_are_accepted_or_in_progress() {
        let open: Vec<_> = PetitionStatus::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.code())
            .collect();
        assert_eq!(open, ["accepted", "in_progress"]);
    }
}

//! From tables to the records they describe, with every problem found before anything is
//! written (see the [module docs](super) for the checks), and each record's state against the
//! stored one: new, changed (which fields), unchanged.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use cunji_core::Problem as Prob;
use cunji_core::ValidationError;
use cunji_core::doc::RecordDoc;
use cunji_core::domain::access::rights;
use cunji_core::domain::id_number::check_member_id_no;
use cunji_core::domain::privacy::{Privacy, mask_text};
use cunji_core::domain::{
    Assignment, Cadre, Entitlement, Envelope, Household, HouseholdPrivate, Kind, PolicyItem,
    Record, Team, Unit, from_json,
};
use cunji_core::values::{Date, Money};
use serde_json::{Map, Value, json};

use super::read::{Cell, Table};
use super::sheets::{Col, SheetKind, Ty, normalize, normalize_header};
use super::{FIRST_ROWS, KindReport, Problem, Report, RowRef};
use crate::merge::server_actor;
use crate::store::{Account, StoreResult, Tx};

/// The kinds an import writes, in the order they are merged (a record's references first).
pub const WRITE_ORDER: [Kind; 8] = [
    Kind::Unit,
    Kind::PolicyItem,
    Kind::Cadre,
    Kind::Team,
    Kind::Household,
    Kind::HouseholdPrivate,
    Kind::Assignment,
    Kind::Entitlement,
];

/// A row a record came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source {
    pub file: String,
    pub sheet_name: String,
    pub sheet: SheetKind,
    pub row: usize,
}

/// What the import does to one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    New,
    Changed(Vec<String>),
    Unchanged,
}

/// One record the files describe.
#[derive(Debug, Clone)]
pub struct Planned {
    pub kind: Kind,
    pub id: String,
    /// The key people know it by (户编号, 干部编号, `户编号/政策代码/年度/日期`, ...).
    pub key: String,
    /// The row that defines it.
    pub main: Source,
    /// Rows of its parts, by field prefix (`members.m1`, `incomes.2015`, a team's members).
    pub parts: BTreeMap<String, Source>,
    /// The record's data as the files make it (the stored data with the files' columns).
    pub data: Value,
    /// The stored data, and its document's envelope.
    pub stored: Option<(Value, Envelope)>,
    pub action: Action,
}

impl Planned {
    pub fn sources(&self) -> impl Iterator<Item = &Source> {
        std::iter::once(&self.main).chain(self.parts.values())
    }

    /// The source of a validation error's field.
    fn source_of(&self, field: &str) -> (&Source, String) {
        let mut best: Option<(&String, &Source)> = None;
        for (prefix, s) in &self.parts {
            if field.starts_with(&format!("{prefix}.")) || field == prefix {
                best = Some((prefix, s));
            }
        }
        match best {
            Some((prefix, s)) => {
                let rest = field
                    .strip_prefix(prefix.as_str())
                    .unwrap_or("")
                    .trim_start_matches('.');
                (s, rest.to_string())
            }
            None => (&self.main, field.to_string()),
        }
    }
}

/// The plan of an import: the records, and the stored records the files no longer list.
#[derive(Debug, Default)]
pub struct Plan {
    pub records: Vec<Planned>,
    /// (kind, key) of stored records the files no longer list.
    pub missing: Vec<(Kind, String)>,
    /// Rows refused before they became a record (a reference the importer cannot resolve, a
    /// key given twice, a row of its own whose cell does not parse): counted refused, once a
    /// row, under their sheet's kind, keyed by their first cell.
    pub refused_rows: Vec<(Kind, RowRef)>,
}

/// A problem's place.
fn problem(
    src: &Source,
    column: Option<&str>,
    value: Option<String>,
    code: &str,
    zh: String,
    en: String,
) -> Problem {
    Problem {
        file: src.file.clone(),
        sheet: src.sheet_name.clone(),
        row: src.row,
        column: column.map(str::to_string),
        value: value.filter(|v| !v.is_empty()),
        code: code.into(),
        message: zh,
        message_en: en,
    }
}

/// One data row, its cells parsed by column.
struct Row {
    src: Source,
    /// Parsed values of the columns the sheet has (`Null` for an empty cell).
    values: BTreeMap<&'static str, Value>,
    /// Some cell did not parse.
    bad: bool,
    /// Cells an export masked (`export` module docs), by column key: each keeps the stored
    /// value it masks, checked by [`Builder::kept`].
    kept: BTreeMap<&'static str, String>,
}

impl Row {
    fn text(&self, key: &str) -> Option<String> {
        self.values
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
    }
}

/// Sets a dotted path in a JSON object; `Null` removes the key.
fn set_path(obj: &mut Value, path: &str, v: Value) {
    let mut cur = obj;
    let mut parts = path.split('.').peekable();
    while let Some(p) = parts.next() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Some(map) = cur.as_object_mut() else {
            return;
        };
        if parts.peek().is_none() {
            if v.is_null() {
                map.remove(p);
            } else {
                map.insert(p.to_string(), v);
            }
            return;
        }
        if v.is_null() && !map.contains_key(p) {
            // Nothing to clear below a missing object.
            return;
        }
        cur = map.entry(p.to_string()).or_insert_with(|| json!({}));
    }
}

/// Parses the cells of a table into rows; problems of cells and of missing columns.
fn rows_of(t: &Table, kind: SheetKind, report: &mut Report) -> Vec<Row> {
    let cols = kind.columns();
    let mut index: Vec<(usize, &'static Col)> = Vec::new();
    let mut ignored = Vec::new();
    for (i, h) in t.headers.iter().enumerate() {
        let n = normalize_header(h);
        if n.is_empty() {
            continue;
        }
        match cols
            .iter()
            .find(|c| normalize_header(c.header) == n || c.key == n)
        {
            Some(c) if !index.iter().any(|(_, d)| d.key == c.key) => index.push((i, c)),
            _ => ignored.push(h.trim().to_string()),
        }
    }
    if !ignored.is_empty() {
        report
            .ignored_columns
            .insert(format!("{}/{}", t.file, t.sheet), ignored);
    }
    let sheet_src = Source {
        file: t.file.clone(),
        sheet_name: t.sheet.clone(),
        sheet: kind,
        row: 1,
    };
    for c in cols.iter().filter(|c| c.required) {
        if !index.iter().any(|(_, d)| d.key == c.key) {
            report.problems.push(problem(
                &sheet_src,
                Some(c.header),
                None,
                "missing_column",
                format!("工作表“{}”缺少必填列“{}”", t.sheet, c.header),
                format!(
                    "sheet `{}` lacks the required column `{}`",
                    t.sheet, c.header
                ),
            ));
        }
    }
    let mut out = Vec::new();
    for (row, cells) in &t.rows {
        let src = Source {
            row: *row,
            ..sheet_src.clone()
        };
        let mut r = Row {
            src,
            values: BTreeMap::new(),
            bad: false,
            kept: BTreeMap::new(),
        };
        for (i, c) in &index {
            let cell = cells.get(*i).cloned().unwrap_or(Cell::Empty);
            if c.privacy(kind.record_kind()) != Privacy::Open
                && let Cell::Text(t) = &cell
                && t.contains('*')
            {
                r.kept.insert(c.key, t.trim().to_string());
                continue;
            }
            match parse_cell(c, &cell) {
                Ok(v) => {
                    r.values.insert(c.key, v);
                }
                Err((code, zh, en)) => {
                    r.bad = true;
                    r.values.insert(c.key, Value::Null);
                    report.problems.push(problem(
                        &r.src,
                        Some(c.header),
                        Some(cell.shown()),
                        code,
                        format!("{}：{zh}", c.header),
                        format!("{}: {en}", c.key.trim_start_matches('#')),
                    ));
                }
            }
        }
        out.push(r);
    }
    out
}

type CellError = (&'static str, String, String);

fn parse_cell(c: &Col, cell: &Cell) -> Result<Value, CellError> {
    if cell.is_empty() {
        if c.required {
            return Err((
                "required",
                "必填，不能为空".into(),
                "required, may not be empty".into(),
            ));
        }
        return Ok(Value::Null);
    }
    let text = cell.shown();
    match c.ty {
        Ty::Text => {
            if let Cell::Number(n) = cell
                && n.abs() >= 1e15
            {
                return Err(lost_digits());
            }
            Ok(Value::String(text))
        }
        Ty::IdNo => {
            if let Cell::Number(_) = cell {
                return Err(lost_digits());
            }
            let n = text.to_uppercase();
            check_member_id_no(&n).map_err(|e| {
                (
                    "bad_id_number",
                    "证件号码不对：身份证号须为 18 位且末位校验码正确（GB 11643），残疾证号为 20 位"
                        .into(),
                    format!("not a valid ID number (GB 11643) or disability certificate number: {e}"),
                )
            })?;
            Ok(Value::String(n))
        }
        Ty::Int => {
            let n = match cell {
                Cell::Number(n) if n.fract() == 0.0 => Some(*n as i64),
                _ => text.trim_end_matches('年').trim().parse::<i64>().ok(),
            };
            n.map(Value::from)
                .ok_or_else(|| ("bad_number", "不是整数".into(), "not a whole number".into()))
        }
        Ty::Decimal => {
            let n = match cell {
                Cell::Number(n) => Some(*n),
                _ => text.replace(',', "").parse::<f64>().ok(),
            };
            n.filter(|n| n.is_finite())
                .map(Value::from)
                .ok_or_else(|| ("bad_number", "不是数字".into(), "not a number".into()))
        }
        Ty::Money => {
            let s = match cell {
                Cell::Number(n) => format!("{:.2}", (n * 100.0).round() / 100.0),
                _ => text.trim_end_matches('元').replace([',', '，'], ""),
            };
            let m: Money = s.parse().map_err(|_| {
                (
                    "bad_number",
                    "不是金额（元，最多两位小数）".into(),
                    "not an amount (yuan, at most two decimals)".into(),
                )
            })?;
            serde_json::to_value(m).map_err(|e| ("bad_number", e.to_string(), e.to_string()))
        }
        Ty::Date => parse_date(cell)
            .map(|d| Value::String(d.to_string()))
            .ok_or_else(|| {
                (
                    "bad_date",
                    "不是日期（如 2015-08-25）".into(),
                    "not a date (e.g. 2015-08-25)".into(),
                )
            }),
        Ty::Bool => parse_bool(cell).map(Value::Bool).ok_or_else(|| {
            (
                "bad_bool",
                "请填“是”或“否”".into(),
                "not 是/否 (yes/no)".into(),
            )
        }),
        Ty::Code(list) => code_of(&list(), &text)
            .map(Value::from)
            .ok_or_else(|| unknown_code(&list())),
        Ty::Codes(list) => {
            let codes = list();
            let mut out = Vec::new();
            for part in text
                .split(['、', ',', '，', ';', '；', '/', ' '])
                .filter(|p| !p.trim().is_empty())
            {
                out.push(Value::from(
                    code_of(&codes, part).ok_or_else(|| unknown_code(&codes))?,
                ));
            }
            Ok(Value::Array(out))
        }
    }
}

fn lost_digits() -> CellError {
    (
        "number_lost_digits",
        "Excel 把这个号码存成了数字，末尾几位已丢失：请把该列设为文本后重新填写".into(),
        "Excel stored this number as a number and lost its last digits: format the column as text and enter it again".into(),
    )
}

fn unknown_code(list: &[(&'static str, &'static str)]) -> CellError {
    let labels: Vec<&str> = list.iter().map(|(_, l)| *l).collect();
    let codes: Vec<&str> = list.iter().map(|(c, _)| *c).collect();
    (
        "unknown_code",
        format!("不是代码表中的值，可填：{}", labels.join("、")),
        format!("not in the code list: one of {}", codes.join(", ")),
    )
}

fn code_of(list: &[(&'static str, &'static str)], s: &str) -> Option<&'static str> {
    let n = normalize(s);
    list.iter()
        .find(|(code, label)| normalize(label) == n || *code == n)
        .map(|(code, _)| *code)
}

/// A date cell: an Excel date, `yyyymmdd`, an Excel serial number, or text.
pub fn parse_date(cell: &Cell) -> Option<Date> {
    match cell {
        Cell::Date(d) => Some(*d),
        Cell::Number(n) if n.fract() == 0.0 && (19_000_101.0..=21_001_231.0).contains(n) => {
            parse_date_text(&format!("{}", *n as i64))
        }
        Cell::Number(n) if (1.0..100_000.0).contains(n) => Date::from_ymd_opt(1899, 12, 30)
            .and_then(|e| e.checked_add_signed(chrono::Duration::days(n.floor() as i64))),
        Cell::Text(s) => parse_date_text(s.trim()),
        _ => None,
    }
}

fn parse_date_text(s: &str) -> Option<Date> {
    // A date-time keeps its date.
    let s = s.split(['T', ' ']).next().unwrap_or(s);
    let s = s.replace(['年', '月', '/', '.'], "-").replace('日', "");
    let s = s.trim_end_matches('-');
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return Date::parse_from_str(s, "%Y%m%d").ok();
    }
    Date::parse_from_str(s, "%Y-%m-%d").ok()
}

fn parse_bool(cell: &Cell) -> Option<bool> {
    match cell {
        Cell::Bool(b) => Some(*b),
        Cell::Number(n) if *n == 1.0 => Some(true),
        Cell::Number(n) if *n == 0.0 => Some(false),
        Cell::Text(s) => match normalize(s).as_str() {
            "是" | "1" | "true" | "yes" | "y" | "√" | "有" => Some(true),
            "否" | "0" | "false" | "no" | "n" | "×" | "无" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// What the plan reads of the server, once per import.
struct Known<'a> {
    tx: &'a mut dyn Tx,
    villages: HashMap<String, bool>,
    docs: HashMap<String, Option<(Kind, Value, Envelope)>>,
}

impl Known<'_> {
    fn village(&mut self, code: &str) -> StoreResult<bool> {
        if let Some(v) = self.villages.get(code) {
            return Ok(*v);
        }
        let found = !self
            .tx
            .find_projected("p_village", "code", code)?
            .is_empty();
        self.villages.insert(code.to_string(), found);
        Ok(found)
    }

    /// A stored record: kind, data and envelope.
    fn doc(&mut self, id: &str) -> StoreResult<Option<(Kind, Value, Envelope)>> {
        if let Some(d) = self.docs.get(id) {
            return Ok(d.clone());
        }
        let found = match self.tx.doc(id)? {
            Some(row) => {
                let doc = RecordDoc::load(id, Some(&row.snapshot), &row.chunks, server_actor())
                    .map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?;
                match (doc.envelope(), doc.data_json()) {
                    (Ok(env), Ok(data)) => Some((env.kind, data, env)),
                    _ => None,
                }
            }
            None => None,
        };
        self.docs.insert(id.to_string(), found.clone());
        Ok(found)
    }

    fn is(&mut self, id: &str, kind: Kind) -> StoreResult<bool> {
        Ok(self.doc(id)?.is_some_and(|(k, ..)| k == kind))
    }

    fn find(&mut self, table: &str, column: &str, value: &str) -> StoreResult<Vec<String>> {
        self.tx.find_projected(table, column, value)
    }

    /// The record a projection column finds (a policy item by code, a team by village, a
    /// household's numbers): its id and stored data, or a new id and none.
    fn stored_by(
        &mut self,
        table: &str,
        column: &str,
        value: &str,
    ) -> StoreResult<(String, Option<(Value, Envelope)>)> {
        if let Some(id) = self.find(table, column, value)?.first()
            && let Some((_, data, env)) = self.doc(id)?
        {
            return Ok((id.clone(), Some((data, env))));
        }
        Ok((uuid::Uuid::now_v7().to_string(), None))
    }
}

/// Reads the tables into the records they describe and checks them (module docs); problems
/// go to `report`.
pub fn plan(
    tx: &mut dyn Tx,
    account: &Account,
    tables: &[Table],
    report: &mut Report,
) -> StoreResult<Plan> {
    let mut by_kind: BTreeMap<SheetKind, Vec<Row>> = BTreeMap::new();
    let mut sheets = HashMap::new();
    for t in tables {
        let kind = SheetKind::from_name(&t.sheet).or_else(|| SheetKind::from_headers(&t.headers));
        let Some(kind) = kind else {
            if t.rows.is_empty() || t.sheet.contains("说明") || t.sheet.contains("代码") {
                continue;
            }
            report.problems.push(Problem {
                file: t.file.clone(),
                sheet: t.sheet.clone(),
                row: 0,
                column: None,
                value: None,
                code: "unknown_sheet".into(),
                message: format!(
                    "看不出工作表“{}”是哪一类数据：请用模板的工作表名（{}）",
                    t.sheet,
                    SheetKind::ALL
                        .iter()
                        .map(|k| k.name_zh())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
                message_en: format!(
                    "sheet `{}` is none of the kinds (name it {})",
                    t.sheet,
                    SheetKind::ALL
                        .iter()
                        .map(|k| k.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
            continue;
        };
        let rows = rows_of(t, kind, report);
        // The account must be allowed to write the kind at all (the access table).
        let record_kind = kind.record_kind();
        if rights(account.role, record_kind).write.is_none() && !rows.is_empty() {
            report.problems.push(Problem {
                file: t.file.clone(),
                sheet: t.sheet.clone(),
                row: 0,
                column: None,
                value: None,
                code: "out_of_scope".into(),
                message: format!(
                    "{}不能导入{}（由管理员导入）",
                    account.role.label_zh(),
                    kind.name_zh()
                ),
                message_en: format!(
                    "a {} may not import {} (the administrator does)",
                    account.role.code(),
                    kind.code()
                ),
            });
            continue;
        }
        sheets.insert((t.file.as_str(), t.sheet.as_str()), (kind, t));
        by_kind.entry(kind).or_default().extend(rows);
    }
    let mut k = Known {
        tx,
        villages: HashMap::new(),
        docs: HashMap::new(),
    };
    let mut b = Builder {
        account,
        plan: Plan::default(),
        problems: Vec::new(),
        households: BTreeMap::new(),
        privates: BTreeMap::new(),
        refused: HashSet::new(),
    };
    let take = |by_kind: &mut BTreeMap<SheetKind, Vec<Row>>, k: SheetKind| {
        by_kind.remove(&k).unwrap_or_default()
    };
    let units = take(&mut by_kind, SheetKind::Units);
    let file_units: HashSet<String> = units.iter().filter_map(|r| r.text("#id")).collect();
    b.simple::<Unit>(&mut k, units, |_, _, _| Ok(None))?;
    let policies = take(&mut by_kind, SheetKind::PolicyItems);
    let file_policies: HashSet<String> = policies.iter().filter_map(|r| r.text("code")).collect();
    b.policy_items(&mut k, policies)?;
    let cadres = take(&mut by_kind, SheetKind::Cadres);
    let file_cadres: HashSet<String> = cadres.iter().filter_map(|r| r.text("#id")).collect();
    b.simple::<Cadre>(&mut k, cadres, |k, r, _| {
        let Some(unit) = r.text("unit_id") else {
            return Ok(None);
        };
        if file_units.contains(&unit) || k.is(&unit, Kind::Unit)? {
            return Ok(None);
        }
        Ok(Some(unknown(
            &r.src,
            "单位编号",
            &unit,
            "unknown_unit",
            "单位",
            "unit",
        )))
    })?;
    let teams = take(&mut by_kind, SheetKind::Teams);
    b.teams(&mut k, teams, &file_cadres)?;
    b.households(
        &mut k,
        take(&mut by_kind, SheetKind::Households),
        take(&mut by_kind, SheetKind::Members),
        take(&mut by_kind, SheetKind::Incomes),
    )?;
    b.assignments(
        &mut k,
        take(&mut by_kind, SheetKind::Assignments),
        &file_cadres,
    )?;
    b.entitlements(
        &mut k,
        take(&mut by_kind, SheetKind::Entitlements),
        &file_policies,
    )?;
    report.problems.extend(b.problems);
    let mut plan = b.plan;
    for p in &mut plan.records {
        p.action = action(p);
    }
    let planned_rows: HashSet<(&str, &str, usize)> = plan
        .records
        .iter()
        .flat_map(|p| p.sources())
        .map(|s| (s.file.as_str(), s.sheet_name.as_str(), s.row))
        .collect();
    let mut counted = HashSet::new();
    let mut refused_rows = Vec::new();
    for p in &report.problems {
        let at = (p.file.as_str(), p.sheet.as_str(), p.row);
        if p.row < 2 || planned_rows.contains(&at) || !counted.insert(at) {
            continue;
        }
        let Some((kind, table)) = sheets.get(&(at.0, at.1)) else {
            continue;
        };
        // A table's rows are in their sheet's order.
        let key = table
            .rows
            .binary_search_by_key(&p.row, |(r, _)| *r)
            .ok()
            .and_then(|i| table.rows[i].1.first())
            .map(Cell::shown)
            .unwrap_or_default();
        refused_rows.push((
            kind.record_kind(),
            RowRef {
                key,
                sheet: p.sheet.clone(),
                row: p.row,
                fields: Vec::new(),
            },
        ));
    }
    plan.refused_rows = refused_rows;
    Ok(plan)
}

fn unknown(src: &Source, column: &str, value: &str, code: &str, zh: &str, en: &str) -> Problem {
    problem(
        src,
        Some(column),
        Some(value.to_string()),
        code,
        format!("{column}：{zh}“{value}”在文件和系统中都没有"),
        format!("{en} `{value}` is neither in the files nor on the server"),
    )
}

/// The record's data as its type writes it (defaults filled, fields in order), or `None`
/// when it does not read as its kind.
fn normal(kind: Kind, data: &Value) -> Option<Value> {
    fn go<T: Record>(data: &Value) -> Option<Value> {
        serde_json::to_value(serde_json::from_value::<T>(data.clone()).ok()?).ok()
    }
    match kind {
        Kind::Unit => go::<Unit>(data),
        Kind::Cadre => go::<Cadre>(data),
        Kind::Team => go::<Team>(data),
        Kind::PolicyItem => go::<PolicyItem>(data),
        Kind::Household => go::<Household>(data),
        Kind::HouseholdPrivate => go::<HouseholdPrivate>(data),
        Kind::Assignment => go::<Assignment>(data),
        Kind::Entitlement => go::<Entitlement>(data),
        _ => None,
    }
}

/// A record's kind validation, after reading it as its type.
fn validate(kind: Kind, data: &Value) -> Result<(), ValidationError> {
    fn go<T: Record>(data: &Value) -> Result<(), ValidationError> {
        let r: T = from_json(data.clone())?;
        r.validate()
    }
    match kind {
        Kind::Unit => go::<Unit>(data),
        Kind::Cadre => go::<Cadre>(data),
        Kind::Team => go::<Team>(data),
        Kind::PolicyItem => go::<PolicyItem>(data),
        Kind::Household => go::<Household>(data),
        Kind::HouseholdPrivate => go::<HouseholdPrivate>(data),
        Kind::Assignment => go::<Assignment>(data),
        Kind::Entitlement => go::<Entitlement>(data),
        _ => Ok(()),
    }
}

fn action(p: &Planned) -> Action {
    let Some((stored, _)) = &p.stored else {
        return Action::New;
    };
    let (Some(new), Some(old)) = (normal(p.kind, &p.data), normal(p.kind, stored)) else {
        return Action::Changed(vec!["*".into()]);
    };
    let mut fields = Vec::new();
    diff("", &old, &new, &mut fields);
    if fields.is_empty() {
        Action::Unchanged
    } else {
        Action::Changed(fields)
    }
}

fn diff(path: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let p = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => diff(&p, x, y, out),
                    _ => out.push(p),
                }
            }
        }
        (a, b) if a != b => out.push(path.to_string()),
        _ => {}
    }
}

/// The message of a validation error, Chinese first, for a column.
fn validation_problem(
    src: &Source,
    column: Option<&str>,
    value: Option<String>,
    e: &ValidationError,
) -> Problem {
    let what = column.unwrap_or(e.field.as_str());
    let (code, zh) = match e.problem {
        Prob::Required => ("required", "必填，不能为空"),
        Prob::UnknownCode => ("unknown_code", "不是代码表中的值"),
        Prob::BadIdNumber => ("bad_id_number", "证件号码校验不通过（GB 11643）"),
        Prob::OutOfRange => ("out_of_range", "超出允许的范围"),
        Prob::Inconsistent => ("inconsistent", "与本条记录的其他信息矛盾"),
        Prob::Malformed => ("malformed", "格式不对"),
    };
    problem(
        src,
        column,
        value,
        code,
        format!("{what}：{zh}"),
        format!("{}: {}", e.field, e.message),
    )
}

/// An assignment's period for R10: from, to (`9999-12-31` while running), primary, and the
/// file's row (`None`: a stored assignment the files do not replace).
type Period = (String, String, bool, Option<Source>);

struct Builder<'a> {
    account: &'a Account,
    plan: Plan,
    problems: Vec<Problem>,
    /// Households by id: index into `plan.records`.
    households: BTreeMap<String, usize>,
    /// Numbers records by household id: (index, numbers given by the files).
    privates: BTreeMap<String, usize>,
    /// Households whose own row was refused: rows that refer to them are refused with them,
    /// without a problem of their own (one problem per mistake).
    refused: HashSet<String>,
}

impl Builder<'_> {
    fn push(&mut self, p: Planned) -> usize {
        self.plan.records.push(p);
        self.plan.records.len() - 1
    }

    fn duplicate(&mut self, src: &Source, column: &str, key: &str, first: usize) {
        self.problems.push(problem(
            src,
            Some(column),
            Some(key.to_string()),
            "duplicate_row",
            format!("“{key}”在文件中出现了两次（第一次在第{first}行）"),
            format!("`{key}` is given twice in the files (first in row {first})"),
        ));
    }

    /// A village column: known, and inside the account's division.
    fn village_ok(&mut self, k: &mut Known<'_>, r: &Row, column: &str) -> StoreResult<bool> {
        let Some(code) = r.text("village_code") else {
            return Ok(false);
        };
        if !k.village(&code)? {
            self.problems.push(unknown(
                &r.src,
                column,
                &code,
                "unknown_village",
                "行政村",
                "village",
            ));
            return Ok(false);
        }
        if !code.starts_with(&self.account.division) {
            self.problems.push(problem(
                &r.src,
                Some(column),
                Some(code.clone()),
                "out_of_scope",
                format!("行政村{code}不在你的辖区（{}）内", self.account.division),
                format!(
                    "village {code} is outside your division {}",
                    self.account.division
                ),
            ));
            return Ok(false);
        }
        Ok(true)
    }

    /// Applies a row's columns (those that are record fields) onto `data`.
    fn overlay(data: &mut Value, r: &Row, prefix: &str) {
        for (key, v) in &r.values {
            if key.starts_with('#') {
                continue;
            }
            let path = if prefix.is_empty() {
                (*key).to_string()
            } else {
                format!("{prefix}.{key}")
            };
            set_path(data, &path, v.clone());
        }
    }

    /// Checks the masked cells of `r` whose stored values are found by `stored` (the column
    /// key to the stored value, `None` when there is none): each must be the mask of that
    /// value, which the record then keeps. A masked cell on a new record, or one that masks
    /// another value, is a problem: the importer cannot know what it stands for.
    fn kept(&mut self, r: &Row, stored: impl Fn(&str) -> Option<Value>) -> bool {
        let mut ok = true;
        for (key, cell) in &r.kept {
            let Some(c) = r.src.sheet.column(key) else {
                continue;
            };
            let shown = stored(key).and_then(|v| match v {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            if shown.is_some_and(|s| mask_text(c.privacy_key(), &s) == *cell) {
                continue;
            }
            ok = false;
            self.problems.push(problem(
                &r.src,
                Some(c.header),
                Some(cell.clone()),
                "masked_value",
                format!(
                    "{}：这是导出时遮蔽的值（带 *），系统中没有与之对应的值；请填写完整的值",
                    c.header
                ),
                format!(
                    "{}: a value masked by an export (with *) that matches nothing stored; give the full value",
                    c.key.trim_start_matches('#')
                ),
            ));
        }
        ok
    }

    /// Units and cadres: a record per row, its id the `#id` column; `check` adds a
    /// reference problem.
    fn simple<T: Record>(
        &mut self,
        k: &mut Known<'_>,
        rows: Vec<Row>,
        mut check: impl FnMut(&mut Known<'_>, &Row, &Self) -> StoreResult<Option<Problem>>,
    ) -> StoreResult<()> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for r in rows {
            let Some(id) = r.text("#id") else { continue };
            if let Some(first) = seen.get(&id) {
                let header = r.src.sheet.columns()[0].header;
                self.duplicate(&r.src, header, &id, *first);
                continue;
            }
            seen.insert(id.clone(), r.src.row);
            if let Some(p) = check(k, &r, self)? {
                self.problems.push(p);
                continue;
            }
            let stored = match k.doc(&id)? {
                Some((kind, data, env)) if kind == T::KIND => Some((data, env)),
                Some((kind, ..)) => {
                    self.problems.push(problem(
                        &r.src,
                        Some(r.src.sheet.columns()[0].header),
                        Some(id.clone()),
                        "id_taken",
                        format!("编号“{id}”已被另一类记录（{}）使用", kind.label_zh()),
                        format!("id `{id}` is another kind's record ({})", kind.code()),
                    ));
                    continue;
                }
                None => None,
            };
            let kept = self.kept(&r, |key| {
                stored
                    .as_ref()
                    .and_then(|(d, _)| d.pointer(&format!("/{}", key.replace('.', "/"))).cloned())
            });
            let mut data = stored.as_ref().map_or_else(|| json!({}), |s| s.0.clone());
            Self::overlay(&mut data, &r, "");
            if !r.bad && kept {
                self.check_valid(T::KIND, &data, &r.src, &BTreeMap::new());
            }
            self.push(Planned {
                kind: T::KIND,
                key: id.clone(),
                id,
                main: r.src,
                parts: BTreeMap::new(),
                data,
                stored,
                action: Action::New,
            });
        }
        Ok(())
    }

    /// Validation of a record, its error placed on the row and column it came from.
    fn check_valid(
        &mut self,
        kind: Kind,
        data: &Value,
        main: &Source,
        parts: &BTreeMap<String, Source>,
    ) {
        let Err(e) = validate(kind, data) else {
            return;
        };
        let probe = Planned {
            kind,
            id: String::new(),
            key: String::new(),
            main: main.clone(),
            parts: parts.clone(),
            data: Value::Null,
            stored: None,
            action: Action::New,
        };
        let (src, rest) = probe.source_of(&e.field);
        let column = src
            .sheet
            .columns()
            .iter()
            .find(|c| c.key == rest || rest.starts_with(&format!("{}.", c.key)))
            .map(|c| c.header);
        self.problems
            .push(validation_problem(src, column, None, &e));
    }

    fn policy_items(&mut self, k: &mut Known<'_>, rows: Vec<Row>) -> StoreResult<()> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for r in rows {
            let Some(code) = r.text("code") else { continue };
            if let Some(first) = seen.get(&code) {
                self.duplicate(&r.src, "政策代码", &code, *first);
                continue;
            }
            seen.insert(code.clone(), r.src.row);
            let (id, stored) = k.stored_by("p_policy_item", "code", &code)?;
            let mut data = stored.as_ref().map_or_else(|| json!({}), |s| s.0.clone());
            Self::overlay(&mut data, &r, "");
            if !r.bad {
                self.check_valid(Kind::PolicyItem, &data, &r.src, &BTreeMap::new());
            }
            self.push(Planned {
                kind: Kind::PolicyItem,
                id,
                key: code,
                main: r.src,
                parts: BTreeMap::new(),
                data,
                stored,
                action: Action::New,
            });
        }
        Ok(())
    }

    fn cadre_known(
        &self,
        k: &mut Known<'_>,
        file: &HashSet<String>,
        id: &str,
    ) -> StoreResult<bool> {
        Ok(file.contains(id) || k.is(id, Kind::Cadre)?)
    }

    /// A cadre column: in the files or on the server, else a problem of the row.
    fn cadre_ok(
        &mut self,
        k: &mut Known<'_>,
        file: &HashSet<String>,
        r: &Row,
        id: &str,
    ) -> StoreResult<bool> {
        if self.cadre_known(k, file, id)? {
            return Ok(true);
        }
        self.problems.push(unknown(
            &r.src,
            "干部编号",
            id,
            "unknown_cadre",
            "干部",
            "cadre",
        ));
        Ok(false)
    }

    fn teams(
        &mut self,
        k: &mut Known<'_>,
        rows: Vec<Row>,
        cadres: &HashSet<String>,
    ) -> StoreResult<()> {
        // Rows by village, in file order.
        let mut villages: BTreeMap<String, Vec<Row>> = BTreeMap::new();
        for r in rows {
            if let Some(v) = r.text("village_code") {
                villages.entry(v).or_default().push(r);
            }
        }
        for (village, rows) in villages {
            let first = rows[0].src.clone();
            if !self.village_ok(k, &rows[0], "行政村代码")? {
                continue;
            }
            let (id, stored) = k.stored_by("p_team", "village_code", &village)?;
            let mut data = stored.as_ref().map_or_else(
                || json!({"village_code": village, "members": {}}),
                |s| s.0.clone(),
            );
            let mut parts = BTreeMap::new();
            let mut leaders: Vec<(String, usize)> = Vec::new();
            let mut bad = false;
            for r in &rows {
                bad |= r.bad;
                let Some(cadre) = r.text("#cadre") else {
                    continue;
                };
                if !self.cadre_ok(k, cadres, r, &cadre)? {
                    bad = true;
                    continue;
                }
                let key = format!("members.{cadre}");
                if let Some(s) = parts.get(&key) {
                    let s: &Source = s;
                    let row = s.row;
                    self.duplicate(&r.src, "干部编号", &cadre, row);
                    bad = true;
                    continue;
                }
                parts.insert(key.clone(), r.src.clone());
                if r.text("#role").as_deref() == Some("leader") {
                    leaders.push((cadre.clone(), r.src.row));
                }
                let mut member = json!({});
                if let Some(from) = r.values.get("from") {
                    set_path(&mut member, "from", from.clone());
                }
                if let Some(to) = r.values.get("to") {
                    set_path(&mut member, "to", to.clone());
                }
                set_path(&mut data, &key, member);
            }
            match leaders.as_slice() {
                [(leader, _)] => set_path(&mut data, "leader_id", Value::from(leader.clone())),
                [] if stored.is_some() => {}
                [] => {
                    self.problems.push(problem(
                        &first,
                        Some("队内职务"),
                        None,
                        "no_leader",
                        format!("行政村{village}的工作队没有队长"),
                        format!("the team of village {village} has no leader"),
                    ));
                    bad = true;
                }
                [_, (second, row), ..] => {
                    let src = Source {
                        row: *row,
                        ..first.clone()
                    };
                    self.problems.push(problem(
                        &src,
                        Some("队内职务"),
                        Some(second.clone()),
                        "two_leaders",
                        format!("行政村{village}的工作队有两名队长，每队只有一名"),
                        format!("the team of village {village} has two leaders; a team has one"),
                    ));
                    bad = true;
                }
            }
            if let Some((old, _)) = &stored {
                for m in old
                    .get("members")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    if !parts.contains_key(&format!("members.{}", m.0)) {
                        self.plan
                            .missing
                            .push((Kind::Team, format!("{village}/{}", m.0)));
                    }
                }
            }
            if !bad {
                self.check_valid(Kind::Team, &data, &first, &parts);
            }
            self.push(Planned {
                kind: Kind::Team,
                id,
                key: village,
                main: first,
                parts,
                data,
                stored,
                action: Action::New,
            });
        }
        Ok(())
    }

    /// The planned household `id`: from the files, else the stored one (a member or income
    /// row of a household the files' 户 sheet does not list); `None` when unknown.
    fn household(
        &mut self,
        k: &mut Known<'_>,
        id: &str,
        src: &Source,
    ) -> StoreResult<Option<usize>> {
        if let Some(i) = self.households.get(id) {
            return Ok(Some(*i));
        }
        let Some((Kind::Household, data, env)) = k.doc(id)? else {
            return Ok(None);
        };
        let village = data
            .get("village_code")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !village.starts_with(&self.account.division) {
            return Ok(None);
        }
        let i = self.push(Planned {
            kind: Kind::Household,
            id: id.to_string(),
            key: id.to_string(),
            main: src.clone(),
            parts: BTreeMap::new(),
            data: data.clone(),
            stored: Some((data, env)),
            action: Action::New,
        });
        self.households.insert(id.to_string(), i);
        Ok(Some(i))
    }

    /// The numbers record of household `hid`: planned once, from the stored one if any.
    fn private(&mut self, k: &mut Known<'_>, hid: &str, src: &Source) -> StoreResult<usize> {
        if let Some(i) = self.privates.get(hid) {
            return Ok(*i);
        }
        let (id, stored) = k.stored_by("p_household_private", "household_id", hid)?;
        let data = stored.as_ref().map_or_else(
            || json!({"household_id": hid, "id_numbers": {}}),
            |s| s.0.clone(),
        );
        let i = self.push(Planned {
            kind: Kind::HouseholdPrivate,
            id,
            key: hid.to_string(),
            main: src.clone(),
            parts: BTreeMap::new(),
            data,
            stored,
            action: Action::New,
        });
        self.privates.insert(hid.to_string(), i);
        Ok(i)
    }

    fn households(
        &mut self,
        k: &mut Known<'_>,
        households: Vec<Row>,
        members: Vec<Row>,
        incomes: Vec<Row>,
    ) -> StoreResult<()> {
        let mut bad: HashSet<usize> = HashSet::new();
        let mut villages: BTreeSet<String> = BTreeSet::new();
        for r in households {
            let Some(id) = r.text("#id") else { continue };
            if let Some(&i) = self.households.get(&id) {
                let first = self.plan.records[i].main.row;
                self.duplicate(&r.src, "户编号", &id, first);
                continue;
            }
            if !self.village_ok(k, &r, "行政村代码")? {
                self.refused.insert(id);
                continue;
            }
            villages.insert(r.text("village_code").unwrap_or_default());
            let stored = match k.doc(&id)? {
                Some((Kind::Household, data, env)) => Some((data, env)),
                Some((kind, ..)) => {
                    self.problems.push(problem(
                        &r.src,
                        Some("户编号"),
                        Some(id.clone()),
                        "id_taken",
                        format!("编号“{id}”已被另一类记录（{}）使用", kind.label_zh()),
                        format!("id `{id}` is another kind's record ({})", kind.code()),
                    ));
                    self.refused.insert(id);
                    continue;
                }
                None => None,
            };
            if !r.kept.is_empty() {
                let numbers = if r.kept.contains_key("#bank_account") {
                    k.stored_by("p_household_private", "household_id", &id)?
                        .1
                        .map(|s| s.0)
                } else {
                    None
                };
                let ok = self.kept(&r, |key| match key {
                    "#bank_account" => numbers.as_ref()?.get("bank_account").cloned(),
                    key => stored
                        .as_ref()?
                        .0
                        .pointer(&format!("/{}", key.replace('.', "/")))
                        .cloned(),
                });
                if !ok {
                    bad.insert(self.plan.records.len());
                }
            }
            let mut data = stored.as_ref().map_or_else(|| json!({}), |s| s.0.clone());
            Self::overlay(&mut data, &r, "");
            // The relocation object exists when the household was relocated or says how.
            if data
                .get("relocation")
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty)
            {
                set_path(&mut data, "relocation", Value::Null);
            }
            if data.pointer("/relocation/is_relocated") == Some(&Value::Bool(false))
                && data.pointer("/relocation/mode").is_none()
            {
                set_path(&mut data, "relocation", Value::Null);
            } else if data.get("relocation").is_some()
                && data.pointer("/relocation/is_relocated").is_none()
            {
                set_path(&mut data, "relocation.is_relocated", Value::Bool(true));
            }
            // Home coordinates: only set by an import, never cleared.
            match (r.values.get("#lat"), r.values.get("#lon")) {
                (Some(Value::Number(lat)), Some(Value::Number(lon))) => {
                    set_path(&mut data, "home_geo.lat", Value::Number(lat.clone()));
                    set_path(&mut data, "home_geo.lon", Value::Number(lon.clone()));
                }
                (Some(Value::Number(_)), _) | (_, Some(Value::Number(_))) => {
                    self.problems.push(problem(
                        &r.src,
                        Some("住房经度"),
                        None,
                        "half_location",
                        "住房纬度和经度要一起填".into(),
                        "give both the home's latitude and longitude".into(),
                    ));
                    bad.insert(self.plan.records.len());
                }
                _ => {}
            }
            let i = self.push(Planned {
                kind: Kind::Household,
                id: id.clone(),
                key: id.clone(),
                main: r.src.clone(),
                parts: BTreeMap::new(),
                data,
                stored,
                action: Action::New,
            });
            if r.bad {
                bad.insert(i);
            }
            self.households.insert(id.clone(), i);
            if r.values.contains_key("#bank_account") {
                let p = self.private(k, &id, &r.src)?;
                let v = r
                    .values
                    .get("#bank_account")
                    .cloned()
                    .unwrap_or(Value::Null);
                set_path(&mut self.plan.records[p].data, "bank_account", v);
                self.plan.records[p]
                    .parts
                    .insert("bank_account".into(), r.src.clone());
            }
        }
        // Members, then incomes, onto their households.
        let mut id_numbers: HashMap<String, Source> = HashMap::new();
        for (rows, what) in [(members, "members"), (incomes, "incomes")] {
            for r in rows {
                let Some(hid) = r.text("#household") else {
                    continue;
                };
                if self.refused.contains(&hid) {
                    continue;
                }
                let Some(i) = self.household(k, &hid, &r.src)? else {
                    self.problems.push(unknown(
                        &r.src,
                        "户编号",
                        &hid,
                        "unknown_household",
                        "户",
                        "household",
                    ));
                    continue;
                };
                let sub = if what == "members" {
                    r.text("member_id")
                } else {
                    r.values
                        .get("year")
                        .and_then(Value::as_i64)
                        .map(|y| y.to_string())
                };
                let Some(sub) = sub else {
                    bad.insert(i);
                    continue;
                };
                let prefix = format!("{what}.{sub}");
                if let Some(first) = self.plan.records[i].parts.get(&prefix) {
                    let row = first.row;
                    let column = if what == "members" {
                        "成员编号"
                    } else {
                        "年度"
                    };
                    self.duplicate(&r.src, column, &format!("{hid}/{sub}"), row);
                    bad.insert(i);
                    continue;
                }
                if r.bad {
                    bad.insert(i);
                }
                if !r.kept.is_empty() {
                    let household = self.plan.records[i].stored.as_ref().map(|s| s.0.clone());
                    let numbers = if r.kept.contains_key("#id_no") {
                        k.stored_by("p_household_private", "household_id", &hid)?
                            .1
                            .map(|s| s.0)
                    } else {
                        None
                    };
                    let ok = self.kept(&r, |key| match key {
                        "#id_no" => numbers
                            .as_ref()?
                            .pointer(&format!("/id_numbers/{sub}"))
                            .cloned(),
                        key => household
                            .as_ref()?
                            .pointer(&format!("/{what}/{sub}/{}", key.replace('.', "/")))
                            .cloned(),
                    });
                    if !ok {
                        bad.insert(i);
                    }
                }
                let p = &mut self.plan.records[i];
                p.parts.insert(prefix.clone(), r.src.clone());
                Self::overlay(&mut p.data, &r, &prefix);
                if what == "members"
                    && let Some(n) = r.text("#id_no")
                {
                    if let Some(first) = id_numbers.get(&n) {
                        let first = first.row;
                        self.problems.push(problem(
                            &r.src,
                            Some("证件号码"),
                            Some(n.clone()),
                            "id_number_duplicate",
                            format!("证件号码在文件中出现了两次（第一次在第{first}行），同一证件号全市只能登记一次"),
                            format!("the ID number is given twice in the files (first in row {first}); an ID number is registered once city-wide"),
                        ));
                        bad.insert(i);
                        continue;
                    }
                    id_numbers.insert(n.clone(), r.src.clone());
                    let pi = self.private(k, &hid, &r.src)?;
                    set_path(
                        &mut self.plan.records[pi].data,
                        &format!("id_numbers.{sub}"),
                        Value::from(n.clone()),
                    );
                    self.plan.records[pi]
                        .parts
                        .insert(format!("id_numbers.{sub}"), r.src.clone());
                    // R10 city-wide: no other household's numbers record holds it.
                    let own = self.plan.records[pi]
                        .stored
                        .as_ref()
                        .map(|_| self.plan.records[pi].id.clone());
                    let holders = k.find("p_member_id", "id_no", &n)?;
                    if holders.iter().any(|h| Some(h) != own.as_ref()) {
                        let masked = cunji_core::domain::privacy::mask_number(&n);
                        self.problems.push(problem(
                            &r.src,
                            Some("证件号码"),
                            Some(n.clone()),
                            "id_number_taken",
                            format!("证件号码{masked}已登记在另一户，同一证件号全市只能登记一次"),
                            format!("ID number {masked} is already registered to another household; an ID number is registered once city-wide"),
                        ));
                        bad.insert(i);
                    }
                }
            }
        }
        // R10's one 户主, then each household's validation; and what the files no longer list.
        let indexes: Vec<usize> = self.households.values().copied().collect();
        for i in indexes {
            let p = &self.plan.records[i];
            if bad.contains(&i) {
                continue;
            }
            let heads: Vec<String> = p
                .data
                .get("members")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(_, m)| {
                    m.get("relation").and_then(Value::as_str) == Some("head")
                        && m.get("active").and_then(Value::as_bool) != Some(false)
                })
                .map(|(k, _)| k.clone())
                .collect();
            let head = p
                .data
                .get("head_member_id")
                .and_then(Value::as_str)
                .unwrap_or("");
            let head_src = p.parts.get(&format!("members.{head}")).cloned();
            let r10 = if heads.len() > 1 {
                let second = heads
                    .iter()
                    .find(|h| h.as_str() != head)
                    .unwrap_or(&heads[1]);
                let src = p
                    .parts
                    .get(&format!("members.{second}"))
                    .unwrap_or(&p.main)
                    .clone();
                Some(problem(
                    &src,
                    Some("与户主关系"),
                    Some("户主".into()),
                    "two_heads",
                    format!(
                        "户{}有两名户主（{}），每户只有一名户主",
                        p.key,
                        heads.join("、")
                    ),
                    format!(
                        "household {} has two heads ({}); a household has one",
                        p.key,
                        heads.join(", ")
                    ),
                ))
            } else if !p
                .data
                .get("members")
                .and_then(Value::as_object)
                .is_some_and(|m| m.contains_key(head))
            {
                Some(problem(
                    &p.main,
                    Some("户主成员编号"),
                    Some(head.to_string()),
                    "unknown_member",
                    format!("户主成员编号“{head}”不是本户的成员"),
                    format!("head member `{head}` is not a member of the household"),
                ))
            } else if heads.first().map(String::as_str) != Some(head) {
                Some(problem(
                    head_src.as_ref().unwrap_or(&p.main),
                    Some("与户主关系"),
                    None,
                    "head_not_head",
                    format!("户主成员编号所指的成员（{head}）与户主关系不是“户主”或已不在户"),
                    format!("the head member ({head}) is not recorded as 户主, or has left"),
                ))
            } else {
                None
            };
            if let Some(pr) = r10
                && p.data.get("status").and_then(Value::as_str) != Some("closed")
            {
                self.problems.push(pr);
                continue;
            }
            let (kind, data, main, parts) =
                (p.kind, p.data.clone(), p.main.clone(), p.parts.clone());
            self.check_valid(kind, &data, &main, &parts);
        }
        for (hid, &pi) in &self.privates.clone() {
            let p = &self.plan.records[pi];
            let hi = self.households[hid];
            if bad.contains(&hi) {
                continue;
            }
            let (data, main, parts) = (p.data.clone(), p.main.clone(), p.parts.clone());
            let mut parts = parts;
            // A number's member is its row in the members sheet.
            for (prefix, src) in self.plan.records[hi].parts.clone() {
                if let Some(m) = prefix.strip_prefix("members.") {
                    parts.entry(format!("members.{m}")).or_insert(src);
                }
            }
            let before = self.problems.len();
            self.check_valid(Kind::HouseholdPrivate, &data, &main, &parts);
            if self.problems.len() == before {
                // Each number's birth date is its member's.
                if let (Ok(pr), Ok(h)) = (
                    serde_json::from_value::<HouseholdPrivate>(data),
                    serde_json::from_value::<Household>(self.plan.records[hi].data.clone()),
                ) && let Err(e) = pr.check_members(&h)
                {
                    let probe_parts = parts.clone();
                    let probe = Planned {
                        kind: Kind::HouseholdPrivate,
                        id: String::new(),
                        key: String::new(),
                        main,
                        parts: probe_parts,
                        data: Value::Null,
                        stored: None,
                        action: Action::New,
                    };
                    let (src, _) = probe.source_of(&e.field);
                    let src = src.clone();
                    self.problems.push(problem(
                        &src,
                        Some("出生日期"),
                        None,
                        "id_number_mismatch",
                        "出生日期与证件号码中的出生日期不一致".into(),
                        format!("{}: {}", e.field, e.message),
                    ));
                }
            }
        }
        // Stored households of the files' villages, and stored members and incomes of the
        // files' households, that the files no longer list.
        for v in villages {
            for id in k.find("p_household", "village_code", &v)? {
                if !self.households.contains_key(&id) {
                    self.plan.missing.push((Kind::Household, id));
                }
            }
        }
        for &i in self.households.values() {
            let p = &self.plan.records[i];
            if let Some((old, _)) = &p.stored {
                for what in ["members", "incomes"] {
                    for key in old
                        .get(what)
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                        .map(|m| m.0)
                    {
                        if !p.parts.contains_key(&format!("{what}.{key}"))
                            && p.main.sheet == SheetKind::Households
                        {
                            self.plan
                                .missing
                                .push((Kind::Household, format!("{}/{what}.{key}", p.key)));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// A household column: in the files or on the server, inside the division.
    fn household_ref(&mut self, k: &mut Known<'_>, r: &Row) -> StoreResult<Option<String>> {
        let Some(hid) = r.text("household_id") else {
            return Ok(None);
        };
        if self.households.contains_key(&hid) {
            return Ok(Some(hid));
        }
        if self.refused.contains(&hid) {
            return Ok(None);
        }
        match k.doc(&hid)? {
            Some((Kind::Household, data, _))
                if data
                    .get("village_code")
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.starts_with(&self.account.division)) =>
            {
                Ok(Some(hid))
            }
            _ => {
                self.problems.push(unknown(
                    &r.src,
                    "户编号",
                    &hid,
                    "unknown_household",
                    "户",
                    "household",
                ));
                Ok(None)
            }
        }
    }

    fn assignments(
        &mut self,
        k: &mut Known<'_>,
        rows: Vec<Row>,
        cadres: &HashSet<String>,
    ) -> StoreResult<()> {
        let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
        // Per household: (from, to, primary, row source or None for a stored one).
        let mut periods: BTreeMap<String, Vec<Period>> = BTreeMap::new();
        let mut stored_of: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
        let mut listed: HashSet<String> = HashSet::new();
        for r in rows {
            let Some(hid) = self.household_ref(k, &r)? else {
                continue;
            };
            let Some(cadre) = r.text("cadre_id") else {
                continue;
            };
            if !self.cadre_ok(k, cadres, &r, &cadre)? {
                continue;
            }
            let Some(from) = r.text("from") else { continue };
            let key = (hid.clone(), cadre.clone(), from.clone());
            if let Some(first) = seen.get(&key) {
                self.duplicate(&r.src, "干部编号", &format!("{hid}/{cadre}/{from}"), *first);
                continue;
            }
            seen.insert(key, r.src.row);
            if !stored_of.contains_key(&hid) {
                let mut list = Vec::new();
                for id in k.find("p_assignment", "household_id", &hid)? {
                    if let Some((Kind::Assignment, data, _)) = k.doc(&id)? {
                        list.push((id, data));
                    }
                }
                stored_of.insert(hid.clone(), list);
            }
            let found = stored_of[&hid].iter().find(|(_, d)| {
                d.get("cadre_id").and_then(Value::as_str) == Some(cadre.as_str())
                    && d.get("from").and_then(Value::as_str) == Some(from.as_str())
            });
            let (id, stored) = match found {
                Some((id, _)) => (id.clone(), k.doc(id)?.map(|(_, d, e)| (d, e))),
                None => (uuid::Uuid::now_v7().to_string(), None),
            };
            listed.insert(id.clone());
            let mut data = stored.as_ref().map_or_else(|| json!({}), |s| s.0.clone());
            Self::overlay(&mut data, &r, "");
            if !r.bad {
                self.check_valid(Kind::Assignment, &data, &r.src, &BTreeMap::new());
                let primary = data.get("is_primary").and_then(Value::as_bool) == Some(true);
                let to = data
                    .get("to")
                    .and_then(Value::as_str)
                    .unwrap_or("9999-12-31")
                    .to_string();
                periods.entry(hid.clone()).or_default().push((
                    from.clone(),
                    to,
                    primary,
                    Some(r.src.clone()),
                ));
            }
            self.push(Planned {
                kind: Kind::Assignment,
                id,
                key: format!("{hid}/{cadre}/{from}"),
                main: r.src,
                parts: BTreeMap::new(),
                data,
                stored,
                action: Action::New,
            });
        }
        // R10: one primary pairing cadre per household and period, over the files' rows and
        // the stored assignments they do not replace.
        for (hid, list) in &stored_of {
            for (id, d) in list {
                if listed.contains(id) {
                    continue;
                }
                let primary = d.get("is_primary").and_then(Value::as_bool) == Some(true);
                let from = d
                    .get("from")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let to = d
                    .get("to")
                    .and_then(Value::as_str)
                    .unwrap_or("9999-12-31")
                    .to_string();
                periods
                    .entry(hid.clone())
                    .or_default()
                    .push((from, to, primary, None));
                let cadre = d.get("cadre_id").and_then(Value::as_str).unwrap_or("");
                self.plan.missing.push((
                    Kind::Assignment,
                    format!(
                        "{hid}/{cadre}/{}",
                        d.get("from").and_then(Value::as_str).unwrap_or("")
                    ),
                ));
            }
        }
        for (hid, list) in periods {
            let primaries: Vec<&Period> = list.iter().filter(|p| p.2).collect();
            for (i, a) in primaries.iter().enumerate() {
                let Some(src) = &a.3 else { continue };
                let clash = primaries
                    .iter()
                    .enumerate()
                    .any(|(j, b)| j != i && a.0 <= b.1 && b.0 <= a.1 && (b.3.is_none() || j < i));
                if clash {
                    self.problems.push(problem(
                        src,
                        Some("是否主要帮扶责任人"),
                        Some("是".into()),
                        "primary_assignee_taken",
                        format!("户{hid}在这段时间已有主要帮扶责任人：先结束原来的结对，或填为非主要帮扶人"),
                        format!("household {hid} already has a primary pairing cadre for this period: end that assignment first, or make this one not primary"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn entitlements(
        &mut self,
        k: &mut Known<'_>,
        rows: Vec<Row>,
        policies: &HashSet<String>,
    ) -> StoreResult<()> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut stored_of: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
        let mut listed: HashSet<String> = HashSet::new();
        let key_of = |d: &Value, hid: &str| {
            let s = |f: &str| d.get(f).and_then(Value::as_str).unwrap_or("").to_string();
            let year = d.get("year").and_then(Value::as_i64).unwrap_or(0);
            format!(
                "{hid}/{}/{}/{year}/{}",
                s("member_id"),
                s("policy_code"),
                s("due_date")
            )
        };
        for r in rows {
            let Some(hid) = self.household_ref(k, &r)? else {
                continue;
            };
            let Some(code) = r.text("policy_code") else {
                continue;
            };
            if !policies.contains(&code) && k.find("p_policy_item", "code", &code)?.is_empty() {
                self.problems.push(unknown(
                    &r.src,
                    "政策代码",
                    &code,
                    "unknown_policy",
                    "政策代码",
                    "policy item",
                ));
                continue;
            }
            if let Some(m) = r.text("member_id") {
                let known = self
                    .households
                    .get(&hid)
                    .map(|&i| self.plan.records[i].data.clone())
                    .or_else(|| k.docs.get(&hid).cloned().flatten().map(|d| d.1))
                    .is_some_and(|d| d.pointer(&format!("/members/{m}")).is_some());
                if !known {
                    self.problems.push(problem(
                        &r.src,
                        Some("成员编号"),
                        Some(m.clone()),
                        "unknown_member",
                        format!("成员编号“{m}”不是户{hid}的成员"),
                        format!("member `{m}` is not a member of household {hid}"),
                    ));
                    continue;
                }
            }
            let mut data = json!({});
            Self::overlay(&mut data, &r, "");
            let key = key_of(&data, &hid);
            if let Some(first) = seen.get(&key) {
                self.duplicate(&r.src, "政策代码", &key, *first);
                continue;
            }
            seen.insert(key.clone(), r.src.row);
            if !stored_of.contains_key(&hid) {
                let mut list = Vec::new();
                for id in k.find("p_entitlement", "household_id", &hid)? {
                    if let Some((Kind::Entitlement, d, _)) = k.doc(&id)? {
                        list.push((id, d));
                    }
                }
                stored_of.insert(hid.clone(), list);
            }
            let found = stored_of[&hid]
                .iter()
                .find(|(_, d)| key_of(d, &hid) == key)
                .map(|(id, _)| id.clone());
            let (id, stored) = match found {
                Some(id) => {
                    let s = k.doc(&id)?.map(|(_, d, e)| (d, e));
                    (id, s)
                }
                None => (uuid::Uuid::now_v7().to_string(), None),
            };
            listed.insert(id.clone());
            let mut data = stored.as_ref().map_or_else(|| json!({}), |s| s.0.clone());
            Self::overlay(&mut data, &r, "");
            if !r.bad {
                self.check_valid(Kind::Entitlement, &data, &r.src, &BTreeMap::new());
            }
            self.push(Planned {
                kind: Kind::Entitlement,
                id,
                key,
                main: r.src,
                parts: BTreeMap::new(),
                data,
                stored,
                action: Action::New,
            });
        }
        for (hid, list) in &stored_of {
            for (id, d) in list {
                if !listed.contains(id) {
                    self.plan.missing.push((Kind::Entitlement, key_of(d, hid)));
                }
            }
        }
        Ok(())
    }
}

/// Fills the report's per-kind counts and first rows from the plan (a record is refused when
/// a problem names one of its rows).
pub fn summarise(plan: &Plan, report: &mut Report) {
    let refused_rows: HashSet<(String, String, usize)> = report
        .problems
        .iter()
        .map(|p| (p.file.clone(), p.sheet.clone(), p.row))
        .collect();
    let mut kinds: BTreeMap<usize, KindReport> = BTreeMap::new();
    let slot = |kind: Kind| {
        WRITE_ORDER
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(WRITE_ORDER.len())
    };
    let entry = |kinds: &mut BTreeMap<usize, KindReport>, kind: Kind| -> usize {
        let i = slot(kind);
        kinds.entry(i).or_insert_with(|| KindReport {
            kind: kind.code().to_string(),
            label: kind.label_zh().to_string(),
            ..KindReport::default()
        });
        i
    };
    for p in &plan.records {
        let i = entry(&mut kinds, p.kind);
        let k = kinds.get_mut(&i).expect("just inserted");
        let row = |fields: Vec<String>| RowRef {
            key: p.key.clone(),
            sheet: p.main.sheet_name.clone(),
            row: p.main.row,
            fields,
        };
        let refused = p
            .sources()
            .any(|s| refused_rows.contains(&(s.file.clone(), s.sheet_name.clone(), s.row)));
        if refused {
            k.refused += 1;
            if k.first_refused.len() < FIRST_ROWS {
                k.first_refused.push(row(Vec::new()));
            }
            continue;
        }
        match &p.action {
            Action::New => {
                k.new += 1;
                if k.first_new.len() < FIRST_ROWS {
                    k.first_new.push(row(Vec::new()));
                }
            }
            Action::Changed(fields) => {
                k.changed += 1;
                if k.first_changed.len() < FIRST_ROWS {
                    k.first_changed.push(row(fields.clone()));
                }
            }
            Action::Unchanged => k.unchanged += 1,
        }
    }
    for (kind, row) in &plan.refused_rows {
        let i = entry(&mut kinds, *kind);
        let k = kinds.get_mut(&i).expect("just inserted");
        k.refused += 1;
        if k.first_refused.len() < FIRST_ROWS {
            k.first_refused.push(row.clone());
        }
    }
    for (kind, key) in &plan.missing {
        let i = entry(&mut kinds, *kind);
        let k = kinds.get_mut(&i).expect("just inserted");
        k.missing += 1;
        if k.first_missing.len() < FIRST_ROWS {
            k.first_missing.push(key.clone());
        }
    }
    report.kinds = kinds.into_values().collect();
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_excel_dates_serials_and_text() {
        let d = Date::from_ymd_opt(2015, 8, 25).unwrap();
        for cell in [
            Cell::Date(d),
            Cell::Number(42241.0),
            Cell::Number(20150825.0),
            Cell::Text("2015-08-25".into()),
            Cell::Text("2015/8/25".into()),
            Cell::Text("2015.08.25".into()),
            Cell::Text("2015年8月25日".into()),
            Cell::Text("20150825".into()),
            Cell::Text("2015-08-25 00:00:00".into()),
        ] {
            assert_eq!(parse_date(&cell), Some(d), "{cell:?}");
        }
        assert_eq!(parse_date(&Cell::Text("2015-02-30".into())), None);
        assert_eq!(parse_date(&Cell::Text("去年".into())), None);
    }

    #[test]
    fn code_lists_take_the_label_or_the_code() {
        let list = (|| {
            cunji_core::domain::codes::HouseholdStatus::ALL
                .iter()
                .map(|v| (v.code(), v.label_zh()))
                .collect()
        }) as fn() -> Vec<(&'static str, &'static str)>;
        let col = Col {
            header: "脱贫状态",
            key: "status",
            required: true,
            ty: Ty::Code(list),
            note: "",
        };
        for s in ["已脱贫(享受政策)", "已脱贫（享受政策）", "exited_supported"] {
            assert_eq!(
                parse_cell(&col, &Cell::Text(s.into())).unwrap(),
                json!("exited_supported")
            );
        }
        let (code, zh, _) = parse_cell(&col, &Cell::Text("脱贫了".into())).unwrap_err();
        assert_eq!(code, "unknown_code");
        assert!(zh.contains("未脱贫"), "{zh}");
        assert_eq!(parse_cell(&col, &Cell::Empty).unwrap_err().0, "required");
    }
}

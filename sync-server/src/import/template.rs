//! The .xlsx template of each kind of import: one sheet per register with its headers
//! (required ones marked `*`), a `填表说明` sheet explaining every column, and a `代码表`
//! sheet with the code lists, which the code columns take as drop-down validation. Written
//! from [`super::sheets`], the declaration the importer reads with.

use rust_xlsxwriter::{ColNum, DataValidation, Format, Formula, Workbook, XlsxError};

use super::sheets::{SheetKind, Ty};

/// What a template is for: a set of sheets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    /// 户, 家庭成员, 年度收支.
    Households,
    /// 派出单位, 干部.
    Cadres,
    Teams,
    Assignments,
    PolicyItems,
    Entitlements,
    /// Every sheet: a county's whole register in one workbook.
    County,
}

impl TemplateKind {
    pub const CODES: [&'static str; 7] = [
        "households",
        "cadres",
        "teams",
        "assignments",
        "policy_items",
        "entitlements",
        "county",
    ];

    pub fn from_code(code: &str) -> Option<TemplateKind> {
        Some(match code {
            "households" => TemplateKind::Households,
            "cadres" => TemplateKind::Cadres,
            "teams" => TemplateKind::Teams,
            "assignments" => TemplateKind::Assignments,
            "policy_items" => TemplateKind::PolicyItems,
            "entitlements" => TemplateKind::Entitlements,
            "county" => TemplateKind::County,
            _ => return None,
        })
    }

    pub fn sheets(self) -> &'static [SheetKind] {
        use SheetKind::*;
        match self {
            TemplateKind::Households => &[Households, Members, Incomes],
            TemplateKind::Cadres => &[Units, Cadres],
            TemplateKind::Teams => &[Teams],
            TemplateKind::Assignments => &[Assignments],
            TemplateKind::PolicyItems => &[PolicyItems],
            TemplateKind::Entitlements => &[Entitlements],
            TemplateKind::County => SheetKind::ALL,
        }
    }

    /// The file name a download gets (`导入模板-户.xlsx`).
    pub fn file_name(self) -> String {
        let names: Vec<&str> = self.sheets().iter().map(|s| s.name_zh()).collect();
        match self {
            TemplateKind::County => "导入模板-全县.xlsx".into(),
            _ => format!("导入模板-{}.xlsx", names.join("、")),
        }
    }
}

/// Rows of a sheet that get the drop-down validation.
const VALIDATED_ROWS: u32 = 100_000;

fn type_name(ty: Ty) -> &'static str {
    match ty {
        Ty::Text => "文本",
        Ty::Int => "整数",
        Ty::Decimal => "数字",
        Ty::Money => "金额（元）",
        Ty::Date => "日期（2015-08-25）",
        Ty::Bool => "是/否",
        Ty::Code(_) => "代码表（下拉选择）",
        Ty::Codes(_) => "代码表，多个用顿号分隔",
        Ty::IdNo => "证件号码（文本）",
    }
}

/// The template workbook's bytes.
pub fn template(kind: TemplateKind) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let required = Format::new().set_bold().set_font_color("#C00000");
    let text = Format::new().set_num_format("@");
    // The code lists, one column each in 代码表, by their first column's header.
    let mut lists: Vec<(String, Vec<(&'static str, &'static str)>)> = Vec::new();
    for sheet in kind.sheets() {
        for c in sheet.columns() {
            if let Ty::Code(list) | Ty::Codes(list) = c.ty
                && !lists.iter().any(|(h, _)| h == c.header)
            {
                lists.push((c.header.to_string(), list()));
            }
        }
    }
    for sheet in kind.sheets() {
        let ws = book.add_worksheet();
        ws.set_name(sheet.name_zh())?;
        for (i, c) in sheet.columns().iter().enumerate() {
            let col = i as ColNum;
            let header = if c.required {
                format!("{}*", c.header)
            } else {
                c.header.to_string()
            };
            ws.write_string_with_format(
                0,
                col,
                header,
                if c.required { &required } else { &bold },
            )?;
            ws.set_column_width(col, (c.header.chars().count() as f64 * 2.2).max(10.0))?;
            match c.ty {
                // Numbers that must stay text (ID and account numbers, codes).
                Ty::Text | Ty::IdNo => {
                    ws.set_column_format(col, &text)?;
                }
                Ty::Code(_) => {
                    if let Some(j) = lists.iter().position(|(h, _)| h == c.header) {
                        let n = lists[j].1.len() + 1;
                        let letter = column_letter(j);
                        let v = DataValidation::new()
                            .allow_list_formula(Formula::new(format!(
                                "=代码表!${letter}$2:${letter}${n}"
                            )))
                            .set_error_message("请从下拉列表中选择")?;
                        ws.add_data_validation(1, col, VALIDATED_ROWS, col, &v)?;
                    }
                }
                Ty::Bool => {
                    let v = DataValidation::new()
                        .allow_list_strings(&["是", "否"])?
                        .set_error_message("请填“是”或“否”")?;
                    ws.add_data_validation(1, col, VALIDATED_ROWS, col, &v)?;
                }
                _ => {}
            }
        }
        ws.set_freeze_panes(1, 0)?;
    }
    let about = book.add_worksheet();
    about.set_name("填表说明")?;
    for (i, h) in ["工作表", "列名", "必填", "类型", "可填的值", "说明"]
        .iter()
        .enumerate()
    {
        about.write_string_with_format(0, i as ColNum, *h, &bold)?;
    }
    let mut r = 1;
    for sheet in kind.sheets() {
        for c in sheet.columns() {
            let values = match c.ty {
                Ty::Code(list) | Ty::Codes(list) => list()
                    .iter()
                    .map(|(_, l)| *l)
                    .collect::<Vec<_>>()
                    .join("、"),
                Ty::Bool => "是、否".into(),
                _ => String::new(),
            };
            about.write_string(r, 0, sheet.name_zh())?;
            about.write_string(r, 1, c.header)?;
            about.write_string(r, 2, if c.required { "是" } else { "" })?;
            about.write_string(r, 3, type_name(c.ty))?;
            about.write_string(r, 4, values)?;
            about.write_string(r, 5, c.note)?;
            r += 1;
        }
    }
    about.write_string(
        r + 1,
        0,
        "第一行是列名（带 * 的必填）；代码可填中文或代码；日期可填 Excel 日期或 2015-08-25；同一文件再次导入只更新改动的内容，文件中没有的记录不会删除。",
    )?;
    about.set_column_width(4, 60)?;
    about.set_column_width(5, 60)?;
    let codes = book.add_worksheet();
    codes.set_name("代码表")?;
    for (j, (header, list)) in lists.iter().enumerate() {
        codes.write_string_with_format(0, j as ColNum, header, &bold)?;
        for (i, (_, label)) in list.iter().enumerate() {
            codes.write_string(i as u32 + 1, j as ColNum, *label)?;
        }
    }
    book.save_to_buffer()
}

/// A workbook of filled sheets (headers, then rows of text), as the importer reads it: the
/// layout a county's own file or an export back has.
pub fn workbook(sheets: &[(SheetKind, Vec<Vec<String>>)]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    for (sheet, rows) in sheets {
        let ws = book.add_worksheet_with_constant_memory()?;
        ws.set_name(sheet.name_zh())?;
        for (i, c) in sheet.columns().iter().enumerate() {
            ws.write_string(0, i as ColNum, c.header)?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (i, cell) in row.iter().enumerate() {
                if !cell.is_empty() {
                    ws.write_string(r as u32 + 1, i as ColNum, cell)?;
                }
            }
        }
    }
    book.save_to_buffer()
}

/// `A`, `B`, ..., `Z`, `AA`, ... for column `i` (0-based).
fn column_letter(mut i: usize) -> String {
    let mut s = String::new();
    loop {
        s.insert(0, (b'A' + (i % 26) as u8) as char);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::import::read::{InputFile, read};

    #[test]
    fn a_template_reads_back_with_its_headers_and_code_lists() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        let bytes = template(TemplateKind::Households).unwrap();
        let tables = read(&InputFile {
            name: "t.xlsx".into(),
            bytes,
        })
        .unwrap();
        let names: Vec<&str> = tables.iter().map(|t| t.sheet.as_str()).collect();
        assert_eq!(names, ["户", "家庭成员", "年度收支", "填表说明", "代码表"]);
        assert_eq!(tables[0].headers[0], "户编号*");
        assert_eq!(
            SheetKind::from_headers(&tables[1].headers),
            Some(SheetKind::Members)
        );
        let codes = &tables[4];
        let col = codes
            .headers
            .iter()
            .position(|h| h == "贫困户属性")
            .unwrap();
        let labels: Vec<String> = codes
            .rows
            .iter()
            .map(|(_, c)| c[col].shown())
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(labels, ["一般贫困户", "低保贫困户", "特困供养贫困户"]);
    }
}

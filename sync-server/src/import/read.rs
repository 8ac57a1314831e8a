//! Reading the files into tables of cells: `.xlsx` (and `.xls`, `.ods`) with calamine, `.csv`
//! as UTF-8 (with or without a BOM) or GB18030.
//!
//! A CSV that is valid UTF-8 is read as UTF-8; anything else as GB18030, the encoding Excel
//! in China saves "CSV" in (GB18030 is a superset of GBK and GB2312). Not here: guessing other
//! encodings (Big5, UTF-16): such a file reads as garbled headers, reported as missing columns.

use std::io::Cursor;

use calamine::{Data, Reader};

use super::Problem;

/// A file as uploaded or read from disk.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Its name (the reason of the edits it makes names it).
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A cell as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// An Excel date (days since 1899-12-30, or the 1904 system, already converted).
    Date(chrono::NaiveDate),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The value as a person would read it in the spreadsheet.
    pub fn shown(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(n) => number_text(*n),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::Date(d) => d.to_string(),
        }
    }
}

/// A number as text: integers without a decimal point (codes and numbers Excel keeps as
/// numbers), others as Rust writes them.
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e16 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// One sheet: its header row and data rows (with their spreadsheet row numbers).
#[derive(Debug, Clone)]
pub struct Table {
    pub file: String,
    pub sheet: String,
    pub headers: Vec<String>,
    /// (row number, cells); rows whose cells are all empty are left out.
    pub rows: Vec<(usize, Vec<Cell>)>,
}

fn file_problem(file: &InputFile, code: &str, zh: String, en: String) -> Box<Problem> {
    Box::new(Problem {
        file: file.name.clone(),
        sheet: String::new(),
        row: 0,
        column: None,
        value: None,
        code: code.into(),
        message: zh,
        message_en: en,
    })
}

/// Reads a file's sheets by its extension.
pub fn read(file: &InputFile) -> Result<Vec<Table>, Box<Problem>> {
    let lower = file.name.to_lowercase();
    if lower.ends_with(".csv") || lower.ends_with(".txt") {
        read_csv(file).map(|t| vec![t])
    } else if lower.ends_with(".xlsx")
        || lower.ends_with(".xlsm")
        || lower.ends_with(".xls")
        || lower.ends_with(".ods")
    {
        read_workbook(file)
    } else {
        Err(file_problem(
            file,
            "unknown_file_type",
            format!("{}：只能导入 .xlsx 或 .csv 文件", file.name),
            format!("{}: only .xlsx and .csv files can be imported", file.name),
        ))
    }
}

/// The text of a CSV file: UTF-8 (a BOM dropped) when it is valid UTF-8, else GB18030.
pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

fn read_csv(file: &InputFile) -> Result<Table, Box<Problem>> {
    let text = decode_text(&file.bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut headers = None;
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| {
            file_problem(
                file,
                "bad_csv",
                format!("{}：第{}行不是有效的 CSV（{e}）", file.name, i + 1),
                format!("{}: line {} is not valid CSV ({e})", file.name, i + 1),
            )
        })?;
        let cells: Vec<String> = rec.iter().map(str::to_string).collect();
        if headers.is_none() {
            headers = Some(cells);
            continue;
        }
        let cells: Vec<Cell> = cells
            .into_iter()
            .map(|s| {
                if s.trim().is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(s)
                }
            })
            .collect();
        if cells.iter().any(|c| !c.is_empty()) {
            // The record's first line: a quoted field spanning lines keeps its first line's
            // number, which is what the spreadsheet shows.
            let row = rec.position().map_or(i + 1, |p| p.line() as usize);
            rows.push((row, cells));
        }
    }
    let stem = file
        .name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(&file.name)
        .trim_end_matches(".csv")
        .trim_end_matches(".CSV")
        .to_string();
    Ok(Table {
        file: file.name.clone(),
        sheet: stem,
        headers: headers.unwrap_or_default(),
        rows,
    })
}

fn read_workbook(file: &InputFile) -> Result<Vec<Table>, Box<Problem>> {
    let mut book =
        calamine::open_workbook_auto_from_rs(Cursor::new(file.bytes.clone())).map_err(|e| {
            file_problem(
                file,
                "bad_workbook",
                format!("{}：无法读取这个 Excel 文件（{e}）", file.name),
                format!("{}: the workbook cannot be read ({e})", file.name),
            )
        })?;
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|e| {
            file_problem(
                file,
                "bad_workbook",
                format!("{}：无法读取工作表“{name}”（{e}）", file.name),
                format!("{}: sheet `{name}` cannot be read ({e})", file.name),
            )
        })?;
        let Some((top, left)) = range.start() else {
            continue;
        };
        let mut headers = None;
        let mut rows = Vec::new();
        for (i, r) in range.rows().enumerate() {
            // Cells before the range's first column are empty: keep columns where Excel has them.
            let mut cells = vec![Cell::Empty; left as usize];
            cells.extend(r.iter().map(cell));
            let row = top as usize + i + 1;
            if headers.is_none() {
                if cells.iter().all(Cell::is_empty) {
                    continue;
                }
                headers = Some(cells.iter().map(Cell::shown).collect());
                continue;
            }
            if cells.iter().any(|c| !c.is_empty()) {
                rows.push((row, cells));
            }
        }
        out.push(Table {
            file: file.name.clone(),
            sheet: name,
            headers: headers.unwrap_or_default(),
            rows,
        });
    }
    Ok(out)
}

fn cell(d: &Data) -> Cell {
    match d {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            chrono::NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d))
                .map_or(Cell::Number(dt.as_f64()), Cell::Date)
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn csv_reads_the_same_in_utf8_with_a_bom_and_in_gb18030() {
        let text = "户编号,姓名\nH001,张建国\n";
        let (gb, _, bad) = encoding_rs::GB18030.encode(text);
        assert!(!bad);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_ne!(gb.as_ref(), text.as_bytes(), "GB18030 differs from UTF-8");
        for bytes in [text.as_bytes().to_vec(), bom, gb.into_owned()] {
            let t = read(&InputFile {
                name: "家庭成员.csv".into(),
                bytes,
            })
            .unwrap();
            assert_eq!(t[0].headers, ["户编号", "姓名"]);
            assert_eq!(
                t[0].rows,
                vec![(
                    2,
                    vec![Cell::Text("H001".into()), Cell::Text("张建国".into())]
                )]
            );
            assert_eq!(t[0].sheet, "家庭成员");
        }
    }
}

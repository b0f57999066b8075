//! The shape every report takes — titled sections of typed columns, rows and a totals row — and its three
//! renderings: JSON for machines, CSV and XLSX (with Indonesian headings, numbers as numbers) for people.

use crate::domain::money::Amount;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Money,
    Date,
    Percent,
}

#[derive(Debug, Clone)]
pub struct Column {
    /// The JSON field name.
    pub key: &'static str,
    /// The heading people read (Bahasa Indonesia, Permendagri layouts).
    pub heading: &'static str,
    pub kind: Kind,
}

pub const fn col(key: &'static str, heading: &'static str, kind: Kind) -> Column {
    Column { key, heading, kind }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    /// Sen.
    Money(i64),
    Date(NaiveDate),
    /// A percentage with two decimals; None where the base is zero.
    Percent(Option<Decimal>),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    pub fn opt(s: Option<impl Into<String>>) -> Cell {
        s.map_or(Cell::Empty, |s| Cell::Text(s.into()))
    }

    fn json(&self) -> Value {
        match self {
            Cell::Empty => Value::Null,
            Cell::Text(s) => json!(s),
            Cell::Int(i) => json!(i),
            Cell::Money(m) => json!(Amount(*m).to_string()),
            Cell::Date(d) => json!(d.format("%Y-%m-%d").to_string()),
            Cell::Percent(p) => p.map_or(Value::Null, |p| json!(p.to_string())),
        }
    }

    fn csv(&self, dialect: CsvDialect) -> String {
        // Amounts and percentages without grouping, so a spreadsheet reads them as numbers; the Excel dialect
        // writes their decimal comma.
        let number = |text: String| match dialect {
            CsvDialect::Machine => text,
            CsvDialect::Excel => text.replace('.', ","),
        };
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => csv_text(s),
            Cell::Int(i) => i.to_string(),
            Cell::Money(m) => number(Amount(*m).to_string()),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Percent(p) => p.map_or(String::new(), |p| number(p.to_string())),
        }
    }
}

/// `part / whole × 100`, two decimals, or None when `whole` is zero.
pub fn percent(part: i64, whole: i64) -> Option<Decimal> {
    if whole == 0 {
        return None;
    }
    let mut p = (Decimal::from(part) * Decimal::from(100) / Decimal::from(whole)).round_dp(2);
    p.rescale(2);
    Some(p)
}

#[derive(Debug, Clone)]
pub struct Section {
    pub key: &'static str,
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    pub totals: Option<Vec<Cell>>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub key: &'static str,
    pub title: String,
    /// Who and what period, as label/value pairs (shown above the table in files; fields in JSON).
    pub meta: Vec<(&'static str, &'static str, String)>,
    pub sections: Vec<Section>,
    /// Anything else machines want in JSON (e.g. checks that hold).
    pub extra: Map<String, Value>,
}

fn row_object(columns: &[Column], row: &[Cell]) -> Value {
    let mut m = Map::new();
    for (c, v) in columns.iter().zip(row) {
        m.insert(c.key.to_string(), v.json());
    }
    Value::Object(m)
}

impl Report {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("report".into(), json!(self.key));
        m.insert("title".into(), json!(self.title));
        for (key, _, value) in &self.meta {
            m.insert((*key).to_string(), json!(value));
        }
        for s in &self.sections {
            let mut sec = Map::new();
            sec.insert("title".into(), json!(s.title));
            sec.insert(
                "columns".into(),
                Value::Array(s.columns.iter().map(|c| json!({"key": c.key, "heading": c.heading})).collect()),
            );
            sec.insert("rows".into(), Value::Array(s.rows.iter().map(|r| row_object(&s.columns, r)).collect()));
            sec.insert("totals".into(), s.totals.as_ref().map_or(Value::Null, |t| row_object(&s.columns, t)));
            m.insert(s.key.to_string(), Value::Object(sec));
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }

    /// The CSV for machines: comma-separated, amounts with a decimal point, as the API's JSON writes them.
    pub fn to_csv(&self) -> String {
        self.to_csv_as(CsvDialect::Machine)
    }

    pub fn to_csv_as(&self, dialect: CsvDialect) -> String {
        let sep = dialect.separator();
        let mut out = String::new();
        if dialect == CsvDialect::Excel {
            // The byte order mark: without it Excel reads the file in the machine's code page, not UTF-8.
            out.push('\u{feff}');
        }
        let line = |out: &mut String, fields: Vec<String>| {
            out.push_str(&fields.iter().map(|f| csv_field(f, sep)).collect::<Vec<_>>().join(&sep.to_string()));
            out.push_str("\r\n");
        };
        line(&mut out, vec![csv_text(&self.title)]);
        for (_, label, value) in &self.meta {
            line(&mut out, vec![(*label).to_string(), csv_text(value)]);
        }
        for s in &self.sections {
            out.push_str("\r\n");
            line(&mut out, vec![s.title.clone()]);
            line(&mut out, s.columns.iter().map(|c| c.heading.to_string()).collect());
            for r in &s.rows {
                line(&mut out, r.iter().map(|c| c.csv(dialect)).collect());
            }
            if let Some(t) = &s.totals {
                line(&mut out, t.iter().map(|c| c.csv(dialect)).collect());
            }
        }
        out
    }

    pub fn to_xlsx(&self) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let formats = XlsxFormats::new();
        for s in &self.sections {
            self.write_sheet(wb.add_worksheet(), s, &formats)?;
        }
        if self.sections.is_empty() {
            let ws = wb.add_worksheet();
            ws.write_string(0, 0, &self.title)?;
        }
        wb.save_to_buffer()
    }

    /// One section on its own sheet: the title and meta above the headings, the rows, the totals in bold.
    fn write_sheet(
        &self,
        ws: &mut rust_xlsxwriter::Worksheet,
        s: &Section,
        f: &XlsxFormats,
    ) -> Result<(), rust_xlsxwriter::XlsxError> {
        // Sheet names: at most 31 characters, none of []:*?/\
        let name: String =
            s.title.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect::<String>().trim().to_string();
        ws.set_name(if name.is_empty() { s.key } else { &name })?;
        ws.write_string_with_format(0, 0, &self.title, &f.bold)?;
        let mut r: u32 = 1;
        for (_, label, value) in &self.meta {
            ws.write_string(r, 0, *label)?;
            ws.write_string(r, 1, value)?;
            r += 1;
        }
        r += 1;
        for (c, col) in s.columns.iter().enumerate() {
            ws.write_string_with_format(r, c as u16, col.heading, &f.bold)?;
            ws.set_column_width(c as u16, if col.kind == Kind::Text { 32 } else { 16 })?;
        }
        r += 1;
        let rows = s.rows.iter().map(|row| (row, false)).chain(s.totals.iter().map(|t| (t, true)));
        for (row, is_total) in rows {
            for (c, cell) in row.iter().enumerate() {
                write_cell(ws, r, c as u16, cell, is_total, f)?;
            }
            r += 1;
        }
        Ok(())
    }
}

/// The cell formats of the XLSX rendering.
struct XlsxFormats {
    bold: rust_xlsxwriter::Format,
    money: rust_xlsxwriter::Format,
    money_bold: rust_xlsxwriter::Format,
    pct: rust_xlsxwriter::Format,
    date: rust_xlsxwriter::Format,
}

impl XlsxFormats {
    fn new() -> XlsxFormats {
        use rust_xlsxwriter::Format;
        XlsxFormats {
            bold: Format::new().set_bold(),
            money: Format::new().set_num_format("#,##0.00"),
            money_bold: Format::new().set_num_format("#,##0.00").set_bold(),
            pct: Format::new().set_num_format("0.00"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
        }
    }
}

/// One cell as an Excel value: numbers as numbers, dates as dates, text of a totals row in bold.
fn write_cell(
    ws: &mut rust_xlsxwriter::Worksheet,
    r: u32,
    c: u16,
    cell: &Cell,
    is_total: bool,
    f: &XlsxFormats,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    match cell {
        Cell::Empty => {}
        Cell::Text(t) if is_total => {
            ws.write_string_with_format(r, c, t, &f.bold)?;
        }
        Cell::Text(t) => {
            ws.write_string(r, c, t)?;
        }
        Cell::Int(i) => {
            ws.write_number(r, c, *i as f64)?;
        }
        Cell::Money(m) => {
            // Rupiah with sen as an Excel number: exact for every amount below 2^53 sen.
            let v = *m as f64 / 100.0;
            ws.write_number_with_format(r, c, v, if is_total { &f.money_bold } else { &f.money })?;
        }
        Cell::Date(d) => {
            let excel = rust_xlsxwriter::ExcelDateTime::from_ymd(
                d.format("%Y").to_string().parse().unwrap_or(1900),
                d.format("%m").to_string().parse().unwrap_or(1),
                d.format("%d").to_string().parse().unwrap_or(1),
            )?;
            ws.write_datetime_with_format(r, c, &excel, &f.date)?;
        }
        Cell::Percent(Some(p)) => {
            let v: f64 = p.to_string().parse().unwrap_or(0.0);
            ws.write_number_with_format(r, c, v, &f.pct)?;
        }
        Cell::Percent(None) => {}
    }
    Ok(())
}

/// Text a person typed, made inert for spreadsheets: a value that starts like a formula (`=`, `+`, `-`, `@`, a tab
/// or a carriage return) gets a leading `'`, so Excel or LibreOffice shows it instead of evaluating it (CSV
/// injection). Numbers and amounts are not text cells and are never changed.
fn csv_text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// How a CSV is written: for machines (today's CSV: commas, a decimal point), or for a spreadsheet in an
/// Indonesian locale: Excel set to Indonesian takes `;` between fields and a decimal comma (a comma-separated file
/// opens as one column there, and `1234567.89` as text), and needs the UTF-8 byte order mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvDialect {
    Machine,
    Excel,
}

impl CsvDialect {
    fn separator(self) -> char {
        match self {
            CsvDialect::Machine => ',',
            CsvDialect::Excel => ';',
        }
    }
}

fn csv_field(f: &str, sep: char) -> String {
    if f.contains([sep, '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounds_and_handles_zero() {
        assert_eq!(percent(1, 3), Some(Decimal::new(3333, 2)));
        assert_eq!(percent(5, 0), None);
        assert_eq!(percent(200, 100), Some(Decimal::new(20000, 2)));
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(csv_field("a,b", ','), "\"a,b\"");
        assert_eq!(csv_field("a,b", ';'), "a,b", "a comma is plain text between semicolons");
        assert_eq!(csv_field("a;b", ';'), "\"a;b\"");
        assert_eq!(csv_field("say \"hi\"", ','), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain", ','), "plain");
    }

    #[test]
    fn formulas_in_text_are_inert_and_amounts_untouched() {
        let m = CsvDialect::Machine;
        assert_eq!(Cell::text("=HYPERLINK(\"http://x\",\"klik\")").csv(m), "'=HYPERLINK(\"http://x\",\"klik\")");
        for f in ["+1", "-1+2", "@SUM(A1)", "\t=1"] {
            assert!(Cell::text(f).csv(m).starts_with('\''), "{f}");
            assert!(Cell::text(f).csv(CsvDialect::Excel).starts_with('\''), "{f}");
        }
        assert_eq!(Cell::text("Semen 5 sak").csv(m), "Semen 5 sak");
        assert_eq!(Cell::Money(-150).csv(m), "-1.50");
    }

    #[test]
    fn the_excel_dialect_writes_a_bom_semicolons_and_decimal_commas() {
        let section = Section {
            key: "kas",
            title: "Buku Kas".into(),
            columns: vec![
                col("uraian", "Uraian", Kind::Text),
                col("jumlah", "Jumlah", Kind::Money),
                col("persen", "Persen", Kind::Percent),
            ],
            rows: vec![vec![
                Cell::text("Semen, pasir; batu"),
                Cell::Money(123_456_789),
                Cell::Percent(percent(5687, 10_000)),
            ]],
            totals: None,
        };
        let report = Report {
            key: "bku",
            title: "Buku Kas Umum".into(),
            meta: vec![],
            sections: vec![section],
            extra: Map::new(),
        };
        let excel = report.to_csv_as(CsvDialect::Excel);
        assert!(excel.starts_with('\u{feff}'), "the UTF-8 byte order mark first");
        assert!(excel.contains("Uraian;Jumlah;Persen\r\n"), "{excel}");
        assert!(excel.contains("\"Semen, pasir; batu\";1234567,89;56,87\r\n"), "{excel}");
        let machine = report.to_csv();
        assert!(!machine.starts_with('\u{feff}'));
        assert!(machine.contains("\"Semen, pasir; batu\",1234567.89,56.87\r\n"), "{machine}");
    }
}

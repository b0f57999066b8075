//! The printable rendering of a report (`?format=pdf`): A4 landscape, the title and what it covers, each section as a
//! ruled table whose heading row repeats on every page, money in the Indonesian form (1.234.567,00), the totals row,
//! the signature block (place, date, Kepala Desa and Kaur Keuangan by name) and "Halaman i dari n" on every page.
//!
//! Text is set in the standard Helvetica fonts, which every PDF reader carries, so no font is shipped or fetched;
//! their glyph widths (Adobe's published metrics for the standard fonts) place right-aligned figures and wrap text.

use super::table::{Cell, Column, Kind, Report};
use chrono::NaiveDate;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const PAGE_W: f32 = 842.0;
const PAGE_H: f32 = 595.0;
const MARGIN: f32 = 32.0;
/// Room kept at the bottom of every page for the footer.
const FOOTER: f32 = 22.0;
const BODY_SIZE: f32 = 7.5;
const LEADING: f32 = 9.0;
const PAD: f32 = 2.5;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// Who signs the printed form, and where and when.
#[derive(Debug, Clone)]
pub struct Signers {
    pub place: String,
    pub date: NaiveDate,
    /// Side by side, left to right: the office (lines of text above the space to sign) and the name under it,
    /// a dotted line to write on when no name is recorded.
    pub signatures: Vec<(Vec<String>, Option<String>)>,
}

impl Signers {
    /// A payment request: who drafted it, who verified it, who pays it, who approved it, and the payee who signs the
    /// kuitansi.
    pub fn for_payment(
        village_name: &str,
        date: NaiveDate,
        head: Option<String>,
        treasurer: Option<String>,
        payee: Option<&str>,
    ) -> Signers {
        let village = village_name.strip_prefix("Desa ").unwrap_or(village_name);
        Signers {
            place: village.to_string(),
            date,
            signatures: vec![
                (vec!["Diajukan,".into(), "Pelaksana Kegiatan".into()], None),
                (vec!["Diverifikasi,".into(), "Sekretaris Desa".into()], None),
                (vec!["Dibayar,".into(), "Kaur Keuangan".into()], treasurer),
                (vec!["Disetujui,".into(), format!("Kepala Desa {village}")], head),
            ]
            .into_iter()
            .chain(payee.map(|p| (vec!["Yang menerima,".into(), String::new()], Some(p.to_string()))))
            .collect(),
        }
    }

    /// A village's books: the head acknowledges, the treasurer (Kaur Keuangan) keeps them.
    pub fn for_books(village_name: &str, date: NaiveDate, head: Option<String>, treasurer: Option<String>) -> Signers {
        let village = village_name.strip_prefix("Desa ").unwrap_or(village_name);
        Signers {
            place: village.to_string(),
            date,
            signatures: vec![
                (vec!["Mengetahui,".into(), format!("Kepala Desa {village}")], head),
                (vec![String::new(), "Kaur Keuangan".into()], treasurer),
            ],
        }
    }
}

/// Helvetica and Helvetica-Bold advance widths (1/1000 em) of the printable ASCII characters 32..=126.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556,
    556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334,
    260, 334, 584,
];
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833,
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611,
    556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389,
    280, 389, 584,
];

/// The bytes of `s` in WinAnsiEncoding (the encoding the fonts are declared with); what it lacks becomes `?`.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            '\u{2026}' => 0x85,
            '\u{2022}' => 0x95,
            '\u{2192}' => b'>',
            _ => b'?',
        })
        .collect()
}

fn width(s: &str, bold: bool, size: f32) -> f32 {
    let table = if bold { &HELVETICA_BOLD } else { &HELVETICA };
    let units: u32 = win_ansi(s)
        .iter()
        .map(|&b| if (32..=126).contains(&b) { u32::from(table[usize::from(b - 32)]) } else { 556 })
        .sum();
    units as f32 * size / 1000.0
}

/// Greedy word wrap into lines no wider than `max` (a word wider than a line is cut).
fn wrap(text: &str, bold: bool, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
            if width(&candidate, bold, size) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let mut piece = String::new();
            for ch in word.chars() {
                piece.push(ch);
                if width(&piece, bold, size) > max && piece.chars().count() > 1 {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(ch);
                }
            }
            line = piece;
        }
        lines.push(line);
    }
    lines
}

/// An amount of sen as Indonesian print has it: `1.234.567,00`, `-15.000,00`.
pub fn rupiah(sen: i64) -> String {
    let sign = if sen < 0 { "-" } else { "" };
    let abs = sen.unsigned_abs();
    let digits = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped},{:02}", abs % 100)
}

/// A whole number in Indonesian words: 1.477.500 → "satu juta empat ratus tujuh puluh tujuh ribu lima ratus".
fn words(n: u64) -> String {
    const UNITS: [&str; 12] =
        ["", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh", "sebelas"];
    let with_rest = |head: String, rest: u64| if rest == 0 { head } else { format!("{head} {}", words(rest)) };
    match n {
        0..=11 => UNITS[n as usize].to_string(),
        12..=19 => format!("{} belas", words(n - 10)),
        20..=99 => with_rest(format!("{} puluh", words(n / 10)), n % 10),
        100..=199 => with_rest("seratus".into(), n - 100),
        200..=999 => with_rest(format!("{} ratus", words(n / 100)), n % 100),
        1_000..=1_999 => with_rest("seribu".into(), n - 1_000),
        2_000..=999_999 => with_rest(format!("{} ribu", words(n / 1_000)), n % 1_000),
        1_000_000..=999_999_999 => with_rest(format!("{} juta", words(n / 1_000_000)), n % 1_000_000),
        1_000_000_000..=999_999_999_999 => with_rest(format!("{} miliar", words(n / 1_000_000_000)), n % 1_000_000_000),
        _ => with_rest(format!("{} triliun", words(n / 1_000_000_000_000)), n % 1_000_000_000_000),
    }
}

/// An amount in words as a kuitansi writes it (terbilang): "Satu juta lima ratus ribu rupiah".
pub fn terbilang(sen: i64) -> String {
    let abs = sen.unsigned_abs();
    let rupiah = abs / 100;
    let mut s = if rupiah == 0 { "nol".to_string() } else { words(rupiah) };
    s.push_str(" rupiah");
    if abs % 100 > 0 {
        s = format!("{s} {} sen", words(abs % 100));
    }
    if sen < 0 {
        s = format!("minus {s}");
    }
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

const MONTHS: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

/// `31 Desember 2026`.
pub fn tanggal(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Empty => String::new(),
        Cell::Text(s) => s.clone(),
        Cell::Int(i) => i.to_string(),
        Cell::Money(m) => rupiah(*m),
        Cell::Date(d) => d.format("%d-%m-%Y").to_string(),
        Cell::Percent(p) => p.map_or(String::new(), |p| format!("{}", p).replace('.', ",")),
    }
}

fn right_aligned(kind: Kind) -> bool {
    matches!(kind, Kind::Money | Kind::Int | Kind::Percent)
}

/// How much of the text width a text column takes: names and descriptions three shares, codes and references one.
fn text_weight(c: &Column) -> f32 {
    if matches!(c.key, "description" | "payee" | "evidence") || c.key.ends_with("name") {
        3.0
    } else {
        1.0
    }
}

/// The widths of a table's columns across the printable width: fixed for numbers and dates, the rest shared by
/// the text columns by weight; scaled down together when the fixed ones alone would not fit.
fn column_widths(columns: &[Column]) -> Vec<f32> {
    let avail = PAGE_W - 2.0 * MARGIN;
    let fixed = |k: Kind| match k {
        Kind::Int => Some(26.0),
        Kind::Date => Some(46.0),
        Kind::Money => Some(72.0),
        Kind::Percent => Some(34.0),
        Kind::Text => None,
    };
    let fixed_total: f32 = columns.iter().filter_map(|c| fixed(c.kind)).sum();
    let weights: f32 = columns.iter().filter(|c| c.kind == Kind::Text).map(text_weight).sum();
    let min_text = 50.0;
    let texts = columns.iter().filter(|c| c.kind == Kind::Text).count() as f32;
    let (scale, text_room) = if texts == 0.0 {
        (avail / fixed_total.max(1.0), 0.0)
    } else if fixed_total + texts * min_text <= avail {
        (1.0, avail - fixed_total)
    } else {
        ((avail - texts * min_text) / fixed_total, texts * min_text)
    };
    // Each text column its share, at least the minimum; the minimums come out of the heavier columns' shares.
    let share = |c: &Column| text_room * text_weight(c) / weights.max(1.0);
    let short: f32 =
        columns.iter().filter(|c| c.kind == Kind::Text && share(c) < min_text).map(|c| min_text - share(c)).sum();
    let heavy: f32 = columns.iter().filter(|c| c.kind == Kind::Text && share(c) >= min_text).map(text_weight).sum();
    columns
        .iter()
        .map(|c| match fixed(c.kind) {
            Some(w) => w * scale,
            None if share(c) < min_text => min_text,
            None => share(c) - short * text_weight(c) / heavy.max(1.0),
        })
        .collect()
}

/// Pages being filled, top to bottom.
struct Writer {
    pages: Vec<Content>,
    y: f32,
}

impl Writer {
    fn new() -> Writer {
        let mut w = Writer { pages: Vec::new(), y: 0.0 };
        w.new_page();
        w
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = PAGE_H - MARGIN;
    }

    fn page(&mut self) -> &mut Content {
        self.pages.last_mut().expect("there is always a page")
    }

    fn room(&self) -> f32 {
        self.y - MARGIN - FOOTER
    }

    fn text(&mut self, x: f32, baseline: f32, s: &str, bold: bool, size: f32) {
        let bytes = win_ansi(s);
        let c = self.page();
        c.begin_text();
        c.set_font(if bold { BOLD } else { REGULAR }, size);
        c.next_line(x, baseline);
        c.show(Str(&bytes));
        c.end_text();
    }

    /// A line of text at the cursor, moving it down.
    fn line(&mut self, s: &str, bold: bool, size: f32, centred: bool) {
        if self.room() < size * 1.4 {
            self.new_page();
        }
        let x = if centred { (PAGE_W - width(s, bold, size)) / 2.0 } else { MARGIN };
        self.y -= size * 1.25;
        self.text(x, self.y, s, bold, size);
    }

    fn hline(&mut self, x0: f32, x1: f32, y: f32) {
        let c = self.page();
        c.move_to(x0, y);
        c.line_to(x1, y);
        c.stroke();
    }

    /// One table row: cells wrapped to their columns, ruled, with a grey background for headings.
    fn row(&mut self, cells: &[(String, bool)], widths: &[f32], kinds: &[Kind], bold: bool, shaded: bool) {
        let wrapped: Vec<Vec<String>> =
            cells.iter().zip(widths).map(|((s, _), w)| wrap(s, bold, BODY_SIZE, w - 2.0 * PAD)).collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let h = lines as f32 * LEADING + 2.0 * PAD;
        let top = self.y;
        let total_w: f32 = widths.iter().sum();
        {
            let c = self.page();
            c.set_line_width(0.4);
            if shaded {
                c.set_fill_gray(0.88);
                c.rect(MARGIN, top - h, total_w, h);
                c.fill_nonzero();
                c.set_fill_gray(0.0);
            }
            c.rect(MARGIN, top - h, total_w, h);
            c.stroke();
        }
        let mut x = MARGIN;
        for (i, (lines, w)) in wrapped.iter().zip(widths).enumerate() {
            if i > 0 {
                let c = self.page();
                c.move_to(x, top);
                c.line_to(x, top - h);
                c.stroke();
            }
            let right = !cells[i].1 && right_aligned(kinds[i]);
            for (n, l) in lines.iter().enumerate() {
                let baseline = top - PAD - (n as f32 + 1.0) * LEADING + 2.0;
                let lx = if right { x + w - PAD - width(l, bold, BODY_SIZE) } else { x + PAD };
                self.text(lx, baseline, l, bold, BODY_SIZE);
            }
            x += w;
        }
        self.y = top - h;
    }

    fn row_height(cells: &[(String, bool)], widths: &[f32], bold: bool) -> f32 {
        let lines = cells
            .iter()
            .zip(widths)
            .map(|((s, _), w)| wrap(s, bold, BODY_SIZE, w - 2.0 * PAD).len())
            .max()
            .unwrap_or(1)
            .max(1);
        lines as f32 * LEADING + 2.0 * PAD
    }
}

/// The report as a PDF document.
pub fn to_pdf(report: &Report, signers: Option<&Signers>, printed_at: &str) -> Vec<u8> {
    let mut w = Writer::new();
    w.line(&report.title.to_uppercase(), true, 12.0, true);
    for (_, label, value) in report.meta.iter().filter(|(key, _, _)| !key.ends_with("_id")) {
        w.line(&format!("{label}: {value}"), false, 8.5, false);
    }
    for section in &report.sections {
        w.y -= 8.0;
        let widths = column_widths(&section.columns);
        let kinds: Vec<Kind> = section.columns.iter().map(|c| c.kind).collect();
        let heading: Vec<(String, bool)> = section.columns.iter().map(|c| (c.heading.to_string(), true)).collect();
        let heading_h = Writer::row_height(&heading, &widths, true);
        if w.room() < 14.0 + heading_h + 2.0 * LEADING {
            w.new_page();
        }
        w.line(&section.title, true, 9.5, false);
        w.y -= 3.0;
        w.row(&heading, &widths, &kinds, true, true);
        let body = section.rows.iter().map(|r| (r, false)).chain(section.totals.iter().map(|t| (t, true)));
        for (cells, is_total) in body {
            let cells: Vec<(String, bool)> = cells.iter().map(|c| (cell_text(c), false)).collect();
            if w.room() < Writer::row_height(&cells, &widths, is_total) {
                w.new_page();
                w.row(&heading, &widths, &kinds, true, true);
            }
            w.row(&cells, &widths, &kinds, is_total, is_total);
        }
        if section.rows.is_empty() && section.totals.is_none() {
            w.line("(tidak ada)", false, BODY_SIZE, false);
        }
    }
    if let Some(s) = signers {
        signature_block(&mut w, s);
    }
    finish(w, &report.title, printed_at)
}

/// Place and date over the last column, then each signatory side by side: the office, room to sign, the name.
fn signature_block(w: &mut Writer, s: &Signers) {
    let offices = s.signatures.iter().map(|(o, _)| o.len()).max().unwrap_or(1);
    let height = 100.0 + 12.0 * offices as f32;
    if w.room() < height {
        w.new_page();
    }
    let n = s.signatures.len().max(1) as f32;
    let column = (PAGE_W - 2.0 * MARGIN) / n;
    let x_of = |i: usize| MARGIN + 30.0 + column * i as f32;
    let mut y = w.y - 24.0;
    w.text(x_of(s.signatures.len().saturating_sub(1)), y, &format!("{}, {}", s.place, tanggal(s.date)), false, 9.0);
    y -= 2.0;
    for line in 0..offices {
        y -= 12.0;
        for (i, (office, _)) in s.signatures.iter().enumerate() {
            if let Some(t) = office.get(line) {
                w.text(x_of(i), y, t, false, 9.0);
            }
        }
    }
    y -= 56.0;
    w.page().set_line_width(0.5);
    for (i, (_, name)) in s.signatures.iter().enumerate() {
        let shown = name.clone().unwrap_or_else(|| "(........................................)".to_string());
        w.text(x_of(i), y, &shown, true, 9.0);
        if name.is_some() {
            w.hline(x_of(i), x_of(i) + width(&shown, true, 9.0), y - 2.0);
        }
    }
    w.y = y - 10.0;
}

/// Numbers the pages, adds the footer and writes the document.
fn finish(mut w: Writer, title: &str, printed_at: &str) -> Vec<u8> {
    let count = w.pages.len();
    for i in 0..count {
        let label = format!("Halaman {} dari {}", i + 1, count);
        let footer = format!("kasdesa - {title} - dicetak {printed_at}");
        let page = &mut w.pages[i];
        for (x, s) in [(PAGE_W - MARGIN - width(&label, false, 7.0), label), (MARGIN, footer)] {
            let bytes = win_ansi(&s);
            page.begin_text();
            page.set_font(REGULAR, 7.0);
            page.next_line(x, MARGIN - 6.0);
            page.show(Str(&bytes));
            page.end_text();
        }
    }
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let page_ids: Vec<Ref> = (0..count).map(|i| Ref::new(10 + 2 * i as i32)).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(count as i32);
    pdf.type1_font(regular).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info).title(TextStr(title)).producer(TextStr("kasdesa"));
    for (i, content) in w.pages.into_iter().enumerate() {
        let id = page_ids[i];
        let content_id = Ref::new(id.get() + 1);
        let mut page = pdf.page(id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_id);
        page.resources().fonts().pair(REGULAR, regular).pair(BOLD, bold);
        page.finish();
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indonesian_money_and_dates() {
        assert_eq!(rupiah(123_456_789), "1.234.567,89");
        assert_eq!(rupiah(-1_500_000), "-15.000,00");
        assert_eq!(rupiah(0), "0,00");
        assert_eq!(rupiah(99), "0,99");
        assert_eq!(tanggal(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()), "31 Desember 2026");
    }

    #[test]
    fn amounts_in_words() {
        assert_eq!(terbilang(147_750_000), "Satu juta empat ratus tujuh puluh tujuh ribu lima ratus rupiah");
        assert_eq!(terbilang(1_100), "Sebelas rupiah");
        assert_eq!(terbilang(11_500), "Seratus lima belas rupiah");
        assert_eq!(terbilang(100_000), "Seribu rupiah");
        assert_eq!(terbilang(200_000_000_000), "Dua miliar rupiah");
        assert_eq!(terbilang(2_101_000_050), "Dua puluh satu juta sepuluh ribu rupiah lima puluh sen");
        assert_eq!(terbilang(0), "Nol rupiah");
    }

    #[test]
    fn columns_fill_the_width_and_names_get_the_room() {
        use crate::reports::table::col;
        let cols = [
            col("no", "No", Kind::Int),
            col("account_code", "Kode Rekening", Kind::Text),
            col("description", "Uraian", Kind::Text),
            col("voucher", "No Bukti", Kind::Text),
            col("amount", "Jumlah", Kind::Money),
        ];
        let w = column_widths(&cols);
        assert!((w.iter().sum::<f32>() - (PAGE_W - 2.0 * MARGIN)).abs() < 0.5, "{w:?}");
        assert!(w[2] > 2.0 * w[1], "{w:?}");
        let many: Vec<Column> =
            (0..14).map(|_| col("amount", "Jumlah", Kind::Money)).chain([col("name", "Uraian", Kind::Text)]).collect();
        let w = column_widths(&many);
        assert!(w.iter().sum::<f32>() <= PAGE_W - 2.0 * MARGIN + 0.5 && w[14] >= 50.0, "{w:?}");
    }

    #[test]
    fn wrapping_keeps_every_word_within_the_width() {
        let text = "Pembangunan/Rehabilitasi/Peningkatan/Pengerasan Jalan Desa di Dusun Sungai Ambawang Kuala";
        let lines = wrap(text, false, BODY_SIZE, 80.0);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| width(l, false, BODY_SIZE) <= 80.0), "{lines:?}");
        assert_eq!(lines.join(" ").replace(' ', ""), text.replace(' ', ""));
        assert_eq!(win_ansi("Rp 1.000 — ok…→"), b"Rp 1.000 \x97 ok\x85>".to_vec());
    }
}

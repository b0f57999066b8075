//! The SPP as a document to print and sign: its number and what it pays for, the lines with their accounts, the
//! taxes withheld, the amount paid (in figures and in words), the electronic approvals from the trail, and the
//! kuitansi (receipt) for the payee. The signature lines are the printed form's (`Signers::for_payment`).

use crate::domain::catalogue;
use crate::domain::workflow::PaymentStatus;
use crate::reports::pdf::{rupiah, terbilang};
use crate::reports::table::{col, Cell, Kind, Report, Section};
use crate::store::rows::{PaymentRecord, VillageRow};
use chrono::Duration;
use std::collections::HashMap;

/// A request's status as the printed form says it.
fn status_id(s: PaymentStatus) -> &'static str {
    match s {
        PaymentStatus::Draft => "draf",
        PaymentStatus::Submitted => "diajukan",
        PaymentStatus::Verified => "diverifikasi",
        PaymentStatus::Approved => "disetujui",
        PaymentStatus::Released => "dikirim ke bank",
        PaymentStatus::Paid => "dibayar",
        PaymentStatus::Returned => "dikembalikan",
        PaymentStatus::Rejected => "ditolak",
        PaymentStatus::Cancelled => "dibatalkan",
        PaymentStatus::Failed => "gagal",
        PaymentStatus::PartiallyPaid => "dibayar sebagian",
        PaymentStatus::Accounted => "sudah dipertanggungjawabkan",
    }
}

/// The receipts of a request with many payees: one kuitansi each, with the amount in words and room to sign.
fn receipts_section(rec: &PaymentRecord) -> Section {
    let rows = rec
        .receipts
        .iter()
        .map(|r| {
            vec![
                Cell::text(&r.number),
                Cell::text(&r.payee_name),
                Cell::text(format!("{} / {}", r.payee_bank_code, r.payee_account_number)),
                Cell::Money(r.net),
                Cell::text(terbilang(r.net)),
                Cell::text(r.status.as_str()),
                Cell::Empty,
            ]
        })
        .collect();
    Section {
        key: "kuitansi",
        title: "Kuitansi per Penerima".into(),
        columns: vec![
            col("number", "Nomor Kuitansi", Kind::Text),
            col("payee_name", "Penerima", Kind::Text),
            col("account", "Bank / Rekening", Kind::Text),
            col("net", "Diterima", Kind::Money),
            col("in_words", "Terbilang", Kind::Text),
            col("status", "Status", Kind::Text),
            col("signature", "Tanda Tangan", Kind::Text),
        ],
        rows,
        totals: Some(vec![
            Cell::Empty,
            Cell::text("Jumlah"),
            Cell::Empty,
            Cell::Money(rec.receipts.iter().map(|r| r.net).sum()),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ]),
    }
}

fn source_of(code: Option<&str>) -> String {
    code.map(|c| format!("{c} ({})", super::source_name(c))).unwrap_or_default()
}

/// The document of a request. `account_names` is the village's chart (code → name); `utc_offset_minutes` the
/// regency's zone, for the times of the approvals.
pub fn spp_document(
    rec: &PaymentRecord,
    v: &VillageRow,
    account_names: &HashMap<String, String>,
    utc_offset_minutes: i32,
) -> Report {
    let p = &rec.payment;
    let local = |t: chrono::NaiveDateTime| {
        (t + Duration::minutes(i64::from(utc_offset_minutes))).format("%d-%m-%Y %H:%M").to_string()
    };
    let zone = match utc_offset_minutes {
        480 => "WITA",
        540 => "WIT",
        _ => "WIB",
    };
    let activity = p.activity_code.as_deref().map(|code| {
        let name = catalogue::activity(code).map(|a| a.name().to_string()).unwrap_or_default();
        format!("{code} {name}")
    });
    let title = match p.kind {
        crate::domain::settlement::PaymentKind::Spp => "Surat Permintaan Pembayaran (SPP)",
        crate::domain::settlement::PaymentKind::TaxDeposit => "Surat Setoran Pajak",
        crate::domain::settlement::PaymentKind::Advance => "Surat Permintaan Pembayaran Uang Muka (Panjar)",
    };
    let mut meta = vec![
        ("number", "Nomor", p.number.clone().unwrap_or_else(|| p.id.to_string())),
        ("date", "Tanggal", local(p.created_at)),
        ("village_name", "Desa", format!("{} ({})", v.name, v.code)),
        ("fiscal_year", "Tahun Anggaran", p.fiscal_year.to_string()),
    ];
    if let Some(a) = activity {
        meta.push(("activity", "Kegiatan", a));
    }
    meta.push(("description", "Uraian", p.description.clone()));
    meta.push(("payee", "Penerima", p.payee_name.clone()));
    meta.push(("payee_account", "Bank / No. Rekening", format!("{} / {}", p.payee_bank_code, p.payee_account_number)));
    if let Some(n) = &p.payee_npwp {
        let shown = crate::domain::text::Npwp::parse("npwp", n).map(|n| n.formatted()).unwrap_or_else(|_| n.clone());
        meta.push(("npwp", "NPWP", shown));
    }
    if let Some(inv) = &p.invoice_number {
        let date = p.invoice_date.map(|d| format!(" tanggal {}", d.format("%d-%m-%Y"))).unwrap_or_default();
        meta.push(("invoice", "Bukti Tagihan", format!("{inv}{date}")));
    }
    meta.push(("status", "Status", status_id(p.status).to_string()));

    let lines: Vec<Vec<Cell>> = rec
        .lines
        .iter()
        .map(|l| {
            vec![
                Cell::Int(i64::from(l.line_no)),
                Cell::text(&l.account_code),
                Cell::text(account_names.get(&l.account_code).cloned().unwrap_or_default()),
                Cell::text(source_of(l.source.as_deref())),
                Cell::Money(l.amount),
            ]
        })
        .collect();
    let taxes: Vec<Vec<Cell>> = rec
        .withholdings
        .iter()
        .map(|w| vec![Cell::Int(i64::from(w.line_no)), Cell::text(&w.tax), Cell::Money(w.amount)])
        .collect();
    let approvals: Vec<Vec<Cell>> = rec
        .events
        .iter()
        .map(|e| {
            vec![
                Cell::text(local(e.at)),
                Cell::text(&e.action),
                Cell::text(status_id(e.to_status)),
                Cell::text(&e.actor_name),
                Cell::text(e.role.as_str()),
                Cell::opt(e.note.clone()),
            ]
        })
        .collect();
    let kuitansi = vec![
        vec![Cell::text("Sudah terima dari"), Cell::text(format!("Kaur Keuangan {}", v.name))],
        vec![Cell::text("Uang sebanyak"), Cell::text(format!("Rp {}", rupiah(p.net)))],
        vec![Cell::text("Terbilang"), Cell::text(terbilang(p.net))],
        vec![Cell::text("Untuk pembayaran"), Cell::text(&p.description)],
        vec![
            Cell::text("Penerima"),
            Cell::text(format!("{} - {} / {}", p.payee_name, p.payee_bank_code, p.payee_account_number)),
        ],
    ];
    Report {
        key: "spp_document",
        title: title.into(),
        meta,
        sections: vec![
            Section {
                key: "lines",
                title: "Rincian".into(),
                columns: vec![
                    col("no", "No", Kind::Int),
                    col("account_code", "Kode Rekening", Kind::Text),
                    col("account_name", "Uraian Rekening", Kind::Text),
                    col("source", "Sumber Dana", Kind::Text),
                    col("amount", "Jumlah", Kind::Money),
                ],
                rows: lines,
                totals: Some(vec![
                    Cell::Empty,
                    Cell::Empty,
                    Cell::text("Jumlah bruto"),
                    Cell::Empty,
                    Cell::Money(p.gross),
                ]),
            },
            Section {
                key: "withholdings",
                title: "Potongan Pajak".into(),
                columns: vec![
                    col("line", "Baris", Kind::Int),
                    col("tax", "Pajak", Kind::Text),
                    col("amount", "Jumlah", Kind::Money),
                ],
                rows: taxes,
                totals: Some(vec![Cell::Empty, Cell::text("Jumlah potongan"), Cell::Money(p.withheld)]),
            },
            Section {
                key: "payment",
                title: "Jumlah yang Dibayarkan".into(),
                columns: vec![col("item", "Uraian", Kind::Text), col("amount", "Jumlah", Kind::Money)],
                rows: vec![
                    vec![Cell::text("Jumlah bruto"), Cell::Money(p.gross)],
                    vec![Cell::text("Potongan pajak"), Cell::Money(p.withheld)],
                ],
                totals: Some(vec![Cell::text(format!("Dibayarkan (neto): {}", terbilang(p.net))), Cell::Money(p.net)]),
            },
            Section {
                key: "approvals",
                title: format!("Persetujuan Elektronik (waktu {zone})"),
                columns: vec![
                    col("at", "Waktu", Kind::Text),
                    col("action", "Langkah", Kind::Text),
                    col("status", "Status", Kind::Text),
                    col("actor_name", "Oleh", Kind::Text),
                    col("role", "Peran", Kind::Text),
                    col("note", "Catatan", Kind::Text),
                ],
                rows: approvals,
                totals: None,
            },
            if rec.receipts.is_empty() {
                Section {
                    key: "kuitansi",
                    title: format!("Kuitansi {}", p.number.as_deref().unwrap_or_default()),
                    columns: vec![col("field", "Keterangan", Kind::Text), col("description", "Isi", Kind::Text)],
                    rows: kuitansi,
                    totals: None,
                }
            } else {
                receipts_section(rec)
            },
        ],
        extra: serde_json::Map::new(),
    }
}

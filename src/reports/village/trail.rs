//! Jejak Persetujuan SPP: the approval trail of a payment request.

use crate::reports::table::{col, Cell, Kind, Report, Section};
use crate::store::rows::PaymentRecord;
use chrono::NaiveDateTime;

/// The approval trail of a payment request: every transition, who, in which role, when, with the note and hash;
/// its times written by `when` (from the stored UTC time) under the heading `when_heading` (the regency's zone:
/// the API writes RFC 3339 with the zone's offset, the console the local wall-clock time).
pub fn approval_trail_at(
    rec: &PaymentRecord,
    village_code: &str,
    when_heading: &'static str,
    when: impl Fn(NaiveDateTime) -> String,
) -> Report {
    let rows = rec
        .events
        .iter()
        .map(|e| {
            vec![
                Cell::Int(e.chain_seq),
                Cell::text(when(e.at)),
                Cell::text(&e.action),
                Cell::opt(e.from_status.map(|s| s.to_string())),
                Cell::text(e.to_status.as_str()),
                Cell::text(&e.actor_name),
                Cell::text(e.role.as_str()),
                Cell::opt(e.note.clone()),
                Cell::text(&e.hash),
            ]
        })
        .collect();
    let p = &rec.payment;
    Report {
        key: "approval_trail",
        title: "Jejak Persetujuan SPP".into(),
        meta: vec![
            ("payment_id", "ID SPP", p.id.to_string()),
            ("village_code", "Kode Desa", village_code.to_string()),
            ("description", "Uraian", p.description.clone()),
            ("gross", "Jumlah Bruto", crate::domain::money::Amount(p.gross).to_string()),
            ("net", "Jumlah Neto", crate::domain::money::Amount(p.net).to_string()),
            ("status", "Status", p.status.to_string()),
        ],
        sections: vec![Section {
            key: "events",
            title: "Jejak".into(),
            columns: vec![
                col("chain_seq", "No Rantai", Kind::Int),
                col("at", when_heading, Kind::Text),
                col("action", "Tindakan", Kind::Text),
                col("from", "Dari Status", Kind::Text),
                col("to", "Ke Status", Kind::Text),
                col("actor", "Pelaku", Kind::Text),
                col("role", "Peran", Kind::Text),
                col("note", "Catatan", Kind::Text),
                col("hash", "Hash", Kind::Text),
            ],
            rows,
            totals: None,
        }],
        extra: Default::default(),
    }
}

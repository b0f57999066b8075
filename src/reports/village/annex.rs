//! The realisation report in the annex's structure (Lampiran Permendagri 20/2018): revenue by kelompok → jenis →
//! objek, spending by bidang → sub-bidang → kegiatan with the jenis inside each kegiatan, financing by kelompok
//! (6.1, 6.2) → jenis → objek; every heading with the sub-total of what is under it, in the annex's order.
//! A pure function of the figures, so its structure is tested against a hand-computed fixture.

use crate::domain::catalogue::{activity_parents, annex_activity_code, catalogue, Level};
use crate::reports::table::{percent, Cell};
use std::collections::BTreeMap;

/// Budget and realised, in sen.
pub type Figures = (i64, i64);

/// Objek accounts by jenis, by kelompok.
type ByKelompok<'a> = BTreeMap<String, BTreeMap<String, Vec<(&'a String, Figures)>>>;
/// Kegiatan (API code, and figures per jenis) by sub-bidang, by bidang, each level in the annex's numeric order.
type Kegiatan = BTreeMap<Vec<u32>, (String, BTreeMap<String, Figures>)>;
type SubBidang = BTreeMap<Vec<u32>, (String, Kegiatan)>;
type Bidang = BTreeMap<Vec<u32>, (String, SubBidang)>;

fn row(level: &str, code: &str, name: &str, (b, r): Figures) -> Vec<Cell> {
    vec![
        Cell::text(level),
        Cell::text(code),
        Cell::text(name),
        Cell::Money(b),
        Cell::Money(r),
        Cell::Money(b - r),
        Cell::Percent(percent(r, b)),
    ]
}

fn add(a: &mut Figures, b: Figures) {
    a.0 += b.0;
    a.1 += b.1;
}

/// The jenis of an objek code (`5.2.1.07` → `5.2.1`), and its kelompok (`5.2`).
fn parents(code: &str) -> (String, String) {
    let parts: Vec<&str> = code.split('.').collect();
    (
        parts.iter().take(3).copied().collect::<Vec<_>>().join("."),
        parts.iter().take(2).copied().collect::<Vec<_>>().join("."),
    )
}

fn name_of(code: &str, names: &BTreeMap<String, String>) -> String {
    catalogue().account(code).map(|i| i.name.clone()).or_else(|| names.get(code).cloned()).unwrap_or_default()
}

/// Revenue or financing, `akun` "4" or "6": kelompok → jenis → objek rows, with each kelompok's and jenis' sub-total.
fn by_account(
    akun: &str,
    by_objek: &BTreeMap<String, Figures>,
    names: &BTreeMap<String, String>,
) -> (Vec<Vec<Cell>>, Figures) {
    let mut kelompok: ByKelompok = BTreeMap::new();
    for (code, f) in by_objek.iter().filter(|(c, _)| c.split('.').next() == Some(akun)) {
        let (jenis, kel) = parents(code);
        kelompok.entry(kel).or_default().entry(jenis).or_default().push((code, *f));
    }
    let mut rows = Vec::new();
    let mut total = (0, 0);
    for (kel, jenis_map) in &kelompok {
        let mut kel_total = (0, 0);
        let mut inner = Vec::new();
        for (jenis, objek) in jenis_map {
            let mut jenis_total = (0, 0);
            let objek_rows: Vec<Vec<Cell>> = objek
                .iter()
                .map(|(code, f)| {
                    add(&mut jenis_total, *f);
                    row("objek", code, &name_of(code, names), *f)
                })
                .collect();
            inner.push(row("jenis", jenis, &name_of(jenis, names), jenis_total));
            inner.extend(objek_rows);
            add(&mut kel_total, jenis_total);
        }
        rows.push(row("kelompok", kel, &name_of(kel, names), kel_total));
        rows.extend(inner);
        add(&mut total, kel_total);
    }
    (rows, total)
}

/// Spending: bidang → sub-bidang → kegiatan → jenis, from the figures per (API activity code, objek account).
fn spending(
    by_activity: &BTreeMap<(String, String), Figures>,
    names: &BTreeMap<String, String>,
) -> (Vec<Vec<Cell>>, Figures) {
    // Keyed by the annex's order: bidang, sub-bidang and kegiatan codes compare as numbers, not text.
    let order = |annex: &str| -> Vec<u32> { annex.split('.').map(|p| p.parse().unwrap_or(u32::MAX)).collect() };
    let mut tree: Bidang = BTreeMap::new();
    for ((activity, account), f) in by_activity {
        let annex = annex_activity_code(activity).unwrap_or_else(|| activity.clone());
        let Some((bidang, sub)) = activity_parents(activity) else { continue };
        let b = tree.entry(order(&bidang.code)).or_insert_with(|| (bidang.code.clone(), BTreeMap::new()));
        let s = b.1.entry(order(&sub.code)).or_insert_with(|| (sub.code.clone(), BTreeMap::new()));
        let k = s.1.entry(order(&annex)).or_insert_with(|| (activity.clone(), BTreeMap::new()));
        let (jenis, _) = parents(account);
        add(k.1.entry(jenis).or_insert((0, 0)), *f);
    }
    let heading = |code: &str| catalogue().activity(code).map(|i| i.name.clone()).unwrap_or_default();
    let mut rows = Vec::new();
    let mut total = (0, 0);
    for (bidang, subs) in tree.values() {
        let mut bidang_rows = Vec::new();
        let mut bidang_total = (0, 0);
        for (sub, kegiatan) in subs.values() {
            let mut sub_rows = Vec::new();
            let mut sub_total = (0, 0);
            for (activity, jenis) in kegiatan.values() {
                let keg_total = jenis.values().fold((0, 0), |mut acc, f| {
                    add(&mut acc, *f);
                    acc
                });
                let name =
                    crate::domain::catalogue::activity(activity).map(|a| a.name().to_string()).unwrap_or_default();
                sub_rows.push(row("kegiatan", activity, &name, keg_total));
                for (code, f) in jenis {
                    sub_rows.push(row("jenis", code, &name_of(code, names), *f));
                }
                add(&mut sub_total, keg_total);
            }
            bidang_rows.push(row("sub_bidang", sub, &heading(sub), sub_total));
            bidang_rows.extend(sub_rows);
            add(&mut bidang_total, sub_total);
        }
        rows.push(row("bidang", bidang, &heading(bidang), bidang_total));
        rows.extend(bidang_rows);
        add(&mut total, bidang_total);
    }
    (rows, total)
}

/// Every row of the report in the annex's structure, with the totals of revenue, spending, surplus, net financing
/// and SiLPA. `by_objek`: revenue and financing per objek account; `by_activity`: spending per (activity, objek).
pub fn annex_rows(
    by_objek: &BTreeMap<String, Figures>,
    by_activity: &BTreeMap<(String, String), Figures>,
    names: &BTreeMap<String, String>,
) -> Vec<Vec<Cell>> {
    let akun = |code: &str| {
        catalogue()
            .accounts
            .iter()
            .find(|i| i.code == code && i.level == Level::Akun)
            .map(|i| i.name.clone())
            .unwrap_or_default()
    };
    let mut rows = Vec::new();
    let (revenue_rows, revenue) = by_account("4", by_objek, names);
    rows.push(row("akun", "4", &akun("4"), revenue));
    rows.extend(revenue_rows);
    let (spending_rows, spent) = spending(by_activity, names);
    rows.push(row("akun", "5", &akun("5"), spent));
    rows.extend(spending_rows);
    let surplus = (revenue.0 - spent.0, revenue.1 - spent.1);
    rows.push(row("jumlah", "", "Surplus/(Defisit)", surplus));
    let (financing_rows, _) = by_account("6", by_objek, names);
    rows.push(row("akun", "6", &akun("6"), (0, 0)));
    rows.extend(financing_rows);
    let of = |kel: &str| -> Figures {
        by_objek.iter().filter(|(c, _)| parents(c).1 == kel).fold((0, 0), |mut acc, (_, f)| {
            add(&mut acc, *f);
            acc
        })
    };
    let (receipts, outlays) = (of("6.1"), of("6.2"));
    let net = (receipts.0 - outlays.0, receipts.1 - outlays.1);
    rows.push(row("jumlah", "", "Pembiayaan Netto", net));
    rows.push(row(
        "jumlah",
        "",
        "Sisa Lebih/(Kurang) Pembiayaan Anggaran (SiLPA)",
        (surplus.0 + net.0, surplus.1 + net.1),
    ));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The golden file: a village with Dana Desa and bank interest, road works (materials and labour) and the head's
    /// salary, and last year's SiLPA. Every level in the annex's order, each heading the sum of what is under it.
    #[test]
    fn the_structure_levels_order_and_subtotals() {
        let by_objek: BTreeMap<String, Figures> =
            [("4.2.1.01", (500_000, 300_000)), ("4.3.6.01", (1_000, 1_250)), ("6.1.1.01", (50_000, 50_000))]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
        let by_activity: BTreeMap<(String, String), Figures> = [
            (("02.03.10", "5.2.1.07"), (100_000, 60_000)),
            (("02.03.10", "5.3.5.02"), (40_000, 10_000)),
            (("01.01.01", "5.1.1.01"), (120_000, 90_000)),
        ]
        .into_iter()
        .map(|((a, c), v)| ((a.to_string(), c.to_string()), v))
        .collect();
        let rows = annex_rows(&by_objek, &by_activity, &BTreeMap::new());
        let text = |c: &Cell| match c {
            Cell::Text(s) => s.clone(),
            Cell::Money(m) => m.to_string(),
            _ => String::new(),
        };
        let got: Vec<String> =
            rows.iter().map(|r| format!("{} {} {} {}", text(&r[0]), text(&r[1]), text(&r[3]), text(&r[4]))).collect();
        let expected = [
            "akun 4 501000 301250",
            "kelompok 4.2 500000 300000",
            "jenis 4.2.1 500000 300000",
            "objek 4.2.1.01 500000 300000",
            "kelompok 4.3 1000 1250",
            "jenis 4.3.6 1000 1250",
            "objek 4.3.6.01 1000 1250",
            "akun 5 260000 160000",
            "bidang 1 120000 90000",
            "sub_bidang 1.1 120000 90000",
            "kegiatan 01.01.01 120000 90000",
            "jenis 5.1.1 120000 90000",
            "bidang 2 140000 70000",
            "sub_bidang 2.3 140000 70000",
            "kegiatan 02.03.10 140000 70000",
            "jenis 5.2.1 100000 60000",
            "jenis 5.3.5 40000 10000",
            "jumlah  241000 141250",
            "akun 6 0 0",
            "kelompok 6.1 50000 50000",
            "jenis 6.1.1 50000 50000",
            "objek 6.1.1.01 50000 50000",
            "jumlah  50000 50000",
            "jumlah  291000 191250",
        ];
        assert_eq!(got, expected);
        assert_eq!(text(&rows[1][2]), "Transfer");
        assert_eq!(text(&rows[14][2]), "Pembangunan/Rehabilitasi/Peningkatan/Pengerasan Jalan Desa");
    }
}

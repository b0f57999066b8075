//! Taxes as the tax office counts them: what a village withholds (PPh 22, 23, 4(2)) and collects (PPN) on a purchase,
//! from date-effective rates, and when each must be deposited.
//!
//! **Rounding.** Every amount is computed exactly (decimals, never floats) and rounded once, down to the whole rupiah
//! (the sen are dropped), the way the tax office's own forms count: the DPP of a VAT-inclusive price is
//! `price × 100 / (100 + effective PPN rate)` rounded down; each tax is `base × rate` rounded down. PPN from 2025
//! is 12% of a base of 11/12 of the DPP (PMK 131/2024), computed without rounding the intermediate base, so it is
//! still exactly 11% of the DPP.
//!
//! **Deadlines.** Tax withheld in a month is deposited by the 15th of the following month, or the next working day
//! when that is a Saturday, a Sunday or a holiday (PMK 81/2024).

use super::money::Money;
use chrono::{Datelike, NaiveDate, Weekday};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::str::FromStr;

text_enum! {
    /// What a purchase is, for the taxes it bears.
    pub enum PurchaseKind {
        Goods = "goods",
        Services = "services",
        Construction = "construction",
        /// Rent of land or buildings (other rent is a service).
        Rent = "rent",
        /// Food and drink from a restaurant or caterer: the regency's tax (PBJT, pajak daerah) instead of PPN.
        Meals = "meals",
    }
}

text_enum! {
    /// A construction contractor's certificate (SBU), which decides its PPh 4(2) rate.
    pub enum Qualification {
        Small = "small",
        Medium = "medium",
        Large = "large",
        /// No certificate.
        None = "none",
    }
}

/// One rate, in force from a date until the next entry for the same key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatePeriod {
    /// `ppn`, `pph22`, `pph22_no_npwp`, `pph23`, `pph23_no_npwp`, `pph4_2_construction_small`,
    /// `pph4_2_construction_medium`, `pph4_2_construction_large`, `pph4_2_construction_none`, `pph4_2_rent`.
    pub key: String,
    pub from: NaiveDate,
    /// Percent, as a decimal string (`"1.5"`).
    pub percent: String,
    /// The base as a fraction of the DPP, when it is not the DPP itself: `[11, 12]` for PPN from 2025.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_fraction: Option<[u32; 2]>,
    /// A regency's own rate (its code, e.g. `61.12`): regional tax (`pajak_daerah`) is the regency's to set. It
    /// takes precedence over the entry without a regency for that regency's villages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regency: Option<String>,
}

/// The rates and rules of the calculator: configuration, with the shipped defaults of the domain reference.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaxRules {
    pub rates: Vec<RatePeriod>,
    /// PPh 22 is not withheld on purchases up to this price excluding PPN, in sen (Rp 2,000,000).
    pub pph22_threshold_sen: i64,
    /// The day of the following month by which withheld tax is deposited.
    pub deposit_day: u32,
    /// Days that are not working days besides weekends (national holidays, joint leave).
    pub holidays: Vec<NaiveDate>,
}

fn period(key: &str, from: (i32, u32, u32), percent: &str, base_fraction: Option<[u32; 2]>) -> RatePeriod {
    RatePeriod {
        key: key.to_string(),
        from: NaiveDate::from_ymd_opt(from.0, from.1, from.2).expect("a valid date"),
        percent: percent.to_string(),
        base_fraction,
        regency: None,
    }
}

impl Default for TaxRules {
    fn default() -> Self {
        let always = (2000, 1, 1);
        TaxRules {
            rates: vec![
                period("ppn", always, "10", None),
                period("ppn", (2022, 4, 1), "11", None),
                period("ppn", (2025, 1, 1), "12", Some([11, 12])),
                period("pph22", always, "1.5", None),
                period("pph22_no_npwp", always, "3", None),
                period("pph23", always, "2", None),
                period("pph23_no_npwp", always, "4", None),
                period("pph4_2_construction_small", always, "1.75", None),
                period("pph4_2_construction_medium", always, "2.65", None),
                period("pph4_2_construction_large", always, "2.65", None),
                period("pph4_2_construction_none", always, "4", None),
                period("pph4_2_rent", always, "10", None),
                // Regencies set their own; 10% is the common restaurant rate (UU 1/2022 caps it there).
                period("pajak_daerah", always, "10", None),
            ],
            pph22_threshold_sen: 200_000_000,
            deposit_day: 15,
            holidays: Vec::new(),
        }
    }
}

/// A rate in force on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub percent: Decimal,
    /// The base as a fraction of the DPP.
    pub base_fraction: (u32, u32),
}

impl Rate {
    /// The rate as it bears on the DPP (PPN from 2025: 12% × 11/12 = 11%).
    pub fn effective(&self) -> Decimal {
        self.percent * Decimal::from(self.base_fraction.0) / Decimal::from(self.base_fraction.1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaxError {
    #[error("no {key} rate is configured for {date}")]
    NoRate { key: String, date: NaiveDate },
    #[error("the {key} rate {percent:?} from {from} is not a percentage between 0 and 100")]
    BadRate { key: String, from: NaiveDate, percent: String },
    #[error("construction needs contractor_qualification (small, medium, large or none)")]
    QualificationMissing,
    #[error("the amount is too large to compute taxes on")]
    Overflow,
}

impl TaxRules {
    /// The rate of `key` in force on `date`: the latest period that began on or before it.
    pub fn rate(&self, key: &str, date: NaiveDate) -> Result<Rate, TaxError> {
        self.rate_in(key, date, None)
    }

    /// [`Self::rate`] for a regency's villages: its own entries first, then the general ones.
    pub fn rate_in(&self, key: &str, date: NaiveDate, regency: Option<&str>) -> Result<Rate, TaxError> {
        let latest = |own: bool| {
            self.rates
                .iter()
                .filter(|p| p.key == key && p.from <= date)
                .filter(
                    |p| if own { p.regency.is_some() && p.regency.as_deref() == regency } else { p.regency.is_none() },
                )
                .max_by_key(|p| p.from)
        };
        let p =
            latest(true).or_else(|| latest(false)).ok_or_else(|| TaxError::NoRate { key: key.to_string(), date })?;
        let bad = || TaxError::BadRate { key: p.key.clone(), from: p.from, percent: p.percent.clone() };
        let percent = Decimal::from_str(&p.percent).map_err(|_| bad())?;
        let base_fraction = p.base_fraction.map_or((1, 1), |[n, d]| (n, d));
        if percent.is_sign_negative() || percent > Decimal::from(100) || base_fraction.1 == 0 {
            return Err(bad());
        }
        Ok(Rate { percent, base_fraction })
    }

    /// Checks every configured rate (at start-up: a bad rate is refused before any request meets it).
    pub fn validate(&self) -> Result<(), TaxError> {
        for p in &self.rates {
            self.rate(&p.key, p.from)?;
        }
        Ok(())
    }

    /// Whether a day is a working day (not a weekend, not in `holidays`): the calendar deadlines count in.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&d)
    }

    /// The day `n` working days after `from` (an advance's accountability is due 10 working days after it was paid).
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut d = from;
        let mut left = n;
        while left > 0 {
            d = d.succ_opt().expect("dates go on");
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// The day withheld tax of `withheld_on` must be deposited by: the deposit day of the following month, moved to
    /// the next working day.
    pub fn deposit_deadline(&self, withheld_on: NaiveDate) -> NaiveDate {
        let (y, m) = if withheld_on.month() == 12 {
            (withheld_on.year() + 1, 1)
        } else {
            (withheld_on.year(), withheld_on.month() + 1)
        };
        let last = last_day_of_month(y, m);
        let mut d = NaiveDate::from_ymd_opt(y, m, self.deposit_day.clamp(1, last)).expect("a day of the month");
        while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) || self.holidays.contains(&d) {
            d = d.succ_opt().expect("dates go on");
        }
        d
    }
}

fn last_day_of_month(y: i32, m: u32) -> u32 {
    let next = if m == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1) } else { NaiveDate::from_ymd_opt(y, m + 1, 1) };
    next.and_then(|n| n.pred_opt()).map_or(28, |d| d.day())
}

/// A purchase to compute taxes on (`POST /tax/calculate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purchase {
    pub date: NaiveDate,
    pub kind: PurchaseKind,
    /// The price, with or without PPN as `includes_vat` says.
    pub amount: Money,
    pub includes_vat: bool,
    pub vendor_vat_registered: bool,
    pub vendor_has_npwp: bool,
    pub contractor_qualification: Option<Qualification>,
    /// Goods PPh 22 is not withheld on (fuel, electricity, gas, drinking water, postage).
    pub exempt_goods: bool,
    /// The village's regency (its code), for the regency's own rates.
    pub regency: Option<String>,
}

/// One tax on a purchase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withholding {
    /// The tax's code as payment lines carry it: `PPN`, `PPH22`, `PPH23`, `PPH4_2`, `PAJAK_DAERAH`.
    pub tax: &'static str,
    pub rate: Decimal,
    /// In sen, whole rupiah.
    pub base: i64,
    pub amount: i64,
}

/// What a purchase comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calculation {
    /// The price before PPN (dasar pengenaan pajak), in sen.
    pub dpp: i64,
    pub withholdings: Vec<Withholding>,
    /// What the vendor is paid: the price with PPN less every tax withheld or collected, in sen.
    pub net: i64,
}

/// Down to the whole rupiah (100 sen), from an exact amount in sen.
fn rupiah_floor(sen: Decimal) -> Result<i64, TaxError> {
    let rupiah = (sen / Decimal::from(100)).floor();
    (rupiah * Decimal::from(100)).to_i64().ok_or(TaxError::Overflow)
}

fn pct(base: Decimal, percent: Decimal) -> Decimal {
    base * percent / Decimal::from(100)
}

/// The taxes on a purchase, from the rates in force on its date.
pub fn calculate(rules: &TaxRules, p: &Purchase) -> Result<Calculation, TaxError> {
    if p.kind == PurchaseKind::Meals {
        return regional_tax(rules, p);
    }
    let amount = Decimal::from(p.amount.sen());
    let mut withholdings = Vec::new();
    let (dpp, total) = if p.vendor_vat_registered {
        let ppn = rules.rate("ppn", p.date)?;
        let (n, den) = (Decimal::from(ppn.base_fraction.0), Decimal::from(ppn.base_fraction.1));
        let hundred = Decimal::from(100);
        // Exact fractions, one division each, so that 12% of 11/12 is exactly 11%.
        let dpp = if p.includes_vat {
            rupiah_floor(amount * hundred * den / (hundred * den + ppn.percent * n))?
        } else {
            p.amount.sen()
        };
        let vat = rupiah_floor(Decimal::from(dpp) * n * ppn.percent / (den * hundred))?;
        let base = rupiah_floor(Decimal::from(dpp) * n / den)?;
        withholdings.push(Withholding { tax: "PPN", rate: ppn.percent, base, amount: vat });
        let total = if p.includes_vat { p.amount.sen() } else { dpp.checked_add(vat).ok_or(TaxError::Overflow)? };
        (dpp, total)
    } else {
        // A vendor that is not VAT-registered charges no PPN: its price is the base.
        (p.amount.sen(), p.amount.sen())
    };
    let income = |key: &str| -> Result<Option<(Decimal, i64)>, TaxError> {
        let r = rules.rate(key, p.date)?;
        Ok(Some((r.percent, rupiah_floor(pct(Decimal::from(dpp), r.percent))?)))
    };
    let pph = match p.kind {
        PurchaseKind::Goods if p.exempt_goods || dpp <= rules.pph22_threshold_sen => None,
        PurchaseKind::Goods => income(if p.vendor_has_npwp { "pph22" } else { "pph22_no_npwp" })?.map(|x| ("PPH22", x)),
        PurchaseKind::Services => {
            income(if p.vendor_has_npwp { "pph23" } else { "pph23_no_npwp" })?.map(|x| ("PPH23", x))
        }
        PurchaseKind::Construction => {
            let q = p.contractor_qualification.ok_or(TaxError::QualificationMissing)?;
            income(&format!("pph4_2_construction_{}", q.as_str()))?.map(|x| ("PPH4_2", x))
        }
        PurchaseKind::Rent => income("pph4_2_rent")?.map(|x| ("PPH4_2", x)),
        PurchaseKind::Meals => None,
    };
    if let Some((tax, (rate, amount))) = pph {
        withholdings.push(Withholding { tax, rate, base: dpp, amount });
    }
    let withheld: i64 = withholdings.iter().map(|w| w.amount).sum();
    Ok(Calculation { dpp, net: total - withheld, withholdings })
}

/// Meals: the regency's tax on food and drink (pajak daerah) at its rate, collected by the village and deposited to
/// the regency's treasury; no PPN (the regional tax stands in for it) and no PPh. `includes_vat` means the price
/// includes that tax.
fn regional_tax(rules: &TaxRules, p: &Purchase) -> Result<Calculation, TaxError> {
    let r = rules.rate_in("pajak_daerah", p.date, p.regency.as_deref())?;
    let hundred = Decimal::from(100);
    let amount = Decimal::from(p.amount.sen());
    let base = if p.includes_vat { rupiah_floor(amount * hundred / (hundred + r.percent))? } else { p.amount.sen() };
    let tax = rupiah_floor(pct(Decimal::from(base), r.percent))?;
    let total = if p.includes_vat { p.amount.sen() } else { base.checked_add(tax).ok_or(TaxError::Overflow)? };
    Ok(Calculation {
        dpp: base,
        withholdings: vec![Withholding { tax: "PAJAK_DAERAH", rate: r.percent, base, amount: tax }],
        net: total - tax,
    })
}

/// When the withholdings a person entered differ from what the calculator proposed, the sentence the request's trail
/// records (amounts in sen; `None` when they agree, whatever the order).
pub fn override_note(line: usize, proposed: &[(&str, i64)], entered: &[(&str, i64)]) -> Option<String> {
    let sorted = |v: &[(&str, i64)]| {
        let mut v: Vec<(String, i64)> = v.iter().map(|(t, a)| (t.to_string(), *a)).collect();
        v.sort();
        v
    };
    let (p, e) = (sorted(proposed), sorted(entered));
    if p == e {
        return None;
    }
    let list = |v: &[(String, i64)]| {
        if v.is_empty() {
            return "none".to_string();
        }
        v.iter().map(|(t, a)| format!("{t} {}", super::money::Amount(*a))).collect::<Vec<_>>().join(", ")
    };
    Some(format!("line {}: withholdings overridden (proposed {}; entered {})", line + 1, list(&p), list(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn rp(rupiah: i64) -> Money {
        Money::from_sen(rupiah * 100).unwrap()
    }

    fn purchase(date: NaiveDate, kind: PurchaseKind, amount: Money) -> Purchase {
        Purchase {
            date,
            kind,
            amount,
            includes_vat: true,
            vendor_vat_registered: true,
            vendor_has_npwp: true,
            contractor_qualification: None,
            exempt_goods: false,
            regency: None,
        }
    }

    fn taxes(c: &Calculation) -> Vec<(&'static str, i64)> {
        c.withholdings.iter().map(|w| (w.tax, w.amount / 100)).collect()
    }

    #[test]
    fn the_worked_example_of_the_domain_reference() {
        // A VAT-registered supplier in 2026, invoice Rp 11,100,000 including PPN.
        let c = calculate(&TaxRules::default(), &purchase(d(2026, 3, 2), PurchaseKind::Goods, rp(11_100_000))).unwrap();
        assert_eq!(c.dpp, 1_000_000_000);
        assert_eq!(taxes(&c), vec![("PPN", 1_100_000), ("PPH22", 150_000)]);
        assert_eq!(c.net, 985_000_000);
        assert_eq!(c.withholdings[0].rate, Decimal::from(12));
        assert_eq!(c.withholdings[0].base, 916_666_600, "11/12 of the DPP, shown to the rupiah");
    }

    #[test]
    fn ppn_changes_on_its_dates() {
        let rules = TaxRules::default();
        let at = |date| {
            let mut p = purchase(date, PurchaseKind::Goods, rp(1_000_000));
            p.includes_vat = false;
            calculate(&rules, &p).unwrap().withholdings[0].amount / 100
        };
        assert_eq!(at(d(2022, 3, 31)), 100_000);
        assert_eq!(at(d(2022, 4, 1)), 110_000);
        assert_eq!(at(d(2024, 12, 31)), 110_000);
        assert_eq!(at(d(2025, 1, 1)), 110_000, "12% of 11/12 is still 11%");
        assert_eq!(rules.rate("ppn", d(2024, 12, 31)).unwrap().percent, Decimal::from(11));
        assert_eq!(rules.rate("ppn", d(2025, 1, 1)).unwrap().percent, Decimal::from(12));
    }

    #[test]
    fn pph22_starts_above_two_million_excluding_ppn() {
        let rules = TaxRules::default();
        let goods = |sen: i64, npwp: bool| {
            let mut p = purchase(d(2026, 5, 5), PurchaseKind::Goods, Money::from_sen(sen).unwrap());
            p.includes_vat = false;
            p.vendor_has_npwp = npwp;
            calculate(&rules, &p).unwrap()
        };
        assert_eq!(taxes(&goods(200_000_000, true)), vec![("PPN", 220_000)], "Rp 2,000,000 exactly: no PPh 22");
        let above = goods(200_000_001, true);
        assert_eq!(above.withholdings[1].tax, "PPH22");
        assert_eq!(above.withholdings[1].amount, 3_000_000, "1.5% of Rp 2,000,000.01, rounded down to the rupiah");
        assert_eq!(goods(1_000_000_000, false).withholdings[1].amount, 30_000_000, "3% without NPWP");
        let mut fuel = purchase(d(2026, 5, 5), PurchaseKind::Goods, rp(5_000_000));
        fuel.exempt_goods = true;
        assert_eq!(taxes(&calculate(&rules, &fuel).unwrap()).len(), 1, "only PPN on exempt goods");
        // Not VAT-registered: no PPN, and the price is the base.
        let mut plain = purchase(d(2026, 5, 5), PurchaseKind::Goods, rp(3_000_000));
        plain.vendor_vat_registered = false;
        let c = calculate(&rules, &plain).unwrap();
        assert_eq!((c.dpp, taxes(&c), c.net), (300_000_000, vec![("PPH22", 45_000)], 295_500_000));
    }

    #[test]
    fn services_construction_and_rent() {
        let rules = TaxRules::default();
        let mut p = purchase(d(2026, 6, 1), PurchaseKind::Services, rp(10_000_000));
        p.vendor_vat_registered = false;
        assert_eq!(taxes(&calculate(&rules, &p).unwrap()), vec![("PPH23", 200_000)]);
        p.vendor_has_npwp = false;
        assert_eq!(taxes(&calculate(&rules, &p).unwrap()), vec![("PPH23", 400_000)], "doubled without NPWP");
        let mut build = purchase(d(2026, 6, 1), PurchaseKind::Construction, rp(100_000_000));
        build.vendor_vat_registered = false;
        assert_eq!(calculate(&rules, &build), Err(TaxError::QualificationMissing));
        for (q, tax) in [
            (Qualification::Small, 1_750_000),
            (Qualification::Medium, 2_650_000),
            (Qualification::Large, 2_650_000),
            (Qualification::None, 4_000_000),
        ] {
            build.contractor_qualification = Some(q);
            assert_eq!(taxes(&calculate(&rules, &build).unwrap()), vec![("PPH4_2", tax)], "{q}");
        }
        let mut rent = purchase(d(2026, 6, 1), PurchaseKind::Rent, rp(12_000_000));
        rent.vendor_vat_registered = false;
        assert_eq!(taxes(&calculate(&rules, &rent).unwrap()), vec![("PPH4_2", 1_200_000)]);
    }

    #[test]
    fn meals_bear_the_regencys_own_tax() {
        let mut rules = TaxRules::default();
        let mut meal = purchase(d(2026, 7, 1), PurchaseKind::Meals, rp(1_100_000));
        let c = calculate(&rules, &meal).unwrap();
        assert_eq!((c.dpp, taxes(&c), c.net), (100_000_000, vec![("PAJAK_DAERAH", 100_000)], 100_000_000));
        rules
            .rates
            .push(RatePeriod { regency: Some("61.12".into()), ..period("pajak_daerah", (2026, 1, 1), "5", None) });
        assert_eq!(
            taxes(&calculate(&rules, &meal).unwrap()),
            vec![("PAJAK_DAERAH", 100_000)],
            "another regency's rate"
        );
        meal.regency = Some("61.12".into());
        meal.includes_vat = false;
        meal.amount = rp(1_000_000);
        assert_eq!(taxes(&calculate(&rules, &meal).unwrap()), vec![("PAJAK_DAERAH", 50_000)], "Kubu Raya's own 5%");
        meal.date = d(2025, 12, 31);
        assert_eq!(
            taxes(&calculate(&rules, &meal).unwrap()),
            vec![("PAJAK_DAERAH", 100_000)],
            "before its own took effect"
        );
    }

    #[test]
    fn deadlines_are_the_15th_or_the_next_working_day() {
        let mut rules = TaxRules::default();
        assert_eq!(rules.deposit_deadline(d(2026, 4, 30)), d(2026, 5, 15)); // a Friday
        assert_eq!(rules.deposit_deadline(d(2026, 2, 1)), d(2026, 3, 16)); // the 15th is a Sunday
        assert_eq!(rules.deposit_deadline(d(2026, 12, 10)), d(2027, 1, 15));
        rules.holidays.push(d(2026, 5, 15));
        // Friday 8 May + 10 working days, 14 and 15 May being holidays: 26 May.
        let cal = TaxRules { holidays: vec![d(2026, 5, 14), d(2026, 5, 15)], ..TaxRules::default() };
        assert_eq!(cal.add_working_days(d(2026, 5, 8), 10), d(2026, 5, 26));
        assert_eq!(cal.add_working_days(d(2026, 5, 8), 0), d(2026, 5, 8));
        assert_eq!(rules.deposit_deadline(d(2026, 4, 1)), d(2026, 5, 18), "a holiday Friday, then the weekend");
    }

    #[test]
    fn an_override_is_described_and_agreement_is_not() {
        assert_eq!(override_note(0, &[("PPN", 5), ("PPH22", 2)], &[("PPH22", 2), ("PPN", 5)]), None);
        let n = override_note(1, &[("PPN", 110_000_000), ("PPH22", 15_000_000)], &[("PPN", 100_000_000)]).unwrap();
        assert_eq!(
            n,
            "line 2: withholdings overridden (proposed PPH22 150000.00, PPN 1100000.00; entered PPN 1000000.00)"
        );
        assert!(override_note(0, &[("PPH23", 1)], &[]).unwrap().contains("entered none"));
    }

    #[test]
    fn configured_rates_are_checked() {
        let mut rules = TaxRules::default();
        assert!(rules.validate().is_ok());
        rules.rates.push(period("pph23", (2027, 1, 1), "two", None));
        assert!(matches!(rules.validate(), Err(TaxError::BadRate { .. })));
        assert!(matches!(TaxRules::default().rate("ppn", d(1999, 12, 31)), Err(TaxError::NoRate { .. })));
    }

    proptest! {
        /// Whatever the purchase: the DPP is never above the price, every tax is a whole rupiah no larger than its
        /// exact value nor more than a rupiah below it, and the vendor's net is the price with PPN less every tax.
        #[test]
        fn taxes_round_down_to_the_rupiah_and_add_up(
            sen in 1i64..10_000_000_000_000, kind in 0usize..5, incl: bool, vat: bool, npwp: bool,
            year in 2021i32..2028, q in 0usize..4,
        ) {
            let mut p = purchase(d(year, 6, 30), PurchaseKind::ALL[kind], Money::from_sen(sen).unwrap());
            p.includes_vat = incl;
            p.vendor_vat_registered = vat;
            p.vendor_has_npwp = npwp;
            p.contractor_qualification = Some(Qualification::ALL[q]);
            let c = calculate(&TaxRules::default(), &p).unwrap();
            prop_assert!(c.dpp <= sen);
            let meals = PurchaseKind::ALL[kind] == PurchaseKind::Meals;
            let mut total = if (vat || meals) && !incl { c.dpp } else { sen };
            for w in &c.withholdings {
                prop_assert_eq!(w.amount % 100, 0);
                let exact = Decimal::from(w.base) * w.rate / Decimal::from(100);
                if w.tax == "PPN" || w.tax == "PAJAK_DAERAH" {
                    total += if incl { 0 } else { w.amount };
                    continue;
                }
                prop_assert!(Decimal::from(w.amount) <= exact && exact - Decimal::from(w.amount) < Decimal::from(100));
            }
            let withheld: i64 = c.withholdings.iter().map(|w| w.amount).sum();
            prop_assert_eq!(c.net, total - withheld);
        }
    }
}

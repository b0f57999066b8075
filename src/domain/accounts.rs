//! The standard village chart of accounts (every objek of the Permendagri 20/2018 annex, from `catalogue`, and the
//! Siskeudes balance-sheet codes), sources of funds and taxes, as the domain reference lists them.

text_enum! {
    pub enum AccountClass {
        Asset = "asset",
        Liability = "liability",
        Equity = "equity",
        Revenue = "revenue",
        Expenditure = "expenditure",
        FinancingReceipt = "financing_receipt",
        FinancingExpenditure = "financing_expenditure",
    }
}

impl AccountClass {
    /// The side on which this class's balance normally sits.
    pub fn normal_side(self) -> Side {
        match self {
            AccountClass::Asset | AccountClass::Expenditure | AccountClass::FinancingExpenditure => Side::Debit,
            _ => Side::Credit,
        }
    }
}

text_enum! {
    pub enum Side {
        Debit = "debit",
        Credit = "credit",
    }
}

impl Side {
    pub fn opposite(self) -> Side {
        match self {
            Side::Debit => Side::Credit,
            Side::Credit => Side::Debit,
        }
    }

    /// The signed effect of an amount on this side on a debit-positive balance.
    pub fn signed(self, sen: i64) -> i64 {
        match self {
            Side::Debit => sen,
            Side::Credit => -sen,
        }
    }
}

pub struct StandardAccount {
    pub code: &'static str,
    pub name: &'static str,
    pub class: AccountClass,
}

pub const CASH_IN_HAND: &str = "1.1.1.01";
pub const BANK_ACCOUNT: &str = "1.1.1.02";
pub const SUSPENSE: &str = "2.1.9.99";
/// Advances (panjar) paid to implementers and not yet accounted for.
pub const ADVANCES: &str = "1.1.4.01";

/// The accounts whose balance is money the village holds: never negative.
pub fn is_cash_account(code: &str) -> bool {
    code == CASH_IN_HAND || code == BANK_ACCOUNT
}

/// The balance-sheet accounts (classes 1–3), which the annex does not hold (Siskeudes codes, `domain.md`).
pub const BALANCE_SHEET: &[StandardAccount] = &[
    StandardAccount { code: "1.1.1.01", name: "Kas di Bendahara Desa", class: AccountClass::Asset },
    StandardAccount { code: "1.1.1.02", name: "Rekening Kas Desa", class: AccountClass::Asset },
    StandardAccount { code: "1.1.4.01", name: "Uang Muka / Panjar Kegiatan", class: AccountClass::Asset },
    StandardAccount { code: "2.1.3.01", name: "Utang PPN", class: AccountClass::Liability },
    StandardAccount { code: "2.1.3.02", name: "Utang PPh Pasal 21", class: AccountClass::Liability },
    StandardAccount { code: "2.1.3.03", name: "Utang PPh Pasal 22", class: AccountClass::Liability },
    StandardAccount { code: "2.1.3.04", name: "Utang PPh Pasal 23", class: AccountClass::Liability },
    StandardAccount { code: "2.1.3.05", name: "Utang Pajak Daerah", class: AccountClass::Liability },
    StandardAccount { code: "2.1.3.06", name: "Utang PPh Pasal 4 ayat (2)", class: AccountClass::Liability },
    StandardAccount { code: "2.1.9.99", name: "Penerimaan Belum Teridentifikasi", class: AccountClass::Liability },
    StandardAccount { code: "3.1.1.01", name: "Ekuitas Dana / SiLPA", class: AccountClass::Equity },
];

/// Every village's chart: the balance-sheet accounts, then every objek of the annex with the annex's name.
pub fn standard_chart() -> &'static [StandardAccount] {
    static CHART: std::sync::OnceLock<Vec<StandardAccount>> = std::sync::OnceLock::new();
    CHART.get_or_init(|| {
        let annex = super::catalogue::catalogue().objek().map(|i| StandardAccount {
            code: i.code.as_str(),
            name: i.name.as_str(),
            class: class_of_code(&i.code).expect("every annex objek is numbered 4, 5 or 6"),
        });
        BALANCE_SHEET
            .iter()
            .map(|a| StandardAccount { code: a.code, name: a.name, class: a.class })
            .chain(annex)
            .collect()
    })
}

/// Sources of funds (Siskeudes `Ref_Sumber`) and the revenue account a credit from each lands in.
pub const SOURCES: &[(&str, &str)] = &[
    ("DDS", "4.2.1.01"),
    ("ADD", "4.2.3.01"),
    ("PBH", "4.2.2.01"),
    ("PAD", "4.1.4.01"),
    ("PBP", "4.2.4.01"),
    ("PBK", "4.2.5.01"),
    ("SWD", "4.1.3.01"),
    ("DLL", "4.3.9.90"),
];

pub fn is_source(code: &str) -> bool {
    SOURCES.iter().any(|(s, _)| *s == code)
}

/// Taxes withheld on payments and the liability account each accrues in.
pub const TAXES: &[(&str, &str)] = &[
    ("PPN", "2.1.3.01"),
    ("PPH21", "2.1.3.02"),
    ("PPH22", "2.1.3.03"),
    ("PPH23", "2.1.3.04"),
    ("PAJAK_DAERAH", "2.1.3.05"),
    ("PPH4_2", "2.1.3.06"),
];

/// An account code: dot-separated groups of digits, e.g. `5.2.1.07`.
pub fn is_valid_account_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 32
        && code.split('.').all(|part| !part.is_empty() && part.len() <= 4 && part.bytes().all(|b| b.is_ascii_digit()))
}

/// The class an account code belongs to by its first digit (Permendagri 20/2018 numbering).
pub fn class_of_code(code: &str) -> Option<AccountClass> {
    match code.split('.').next()? {
        "1" => Some(AccountClass::Asset),
        "2" => Some(AccountClass::Liability),
        "3" => Some(AccountClass::Equity),
        "4" => Some(AccountClass::Revenue),
        "5" => Some(AccountClass::Expenditure),
        "6" if code.starts_with("6.1") => Some(AccountClass::FinancingReceipt),
        "6" if code.starts_with("6.2") => Some(AccountClass::FinancingExpenditure),
        _ => None,
    }
}

/// An activity code `BB.SS.KK` that the catalogue holds, as an annex kegiatan or a village's own 90–99 slot.
pub fn is_valid_activity_code(code: &str) -> bool {
    super::catalogue::activity(code).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_codes_are_unique_valid_and_classed_by_their_number() {
        let mut seen = std::collections::HashSet::new();
        for a in standard_chart() {
            assert!(seen.insert(a.code), "duplicate {}", a.code);
            assert!(is_valid_account_code(a.code));
            assert_eq!(class_of_code(a.code), Some(a.class), "{}", a.code);
        }
        for (_, acc) in SOURCES.iter().chain(TAXES) {
            assert!(seen.contains(acc));
        }
    }

    #[test]
    fn activity_codes() {
        assert!(is_valid_activity_code("02.03.10"));
        assert!(!is_valid_activity_code("02.03.55"), "well formed, not in the catalogue");
        assert!(!is_valid_activity_code("06.01.01"));
        assert!(!is_valid_activity_code("2.3.10"));
        assert!(!is_valid_activity_code("02.03"));
    }
}

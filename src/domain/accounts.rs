//! The standard village chart of accounts (Permendagri 20/2018 budget codes, Siskeudes balance-sheet codes), sources
//! of funds and taxes, as the domain reference lists them.

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

/// The accounts whose balance is money the village holds: never negative.
pub fn is_cash_account(code: &str) -> bool {
    code == CASH_IN_HAND || code == BANK_ACCOUNT
}

macro_rules! chart {
    ($(($code:literal, $name:literal, $class:ident)),* $(,)?) => {
        pub const STANDARD_CHART: &[StandardAccount] = &[
            $(StandardAccount { code: $code, name: $name, class: AccountClass::$class }),*
        ];
    };
}

chart![
    ("1.1.1.01", "Kas di Bendahara Desa", Asset),
    ("1.1.1.02", "Rekening Kas Desa", Asset),
    ("2.1.3.01", "Utang PPN", Liability),
    ("2.1.3.02", "Utang PPh Pasal 21", Liability),
    ("2.1.3.03", "Utang PPh Pasal 22", Liability),
    ("2.1.3.04", "Utang PPh Pasal 23", Liability),
    ("2.1.3.05", "Utang Pajak Lainnya / Pajak Daerah", Liability),
    ("2.1.3.06", "Utang PPh Pasal 4 ayat (2)", Liability),
    ("2.1.9.99", "Penerimaan Belum Teridentifikasi", Liability),
    ("3.1.1.01", "Ekuitas Dana / SiLPA", Equity),
    ("4.1.1.01", "Bagi Hasil BUMDes", Revenue),
    ("4.1.2.01", "Hasil Aset Desa (Tanah Kas Desa)", Revenue),
    ("4.1.3.01", "Swadaya, Partisipasi dan Gotong Royong", Revenue),
    ("4.1.4.01", "Lain-lain Pendapatan Asli Desa", Revenue),
    ("4.2.1.01", "Dana Desa", Revenue),
    ("4.2.2.01", "Bagi Hasil Pajak dan Retribusi", Revenue),
    ("4.2.3.01", "Alokasi Dana Desa", Revenue),
    ("4.2.4.01", "Bantuan Keuangan Provinsi", Revenue),
    ("4.2.5.01", "Bantuan Keuangan Kabupaten/Kota", Revenue),
    ("4.3.6.01", "Bunga Bank", Revenue),
    ("4.3.9.01", "Lain-lain Pendapatan Desa yang Sah", Revenue),
    ("5.1.1.01", "Penghasilan Tetap Kepala Desa", Expenditure),
    ("5.1.2.01", "Penghasilan Tetap Perangkat Desa", Expenditure),
    ("5.1.4.01", "Tunjangan Kedudukan BPD", Expenditure),
    ("5.2.1.01", "Belanja Alat Tulis Kantor", Expenditure),
    ("5.2.1.07", "Belanja Bahan/Material", Expenditure),
    ("5.2.2.01", "Belanja Jasa Honorarium", Expenditure),
    ("5.2.3.01", "Belanja Perjalanan Dinas", Expenditure),
    ("5.2.4.01", "Belanja Jasa Sewa", Expenditure),
    ("5.2.5.01", "Belanja Listrik", Expenditure),
    ("5.2.9.01", "Biaya Administrasi Bank", Expenditure),
    ("5.3.4.01", "Belanja Modal Gedung, Bangunan dan Taman", Expenditure),
    ("5.3.5.01", "Belanja Modal Jalan/Prasarana Jalan", Expenditure),
    ("5.4.1.01", "Belanja Tak Terduga", Expenditure),
    ("6.1.1.01", "SiLPA Tahun Sebelumnya", FinancingReceipt),
    ("6.2.2.01", "Penyertaan Modal Desa", FinancingExpenditure),
];

/// Sources of funds (Siskeudes `Ref_Sumber`) and the revenue account a credit from each lands in.
pub const SOURCES: &[(&str, &str)] = &[
    ("DDS", "4.2.1.01"),
    ("ADD", "4.2.3.01"),
    ("PBH", "4.2.2.01"),
    ("PAD", "4.1.4.01"),
    ("PBP", "4.2.4.01"),
    ("PBK", "4.2.5.01"),
    ("SWD", "4.1.3.01"),
    ("DLL", "4.3.9.01"),
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

/// An activity code `BB.SS.KK`, bidang 01–05.
pub fn is_valid_activity_code(code: &str) -> bool {
    let parts: Vec<&str> = code.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
        && matches!(parts[0], "01" | "02" | "03" | "04" | "05")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_codes_are_unique_valid_and_classed_by_their_number() {
        let mut seen = std::collections::HashSet::new();
        for a in STANDARD_CHART {
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
        assert!(!is_valid_activity_code("06.01.01"));
        assert!(!is_valid_activity_code("2.3.10"));
        assert!(!is_valid_activity_code("02.03"));
    }
}

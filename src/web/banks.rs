//! Banks by name beside their codes: the three-digit codes Indonesian transfers use (Bank Indonesia's bank codes,
//! the ones an official types for a payee's bank), for the banks a village's payees bank with: the state banks,
//! the large national ones, Bank Syariah Indonesia, and every regional development bank (BPD). A code not here is
//! shown as it is.

const BANKS: &[(&str, &str)] = &[
    ("002", "BRI"),
    ("008", "Bank Mandiri"),
    ("009", "BNI"),
    ("011", "Bank Danamon"),
    ("013", "Bank Permata"),
    ("014", "BCA"),
    ("016", "Maybank Indonesia"),
    ("019", "Bank Panin"),
    ("022", "CIMB Niaga"),
    ("023", "UOB Indonesia"),
    ("028", "OCBC NISP"),
    ("110", "bank bjb"),
    ("111", "Bank DKI"),
    ("112", "BPD DIY"),
    ("113", "Bank Jateng"),
    ("114", "Bank Jatim"),
    ("115", "Bank Jambi"),
    ("116", "Bank Aceh Syariah"),
    ("117", "Bank Sumut"),
    ("118", "Bank Nagari"),
    ("119", "Bank Riau Kepri Syariah"),
    ("120", "Bank Sumsel Babel"),
    ("121", "Bank Lampung"),
    ("122", "Bank Kalsel"),
    ("123", "Bank Kalbar"),
    ("124", "Bank Kaltimtara"),
    ("125", "Bank Kalteng"),
    ("126", "Bank Sulselbar"),
    ("127", "Bank SulutGo"),
    ("128", "Bank NTB Syariah"),
    ("129", "BPD Bali"),
    ("130", "Bank NTT"),
    ("131", "Bank Maluku Malut"),
    ("132", "Bank Papua"),
    ("133", "Bank Bengkulu"),
    ("134", "Bank Sulteng"),
    ("135", "Bank Sultra"),
    ("137", "Bank Banten"),
    ("200", "BTN"),
    ("213", "Bank BTPN"),
    ("426", "Bank Mega"),
    ("441", "KB Bank"),
    ("451", "Bank Syariah Indonesia"),
];

/// Every (code, name), for the payee form's suggestions.
pub fn all() -> &'static [(&'static str, &'static str)] {
    BANKS
}

/// The bank's name for its code, if it is one of the list.
pub fn bank_name(code: &str) -> Option<&'static str> {
    BANKS.iter().find(|(c, _)| *c == code.trim()).map(|(_, n)| *n)
}

/// `123 Bank Kalbar`, or the code alone.
pub fn with_name(code: &str) -> String {
    match bank_name(code) {
        Some(name) => format!("{code} {name}"),
        None => code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_three_digits_and_named() {
        let mut seen = std::collections::HashSet::new();
        for (code, name) in BANKS {
            assert!(code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
            assert!(seen.insert(code), "{code} twice");
            assert!(!name.is_empty());
        }
        assert_eq!(with_name("123"), "123 Bank Kalbar");
        assert_eq!(with_name("999"), "999");
    }
}

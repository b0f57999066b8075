//! The text a request carries, parsed once at the edge into types that can only hold a valid value: free text
//! (descriptions, notes, names), bank and tax identifiers (bank code, account number, NPWP, billing code, NTPN, bank
//! reference) and credentials (username, password). Each has one rule and one limit, here; handlers, the console
//! and the command line all parse with these.

use std::fmt;

/// Why a field was refused: which field, and what its rule is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {rule}")]
pub struct FieldError {
    pub field: String,
    pub rule: String,
}

impl FieldError {
    pub fn new(field: &str, rule: impl Into<String>) -> FieldError {
        FieldError { field: field.to_string(), rule: rule.into() }
    }
}

/// Free text: trimmed, 1..=`max` characters, no control characters, no bidirectional overrides (which can make a
/// report read differently from what is stored, "Trojan source").
pub fn clean_text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(FieldError::new(field, format!("may be at most {max} characters")));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(FieldError::new(field, "may not contain control characters"));
    }
    if v.chars().any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')) {
        return Err(FieldError::new(field, "may not contain bidirectional control characters"));
    }
    Ok(v.to_string())
}

/// Declares a text type: a newtype over `String` whose only constructor is `parse`.
macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

text_type!(
    /// What a transaction or request is for: at most [`Description::MAX`] characters.
    Description
);
impl Description {
    pub const MAX: usize = 500;
    pub fn parse(field: &str, raw: &str) -> Result<Description, FieldError> {
        clean_text(field, raw, Self::MAX).map(Description)
    }
}

text_type!(
    /// A note on a step, a reason for a reversal or a failure: at most [`Note::MAX`] characters.
    Note
);
impl Note {
    pub const MAX: usize = 500;
    pub fn parse(field: &str, raw: &str) -> Result<Note, FieldError> {
        clean_text(field, raw, Self::MAX).map(Note)
    }
}

text_type!(
    /// A person's, a village's, a payee's, an activity's or a client's name: at most [`Name::MAX`] characters.
    Name
);
impl Name {
    pub const MAX: usize = 200;
    pub fn parse(field: &str, raw: &str) -> Result<Name, FieldError> {
        clean_text(field, raw, Self::MAX).map(Name)
    }
}

text_type!(
    /// The bank's reference of a transaction it executed or received: printable, at most [`BankReference::MAX`].
    BankReference
);
impl BankReference {
    pub const MAX: usize = 100;
    pub fn parse(field: &str, raw: &str) -> Result<BankReference, FieldError> {
        clean_text(field, raw, Self::MAX).map(BankReference)
    }
}

text_type!(
    /// A payee's bank: the 3-digit Indonesian bank code (e.g. `123`) or an 8/11-character BIC, upper case.
    BankCode
);
impl BankCode {
    pub fn parse(field: &str, raw: &str) -> Result<BankCode, FieldError> {
        let bank = raw.trim().to_uppercase();
        let ok = (bank.len() == 3 && bank.bytes().all(|b| b.is_ascii_digit()))
            || ((bank.len() == 8 || bank.len() == 11) && bank.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !ok {
            return Err(FieldError::new(field, "must be a 3-digit bank code or an 8/11-character BIC"));
        }
        Ok(BankCode(bank))
    }
}

text_type!(
    /// A bank account number: 6 to 20 digits.
    AccountNumber
);
impl AccountNumber {
    pub fn parse(field: &str, raw: &str) -> Result<AccountNumber, FieldError> {
        let account = raw.trim();
        if !(6..=20).contains(&account.len()) || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(field, "must be 6 to 20 digits"));
        }
        Ok(AccountNumber(account.to_string()))
    }
}

text_type!(
    /// A taxpayer number (NPWP): 15 digits (the old format) or 16 (the NIK-based one), stored as digits only; the
    /// usual punctuation (`99.999.999.9-999.999`) is accepted and dropped.
    Npwp
);
impl Npwp {
    pub fn parse(field: &str, raw: &str) -> Result<Npwp, FieldError> {
        let d: String = raw.chars().filter(|c| !matches!(c, '.' | '-' | ' ')).collect();
        if !(d.len() == 15 || d.len() == 16) || !d.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(field, "must have 15 or 16 digits"));
        }
        Ok(Npwp(d))
    }

    /// The way people write it: `99.999.999.9-999.999` for 15 digits; 16-digit numbers as they are.
    pub fn formatted(&self) -> String {
        let d = &self.0;
        if d.len() != 15 {
            return d.clone();
        }
        format!("{}.{}.{}.{}-{}.{}", &d[0..2], &d[2..5], &d[5..8], &d[8..9], &d[9..12], &d[12..15])
    }
}

text_type!(
    /// The 15-digit billing code (kode billing) under which a tax is paid into the state treasury.
    BillingCode
);
impl BillingCode {
    pub fn parse(field: &str, raw: &str) -> Result<BillingCode, FieldError> {
        let billing = raw.trim();
        if billing.len() != 15 || !billing.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(field, "must be the 15-digit state revenue billing code"));
        }
        Ok(BillingCode(billing.to_string()))
    }
}

text_type!(
    /// The proof of a tax payment the treasury's system returns (NTPN): 16 letters and digits, upper case.
    Ntpn
);
impl Ntpn {
    pub fn parse(field: &str, raw: &str) -> Result<Ntpn, FieldError> {
        let n = raw.trim().to_uppercase();
        if n.len() != 16 || !n.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(FieldError::new(field, "must be the 16-character NTPN"));
        }
        Ok(Ntpn(n))
    }
}

text_type!(
    /// A user's login name: 3 to 64 characters of `a-z`, `0-9`, `.`, `_`, `-`. Case does not matter: it is kept in
    /// lower case, so `Bendahara` and `bendahara` are one user.
    Username
);
impl Username {
    pub fn parse(field: &str, raw: &str) -> Result<Username, FieldError> {
        let u = raw.trim().to_lowercase();
        let ok = (3..=64).contains(&u.len())
            && u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if !ok {
            return Err(FieldError::new(field, "must be 3 to 64 characters: a-z, 0-9, '.', '_' or '-'"));
        }
        Ok(Username(u))
    }
}

text_type!(
    /// A client's Idempotency-Key: 1 to [`IdemKey::MAX`] visible ASCII characters.
    IdemKey
);
impl IdemKey {
    pub const MAX: usize = 200;
    pub fn parse(field: &str, raw: &str) -> Result<IdemKey, FieldError> {
        if raw.is_empty() || raw.len() > Self::MAX || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(FieldError::new(field, format!("must be 1 to {} visible ASCII characters", Self::MAX)));
        }
        Ok(IdemKey(raw.to_string()))
    }
}

/// A new password: 10 to 128 characters. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 10;
    pub const MAX: usize = 128;

    pub fn parse(field: &str, raw: &str) -> Result<Password, FieldError> {
        if !(Self::MIN..=Self::MAX).contains(&raw.chars().count()) {
            return Err(FieldError::new(field, format!("must be {} to {} characters", Self::MIN, Self::MAX)));
        }
        Ok(Password(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_keeps_its_rule() {
        assert_eq!(Description::parse("d", "  Sewa balai  ").unwrap().as_str(), "Sewa balai");
        assert!(Description::parse("d", &"x".repeat(501)).is_err());
        assert!(Description::parse("d", &"x".repeat(500)).is_ok());
        assert!(Note::parse("note", "a\u{202E}b").is_err());
        assert!(Note::parse("note", "a\nb").is_err());
        assert_eq!(BankCode::parse("b", " bpdkidja ").unwrap().as_str(), "BPDKIDJA");
        assert!(BankCode::parse("b", "12").is_err());
        assert!(AccountNumber::parse("a", "12345").is_err());
        assert_eq!(Npwp::parse("n", "01.234.567.8-901.234").unwrap().as_str(), "012345678901234");
        assert_eq!(Npwp::parse("n", "012345678901234").unwrap().formatted(), "01.234.567.8-901.234");
        assert!(Npwp::parse("n", "0123").is_err());
        assert!(BillingCode::parse("b", "12345678901234").is_err());
        assert_eq!(Ntpn::parse("n", "a1b2c3d4e5f6g7h8").unwrap().as_str(), "A1B2C3D4E5F6G7H8");
        assert!(Ntpn::parse("n", "A1B2C3D4E5F6G7H").is_err());
        assert_eq!(Username::parse("u", " Bendahara ").unwrap().as_str(), "bendahara");
        assert!(Username::parse("u", "bu ani").is_err());
        assert!(Password::parse("p", "short").is_err());
        assert!(IdemKey::parse("k", &"k".repeat(200)).is_ok());
        assert!(IdemKey::parse("k", &"k".repeat(201)).is_err());
        assert!(IdemKey::parse("k", "a b").is_err());
        assert_eq!(format!("{:?}", Password::parse("p", "long enough secret").unwrap()), "Password(***)");
        let e = Name::parse("payee.name", "").unwrap_err();
        assert_eq!(e.to_string(), "payee.name must not be empty");
    }
}

//! Exact money. Amounts are integer sen (1/100 rupiah) in an `i64`; `rust_decimal::Decimal` is used only at the edges
//! (parsing and formatting), so no float and no rounding ever touches a stored amount.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A strictly positive amount of IDR, at most [`Money::MAX`], with at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

/// A signed amount (a balance or a sum), formatted like [`Money`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("an amount must be a decimal string such as \"1500000.00\"")]
    NotAString,
    #[error("\"{0}\" is not a plain decimal number (digits, an optional point and at most two decimals; no sign, exponent, spaces or separators)")]
    Malformed(String),
    #[error("\"{0}\" has more than two decimal places")]
    TooManyDecimals(String),
    #[error("an amount must be greater than zero")]
    NotPositive,
    #[error("an amount may be at most 999999999999999.99")]
    TooLarge,
}

impl Money {
    /// 999,999,999,999,999.99 in sen.
    pub const MAX_SEN: i64 = 99_999_999_999_999_999;

    pub fn from_sen(sen: i64) -> Result<Money, MoneyError> {
        if sen <= 0 {
            Err(MoneyError::NotPositive)
        } else if sen > Self::MAX_SEN {
            Err(MoneyError::TooLarge)
        } else {
            Ok(Money(sen))
        }
    }

    pub fn sen(self) -> i64 {
        self.0
    }

    /// Parses the contract's money format strictly: `^[0-9]+(\.[0-9]{1,2})?$`, then range-checks.
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        let malformed = || MoneyError::Malformed(truncate(text));
        let (int_part, frac_part) = match text.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (text, None),
        };
        if int_part.is_empty() || !int_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        if let Some(f) = frac_part {
            if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed());
            }
            if f.len() > 2 {
                return Err(MoneyError::TooManyDecimals(truncate(text)));
            }
        }
        // Leading zeros beyond one are refused: "007" is more likely a typo than seven rupiah.
        if int_part.len() > 1 && int_part.starts_with('0') {
            return Err(malformed());
        }
        if int_part.len() > 15 {
            return Err(MoneyError::TooLarge);
        }
        let decimal: Decimal = text.parse().map_err(|_| malformed())?;
        let sen =
            decimal.checked_mul(Decimal::from(100)).and_then(|d| i64::try_from(d).ok()).ok_or(MoneyError::TooLarge)?;
        Money::from_sen(sen)
    }

    /// Parses a balance: the money format with an optional leading `-`, zero allowed (a bank's balance after a
    /// statement line). Returns sen.
    pub fn parse_balance(text: &str) -> Result<i64, MoneyError> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let sen = match Money::parse(digits) {
            Ok(m) => m.sen(),
            Err(MoneyError::NotPositive) => 0,
            Err(e) => return Err(e),
        };
        Ok(if negative { -sen } else { sen })
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

fn format_sen(f: &mut fmt::Formatter<'_>, sen: i64) -> fmt::Result {
    let sign = if sen < 0 { "-" } else { "" };
    let abs = sen.unsigned_abs();
    write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_sen(f, self.0)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_sen(f, self.0)
    }
}

impl Amount {
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }
}

impl From<Money> for Amount {
    fn from(m: Money) -> Amount {
        Amount(m.0)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An amount as it arrived in a request. Deserialising never fails on it, so that a bad amount is answered with the
/// contract's `invalid_amount` code (and the field's path) rather than a generic JSON error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmountInput(pub Result<Money, MoneyError>);

impl AmountInput {
    pub fn money(&self) -> Result<Money, MoneyError> {
        self.0.clone()
    }
}

impl<'de> Deserialize<'de> for AmountInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(AmountInput(match value {
            serde_json::Value::String(s) => Money::parse(&s),
            _ => Err(MoneyError::NotAString),
        }))
    }
}

impl Serialize for AmountInput {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Ok(m) => m.serialize(s),
            Err(_) => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_contract_format() {
        assert_eq!(Money::parse("1500000.00").unwrap().sen(), 150_000_000);
        assert_eq!(Money::parse("0.01").unwrap().sen(), 1);
        assert_eq!(Money::parse("12.5").unwrap().sen(), 1250);
        assert_eq!(Money::parse("7").unwrap().sen(), 700);
        assert_eq!(Money::parse("999999999999999.99").unwrap().sen(), Money::MAX_SEN);
    }

    #[test]
    fn balances_are_signed_and_may_be_zero() {
        assert_eq!(Money::parse_balance("0.00"), Ok(0));
        assert_eq!(Money::parse_balance("0"), Ok(0));
        assert_eq!(Money::parse_balance("-12.50"), Ok(-1250));
        assert_eq!(Money::parse_balance("1500000.00"), Ok(150_000_000));
        for bad in ["", "-", "--1", "+1", "1,0", "-0.001"] {
            assert!(Money::parse_balance(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "-1",
            "+1",
            "1e5",
            "1E5",
            "NaN",
            "inf",
            " 1",
            "1 ",
            "1,000",
            "1_000",
            ".5",
            "5.",
            "0",
            "0.00",
            "0.001",
            "1.234",
            "007",
            "1000000000000000.00",
            "99999999999999999999999",
            "١٢",
            "0x10",
            "1..2",
        ] {
            assert!(Money::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(Money::parse("1.234"), Err(MoneyError::TooManyDecimals("1.234".into())));
        assert_eq!(Money::parse("0"), Err(MoneyError::NotPositive));
        assert_eq!(Money::parse("1000000000000000"), Err(MoneyError::TooLarge));
    }

    #[test]
    fn formats_with_two_decimals() {
        assert_eq!(Money::from_sen(150_000_000).unwrap().to_string(), "1500000.00");
        assert_eq!(Amount(-5).to_string(), "-0.05");
        assert_eq!(Amount(0).to_string(), "0.00");
        assert_eq!(Amount(i64::MIN).to_string(), "-92233720368547758.08");
    }

    proptest::proptest! {
        #[test]
        fn any_string_parses_or_is_refused_without_panic(s in "\\PC{0,40}") {
            if let Ok(m) = Money::parse(&s) {
                proptest::prop_assert!(m.sen() > 0 && m.sen() <= Money::MAX_SEN);
            }
        }

        #[test]
        fn every_amount_round_trips(sen in 1i64..=Money::MAX_SEN) {
            let m = Money::from_sen(sen).unwrap();
            proptest::prop_assert_eq!(Money::parse(&m.to_string()), Ok(m));
        }

        #[test]
        fn decimal_shaped_strings_are_judged_by_their_value(int in "[1-9][0-9]{0,16}", frac in "[0-9]{0,3}") {
            let s = if frac.is_empty() { int.clone() } else { format!("{int}.{frac}") };
            let r = Money::parse(&s);
            if frac.len() > 2 {
                proptest::prop_assert!(r.is_err());
            } else if int.len() > 15 {
                proptest::prop_assert_eq!(r, Err(MoneyError::TooLarge));
            } else {
                let expected = int.parse::<i64>().unwrap() * 100
                    + format!("{frac:0<2}").parse::<i64>().unwrap();
                proptest::prop_assert_eq!(r.map(Money::sen), Ok(expected));
            }
        }
    }

    #[test]
    fn json_numbers_are_not_amounts() {
        let a: AmountInput = serde_json::from_str("1500000").unwrap();
        assert_eq!(a.0, Err(MoneyError::NotAString));
        let a: AmountInput = serde_json::from_str("\"10.00\"").unwrap();
        assert_eq!(a.0.unwrap().sen(), 1000);
    }
}

//! Human numbers for documents: gap-free per village, fiscal year and kind of document, e.g.
//! `0007/SPP/61.12.01.2001/2026`, as printed on the form and shown in the books' *No Bukti* column. The store takes
//! the next number under the village's lock in the same database transaction as the document, so a number is never
//! skipped nor given twice (a cancelled document keeps its number).

use super::settlement::PaymentKind;

/// The code of a kind of document in its number: SPP (Surat Permintaan Pembayaran) for a payment request, SSP
/// (Surat Setoran Pajak) for a tax deposit.
pub fn kind_code(kind: PaymentKind) -> &'static str {
    match kind {
        PaymentKind::Spp => "SPP",
        PaymentKind::TaxDeposit => "SSP",
        PaymentKind::Advance => "SPP-UM",
    }
}

/// The series of receipts (kuitansi) of requests with many payees, and its code.
pub const RECEIPT_SERIES: &str = "receipt";
pub const RECEIPT_CODE: &str = "KW";

/// The number of the `seq`-th document (from 1) of its kind in a village's year.
pub fn document_number(seq: i64, kind: PaymentKind, village_code: &str, year: i32) -> String {
    numbered(seq, kind_code(kind), village_code, year)
}

/// The number of the `seq`-th document (from 1) of the series coded `code`.
pub fn numbered(seq: i64, code: &str, village_code: &str, year: i32) -> String {
    debug_assert!(seq >= 1, "document numbers start at 1");
    format!("{seq:04}/{code}/{village_code}/{year}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_the_regency_writes_them() {
        assert_eq!(document_number(7, PaymentKind::Spp, "61.12.01.2001", 2026), "0007/SPP/61.12.01.2001/2026");
        assert_eq!(
            document_number(12345, PaymentKind::TaxDeposit, "61.12.01.2001", 2026),
            "12345/SSP/61.12.01.2001/2026"
        );
    }
}

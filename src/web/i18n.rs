//! The console's words in Bahasa Indonesia (the default) and English, and plain-language messages for the API's
//! error codes.

use crate::http::error::{ApiError, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Id,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "id" => Some(Lang::Id),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }
}

/// (key, Bahasa Indonesia, English).
const WORDS: &[(&str, &str, &str)] = &[
    ("app_name", "Kas Desa", "Village Treasury"),
    ("skip", "Lompat ke isi", "Skip to content"),
    ("nav", "Menu utama", "Main menu"),
    ("inbox", "Kotak masuk", "Inbox"),
    ("nav_cash", "Kas", "Cash"),
    ("budget_status_draft", "draf", "draft"),
    ("budget_status_adopted", "ditetapkan", "adopted"),
    ("budget_status_superseded", "diganti perubahan", "superseded"),
    ("budget_new_link", "Susun APBDes", "Draft the budget"),
    ("budget_edit_link", "Ubah draf APBDes", "Edit the draft budget"),
    ("budget_revise_link", "APBDes Perubahan", "Revise the budget"),
    ("budget_adopt", "Tetapkan APBDes", "Adopt the budget"),
    ("budget_adopt_confirm", "Tetapkan APBDes {year}: pendapatan {revenue}, belanja {spending}. Setelah ditetapkan, APBDes hanya diubah lewat APBDes Perubahan. Lanjutkan?", "Adopt the {year} budget: revenue {revenue}, spending {spending}. Once adopted it changes only by a revision. Continue?"),
    ("budget_saved", "Draf APBDes disimpan.", "The draft budget is saved."),
    ("budget_adopted", "APBDes ditetapkan: belanja tahun ini dapat diajukan.", "The budget is adopted: this year's spending may be requested."),
    ("budget_revised", "APBDes Perubahan disimpan sebagai versi baru.", "The revision is saved as a new version."),
    ("budget_edit_title", "Susun APBDes", "Draft the budget"),
    ("budget_revise_title", "APBDes Perubahan", "Budget revision"),
    ("budget_edit_intro", "Satu baris per rekening, kegiatan dan sumber dana. Belanja (5.x) perlu kode kegiatan (BB.SS.KK, pilih dari daftar). Baris yang dikosongkan dihapus; simpan untuk mendapat baris kosong lagi. Kepala Desa menetapkannya.", "One line per account, activity and source. Spending (5.x) needs an activity code (BB.SS.KK, pick from the list). A line left blank is removed; save to get more blank lines. The head adopts it."),
    ("budget_revise_intro", "Ubah pagu, tambah atau hapus baris. Pagu tidak boleh di bawah yang sudah terpakai (dikomitmen dan terealisasi). Sebutkan Perdes perubahannya.", "Change ceilings, add or remove lines. A ceiling may not go below what is already used (committed and realised). Name the regulation."),
    ("budget_revision_note", "Dasar perubahan (mis. Perdes 5/2026 tentang APBDes Perubahan)", "Basis of the revision (e.g. the village regulation)"),
    ("budget_activity_hint", "(belanja)", "(spending)"),
    ("budget_activity_name", "Nama kegiatan (untuk kegiatan desa sendiri)", "Activity name (for the village's own)"),
    ("budget_save_draft", "Simpan draf APBDes", "Save the draft budget"),
    ("budget_save_revision", "Simpan APBDes Perubahan", "Save the revision"),
    ("budget_err_row", "pilih rekening dan sumber dana, dan isi pagu dalam rupiah", "choose an account and a source and enter the ceiling in rupiah"),
    ("budget_err_empty", "Isi paling sedikit satu baris.", "Fill in at least one line."),
    ("budget_edit_forbidden", "APBDes disusun oleh Kaur Keuangan atau Kepala Desa selama masih draf; setelah ditetapkan, hanya Kepala Desa yang mengubahnya lewat APBDes Perubahan.", "The treasurer or the head drafts the budget; once adopted only the head revises it."),
    ("deposit_title", "Setor pajak yang dipotong", "Deposit withheld tax"),
    ("deposit_intro", "Per jenis pajak: yang dipotong dan belum disetor, yang sedang disetor, dan sisanya. Isi jumlah dan kode billing tiap pajak yang disetor; pajak daerah disetor terpisah dari pajak negara. Setelah disimpan, SSP diajukan, diverifikasi dan disetujui seperti SPP.", "Per tax: what was withheld and not deposited, what is being deposited, and what is left. Enter the amount and billing code of each tax deposited; regional tax is deposited apart from state taxes. Once saved, the SSP is submitted, verified and approved like an SPP."),
    ("deposit_nothing", "Tidak ada pajak yang dipotong dan belum disetor.", "No withheld tax is waiting to be deposited."),
    ("deposit_owed", "Dipotong, belum disetor", "Withheld, not deposited"),
    ("deposit_pending", "Sedang disetor", "Being deposited"),
    ("deposit_left", "Sisa untuk disetor", "Left to deposit"),
    ("deposit_amount", "Jumlah disetor", "Amount to deposit"),
    ("deposit_billing", "Kode billing (15 angka)", "Billing code (15 digits)"),
    ("deposit_save", "Simpan SSP", "Save the SSP"),
    ("deposit_link", "Setor pajak yang dipotong", "Deposit withheld tax"),
    ("deposit_treasurer_only", "Pajak yang dipotong disetor oleh Kaur Keuangan, pemungut pajak desa.", "Withheld tax is deposited by the treasurer, the village's withholding agent."),
    ("deposit_err_amount", "isi jumlah dalam rupiah, misalnya 1.100.000", "enter the amount in rupiah, e.g. 1,100,000"),
    ("deposit_err_billing", "kode billing harus 15 angka", "the billing code must be 15 digits"),
    ("deposit_err_none", "Isi jumlah dan kode billing paling sedikit satu pajak.", "Enter the amount and billing code of at least one tax."),
    ("col_billing", "Kode billing", "Billing code"),
    ("col_ntpn", "NTPN", "NTPN"),
    ("col_tax_type", "Jenis pajak", "Tax"),
    ("cash_title", "Penerimaan & kas tunai", "Receipts & cash in hand"),
    ("cash_bank", "Rekening Kas Desa (bank)", "Village bank account"),
    ("cash_in_hand", "Kas tunai", "Cash in hand"),
    ("cash_limit", "Batas kas tunai", "Cash-in-hand limit"),
    ("cash_what", "Yang dicatat", "What to record"),
    ("cash_receipt", "Penerimaan (pendapatan desa)", "Receipt (village revenue)"),
    ("cash_withdrawal", "Tarik tunai: bank → kas tunai", "Withdrawal: bank → cash in hand"),
    ("cash_deposit", "Setor tunai: kas tunai → bank", "Deposit: cash in hand → bank"),
    ("cash_receipt_only", "Untuk penerimaan", "For a receipt"),
    ("cash_revenue_account", "Rekening pendapatan", "Revenue account"),
    ("cash_into", "Diterima di", "Received into"),
    ("cash_bank_reference", "Nomor referensi bank (jika lewat bank)", "Bank reference (if through the bank)"),
    ("cash_save", "Catat", "Record"),
    ("cash_done", "Tercatat sebagai transaksi nomor", "Recorded as transaction number"),
    ("cash_treasurer_only", "Penerimaan dan kas tunai dicatat oleh Kaur Keuangan.", "Receipts and cash are recorded by the treasurer."),
    ("cash_err_what", "Pilih yang dicatat: penerimaan, tarik tunai atau setor tunai.", "Choose what to record: a receipt, a withdrawal or a deposit."),
    ("cash_err_date", "Isi tanggal (hari-bulan-tahun).", "Enter the date."),
    ("cash_err_amount", "Isi jumlah dalam rupiah, misalnya 1.500.000 atau 1.500.000,50.", "Enter the amount in rupiah, e.g. 1,500,000 or 1,500,000.50."),
    ("cash_err_description", "Isi uraiannya, misalnya \"Sewa balai desa, Oktober\".", "Enter a description, e.g. \"Village hall rent, October\"."),
    ("cash_err_account", "Untuk penerimaan, pilih rekening pendapatannya.", "For a receipt, choose its revenue account."),
    ("new_payment", "SPP baru", "New payment request"),
    ("budget", "Anggaran", "Budget"),
    ("books", "Saldo & Buku Kas", "Balances & cash book"),
    ("dashboard", "Dasbor kabupaten", "Regency dashboard"),
    ("logout", "Keluar", "Log out"),
    ("signed_in_as", "Masuk sebagai", "Signed in as"),
    ("language", "Bahasa", "Language"),
    ("login_title", "Masuk ke Kas Desa", "Sign in to Kas Desa"),
    ("forgot_password", "Lupa kata sandi?", "Forgot your password?"),
    ("forgot_password_text", "Hubungi pengelola Kas Desa di kabupaten: ia membuat kata sandi baru untuk Anda (kata sandi lama dan semua sesi Anda langsung berhenti berlaku). Jangan berikan kata sandi Anda kepada siapa pun, termasuk sesama perangkat desa.", "Ask the Kas Desa administrator at the regency: they make you a new password (your old password and all your sessions stop working at once). Never give your password to anyone, fellow officials included."),
    ("login_intro", "Gunakan akun yang sama dengan aplikasi lain Kas Desa.", "Use the same account as for the other Kas Desa tools."),
    ("username", "Nama pengguna", "Username"),
    ("password", "Kata sandi", "Password"),
    ("login", "Masuk", "Sign in"),
    ("logged_out", "Anda sudah keluar.", "You have signed out."),
    ("login_bad", "Nama pengguna atau kata sandi salah.", "Wrong username or password."),
    ("login_warn", "Tinggal {n} percobaan lagi sebelum masuk dengan nama ini dari sini harus menunggu sebentar.", "{n} more attempts before signing in with this name from here must wait a while."),
    ("login_missing", "Isi nama pengguna dan kata sandi.", "Enter your username and password."),
    ("login_wait", "Terlalu banyak percobaan yang gagal dari sini. Coba lagi dalam {n}.", "Too many failed attempts from here. Try again in {n}."),
    ("unit_seconds", "{n} detik", "{n} seconds"),
    ("unit_minutes", "{n} menit", "{n} minutes"),
    ("csrf_login", "Formulir ini sudah kedaluwarsa. Silakan masuk lagi.", "This form has expired. Please sign in again."),
    ("csrf_title", "Permintaan ditolak", "Request refused"),
    ("csrf_text", "Formulir ini kedaluwarsa atau tidak berasal dari konsol ini, jadi tidak ada yang diubah. Muat ulang halaman lalu coba lagi.", "This form has expired or did not come from this console, so nothing was changed. Reload the page and try again."),
    ("session_expired", "Sesi Anda sudah berakhir. Silakan masuk lagi.", "Your session has ended. Please sign in again."),
    ("not_found_title", "Halaman tidak ditemukan", "Page not found"),
    ("not_found_text", "Halaman atau data ini tidak ada, atau bukan wewenang Anda.", "This page or record does not exist, or is outside your responsibility."),
    ("error_title", "Tidak dapat dilakukan", "Could not be done"),
    ("technical", "Rincian teknis", "Technical detail"),
    ("back", "Kembali", "Back"),
    ("no_console", "Konsol tidak tersedia untuk peran ini", "No console for this role"),
    ("no_console_text", "Administrator dan bank memakai API (lihat /docs).", "Administrators and banks use the API (see /docs)."),
    ("forbidden_page", "Halaman ini bukan untuk peran Anda.", "This page is not for your role."),
    // Inbox
    ("inbox_title", "Menunggu langkah saya", "Waiting for my step"),
    ("inbox_empty", "Tidak ada permintaan yang menunggu langkah Anda.", "Nothing is waiting for your step."),
    ("all_requests", "Semua permintaan pembayaran desa", "All of the village's payment requests"),
    ("none_yet", "Belum ada.", "None yet."),
    ("search_requests", "Cari (penerima, uraian)", "Search (payee, description)"),
    ("search", "Cari", "Search"),
    ("all_statuses", "Semua status", "Every status"),
    ("older_requests", "Permintaan lebih lama", "Older requests"),
    ("newest_requests", "Kembali ke yang terbaru", "Back to the newest"),
    ("col_date", "Tanggal", "Date"),
    ("col_description", "Uraian", "Description"),
    ("col_payee", "Penerima", "Payee"),
    ("col_gross", "Bruto", "Gross"),
    ("col_withheld", "Potongan pajak", "Withheld"),
    ("col_net", "Neto", "Net"),
    ("col_status", "Status", "Status"),
    ("col_step", "Langkah", "Step"),
    ("col_account", "Rekening", "Account"),
    ("col_source", "Sumber dana", "Source"),
    ("col_amount", "Jumlah", "Amount"),
    ("col_tax", "Pajak", "Tax"),
    ("col_activity", "Kegiatan", "Activity"),
    ("col_ceiling", "Pagu", "Ceiling"),
    ("col_committed", "Terikat", "Committed"),
    ("col_realised", "Realisasi", "Realised"),
    ("col_available", "Sisa (tersedia)", "Available"),
    ("col_who", "Oleh", "By"),
    ("col_role", "Peran", "Role"),
    ("col_note", "Catatan", "Note"),
    ("col_action", "Tindakan", "Action"),
    ("col_balance", "Saldo", "Balance"),
    ("col_village", "Desa", "Village"),
    ("col_rule", "Aturan", "Rule"),
    ("col_evidence", "Bukti", "Evidence"),
    ("open", "Buka", "Open"),
    // Payment
    ("payment_title", "Permintaan pembayaran (SPP)", "Payment request (SPP)"),
    ("figures", "Angka", "Figures"),
    ("lines", "Rincian belanja", "Spending lines"),
    ("budget_remaining", "Sisa anggaran baris ini", "This budget line's remaining amount"),
    ("no_budget_line", "Tidak ada di anggaran", "Not in the budget"),
    ("trail", "Jejak persetujuan", "Approval trail"),
    ("transfers", "Transfer bank", "Bank transfers"),
    ("actions", "Tindakan", "Actions"),
    ("no_actions", "Tidak ada tindakan untuk Anda pada status ini.", "No action for you in this status."),
    ("note_label", "Catatan (wajib untuk mengembalikan, menolak, membatalkan)", "Note (required to return, reject or cancel)"),
    ("note_required", "Catatan wajib diisi", "A note is required"),
    ("done", "Berhasil", "Done"),
    ("payee", "Penerima", "Payee"),
    ("number", "Nomor", "Number"),
    ("print_spp", "Cetak SPP dan kuitansi", "Print the SPP and receipt"),
    ("receipts", "Kuitansi per penerima", "Receipts per payee"),
    ("bank", "Bank", "Bank"),
    ("account_no", "No. rekening", "Account number"),
    ("invoice", "Faktur", "Invoice"),
    ("fiscal_year", "Tahun anggaran", "Fiscal year"),
    ("created_by", "Dibuat oleh", "Created by"),
    ("download_trail", "Unduh jejak", "Download trail"),
    // New payment
    ("new_title", "Buat permintaan pembayaran (SPP)", "Create a payment request (SPP)"),
    ("new_intro", "Isi rincian belanja dan potongan pajak. Jumlah boleh ditulis 1500000 atau 1.500.000,00. Permintaan disimpan sebagai draf; ajukan dari halamannya.", "Fill in the spending lines and withholdings. Amounts may be written 1500000 or 1,500,000.00. The request is saved as a draft; submit it from its page."),
    ("request_section", "Permintaan", "Request"),
    ("description", "Uraian", "Description"),
    ("activity", "Kegiatan", "Activity"),
    ("payee_name", "Nama penerima", "Payee name"),
    ("bank_code", "Kode bank (3 angka) atau BIC", "Bank code (3 digits) or BIC"),
    ("npwp", "NPWP (opsional)", "Tax number NPWP (optional)"),
    ("invoice_number", "No. faktur (opsional)", "Invoice number (optional)"),
    ("invoice_date", "Tanggal faktur (opsional)", "Invoice date (optional)"),
    ("line_n", "Baris", "Line"),
    ("budget_blank_line", "(kosong: ketuk untuk mengisi)", "(empty: tap to fill in)"),
    ("budget_total_revenue", "Jumlah Pendapatan", "Total revenue"),
    ("budget_total_spending", "Jumlah Belanja", "Total spending"),
    ("budget_total_financing_in", "Jumlah Penerimaan Pembiayaan", "Total financing receipts"),
    ("budget_total_financing_out", "Jumlah Pengeluaran Pembiayaan", "Total financing expenditure"),
    ("withholding", "Potongan pajak", "Withholding"),
    ("tax_none", "— tanpa pajak —", "— no tax —"),
    ("choose", "— pilih —", "— choose —"),
    ("save_draft", "Simpan draf", "Save draft"),
    ("save_edit", "Simpan perubahan", "Save the changes"),
    ("edit_title", "Ubah permintaan pembayaran", "Edit the payment request"),
    ("edit_intro", "Perbaiki permintaan ini. Setelah disimpan ia menjadi draf lagi dan nomornya tetap; ajukan lagi dari halamannya.", "Correct this request. Once saved it is a draft again and keeps its number; submit it again from its page."),
    ("edit_not_here", "Permintaan ini (lebih dari tiga baris, lebih dari dua potongan pajak per baris, atau banyak penerima dengan beberapa baris atau potongan pajak per penerima) tidak bisa diubah di sini. Batalkan lalu buat yang baru, atau ubah lewat API.", "This request (more than three lines, more than two withholdings on a line, or many payees with several lines or withholdings each) cannot be edited here. Cancel it and draft a new one, or edit it through the API."),
    ("returned_because", "Dikembalikan sekretaris:", "Returned by the secretary:"),
    ("overdue_taxes", "Pajak terlambat disetor", "Tax deposits overdue"),
    ("no_overdue_taxes", "Semua pajak yang dipotong sudah disetor tepat waktu.", "Every tax withheld was deposited in time."),
    ("col_outstanding", "Belum disetor", "Outstanding"),
    ("col_deadline", "Batas setor terlama", "Oldest deadline missed"),
    ("tax_section", "Pajak (usulan dihitung otomatis)", "Taxes (proposed by the calculator)"),
    ("tax_kind", "Jenis belanja", "What is bought"),
    ("tax_kind_none", "Tanpa usulan pajak", "No proposal"),
    ("tax_goods", "Barang", "Goods"),
    ("tax_services", "Jasa", "Services"),
    ("tax_construction", "Konstruksi", "Construction"),
    ("tax_rent", "Sewa tanah/bangunan", "Land or building rent"),
    ("tax_meals", "Makan dan minum (pajak daerah)", "Meals (regional tax)"),
    ("vendor_pkp", "Penyedia PKP (PPN dipungut)", "VAT-registered vendor (PPN collected)"),
    ("includes_vat", "Jumlah sudah termasuk PPN", "Amounts include PPN"),
    ("exempt_goods", "BBM, listrik, gas, air minum atau benda pos (tanpa PPh 22)", "Fuel, electricity, gas, drinking water or postage (no PPh 22)"),
    ("qualification", "Kualifikasi penyedia konstruksi", "Contractor's qualification"),
    ("q_small", "Kecil", "Small"),
    ("q_medium", "Menengah", "Medium"),
    ("q_large", "Besar", "Large"),
    ("q_none", "Tanpa sertifikat", "No certificate"),
    ("propose_taxes", "Hitung potongan pajak", "Propose the withholdings"),
    ("taxes_proposed", "Potongan pajak diisi dari tarif yang berlaku. Periksa, ubah bila perlu, lalu simpan; perubahan dicatat di jejak.", "The withholdings were filled in from the rates in force. Check them, change them if needed, then save; a change is recorded in the trail."),
    ("form_errors", "Periksa isian berikut:", "Please check the following:"),
    ("err_amount", "bukan jumlah uang yang valid (contoh: 1500000 atau 1.500.000,00)", "is not a valid amount (e.g. 1500000 or 1,500,000.00)"),
    ("err_required", "wajib diisi", "is required"),
    ("err_no_lines", "Isi paling sedikit satu baris belanja (rekening, sumber dana dan jumlah).", "Fill in at least one spending line (account, source and amount)."),
    ("err_line_incomplete", "belum lengkap: pilih rekening dan sumber dana, dan isi jumlah", "is incomplete: choose an account and a source and enter an amount"),
    ("err_date", "bukan tanggal yang valid", "is not a valid date"),
    ("budget_warning", "Perhatian: kepala desa tidak akan bisa menyetujui permintaan ini seperti sekarang.", "Note: the village head could not approve this request as it stands."),
    ("warn_no_line", "Rekening {account} dengan sumber {source} tidak ada di APBDes untuk kegiatan ini. Perbaiki atau ajukan perubahan APBDes dulu.", "Account {account} from source {source} is not in the budget for this activity. Correct it or revise the budget first."),
    ("warn_over_line", "Rekening {account} meminta {amount}, tetapi sisa anggarannya {left}.", "Account {account} asks for {amount}, but its budget line has {left} left."),
    ("confirm_step", "{action}: {amount} kepada {payee}. Lanjutkan?", "{action}: {amount} to {payee}. Go ahead?"),
    ("n_payees", "{n} penerima", "{n} payees"),
    ("sending", "Mengirim…", "Sending…"),
    ("executed_by", "dieksekusi oleh", "executed by"),
    ("spj_title", "SPJ panjar", "Accountability of the advance (SPJ)"),
    ("spj_intro", "Catat kuitansi belanja dari panjar ini dan sisa yang dikembalikan ke rekening desa. Jumlah neto kuitansi ditambah sisa harus sama dengan panjar:", "Record the receipts spent from this advance and what goes back to the village account. The receipts' net plus what is returned must equal the advance:"),
    ("spj_payee", "Dibayar kepada", "Paid to"),
    ("spj_returned", "Sisa dikembalikan ke rekening desa", "Returned to the village account"),
    ("spj_date", "Tanggal SPJ", "Date of the accountability"),
    ("spj_submit", "Simpan SPJ", "Record the accountability"),
    ("spj_row", "Kuitansi", "Receipt"),
    ("spj_incomplete", "belum lengkap: isi penerima dan jumlahnya", "is incomplete: enter who was paid and the amount"),
    ("spj_no_rows", "Isi paling sedikit satu kuitansi.", "Enter at least one receipt."),
    ("payees_csv", "Banyak penerima sekaligus (tempel daftar)", "Many payees at once (paste a list)"),
    ("payees_csv_help", "Satu penerima per baris: nama; kode bank; nomor rekening; jumlah; NPWP (boleh kosong). Pemisah titik koma, koma atau tab (tempel langsung dari spreadsheet). Semua kuitansi memakai rekening dan sumber dana baris 1; isian penerima di atas tidak dipakai.", "One payee per line: name; bank code; account number; amount; NPWP (optional). Separated by semicolons, commas or tabs (paste straight from a spreadsheet). Every receipt uses line 1's account and source; the single payee above is not used."),
    ("err_csv_row", "Daftar penerima, baris", "Payee list, line"),
    ("err_csv_fields", "perlu nama, kode bank, nomor rekening dan jumlah", "needs a name, a bank code, an account number and an amount"),
    ("err_csv_line1", "Untuk daftar penerima, pilih rekening dan sumber dana di baris 1.", "For a payee list, choose line 1's account and source."),
    ("err_year", "bukan tahun yang valid", "is not a valid year"),
    ("no_budget", "Belum ada anggaran yang ditetapkan untuk tahun ini.", "No budget has been adopted for this year yet."),
    // Budget and books
    ("budget_title", "Anggaran (APBDes)", "Budget (APBDes)"),
    ("budget_status", "Status anggaran", "Budget status"),
    ("version", "Versi", "Version"),
    ("year", "Tahun", "Year"),
    ("show", "Tampilkan", "Show"),
    ("legend_realised", "Realisasi", "Realised"),
    ("legend_committed", "Terikat (disetujui, belum dibayar)", "Committed (approved, not yet paid)"),
    ("legend_available", "Tersedia", "Available"),
    ("balances", "Saldo rekening", "Account balances"),
    ("cash_book", "Buku Kas Umum", "Cash book"),
    ("downloads", "Unduh laporan", "Download reports"),
    ("realisation", "Realisasi APBDes", "Budget realisation"),
    ("wealth", "Laporan Kekayaan Milik Desa", "Village wealth report"),
    ("trial_balance", "Neraca Saldo (akhir tahun, atau hari ini)", "Trial balance (year end, or today)"),
    ("general_ledger_bank", "Buku Besar Rekening Kas Desa (1.1.1.02)", "General ledger of the village account (1.1.1.02)"),
    ("reconciliation", "Rekonsiliasi Bank", "Bank reconciliation"),
    ("bank_book", "Buku Bank", "Bank book"),
    ("tax_book", "Buku Pembantu Pajak", "Tax book"),
    ("empty_report", "Belum ada data untuk periode ini.", "No data for this period yet."),
    // Inspector
    ("dashboard_title", "Dasbor kabupaten", "Regency dashboard"),
    ("chart_title", "Realisasi per desa", "Realisation per village"),
    ("chart_spending", "Belanja terealisasi (% dari pagu)", "Spending realised (% of ceiling)"),
    ("chart_revenue", "Pendapatan terealisasi (% dari anggaran)", "Revenue realised (% of budget)"),
    ("anomalies", "Temuan anomali", "Anomalies"),
    ("no_anomalies", "Tidak ada temuan untuk periode ini.", "No findings for this period."),
    ("villages", "Desa", "Villages"),
    ("village_books", "Buku dan jejak desa", "The village's books and trail"),
    ("chain", "Verifikasi rantai hash", "Hash chain verification"),
    ("chain_ok", "Rantai utuh: {n} catatan diperiksa, saldo sesuai dengan jurnal.", "The chain holds: {n} records checked, balances match the entries."),
    ("chain_broken", "Rantai RUSAK", "The chain is BROKEN"),
    ("payments", "Permintaan pembayaran", "Payment requests"),
    ("regency_realisation", "Rekap realisasi kabupaten", "Regency realisation"),
    ("totals", "Jumlah", "Totals"),
];

pub fn t(lang: Lang, key: &'static str) -> &'static str {
    match WORDS.iter().find(|(k, _, _)| *k == key) {
        Some((_, id, en)) => match lang {
            Lang::Id => id,
            Lang::En => en,
        },
        None => key,
    }
}

pub fn status(lang: Lang, s: &str) -> &'static str {
    let (id, en) = match s {
        "draft" => ("Draf", "Draft"),
        "submitted" => ("Diajukan", "Submitted"),
        "verified" => ("Diverifikasi", "Verified"),
        "approved" => ("Disetujui", "Approved"),
        "released" => ("Dikirim ke bank", "Released to the bank"),
        "paid" => ("Dibayar", "Paid"),
        "returned" => ("Dikembalikan", "Returned"),
        "rejected" => ("Ditolak", "Rejected"),
        "cancelled" => ("Dibatalkan", "Cancelled"),
        "failed" => ("Transfer gagal", "Transfer failed"),
        "partially_paid" => ("Dibayar sebagian", "Partly paid"),
        "accounted" => ("Sudah di-SPJ-kan", "Accounted for"),
        "not_sent" => ("Belum dikirim ke bank", "Not sent to the bank yet"),
        "pending" | "released_transfer" => ("Menunggu bank", "Waiting for the bank"),
        _ => ("?", "?"),
    };
    pick(lang, id, en)
}

pub fn action(lang: Lang, a: &str) -> &'static str {
    let (id, en) = match a {
        "submit" => ("Ajukan", "Submit"),
        "verify" => ("Verifikasi", "Verify"),
        "return" => ("Kembalikan", "Return"),
        "approve" => ("Setujui", "Approve"),
        "reject" => ("Tolak", "Reject"),
        "release" => ("Kirim ke bank", "Release to the bank"),
        "cancel" => ("Batalkan", "Cancel"),
        "create" | "draft" => ("Dibuat", "Created"),
        "pay" => ("Dibayar bank", "Paid by the bank"),
        "fail" => ("Gagal di bank", "Failed at the bank"),
        "pay_cash" => ("Bayar tunai", "Pay in cash"),
        "account" => ("SPJ", "Accountability (SPJ)"),
        "edit" => ("Ubah", "Edit"),
        _ => ("?", "?"),
    };
    pick(lang, id, en)
}

/// What the page says after an action succeeded.
pub fn action_done(lang: Lang, a: &str) -> &'static str {
    let (id, en) = match a {
        "submit" => {
            ("Permintaan telah diajukan ke sekretaris desa.", "The request was submitted to the village secretary.")
        }
        "verify" => (
            "Permintaan telah diverifikasi dan diteruskan ke kepala desa.",
            "The request was verified and passed to the village head.",
        ),
        "return" => (
            "Permintaan dikembalikan ke pelaksana untuk diperbaiki.",
            "The request was returned to the implementer for correction.",
        ),
        "approve" => {
            ("Permintaan disetujui; anggaran telah diikat.", "The request was approved; the budget is committed.")
        }
        "reject" => ("Permintaan ditolak.", "The request was rejected."),
        "release" => ("Perintah transfer telah dikirim ke bank.", "The transfer instruction was sent to the bank."),
        "cancel" => ("Permintaan dibatalkan.", "The request was cancelled."),
        "pay_cash" => (
            "Dibayar tunai dari kas; anggaran terealisasi. Simpan kuitansinya.",
            "Paid in cash from cash in hand; the budget is realised. Keep the receipt.",
        ),
        "account" => (
            "SPJ tercatat: belanja terealisasi dan sisa panjar dikembalikan ke rekening desa.",
            "The accountability is recorded: the spending is realised and what was left is back in the village account.",
        ),
        "edit" => (
            "Perubahan tersimpan; permintaan menjadi draf lagi. Periksa lalu ajukan.",
            "The changes were saved; the request is a draft again. Check it, then submit it.",
        ),
        "created" => (
            "Draf permintaan pembayaran tersimpan. Periksa lalu ajukan.",
            "The draft payment request was saved. Check it, then submit it.",
        ),
        _ => ("Selesai.", "Done."),
    };
    pick(lang, id, en)
}

pub fn role(lang: Lang, r: &str) -> &'static str {
    let (id, en) = match r {
        "implementer" => ("Pelaksana Kegiatan", "Activity implementer"),
        "secretary" => ("Sekretaris Desa", "Village secretary"),
        "head" => ("Kepala Desa", "Village head"),
        "treasurer" => ("Kaur Keuangan", "Treasurer"),
        "inspector" => ("Inspektorat", "Inspector"),
        "bank" => ("Bank", "Bank"),
        "admin" => ("Administrator", "Administrator"),
        "system" => ("Sistem", "System"),
        _ => ("?", "?"),
    };
    pick(lang, id, en)
}

fn pick(lang: Lang, id: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Id => id,
        Lang::En => en,
    }
}

/// A plain-language sentence for an error of the API's rules.
pub fn error_message(lang: Lang, e: &ApiError) -> &'static str {
    let (id, en) = match e.code {
        ErrorCode::ValidationFailed => ("Ada isian yang tidak valid.", "Some of what was entered is not valid."),
        ErrorCode::InvalidAmount => {
            if e.detail.contains("withholdings must be less") {
                ("Potongan pajak harus lebih kecil dari jumlah barisnya.", "The withholdings must be less than the line's amount.")
            } else {
                ("Ada jumlah uang yang tidak valid.", "An amount is not valid.")
            }
        }
        ErrorCode::Unbalanced => ("Debit dan kredit tidak seimbang.", "Debits do not equal credits."),
        ErrorCode::UnknownAccount => ("Rekening ini tidak ada di bagan akun desa.", "This account is not in the village's chart."),
        ErrorCode::BudgetExceeded => (
            "Sisa anggaran tidak cukup untuk permintaan ini. Ajukan perubahan APBDes atau kurangi jumlahnya.",
            "The budget line does not have enough left for this request. Revise the budget or reduce the amount.",
        ),
        ErrorCode::InsufficientFunds => (
            "Saldo rekening kas desa tidak cukup untuk pembayaran ini (termasuk transfer yang masih menunggu bank).",
            "The village's bank balance does not cover this payment (transfers still waiting for the bank included).",
        ),
        ErrorCode::CashLimitExceeded => ("Kas tunai akan melebihi batas kas desa.", "Cash in hand would exceed the village's cash limit."),
        ErrorCode::IntegrityViolation => (
            "Data permintaan ini berubah di luar kasdesa dan tidak cocok lagi dengan jejaknya. Tidak ada yang dilakukan; laporkan ke inspektorat.",
            "This request's data was changed outside kasdesa and no longer matches its trail. Nothing was done; tell the inspectorate.",
        ),
        ErrorCode::InvalidTransition => (
            "Tindakan ini tidak bisa dilakukan pada status permintaan saat ini (mungkin sudah diproses orang lain). Muat ulang halaman.",
            "This action is not possible in the request's current status (someone may have acted on it already). Reload the page.",
        ),
        ErrorCode::SeparationOfDuties => (
            "Pemisahan tugas: Anda sudah melakukan langkah lain pada permintaan ini, jadi langkah ini harus dilakukan pejabat lain.",
            "Separation of duties: you already took another step on this request, so this step must be someone else's.",
        ),
        ErrorCode::AlreadyReversed => ("Transaksi ini sudah dibalik.", "This transaction has already been reversed."),
        ErrorCode::FiscalYearClosed => (
            "Tahun anggaran ini tertutup atau anggarannya belum ditetapkan, jadi belum ada yang boleh dibelanjakan.",
            "This fiscal year is closed or has no adopted budget, so nothing may be spent in it.",
        ),
        ErrorCode::IdempotencyConflict => (
            "Formulir ini sudah pernah dikirim dengan isi lain. Buka formulir baru.",
            "This form was already sent with different content. Open a new form.",
        ),
        ErrorCode::Unauthorized => ("Sesi Anda sudah berakhir. Silakan masuk lagi.", "Your session has ended. Please sign in again."),
        ErrorCode::Forbidden => ("Peran Anda tidak boleh melakukan ini.", "Your role may not do this."),
        ErrorCode::NotFound => ("Data ini tidak ditemukan atau bukan wewenang Anda.", "Not found, or outside your responsibility."),
        ErrorCode::Conflict => ("Bertentangan dengan data yang sudah ada.", "This conflicts with existing data."),
        ErrorCode::PayloadTooLarge => ("Isian terlalu besar.", "What was sent is too large."),
        ErrorCode::RateLimited => ("Terlalu banyak permintaan. Tunggu sebentar lalu coba lagi.", "Too many requests. Wait a moment and try again."),
        ErrorCode::Unavailable => ("Layanan sedang sibuk atau basis data tidak terjangkau. Coba lagi sebentar lagi.", "The service is busy or the database is unreachable. Try again shortly."),
        ErrorCode::Internal => ("Terjadi kesalahan di server; sudah dicatat.", "Something went wrong on the server; it has been logged."),
    };
    pick(lang, id, en)
}

/// An anomaly rule's name, as the inspector's page shows it.
pub fn rule_title(lang: Lang, rule: &str) -> &'static str {
    let (id, en) = match rule {
        "split_payments" => ("Pembayaran dipecah", "Split payments"),
        "duplicate_payment" => ("Pembayaran ganda", "Duplicate payment"),
        "cash_over_limit" => ("Kas tunai melebihi batas", "Cash in hand over the limit"),
        "cash_payment" => ("Dibayar tunai", "Paid in cash"),
        "advance_not_accounted" => ("Panjar belum di-SPJ-kan", "Advance not accounted for"),
        "bank_entry_in_suspense" => ("Biaya bank belum dibebankan", "Bank charge in suspense"),
        "tax_not_deposited" => ("Pajak terlambat disetor", "Tax not deposited in time"),
        "personnel_share_over_cap" => ("Belanja sub-bidang 1.1 melebihi batas", "Sub-bidang 1.1 over its share"),
        "released_outside_working_hours" => ("Dikirim di luar jam kerja", "Released outside working hours"),
        "budget_over_ceiling" => ("Melebihi pagu anggaran", "Over the budget ceiling"),
        "chain_break" => ("Rantai hash rusak atau data diubah", "Hash chain broken or records changed"),
        _ => ("Temuan lain", "Other finding"),
    };
    pick(lang, id, en)
}

/// What an anomaly means, in the page's language (the API's own sentence, in English, where there is none).
pub fn rule_text(lang: Lang, rule: &str, api_description: &str) -> String {
    let id = match rule {
        "split_payments" => "Beberapa pembayaran ke penerima yang sama dalam beberapa hari, masing-masing di bawah batas persetujuan tetapi bersama-sama di atasnya.",
        "duplicate_payment" => "Dua permintaan ke penerima yang sama dengan jumlah bruto yang sama dalam waktu berdekatan.",
        "cash_over_limit" => "Saldo kas tunai melebihi batas kas desa pada hari-hari berikut.",
        "cash_payment" => "Permintaan ini dibayar dari kas tunai, bukan melalui bank.",
        "advance_not_accounted" => "Panjar sudah dibayar tetapi SPJ-nya belum masuk dalam batas hari kerja.",
        "bank_entry_in_suspense" => "Biaya atau pajak bunga dari bank masih di akun suspense karena baris anggarannya tidak cukup atau belum dipilih.",
        "tax_not_deposited" => "Pajak yang dipungut belum disetor sampai tenggat (tanggal 15 bulan berikutnya atau hari kerja sesudahnya).",
        "personnel_share_over_cap" => "Belanja sub-bidang 1.1 (penghasilan tetap, tunjangan, operasional) melebihi bagian maksimal dari belanja tahun ini.",
        "released_outside_working_hours" => "Perintah transfer dikirim ke bank di luar jam kerja.",
        "budget_over_ceiling" => "Realisasi dan komitmen sebuah baris anggaran melebihi pagunya.",
        "chain_break" => "Data desa ini tidak cocok lagi dengan rantai hash atau checkpoint-nya: ada yang diubah di luar kasdesa. Periksa dengan file checkpoint.",
        _ => "",
    };
    match lang {
        Lang::Id if !id.is_empty() => id.to_string(),
        _ => api_description.to_string(),
    }
}

/// The label of a field of an anomaly's evidence.
pub fn evidence_label(lang: Lang, key: &str) -> String {
    let (id, en) = match key {
        "payee" => ("Penerima", "Payee"),
        "gross" => ("Bruto", "Gross"),
        "amount" => ("Jumlah", "Amount"),
        "payments" => ("Permintaan", "Requests"),
        "payment_id" | "id" => ("Permintaan", "Request"),
        "transaction_id" => ("Transaksi", "Transaction"),
        "transfer_id" => ("Transfer", "Transfer"),
        "at" => ("Waktu", "Time"),
        "date" | "value_date" => ("Tanggal", "Date"),
        "balance" => ("Saldo", "Balance"),
        "limit" => ("Batas", "Limit"),
        "days" => ("Hari", "Days"),
        "number" => ("Nomor", "Number"),
        "bank_reference" => ("Referensi bank", "Bank reference"),
        "kind" => ("Jenis", "Kind"),
        "tax" => ("Pajak", "Tax"),
        "withholdings" => ("Potongan", "Withholdings"),
        "withheld_on" => ("Dipungut", "Withheld on"),
        "deadline" => ("Tenggat", "Deadline"),
        "outstanding" => ("Belum disetor", "Outstanding"),
        "released_at_local" => ("Dikirim (waktu setempat)", "Released (local time)"),
        _ => return key.replace('_', " "),
    };
    pick(lang, id, en).to_string()
}

/// A tax's name as officials write it (`PPH21` is "PPh 21").
pub fn tax_name(code: &str) -> String {
    match code {
        "PPN" => "PPN".into(),
        "PAJAK_DAERAH" => "Pajak daerah".into(),
        c if c.starts_with("PPH") => format!("PPh {}", &c[3..]).replace("PPh 4_2", "PPh 4(2)"),
        c => c.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_has_both_languages_and_keys_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (k, id, en) in WORDS {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!id.is_empty() && !en.is_empty(), "{k}");
        }
        assert_eq!(t(Lang::En, "login"), "Sign in");
        assert_eq!(t(Lang::Id, "login"), "Masuk");
    }

    #[test]
    fn every_error_code_has_a_message() {
        let e = ApiError::new(ErrorCode::SeparationOfDuties, "x");
        assert!(error_message(Lang::Id, &e).starts_with("Pemisahan tugas"));
        assert!(error_message(Lang::En, &e).starts_with("Separation of duties"));
    }
}

// The tables of both backends' migrations (`migrations/sqlite`, `migrations/postgres`), which keep the same shape.

diesel::table! {
    regencies (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        created_at -> Timestamp,
        utc_offset_minutes -> Integer,
        treasury_name -> Nullable<Text>,
        treasury_bank_code -> Nullable<Text>,
        treasury_account_number -> Nullable<Text>,
        cash_payment_limit -> Nullable<BigInt>,
    }
}

diesel::table! {
    villages (id) {
        id -> Text,
        regency_id -> Text,
        code -> Text,
        name -> Text,
        bank_account -> Text,
        cash_limit -> BigInt,
        last_seq -> BigInt,
        chain_len -> BigInt,
        chain_head -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    accounts (village_id, code) {
        village_id -> Text,
        code -> Text,
        name -> Text,
        class -> Text,
        normal_side -> Text,
        balance -> BigInt,
    }
}

diesel::table! {
    fiscal_years (village_id, year) {
        village_id -> Text,
        year -> Integer,
        status -> Text,
        closed_at -> Nullable<Timestamp>,
        closed_by -> Nullable<Text>,
        silpa -> Nullable<BigInt>,
        silpa_transaction_id -> Nullable<Text>,
    }
}

diesel::table! {
    transactions (id) {
        id -> Text,
        village_id -> Text,
        seq -> BigInt,
        chain_seq -> BigInt,
        fiscal_year -> Integer,
        kind -> Text,
        value_date -> Date,
        description -> Text,
        reverses -> Nullable<Text>,
        payment_id -> Nullable<Text>,
        bank_reference -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    entries (transaction_id, line_no) {
        transaction_id -> Text,
        line_no -> Integer,
        village_id -> Text,
        account_code -> Text,
        side -> Text,
        amount -> BigInt,
        activity_code -> Nullable<Text>,
        source -> Nullable<Text>,
        value_date -> Date,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        village_id -> Nullable<Text>,
        regency_id -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
        token_version -> BigInt,
    }
}

diesel::table! {
    bank_clients (id) {
        id -> Text,
        client_id -> Text,
        name -> Text,
        secret_hash -> Text,
        active -> Bool,
        created_at -> Timestamp,
        token_version -> BigInt,
        public_key -> Nullable<Text>,
        webhook_url -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_outbox (id) {
        id -> Text,
        bank_client_id -> Text,
        village_id -> Text,
        event -> Text,
        transfer_id -> Text,
        payload -> Text,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        attempts -> Integer,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_attempts (outbox_id, attempt) {
        outbox_id -> Text,
        attempt -> Integer,
        at -> Timestamp,
        status -> Nullable<Integer>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    bank_external_ids (client_id, day, external_id) {
        client_id -> Text,
        day -> Date,
        external_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    bank_client_villages (bank_client_id, village_id) {
        bank_client_id -> Text,
        village_id -> Text,
    }
}

diesel::table! {
    idempotency_keys (principal, key) {
        principal -> Text,
        key -> Text,
        request_hash -> Text,
        village_id -> Nullable<Text>,
        status -> Integer,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    budgets (village_id, year, version) {
        village_id -> Text,
        year -> Integer,
        version -> Integer,
        status -> Text,
        note -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        adopted_by -> Nullable<Text>,
        adopted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    budget_lines (village_id, year, version, line_no) {
        village_id -> Text,
        year -> Integer,
        version -> Integer,
        line_no -> Integer,
        account_code -> Text,
        activity_code -> Text,
        activity_name -> Nullable<Text>,
        source -> Text,
        ceiling -> BigInt,
    }
}

diesel::table! {
    budget_positions (village_id, year, account_code, activity_code, source) {
        village_id -> Text,
        year -> Integer,
        account_code -> Text,
        activity_code -> Text,
        source -> Text,
        activity_name -> Nullable<Text>,
        ceiling -> BigInt,
        committed -> BigInt,
        realised -> BigInt,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        village_id -> Text,
        kind -> Text,
        fiscal_year -> Integer,
        status -> Text,
        activity_code -> Nullable<Text>,
        description -> Text,
        payee_name -> Text,
        payee_bank_code -> Text,
        payee_account_number -> Text,
        payee_npwp -> Nullable<Text>,
        invoice_number -> Nullable<Text>,
        invoice_date -> Nullable<Date>,
        billing_code -> Nullable<Text>,
        gross -> BigInt,
        withheld -> BigInt,
        net -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        bank_reference -> Nullable<Text>,
        ntpn -> Nullable<Text>,
        transaction_id -> Nullable<Text>,
        failure_reason -> Nullable<Text>,
        number -> Nullable<Text>,
    }
}

diesel::table! {
    payment_lines (payment_id, line_no) {
        payment_id -> Text,
        line_no -> Integer,
        village_id -> Text,
        account_code -> Text,
        activity_code -> Nullable<Text>,
        source -> Nullable<Text>,
        amount -> BigInt,
        billing_code -> Nullable<Text>,
        ntpn -> Nullable<Text>,
        receipt_no -> Integer,
    }
}

diesel::table! {
    payment_withholdings (payment_id, line_no, seq_no) {
        payment_id -> Text,
        line_no -> Integer,
        seq_no -> Integer,
        village_id -> Text,
        tax -> Text,
        amount -> BigInt,
    }
}

diesel::table! {
    payment_events (id) {
        id -> Text,
        village_id -> Text,
        payment_id -> Text,
        chain_seq -> BigInt,
        step -> Text,
        action -> Text,
        actor -> Text,
        actor_name -> Text,
        role -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        note -> Nullable<Text>,
        at -> Timestamp,
        payment_digest -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    transfers (id) {
        id -> Text,
        village_id -> Text,
        payment_id -> Text,
        attempt -> Integer,
        amount -> BigInt,
        status -> Text,
        released_by -> Text,
        released_at -> Timestamp,
        result_at -> Nullable<Timestamp>,
        bank_reference -> Nullable<Text>,
        value_date -> Nullable<Date>,
        reason -> Nullable<Text>,
        ntpn -> Nullable<Text>,
        settled_by -> Nullable<Text>,
        transaction_id -> Nullable<Text>,
        receipt_no -> Integer,
        executed_by -> Nullable<Text>,
        released_on -> Nullable<Date>,
    }
}

diesel::table! {
    bank_credits (village_id, bank_reference) {
        village_id -> Text,
        bank_reference -> Text,
        amount -> BigInt,
        source -> Text,
        transaction_id -> Text,
        client_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    statement_lines (id) {
        id -> Text,
        village_id -> Text,
        bank_reference -> Text,
        value_date -> Date,
        amount -> BigInt,
        direction -> Text,
        client_id -> Text,
        received_at -> Timestamp,
        balance -> Nullable<BigInt>,
    }
}

diesel::table! {
    account_daily (village_id, account_code, value_date) {
        village_id -> Text,
        account_code -> Text,
        value_date -> Date,
        debit -> BigInt,
        credit -> BigInt,
    }
}

diesel::table! {
    bank_entries (village_id, bank_reference) {
        village_id -> Text,
        bank_reference -> Text,
        kind -> Text,
        amount -> BigInt,
        value_date -> Date,
        transaction_id -> Text,
        suspense -> Bool,
        client_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    bank_entry_lines (village_id, kind) {
        village_id -> Text,
        kind -> Text,
        account_code -> Text,
        activity_code -> Text,
        source -> Text,
    }
}

diesel::table! {
    document_numbers (village_id, year, kind) {
        village_id -> Text,
        year -> Integer,
        kind -> Text,
        last_number -> BigInt,
    }
}

diesel::table! {
    village_officials (village_id, office) {
        village_id -> Text,
        office -> Text,
        name -> Text,
    }
}

diesel::table! {
    receipts (payment_id, receipt_no) {
        payment_id -> Text,
        receipt_no -> Integer,
        village_id -> Text,
        number -> Text,
        payee_name -> Text,
        payee_bank_code -> Text,
        payee_account_number -> Text,
        payee_npwp -> Nullable<Text>,
        description -> Nullable<Text>,
        gross -> BigInt,
        withheld -> BigInt,
        net -> BigInt,
        status -> Text,
    }
}

diesel::table! {
    accountability_receipts (payment_id, receipt_no) {
        payment_id -> Text,
        receipt_no -> Integer,
        village_id -> Text,
        payee_name -> Text,
        payee_npwp -> Nullable<Text>,
        description -> Nullable<Text>,
        gross -> BigInt,
        withheld -> BigInt,
        net -> BigInt,
        transaction_id -> Text,
    }
}

diesel::table! {
    meta (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    checkpoints (village_id, chain_seq, key_id) {
        village_id -> Text,
        chain_seq -> BigInt,
        hash -> Text,
        at -> Text,
        key_id -> Text,
        signature -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> BigInt,
        last_failure -> Timestamp,
    }
}

diesel::table! {
    login_known (username, address) {
        username -> Text,
        address -> Text,
        last_success -> Timestamp,
    }
}

diesel::joinable!(villages -> regencies (regency_id));
diesel::joinable!(entries -> transactions (transaction_id));

diesel::table! {
    chained_facts (id) {
        id -> Text,
        village_id -> Text,
        chain_seq -> BigInt,
        kind -> Text,
        subject -> Text,
        state -> Text,
        actor -> Text,
        at -> Timestamp,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    chained_facts,
    regencies,
    villages,
    accounts,
    fiscal_years,
    transactions,
    entries,
    users,
    bank_clients,
    bank_client_villages,
    idempotency_keys,
    budgets,
    budget_lines,
    budget_positions,
    payments,
    payment_lines,
    payment_withholdings,
    payment_events,
    transfers,
    bank_credits,
    statement_lines,
    account_daily,
    meta,
    accountability_receipts,
    receipts,
    village_officials,
    document_numbers,
    bank_entries,
    bank_entry_lines,
    checkpoints,
    login_throttle,
    login_known,
    bank_external_ids,
    webhook_outbox,
    webhook_attempts,
);

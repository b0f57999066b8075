// The tables of both backends' migrations (`migrations/sqlite`, `migrations/postgres`), which keep the same shape.

diesel::table! {
    regencies (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        created_at -> Timestamp,
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

diesel::joinable!(villages -> regencies (regency_id));
diesel::joinable!(entries -> transactions (transaction_id));

diesel::allow_tables_to_appear_in_same_query!(
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
);

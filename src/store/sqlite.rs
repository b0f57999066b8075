//! SQLite's side of the seam (`backend.rs`) where the DSL would prepare a statement on every call.
//!
//! SQLite has one writer, so the time a write holds it is the service's ceiling on SQLite. Preparing a statement
//! (parsing and planning its SQL) costs about as much as running it, and diesel caches a prepared statement per
//! connection only when the statement's text cannot change from call to call: it never caches an `UPDATE` (a
//! changeset may skip columns), an upsert's `DO UPDATE`, an `IN (…)` list, a multi-row `INSERT`, or, on SQLite, an
//! `INSERT` of a row with `Option` fields left to their default. A posting was five such statements, prepared anew
//! each time. The statements here are fixed text with their binds, so diesel prepares each once per connection and
//! runs it again with new values. (The insertable rows of a posting say `treat_none_as_default_value = false` for
//! the same reason, and the bundled SQLite keeps plans across bindings: `.cargo/config.toml`.)

use super::backend::PostingRows;
use super::schema::*;
use super::StoreError;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Date, Text};
use diesel::sqlite::Sqlite;
use diesel::SqliteConnection;
use std::marker::PhantomData;

/// One bound value of a [`Fixed`] statement.
enum Bind<'a> {
    Text(&'a str),
    Int(i64),
    Date(chrono::NaiveDate),
}

/// The text of one fixed statement: a type of its own, which is what diesel keys its statement cache by.
/// Each `?` of the text is where one bound value goes, in order.
trait FixedSql: 'static {
    const SQL: &'static str;
    /// The text's placeholders, counted when the program is compiled.
    const BINDS: usize = placeholders(Self::SQL);
}

const fn placeholders(sql: &str) -> usize {
    let bytes = sql.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == b'?' {
            n += 1;
        }
        i += 1;
    }
    n
}

/// A statement whose text is `Q::SQL` whatever its values, so diesel prepares it once per connection. Its values
/// are an array: nothing is allocated for them on the writer's path.
struct Fixed<'a, Q, const N: usize> {
    binds: [Bind<'a>; N],
    sql: PhantomData<Q>,
}

impl<'a, Q: FixedSql, const N: usize> Fixed<'a, Q, N> {
    fn new(binds: [Bind<'a>; N]) -> Self {
        assert_eq!(N, Q::BINDS, "a fixed statement is given one value per placeholder");
        Fixed { binds, sql: PhantomData }
    }

    fn run(self, c: &mut SqliteConnection) -> Result<usize, StoreError> {
        Ok(self.execute(c)?)
    }
}

impl<Q: FixedSql, const N: usize> QueryId for Fixed<'_, Q, N> {
    type QueryId = Q;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Q: FixedSql, const N: usize> QueryFragment<Sqlite> for Fixed<'_, Q, N> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        // diesel writes the placeholder of each bound value itself: the text goes in between.
        let mut texts = Q::SQL.split('?');
        out.push_sql(texts.next().unwrap_or_default());
        for (bind, text) in self.binds.iter().zip(texts) {
            match bind {
                Bind::Text(s) => out.push_bind_param::<Text, _>(*s)?,
                Bind::Int(v) => out.push_bind_param::<BigInt, _>(v)?,
                Bind::Date(d) => out.push_bind_param::<Date, _>(d)?,
            }
            out.push_sql(text);
        }
        Ok(())
    }
}

impl<Q, const N: usize> RunQueryDsl<SqliteConnection> for Fixed<'_, Q, N> {}

macro_rules! fixed_sql {
    ($name:ident, $sql:expr) => {
        struct $name;
        impl FixedSql for $name {
            const SQL: &'static str = $sql;
        }
    };
}

fixed_sql!(SetBalance, "UPDATE accounts SET balance = ? WHERE village_id = ? AND code = ?");
fixed_sql!(
    AddDaily,
    "INSERT INTO account_daily (village_id, account_code, value_date, debit, credit) VALUES (?, ?, ?, ?, ?) \
     ON CONFLICT (village_id, account_code, value_date) \
     DO UPDATE SET debit = account_daily.debit + excluded.debit, credit = account_daily.credit + excluded.credit"
);
fixed_sql!(SetHead, "UPDATE villages SET last_seq = ?, chain_len = ?, chain_head = ? WHERE id = ?");

/// SQLite's posting: a statement per row, each prepared once per connection.
pub(super) fn write_posting(c: &mut SqliteConnection, rows: &PostingRows<'_>) -> Result<(), StoreError> {
    let txn = rows.txn;
    let village_id = txn.village_id.as_str();
    diesel::insert_into(transactions::table).values(txn).execute(c)?;
    for entry in rows.entries {
        diesel::insert_into(entries::table).values(entry).execute(c)?;
    }
    for b in rows.balances {
        let set = Fixed::<SetBalance, _>::new([Bind::Int(b.after), Bind::Text(village_id), Bind::Text(&b.account)]);
        if set.run(c)? != 1 {
            return Err(StoreError::Integrity(format!("account {} of the posting is missing", b.account)));
        }
    }
    for (code, (debit, credit)) in rows.daily {
        Fixed::<AddDaily, _>::new([
            Bind::Text(village_id),
            Bind::Text(code),
            Bind::Date(txn.value_date),
            Bind::Int(*debit),
            Bind::Int(*credit),
        ])
        .run(c)?;
    }
    Fixed::<SetHead, _>::new([
        Bind::Int(txn.seq),
        Bind::Int(txn.chain_seq),
        Bind::Text(&txn.hash),
        Bind::Text(village_id),
    ])
    .run(c)?;
    if let Some(row) = &rows.along.bank_credit {
        diesel::insert_into(bank_credits::table).values(row).execute(c)?;
    }
    if let Some(row) = &rows.along.idempotency {
        diesel::insert_into(idempotency_keys::table).values(row).execute(c)?;
    }
    Ok(())
}

/// The balances of the accounts among `codes` that exist, a cached look-up per account (an `IN (…)` list would be
/// prepared on every call).
pub(super) fn balances(
    c: &mut SqliteConnection,
    village_id: &str,
    codes: &[String],
) -> Result<std::collections::HashMap<String, i64>, StoreError> {
    let mut out = std::collections::HashMap::with_capacity(codes.len());
    for code in codes {
        let found: Option<i64> =
            accounts::table.find((village_id, code)).select(accounts::balance).get_result(c).optional()?;
        if let Some(balance) = found {
            out.insert(code.clone(), balance);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;

    fn conn() -> SqliteConnection {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        c.batch_execute(
            "CREATE TABLE accounts (village_id TEXT, code TEXT, name TEXT, class TEXT, normal_side TEXT, \
             balance BIGINT, PRIMARY KEY (village_id, code));
             CREATE TABLE account_daily (village_id TEXT, account_code TEXT, value_date DATE, debit BIGINT, \
             credit BIGINT, PRIMARY KEY (village_id, account_code, value_date));
             INSERT INTO accounts VALUES ('v', '1.1.1', 'Kas', 'asset', 'debit', 0);",
        )
        .unwrap();
        c
    }

    #[test]
    fn fixed_statements_write_what_the_dsl_would() {
        let mut c = conn();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        for (debit, credit) in [(500, 0), (0, 200)] {
            Fixed::<AddDaily, _>::new([
                Bind::Text("v"),
                Bind::Text("1.1.1"),
                Bind::Date(day),
                Bind::Int(debit),
                Bind::Int(credit),
            ])
            .run(&mut c)
            .unwrap();
        }
        let daily: (i64, i64) = account_daily::table
            .find(("v", "1.1.1", day))
            .select((account_daily::debit, account_daily::credit))
            .get_result(&mut c)
            .unwrap();
        assert_eq!(daily, (500, 200), "the second upsert adds to the first day's totals");
        let n = Fixed::<SetBalance, _>::new([Bind::Int(300), Bind::Text("v"), Bind::Text("1.1.1")]).run(&mut c);
        assert_eq!(n.unwrap(), 1);
        let missing = Fixed::<SetBalance, _>::new([Bind::Int(1), Bind::Text("v"), Bind::Text("9.9")]).run(&mut c);
        assert_eq!(missing.unwrap(), 0, "an account that is not there is no row changed");
        assert_eq!(
            balances(&mut c, "v", &["1.1.1".into(), "9.9".into()]).unwrap(),
            [("1.1.1".to_string(), 300)].into()
        );
    }

    #[test]
    #[should_panic(expected = "one value per placeholder")]
    fn a_fixed_statement_refuses_a_missing_value() {
        let _ = Fixed::<SetHead, _>::new([Bind::Int(1)]);
    }

    /// `.cargo/config.toml` builds the bundled SQLite with the query planner stability guarantee: without it every
    /// `.first()` (a bound `LIMIT ?`) is prepared again on each execution.
    #[test]
    fn the_bundled_sqlite_keeps_plans_across_bindings() {
        let mut c = conn();
        #[derive(QueryableByName)]
        struct Used {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            used: i32,
        }
        let u: Used =
            diesel::sql_query("SELECT sqlite_compileoption_used('ENABLE_QPSG') AS used").get_result(&mut c).unwrap();
        assert_eq!(u.used, 1, "build with LIBSQLITE3_FLAGS=-DSQLITE_ENABLE_QPSG (.cargo/config.toml)");
    }
}

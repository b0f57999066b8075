//! The webhook outbox: events written in the same database transaction as what they announce (a release), then
//! delivered by the worker (`src/webhooks.rs`) at least once, in order per (bank client, village): an event is not
//! tried while an older one of the same client and village is undelivered.

use super::rows::{AttemptRow, OutboxRow, PaymentRecord, TransferRow, VillageRow};
use super::schema::*;
use super::{now_micros, Db, DbConn, StoreError};
use crate::domain::money::Amount;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashSet;

/// The event of a released transfer.
pub const TRANSFER_RELEASED: &str = "transfer.released";

/// How many undelivered events the worker looks at per round.
const SCAN: i64 = 2000;

/// What a `transfer.released` event carries: the instruction as `GET /bank/transfers` lists it.
fn released_payload(village: &VillageRow, rec: &PaymentRecord, t: &TransferRow, id: &str) -> String {
    let receipt = rec.receipts.iter().find(|r| r.receipt_no == t.receipt_no);
    let p = &rec.payment;
    let (name, bank, account, npwp) = match receipt {
        Some(r) => (&r.payee_name, &r.payee_bank_code, &r.payee_account_number, r.payee_npwp.as_ref()),
        None => (&p.payee_name, &p.payee_bank_code, &p.payee_account_number, p.payee_npwp.as_ref()),
    };
    serde_json::json!({
        "id": id,
        "event": TRANSFER_RELEASED,
        "transfer": {
            "id": t.id,
            "payment_id": t.payment_id,
            "village_id": t.village_id,
            "attempt": t.attempt,
            "amount": Amount(t.amount).to_string(),
            "status": t.status,
            "payee": {"name": name, "bank_code": bank, "account_number": account, "npwp": npwp},
            "description": receipt.and_then(|r| r.description.clone()).unwrap_or_else(|| p.description.clone()),
            "receipt_number": receipt.map(|r| r.number.clone()),
            "released_at": crate::domain::chain::canonical_time(t.released_at),
            "released_on": t.released_on,
            "debit_account": village.bank_account,
            "billing_code": p.billing_code,
        }
    })
    .to_string()
}

/// Writes a `transfer.released` event for every released transfer, to every active bank client of the village
/// that registered a webhook, inside the caller's (the release's) transaction.
pub(super) fn enqueue_released(
    c: &mut DbConn,
    village: &VillageRow,
    rec: &PaymentRecord,
    transfers: &[TransferRow],
) -> Result<(), StoreError> {
    let clients: Vec<String> = bank_clients::table
        .inner_join(bank_client_villages::table.on(bank_client_villages::bank_client_id.eq(bank_clients::id)))
        .filter(bank_client_villages::village_id.eq(village.id.as_str()))
        .filter(bank_clients::active.eq(true))
        .filter(bank_clients::webhook_url.is_not_null())
        .select(bank_clients::id)
        .load(c)?;
    if clients.is_empty() {
        return Ok(());
    }
    let now = now_micros();
    let mut rows = Vec::with_capacity(clients.len() * transfers.len());
    for t in transfers {
        for client in &clients {
            // v7: time-ordered, so an older event of the village sorts first.
            let id = uuid::Uuid::now_v7().to_string();
            rows.push(OutboxRow {
                payload: released_payload(village, rec, t, &id),
                id,
                bank_client_id: client.clone(),
                village_id: village.id.to_string(),
                event: TRANSFER_RELEASED.into(),
                transfer_id: t.id.to_string(),
                created_at: now,
                next_attempt_at: now,
                attempts: 0,
                delivered_at: None,
            });
        }
    }
    c.insert_all(webhook_outbox::table, &rows)?;
    Ok(())
}

/// An event due for delivery, with where it goes.
#[derive(Debug, Clone)]
pub struct Due {
    pub event: OutboxRow,
    pub url: String,
}

impl Db {
    /// The events to try now: per (client, village), the oldest undelivered one, if its next attempt is due and
    /// its client is active with a webhook.
    pub fn due_webhooks(&self, now: NaiveDateTime) -> Result<Vec<Due>, StoreError> {
        self.read("due_webhooks", |c| {
            let pending: Vec<OutboxRow> = webhook_outbox::table
                .filter(webhook_outbox::delivered_at.is_null())
                .order(webhook_outbox::id)
                .limit(SCAN)
                .select(OutboxRow::as_select())
                .load(c)?;
            let urls: std::collections::HashMap<String, String> = bank_clients::table
                .filter(bank_clients::active.eq(true))
                .filter(bank_clients::webhook_url.is_not_null())
                .select((bank_clients::id, bank_clients::webhook_url.assume_not_null()))
                .load::<(String, String)>(c)?
                .into_iter()
                .collect();
            let mut seen = HashSet::new();
            let mut due = Vec::new();
            for e in pending {
                // Only the oldest of each (client, village): the order of delivery is the order of release.
                if !seen.insert((e.bank_client_id.clone(), e.village_id.clone())) {
                    continue;
                }
                if e.next_attempt_at > now {
                    continue;
                }
                if let Some(url) = urls.get(&e.bank_client_id) {
                    due.push(Due { url: url.clone(), event: e });
                }
            }
            Ok(due)
        })
    }

    /// Claims an event for one attempt until `until` (another instance's worker then leaves it alone): false if
    /// someone else claimed or delivered it first.
    pub fn claim_webhook(&self, e: &OutboxRow, until: NaiveDateTime) -> Result<bool, StoreError> {
        self.write("claim_webhook", |c| {
            let n = diesel::update(
                webhook_outbox::table
                    .filter(webhook_outbox::id.eq(&e.id))
                    .filter(webhook_outbox::delivered_at.is_null())
                    .filter(webhook_outbox::next_attempt_at.eq(e.next_attempt_at))
                    .filter(webhook_outbox::attempts.eq(e.attempts)),
            )
            .set((webhook_outbox::next_attempt_at.eq(until), webhook_outbox::attempts.eq(e.attempts + 1)))
            .execute(c)?;
            Ok(n == 1)
        })
    }

    /// Records an attempt: delivered, or failed with the next attempt at `retry_at`.
    pub fn record_webhook_attempt(
        &self,
        e: &OutboxRow,
        status: Option<u16>,
        error: Option<&str>,
        delivered: bool,
        retry_at: NaiveDateTime,
    ) -> Result<(), StoreError> {
        let now = now_micros();
        self.write("record_webhook_attempt", |c| {
            let attempt = AttemptRow {
                outbox_id: e.id.clone(),
                attempt: e.attempts + 1,
                at: now,
                status: status.map(i32::from),
                error: error.map(|m| m.chars().take(500).collect()),
            };
            diesel::insert_into(webhook_attempts::table).values(&attempt).execute(c)?;
            if delivered {
                diesel::update(webhook_outbox::table.find(&e.id))
                    .set(webhook_outbox::delivered_at.eq(Some(now)))
                    .execute(c)?;
            } else {
                diesel::update(webhook_outbox::table.find(&e.id))
                    .set(webhook_outbox::next_attempt_at.eq(retry_at))
                    .execute(c)?;
            }
            Ok(())
        })
    }

    /// A bank client's events, newest first, with their attempts.
    pub fn webhook_deliveries(
        &self,
        bank_client_id: &str,
        limit: i64,
    ) -> Result<Vec<(OutboxRow, Vec<AttemptRow>)>, StoreError> {
        self.read("webhook_deliveries", |c| {
            let events: Vec<OutboxRow> = webhook_outbox::table
                .filter(webhook_outbox::bank_client_id.eq(bank_client_id))
                .order(webhook_outbox::id.desc())
                .limit(limit)
                .select(OutboxRow::as_select())
                .load(c)?;
            let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
            let attempts: Vec<AttemptRow> = webhook_attempts::table
                .filter(webhook_attempts::outbox_id.eq_any(&ids))
                .order((webhook_attempts::outbox_id, webhook_attempts::attempt))
                .select(AttemptRow::as_select())
                .load(c)?;
            Ok(events
                .into_iter()
                .map(|e| {
                    let a = attempts.iter().filter(|a| a.outbox_id == e.id).cloned().collect();
                    (e, a)
                })
                .collect())
        })
    }

    /// A bank client's row by its id.
    pub fn get_bank_client(&self, id: &str) -> Result<Option<super::rows::BankClientRow>, StoreError> {
        self.read("get_bank_client", |c| {
            Ok(bank_clients::table.find(id).select(super::rows::BankClientRow::as_select()).first(c).optional()?)
        })
    }
}

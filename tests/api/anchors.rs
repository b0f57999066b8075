//! Anchored chain heads (issue: trust): checkpoints signed with a key outside the database, exported to the
//! regency's inspector, catch a history rewritten with every hash recomputed, newest links removed with the head
//! rolled back, and forged checkpoints.

use crate::chain::raw_sql;
use crate::helpers::*;
use base64::Engine;
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use ed25519_dalek::Verifier;
use kasdesa::store::rows::{EntryRow, TransactionRow};
use kasdesa::store::schema::{entries, transactions, villages};
use serde_json::{json, Value};

async fn world(postings: usize) -> (TestApp, String, Village, String) {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    for i in 1..=postings {
        app.post_txn(&v, &receipt(&format!("{i}000.00"), "4.1.4.01")).await.assert_status(201);
    }
    let inspector = app.inspector(&regency, "inspektorat").await;
    (app, regency, v, inspector)
}

async fn checkpoint_now(app: &TestApp, regency: &str, inspector: &str) -> Value {
    let r = app.post(&format!("/api/v1/regencies/{regency}/checkpoints")).token(inspector).send().await;
    r.assert_status(201).clone()
}

async fn verify_with(app: &TestApp, v: &Village, file: &Value) -> Value {
    let r = app.post(&format!("/api/v1/villages/{}/audit/verify", v.id)).token(&v.treasurer).json(file).send().await;
    r.assert_status(200).clone()
}

/// The attacker's rewrite: the description of the transaction at `chain_seq` changed, and every hash from there on
/// recomputed (with the village head moved to the new last hash), so that the chain is sound in itself.
fn rewrite_from(app: &TestApp, village_id: &str, chain_seq: i64) {
    raw_sql(
        app,
        "DROP TRIGGER transactions_no_update;",
        "ALTER TABLE transactions DISABLE TRIGGER transactions_immutable;",
    )
    .unwrap();
    macro_rules! rewrite {
        ($c:expr) => {{
            let c = $c;
            let txns: Vec<TransactionRow> = transactions::table
                .filter(transactions::village_id.eq(village_id))
                .order(transactions::chain_seq)
                .select(TransactionRow::as_select())
                .load(c)
                .unwrap();
            let mut prev = txns.iter().find(|t| t.chain_seq == chain_seq).unwrap().prev_hash.clone();
            for mut t in txns.into_iter().filter(|t| t.chain_seq >= chain_seq) {
                let lines: Vec<EntryRow> = entries::table
                    .filter(entries::transaction_id.eq(&t.id))
                    .order(entries::line_no)
                    .select(EntryRow::as_select())
                    .load(c)
                    .unwrap();
                if t.chain_seq == chain_seq {
                    t.description = "Penerimaan (diubah)".into();
                }
                t.prev_hash = prev.clone();
                t.hash = kasdesa::store::transaction_hash(&t, &lines);
                diesel::update(transactions::table.filter(transactions::id.eq(&t.id)))
                    .set((
                        transactions::description.eq(&t.description),
                        transactions::prev_hash.eq(&t.prev_hash),
                        transactions::hash.eq(&t.hash),
                    ))
                    .execute(c)
                    .unwrap();
                prev = t.hash;
            }
            diesel::update(villages::table.filter(villages::id.eq(village_id)))
                .set(villages::chain_head.eq(&prev))
                .execute(c)
                .unwrap();
        }};
    }
    match app.database_url.strip_prefix("sqlite://") {
        Some(path) => rewrite!(&mut SqliteConnection::establish(path).unwrap()),
        None => rewrite!(&mut PgConnection::establish(&app.database_url).unwrap()),
    }
}

#[tokio::test]
async fn checkpoints_are_signed_as_documented_and_only_the_regency_sees_them() {
    let (app, regency, v, inspector) = world(3).await;
    let key = app.get("/api/v1/audit/anchor-key").send().await;
    let key = key.assert_status(200).clone();
    assert_eq!(key["algorithm"], "Ed25519");
    assert!(key["public_key_pem"].as_str().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
    let file = checkpoint_now(&app, &regency, &inspector).await;
    let cps = file["checkpoints"].as_array().unwrap();
    assert_eq!(cps.len(), 1, "{file}");
    let cp = &cps[0];
    assert_eq!((cp["village_id"].as_str().unwrap(), cp["chain_seq"].as_i64().unwrap()), (v.id.as_str(), v.base + 3));
    // Checked here with the published key and the documented message alone, as an inspector would without kasdesa.
    let raw: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(key["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let public = ed25519_dalek::VerifyingKey::from_bytes(&raw).unwrap();
    let message = format!(
        "kasdesa-checkpoint/v1\n{}\n{}\n{}\n{}\n",
        cp["village_id"].as_str().unwrap(),
        cp["chain_seq"],
        cp["hash"].as_str().unwrap(),
        cp["at"].as_str().unwrap()
    );
    let sig: [u8; 64] = base64::engine::general_purpose::STANDARD
        .decode(cp["signature"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    public.verify(message.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig)).expect("a valid signature");
    assert_eq!(cp["key_id"], key["key_id"]);
    // Nothing moved: a second request signs nothing new; the export holds the one checkpoint.
    checkpoint_now(&app, &regency, &inspector).await;
    let all = app.get(&format!("/api/v1/regencies/{regency}/checkpoints")).token(&inspector).send().await;
    assert_eq!(all.assert_status(200)["checkpoints"].as_array().unwrap().len(), 1);
    assert!(all.headers["content-disposition"].to_str().unwrap().contains("attachment"));
    // Verify compares with the stored checkpoint.
    let report = app.verify(&v).await;
    assert_eq!(
        (report["ok"].as_bool(), report["anchors"]["anchored_seq"].as_i64()),
        (Some(true), Some(v.base + 3)),
        "{report}"
    );
    // Other regencies' inspectors and the village's officials see nothing of them.
    let other = app.create_regency("61.04").await;
    let outsider = app.inspector(&other, "inspektorat-lain").await;
    for token in [&outsider, &v.treasurer] {
        app.get(&format!("/api/v1/regencies/{regency}/checkpoints"))
            .token(token)
            .send()
            .await
            .assert_problem(404, "not_found");
        app.post(&format!("/api/v1/regencies/{regency}/checkpoints"))
            .token(token)
            .send()
            .await
            .assert_problem(404, "not_found");
    }
}

#[tokio::test]
async fn a_history_rewritten_with_every_hash_recomputed_is_caught_by_the_kept_file() {
    let (app, regency, v, inspector) = world(5).await;
    checkpoint_now(&app, &regency, &inspector).await;
    for i in 6..=7 {
        app.post_txn(&v, &receipt(&format!("{i}000.00"), "4.1.4.01")).await.assert_status(201);
    }
    checkpoint_now(&app, &regency, &inspector).await;
    let kept = app.get(&format!("/api/v1/regencies/{regency}/checkpoints")).token(&inspector).send().await;
    let kept = kept.assert_status(200).clone();
    assert_eq!(kept["checkpoints"].as_array().unwrap().len(), 2);
    std::fs::write(app.data_dir.path().join("kept.json"), kept.to_string()).unwrap();
    assert_eq!(verify_with(&app, &v, &kept).await["ok"], true);

    // The attacker rewrites transaction 6 and recomputes every hash after it, then removes the stored checkpoints.
    rewrite_from(&app, &v.id, v.base + 6);
    raw_sql(&app, "DELETE FROM checkpoints;", "DELETE FROM checkpoints;").unwrap();
    // The stored answers to the postings still show their old hashes: a careless attacker is caught by them.
    let careless = app.verify(&v).await;
    assert_eq!(careless["answer_mismatches"].as_array().unwrap().len(), 2, "{careless}");
    // A careful one deletes them too (retries of those requests would then post again: the kept file still finds it).
    raw_sql(&app, "DELETE FROM idempotency_keys;", "DELETE FROM idempotency_keys;").unwrap();
    let alone = app.verify(&v).await;
    assert_eq!(alone["ok"], true, "without checkpoints the rewritten chain is sound in itself: {alone}");
    assert_eq!(alone["anchors"]["compared"], 0);

    // The inspector's file finds it, between the checkpoints around the rewritten link.
    let report = verify_with(&app, &v, &kept).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(
        report["anchors"]["first_divergence"],
        json!({"after_seq": v.base + 5, "at_or_before_seq": v.base + 7, "finding": "hash_differs"})
    );
    assert_eq!(report["anchors"]["anchored_seq"], v.base + 5);
    // And so does the command line with the file.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kasdesa"))
        .args(["verify-chain", "--village", &v.code, "--checkpoints"])
        .arg(app.data_dir.path().join("kept.json"))
        .env("KASDESA_DATABASE_URL", &app.database_url)
        .env("KASDESA_DATA_DIR", app.data_dir.path())
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("hash_differs"));
}

#[tokio::test]
async fn removed_links_and_forged_checkpoints_are_named() {
    let (app, regency, v, inspector) = world(3).await;
    checkpoint_now(&app, &regency, &inspector).await;
    // The newest transaction deleted and the head rolled back: the chain is sound in itself.
    let head = v.base + 2;
    raw_sql(
        &app,
        &format!(
            "DROP TRIGGER entries_no_delete; DROP TRIGGER transactions_no_delete; \
             DELETE FROM entries WHERE transaction_id = (SELECT id FROM transactions WHERE seq = 3); \
             DELETE FROM transactions WHERE seq = 3; \
             UPDATE villages SET chain_len = {head}, last_seq = 2, \
               chain_head = (SELECT hash FROM transactions t WHERE t.seq = 2 AND t.village_id = villages.id);"
        ),
        &format!(
            "ALTER TABLE entries DISABLE TRIGGER entries_immutable; ALTER TABLE transactions DISABLE TRIGGER transactions_immutable; \
             DELETE FROM entries WHERE transaction_id = (SELECT id FROM transactions WHERE seq = 3); \
             DELETE FROM transactions WHERE seq = 3; \
             UPDATE villages SET chain_len = {head}, last_seq = 2, \
               chain_head = (SELECT hash FROM transactions t WHERE t.seq = 2 AND t.village_id = villages.id);"
        ),
    )
    .unwrap();
    let report = app.verify(&v).await;
    assert!(report["first_broken"].is_null(), "{report}");
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["anchors"]["first_divergence"],
        json!({"after_seq": 0, "at_or_before_seq": v.base + 3, "finding": "links_removed"})
    );
    // A checkpoint forged in the database (no key to sign it with) anchors nothing and is named.
    let (key_id, hash2): (String, String) = {
        let file = app.get(&format!("/api/v1/regencies/{regency}/checkpoints")).token(&inspector).send().await;
        let cp = file.body["checkpoints"][0].clone();
        (cp["key_id"].as_str().unwrap().into(), "f".repeat(64))
    };
    let forged = format!(
        "INSERT INTO checkpoints (village_id, chain_seq, hash, at, key_id, signature, created_at) \
         VALUES ('{}', 2, '{hash2}', '2026-12-01T00:00:00.000000Z', '{key_id}', 'AAAA', '2026-12-01 00:00:00');",
        v.id
    );
    raw_sql(&app, &forged, &forged).unwrap();
    let report = app.verify(&v).await;
    let problems = report["anchors"]["problems"].as_array().unwrap();
    assert!(problems.iter().any(|p| p["chain_seq"] == 2 && p["finding"] == "bad_signature"), "{report}");
    // The anomaly scan says so in words.
    let anomalies = app.get(&format!("/api/v1/regencies/{regency}/anomalies")).token(&inspector).send().await;
    let flags = anomalies.assert_status(200)["items"].as_array().unwrap().clone();
    let chain = flags.iter().find(|f| f["rule"] == "chain_break").expect("a chain_break anomaly");
    assert!(chain["description"].as_str().unwrap().contains("checkpoint"), "{chain}");
}

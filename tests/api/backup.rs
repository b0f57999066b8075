//! Backups: a copy taken while the service runs restores to books that verify.

use crate::helpers::*;
use std::process::Command;

fn cli(args: &[&str], database_url: &str, data_dir: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kasdesa"))
        .args(args)
        .env("KASDESA_DATABASE_URL", database_url)
        .env("KASDESA_DATA_DIR", data_dir)
        .env("RUST_LOG", "error")
        .output()
        .expect("the CLI runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn a_backup_restores_and_verifies() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    for i in 1..=5 {
        app.post_txn(&v, &receipt(&format!("{i}.00"), "4.1.4.01")).await.assert_status(201);
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kasdesa.backup");
    let (ok, out) = cli(&["backup", "--out", file.to_str().unwrap()], &app.database_url, app.data_dir.path());
    if !ok && out.contains("could not run pg_dump") {
        eprintln!("pg_dump is not installed: PostgreSQL backup test not run");
        return;
    }
    assert!(ok, "{out}");
    // Writing after the backup does not reach the copy.
    app.post_txn(&v, &receipt("99.00", "4.1.4.01")).await.assert_status(201);

    let restored_url = match pg_base_url() {
        None => format!("sqlite://{}", file.display()),
        Some(base) => {
            let name = format!("kasdesa_t_{}", uuid::Uuid::new_v4().simple());
            let db = base.rsplit_once('/').unwrap().0.to_string() + "/" + &name;
            assert!(Command::new("createdb")
                .args(["-h", "127.0.0.1", "-U", "postgres", &name])
                .status()
                .unwrap()
                .success());
            let status = Command::new("pg_restore").args(["--no-owner", "--dbname", &db]).arg(&file).status().unwrap();
            assert!(status.success());
            db
        }
    };
    let (ok, out) = cli(&["verify-chain", "--village", &v.code], &restored_url, app.data_dir.path());
    assert!(ok, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out[..out.rfind('}').unwrap() + 1]).unwrap();
    assert_eq!(report["checked"], v.base + 5, "the copy holds what was there when it was taken");
    assert_eq!(report["ok"], true);
    if restored_url.starts_with("postgres") {
        let name = restored_url.rsplit('/').next().unwrap();
        let _ = Command::new("dropdb").args(["-h", "127.0.0.1", "-U", "postgres", "--force", name]).status();
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_files_are_readable_by_the_service_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fresh");
    let url = format!("sqlite://{}/kasdesa.db", data.display());
    let db = kasdesa::store::Db::connect(&url, &Default::default()).unwrap();
    db.create_regency("61.12", "Kubu Raya", 420, None).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the directory");
    assert_eq!(mode(&data.join("kasdesa.db")), 0o600, "the database");
    assert_eq!(mode(&data.join("kasdesa.db-wal")), 0o600, "its write-ahead log");
}

//! Settings: the built-in defaults (`config/default.toml`, compiled into the binary), then an optional file
//! (`--config FILE` or `KASDESA_CONFIG`), then `KASDESA_*` environment variables.
//!
//! A variable names a key as `KASDESA_<KEY>` (`KASDESA_DATABASE_URL`), and a key of a table with `__` between the
//! table and the key (`KASDESA_ANOMALIES__APPROVAL_THRESHOLD_SEN`). An unknown key is refused, in a file and in
//! the environment alike, so that a typo cannot silently leave a default in force; the only `KASDESA_*`
//! variables that are not settings are those of [`NOT_SETTINGS`] and [`NOT_SETTINGS_PREFIXES`].

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The defaults, from the repository's `config/default.toml`: the binary does not depend on the directory it is
/// started in.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

const PREFIX: &str = "KASDESA_";

/// `KASDESA_*` variables that are not settings, and are therefore not refused: read by the command line
/// (`KASDESA_CONFIG`, `KASDESA_USER_PASSWORD`), the test suites (`KASDESA_RACE_ROUNDS`, `KASDESA_CRASH_KILLS`,
/// `KASDESA_PROPTEST_CASES`) and the browser tests (`KASDESA_BIN`, `KASDESA_SCREENSHOTS`). A service started by
/// any of these inherits them.
pub const NOT_SETTINGS: &[&str] = &[
    "KASDESA_CONFIG",
    "KASDESA_USER_PASSWORD",
    "KASDESA_RACE_ROUNDS",
    "KASDESA_CRASH_KILLS",
    "KASDESA_PROPTEST_CASES",
    "KASDESA_BIN",
    "KASDESA_SCREENSHOTS",
];

/// Families of `KASDESA_*` variables that are not settings: the tests' (`KASDESA_TEST_DATABASE_URL`), CI's
/// (`KASDESA_CI_PG_URL`), the benchmarks' (`KASDESA_BENCH_VILLAGES`), the load smoke's (`KASDESA_SMOKE_REQUIRE_PG`)
/// and the fuzzers' (`KASDESA_FUZZ_CASES`, `KASDESA_FUZZ_SEED`, `KASDESA_FUZZ_VENV`).
pub const NOT_SETTINGS_PREFIXES: &[&str] =
    &["KASDESA_TEST_", "KASDESA_CI_", "KASDESA_BENCH_", "KASDESA_SMOKE_", "KASDESA_FUZZ_"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub bind: String,
    pub database_url: String,
    /// A hot standby (`postgres://…`) the regency's reports read while it is up and within `read_max_lag_ms`;
    /// empty: every read is the primary's (src/store/replica.rs).
    #[serde(default)]
    pub database_read_url: String,
    /// How far behind (ms) the standby may be for the regency's reports to read it.
    pub read_max_lag_ms: u64,
    /// The database URLs name a pooler in transaction mode (PgBouncer's `pool_mode = transaction`): each
    /// transaction may run on another server session, so statements are not prepared by name and nothing is set
    /// on a session (src/store/conn.rs).
    #[serde(default)]
    pub database_pooled: bool,
    pub pool_size: u32,
    /// How many groups of concurrent single bank credits PostgreSQL writes at once, each group in one database
    /// transaction (src/store/coalesce.rs); 0 writes each credit in a transaction of its own. SQLite groups all
    /// its writes anyway (src/store/group_commit.rs).
    pub credit_writers: u32,
    /// How long a request waits for a database connection before answering 503.
    pub pool_timeout_secs: u64,
    pub token_ttl_secs: u64,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub max_body_bytes: usize,
    /// When set, `GET /metrics` needs `Authorization: Bearer <this>`; empty, it is open (for a scraper on a private
    /// network: the counters hold no village's data, only request and posting counts).
    #[serde(default)]
    pub metrics_token: String,
    /// Seconds a client has to send its request body once the headers arrived (a slow sender holds a worker).
    pub body_timeout_secs: u64,
    pub log_format: String,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Creates the user `admin` on first start with an empty database.
    #[serde(default)]
    pub admin_password: Option<String>,
    /// The file of the Ed25519 key that signs checkpoints of the chain heads; empty: `data_dir/anchor.key`.
    pub anchor_key_file: PathBuf,
    /// Seconds between periodic checkpoints of the heads that moved; 0: only on demand.
    pub checkpoint_interval_secs: u64,
    /// The file of the Ed25519 key that signs webhook deliveries; empty: `data_dir/webhook.key`.
    pub webhook_key_file: PathBuf,
    /// Milliseconds between rounds of the webhook worker; 0: no deliveries from this instance.
    pub webhook_poll_ms: u64,
    /// Thresholds of the regency's anomaly rules.
    #[serde(default)]
    pub anomalies: crate::reports::anomalies::AnomalyRules,
    /// Tax rates (date-effective), the PPh 22 threshold, the deposit day and the holidays that move it.
    #[serde(default)]
    pub tax: crate::domain::tax::TaxRules,
    /// The office's calendar (src/clock.rs): the real day, unless a test fixes it. Not a setting: no file or
    /// variable reaches it.
    #[serde(skip)]
    pub clock: crate::clock::Clock,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from("./data"),
            bind: "127.0.0.1:8080".into(),
            database_url: String::new(),
            database_read_url: String::new(),
            read_max_lag_ms: 5000,
            database_pooled: false,
            pool_size: 16,
            credit_writers: 2,
            pool_timeout_secs: 5,
            token_ttl_secs: 3600,
            jwt_issuer: "kasdesa".into(),
            jwt_audience: "kasdesa-api".into(),
            max_body_bytes: 256 * 1024,
            body_timeout_secs: 30,
            metrics_token: String::new(),
            log_format: "pretty".into(),
            workers: 0,
            admin_password: None,
            anchor_key_file: PathBuf::new(),
            checkpoint_interval_secs: 3600,
            webhook_key_file: PathBuf::new(),
            webhook_poll_ms: 1000,
            anomalies: Default::default(),
            tax: Default::default(),
            clock: crate::clock::Clock::system(),
        }
    }
}

/// Whether a `KASDESA_*` variable (any case, as figment matches the prefix) is one of the allowed non-settings.
fn is_not_setting(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    NOT_SETTINGS.contains(&name.as_str()) || NOT_SETTINGS_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The variable of every setting, `KASDESA_ANOMALIES__WORK_START_HOUR` for a key of a table (and
/// `KASDESA_ANOMALIES` for the whole table), from the settings' own fields.
pub fn setting_variables() -> Vec<String> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
        if let Some(map) = value.as_object() {
            for (key, inner) in map {
                let name = format!("{prefix}{}", key.to_ascii_uppercase());
                walk(&format!("{name}__"), inner, out);
                out.push(name);
            }
        }
    }
    let mut out = Vec::new();
    walk(PREFIX, &serde_json::to_value(Settings::default()).unwrap_or_default(), &mut out);
    out.sort();
    out
}

/// The `KASDESA_*` names among `names` that are neither a setting nor an allowed non-setting, as given.
pub fn unknown_variables<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Vec<String> {
    let known = setting_variables();
    let mut unknown: Vec<String> = names
        .into_iter()
        .map(|n| n.as_ref().to_string())
        .filter(|n| n.to_ascii_uppercase().starts_with(PREFIX))
        .filter(|n| !is_not_setting(n) && !known.contains(&n.to_ascii_uppercase()))
        .collect();
    unknown.sort();
    unknown
}

impl Settings {
    /// The anchor key's file: `anchor_key_file`, or `data_dir/anchor.key` when that is empty.
    pub fn anchor_key_path(&self) -> PathBuf {
        if self.anchor_key_file.as_os_str().is_empty() {
            self.data_dir.join("anchor.key")
        } else {
            self.anchor_key_file.clone()
        }
    }

    /// The webhook key's file: `webhook_key_file`, or `data_dir/webhook.key` when that is empty.
    pub fn webhook_key_path(&self) -> PathBuf {
        if self.webhook_key_file.as_os_str().is_empty() {
            self.data_dir.join("webhook.key")
        } else {
            self.webhook_key_file.clone()
        }
    }

    pub fn load(extra_file: Option<&Path>) -> anyhow::Result<Settings> {
        let env_names = std::env::vars_os().filter_map(|(name, _)| name.into_string().ok());
        let unknown = unknown_variables(env_names);
        anyhow::ensure!(
            unknown.is_empty(),
            "unknown configuration variable{} {}: no setting has that name. Settings are {}; the other KASDESA_* \
             variables allowed are {} and {}*",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", "),
            setting_variables().join(", "),
            NOT_SETTINGS.join(", "),
            NOT_SETTINGS_PREFIXES.join("*, "),
        );
        let mut fig = Figment::from(Serialized::defaults(Settings::default())).merge(Toml::string(DEFAULT_TOML));
        let extra = extra_file.map(PathBuf::from).or_else(|| std::env::var_os("KASDESA_CONFIG").map(PathBuf::from));
        if let Some(file) = extra {
            anyhow::ensure!(file.exists(), "config file {} does not exist", file.display());
            fig = fig.merge(Toml::file(file));
        }
        // The key is filtered before `__` becomes a table separator (figment lowercases it and drops the prefix).
        fig = fig.merge(Env::prefixed(PREFIX).filter(|key| !is_not_setting(&format!("{PREFIX}{key}"))).split("__"));
        let mut s: Settings = fig.extract().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        if s.database_url.trim().is_empty() {
            s.database_url = format!("sqlite://{}", s.data_dir.join("kasdesa.db").display());
        }
        anyhow::ensure!(s.pool_size >= 1 && s.pool_size <= 512, "pool_size must be between 1 and 512");
        anyhow::ensure!(s.token_ttl_secs >= 60 && s.token_ttl_secs <= 86_400, "token_ttl_secs must be 60..=86400");
        anyhow::ensure!(s.max_body_bytes >= 1024, "max_body_bytes must be at least 1024");
        anyhow::ensure!((1..=600).contains(&s.body_timeout_secs), "body_timeout_secs must be 1..=600");
        s.tax.validate().map_err(|e| anyhow::anyhow!("tax: {e}"))?;
        anyhow::ensure!((1..=28).contains(&s.tax.deposit_day), "tax.deposit_day must be 1..=28");
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::Jail;

    fn json(s: &Settings) -> serde_json::Value {
        serde_json::to_value(s).unwrap()
    }

    /// `Settings::load` inside a jail with an empty environment and a fresh current directory.
    #[allow(clippy::result_large_err)] // figment's own signature
    fn jailed(f: impl FnOnce(&mut Jail)) {
        Jail::expect_with(|jail| {
            jail.clear_env();
            f(jail);
            Ok(())
        });
    }

    #[test]
    fn the_embedded_default_file_holds_every_setting_at_its_default() {
        // On its own, without the built-in struct under it: no key missing, none unknown, none different.
        let from_file: Settings = Figment::from(Toml::string(DEFAULT_TOML)).extract().expect("default.toml parses");
        assert_eq!(json(&from_file), json(&Settings::default()));
    }

    #[test]
    fn the_defaults_do_not_depend_on_the_current_directory() {
        jailed(|jail| {
            // A config/default.toml where the service is started is not read: the binary carries its own.
            jail.create_dir("config").unwrap();
            jail.create_file("config/default.toml", "bind = \"0.0.0.0:1\"").unwrap();
            let s = Settings::load(None).unwrap();
            assert_eq!(s.bind, "127.0.0.1:8080");
            assert_eq!(s.database_url, "sqlite://./data/kasdesa.db");
        });
    }

    #[test]
    fn double_underscores_reach_the_keys_of_a_table() {
        jailed(|jail| {
            jail.set_env("KASDESA_ANOMALIES__APPROVAL_THRESHOLD_SEN", "123");
            jail.set_env("KASDESA_ANOMALIES__WORK_START_HOUR", "7");
            jail.set_env("KASDESA_BIND", "127.0.0.1:9999");
            jail.set_env("KASDESA_POOL_SIZE", "3");
            let s = Settings::load(None).unwrap();
            assert_eq!(s.anomalies.approval_threshold_sen, 123);
            assert_eq!(s.anomalies.work_start_hour, 7);
            assert_eq!(s.anomalies.work_end_hour, 16, "the table's other keys keep their defaults");
            assert_eq!((s.bind.as_str(), s.pool_size), ("127.0.0.1:9999", 3));
        });
    }

    #[test]
    fn an_unknown_variable_is_refused_by_name() {
        jailed(|jail| {
            jail.set_env("KASDESA_BIDN", "127.0.0.1:9999");
            let e = Settings::load(None).unwrap_err().to_string();
            assert!(e.contains("unknown configuration variable KASDESA_BIDN:"), "{e}");
            assert!(e.contains("KASDESA_BIND"), "the message lists the settings: {e}");
        });
        jailed(|jail| {
            // A key of a table, and the old spelling with one underscore, which would set nothing.
            jail.set_env("KASDESA_ANOMALIES__THRESHOLD", "1");
            jail.set_env("KASDESA_ANOMALIES_APPROVAL_THRESHOLD_SEN", "1");
            let e = Settings::load(None).unwrap_err().to_string();
            assert!(
                e.contains("variables KASDESA_ANOMALIES_APPROVAL_THRESHOLD_SEN, KASDESA_ANOMALIES__THRESHOLD:"),
                "{e}"
            );
        });
    }

    #[test]
    fn the_variables_that_are_not_settings_are_let_through() {
        jailed(|jail| {
            jail.create_file("extra.toml", "pool_size = 2").unwrap();
            jail.set_env("KASDESA_CONFIG", "extra.toml");
            for name in [
                "KASDESA_USER_PASSWORD",
                "KASDESA_TEST_DATABASE_URL",
                "KASDESA_CI_PG_URL",
                "KASDESA_BENCH_VILLAGES",
                "KASDESA_SMOKE_REQUIRE_PG",
                "KASDESA_RACE_ROUNDS",
                "KASDESA_CRASH_KILLS",
                "KASDESA_FUZZ_CASES",
                "KASDESA_PROPTEST_CASES",
                "KASDESA_SCREENSHOTS",
                "KASDESA_BIN",
            ] {
                jail.set_env(name, "1");
            }
            let s = Settings::load(None).unwrap();
            assert_eq!(s.pool_size, 2, "KASDESA_CONFIG names a file, it is not a setting");
        });
    }

    #[test]
    fn unknown_variables_is_a_function_of_the_names_alone() {
        let names =
            ["PATH", "KASDESA_BIND", "kasdesa_bind", "KASDESA_ANOMALIES", "KASDESA_TEST_X", "KASDESA_XYZ", "KASDESA_"];
        assert_eq!(unknown_variables(names), ["KASDESA_", "KASDESA_XYZ"]);
        assert!(setting_variables().contains(&"KASDESA_ANOMALIES__SPLIT_WINDOW_DAYS".to_string()));
        assert!(setting_variables().contains(&"KASDESA_TAX__DEPOSIT_DAY".to_string()));
    }

    #[test]
    fn an_unknown_key_in_a_file_is_refused_by_name() {
        jailed(|jail| {
            jail.create_file("top.toml", "bind = \"127.0.0.1:1\"\npool_sise = 4").unwrap();
            let e = Settings::load(Some(Path::new("top.toml"))).unwrap_err().to_string();
            assert!(e.contains("unknown field: found `pool_sise`"), "{e}");
            assert!(e.contains("top.toml"), "the message names the file: {e}");
        });
        jailed(|jail| {
            jail.create_file("nested.toml", "[anomalies]\nsplit_window_dayz = 3").unwrap();
            let e = Settings::load(Some(Path::new("nested.toml"))).unwrap_err().to_string();
            assert!(e.contains("unknown field: found `split_window_dayz`"), "{e}");
            assert!(e.contains("nested.toml"), "{e}");
        });
    }
}

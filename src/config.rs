//! Settings: built-in defaults, then `config/default.toml`, then an optional file, then `KASDESA_*` variables.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub bind: String,
    pub database_url: String,
    pub pool_size: u32,
    /// How long a request waits for a database connection before answering 503.
    pub pool_timeout_secs: u64,
    pub token_ttl_secs: u64,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub max_body_bytes: usize,
    pub log_format: String,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Creates the user `admin` on first start with an empty database.
    #[serde(default)]
    pub admin_password: Option<String>,
    /// Failed logins (per username, known or not) before it is locked; ten times as many per address.
    pub login_max_failures: u32,
    /// How long a lockout lasts, and the window failures are counted in.
    pub login_lockout_secs: u64,
    /// Thresholds of the regency's anomaly rules.
    #[serde(default)]
    pub anomalies: crate::reports::anomalies::AnomalyRules,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from("./data"),
            bind: "127.0.0.1:8080".into(),
            database_url: String::new(),
            pool_size: 16,
            pool_timeout_secs: 5,
            token_ttl_secs: 3600,
            jwt_issuer: "kasdesa".into(),
            jwt_audience: "kasdesa-api".into(),
            max_body_bytes: 256 * 1024,
            log_format: "pretty".into(),
            workers: 0,
            admin_password: None,
            login_max_failures: 5,
            login_lockout_secs: 900,
            anomalies: Default::default(),
        }
    }
}

impl Settings {
    pub fn load(extra_file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if Path::new("config/default.toml").exists() {
            fig = fig.merge(Toml::file("config/default.toml"));
        }
        let extra = extra_file.map(PathBuf::from).or_else(|| std::env::var_os("KASDESA_CONFIG").map(PathBuf::from));
        if let Some(file) = extra {
            anyhow::ensure!(file.exists(), "config file {} does not exist", file.display());
            fig = fig.merge(Toml::file(file));
        }
        fig = fig.merge(Env::prefixed("KASDESA_").ignore(&["config"]));
        let mut s: Settings = fig.extract()?;
        if s.database_url.trim().is_empty() {
            s.database_url = format!("sqlite://{}", s.data_dir.join("kasdesa.db").display());
        }
        anyhow::ensure!(s.pool_size >= 1 && s.pool_size <= 512, "pool_size must be between 1 and 512");
        anyhow::ensure!(s.token_ttl_secs >= 60 && s.token_ttl_secs <= 86_400, "token_ttl_secs must be 60..=86400");
        anyhow::ensure!(s.max_body_bytes >= 1024, "max_body_bytes must be at least 1024");
        Ok(s)
    }
}

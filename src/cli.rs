//! The command line: `serve`, `migrate`, `user create`, `verify-chain`.

use crate::app::{build_state, init_tracing, run};
use crate::config::Settings;
use crate::domain::roles::Role;
use crate::domain::text::{Password, Username};
use crate::store::Db;
use clap::{Parser, Subcommand};
use std::io::Read;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "kasdesa", version, about = "Village treasury ledger service")]
pub struct Cli {
    /// An extra TOML config file, read after the built-in defaults (config/default.toml, compiled in) and before
    /// the KASDESA_* variables (also KASDESA_CONFIG).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP service.
    Serve,
    /// Run pending database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Write a consistent backup while the service runs: SQLite with VACUUM INTO, PostgreSQL with pg_dump
    /// (custom format; restore with pg_restore).
    Backup {
        /// The file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a village's hash chain and balances; exits 1 if anything is broken.
    VerifyChain {
        /// The village code (or id).
        #[arg(long)]
        village: String,
        /// A file of signed checkpoints an inspector kept (`GET /regencies/{id}/checkpoints`) to compare with.
        #[arg(long)]
        checkpoints: Option<PathBuf>,
    },
    /// Sign a checkpoint of every village head that moved (for a scheduler, beside or instead of the service's own
    /// `checkpoint_interval_secs`), and print how many.
    Checkpoint,
}

#[derive(Subcommand)]
pub enum UserAction {
    /// Create a user. The password is read from KASDESA_USER_PASSWORD or, if unset, from standard input.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: String,
        /// Village code (or id), for village roles.
        #[arg(long)]
        village: Option<String>,
        /// Regency id, for inspectors.
        #[arg(long)]
        regency: Option<String>,
    },
}

pub fn main_entry() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref())?;
    init_tracing(&settings.log_format);
    match cli.command {
        Command::Serve => serve(settings)?,
        Command::Migrate => {
            Db::connect(&settings.database_url, &crate::app::pool_options(&settings))?;
            println!("migrations are up to date");
        }
        Command::User { action: UserAction::Create { username, role, village, regency } } => {
            let db = Db::connect(&settings.database_url, &crate::app::pool_options(&settings))?;
            let role = Role::parse(&role).ok_or_else(|| anyhow::anyhow!("unknown role {role}"))?;
            let village_id = match village {
                Some(v) => Some(resolve_village(&db, &v)?),
                None => None,
            };
            let password = match std::env::var("KASDESA_USER_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut s = String::new();
                    std::io::stdin().read_to_string(&mut s)?;
                    s.trim_end_matches(['\n', '\r']).to_string()
                }
            };
            let user = crate::users::create_user(
                &db,
                crate::users::NewUser {
                    username: Username::parse("username", &username)?,
                    password: Password::parse("password", &password)?,
                    role,
                    village_id,
                    regency_id: regency,
                },
                "cli",
            )?;
            println!("{}", user.id);
        }
        Command::Backup { out } => {
            if crate::store::is_postgres_url(&settings.database_url) {
                anyhow::ensure!(!out.exists(), "{} exists already", out.display());
                let status = std::process::Command::new("pg_dump")
                    .args(["--format=custom", "--no-owner", "--file"])
                    .arg(&out)
                    .arg(&settings.database_url)
                    .status()
                    .map_err(|e| anyhow::anyhow!("could not run pg_dump: {e}"))?;
                anyhow::ensure!(status.success(), "pg_dump failed: {status}");
            } else {
                Db::connect(&settings.database_url, &crate::app::pool_options(&settings))?.backup_sqlite(&out)?;
            }
            println!("backup written to {}", out.display());
        }
        Command::VerifyChain { village, checkpoints } => {
            let db = Db::connect(&settings.database_url, &crate::app::pool_options(&settings))?;
            let id = resolve_village(&db, &village)?;
            let key = crate::anchor::AnchorKey::load_or_create(&settings.anchor_key_path())?.verifying();
            let supplied: Vec<crate::domain::anchor::Checkpoint> = match checkpoints {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)?;
                    serde_json::from_str::<crate::http::anchors::CheckpointFile>(&text)
                        .map_err(|e| anyhow::anyhow!("{}: not a checkpoint file: {e}", path.display()))?
                        .checkpoints
                }
                None => Vec::new(),
            };
            let report = db.verify_chain(&id, Some(crate::store::Anchors { key: &key, supplied: &supplied }))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !report.ok {
                return Ok(std::process::ExitCode::from(1));
            }
        }
        Command::Checkpoint => {
            let db = Db::connect(&settings.database_url, &crate::app::pool_options(&settings))?;
            let key = crate::anchor::AnchorKey::load_or_create(&settings.anchor_key_path())?;
            let cps = key.checkpoint(&db, None)?;
            println!("signed {} checkpoints with key {}", cps.len(), key.key_id());
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn resolve_village(db: &Db, code_or_id: &str) -> anyhow::Result<String> {
    if let Some(v) = db.find_village_by_code(code_or_id)? {
        return Ok(v.id.into());
    }
    db.get_village(code_or_id)?.map(|v| v.id.into()).ok_or_else(|| anyhow::anyhow!("no village {code_or_id}"))
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let bind = settings.bind.clone();
    let state = build_state(settings)?;
    let listener = std::net::TcpListener::bind(&bind)?;
    tracing::info!(address = %bind, database = state.db.backend_name(), "kasdesa is listening");
    actix_web::rt::System::new().block_on(async move { run(listener, state)?.await })?;
    Ok(())
}

//! The anchor key and the checkpoints it signs (the rules are `domain::anchor`): loading the Ed25519 key from
//! outside the database, signing every village head that moved, and the periodic job that does so.
//!
//! Trust model (docs/reliability.md, "Anchored chain heads"): the key is in a file (`anchor_key_file`, by default
//! `data_dir/anchor.key`, mode 0600) or given by the operator, never in the database; whoever can write the
//! database but not read that file cannot make a checkpoint. Checkpoints are exported to the regency
//! (`GET /regencies/{id}/checkpoints`), whose inspector keeps them: even someone holding the database *and* the key
//! cannot change a file already in the inspector's hands, and verify with that file finds any rewrite before it.

use crate::domain::anchor::{key_id, parse_seed, Checkpoint};
use crate::domain::chain::canonical_time;
use crate::store::{now_micros, Db, StoreError};
use ed25519_dalek::{SigningKey, VerifyingKey};
use std::path::{Path, PathBuf};

/// The service's anchor key.
pub struct AnchorKey {
    signing: SigningKey,
    pub path: PathBuf,
}

impl AnchorKey {
    /// Reads the key (64 hex digits, the 32-byte seed) from `path`, creating it with fresh randomness (mode 0600)
    /// when it does not exist yet.
    pub fn load_or_create(path: &Path) -> anyhow::Result<AnchorKey> {
        if path.exists() {
            let text = std::fs::read_to_string(path)?;
            let signing = parse_seed(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            return Ok(AnchorKey { signing, path: path.to_path_buf() });
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path)?;
        f.write_all(format!("{}\n", hex::encode(seed)).as_bytes())?;
        f.sync_all()?;
        tracing::info!(path = %path.display(), "created the anchor key: keep a copy of its public key with the regency");
        Ok(AnchorKey { signing: SigningKey::from_bytes(&seed), path: path.to_path_buf() })
    }

    /// The signing half, for the other signatures the service makes with a key of this kind (webhooks).
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    pub fn verifying(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    pub fn key_id(&self) -> String {
        key_id(&self.verifying())
    }

    /// Signs the head of every village (of one regency, or all) that moved since the key's last checkpoint of it
    /// (and of every village never checkpointed, even with an empty chain), stores them, and returns them.
    pub fn checkpoint(&self, db: &Db, regency_id: Option<&str>) -> Result<Vec<Checkpoint>, StoreError> {
        let now = now_micros();
        let at = canonical_time(now);
        let cps: Vec<Checkpoint> = db
            .chain_heads(regency_id, &self.key_id())?
            .into_iter()
            .filter(|h| h.anchored_seq.is_none_or(|s| s < h.chain_len))
            .map(|h| Checkpoint::sign(&self.signing, &h.village_id, h.chain_len, &h.chain_head, &at))
            .collect();
        db.insert_checkpoints(&cps, now)?;
        Ok(cps)
    }
}

/// Checkpoints every village whose head moved, every `interval`, for as long as the service's state lives (a thread
/// of its own: it needs no async runtime, and ends when the server that owns the state is gone). Safe on several
/// instances at once: a head signed twice at the same position is stored once.
pub fn spawn_periodic(state: std::sync::Weak<crate::http::AppState>, interval: std::time::Duration) {
    let started = std::thread::Builder::new().name("checkpoints".into()).spawn(move || loop {
        std::thread::sleep(interval);
        let Some(state) = state.upgrade() else { return };
        match state.anchor.checkpoint(&state.db, None) {
            Ok(cps) if !cps.is_empty() => tracing::info!(villages = cps.len(), "checkpointed chain heads"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "checkpointing the chain heads failed; trying next interval"),
        }
    });
    if let Err(e) = started {
        tracing::error!(error = %e, "could not start the checkpoint thread: checkpoints only on demand");
    }
}

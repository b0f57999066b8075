//! `--spawn`: the service started by the generator, on a free port with a temporary data directory, so that its
//! peak memory and CPU time can be read from /proc and its database checked with the command line afterwards.

use crate::util::{proc_cpu_secs, proc_status_kb};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Spawned {
    child: Option<Child>,
    pub pid: String,
    pub base_url: String,
    pub dir: PathBuf,
    pub database_url: String,
    pub log: PathBuf,
    keep: bool,
}

/// The `kasdesa` binary beside this one (cargo builds both into the same target directory).
pub fn sibling_binary() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let bin = me.with_file_name(format!("kasdesa{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        bin.exists(),
        "{} does not exist: build it (cargo build --bins) or pass --server-bin",
        bin.display()
    );
    Ok(bin)
}

fn free_port() -> anyhow::Result<u16> {
    // Bound and released at once; the service binds it a moment later.
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

impl Spawned {
    pub fn start(
        bin: &Path,
        database_url: Option<&str>,
        admin_password: &str,
        run_tag: &str,
        keep: bool,
    ) -> anyhow::Result<Spawned> {
        let dir = std::env::temp_dir().join(format!("kasdesa-load-{run_tag}"));
        std::fs::create_dir_all(&dir)?;
        let database_url = database_url
            .map(str::to_string)
            .unwrap_or_else(|| format!("sqlite://{}", dir.join("kasdesa.db").display()));
        let port = free_port()?;
        let log = dir.join("server.log");
        let log_file = std::fs::File::create(&log)?;
        let child = Command::new(bin)
            .arg("serve")
            .env("KASDESA_ADMIN_PASSWORD", admin_password)
            .env("KASDESA_DATA_DIR", &dir)
            .env("KASDESA_BIND", format!("127.0.0.1:{port}"))
            .env("KASDESA_DATABASE_URL", &database_url)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| anyhow::anyhow!("could not start {}: {e}", bin.display()))?;
        Ok(Spawned {
            pid: child.id().to_string(),
            child: Some(child),
            base_url: format!("http://127.0.0.1:{port}"),
            dir,
            database_url,
            log,
            keep,
        })
    }

    /// Polls `/health/ready` until it answers 200 (bounded), failing early if the service exits.
    pub async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let url = format!("{}/health/ready", self.base_url);
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    anyhow::bail!("the service exited during start-up ({status}):\n{}", self.log_tail(20));
                }
            }
            if let Ok(r) = client.get(&url).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the service was not ready after {:?}:\n{}", timeout, self.log_tail(20))
    }

    /// Peak resident set size so far (VmHWM), in kB.
    pub fn peak_rss_kb(&self) -> Option<u64> {
        proc_status_kb(&self.pid, "VmHWM")
    }

    /// Current resident set size (VmRSS), in kB.
    pub fn rss_kb(&self) -> Option<u64> {
        proc_status_kb(&self.pid, "VmRSS")
    }

    /// Resets the peak (VmHWM) to the current RSS: `echo 5 > /proc/PID/clear_refs`. False if not permitted.
    pub fn reset_peak_rss(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").is_ok()
    }

    pub fn cpu_secs(&self) -> Option<f64> {
        proc_cpu_secs(&self.pid)
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let Ok(f) = std::fs::File::open(&self.log) else { return String::new() };
        let all: Vec<String> = BufReader::new(f).lines().map_while(Result::ok).collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// SIGTERM (graceful shutdown), then SIGKILL if it is still running after a few seconds.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").args(["-TERM", &self.pid]).stderr(Stdio::null()).status();
        for _ in 0..100 {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.stop();
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

//! kasdesa-load: drives a kasdesa service over HTTP the way its clients do — a bank crediting villages and settling
//! their transfers (retrying with the same `Idempotency-Key`), village officials taking payments through the whole
//! approval chain and depositing withheld tax, officials reading the books — then prints throughput, latency
//! percentiles and errors, and checks the books through the public API and the command line. Any failed check
//! makes the exit status non-zero. See docs/benchmarks.md.

mod api;
mod checks;
mod report;
mod server;
mod stats;
mod util;
mod workload;
mod world;

use clap::Parser;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(name = "kasdesa-load", version, about = "Load generator and book checker for kasdesa")]
struct Args {
    /// Drive a service that is already running, e.g. http://127.0.0.1:8080 (its admin password is needed).
    #[arg(long, conflicts_with = "spawn", required_unless_present = "spawn")]
    base_url: Option<String>,
    /// Start `kasdesa serve` itself (the binary beside this one) on a free port with a temporary data directory,
    /// and stop it at the end.
    #[arg(long)]
    spawn: bool,
    /// With --spawn: the database of the service (default: SQLite in the temporary directory). With --base-url:
    /// the running service's database, so that `kasdesa verify-chain` can check it too.
    #[arg(long)]
    database_url: Option<String>,
    /// With --base-url: the running service's data directory (for the command-line check).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The kasdesa binary (default: beside this one).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// The password of the user `admin` (with --spawn a random one is used unless this is given).
    #[arg(long, env = "KASDESA_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
    /// Villages to create, each with its own officials, budget and bank account.
    #[arg(long, default_value_t = 118)]
    villages: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Run for this many seconds (default 30 unless --ops is given).
    #[arg(long, conflicts_with = "ops")]
    duration: Option<f64>,
    /// Run this many scenarios in all instead.
    #[arg(long)]
    ops: Option<u64>,
    /// Offer this many scenarios per second in all (open loop, spread over the clients) instead of each client
    /// starting its next scenario as soon as the last one ends (closed loop, the default: saturation).
    #[arg(long)]
    rate: Option<f64>,
    /// `realistic` (credit 40, payment 25, tax 5, read 30), `credits`, `payments`, `reads`, or weights such as
    /// `credit=60,read=40`.
    #[arg(long, default_value = "realistic")]
    mix: String,
    /// Villages a credit batch spreads its items over, chosen at random for each batch: 0 (the default) draws a
    /// village for every item, as a transfer of Dana Desa to the whole regency does; 1 is one village's batch, as
    /// a day's receipts into its account are.
    #[arg(long, default_value_t = 0)]
    batch_villages: usize,
    /// After the run, this many seconds of reads only (the read scenario's requests, nothing written meanwhile) on
    /// the database the run grew, reported apart: what a village's books cost once the journal is long, without
    /// the queue of a saturating run in front of them. 0 (the default): none.
    #[arg(long, default_value_t = 0.0)]
    reads_after: f64,
    /// Concurrent clients of the reads after the run.
    #[arg(long, default_value_t = 4)]
    reads_after_clients: usize,
    /// Share of bank POSTs sent a second time with the same Idempotency-Key (the answer must be identical).
    #[arg(long, default_value_t = 0.10)]
    replay_share: f64,
    /// Concurrent requests during setup (user creation and logins hash passwords: this bounds that load).
    #[arg(long, default_value_t = 8)]
    setup_concurrency: usize,
    /// Concurrent villages checked after the run.
    #[arg(long, default_value_t = 4)]
    check_concurrency: usize,
    /// Per-request timeout, seconds.
    #[arg(long, default_value_t = 30.0)]
    request_timeout: f64,
    /// Errors (non-2xx answers or no answer) tolerated during the run before the run fails.
    #[arg(long, default_value_t = 0)]
    max_errors: u64,
    /// Skip `kasdesa verify-chain` (the API's verification still runs).
    #[arg(long)]
    no_cli_check: bool,
    /// Print the report as JSON on standard output (the table goes to standard error).
    #[arg(long)]
    json: bool,
    /// Also write the JSON report to this file.
    #[arg(long)]
    json_out: Option<PathBuf>,
    /// A label for the report (e.g. `pg-credits`).
    #[arg(long, default_value = "")]
    label: String,
    /// Seed of the operation picker (default: random).
    #[arg(long)]
    seed: Option<u64>,
    /// With --spawn: keep the temporary directory (database, server.log) instead of deleting it.
    #[arg(long)]
    keep_data: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kasdesa-load: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kasdesa-load: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn backend_of(url: Option<&str>) -> &'static str {
    match url {
        Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => "postgres",
        Some(u) if u.starts_with("sqlite:") => "sqlite",
        _ => "unknown",
    }
}

/// A database URL with any password blanked, for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn mb(kb: Option<u64>) -> serde_json::Value {
    kb.map_or(serde_json::Value::Null, |k| json!(stats::round3(k as f64 / 1024.0)))
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!((1..=10_000).contains(&args.villages), "--villages must be 1 to 10000");
    anyhow::ensure!((1..=1024).contains(&args.clients), "--clients must be 1 to 1024");
    anyhow::ensure!((0.0..=1.0).contains(&args.replay_share), "--replay-share must be between 0 and 1");
    anyhow::ensure!(args.request_timeout > 0.0 && args.request_timeout <= 600.0, "--request-timeout must be 0..600 s");
    // Tokens live an hour (token_ttl_secs): a run must end well within that.
    let duration = match (args.duration, args.ops) {
        (Some(d), _) => Some(d),
        (None, None) => Some(30.0),
        (None, Some(_)) => None,
    };
    if let Some(d) = duration {
        anyhow::ensure!(d > 0.0 && d <= 3000.0, "--duration must be 0..3000 s");
    }
    if let Some(o) = args.ops {
        anyhow::ensure!((1..=100_000_000).contains(&o), "--ops must be 1 to 100000000");
    }
    if let Some(r) = args.rate {
        anyhow::ensure!(r > 0.0 && r <= 1_000_000.0, "--rate must be 0..1000000 scenarios per second");
    }
    anyhow::ensure!((0.0..=3000.0).contains(&args.reads_after), "--reads-after must be 0..3000 s");
    anyhow::ensure!((1..=1024).contains(&args.reads_after_clients), "--reads-after-clients must be 1 to 1024");
    let mix = workload::Mix::parse(&args.mix)?;
    let started_at = chrono::Utc::now().to_rfc3339();
    let run_tag = format!("{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8]);

    // The service: spawned, or already running.
    let server_bin = match &args.server_bin {
        Some(b) => Some(b.clone()),
        None => server::sibling_binary().ok(),
    };
    let mut spawned = None;
    let (base_url, admin_password, database_url, data_dir) = if args.spawn {
        let bin = server_bin.clone().ok_or_else(|| {
            anyhow::anyhow!("no kasdesa binary beside this one: build it (cargo build --bins) or pass --server-bin")
        })?;
        let password = args.admin_password.clone().unwrap_or_else(|| format!("load-admin-{run_tag}"));
        let mut s = server::Spawned::start(&bin, args.database_url.as_deref(), &password, &run_tag, args.keep_data)?;
        s.wait_ready(Duration::from_secs(120)).await?;
        let out = (s.base_url.clone(), password, Some(s.database_url.clone()), Some(s.dir.clone()));
        spawned = Some(s);
        out
    } else {
        let base = args.base_url.clone().expect("clap requires --base-url without --spawn");
        anyhow::ensure!(
            base.starts_with("http://127.0.0.1")
                || base.starts_with("http://localhost")
                || base.starts_with("http://[::1]"),
            "--base-url must be a local service (http://127.0.0.1:PORT)"
        );
        let password = args.admin_password.clone().ok_or_else(|| {
            anyhow::anyhow!("--admin-password (or KASDESA_ADMIN_PASSWORD) is needed to set up a running service")
        })?;
        (base, password, args.database_url.clone(), args.data_dir.clone())
    };

    let api = Arc::new(api::Api::new(&base_url, Duration::from_secs_f64(args.request_timeout), args.clients * 2 + 8)?);
    if spawned.is_none() {
        let rec = stats::Recorder::default();
        api.call(&rec, "ready", reqwest::Method::GET, "/health/ready", None, None, None)
            .await
            .map_err(|e| anyhow::anyhow!("{base_url} is not ready: {e}"))?;
    }

    // Setup.
    // The regency's day (WIB), as the service dates its releases.
    let today = world::today_wib();
    let setup_rec = Arc::new(stats::Recorder::default());
    let started = Instant::now();
    eprintln!(
        "kasdesa-load: setting up {} villages{} against {base_url} …",
        args.villages,
        if mix.needs_officials() { " with officials, budgets and funding" } else { "" }
    );
    let world = world::setup(
        api.clone(),
        setup_rec.clone(),
        world::SetupPlan {
            villages: args.villages,
            officials: mix.needs_officials(),
            concurrency: args.setup_concurrency.max(1),
            admin_password,
            today,
        },
    )
    .await;
    let world = match world {
        Ok(w) => Arc::new(w),
        Err(e) => {
            if let Some(s) = &spawned {
                eprintln!("server log (tail):\n{}", s.log_tail(20));
            }
            return Err(e.context("setup failed"));
        }
    };
    let setup_secs = started.elapsed().as_secs_f64();

    // The run.
    eprintln!(
        "kasdesa-load: {} clients{}, {}, mix {} …",
        args.clients,
        args.rate.map(|r| format!(" offering {r} scenarios/s")).unwrap_or_default(),
        duration.map_or_else(|| format!("{} scenarios", args.ops.unwrap_or(0)), |d| format!("{d} s")),
        mix.describe()
    );
    // Setup's password hashing (argon2, 19 MiB each, several at once) sets a peak of its own: keep it apart from
    // the run's by resetting the high-water mark, and sample VmRSS as well in case that is not permitted.
    let setup_peak = spawned.as_ref().and_then(|s| s.peak_rss_kb());
    let peak_reset = spawned.as_ref().is_some_and(|s| s.reset_peak_rss());
    let rss_run_start = spawned.as_ref().and_then(|s| s.rss_kb());
    let sampled_peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    // VmRSS every 10 s of the run (a soak shows whether memory grows with time): (seconds into the run, kB).
    let timeline: Arc<std::sync::Mutex<Vec<(u64, u64)>>> = Arc::default();
    let sampler = spawned.as_ref().map(|s| {
        let (pid, peak, on, line) = (s.pid.clone(), sampled_peak.clone(), sampling.clone(), timeline.clone());
        tokio::spawn(async move {
            // Bounded: at most one sample every 200 ms for the longest allowed run and its drain.
            for i in 0..20_000u64 {
                if !on.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                if let Some(kb) = util::proc_status_kb(&pid, "VmRSS") {
                    peak.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
                    if i % 50 == 0 {
                        line.lock().unwrap_or_else(|e| e.into_inner()).push((i / 5, kb));
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    });
    let seed = args.seed.unwrap_or_else(util::random_seed);
    let me = std::process::id().to_string();
    let (server_cpu0, gen_cpu0) = (spawned.as_ref().and_then(|s| s.cpu_secs()), util::proc_cpu_secs(&me));
    let system0 = util::system_cpu_ticks();
    let started = Instant::now();
    let run = Arc::new(
        workload::Run::new(
            world.clone(),
            api.clone(),
            mix,
            args.replay_share,
            duration.map(|d| started + Duration::from_secs_f64(d)),
            args.ops,
            args.rate.map(|r| Duration::from_secs_f64(args.clients as f64 / r)),
        )
        .with_batch_villages(args.batch_villages),
    );
    let mut seeder = util::Rng::new(seed);
    drive(&run, args.clients, &mut seeder).await?;
    let run_secs = started.elapsed().as_secs_f64();
    // The bank tries again what got no answer (after the run: not counted in its figures).
    let (late, unknown) = run.resolve_unanswered().await;
    if late + unknown > 0 {
        eprintln!("kasdesa-load: {late} unanswered bank requests answered when tried again after the run, {unknown} still unanswered");
    }
    // Reads alone on the grown database: after the run's own figures are taken, before the checks.
    let reads_after = if args.reads_after > 0.0 {
        eprintln!(
            "kasdesa-load: reads only for {} s, {} clients, on the database the run grew …",
            args.reads_after, args.reads_after_clients
        );
        let reads = Arc::new(workload::Run::new(
            world.clone(),
            api.clone(),
            workload::Mix::parse("reads")?,
            0.0,
            Some(Instant::now() + Duration::from_secs_f64(args.reads_after)),
            None,
            None,
        ));
        let t0 = Instant::now();
        drive(&reads, args.reads_after_clients, &mut seeder).await?;
        Some(report::ReadsAfter {
            seconds: t0.elapsed().as_secs_f64(),
            clients: args.reads_after_clients,
            reads: workload::load(&reads.c.reads),
            errors: reads.rec.errors(),
            latency: reads.rec.summary(workload::OPS),
        })
    } else {
        None
    };
    // Share of all the machine's CPUs busy during the run (service, database, generator, anything else).
    let system_busy = match (system0, util::system_cpu_ticks()) {
        (Some((b0, i0)), Some((b1, i1))) if (b1 + i1) > (b0 + i0) => {
            Some((b1 - b0) as f64 / ((b1 + i1) - (b0 + i0)) as f64)
        }
        _ => None,
    };
    let server_cpu = match (server_cpu0, spawned.as_ref().and_then(|s| s.cpu_secs())) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let gen_cpu = match (gen_cpu0, util::proc_cpu_secs(&me)) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    if let Some(t) = sampler {
        let _ = t.await;
    }
    if let Some(kb) = spawned.as_ref().and_then(|s| s.rss_kb()) {
        sampled_peak.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
    }
    let sampled_peak = sampled_peak.load(std::sync::atomic::Ordering::Relaxed);
    let run_peak = if peak_reset { spawned.as_ref().and_then(|s| s.peak_rss_kb()) } else { Some(sampled_peak) };

    // The books.
    eprintln!("kasdesa-load: checking the books …");
    let check_rec = Arc::new(stats::Recorder::default());
    let checks = Arc::new(checks::Checks::default());
    let started = Instant::now();
    checks::check_api(api.clone(), check_rec.clone(), world.clone(), checks.clone(), args.check_concurrency.max(1))
        .await;
    let cli = match (&server_bin, &database_url) {
        _ if args.no_cli_check => Err("--no-cli-check"),
        (Some(bin), Some(url)) => Ok(checks::Cli { bin: bin.clone(), database_url: url.clone(), data_dir }),
        (None, _) => Err("no kasdesa binary (--server-bin)"),
        (_, None) => Err("the service's database is not known (--database-url)"),
    };
    match cli {
        Ok(cli) => checks::check_cli(cli, world.clone(), checks.clone(), 2).await,
        Err(why) => checks.skip(checks::CHAIN_CLI, why),
    }
    let check_secs = started.elapsed().as_secs_f64();
    // How many regency reports a standby served (`database_read_url`; 0 without one): scripts/failover.sh shows it.
    let replica_reads = metric(&base_url, "kasdesa_replica_reads_total").await;
    let checks_peak = if peak_reset { spawned.as_ref().and_then(|s| s.peak_rss_kb()) } else { None };

    let busy = |cpu: Option<f64>| cpu.map_or(serde_json::Value::Null, |c| json!(stats::round3(c / run_secs)));
    let header = json!({
        "tool": "kasdesa-load",
        "version": env!("CARGO_PKG_VERSION"),
        "label": args.label,
        "started_at": started_at,
        "finished_at": chrono::Utc::now().to_rfc3339(),
        "machine": util::machine(),
        "target": {"base_url": base_url, "spawned": spawned.is_some(), "backend": backend_of(database_url.as_deref()),
                   "database": database_url.as_deref().map(redact)},
        "config": {"villages": args.villages, "clients": args.clients, "duration_s": duration, "ops": args.ops,
                   "rate": args.rate, "mix": mix.to_json(), "mix_description": mix.describe(), "replay_share": args.replay_share, "reads_after_s": args.reads_after, "reads_after_clients": args.reads_after_clients, "batch_villages": args.batch_villages,
                   "seed": seed, "run_id": world.run_id, "regency_id": world.regency_id},
        "setup_note": if mix.needs_officials() {
            format!("{} villages, {} officials logged in, budgets adopted, one funding credit each",
                    args.villages, args.villages * 4)
        } else {
            format!("{} villages, a bank client and an inspector", args.villages)
        },
    });
    let c = &run.c;
    let report = report::Report {
        header,
        setup_secs,
        setup_requests: setup_rec.requests(),
        setup_errors: setup_rec.errors(),
        run_secs,
        postings: workload::load(&c.postings),
        requests: run.rec.requests(),
        scenarios: vec![
            ("credits", workload::load(&c.credits)),
            ("payments (paid)", workload::load(&c.payments)),
            ("tax deposits", workload::load(&c.tax_deposits)),
            ("reads", workload::load(&c.reads)),
        ],
        failed_scenarios: workload::load(&c.failed),
        tax_fallbacks: workload::load(&c.tax_fallbacks),
        replays: workload::load(&c.replays),
        replay_mismatches: workload::load(&c.replay_mismatches),
        unknown_outcomes: workload::load(&c.unknown_outcomes),
        errors: run.rec.errors(),
        max_errors: args.max_errors,
        examples: run.examples(),
        latency: run.rec.summary(workload::OPS),
        scenario_latency: run.scen.summary(workload::SCENARIOS),
        reads_after,
        server: spawned.as_ref().map(|s| {
            json!({"pid": s.pid,
                   "peak_rss_mb_run": mb(run_peak),
                   "peak_rss_mb_run_sampled": mb(Some(sampled_peak)),
                   "peak_rss_mb_setup": mb(setup_peak),
                   "rss_mb_run_start": mb(rss_run_start),
                   "peak_rss_mb_run_and_checks": mb(checks_peak),
                   "peak_rss_method": if peak_reset { "VmHWM, reset after setup" } else { "VmRSS sampled every 200 ms" },
                   "rss_timeline_mb": timeline.lock().unwrap_or_else(|e| e.into_inner()).iter()
                       .map(|(t, kb)| json!([t, mb(Some(*kb))])).collect::<Vec<_>>(),
                   "rss_growth_mb": rss_growth_mb(&timeline.lock().unwrap_or_else(|e| e.into_inner())),
                   "replica_reads_total": replica_reads,
                   "cpu_s_run": server_cpu.map(stats::round3), "cpu_cores_busy_run": busy(server_cpu)})
        }),
        generator: json!({"cpu_s_run": gen_cpu.map(stats::round3), "cpu_cores_busy_run": busy(gen_cpu),
                          "peak_rss_mb": mb(util::proc_status_kb(&me, "VmHWM")),
                          "machine_cpu_busy_run": system_busy.map(stats::round3)}),
        check_secs,
        checks: checks.outcomes(),
        debits_total: *checks.debits_total.lock().expect("checks lock"),
        transactions_listed: *checks.transactions_listed.lock().expect("checks lock"),
    };
    let pass = report.pass();
    if !pass {
        if let Some(s) = &spawned {
            eprintln!("server log (tail):\n{}", s.log_tail(20));
        }
    }
    drop(spawned); // stops the service (and removes its directory unless --keep-data)

    let doc = report.to_json();
    if let Some(path) = &args.json_out {
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)?;
    }
    if args.json {
        eprint!("{}", report.to_text());
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(if pass { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Runs `clients` clients of `run`, each with its own seed, until the run ends.
async fn drive(run: &Arc<workload::Run>, clients: usize, seeder: &mut util::Rng) -> anyhow::Result<()> {
    let tasks: Vec<_> = (0..clients).map(|_| tokio::spawn(workload::client(run.clone(), seeder.next_u64()))).collect();
    for t in tasks {
        t.await.map_err(|e| anyhow::anyhow!("a client panicked: {e}"))?;
    }
    Ok(())
}

/// One counter of the service's `/metrics` (open unless the service sets `metrics_token`); `None` if unreadable.
async fn metric(base_url: &str, name: &str) -> Option<u64> {
    let text = reqwest::get(format!("{base_url}/metrics")).await.ok()?.text().await.ok()?;
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// How much the server's memory grew over the run: the mean RSS of the last sixth of the samples less that of the
/// first sixth (at least one sample each), in MB; none with fewer than two samples. A soak whose growth stays near
/// zero holds no memory per request.
fn rss_growth_mb(timeline: &[(u64, u64)]) -> Option<f64> {
    if timeline.len() < 2 {
        return None;
    }
    let n = (timeline.len() / 6).max(1);
    let mean = |s: &[(u64, u64)]| s.iter().map(|(_, kb)| *kb as f64).sum::<f64>() / s.len() as f64;
    let growth = (mean(&timeline[timeline.len() - n..]) - mean(&timeline[..n])) / 1024.0;
    Some((growth * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_growth_compares_the_last_sixth_of_the_samples_with_the_first() {
        assert_eq!(rss_growth_mb(&[(0, 100_000)]), None);
        let flat: Vec<(u64, u64)> = (0..60).map(|i| (i * 10, 102_400)).collect();
        assert_eq!(rss_growth_mb(&flat), Some(0.0));
        let growing: Vec<(u64, u64)> = (0..60).map(|i| (i * 10, 102_400 + i * 1024)).collect();
        // First ten samples average 104.5 MB over 100; the last ten 154.5: 50 MB.
        assert_eq!(rss_growth_mb(&growing), Some(50.0));
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@127.0.0.1/db"), "postgres://u:***@127.0.0.1/db");
        assert_eq!(redact("postgres://postgres@127.0.0.1/db"), "postgres://postgres@127.0.0.1/db");
        assert_eq!(redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }

    #[test]
    fn mixes() {
        assert_eq!(workload::Mix::parse("credits").unwrap().total(), 1);
        let m = workload::Mix::parse("credit=60,read=40").unwrap();
        assert_eq!((m.credit, m.payment, m.tax, m.read), (60, 0, 0, 40));
        assert!(!m.needs_officials());
        assert!(workload::Mix::parse("credit=0").is_err());
        assert!(workload::Mix::parse("bogus=1").is_err());
    }
}

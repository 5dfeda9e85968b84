//! `ordo bench o2c --processes N,…`: the order-to-cash load of [`crate::o2c`] worked by N
//! separate `ordo run` OS processes on one PostgreSQL schema and one RabbitMQ prefix (fresh
//! per N), with, per N, the ceilings measured in the same run (bare PostgreSQL commits at the
//! same number of connections, bare RabbitMQ publish+confirm+consume), the CPU each process
//! and each server used (from `/proc`), and which resource saturated.
//!
//! The bench process is the driver: it submits the orders (as `ordo submit` does), writes the
//! bank's statements, imports and matches each (as the bank channel and `ordo recon run` do,
//! one command each), and polls the store until every order completed and every invoice was
//! paid. The `ordo run` processes do everything else: the 13 steps of each order, invoicing,
//! outbound files, and applying each matched payment to its invoice.

use crate::harness::{self, drop_backend, fresh_engine, own_backend};
use crate::o2c::{ended, load};
use crate::statements;
use ordo::config::Config;
use ordo::runtime::Engine;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The bench's size and where its processes come from.
pub struct ScaleOut {
    pub orders: usize,
    pub submit_batch: usize,
    pub statement_size: usize,
    /// The driver's folder; each N gets `DIR/pN` (the processes' logs, outbound files, inbox).
    pub dir: PathBuf,
    /// The numbers of `ordo run` processes to measure, in order.
    pub processes: Vec<usize>,
    /// The configuration file the processes load; the run's own schema, queue prefix and
    /// folders reach them as `ORDO_*` overrides.
    pub config: PathBuf,
    /// The `ordo` binary to start (the running one).
    pub exe: PathBuf,
    /// Keep each run's schema and queues.
    pub keep: bool,
}

/// CPU seconds used during a run's measured window.
#[derive(Clone, Debug, Default)]
pub struct Cpu {
    /// Per `ordo run` process.
    pub ordo: Vec<f64>,
    /// The bench process (submission, statements, import, matching, polling).
    pub driver: f64,
    /// Every `postgres` process (server and backends).
    pub postgres: f64,
    /// RabbitMQ's Erlang VM (`beam.smp`).
    pub rabbitmq: f64,
    /// The whole machine (`/proc/stat`), others' work included.
    pub machine: f64,
    pub cores: usize,
}

/// One N's figures.
#[derive(Clone, Debug)]
pub struct Row {
    pub processes: usize,
    pub workers: usize,
    pub orders: usize,
    /// Submission start → last order completed (invoiced, files queued).
    pub flow_s: f64,
    /// Import + matching + applying, summed over the statements.
    pub pay_s: f64,
    /// The CPU window: submission start → last invoice paid.
    pub window_s: f64,
    pub pg_connections: usize,
    pub pg_commits_per_s: f64,
    pub amqp_msgs_per_s: f64,
    pub cpu: Cpu,
    /// Every process exited 0 on SIGTERM.
    pub clean_exits: bool,
}

impl Row {
    pub fn paid_per_s(&self) -> f64 {
        self.orders as f64 / (self.flow_s + self.pay_s).max(1e-3)
    }
    pub fn invoiced_per_s(&self) -> f64 {
        self.orders as f64 / self.flow_s.max(1e-3)
    }
    /// CPU milliseconds per order paid: (ordo processes, PostgreSQL, RabbitMQ, driver).
    pub fn cost_ms(&self) -> (f64, f64, f64, f64) {
        let per = |s: f64| s * 1000.0 / self.orders.max(1) as f64;
        (
            per(self.cpu.ordo.iter().sum()),
            per(self.cpu.postgres),
            per(self.cpu.rabbitmq),
            per(self.cpu.driver),
        )
    }
    /// Which resource ran out, from the busy share of the machine's cores.
    pub fn saturated(&self) -> String {
        let w = self.window_s.max(1e-3);
        let ordo: f64 = self.cpu.ordo.iter().sum();
        let parts = [
            ("ordo", ordo),
            ("PostgreSQL", self.cpu.postgres),
            ("RabbitMQ", self.cpu.rabbitmq),
            ("driver", self.cpu.driver),
        ];
        let ours: f64 = parts.iter().map(|p| p.1).sum();
        let other = (self.cpu.machine - ours).max(0.0);
        let (top, top_s) = parts
            .iter()
            .copied()
            .chain([("other processes", other)])
            .fold(("", 0.0), |a, b| if b.1 > a.1 { b } else { a });
        let busy = self.cpu.machine / w;
        let cores = self.cpu.cores as f64;
        if busy >= 0.9 * cores {
            format!(
                "CPU: {busy:.2} of {cores} cores busy; largest user {top} ({:.2} cores)",
                top_s / w
            )
        } else {
            format!(
                "no CPU saturation ({busy:.2} of {cores} cores): waits on commits and round \
                 trips; largest user {top} ({:.2} cores)",
                top_s / w
            )
        }
    }
}

/// The cost model: orders/s on `cores` cores with `processes` processes, from the per-order
/// CPU of `base` (all components on those cores) and its per-process rate (one process's
/// serial limit: a process waits on its commits, so it cannot use more than it did).
pub fn predict(base: &Row, processes: usize, cores: f64) -> f64 {
    let (o, p, r, d) = base.cost_ms();
    let cpu_bound = cores * 1000.0 / (o + p + r + d).max(1e-6);
    let per_process = base.paid_per_s() / base.processes.max(1) as f64;
    cpu_bound.min(per_process * processes as f64)
}

/// Runs the bench for each N of `args.processes`; `say` gets progress lines.
pub async fn run(cfg: &Config, args: &ScaleOut, say: crate::Say<'_>) -> Result<Vec<Row>, String> {
    if cfg.store.postgres.is_none() || cfg.queue.amqp.is_none() {
        return Err("--processes needs the cluster backend (--config config/cluster.yaml)".into());
    }
    let mut rows = Vec::new();
    for &n in &args.processes {
        let own = own_backend(cfg);
        say(&format!("N = {n}: {}", harness::backend_line(&own)));
        let row = one(&own, args, n, say).await;
        if !args.keep {
            drop_backend(&own).await;
        }
        let row = row?;
        say(&format!(
            "N = {n}: {:.0} orders/s paid end to end, {:.0} to invoice",
            row.paid_per_s(),
            row.invoiced_per_s()
        ));
        rows.push(row);
    }
    Ok(rows)
}

/// One N: fresh schema and prefix, N processes, the load, the ceilings.
async fn one(cfg: &Config, args: &ScaleOut, n: usize, say: crate::Say<'_>) -> Result<Row, String> {
    let dir = args.dir.join(format!("p{n}"));
    let (engine, cfg) = fresh_engine(cfg, &dir).await?;
    let (custs, orders) = load(&engine, args.orders).await?;
    let mut procs = Procs::start(args, &cfg, &dir, n)?;
    procs.wait_ready(Duration::from_secs(120)).await?;
    say(&format!("N = {n}: {n} `ordo run` processes ready"));
    let before = Snapshot::take(&procs.pids());
    let t0 = Instant::now();
    let limit = Duration::from_secs(120 + args.orders as u64 / 20);
    harness::submit(&engine, &orders, args.submit_batch).await?;
    drop(orders);
    let total = args.orders as i64;
    let flow_s = wait_for(&engine, &mut procs, |c| c.0, total, t0, limit).await?;
    // Payment as in the embedded bench: statements of at most `statement_size` credits, each
    // imported, matched and applied before the next arrives.
    let all_invoices = harness::invoices(&engine).await?;
    let (mut pay_s, mut payments, mut matched, mut paid_so_far) = (0.0, 0usize, 0usize, 0i64);
    for (k, part) in all_invoices.chunks(args.statement_size.max(1)).enumerate() {
        let credits =
            statements::statement_credits(part, &custs, &[crate::demo::Pays::OnTime], |inv, _| {
                Some(inv.total)
            });
        let Some(dropped) =
            statements::write_statement(&engine, &cfg, credits, &format!("-{}", k + 1))?
        else {
            continue;
        };
        payments += dropped.payments;
        paid_so_far += dropped.payments as i64;
        let t = Instant::now();
        let imported = ordo::channels::bank::scan(&engine)
            .await
            .map_err(|e| e.to_string())?;
        if imported != 1 {
            return Err(format!("the bank channel took {imported} files, not 1"));
        }
        matched += statements::reconcile_imported(&engine, &dropped.statement_id).await?;
        pay_s += wait_for(&engine, &mut procs, |c| c.1, paid_so_far, t, limit).await?;
    }
    let window_s = t0.elapsed().as_secs_f64();
    let after = Snapshot::take(&procs.pids());
    let clean_exits = procs.terminate().await;
    let (completed, paid, failed) = ended(&engine).await?;
    if completed != total || paid != total || matched != payments || failed != 0 {
        return Err(format!(
            "incomplete run: {completed} of {total} orders completed, {paid} invoices paid, \
             {matched} of {payments} bank payments matched, {failed} instances failed"
        ));
    }
    let pg_connections = n * cfg.workers;
    let pg_commits_per_s = pg_ceiling(&cfg, pg_connections).await?;
    let amqp = cfg.queue.amqp.clone().unwrap_or_default();
    let amqp_msgs_per_s = crate::ceilings::amqp_ceiling(&amqp).await?;
    engine.queue.close().await;
    engine.store.close().await;
    Ok(Row {
        processes: n,
        workers: cfg.workers,
        orders: args.orders,
        flow_s,
        pay_s,
        window_s,
        pg_connections,
        pg_commits_per_s,
        amqp_msgs_per_s,
        cpu: after.minus(&before),
        clean_exits,
    })
}

/// Polls the store until `pick` of (completed, paid, failed) reaches `want`; the seconds
/// since `since`. Fails on a failed instance, a process that died, or past `limit`.
async fn wait_for(
    engine: &Arc<Engine>,
    procs: &mut Procs,
    pick: fn((i64, i64, i64)) -> i64,
    want: i64,
    since: Instant,
    limit: Duration,
) -> Result<f64, String> {
    loop {
        let c = ended(engine).await?;
        if c.2 > 0 {
            return Err(format!(
                "{} instances failed; logs in {}",
                c.2,
                procs.dir.display()
            ));
        }
        if pick(c) >= want {
            return Ok(since.elapsed().as_secs_f64());
        }
        procs.check_alive()?;
        if since.elapsed() > limit {
            return Err(format!(
                "gave up after {} s: {} completed, {} paid of {want}",
                limit.as_secs(),
                c.0,
                c.1
            ));
        }
        // A poll costs PostgreSQL one GROUP BY over the instances: a tenth of a second keeps
        // that small beside the run while timing to within 0.1 s.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Bare PostgreSQL commits (one insert + one update each) over `conns` connections at once,
/// in the run's schema.
async fn pg_ceiling(cfg: &Config, conns: usize) -> Result<f64, String> {
    let url = cfg.store.postgres.as_deref().unwrap_or_default();
    let store = ordo::store::postgres::PgStore::open(
        url,
        cfg.store.schema.as_deref(),
        conns as u32,
        Duration::from_secs(10),
    )
    .await
    .map_err(|e| e.to_string())?;
    let store: Arc<dyn ordo::store::Store> = Arc::new(store);
    let per = (8_000 / conns).max(500);
    let started = Instant::now();
    let tasks: Vec<_> = (0..conns)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                crate::ceilings::commits(store.as_ref(), &format!("ceiling-{i}-"), per).await
            })
        })
        .collect();
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    let rate = (per * conns) as f64 / started.elapsed().as_secs_f64();
    store.close().await;
    Ok(rate)
}

/// The `ordo run` processes of one N.
struct Procs {
    children: Vec<Child>,
    dir: PathBuf,
}

impl Procs {
    /// Starts `n` processes on `cfg`'s schema and prefix, each logging to `DIR/run-K.log`.
    /// They get an empty bank folder: the driver imports the statements, as in the embedded
    /// bench, so no process races it for the file.
    fn start(args: &ScaleOut, cfg: &Config, dir: &Path, n: usize) -> Result<Procs, String> {
        let no_banks = dir.join("run-banks");
        std::fs::create_dir_all(&no_banks).map_err(|e| format!("{}: {e}", no_banks.display()))?;
        let mut procs = Procs {
            children: Vec::new(),
            dir: dir.to_path_buf(),
        };
        let env = [
            (
                "ORDO_POSTGRES",
                cfg.store.postgres.clone().unwrap_or_default(),
            ),
            (
                "ORDO_PG_SCHEMA",
                cfg.store.schema.clone().unwrap_or_default(),
            ),
            ("ORDO_AMQP", cfg.queue.amqp.clone().unwrap_or_default()),
            ("ORDO_AMQP_PREFIX", cfg.queue.prefix.clone()),
            ("ORDO_DATA", cfg.data.display().to_string()),
            ("ORDO_INBOX", cfg.inbox.display().to_string()),
            ("ORDO_PARTNERS", cfg.partners.display().to_string()),
            ("ORDO_BANKS", no_banks.display().to_string()),
            (
                "ORDO_RECONCILIATION",
                cfg.reconciliation.display().to_string(),
            ),
            ("ORDO_OUTBOUND", cfg.outbound.display().to_string()),
        ];
        for k in 0..n {
            let path = dir.join(format!("run-{k}.log"));
            let log =
                std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let err = log.try_clone().map_err(|e| e.to_string())?;
            let child = Command::new(&args.exe)
                .arg("--config")
                .arg(&args.config)
                .args(["run", "--listen", "off", "--no-reload"])
                .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(err)
                .spawn()
                .map_err(|e| format!("{}: {e}", args.exe.display()))?;
            procs.children.push(child);
        }
        Ok(procs)
    }

    fn pids(&self) -> Vec<u32> {
        self.children.iter().map(Child::id).collect()
    }

    fn log(&self, k: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("run-{k}.log"))).unwrap_or_default()
    }

    /// Waits until every process logged that it runs.
    async fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let started = Instant::now();
        while !(0..self.children.len()).all(|k| self.log(k).contains("ordo running")) {
            self.check_alive()?;
            if started.elapsed() > limit {
                return Err(format!(
                    "the processes did not start within {} s",
                    limit.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// An error naming the first process that exited, with the end of its log.
    fn check_alive(&mut self) -> Result<(), String> {
        for k in 0..self.children.len() {
            if let Ok(Some(status)) = self.children[k].try_wait() {
                let log = self.log(k);
                let tail: String = log.lines().rev().take(5).collect::<Vec<_>>().join("\n");
                return Err(format!("`ordo run` #{k} exited ({status}):\n{tail}"));
            }
        }
        Ok(())
    }

    /// SIGTERM to all, then waits for each (30 s); true when all exited 0.
    async fn terminate(&mut self) -> bool {
        for c in &self.children {
            // SAFETY: kill(2) on our own child's pid; it is not reaped yet, so it is ours.
            unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGTERM) };
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut clean = true;
        for c in &mut self.children {
            loop {
                match c.try_wait() {
                    Ok(Some(status)) => {
                        clean &= status.success();
                        break;
                    }
                    Ok(None) if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    _ => {
                        clean = false;
                        let _ = c.kill();
                        let _ = c.wait();
                        break;
                    }
                }
            }
        }
        self.children.clear();
        clean
    }
}

impl Drop for Procs {
    /// A run that failed leaves no process behind.
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// CPU ticks at one moment (Linux reports them in USER_HZ, 100 per second, to user space).
struct Snapshot {
    ordo: Vec<u64>,
    driver: u64,
    postgres: u64,
    rabbitmq: u64,
    machine: u64,
}

pub(crate) const TICKS_PER_S: f64 = 100.0;

impl Snapshot {
    fn take(pids: &[u32]) -> Snapshot {
        Snapshot {
            ordo: pids
                .iter()
                .map(|p| ticks(&format!("/proc/{p}/stat")))
                .collect(),
            driver: ticks("/proc/self/stat"),
            postgres: ticks_named("postgres"),
            rabbitmq: ticks_named("beam.smp"),
            machine: machine_busy_ticks(),
        }
    }

    fn minus(&self, before: &Snapshot) -> Cpu {
        let s = |a: u64, b: u64| a.saturating_sub(b) as f64 / TICKS_PER_S;
        Cpu {
            ordo: self
                .ordo
                .iter()
                .zip(&before.ordo)
                .map(|(a, b)| s(*a, *b))
                .collect(),
            driver: s(self.driver, before.driver),
            postgres: s(self.postgres, before.postgres),
            rabbitmq: s(self.rabbitmq, before.rabbitmq),
            machine: s(self.machine, before.machine),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// utime + stime of a `/proc/PID/stat` file; 0 when it is gone.
pub(crate) fn ticks(path: &str) -> u64 {
    let Ok(s) = std::fs::read_to_string(path) else {
        return 0;
    };
    // The command name (field 2) may hold spaces and parentheses: count from its last ')'.
    let Some(rest) = s.rfind(')').map(|i| &s[i + 1..]) else {
        return 0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, utime field 14, stime field 15.
    let field = |n: usize| {
        f.get(n - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(14) + field(15)
}

/// The ticks of every process whose command name is `comm`. A process that exited during
/// the window takes its ticks with it (PostgreSQL backends of closed connections).
fn ticks_named(comm: &str) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim_end() == comm)
        })
        .map(|e| ticks(&e.path().join("stat").to_string_lossy()))
        .sum()
}

/// Busy ticks of all cores (`/proc/stat`: everything but idle and iowait).
fn machine_busy_ticks() -> u64 {
    let s = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = s.lines().find(|l| l.starts_with("cpu ")) else {
        return 0;
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest is already in user)
    v.iter().take(8).sum::<u64>() - v.get(3).copied().unwrap_or(0) - v.get(4).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_read_utime_and_stime_past_a_name_with_spaces() {
        let dir = std::env::temp_dir().join(format!("ordo-ticks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("stat");
        std::fs::write(&p, "42 (a b) c) S 1 2 3 4 5 6 7 8 9 10 250 30 0 0 20 0\n").unwrap();
        assert_eq!(ticks(&p.to_string_lossy()), 280);
        assert_eq!(ticks("/nonexistent/stat"), 0);
        assert!(ticks("/proc/self/stat") > 0 || machine_busy_ticks() > 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn row(processes: usize, orders_per_s: f64, cpu_s: f64) -> Row {
        Row {
            processes,
            workers: 2,
            orders: 1000,
            flow_s: 1000.0 / orders_per_s,
            pay_s: 0.0,
            window_s: 1000.0 / orders_per_s,
            pg_connections: 2,
            pg_commits_per_s: 0.0,
            amqp_msgs_per_s: 0.0,
            cpu: Cpu {
                ordo: vec![cpu_s],
                machine: cpu_s,
                cores: 2,
                ..Cpu::default()
            },
            clean_exits: true,
        }
    }

    #[test]
    fn the_model_is_bounded_by_cpu_and_by_one_process_rate() {
        // 1 ms of CPU per order, one process does 500/s: two processes on 2 cores do 1,000/s,
        // four still 2,000 at most (CPU), on 16 cores 16 processes 8,000 (per process).
        let base = row(1, 500.0, 1.0);
        assert_eq!(base.cost_ms().0, 1.0);
        assert!((predict(&base, 2, 2.0) - 1000.0).abs() < 1e-6);
        assert!((predict(&base, 8, 2.0) - 2000.0).abs() < 1e-6);
        assert!((predict(&base, 16, 16.0) - 8000.0).abs() < 1e-6);
        assert!(
            base.saturated().starts_with("no CPU saturation"),
            "{}",
            base.saturated()
        );
        let busy = row(1, 1000.0, 2.0);
        assert!(
            busy.saturated().starts_with("CPU: 2.00 of 2 cores"),
            "{}",
            busy.saturated()
        );
    }
}

//! Harness for end-to-end tests: builds the `ordo` binary once, gives each test a scratch
//! project (workflows, rules, config, data) and, for the cluster backend, its own PostgreSQL
//! schema and RabbitMQ prefix so tests never see each other's state.
//!
//! Services: tests that need PostgreSQL or RabbitMQ call [`Project::cluster`]. With `CI=true`
//! a missing service fails the test; elsewhere the test prints why it skips and passes.

pub mod api;
pub mod camt;
pub mod webhook_receiver;
pub mod x12;

use serde_json::Value;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

pub const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The tests' pinned workflows, rules and seed data.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Path of the `ordo` binary, built on first use (or `ORDO_BIN`, used as it is).
pub fn ordo_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(bin) = std::env::var("ORDO_BIN") {
            return PathBuf::from(bin);
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "ordo-cli", "--bin", "ordo"])
            .current_dir(workspace())
            .status()
            .expect("cargo build runs");
        assert!(status.success(), "building ordo failed");
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| workspace().join("target"));
        target.join("debug").join("ordo")
    })
    .clone()
}

fn reachable(addr: &str) -> bool {
    addr.parse()
        .ok()
        .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).ok())
        .is_some()
}

/// Whether the cluster services are up. Under `CI=true` a missing service panics.
pub fn cluster_available(test: &str) -> bool {
    let missing: Vec<&str> = [
        ("PostgreSQL", "127.0.0.1:5432"),
        ("RabbitMQ", "127.0.0.1:5672"),
    ]
    .iter()
    .filter(|(_, a)| !reachable(a))
    .map(|(n, _)| *n)
    .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{test}: {} unreachable and CI=true: cluster tests must run in CI",
            missing.join(" and ")
        );
    }
    eprintln!(
        "skipping {test}: {} unreachable on 127.0.0.1 (set CI=true to make this a failure)",
        missing.join(" and ")
    );
    false
}

/// A scratch project directory with its own config.
pub struct Project {
    pub dir: PathBuf,
    pub cluster: Option<(String, String)>,
}

fn unique(tag: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{tag}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

impl Project {
    /// Copies the repository's workflows, rules and seed data into a fresh directory.
    pub fn embedded(tag: &str) -> Project {
        Project::embedded_from(tag, &workspace())
    }

    /// Same, on PostgreSQL (own schema) + RabbitMQ (own prefix). None when skipped.
    pub fn cluster(tag: &str) -> Option<Project> {
        Project::cluster_from(tag, &workspace())
    }

    /// Like [`Project::embedded`], but with the tests' own pinned copy of the intake workflow,
    /// the approval rule and its cases, and the seed data (`tests/fixtures/`), so engine tests
    /// do not change meaning when the business workflows in `workflows/` evolve.
    pub fn fixture(tag: &str) -> Project {
        Project::embedded_from(tag, &fixtures())
    }

    /// [`Project::fixture`] on the cluster backend. None when skipped.
    pub fn cluster_fixture(tag: &str) -> Option<Project> {
        Project::cluster_from(tag, &fixtures())
    }

    fn embedded_from(tag: &str, src: &Path) -> Project {
        let dir = std::env::temp_dir().join(unique(&format!("ordo-e2e-{tag}")));
        std::fs::create_dir_all(dir.join("config")).expect("temp dir");
        for sub in ["workflows", "rules"] {
            std::fs::create_dir_all(dir.join(sub)).expect("temp dir");
            for entry in std::fs::read_dir(src.join(sub))
                .expect("source folder")
                .flatten()
            {
                let _ = std::fs::copy(entry.path(), dir.join(sub).join(entry.file_name()));
            }
        }
        std::fs::copy(src.join("config/seed.json"), dir.join("config/seed.json")).expect("seed");
        // The seller on printed and sent documents, as the repository ships it.
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        std::fs::copy(
            repo.join("config/company.yaml"),
            dir.join("config/company.yaml"),
        )
        .expect("company profile");
        // The chart of accounts where the rules post to a ledger (the repository's rules; the
        // pinned fixtures have no posting rule and keep no ledger).
        if src.join("rules/posting.rhai").exists() {
            std::fs::copy(
                repo.join("config/accounts.yaml"),
                dir.join("config/accounts.yaml"),
            )
            .expect("chart of accounts");
        }
        std::fs::write(
            dir.join("config/ordo.yaml"),
            "store: { sqlite: data/ordo.db }\nqueue: { embedded: {}, visibility_secs: 2 }\nworkers: 2\nbatch: 64\n",
        )
        .expect("config");
        Project { dir, cluster: None }
    }

    fn cluster_from(tag: &str, src: &Path) -> Option<Project> {
        if !cluster_available(tag) {
            return None;
        }
        let mut p = Project::embedded_from(tag, src);
        let schema = unique(&format!("e2e_{tag}")).to_lowercase();
        let prefix = schema.replace('_', "-");
        std::fs::write(
            p.dir.join("config/ordo.yaml"),
            format!(
                "store: {{ postgres: \"{PG_URL}\", schema: {schema}, connections: 4 }}\nqueue: {{ amqp: \"{AMQP_URL}\", prefix: {prefix}, prefetch: 64 }}\nworkers: 2\nbatch: 64\nconnect_retry_secs: 20\n"
            ),
        )
        .expect("config");
        p.cluster = Some((schema, prefix));
        Some(p)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        if let Some(d) = p.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        std::fs::write(p, text).expect("write");
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(ordo_bin());
        c.args(args)
            .current_dir(&self.dir)
            .env("RUST_LOG", "info,sqlx=warn,lapin=warn")
            .env("NO_COLOR", "1");
        c
    }

    /// Runs `ordo ARGS` to completion.
    pub fn ordo(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("ordo runs")
    }

    /// Runs `ordo ARGS` and panics with its output unless it exits 0.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.ordo(args);
        assert!(
            out.status.success(),
            "ordo {args:?} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `ordo --json ARGS` parsed.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let text = self.ok(&a);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("ordo {args:?}: not JSON ({e}): {text}"))
    }

    /// Starts `ordo run` in the background (stdout/stderr to data/run-N.log).
    pub fn spawn_run(&self, extra: &[&str]) -> Child {
        let _ = std::fs::create_dir_all(self.path("data"));
        let n = std::fs::read_dir(self.path("data"))
            .map(|d| d.count())
            .unwrap_or(0);
        let log = std::fs::File::create(self.path(&format!("data/run-{n}.log"))).expect("log file");
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        self.cmd(&args)
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("ordo run starts")
    }

    /// Everything the background runs logged so far.
    pub fn run_logs(&self) -> String {
        let mut out = String::new();
        if let Ok(d) = std::fs::read_dir(self.path("data")) {
            let mut files: Vec<_> = d
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "log"))
                .collect();
            files.sort();
            for f in files {
                out.push_str(&std::fs::read_to_string(f).unwrap_or_default());
            }
        }
        strip_ansi(&out)
    }

    /// Runs `ordo ARGS` and returns (exit code, stdout, stderr without ANSI colours).
    pub fn run_cmd(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.ordo(args);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            strip_ansi(&String::from_utf8_lossy(&out.stderr)),
        )
    }

    /// Runs `ordo ARGS`, asserts it exits with `code`, returns (stdout, stderr).
    pub fn expect_code(&self, code: i32, args: &[&str]) -> (String, String) {
        let (c, out, err) = self.run_cmd(args);
        assert_eq!(
            c, code,
            "ordo {args:?}: exit code\nstdout:\n{out}\nstderr:\n{err}"
        );
        (out, err)
    }

    /// `ordo run --exit-when-idle`, asserting success.
    pub fn run_idle(&self) {
        self.ok(&["run", "--exit-when-idle"]);
    }

    /// `ordo --json status KEY`: the first instance found for the key.
    pub fn status(&self, key: &str) -> Value {
        self.json(&["status", key])[0].clone()
    }

    /// The state of KEY's instance: its end status, or its status while not ended.
    pub fn state_of(&self, key: &str) -> String {
        let s = self.status(key);
        s["instance"]["end_status"]
            .as_str()
            .or(s["instance"]["status"].as_str())
            .unwrap_or_default()
            .to_string()
    }

    /// (kind, step, outcome) of each history event of KEY's instance.
    pub fn history_of(&self, key: &str) -> Vec<(String, String, String)> {
        let s = self.status(key);
        s["history"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| {
                (
                    h["kind"].as_str().unwrap_or_default().to_string(),
                    h["step"].as_str().unwrap_or_default().to_string(),
                    h["outcome"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// Open tasks as (task id, business key).
    pub fn open_tasks(&self) -> Vec<(i64, String)> {
        self.json(&["tasks"])
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                (
                    t["task"]["id"].as_i64().unwrap_or(-1),
                    t["key"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// The id of the open task for KEY.
    pub fn task_for(&self, key: &str) -> i64 {
        let tasks = self.open_tasks();
        tasks
            .iter()
            .find(|(_, k)| k == key)
            .map(|(id, _)| *id)
            .unwrap_or_else(|| panic!("no open task for {key}: {tasks:?}"))
    }

    /// Rewrites the cluster config with other PostgreSQL and RabbitMQ URLs (same schema and
    /// prefix), e.g. to go through a [`Proxy`]. `extra` is appended (YAML lines).
    pub fn set_cluster_urls(&self, pg_url: &str, amqp_url: &str, extra: &str) {
        let (schema, prefix) = self.cluster.clone().expect("a cluster project");
        self.write(
            "config/ordo.yaml",
            &format!(
                "store: {{ postgres: \"{pg_url}\", schema: {schema}, connections: 4 }}\nqueue: {{ amqp: \"{amqp_url}\", prefix: {prefix}, prefetch: 64 }}\n{extra}"
            ),
        );
    }

    /// Instance counts as (status-or-end-status, count).
    pub fn counts(&self) -> Vec<(String, i64)> {
        let v = self.json(&["instances", "--limit", "1"]);
        v["counts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| {
                        let state =
                            c["end_status"]
                                .as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| {
                                    c["status"].as_str().unwrap_or_default().to_string()
                                });
                        (state, c["count"].as_i64().unwrap_or(0))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn count_of(&self, state: &str) -> i64 {
        self.counts()
            .iter()
            .filter(|(s, _)| s == state)
            .map(|(_, n)| n)
            .sum()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        if std::env::var("ORDO_KEEP_TEST_DIRS").is_ok() {
            eprintln!("kept {}", self.dir.display());
            return;
        }
        if let Some((schema, _)) = &self.cluster {
            let _ = Command::new("psql")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-d",
                    "test",
                    "-q",
                    "-c",
                    &format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"),
                ])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Writes `n` orders that the intake workflow confirms (seeded customers and items).
pub fn orders_json(n: usize, tag: &str) -> String {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(serde_json::json!({
            "id": format!("C-CORA-{tag}-{i:05}"), "customer_id": "C-CORA", "po_number": format!("{tag}-{i:05}"),
            "order_date": "2026-11-23", "currency": "EUR",
            "lines": [ { "line_no": 1, "sku": "BOLT-M8", "quantity": 1 }, { "line_no": 2, "sku": "WID-100", "quantity": 2 } ]
        }));
    }
    serde_json::to_string(&out).unwrap_or_default()
}

/// Checks that `n` orders from [`orders_json`] each reached `confirmed` exactly once: one
/// instance per order, each step completed once, confirmation numbers 1..=n without gaps or
/// repeats, and the effects counted in the store (`ordo --json summary`).
pub fn assert_confirmed_once(p: &Project, n: usize) {
    assert_orders_confirmed_once(p, n, 0);
}

/// [`assert_confirmed_once`] in a store that also holds `others` instances of workflows
/// other than the orders' (cron ticks).
pub fn assert_orders_confirmed_once(p: &Project, n: usize, others: usize) {
    assert_eq!(
        p.count_of("confirmed"),
        n as i64,
        "counts: {:?}",
        p.counts()
    );
    let total: i64 = p.counts().iter().map(|(_, c)| c).sum();
    assert_eq!(
        total,
        (n + others) as i64,
        "one instance per order: {:?}",
        p.counts()
    );
    let all = p.json(&["instances", "--limit", "100000", "--history"]);
    let instances = all["instances"].as_array().cloned().unwrap_or_default();
    let histories = all["histories"].as_array().cloned().unwrap_or_default();
    let orders: Vec<(&Value, &Value)> = instances
        .iter()
        .zip(&histories)
        .filter(|(i, _)| {
            i["business_key"]
                .as_str()
                .is_some_and(|k| k.starts_with("C-CORA-"))
        })
        .collect();
    assert_eq!(orders.len(), n);
    let mut numbers = Vec::new();
    for (inst, h) in orders {
        let key = inst["business_key"].as_str().unwrap_or_default();
        assert_eq!(inst["id"], h["instance"]);
        let history = h["history"].as_array().cloned().unwrap_or_default();
        let ended = history.iter().filter(|h| h["kind"] == "ended").count();
        assert_eq!(ended, 1, "{key}: ended events in history: {history:?}");
        for step in ["validate", "approve", "reserve", "confirm"] {
            let c = history
                .iter()
                .filter(|h| h["kind"] == "step.completed" && h["step"] == step)
                .count();
            assert_eq!(c, 1, "{key}: step {step} completed {c} times");
        }
        numbers.push(
            inst["data"]["confirmation"]["number"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    numbers.sort();
    let expected: Vec<String> = (1..=n).map(|i| format!("OC-{i:06}")).collect();
    assert_eq!(
        numbers, expected,
        "confirmation numbers must be 1..=N, gapless"
    );
    let summary = p.json(&["summary"]);
    for (section, name) in [
        ("documents", "confirmation"),
        ("series", "order-confirmation"),
        ("outbound", "order-confirmations"),
    ] {
        assert_eq!(
            summary[section][name], n as i64,
            "{section}.{name}: {summary}"
        );
    }
    assert_eq!(
        summary["stock"]["BOLT-M8"],
        serde_json::json!(10000 - n as i64),
        "{summary}"
    );
    assert_eq!(
        summary["stock"]["WID-100"],
        serde_json::json!(5000 - 2 * n as i64),
        "{summary}"
    );
    // `.NAME.tmp` is a write a kill interrupted; the dispatcher writes the file again.
    let files = std::fs::read_dir(p.path("data/outbound/order-confirmations"))
        .map(|d| {
            d.flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(files, n, "one confirmation file per order");
}

/// A local TCP port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The first of `n` consecutive ports that are free now, for a program that listens on
/// `base + k` (deploy/local-cluster.sh). Taken below the kernel's ephemeral range (32768 and
/// up on Linux), where no outgoing connection of a test running beside this one can land on
/// `base + 1` between this check and the program's bind (CI saw "Address already in use" on
/// base + 1 when the base came from the ephemeral range).
pub fn free_port_run(n: u16) -> u16 {
    let start = 20_000 + (std::process::id() % 10_000) as u16;
    (0..1_000u16)
        .map(|i| 20_000 + (start - 20_000 + i * n) % 12_000)
        .find(|&base| {
            let held: Vec<_> = (0..n)
                .map_while(|k| std::net::TcpListener::bind(("127.0.0.1", base + k)).ok())
                .collect();
            held.len() == n as usize
        })
        .expect("a run of free ports below 32000")
}

/// Sends SIGKILL.
pub fn kill9(child: &mut Child) {
    // SAFETY: kill(2) on a pid we spawned and have not reaped.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
}

/// Removes ANSI colour sequences.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// The file names in `dir` of the project (hidden ones, such as `.claimed`, left out), sorted.
pub fn listing(p: &Project, dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(p.path(dir))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Polls `cond` every 100 ms until it holds; panics with `what` (and the last `cond` value
/// description) after `secs` seconds.
pub fn wait_until(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if cond() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {secs} s waiting for: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends SIGTERM and waits for the process (it finishes its current batches and exits).
pub fn terminate(child: &mut Child) {
    // SAFETY: kill(2) on a pid we spawned and have not reaped.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    kill9(child);
}

/// Kills a child process when dropped (so a failing assertion does not leave `ordo run`
/// behind).
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            terminate(&mut self.0);
        }
    }
}

/// A TCP proxy in front of a service, to simulate losing it: [`Proxy::cut`] closes every live
/// connection and refuses new ones (accepts and closes them at once) until
/// [`Proxy::restore`].
pub struct Proxy {
    pub port: u16,
    state: std::sync::Arc<std::sync::Mutex<ProxyState>>,
}

#[derive(Default)]
struct ProxyState {
    cut: bool,
    stopped: bool,
    /// Live connections by id: (client side, server side).
    live: std::collections::HashMap<usize, (TcpStream, TcpStream)>,
    /// Connections accepted so far.
    accepted: usize,
}

impl Proxy {
    /// Listens on 127.0.0.1 (a free port) and forwards to `target` (`host:port`).
    pub fn start(target: &str) -> Proxy {
        use std::sync::{Arc, Mutex};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("proxy binds");
        let port = listener.local_addr().expect("proxy address").port();
        let state = Arc::new(Mutex::new(ProxyState::default()));
        let st = state.clone();
        let target = target.to_string();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { continue };
                let mut s = st.lock().unwrap_or_else(|p| p.into_inner());
                if s.stopped {
                    return;
                }
                if s.cut {
                    let _ = client.shutdown(std::net::Shutdown::Both);
                    continue;
                }
                let Ok(addr) = target.parse() else { continue };
                let Ok(server) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
                    let _ = client.shutdown(std::net::Shutdown::Both);
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
                    client.try_clone(),
                    server.try_clone(),
                    client.try_clone(),
                    server.try_clone(),
                ) else {
                    continue;
                };
                s.accepted += 1;
                let id = s.accepted;
                s.live.insert(id, (client, server));
                drop(s);
                for (mut from, mut to) in [(c2, s2), (s3, c3)] {
                    let st = st.clone();
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = from.shutdown(std::net::Shutdown::Both);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                        st.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .live
                            .remove(&id);
                    });
                }
            }
        });
        Proxy { port, state }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ProxyState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes every live connection and refuses new ones.
    pub fn cut(&self) {
        let mut s = self.lock();
        s.cut = true;
        for (_, (c, t)) in s.live.drain() {
            let _ = c.shutdown(std::net::Shutdown::Both);
            let _ = t.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.lock().cut = false;
    }

    /// Connections accepted so far (to check the traffic really went through the proxy).
    pub fn accepted(&self) -> usize {
        self.lock().accepted
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.lock().stopped = true;
        // Wake the accept loop so its thread ends.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One end-to-end test on both backends: `mod NAME { fn embedded; fn cluster }`, the cluster
/// one skipping (with a printed reason) where PostgreSQL/RabbitMQ are not required.
/// `both!(name, |p: &Project| …)` runs on the repository's workflows; `both!(fixture name, …)`
/// on the tests' pinned fixtures.
#[macro_export]
macro_rules! both {
    (fixture $name:ident, $body:expr) => {
        $crate::both!(@make $name, fixture, cluster_fixture, $body);
    };
    ($name:ident, $body:expr) => {
        $crate::both!(@make $name, embedded, cluster, $body);
    };
    (@make $name:ident, $embedded:ident, $cluster:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[test]
            fn embedded() {
                let p = $crate::Project::$embedded(stringify!($name));
                ($body)(&p);
            }
            #[test]
            fn cluster() {
                let Some(p) = $crate::Project::$cluster(stringify!($name)) else {
                    return;
                };
                ($body)(&p);
            }
        }
    };
}

/// Publishes (message id, body) pairs to `queue` (declared durable) with publisher confirms:
/// when this returns, the broker holds every message.
pub fn amqp_publish(queue: &str, msgs: &[(&str, String)]) {
    use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let conn = lapin::Connection::connect(AMQP_URL, lapin::ConnectionProperties::default())
            .await
            .expect("RabbitMQ");
        let ch = conn.create_channel().await.expect("channel");
        ch.confirm_select(ConfirmSelectOptions::default())
            .await
            .expect("confirms");
        ch.queue_declare(
            queue.into(),
            QueueDeclareOptions::durable(),
            lapin::types::FieldTable::default(),
        )
        .await
        .expect("queue");
        for (id, body) in msgs {
            let confirm = ch
                .basic_publish(
                    "".into(),
                    queue.into(),
                    BasicPublishOptions::default(),
                    body.as_bytes(),
                    lapin::BasicProperties::default()
                        .with_delivery_mode(2)
                        .with_message_id((*id).into()),
                )
                .await
                .expect("publish")
                .await
                .expect("confirm");
            assert!(confirm.is_ack(), "the broker took message {id}");
        }
        let _ = conn.close(200, "done".into()).await;
    });
}

/// Configures `intake: { amqp }` for `p` at `url` on a queue of its own (named after the
/// project folder, unique per test run and backend), after importing the seed data; returns
/// the queue's name.
pub fn amqp_intake(p: &Project, url: &str, tag: &str) -> String {
    let queue = format!(
        "ordo-{tag}-{}",
        p.path("").file_name().unwrap_or_default().to_string_lossy()
    );
    p.ok(&["data", "import", "config/seed.json"]);
    let cfg = std::fs::read_to_string(p.path("config/ordo.yaml")).expect("config");
    p.write(
        "config/ordo.yaml",
        &format!("{cfg}intake: {{ amqp: {{ url: \"{url}\", queue: \"{queue}\" }} }}\n"),
    );
    queue
}

/// Deletes queues a test declared (and whatever is left in them).
pub fn amqp_delete(queues: &[&str]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let Ok(conn) =
            lapin::Connection::connect(AMQP_URL, lapin::ConnectionProperties::default()).await
        else {
            return;
        };
        if let Ok(ch) = conn.create_channel().await {
            for q in queues {
                let _ = ch.queue_delete((*q).into(), Default::default()).await;
            }
        }
        let _ = conn.close(200, "done".into()).await;
    });
}

/// A JSON `POST` to the API at `url` as `token`, with an `Idempotency-Key` when given:
/// (status, whether the answer is a replay (`idempotent-replayed`), the body; non-JSON text
/// as `{"text": …}`).
pub fn api_post(
    http: &reqwest::blocking::Client,
    url: &str,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> (u16, bool, Value) {
    let mut r = http.post(url).bearer_auth(token).json(body);
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    let r = r.send().expect("POST");
    let status = r.status().as_u16();
    let replayed = r.headers().contains_key("idempotent-replayed");
    let text = r.text().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(serde_json::json!({ "text": text }));
    (status, replayed, body)
}

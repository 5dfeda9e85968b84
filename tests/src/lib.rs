//! Harness for end-to-end tests: builds the `ordo` binary once, gives each test a scratch
//! project (workflows, rules, config, data) and, for the cluster backend, its own PostgreSQL
//! schema and RabbitMQ prefix so tests never see each other's state.
//!
//! Services: tests that need PostgreSQL or RabbitMQ call [`Project::cluster`]. With `CI=true`
//! a missing service fails the test; elsewhere the test prints why it skips and passes.

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

/// Path of the `ordo` binary, built on first use.
pub fn ordo_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "ordo", "--bin", "ordo"])
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
        let dir = std::env::temp_dir().join(unique(&format!("ordo-e2e-{tag}")));
        std::fs::create_dir_all(dir.join("config")).expect("temp dir");
        for sub in ["workflows", "rules"] {
            std::fs::create_dir_all(dir.join(sub)).expect("temp dir");
            for entry in std::fs::read_dir(workspace().join(sub))
                .expect("repo folder")
                .flatten()
            {
                let _ = std::fs::copy(entry.path(), dir.join(sub).join(entry.file_name()));
            }
        }
        std::fs::copy(
            workspace().join("config/seed.json"),
            dir.join("config/seed.json"),
        )
        .expect("seed");
        std::fs::write(
            dir.join("config/ordo.yaml"),
            "store: { sqlite: data/ordo.db }\nqueue: { embedded: {}, visibility_secs: 2 }\nworkers: 2\nbatch: 64\n",
        )
        .expect("config");
        Project { dir, cluster: None }
    }

    /// Same, on PostgreSQL (own schema) + RabbitMQ (own prefix). None when skipped.
    pub fn cluster(tag: &str) -> Option<Project> {
        if !cluster_available(tag) {
            return None;
        }
        let mut p = Project::embedded(tag);
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
            .env("RUST_LOG", "info,sqlx=warn,lapin=warn");
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
        out
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

/// Sends SIGKILL.
pub fn kill9(child: &mut Child) {
    // SAFETY: kill(2) on a pid we spawned and have not reaped.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
}

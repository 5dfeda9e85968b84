//! Several `ordo run` processes on one cluster backend share the work without doing it twice
//! (issue 21): each cron occurrence starts one instance, whichever process sees it first;
//! three processes killed one at a time lose and double nothing; SIGTERM lets a process
//! finish or roll back its batches and exit 0; three processes killed one at a time while
//! partner EDI files, orders and bank statements flow lose and double no order, invoice,
//! acknowledgment or payment, and take each file once.
//! (Inbound files taken once across processes: `hostile_files::two_cluster_runs_take_each_file_once`;
//! orders booked once: `hostile_intake`.)

use ordo_tests::{
    Project, Proxy, Running, assert_confirmed_once, assert_orders_confirmed_once, kill9, listing,
    orders_json, wait_until,
};
use serde_json::Value;
use std::time::{Duration, Instant};

const TICK: &str = "workflow: tick
version: 1
trigger: { cron: \"0 * * * * *\" }
steps:
  one: { connector: util.noop, then: done }
  done: { end: completed }
";

/// (instances, distinct scheduled times) of the `tick` workflow.
fn ticks(p: &Project) -> (usize, usize) {
    let v = p.json(&["instances", "--limit", "1000"]);
    let list: Vec<&Value> = v["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["workflow"] == "tick")
        .collect();
    let mut keys: Vec<&str> = list
        .iter()
        .filter_map(|i| i["business_key"].as_str())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    (list.len(), keys.len())
}

/// Both processes evaluate the schedule every tick against the same business time; the
/// occurrence's instance key (`tick@<time>`) is unique in the store, so the second start is a
/// no-op. Without that key, each occurrence would run once per process.
#[test]
fn two_cluster_runs_start_each_cron_occurrence_once() {
    let Some(p) = Project::cluster_fixture("cron-once") else {
        return;
    };
    p.write("workflows/tick.yaml", TICK);
    p.ok(&["check"]);
    let runs = [Running(p.spawn_run(&[])), Running(p.spawn_run(&[]))];
    // The first sight of a schedule starts counting from then; give both processes a tick.
    std::thread::sleep(std::time::Duration::from_secs(3));
    const MINUTES: usize = 6;
    for n in 1..=MINUTES {
        p.ok(&["clock", "advance", "1m"]);
        wait_until(60, &format!("occurrence {n} started"), || ticks(&p).1 >= n);
    }
    // Let both processes look again at the last occurrence before counting.
    std::thread::sleep(std::time::Duration::from_secs(3));
    drop(runs);
    // Real minutes pass too (business time = real time + the offset; a loaded machine takes
    // minutes over this test), so there may be more occurrences than advances; each must
    // have started exactly once.
    let (instances, occurrences) = ticks(&p);
    assert!(
        occurrences >= MINUTES,
        "one occurrence per business minute at least: {occurrences}"
    );
    assert_eq!(
        instances, occurrences,
        "each occurrence started once, not once per process"
    );
}

/// Three processes, one killed (SIGKILL) and restarted at a time while orders arrive both
/// through `ordo submit` and as files in the shared inbox folder, and business minutes pass
/// (one cron occurrence each). At the end every order was confirmed once (one instance, each
/// step once, gapless confirmation numbers, one confirmation document, file and stock move),
/// every inbox file was taken once, and each cron occurrence started one instance.
#[test]
fn three_cluster_runs_killed_one_at_a_time_lose_and_double_nothing() {
    let Some(p) = Project::cluster_fixture("kill3") else {
        return;
    };
    p.write("workflows/tick.yaml", TICK);
    p.ok(&["data", "import", "config/seed.json"]);
    let mut runs: Vec<Running> = (0..3)
        .map(|_| Running(p.spawn_run(&["--workers", "2"])))
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    const ROUNDS: usize = 6;
    const PER_ROUND: usize = 40;
    for round in 0..ROUNDS {
        p.write(
            &format!("submit-{round}.json"),
            &orders_json(PER_ROUND, &format!("S{round}")),
        );
        p.ok(&["submit", &format!("submit-{round}.json")]);
        p.write(
            &format!("data/inbox/file-{round}.json"),
            &orders_json(PER_ROUND, &format!("F{round}")),
        );
        p.ok(&["clock", "advance", "1m"]);
        // Kill while the round's work runs: 0.2–1.2 s in, a different process each round.
        std::thread::sleep(Duration::from_millis(200 + 173 * round as u64 % 1000));
        let victim = round % 3;
        kill9(&mut runs[victim].0);
        eprintln!(
            "round {round}: killed process {victim}; confirmed so far {}",
            p.count_of("confirmed")
        );
        runs[victim] = Running(p.spawn_run(&["--workers", "2"]));
    }
    let orders = ROUNDS * PER_ROUND * 2;
    wait_until(180, "every order confirmed", || {
        p.count_of("confirmed") >= orders as i64
    });
    wait_until(60, "every cron occurrence started", || {
        ticks(&p).1 >= ROUNDS
    });
    // Let the processes look at the last occurrence again before counting.
    std::thread::sleep(Duration::from_secs(3));
    drop(runs);
    // Real minutes pass too (business time = real time + the offset), so there may be more
    // occurrences than rounds; each must have started exactly once.
    let (instances, occurrences) = ticks(&p);
    assert!(occurrences >= ROUNDS, "{occurrences} occurrences");
    assert_eq!(
        instances, occurrences,
        "one instance per cron occurrence across processes"
    );
    let archived = std::fs::read_dir(p.path("data/inbox/archive"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(archived, ROUNDS, "each inbox file archived once");
    assert_orders_confirmed_once(&p, orders, instances);
}

/// SIGTERM while batches run: the process stops taking work, lets its batches commit or
/// rolls them back within the grace period, and exits 0; another process finishes the rest
/// and nothing is lost or done twice.
#[test]
fn sigterm_finishes_or_rolls_back_batches_and_exits_0() {
    sigterm_during_work("sigterm", None);
}

/// `shutdown_grace_secs: 0` (here from the environment): batches in flight are rolled back at
/// once, the process still exits 0 at once, and the rolled-back work is done by the next
/// process, once.
#[test]
fn sigterm_with_no_grace_rolls_back_at_once_and_loses_nothing() {
    sigterm_during_work("sigterm0", Some(0));
}

fn sigterm_during_work(tag: &str, grace: Option<u64>) {
    let Some(p) = Project::cluster_fixture(tag) else {
        return;
    };
    const ORDERS: usize = 400;
    p.ok(&["data", "import", "config/seed.json"]);
    p.write("orders.json", &orders_json(ORDERS, "T"));
    p.ok(&["submit", "orders.json"]);
    std::fs::create_dir_all(p.path("data")).expect("data folder");
    let log = std::fs::File::create(p.path("data/run-term.log")).expect("log");
    let mut cmd = p.cmd(&["run", "--workers", "2"]);
    if let Some(g) = grace {
        cmd.env("ORDO_SHUTDOWN_GRACE_SECS", g.to_string());
    }
    let mut run = cmd
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("ordo run starts");
    wait_until(120, "the first orders confirmed", || {
        p.count_of("confirmed") > 0
    });
    let confirmed_before = p.count_of("confirmed");
    // SAFETY: kill(2) on a pid we spawned and have not reaped.
    unsafe { libc::kill(run.id() as i32, libc::SIGTERM) };
    let sent = Instant::now();
    // The grace, plus closing connections (bounded at 2 + 3 s) and a loaded machine's slack.
    let limit = Duration::from_secs(grace.unwrap_or(5) + 10);
    let status = loop {
        if let Some(s) = run.try_wait().expect("wait") {
            break s;
        }
        if sent.elapsed() > limit {
            kill9(&mut run);
            panic!("still running {limit:?} after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status after SIGTERM: {status}");
    let logs = p.run_logs();
    assert!(
        logs.contains("shutting down after the current batches"),
        "{logs}"
    );
    let confirmed_at_stop = p.count_of("confirmed");
    eprintln!(
        "SIGTERM after {confirmed_before} confirmed; {confirmed_at_stop} at exit, {:.1} s later",
        sent.elapsed().as_secs_f64()
    );
    assert!(
        confirmed_at_stop < ORDERS as i64,
        "the stop came while work was left (raise ORDERS if this machine got fast)"
    );
    let out = p.ordo(&["run", "--exit-when-idle"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_confirmed_once(&p, ORDERS);
}

/// `deploy/local-cluster.sh` as a newcomer uses it: `start 3` brings up three processes on
/// one schema and prefix, each answering on its own port; orders submitted to the cluster
/// are confirmed once; `stop` ends each with SIGTERM (exit within the grace) and says so.
#[test]
fn the_deploy_script_starts_three_processes_and_stops_them() {
    let Some(p) = Project::cluster_fixture("deploy") else {
        return;
    };
    p.ok(&["data", "import", "config/seed.json"]);
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/local-cluster.sh");
    let base = ordo_tests::free_port_run(3);
    let run = |args: &[&str]| {
        let out = std::process::Command::new("bash")
            .arg(&script)
            .args(args)
            .current_dir(p.path(""))
            .env("CONFIG", "config/ordo.yaml")
            .env("BASE_PORT", base.to_string())
            .env("RUN_DIR", "data/cluster")
            .env("ORDO", ordo_tests::ordo_bin())
            .env("NO_COLOR", "1")
            .output()
            .expect("bash runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let (ok, out) = run(&["start", "3"]);
    assert!(ok && out.contains("3 process(es) running"), "{out}");
    let (_, status) = run(&["status"]);
    assert_eq!(status.matches(": running").count(), 3, "{status}");
    for k in 0..3u16 {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", base + k))
            .unwrap_or_else(|e| panic!("process {k} listens on {}: {e}", base + k));
        use std::io::{Read, Write};
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("request");
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "process {k}: {answer}");
    }
    p.write("orders.json", &orders_json(150, "D"));
    p.ok(&["submit", "orders.json"]);
    wait_until(120, "every order confirmed", || {
        p.count_of("confirmed") >= 150
    });
    let (ok, out) = run(&["stop"]);
    assert!(ok, "{out}");
    assert_eq!(out.matches(": stopped").count(), 3, "{out}");
    let (_, status) = run(&["status"]);
    assert!(status.contains("no processes started"), "{status}");
    // the confirmations' outbound files are written after their commits: deliver the rest
    p.run_idle();
    assert_confirmed_once(&p, 150);
}

/// A deployment's environment is checked like its file: a bad `ORDO_WORKERS` is refused by
/// name, never silently replaced by the file's value; a good one is in force.
#[test]
fn environment_overrides_are_validated_like_the_file() {
    let p = Project::fixture("env");
    let out = p
        .cmd(&["check"])
        .env("ORDO_WORKERS", "lots")
        .output()
        .expect("ordo runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "accepted ORDO_WORKERS=lots");
    assert!(
        err.contains("ORDO_WORKERS") && err.contains("lots"),
        "{err}"
    );
    let out = p
        .cmd(&["check"])
        .env("ORDO_WORKERS", "0")
        .output()
        .expect("ordo runs");
    assert!(
        !out.status.success(),
        "accepted ORDO_WORKERS=0 (the file's range applies)"
    );
    let out = p
        .cmd(&["check"])
        .env("ORDO_WORKERS", "3")
        .output()
        .expect("ordo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts `ordo run` with extra environment (its own service URLs, workflow folder), logging
/// to `data/run-TAG.log`.
fn spawn_run_env(p: &Project, tag: &str, env: &[(&str, String)]) -> std::process::Child {
    std::fs::create_dir_all(p.path("data")).expect("data folder");
    let log = std::fs::File::create(p.path(&format!("data/run-{tag}.log"))).expect("log");
    p.cmd(&["run", "--workers", "2", "--listen", "off"])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("ordo run starts")
}

/// Two processes on the same items (every order takes stock of BOLT-M8 and WID-100 and a
/// gapless confirmation number), one of them reaching PostgreSQL and RabbitMQ through proxies:
/// first its database is cut for 3 s while the other keeps working, then its broker
/// connection (its unacked deliveries go back to the queue and reach the other process,
/// whose inbox skips what was already committed). Every order is confirmed exactly once, the
/// other process went on during each cut, the cut one came back (new connections through
/// the proxies), and no batch died in a deadlock (the hot-rows lock orders the locks).
#[test]
fn one_process_loses_its_database_then_its_broker_while_another_keeps_them() {
    let Some(p) = Project::cluster_fixture("lose1") else {
        return;
    };
    const ORDERS: usize = 400;
    // Small batches so both processes are still busy when the cuts come.
    p.set_cluster_urls(
        ordo_tests::PG_URL,
        ordo_tests::AMQP_URL,
        "workers: 2\nbatch: 4\nconnect_retry_secs: 30\n",
    );
    p.ok(&["data", "import", "config/seed.json"]);
    let pg = Proxy::start("127.0.0.1:5432");
    let mq = Proxy::start("127.0.0.1:5672");
    let cut_one = Running(spawn_run_env(
        &p,
        "proxied",
        &[
            (
                "ORDO_POSTGRES",
                format!("postgres://postgres@127.0.0.1:{}/test", pg.port),
            ),
            (
                "ORDO_AMQP",
                format!("amqp://guest:guest@127.0.0.1:{}/%2f", mq.port),
            ),
        ],
    ));
    let other = Running(spawn_run_env(&p, "direct", &[]));
    wait_until(60, "both processes running", || {
        p.run_logs().matches("ordo running").count() >= 2
    });
    // Half the orders before each cut, so work is left when it comes however fast the other
    // process empties the queue while the cut one reconnects.
    let half = ORDERS / 2;
    for (what, proxy) in [("database", &pg), ("broker", &mq)] {
        let (tag, floor) = if what == "database" {
            ("X", 20)
        } else {
            ("Y", half as i64 + 5)
        };
        p.write("orders.json", &orders_json(half, tag));
        p.ok(&["submit", "orders.json"]);
        wait_until(120, "processing under way", || {
            p.count_of("confirmed") >= floor
        });
        let at_cut = p.count_of("confirmed");
        let accepted = proxy.accepted();
        proxy.cut();
        std::thread::sleep(Duration::from_secs(3));
        let during = p.count_of("confirmed");
        proxy.restore();
        eprintln!("{what} cut at {at_cut} confirmed; {during} when restored");
        let submitted = if what == "database" { half } else { ORDERS };
        assert!(
            at_cut < submitted as i64,
            "the {what} cut must come while work is left ({at_cut} of {submitted} confirmed)"
        );
        assert!(
            during > at_cut,
            "the other process kept confirming while the {what} was cut ({at_cut} → {during})"
        );
        wait_until(60, "the cut process reconnected", || {
            proxy.accepted() > accepted
        });
    }
    wait_until(180, "every order confirmed", || {
        p.count_of("confirmed") >= ORDERS as i64
    });
    drop(other);
    drop(cut_one);
    let logs = p.run_logs();
    assert!(
        !logs.contains("deadlock detected"),
        "no batch may die in a deadlock:\n{logs}"
    );
    assert_confirmed_once(&p, ORDERS);
}

/// A process started with a workflow whose content changed but whose `version:` did not is
/// refused (the stored version keeps its content, the message names the file and line); one
/// started with the version bumped runs beside the others, and an instance started on the
/// new version is run by a process whose files still say the old one: by the stored
/// definition of its own version (pinned), not by the files.
#[test]
fn a_process_with_another_workflow_version_is_refused_or_pinned() {
    let Some(p) = Project::cluster_fixture("versions") else {
        return;
    };
    p.ok(&["data", "import", "config/seed.json"]);
    let old = Running(spawn_run_env(&p, "v1", &[]));
    wait_until(60, "the v1 process running", || {
        p.run_logs().contains("ordo running")
    });
    let v1 = std::fs::read_to_string(p.path("workflows/order-intake.yaml")).expect("workflow");
    // Same version, other content: refused at start.
    let changed = v1.replace("  confirm:\n    connector: order.confirm\n    then: confirmed",
        "  confirm:\n    connector: order.confirm\n    then: noted\n  noted:\n    connector: util.noop\n    then: confirmed");
    assert_ne!(
        changed, v1,
        "the fixture's confirm step moved; update the test"
    );
    p.write("workflows-same/order-intake.yaml", &changed);
    let out = p
        .cmd(&["run", "--listen", "off"])
        .env("ORDO_WORKFLOWS", p.path("workflows-same"))
        .output()
        .expect("ordo run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a clashing version must be refused");
    assert!(
        err.contains("order-intake.yaml:")
            && err.contains("differs from the version 1 already stored"),
        "{err}"
    );
    // Bumped: accepted; then stopped, so the old process runs what it started.
    let bumped = changed.replace("version: 1", "version: 2");
    p.write("workflows-v2/order-intake.yaml", &bumped);
    let mut new = spawn_run_env(
        &p,
        "v2",
        &[(
            "ORDO_WORKFLOWS",
            p.path("workflows-v2").display().to_string(),
        )],
    );
    wait_until(60, "the v2 process running", || {
        p.run_logs().matches("ordo running").count() >= 2
    });
    // SAFETY: kill(2) on a pid we spawned and have not reaped.
    unsafe { libc::kill(new.id() as i32, libc::SIGTERM) };
    assert!(new.wait().expect("wait").success());
    p.write("orders.json", &orders_json(5, "V"));
    let out = p
        .cmd(&["submit", "orders.json"])
        .env("ORDO_WORKFLOWS", p.path("workflows-v2"))
        .output()
        .expect("ordo submit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_until(120, "the v2 orders confirmed by the v1 process", || {
        p.count_of("confirmed") >= 5
    });
    drop(old);
    for i in 0..5 {
        let key = format!("C-CORA-V-{i:05}");
        assert_eq!(p.status(&key)["instance"]["version"], 2, "{key}");
        let steps: Vec<String> = p.history_of(&key).into_iter().map(|h| h.1).collect();
        assert!(
            steps.iter().any(|s| s == "noted"),
            "{key} ran its own version's steps: {steps:?}"
        );
    }
}

/// `ordo invoice NUMBER` (JSON).
fn invoice(p: &Project, number: &str) -> Value {
    let out = p.ok(&["invoice", number]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("invoice {number}: {e}: {out}"))
}

/// The instances of `workflow`: (business key, end status or status), sorted by key.
fn instances_of(p: &Project, workflow: &str) -> Vec<(String, String)> {
    let v = p.json(&["instances", "--limit", "5000"]);
    let mut out: Vec<(String, String)> = v["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["workflow"] == workflow)
        .map(|i| {
            let state = i["end_status"].as_str().or(i["status"].as_str());
            (
                i["business_key"].as_str().unwrap_or_default().to_string(),
                state.unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Point 3 of issue 21 with every channel flowing: three processes on the repository's
/// workflows, one killed (SIGKILL) and restarted at a time while Acme's X12 850 files arrive
/// in the shared partner folder and Cora's orders by `ordo submit`, then while the bank's
/// statements paying every invoice arrive in the shared bank folder and the reconciliation
/// cron runs. At the end: every order completed with one instance; every 850 file archived
/// once with one 997, 855, 856 and 810 (control numbers gapless); one invoice per order
/// (numbers gapless), each with one collection instance that ended `paid` with exactly one
/// payment applied; every statement imported once (none quarantined as a duplicate) and
/// nothing left for finance.
#[test]
fn three_cluster_runs_killed_while_edi_files_and_statements_flow() {
    use ordo_tests::camt::{Credit, camt053, money};
    use ordo_tests::x12::x850;
    let Some(p) = Project::cluster("kill3-o2c") else {
        return;
    };
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for f in [
        "config/partners/acme.yaml",
        "config/banks/main-eur.yaml",
        "config/reconciliation.yaml",
    ] {
        p.write(
            f,
            &std::fs::read_to_string(repo.join(f)).expect("repo config"),
        );
    }
    p.ok(&["data", "import", "config/seed.json"]);
    let spawn = || Running(p.spawn_run(&["--workers", "2"]));
    let mut runs: Vec<Running> = (0..3).map(|_| spawn()).collect();
    std::thread::sleep(Duration::from_secs(3));
    let mut kills = 0usize;
    let mut kill_one = |runs: &mut Vec<Running>, what: &str| {
        // 0.2–1.2 s into the round's work, a different process each time.
        std::thread::sleep(Duration::from_millis(200 + 173 * kills as u64 % 1000));
        let victim = kills % 3;
        kill9(&mut runs[victim].0);
        eprintln!("{what}: killed process {victim}");
        runs[victim] = spawn();
        kills += 1;
    };
    let drop_file = |rel: &str, text: &str| {
        p.write(&format!("{rel}.tmp"), text);
        std::fs::rename(p.path(&format!("{rel}.tmp")), p.path(rel)).expect("rename");
    };

    const ROUNDS: usize = 3;
    const PER_ROUND: usize = 8;
    for round in 0..ROUNDS {
        for i in 0..PER_ROUND {
            let n = round * PER_ROUND + i + 1;
            drop_file(
                &format!("data/partners/acme/in/po-{n:03}.edi"),
                &x850(3000 + n as u32, &format!("K-{n}"), 1, false, "ACME DC"),
            );
        }
        p.write(
            &format!("submit-{round}.json"),
            &orders_json(PER_ROUND, &format!("S{round}")),
        );
        p.ok(&["submit", &format!("submit-{round}.json")]);
        kill_one(&mut runs, &format!("orders round {round}"));
    }
    let edi = ROUNDS * PER_ROUND;
    let orders = 2 * edi;
    wait_until(300, "every order completed", || {
        instances_of(&p, "order-to-cash")
            .iter()
            .filter(|(_, s)| s == "completed")
            .count()
            >= orders
    });

    // One invoice per order (everything is in stock): paid by the bank, a statement a round.
    let invoices: Vec<Value> = (1..=orders)
        .map(|n| invoice(&p, &format!("INV-{n:06}")))
        .collect();
    let credits: Vec<Credit> = invoices
        .iter()
        .map(|inv| {
            let cents = |v: &Value| -> i64 { money(v).replace('.', "").parse().expect("money") };
            // Acme pays within its 2/10 terms, less the discount; Cora pays the total.
            let due = cents(&inv["total"]) - cents(&inv["discount_amount"]);
            let (payer, iban) = match inv["customer_id"].as_str() {
                Some("C-ACME") => ("Acme Retail GmbH", "DE89370400440532013000"),
                _ => ("Cora Supplies SA", "FR1420041010050500013M02606"),
            };
            (
                format!("{}.{:02}", due / 100, due % 100),
                payer.to_string(),
                iban.to_string(),
                format!("Invoice {}", inv["number"].as_str().unwrap_or_default()),
            )
        })
        .collect();
    let today = ordo_tests::api::today();
    for (k, part) in credits.chunks(orders.div_ceil(ROUNDS)).enumerate() {
        drop_file(
            &format!("data/bank/main-eur/inbox/stmt-{k}.xml"),
            &camt053(&format!("KILL-STMT-{k}"), &today, part, 0),
        );
        // Business time passes a reconciliation slot (every 5 minutes).
        std::thread::sleep(Duration::from_secs(1));
        p.ok(&["clock", "advance", "6m"]);
        kill_one(&mut runs, &format!("statement {k}"));
    }
    // A statement imported after its slot's run waits for the next slot: let slots pass.
    let deadline = Instant::now() + Duration::from_secs(300);
    let paid = || {
        instances_of(&p, "invoice-collection")
            .iter()
            .filter(|(_, s)| s == "paid")
            .count()
    };
    while paid() < orders {
        assert!(
            Instant::now() < deadline,
            "timed out: {} of {orders} invoices paid; {:?}",
            paid(),
            instances_of(&p, "invoice-collection")
        );
        std::thread::sleep(Duration::from_secs(3));
        p.ok(&["clock", "advance", "6m"]);
    }
    std::thread::sleep(Duration::from_secs(2));
    drop(runs);

    // Orders: one instance each, completed.
    let o2c = instances_of(&p, "order-to-cash");
    assert_eq!(o2c.len(), orders, "{o2c:?}");
    assert!(o2c.iter().all(|(_, s)| s == "completed"), "{o2c:?}");
    let mut keys: Vec<&String> = o2c.iter().map(|(k, _)| k).collect();
    keys.dedup();
    assert_eq!(keys.len(), orders, "one instance per order");
    // Partner files: each taken once, acknowledged once, every document sent once.
    ordo_tests::x12::assert_acme_exchanged_once(&p, edi);
    // Invoices: gapless, one collection each, paid once.
    let (_, err) = p.expect_code(1, &["invoice", &format!("INV-{:06}", orders + 1)]);
    assert!(err.contains("INV-"), "no invoice past the orders: {err}");
    let collections = instances_of(&p, "invoice-collection");
    assert_eq!(collections.len(), orders, "{collections:?}");
    for inv in &invoices {
        let number = inv["number"].as_str().unwrap_or_default();
        let after = invoice(&p, number);
        assert_eq!(after["status"], "paid", "{after}");
        assert_eq!(
            after["payments"].as_array().map(Vec::len),
            Some(1),
            "{number}: one payment applied: {after}"
        );
        assert!(
            collections.iter().any(|(k, s)| k == number && s == "paid"),
            "{number}: {collections:?}"
        );
    }
    // Statements: each imported once, nothing left for finance.
    assert_eq!(listing(&p, "data/bank/main-eur/archive").len(), ROUNDS);
    assert_eq!(
        listing(&p, "data/bank/main-eur/quarantine"),
        Vec::<String>::new()
    );
    assert_eq!(
        p.json(&["recon", "exceptions"]),
        serde_json::json!([]),
        "every payment matched"
    );
}

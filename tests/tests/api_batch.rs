//! Group commit of the API's `POST`s (`api::batch`), on both backends: requests that arrive
//! while the committer waits are run in ONE transaction, a savepoint each. An invalid order, a
//! duplicate, an idempotency replay and a key reused with another body, in one batch with
//! valid orders, each get exactly their own answer; the store holds exactly the right rows
//! (the failed request's key is not stored); and the batch really was one transaction.
//!
//! To form the batch the test holds the store's write lock from outside (`sqlite3`'s
//! `BEGIN IMMEDIATE`; on PostgreSQL a lock on the clock's `kv` row table, which every batch
//! reads first): the committer's first batch waits on it, and every request sent meanwhile
//! queues for the next one.

use ordo_tests::{PG_URL, Project, Running, both, wait_until};
use reqwest::blocking::Client;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

fn start(p: &Project, http: &Client) -> (String, Running) {
    let addr = format!("127.0.0.1:{}", ordo_tests::closed_port());
    let run = Running(p.spawn_run(&["--listen", &addr]));
    wait_until(60, "the API answers /healthz", || {
        http.get(format!("http://{addr}/healthz"))
            .send()
            .is_ok_and(|r| r.status() == 200)
    });
    (format!("http://{addr}"), run)
}

fn order(id: &str) -> Value {
    json!({ "id": id, "customer_id": "C-CORA", "po_number": id, "order_date": "2026-11-23",
            "currency": "EUR", "lines": [ { "line_no": 1, "sku": "BOLT-M8", "quantity": 2 } ] })
}

/// A `POST /api/v1/orders`: (status, replayed header, body).
fn post(http: &Client, base: &str, token: &str, key: Option<&str>, body: &Value) -> Answer {
    ordo_tests::api_post(http, &format!("{base}/api/v1/orders"), token, key, body)
}

type Answer = (u16, bool, Value);

/// A client of the store's own database, holding its write lock until [`Lock::release`].
struct Lock {
    child: Child,
    stdin: ChildStdin,
}

impl Lock {
    fn take(p: &Project) -> Lock {
        let mut cmd = match &p.cluster {
            None => {
                let mut c = Command::new("sqlite3");
                c.arg(p.path("data/ordo.db"));
                c
            }
            Some(_) => {
                let mut c = Command::new("psql");
                c.args([PG_URL, "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]);
                c
            }
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("sqlite3 / psql runs");
        let mut stdin = child.stdin.take().expect("stdin");
        let sql = match &p.cluster {
            None => ".timeout 20000\nBEGIN IMMEDIATE;\nSELECT 'locked';\n".to_string(),
            Some((schema, _)) => {
                format!(
                    "BEGIN;\nLOCK TABLE {schema}.kv IN ACCESS EXCLUSIVE MODE;\nSELECT 'locked';\n"
                )
            }
        };
        stdin.write_all(sql.as_bytes()).expect("write");
        stdin.flush().expect("flush");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        while !line.contains("locked") {
            line.clear();
            assert!(
                out.read_line(&mut line).expect("read") > 0,
                "the lock was not taken"
            );
        }
        Lock { child, stdin }
    }

    fn release(mut self) {
        self.stdin.write_all(b"COMMIT;\n").expect("write");
        drop(self.stdin);
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "{status}");
    }
}

/// The distinct batch clocks of the stored keys `keys`: every key of one batch is claimed at
/// the time its batch began (PostgreSQL's `xmin` cannot tell: a savepoint's rows carry their
/// subtransaction's id).
fn key_batches(p: &Project, keys: &[&str]) -> Vec<String> {
    let list = keys
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(",");
    let out = match &p.cluster {
        None => Command::new("sqlite3")
            .arg(p.path("data/ordo.db"))
            .arg(format!(
                "SELECT DISTINCT created_at FROM api_idempotency WHERE key IN ({list})"
            ))
            .output(),
        Some((schema, _)) => Command::new("psql")
            .args([PG_URL, "-A", "-t", "-c"])
            .arg(format!(
                "SELECT DISTINCT created_at FROM {schema}.api_idempotency WHERE key IN ({list})"
            ))
            .output(),
    }
    .expect("query");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Stored keys among `keys`.
fn stored_keys(p: &Project, keys: &[&str]) -> usize {
    let list = keys
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(",");
    let sql = |t: &str| format!("SELECT count(*) FROM {t} WHERE key IN ({list})");
    let out = match &p.cluster {
        None => Command::new("sqlite3")
            .arg(p.path("data/ordo.db"))
            .arg(sql("api_idempotency"))
            .output(),
        Some((schema, _)) => Command::new("psql")
            .args([PG_URL, "-A", "-t", "-c"])
            .arg(sql(&format!("{schema}.api_idempotency")))
            .output(),
    }
    .expect("query");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a count")
}

both!(one_batch_answers_each_request_its_own, |p: &Project| {
    p.ok(&["data", "import", "config/seed.json"]);
    let token = p.json(&["users", "add", "shop", "--role", "integration"])["token"]
        .as_str()
        .expect("token")
        .to_string();
    let viewer = p.json(&["users", "add", "view", "--role", "viewer"])["token"]
        .as_str()
        .expect("token")
        .to_string();
    let http = client();
    let (base, _run) = start(p, &http);

    // Before the batch: B-0 with key k-0 (this also puts the token in the verified cache, so
    // the batch's requests need no store round trip before they queue).
    let first = post(&http, &base, &token, Some("k-0"), &order("B-0"));
    assert_eq!(first.0, 201, "{first:?}");

    let lock = Lock::take(p);
    // Each committer's next batch waits on the lock with an opener alone in it (SQLite has
    // one committer, PostgreSQL `PG_COMMITTERS` = 3; on SQLite the later openers queue with
    // the cases) ...
    let openers: Vec<_> = (0..3)
        .map(|i| {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            let t = std::thread::spawn(move || {
                let (key, id) = (format!("k-open-{i}"), format!("B-open-{i}"));
                post(&http, &base, &token, Some(&key), &order(&id))
            });
            std::thread::sleep(Duration::from_millis(400));
            t
        })
        .collect();
    // ... and these queue meanwhile: the batch after it holds them all.
    let mut bad = order("B-bad");
    bad["colour"] = json!("red");
    let cases: Vec<(&str, Option<&str>, Value)> = vec![
        ("valid 1", Some("k-1"), order("B-1")),
        ("valid 2", Some("k-2"), order("B-2")),
        ("invalid", Some("k-bad"), bad),
        ("duplicate of B-0", None, order("B-0")),
        ("replay of k-0", Some("k-0"), order("B-0")),
        ("k-0 with another body", Some("k-0"), order("B-other")),
        ("k-3 once", Some("k-3"), order("B-3")),
        ("k-3 twice", Some("k-3"), order("B-3")),
    ];
    let threads: Vec<_> = cases
        .iter()
        .map(|(_, key, body)| {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            let (key, body) = (key.map(str::to_string), body.clone());
            std::thread::spawn(move || post(&http, &base, &token, key.as_deref(), &body))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    lock.release();
    for t in openers {
        let opened = t.join().expect("opener");
        assert_eq!(opened.0, 201, "{opened:?}");
    }
    let answers: Vec<Answer> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    let of = |name: &str| {
        let i = cases.iter().position(|c| c.0 == name).expect("case");
        answers[i].clone()
    };
    let code = |a: &Answer| {
        a.2["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };

    for name in ["valid 1", "valid 2"] {
        let a = of(name);
        assert_eq!((a.0, a.1), (201, false), "{name}: {a:?}");
        assert_eq!(a.2["accepted"].as_array().map(Vec::len), Some(1), "{a:?}");
    }
    let a = of("invalid");
    assert_eq!((a.0, code(&a)), (422, "invalid".into()), "{a:?}");
    assert_eq!(a.2["error"]["location"], "/colour", "{a:?}");
    let a = of("duplicate of B-0");
    assert_eq!((a.0, code(&a)), (409, "conflict".into()), "{a:?}");
    let a = of("replay of k-0");
    assert_eq!((a.0, a.1, &a.2), (201, true, &first.2), "{a:?}");
    let a = of("k-0 with another body");
    assert_eq!((a.0, code(&a)), (409, "conflict".into()), "{a:?}");
    // The same key twice in one batch: one books, the other replays its answer.
    let (k3a, k3b) = (of("k-3 once"), of("k-3 twice"));
    assert_eq!((k3a.0, k3b.0), (201, 201), "{k3a:?} {k3b:?}");
    assert_eq!(k3a.2, k3b.2);
    assert!(k3a.1 ^ k3b.1, "exactly one is the replay: {k3a:?} {k3b:?}");

    // One batch held every booking of these requests.
    let batches = key_batches(p, &["k-1", "k-2", "k-3"]);
    assert_eq!(batches.len(), 1, "one batch: {batches:?}");
    let opener_batch = key_batches(p, &["k-open-0"]);
    assert_ne!(
        opener_batch, batches,
        "the opener committed in a batch of its own"
    );

    // The store: each valid order once, nothing of the failed ones, no key of a failure.
    for (id, want) in [
        ("B-0", 200),
        ("B-open-0", 200),
        ("B-open-2", 200),
        ("B-1", 200),
        ("B-2", 200),
        ("B-3", 200),
        ("B-bad", 404),
        ("B-other", 404),
    ] {
        let r = http
            .get(format!("{base}/api/v1/orders/{id}"))
            .bearer_auth(&viewer)
            .send()
            .expect("GET");
        assert_eq!(r.status().as_u16(), want, "{id}");
    }
    let v: Value = http
        .get(format!("{base}/api/v1/orders/B-3"))
        .bearer_auth(&viewer)
        .send()
        .and_then(|r| r.json())
        .expect("GET B-3");
    assert_eq!(
        v["instances"].as_array().map(Vec::len),
        Some(1),
        "one instance: {v}"
    );
    assert_eq!(stored_keys(p, &["k-0", "k-open-0", "k-1", "k-2", "k-3"]), 5);
    assert_eq!(stored_keys(p, &["k-bad"]), 0, "the invalid request's key");
    // So the same key with a good body books now.
    let a = post(&http, &base, &token, Some("k-bad"), &order("B-fixed"));
    assert_eq!((a.0, a.1), (201, false), "{a:?}");
});

both!(a_disabled_user_is_refused_in_the_batch, |p: &Project| {
    p.ok(&["data", "import", "config/seed.json"]);
    let token = p.json(&["users", "add", "shop", "--role", "integration"])["token"]
        .as_str()
        .expect("token")
        .to_string();
    let http = client();
    let (base, _run) = start(p, &http);
    let a = post(&http, &base, &token, None, &order("D-1"));
    assert_eq!(a.0, 201, "{a:?}");
    // The token is in the process's cache now; disabling the user in the store (another
    // process: the CLI) must still refuse its next request at once.
    p.ok(&["users", "disable", "shop"]);
    let a = post(&http, &base, &token, None, &order("D-2"));
    assert_eq!(a.0, 401, "{a:?}");
    assert_eq!(a.2["error"]["code"], "unauthenticated", "{a:?}");
    let r = http
        .get(format!("{base}/api/v1/orders/D-2"))
        .bearer_auth(&token)
        .send()
        .expect("GET");
    assert_eq!(r.status().as_u16(), 401);
});

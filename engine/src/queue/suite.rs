//! The queue test suite, run against every backend (Quickwit style): [`queue_suite!`] expands
//! one `#[tokio::test]` per case below into a module per backend.
//!
//! `$make` is an async expression yielding `Option<Arc<dyn QueueFactory>>`; `None` skips the
//! test (the service policy in `crate::testing` printed why, or failed it under CI=true). A
//! factory opens queue objects over one durable queue private to the test (a temp SQLite file,
//! or a unique AMQP prefix), so a case can close one and open another (new connection).

use super::amqp::AmqpQueue;
use super::sqlite::SqliteQueue;
use super::{Delivery, Envelope, Queue, QueueError};
use crate::store::Store;
use crate::store::sqlite::{Durability, SqliteStore};
use crate::testing;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Lease of the embedded queue: an unacked message comes back after this.
const VISIBILITY: Duration = Duration::from_secs(1);
/// Delay used by the delayed publish / nack cases.
const DELAY: Duration = Duration::from_secs(1);
/// Generous upper bound for anything that should happen "soon" (behaviour, not performance).
const PATIENCE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Embedded,
    Amqp,
}

#[async_trait]
pub(crate) trait QueueFactory: Send + Sync {
    fn kind(&self) -> Kind;
    /// A new queue object over the test's durable queue (embedded: the file reopened; AMQP: a
    /// new connection). `Queue::close` on it closes what it opened.
    async fn open(&self) -> Arc<dyn Queue>;
    /// Closes everything opened and deletes the test's queue (AMQP topology).
    async fn cleanup(&self);
}

/// Runs one case; cleans up whether the case passed or panicked.
pub(crate) async fn run_case<F, Fut>(factory: Option<Arc<dyn QueueFactory>>, case: F)
where
    F: FnOnce(Arc<dyn QueueFactory>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(f) = factory else { return };
    let outcome = tokio::spawn(case(f.clone())).await;
    f.cleanup().await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(p) => std::panic::resume_unwind(p),
            Err(e) => panic!("test task failed: {e}"),
        }
    }
}

macro_rules! queue_suite {
    ($modname:ident, $make:expr) => {
        mod $modname {
            queue_suite!(@cases $make;
                publish_receive_ack,
                unacked_is_redelivered,
                nack_with_delay_comes_back_later,
                publish_with_delay,
                nack_without_delay_dead_letters,
                ids_and_bodies_preserved,
                batch_receive_up_to_max,
                durable_across_reopen,
                receive_on_empty_queue_waits,
                a_queue_that_never_receives_holds_no_messages,
            );
        }
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::run_case($make.await, super::$case).await;
            }
        )*
    };
}

// ---- embedded -----------------------------------------------------------------------------------

/// The embedded queue plus the store it lives in, so `close` really closes the file.
struct EmbeddedQueue {
    store: SqliteStore,
    queue: SqliteQueue,
}

#[async_trait]
impl Queue for EmbeddedQueue {
    async fn publish(&self, msgs: &[Envelope], delay: Duration) -> Result<(), QueueError> {
        self.queue.publish(msgs, delay).await
    }
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, QueueError> {
        self.queue.receive(max, wait).await
    }
    async fn ack(&self, deliveries: &[Delivery]) -> Result<(), QueueError> {
        self.queue.ack(deliveries).await
    }
    async fn nack(
        &self,
        delivery: &Delivery,
        requeue_after: Option<Duration>,
    ) -> Result<(), QueueError> {
        self.queue.nack(delivery, requeue_after).await
    }
    async fn dead_letters(&self, max: usize) -> Result<Vec<Envelope>, QueueError> {
        self.queue.dead_letters(max).await
    }
    async fn close(&self) {
        self.queue.close().await;
        self.store.close().await;
    }
}

struct EmbeddedFactory {
    _dir: testing::TempDir,
    path: PathBuf,
    opened: Mutex<Vec<Arc<dyn Queue>>>,
}

#[async_trait]
impl QueueFactory for EmbeddedFactory {
    fn kind(&self) -> Kind {
        Kind::Embedded
    }

    async fn open(&self) -> Arc<dyn Queue> {
        let store = SqliteStore::open(&self.path, Durability::Normal)
            .await
            .expect("open SQLite store");
        let queue = SqliteQueue::new(&store, VISIBILITY);
        let q: Arc<dyn Queue> = Arc::new(EmbeddedQueue { store, queue });
        self.opened.lock().unwrap().push(q.clone());
        q
    }

    async fn cleanup(&self) {
        let opened = std::mem::take(&mut *self.opened.lock().unwrap());
        for q in opened {
            q.close().await;
        }
    }
}

async fn embedded() -> Option<Arc<dyn QueueFactory>> {
    let dir = testing::TempDir::new("ordo_queue");
    let path = dir.path().join("ordo.db");
    Some(Arc::new(EmbeddedFactory {
        _dir: dir,
        path,
        opened: Mutex::new(Vec::new()),
    }))
}

// ---- AMQP ---------------------------------------------------------------------------------------

struct AmqpFactory {
    url: String,
    prefix: String,
    opened: Mutex<Vec<Arc<AmqpQueue>>>,
}

impl AmqpFactory {
    async fn connect(&self) -> Result<Arc<AmqpQueue>, QueueError> {
        let q = Arc::new(
            AmqpQueue::connect(&self.url, &self.prefix, 50, Duration::from_secs(3)).await?,
        );
        self.opened.lock().unwrap().push(q.clone());
        Ok(q)
    }
}

#[async_trait]
impl QueueFactory for AmqpFactory {
    fn kind(&self) -> Kind {
        Kind::Amqp
    }

    async fn open(&self) -> Arc<dyn Queue> {
        self.connect().await.expect("connect to RabbitMQ")
    }

    async fn cleanup(&self) {
        // Newest first: the queue objects a case used last know the delay queues they declared.
        let opened = std::mem::take(&mut *self.opened.lock().unwrap());
        for q in opened.iter().rev() {
            if let Err(e) = q.delete_topology().await {
                eprintln!(
                    "warning: could not delete AMQP topology {}: {e}",
                    self.prefix
                );
            }
            q.close().await;
        }
    }
}

async fn amqp() -> Option<Arc<dyn QueueFactory>> {
    let url = testing::amqp_url();
    if let Err(e) = testing::probe(&url, 5672).await {
        testing::service_unavailable("RabbitMQ", &url, &e);
        return None;
    }
    let f = AmqpFactory {
        url: url.clone(),
        prefix: testing::unique_name("ordo_test"),
        opened: Mutex::new(Vec::new()),
    };
    // Proves the broker speaks AMQP and accepts the credentials. Closed at once (a live
    // consumer would take messages from the case's queue objects).
    match f.connect().await {
        Ok(q) => q.close().await,
        Err(e) => {
            testing::service_unavailable("RabbitMQ", &url, &e);
            return None;
        }
    }
    Some(Arc::new(f))
}

queue_suite!(embedded, super::embedded());
queue_suite!(amqp, super::amqp());

// ---- helpers ------------------------------------------------------------------------------------

fn env(id: &str, body: &[u8]) -> Envelope {
    Envelope {
        msg_id: id.into(),
        body: body.to_vec(),
    }
}

fn msg_ids(ds: &[Delivery]) -> Vec<&str> {
    ds.iter().map(|d| d.msg_id.as_str()).collect()
}

/// Receives until `n` messages arrived or `within` passed.
async fn receive_n(q: &Arc<dyn Queue>, n: usize, within: Duration) -> Vec<Delivery> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    while got.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        got.extend(q.receive(n - got.len(), left).await.expect("receive"));
    }
    got
}

/// Asserts nothing is deliverable for `wait` (for the embedded queue: longer than a lease, so
/// an unacked message would have come back).
async fn assert_empty(q: &Arc<dyn Queue>, why: &str) {
    let got = q
        .receive(10, VISIBILITY + Duration::from_millis(500))
        .await
        .expect("receive");
    assert!(got.is_empty(), "{why}: got {:?}", msg_ids(&got));
}

/// Dead letters, polling a little: the broker dead-letters asynchronously.
async fn dead_letters_eventually(q: &Arc<dyn Queue>, n: usize) -> Vec<Envelope> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let dead = q.dead_letters(100).await.expect("dead_letters");
        if dead.len() >= n || Instant::now() >= deadline {
            return dead;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits for a redelivery `delay` after `since`; asserts it came no earlier than 0.8 x delay.
async fn assert_back_after(
    q: &Arc<dyn Queue>,
    since: Instant,
    delay: Duration,
    id: &str,
) -> Delivery {
    let early = q.receive(10, delay.mul_f64(0.5)).await.expect("receive");
    assert!(
        early.is_empty(),
        "nothing before the delay, got {:?}",
        msg_ids(&early)
    );
    let got = receive_n(q, 1, delay + PATIENCE).await;
    let elapsed = since.elapsed();
    assert_eq!(msg_ids(&got), [id], "delivered after the delay");
    assert!(
        elapsed >= delay.mul_f64(0.8),
        "came back after {elapsed:?}, delay {delay:?}"
    );
    assert!(
        elapsed <= delay + PATIENCE,
        "came back after {elapsed:?}, delay {delay:?}"
    );
    got.into_iter().next().unwrap()
}

// ---- cases --------------------------------------------------------------------------------------

async fn publish_receive_ack(f: Arc<dyn QueueFactory>) {
    let q = f.open().await;
    let sent = [env("a", b"first"), env("b", b"second"), env("c", b"third")];
    q.publish(&sent, Duration::ZERO).await.unwrap();
    let got = receive_n(&q, 3, PATIENCE).await;
    assert_eq!(msg_ids(&got), ["a", "b", "c"], "FIFO");
    for (d, e) in got.iter().zip(&sent) {
        assert_eq!(d.body, e.body);
        assert!(!d.redelivered, "first delivery");
    }
    q.ack(&got).await.unwrap();
    q.ack(&[]).await.unwrap();
    assert_empty(&q, "acked messages are gone").await;
    q.close().await;

    let q2 = f.open().await;
    assert_empty(&q2, "acked messages are gone for a new consumer too").await;
}

async fn unacked_is_redelivered(f: Arc<dyn QueueFactory>) {
    let q = f.open().await;
    q.publish(&[env("m1", b"\x00body\xff")], Duration::ZERO)
        .await
        .unwrap();
    let first = receive_n(&q, 1, PATIENCE).await;
    assert_eq!(msg_ids(&first), ["m1"]);
    assert!(!first[0].redelivered);
    let leased_at = Instant::now();

    let q = match f.kind() {
        Kind::Embedded => {
            // Leased: invisible until the lease runs out, then delivered again.
            let early = q.receive(10, VISIBILITY / 2).await.unwrap();
            assert!(
                early.is_empty(),
                "leased message delivered twice: {:?}",
                msg_ids(&early)
            );
            q
        }
        Kind::Amqp => {
            // The consumer dies without acking: the broker hands the message to the next one.
            q.close().await;
            f.open().await
        }
    };
    let again = receive_n(&q, 1, PATIENCE).await;
    assert_eq!(msg_ids(&again), ["m1"], "at least once");
    assert_eq!(again[0].body, b"\x00body\xff");
    assert!(again[0].redelivered, "marked as redelivered");
    if f.kind() == Kind::Embedded {
        assert!(
            leased_at.elapsed() >= VISIBILITY.mul_f64(0.8),
            "not before the lease ran out"
        );
    }
    q.ack(&again).await.unwrap();
    assert_empty(&q, "acked after redelivery").await;
}

async fn nack_with_delay_comes_back_later(f: Arc<dyn QueueFactory>) {
    let q = f.open().await;
    q.publish(&[env("retry-me", b"payload")], Duration::ZERO)
        .await
        .unwrap();
    let got = receive_n(&q, 1, PATIENCE).await;
    assert_eq!(msg_ids(&got), ["retry-me"]);
    let t0 = Instant::now();
    q.nack(&got[0], Some(DELAY)).await.unwrap();
    let back = assert_back_after(&q, t0, DELAY, "retry-me").await;
    assert_eq!(back.body, b"payload");
    q.ack(std::slice::from_ref(&back)).await.unwrap();
    assert_empty(&q, "acked after the retry").await;
    assert!(
        q.dead_letters(10).await.unwrap().is_empty(),
        "a delayed nack is not a dead letter"
    );
}

async fn publish_with_delay(f: Arc<dyn QueueFactory>) {
    let q = f.open().await;
    let t0 = Instant::now();
    q.publish(&[env("later", b"x")], DELAY).await.unwrap();
    let got = assert_back_after(&q, t0, DELAY, "later").await;
    assert!(!got.redelivered);
    q.ack(std::slice::from_ref(&got)).await.unwrap();
    assert_empty(&q, "acked").await;
}

async fn nack_without_delay_dead_letters(f: Arc<dyn QueueFactory>) {
    let q = f.open().await;
    q.publish(
        &[env("poison", b"\xde\xad"), env("fine", b"ok")],
        Duration::ZERO,
    )
    .await
    .unwrap();
    let got = receive_n(&q, 2, PATIENCE).await;
    assert_eq!(msg_ids(&got), ["poison", "fine"]);
    q.nack(&got[0], None).await.unwrap();
    q.ack(&got[1..]).await.unwrap();

    let dead = dead_letters_eventually(&q, 1).await;
    assert_eq!(dead, vec![env("poison", b"\xde\xad")]);
    assert_empty(&q, "a dead letter is not redelivered").await;
    // dead_letters peeks: the dead letter is still there.
    assert_eq!(
        q.dead_letters(10).await.unwrap(),
        vec![env("poison", b"\xde\xad")]
    );
    assert_eq!(q.dead_letters(0).await.unwrap(), vec![]);
}

async fn ids_and_bodies_preserved(f: Arc<dyn QueueFactory>) {
    let q = f.open().await;
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    let mut big = Vec::with_capacity(256 * 1024);
    let mut x: u32 = 0x1234_5678;
    while big.len() < 256 * 1024 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        big.extend_from_slice(&x.to_le_bytes());
    }
    let long_id = "x".repeat(200);
    let sent = vec![
        env("0190f3a2c4b87d0e9a1b2c3d4e5f6071", b"{\"json\": true}"),
        env("bytes", &all_bytes),
        env("invalid-utf8", b"\xff\xfe\x00\xc3\x28"),
        env("empty", b""),
        env("ordre-é-日本-🚀", "unicode body: ∑ 12,50 €".as_bytes()),
        env(&long_id, &big),
    ];
    q.publish(&sent, Duration::ZERO).await.unwrap();
    let got = receive_n(&q, sent.len(), PATIENCE).await;
    assert_eq!(got.len(), sent.len());
    let got_map: BTreeMap<&str, &[u8]> = got
        .iter()
        .map(|d| (d.msg_id.as_str(), d.body.as_slice()))
        .collect();
    let sent_map: BTreeMap<&str, &[u8]> = sent
        .iter()
        .map(|e| (e.msg_id.as_str(), e.body.as_slice()))
        .collect();
    assert_eq!(got_map.len(), sent.len(), "distinct ids");
    for (id, body) in &sent_map {
        let b = got_map
            .get(id)
            .unwrap_or_else(|| panic!("message {id} missing"));
        assert!(
            b == body,
            "body of {id} changed ({} bytes, sent {})",
            b.len(),
            body.len()
        );
    }
    q.ack(&got).await.unwrap();
}

async fn batch_receive_up_to_max(f: Arc<dyn QueueFactory>) {
    let q = f.open().await;
    // A queue consumes from its first receive on (a publisher holds no messages): start
    // consuming on the empty queue first, so the broker can push all five before the batch.
    let none = q.receive(1, Duration::from_millis(50)).await.unwrap();
    assert!(none.is_empty(), "the queue starts empty");
    let sent: Vec<Envelope> = (1..=5).map(|i| env(&format!("m{i}"), &[i as u8])).collect();
    q.publish(&sent, Duration::ZERO).await.unwrap();
    // Let the broker push all five to the consumer before asking.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let first = q.receive(3, PATIENCE).await.unwrap();
    assert_eq!(msg_ids(&first), ["m1", "m2", "m3"], "a batch of max = 3");
    let one = q.receive(1, PATIENCE).await.unwrap();
    assert_eq!(msg_ids(&one), ["m4"], "max = 1");
    let rest = q.receive(10, PATIENCE).await.unwrap();
    assert_eq!(
        msg_ids(&rest),
        ["m5"],
        "fewer than max when fewer are there"
    );
    q.ack(&first).await.unwrap();
    q.ack(&one).await.unwrap();
    q.ack(&rest).await.unwrap();
    assert_empty(&q, "all acked").await;
}

async fn durable_across_reopen(f: Arc<dyn QueueFactory>) {
    let q = f.open().await;
    q.publish(&[env("d1", b"one"), env("d2", b"two")], Duration::ZERO)
        .await
        .unwrap();
    q.close().await;
    drop(q);

    let q2 = f.open().await;
    let got = receive_n(&q2, 2, PATIENCE).await;
    assert_eq!(
        msg_ids(&got),
        ["d1", "d2"],
        "published messages survive close and reopen"
    );
    assert_eq!(got[0].body, b"one");
    assert_eq!(got[1].body, b"two");
    q2.ack(&got).await.unwrap();
    q2.close().await;

    let q3 = f.open().await;
    assert_empty(&q3, "acks survive close and reopen").await;
}

async fn receive_on_empty_queue_waits(f: Arc<dyn QueueFactory>) {
    let q = f.open().await;
    let wait = Duration::from_millis(500);
    let t0 = Instant::now();
    let got = q
        .receive(10, wait)
        .await
        .expect("an empty queue is not an error");
    let elapsed = t0.elapsed();
    assert!(got.is_empty());
    assert!(
        elapsed >= wait.mul_f64(0.9),
        "returned after {elapsed:?}, before the wait of {wait:?}"
    );
    assert!(elapsed <= wait + PATIENCE, "returned after {elapsed:?}");
    let got = q.receive(10, Duration::ZERO).await.expect("zero wait");
    assert!(got.is_empty());
}

/// A process that only publishes (a command, a bench's driver) must not hold step messages:
/// every one it publishes reaches the queue object that receives, while the publisher stays
/// open. (A consumer started at connect took its prefetch's share and sat on it.)
async fn a_queue_that_never_receives_holds_no_messages(f: Arc<dyn QueueFactory>) {
    let publisher = f.open().await;
    let worker = f.open().await;
    let sent: Vec<Envelope> = (0..20).map(|i| env(&format!("m{i:02}"), b"x")).collect();
    publisher.publish(&sent, Duration::ZERO).await.unwrap();
    let got = receive_n(&worker, sent.len(), PATIENCE).await;
    assert_eq!(got.len(), sent.len(), "got {:?}", msg_ids(&got));
    worker.ack(&got).await.unwrap();
    worker.close().await;
    publisher.close().await;
}

//! Raw ceilings the benchmarks print their figures beside, measured in the same run on the same
//! machine: bare SQLite commits, bare file writes, bare RabbitMQ publish+confirm+consume.

use ordo::queue::amqp::AmqpQueue;
use ordo::queue::{Envelope, Queue};
use ordo::store::Store;
use ordo::store::sqlite::{Durability, SqliteStore};
use std::path::Path;
use std::time::{Duration, Instant};

/// Bare SQLite: transactions of one insert + one update, committed one by one.
pub async fn sqlite_ceiling(dir: &Path) -> Result<f64, String> {
    let store = SqliteStore::open(&dir.join("ceiling.db"), Durability::Normal)
        .await
        .map_err(|e| e.to_string())?;
    let rate = commit_ceiling(&store, "").await;
    store.close().await;
    rate
}

/// Bare commits of `store` (any backend): 5,000 transactions of one insert + one update each,
/// committed one by one, under keys starting with `prefix`.
pub async fn commit_ceiling(store: &dyn Store, prefix: &str) -> Result<f64, String> {
    let n = 5_000;
    let started = Instant::now();
    commits(store, prefix, n).await?;
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// `n` transactions of one insert + one update each, committed one by one, under keys
/// starting with `prefix` (distinct prefixes never wait on each other's rows).
pub async fn commits(store: &dyn Store, prefix: &str, n: usize) -> Result<(), String> {
    for i in 0..n {
        let mut tx = store.begin().await.map_err(|e| e.to_string())?;
        tx.kv_set(&format!("{prefix}k{i}"), "v")
            .await
            .map_err(|e| e.to_string())?;
        tx.kv_set(&format!("{prefix}counter"), &i.to_string())
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Bare file writes as the outbound dispatcher makes them (temp file + rename, 1 KiB each) in a
/// folder beside the run's outbound folder: on some file systems creating a file costs far more
/// shortly after many were deleted (ext4 without a journal skips recently freed inodes), so the
/// figure belongs next to the run it explains.
pub fn file_ceiling(dir: &Path) -> Result<f64, String> {
    let folder = dir.join("ceiling-files");
    let body = vec![b'x'; 1024];
    let n = 4_000;
    let started = Instant::now();
    for i in 0..n {
        ordo::runtime::write_atomically(&folder, &format!("f{i:05}.json"), &body)
            .map_err(|e| format!("{}: {e}", folder.display()))?;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// Bare RabbitMQ: persistent publish with batched confirms, consumed with manual ack.
pub async fn amqp_ceiling(url: &str) -> Result<f64, String> {
    let prefix = format!("ordo-ceiling-{}", ordo::model::new_id());
    let q = AmqpQueue::connect(url, &prefix, 256, Duration::from_secs(5))
        .await
        .map_err(|e| e.to_string())?;
    let n = 20_000;
    let body = vec![b'x'; 200];
    let started = Instant::now();
    let publisher = async {
        for chunk in 0..(n / 100) {
            let envs: Vec<Envelope> = (0..100)
                .map(|i| Envelope {
                    msg_id: format!("{chunk}-{i}"),
                    body: body.clone(),
                })
                .collect();
            q.publish(&envs, Duration::ZERO)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(())
    };
    let consumer = async {
        let mut got = 0;
        while got < n {
            let ds = q
                .receive(256, Duration::from_secs(5))
                .await
                .map_err(|e| e.to_string())?;
            if ds.is_empty() {
                return Err("ceiling consumer starved".to_string());
            }
            got += ds.len();
            q.ack(&ds).await.map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(())
    };
    let (p, c) = tokio::join!(publisher, consumer);
    p?;
    c?;
    let rate = n as f64 / started.elapsed().as_secs_f64();
    let _ = q.delete_topology().await;
    q.close().await;
    Ok(rate)
}

//! Stock levels per (item, location); cached and buffered like documents (on PostgreSQL only
//! the levels this transaction holds locked; see `transaction.rs`).
//!
//! The trait is part of [`super::Tx`]; its SQL is written once for both backends in `impl_stock_levels!`,
//! expanded for each backend's transaction type by `impl_store_tx!` (see `transaction.rs`).

use super::Result;
use async_trait::async_trait;
use rust_decimal::Decimal;

#[async_trait]
pub trait StockLevels: Send {
    async fn stock_level(&mut self, item: &str, location: &str) -> Result<Decimal>;
    async fn adjust_stock(&mut self, item: &str, location: &str, delta: Decimal)
    -> Result<Decimal>;
    /// Every level at `location` whose item starts with `prefix` (the ledger counters
    /// `credit:<customer>@ledger` that `ordo ledger check` adds up), by item.
    async fn stock_at(&mut self, location: &str, prefix: &str) -> Result<Vec<(String, Decimal)>>;
}

/// The SQL of [`StockLevels`] for one backend's transaction type.
macro_rules! impl_stock_levels {
    ($tx:ident, $db:ty) => {
        impl $tx {
            /// Writes the stock levels this transaction changed.
            async fn flush_stock(&mut self) -> Result<()> {
                let dirty: Vec<(String, String)> = std::mem::take(&mut self.stock_dirty).into_iter().collect();
                for chunk in dirty.chunks(200) {
                    let sql = values_sql(
                        "INSERT INTO stock (item, location, quantity)",
                        chunk.len(),
                        3,
                        " ON CONFLICT (item, location) DO UPDATE SET quantity = excluded.quantity",
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for key in chunk {
                        // A dirty key is always in the cache (adjust_stock put it there); the
                        // cache and the dirty set are cleared together.
                        let level = self.stock.get(key).copied().unwrap_or_default();
                        q = q.bind(key.0.as_str()).bind(key.1.as_str()).bind(qty_param(level));
                    }
                    q.execute(&mut *self.tx).await?;
                }
                Ok(())
            }
        }

        #[async_trait]
        impl StockLevels for $tx {
            async fn stock_level(&mut self, item: &str, location: &str) -> Result<Decimal> {
                // Cached: read before (SQLite), or locked by this transaction (both), its
                // change perhaps not written yet.
                if let Some(q) = self.stock.get(&(item.to_string(), location.to_string())) {
                    return Ok(*q);
                }
                let row = sqlx::query("SELECT quantity FROM stock WHERE item = $1 AND location = $2")
                    .bind(item)
                    .bind(location)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                let q = match row {
                    None => Decimal::ZERO,
                    Some(r) => qty_get(&r, "quantity")?,
                };
                // Under the hot-rows lock (PostgreSQL) no other transaction can change a level
                // before this one ends: every stock write is made holding that lock.
                if CACHE_READS || (HOT_LOCK.is_some() && self.hot_depth.is_some()) {
                    self.stock.insert((item.to_string(), location.to_string()), q);
                }
                Ok(q)
            }

            async fn stock_at(&mut self, location: &str, prefix: &str) -> Result<Vec<(String, Decimal)>> {
                // Buffered levels (SQLite) must be in the table before it is read there.
                self.flush_writes().await?;
                let rows = sqlx::query("SELECT item, quantity FROM stock WHERE location = $1 ORDER BY item")
                    .bind(location)
                    .fetch_all(&mut *self.tx)
                    .await?;
                let mut out = Vec::new();
                for r in &rows {
                    let item: String = r.try_get("item")?;
                    if item.starts_with(prefix) {
                        out.push((item, qty_get(r, "quantity")?));
                    }
                }
                Ok(out)
            }

            async fn adjust_stock(&mut self, item: &str, location: &str, delta: Decimal) -> Result<Decimal> {
                // Read-modify-write under the row lock (FOR UPDATE on PG, the single writer on
                // SQLite); the arithmetic happens in Decimal, not in SQL, so SQLite never sees REAL.
                // A level in the cache is one this transaction holds (PG: locked by an earlier
                // adjustment, or read while holding the hot-rows lock that every stock write
                // takes; `stock_level` caches other reads only on SQLite), so it is current. The level is written back with the other buffered writes: under the
                // lock nobody else can read it for update meanwhile. A row that does not exist
                // yet cannot be locked; the hot-rows lock (held until commit) keeps a second
                // transaction from creating it too.
                let key = (item.to_string(), location.to_string());
                let current = match self.stock.get(&key) {
                    Some(q) => *q,
                    None => {
                        self.take_hot_lock().await?;
                        let sql = format!("SELECT quantity FROM stock WHERE item = $1 AND location = $2{FOR_UPDATE}");
                        let row = sqlx::query(AssertSqlSafe(sql))
                            .bind(item)
                            .bind(location)
                            .fetch_optional(&mut *self.tx)
                            .await?;
                        match &row {
                            None => Decimal::ZERO,
                            Some(r) => qty_get(r, "quantity")?,
                        }
                    }
                };
                let next = (current + delta).normalize();
                self.stock.insert(key.clone(), next);
                self.stock_dirty.insert(key);
                Ok(next)
            }
        }
    };
}
pub(crate) use impl_stock_levels;

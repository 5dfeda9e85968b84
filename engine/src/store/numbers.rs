//! Gapless number series (invoice numbers, SSCCs, control numbers): the row stays locked (or,
//! on SQLite, the value buffered) until the step commits, so a rolled-back step gives its
//! number back.
//!
//! The trait is part of [`super::Tx`]; its SQL is written once for both backends in `impl_number_series!`,
//! expanded for each backend's transaction type by `impl_store_tx!` (see `transaction.rs`).

use super::Result;
use async_trait::async_trait;

#[async_trait]
pub trait NumberSeries: Send {
    async fn next_number(&mut self, series: &str) -> Result<i64>;
    async fn current_number(&mut self, series: &str) -> Result<i64>;
}

/// The SQL of [`NumberSeries`] for one backend's transaction type.
macro_rules! impl_number_series {
    ($tx:ident, $db:ty) => {
        impl $tx {
            /// Writes the last value of each number series this transaction used.
            async fn flush_series(&mut self) -> Result<()> {
                let mut used: Vec<(String, i64)> = Vec::new();
                // In name order, as every flush writes its rows (see `transaction.rs`).
                for (name, (value, dirty)) in self.series.iter_mut() {
                    if *dirty {
                        used.push((name.clone(), *value));
                        *dirty = false;
                    }
                }
                used.sort_unstable();
                for chunk in used.chunks(200) {
                    let sql = values_sql(
                        "INSERT INTO number_series (series, last_value)",
                        chunk.len(),
                        2,
                        " ON CONFLICT (series) DO UPDATE SET last_value = excluded.last_value",
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for (name, value) in chunk {
                        q = q.bind(name.as_str()).bind(*value);
                    }
                    q.execute(&mut *self.tx).await?;
                }
                Ok(())
            }
        }

        #[async_trait]
        impl NumberSeries for $tx {
            async fn next_number(&mut self, series: &str) -> Result<i64> {
                // Cached: this transaction holds the row (locked on PG by its first increment;
                // SQLite's single writer), so the next value is the cached one plus one, written
                // back with the other buffered writes.
                if let Some((value, dirty)) = self.series.get_mut(series) {
                    *value = value.checked_add(1).ok_or_else(|| StoreError::Corrupt(format!("number series {series} overflows")))?;
                    *dirty = true;
                    return Ok(*value);
                }
                // The upsert locks the series row until commit: concurrent steps queue behind it and a
                // rolled-back step releases its number, so the series stays gapless.
                self.take_hot_lock().await?;
                let row = sqlx::query(
                    "INSERT INTO number_series (series, last_value) VALUES ($1, 1) \
                     ON CONFLICT (series) DO UPDATE SET last_value = number_series.last_value + 1 RETURNING last_value",
                )
                .bind(series)
                .fetch_one(&mut *self.tx)
                .await?;
                let value: i64 = row.try_get("last_value")?;
                self.series.insert(series.to_string(), (value, false));
                Ok(value)
            }

            async fn current_number(&mut self, series: &str) -> Result<i64> {
                if let Some((value, _)) = self.series.get(series) {
                    return Ok(*value);
                }
                let row = sqlx::query("SELECT last_value FROM number_series WHERE series = $1")
                    .bind(series)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                Ok(match row {
                    Some(r) => r.try_get("last_value")?,
                    None => 0,
                })
            }
        }
    };
}
pub(crate) use impl_number_series;

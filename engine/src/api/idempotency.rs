//! `Idempotency-Key` on the `POST` routes that create something. The key is claimed in the
//! transaction of the effect (primary key (user, key) in `api_idempotency`) together with a
//! hash of the request, and the response is stored in that same transaction: the effect and
//! its key commit together or not at all. A repeat with the same request gets the first
//! response and creates nothing; with another request, `409`. Keys expire after
//! `http.idempotency_ttl_secs` (24 h by default); an expired key is claimed afresh.
//! An effect that fails (an error response) rolls back with its key: a retry runs again.

use super::error::{ApiError, Code};
use crate::store::Tx;
use sha2::Digest;

/// A key given with a request: who gave it, the key, and the request's fingerprint.
#[derive(Debug, Clone)]
pub struct Key {
    pub owner: String,
    pub key: String,
    pub request_hash: String,
}

impl Key {
    /// From the header value; `None` without one. Keys are 1 to 200 printable ASCII characters.
    pub fn from_header(
        owner: &str,
        header: Option<&axum::http::HeaderValue>,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Option<Key>, ApiError> {
        let Some(h) = header else { return Ok(None) };
        let key = h
            .to_str()
            .ok()
            .filter(|k| {
                !k.is_empty() && k.len() <= 200 && k.bytes().all(|b| (0x21..0x7f).contains(&b))
            })
            .ok_or_else(|| {
                ApiError::new(
                    Code::BadRequest,
                    "Idempotency-Key: 1 to 200 printable ASCII characters",
                )
                .at("header:Idempotency-Key")
            })?;
        let mut h = sha2::Sha256::new();
        h.update(method.as_bytes());
        h.update([0]);
        h.update(path.as_bytes());
        h.update([0]);
        h.update(body);
        let request_hash = h
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        Ok(Some(Key {
            owner: owner.to_string(),
            key: key.to_string(),
            request_hash,
        }))
    }
}

/// What a claim found.
pub enum Claim {
    /// Claimed now: do the work, then [`finish`] in the same transaction.
    Fresh,
    /// Given before with this very request: its response (status, JSON text).
    Replay(u16, String),
}

/// Claims `key` in `tx` (see the module docs); `409` when it was used with another request.
pub async fn claim(tx: &mut dyn Tx, key: &Key, now: i64, ttl_ms: i64) -> Result<Claim, ApiError> {
    let mut prev = tx
        .idem_claim(&key.owner, &key.key, &key.request_hash, now)
        .await?;
    if let Some(p) = &prev
        && p.created_at < now.saturating_sub(ttl_ms)
    {
        tx.idem_forget(&key.owner, &key.key).await?;
        prev = tx
            .idem_claim(&key.owner, &key.key, &key.request_hash, now)
            .await?;
    }
    match prev {
        None => Ok(Claim::Fresh),
        Some(p) if p.request_hash != key.request_hash => Err(ApiError::new(
            Code::Conflict,
            "Idempotency-Key was used before with another request",
        )
        .at("header:Idempotency-Key")),
        Some(p) => Ok(Claim::Replay(p.status, p.response)),
    }
}

/// Stores the response of a freshly claimed key (same transaction as the effect).
pub async fn finish(tx: &mut dyn Tx, key: &Key, status: u16, body: &str) -> Result<(), ApiError> {
    tx.idem_finish(&key.owner, &key.key, status, body).await?;
    Ok(())
}

//! Helpers shared by tests: external-service policy (PostgreSQL, RabbitMQ), unique names and
//! temporary directories.
//!
//! Service policy: a test that needs a service calls [`service_unavailable`] (or
//! [`require_service`]) when it cannot reach it. With `CI=true` that fails the test, so CI can
//! never go green without really running it; elsewhere the test prints
//! `skipping: <service> unreachable at <url> (<reason>)` to stderr and returns.

use std::collections::HashMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

pub(crate) const POSTGRES_ENV: &str = "ORDO_TEST_POSTGRES";
pub(crate) const POSTGRES_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";
pub(crate) const AMQP_ENV: &str = "ORDO_TEST_AMQP";
pub(crate) const AMQP_DEFAULT: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// The PostgreSQL URL for tests: env `ORDO_TEST_POSTGRES` or the local default.
pub(crate) fn postgres_url() -> String {
    std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| POSTGRES_DEFAULT.into())
}

/// The RabbitMQ URL for tests: env `ORDO_TEST_AMQP` or the local default.
pub(crate) fn amqp_url() -> String {
    std::env::var(AMQP_ENV)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| AMQP_DEFAULT.into())
}

/// True when running in CI (`CI=true`, as set by GitHub Actions, GitLab, ...).
pub(crate) fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v.eq_ignore_ascii_case("true") || v == "1")
        .unwrap_or(false)
}

/// Applies the service policy to an unreachable service: panics under `CI=true`, otherwise
/// prints the skip line. The caller returns (skips) afterwards.
#[track_caller]
pub(crate) fn service_unavailable(service: &str, url: &str, reason: &dyn Display) {
    let url = redact(url);
    if in_ci() {
        panic!("{service} unreachable at {url} ({reason}); CI=true requires this service");
    }
    eprintln!("skipping: {service} unreachable at {url} ({reason})");
}

/// `Some(value)` when the service answered; otherwise applies [`service_unavailable`].
#[track_caller]
pub(crate) fn require_service<T, E: Display>(
    service: &str,
    url: &str,
    result: Result<T, E>,
) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            service_unavailable(service, url, &e);
            None
        }
    }
}

/// Quick TCP reachability check of a service URL (`scheme://[user[:pass]@]host[:port]/...`),
/// remembered per URL so a missing service costs one short timeout per test binary, not a
/// full reconnect loop per test.
pub(crate) async fn probe(url: &str, default_port: u16) -> Result<(), String> {
    static SEEN: OnceLock<Mutex<HashMap<String, Result<(), String>>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    if let Some(r) = seen.lock().unwrap_or_else(|e| e.into_inner()).get(url) {
        return r.clone();
    }
    let result = match host_port(url, default_port) {
        None => Err(format!("cannot parse host and port from '{}'", redact(url))),
        Some(addr) => match tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect(&addr),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("{addr}: {e}")),
            Err(_) => Err(format!("{addr}: connect timed out")),
        },
    };
    seen.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(url.to_string(), result.clone());
    result
}

fn host_port(url: &str, default_port: u16) -> Option<String> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?']).next()?;
    let hostport = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    if hostport.is_empty() {
        return None;
    }
    // `[::1]:5432`, `host:5432`, `host`
    let has_port = match hostport.rfind(':') {
        Some(i) => !hostport[i..].contains(']'),
        None => false,
    };
    Some(if has_port {
        hostport.to_string()
    } else {
        format!("{hostport}:{default_port}")
    })
}

/// The URL with any password replaced by `***` (for messages).
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// A name unique across concurrent tests and test processes (lowercase, `[a-z0-9_]`), usable
/// as a schema, queue prefix or file name.
pub(crate) fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos:x}", std::process::id())
}

/// A directory under the system temp dir, removed (with its contents) on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(prefix: &str) -> Self {
        let path = std::env::temp_dir().join(unique_name(prefix));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

mod tests {
    use super::*;

    #[test]
    fn parses_host_and_port() {
        assert_eq!(
            host_port("postgres://postgres@127.0.0.1:5432/test", 1).as_deref(),
            Some("127.0.0.1:5432")
        );
        assert_eq!(
            host_port("amqp://guest:guest@localhost/%2f", 5672).as_deref(),
            Some("localhost:5672")
        );
        assert_eq!(
            host_port("postgres://[::1]:6000/x?sslmode=disable", 1).as_deref(),
            Some("[::1]:6000")
        );
        assert_eq!(
            host_port("postgres://[::1]/x", 5432).as_deref(),
            Some("[::1]:5432")
        );
        assert_eq!(host_port("postgres:///x", 5432), None);
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("amqp://guest:guest@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
    }

    #[test]
    fn unique_names_differ() {
        assert_ne!(unique_name("t"), unique_name("t"));
    }
}

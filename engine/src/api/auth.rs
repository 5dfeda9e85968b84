//! Users, tokens and roles: who a request (or a local command) acts as, and what it may do.
//!
//! A token is `ordo_<token id>_<secret>`: the id finds the user's row, the secret is checked
//! against its argon2 hash (a salted hash; the comparison of the derived hashes is constant
//! time). The store keeps only the hash, so a token is shown once, when it is made. A verified
//! token is remembered in memory by its SHA-256 together with the user's row it matched, so
//! later requests skip argon2; the user's row is still read on every request (by a batched
//! `POST` in its batch's transaction, `api::batch`), so disabling a user or rotating a token
//! takes effect at once, in every process of a cluster.
//!
//! [`may_decide`] is the one rule for human tasks: the API and `ordo approve`/`reject` both
//! call it.

use crate::store::Tx;
use crate::store::service::UserRow;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::Digest;
use std::collections::HashMap;
use std::sync::Mutex;

/// Every role a user may hold.
pub const ROLES: &[&str] = &[
    "admin",
    "sales",
    "sales-manager",
    "sales-director",
    "finance",
    "edi-admin",
    "viewer",
    "integration",
];

/// Who acts: an API user, the OS user of a local command, or the engine itself.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `user:NAME`, `os:NAME` or `system`.
    pub id: String,
    /// `api`, `cli` or `channel`.
    pub via: &'static str,
    pub roles: Vec<String>,
}

impl Actor {
    /// An API user, as its row says.
    pub fn api_user(user: &UserRow) -> Actor {
        Actor {
            id: format!("user:{}", user.name),
            via: "api",
            roles: user.roles.split(',').map(str::to_string).collect(),
        }
    }

    pub fn has_any(&self, roles: &[&str]) -> bool {
        self.roles
            .iter()
            .any(|r| r == "admin" || roles.contains(&r.as_str()))
    }
}

/// The one rule for human tasks: a task whose workflow step names `role:` may be decided by
/// a holder of that role, or by an admin.
pub fn may_decide(roles: &[String], task_role: &str) -> bool {
    roles.iter().any(|r| r == "admin" || r == task_role)
}

/// Checks a role list given by a person: known names, no duplicates, at least one.
pub fn parse_roles(text: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for r in text.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        if !ROLES.contains(&r) {
            return Err(format!(
                "unknown role '{}' (roles: {})",
                ordo_contract::excerpt(r, 40),
                ROLES.join(", ")
            ));
        }
        if !out.iter().any(|o| o == r) {
            out.push(r.to_string());
        }
    }
    if out.is_empty() {
        return Err("at least one role is needed".into());
    }
    Ok(out)
}

/// A user name: 1 to 64 characters of letters, digits, `.`, `_`, `-`, `@`.
pub fn check_user_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "user name '{}': 1 to 64 of a-z, A-Z, 0-9, '.', '_', '-', '@'",
            ordo_contract::excerpt(name, 40)
        ))
    }
}

/// A new token: (the token to show once, its id, the argon2 hash of its secret).
pub fn new_token() -> Result<(String, String, String), String> {
    use base64::Engine as _;
    use rand::RngCore;
    let mut id = [0u8; 9];
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut id);
    rand::rng().fill_bytes(&mut secret);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // '_' separates the parts, so the parts use hex and a '_'-free alphabet.
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let secret = b64.encode(secret).replace('_', ".");
    let hash = hash_secret(&secret)?;
    Ok((format!("ordo_{id}_{secret}"), id, hash))
}

/// A new user with its first token, checked as `ordo users add` checks it: (the token to show
/// once, the row to insert).
pub fn new_user(name: &str, roles: &str, now: i64) -> Result<(String, UserRow), String> {
    check_user_name(name)?;
    let roles = parse_roles(roles)?.join(",");
    let (token, token_id, token_hash) = new_token()?;
    Ok((
        token,
        UserRow {
            name: name.to_string(),
            roles,
            token_id,
            token_hash,
            disabled: false,
            created_at: now,
            updated_at: now,
        },
    ))
}

/// Checks a new console password (8 to 256 characters, not all blank) and hashes it with
/// argon2 and a fresh salt, as token secrets are.
pub fn hash_password(password: &str) -> Result<String, String> {
    let n = password.chars().count();
    if !(8..=256).contains(&n) || password.trim().is_empty() {
        return Err("a password has 8 to 256 characters".into());
    }
    hash_secret(password)
}

/// Whether `password` matches a stored argon2 `hash` (argon2 compares in constant time).
pub fn password_matches(hash: &str, password: &str) -> bool {
    password.len() <= 1024
        && PasswordHash::new(hash).is_ok_and(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
}

fn hash_secret(secret: &str) -> Result<String, String> {
    use rand::RngCore;
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Splits `ordo_<id>_<secret>`; `None` for anything else.
fn split_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("ordo_")?;
    let (id, secret) = rest.split_once('_')?;
    let ok = id.len() == 18
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && !secret.is_empty()
        && secret.len() <= 64;
    ok.then_some((id, secret))
}

/// Why a token was refused (all are `401` to the client, which learns nothing more).
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Malformed,
    Unknown,
    Disabled,
}

/// Verified tokens: SHA-256 of the token → the user's row it matched (its stored hash).
#[derive(Default)]
pub struct TokenCache {
    seen: Mutex<HashMap<[u8; 32], UserRow>>,
}

impl TokenCache {
    /// The token id of a bearer token, to look its user up; `Err` for a missing or
    /// malformed token.
    pub fn token_id(token: Option<&str>) -> Result<&str, Refusal> {
        let token = token.ok_or(Refusal::Missing)?;
        split_token(token)
            .map(|(id, _)| id)
            .ok_or(Refusal::Malformed)
    }

    /// Checks `token` against `user`, the row its token id found (looked up outside, so no
    /// store transaction waits on argon2).
    pub fn verify(&self, token: &str, user: Option<UserRow>) -> Result<UserRow, Refusal> {
        let (_, secret) = split_token(token).ok_or(Refusal::Malformed)?;
        let user = user.ok_or(Refusal::Unknown)?;
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let known = {
            let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.get(&digest)
                .is_some_and(|u| u.token_hash == user.token_hash)
        };
        if !known {
            let ok = PasswordHash::new(&user.token_hash).is_ok_and(|h| {
                argon2::Argon2::default()
                    .verify_password(secret.as_bytes(), &h)
                    .is_ok()
            });
            if !ok {
                return Err(Refusal::Unknown);
            }
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            // bounded: a flood of distinct valid tokens only costs argon2 again
            if seen.len() >= 10_000 {
                seen.clear();
            }
            seen.insert(digest, user.clone());
        }
        if user.disabled {
            return Err(Refusal::Disabled);
        }
        Ok(user)
    }

    /// The user's row a token matched when it was last verified in this process, if it was:
    /// as it was then (the caller checks it against the store before it acts on it).
    pub fn cached(&self, token: &str) -> Option<UserRow> {
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(&digest).cloned()
    }
}

/// The name of the OS user running this process (`USER`, else the password database, else
/// the numeric uid).
pub fn os_user() -> String {
    if let Ok(u) = std::env::var("USER")
        && check_user_name(&u).is_ok()
    {
        return u;
    }
    // SAFETY: getuid has no preconditions; getpwuid_r writes into our buffers only.
    unsafe {
        let uid = libc::getuid();
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 1024];
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        if libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut out) == 0
            && !out.is_null()
            && !pw.pw_name.is_null()
        {
            let name = std::ffi::CStr::from_ptr(pw.pw_name).to_string_lossy();
            if check_user_name(&name).is_ok() {
                return name.into_owned();
            }
        }
        format!("uid{uid}")
    }
}

/// Who a local command acts as: the OS user. When a user of that name is registered
/// (`ordo users add $USER --role …`), its roles apply (a disabled one is refused); otherwise
/// the local operator, who can open the store directly anyway, acts as `admin`.
pub async fn local_actor(tx: &mut dyn Tx) -> Result<Actor, String> {
    let name = os_user();
    let user = tx.user_get(&name).await.map_err(|e| e.to_string())?;
    match user {
        Some(u) if u.disabled => Err(format!("OS user '{name}' is a disabled ordo user: refused")),
        Some(u) => Ok(Actor {
            id: format!("os:{name}"),
            via: "cli",
            roles: u.roles.split(',').map(str::to_string).collect(),
        }),
        None => Ok(Actor {
            id: format!("os:{name}"),
            via: "cli",
            roles: vec!["admin".into()],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_rule_admits_the_role_and_admin_only() {
        let r = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(may_decide(&r(&["sales-manager"]), "sales-manager"));
        assert!(may_decide(&r(&["viewer", "admin"]), "sales-manager"));
        assert!(!may_decide(&r(&["sales"]), "sales-manager"));
        assert!(!may_decide(&r(&[]), "sales-manager"));
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(password_matches(&h, "correct horse"));
        assert!(!password_matches(&h, "correct horsE"));
        assert!(!password_matches("not a hash", "correct horse"));
        assert!(hash_password("short").is_err());
        assert!(hash_password("        ").is_err());
    }

    #[test]
    fn roles_are_checked() {
        assert_eq!(
            parse_roles("sales, finance,sales").unwrap(),
            vec!["sales", "finance"]
        );
        assert!(parse_roles("root").unwrap_err().contains("unknown role"));
        assert!(parse_roles(" , ").is_err());
    }

    #[test]
    fn tokens_verify_and_malformed_ones_do_not_parse() {
        let (token, id, hash) = new_token().unwrap();
        let (tid, secret) = split_token(&token).unwrap();
        assert_eq!(tid, id);
        let h = PasswordHash::new(&hash).unwrap();
        assert!(
            argon2::Argon2::default()
                .verify_password(secret.as_bytes(), &h)
                .is_ok()
        );
        assert!(
            argon2::Argon2::default()
                .verify_password(b"other", &h)
                .is_err()
        );
        assert!(!hash.contains(secret), "only the hash is kept");
        for bad in ["", "ordo_", "ordo_xyz_abc", "Bearer x", &token[..20]] {
            assert!(split_token(bad).is_none(), "{bad}");
        }
    }
}

//! Sign-in, sessions and CSRF.
//!
//! A session is a random 256-bit secret in the `ordo_session` cookie; the store keeps only
//! its SHA-256 (`console_sessions.id`) with the user, a CSRF token and the expiry (wall time,
//! `http.session_ttl_secs`). Every request reads the session and the user's row, so signing
//! out, expiry and disabling the user take effect at once in every process. Every form
//! carries the session's CSRF token and every POST checks it (the sign-in form, before a
//! session exists, checks a token against a pre-session cookie instead: double submit).
//! `SameSite=Strict` keeps the cookie off cross-site requests as a second line.

use super::view;
use crate::api::Api;
use crate::api::audit::{self, Change};
use crate::api::auth::{self, Actor, TokenCache};
use crate::api::error::{ApiError, Code};
use crate::store::sessions::SessionRow;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde_json::json;
use sha2::Digest;
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "ordo_session";
const LOGIN_COOKIE: &str = "ordo_login";

/// Failed sign-ins one user name may have at once; then one more every
/// [`SIGNIN_USER_EVERY_SECS`]. Past that, sign-in for that name answers `429` with
/// `Retry-After` before any password is checked: guessing is slow, and argon2 is not run for a
/// flood. A correct password does not count. Per process, like `http.rate_limit`.
pub const SIGNIN_USER_BURST: u32 = 5;
pub const SIGNIN_USER_EVERY_SECS: f64 = 12.0;
/// The same per client IP, larger: an office behind one address has many people (this stops
/// one address trying many names).
pub const SIGNIN_IP_BURST: u32 = 30;
pub const SIGNIN_IP_EVERY_SECS: f64 = 2.0;

/// The limiters of failed sign-ins (kept on [`Api`]): per user name, per client IP.
pub struct SigninLimits {
    user: crate::api::ratelimit::Limiter,
    ip: crate::api::ratelimit::Limiter,
}

pub fn signin_limiter() -> SigninLimits {
    use crate::api::ratelimit::Limiter;
    SigninLimits {
        user: Limiter::with_rate(1.0 / SIGNIN_USER_EVERY_SECS, SIGNIN_USER_BURST),
        ip: Limiter::with_rate(1.0 / SIGNIN_IP_EVERY_SECS, SIGNIN_IP_BURST),
    }
}

/// The buckets a sign-in attempt counts against: its client IP and the user name it names
/// (case-folded, bounded: a hostile name is a key, never a large one).
fn signin_keys<'a>(
    limits: &'a SigninLimits,
    ip: Option<std::net::IpAddr>,
    form: &[(String, String)],
) -> Vec<(&'a crate::api::ratelimit::Limiter, String)> {
    let mut keys = vec![(
        &limits.ip,
        ip.map_or_else(|| "unknown".to_string(), |ip| ip.to_string()),
    )];
    let name = field(form, "username").unwrap_or("").trim();
    if !name.is_empty() {
        keys.push((&limits.user, name.to_lowercase().chars().take(64).collect()));
    }
    keys
}

/// Wall-clock epoch ms: session expiry is real time, not the engine's business clock (which a
/// demo or a test may move).
pub(crate) fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn random_token() -> String {
    use base64::Engine as _;
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn session_id(secret: &str) -> String {
    sha2::Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Equal without an early exit (so the time taken tells nothing about a guess).
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

fn set_cookie(api: &Api, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if api.cfg.tls.is_some() {
        "; Secure"
    } else {
        ""
    };
    let text =
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The signed-in user of a console request. Without a valid session a page answers a
/// redirect to the sign-in page; a POST answers 401.
pub struct Viewer {
    pub actor: Actor,
    pub name: String,
    pub csrf: String,
    session: String,
    /// The live list a refresh asked for alone (`X-Fragment: ID`, console.js), when it did.
    pub fragment: Option<String>,
}

/// The `X-Fragment` header of a refresh: a live list's element id (letters, digits, `-`, at
/// most 40), or none; anything else is ignored and the whole page is answered.
fn fragment_of(headers: &HeaderMap) -> Option<String> {
    let id = headers.get("x-fragment")?.to_str().ok()?;
    (!id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .then(|| id.to_string())
}

impl Viewer {
    /// A POSTed form, read and its CSRF token checked: every console action starts here.
    pub fn form(&self, body: &[u8]) -> Result<Vec<(String, String)>, Response> {
        let form = parse_form(body)?;
        self.check_csrf(&form)?;
        Ok(form)
    }

    /// Checks the CSRF token of a form (403 when missing or wrong).
    fn check_csrf(&self, form: &[(String, String)]) -> Result<(), Response> {
        let sent = field(form, "csrf").unwrap_or("");
        if same(sent, &self.csrf) {
            Ok(())
        } else {
            Err(view::error_page(
                None,
                &ApiError::new(
                    Code::Forbidden,
                    "the form's security token is missing or wrong; reload the page and try again",
                ),
            ))
        }
    }
}

/// The first value of `name` in a parsed form.
pub fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// An `application/x-www-form-urlencoded` body as pairs (400 page when it is not one).
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, Response> {
    serde_urlencoded::from_bytes(body).map_err(|_| {
        view::error_page(
            None,
            &ApiError::new(Code::BadRequest, "the form could not be read"),
        )
    })
}

impl FromRequestParts<Arc<Api>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, api: &Arc<Api>) -> Result<Self, Response> {
        let is_get = parts.method == axum::http::Method::GET;
        let signed_out = || {
            if is_get {
                Redirect::to("/login").into_response()
            } else {
                view::error_page(
                    None,
                    &ApiError::new(Code::Unauthenticated, "you are signed out; sign in again"),
                )
            }
        };
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(signed_out());
        };
        let id = session_id(secret);
        let found = async {
            let mut tx = api.engine.store.begin().await?;
            let s = tx.session_get(&id, wall_ms()).await?;
            let user = match &s {
                Some(s) => tx.user_get(&s.user_name).await?,
                None => None,
            };
            tx.rollback().await?;
            Ok::<_, crate::store::StoreError>(s.zip(user))
        }
        .await
        .map_err(|e| view::error_page(None, &e.into()))?;
        match found {
            Some((s, user)) if !user.disabled => Ok(Viewer {
                actor: Actor {
                    id: format!("user:{}", user.name),
                    via: "console",
                    roles: user.roles.split(',').map(str::to_string).collect(),
                },
                name: user.name,
                csrf: s.csrf,
                session: id,
                fragment: fragment_of(&parts.headers),
            }),
            _ => Err(signed_out()),
        }
    }
}

pub async fn login_page(State(api): State<Arc<Api>>) -> Response {
    login_form(&api, None, StatusCode::OK)
}

fn login_form(api: &Api, problem: Option<&str>, status: StatusCode) -> Response {
    let token = random_token();
    let body = html! {
        h1 { "Sign in to ordo" }
        @if let Some(p) = problem { p.error role="alert" { (p) } }
        form method="post" action="/login" {
            input type="hidden" name="csrf" value=(token);
            p { label for="username" { "User name" } br; input #username name="username" autocomplete="username"; }
            p { label for="password" { "Password" } br; input #password type="password" name="password" autocomplete="current-password"; }
            p { "or" }
            p { label for="token" { "API token" } br; input #token type="password" name="token" autocomplete="off"; }
            p { button type="submit" { "Sign in" } }
        }
    };
    let mut r = view::page(None, "Sign in", body);
    *r.status_mut() = status;
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(api, LOGIN_COOKIE, &token, 3600),
    );
    r
}

/// Who a sign-in form names: by password, or by API token (the API's own check).
async fn signed_in_user(
    api: &Api,
    form: &[(String, String)],
) -> Result<Option<crate::store::service::UserRow>, ApiError> {
    let token = field(form, "token").map(str::trim).unwrap_or("");
    let mut tx = api.engine.store.begin().await?;
    let user = if !token.is_empty() {
        let id = TokenCache::token_id(Some(token)).ok();
        let row = match id {
            Some(id) => tx.user_by_token_id(id).await?,
            None => None,
        };
        tx.rollback().await?;
        api.tokens.verify(token, row).ok()
    } else {
        let name = field(form, "username").unwrap_or("").trim();
        let password = field(form, "password").unwrap_or("");
        let (row, hash) = if auth::check_user_name(name).is_ok() {
            (tx.user_get(name).await?, tx.user_password(name).await?)
        } else {
            (None, None)
        };
        tx.rollback().await?;
        // argon2 runs outside the transaction, so no store lock waits on it
        let ok = hash.is_some_and(|h| auth::password_matches(&h, password));
        row.filter(|u| ok && !u.disabled)
    };
    Ok(user)
}

pub async fn login(
    State(api): State<Arc<Api>>,
    ip: Option<axum::Extension<crate::api::server::ClientIp>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match parse_form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let keys = signin_keys(&api.signin, ip.map(|e| e.0.0), &form);
    let now = std::time::Instant::now();
    if let Some(wait) = keys.iter().filter_map(|(l, k)| l.peek(k, now).err()).max() {
        let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        let mut r = login_form(
            &api,
            Some(&format!(
                "Too many failed sign-ins for this user name or address; try again in {secs} s."
            )),
            StatusCode::TOO_MANY_REQUESTS,
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return r;
    }
    let pre = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if pre.is_empty() || !same(pre, field(&form, "csrf").unwrap_or("")) {
        return login_form(
            &api,
            Some("The sign-in form expired or was not sent from this site; try again."),
            StatusCode::FORBIDDEN,
        );
    }
    let user = match signed_in_user(&api, &form).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            for (l, k) in &keys {
                // an empty bucket only means the next attempt waits: nothing to report
                let _ = l.check(k, now);
            }
            return login_form(
                &api,
                Some("Unknown user, wrong password or token, or a disabled user."),
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(e) => return view::error_page(None, &e),
    };
    let secret = random_token();
    let now = wall_ms();
    let ttl = i64::try_from(api.cfg.session_ttl_secs.max(60)).unwrap_or(i64::MAX / 1000);
    let row = SessionRow {
        user_name: user.name.clone(),
        csrf: random_token(),
        expires_at: now.saturating_add(ttl.saturating_mul(1000)),
    };
    let actor = Actor {
        id: format!("user:{}", user.name),
        via: "console",
        roles: vec![],
    };
    let stored = async {
        let mut tx = api.engine.store.begin().await?;
        tx.session_purge(now).await?;
        tx.session_insert(&session_id(&secret), &row, now).await?;
        let change = Change {
            action: "console.signed_in",
            subject: format!("user/{}", user.name),
            order_id: None,
            before: None,
            after: Some(json!({ "expires_at": row.expires_at })),
        };
        audit::record(tx.as_mut(), &actor, api.engine.clock.now_ms(), change).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = stored {
        return view::error_page(None, &e.into());
    }
    let mut r = Redirect::to("/inbox").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&api, SESSION_COOKIE, &secret, ttl),
    );
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&api, LOGIN_COOKIE, "", 0));
    r
}

pub async fn logout(State(api): State<Arc<Api>>, viewer: Viewer, body: Bytes) -> Response {
    if let Err(r) = viewer.form(&body) {
        return r;
    }
    let done = async {
        let mut tx = api.engine.store.begin().await?;
        tx.session_delete(&viewer.session).await?;
        let change = Change {
            action: "console.signed_out",
            subject: format!("user/{}", viewer.name),
            order_id: None,
            before: None,
            after: None,
        };
        audit::record(
            tx.as_mut(),
            &viewer.actor,
            api.engine.clock.now_ms(),
            change,
        )
        .await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = done {
        return view::error_page(Some(&viewer), &e.into());
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&api, SESSION_COOKIE, "", 0));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_name_and_bounded() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; ordo_session=xyz"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "b"), None);
        let long = format!("ordo_session={}", "x".repeat(200));
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_str(&long).unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(!same("", "a"));
        assert_ne!(random_token(), random_token());
        assert_eq!(session_id("s").len(), 64);
    }
}

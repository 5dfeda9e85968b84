//! The console's layout and small rendering helpers. maud escapes every `(value)` it
//! interpolates; stored text is only ever interpolated, never inserted as markup.

use super::session::Viewer;
use crate::api::error::{ApiError, Code};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

const CSS: &str = include_str!("console.css");
const JS: &str = include_str!("console.js");

pub async fn css() -> Response {
    static_file(CSS, "text/css; charset=utf-8")
}

pub async fn js() -> Response {
    static_file(JS, "text/javascript; charset=utf-8")
}

fn static_file(text: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        text,
    )
        .into_response()
}

/// The main navigation, in order: a new page is one line here (and its route in `router`).
pub const NAV: &[(&str, &str)] = &[
    ("/inbox", "Inbox"),
    ("/orders", "Orders"),
    ("/customers", "Customers"),
    ("/finance", "Finance"),
    ("/partners", "Partners"),
    ("/workflows", "Workflows"),
    ("/dashboard", "Dashboard"),
    ("/forecast", "Forecast"),
];

/// A whole page: navigation for the signed-in user (none on the sign-in page), the content,
/// and when it was read.
pub fn page(viewer: Option<&Viewer>, title: &str, content: Markup) -> Response {
    let read_at = read_at();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · ordo" }
                // no favicon request (it would be a 404 in every browser's console)
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/static/console.css";
                script src="/static/console.js" defer {}
            }
            body {
                // the first stop of the keyboard: past the navigation to the page's content
                a.skip href="#main" { "Skip to content" }
                @if let Some(v) = viewer {
                    header {
                        nav aria-label="Main" {
                            @for (href, label) in NAV { a href=(href) { (label) } }
                        }
                        form.signout method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(v.csrf);
                            span.who { (v.name) " (" (v.actor.roles.join(", ")) ")" }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main #main tabindex="-1" { (content) }
                footer { "Read at " time { (read_at) } }
            }
        }
    };
    let mut r = markup.into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // No script or style from anywhere but ordo itself; no framing.
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    r
}

/// When a page was read, as every page's footer and every live list's refresh show it.
fn read_at() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

/// A list that refreshes without a reload: console.js asks every `secs` seconds for this
/// element alone (`X-Fragment: ID`) and swaps its content; the page's "Read at" moves with it.
pub fn live(id: &str, secs: u32, inner: Markup) -> Markup {
    html! { div id=(id) data-refresh=(secs) { (inner) } }
}

/// Whether this request is a refresh of the live list `id` only.
pub fn wants(v: &Viewer, id: &str) -> bool {
    v.fragment.as_deref() == Some(id)
}

/// The answer to a refresh of the live list `id`: that element and when it was read, not the
/// page (no navigation, no other section, none of their reads).
pub fn fragment(id: &str, secs: u32, inner: Markup) -> Response {
    let markup = html! { (live(id, secs, inner)) time.read-at { (read_at()) } };
    let mut r = markup.into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// An error as a page with its status: refused (403), not found, already decided (409),
/// the store unreachable (503) — never a blank page.
pub fn error_page(viewer: Option<&Viewer>, e: &ApiError) -> Response {
    let title = match e.code {
        Code::Forbidden => "Not allowed",
        Code::NotFound => "Not found",
        Code::Conflict => "Not done",
        Code::Unavailable => "The store is unreachable",
        Code::Unauthenticated => "Signed out",
        _ => "Refused",
    };
    let content = html! {
        h1 { (title) }
        p.error role="alert" { (e.message) }
        @if let Some(l) = &e.location { p { "At " code { (l) } } }
        @if e.code == Code::Unavailable { p { "Nothing was changed. Try again in a moment." } }
        p { a href="/inbox" { "Inbox" } }
    };
    let mut r = page(viewer, title, content);
    *r.status_mut() = e.code.status();
    r
}

/// A JSON value as text (strings without quotes, null as an empty string).
/// An amount of money as people read it: to the cent, with both decimals ("25.20", "0.00"),
/// whatever scale the stored value had (a rule's `25.2`, a ledger's `-0.00`).
pub fn money(d: rust_decimal::Decimal) -> String {
    let mut d = d.round_dp(2);
    if d.is_zero() {
        d = rust_decimal::Decimal::ZERO;
    }
    d.rescale(2);
    d.to_string()
}

/// A stored amount (a JSON string or number) as `money`; anything else as `text` shows it.
pub fn money_value(v: &Value) -> String {
    let s = text(v);
    s.parse().map(money).unwrap_or(s)
}

pub fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Epoch ms as `YYYY-MM-DD HH:MM` UTC.
pub fn time(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// A status as a word with a class: colour never carries the meaning alone.
pub fn status(s: &str) -> Markup {
    let class = match s {
        "failed" | "rejected" | "quarantined" => "bad",
        "waiting" | "open" | "held" => "warn",
        "ended" | "paid" | "approved" | "matched" => "good",
        _ => "plain",
    };
    html! { span class={ "status " (class) } { (s) } }
}

/// The hidden CSRF field every form carries.
pub fn csrf(v: &Viewer) -> Markup {
    html! { input type="hidden" name="csrf" value=(v.csrf); }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(r: Response) -> String {
        let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn an_unreachable_store_is_a_503_page_that_says_so() {
        let e: ApiError = crate::store::StoreError::Unavailable("connection refused".into()).into();
        let r = error_page(None, &e);
        assert_eq!(r.status(), 503);
        let html = body_of(r).await;
        assert!(html.contains("The store is unreachable"), "{html}");
        assert!(html.contains("Nothing was changed"), "{html}");
        assert!(!html.contains("connection refused"), "no internals: {html}");
    }

    #[tokio::test]
    async fn stored_text_is_escaped() {
        let e = ApiError::new(Code::Conflict, "<script>x()</script>\"><img onerror=y>");
        let html = body_of(error_page(None, &e)).await;
        assert!(
            !html.contains("<script>x()") && !html.contains("<img onerror"),
            "{html}"
        );
        assert!(
            html.contains("&lt;script&gt;x()&lt;/script&gt;&quot;&gt;&lt;img onerror=y&gt;"),
            "{html}"
        );
    }
}

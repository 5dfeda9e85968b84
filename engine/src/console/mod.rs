//! The web console `ordo run` serves beside the API, on the same listener: server-rendered
//! HTML (maud: templates are Rust, checked by the compiler, and every interpolated value is
//! HTML-escaped unless wrapped in `PreEscaped`, which this module never does with stored
//! data) plus one small stylesheet and script served from the binary (no CDN).
//!
//! - `session`: sign-in by password or API token, sessions in the store (several processes
//!   share them), the session cookie (`HttpOnly`, `SameSite=Strict`, `Secure` under TLS),
//!   the CSRF token every form carries, sign-out, expiry.
//! - `pages`: inbox, orders, order page, customers, finance (with receivables aging). Every
//!   page reads its data by calling the API's own handler functions (`crate::api::routes`)
//!   as the signed-in user, and every action calls the handler of the matching API route:
//!   one role rule, one decision path, one audit record (recorded `via: console`). The
//!   customer pages, which have no API route, check the API's read role.
//! - `partners`: the Partners (EDI) page: files received and sent per trading partner, acks
//!   and their verdicts, the quarantine with the raw file (problem segments marked), and the
//!   reprocess action (the API's handler).
//! - `workflows`: each workflow in force as a server-made SVG graph with live counts per step,
//!   and each rule with its test cases and results.
//! - `dashboard`: charts from `crate::reports` (the same SVG as `ordo report --html`).
//! - `forecast`: each item's forecast method, and one item's history and forecast with its
//!   interval as an SVG chart (the figures `ordo forecast` prints).
//! - `view`: the layout, the navigation ([`view::NAV`]) and the small rendering helpers.

mod dashboard;
mod forecast;
mod pages;
mod partners;
mod session;
mod view;
mod workflows;

use crate::api::Api;
use crate::api::error::{ApiError, ApiResult, Code};
use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::Value;
use std::sync::Arc;

pub use session::{SESSION_COOKIE, SigninLimits, signin_limiter};

/// The console's routes (merged beside `/api/v1` by the server).
pub fn router(api: Arc<Api>) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/inbox", get(pages::inbox))
        .route("/tasks/{id}", get(pages::task_page))
        .route("/tasks/{id}/decide", post(pages::decide))
        .route("/orders", get(pages::orders))
        .route("/orders/{id}", get(pages::order_page))
        .route("/instances/{id}/retry", post(pages::retry))
        .route("/invoices/{number}", get(pages::invoice))
        .route("/customers", get(pages::customers))
        .route("/customers/{id}", get(pages::customer_page))
        .route("/finance", get(pages::finance))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/forecast", get(forecast::forecast))
        .route("/finance/exceptions/{id}", get(pages::exception_page))
        .route(
            "/finance/exceptions/{id}/match",
            post(pages::match_exception),
        )
        .route(
            "/finance/exceptions/{id}/reject",
            post(pages::reject_exception),
        )
        .route("/partners", get(partners::list))
        .route("/partners/{partner}", get(partners::partner_page))
        .route("/partners/{partner}/files/{id}", get(partners::file_page))
        .route(
            "/partners/{partner}/files/{id}/reprocess",
            post(partners::reprocess),
        )
        .route("/workflows", get(workflows::page_of))
        .route("/static/console.css", get(view::css))
        .route("/static/console.js", get(view::js))
        .route_layer(axum::middleware::from_fn_with_state(
            api.clone(),
            crate::api::server::guard,
        ))
        .layer(axum::middleware::from_fn(server_timing))
        .with_state(api)
}

/// Adds `Server-Timing: app;dur=MS` to every console answer: the server's own time from the
/// request to the answer, which `ordo bench console` reads (a browser's network panel shows
/// it too). A time says nothing about the data, so every user may see it.
async fn server_timing(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let mut r = next.run(req).await;
    let ms = started.elapsed().as_secs_f64() * 1e3;
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("app;dur={ms:.3}")) {
        r.headers_mut().insert("server-timing", v);
    }
    r
}

/// The JSON an API handler answered (its error as it is).
pub(crate) async fn json_of(r: ApiResult<Response>) -> ApiResult<Value> {
    let resp = r?;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 256 << 20)
        .await
        .map_err(|_| ApiError::new(Code::Internal, "internal error (logged)"))?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|_| ApiError::new(Code::Internal, "internal error (logged)"))?;
    if status.is_success() {
        Ok(v)
    } else {
        let msg = v["error"]["message"]
            .as_str()
            .unwrap_or("refused")
            .to_string();
        let code = match status.as_u16() {
            403 => Code::Forbidden,
            404 => Code::NotFound,
            409 => Code::Conflict,
            422 => Code::Invalid,
            503 => Code::Unavailable,
            _ => Code::BadRequest,
        };
        Err(ApiError::new(code, msg))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::HttpConfig;
    use crate::registry::Registry;
    use crate::testing::TempDir;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// One request over a real connection to the served console; the whole answer.
    async fn get(addr: std::net::SocketAddr, path: &str, headers: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(std::time::Duration::from_secs(20), s.read_to_end(&mut out))
            .await
            .expect("an answer in time")
            .unwrap();
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The store going away under a running server: every console page (the session is read
    /// from the store first) answers a 503 page that says so, never a blank one; the console
    /// still says how long it took.
    #[tokio::test]
    async fn an_unreachable_store_gives_an_error_page_not_a_blank_one() {
        let dir = TempDir::new("console-store-down");
        let (engine, store) =
            crate::runtime::hostile_tests::test_engine(&dir, Registry::standard(), Vec::new())
                .await;
        let listener = crate::api::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let http = HttpConfig {
            listen: addr.to_string(),
            ..HttpConfig::default()
        };
        let api = crate::api::Api::new(engine.clone(), http);
        let (stop, rx) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(crate::api::serve(api, listener, rx));
        let up = get(addr, "/inbox", "Cookie: ordo_session=nobody\r\n").await;
        assert!(
            up.starts_with("HTTP/1.1 303"),
            "signed out: to the sign-in page: {up}"
        );
        crate::store::Store::close(&store).await;
        for path in ["/inbox", "/orders", "/partners", "/finance", "/dashboard"] {
            let down = get(addr, path, "Cookie: ordo_session=anything\r\n").await;
            assert!(down.starts_with("HTTP/1.1 503"), "{path}: {down}");
            assert!(down.contains("The store is unreachable"), "{path}: {down}");
            assert!(down.contains("Nothing was changed"), "{path}: {down}");
            assert!(
                down.to_lowercase().contains("server-timing: app;dur="),
                "{path}: {down}"
            );
        }
        let _ = stop.send(true);
        let _ = server.await;
    }
}

//! The handlers. Each one calls the library function its command or channel calls: order
//! intake (`channels::orders`), task decisions (`Engine::decide_task`), partner files and
//! statements (`channels::edi::receive_in`, `channels::bank::import_in`), retries and events;
//! it adds only the role check, the idempotency key and the audit record, all in the same
//! transaction as the effect.

use super::Api;
use super::audit::{self, Change};
use super::auth::{Actor, may_decide};
use super::error::{ApiError, ApiResult, Code, ErrorBody};
use super::idempotency::Key;
use crate::store::Tx;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::Arc;

type St = State<Arc<Api>>;

/// Roles per route class (`admin` may do everything).
pub mod roles {
    /// Reading orders, tasks, instances, invoices, reconciliation.
    pub const READ: &[&str] = &[
        "sales",
        "sales-manager",
        "sales-director",
        "finance",
        "edi-admin",
        "viewer",
    ];
    pub const SUBMIT_ORDERS: &[&str] = &["sales", "sales-manager", "sales-director", "integration"];
    pub const PARTNER_FILES: &[&str] = &["edi-admin", "integration"];
    /// Reprocessing a quarantined partner file (a person's decision after fixing a profile).
    pub const EDI_ADMIN: &[&str] = &["edi-admin"];
    pub const STATEMENTS: &[&str] = &["finance", "integration"];
    pub const RECON: &[&str] = &["finance"];
    /// Operations: retries and events.
    pub const OPERATE: &[&str] = &[];
    pub const AUDIT: &[&str] = &["viewer"];
}

pub fn router(api: Arc<Api>) -> Router {
    let v1 = Router::new()
        .route("/orders", post(submit_orders).get(list_orders))
        .route("/orders/{id}", get(get_order))
        .route("/orders/{id}/returns", post(request_return))
        .route("/orders/{id}/changes", post(change_order))
        .route("/orders/{id}/cancel", post(cancel_order))
        .route("/quotes", post(request_quote))
        .route("/quotes/{number}", get(get_quote))
        .route("/quotes/{number}/accept", post(accept_quote))
        .route("/tasks", get(list_tasks))
        .route("/tasks/{id}/approve", post(approve_task))
        .route("/tasks/{id}/reject", post(reject_task))
        .route("/invoices/{number}", get(get_invoice))
        .route("/invoices/{number}/credit-notes", post(credit_note))
        .route("/credit-notes/{number}", get(get_credit_note))
        .route("/complaints", post(open_complaint))
        .route("/complaints/{number}", get(get_complaint))
        .route("/complaints/{number}/decision", post(decide_complaint))
        .route("/recon/exceptions", get(list_exceptions))
        .route("/recon/exceptions/{id}/match", post(match_exception))
        .route("/recon/exceptions/{id}/reject", post(reject_exception))
        .route("/recon/reports", get(recon_reports))
        .route("/partners/{partner}/files", post(partner_file))
        .route(
            "/partners/{partner}/files/{id}/reprocess",
            post(reprocess_partner_file),
        )
        .route("/banks/{account}/statements", post(bank_statement))
        .route("/instances", get(list_instances))
        .route("/reports/{name}", get(get_report))
        .route("/instances/{id}/retry", post(retry_instance))
        .route("/events", post(send_event))
        .route("/audit", get(list_audit));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi))
        .nest("/api/v1", v1)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(axum::middleware::from_fn_with_state(
            api.clone(),
            super::server::guard,
        ))
        .with_state(api)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        "this route does not take that method",
    )
}

// -- who is calling ---------------------------------------------------------------------------

/// The authenticated caller of a route (401 otherwise).
pub struct Caller(pub Actor);

impl FromRequestParts<Arc<Api>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &Arc<Api>) -> Result<Self, ApiError> {
        let user = super::batch::verified_user(api, super::batch::bearer(parts)).await?;
        Ok(Caller(Actor::api_user(&user)))
    }
}

pub(crate) fn require(actor: &Actor, roles: &[&str]) -> ApiResult<()> {
    if actor.has_any(roles) {
        Ok(())
    } else {
        let mut need: Vec<&str> = vec!["admin"];
        need.extend_from_slice(roles);
        Err(ApiError::new(
            Code::Forbidden,
            format!("this needs one of the roles: {}", need.join(", ")),
        ))
    }
}

// -- bodies -----------------------------------------------------------------------------------

/// A JSON body into `T`: `400` when it is not JSON (located line:column), `422` when it does
/// not fit `T` (an unknown field, a wrong type; located by a JSON Pointer).
fn json_body<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(Code::MalformedJson, format!("the body is not JSON: {e}")).at(format!(
            "{}:{}",
            e.line(),
            e.column()
        ))
    })?;
    serde_path_to_error::deserialize::<_, T>(&v).map_err(|e| {
        let pointer = pointer_of(&e.path().to_string());
        ApiError::invalid(e.into_inner().to_string()).at(pointer)
    })
}

/// serde_path_to_error's `a.b[0].c` as a JSON Pointer `/a/b/0/c`.
fn pointer_of(path: &str) -> String {
    let mut out = String::new();
    for part in path.split('.') {
        let mut rest = part;
        let name_end = rest.find('[').unwrap_or(rest.len());
        let name = &rest[..name_end];
        if !name.is_empty() && name != "?" {
            out.push('/');
            out.push_str(&name.replace('~', "~0").replace('/', "~1"));
        }
        rest = &rest[name_end..];
        while let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').unwrap_or(r.len());
            out.push('/');
            out.push_str(&r[..end]);
            rest = r.get(end + 1..).unwrap_or("");
        }
    }
    out
}

fn json_response(status: StatusCode, text: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response()
}

/// Runs an effect with its idempotency key in the next batch (`api::batch`: one transaction
/// per batch, a savepoint per request, answered after the commit): a replay answers the stored
/// response; otherwise `work` runs, the key records its answer, and both commit together (an
/// error rolls back the request's savepoint, key included).
async fn effect(api: &Arc<Api>, key: Option<Key>, work: super::batch::Work) -> ApiResult<Response> {
    effect_as(api, None, key, Vec::new(), work).await
}

/// [`effect`] for a caller taken from the token cache (its token is checked in the batch), and
/// with the documents `work` reads (kind, id), prefetched with those of the whole batch.
async fn effect_as(
    api: &Arc<Api>,
    holder: Option<super::batch::Holder>,
    key: Option<Key>,
    reads: Vec<(&'static str, String)>,
    work: super::batch::Work,
) -> ApiResult<Response> {
    let a = super::batch::run(api, holder, key, reads, work).await?;
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK);
    let mut r = json_response(status, a.body);
    if a.replayed {
        r.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(r)
}

/// Boxes an effect's body for [`effect`]. The batch may run it twice (`api::batch`), so the
/// values it uses are named and kept once, shared by the runs: inside the body each name is a
/// reference to its value.
macro_rules! work {
    ([$($cap:ident),* $(,)?] |$tx:ident| $body:expr) => {{
        let kept = std::sync::Arc::new(($($cap,)*));
        Box::new(move |mut $tx: Box<dyn Tx>| {
            let kept = kept.clone();
            Box::pin(async move {
                #[allow(unused_variables)]
                let ($($cap,)*) = &*kept;
                let r: ApiResult<(StatusCode, Value)> = async { $body }.await;
                ($tx, r)
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>
        })
    }};
}

fn idem_key(
    caller: &Actor,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &[u8],
) -> ApiResult<Option<Key>> {
    Key::from_header(
        &caller.id,
        headers.get("idempotency-key"),
        method,
        path,
        body,
    )
}

// -- service routes ---------------------------------------------------------------------------

#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "The process is up", body = Value)))]
pub async fn healthz() -> Response {
    axum::Json(json!({ "status": "ok" })).into_response()
}

#[utoipa::path(get, path = "/readyz", tag = "service",
    responses((status = 200, description = "Store and queue reachable", body = Value),
              (status = 503, description = "Not ready, with the reason", body = ErrorBody)))]
pub async fn readyz(State(api): St) -> Response {
    let probe = async {
        let mut tx = api.engine.store.begin().await?;
        let n = tx.queued_count().await?;
        tx.rollback().await?;
        Ok::<i64, crate::store::StoreError>(n)
    };
    let store = tokio::time::timeout(std::time::Duration::from_secs(3), probe).await;
    let queue = if api.engine.embedded() {
        Ok(())
    } else {
        // the broker answers a zero-wait receive when it is connected
        match tokio::time::timeout(
            std::time::Duration::from_secs(3),
            api.engine.queue.dead_letters(0),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no answer within 3 s".to_string()),
        }
    };
    match (store, queue) {
        (Ok(Ok(_)), Ok(())) => axum::Json(json!({ "status": "ready" })).into_response(),
        (Ok(Err(e)), _) => ApiError::new(Code::Unavailable, format!("store: {e}")).into_response(),
        (Err(_), _) => {
            ApiError::new(Code::Unavailable, "store: no answer within 3 s").into_response()
        }
        (_, Err(e)) => ApiError::new(Code::Unavailable, format!("queue: {e}")).into_response(),
    }
}

#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
              (status = 503, description = "Store unreachable", body = ErrorBody)))]
pub async fn metrics(State(api): St) -> ApiResult<Response> {
    use super::metrics::{gauge, label};
    let mut tx = api.engine.store.begin().await?;
    let counts = tx.count_instances().await?;
    let queued = tx.queued_count().await?;
    let (open_tasks, outbound) = tx.service_counts().await?;
    let open_exceptions = tx
        .get_documents("bank_exception", "")
        .await?
        .iter()
        .filter(|(_, d)| d["status"] == "open")
        .count() as i64;
    let edi_files = tx.count_documents("edi_file").await?;
    tx.rollback().await?;
    let engine = api.engine.clone();
    let quarantined =
        tokio::task::spawn_blocking(move || crate::channels::quarantined_files(&engine))
            .await
            // a panicked folder count reports no quarantined files rather than failing /metrics
            .unwrap_or_default();
    let mut out = String::new();
    let by_state: Vec<(String, i64)> = counts
        .iter()
        .map(|(w, s, e, n)| {
            (
                format!(
                    "workflow=\"{}\",status=\"{}\",end_status=\"{}\"",
                    label(w),
                    label(s),
                    label(e.as_deref().unwrap_or(""))
                ),
                *n,
            )
        })
        .collect();
    gauge(
        &mut out,
        "ordo_instances",
        "Instances by workflow and state.",
        &by_state,
    );
    let failed: i64 = counts
        .iter()
        .filter(|(_, s, _, _)| s == crate::model::status::FAILED)
        .map(|(_, _, _, n)| n)
        .sum();
    gauge(
        &mut out,
        "ordo_instances_failed",
        "Failed instances.",
        &[(String::new(), failed)],
    );
    gauge(
        &mut out,
        "ordo_queue_depth",
        "Step messages not yet consumed.",
        &[(String::new(), queued)],
    );
    gauge(
        &mut out,
        "ordo_tasks_open",
        "Open human tasks.",
        &[(String::new(), open_tasks)],
    );
    gauge(
        &mut out,
        "ordo_outbound_backlog",
        "Outbound messages not yet delivered.",
        &[(String::new(), outbound)],
    );
    gauge(
        &mut out,
        "ordo_recon_exceptions_open",
        "Reconciliation exceptions waiting for a decision.",
        &[(String::new(), open_exceptions)],
    );
    gauge(
        &mut out,
        "ordo_edi_files",
        "Partner files recorded.",
        &[(String::new(), edi_files)],
    );
    let quarantined: Vec<(String, i64)> = quarantined
        .into_iter()
        .map(|(c, n)| (format!("channel=\"{c}\""), n))
        .collect();
    gauge(
        &mut out,
        "ordo_quarantined_files",
        "Inbound files in the quarantine folders, by channel.",
        &quarantined,
    );
    api.engine.step_metrics.render(&mut out);
    api.metrics.render_requests(&mut out);
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        out,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/openapi.json", tag = "service",
    responses((status = 200, description = "This document", body = Value)))]
pub async fn openapi() -> Response {
    axum::Json(super::openapi::document()).into_response()
}

// -- orders -----------------------------------------------------------------------------------

/// Where an intake error points: a JSON Pointer when it names an order and a field,
/// `line:column` when the text did not parse.
fn intake_location(err: &str, array: bool) -> Option<String> {
    let rest = err.strip_prefix("request: ").unwrap_or(err);
    if let Some(r) = rest.strip_prefix("request:") {
        let mut it = r.splitn(3, ':');
        let (l, c) = (it.next()?, it.next()?);
        if l.parse::<u64>().is_ok() && c.parse::<u64>().is_ok() {
            return Some(format!("{l}:{c}"));
        }
    }
    let n: usize = rest
        .strip_prefix("order #")?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    // "order #N ('ID'): path: message"
    let after = rest.split_once("): ").or_else(|| rest.split_once(": "))?.1;
    let path = after.split_once(": ")?.0;
    let pointer = pointer_of(path);
    Some(if array {
        format!("/{}{pointer}", n.saturating_sub(1))
    } else {
        pointer
    })
}

/// The JSON Pointer of the first field of the order as sent (`raw`) that the decoded order does
/// not have: the order format ignores unknown fields, the API and AMQP intake refuse them.
pub(crate) fn unknown_field_of(order: &ordo_contract::Order, raw: &Value) -> Option<String> {
    let known = serde_json::to_value(order).unwrap_or_default();
    unknown_field(raw, &known, String::new())
}

/// The JSON Pointer of the first field of `input` that `known` (the same document as its type
/// serializes it) does not have.
fn unknown_field(input: &Value, known: &Value, at: String) -> Option<String> {
    match (input, known) {
        (Value::Object(i), Value::Object(k)) => i.iter().find_map(|(key, v)| {
            let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
            match k.get(key) {
                None => Some(here),
                Some(kv) => unknown_field(v, kv, here),
            }
        }),
        (Value::Array(i), Value::Array(k)) => i
            .iter()
            .zip(k)
            .enumerate()
            .find_map(|(n, (v, kv))| unknown_field(v, kv, format!("{at}/{n}"))),
        _ => None,
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AcceptedOrder {
    pub order: String,
    /// Instances the order started.
    pub instances: Vec<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct IntakeResponse {
    pub accepted: Vec<AcceptedOrder>,
    /// Why each order that was a duplicate was not booked again.
    pub duplicates: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/orders", tag = "orders",
    description = "One order or an array of orders, in the format of `ordo submit`; all or nothing on invalid content. Roles: sales, sales-manager, sales-director, integration.",
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body: the first response again")),
    request_body(content = Value, content_type = "application/json"),
    responses((status = 201, description = "Accepted (duplicates listed, not booked)", body = IntakeResponse),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, description = "Every order was a duplicate, or the key was used with another body", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn submit_orders(
    State(api): St,
    super::batch::BatchCaller(caller, holder): super::batch::BatchCaller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&caller, roles::SUBMIT_ORDERS)?;
    let key = idem_key(&caller, &headers, "POST", "/api/v1/orders", &body)?;
    // Read and checked here, on the request's own task, so the batch's transaction holds only
    // the booking; a content error is answered from inside the batch, after the key's claim,
    // so a key reused with another body is 409 before anything.
    let checked = check_order_body(&api, &body);
    let reads = match &checked {
        Ok(orders) => crate::channels::orders::intake_reads(orders),
        Err(_) => Vec::new(),
    };
    let a = api.clone();
    effect_as(
        &api,
        Some(holder),
        key,
        reads,
        work!(
            [a, caller, checked] | tx | {
                let orders = checked.as_ref().map_err(Clone::clone)?;
                let done = crate::channels::orders::intake_orders_in(
                    &a.engine,
                    tx.as_mut(),
                    "request",
                    orders,
                )
                .await?;
                let now = a.engine.clock.now_ms();
                audit::orders_submitted(tx.as_mut(), caller, now, &done.accepted, json!({}))
                    .await?;
                if done.accepted.is_empty() {
                    return Err(ApiError::new(Code::Conflict, done.duplicates.join("\n")));
                }
                let resp = IntakeResponse {
                    accepted: done
                        .accepted
                        .into_iter()
                        .map(|(order, instances)| AcceptedOrder { order, instances })
                        .collect(),
                    duplicates: done.duplicates,
                };
                Ok((
                    StatusCode::CREATED,
                    serde_json::to_value(resp).unwrap_or_default(),
                ))
            }
        ),
    )
    .await
}

/// The orders of a `POST /api/v1/orders` body: `400` when it is not JSON, `422` (located) when
/// an order is invalid or has a field the order format does not know.
fn check_order_body(api: &Api, body: &[u8]) -> ApiResult<Vec<(ordo_contract::Order, Value)>> {
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::new(Code::MalformedJson, format!("the body is not UTF-8: {e}")))?;
    let trimmed = text.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return Err(ApiError::new(
            Code::MalformedJson,
            "expected a JSON order or an array of orders",
        )
        .at("1:1"));
    }
    // JSON syntax first (400), so content checks (422) see a well-formed body.
    // (IgnoredAny would skip the nesting limit: parsed as a value, too deep is malformed.)
    if let Err(e) = serde_json::from_str::<Value>(text) {
        return Err(
            ApiError::new(Code::MalformedJson, format!("the body is not JSON: {e}")).at(format!(
                "{}:{}",
                e.line(),
                e.column()
            )),
        );
    }
    let array = trimmed.starts_with('[');
    let orders =
        crate::channels::orders::check_orders(&api.engine, "request", text).map_err(|errors| {
            let location = errors.iter().find_map(|e| intake_location(e, array));
            let mut err = ApiError::invalid(errors.join("\n"));
            err.location = location;
            err
        })?;
    // The order format ignores fields it does not know; the API refuses them, so a misspelt
    // field is not silently dropped. Known = what the decoded order serializes.
    for (i, (o, raw)) in orders.iter().enumerate() {
        if let Some(at) = unknown_field_of(o, raw) {
            let at = if array { format!("/{i}{at}") } else { at };
            return Err(
                ApiError::invalid(format!("order #{}: unknown field at {at}", i + 1)).at(at),
            );
        }
    }
    Ok(orders)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// Instance status: running, waiting, failed, ended.
    status: Option<String>,
    customer: Option<String>,
    /// Order date from (YYYY-MM-DD, inclusive).
    from: Option<String>,
    /// Order date to (YYYY-MM-DD, inclusive).
    to: Option<String>,
    /// Where the order came from: json, csv, edi-x12, edifact, cli, api …
    channel: Option<String>,
    /// Smallest order total (priced total, the order's currency; inclusive). An order not
    /// priced yet has no total and is not in an amount-filtered list.
    min: Option<String>,
    /// Largest order total (inclusive).
    max: Option<String>,
    /// Opaque: the `next` of the previous page.
    cursor: Option<String>,
    /// 1 to 500, default 50.
    limit: Option<i64>,
}

/// An order's priced total (`pricing.total` of its instance), when it has been priced.
pub fn order_total(data: &Value) -> Option<rust_decimal::Decimal> {
    let t = &data["pricing"]["total"];
    let s = t
        .as_str()
        .map(str::to_string)
        .or_else(|| t.is_number().then(|| t.to_string()))?;
    s.parse().ok()
}

fn amount_param(v: &Option<String>, name: &str) -> ApiResult<Option<rust_decimal::Decimal>> {
    v.as_deref()
        .map(|s| {
            s.trim()
                .parse::<rust_decimal::Decimal>()
                .ok()
                .filter(|_| s.len() <= 40)
                .ok_or_else(|| {
                    ApiError::new(
                        Code::BadRequest,
                        format!("{name}: an amount such as 1250.00"),
                    )
                    .at(format!("query:{name}"))
                })
        })
        .transpose()
}

fn query<T: DeserializeOwned>(
    q: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<T> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::new(Code::BadRequest, e.body_text()).at("query"))
}

fn date_param(v: &Option<String>, name: &str) -> ApiResult<Option<chrono::NaiveDate>> {
    v.as_deref()
        .map(|s| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                ApiError::new(Code::BadRequest, format!("{name}: a date YYYY-MM-DD"))
                    .at(format!("query:{name}"))
            })
        })
        .transpose()
}

fn encode_cursor(id: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(c: &str) -> ApiResult<String> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| s.len() <= 512)
        .ok_or_else(|| {
            ApiError::new(Code::BadRequest, "cursor: not one this API gave").at("query:cursor")
        })
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct OrderPage {
    #[schema(value_type = Vec<Object>)]
    pub orders: Vec<Value>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/orders", tag = "orders",
    params(OrderQuery),
    responses((status = 200, body = OrderPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_orders(
    State(api): St,
    Caller(caller): Caller,
    q: Result<Query<OrderQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    require(&caller, roles::READ)?;
    let q = query(q)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(Code::BadRequest, "limit: 1 to 500").at("query:limit"));
    }
    let from = date_param(&q.from, "from")?;
    let to = date_param(&q.to, "to")?;
    let min = amount_param(&q.min, "min")?;
    let max = amount_param(&q.max, "max")?;
    if q.channel.as_ref().is_some_and(|c| c.len() > 40) {
        return Err(
            ApiError::new(Code::BadRequest, "channel: at most 40 characters").at("query:channel"),
        );
    }
    let mut after = match &q.cursor {
        Some(c) => decode_cursor(c)?,
        None => String::new(),
    };
    // What SQL can narrow through the indexes of migration 0027 (a superset: every row is
    // checked again exactly below; amounts only as floating point there).
    let narrow = crate::store::sessions::OrderFilter {
        customer: q.customer.clone(),
        from: from.map(|d| d.to_string()),
        to: to.map(|d| d.to_string()),
        status: q.status.clone(),
        min: min.and_then(|m| rust_decimal::prelude::ToPrimitive::to_f64(&m)),
        max: max.and_then(|m| rust_decimal::prelude::ToPrimitive::to_f64(&m)),
    };
    let mut tx = api.engine.store.begin().await?;
    let mut out = Vec::new();
    let mut next = None;
    // Scan in id order, a few hundred at a time, until the page is full; the cursor is the
    // last order id looked at, so filters never skip or repeat an order across pages.
    'scan: loop {
        let rows = tx.order_docs_matching(&after, 500, &narrow).await?;
        let exhausted = rows.len() < 500;
        for (id, text) in rows {
            after = id.clone();
            // A stored order that is not JSON is a broken store: say which, never skip it.
            let doc: Value = serde_json::from_str(&text).map_err(|e| {
                ApiError::new(
                    Code::Internal,
                    format!("stored order {id} is unreadable: {e}"),
                )
            })?;
            if q.customer
                .as_deref()
                .is_some_and(|c| doc["customer_id"] != c)
            {
                continue;
            }
            if q.channel.as_deref().is_some_and(|c| doc["channel"] != c) {
                continue;
            }
            let date = doc["order_date"]
                .as_str()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            if from.is_some_and(|f| date.is_none_or(|d| d < f))
                || to.is_some_and(|t| date.is_none_or(|d| d > t))
            {
                continue;
            }
            let inst = tx
                .find_instances(&id)
                .await?
                .into_iter()
                .find(|i| i.business_key == id);
            let state = inst.as_ref().map(|i| i.status.clone());
            if q.status
                .as_deref()
                .is_some_and(|s| state.as_deref() != Some(s))
            {
                continue;
            }
            let total = inst.as_ref().and_then(|i| order_total(&i.data));
            if (min.is_some() || max.is_some())
                && !total.is_some_and(|t| min.is_none_or(|m| t >= m) && max.is_none_or(|m| t <= m))
            {
                continue;
            }
            out.push(json!({
                "channel": doc["channel"],
                "currency": doc["currency"],
                "total": total,
                "id": id,
                "customer_id": doc["customer_id"],
                "po_number": doc["po_number"],
                "order_date": doc["order_date"],
                "status": state,
                "end_status": inst.as_ref().and_then(|i| i.end_status.clone()),
                "step": inst.as_ref().map(|i| i.step.clone()),
            }));
            if out.len() as i64 >= limit {
                next = Some(encode_cursor(&after));
                break 'scan;
            }
        }
        if exhausted {
            break;
        }
    }
    tx.rollback().await?;
    Ok(axum::Json(OrderPage { orders: out, next }).into_response())
}

#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders",
    description = "State, hold reasons, open task, history, the instance's data (shipments, invoices) and EDI messages.",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_order(
    State(api): St,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    require(&caller, roles::READ)?;
    let mut tx = api.engine.store.begin().await?;
    let Some(order) = tx.get_document("order", &id).await? else {
        tx.rollback().await?;
        return Err(ApiError::not_found(format!(
            "no order '{}'",
            ordo_contract::excerpt(&id, 100)
        )));
    };
    let mut instances = Vec::new();
    for inst in tx.find_instances(&id).await? {
        if inst.business_key != id {
            continue;
        }
        let history = tx.history(&inst.id).await?;
        let task = tx.open_task_for(&inst.id).await?;
        let edi = crate::channels::edi::sent_for(tx.as_mut(), &inst).await?;
        instances.push(json!({
            "id": inst.id,
            "workflow": inst.workflow,
            "version": inst.version,
            "status": inst.status,
            "end_status": inst.end_status,
            "step": inst.step,
            "error": inst.error,
            "hold_reasons": inst.data.get("hold_reasons"),
            "open_task": task,
            "data": inst.data,
            "history": history,
            "edi": edi,
        }));
    }
    let returns = super::returns::returns_of_order(tx.as_mut(), &id).await?;
    let versions = super::orders::versions_of_order(tx.as_mut(), &id).await?;
    tx.rollback().await?;
    Ok(axum::Json(
        json!({ "order": order, "instances": instances, "returns": returns, "versions": versions }),
    )
    .into_response())
}

// -- tasks ------------------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks",
    description = "Open tasks the caller's roles may decide.",
    responses((status = 200, body = Value), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_tasks(State(api): St, Caller(caller): Caller) -> ApiResult<Response> {
    let mut tx = api.engine.store.begin().await?;
    let open = tx.list_tasks("open").await?;
    let mut rows = Vec::new();
    for t in open {
        if !may_decide(&caller.roles, &t.role) {
            continue;
        }
        // An open task's instance always exists (deleted with it); null says it does not.
        let key = tx
            .load_instance(&t.instance_id)
            .await?
            .map(|i| i.business_key);
        rows.push(json!({ "task": t, "order": key }));
    }
    tx.rollback().await?;
    Ok(axum::Json(json!({ "tasks": rows })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Why (required to reject).
    #[serde(default)]
    pub note: Option<String>,
}

/// Decides task `id` as `caller`, through [`Engine::decide_task`](crate::runtime::Engine),
/// with the one role rule and an audit record in the same transaction. The CLI's
/// `ordo approve`/`reject` call this too.
pub async fn decide(
    engine: &crate::runtime::Engine,
    tx: &mut dyn Tx,
    caller: &Actor,
    id: i64,
    outcome: &str,
    note: Option<&str>,
) -> ApiResult<Value> {
    let Some(task) = tx.load_task(id).await? else {
        return Err(ApiError::not_found(format!("no task {id}")));
    };
    if !may_decide(&caller.roles, &task.role) {
        return Err(ApiError::new(
            Code::Forbidden,
            format!("task {id} is for role '{}' (or admin)", task.role),
        ));
    }
    engine.decide_task(tx, id, outcome, note).await?;
    let order = tx
        .load_instance(&task.instance_id)
        .await?
        .map(|i| i.business_key);
    let after = json!({ "status": "decided", "outcome": outcome, "note": note });
    audit::record(
        tx,
        caller,
        engine.clock.now_ms(),
        Change {
            action: &format!("task.{outcome}"),
            subject: format!("task/{id}"),
            order_id: order.clone(),
            before: Some(json!({ "status": task.status, "role": task.role, "step": task.step })),
            after: Some(after.clone()),
        },
    )
    .await?;
    Ok(json!({ "task": id, "order": order, "outcome": outcome, "note": note }))
}

async fn decide_route(
    api: Arc<Api>,
    caller: Actor,
    headers: HeaderMap,
    id: String,
    outcome: &'static str,
    body: Bytes,
) -> ApiResult<Response> {
    let id: i64 = id.parse().map_err(|_| {
        ApiError::not_found(format!("no task '{}'", ordo_contract::excerpt(&id, 40)))
    })?;
    let d: Decision = if body.is_empty() {
        Decision { note: None }
    } else {
        json_body(&body)?
    };
    if let Some(n) = &d.note
        && n.chars().count() > api.engine.limits.max_text_chars
    {
        return Err(ApiError::invalid(format!(
            "note: at most {} characters",
            api.engine.limits.max_text_chars
        ))
        .at("/note"));
    }
    if outcome == "rejected" && d.note.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(ApiError::invalid("a rejection needs a note (the reason)").at("/note"));
    }
    let decided = Decided::Task {
        id,
        outcome,
        note: d.note,
    };
    decision_route(api, caller, headers, decided, body).await
}

/// What a decision route decides: a task, or a reconciliation exception.
enum Decided {
    Task {
        id: i64,
        outcome: &'static str,
        note: Option<String>,
    },
    Exception {
        id: String,
        decision: ReconDecision,
    },
}

/// The tail every decision route shares: the idempotency key over its path and body, then
/// the decision ([`decide`] or [`decide_exception`]) in one transaction with it.
async fn decision_route(
    api: Arc<Api>,
    caller: Actor,
    headers: HeaderMap,
    decided: Decided,
    body: Bytes,
) -> ApiResult<Response> {
    let path = match &decided {
        Decided::Task { id, outcome, .. } => format!("/api/v1/tasks/{id}/{outcome}"),
        Decided::Exception { id, decision } => {
            let verb = match decision {
                ReconDecision::Match { .. } => "match",
                ReconDecision::Reject { .. } => "reject",
            };
            format!("/api/v1/recon/exceptions/{id}/{verb}")
        }
    };
    let key = idem_key(&caller, &headers, "POST", &path, &body)?;
    let a = api.clone();
    effect(
        &api,
        key,
        work!(
            [a, caller, decided] | tx | {
                let (engine, tx) = (&a.engine, tx.as_mut());
                let v = match &decided {
                    Decided::Task { id, outcome, note } => {
                        decide(engine, tx, caller, *id, outcome, note.as_deref()).await?
                    }
                    Decided::Exception { id, decision } => {
                        decide_exception(engine, tx, caller, id, decision).await?
                    }
                };
                Ok((StatusCode::OK, v))
            }
        ),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/tasks/{id}/approve", tag = "tasks",
    description = "Only a holder of the task's role (or admin) may decide it.",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = Decision, content_type = "application/json"),
    responses((status = 200, body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve_task(
    State(api): St,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    decide_route(api, caller, headers, id, "approved", body).await
}

#[utoipa::path(post, path = "/api/v1/tasks/{id}/reject", tag = "tasks",
    description = "Only a holder of the task's role (or admin) may decide it; the note is the reason.",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = Decision, content_type = "application/json"),
    responses((status = 200, body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reject_task(
    State(api): St,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    decide_route(api, caller, headers, id, "rejected", body).await
}

// -- invoices ---------------------------------------------------------------------------------

/// A credit note request: `lines` absent credits everything still uncredited (cancels the
/// invoice).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteRequest {
    /// Why (kept, printed on the credit note): 1 to 500 characters.
    pub reason: String,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub lines: Option<Vec<ordo_sales::CreditLine>>,
}

#[utoipa::path(post, path = "/api/v1/invoices/{number}/credit-notes", tag = "invoices",
    description = "Issues a credit note (own gapless series CN-…) for the whole invoice or for `lines` `[{line_no, quantity}]`; it reduces the open amount, or becomes customer credit when the invoice is paid. Role finance. 409 when the invoice or a line is unknown or the quantity exceeds what is left uncredited.",
    params(("number" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = CreditNoteRequest, content_type = "application/json"),
    responses((status = 201, body = Value), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn credit_note(
    State(api): St,
    Caller(caller): Caller,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&caller, super::finance::FINANCE)?;
    let req: CreditNoteRequest = json_body(&body)?;
    if req.reason.trim().is_empty() || req.reason.chars().count() > 500 {
        return Err(ApiError::invalid("reason: 1 to 500 characters").at("/reason"));
    }
    if req.lines.as_ref().is_some_and(|l| l.is_empty()) {
        return Err(
            ApiError::invalid("lines: at least one, or leave it out to credit everything")
                .at("/lines"),
        );
    }
    let path = format!("/api/v1/invoices/{number}/credit-notes");
    let key = idem_key(&caller, &headers, "POST", &path, &body)?;
    let a = api.clone();
    effect(
        &api,
        key,
        work!(
            [a, caller, number, req] | tx | {
                let cn = super::finance::issue_credit_note(
                    &a.engine,
                    tx.as_mut(),
                    caller,
                    number,
                    req.lines.as_deref(),
                    &req.reason,
                )
                .await?;
                Ok((StatusCode::CREATED, cn))
            }
        ),
    )
    .await
}

/// A complaint against an order or an invoice (exactly one of them).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintRequest {
    #[serde(default)]
    pub order_id: Option<String>,
    #[serde(default)]
    pub invoice: Option<String>,
    /// damaged, wrong_item, missing, quality, late_delivery, billing or other.
    pub category: String,
    /// What happened: 1 to 2000 characters.
    pub description: String,
}

#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints",
    description = "Opens a complaint (CMP-…) against an order (`order_id`) or an invoice (`invoice`) with a category; workflows/complaints.yaml triages it (rules/complaints.rhai) and escalates it to a sales manager's task when its SLA runs out. Role sales or sales-manager. 409 for an unknown order or invoice or category.",
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body(content = ComplaintRequest, content_type = "application/json"),
    responses((status = 201, body = Value), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn open_complaint(
    State(api): St,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&caller, super::complaints::OPEN)?;
    let req: ComplaintRequest = json_body(&body)?;
    if req.order_id.is_some() == req.invoice.is_some() {
        return Err(ApiError::invalid("give exactly one of order_id and invoice").at("/order_id"));
    }
    let key = idem_key(&caller, &headers, "POST", "/api/v1/complaints", &body)?;
    let a = api.clone();
    effect(
        &api,
        key,
        work!(
            [a, caller, req] | tx | {
                let against = match (&req.order_id, &req.invoice) {
                    (Some(o), _) => ordo_sales::complaints::Against::Order(o),
                    (None, Some(i)) => ordo_sales::complaints::Against::Invoice(i),
                    (None, None) => return Err(ApiError::invalid("no order_id or invoice")),
                };
                let c = super::complaints::open_complaint(
                    &a.engine,
                    tx.as_mut(),
                    caller,
                    against,
                    &req.category,
                    &req.description,
                )
                .await?;
                Ok((StatusCode::CREATED, c))
            }
        ),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/complaints/{number}", tag = "complaints",
    params(("number" = String, Path)),
    responses((status = 200, body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_complaint(
    State(api): St,
    Caller(caller): Caller,
    Path(number): Path<String>,
) -> ApiResult<Response> {
    require(&caller, roles::READ)?;
    let mut tx = api.engine.store.begin().await?;
    let c = super::complaints::show_complaint(tx.as_mut(), &number).await;
    tx.rollback().await?;
    Ok(json_response(StatusCode::OK, c?.to_string()))
}

#[utoipa::path(post, path = "/api/v1/complaints/{number}/decision", tag = "complaints",
    description = "Decides a complaint: `return` (of `quantity` of order line `line_no`: starts workflows/returns.yaml), `credit` (a credit note on the complaint's invoice or `invoice`, whole or `lines`) or `close`, with a `note`; the workflow goes on (the manager's task is decided when the case was escalated). Role sales or sales-manager. 404 for an unknown complaint; 409 for one decided already or an effect refused (more than shipped, more than invoiced).",
    params(("number" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = super::complaints::DecisionRequest, content_type = "application/json"),
    responses((status = 200, body = Value), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn decide_complaint(
    State(api): St,
    Caller(caller): Caller,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&caller, super::complaints::DECIDE)?;
    let req: super::complaints::DecisionRequest = json_body(&body)?;
    let path = format!("/api/v1/complaints/{number}/decision");
    let key = idem_key(&caller, &headers, "POST", &path, &body)?;
    let a = api.clone();
    effect(
        &api,
        key,
        work!(
            [a, caller, number, req] | tx | {
                let c = super::complaints::decide_complaint(
                    &a.engine,
                    tx.as_mut(),
                    caller,
                    number,
                    req,
                )
                .await?;
                Ok((StatusCode::OK, c))
            }
        ),
    )
    .await
}

/// A return request for one line of a shipped order.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    pub line_no: u32,
    #[schema(value_type = String)]
    pub quantity: rust_decimal::Decimal,
    /// Why (kept with the return): 1 to 500 characters.
    pub reason: String,
    /// The same goods again instead of a credit note (default false).
    #[serde(default)]
    pub replacement: bool,
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/returns", tag = "orders",
    description = "Requests the return (RMA-…) of `quantity` of line `line_no` of a shipped order; workflows/returns.yaml then checks it (rules/returns.rhai: window, returnable, restocking fee) and waits for the goods. Role sales. 404 for an unknown order; 409 when the line is unknown, not shipped, or the quantity is not positive or exceeds what shipped and is not returned yet.",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = ReturnRequest, content_type = "application/json"),
    responses((status = 201, body = Value), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn request_return(
    State(api): St,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&caller, super::returns::SALES)?;
    let req: ReturnRequest = json_body(&body)?;
    if req.reason.trim().is_empty() || req.reason.chars().count() > 500 {
        return Err(ApiError::invalid("reason: 1 to 500 characters").at("/reason"));
    }
    let path = format!("/api/v1/orders/{id}/returns");
    let key = idem_key(&caller, &headers, "POST", &path, &body)?;
    let a = api.clone();
    effect(
        &api,
        key,
        work!(
            [a, caller, id, req] | tx | {
                let want = super::returns::ReturnLine {
                    line_no: req.line_no,
                    quantity: req.quantity,
                    reason: &req.reason,
                    replacement: req.replacement,
                };
                let rma = super::returns::request_return(&a.engine, tx.as_mut(), caller, id, &want)
                    .await?;
                Ok((StatusCode::CREATED, rma))
            }
        ),
    )
    .await
}

/// The body of `POST /api/v1/orders/{id}/cancel`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Why (kept in the history and the audit record): 1 to 500 characters.
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/changes", tag = "orders",
    description = "Changes an order until the affected lines ship: `{ lines: [{ line_no, quantity?, sku?, remove? }], requested_date?, ship_to?, reason? }` (a `line_no` the order lacks adds a line with its `sku`). The order's next version is stored and its workflow runs again from pricing (approval, allocation, reorder). Role sales. 404 for an unknown order; 409 for a shipped line, an order being shipped, ended or cancelled, or a zero or negative quantity (nothing applied).",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = Value, content_type = "application/json"),
    responses((status = 201, body = Value), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_order(
    State(api): St,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&caller, super::orders::SALES)?;
    let change: ordo_sales::change::OrderChange = json_body(&body)?;
    let path = format!("/api/v1/orders/{id}/changes");
    let key = idem_key(&caller, &headers, "POST", &path, &body)?;
    let a = api.clone();
    effect(
        &api,
        key,
        work!(
            [a, caller, id, change] | tx | {
                let v =
                    super::orders::change_order(&a.engine, tx.as_mut(), caller, id, change).await?;
                Ok((StatusCode::CREATED, v))
            }
        ),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders",
    description = "Cancels an order none of whose lines has shipped (held and rejected orders too): its workflow ends `cancelled`. Role sales. 404 for an unknown order; 409 when a line shipped or the order is being shipped, ended or cancelled already.",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = CancelRequest, content_type = "application/json"),
    responses((status = 200, body = Value), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel_order(
    State(api): St,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&caller, super::orders::SALES)?;
    let req: CancelRequest = json_body(&body)?;
    let path = format!("/api/v1/orders/{id}/cancel");
    let key = idem_key(&caller, &headers, "POST", &path, &body)?;
    let a = api.clone();
    effect(
        &api,
        key,
        work!(
            [a, caller, id, req] | tx | {
                let v =
                    super::orders::cancel_order(&a.engine, tx.as_mut(), caller, id, &req.reason)
                        .await?;
                Ok((StatusCode::OK, v))
            }
        ),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/quotes", tag = "quotes",
    description = "Asks for a quotation `{ customer_id, currency, lines: [{ line_no, sku, quantity }], notes? }`: workflows/quotation.yaml prices it like an order, rules/quote.rhai sends it at once or to a sales manager, and it waits for its acceptance until its validity ends. Role sales. 409 for lines out of bounds (a zero or negative quantity).",
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body(content = super::quotes::QuoteRequest, content_type = "application/json"),
    responses((status = 201, body = Value), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn request_quote(
    State(api): St,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&caller, super::quotes::SALES)?;
    let req: super::quotes::QuoteRequest = json_body(&body)?;
    let key = idem_key(&caller, &headers, "POST", "/api/v1/quotes", &body)?;
    let a = api.clone();
    effect(
        &api,
        key,
        work!(
            [a, caller, req] | tx | {
                let v = super::quotes::request_quote(&a.engine, tx.as_mut(), caller, req).await?;
                Ok((StatusCode::CREATED, v))
            }
        ),
    )
    .await
}

/// The body of `POST /api/v1/quotes/{number}/accept`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptQuote {
    /// The customer's purchase order number (default: the quote number).
    #[serde(default)]
    pub po: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/quotes/{number}/accept", tag = "quotes",
    description = "Accepts a sent quote: the order (`<customer>-<po>`) is taken through the order intake at the quoted prices. Role sales. 404 for an unknown quote; 409 when it is not sent yet, was accepted, or its validity ended.",
    params(("number" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = AcceptQuote, content_type = "application/json"),
    responses((status = 201, body = Value), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn accept_quote(
    State(api): St,
    Caller(caller): Caller,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&caller, super::quotes::SALES)?;
    let req: AcceptQuote = json_body(&body)?;
    let path = format!("/api/v1/quotes/{number}/accept");
    let key = idem_key(&caller, &headers, "POST", &path, &body)?;
    let a = api.clone();
    effect(
        &api,
        key,
        work!(
            [a, caller, number, req] | tx | {
                let v = super::quotes::accept_quote(
                    &a.engine,
                    tx.as_mut(),
                    caller,
                    number,
                    req.po.as_deref(),
                )
                .await?;
                Ok((StatusCode::CREATED, v))
            }
        ),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/quotes/{number}", tag = "quotes",
    description = "The stored quote: its lines and prices once sent, validity, status (requested, sent, accepted, expired) and the order it became.",
    params(("number" = String, Path)),
    responses((status = 200, body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_quote(
    State(api): St,
    Caller(caller): Caller,
    Path(number): Path<String>,
) -> ApiResult<Response> {
    require(&caller, roles::READ)?;
    let mut tx = api.engine.store.begin().await?;
    let doc = tx.get_document(ordo_sales::quote::KIND, &number).await?;
    tx.rollback().await?;
    match doc {
        Some(d) => Ok(axum::Json(d).into_response()),
        None => Err(ApiError::not_found(format!(
            "no quote '{}'",
            ordo_contract::excerpt(&number, 100)
        ))),
    }
}

#[utoipa::path(get, path = "/api/v1/invoices/{number}", tag = "invoices",
    description = "JSON, printable HTML with `Accept: text/html`, or its PDF with `Accept: application/pdf` (503 when the server has no Chromium).",
    params(("number" = String, Path)),
    responses((status = 200, body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_invoice(
    State(api): St,
    Caller(caller): Caller,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    printed(
        &api,
        &caller,
        crate::printing::Printable::Invoice,
        &number,
        &headers,
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/credit-notes/{number}", tag = "invoices",
    description = "A credit note: JSON, printable HTML with `Accept: text/html`, or its PDF with `Accept: application/pdf` (503 when the server has no Chromium).",
    params(("number" = String, Path)),
    responses((status = 200, body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_credit_note(
    State(api): St,
    Caller(caller): Caller,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    printed(
        &api,
        &caller,
        crate::printing::Printable::CreditNote,
        &number,
        &headers,
    )
    .await
}

/// An invoice or credit note in the form the `Accept` header asks: PDF, HTML (one template,
/// `crate::printing`), else JSON.
async fn printed(
    api: &Api,
    caller: &Actor,
    what: crate::printing::Printable,
    number: &str,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    require(caller, roles::READ)?;
    let mut tx = api.engine.store.begin().await?;
    let doc = tx.get_document(what.kind(), number).await?;
    let company = tx
        .get_document(crate::company::COMPANY_DOC.0, crate::company::COMPANY_DOC.1)
        .await?;
    tx.rollback().await?;
    let name = match what {
        crate::printing::Printable::Invoice => "invoice",
        crate::printing::Printable::CreditNote => "credit note",
    };
    let Some(doc) = doc else {
        return Err(ApiError::not_found(format!(
            "no {name} '{}'",
            ordo_contract::excerpt(number, 100)
        )));
    };
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let pdf = accept.contains("application/pdf");
    if pdf || accept.contains("text/html") {
        let company: ordo_contract::Company = company
            .and_then(|c| serde_json::from_value(c).ok())
            .ok_or_else(|| {
                ApiError::new(
                    Code::Unavailable,
                    format!("no company profile is installed; a {name} cannot be printed"),
                )
            })?;
        // A stored document missing a field is refused, named, rather than printed with a blank.
        let text = crate::printing::html(what, &doc, &company, None)
            .map_err(|e| ApiError::new(Code::Internal, e))?;
        if pdf {
            let bytes = crate::printing::pdf_bytes(text)
                .await
                .map_err(|e| ApiError::new(Code::Unavailable, e))?;
            return Ok((
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/pdf"),
                )],
                bytes,
            )
                .into_response());
        }
        return Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            text,
        )
            .into_response());
    }
    Ok(json_response(
        StatusCode::OK,
        ordo_sales::export::invoice_json(&doc),
    ))
}

// -- reconciliation ---------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/recon/exceptions", tag = "reconciliation",
    responses((status = 200, body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_exceptions(State(api): St, Caller(caller): Caller) -> ApiResult<Response> {
    require(&caller, roles::READ)?;
    let mut tx = api.engine.store.begin().await?;
    let rows: Vec<Value> = tx
        .get_documents("bank_exception", "")
        .await?
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| d["status"] == "open")
        .collect();
    tx.rollback().await?;
    Ok(axum::Json(json!({ "exceptions": rows })).into_response())
}

#[utoipa::path(get, path = "/api/v1/recon/reports", tag = "reconciliation",
    responses((status = 200, body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn recon_reports(State(api): St, Caller(caller): Caller) -> ApiResult<Response> {
    require(&caller, roles::READ)?;
    let mut tx = api.engine.store.begin().await?;
    let rows = crate::channels::bank::reports(tx.as_mut()).await?;
    tx.rollback().await?;
    Ok(axum::Json(json!({ "reports": rows })).into_response())
}

// -- reports ----------------------------------------------------------------------------------

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First day of the period (YYYY-MM-DD, inclusive).
    from: Option<String>,
    /// Last day of the period (YYYY-MM-DD, inclusive).
    to: Option<String>,
    /// Comma-separated grouping: day|week|month|quarter, customer, item, item-group, channel,
    /// partner (sales), statement|rule (recon).
    by: Option<String>,
}

/// A report's failure as the API's error: an unknown report 404 at `path:name`, a bad
/// parameter 400 at `query:<param>`, a stored document a report cannot read 422 naming it.
pub fn report_error(e: crate::reports::Failure) -> ApiError {
    use crate::reports::Failure;
    match e {
        Failure::Store(e) => e.into(),
        Failure::Report(e) if e.at == "report" => ApiError::not_found(e.message).at("path:name"),
        Failure::Report(e) if matches!(e.at.as_str(), "from" | "to") || e.at.starts_with("by[") => {
            let param = e.at.split('[').next().unwrap_or("by").to_string();
            ApiError::new(Code::BadRequest, e.to_string()).at(format!("query:{param}"))
        }
        Failure::Report(e) => ApiError::invalid(e.to_string()).at(e.at),
    }
}

#[utoipa::path(get, path = "/api/v1/reports/{name}", tag = "reports",
    params(("name" = String, Path, description = "sales, aging, dso, cycle-time, fulfilment, stock, recon, edi"), ReportQuery),
    responses((status = 200, body = Value, description = "`{report, title, from, to, by, columns, rows: [{column: value}], notes}`; a ratio with a zero denominator is null"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_report(
    State(api): St,
    Caller(caller): Caller,
    Path(name): Path<String>,
    q: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    require(&caller, roles::READ)?;
    let q = query(q)?;
    let params = crate::reports::Params::parse(q.from.as_deref(), q.to.as_deref(), q.by.as_deref())
        .map_err(|e| report_error(e.into()))?;
    let rep = crate::reports::run_in(&api.engine, &name, &params)
        .await
        .map_err(report_error)?;
    Ok(axum::Json(rep.to_json()).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchLine {
    pub invoice: String,
    /// Exact decimal; absent: the invoices are filled in order.
    #[schema(value_type = Option<f64>)]
    #[serde(default)]
    pub amount: Option<rust_decimal::Decimal>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchRequest {
    pub invoices: Vec<MatchLine>,
    /// Remember the payer's account for this customer.
    #[serde(default)]
    pub learn: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    pub reason: String,
}

/// A person's decision on a reconciliation exception.
pub enum ReconDecision {
    Match {
        lines: Vec<ordo_recon::ConfirmLine>,
        learn: bool,
        note: Option<String>,
    },
    Reject {
        reason: String,
    },
}

/// Decides exception `id` as `caller`, through the reconciliation connector's functions,
/// with the role check (`finance` or `admin`) and the audit record in `tx`: the API and
/// `ordo recon match|reject` call this. A refusal (unknown exception, decided already, bad
/// amounts) is `409` with the connector's words.
pub async fn decide_exception(
    engine: &crate::runtime::Engine,
    tx: &mut dyn Tx,
    caller: &Actor,
    id: &str,
    decision: &ReconDecision,
) -> ApiResult<Value> {
    require(caller, roles::RECON)?;
    let (action, r) = {
        let mut ctx = crate::runtime::TxContext::command(tx, engine);
        match decision {
            ReconDecision::Match { lines, learn, note } => (
                "recon.exception.matched",
                ordo_recon::confirm_exception(&mut ctx, id, lines, *learn, note.as_deref()).await,
            ),
            ReconDecision::Reject { reason } => (
                "recon.exception.rejected",
                ordo_recon::reject_exception(&mut ctx, id, reason).await,
            ),
        }
    };
    let v = match r {
        Ok(v) => v,
        Err(ordo_contract::StepError::Transient(e)) => {
            tracing::warn!(error = %e, "reconciliation decision: transient");
            return Err(ApiError::new(
                Code::Unavailable,
                "the store is unreachable; try again",
            ));
        }
        Err(e) => return Err(ApiError::new(Code::Conflict, e.to_string())),
    };
    let change = Change {
        action,
        subject: format!("bank_exception/{id}"),
        order_id: None,
        before: Some(json!({ "status": "open" })),
        after: Some(v.clone()),
    };
    audit::record(tx, caller, engine.clock.now_ms(), change).await?;
    Ok(v)
}

#[utoipa::path(post, path = "/api/v1/recon/exceptions/{id}/match", tag = "reconciliation",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = MatchRequest, content_type = "application/json"),
    responses((status = 200, body = Value), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn match_exception(
    State(api): St,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&caller, roles::RECON)?;
    let req: MatchRequest = json_body(&body)?;
    if req.invoices.is_empty() || req.invoices.len() > 1000 {
        return Err(ApiError::invalid("invoices: 1 to 1000").at("/invoices"));
    }
    let lines = req
        .invoices
        .into_iter()
        .map(|l| ordo_recon::ConfirmLine {
            invoice: l.invoice,
            amount: l.amount,
        })
        .collect();
    let decision = ReconDecision::Match {
        lines,
        learn: req.learn,
        note: req.note,
    };
    let decided = Decided::Exception { id, decision };
    decision_route(api, caller, headers, decided, body).await
}

#[utoipa::path(post, path = "/api/v1/recon/exceptions/{id}/reject", tag = "reconciliation",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = RejectRequest, content_type = "application/json"),
    responses((status = 200, body = Value), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reject_exception(
    State(api): St,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&caller, roles::RECON)?;
    let req: RejectRequest = json_body(&body)?;
    if req.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason: required").at("/reason"));
    }
    let decision = ReconDecision::Reject { reason: req.reason };
    let decided = Decided::Exception { id, decision };
    decision_route(api, caller, headers, decided, body).await
}

// -- inbound files ----------------------------------------------------------------------------

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// The file's name as recorded (default `api-upload`).
    name: Option<String>,
}

fn file_name(q: &FileQuery) -> ApiResult<String> {
    let name = q.name.clone().unwrap_or_else(|| "api-upload".to_string());
    let ok = !name.is_empty()
        && name.len() <= 120
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(name)
    } else {
        Err(ApiError::new(
            Code::BadRequest,
            "name: 1 to 120 of a-z, A-Z, 0-9, '.', '_', '-'",
        )
        .at("query:name"))
    }
}

/// A file's outcome as answered: a rejection gets its `location` (line:column) when its
/// reason has one.
fn file_answer(mut v: Value, rejected: Option<&str>) -> Value {
    if let Some(loc) = rejected.and_then(file_location) {
        v["location"] = json!(loc);
    }
    v
}

/// Records `v`, the answer of a decision or an inbound file about `subject`, in the audit
/// trail of `tx` and answers it `200`.
async fn answered(
    tx: &mut dyn Tx,
    caller: &Actor,
    now: i64,
    action: &str,
    subject: String,
    before: Option<Value>,
    v: Value,
) -> ApiResult<(StatusCode, Value)> {
    let change = Change {
        action,
        subject,
        order_id: None,
        before,
        after: Some(v.clone()),
    };
    audit::record(tx, caller, now, change).await?;
    Ok((StatusCode::OK, v))
}

/// The checks before an inbound file route books anything: the caller's role, the file's
/// `?name=`, and the size limit of that kind of file (`limits.SETTING`, `413` past it).
fn inbound_file(
    caller: &Actor,
    need: &[&str],
    q: Result<Query<FileQuery>, axum::extract::rejection::QueryRejection>,
    body: &[u8],
    max: u64,
    setting: &str,
) -> ApiResult<String> {
    require(caller, need)?;
    let name = file_name(&query(q)?)?;
    if body.len() as u64 > max {
        return Err(ApiError::new(
            Code::PayloadTooLarge,
            format!("{} bytes, over limits.{setting} ({max})", body.len()),
        ));
    }
    Ok(name)
}

/// `path:line:col: message` → `line:col`, for a located rejection of a file.
fn file_location(error: &str) -> Option<String> {
    let mut parts = error.split(':');
    parts.next()?;
    let (l, c) = (parts.next()?.trim(), parts.next()?.trim());
    (l.parse::<u64>().is_ok() && c.parse::<u64>().is_ok()).then(|| format!("{l}:{c}"))
}

#[utoipa::path(post, path = "/api/v1/partners/{partner}/files", tag = "files",
    description = "A raw EDI file, handled exactly as if dropped into the partner's inbound folder. Roles: edi-admin, integration.",
    params(("partner" = String, Path), FileQuery, ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = String, content_type = "application/octet-stream"),
    responses((status = 200, description = "processed, duplicate or rejected (with the reason)", body = Value),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn partner_file(
    State(api): St,
    Caller(caller): Caller,
    Path(partner): Path<String>,
    q: Result<Query<FileQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let name = inbound_file(
        &caller,
        roles::PARTNER_FILES,
        q,
        &body,
        api.engine.limits.max_edi_file_bytes,
        "max_edi_file_bytes",
    )?;
    let partners = crate::channels::edi::sync_partners(&api.engine).await?;
    if !partners.iter().any(|p| p.partner == partner) {
        return Err(ApiError::not_found(format!(
            "no trading partner '{}'",
            ordo_contract::excerpt(&partner, 60)
        )));
    }
    let key = idem_key(
        &caller,
        &headers,
        "POST",
        &format!("/api/v1/partners/{partner}/files?name={name}"),
        &body,
    )?;
    let a = api.clone();
    effect(
        &api,
        key,
        work!(
            [a, caller, partners, partner, name, body] | tx | {
                let outcome = crate::channels::edi::receive_in(
                    &a.engine,
                    tx.as_mut(),
                    partners,
                    partner,
                    name,
                    body,
                    false,
                )
                .await?;
                let error = match &outcome {
                    ordo_partners::ReceiveOutcome::Rejected { error, .. } => Some(error.as_str()),
                    _ => None,
                };
                let v = file_answer(serde_json::to_value(&outcome).unwrap_or_default(), error);
                let subject = format!("partner/{partner}/{name}");
                answered(
                    tx.as_mut(),
                    caller,
                    a.engine.clock.now_ms(),
                    "partner.file.received",
                    subject,
                    None,
                    v,
                )
                .await
            }
        ),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/partners/{partner}/files/{id}/reprocess", tag = "files",
    description = "A quarantined file of the partner (id: its content id, `edi_file` record) received again from its stored bytes, after the partner's profile was fixed: the same processing as the inbound folder. Interchanges this file already delivered are skipped, the others processed now. Roles: edi-admin.",
    params(("partner" = String, Path), ("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, description = "the file's new outcome (processed or rejected, with the reason)", body = Value),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "the file is not in quarantine", body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reprocess_partner_file(
    State(api): St,
    Caller(caller): Caller,
    Path((partner, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require(&caller, roles::EDI_ADMIN)?;
    let partners = crate::channels::edi::sync_partners(&api.engine).await?;
    if !partners.iter().any(|p| p.partner == partner) {
        return Err(ApiError::not_found(format!(
            "no trading partner '{}'",
            ordo_contract::excerpt(&partner, 60)
        )));
    }
    let key = idem_key(
        &caller,
        &headers,
        "POST",
        &format!("/api/v1/partners/{partner}/files/{id}/reprocess"),
        &[],
    )?;
    let a = api.clone();
    effect(
        &api,
        key,
        work!(
            [a, caller, partners, partner, id] | tx | {
                use crate::channels::edi::Reprocessed;
                let before = tx
                    .get_document(crate::channels::edi::FILE_DOC, id)
                    .await?
                    .map(|f| f["outcome"].clone());
                let outcome = match crate::channels::edi::reprocess_in(
                    &a.engine,
                    tx.as_mut(),
                    partners,
                    partner,
                    id,
                )
                .await?
                {
                    Reprocessed::Done(o) => o,
                    Reprocessed::NotFound => {
                        return Err(ApiError::not_found(format!(
                            "no file '{}' of partner '{partner}'",
                            ordo_contract::excerpt(id, 80)
                        )));
                    }
                    Reprocessed::NotQuarantined => {
                        return Err(ApiError::new(
                            Code::Conflict,
                            format!("file {id} is not in quarantine: nothing to reprocess"),
                        ));
                    }
                };
                let error = match &outcome {
                    ordo_partners::ReceiveOutcome::Rejected { error, .. } => Some(error.as_str()),
                    _ => None,
                };
                let mut v = file_answer(serde_json::to_value(&outcome).unwrap_or_default(), error);
                v["quarantine_reason"] = json!(outcome.quarantine_reason());
                answered(
                    tx.as_mut(),
                    caller,
                    a.engine.clock.now_ms(),
                    "partner.file.reprocessed",
                    format!("partner/{partner}/{id}"),
                    before,
                    v,
                )
                .await
            }
        ),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/banks/{account}/statements", tag = "files",
    description = "A raw statement file, handled exactly as if dropped into the account's inbound folder. Roles: finance, integration.",
    params(("account" = String, Path), FileQuery, ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = String, content_type = "application/octet-stream"),
    responses((status = 200, description = "imported, duplicate or rejected (with the reason)", body = Value),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn bank_statement(
    State(api): St,
    Caller(caller): Caller,
    Path(account): Path<String>,
    q: Result<Query<FileQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let name = inbound_file(
        &caller,
        roles::STATEMENTS,
        q,
        &body,
        api.engine.limits.max_statement_bytes,
        "max_statement_bytes",
    )?;
    let channels = crate::channels::bank::load_profiles(&api.engine.banks_dir, &api.engine.folders)
        .map_err(|e| {
            ApiError::new(
                Code::Unavailable,
                format!("bank profiles: {}", e.join("; ")),
            )
        })?;
    let Some(ch) = channels.into_iter().find(|c| c.profile.account == account) else {
        return Err(ApiError::not_found(format!(
            "no bank account profile '{}'",
            ordo_contract::excerpt(&account, 60)
        )));
    };
    crate::channels::bank::sync_policy(&api.engine).await?;
    let key = idem_key(
        &caller,
        &headers,
        "POST",
        &format!("/api/v1/banks/{account}/statements?name={name}"),
        &body,
    )?;
    let a = api.clone();
    effect(
        &api,
        key,
        work!(
            [a, caller, ch, account, name, body] | tx | {
                let outcome =
                    crate::channels::bank::import_in(&a.engine, tx.as_mut(), ch, name, body)
                        .await?;
                let error = match &outcome {
                    ordo_recon::ImportOutcome::Rejected { error, .. } => Some(error.as_str()),
                    _ => None,
                };
                let v = file_answer(serde_json::to_value(&outcome).unwrap_or_default(), error);
                let subject = format!("bank/{account}/{name}");
                answered(
                    tx.as_mut(),
                    caller,
                    a.engine.clock.now_ms(),
                    "bank.statement.received",
                    subject,
                    None,
                    v,
                )
                .await
            }
        ),
    )
    .await
}

// -- instances and events ---------------------------------------------------------------------

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InstanceQuery {
    /// running, waiting, failed, ended.
    status: Option<String>,
    /// 1 to 500, default 50.
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/instances", tag = "instances",
    params(InstanceQuery),
    responses((status = 200, body = Value), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_instances(
    State(api): St,
    Caller(caller): Caller,
    q: Result<Query<InstanceQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    require(&caller, roles::READ)?;
    let q = query(q)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(Code::BadRequest, "limit: 1 to 500").at("query:limit"));
    }
    let mut tx = api.engine.store.begin().await?;
    let list = tx.list_instances(q.status.as_deref(), limit).await?;
    tx.rollback().await?;
    Ok(axum::Json(json!({ "instances": list })).into_response())
}

/// Retries a failed instance as `caller`, with its audit record (API and `ordo retry`).
pub async fn retry(
    engine: &crate::runtime::Engine,
    tx: &mut dyn Tx,
    caller: &Actor,
    id: &str,
) -> ApiResult<Value> {
    let inst = match engine.retry_instance(tx, id).await {
        Ok(i) => i,
        Err(crate::runtime::EngineError::Refused(m)) if m.starts_with("no failed instance") => {
            return Err(ApiError::not_found(m));
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        tx,
        caller,
        engine.clock.now_ms(),
        Change {
            action: "instance.retried",
            subject: format!("instance/{}", inst.id),
            order_id: Some(inst.business_key.clone()),
            before: Some(json!({ "status": "failed" })),
            after: Some(json!({ "status": inst.status, "step": inst.step })),
        },
    )
    .await?;
    Ok(json!({ "instance": inst.id, "step": inst.step, "status": inst.status }))
}

#[utoipa::path(post, path = "/api/v1/instances/{id}/retry", tag = "instances",
    params(("id" = String, Path, description = "Instance id or business key"), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn retry_instance(
    State(api): St,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require(&caller, roles::OPERATE)?;
    let key = idem_key(
        &caller,
        &headers,
        "POST",
        &format!("/api/v1/instances/{id}/retry"),
        b"",
    )?;
    let a = api.clone();
    effect(
        &api,
        key,
        work!(
            [a, caller, id] | tx | {
                let v = retry(&a.engine, tx.as_mut(), caller, id).await?;
                Ok((StatusCode::OK, v))
            }
        ),
    )
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRequest {
    pub name: String,
    pub key: String,
    /// Default `received`.
    #[serde(default)]
    pub outcome: Option<String>,
    /// Merged into the data of the instances it reaches.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Option<Value>,
}

#[utoipa::path(post, path = "/api/v1/events", tag = "instances",
    description = "What `ordo event` does: resumes instances waiting for the event and starts workflows it triggers.",
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body(content = EventRequest, content_type = "application/json"),
    responses((status = 200, body = Value), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn send_event(
    State(api): St,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&caller, roles::OPERATE)?;
    let req: EventRequest = json_body(&body)?;
    let max = api.engine.limits.max_id_chars;
    for (field, v) in [("/name", &req.name), ("/key", &req.key)] {
        if let Some(problem) = ordo_contract::intake::id_problem(v, max) {
            return Err(ApiError::invalid(format!("{}: {problem}", &field[1..])).at(field));
        }
    }
    let data = match req.data {
        None => json!({}),
        Some(v @ Value::Object(_)) => v,
        Some(_) => return Err(ApiError::invalid("data: a JSON object").at("/data")),
    };
    let outcome = req.outcome.unwrap_or_else(|| "received".into());
    let (event, event_key) = (req.name, req.key);
    let key = idem_key(&caller, &headers, "POST", "/api/v1/events", &body)?;
    let a = api.clone();
    effect(
        &api,
        key,
        work!(
            [a, caller, event, event_key, outcome, data] | tx | {
                let started = a
                    .engine
                    .emit_event(tx.as_mut(), event, event_key, outcome, data)
                    .await?;
                audit::record(
                    tx.as_mut(),
                    caller,
                    a.engine.clock.now_ms(),
                    Change {
                        action: "event.sent",
                        subject: format!("event/{event}"),
                        order_id: Some(event_key.clone()),
                        before: None,
                        after: Some(
                            json!({ "outcome": outcome, "data": data, "started": started }),
                        ),
                    },
                )
                .await?;
                Ok((
                    StatusCode::OK,
                    json!({ "event": event, "key": event_key, "started": started }),
                ))
            }
        ),
    )
    .await
}

// -- audit ------------------------------------------------------------------------------------

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// RFC 3339 time or YYYY-MM-DD.
    since: Option<String>,
    /// `user:NAME`, `os:NAME` or a bare name (as `user:NAME`).
    who: Option<String>,
    order: Option<String>,
    /// Opaque: the `next` of the previous page.
    cursor: Option<String>,
    /// 1 to 500, default 100.
    limit: Option<i64>,
}

/// `--since`/`since=` as epoch ms: RFC 3339 or a date (midnight UTC).
pub fn parse_since(s: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

/// `--who`/`who=`: a bare name means the API user of that name.
pub fn who_actor(s: &str) -> String {
    if s.contains(':') || s == "system" {
        s.to_string()
    } else {
        format!("user:{s}")
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub records: Vec<crate::store::service::AuditRow>,
    pub next: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_audit(
    State(api): St,
    Caller(caller): Caller,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    require(&caller, roles::AUDIT)?;
    let q = query(q)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(Code::BadRequest, "limit: 1 to 500").at("query:limit"));
    }
    let since = match &q.since {
        Some(s) => Some(parse_since(s).ok_or_else(|| {
            ApiError::new(Code::BadRequest, "since: RFC 3339 or YYYY-MM-DD").at("query:since")
        })?),
        None => None,
    };
    let after_seq = match &q.cursor {
        Some(c) => decode_cursor(c)?.parse().map_err(|_| {
            ApiError::new(Code::BadRequest, "cursor: not one this API gave").at("query:cursor")
        })?,
        None => 0,
    };
    let filter = crate::store::service::AuditFilter {
        since,
        actor: q.who.as_deref().map(who_actor),
        order_id: q.order.clone(),
        after_seq,
        limit,
    };
    let mut tx = api.engine.store.begin().await?;
    let records = tx.audit_list(&filter).await?;
    tx.rollback().await?;
    let next = (records.len() as i64 == limit)
        .then(|| records.last().map(|r| encode_cursor(&r.seq.to_string())))
        .flatten();
    Ok(axum::Json(AuditPage { records, next }).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_and_locations() {
        assert_eq!(pointer_of("lines[0].quantity"), "/lines/0/quantity");
        assert_eq!(pointer_of("a/b.c~d"), "/a~1b/c~0d");
        assert_eq!(
            intake_location("request: order #2 ('X'): lines[1].qty: unknown field", true)
                .as_deref(),
            Some("/1/lines/1/qty")
        );
        assert_eq!(
            intake_location("request: order #1: customer_id: missing field", false).as_deref(),
            Some("/customer_id")
        );
        assert_eq!(
            intake_location("request:3:15: EOF", false).as_deref(),
            Some("3:15")
        );
        assert_eq!(
            file_location("f.edi:4:7: bad segment").as_deref(),
            Some("4:7")
        );
        assert_eq!(file_location("no location"), None);
    }
}

//! The console's pages and actions. Data comes from the API's handlers, called as the
//! signed-in user ([`call`]); actions call the handler of the matching API route, so the role
//! rule, the decision, the idempotency and the audit record are the API's own.

use super::json_of;
use super::session::{Viewer, field};
use super::view::{
    csrf, error_page, fragment, live, money, money_value, page, status, text, time, wants,
};
use crate::api::Api;
use crate::api::auth::may_decide;
use crate::api::error::{ApiError, ApiResult, Code};
use crate::api::routes::{self, Caller, roles};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;
use std::sync::Arc;

type St = State<Arc<Api>>;
type Pairs = Query<Vec<(String, String)>>;

/// Rows per page of a long list.
const PAGE: usize = 50;
/// Most invoices a customer page reads (it says so when there are more).
const CUSTOMER_INVOICES: i64 = 5_000;

fn caller(v: &Viewer) -> Caller {
    Caller(v.actor.clone())
}

/// A page, or its error as a page.
fn done(v: &Viewer, r: ApiResult<Response>) -> Response {
    r.unwrap_or_else(|e| error_page(Some(v), &e))
}

fn pair<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    field(q, name).filter(|s| !s.is_empty())
}

/// `?page=N` (1-based, bounded) as an offset.
fn offset(q: &[(String, String)]) -> usize {
    pair(q, "page")
        .and_then(|p| p.parse::<usize>().ok())
        .map(|p| p.clamp(1, 100_000) - 1)
        .unwrap_or(0)
        * PAGE
}

fn pager(path: &str, off: usize, total: usize) -> Markup {
    let page = off / PAGE + 1;
    let pages = total.div_ceil(PAGE).max(1);
    html! {
        nav.pager aria-label="Pages" {
            @if page > 1 { a href={ (path) "?page=" (page - 1) } { "‹ Previous" } " " }
            "Page " (page) " of " (pages) " (" (total) ")"
            @if page < pages { " " a href={ (path) "?page=" (page + 1) } { "Next ›" } }
        }
    }
}

fn message(q: &[(String, String)]) -> Markup {
    html! { @if let Some(m) = pair(q, "done") { p.notice role="status" { (m) } } }
}

pub async fn home() -> Redirect {
    Redirect::to("/inbox")
}

// -- inbox ------------------------------------------------------------------------------------

/// What the approver weighs beside a task: the order's value and the customer's standing.
struct Standing {
    customer: String,
    currency: String,
    value: Option<Decimal>,
    credit_limit: Option<Decimal>,
    open_balance: Decimal,
    overdue: Decimal,
    reason: String,
}

/// The standing of the order behind a task, whose instance data is `data`, read in `tx`.
async fn standing(tx: &mut dyn crate::store::Tx, order: &str, data: &Value) -> ApiResult<Standing> {
    use ordo_sales::master;
    let doc = tx
        .get_document("order", order)
        .await?
        // an order taken by intake before its document was written shows as no document
        .unwrap_or(Value::Null);
    let customer = text(&doc["customer_id"]);
    let cust = tx.get_document("customer", &customer).await?;
    let open_balance = tx
        .stock_level(&master::ar_key(&customer), master::LEDGER)
        .await?;
    let overdue = tx
        .stock_level(&master::overdue_key(&customer), master::LEDGER)
        .await?;
    let dec = |v: &Value| Decimal::from_str(&text(v)).ok();
    // A held order's reasons, else the reason the last rule gave with its outcome (a rule
    // step merges its values into the instance data: `reason` sits at the top).
    let reason = match &data["hold_reasons"] {
        Value::Array(a) if !a.is_empty() => a.iter().map(text).collect::<Vec<_>>().join("; "),
        _ => text(&data["reason"]),
    };
    Ok(Standing {
        currency: text(&doc["currency"]),
        customer,
        value: routes::order_total(data),
        credit_limit: cust.as_ref().and_then(|c| dec(&c["credit_limit"])),
        open_balance,
        overdue,
        reason,
    })
}

/// The open tasks `v` may decide (the API's rule, `may_decide`), oldest first and among tasks
/// of the same age the largest first, with each order's key and instance data; then the
/// standing of the page's rows only. One read transaction: the page costs the open tasks'
/// instances plus its own rows' documents, not a transaction per task.
async fn inbox_rows(
    api: &Api,
    v: &Viewer,
    off: usize,
) -> ApiResult<(usize, Vec<(crate::model::Task, String, Standing)>)> {
    let mut tx = api.engine.store.begin().await?;
    let r = async {
        let mut rows = Vec::new();
        for t in tx.list_tasks("open").await? {
            if !may_decide(&v.actor.roles, &t.role) {
                continue;
            }
            let inst = tx.load_instance(&t.instance_id).await?;
            let (key, data) = inst.map(|i| (i.business_key, i.data)).unwrap_or_default();
            let value = routes::order_total(&data);
            rows.push((t, key, data, value));
        }
        rows.sort_by(|a, b| {
            (a.0.created_at, std::cmp::Reverse(a.3)).cmp(&(b.0.created_at, std::cmp::Reverse(b.3)))
        });
        let total = rows.len();
        let mut page = Vec::new();
        for (t, key, data, _) in rows.into_iter().skip(off).take(PAGE) {
            let s = standing(tx.as_mut(), &key, &data).await?;
            page.push((t, key, s));
        }
        Ok::<_, ApiError>((total, page))
    }
    .await;
    tx.rollback().await?;
    r
}

fn time_left(due: Option<i64>, now: i64) -> String {
    match due {
        None => "no escalation".into(),
        Some(d) if d <= now => "escalation due".into(),
        Some(d) => {
            let mins = (d - now) / 60_000;
            format!("{}h {:02}m", mins / 60, mins % 60)
        }
    }
}

pub async fn inbox(State(api): St, v: Viewer, Query(q): Pairs) -> Response {
    let r = async {
        let off = offset(&q);
        let (total, rows) = inbox_rows(&api, &v, off).await?;
        let now = api.engine.clock.now_ms();
        let list = html! {
                @if total == 0 { p { "No open tasks for your roles." } }
                @else {
                    div.scroll { table.stack {
                        thead { tr { th { "Task" } th { "Order" } th { "Customer" } th.num { "Value" }
                            th.num { "Credit limit" } th.num { "Open balance" } th.num { "Overdue" }
                            th { "Reason" } th { "Time left" } th { "Decide" } } }
                        tbody { @for (task, order, s) in &rows {
                            @let id = task.id;
                            tr {
                                td data-label="Task" { a href={ "/tasks/" (id) } { "#" (id) " " (task.step) } }
                                td data-label="Order" { a href={ "/orders/" (order) } { (order) } }
                                td data-label="Customer" { a href={ "/customers/" (s.customer) } { (s.customer) } }
                                td.num data-label="Value" { (s.value.map(money).unwrap_or_default()) " " (s.currency) }
                                td.num data-label="Credit limit" { (s.credit_limit.map(money).unwrap_or_else(|| "none".into())) }
                                td.num data-label="Open balance" { (money(s.open_balance)) }
                                td.num data-label="Overdue" { (money(s.overdue)) }
                                td data-label="Reason" { (s.reason) }
                                td data-label="Time left" { (time_left(task.due_at, now)) }
                                td data-label="Decide" { (decide_form(&v, id)) }
                            }
                        } }
                    } }
                    (pager("/inbox", off, total))
                }
            };
        if wants(&v, "inbox") {
            return Ok(fragment("inbox", 30, list));
        }
        let body = html! {
            h1 { "Inbox" }
            (message(&q))
            (live("inbox", 30, list))
        };
        Ok(page(Some(&v), "Inbox", body))
    }
    .await;
    done(&v, r)
}

fn decide_form(v: &Viewer, id: i64) -> Markup {
    html! {
        form.inline method="post" action={ "/tasks/" (id) "/decide" } {
            (csrf(v))
            label { "Note" input name="note" maxlength="2000"; }
            button type="submit" name="outcome" value="approve" { "Approve" }
            button.reject type="submit" name="outcome" value="reject" { "Reject" }
        }
    }
}

/// One task with its decision form; 403 for a user whose roles may not decide it (the
/// API's rule).
pub async fn task_page(State(api): St, v: Viewer, Path(id): Path<String>) -> Response {
    let r = async {
        let id: i64 = id
            .parse()
            .map_err(|_| ApiError::not_found("no such task"))?;
        let mut tx = api.engine.store.begin().await?;
        let task = tx.load_task(id).await?;
        tx.rollback().await?;
        let Some(task) = task else {
            return Err(ApiError::not_found(format!("no task {id}")));
        };
        if !may_decide(&v.actor.roles, &task.role) {
            return Err(ApiError::new(
                Code::Forbidden,
                format!("task {id} is for role '{}' (or admin)", task.role),
            ));
        }
        let key = api
            .engine
            .store
            .begin()
            .await?
            .load_instance(&task.instance_id)
            .await?
            .map(|i| i.business_key)
            // display only: a task whose instance is gone shows no order key
            .unwrap_or_default();
        let body = html! {
            h1 { "Task #" (id) ": " (task.step) }
            p { "Order " a href={ "/orders/" (key) } { (key) } " · role " (task.role) " · " (status(&task.status)) }
            @if task.status == "open" { (decide_form(&v, id)) }
            @else { p { "Decided: " (task.outcome.clone().unwrap_or_default()) " " (task.note.clone().unwrap_or_default()) } }
        };
        Ok(page(Some(&v), "Task", body))
    }
    .await;
    done(&v, r)
}

pub async fn decide(State(api): St, v: Viewer, Path(id): Path<String>, body: Bytes) -> Response {
    let form = match v.form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let note = field(&form, "note")
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let json = Bytes::from(json!({ "note": note }).to_string());
    let r = match field(&form, "outcome") {
        Some("approve") => {
            routes::approve_task(
                State(api),
                caller(&v),
                Path(id.clone()),
                HeaderMap::new(),
                json,
            )
            .await
        }
        Some("reject") => {
            routes::reject_task(
                State(api),
                caller(&v),
                Path(id.clone()),
                HeaderMap::new(),
                json,
            )
            .await
        }
        _ => Err(ApiError::invalid("outcome: approve or reject")),
    };
    after(&v, json_of(r).await, "/inbox", |d| {
        format!(
            "Task {id}: {} (order {})",
            text(&d["outcome"]),
            text(&d["order"])
        )
    })
}

/// An action's answer: back to `path` saying what happened, or the refusal as a page.
fn after(
    v: &Viewer,
    r: ApiResult<Value>,
    path: &str,
    what: impl FnOnce(&Value) -> String,
) -> Response {
    match r {
        Ok(d) => back_to(path, &what(&d)),
        Err(e) => error_page(Some(v), &e),
    }
}

/// A redirect after an action (post/redirect/get), with what happened shown on arrival.
fn back_to(path: &str, what: &str) -> Response {
    let q = serde_urlencoded::to_string([("done", what)]).unwrap_or_default();
    Redirect::to(&format!("{path}?{q}")).into_response()
}

// -- orders -----------------------------------------------------------------------------------

/// The order list: the API's filters (state, customer, dates), its cursor paging.
pub async fn orders(State(api): St, v: Viewer, Query(q): Pairs) -> Response {
    let r = async {
        let keep: Vec<(&str, &str)> = ["status", "customer", "from", "to", "channel", "min", "max", "cursor"]
            .iter()
            .filter_map(|k| pair(&q, k).map(|v| (*k, v)))
            .collect();
        let qs = serde_urlencoded::to_string(&keep).unwrap_or_default();
        let uri: Uri = format!("/?{qs}")
            .parse()
            .map_err(|_| ApiError::new(Code::BadRequest, "the search could not be read"))?;
        let parsed = Query::try_from_uri(&uri);
        let list = json_of(routes::list_orders(State(api.clone()), caller(&v), parsed).await).await?;
        let next = list["next"].as_str().map(|n| {
            let mut k: Vec<(&str, &str)> = keep.iter().filter(|(k, _)| *k != "cursor").copied().collect();
            k.push(("cursor", n));
            serde_urlencoded::to_string(&k).unwrap_or_default()
        });
        let sel = |s: &str| pair(&q, "status") == Some(s);
        let list = html! {
                div.scroll { table.stack {
                    thead { tr { th { "Order" } th { "Customer" } th { "PO" } th { "Date" } th { "Channel" } th.num { "Total" } th { "State" } th { "Step" } } }
                    tbody { @for o in list["orders"].as_array().into_iter().flatten() {
                        tr {
                            td data-label="Order" { a href={ "/orders/" (text(&o["id"])) } { (text(&o["id"])) } }
                            td data-label="Customer" { a href={ "/customers/" (text(&o["customer_id"])) } { (text(&o["customer_id"])) } }
                            td data-label="PO" { (text(&o["po_number"])) }
                            td data-label="Date" { (text(&o["order_date"])) }
                            td data-label="Channel" { (text(&o["channel"])) }
                            td.num data-label="Total" { (money_value(&o["total"])) " " (text(&o["currency"])) }
                            td data-label="State" { (status(&text(&o["status"]))) " " (text(&o["end_status"])) }
                            td data-label="Step" { (text(&o["step"])) }
                        }
                    } }
                } }
                @if let Some(n) = next { p.pager { a href={ "/orders?" (n) } { "Next page ›" } } }
            };
        if wants(&v, "orders") {
            return Ok(fragment("orders", 60, list));
        }
        let body = html! {
            h1 { "Orders" }
            form.inline method="get" action="/orders" role="search" {
                label { "State" select name="status" {
                    option value="" { "any" }
                    @for s in ["running", "waiting", "failed", "ended"] { option value=(s) selected[sel(s)] { (s) } }
                } }
                label { "Customer" input name="customer" value=(pair(&q, "customer").unwrap_or("")); }
                label { "From" input type="date" name="from" value=(pair(&q, "from").unwrap_or("")); }
                label { "To" input type="date" name="to" value=(pair(&q, "to").unwrap_or("")); }
                label { "Channel" input name="channel" list="channels" maxlength="40" size="9" value=(pair(&q, "channel").unwrap_or("")); }
                datalist #channels { @for c in ["json", "csv", "edi-x12", "edifact", "cli"] { option value=(c) {} } }
                label { "Amount from" input name="min" inputmode="decimal" size="8" value=(pair(&q, "min").unwrap_or("")); }
                label { "Amount to" input name="max" inputmode="decimal" size="8" value=(pair(&q, "max").unwrap_or("")); }
                button type="submit" { "Search" }
            }
            (live("orders", 60, list))
        };
        Ok(page(Some(&v), "Orders", body))
    }
    .await;
    done(&v, r)
}

pub async fn order_page(
    State(api): St,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Pairs,
) -> Response {
    let r = async {
        let o = json_of(routes::get_order(State(api.clone()), caller(&v), Path(id.clone())).await).await?;
        let order = &o["order"];
        let mut invoices: Vec<Value> = Vec::new();
        for inst in o["instances"].as_array().into_iter().flatten() {
            if let Some(n) = inst["data"]["invoice"]["number"].as_str() {
                let inv = routes::get_invoice(State(api.clone()), caller(&v), Path(n.to_string()), HeaderMap::new()).await;
                invoices.push(json_of(inv).await.unwrap_or_else(|e| json!({ "number": n, "error": e.message })));
            }
        }
        let admin = v.actor.has_any(roles::OPERATE);
        let body = html! {
            h1 { "Order " (id) }
            (message(&q))
            div.card {
                p { "Customer " a href={ "/customers/" (text(&order["customer_id"])) } { b { (text(&order["customer_id"])) } } " · PO " (text(&order["po_number"]))
                    " · " (text(&order["order_date"])) " · " (text(&order["currency"])) " · channel " (text(&order["channel"])) }
                div.scroll { table {
                    thead { tr { th { "Line" } th { "Item" } th.num { "Quantity" } th.num { "Unit price" } } }
                    tbody { @for (i, l) in order["lines"].as_array().into_iter().flatten().enumerate() {
                        tr { td { (i + 1) } td { (text(&l["item"])) (text(&l["sku"])) } td.num { (text(&l["quantity"])) } td.num { (text(&l["unit_price"])) } }
                    } }
                } }
            }
            @for inst in o["instances"].as_array().into_iter().flatten() {
                (instance_card(&v, inst, admin))
            }
            h2 { "Invoices and payments" }
            @if invoices.is_empty() { p { "No invoice yet." } }
            @for inv in &invoices {
                div.card {
                    p { a href={ "/invoices/" (text(&inv["number"])) } target="_blank" { "Invoice " (text(&inv["number"])) } " · "
                        (status(&text(&inv["status"]))) " · open " (text(&inv["open_amount"])) " " (text(&inv["currency"]))
                        " · due " (text(&inv["due_date"])) }
                    @if let Some(e) = inv["error"].as_str() { p.error { (e) } }
                    @for p in inv["payments"].as_array().into_iter().flatten() {
                        p { "Payment " (text(&p["id"])) ": " (text(&p["amount"])) " " (text(&p["date"])) }
                    }
                }
            }
        };
        Ok(page(Some(&v), "Order", body))
    }
    .await;
    done(&v, r)
}

fn instance_card(v: &Viewer, inst: &Value, admin: bool) -> Markup {
    let st = text(&inst["status"]);
    let data = &inst["data"];
    html! {
        div.card {
            h2 { (text(&inst["workflow"])) " v" (text(&inst["version"])) " · " (status(&st)) " " (text(&inst["end_status"])) }
            p { "At step " b { (text(&inst["step"])) } }
            @if let Some(e) = inst["error"].as_str() { p.error { "Error: " (e) } }
            @if st == "failed" && admin {
                form method="post" action={ "/instances/" (text(&inst["id"])) "/retry" } {
                    (csrf(v)) button type="submit" { "Retry" }
                }
            }
            @if let Some(h) = inst["hold_reasons"].as_array() { @if !h.is_empty() {
                h3 { "Hold reasons" } ul { @for r in h { li { (text(r)) } } }
            } }
            @if inst["open_task"].is_object() {
                p { "Open task " a href={ "/tasks/" (text(&inst["open_task"]["id"])) } { "#" (text(&inst["open_task"]["id"])) }
                    " for " (text(&inst["open_task"]["role"])) }
            }
            @if data["shipment"].is_object() {
                h3 { "Shipment " (text(&data["shipment"]["id"])) }
                ul { @for p in data["shipment"]["packages"].as_array().into_iter().flatten() {
                    li { "SSCC " (text(&p["sscc"])) @if !p["tracking"].is_null() { " · tracking " (text(&p["tracking"])) } }
                } }
            }
            @if let Some(e) = inst["edi"].as_array() { @if !e.is_empty() {
                h3 { "EDI messages" }
                ul { @for m in e { li { code { (text(m)) } } } }
            } }
            h3 { "Timeline" }
            div.scroll { table.stack {
                thead { tr { th { "Time" } th { "Event" } th { "Step" } th { "Outcome" } } }
                tbody { @for h in inst["history"].as_array().into_iter().flatten() {
                    tr { td data-label="Time" { (time(h["at"].as_i64())) } td data-label="Event" { (text(&h["kind"])) }
                         td data-label="Step" { (text(&h["step"])) } td data-label="Outcome" { (text(&h["outcome"])) } }
                } }
            } }
        }
    }
}

pub async fn retry(State(api): St, v: Viewer, Path(id): Path<String>, body: Bytes) -> Response {
    if let Err(r) = v.form(&body) {
        return r;
    }
    let r =
        routes::retry_instance(State(api), caller(&v), Path(id.clone()), HeaderMap::new()).await;
    after(&v, json_of(r).await, "/orders", |d| {
        format!(
            "Instance {}: retried at step {}",
            text(&d["instance"]),
            text(&d["step"])
        )
    })
}

/// The printable invoice the API prints for `Accept: text/html`.
pub async fn invoice(State(api): St, v: Viewer, Path(number): Path<String>) -> Response {
    let mut h = HeaderMap::new();
    h.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
    done(
        &v,
        routes::get_invoice(State(api), caller(&v), Path(number), h).await,
    )
}

// -- customers --------------------------------------------------------------------------------

fn require_read(v: &Viewer) -> ApiResult<()> {
    if v.actor.has_any(roles::READ) {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::Forbidden,
            "your roles do not allow reading customers",
        ))
    }
}

pub async fn customers(State(api): St, v: Viewer, Query(q): Pairs) -> Response {
    let r = async {
        require_read(&v)?;
        // the ids only, then the page's documents: a list costs its page
        let off = offset(&q);
        let mut tx = api.engine.store.begin().await?;
        let ids = tx.list_documents("customer", "").await?;
        let shown: Vec<&str> = ids.iter().skip(off).take(PAGE).map(String::as_str).collect();
        let mut docs = tx.get_documents_by_id("customer", &shown).await?;
        tx.rollback().await?;
        let list: Vec<(&str, Value)> = shown
            .iter()
            .map(|id| (*id, docs.remove(*id).unwrap_or(Value::Null)))
            .collect();
        let body = html! {
            h1 { "Customers" }
            div.scroll { table.stack {
                thead { tr { th { "Customer" } th { "Name" } th { "Currency" } th.num { "Credit limit" } th { "Terms" } } }
                tbody { @for (id, c) in &list {
                    tr { td data-label="Customer" { a href={ "/customers/" (id) } { (id) } }
                         td data-label="Name" { (text(&c["name"])) } td data-label="Currency" { (text(&c["currency"])) }
                         td.num data-label="Credit limit" { (text(&c["credit_limit"])) } td data-label="Terms" { (text(&c["terms"])) } }
                } }
            } }
            (pager("/customers", off, ids.len()))
        };
        Ok(page(Some(&v), "Customers", body))
    }
    .await;
    done(&v, r)
}

/// A customer: master data, credit used, open items with dunning levels, payments, the
/// accounts learned from its payments, and its latest orders (the API's order list).
pub async fn customer_page(State(api): St, v: Viewer, Path(id): Path<String>) -> Response {
    use ordo_sales::master;
    let r = async {
        require_read(&v)?;
        let mut tx = api.engine.store.begin().await?;
        let cust = tx.get_document("customer", &id).await?;
        let ar = tx.stock_level(&master::ar_key(&id), master::LEDGER).await?;
        let overdue = tx.stock_level(&master::overdue_key(&id), master::LEDGER).await?;
        let credit = tx.stock_level(&master::credit_key(&id), master::LEDGER).await?;
        // the customer's invoices through the index of migration 0027, not every invoice
        let invoices: Vec<(String, Value)> = tx
            .documents_where("invoice", "customer_id", &id, CUSTOMER_INVOICES)
            .await?
            .into_iter()
            .filter(|(_, d)| d["customer_id"] == id.as_str())
            .collect();
        tx.rollback().await?;
        let Some(c) = cust else {
            return Err(ApiError::not_found(format!(
                "no customer '{}'",
                ordo_contract::excerpt(&id, 60)
            )));
        };
        let uri: Uri = format!("/?{}", serde_urlencoded::to_string([("customer", id.as_str()), ("limit", "20")]).unwrap_or_default())
            .parse()
            .map_err(|_| ApiError::not_found("no such customer"))?;
        let orders = json_of(routes::list_orders(State(api.clone()), caller(&v), Query::try_from_uri(&uri)).await).await?;
        let open: Vec<&(String, Value)> = invoices.iter().filter(|(_, d)| d["status"] != "paid" && d["status"] != "cancelled").collect();
        let body = html! {
            h1 { "Customer " (id) }
            div.card {
                p { b { (text(&c["name"])) } " · " (text(&c["currency"])) " · terms " (text(&c["terms"])) " · " (text(&c["country"])) }
                p { "Credit limit " (text(&c["credit_limit"])) " · credit used (open receivables) " (ar)
                    " · overdue " (overdue) " · customer credit " (credit) }
                p { "Learned bank accounts: "
                    @for a in c["bank_accounts"].as_array().into_iter().flatten() { code { (text(a)) } " " } }
            }
            h2 { "Open items" }
            div.scroll { table.stack {
                thead { tr { th { "Invoice" } th { "State" } th.num { "Open" } th { "Due" } th { "Dunning level" } } }
                tbody { @for (n, d) in open.iter().take(200) {
                    tr { td data-label="Invoice" { a href={ "/invoices/" (n) } { (n) } } td data-label="State" { (status(&text(&d["status"]))) }
                         td.num data-label="Open" { (text(&d["open_amount"])) " " (text(&d["currency"])) }
                         td data-label="Due" { (text(&d["due_date"])) } td data-label="Dunning level" { (text(&d["dunning_level"])) } }
                } }
            } }
            h2 { "Payments" }
            ul { @for (n, d) in &invoices { @for p in d["payments"].as_array().into_iter().flatten() {
                li { (text(&p["id"])) ": " (text(&p["amount"])) " on " a href={ "/invoices/" (n) } { (n) } }
            } } }
            h2 { "Orders" }
            ul { @for o in orders["orders"].as_array().into_iter().flatten() {
                li { a href={ "/orders/" (text(&o["id"])) } { (text(&o["id"])) } " " (text(&o["order_date"])) " " (status(&text(&o["status"]))) " " (text(&o["end_status"])) }
            } }
            @if orders["next"].is_string() { p { a href={ "/orders?customer=" (id) } { "All orders of " (id) " ›" } } }
        };
        Ok(page(Some(&v), "Customer", body))
    }
    .await;
    done(&v, r)
}

// -- finance ----------------------------------------------------------------------------------

pub async fn finance(State(api): St, v: Viewer, Query(q): Pairs) -> Response {
    let r = async {
        let ex = json_of(routes::list_exceptions(State(api.clone()), caller(&v)).await).await?;
        let open: Vec<&Value> = ex["exceptions"].as_array().into_iter().flatten().collect();
        let off = offset(&q);
        let list = html! {
                @if open.is_empty() { p { "No open exceptions." } }
                @else {
                    div.scroll { table.stack {
                        thead { tr { th { "Exception" } th { "Entry" } th.num { "Amount" } th { "Date" } th { "Remittance" } th { "Reason" } th { "Candidates" } } }
                        tbody { @for e in open.iter().skip(off).take(PAGE) {
                            tr {
                                td data-label="Exception" { a href={ "/finance/exceptions/" (text(&e["id"])) } { (text(&e["id"])) } }
                                td data-label="Entry" { (text(&e["entry"])) }
                                td.num data-label="Amount" { (text(&e["amount"])) " " (text(&e["currency"])) " " (text(&e["direction"])) }
                                td data-label="Date" { (text(&e["booking_date"])) }
                                td data-label="Remittance" { (text(&e["remittance"])) }
                                td data-label="Reason" { (text(&e["reason"])) }
                                td data-label="Candidates" { (e["candidates"].as_array().map(Vec::len).unwrap_or(0)) }
                            }
                        } }
                    } }
                    (pager("/finance", off, open.len()))
                }
            };
        if wants(&v, "exceptions") {
            return Ok(fragment("exceptions", 30, list));
        }
        // the rest of the page only on the page, not on a refresh of its list
        let reports = json_of(routes::recon_reports(State(api.clone()), caller(&v)).await).await?;
        // list_exceptions checked the read role above
        // the clock's range is checked where its offset is set; out of range cannot happen
        let today = chrono::DateTime::from_timestamp_millis(api.engine.clock.now_ms())
            .unwrap_or_default()
            .date_naive();
        let mut tx = api.engine.store.begin().await?;
        let aging = crate::receivables::aging_in(tx.as_mut(), today).await;
        tx.rollback().await?;
        // a stored invoice that cannot be read fails only this section, named
        let aging = aging?;
        let body = html! {
            h1 { "Finance" }
            (message(&q))
            h2 { "Reconciliation exceptions" }
            (live("exceptions", 30, list))
            h2 { "Receivables aging" }
            div.scroll { table.stack {
                thead { tr { th { "Currency" } @for b in crate::receivables::BUCKETS { th.num { (b) } } th.num { "Total" } th.num { "Invoices" } } }
                tbody { @for row in aging.as_ref().map(|r| r.as_slice()).unwrap_or(&[]) {
                    tr { td data-label="Currency" { (row.currency) }
                         @for (b, amount) in crate::receivables::BUCKETS.iter().zip(row.buckets.iter()) { td.num data-label=(b) { (money(*amount)) } }
                         td.num data-label="Total" { (money(row.total)) } td.num data-label="Invoices" { (row.invoices) } }
                } }
            } }
            @if let Err(e) = &aging { p.error { "Aging: " (e) } }
            h2 { "Statements" }
            div.scroll { table.stack {
                thead { tr { th { "Report" } th { "Details" } } }
                tbody { @for rep in reports["reports"].as_array().into_iter().flatten().take(200) {
                    tr { td data-label="Report" { (text(&rep["statement_id"])) " " (text(&rep["account"])) }
                         td data-label="Details" { (report_summary(rep)) } }
                } }
            } }
        };
        Ok(page(Some(&v), "Finance", body))
    }
    .await;
    done(&v, r)
}

/// A statement report's scalar fields as `key: value` (nested parts left to the API).
fn report_summary(rep: &Value) -> String {
    rep.as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, v)| {
                    !v.is_object() && !v.is_array() && *k != "statement_id" && *k != "account"
                })
                .map(|(k, v)| format!("{k}: {}", text(v)))
                .collect::<Vec<_>>()
                .join(" · ")
        })
        .unwrap_or_default()
}

pub async fn exception_page(State(api): St, v: Viewer, Path(id): Path<String>) -> Response {
    let r = async {
        let ex = json_of(routes::list_exceptions(State(api.clone()), caller(&v)).await).await?;
        let Some(e) = ex["exceptions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["id"] == id.as_str())
            .cloned()
        else {
            return Err(ApiError::not_found(format!(
                "no open exception '{}'",
                ordo_contract::excerpt(&id, 60)
            )));
        };
        let may = v.actor.has_any(roles::RECON);
        let body = html! {
            h1 { "Exception " (id) }
            div.card {
                p { (text(&e["amount"])) " " (text(&e["currency"])) " " (text(&e["direction"])) " · " (text(&e["entry"])) " · " (text(&e["booking_date"])) }
                p { "Remittance: " (text(&e["remittance"])) }
                p { "Payer account: " (text(&e["counterparty_account"])) " · customer " (text(&e["customer_id"])) }
                p { "Reason: " (text(&e["reason"])) }
            }
            @if may {
                h2 { "Match to invoices" }
                form method="post" action={ "/finance/exceptions/" (id) "/match" } {
                    (csrf(&v))
                    div.scroll { table.stack {
                        thead { tr { th { "Use" } th { "Invoice" } th { "Customer" } th.num { "Open" } th.num { "Score" } th { "Amount (blank: fill in order)" } } }
                        tbody {
                            @for (i, c) in e["candidates"].as_array().into_iter().flatten().enumerate() {
                                @let inv = text(&c["invoice"]);
                                tr {
                                    td data-label="Use" { input type="checkbox" id={ "use" (i) } name="invoice" value=(inv); }
                                    td data-label="Invoice" { label for={ "use" (i) } { (inv) } }
                                    td data-label="Customer" { (text(&c["customer_id"])) }
                                    td.num data-label="Open" { (text(&c["amount_open"])) }
                                    td.num data-label="Score" { (text(&c["score"])) }
                                    td data-label="Amount" { input aria-label={ "Amount for " (inv) } name={ "amount:" (inv) } inputmode="decimal"; }
                                }
                            }
                        }
                    } }
                    p { label { "Other invoice numbers (comma-separated) " input name="other"; } }
                    p { label { input type="checkbox" name="learn" value="1"; " Learn the payer's account for this customer" } }
                    p { label { "Note " input name="note" maxlength="2000"; } }
                    p { button type="submit" { "Match" } }
                }
                h2 { "Reject" }
                form method="post" action={ "/finance/exceptions/" (id) "/reject" } {
                    (csrf(&v))
                    p { label { "Reason " input name="reason" required maxlength="2000"; } }
                    p { button.reject type="submit" { "Reject" } }
                }
            }
        };
        Ok(page(Some(&v), "Exception", body))
    }
    .await;
    done(&v, r)
}

/// The API's match request from the form: the ticked candidates (each with its amount when
/// one is given) and any other invoice numbers typed in.
fn match_request(form: &[(String, String)]) -> ApiResult<Value> {
    let mut lines = Vec::new();
    let typed = field(form, "other").unwrap_or("");
    let picked = form
        .iter()
        .filter(|(k, _)| k == "invoice")
        .map(|(_, v)| v.trim());
    for inv in picked
        .chain(typed.split(',').map(str::trim))
        .filter(|s| !s.is_empty())
    {
        let amount = match field(form, &format!("amount:{inv}"))
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(a) => Some(Decimal::from_str(a).map_err(|_| {
                ApiError::invalid(format!(
                    "amount for {inv}: not a number ('{}')",
                    ordo_contract::excerpt(a, 40)
                ))
            })?),
            None => None,
        };
        lines.push(json!({ "invoice": inv, "amount": amount }));
    }
    if lines.is_empty() {
        return Err(ApiError::invalid("tick or type at least one invoice"));
    }
    let note = field(form, "note").map(str::trim).filter(|n| !n.is_empty());
    Ok(json!({ "invoices": lines, "learn": field(form, "learn").is_some(), "note": note }))
}

pub async fn match_exception(
    State(api): St,
    v: Viewer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = match v.form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let r = async {
        let req = match_request(&form)?;
        let body = Bytes::from(req.to_string());
        json_of(
            routes::match_exception(
                State(api),
                caller(&v),
                Path(id.clone()),
                HeaderMap::new(),
                body,
            )
            .await,
        )
        .await
    }
    .await;
    after(&v, r, "/finance", |_| format!("Exception {id}: matched"))
}

pub async fn reject_exception(
    State(api): St,
    v: Viewer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = match v.form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let reason = field(&form, "reason").unwrap_or("");
    let body = Bytes::from(json!({ "reason": reason }).to_string());
    let r = routes::reject_exception(
        State(api),
        caller(&v),
        Path(id.clone()),
        HeaderMap::new(),
        body,
    )
    .await;
    after(&v, json_of(r).await, "/finance", |_| {
        format!("Exception {id}: rejected")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_match_form_becomes_the_api_request() {
        let f = form(&[
            ("invoice", "INV-1"),
            ("amount:INV-1", "10.50"),
            ("invoice", "INV-2"),
            ("other", " INV-3 ,"),
            ("learn", "1"),
        ]);
        let r = match_request(&f).unwrap();
        assert_eq!(r["invoices"][0]["invoice"], "INV-1");
        assert_eq!(r["invoices"][0]["amount"].to_string(), "10.50");
        assert_eq!(
            r["invoices"][1],
            json!({ "invoice": "INV-2", "amount": null })
        );
        assert_eq!(r["invoices"][2]["invoice"], "INV-3");
        assert_eq!(r["learn"], true);
        assert!(match_request(&form(&[("other", " ")])).is_err());
        let bad = match_request(&form(&[("invoice", "I"), ("amount:I", "1,5")])).unwrap_err();
        assert_eq!(bad.code, Code::Invalid);
    }

    #[test]
    fn pages_are_bounded() {
        assert_eq!(offset(&form(&[("page", "3")])), 100);
        assert_eq!(offset(&form(&[("page", "0")])), 0);
        assert_eq!(offset(&form(&[("page", "x")])), 0);
        assert_eq!(offset(&form(&[("page", "99999999999")])), 99_999 * PAGE);
    }
}

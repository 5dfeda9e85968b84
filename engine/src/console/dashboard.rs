//! The Dashboard page: orders and revenue per day/week/month, order cycle time (median and
//! 90th percentile per measure and step), the auto-match rate per statement, open
//! reconciliation exceptions and failed instances. Every figure comes from `crate::reports`
//! and every chart from `crate::reports::svg` — the same code as `ordo report --html` and
//! `GET /api/v1/reports/{name}`. Shown to every signed-in role (it shows totals, no customer's
//! documents), so it calls the reports directly instead of a role-checked API handler.

use super::session::{Viewer, field};
use super::view::{error_page, fragment, live, page, wants};
use crate::api::Api;
use crate::api::error::ApiResult;
use crate::reports::{self, Cell, Params, Report, svg};
use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};
use rust_decimal::Decimal;
use std::sync::Arc;

type Pairs = Query<Vec<(String, String)>>;

const PERIODS: [&str; 3] = ["day", "week", "month"];

/// The days the dashboard shows when no dates are given, per period: a month of days, half a
/// year of weeks, a year of months. The whole book (every order's documents and history) would
/// cost seconds at 100,000 orders; a window reads its own orders through indexes.
fn default_days(period: &str) -> u64 {
    match period {
        "week" => 182,
        "month" => 365,
        _ => 31,
    }
}

async fn report(api: &Api, name: &str, p: &Params) -> ApiResult<Report> {
    reports::run_in(&api.engine, name, p)
        .await
        .map_err(crate::api::routes::report_error)
}

fn charts(rep: &Report, columns: &[&str]) -> Markup {
    html! {
        @for c in rep.charts.iter().filter(|c| columns.contains(&rep.columns[c.column].as_str())) {
            (svg::chart(rep, c))
        }
    }
}

fn sum(rep: &Report, column: &str) -> Decimal {
    rep.column(column)
        .map(|i| rep.rows.iter().filter_map(|r| r[i].num()).sum())
        .unwrap_or_default()
}

pub async fn dashboard(State(api): State<Arc<Api>>, v: Viewer, Query(q): Pairs) -> Response {
    let r = async {
        let period = field(&q, "period")
            .filter(|p| PERIODS.contains(p))
            .unwrap_or("day");
        let from = field(&q, "from").filter(|s| !s.is_empty());
        let to = field(&q, "to").filter(|s| !s.is_empty());
        let mut params = Params::parse(from, to, Some(period))
            .map_err(|e| crate::api::routes::report_error(e.into()))?;
        if from.is_none() && to.is_none() {
            let today = reports::Context::of(&api.engine).today;
            params.to = Some(today);
            params.from = today.checked_sub_days(chrono::Days::new(default_days(period) - 1));
        }
        let sales = report(&api, "sales", &params).await?;
        let orders = report(&api, "fulfilment", &params).await?;
        let cycle = report(&api, "cycle-time", &Params { by: None, ..params.clone() }).await?;
        let recon = report(&api, "recon", &Params { by: None, ..params.clone() }).await?;
        // open exceptions and failed instances are the state now, whatever the period
        let all = report(&api, "recon", &Params::default()).await?;
        let mut tx = api.engine.store.begin().await?;
        let counts = tx.count_instances().await?;
        tx.rollback().await?;
        let failed: Vec<(String, i64)> = counts
            .into_iter()
            .filter(|(_, status, _, _)| status == "failed")
            .map(|(wf, _, _, n)| (wf, n))
            .collect();
        let text = |c: &Cell| c.text();
        let list = html! {
                section.card {
                    h2 { "Now" }
                    p { "Open reconciliation exceptions: " b #open-exceptions { (sum(&all, "exceptions open")) }
                        " · " a href="/finance" { "work them" } }
                    p { "Failed instances: " b #failed-instances { (failed.iter().map(|f| f.1).sum::<i64>()) }
                        @for (wf, n) in &failed { " · " (wf) " " (n) } }
                }
                section {
                    h2 { "Orders and revenue per " (period) }
                    @if let Some(i) = orders.column("orders") {
                        (svg::chart(&orders, &reports::Chart { title: "Orders (by order date, rejected left out)".into(), kind: reports::ChartKind::Bar, column: i }))
                    }
                    (charts(&sales, &["net revenue"]))
                }
                section {
                    h2 { "Order cycle time" }
                    (charts(&cycle, &["median h", "p90 h"]))
                    div.scroll { table.stack {
                        thead { tr { @for c in &cycle.columns { th { (c) } } } }
                        tbody { @for row in &cycle.rows { tr { @for (c, x) in cycle.columns.iter().zip(row) { td data-label=(c) { (text(x)) } } } } }
                    } }
                }
                section {
                    h2 { "Auto-match rate per statement" }
                    (charts(&recon, &["auto-match %"]))
                }
            };
        if wants(&v, "dashboard") {
            return Ok(fragment("dashboard", 60, list));
        }
        let body = html! {
            h1 { "Dashboard" }
            form.filters method="get" action="/dashboard" {
                label for="period" { "Period" }
                select #period name="period" {
                    @for p in PERIODS { option value=(p) selected[p == period] { (p) } } }
                label for="from" { "From" }
                input #from type="date" name="from" value=(params.from.map(|d| d.to_string()).unwrap_or_default());
                label for="to" { "To" }
                input #to type="date" name="to" value=(params.to.map(|d| d.to_string()).unwrap_or_default());
                button type="submit" { "Show" }
            }
            (live("dashboard", 60, list))
        };
        Ok(page(Some(&v), "Dashboard", body))
    }
    .await;
    r.unwrap_or_else(|e| error_page(Some(&v), &e))
}

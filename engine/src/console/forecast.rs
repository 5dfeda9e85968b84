//! The Forecast page: every item of the master data with the method its forecast chose (or
//! why it has none), and for one item (`?item=SKU`) its history and forecast as a server-made
//! SVG chart — the history as a line, the forecast mean dashed, the 95 % interval as a band —
//! with the periods in a table. The figures are `crate::forecast::from_store`'s, the function
//! `ordo forecast` prints (the shipped history per item, as `forecast.refresh` and
//! rules/reorder.rhai see it). Shown to every signed-in role: it shows demand per item, no
//! customer's documents.

use super::session::{Viewer, field};
use super::view::{error_page, page};
use crate::api::Api;
use crate::api::error::{ApiError, Code};
use crate::forecast::from_store;
use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};
use ordo_forecast::history::Period;
use ordo_sales::forecast::{ForecastDoc, ItemForecast, forecast_doc};
use rust_decimal::prelude::ToPrimitive;
use std::sync::Arc;

type Pairs = Query<Vec<(String, String)>>;

/// Periods ahead, as `ordo forecast` defaults.
const HORIZON: usize = 12;
/// At most this many periods of history are drawn (the latest).
const HISTORY_DRAWN: usize = 104;

const W: f64 = 640.0;
const H: f64 = 260.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 40.0;
const TOP: f64 = 12.0;

fn num(d: rust_decimal::Decimal) -> f64 {
    d.to_f64().filter(|f| f.is_finite()).unwrap_or(0.0)
}

/// The chart of one item: history (line), forecast mean (dashed), interval (band). `None`
/// when the item has no forecast.
pub fn chart(f: &ItemForecast, doc: &ForecastDoc) -> Option<Markup> {
    if doc.periods.is_empty() {
        return None;
    }
    let hist: Vec<f64> = f
        .history
        .as_ref()
        .map(|h| h.quantities.iter().map(|q| num(*q)).collect())
        .unwrap_or_default();
    let hist = &hist[hist.len().saturating_sub(HISTORY_DRAWN)..];
    let (mean, lo, hi): (Vec<f64>, Vec<f64>, Vec<f64>) = (
        doc.periods.iter().map(|p| num(p.mean)).collect(),
        doc.periods.iter().map(|p| num(p.lo)).collect(),
        doc.periods.iter().map(|p| num(p.hi)).collect(),
    );
    let max = hist
        .iter()
        .chain(&hi)
        .chain(&mean)
        .fold(0.0f64, |a, b| a.max(*b))
        .max(1.0);
    let n = (hist.len() + mean.len()).max(1) as f64;
    let plot_w = W - LEFT - 8.0;
    let plot_h = H - TOP - BOTTOM;
    let x = |i: usize| LEFT + plot_w * (i as f64 + 0.5) / n;
    let y = |v: f64| TOP + plot_h * (max - v.clamp(0.0, max)) / max;
    let pts = |vals: &[f64], from: usize| -> String {
        vals.iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(from + i), y(*v)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let start = hist.len();
    // The band: upper bound left to right, lower bound back.
    let mut band: Vec<String> = hi
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", x(start + i), y(*v)))
        .collect();
    band.extend(
        lo.iter()
            .enumerate()
            .rev()
            .map(|(i, v)| format!("{:.1},{:.1}", x(start + i), y(*v))),
    );
    let title = format!(
        "{}: {} history and forecast ({})",
        f.sku,
        doc.by,
        doc.method.as_deref().unwrap_or("")
    );
    let first = doc.periods.first().map(|p| p.start.to_string());
    let last = doc.periods.last().map(|p| p.start.to_string());
    Some(html! {
        figure.chart.forecast {
            figcaption { (title) }
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title) width="100%" {
                title { (title) }
                line x1=(LEFT) y1=(format!("{:.1}", y(0.0))) x2=(W - 8.0) y2=(format!("{:.1}", y(0.0))) stroke="#555" stroke-width="1" {}
                text x=(LEFT - 4.0) y=(TOP + 4.0) text-anchor="end" font-size="11" { (format!("{max:.0}")) }
                text x=(LEFT - 4.0) y=(format!("{:.1}", y(0.0) + 4.0)) text-anchor="end" font-size="11" { "0" }
                polygon.interval points=(band.join(" ")) fill="#1f5fa8" fill-opacity="0.18" stroke="none" {
                    title { "95 % interval" }
                }
                @if hist.len() > 1 {
                    polyline.history points=(pts(hist, 0)) fill="none" stroke="#333" stroke-width="1.5" {}
                }
                polyline.mean points=(pts(&mean, start)) fill="none" stroke="#1f5fa8" stroke-width="2" stroke-dasharray="5 3" {}
                line x1=(format!("{:.1}", x(start) - plot_w / n / 2.0)) y1=(TOP) x2=(format!("{:.1}", x(start) - plot_w / n / 2.0)) y2=(format!("{:.1}", y(0.0))) stroke="#999" stroke-dasharray="2 2" {}
                @if let (Some(a), Some(b)) = (first, last) {
                    text x=(format!("{:.1}", x(start))) y=(H - BOTTOM + 14.0) text-anchor="start" font-size="10" { (a) " … " (b) }
                }
                text x=(LEFT) y=(H - BOTTOM + 14.0) text-anchor="start" font-size="10" { (hist.len()) " " (doc.by) "s of history" }
            }
        }
    })
}

pub async fn forecast(State(api): State<Arc<Api>>, v: Viewer, Query(q): Pairs) -> Response {
    let r = async {
        let by = match field(&q, "by").unwrap_or("week") {
            "month" => Period::Month,
            "week" => Period::Week,
            other => {
                return Err(ApiError::new(
                    Code::BadRequest,
                    format!(
                        "by: '{}' is not week or month",
                        ordo_contract::excerpt(other, 40)
                    ),
                ));
            }
        };
        let item = field(&q, "item").filter(|s| !s.is_empty());
        let all = from_store(&api.engine, None, by, HORIZON)
            .await
            .map_err(ApiError::from)?;
        let made = chrono::DateTime::from_timestamp_millis(api.engine.clock.now_ms())
            .map(|t| t.date_naive())
            .unwrap_or_default();
        let chosen = match item {
            None => None,
            Some(sku) => Some(all.iter().find(|f| f.sku == sku).ok_or_else(|| {
                ApiError::new(
                    Code::NotFound,
                    format!(
                        "item '{}' is not in master data",
                        ordo_contract::excerpt(sku, 40)
                    ),
                )
            })?),
        };
        let by_name = by.name();
        let body = html! {
            h1 { "Forecast" }
            form.filters method="get" action="/forecast" {
                label for="by" { "Periods" }
                select #by name="by" {
                    @for p in ["week", "month"] { option value=(p) selected[p == by_name] { (p) } } }
                @if let Some(sku) = item { input type="hidden" name="item" value=(sku); }
                button type="submit" { "Show" }
            }
            @if let Some(f) = chosen {
                @let doc = forecast_doc(f, by, made);
                section #item-forecast {
                    h2 { (f.sku) }
                    @match &doc.error {
                        Some(e) => { p.error #no-forecast { "No forecast: " (e) } }
                        None => {
                            p { "Method " b #method { (doc.method.clone().unwrap_or_default()) }
                                ", from " (doc.history_periods) " " (by_name) "s of shipped history; "
                                (doc.level_percent) " % interval." }
                            @if let Some(c) = chart(f, &doc) { (c) }
                            div.scroll { table.stack #forecast-periods {
                                thead { tr { th { (by_name) " from" } th { "forecast" } th { "low" } th { "high" } } }
                                tbody { @for p in &doc.periods { tr {
                                    td data-label="from" { (p.start) }
                                    td data-label="forecast" { (p.mean.normalize()) }
                                    td data-label="low" { (p.lo.normalize()) }
                                    td data-label="high" { (p.hi.normalize()) }
                                } } }
                            } }
                        }
                    }
                }
            }
            section {
                h2 { "Items" }
                div.scroll { table.stack #forecast-items {
                    thead { tr { th { "item" } th { "method" } th { "next " (by_name) } } }
                    tbody { @for f in &all {
                        @let doc = forecast_doc(f, by, made);
                        tr {
                            td data-label="item" { a href={ "/forecast?by=" (by_name) "&item=" (urlencode(&f.sku)) } { (f.sku) } }
                            td data-label="method" { (doc.method.clone().or(doc.error.clone()).unwrap_or_default()) }
                            td data-label="next" { @if let Some(p) = doc.periods.first() { (p.mean.round_dp(1).normalize()) " (" (p.lo.round_dp(1).normalize()) "–" (p.hi.round_dp(1).normalize()) ")" } }
                        }
                    } }
                } }
            }
        };
        Ok(page(Some(&v), "Forecast", body))
    }
    .await;
    r.unwrap_or_else(|e| error_page(Some(&v), &e))
}

/// Percent-encodes a query value (SKUs may hold `&`, `#`, spaces).
fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordo_forecast::history::History;
    use rust_decimal::Decimal;

    #[test]
    fn the_chart_draws_history_mean_and_band_and_escapes_the_sku() {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        let quantities: Vec<Decimal> = (0..30).map(|i| Decimal::from(10 + i % 4)).collect();
        let history = History {
            start,
            period: Period::Week,
            quantities,
        };
        let f = ItemForecast {
            sku: "<A&B>".into(),
            result: ordo_sales::forecast::forecast_history(&history, 6),
            history: Some(history),
        };
        let doc = forecast_doc(&f, Period::Week, start);
        let svg = chart(&f, &doc).unwrap().into_string();
        assert!(svg.contains("polygon") && svg.contains("polyline"), "{svg}");
        assert!(
            svg.contains("&lt;A&amp;B&gt;") && !svg.contains("<A&B>"),
            "{svg}"
        );
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        assert_eq!(urlencode("A&B #1"), "A%26B%20%231");
        // no forecast: no chart
        let none = ItemForecast {
            sku: "Z".into(),
            history: None,
            result: Err("no forecast: fewer than 8 periods".into()),
        };
        assert!(chart(&none, &forecast_doc(&none, Period::Week, start)).is_none());
    }
}

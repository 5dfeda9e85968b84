//! Demand forecasts per item from the shipped history, for `ordo forecast` and for
//! replenishment.
//!
//! The history of an item is what its shipments (`shipment/<id>`, every package line) shipped,
//! summed per week or month of the ship date, from its first shipment up to the last complete
//! period before today (the current period is still filling up, so it is left out; a period
//! without a shipment had no demand: the store's record of shipments is complete).
//! [`ordo_forecast::forecast`] chooses the method.
//!
//! `forecast.refresh` (workflows/forecast.yaml, on a cron) stores each item's forecast as
//! `forecast/<sku>` ([`ForecastDoc`]); `stock.allocate` hands it to rules/reorder.rhai with the
//! item's reorder candidate, so the rule sets the reorder point from the forecast without any
//! forecasting per order.

use chrono::NaiveDate;
use ordo_contract::{
    Connector, Shipment, StepContext, StepContextExt, StepError, StepInput, StepOutput,
    read_doc_text,
};
use ordo_forecast::history::{Dated, Gaps, History, Period, bucket};
use ordo_forecast::{Demand, Forecast, Options};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One period ahead in a stored forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastPeriod {
    pub start: NaiveDate,
    pub mean: Decimal,
    pub lo: Decimal,
    pub hi: Decimal,
}

/// `forecast/<sku>`: the item's forecast as of `made`, or why there is none (`error`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastDoc {
    pub sku: String,
    pub made: NaiveDate,
    /// `week` or `month`.
    pub by: String,
    pub period_days: u32,
    /// Periods of history it was made from.
    pub history_periods: usize,
    /// The method chosen (`None` with `error`).
    pub method: Option<String>,
    /// One-step in-sample standard deviation of the demand per period.
    pub sigma: Decimal,
    /// Central coverage of `lo`..`hi`, percent.
    pub level_percent: u32,
    pub periods: Vec<ForecastPeriod>,
    /// Why there is no forecast (e.g. "no forecast: fewer than 8 periods of history (has 3)").
    pub error: Option<String>,
}

/// The view of a forecast rules/reorder.rhai reads (`reorder.candidates[i].forecast`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleForecast {
    pub method: String,
    pub period_days: u32,
    /// Demand per period ahead, first period first.
    pub mean: Vec<Decimal>,
    pub sigma: Decimal,
}

impl ForecastDoc {
    /// The rule's view, when there is a forecast.
    pub fn for_rule(&self) -> Option<RuleForecast> {
        if self.error.is_some() || self.periods.is_empty() {
            return None;
        }
        Some(RuleForecast {
            method: self.method.clone()?,
            period_days: self.period_days,
            mean: self.periods.iter().map(|p| p.mean).collect(),
            sigma: self.sigma,
        })
    }
}

/// The shipped history per SKU (`only`: one SKU), as dated quantities located by shipment.
/// Shipments on or after `before` are left out.
pub async fn shipped_history(
    ctx: &mut dyn StepContext,
    only: Option<&str>,
    before: NaiveDate,
) -> Result<BTreeMap<String, Vec<Dated>>, StepError> {
    let mut out: BTreeMap<String, Vec<Dated>> = BTreeMap::new();
    for (id, text) in ctx.get_documents_text("shipment", "").await? {
        let s: Shipment = read_doc_text("shipment", &id, &text).map_err(StepError::Permanent)?;
        if s.ship_date >= before {
            continue;
        }
        for p in &s.packages {
            for l in &p.lines {
                if only.is_some_and(|o| o != l.sku) {
                    continue;
                }
                out.entry(l.sku.clone()).or_default().push(Dated {
                    date: s.ship_date,
                    quantity: l.quantity,
                    at: format!("shipment {id} line {}", l.line_no),
                });
            }
        }
    }
    Ok(out)
}

/// One item's forecast, or why there is none.
#[derive(Debug, Clone)]
pub struct ItemForecast {
    pub sku: String,
    pub history: Option<History>,
    pub result: Result<(Forecast, Vec<NaiveDate>), String>,
}

/// Forecasts a history whose last period is the last complete one: `horizon` periods ahead.
pub fn forecast_history(
    history: &History,
    horizon: usize,
) -> Result<(Forecast, Vec<NaiveDate>), String> {
    let demand = Demand::from_decimals(&history.quantities).map_err(|e| e.to_string())?;
    let f = ordo_forecast::forecast(&demand, &Options::new(horizon, history.period.season()))
        .map_err(|e| e.to_string())?;
    Ok((f, history.future(horizon)))
}

/// Each item's (or one item's) forecast from its shipped history up to `today`'s period.
pub async fn item_forecasts(
    ctx: &mut dyn StepContext,
    only: Option<&str>,
    by: Period,
    horizon: usize,
    today: NaiveDate,
) -> Result<Vec<ItemForecast>, StepError> {
    let current = by.start(today);
    let mut skus: Vec<String> = match only {
        Some(s) => vec![s.to_string()],
        None => ctx.list_documents("item", "").await?,
    };
    skus.sort();
    let mut shipped = shipped_history(ctx, only, current).await?;
    let mut out = Vec::with_capacity(skus.len());
    for sku in skus {
        let rows = shipped.remove(&sku).unwrap_or_default();
        if rows.is_empty() {
            let e = ordo_forecast::ForecastError::TooShort {
                have: 0,
                need: ordo_forecast::MIN_PERIODS,
            };
            out.push(ItemForecast {
                sku,
                history: None,
                result: Err(e.to_string()),
            });
            continue;
        }
        let history = match bucket(&rows, by, Gaps::Zero) {
            Ok(mut h) => {
                // Periods after the last shipment up to the current one had no demand.
                let mut end = h.start;
                for _ in 1..h.quantities.len() {
                    end = by.next(end).unwrap_or(end);
                }
                while let Some(n) = by.next(end) {
                    if n >= current || h.quantities.len() >= ordo_forecast::MAX_PERIODS {
                        break;
                    }
                    h.quantities.push(Decimal::ZERO);
                    end = n;
                }
                h
            }
            Err(e) => {
                out.push(ItemForecast {
                    sku,
                    history: None,
                    result: Err(e.to_string()),
                });
                continue;
            }
        };
        let result = forecast_history(&history, horizon);
        out.push(ItemForecast {
            sku,
            history: Some(history),
            result,
        });
    }
    Ok(out)
}

/// The document stored for one item's forecast.
pub fn forecast_doc(f: &ItemForecast, by: Period, made: NaiveDate) -> ForecastDoc {
    let history_periods = f.history.as_ref().map_or(0, |h| h.quantities.len());
    let mut doc = ForecastDoc {
        sku: f.sku.clone(),
        made,
        by: by.name().to_string(),
        period_days: by.days(),
        history_periods,
        method: None,
        sigma: Decimal::ZERO,
        level_percent: 95,
        periods: Vec::new(),
        error: None,
    };
    match &f.result {
        Ok((fc, dates)) => {
            doc.method = Some(fc.method.to_string());
            doc.sigma = fc.decimal_sigma();
            doc.periods = fc
                .decimal_points()
                .into_iter()
                .zip(dates)
                .map(|(p, d)| ForecastPeriod {
                    start: *d,
                    mean: p.mean,
                    lo: p.lo,
                    hi: p.hi,
                })
                .collect();
        }
        Err(e) => doc.error = Some(e.clone()),
    }
    doc
}

/// `forecast.refresh`: stores `forecast/<sku>` for every item in master data. Params: `by`
/// (`week`, default, or `month`) and `horizon` (periods, default 26: enough for long lead
/// times plus the review period). Outcome `refreshed`, with the counts.
pub struct RefreshForecasts;

#[async_trait::async_trait]
impl Connector for RefreshForecasts {
    fn name(&self) -> &'static str {
        "forecast.refresh"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["refreshed"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let by_name = crate::master::param_str(input.params, "by", "week");
        let by = Period::parse(by_name).ok_or_else(|| {
            StepError::Permanent(format!(
                "forecast.refresh: by '{by_name}' is not week or month"
            ))
        })?;
        let horizon = match input.params.get("horizon") {
            None | Some(serde_json::Value::Null) => 26,
            Some(v) => v
                .as_u64()
                .filter(|h| (1..=ordo_forecast::MAX_HORIZON as u64).contains(h))
                .ok_or_else(|| {
                    StepError::Permanent(format!(
                        "forecast.refresh: horizon {v} is not a whole number in 1..={}",
                        ordo_forecast::MAX_HORIZON
                    ))
                })? as usize,
        };
        let today = crate::master::today(ctx);
        let all = item_forecasts(ctx, None, by, horizon, today).await?;
        let (mut made, mut none) = (0u64, 0u64);
        for f in &all {
            let doc = forecast_doc(f, by, today);
            if doc.error.is_some() {
                none += 1;
            } else {
                made += 1;
            }
            ctx.put("forecast", &f.sku, &doc).await?;
        }
        Ok(StepOutput::outcome("refreshed").with(
            "forecasts",
            serde_json::json!({ "made": made, "none": none }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MemoryContext, run};
    use serde_json::json;

    fn ship(ctx: &mut MemoryContext, id: &str, date: NaiveDate, sku: &str, q: i64) {
        ctx.docs.insert(
            ("shipment".into(), id.into()),
            json!({ "id": id, "order_id": "O1", "ship_date": date, "carrier": "DHL", "service": "std",
                    "tracking_number": "T", "packages": [ { "sscc": "1", "weight_kg": Decimal::ONE,
                    "lines": [ { "line_no": 1, "sku": sku, "quantity": Decimal::from(q) } ] } ] }),
        );
    }

    #[tokio::test]
    async fn refresh_stores_a_forecast_per_item_from_shipments() {
        let mut ctx = MemoryContext::seeded();
        // The test clock is 2026-09-21 (a Monday). 20 weeks of WIDGET shipments of 10, one
        // per week, and one in the current week that must not count (its week is not over).
        let today = NaiveDate::from_ymd_opt(2026, 9, 21).unwrap();
        for k in 1..=20 {
            ship(
                &mut ctx,
                &format!("SH{k:02}"),
                today - chrono::Duration::days(7 * k),
                "WIDGET",
                10,
            );
        }
        ship(&mut ctx, "SH-NOW", today, "WIDGET", 1000);
        let out = run(
            &RefreshForecasts,
            &mut ctx,
            json!({}),
            json!({ "horizon": 4 }),
        )
        .await;
        assert_eq!(out.outcome, "refreshed");
        let doc: ForecastDoc = serde_json::from_value(
            ctx.docs[&("forecast".to_string(), "WIDGET".to_string())].clone(),
        )
        .unwrap();
        assert_eq!(doc.history_periods, 20);
        assert_eq!(doc.periods.len(), 4);
        assert_eq!(doc.periods[0].start, today);
        assert!(
            doc.periods.iter().all(|p| p.mean == Decimal::from(10)),
            "{doc:?}"
        );
        let r = doc.for_rule().unwrap();
        assert_eq!((r.period_days, r.mean.len()), (7, 4));
        // GADGET never shipped: its document says why there is no forecast.
        let g: ForecastDoc = serde_json::from_value(
            ctx.docs[&("forecast".to_string(), "GADGET".to_string())].clone(),
        )
        .unwrap();
        assert_eq!(
            g.error.as_deref(),
            Some("no forecast: fewer than 8 periods of history (has 0)")
        );
        assert!(g.for_rule().is_none());
    }

    #[tokio::test]
    async fn a_bad_shipment_or_parameter_fails_the_step_located() {
        let mut ctx = MemoryContext::seeded();
        ctx.docs.insert(
            ("shipment".into(), "SH9".into()),
            json!({ "id": "SH9", "ship_date": "yesterday" }),
        );
        let Err(e) =
            crate::testing::try_run(&RefreshForecasts, &mut ctx, json!({}), json!({})).await
        else {
            panic!("a bad shipment must fail");
        };
        assert!(e.to_string().contains("shipment 'SH9'"), "{e}");
        let mut ctx = MemoryContext::seeded();
        let Err(e) = crate::testing::try_run(
            &RefreshForecasts,
            &mut ctx,
            json!({}),
            json!({ "by": "day" }),
        )
        .await
        else {
            panic!("a bad period must fail");
        };
        assert!(e.to_string().contains("by 'day'"), "{e}");
    }
}

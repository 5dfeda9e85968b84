//! Demand forecasting for replenishment (pure: values in, values out, no I/O).
//!
//! [`forecast`] takes one item's demand per period (oldest first) and returns, for each period
//! ahead, a point forecast and a prediction interval, with the method chosen for the series:
//!
//! - the candidates are the seasonal naive baseline (naive when the history is shorter than
//!   a season plus the hold-out) and, by the demand's kind, either exponential smoothing
//!   (ETS A,N,N / A,A,N / A,Ad,N, and A,N,A / A,Ad,A when two seasons fit: [`ets`]) for regular
//!   demand, or Croston, SBA and TSB ([`intermittent`]) when the average interval between
//!   demands is 1.32 periods or more (Syntetos–Boylan's cut-off);
//! - each is fitted on the history before each of up to three hold-out windows of `holdout`
//!   periods (the last ones, back from the end, while half the history stays before them) and
//!   scored by its mean MASE on them; the lowest score wins (ties go to the earlier, simpler
//!   candidate) and is fitted again on the whole history; every score is reported.
//!
//! Statistics are `f64`: a forecast is an estimate, not money, and the fitting needs
//! transcendental functions and millions of operations per second. At the edge quantities are
//! `Decimal` (or `f64` checked finite and bounded, [`Demand::from_f64`]); every number that
//! leaves the crate is finite and non-negative (demand is never negative, so interval bounds
//! are clipped at 0). Intervals are normal: mean ± z·σ_h, σ_h the per-horizon σ of the ETS
//! model, σ·√(k+1) for seasonal naive (k whole seasons ahead), σ·√h for naive, and the
//! in-sample one-step σ for the flat intermittent forecasts.

pub mod ets;
pub mod history;
pub mod intermittent;
pub mod optim;
pub mod workload;

use ets::{EtsFit, Spec, Trend};
use intermittent::Flat;
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::Serialize;
use std::fmt;

/// The least history a forecast is made from.
pub const MIN_PERIODS: usize = 8;
/// The most history used (older periods are dropped by callers; longer is refused here).
pub const MAX_PERIODS: usize = 10_000;
/// The longest horizon.
pub const MAX_HORIZON: usize = 520;
/// The largest quantity per period (keeps every sum of squares finite and exact enough).
pub const MAX_QUANTITY: f64 = 1e12;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForecastError {
    #[error("no forecast: fewer than {need} periods of history (has {have})")]
    TooShort { have: usize, need: usize },
    #[error("no forecast: no demand in the {periods} periods of history")]
    NoDemand { periods: usize },
    #[error("period {index}: negative quantity {value}")]
    Negative { index: usize, value: String },
    #[error("period {index}: quantity {value} is not a finite number of at most 1e12")]
    OutOfRange { index: usize, value: String },
    #[error("history of {have} periods is longer than {MAX_PERIODS}")]
    TooLong { have: usize },
    #[error("horizon {0} is not in 1..={MAX_HORIZON}")]
    Horizon(usize),
    #[error("interval level {0} is not in (0.5, 0.999)")]
    Level(String),
    #[error("season length {0} is not in 1..=366")]
    Season(usize),
}

/// A checked demand series: finite, non-negative, bounded, oldest period first.
#[derive(Debug, Clone, PartialEq)]
pub struct Demand(Vec<f64>);

impl Demand {
    pub fn from_decimals(q: &[Decimal]) -> Result<Self, ForecastError> {
        if q.len() > MAX_PERIODS {
            return Err(ForecastError::TooLong { have: q.len() });
        }
        let mut out = Vec::with_capacity(q.len());
        for (index, d) in q.iter().enumerate() {
            if d.is_sign_negative() && !d.is_zero() {
                return Err(ForecastError::Negative {
                    index,
                    value: d.to_string(),
                });
            }
            match d.to_f64() {
                Some(v) if v.is_finite() && v <= MAX_QUANTITY => out.push(v),
                _ => {
                    return Err(ForecastError::OutOfRange {
                        index,
                        value: d.to_string(),
                    });
                }
            }
        }
        Ok(Demand(out))
    }

    pub fn from_f64(q: &[f64]) -> Result<Self, ForecastError> {
        if q.len() > MAX_PERIODS {
            return Err(ForecastError::TooLong { have: q.len() });
        }
        for (index, v) in q.iter().enumerate() {
            if !v.is_finite() || *v > MAX_QUANTITY {
                return Err(ForecastError::OutOfRange {
                    index,
                    value: v.to_string(),
                });
            }
            if *v < 0.0 {
                return Err(ForecastError::Negative {
                    index,
                    value: v.to_string(),
                });
            }
        }
        Ok(Demand(q.to_vec()))
    }

    pub fn values(&self) -> &[f64] {
        &self.0
    }
}

/// A forecasting method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Method {
    Naive,
    SeasonalNaive,
    /// Additive ETS: trend kind and whether it has a seasonal component.
    Ets {
        trend: EtsTrend,
        seasonal: bool,
    },
    Croston,
    Sba,
    Tsb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EtsTrend {
    None,
    Additive,
    Damped,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Naive => write!(f, "naive"),
            Method::SeasonalNaive => write!(f, "seasonal naive"),
            Method::Ets { trend, seasonal } => {
                let t = match trend {
                    EtsTrend::None => "N",
                    EtsTrend::Additive => "A",
                    EtsTrend::Damped => "Ad",
                };
                write!(f, "ETS(A,{t},{})", if *seasonal { "A" } else { "N" })
            }
            Method::Croston => write!(f, "Croston"),
            Method::Sba => write!(f, "SBA"),
            Method::Tsb => write!(f, "TSB"),
        }
    }
}

/// What to forecast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub horizon: usize,
    /// Periods per season (52 for weeks, 12 for months).
    pub season: usize,
    /// Central coverage of the interval (0.95: 2.5 % below, 2.5 % above).
    pub level: f64,
    /// Periods per hold-out window that chooses the method (at most a quarter of the history).
    pub holdout: usize,
    /// Hold-out windows, one after the other back from the end; each method's score is its
    /// mean MASE over them (one window of `holdout` periods is a noisy judge).
    pub windows: usize,
}

impl Options {
    pub fn new(horizon: usize, season: usize) -> Self {
        Options {
            horizon,
            season,
            level: 0.95,
            holdout: horizon,
            windows: 3,
        }
    }
}

/// One period ahead, in f64 (finite, non-negative).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// A candidate's hold-out score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    pub method: Method,
    /// MASE on the hold-out; `None` when the method could not be fitted to the shortened history.
    pub mase: Option<f64>,
}

/// The forecast of one series (every number finite).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    pub method: Method,
    pub points: Vec<Point>,
    /// The one-step in-sample residual σ of the chosen model.
    pub sigma: f64,
    /// Periods held out in all (windows × periods per window).
    pub holdout: usize,
    pub scores: Vec<Score>,
}

/// A period ahead at the edge, as quantities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DecimalPoint {
    pub mean: Decimal,
    pub lo: Decimal,
    pub hi: Decimal,
}

impl Forecast {
    /// The points as `Decimal` quantities rounded to 4 places.
    pub fn decimal_points(&self) -> Vec<DecimalPoint> {
        self.points
            .iter()
            .map(|p| DecimalPoint {
                mean: to_dec(p.mean),
                lo: to_dec(p.lo),
                hi: to_dec(p.hi),
            })
            .collect()
    }

    pub fn decimal_sigma(&self) -> Decimal {
        to_dec(self.sigma)
    }
}

/// A finite, bounded f64 as a Decimal of 4 places. Every value passed here was made finite and
/// at most a few times [`MAX_QUANTITY`] by [`finish`], which `Decimal` holds exactly enough.
fn to_dec(v: f64) -> Decimal {
    Decimal::from_f64(v)
        .map(|d| d.round_dp(4))
        .unwrap_or(Decimal::ZERO)
}

/// A fitted candidate.
enum Fitted {
    Naive { last: f64, sigma: f64 },
    SeasonalNaive { last: Vec<f64>, sigma: f64 },
    Ets(EtsFit),
    Flat(Flat),
}

impl Fitted {
    fn predict(&self, h: usize) -> Vec<f64> {
        match self {
            Fitted::Naive { last, .. } => vec![*last; h],
            Fitted::SeasonalNaive { last, .. } => (0..h).map(|k| last[k % last.len()]).collect(),
            Fitted::Ets(f) => f.predict(h),
            Fitted::Flat(f) => vec![f.mean; h],
        }
    }

    fn sd(&self, h: usize) -> Vec<f64> {
        match self {
            Fitted::Naive { sigma, .. } => (1..=h).map(|k| sigma * (k as f64).sqrt()).collect(),
            Fitted::SeasonalNaive { last, sigma } => {
                let m = last.len();
                (0..h)
                    .map(|k| sigma * ((k / m + 1) as f64).sqrt())
                    .collect()
            }
            Fitted::Ets(f) => f.sd(h),
            Fitted::Flat(f) => vec![f.sigma; h],
        }
    }

    /// This model on another history: ETS keeps its fitted parameters (only the states run
    /// again); the other methods are cheap enough to fit again.
    fn rerun(&self, method: Method, y: &[f64], m: usize) -> Option<Fitted> {
        match self {
            Fitted::Ets(f) => f.rerun(y).map(Fitted::Ets),
            _ => fit(method, y, m),
        }
    }

    fn sigma(&self) -> f64 {
        match self {
            Fitted::Naive { sigma, .. } | Fitted::SeasonalNaive { sigma, .. } => *sigma,
            Fitted::Ets(f) => f.sigma,
            Fitted::Flat(f) => f.sigma,
        }
    }
}

fn rms(x: impl Iterator<Item = f64>) -> f64 {
    let (mut s, mut n) = (0.0, 0usize);
    for v in x {
        s += v * v;
        n += 1;
    }
    if n == 0 { 0.0 } else { (s / n as f64).sqrt() }
}

/// Fits `method` to `y` with season length `m`; `None` when `y` is too short for it or it
/// has nothing to fit (intermittent methods on a series without demand).
fn fit(method: Method, y: &[f64], m: usize) -> Option<Fitted> {
    match method {
        Method::Naive => {
            let sigma = rms(y.windows(2).map(|w| w[1] - w[0]));
            Some(Fitted::Naive {
                last: *y.last()?,
                sigma,
            })
        }
        Method::SeasonalNaive => {
            if m < 2 || y.len() < m + 1 {
                return None;
            }
            let sigma = rms(y.iter().zip(&y[m..]).map(|(a, b)| b - a));
            Some(Fitted::SeasonalNaive {
                last: y[y.len() - m..].to_vec(),
                sigma,
            })
        }
        Method::Ets { trend, seasonal } => {
            let trend = match trend {
                EtsTrend::None => Trend::None,
                EtsTrend::Additive => Trend::Additive,
                EtsTrend::Damped => Trend::Damped,
            };
            ets::fit(
                Spec {
                    trend,
                    m: if seasonal { m } else { 1 },
                },
                y,
            )
            .map(Fitted::Ets)
        }
        Method::Croston => intermittent::croston(y, false).map(Fitted::Flat),
        Method::Sba => intermittent::croston(y, true).map(Fitted::Flat),
        Method::Tsb => intermittent::tsb(y).map(Fitted::Flat),
    }
}

/// The MASE scale of `train`: the mean absolute seasonal difference (lag `m`, or 1 when the
/// history is not longer than a season); when that is zero (a constant series), the lag-1 one;
/// when that is zero too, 1 (the score is then the plain mean absolute error).
pub fn mase_scale(train: &[f64], m: usize) -> f64 {
    let mad = |lag: usize| {
        if train.len() <= lag {
            return 0.0;
        }
        let n = (train.len() - lag) as f64;
        train
            .iter()
            .zip(&train[lag..])
            .map(|(a, b)| (b - a).abs())
            .sum::<f64>()
            / n
    };
    let lag = if m > 1 && train.len() > m { m } else { 1 };
    let s = mad(lag);
    if s > 0.0 {
        return s;
    }
    let s1 = mad(1);
    if s1 > 0.0 { s1 } else { 1.0 }
}

/// Mean absolute scaled error of `pred` against `actual`.
pub fn mase(actual: &[f64], pred: &[f64], scale: f64) -> f64 {
    let n = actual.len().min(pred.len()).max(1) as f64;
    actual
        .iter()
        .zip(pred)
        .map(|(a, p)| (a - p).abs())
        .sum::<f64>()
        / n
        / scale
}

/// Whether the demand is intermittent: average interval between demands ≥ 1.32 periods.
pub fn is_intermittent(y: &[f64]) -> bool {
    let nz = y.iter().filter(|v| **v > 0.0).count();
    nz == 0 || y.len() as f64 / nz as f64 >= 1.32
}

/// The candidates for `y` (`n` periods available to fit, season `m`), baseline first.
fn candidates(y: &[f64], n: usize, m: usize) -> Vec<Method> {
    let base = if m >= 2 && n > m {
        Method::SeasonalNaive
    } else {
        Method::Naive
    };
    let mut c = vec![base];
    if is_intermittent(y) {
        c.extend([Method::Croston, Method::Sba, Method::Tsb]);
    } else {
        let e = |trend, seasonal| Method::Ets { trend, seasonal };
        c.extend([
            e(EtsTrend::None, false),
            e(EtsTrend::Additive, false),
            e(EtsTrend::Damped, false),
        ]);
        if m >= 2 && n >= 2 * m {
            c.extend([e(EtsTrend::None, true), e(EtsTrend::Damped, true)]);
        }
    }
    c
}

fn check(demand: &Demand, o: &Options) -> Result<(), ForecastError> {
    if o.horizon == 0 || o.horizon > MAX_HORIZON {
        return Err(ForecastError::Horizon(o.horizon));
    }
    if o.season == 0 || o.season > 366 {
        return Err(ForecastError::Season(o.season));
    }
    if !(o.level > 0.5 && o.level < 0.999) {
        return Err(ForecastError::Level(o.level.to_string()));
    }
    let y = demand.values();
    if y.len() < MIN_PERIODS {
        return Err(ForecastError::TooShort {
            have: y.len(),
            need: MIN_PERIODS,
        });
    }
    if y.iter().all(|v| *v == 0.0) {
        return Err(ForecastError::NoDemand { periods: y.len() });
    }
    Ok(())
}

/// Forecasts `demand` with the method of least hold-out MASE among the candidates.
pub fn forecast(demand: &Demand, o: &Options) -> Result<Forecast, ForecastError> {
    check(demand, o)?;
    let y = demand.values();
    let m = o.season;
    let n = y.len();
    let holdout = o.holdout.clamp(1, (n / 4).max(1));
    // Hold-out windows, the latest first: as many as `o.windows` while the history before the
    // earliest keeps at least half the series (one window of a short series).
    let windows = (1..=o.windows.max(1))
        .take_while(|k| *k == 1 || n - k * holdout >= n / 2)
        .count();
    let shortest = &y[..n - windows * holdout];
    let mut scores = Vec::new();
    let mut best: Option<(f64, Method, Fitted)> = None;
    for method in candidates(shortest, shortest.len(), m) {
        // Parameters are fitted once, on the history before the earliest window; each window
        // runs that model over the history before it.
        let model = fit(method, shortest, m);
        let mut total = model.as_ref().map(|_| 0.0);
        for k in 1..=windows {
            let cut = n - k * holdout;
            let (train, test) = (&y[..cut], &y[cut..cut + holdout]);
            let s = model
                .as_ref()
                .and_then(|f| {
                    if k == windows {
                        Some(f.predict(holdout))
                    } else {
                        f.rerun(method, train, m).map(|g| g.predict(holdout))
                    }
                })
                .map(|pred| mase(test, &pred, mase_scale(train, m)));
            total = match (total, s) {
                (Some(t), Some(s)) if s.is_finite() => Some(t + s),
                _ => None,
            };
        }
        let score = total.map(|t| t / windows as f64);
        if let (Some(s), Some(f)) = (score, model)
            && best.as_ref().is_none_or(|(b, _, _)| s < *b)
        {
            best = Some((s, method, f));
        }
        scores.push(Score {
            method,
            mase: score,
        });
    }
    // The baseline always fits a training part of MIN_PERIODS·3/4 ≥ 2 periods (naive), so
    // `best` is set; fall back to naive all the same rather than assume it.
    let (method, fitted) = match best {
        Some((_, method, model)) => (method, model.rerun(method, y, m)),
        None => (Method::Naive, None),
    };
    let (method, fitted) = match fitted {
        Some(f) => (method, f),
        None => (
            Method::Naive,
            fit(Method::Naive, y, m).ok_or(ForecastError::TooShort {
                have: y.len(),
                need: MIN_PERIODS,
            })?,
        ),
    };
    Ok(finish(method, &fitted, o, holdout * windows, scores))
}

/// Forecasts with one given method (the bench's baseline, and callers that pin a method).
pub fn forecast_with(
    demand: &Demand,
    method: Method,
    o: &Options,
) -> Result<Forecast, ForecastError> {
    check(demand, o)?;
    let y = demand.values();
    let fitted = fit(method, y, o.season).ok_or(ForecastError::TooShort {
        have: y.len(),
        need: MIN_PERIODS.max(2 * o.season),
    })?;
    Ok(finish(method, &fitted, o, 0, Vec::new()))
}

fn finish(method: Method, f: &Fitted, o: &Options, holdout: usize, scores: Vec<Score>) -> Forecast {
    let z = normal_quantile(0.5 + o.level / 2.0);
    let clean = |v: f64| {
        if v.is_finite() {
            v.clamp(0.0, 4.0 * MAX_QUANTITY)
        } else {
            0.0
        }
    };
    let points = f
        .predict(o.horizon)
        .into_iter()
        .zip(f.sd(o.horizon))
        .map(|(mean, sd)| {
            let (mean, sd) = (clean(mean), clean(sd));
            Point {
                mean,
                lo: clean(mean - z * sd),
                hi: clean(mean + z * sd),
            }
        })
        .collect();
    let scores = scores
        .into_iter()
        .map(|s| Score {
            method: s.method,
            mase: s.mase.map(clean),
        })
        .collect();
    Forecast {
        method,
        points,
        sigma: clean(f.sigma()),
        holdout,
        scores,
    }
}

/// Forecasts many series, split over the machine's cores (scoped threads; no I/O).
pub fn forecast_many(series: &[Demand], o: &Options) -> Vec<Result<Forecast, ForecastError>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(series.len().max(1));
    let chunk = series.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = series
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|d| forecast(d, o)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9),
/// for `p` in (0, 1).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests;

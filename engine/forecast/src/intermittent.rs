//! Intermittent demand (many periods without any): Croston, its bias-corrected SBA variant
//! (Syntetos–Boylan approximation) and TSB (Teunter–Syntetos–Babai).
//!
//! Croston smooths the non-zero demand sizes `z` and the intervals between them `p` separately
//! with simple exponential smoothing, each started at its first value, and forecasts `z / p`
//! for every period ahead; SBA multiplies that by `1 − α_p / 2`. TSB smooths the size at demands
//! and the probability of a demand every period, and forecasts their product. Smoothing weights
//! are chosen in [0.1, 0.3] (the range statsforecast's `CrostonOptimized` searches) by the
//! in-sample one-step squared error, on a 0.02 grid: cheap and deterministic.

/// Weights searched.
fn grid() -> impl Iterator<Item = f64> + Clone {
    (0..=10).map(|i| 0.1 + 0.02 * i as f64)
}

/// Simple exponential smoothing of `x` started at `x[0]`: the one-step SSE and final level.
fn ses(x: &[f64], a: f64) -> (f64, f64) {
    let mut l = x[0];
    let mut sse = 0.0;
    for &v in &x[1..] {
        let e = v - l;
        sse += e * e;
        l += a * e;
    }
    (sse, l)
}

fn best_ses(x: &[f64]) -> (f64, f64) {
    let mut best = (f64::INFINITY, 0.1, x[0]);
    for a in grid() {
        let (sse, l) = ses(x, a);
        if sse < best.0 {
            best = (sse, a, l);
        }
    }
    (best.1, best.2)
}

/// Non-zero sizes and the intervals before each (the first counted from the series start).
fn sizes_and_intervals(y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (mut z, mut p) = (Vec::new(), Vec::new());
    let mut last: isize = -1;
    for (t, &v) in y.iter().enumerate() {
        if v > 0.0 {
            z.push(v);
            p.push((t as isize - last) as f64);
            last = t as isize;
        }
    }
    (z, p)
}

/// A fitted intermittent model: a flat forecast and the one-step in-sample residuals' σ.
#[derive(Debug, Clone)]
pub struct Flat {
    pub mean: f64,
    pub sigma: f64,
    /// The smoothing weights used (size, interval or probability).
    pub weights: (f64, f64),
}

/// Croston with fixed weights `a_z` (sizes) and `a_p` (intervals); `sba` applies the
/// Syntetos–Boylan correction. `None` when `y` has no demand.
pub fn croston_with(y: &[f64], a_z: f64, a_p: f64, sba: bool) -> Option<Flat> {
    let (z, p) = sizes_and_intervals(y);
    if z.is_empty() {
        return None;
    }
    let (_, lz) = ses(&z, a_z);
    let (_, lp) = ses(&p, a_p);
    let factor = if sba { 1.0 - a_p / 2.0 } else { 1.0 };
    let mean = factor * lz / lp;
    let sigma = croston_sigma(y, a_z, a_p, factor);
    Some(Flat {
        mean,
        sigma,
        weights: (a_z, a_p),
    })
}

/// In-sample one-step residuals' σ: each period after the first demand is forecast by the
/// sizes and intervals seen before it.
fn croston_sigma(y: &[f64], a_z: f64, a_p: f64, factor: f64) -> f64 {
    let (mut z, mut p, mut since) = (0.0, 0.0, 0.0);
    let mut started = false;
    let (mut sse, mut n) = (0.0, 0usize);
    for (t, &v) in y.iter().enumerate() {
        since += 1.0;
        if started {
            let e = v - factor * z / p;
            sse += e * e;
            n += 1;
        }
        if v > 0.0 {
            if started {
                z += a_z * (v - z);
                p += a_p * (since - p);
            } else {
                z = v;
                p = (t + 1) as f64;
                started = true;
            }
            since = 0.0;
        }
    }
    if n == 0 { 0.0 } else { (sse / n as f64).sqrt() }
}

/// Croston (or SBA) with each weight chosen by its own series' one-step error.
pub fn croston(y: &[f64], sba: bool) -> Option<Flat> {
    let (z, p) = sizes_and_intervals(y);
    if z.is_empty() {
        return None;
    }
    let (a_z, _) = best_ses(&z);
    let (a_p, _) = best_ses(&p);
    croston_with(y, a_z, a_p, sba)
}

/// TSB with weights `a` (size) and `b` (probability) from the first demand at `first` and
/// the starting probability `d0`: returns the one-step SSE and the model.
fn tsb_with(y: &[f64], first: usize, d0: f64, a: f64, b: f64) -> (f64, Flat) {
    let mut z = y[first];
    let mut d = d0;
    let (mut sse, mut n) = (0.0, 0usize);
    for &v in &y[first + 1..] {
        let e = v - d * z;
        sse += e * e;
        n += 1;
        if v > 0.0 {
            d += b * (1.0 - d);
            z += a * (v - z);
        } else {
            d -= b * d;
        }
    }
    let sigma = if n == 0 { 0.0 } else { (sse / n as f64).sqrt() };
    (
        sse,
        Flat {
            mean: d * z,
            sigma,
            weights: (a, b),
        },
    )
}

/// TSB with both weights chosen on the grid by the one-step error. The first demand and the
/// starting probability (the share of periods with demand) are found once, not per weight
/// pair. `None` when `y` has no demand.
pub fn tsb(y: &[f64]) -> Option<Flat> {
    let first = y.iter().position(|v| *v > 0.0)?;
    let d0 = y.iter().filter(|v| **v > 0.0).count() as f64 / y.len() as f64;
    let mut best: Option<(f64, Flat)> = None;
    for a in grid() {
        for b in grid() {
            let r = tsb_with(y, first, d0, a, b);
            if best.as_ref().is_none_or(|(s, _)| r.0 < *s) {
                best = Some(r);
            }
        }
    }
    best.map(|(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn croston_by_hand() {
        // y = 0 3 0 0 6 0, α = 0.1 for sizes and intervals.
        // Demands: 3 at period 2 (interval 2, counted from the start), 6 at period 5
        // (interval 3). Start: z = 3, p = 2. At the second demand:
        //   z = 3 + 0.1·(6 − 3) = 3.3,  p = 2 + 0.1·(3 − 2) = 2.1.
        // Forecast z/p = 3.3 / 2.1 = 1.571428…; SBA: (1 − 0.1/2)·1.571428… = 1.492857…
        let y = [0.0, 3.0, 0.0, 0.0, 6.0, 0.0];
        let c = croston_with(&y, 0.1, 0.1, false).unwrap();
        assert!((c.mean - 3.3 / 2.1).abs() < 1e-12, "{}", c.mean);
        let s = croston_with(&y, 0.1, 0.1, true).unwrap();
        assert!((s.mean - 0.95 * 3.3 / 2.1).abs() < 1e-12, "{}", s.mean);
        // One-step residuals after the first demand (periods 3..6 forecast 3/2 = 1.5, then
        // 1.571428… for period 6): 0−1.5, 0−1.5, 6−1.5, 0−1.571428….
        let want = ((1.5f64.powi(2) * 2.0 + 4.5f64.powi(2) + (3.3f64 / 2.1).powi(2)) / 4.0).sqrt();
        assert!((c.sigma - want).abs() < 1e-12);
    }

    #[test]
    fn tsb_tracks_a_falling_probability() {
        // Demand of 4 in the first half, none after: TSB's forecast decays, Croston's does not.
        let mut y = vec![4.0, 0.0, 4.0, 0.0, 4.0, 0.0, 4.0, 0.0];
        y.extend([0.0; 12]);
        let t = tsb(&y).unwrap();
        let c = croston(&y, false).unwrap();
        assert!(t.mean < c.mean / 2.0, "tsb {} croston {}", t.mean, c.mean);
    }

    #[test]
    fn no_demand_is_no_model() {
        assert!(croston(&[0.0; 8], false).is_none());
        assert!(tsb(&[0.0; 8]).is_none());
    }
}

//! Known answers through the public entry point, and hostile series.

use super::*;
use rust_decimal::dec;

fn demand(y: &[f64]) -> Demand {
    Demand::from_f64(y).unwrap()
}

fn all_finite(f: &Forecast) -> bool {
    f.sigma.is_finite()
        && f.points.iter().all(|p| {
            [p.mean, p.lo, p.hi]
                .iter()
                .all(|v| v.is_finite() && *v >= 0.0)
                && p.lo <= p.mean
                && p.mean <= p.hi
        })
        && f.scores.iter().all(|s| s.mase.is_none_or(f64::is_finite))
}

#[test]
fn a_constant_series_forecasts_the_constant_with_a_zero_width_interval() {
    let f = forecast(&demand(&[7.0; 30]), &Options::new(5, 12)).unwrap();
    for p in &f.points {
        assert!(
            (p.mean - 7.0).abs() < 1e-9 && (p.hi - p.lo).abs() < 1e-6,
            "{p:?}"
        );
    }
    // Every candidate is exact on the hold-out; the baseline, first, wins the tie.
    assert_eq!(f.method, Method::SeasonalNaive);
    assert!(
        f.scores.iter().all(|s| s.mase == Some(0.0)),
        "{:?}",
        f.scores
    );
    assert_eq!(f.decimal_points()[0].mean, dec!(7));
}

#[test]
fn a_linear_trend_is_chosen_and_continued() {
    // y_t = 20 + 3t, monthly, 30 months: only a trend model is exact on the hold-out.
    let y: Vec<f64> = (0..30).map(|t| 20.0 + 3.0 * t as f64).collect();
    let f = forecast(&demand(&y), &Options::new(6, 12)).unwrap();
    assert_eq!(
        f.method,
        Method::Ets {
            trend: EtsTrend::Additive,
            seasonal: false
        }
    );
    for (k, p) in f.points.iter().enumerate() {
        let want = 20.0 + 3.0 * (30 + k) as f64;
        assert!(
            (p.mean - want).abs() < 1e-4,
            "h={} {} vs {want}",
            k + 1,
            p.mean
        );
    }
}

#[test]
fn a_known_seasonal_pattern_is_chosen_and_repeated() {
    // Four years of months: 100 + a fixed monthly pattern.
    let pat = [
        10.0, 20.0, 40.0, 30.0, 0.0, -10.0, -30.0, -40.0, -20.0, 0.0, 5.0, -5.0,
    ];
    let y: Vec<f64> = (0..48).map(|t| 100.0 + pat[t % 12]).collect();
    let f = forecast(&demand(&y), &Options::new(12, 12)).unwrap();
    for (k, p) in f.points.iter().enumerate() {
        let want = 100.0 + pat[k % 12];
        assert!(
            (p.mean - want).abs() < 1e-4,
            "h={} {} vs {want} ({})",
            k + 1,
            p.mean,
            f.method
        );
    }
    // Seasonal naive and the seasonal ETS models are all exact; the baseline wins the tie.
    let exact: Vec<String> = f
        .scores
        .iter()
        .filter(|s| s.mase.is_some_and(|m| m < 1e-6))
        .map(|s| s.method.to_string())
        .collect();
    assert!(
        exact.contains(&"seasonal naive".to_string()) && exact.contains(&"ETS(A,N,A)".to_string()),
        "{exact:?}"
    );
}

#[test]
fn an_intermittent_series_uses_an_intermittent_method() {
    let y = [
        0.0, 3.0, 0.0, 0.0, 6.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 5.0, 0.0, 4.0, 0.0, 0.0,
    ];
    let f = forecast(&demand(&y), &Options::new(4, 52)).unwrap();
    assert!(
        matches!(
            f.method,
            Method::Croston | Method::Sba | Method::Tsb | Method::Naive
        ),
        "{}",
        f.method
    );
    let names: Vec<String> = f.scores.iter().map(|s| s.method.to_string()).collect();
    assert_eq!(names, ["naive", "Croston", "SBA", "TSB"]);
    assert!(all_finite(&f));
}

#[test]
fn fewer_than_the_minimum_is_a_clear_error() {
    let e = forecast(&demand(&[1.0; 7]), &Options::new(4, 12)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no forecast: fewer than 8 periods of history (has 7)"
    );
    assert!(forecast(&demand(&[]), &Options::new(4, 12)).is_err());
}

#[test]
fn only_zeros_is_no_forecast_rather_than_a_zero_one() {
    let e = forecast(&demand(&[0.0; 40]), &Options::new(4, 12)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no forecast: no demand in the 40 periods of history"
    );
}

#[test]
fn negative_and_non_finite_quantities_are_refused_with_their_period() {
    let e = Demand::from_decimals(&[dec!(1), dec!(2), dec!(-3)]).unwrap_err();
    assert_eq!(e.to_string(), "period 2: negative quantity -3");
    let e = Demand::from_f64(&[1.0, f64::NAN]).unwrap_err();
    assert!(matches!(e, ForecastError::OutOfRange { index: 1, .. }));
    assert!(Demand::from_f64(&[f64::INFINITY]).is_err());
    assert!(Demand::from_decimals(&[Decimal::MAX]).is_err());
}

#[test]
fn bad_options_are_refused() {
    let d = demand(&[1.0; 20]);
    assert_eq!(
        forecast(&d, &Options::new(0, 12)).unwrap_err(),
        ForecastError::Horizon(0)
    );
    assert_eq!(
        forecast(&d, &Options::new(10_000, 12)).unwrap_err(),
        ForecastError::Horizon(10_000)
    );
    assert!(forecast(&d, &Options::new(3, 0)).is_err());
    let mut o = Options::new(3, 12);
    o.level = f64::NAN;
    assert!(forecast(&d, &o).is_err());
}

#[test]
fn hostile_series_never_give_nan_or_negative_numbers() {
    let mut cases: Vec<Vec<f64>> = vec![
        vec![MAX_QUANTITY; 60],
        [vec![0.0; 59], vec![MAX_QUANTITY]].concat(),
        [vec![MAX_QUANTITY], vec![0.0; 59]].concat(),
        (0..200)
            .map(|t| if t % 2 == 0 { MAX_QUANTITY } else { 0.0 })
            .collect(),
        (0..120).map(|t| (t as f64 * 1e-9).abs()).collect(),
        vec![1e-300; 30],
        [vec![5.0; 20], vec![0.0; 30]].concat(),
    ];
    cases.push((0..156).map(|t| ((t * 7919) % 101) as f64 * 1e9).collect());
    for (i, y) in cases.iter().enumerate() {
        for season in [1, 4, 12, 52] {
            let f = forecast(&demand(y), &Options::new(12, season)).unwrap();
            assert!(all_finite(&f), "case {i} season {season}: {f:?}");
            let _ = f.decimal_points();
        }
    }
}

#[test]
fn the_interval_covers_the_mean_and_widens_for_a_noisy_series() {
    let y: Vec<f64> = (0..104).map(|t| 50.0 + ((t * 37) % 11) as f64).collect();
    let f = forecast(&demand(&y), &Options::new(8, 52)).unwrap();
    assert!(all_finite(&f));
    assert!(f.points.iter().all(|p| p.hi > p.lo));
    let w: Vec<f64> = f.points.iter().map(|p| p.hi - p.lo).collect();
    assert!(w.last() >= w.first(), "{w:?}");
}

#[test]
fn the_normal_quantile_matches_tables() {
    assert!((normal_quantile(0.975) - 1.959964).abs() < 1e-5);
    assert!((normal_quantile(0.95) - 1.644854).abs() < 1e-5);
    assert!((normal_quantile(0.5)).abs() < 1e-9);
    assert!((normal_quantile(0.001) + 3.090232).abs() < 1e-5);
}

#[test]
fn many_series_forecast_in_their_order() {
    let series: Vec<Demand> = (1..=9).map(|k| demand(&[k as f64; 20])).collect();
    let out = forecast_many(&series, &Options::new(3, 12));
    for (k, f) in out.iter().enumerate() {
        assert!((f.as_ref().unwrap().points[0].mean - (k + 1) as f64).abs() < 1e-9);
    }
}

//! Charts as SVG made on the server (no script): a bar or line chart of one value column of a
//! [`Report`] over its rows. `ordo report --html` and the console's Dashboard draw with this
//! one function. Every text goes through maud, so labels from stored data are escaped.
//! Geometry uses `f64` (pixels only); the figures printed are the report's decimals.

use super::{Chart, ChartKind, Report};
use maud::{Markup, html};
use rust_decimal::prelude::ToPrimitive;

const W: f64 = 640.0;
const H: f64 = 240.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 40.0;
const TOP: f64 = 12.0;
/// At most this many rows are drawn (the last ones: the most recent periods).
pub const MAX_POINTS: usize = 120;

/// The chart `c` of `rep`.
pub fn chart(rep: &Report, c: &Chart) -> Markup {
    let rows: Vec<&Vec<super::Cell>> = rep.rows.iter().collect();
    let skip = rows.len().saturating_sub(MAX_POINTS);
    let rows = &rows[skip..];
    let points: Vec<(String, Option<f64>, String)> = rows
        .iter()
        .map(|r| {
            let cell = &r[c.column];
            let v = cell
                .num()
                .and_then(|d| d.to_f64())
                .filter(|f| f.is_finite());
            (rep.label(r), v, cell.text())
        })
        .collect();
    let mut max = points.iter().filter_map(|p| p.1).fold(0.0f64, f64::max);
    let min = points.iter().filter_map(|p| p.1).fold(0.0f64, f64::min);
    if max <= 0.0 && min == 0.0 {
        // all zero: the zero line at the bottom, as for any other positive chart
        max = 1.0;
    }
    let span = max - min;
    let plot_w = W - LEFT - 8.0;
    let plot_h = H - TOP - BOTTOM;
    let y = |v: f64| TOP + plot_h * (max - v) / span;
    let n = points.len().max(1) as f64;
    let step = plot_w / n;
    let every = points.len().div_ceil(8).max(1);
    let zero = y(0.0);
    let title = format!("{} — {}", rep.title, c.title);
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            p.1.map(|v| format!("{:.1},{:.1}", LEFT + step * (i as f64 + 0.5), y(v)))
        })
        .collect();
    html! {
        figure.chart {
            figcaption { (c.title) @if skip > 0 { " (last " (MAX_POINTS) " of " (rep.rows.len()) ")" } }
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title) width="100%" {
                title { (title) }
                line x1=(LEFT) y1=(format!("{zero:.1}")) x2=(W - 8.0) y2=(format!("{zero:.1}")) stroke="#555" stroke-width="1" {}
                text x=(LEFT - 4.0) y=(TOP + 4.0) text-anchor="end" font-size="11" { (fmt(max)) }
                text x=(LEFT - 4.0) y=(format!("{:.1}", zero + 4.0)) text-anchor="end" font-size="11" { "0" }
                @if min < 0.0 { text x=(LEFT - 4.0) y=(TOP + plot_h) text-anchor="end" font-size="11" { (fmt(min)) } }
                @if points.is_empty() {
                    text x=(W / 2.0) y=(H / 2.0) text-anchor="middle" font-size="13" { "no data in the period" }
                }
                @if c.kind == ChartKind::Line {
                    polyline points=(line.join(" ")) fill="none" stroke="#1f5fa8" stroke-width="2" {}
                }
                @for (i, (label, v, text)) in points.iter().enumerate() {
                    @let x = LEFT + step * i as f64;
                    @if let Some(v) = v {
                        @if c.kind == ChartKind::Bar {
                            rect x=(format!("{:.1}", x + step * 0.1)) y=(format!("{:.1}", y(v.max(0.0))))
                                width=(format!("{:.1}", (step * 0.8).max(1.0)))
                                height=(format!("{:.1}", (y(v.min(0.0)) - y(v.max(0.0))).max(0.5))) fill="#1f5fa8" {
                                title { (label) ": " (text) }
                            }
                        } @else {
                            circle cx=(format!("{:.1}", x + step * 0.5)) cy=(format!("{:.1}", y(*v))) r="3" fill="#1f5fa8" {
                                title { (label) ": " (text) }
                            }
                        }
                    }
                    @if i % every == 0 {
                        text x=(format!("{:.1}", x + step * 0.5)) y=(H - BOTTOM + 14.0) text-anchor="middle" font-size="10" {
                            (short(label))
                        }
                    }
                }
            }
        }
    }
}

fn fmt(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn short(label: &str) -> String {
    let s: String = label.chars().take(18).collect();
    if label.chars().count() > 18 {
        format!("{s}…")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Cell, Params};
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn bars_escape_labels_and_skip_na() {
        let mut r = Report::new("x", "X", &Params::default(), &["k", "v"], 1);
        r.rows.push(vec![
            "<script>alert(1)</script>".into(),
            Cell::Num(Decimal::from(5)),
        ]);
        r.rows.push(vec!["b".into(), Cell::NA]);
        r.rows.push(vec!["c".into(), Cell::Num(Decimal::from(-2))]);
        r.chart("V", ChartKind::Bar, "v");
        let s = chart(&r, &r.charts[0]).into_string();
        assert!(
            !s.contains("<script>") && s.contains("&lt;script&gt;"),
            "{s}"
        );
        assert_eq!(s.matches("<rect").count(), 2);
        assert!(!s.contains("NaN") && !s.contains("inf"));
        let empty = Report::new("x", "X", &Params::default(), &["k", "v"], 1);
        let c = Chart {
            title: "V".into(),
            kind: ChartKind::Line,
            column: 1,
        };
        assert!(chart(&empty, &c).into_string().contains("no data"));
    }
}

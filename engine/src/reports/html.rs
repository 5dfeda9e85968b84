//! `ordo report … --html FILE`: one self-contained page (inline style, SVG charts from
//! [`super::svg`], no script, nothing fetched) with each report's charts, table and notes.

use super::{Report, svg};
use maud::{DOCTYPE, Markup, html};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#111;max-width:1100px}\
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem}\
td.num{text-align:right;font-variant-numeric:tabular-nums}figure.chart{margin:1rem 0;max-width:680px}\
figcaption{font-weight:600}.note{color:#444;font-size:.9rem}";

/// A report's charts, table and notes (the page's section; the Dashboard shows the charts).
pub fn section(rep: &Report) -> Markup {
    html! {
        section {
            h2 { (rep.title) }
            p.note { "Period: " (rep.params.from.map(|d| d.to_string()).unwrap_or("start".into())) " to "
                (rep.params.to.map(|d| d.to_string()).unwrap_or("today".into()))
                @if !rep.by.is_empty() { " · by " (rep.by.join(", ")) } }
            @for c in &rep.charts { (svg::chart(rep, c)) }
            table {
                thead { tr { @for c in &rep.columns { th { (c) } } } }
                tbody { @for r in &rep.rows { tr { @for (i, c) in r.iter().enumerate() {
                    @if i < rep.keys { td { (c.text()) } } @else { td.num { (c.text()) } }
                } } } }
            }
            @if rep.rows.is_empty() { p { "No data in the period." } }
            @for n in &rep.notes { p.note { "Note: " (n) } }
        }
    }
}

/// The whole page.
pub fn page(title: &str, reports: &[Report]) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (STYLE) }
            }
            body {
                h1 { (title) }
                @for r in reports { (section(r)) }
            }
        }
    }
    .into_string()
}

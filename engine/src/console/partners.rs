//! The Partners (EDI) page: per trading partner (`config/partners/*.yaml`), the files received
//! with their state and our acknowledgment's verdicts, the interchanges sent with the
//! partner's acknowledgment (verdict and AK5/AK9/UCI/UCM codes), the quarantine with each
//! file's reason and its raw text (escaped, the segments the reason locates marked), and the
//! reprocessing of a quarantined file, which calls the API's handler
//! (`POST /api/v1/partners/{partner}/files/{id}/reprocess`: role, idempotency, audit).
//!
//! Reading needs the API's read role; the files are the `edi_file` records the partner channel
//! writes (`channels::edi::receive_in`), the sent interchanges the `edi_sent` records.

use super::json_of;
use super::session::{Viewer, field};
use super::view::{csrf, error_page, fragment, live, page, status, text, wants};
use crate::api::Api;
use crate::api::error::{ApiError, ApiResult, Code};
use crate::api::routes::{self, Caller, roles};
use crate::channels::edi::{FILE_DOC, file_partner, mentions, stored_bytes};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde_json::Value;
use std::sync::Arc;

type St = State<Arc<Api>>;

/// Most files and sent interchanges listed per partner (newest first).
const LIST: usize = 200;
/// Most bytes of a raw file shown on its page (the rest: `ordo edi parse`).
const RAW_SHOWN: usize = 256 * 1024;
/// Most segments marked in one file.
const MARKS: usize = 50;

/// The API's read role (the API has no route for these records; the rule is its own).
fn read_role(v: &Viewer) -> ApiResult<()> {
    crate::api::routes::require(&v.actor, roles::READ)
}

fn partners(api: &Api) -> ApiResult<Vec<ordo_partners::Partner>> {
    crate::channels::edi::load_partners(&api.engine.partners_dir, &api.engine.folders).map_err(
        |e| {
            ApiError::new(
                Code::Unavailable,
                format!("partner profiles refused: {}", e.join("; ")),
            )
        },
    )
}

/// Rows per page of a partner's files and interchanges.
const PAGE: i64 = 50;

/// A file row as the pages render it (the record without its raw bytes).
fn file_value(r: crate::store::sessions::EdiFileRow) -> Value {
    serde_json::json!({ "id": r.id, "name": r.name, "received_at": r.received_at, "outcome": r.outcome })
}

/// The records from before a file's partner was kept that have an interchange from
/// `partner`, newest first (a store written since has none; bounded all the same).
async fn legacy_files_of(tx: &mut dyn crate::store::Tx, partner: &str) -> ApiResult<Vec<Value>> {
    Ok(tx
        .edi_files_of(None, false, 0, 1_000)
        .await?
        .into_iter()
        .map(file_value)
        .filter(|f| mentions(f, partner))
        .collect())
}

/// `?NAME=N` (1-based, bounded) as an offset of [`PAGE`] rows.
fn page_offset(q: &[(String, String)], name: &str) -> i64 {
    field(q, name)
        .and_then(|p| p.parse::<i64>().ok())
        .map(|p| p.clamp(1, 100_000) - 1)
        .unwrap_or(0)
        * PAGE
}

/// Previous/next links of one list of a partner's page (the other list's page kept).
fn pager(partner: &str, q: &[(String, String)], name: &str, total: i64) -> Markup {
    let page = page_offset(q, name) / PAGE + 1;
    let pages = ((total + PAGE - 1) / PAGE).max(1);
    let link = |n: i64| {
        let mut keep: Vec<(String, String)> = q
            .iter()
            .filter(|(k, _)| (k == "page" || k == "sent") && k != name)
            .cloned()
            .collect();
        keep.push((name.to_string(), n.to_string()));
        format!(
            "/partners/{partner}?{}",
            serde_urlencoded::to_string(&keep).unwrap_or_default()
        )
    };
    html! {
        nav.pager aria-label={ "Pages of " (name) } {
            @if page > 1 { a href=(link(page - 1)) { "‹ Previous" } " " }
            "Page " (page) " of " (pages) " (" (total) ")"
            @if page < pages { " " a href=(link(page + 1)) { "Next ›" } }
        }
    }
}

/// The state a file is in, as a word: archived, quarantined, duplicate.
fn file_state(f: &Value) -> &'static str {
    let o = &f["outcome"];
    match o["outcome"].as_str() {
        Some("duplicate") => "duplicate",
        Some("rejected") => "quarantined",
        Some("processed") if o["problems"].as_array().is_some_and(|p| !p.is_empty()) => {
            "quarantined"
        }
        Some("processed") => "archived",
        _ => "unknown",
    }
}

/// Our acknowledgment's verdicts of a received file: per interchange, its status and the
/// status of each group and set (`A`, `E`, `R`), and the ack we sent.
fn verdicts(f: &Value) -> Markup {
    html! {
        @for i in f["outcome"]["interchanges"].as_array().into_iter().flatten().take(20) {
            div {
                "Interchange " (text(&i["control_number"])) " from " (text(&i["sender"])) ": " (status(&text(&i["status"])))
                @for g in i["groups"].as_array().into_iter().flatten().take(20) {
                    " · group " (text(&g["functional_id"])) " " (text(&g["control_number"])) " " (verdict(&text(&g["status"])))
                    @for s in g["sets"].as_array().into_iter().flatten().take(20) {
                        " · " (text(&s["set"])) " " (text(&s["control_number"])) " " (verdict(&text(&s["status"])))
                    }
                }
                @if i["ack"].is_object() { " · our " (text(&i["ack"]["kind"])) " #" (text(&i["ack"]["control_number"])) }
            }
        }
    }
}

/// An acknowledgment status letter as a word (and the letter), never by colour alone.
fn verdict(code: &str) -> Markup {
    let word = match code {
        "A" => "accepted",
        "E" => "accepted with errors",
        "P" => "partially accepted",
        "R" | "M" | "W" | "X" => "rejected",
        "received" => "received",
        "" => "no acknowledgment yet",
        _ => "unknown verdict",
    };
    let class = match word {
        "accepted" => "good",
        "rejected" => "bad",
        _ => "warn",
    };
    html! { span class={ "status " (class) } { (word) @if !code.is_empty() && code != "received" { " (" (code) ")" } } }
}

pub async fn list(State(api): St, v: Viewer) -> Response {
    let r = async {
        read_role(&v)?;
        let ps = partners(&api)?;
        let mut rows = Vec::new();
        // counted through the indexes of migration 0027: no stored file is read whole
        let mut tx = api.engine.store.begin().await?;
        for p in &ps {
            let (files, quarantined) = tx.edi_file_counts(&p.partner).await?;
            let legacy = legacy_files_of(tx.as_mut(), &p.partner).await?;
            let legacy_q = legacy.iter().filter(|f| file_state(f) == "quarantined").count() as i64;
            let (_, sent) = tx.edi_sent_of(&p.partner, 0, 0).await?;
            rows.push((p, files + legacy.len() as i64, quarantined + legacy_q, sent));
        }
        tx.rollback().await?;
        let list = html! {
                @if rows.is_empty() { p { "No trading partner profiles (config/partners/*.yaml)." } }
                @else {
                    div.scroll { table.stack {
                        thead { tr { th { "Partner" } th { "Standard" } th { "Their id" } th.num { "Files received" }
                                     th.num { "In quarantine" } th.num { "Interchanges sent" } } }
                        tbody { @for (p, files, q, sent) in &rows {
                            tr {
                                td data-label="Partner" { a href={ "/partners/" (p.partner) } { (p.partner) } }
                                td data-label="Standard" { (p.version) }
                                td data-label="Their id" { (p.their_id.qualifier) ":" (p.their_id.id) }
                                td.num data-label="Files received" { (files) }
                                td.num data-label="In quarantine" { (q) @if *q > 0 { " " (status("quarantined")) } }
                                td.num data-label="Interchanges sent" { (sent) }
                            }
                        } }
                    } }
                }
            };
        if wants(&v, "partners") {
            return Ok(fragment("partners", 30, list));
        }
        let body = html! {
            h1 { "Partners" }
            (live("partners", 30, list))
        };
        Ok(page(Some(&v), "Partners", body))
    }
    .await;
    r.unwrap_or_else(|e| error_page(Some(&v), &e))
}

pub async fn partner_page(
    State(api): St,
    v: Viewer,
    Path(name): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let r = async {
        read_role(&v)?;
        let ps = partners(&api)?;
        let Some(p) = ps.iter().find(|p| p.partner == name) else {
            return Err(ApiError::not_found(format!(
                "no trading partner '{}'",
                ordo_contract::excerpt(&name, 60)
            )));
        };
        let mut tx = api.engine.store.begin().await?;
        let (files_n, quarantine_n) = tx.edi_file_counts(&p.partner).await?;
        let files_off = page_offset(&q, "page");
        let mut files: Vec<Value> = tx
            .edi_files_of(Some(&p.partner), false, files_off, PAGE)
            .await?
            .into_iter()
            .map(file_value)
            .collect();
        let quarantine: Vec<Value> = tx
            .edi_files_of(Some(&p.partner), true, 0, LIST as i64)
            .await?
            .into_iter()
            .map(file_value)
            .collect();
        let (sent, sent_n) = tx.edi_sent_of(&p.partner, page_offset(&q, "sent"), PAGE).await?;
        let legacy = legacy_files_of(tx.as_mut(), &p.partner).await?;
        tx.rollback().await?;
        // the few records from before a file's partner was kept: after the first page
        let legacy_q: Vec<Value> = legacy.iter().filter(|f| file_state(f) == "quarantined").cloned().collect();
        let (files_n, quarantine_n) = (files_n + legacy.len() as i64, quarantine_n + legacy_q.len() as i64);
        if files_off == 0 {
            files.extend(legacy);
        }
        let quarantine: Vec<&Value> = quarantine.iter().chain(legacy_q.iter()).collect();
        let may = v.actor.has_any(roles::EDI_ADMIN);
        let list = html! {
                h2 { "Quarantine (" (quarantine_n) ")" }
                @if quarantine.is_empty() { p { "Nothing in quarantine." } }
                @else {
                    div.scroll { table.stack {
                        thead { tr { th { "File" } th { "Received" } th { "Reason" } th { "Action" } } }
                        tbody { @for f in quarantine.iter().take(LIST) {
                            @let id = text(&f["id"]);
                            tr {
                                td data-label="File" { a href={ "/partners/" (p.partner) "/files/" (id) } { (text(&f["name"])) } }
                                td data-label="Received" { (text(&f["received_at"])) }
                                td data-label="Reason" { (first_line(&reason(f))) }
                                td data-label="Action" { @if may { (reprocess_form(&v, &p.partner, &id, &text(&f["name"]))) } }
                            }
                        } }
                    } }
                }
                h2 { "Files received (" (files_n) ")" }
                div.scroll { table.stack {
                    thead { tr { th { "File" } th { "Received" } th { "State" } th { "Our verdicts" } th { "Orders" } } }
                    tbody { @for f in &files {
                        tr {
                            td data-label="File" { a href={ "/partners/" (p.partner) "/files/" (text(&f["id"])) } { (text(&f["name"])) } }
                            td data-label="Received" { (text(&f["received_at"])) }
                            td data-label="State" { (status(file_state(f))) }
                            td data-label="Our verdicts" { (verdicts(f)) }
                            td data-label="Orders" { @for o in f["outcome"]["orders"].as_array().into_iter().flatten() {
                                a href={ "/orders/" (text(o)) } { (text(o)) } " " } }
                        }
                    } }
                } }
                (pager(&p.partner, &q, "page", files_n))
                h2 { "Interchanges sent (" (sent_n) ")" }
                div.scroll { table.stack {
                    thead { tr { th.num { "Control" } th { "Document" } th { "Order" } th { "Sent" } th { "Their acknowledgment" } th { "Codes" } } }
                    tbody { @for d in &sent {
                        tr {
                            td.num data-label="Control" { (text(&d["control_number"])) }
                            td data-label="Document" { (text(&d["document"])) @if d["acknowledges"].is_string() { " for " (text(&d["acknowledges"])) } }
                            td data-label="Order" { @if let Some(o) = d["order_id"].as_str() { a href={ "/orders/" (o) } { (o) } } }
                            td data-label="Sent" { (text(&d["sent_at"])) }
                            td data-label="Their acknowledgment" { @if d["ack"].is_object() { (text(&d["ack"]["kind"])) " " (verdict(&text(&d["ack"]["status"]))) } @else { (verdict("")) } }
                            td data-label="Codes" { @for c in d["ack"]["codes"].as_array().into_iter().flatten().take(20) { code { (text(c)) } " " } }
                        }
                    } }
                } }
                (pager(&p.partner, &q, "sent", sent_n))
            };
        if wants(&v, "partner") {
            return Ok(fragment("partner", 30, list));
        }
        let body = html! {
            h1 { "Partner " (p.partner) }
            @if let Some(m) = field(&q, "done").filter(|m| !m.is_empty()) { p.notice role="status" { (m) } }
            div.card { p { @if p.is_supplier() { "Supplier " (p.supplier.as_deref().unwrap_or_default()) " · " (p.format) } @else { "Customer " (p.customer) } " · " (p.version) " · their id " (p.their_id.qualifier) ":" (p.their_id.id)
                " · our id " (p.our_id.qualifier) ":" (p.our_id.id) " · acknowledgment " (p.acknowledgment) } }
            (live("partner", 30, list))
        };
        Ok(page(Some(&v), "Partner", body))
    }
    .await;
    r.unwrap_or_else(|e| error_page(Some(&v), &e))
}

fn reprocess_form(v: &Viewer, partner: &str, id: &str, name: &str) -> Markup {
    html! {
        form.inline method="post" action={ "/partners/" (partner) "/files/" (id) "/reprocess" } {
            (csrf(v))
            button type="submit" aria-label={ "Reprocess " (name) } { "Reprocess" }
        }
    }
}

/// Why a stored file is in quarantine (its outcome's reason), or empty.
fn reason(f: &Value) -> String {
    serde::Deserialize::deserialize(&f["outcome"])
        .ok()
        .and_then(|o: ordo_partners::ReceiveOutcome| o.quarantine_reason())
        .unwrap_or_default()
}

fn first_line(s: &str) -> String {
    let first = s.lines().next().unwrap_or_default();
    let more = s.lines().count().saturating_sub(1);
    if more > 0 {
        format!("{first} (and {more} more)")
    } else {
        first.to_string()
    }
}

/// The byte ranges of the segments `reason`'s located problems (`NAME:line:col: …`) point at
/// in `bytes`, sorted, without overlaps, at most [`MARKS`], each with its problem.
pub(crate) fn marks(name: &str, bytes: &[u8], reason: &str) -> Vec<(usize, usize, String)> {
    let lines = ordo_edi::Lines::new(bytes);
    let prefix = format!("{name}:");
    let mut out: Vec<(usize, usize, String)> = Vec::new();
    for problem in reason.lines() {
        let rest = problem
            .strip_prefix("rejected: ")
            .unwrap_or(problem)
            .strip_prefix(prefix.as_str());
        let Some(rest) = rest else { continue };
        let mut parts = rest.splitn(3, ':');
        let (Some(l), Some(c)) = (parts.next(), parts.next()) else {
            continue;
        };
        let (Ok(l), Ok(c)) = (l.trim().parse::<usize>(), c.trim().parse::<usize>()) else {
            continue;
        };
        let Some(span) = lines
            .offset(l, c)
            .and_then(|o| ordo_edi::segment_span(bytes, o))
        else {
            continue;
        };
        if !out.iter().any(|(a, b, _)| span.0 < *b && *a < span.1) {
            out.push((span.0, span.1, problem.to_string()));
        }
        if out.len() >= MARKS {
            break;
        }
    }
    out.sort();
    out
}

/// The raw file as escaped text with its marked segments (`mark`, titled with the problem and
/// numbered in the list of problems): the marks are maud elements, the text is interpolated.
fn raw_view(text: &str, marks: &[(usize, usize, String)]) -> Markup {
    let shown = &text[..floor_boundary(text, RAW_SHOWN)];
    let mut parts: Vec<(Option<(usize, &str)>, &str)> = Vec::new();
    let mut at = 0;
    for (n, (a, b, problem)) in marks.iter().enumerate() {
        let (Some(before), Some(seg)) = (shown.get(at..*a), shown.get(*a..*b)) else {
            continue;
        };
        parts.push((None, before));
        parts.push((Some((n + 1, problem.as_str())), seg));
        at = *b;
    }
    parts.push((None, shown.get(at..).unwrap_or_default()));
    html! {
        pre.raw tabindex="0" aria-label="Raw file" {
            @for (m, t) in &parts {
                @if let Some((n, problem)) = m { mark id={ "problem-" (n) } title=(problem) { "[" (n) "] " (t) } }
                @else { (t) }
            }
        }
        @if shown.len() < text.len() {
            p { "The first " (shown.len()) " of " (text.len()) " bytes are shown; " code { "ordo edi parse" } " shows all." }
        }
    }
}

fn floor_boundary(s: &str, max: usize) -> usize {
    let mut i = max.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

pub async fn file_page(
    State(api): St,
    v: Viewer,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    let r = async {
        read_role(&v)?;
        let mut tx = api.engine.store.begin().await?;
        let f = tx.get_document(FILE_DOC, &id).await?;
        tx.rollback().await?;
        let Some(f) = f.filter(|f| match file_partner(f) {
            Some(p) => p == name,
            None => mentions(f, &name),
        }) else {
            return Err(ApiError::not_found(format!(
                "no file '{}' of partner '{}'",
                ordo_contract::excerpt(&id, 80),
                ordo_contract::excerpt(&name, 60)
            )));
        };
        let why = reason(&f);
        let bytes = stored_bytes(&f).unwrap_or_default();
        let raw = String::from_utf8_lossy(&bytes);
        // offsets are the stored bytes': marked only when the text shown is those bytes
        let marked = if std::str::from_utf8(&bytes).is_ok() {
            marks(&text(&f["name"]), &bytes, &why)
        } else {
            Vec::new()
        };
        let state = file_state(&f);
        let may = v.actor.has_any(roles::EDI_ADMIN);
        let body = html! {
            h1 { "File " (text(&f["name"])) }
            div.card {
                p { "Partner " a href={ "/partners/" (name) } { (name) } " · received " (text(&f["received_at"])) " · "
                    (text(&f["size"])) " bytes · " (status(state)) }
                p { "Id " code { (id) } }
                (verdicts(&f))
                @if state == "quarantined" && may { (reprocess_form(&v, &name, &id, &text(&f["name"]))) }
            }
            @if !why.is_empty() {
                h2 { "Reason" }
                ol.problems { @for line in why.lines() {
                    @let n = marked.iter().position(|(_, _, p)| p == line);
                    li { @if let Some(n) = n { a href={ "#problem-" (n + 1) } { "[" (n + 1) "]" } " " } (line) }
                } }
            }
            @if f["previous"].is_array() {
                h2 { "Earlier outcomes" }
                ul { @for p in f["previous"].as_array().into_iter().flatten() {
                    li { (text(&p["received_at"])) ": " (text(&p["outcome"]["outcome"])) }
                } }
            }
            h2 { "Raw file" }
            p { "Segments a problem points at are marked and numbered." }
            (raw_view(&raw, &marked))
        };
        Ok(page(Some(&v), "Partner file", body))
    }
    .await;
    r.unwrap_or_else(|e| error_page(Some(&v), &e))
}

/// The reprocess button: the API's handler, as the signed-in user.
pub async fn reprocess(
    State(api): St,
    v: Viewer,
    Path((name, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Err(r) = v.form(&body) {
        return r;
    }
    let r = routes::reprocess_partner_file(
        State(api),
        Caller(v.actor.clone()),
        Path((name.clone(), id.clone())),
        HeaderMap::new(),
    )
    .await;
    match json_of(r).await {
        Ok(d) => {
            let what = match d["quarantine_reason"].as_str() {
                None => format!(
                    "File {}: reprocessed, {}",
                    text(&d["file_id"]),
                    text(&d["outcome"])
                ),
                Some(r) => format!(
                    "File {}: reprocessed, still in quarantine: {}",
                    text(&d["file_id"]),
                    first_line(r)
                ),
            };
            let q = serde_urlencoded::to_string([("done", what.as_str())]).unwrap_or_default();
            Redirect::to(&format!("/partners/{name}?{q}")).into_response()
        }
        Err(e) => error_page(Some(&v), &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X12: &str = "ISA*00*          *00*          *ZZ*ACMEBUYER      *ZZ*ORDOSELLER     *261123*1200*U*00401*000000041*0*P*>~\nGS*PO*ACMEBUYER*ORDOSELLER*20261123*1200*41*X*004010~\nST*850*0001~\nBEG*00*SA*<script>alert(1)</script>**20261123~\nSE*3*0001~\nGE*1*41~\nIEA*1*000000041~\n";

    #[test]
    fn a_located_problem_marks_its_segment_and_the_text_stays_escaped() {
        let reason = "f.edi:4:5: BEG03 \"><img onerror=x>\nf.edi:99:1: nowhere\nother.edi:4:1: not this file";
        let m = marks("f.edi", X12.as_bytes(), reason);
        assert_eq!(m.len(), 1, "{m:?}");
        let (a, b, p) = &m[0];
        assert!(
            X12[*a..*b].starts_with("BEG*00*SA*<script>"),
            "{}",
            &X12[*a..*b]
        );
        assert!(!X12[*a..*b].contains('~'));
        assert!(p.starts_with("f.edi:4:5"));
        let html = raw_view(X12, &m).into_string();
        assert!(html.contains("<mark id=\"problem-1\" title=\"f.edi:4:5: BEG03 &quot;&gt;&lt;img onerror=x&gt;\">[1] BEG*00*SA*&lt;script&gt;"), "{html}");
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "{html}"
        );
        // the text after the mark is all there
        assert!(html.contains("SE*3*0001~"), "{html}");
        // a rejection's reason is located the same way
        assert_eq!(
            marks("f.edi", X12.as_bytes(), "rejected: f.edi:3:1: x").len(),
            1
        );
        // hostile locations mark nothing and do not panic
        for bad in [
            "f.edi:0:0: x",
            "f.edi:-1:2: x",
            "f.edi:1:999999: x",
            "f.edi:18446744073709551616:1: x",
            "f.edi:",
        ] {
            assert!(marks("f.edi", X12.as_bytes(), bad).is_empty(), "{bad}");
        }
    }

    #[test]
    fn a_large_file_is_shown_in_part() {
        let big = "é".repeat(RAW_SHOWN);
        let html = raw_view(&big, &[]).into_string();
        assert!(html.contains("ordo edi parse"));
        assert!(html.len() < RAW_SHOWN + 1000);
    }

    #[test]
    fn verdicts_are_words_not_colours() {
        let h = verdict("R").into_string();
        assert!(h.contains("rejected (R)") && h.contains("bad"), "{h}");
        assert!(verdict("A").into_string().contains("accepted (A)"));
        assert!(verdict("").into_string().contains("no acknowledgment yet"));
    }
}

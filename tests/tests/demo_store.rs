//! `ordo demo` leaves its store for a person to open: the config file it prints opens the
//! store with every other command, the demo users exist with their roles, and the ledger the
//! demo posted ties out when read through that file.

use ordo_tests::ordo_bin;
use std::process::Command;

fn ordo(args: &[&str]) -> (bool, String) {
    let out = Command::new(ordo_bin())
        .args(args)
        // the repository root, where config/, workflows/ and rules/ are
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("ordo runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_demo_prints_a_config_that_opens_its_store_with_its_users() {
    let dir = std::env::temp_dir().join(format!("ordo-demo-store-{}", std::process::id()));
    let dir_s = dir.to_string_lossy().into_owned();
    let (ok, out) = ordo(&["demo", "--orders", "30", "--dir", &dir_s]);
    assert!(ok, "{out}");
    let file = dir.join("ordo.yaml");
    let file_s = file.to_string_lossy().into_owned();
    assert!(
        out.contains(&format!("ordo --config {file_s} run")),
        "the demo prints how to open its store: {out}"
    );
    let (ok, users) = ordo(&["--config", &file_s, "users", "list"]);
    assert!(ok, "{users}");
    for (name, role) in [
        ("manager", "sales-manager"),
        ("finance", "finance"),
        ("viewer", "viewer"),
        ("admin", "admin"),
    ] {
        assert!(
            users
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>()[..2] == [name, role]),
            "{name} ({role}) in {users}"
        );
    }
    let (ok, check) = ordo(&["--config", &file_s, "ledger", "check"]);
    assert!(ok && check.contains("ledger check: ok"), "{check}");
    let (ok, inst) = ordo(&["--config", &file_s, "instances"]);
    assert!(ok && inst.contains("completed"), "{inst}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// An exact decimal (JSON number text) in ten-thousandths.
fn e4(v: &serde_json::Value) -> i128 {
    let t = v.to_string();
    let (neg, t) = t
        .strip_prefix('-')
        .map_or((false, t.as_str()), |r| (true, r));
    let (i, f) = t.split_once('.').unwrap_or((t, ""));
    assert!(f.len() <= 4, "{t}");
    let n = i.parse::<i128>().unwrap() * 10_000 + format!("{f:0<4}").parse::<i128>().unwrap();
    if neg { -n } else { n }
}

/// After `ordo demo`, the `sales` report adds up to the invoices it issued (read one by one
/// through `ordo invoice`) to the cent, over the whole book and over one day, and less a
/// credit note once one is issued; the sales aggregates agree with the documents (`ordo report
/// check`) and a rebuild gives the same figures; every report answers without n/a turning
/// into a number or NaN, and `--html` writes SVG charts.
#[test]
fn after_the_demo_sales_ties_out_to_its_invoices_and_every_report_answers() {
    let dir = std::env::temp_dir().join(format!("ordo-demo-reports-{}", std::process::id()));
    let dir_s = dir.to_string_lossy().into_owned();
    let (ok, out) = ordo(&["demo", "--orders", "30", "--dir", &dir_s]);
    assert!(ok, "{out}");
    let file_s = dir.join("ordo.yaml").to_string_lossy().into_owned();
    // Every invoice (INV-…) and credit note (CN-…, the demo's after-sales part issues some)
    // as `ordo invoice` prints it, until the first number that does not exist.
    let documents = |prefix: &str| {
        let mut docs = Vec::new();
        for n in 1.. {
            let number = format!("{prefix}-{n:06}");
            let (ok, text) = ordo(&["--config", &file_s, "invoice", &number]);
            if !ok {
                assert!(text.contains("no invoice"), "{text}");
                break;
            }
            let start = text.find('{').unwrap();
            docs.push(serde_json::from_str::<serde_json::Value>(&text[start..]).unwrap());
        }
        docs
    };
    let invoices = documents("INV");
    let credit_notes = documents("CN");
    assert!(invoices.len() > 5, "the demo issues invoices");
    let report = |extra: &[&str]| {
        let mut args = vec!["--config", file_s.as_str(), "--json", "report"];
        args.extend(extra);
        let (ok, text) = ordo(&args);
        assert!(ok, "{text}");
        let start = text.find('{').unwrap();
        serde_json::from_str::<serde_json::Value>(&text[start..]).unwrap()
    };
    let revenue = |r: &serde_json::Value| -> i128 {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| e4(&row["net revenue"]))
            .sum()
    };
    // Sales is the invoices less the credit notes, to the cent.
    let all: i128 = invoices.iter().map(|i| e4(&i["net_total"])).sum::<i128>()
        - credit_notes
            .iter()
            .map(|c| e4(&c["net_total"]))
            .sum::<i128>();
    assert_eq!(revenue(&report(&["sales", "--by", "day,customer"])), all);
    let day = invoices[0]["issue_date"].as_str().unwrap().to_string();
    let of_day: i128 = invoices
        .iter()
        .filter(|i| i["issue_date"] == day.as_str())
        .map(|i| e4(&i["net_total"]))
        .sum::<i128>()
        - credit_notes
            .iter()
            .filter(|c| c["issue_date"] == day.as_str())
            .map(|c| e4(&c["net_total"]))
            .sum::<i128>();
    assert_eq!(
        revenue(&report(&[
            "sales", "--from", &day, "--to", &day, "--by", "item"
        ])),
        of_day
    );
    // a credit note of the first invoice: sales is the invoices less it, to the cent
    let first = invoices[0]["number"].as_str().unwrap().to_string();
    let (ok, text) = ordo(&[
        "--config",
        &file_s,
        "--json",
        "credit-note",
        &first,
        "--reason",
        "damaged in transit",
    ]);
    assert!(ok, "{text}");
    let cn: serde_json::Value = serde_json::from_str(&text[text.find('{').unwrap()..]).unwrap();
    let credited = e4(&cn["net_total"]);
    assert!(credited > 0, "{cn}");
    assert_eq!(
        revenue(&report(&["sales", "--by", "customer"])),
        all - credited
    );
    for cmd in ["check", "rebuild", "check"] {
        let (ok, text) = ordo(&["--config", &file_s, "report", cmd]);
        assert!(ok, "{cmd}: {text}");
    }
    assert_eq!(
        revenue(&report(&["sales", "--by", "week,item"])),
        all - credited
    );
    let html = dir.join("reports.html");
    let html_s = html.to_string_lossy().into_owned();
    let (ok, text) = ordo(&[
        "--config", &file_s, "report", "all", "--html", &html_s, "--format", "csv",
    ]);
    assert!(ok, "{text}");
    assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.matches("<svg").count() >= 8 && !page.contains("<script"),
        "{page}"
    );
    let (ok, text) = ordo(&[
        "--config",
        &file_s,
        "report",
        "sales",
        "--by",
        "month,colour",
    ]);
    assert!(
        !ok && text.contains("by[1]: unknown dimension 'colour'"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

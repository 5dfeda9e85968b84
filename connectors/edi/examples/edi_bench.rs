//! In-memory throughput benchmark:
//! `cargo run --release -p ordo-edi --example edi_bench [-- MB [x12|edifact]]`.
//!
//! Generates ≥ 50 MB of X12 850s or EDIFACT ORDERS in memory (`ordo_edi::workload`:
//! interchanges of 100 transactions, 20 lines each), then measures on one thread, best of 3: the
//! raw ceiling (memchr count of the segment terminator), tokenize + envelope, full validation,
//! validation + mapping to `Order`, mapping only (20 interchanges parsed beforehand); and peak
//! RSS (VmHWM) after the streaming passes and at the end. Files streamed from disk, as
//! `ordo edi parse` reads them: `ordo edi bench`.

use std::time::Instant;

use ordo_edi::map::{MapOptions, orders};
use ordo_edi::{read, validate};

fn best<F: FnMut() -> usize>(mut f: F) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut n = 0;
    for _ in 0..3 {
        let t = Instant::now();
        n = std::hint::black_box(f());
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, n)
}

fn vm_hwm() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "n/a".into())
}

fn main() {
    let mb: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let t = Instant::now();
    let kind = match std::env::args().nth(2).as_deref() {
        Some("edifact") => ordo_edi::workload::Kind::Edifact,
        _ => ordo_edi::workload::Kind::X12,
    };
    let term = if kind == ordo_edi::workload::Kind::X12 {
        b'~'
    } else {
        b'\''
    };
    let buf = ordo_edi::workload::generate(kind, mb * 1_000_000);
    let size = buf.len() as f64 / 1e6;
    println!(
        "generated {:.1} MB of {kind:?} orders in {:.2}s; RSS after generating: {}",
        size,
        t.elapsed().as_secs_f64(),
        vm_hwm()
    );
    let rate = |secs: f64| size / secs;

    let (s, n) = best(|| memchr::memchr_iter(term, &buf).count());
    println!(
        "memchr count '~' (raw ceiling) : {:8.0} MB/s  ({n} terminators)",
        rate(s)
    );

    let (s, n) = best(|| {
        read(&buf)
            .filter_map(Result::ok)
            .map(|i| i.segments.len())
            .sum()
    });
    println!(
        "tokenize + envelope            : {:8.0} MB/s  ({n} segments)",
        rate(s)
    );

    let mut max_segments = 0;
    let (s, n) = best(|| {
        let mut issues = 0;
        for ich in read(&buf).filter_map(Result::ok) {
            max_segments = max_segments.max(ich.segments.len());
            issues += validate(&ich).len();
        }
        issues
    });
    println!(
        "full validation                : {:8.0} MB/s  ({n} issues)",
        rate(s)
    );

    let opts = MapOptions {
        customer_id: "C042".into(),
        partner: None,
        default_currency: "USD".into(),
    };
    let (s, n) = best(|| {
        let mut ok = 0;
        for ich in read(&buf).filter_map(Result::ok) {
            let issues = validate(&ich);
            if issues.is_empty() {
                ok += orders(&ich, &opts)
                    .into_iter()
                    .filter(Result::is_ok)
                    .count();
            }
        }
        ok
    });
    // peak so far: the streaming passes (one interchange held at a time) plus the input
    let streaming_hwm = vm_hwm();
    let parsed: Vec<_> = read(&buf).take(20).filter_map(Result::ok).collect();
    let parsed_mb: f64 = parsed
        .iter()
        .map(|i| (i.end - i.offset) as f64)
        .sum::<f64>()
        / 1e6;
    let (sm, nm) = best(|| parsed.iter().map(|i| orders(i, &opts).len()).sum());
    println!(
        "mapping only (parsed, 850→Order): {:7.0} MB/s  ({:.0} orders/s)",
        parsed_mb / sm,
        nm as f64 / sm
    );
    println!(
        "validation + mapping to Order  : {:8.0} MB/s  ({n} orders, {:.0} orders/s)",
        rate(s),
        n as f64 / s
    );
    println!("largest interchange held       : {max_segments} segments");
    println!(
        "peak RSS (VmHWM), streaming    : {streaming_hwm} (input buffer {size:.1} MB included)"
    );
    println!(
        "peak RSS (VmHWM), end          : {} (+ 20 parsed interchanges held for mapping only)",
        vm_hwm()
    );
}

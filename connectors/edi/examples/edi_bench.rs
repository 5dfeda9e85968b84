//! Throughput benchmark: `cargo run --release -p ordo-edi --example edi_bench [-- MB]`.
//!
//! Generates ≥ 50 MB of X12 850s in memory (interchanges of 100 transactions, 20 lines each),
//! then measures on one thread, best of 3: the raw ceiling (memchr count of `~`), tokenize +
//! envelope, full validation, validation + mapping to `Order`, mapping only (20 interchanges
//! parsed beforehand); and peak RSS (VmHWM) after the streaming passes and at the end.

use std::fmt::Write as _;
use std::time::Instant;

use ordo_edi::map::{MapOptions, orders};
use ordo_edi::{read, validate};

fn generate(target: usize) -> Vec<u8> {
    let mut out = String::with_capacity(target + 200_000);
    let mut ctl = 0u64;
    while out.len() < target {
        ctl += 1;
        let _ = write!(
            out,
            "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*ORDO           *260301*1200*U*00401*{ctl:09}*0*P*>~\n\
             GS*PO*BUYERCO*ORDO*20260301*1200*{ctl}*X*004010~\n"
        );
        for t in 1..=100u32 {
            let po = ctl * 1000 + u64::from(t);
            let mut n = 0;
            let mut body = String::with_capacity(2048);
            let mut seg = |s: String| {
                body.push_str(&s);
                body.push_str("~\n");
                n += 1;
            };
            seg(format!("BEG*00*SA*PO{po}**20260301"));
            seg("CUR*BY*USD".into());
            seg("REF*DP*042".into());
            seg("DTM*002*20260315".into());
            seg("N1*BY*Buyer Company*UL*4012345000009".into());
            seg("N3*1 Main Street".into());
            seg("N4*New York*NY*10001*US".into());
            seg("N1*ST*Buyer DC East*UL*4012345000016".into());
            seg("N3*200 Dock Road".into());
            seg("N4*Newark*NJ*07101*US".into());
            for l in 1..=20u32 {
                seg(format!(
                    "PO1*{l}*{}*EA*{}.{:02}**BP*B{l:05}*VP*SKU-{l:05}*UP*0123456{l:05}",
                    l * 3,
                    l + 2,
                    l % 100
                ));
                seg(format!("PID*F****Item number {l} description"));
            }
            seg("CTT*20".into());
            let _ = write!(out, "ST*850*{t:04}~\n{body}SE*{}*{t:04}~\n", n + 2);
        }
        let _ = write!(out, "GE*100*{ctl}~\nIEA*1*{ctl:09}~\n");
    }
    out.into_bytes()
}

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
    let buf = generate(mb * 1_000_000);
    let size = buf.len() as f64 / 1e6;
    println!(
        "generated {:.1} MB of 850s in {:.2}s; RSS after generating: {}",
        size,
        t.elapsed().as_secs_f64(),
        vm_hwm()
    );
    let rate = |secs: f64| size / secs;

    let (s, n) = best(|| memchr::memchr_iter(b'~', &buf).count());
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

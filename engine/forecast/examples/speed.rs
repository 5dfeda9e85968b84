//! The speed run of `ordo bench forecast` without the engine (a release build of this crate
//! alone): `cargo run --release -p ordo-forecast --example speed [ITEMS] [WEEKS]`.

fn main() {
    let mut args = std::env::args().skip(1);
    let items = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let weeks = args.next().and_then(|a| a.parse().ok()).unwrap_or(156);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    // Linux counts 100 ticks per second (USER_HZ) on every supported architecture.
    let cpu = || {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        ordo_forecast::workload::cpu_from_stat(&stat, 100.0)
    };
    let s = ordo_forecast::workload::speed(items, weeks, &cpu);
    println!(
        "{} items x {} weeks: {:.3} s wall, {} CPU s over {} threads ({:.0} items/s); ceiling (one pass summing the same series) {:.4} s; {} without forecast; load {}",
        s.items,
        s.weeks,
        s.seconds,
        s.cpu_seconds.map_or("?".to_string(), |c| format!("{c:.3}")),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        s.items as f64 / s.seconds.max(1e-9),
        s.ceiling_seconds,
        s.no_forecast,
        load.split_whitespace().next().unwrap_or("?")
    );
    println!("methods: {:?}", s.methods);
}

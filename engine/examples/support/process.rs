//! What the process benchmarks of `engine/examples` share: their `--name value` arguments, the
//! `ordo` binary beside the example, and a whole `ordo` process timed with its peak RSS by
//! `/usr/bin/time`. Included by each example with `#[path]` (an example is its own crate).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The value after `name` on the command line.
pub fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args();
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
    }
    None
}

/// A count argument; absent takes `default`, a value that is not a count stops the bench.
pub fn num(name: &str, default: usize) -> usize {
    match arg(name) {
        None => default,
        Some(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} takes a whole number, not {v:?}")),
    }
}

/// `--ordo PATH`, else the release binary beside this example
/// (target/release/examples/NAME → target/release/ordo); it must exist.
pub fn ordo_binary() -> PathBuf {
    let ordo = arg("--ordo").map(PathBuf::from).unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("current exe");
        exe.parent()
            .and_then(Path::parent)
            .map(|d| d.join("ordo"))
            .expect("target dir")
    });
    assert!(
        ordo.exists(),
        "{} not found: `cargo build --release -p ordo-cli` first, or pass --ordo PATH",
        ordo.display()
    );
    ordo
}

/// One timed process: wall seconds, CPU seconds (user + system), peak RSS in MiB, its output.
pub struct Timed {
    pub wall_s: f64,
    pub cpu_s: f64,
    pub peak_mib: f64,
    pub stdout: String,
}

/// The 1-minute load average (`/proc/loadavg`), printed beside wall-clock figures: on a
/// shared 2-core host it says how much of the wall time was waiting for a core.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// CPU seconds this process has run so far (`/proc/self/schedstat`, nanoseconds): an in-process
/// ceiling's CPU time beside the whole processes' user + system time.
pub fn cpu_now() -> f64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|l| {
            l.split_whitespace()
                .next()
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |ns| ns / 1e9)
}

/// Runs `ordo ARGS` with `env` under `/usr/bin/time`, stdout to `out` when given (else kept in
/// [`Timed::stdout`]). A failing process stops the bench: its figure would mean nothing.
pub fn timed(ordo: &Path, env: &[(&str, PathBuf)], args: &[&str], out: Option<&Path>) -> Timed {
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-f").arg("%e %M %U %S").arg(ordo).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    match out {
        Some(p) => cmd.stdout(Stdio::from(std::fs::File::create(p).expect("output file"))),
        None => cmd.stdout(Stdio::piped()),
    };
    let t = Instant::now();
    let o = cmd
        .stderr(Stdio::piped())
        .output()
        .expect("run /usr/bin/time (apt install time)");
    let wall_s = t.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "ordo {args:?} failed: {err}");
    let last: Vec<f64> = err
        .lines()
        .last()
        .map(|l| {
            l.split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let [_, kb, user, sys] = last[..] else {
        panic!("/usr/bin/time prints `wall peak-KB user sys` last, not {err:?}");
    };
    Timed {
        wall_s,
        cpu_s: user + sys,
        peak_mib: kb / 1024.0,
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
    }
}

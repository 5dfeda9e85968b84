//! `ordo edi bench`: EDI throughput and memory on generated files, beside a raw ceiling
//! measured in the same run.
//!
//! For X12 (850s) and EDIFACT (ORDERS with release characters) it writes a file of the asked
//! size with [`ordo_edi::workload`] (interchange by interchange: the generator holds one), then
//! measures, on one thread, best of the runs:
//! - the ceiling: reading the file in the same chunks and counting segment terminators with
//!   `memchr` (what any reader of the file pays at least);
//! - validation: [`ordo_edi::StreamReader`] over the file, every interchange validated;
//! - `ordo edi parse --no-segments`: [`crate::edifile::parse`] with its JSON thrown away;
//!
//! and the peak RSS of each phase (VmHWM, reset before it through `/proc/self/clear_refs`
//! where the kernel allows; otherwise the peak so far, which only overstates).

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use ordo_edi::workload::{self, Kind};
use ordo_edi::{Limits, StreamReader};
use serde_json::{Value, json};

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Size of each generated file, in MB (10^6 bytes).
    pub mb: u64,
    /// Where the files go (removed afterwards unless `keep`).
    pub dir: PathBuf,
    /// Runs per measure (the best is kept).
    pub runs: u32,
    pub keep: bool,
}

/// One measure: seconds of the best run and the phase's peak RSS.
#[derive(Debug, Clone, Copy)]
pub struct Measure {
    pub secs: f64,
    pub mb_s: f64,
    pub peak_rss_kb: Option<u64>,
}

/// The figures of one standard.
#[derive(Debug, Clone)]
pub struct KindFigures {
    pub kind: Kind,
    pub bytes: u64,
    pub interchanges: u64,
    pub ceiling: Measure,
    pub validation: Measure,
    pub parse_report: Measure,
    pub issues: usize,
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct BenchReport {
    pub figures: Vec<KindFigures>,
    /// Whether each phase's peak RSS was measured on its own (VmHWM reset before it).
    pub peak_reset: bool,
}

/// Writes a file of at least `mb` MB of `kind` interchanges; returns (bytes, interchanges).
pub fn write_file(kind: Kind, mb: u64, path: &Path) -> std::io::Result<(u64, u64)> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let target = mb.saturating_mul(1_000_000);
    let (mut bytes, mut n) = (0u64, 0u64);
    for ich in workload::interchanges(kind) {
        if bytes >= target {
            break;
        }
        w.write_all(&ich)?;
        bytes += ich.len() as u64;
        n += 1;
    }
    w.flush()?;
    Ok((bytes, n))
}

fn vm_hwm_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak RSS to the current RSS (Linux: `5` into `/proc/self/clear_refs`).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Runs `f` `runs` times and keeps the fastest; the peak RSS over all runs.
fn measure(
    bytes: u64,
    runs: u32,
    mut f: impl FnMut() -> Result<usize, String>,
) -> Result<(Measure, usize), String> {
    reset_peak();
    let mut best = f64::MAX;
    let mut n = 0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        n = std::hint::black_box(f()?);
        best = best.min(t.elapsed().as_secs_f64());
    }
    let m = Measure {
        secs: best,
        mb_s: bytes as f64 / 1e6 / best,
        peak_rss_kb: vm_hwm_kb(),
    };
    Ok((m, n))
}

/// Reads `path` in the stream reader's chunks and counts `term`: the ceiling.
fn count_terminators(path: &Path, term: u8) -> Result<usize, String> {
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; ordo_edi::envelope::DEFAULT_CHUNK];
    let mut n = 0;
    loop {
        let got = f.read(&mut buf).map_err(|e| e.to_string())?;
        if got == 0 {
            return Ok(n);
        }
        n += memchr::memchr_iter(term, &buf[..got]).count();
    }
}

/// Streams `path` and validates every interchange; returns the number of issues.
fn validate_file(path: &Path) -> Result<usize, String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut issues = 0;
    let mut failed = None;
    StreamReader::with_limits(f, Limits::default(), ordo_edi::envelope::DEFAULT_CHUNK)
        .for_each(|item| {
            match &item.result {
                Ok(ich) => issues += ordo_edi::validate(ich).len(),
                Err(e) => failed = Some(e.to_string()),
            }
            Ok::<(), ()>(())
        })
        .ok();
    match failed {
        Some(e) => Err(format!("{}: {e}", path.display())),
        None => Ok(issues),
    }
}

/// Runs the benchmark (see the module doc).
pub fn run(opts: &BenchOptions) -> Result<BenchReport, String> {
    std::fs::create_dir_all(&opts.dir).map_err(|e| format!("{}: {e}", opts.dir.display()))?;
    let peak_reset = reset_peak();
    let mut figures = Vec::new();
    for kind in [Kind::X12, Kind::Edifact] {
        let (name, term) = match kind {
            Kind::X12 => ("x12", b'~'),
            Kind::Edifact => ("edifact", b'\''),
        };
        let path = opts
            .dir
            .join(format!("ordo-edi-bench-{}-{name}.edi", std::process::id()));
        let result = (|| {
            let (bytes, interchanges) =
                write_file(kind, opts.mb, &path).map_err(|e| format!("{}: {e}", path.display()))?;
            let (ceiling, _) = measure(bytes, opts.runs, || count_terminators(&path, term))?;
            let (validation, issues) = measure(bytes, opts.runs, || validate_file(&path))?;
            let (parse_report, _) = measure(bytes, opts.runs, || {
                let (mut out, mut problems) = (std::io::sink(), std::io::sink());
                crate::edifile::parse(&path, false, &mut out, &mut problems)
                    .map(|p| p.interchanges)
                    .map_err(|e| format!("{}: {e:?}", path.display()))
            })?;
            Ok::<_, String>(KindFigures {
                kind,
                bytes,
                interchanges,
                ceiling,
                validation,
                parse_report,
                issues,
            })
        })();
        if !opts.keep {
            let _ = std::fs::remove_file(&path);
        }
        figures.push(result?);
    }
    Ok(BenchReport {
        figures,
        peak_reset,
    })
}

impl BenchReport {
    pub fn to_json(&self) -> Value {
        let m =
            |m: &Measure| json!({ "secs": m.secs, "mb_s": m.mb_s, "peak_rss_kb": m.peak_rss_kb });
        json!({
            "peak_rss_per_phase": self.peak_reset,
            "figures": self.figures.iter().map(|f| json!({
                "standard": crate::edifile::standard_name(match f.kind {
                    Kind::X12 => ordo_edi::Standard::X12,
                    Kind::Edifact => ordo_edi::Standard::Edifact,
                }),
                "bytes": f.bytes,
                "interchanges": f.interchanges,
                "issues": f.issues,
                "ceiling_memchr": m(&f.ceiling),
                "validation": m(&f.validation),
                "parse_no_segments": m(&f.parse_report),
            })).collect::<Vec<_>>(),
        })
    }

    /// The table `ordo edi bench` prints.
    pub fn table(&self) -> String {
        let rss = |m: &Measure| {
            m.peak_rss_kb.map_or("n/a".to_string(), |k| {
                format!("{:.1} MB", k as f64 / 1024.0)
            })
        };
        let mut out = String::new();
        for f in &self.figures {
            let name = match f.kind {
                Kind::X12 => "X12 850",
                Kind::Edifact => "EDIFACT ORDERS",
            };
            out.push_str(&format!(
                "{name}: {:.1} MB, {} interchanges, {} issues\n",
                f.bytes as f64 / 1e6,
                f.interchanges,
                f.issues
            ));
            for (what, m) in [
                ("ceiling: read + memchr terminators", &f.ceiling),
                ("streamed validation", &f.validation),
                ("edi parse --no-segments (JSON)", &f.parse_report),
            ] {
                out.push_str(&format!(
                    "  {what:<36} {:>8.0} MB/s  peak RSS {}\n",
                    m.mb_s,
                    rss(m)
                ));
            }
        }
        if !self.peak_reset {
            out.push_str(
                "(peak RSS could not be reset per phase: each figure is the peak so far)\n",
            );
        }
        out
    }
}

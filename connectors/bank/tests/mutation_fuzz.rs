//! Stable-toolchain fuzzing: random mutations of every fixture (byte flips, inserted format
//! punctuation, deletions, truncation, duplicated spans) fed to every parser. Must never panic;
//! errors are fine. Runs `ORDO_FUZZ_SECS` seconds (default 3) and prints how many inputs it
//! tried. The cargo-fuzz targets in `fuzz/` do the same with coverage guidance.

use std::time::{Duration, Instant};

use ordo_bank::parse::{self, CsvMapping, ParseOptions};
use ordo_bank::workload::Rng;

const PUNCT: &[u8] = b":/,;?<>&\"'\n\r-+.0123456789CDRN{}";

fn mutate(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut v = src.to_vec();
    for _ in 0..1 + rng.below(8) {
        if v.is_empty() {
            v.push(PUNCT[rng.below(PUNCT.len())]);
            continue;
        }
        let at = rng.below(v.len());
        match rng.below(7) {
            0 => v[at] ^= 1 << rng.below(8),
            1 => v[at] = PUNCT[rng.below(PUNCT.len())],
            2 => v.insert(at, PUNCT[rng.below(PUNCT.len())]),
            3 => {
                let n = rng.below(16).min(v.len() - at);
                v.drain(at..at + n);
            }
            4 => v.truncate(at),
            5 => {
                let n = rng.below(64).min(v.len() - at);
                let span: Vec<u8> = v[at..at + n].to_vec();
                let to = rng.below(v.len());
                v.splice(to..to, span);
            }
            _ => v[at] = rng.below(256) as u8,
        }
    }
    v
}

#[test]
fn mutated_fixtures_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| !p.extension().is_some_and(|e| e == "expected" || e == "md"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 50);
    let secs: u64 = std::env::var("ORDO_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let profiles: Vec<CsvMapping> = [
        "ing-de",
        "sparkasse-camt-v8",
        "fr-debit-credit",
        "generic-en",
    ]
    .iter()
    .filter_map(|p| CsvMapping::profile(p))
    .collect();
    let mut rng = Rng::new(0x5eed);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        let seed = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, seed);
        let lenient = rng.chance(50);
        let opts = ParseOptions {
            allow_unbalanced: lenient,
            ..ParseOptions::default()
        };
        let _ = parse::camt::parse(&input, &opts);
        let _ = parse::mt940::parse(&input, &opts);
        let _ = parse::bai2::parse(&input, &opts);
        let m = &profiles[rng.below(profiles.len())];
        let _ = parse::csv::parse(&input, m, &opts);
        let _ = parse::parse(&input, &opts);
        n += 1;
    }
    eprintln!(
        "mutation fuzz: {n} inputs x 5 parsers in {:.1}s, no panic",
        start.elapsed().as_secs_f64()
    );
}

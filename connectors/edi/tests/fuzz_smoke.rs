//! Stable-toolchain fuzz smoke test: mutated fixtures (bit flips, separator swaps, truncation,
//! splices) go through read → validate → acks → mapping and must never panic.
//! `FUZZ_SECS=60 cargo test --release -p ordo-edi --test fuzz_smoke` runs longer (default 3 s).

use std::time::{Duration, Instant};

use ordo_edi::ack::{AckKind, AckOptions, ContrlOptions, contrl, x12_ack};
use ordo_edi::map::{MapOptions, orders};
use ordo_edi::{Standard, demo, read, validate};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

pub fn exercise(data: &[u8]) {
    let opts = MapOptions {
        customer_id: "C".into(),
        partner: None,
        default_currency: "EUR".into(),
    };
    for ich in read(data).take(50) {
        let Ok(ich) = ich else { continue };
        let issues = validate(&ich);
        let _ = orders(&ich, &opts);
        match ich.standard {
            Standard::X12 => {
                let _ = x12_ack(
                    &ich,
                    &issues,
                    &AckOptions::new(AckKind::X999, 1, demo::timestamp()),
                );
            }
            Standard::Edifact => {
                let _ = contrl(&ich, &issues, &ContrlOptions::new(1, demo::timestamp()));
            }
        }
    }
}

#[test]
fn mutated_fixtures_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut corpus: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "edi"))
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    corpus.sort();
    let secs = std::env::var("FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let special = b"*~>^:+'?\r\nISAGSSTSEGEIEAUNAUNBUNHUNTUNZ0123456789 ";
    let mut runs = 0u64;
    while Instant::now() < deadline {
        let mut data = corpus[rng.below(corpus.len())].clone();
        for _ in 0..=rng.below(8) {
            let len = data.len();
            match rng.below(6) {
                0 if len > 0 => {
                    let i = rng.below(len);
                    data[i] ^= 1 << rng.below(8);
                }
                1 if len > 0 => {
                    let i = rng.below(len);
                    data[i] = special[rng.below(special.len())];
                }
                2 => data.truncate(rng.below(len + 1)),
                3 if len > 0 => {
                    let (a, b) = (rng.below(len), rng.below(len));
                    let (a, b) = (a.min(b), a.max(b));
                    let chunk = data[a..b].to_vec();
                    let at = rng.below(len);
                    data.splice(at..at, chunk);
                }
                4 if len > 0 => {
                    let i = rng.below(len);
                    data.remove(i);
                }
                _ => {
                    let other = &corpus[rng.below(corpus.len())];
                    let cut = rng.below(other.len() + 1);
                    data.extend_from_slice(&other[..cut]);
                }
            }
        }
        exercise(&data);
        runs += 1;
    }
    eprintln!("fuzz_smoke: {runs} mutated inputs in {secs}s without a panic");
    assert!(runs > 0);
}

#![no_main]
//! Fuzz target: the CSV parser with each built-in mapping must never panic.
use libfuzzer_sys::fuzz_target;
use ordo_bank::parse::{CsvMapping, ParseOptions, csv};

fuzz_target!(|data: &[u8]| {
    for p in ["ing-de", "sparkasse-camt-v8", "fr-debit-credit", "generic-en"] {
        if let Some(m) = CsvMapping::profile(p) {
            let _ = csv::parse(data, &m, &ParseOptions::default());
        }
    }
});

#![no_main]
//! Fuzz target: the camt parser must return Ok or a located Err, never panic.
use libfuzzer_sys::fuzz_target;
use ordo_bank::parse::{ParseOptions, camt};

fuzz_target!(|data: &[u8]| {
    let _ = camt::parse(data, &ParseOptions::default());
    let _ = camt::parse(data, &ParseOptions { allow_unbalanced: true, ..ParseOptions::default() });
});

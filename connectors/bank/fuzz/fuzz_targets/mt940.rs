#![no_main]
//! Fuzz target: the mt940 parser must return Ok or a located Err, never panic.
use libfuzzer_sys::fuzz_target;
use ordo_bank::parse::{ParseOptions, mt940};

fuzz_target!(|data: &[u8]| {
    let _ = mt940::parse(data, &ParseOptions::default());
    let _ = mt940::parse(data, &ParseOptions { allow_unbalanced: true, ..ParseOptions::default() });
});

#![no_main]
//! Fuzz target: the bai2 parser must return Ok or a located Err, never panic.
use libfuzzer_sys::fuzz_target;
use ordo_bank::parse::{ParseOptions, bai2};

fuzz_target!(|data: &[u8]| {
    let _ = bai2::parse(data, &ParseOptions::default());
    let _ = bai2::parse(data, &ParseOptions { allow_unbalanced: true, ..ParseOptions::default() });
});

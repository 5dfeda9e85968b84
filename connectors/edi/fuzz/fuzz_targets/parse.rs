//! Fuzz target: arbitrary bytes through read → validate → 997/999/CONTRL → 850/ORDERS mapping.
//! Run: `cd connectors/edi/fuzz && cargo +nightly fuzz run parse -- -max_total_time=600`
#![no_main]

use libfuzzer_sys::fuzz_target;
use ordo_edi::ack::{AckKind, AckOptions, ContrlOptions, contrl, x12_ack};
use ordo_edi::map::{MapOptions, orders};
use ordo_edi::{Standard, demo, read, validate};

fuzz_target!(|data: &[u8]| {
    let opts = MapOptions { customer_id: "C".into(), partner: None, default_currency: "EUR".into() };
    for ich in read(data).take(64) {
        let Ok(ich) = ich else { continue };
        let issues = validate(&ich);
        let _ = orders(&ich, &opts);
        let _ = match ich.standard {
            Standard::X12 => x12_ack(&ich, &issues, &AckOptions::new(AckKind::X997, 1, demo::timestamp())),
            Standard::Edifact => contrl(&ich, &issues, &ContrlOptions::new(1, demo::timestamp())),
        };
    }
});

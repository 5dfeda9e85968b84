//! Writes one of each outbound document kind into a directory, for the external cross-check
//! (`tools/edi-crosscheck/run.sh`): `cargo run -p ordo-edi --example write_samples -- OUTDIR`.
//!
//! 855/856/810 (4010), 997 accepted and rejected (4010), 999 rejected (5010), TA1 accepted and
//! rejected, ORDRSP, DESADV, INVOIC (D96A), CONTRL accepted and rejected. Exits 1 if anything cannot be written or does not
//! read back without issues.

use std::path::PathBuf;

use ordo_edi::ack::{AckKind, AckOptions, ContrlOptions, Ta1Options, contrl, ta1, x12_ack};
use ordo_edi::{Version, demo, map, validate, write};

const X12_850: &[u8] = include_bytes!("../tests/fixtures/x12-4010-850-no-newlines.edi");
const X12_850_BAD_ENVELOPE: &[u8] =
    include_bytes!("../tests/fixtures/own-x12-850-iea-count-wrong.edi");
const X12_850_BAD: &[u8] = include_bytes!("../tests/fixtures/bad-dates-and-codes-850.edi");
const EDIFACT_ORDERS: &[u8] =
    include_bytes!("../tests/fixtures/edifact-d96a-orders-two-msgs-no-una.edi");
const EDIFACT_ORDERS_BAD: &[u8] =
    include_bytes!("../tests/fixtures/edifact-d96a-orders-missing-bgm.edi");

fn main() {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: write_samples OUTDIR");
        std::process::exit(2);
    };
    if let Err(e) = run(&dir) {
        eprintln!("write_samples: {e}");
        std::process::exit(1);
    }
}

fn run(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let (order, shipment, invoice) = (demo::order(), demo::shipment(), demo::invoice());
    let today = demo::timestamp().date();
    let x = |n| demo::envelope(Version::X12_4010, n);
    let e = |n| demo::envelope(Version::D96A, n);
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        (
            "x12-4010-855.edi",
            write::write(&x(101), &[map::order_to_855(&order, today)])?,
        ),
        (
            "x12-4010-856.edi",
            write::write(&x(102), &[map::shipment_to_856(&shipment, &order)?])?,
        ),
        (
            "x12-4010-810.edi",
            write::write(&x(103), &[map::invoice_to_810(&invoice, &order)?])?,
        ),
        (
            "x12-5010-855.edi",
            write::write(
                &demo::envelope(Version::X12_5010, 104),
                &[map::order_to_855(&order, today)],
            )?,
        ),
        (
            "edifact-d96a-ordrsp.edi",
            write::write(&e(201), &[map::order_to_ordrsp(&order, today)])?,
        ),
        (
            "edifact-d96a-desadv.edi",
            write::write(&e(202), &[map::shipment_to_desadv(&shipment, &order)?])?,
        ),
        (
            "edifact-d96a-invoic.edi",
            write::write(&e(203), &[map::invoice_to_invoic(&invoice, &order)?])?,
        ),
        (
            "edifact-d01b-invoic.edi",
            write::write(
                &demo::envelope(Version::D01B, 204),
                &[map::invoice_to_invoic(&invoice, &order)?],
            )?,
        ),
    ];
    let ts = demo::timestamp();
    for (name, input, kind, ctl) in [
        ("x12-4010-997-accepted.edi", X12_850, AckKind::X997, 301),
        ("x12-4010-997-rejected.edi", X12_850_BAD, AckKind::X997, 302),
        ("x12-5010-999-accepted.edi", X12_850, AckKind::X999, 303),
        ("x12-5010-999-rejected.edi", X12_850_BAD, AckKind::X999, 304),
    ] {
        let ich = ordo_edi::read(input).next().ok_or("no interchange")??;
        files.push((
            name,
            x12_ack(&ich, &validate(&ich), &AckOptions::new(kind, ctl, ts))?,
        ));
    }
    for (name, input, ctl) in [
        ("ta1-x12-4010-accepted.edi", X12_850, 305),
        ("ta1-x12-4010-rejected.edi", X12_850_BAD_ENVELOPE, 306),
    ] {
        let ich = ordo_edi::read(input).next().ok_or("no interchange")??;
        files.push((name, ta1(&ich, &validate(&ich), &Ta1Options::new(ctl, ts))?));
    }
    for (name, input, ctl) in [
        ("edifact-contrl-accepted.edi", EDIFACT_ORDERS, 401),
        ("edifact-contrl-rejected.edi", EDIFACT_ORDERS_BAD, 402),
    ] {
        let ich = ordo_edi::read(input).next().ok_or("no interchange")??;
        files.push((
            name,
            contrl(&ich, &validate(&ich), &ContrlOptions::new(ctl, ts))?,
        ));
    }
    let mut bad = 0;
    for (name, bytes) in &files {
        for ich in ordo_edi::read(bytes) {
            let ich = ich?;
            for i in validate(&ich) {
                eprintln!("{name}: {i}");
                bad += 1;
            }
        }
        std::fs::write(dir.join(name), bytes)?;
        println!("{}", dir.join(name).display());
    }
    if bad > 0 {
        return Err(format!("{bad} issues in written documents").into());
    }
    Ok(())
}

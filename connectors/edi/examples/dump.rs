//! Prints the envelope structure and issues of EDI files: `cargo run -p ordo-edi --example dump -- FILE...`
fn main() {
    for path in std::env::args().skip(1) {
        let Ok(bytes) = std::fs::read(&path) else {
            eprintln!("cannot read {path}");
            continue;
        };
        println!("== {path}");
        for ich in ordo_edi::read(&bytes) {
            match ich {
                Err(e) => println!("  error: {e}"),
                Ok(ich) => {
                    println!(
                        "  {:?} {} ctl={} segs={} groups={}",
                        ich.standard,
                        ich.version,
                        ich.control_number,
                        ich.segments.len(),
                        ich.groups.len()
                    );
                    for (_, _, t) in ich.transactions() {
                        println!(
                            "    {} {} segs={}",
                            t.set_id,
                            t.control_number,
                            t.end - t.header
                        );
                    }
                    for i in ordo_edi::validate(&ich) {
                        println!("    ! {i}");
                    }
                }
            }
        }
    }
}

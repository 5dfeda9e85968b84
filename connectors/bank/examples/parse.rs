//! `cargo run -p ordo-bank --example parse -- [--lenient] FILE...` prints each file's
//! normalized statements as JSON (one document per file), or `path:LOCATION: error` and exit 1.
//! CSV files use the mapping named by `--csv ing-de|sparkasse|fr|oca` (test profiles).

use ordo_bank::ParseOptions;

fn main() {
    let mut opts = ParseOptions::default();
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lenient" => opts.allow_unbalanced = true,
            "--csv" => {
                let name = args.next().unwrap_or_default();
                match ordo_bank::parse::csv::CsvMapping::profile(&name) {
                    Some(m) => opts.csv = Some(m),
                    None => {
                        eprintln!("unknown CSV profile {name}");
                        std::process::exit(2);
                    }
                }
            }
            _ => files.push(a),
        }
    }
    if files.is_empty() {
        eprintln!("usage: parse [--lenient] [--csv PROFILE] FILE...");
        std::process::exit(2);
    }
    let mut failed = false;
    for f in files {
        let bytes = match std::fs::read(&f) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{f}: {e}");
                std::process::exit(2);
            }
        };
        match ordo_bank::parse(&bytes, &opts) {
            Ok(stmts) => match serde_json::to_string_pretty(&stmts) {
                Ok(j) => println!("{j}"),
                Err(e) => eprintln!("{f}: {e}"),
            },
            Err(e) => {
                eprintln!("{f}:{e}");
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}

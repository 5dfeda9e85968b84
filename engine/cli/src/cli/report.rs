//! `ordo report NAME|all [--from] [--to] [--by ...] [--format table|csv|json] [--html FILE]`:
//! parses, calls `ordo::reports`, prints. Errors are located (`by[1]: unknown dimension …`).
//! `ordo report rebuild` recomputes the sales aggregates from the documents, `ordo report
//! check` compares them.

use ordo::reports::{self, Failure, Params, Report};
use ordo::runtime::{Engine, EngineError};
use std::path::Path;
use std::process::ExitCode;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

pub struct Request<'a> {
    pub name: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub by: Option<&'a str>,
    pub format: Format,
    pub html: Option<&'a Path>,
}

pub async fn run(engine: &Engine, req: Request<'_>, json: bool) -> Result<ExitCode, EngineError> {
    match req.name {
        "rebuild" => {
            let (n, problems) = reports::rebuild_in(engine).await?;
            println!("sales aggregates rebuilt from {n} invoices and credit notes");
            for (kind, id, message) in &problems {
                println!("not counted: {kind} '{id}': {message}");
            }
            return Ok(if problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        "check" => {
            let diffs = reports::check_in(engine).await?;
            for d in &diffs {
                println!("{d}");
            }
            if diffs.is_empty() {
                println!("sales aggregates agree with the documents");
                return Ok(ExitCode::SUCCESS);
            }
            return Ok(super::fail(format!(
                "ordo report check: {} rows differ (ordo report rebuild recomputes them)",
                diffs.len()
            )));
        }
        _ => {}
    }
    let params = match Params::parse(req.from, req.to, req.by) {
        Ok(p) => p,
        Err(e) => return Ok(super::fail(format!("ordo report: {e}"))),
    };
    // `all` (for a page of every report) runs each with its default grouping.
    let names: Vec<&str> = if req.name == "all" {
        reports::NAMES.to_vec()
    } else {
        vec![req.name]
    };
    let mut done: Vec<Report> = Vec::new();
    for name in names {
        let p = if req.name == "all" {
            Params {
                by: None,
                ..params.clone()
            }
        } else {
            params.clone()
        };
        match reports::run_in(engine, name, &p).await {
            Ok(r) => done.push(r),
            Err(Failure::Store(e)) => return Err(e.into()),
            Err(Failure::Report(e)) => return Ok(super::fail(format!("ordo report {name}: {e}"))),
        }
    }
    if let Some(path) = req.html {
        let page = reports::html::page("ordo reports", &done);
        if let Err(e) = std::fs::write(path, page) {
            return Ok(super::fail(format!("{}: {e}", path.display())));
        }
        eprintln!("wrote {}", path.display());
    }
    let format = if json { Format::Json } else { req.format };
    for r in &done {
        match format {
            Format::Table => {
                println!("{}", r.title);
                print!("{}", r.to_table());
            }
            Format::Csv => print!("{}", r.to_csv()),
            Format::Json => super::print_json(&r.to_json()),
        }
    }
    Ok(ExitCode::SUCCESS)
}

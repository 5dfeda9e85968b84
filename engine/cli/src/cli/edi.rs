//! `ordo edi …`: a thin front end over the pure `ordo-edi` crate (read, validate, acknowledge,
//! map, write). No engine, no store: files in, JSON or EDI on stdout, located errors on stderr.
//!
//! Errors about a file are `path:line:col: …`, the line and column computed from the byte
//! offset the crate reports (pointing at the element when the issue names one), followed by
//! the interchange / group / transaction control numbers, the segment (file index, position in
//! the set, byte offset) and the element position.

use std::path::Path;
use std::process::ExitCode;

pub use super::edi_args::{EdiCommand, RenderKind, StandardArg, VersionArg};
use ordo::editools::{self, DocKind};
use ordo_edi::ack;
use ordo_edi::map::MapOptions;
use ordo_edi::write::Envelope;
use ordo_edi::{Standard, Version};
use serde_json::json;

use super::{FAIL, fail};

const USAGE: u8 = 2;

pub fn run(cmd: EdiCommand, json: bool) -> ExitCode {
    match cmd {
        EdiCommand::Parse { file, no_segments } => parse(&file, !no_segments),
        EdiCommand::Bench {
            mb,
            dir,
            runs,
            keep,
        } => {
            let opts = ordo::edibench::BenchOptions {
                mb,
                dir,
                runs,
                keep,
            };
            match ordo::edibench::run(&opts) {
                Ok(r) if json => print_json(&r.to_json()),
                Ok(r) => write_out(r.table().as_bytes()),
                Err(e) => fail(e),
            }
        }
        EdiCommand::Ack {
            file,
            accept,
            x999,
            control,
            errors_only,
            at,
        } => {
            let accept: Vec<String> = if accept.is_empty() {
                ack::DEFAULT_ACCEPT.iter().map(|s| s.to_string()).collect()
            } else {
                accept
                    .iter()
                    .map(|s| s.trim().to_ascii_uppercase())
                    .collect()
            };
            let opts = editools::AckRun {
                x999,
                control,
                errors_only,
                accept,
            };
            acknowledge(&file, &opts, at.as_deref(), json)
        }
        EdiCommand::ToOrder {
            file,
            customer,
            partner,
            currency,
            no_validate,
        } => {
            let opts = MapOptions {
                customer_id: customer,
                partner,
                default_currency: currency,
            };
            to_order(&file, &opts, !no_validate)
        }
        EdiCommand::Render {
            kind,
            file,
            order,
            standard,
            version,
            separators,
            sender,
            receiver,
            control,
            test,
            ack_requested,
            no_newline,
            at,
        } => {
            let env = match envelope(
                standard,
                version,
                separators.as_deref(),
                &sender,
                &receiver,
                control,
                at.as_deref(),
            ) {
                Ok(mut e) => {
                    e.test = test;
                    e.ack_requested = ack_requested;
                    e.newline = !no_newline;
                    e
                }
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(USAGE);
                }
            };
            render(kind, &file, order.as_deref(), &env, json)
        }
    }
}

/// Writes bytes to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub(super) fn write_out(bytes: &[u8]) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(format!("stdout: {e}")),
    }
}

/// Pretty JSON and a newline on stdout (a closed pipe as in [`write_out`]), serialized
/// straight into a buffered stdout: a large report (`ordo bank reconcile` of 100,000 payments)
/// is never held as a `Value` tree or a whole string. The bytes are those of
/// `serde_json::to_string_pretty` (`preserve_order` keeps field order either way).
pub(super) fn print_json<T: serde::Serialize + ?Sized>(v: &T) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let r = serde_json::to_writer_pretty(&mut out, v)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(format!("stdout: {e}")),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// `ordo edi parse`: the report streams from [`ordo::edifile::parse`] to stdout (a closed pipe
/// ends it quietly), located problems to stderr.
fn parse(path: &Path, with_segments: bool) -> ExitCode {
    use ordo::edifile::ParseError;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut problems = std::io::stderr().lock();
    match ordo::edifile::parse(path, with_segments, &mut out, &mut problems) {
        Ok(p) if p.valid => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(FAIL),
        Err(ParseError::Open(e)) => fail(e),
        Err(ParseError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(ParseError::Write(e)) => fail(format!("stdout: {e}")),
    }
}

fn acknowledge(path: &Path, run: &editools::AckRun, at: Option<&str>, json: bool) -> ExitCode {
    let now = match editools::timestamp(at) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(USAGE);
        }
    };
    let input = match read(path) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let r = editools::acknowledge(path, &input, run, now);
    for p in &r.problems {
        eprintln!("{p}");
    }
    if json {
        print_json(&json!({ "acks": r.acks, "skipped": r.skipped }));
    } else {
        write_out(&r.text);
    }
    if r.failed {
        ExitCode::from(FAIL)
    } else {
        ExitCode::SUCCESS
    }
}

fn to_order(path: &Path, opts: &MapOptions, validate: bool) -> ExitCode {
    let input = match read(path) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let m = editools::orders_of(path, &input, opts, validate);
    for p in &m.problems {
        eprintln!("{p}");
    }
    if m.seen == 0 && !m.failed {
        return fail(format!(
            "{}: no 850 or ORDERS transaction in the file",
            path.display()
        ));
    }
    print_json(&json!(m.orders));
    if m.failed {
        ExitCode::from(FAIL)
    } else {
        ExitCode::SUCCESS
    }
}

fn envelope(
    standard: Option<StandardArg>,
    version: Option<VersionArg>,
    seps: Option<&str>,
    sender: &str,
    receiver: &str,
    control: u64,
    at: Option<&str>,
) -> Result<Envelope, String> {
    let standard = standard.map(|s| match s {
        StandardArg::X12 => Standard::X12,
        StandardArg::Edifact => Standard::Edifact,
    });
    let version = version.map(|v| match v {
        VersionArg::X4010 => Version::X12_4010,
        VersionArg::X5010 => Version::X12_5010,
        VersionArg::D96a => Version::D96A,
        VersionArg::D01b => Version::D01B,
    });
    editools::envelope(standard, version, seps, sender, receiver, control, at)
}

fn render(
    kind: RenderKind,
    path: &Path,
    orders_file: Option<&Path>,
    env: &Envelope,
    json: bool,
) -> ExitCode {
    let kind = match kind {
        RenderKind::Order => DocKind::Order,
        RenderKind::Shipment => DocKind::Shipment,
        RenderKind::Invoice => DocKind::Invoice,
    };
    match editools::render_docs(kind, path, orders_file, env) {
        Ok(docs) => match ordo_edi::write::write(env, &docs) {
            Ok(bytes) => {
                if json {
                    return print_json(&json!({
                        "control_number": env.control_number,
                        "transactions": docs.len(),
                        "text": String::from_utf8_lossy(&bytes),
                    }));
                }
                write_out(&bytes)
            }
            Err(e) => fail(format!("{}: {e}", path.display())),
        },
        Err(e) => fail(e),
    }
}

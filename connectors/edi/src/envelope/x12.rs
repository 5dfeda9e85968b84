//! X12 interchange reader: the fixed 106-byte ISA gives the separators, then ISA/IEA, GS/GE and
//! ST/SE are checked for nesting, control numbers and counts while segments are collected.

use std::collections::HashSet;

use super::{
    Group, Interchange, PartnerId, Seg, Transaction, Window, next_segment, num, same_control,
    skip_line_noise,
};
use crate::error::EdiError;
use crate::issue::Code;
use crate::syntax::{Separators, Standard, decode};
use crate::values;

/// Byte positions of the element separator in the fixed-width ISA.
const ISA_SEPS: [usize; 16] = [
    3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103,
];

/// GS01 functional identifier of the transaction sets this crate knows.
pub(crate) fn functional_id(set: &str) -> Option<&'static str> {
    Some(match set {
        "850" => "PO",
        "855" => "PR",
        "856" => "SH",
        "810" => "IN",
        "997" | "999" => "FA",
        "860" => "PC",
        "865" => "CA",
        "843" => "RR",
        "820" => "RA",
        "846" => "IB",
        "837" => "HC",
        _ => return None,
    })
}

fn text(b: &[u8]) -> String {
    decode(b).trim().to_string()
}

/// Reads the interchange at `start` of the window `input`; `Ok(None)`: the window ends before
/// the interchange does (see [`super::Parsed`]). Offsets in what it returns are absolute
/// (`hints.base` + position in `input`).
pub(super) fn read<'a>(
    input: &'a [u8],
    start: usize,
    seg_index: &mut u32,
    hints: super::Hints<'a>,
    w: Window,
) -> Result<Option<Interchange<'a>>, EdiError> {
    let base = hints.base;
    let bad = |reason: String| EdiError::BadHeader {
        offset: base + start,
        header: "ISA",
        reason,
    };
    if input.len() < start + 106 && !w.eof {
        return Ok(None);
    }
    let isa = input
        .get(start..start + 106)
        .ok_or_else(|| bad(format!("only {} bytes, needs 106", input.len() - start)))?;
    let e = isa[3];
    if let Some(p) = ISA_SEPS.iter().find(|&&p| isa[p] != e) {
        return Err(bad(format!(
            "byte {p} is {:?}, expected the element separator {:?} (fixed-width layout)",
            isa[*p] as char, e as char
        )));
    }
    let (component, term) = (isa[104], isa[105]);
    if term == e || component == e || term.is_ascii_alphanumeric() {
        return Err(bad("separators are not distinct".into()));
    }
    let version = &isa[84..89];
    let rep = isa[82];
    let repetition = (version >= &b"00402"[..]
        && !rep.is_ascii_alphanumeric()
        && ![e, component, term, b' '].contains(&rep))
    .then_some(rep);
    let seps = Separators {
        element: e,
        component,
        repetition,
        segment: term,
        release: None,
        decimal: b'.',
    };
    let mut ich = Interchange::new(Standard::X12, seps, base + start, hints);
    ich.sender = PartnerId {
        qualifier: text(&isa[32..34]),
        id: text(&isa[35..50]),
    };
    ich.receiver = PartnerId {
        qualifier: text(&isa[51..53]),
        id: text(&isa[54..69]),
    };
    ich.date = text(&isa[70..76]);
    ich.time = text(&isa[77..81]);
    ich.syntax_id = if repetition.is_none() {
        text(&isa[82..83])
    } else {
        String::new()
    };
    ich.version = text(version);
    ich.control_number = text(&isa[90..99]);
    ich.ack_requested = isa[100] == b'1';
    ich.test = isa[102] == b'T';
    *seg_index += 1;
    ich.push(&isa[..105], base + start, *seg_index);
    check_isa(&mut ich, isa);

    let mut pos = skip_line_noise(input, start + 106, &seps);
    let mut group: Option<usize> = None;
    let mut txn: Option<usize> = None;
    let mut real_groups = 0usize;
    // (group, control number) of the sets seen: duplicate ST02 / 0062 without a quadratic scan
    let mut set_controls: HashSet<(usize, String)> = HashSet::new();
    let mut ended = false;
    while pos < input.len() {
        let next_isa = |b: &[u8]| {
            b.starts_with(b"ISA") && b.get(3).is_some_and(|b| !b.is_ascii_alphanumeric())
        };
        let (seg_end, next) = match next_segment(input, pos, term, None, w) {
            Seg::At(end, next) => (end, next),
            Seg::More => return Ok(None),
            // a segment over the limit: unless it starts the next interchange, this one cannot
            // be read
            Seg::Overlong if next_isa(&input[pos..]) => break,
            Seg::Overlong => {
                return Err(EdiError::SegmentTooLong {
                    offset: base + pos,
                    limit: w.max_segment,
                });
            }
        };
        let bytes = &input[pos..seg_end];
        if next_isa(bytes) {
            break; // next interchange: this one has no IEA
        }
        if bytes.is_empty() {
            pos = skip_line_noise(input, next, &seps);
            continue;
        }
        *seg_index += 1;
        let si = ich.push(bytes, base + pos, *seg_index);
        pos = skip_line_noise(input, next, &seps);
        let tag = ich.segments[si].tag;
        match tag {
            "GS" => {
                if let Some(gi) = group {
                    close_group(&mut ich, gi, &mut txn, si, None);
                }
                let Some(owned) = ich.detached(si) else {
                    continue;
                };
                let s = owned.view();
                let g = Group {
                    functional_id: text(s.raw(1)),
                    sender: text(s.raw(2)),
                    receiver: text(s.raw(3)),
                    date: text(s.raw(4)),
                    time: text(s.raw(5)),
                    control_number: text(s.raw(6)),
                    version: text(s.raw(8)),
                    header: Some(si),
                    trailer: None,
                    transactions: Vec::new(),
                };
                let (d, t, c) = (s.raw(4), s.raw(5), s.raw(6));
                let (d_ok, t_ok) = (values::date(d).is_some(), values::time(t));
                let c_ok = !c.is_empty() && c.len() <= 9 && num(c).is_some();
                let dup = ich
                    .groups
                    .iter()
                    .any(|o| o.header.is_some() && o.control_number == g.control_number);
                ich.groups.push(g);
                real_groups += 1;
                let gi = ich.groups.len() - 1;
                group = Some(gi);
                if !d_ok {
                    ich.report(
                        Code::InvalidGroupValue,
                        group,
                        None,
                        Some(si),
                        Some(4),
                        Some(text(d)),
                        "GS04 date".into(),
                    );
                }
                if !t_ok {
                    ich.report(
                        Code::InvalidGroupValue,
                        group,
                        None,
                        Some(si),
                        Some(5),
                        Some(text(t)),
                        "GS05 time".into(),
                    );
                }
                if !c_ok {
                    ich.report(
                        Code::InvalidGroupControl,
                        group,
                        None,
                        Some(si),
                        Some(6),
                        Some(text(c)),
                        String::new(),
                    );
                }
                if dup {
                    ich.report(
                        Code::DuplicateGroup,
                        group,
                        None,
                        Some(si),
                        Some(6),
                        None,
                        String::new(),
                    );
                }
            }
            "ST" => {
                let gi = match group {
                    Some(gi) => gi,
                    None => {
                        ich.report(
                            Code::SegmentOutsideEnvelope,
                            None,
                            None,
                            Some(si),
                            None,
                            None,
                            "ST outside GS/GE".into(),
                        );
                        ich.groups.push(implicit_group());
                        let gi = ich.groups.len() - 1;
                        group = Some(gi);
                        gi
                    }
                };
                if let Some(ti) = txn.take() {
                    close_txn(&mut ich, gi, ti, si, None);
                }
                let Some(owned) = ich.detached(si) else {
                    continue;
                };
                let s = owned.view();
                let t = Transaction {
                    set_id: text(s.raw(1)),
                    control_number: text(s.raw(2)),
                    version: text(s.raw(3)),
                    header: si,
                    trailer: None,
                    end: si + 1,
                };
                let ctl = s.raw(2);
                let g = &mut ich.groups[gi];
                let dup = !set_controls.insert((gi, t.control_number.clone()));
                let wrong_group = g.header.is_some()
                    && functional_id(&t.set_id).is_some_and(|f| f != g.functional_id);
                g.transactions.push(t);
                let ti = g.transactions.len() - 1;
                txn = Some(ti);
                if !(4..=9).contains(&ctl.len()) {
                    ich.report(
                        Code::InvalidSetControl,
                        group,
                        txn,
                        Some(si),
                        Some(2),
                        Some(text(ctl)),
                        "ST02 must be 4-9 characters".into(),
                    );
                }
                if dup {
                    ich.report(
                        Code::DuplicateSet,
                        group,
                        txn,
                        Some(si),
                        Some(2),
                        None,
                        String::new(),
                    );
                }
                if wrong_group {
                    let f = ich.groups[gi].functional_id.clone();
                    ich.report(
                        Code::SetNotInGroup,
                        group,
                        txn,
                        Some(si),
                        Some(1),
                        None,
                        format!("GS01 is {f}"),
                    );
                }
            }
            "SE" => match (group, txn.take()) {
                (Some(gi), Some(ti)) => close_txn(&mut ich, gi, ti, si + 1, Some(si)),
                _ => ich.report(
                    Code::SegmentOutsideEnvelope,
                    group,
                    None,
                    Some(si),
                    None,
                    None,
                    "SE without ST".into(),
                ),
            },
            "GE" => match group.take() {
                Some(gi) => close_group(&mut ich, gi, &mut txn, si, Some(si)),
                None => ich.report(
                    Code::SegmentOutsideEnvelope,
                    None,
                    None,
                    Some(si),
                    None,
                    None,
                    "GE without GS".into(),
                ),
            },
            "IEA" => {
                if let Some(gi) = group.take() {
                    close_group(&mut ich, gi, &mut txn, si, None);
                }
                let Some(owned) = ich.detached(si) else { break };
                let s = owned.view();
                let (n, c) = (s.raw(1), s.raw(2));
                let c_ok = same_control(c, ich.control_number.as_bytes());
                if num(n) != Some(real_groups as u64) {
                    let v = text(n);
                    ich.report(
                        Code::GroupCountWrong,
                        None,
                        None,
                        Some(si),
                        Some(1),
                        Some(v),
                        format!("{real_groups} groups"),
                    );
                }
                if !c_ok {
                    let v = text(c);
                    ich.report(
                        Code::InterchangeControlMismatch,
                        None,
                        None,
                        Some(si),
                        Some(2),
                        Some(v),
                        String::new(),
                    );
                }
                ended = true;
                break;
            }
            "TA1" if group.is_none() => {}
            _ => {
                if txn.is_none() {
                    ich.report(
                        Code::SegmentOutsideEnvelope,
                        group,
                        None,
                        Some(si),
                        None,
                        None,
                        format!("{tag} outside ST/SE"),
                    );
                }
            }
        }
    }
    if !ended {
        let last = ich.segments.len();
        if let Some(gi) = group {
            close_group(&mut ich, gi, &mut txn, last, None);
        }
        ich.report(
            Code::InterchangeTrailerMissing,
            None,
            None,
            None,
            None,
            None,
            "no IEA".into(),
        );
    }
    if pos >= input.len() && !w.eof {
        return Ok(None); // the interchange (or the line noise after it) may go on
    }
    ich.end = base + pos;
    Ok(Some(ich))
}

fn implicit_group() -> Group {
    Group {
        functional_id: String::new(),
        sender: String::new(),
        receiver: String::new(),
        date: String::new(),
        time: String::new(),
        control_number: String::new(),
        version: String::new(),
        header: None,
        trailer: None,
        transactions: Vec::new(),
    }
}

/// Closes transaction `ti` of group `gi`: `end` is one past its last segment, `trailer` the SE.
fn close_txn(ich: &mut Interchange<'_>, gi: usize, ti: usize, end: usize, trailer: Option<usize>) {
    let Some(t) = ich
        .groups
        .get_mut(gi)
        .and_then(|g| g.transactions.get_mut(ti))
    else {
        return;
    };
    t.end = end;
    t.trailer = trailer;
    let (header, ctl) = (t.header, t.control_number.clone());
    let Some(se) = trailer else {
        ich.report(
            Code::TransactionTrailerMissing,
            Some(gi),
            Some(ti),
            Some(header),
            None,
            None,
            String::new(),
        );
        return;
    };
    let Some(owned) = ich.detached(se) else {
        return;
    };
    let s = owned.view();
    let (n, c) = (s.raw(1), s.raw(2));
    let count = se - header + 1;
    if num(n) != Some(count as u64) {
        let v = text(n);
        ich.report(
            Code::SegmentCountWrong,
            Some(gi),
            Some(ti),
            Some(se),
            Some(1),
            Some(v),
            format!("{count} segments ST..SE"),
        );
    }
    if c != ctl.as_bytes() {
        let v = text(c);
        ich.report(
            Code::TransactionControlMismatch,
            Some(gi),
            Some(ti),
            Some(se),
            Some(2),
            Some(v),
            format!("ST02 {ctl}"),
        );
    }
}

fn close_group(
    ich: &mut Interchange<'_>,
    gi: usize,
    txn: &mut Option<usize>,
    at: usize,
    trailer: Option<usize>,
) {
    if let Some(ti) = txn.take() {
        close_txn(ich, gi, ti, at, None);
    }
    let Some(g) = ich.groups.get_mut(gi) else {
        return;
    };
    g.trailer = trailer;
    let (n_txn, ctl, header) = (g.transactions.len(), g.control_number.clone(), g.header);
    let Some(ge) = trailer else {
        if header.is_some() {
            ich.report(
                Code::GroupTrailerMissing,
                Some(gi),
                None,
                header,
                None,
                None,
                String::new(),
            );
        }
        return;
    };
    let Some(owned) = ich.detached(ge) else {
        return;
    };
    let s = owned.view();
    let (n, c) = (s.raw(1), s.raw(2));
    if num(n) != Some(n_txn as u64) {
        let v = text(n);
        ich.report(
            Code::SetCountWrong,
            Some(gi),
            None,
            Some(ge),
            Some(1),
            Some(v),
            format!("{n_txn} transaction sets"),
        );
    }
    if !same_control(c, ctl.as_bytes()) {
        let v = text(c);
        ich.report(
            Code::GroupControlMismatch,
            Some(gi),
            None,
            Some(ge),
            Some(2),
            Some(v),
            format!("GS06 {ctl}"),
        );
    }
}

fn check_isa(ich: &mut Interchange<'_>, isa: &[u8]) {
    let bad =
        |ich: &mut Interchange<'_>, code, el: u32, range: std::ops::Range<usize>, what: &str| {
            let v = text(&isa[range]);
            ich.report(
                code,
                None,
                None,
                Some(0),
                Some(el),
                Some(v),
                what.to_string(),
            );
        };
    if ich.sender.id.is_empty() || ich.sender.qualifier.is_empty() {
        bad(ich, Code::InvalidSender, 6, 35..50, "ISA05/ISA06 empty");
    }
    if ich.receiver.id.is_empty() || ich.receiver.qualifier.is_empty() {
        bad(ich, Code::InvalidReceiver, 8, 54..69, "ISA07/ISA08 empty");
    }
    if values::date(&isa[70..76]).is_none() {
        bad(ich, Code::InvalidInterchangeDate, 9, 70..76, "ISA09 YYMMDD");
    }
    if !values::time(&isa[77..81]) {
        bad(ich, Code::InvalidInterchangeTime, 10, 77..81, "ISA10 HHMM");
    }
    if !isa[84..89].iter().all(u8::is_ascii_digit) {
        bad(ich, Code::UnsupportedSyntax, 12, 84..89, "ISA12 version");
    }
    if !isa[90..99].iter().all(u8::is_ascii_digit) {
        bad(
            ich,
            Code::InvalidInterchangeControl,
            13,
            90..99,
            "ISA13 9 digits",
        );
    }
    if !matches!(isa[100], b'0' | b'1') {
        bad(
            ich,
            Code::InvalidInterchangeValue,
            14,
            100..101,
            "ISA14 0 or 1",
        );
    }
    if !matches!(isa[102], b'P' | b'T' | b'I') {
        bad(
            ich,
            Code::InvalidInterchangeValue,
            15,
            102..103,
            "ISA15 P, T or I",
        );
    }
}

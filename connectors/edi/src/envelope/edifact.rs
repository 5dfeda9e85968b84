//! EDIFACT interchange reader: UNA service string advice (or the defaults), release character,
//! UNB/UNZ, optional UNG/UNE and UNH/UNT with their counts and references. Messages outside a
//! UNG go into one implicit group so that acknowledgments treat both layouts alike.

use std::collections::HashSet;

use super::{
    Group, Interchange, PartnerId, Seg, Transaction, Window, next_segment, num, skip_line_noise,
};
use crate::error::EdiError;
use crate::issue::Code;
use crate::syntax::{Separators, Standard, decode, unescape};
use crate::values;

fn text(b: &[u8], rel: Option<u8>) -> String {
    unescape(b, rel).trim().to_string()
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
    let mut pos = start;
    let mut seps = Separators::EDIFACT;
    // the header's bytes must all be there to be judged
    let short = |from: usize, n: usize| input.len() < from + n && !w.eof;
    if short(pos, 9) {
        return Ok(None);
    }
    if input[pos..].starts_with(b"UNA") {
        let una = input.get(pos..pos + 9).ok_or(EdiError::BadHeader {
            offset: base + start,
            header: "UNA",
            reason: "shorter than 9 characters".into(),
        })?;
        seps = Separators {
            component: una[3],
            element: una[4],
            decimal: una[5],
            release: (una[6] != b' ').then_some(una[6]),
            repetition: (una[7] != b' ').then_some(una[7]),
            segment: una[8],
        };
        let distinct = [seps.component, seps.element, seps.segment];
        if distinct[0] == distinct[1] || distinct[1] == distinct[2] || distinct[0] == distinct[2] {
            return Err(EdiError::BadHeader {
                offset: base + start,
                header: "UNA",
                reason: "separators are not distinct".into(),
            });
        }
        pos = skip_line_noise(input, pos + 9, &seps);
        if short(pos, 4) {
            return Ok(None);
        }
    } else if input.get(pos + 3) == Some(&0x1d) {
        // UNOB without UNA: IS1 component, IS3 element, IS4 segment terminator
        seps = Separators {
            component: 0x1f,
            element: 0x1d,
            repetition: None,
            segment: 0x1c,
            release: None,
            decimal: b'.',
        };
    }
    if !input[pos..].starts_with(b"UNB") {
        return Err(EdiError::BadHeader {
            offset: base + pos,
            header: "UNB",
            reason: "UNA is not followed by UNB".into(),
        });
    }
    let rel = seps.release;
    let mut ich = Interchange::new(Standard::Edifact, seps, base + start, hints);
    let mut group: Option<usize> = None;
    let mut explicit_group = false;
    let mut txn: Option<usize> = None;
    let mut msgs_in_ich = 0usize;
    // (group, control number) of the sets seen: duplicate ST02 / 0062 without a quadratic scan
    let mut set_controls: HashSet<(usize, String)> = HashSet::new();
    let mut n_groups = 0usize;
    let mut unb_ref: &[u8] = &[];
    let mut ended = false;
    while pos < input.len() {
        let next_header = |b: &[u8], ich: &Interchange<'_>| {
            !ich.segments.is_empty() && (b.starts_with(b"UNB") || b.starts_with(b"UNA"))
        };
        let (seg_end, next) = match next_segment(input, pos, seps.segment, rel, w) {
            Seg::At(end, next) => (end, next),
            Seg::More => return Ok(None),
            // a segment over the limit: unless it starts the next interchange, this one cannot
            // be read
            Seg::Overlong if next_header(&input[pos..], &ich) => break,
            Seg::Overlong => {
                return Err(EdiError::SegmentTooLong {
                    offset: base + pos,
                    limit: w.max_segment,
                });
            }
        };
        let bytes = &input[pos..seg_end];
        if next_header(bytes, &ich) {
            break; // next interchange: this one has no UNZ
        }
        if bytes.is_empty() {
            pos = skip_line_noise(input, next, &seps);
            continue;
        }
        *seg_index += 1;
        let si = ich.push(bytes, base + pos, *seg_index);
        pos = skip_line_noise(input, next, &seps);
        let tag = ich.segments[si].tag;
        let owned = if tag.starts_with("UN") {
            ich.detached(si)
        } else {
            None
        };
        let (Some(owned), true) = (owned, tag.starts_with("UN")) else {
            if txn.is_none() {
                ich.report(
                    Code::SegmentOutsideEnvelope,
                    group,
                    None,
                    Some(si),
                    None,
                    None,
                    format!("{tag} outside UNH/UNT"),
                );
            }
            continue;
        };
        let s = owned.view();
        match tag {
            "UNB" => {
                ich.syntax_id = text(s.component(1, 1), rel);
                ich.version = text(s.component(1, 2), rel);
                ich.sender = PartnerId {
                    id: text(s.component(2, 1), rel),
                    qualifier: text(s.component(2, 2), rel),
                };
                ich.receiver = PartnerId {
                    id: text(s.component(3, 1), rel),
                    qualifier: text(s.component(3, 2), rel),
                };
                let (d, t) = (s.component(4, 1), s.component(4, 2));
                ich.date = text(d, rel);
                ich.time = text(t, rel);
                unb_ref = s.raw(5);
                ich.control_number = text(unb_ref, rel);
                ich.ack_requested = s.raw(9) == b"1";
                ich.test = s.raw(11) == b"1";
                let syntax_ok = ich.syntax_id.len() == 4
                    && ich.syntax_id.bytes().all(|b| b.is_ascii_uppercase())
                    && matches!(ich.version.as_str(), "1" | "2" | "3" | "4");
                if !syntax_ok {
                    let v = decode(s.raw(1)).into_owned();
                    ich.report(
                        Code::UnsupportedSyntax,
                        None,
                        None,
                        Some(si),
                        Some(1),
                        Some(v),
                        String::new(),
                    );
                }
                if ich.sender.id.is_empty() {
                    ich.report(
                        Code::InvalidSender,
                        None,
                        None,
                        Some(si),
                        Some(2),
                        None,
                        String::new(),
                    );
                }
                if ich.receiver.id.is_empty() {
                    ich.report(
                        Code::InvalidReceiver,
                        None,
                        None,
                        Some(si),
                        Some(3),
                        None,
                        String::new(),
                    );
                }
                if values::date(d).is_none() {
                    ich.report(
                        Code::InvalidInterchangeDate,
                        None,
                        None,
                        Some(si),
                        Some(4),
                        Some(decode(d).into_owned()),
                        String::new(),
                    );
                }
                if !values::time(t) {
                    ich.report(
                        Code::InvalidInterchangeTime,
                        None,
                        None,
                        Some(si),
                        Some(4),
                        Some(decode(t).into_owned()),
                        String::new(),
                    );
                }
                if unb_ref.is_empty() || unb_ref.len() > 14 {
                    ich.report(
                        Code::InvalidInterchangeControl,
                        None,
                        None,
                        Some(si),
                        Some(5),
                        None,
                        String::new(),
                    );
                }
            }
            "UNG" => {
                if let Some(gi) = group.take() {
                    close_group(&mut ich, gi, &mut txn, si, None, explicit_group);
                }
                let g = Group {
                    functional_id: text(s.raw(1), rel),
                    sender: text(s.component(2, 1), rel),
                    receiver: text(s.component(3, 1), rel),
                    date: text(s.component(4, 1), rel),
                    time: text(s.component(4, 2), rel),
                    control_number: text(s.raw(5), rel),
                    version: [s.component(7, 1), s.component(7, 2)]
                        .iter()
                        .map(|c| text(c, rel))
                        .collect::<Vec<_>>()
                        .join(":"),
                    header: Some(si),
                    trailer: None,
                    transactions: Vec::new(),
                };
                let dup = ich
                    .groups
                    .iter()
                    .any(|o| o.header.is_some() && o.control_number == g.control_number);
                ich.groups.push(g);
                n_groups += 1;
                group = Some(ich.groups.len() - 1);
                explicit_group = true;
                if dup {
                    ich.report(
                        Code::DuplicateGroup,
                        group,
                        None,
                        Some(si),
                        Some(5),
                        None,
                        String::new(),
                    );
                }
            }
            "UNH" => {
                let t = Transaction {
                    set_id: text(s.component(2, 1), rel),
                    control_number: text(s.raw(1), rel),
                    version: s
                        .components(2)
                        .skip(1)
                        .map(|c| text(c, rel))
                        .collect::<Vec<_>>()
                        .join(":"),
                    header: si,
                    trailer: None,
                    end: si + 1,
                };
                let gi = match group {
                    Some(gi) => gi,
                    None => {
                        ich.groups.push(Group {
                            functional_id: t.set_id.clone(),
                            sender: String::new(),
                            receiver: String::new(),
                            date: String::new(),
                            time: String::new(),
                            control_number: String::new(),
                            version: t.version.clone(),
                            header: None,
                            trailer: None,
                            transactions: Vec::new(),
                        });
                        explicit_group = false;
                        group = Some(ich.groups.len() - 1);
                        ich.groups.len() - 1
                    }
                };
                if let Some(ti) = txn.take() {
                    close_txn(&mut ich, gi, ti, si, None);
                }
                let g = &mut ich.groups[gi];
                let dup = !set_controls.insert((gi, t.control_number.clone()));
                let empty_ref = t.control_number.is_empty();
                g.transactions.push(t);
                txn = Some(g.transactions.len() - 1);
                msgs_in_ich += 1;
                if dup {
                    ich.report(
                        Code::DuplicateSet,
                        group,
                        txn,
                        Some(si),
                        Some(1),
                        None,
                        String::new(),
                    );
                }
                if empty_ref {
                    ich.report(
                        Code::InvalidSetControl,
                        group,
                        txn,
                        Some(si),
                        Some(1),
                        None,
                        String::new(),
                    );
                }
            }
            "UNT" => match (group, txn.take()) {
                (Some(gi), Some(ti)) => close_txn(&mut ich, gi, ti, si + 1, Some(si)),
                _ => ich.report(
                    Code::SegmentOutsideEnvelope,
                    group,
                    None,
                    Some(si),
                    None,
                    None,
                    "UNT without UNH".into(),
                ),
            },
            "UNE" => match group.take() {
                Some(gi) if explicit_group => {
                    close_group(&mut ich, gi, &mut txn, si, Some(si), true)
                }
                _ => ich.report(
                    Code::SegmentOutsideEnvelope,
                    None,
                    None,
                    Some(si),
                    None,
                    None,
                    "UNE without UNG".into(),
                ),
            },
            "UNZ" => {
                if let Some(gi) = group.take() {
                    close_group(&mut ich, gi, &mut txn, si, None, explicit_group);
                }
                let (n, c) = (s.raw(1), s.raw(2));
                let expect = if n_groups > 0 { n_groups } else { msgs_in_ich };
                if num(n) != Some(expect as u64) {
                    let what = if n_groups > 0 { "groups" } else { "messages" };
                    ich.report(
                        Code::GroupCountWrong,
                        None,
                        None,
                        Some(si),
                        Some(1),
                        Some(decode(n).into_owned()),
                        format!("{expect} {what}"),
                    );
                }
                if c != unb_ref {
                    ich.report(
                        Code::InterchangeControlMismatch,
                        None,
                        None,
                        Some(si),
                        Some(2),
                        Some(decode(c).into_owned()),
                        String::new(),
                    );
                }
                ended = true;
                break;
            }
            _ => {
                if txn.is_none() {
                    ich.report(
                        Code::SegmentOutsideEnvelope,
                        group,
                        None,
                        Some(si),
                        None,
                        None,
                        format!("{tag} outside UNH/UNT"),
                    );
                }
            }
        }
    }
    if !ended {
        let last = ich.segments.len();
        if let Some(gi) = group {
            close_group(&mut ich, gi, &mut txn, last, None, explicit_group);
        }
        ich.report(
            Code::InterchangeTrailerMissing,
            None,
            None,
            None,
            None,
            None,
            "no UNZ".into(),
        );
    }
    if pos >= input.len() && !w.eof {
        return Ok(None); // the interchange (or the line noise after it) may go on
    }
    ich.end = base + pos;
    Ok(Some(ich))
}

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
    let Some(unt) = trailer else {
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
    let Some(owned) = ich.detached(unt) else {
        return;
    };
    let s = owned.view();
    let rel = ich.separators.release;
    let (n, c) = (s.raw(1), text(s.raw(2), rel));
    let count = unt - header + 1;
    if num(n) != Some(count as u64) {
        let v = decode(n).into_owned();
        ich.report(
            Code::SegmentCountWrong,
            Some(gi),
            Some(ti),
            Some(unt),
            Some(1),
            Some(v),
            format!("{count} segments UNH..UNT"),
        );
    }
    if c != ctl {
        ich.report(
            Code::TransactionControlMismatch,
            Some(gi),
            Some(ti),
            Some(unt),
            Some(2),
            Some(c),
            format!("UNH 0062 {ctl}"),
        );
    }
}

fn close_group(
    ich: &mut Interchange<'_>,
    gi: usize,
    txn: &mut Option<usize>,
    at: usize,
    trailer: Option<usize>,
    explicit: bool,
) {
    if let Some(ti) = txn.take() {
        close_txn(ich, gi, ti, at, None);
    }
    let Some(g) = ich.groups.get_mut(gi) else {
        return;
    };
    g.trailer = trailer;
    if !explicit {
        return;
    }
    let (n_txn, ctl, header) = (g.transactions.len(), g.control_number.clone(), g.header);
    let Some(une) = trailer else {
        ich.report(
            Code::GroupTrailerMissing,
            Some(gi),
            None,
            header,
            None,
            None,
            String::new(),
        );
        return;
    };
    let Some(owned) = ich.detached(une) else {
        return;
    };
    let s = owned.view();
    let rel = ich.separators.release;
    let (n, c) = (s.raw(1), text(s.raw(2), rel));
    if num(n) != Some(n_txn as u64) {
        let v = decode(n).into_owned();
        ich.report(
            Code::SetCountWrong,
            Some(gi),
            None,
            Some(une),
            Some(1),
            Some(v),
            format!("{n_txn} messages"),
        );
    }
    if c != ctl {
        ich.report(
            Code::GroupControlMismatch,
            Some(gi),
            None,
            Some(une),
            Some(2),
            Some(c),
            format!("UNG 0048 {ctl}"),
        );
    }
}

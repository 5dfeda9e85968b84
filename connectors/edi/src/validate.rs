//! Transaction validation: segment order, loops and occurrence against the set's schema, then
//! element requirement, length, type, code values and dates; plus the 856 HL hierarchy,
//! EDIFACT DTM formats and the control totals (`CTT`, `CNT`, [`crate::totals`]). Every finding is a located [`Issue`] with its standard code.
//!
//! Segments are matched greedily against the schema tree: a segment is looked for from the
//! current position forward in the innermost loop, then in each enclosing loop; mandatory
//! segments skipped on the way are reported missing (AK304 3 / 0085 13). A segment that fits
//! nowhere is "not in proper sequence" (7) when it appears earlier in an open loop, "unexpected"
//! (2) when the set has it elsewhere, "not in defined set" (6) when the standard knows it, and
//! "unrecognized" (1) otherwise; it does not move the position.

use crate::envelope::{Interchange, Transaction};
use crate::issue::{Code, ElementAt, Issue};
use crate::schema::{self, Elem, Kind, Node, Nodes};
use crate::segment::SegmentRef;
use crate::syntax::{Separators, Standard, split_unreleased};
use crate::values;

/// Envelope issues of the interchange followed by the issues of every transaction in it.
pub fn validate(ich: &Interchange<'_>) -> Vec<Issue> {
    let mut out = ich.issues.clone();
    for (gi, ti, t) in ich.transactions() {
        validate_transaction(ich, gi, ti, t, &mut out);
    }
    out
}

/// The transactions of `ich` this crate has no schema for: read at the envelope and segment
/// level only, their content neither validated nor mapped.
pub fn not_mapped<'i>(
    ich: &'i Interchange<'_>,
) -> impl Iterator<Item = (usize, usize, &'i Transaction)> + 'i {
    ich.transactions()
        .filter(move |(_, _, t)| schema::set_schema(ich.standard, &t.set_id).is_none())
}

struct Frame<'s> {
    children: &'s Nodes,
    pos: usize,
    count: u32,
}

/// Validates one transaction's content (envelope counts are checked by the reader).
pub fn validate_transaction(
    ich: &Interchange<'_>,
    gi: usize,
    ti: usize,
    t: &Transaction,
    out: &mut Vec<Issue>,
) {
    let std = ich.standard;
    // A set without a schema (an 846, a 214...) was read at the envelope and segment level
    // by the reader, which is all there is to check: it is not an issue. Whether it is
    // accepted is the partner's choice (`ack::refused`); `ordo edi parse` notes it as not
    // mapped ([`not_mapped`]).
    let Some(set) = schema::set_schema(std, &t.set_id) else {
        return;
    };
    // A transaction without its trailer (reported below) ends where the next begins.
    let body_end = t.trailer.unwrap_or(t.end);
    let mut stack: Vec<Frame<'_>> = vec![Frame {
        children: &set.body,
        pos: 0,
        count: 0,
    }];
    let mut hl = HlState::default();
    let at =
        |code: Code, si: usize, el: Option<ElementAt>, value: Option<String>, detail: String| {
            ich.issue_at(code, Some(gi), Some(ti), Some(si), el, value, detail)
        };
    for si in t.header + 1..body_end {
        let Some(seg) = ich.segment(si) else { continue };
        let tag = seg.tag();
        if matched(&mut stack, schema::tag_key(tag), si, &at, out) {
            if let Some(defs) = schema::segment_elements(std, tag) {
                let clean = Clean::of(ich.segment_bytes(si), &seg.seps);
                check_elements(std, &seg, defs, clean, &mut |code, pos, comp, value| {
                    let el = Some(ElementAt {
                        position: pos,
                        component: comp,
                    });
                    out.push(at(code, si, el, value, String::new()));
                });
            }
            if std == Standard::X12 && tag == "HL" {
                hl.check(&seg, si, &at, out);
            }
            if std == Standard::Edifact && tag == "DTM" {
                let (v, f) = (seg.component(1, 2), seg.component(1, 3));
                if !v.is_empty() && !values::edifact_datetime(v, f) {
                    let el = Some(ElementAt {
                        position: 1,
                        component: Some(2),
                    });
                    let detail = format!("format {}", String::from_utf8_lossy(f));
                    out.push(at(
                        Code::InvalidDate,
                        si,
                        el,
                        Some(seg.text(1).into_owned()),
                        detail,
                    ));
                }
            }
        } else {
            let code = classify(std, set, &stack, tag);
            out.push(at(code, si, None, None, String::new()));
        }
    }
    // close every open loop: mandatory segments never seen
    let end_si = body_end.min(ich.segments.len().saturating_sub(1));
    while let Some(f) = stack.pop() {
        missing(&f, f.children.len(), end_si, &at, out);
    }
    crate::totals::check(ich, gi, ti, t, out);
}

/// Reports mandatory children of `f` from its position up to (excluding) `upto`.
fn missing<F>(f: &Frame<'_>, upto: usize, si: usize, at: &F, out: &mut Vec<Issue>)
where
    F: Fn(Code, usize, Option<ElementAt>, Option<String>, String) -> Issue,
{
    // fast path: no mandatory node in the range, or only the current one and it was seen
    let mut first = f.children.next_required(f.pos);
    if first == f.pos && f.count >= f.children.get(first).map_or(0, Node::min) {
        first = f.children.next_required(f.pos + 1);
    }
    if first >= upto {
        return;
    }
    for j in f.pos..upto {
        let seen = if j == f.pos { f.count } else { 0 };
        let node = &f.children[j];
        if seen < node.min() {
            let mut issue = at(
                Code::MandatorySegmentMissing,
                si,
                None,
                None,
                format!("{} expected", node.tag()),
            );
            if let Some(s) = issue.segment.as_mut() {
                s.tag = node.tag().to_string();
            }
            out.push(issue);
        }
    }
}

fn matched<'s, F>(
    stack: &mut Vec<Frame<'s>>,
    key: u32,
    si: usize,
    at: &F,
    out: &mut Vec<Issue>,
) -> bool
where
    F: Fn(Code, usize, Option<ElementAt>, Option<String>, String) -> Issue,
{
    let mut d = stack.len();
    while d > 0 {
        d -= 1;
        let f = &stack[d];
        let Some(i) = f.children.find(f.pos, key) else {
            continue;
        };
        while stack.len() > d + 1 {
            if let Some(inner) = stack.pop() {
                missing(&inner, inner.children.len(), si, at, out);
            }
        }
        let f = &mut stack[d];
        missing(f, i, si, at, out);
        if i == f.pos {
            f.count += 1;
        } else {
            f.pos = i;
            f.count = 1;
        }
        let node = &f.children[i];
        if f.count > node.max() {
            let code = match node {
                Node::Loop { .. } => Code::LoopOverMax,
                Node::Seg { .. } => Code::SegmentOverMax,
            };
            out.push(at(code, si, None, None, format!("max {}", node.max())));
        }
        if let Node::Loop { children, .. } = node {
            stack.push(Frame {
                children,
                pos: 0,
                count: 0,
            });
        }
        return true;
    }
    false
}

fn classify(std: Standard, set: &schema::SetSchema, stack: &[Frame<'_>], tag: &str) -> Code {
    if stack.iter().any(|f| {
        f.children[..f.pos.min(f.children.len())]
            .iter()
            .any(|n| n.tag() == tag)
    }) {
        Code::SegmentOutOfOrder
    } else if set.tags.contains(tag) {
        Code::UnexpectedSegment
    } else if schema::is_known_tag(std, tag) {
        Code::SegmentNotInSet
    } else {
        Code::UnrecognizedSegment
    }
}

/// What one pass over a segment's bytes proved, so that its elements need not be scanned again.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Clean {
    /// No control character and no release character: lengths are byte lengths, components
    /// split without release handling, no element holds a control character.
    pub(crate) plain: bool,
    /// Also no component separator (X12 segments mostly; EDIFACT ones rarely, composites
    /// being the rule there).
    pub(crate) flat: bool,
}

impl Clean {
    /// One branch-free pass over the whole segment (the compiler vectorizes it), instead of one
    /// scan per element.
    #[inline]
    pub(crate) fn of(bytes: &[u8], seps: &Separators) -> Clean {
        // No release character (X12): 0x7f, itself flagged as special, stands in.
        let (c, r) = (seps.component, seps.release.unwrap_or(0x7f));
        let (special, comp) = bytes.iter().fold((0u8, 0u8), |(s, k), &b| {
            (
                s | u8::from(b < 0x20) | u8::from(b == 0x7f) | u8::from(b == r),
                k | u8::from(b == c),
            )
        });
        let plain = !bytes.is_empty() && special == 0;
        Clean {
            plain,
            flat: plain && comp == 0,
        }
    }
}

/// Checks a segment's elements; `report(code, element, component, value)`. `clean`: what a scan
/// of the segment proved ([`Clean`]).
pub(crate) fn check_elements(
    std: Standard,
    seg: &SegmentRef<'_, '_>,
    defs: &[Elem],
    clean: Clean,
    report: &mut dyn FnMut(Code, u32, Option<u32>, Option<String>),
) {
    if seg.len() > defs.len() && (defs.len() + 1..=seg.len()).any(|n| !seg.raw(n).is_empty()) {
        report(Code::TooManyElements, defs.len() as u32 + 1, None, None);
    }
    check_present(std, seg, defs, clean, report);
    // elements the segment does not have: only "mandatory missing" can apply
    for (i, def) in defs.iter().enumerate().skip(seg.elems.len()) {
        if def.required {
            report(Code::MandatoryElementMissing, i as u32 + 1, None, None);
        }
    }
}

/// [`check_elements`] for the elements the segment has (`defs` and elements side by side).
fn check_present(
    std: Standard,
    seg: &SegmentRef<'_, '_>,
    defs: &[Elem],
    clean: Clean,
    report: &mut dyn FnMut(Code, u32, Option<u32>, Option<String>),
) {
    let seps = seg.seps;
    // a plain segment has no release character: lengths are byte lengths
    let release = if clean.plain { None } else { seps.release };
    for (i, (def, &raw)) in defs.iter().zip(seg.elems).enumerate() {
        let n = i + 1;
        let pos = n as u32;
        if raw.is_empty() {
            if def.required {
                report(Code::MandatoryElementMissing, pos, None, None);
            }
            continue;
        }
        // the usual element: text or a code without a code list, in a plain segment and without
        // a component separator: only its length can be wrong (what `check_simple` would find,
        // without its general dispatch)
        if clean.plain
            && def.components.is_empty()
            && def.codes.is_empty()
            && matches!(def.kind, Kind::An | Kind::Id | Kind::A)
            && (clean.flat || !raw.contains(&seps.component))
        {
            let code = if raw.len() < usize::from(def.min) {
                Code::ElementTooShort
            } else if raw.len() > usize::from(def.max) {
                Code::ElementTooLong
            } else {
                continue;
            };
            report(code, pos, None, value_of(code, seg, raw));
            continue;
        }
        if def.components.is_empty() {
            // one pass over the bytes for both the component separator and control characters
            let (has_component, ctrl) = match seps.release {
                _ if clean.flat => (false, false),
                _ if clean.plain => (raw.contains(&seps.component), false),
                None => scan(raw, seps.component),
                Some(_) => (
                    crate::syntax::find_unreleased(raw, seps.component, seps.release).is_some(),
                    has_control(raw),
                ),
            };
            if has_component {
                report(
                    Code::TooManyComponents,
                    pos,
                    None,
                    Some(seg.text(n).into_owned()),
                );
                continue;
            }
            if let Some(code) = check_simple(std, raw, def, release, ctrl) {
                report(code, pos, None, value_of(code, seg, raw));
            }
            continue;
        }
        let mut count = 0;
        for (j, comp) in split_unreleased(raw, seps.component, release).enumerate() {
            count += 1;
            let Some(cdef) = def.components.get(j) else {
                report(Code::TooManyComponents, pos, Some(j as u32 + 1), None);
                break;
            };
            let ctrl = !clean.plain && has_control(comp);
            if let Some(code) = check_simple(std, comp, cdef, release, ctrl) {
                report(code, pos, Some(j as u32 + 1), value_of(code, seg, comp));
            }
        }
        for (j, cdef) in def.components.iter().enumerate().skip(count) {
            if cdef.required {
                report(Code::MandatoryElementMissing, pos, Some(j as u32 + 1), None);
            }
        }
    }
}

fn value_of(code: Code, seg: &SegmentRef<'_, '_>, raw: &[u8]) -> Option<String> {
    (code != Code::MandatoryElementMissing)
        .then(|| crate::syntax::unescape(raw, seg.seps.release).into_owned())
}

/// Whether `raw` has a control character (below 0x20, or DEL).
#[inline]
fn has_control(raw: &[u8]) -> bool {
    raw.iter().any(|&b| b < 0x20 || b == 0x7f)
}

/// `(has the component separator, has a control character)` in one pass without early exit
/// (elements are short; a branch-free loop beats two searches).
#[inline]
fn scan(raw: &[u8], component: u8) -> (bool, bool) {
    let (mut comp, mut ctrl) = (false, false);
    for &b in raw {
        comp |= b == component;
        ctrl |= b < 0x20 || b == 0x7f;
    }
    (comp, ctrl)
}

/// Checks one simple element or component; `ctrl` is whether `raw` has a control character.
#[inline(always)]
fn check_simple(
    std: Standard,
    raw: &[u8],
    def: &Elem,
    release: Option<u8>,
    ctrl: bool,
) -> Option<Code> {
    if raw.is_empty() {
        return def.required.then_some(Code::MandatoryElementMissing);
    }
    let len = match release {
        Some(r) if memchr::memchr(r, raw).is_some() => crate::syntax::unescaped_chars(raw, r),
        _ => raw.len(),
    };
    let (min, max) = (usize::from(def.min), usize::from(def.max));
    match def.kind {
        Kind::An | Kind::Id | Kind::A => {
            if ctrl {
                return Some(Code::InvalidCharacter);
            }
            if len < min {
                return Some(Code::ElementTooShort);
            }
            if len > max {
                return Some(Code::ElementTooLong);
            }
            if !def.codes.is_empty() {
                // Not UTF-8: matches no code, so it is reported as an invalid code.
                let v = std::str::from_utf8(raw).unwrap_or("");
                if !def.codes.contains(&v.trim_end()) {
                    return Some(Code::InvalidCode);
                }
            }
            None
        }
        Kind::N0 | Kind::N2 | Kind::R => {
            let decimal = def.kind == Kind::R || std == Standard::Edifact;
            let Some(digits) = values::numeric_len(raw, decimal) else {
                return Some(Code::NotNumeric);
            };
            if digits < min {
                return Some(Code::ElementTooShort);
            }
            (digits > max).then_some(Code::ElementTooLong)
        }
        Kind::Dt => {
            if len < min || len > max || values::date(raw).is_none() {
                return Some(Code::InvalidDate);
            }
            None
        }
        Kind::Tm => {
            if len < min || len > max || !values::time(raw) {
                return Some(Code::InvalidTime);
            }
            None
        }
    }
}

/// 856 HL hierarchy: HL01 counts 1, 2, 3...; HL02 names an earlier HL (empty on the first);
/// HL03 present.
#[derive(Default)]
struct HlState {
    ids: Vec<String>,
}

impl HlState {
    fn check<F>(&mut self, seg: &SegmentRef<'_, '_>, si: usize, at: &F, out: &mut Vec<Issue>)
    where
        F: Fn(Code, usize, Option<ElementAt>, Option<String>, String) -> Issue,
    {
        let el = |p| {
            Some(ElementAt {
                position: p,
                component: None,
            })
        };
        let id = seg.text(1).into_owned();
        let expect = (self.ids.len() + 1).to_string();
        if id != expect {
            out.push(at(
                Code::InvalidValue,
                si,
                el(1),
                Some(id.clone()),
                format!("HL01 should be {expect}"),
            ));
        }
        let parent = seg.text(2);
        if self.ids.is_empty() && !parent.is_empty() {
            out.push(at(
                Code::InvalidValue,
                si,
                el(2),
                Some(parent.into_owned()),
                "first HL has no parent".into(),
            ));
        } else if !parent.is_empty() && !self.ids.iter().any(|i| *i == parent) {
            out.push(at(
                Code::InvalidValue,
                si,
                el(2),
                Some(parent.into_owned()),
                "HL02 names no earlier HL".into(),
            ));
        }
        self.ids.push(id);
    }
}

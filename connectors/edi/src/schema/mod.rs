//! Table-driven schemas: which segments a transaction set has, in what order, in which loops,
//! how often; and for the key segments, each element's requirement, type, length and (for a
//! handful of key elements) code values.
//!
//! Tables are compact text (see [`x12`] and [`edifact`]), parsed once on first use:
//! - structure: `BEG 1 1; CUR 0 1; [N1 0 200: N2 0 2; N3 0 2]; ...` — `TAG min max`, and a loop
//!   `[TRIGGER min max: children]` whose first segment is the trigger (counted once per loop).
//! - elements: `M ID 2/2=00,01; M AN 1/22; O C[M AN 1/3|O AN 1/35]` — `M`/`O`, type
//!   (X12 `AN ID N0 N2 R DT TM`, EDIFACT `AN N A`), `min/max`, optional `=codes`; a composite
//!   is `C[...]` with components separated by `|`.
//!
//! They cover the sets ordo exchanges and the segments those sets use in practice; a segment
//! without an element table is checked for position only.

pub mod edifact;
pub mod x12;

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::syntax::Standard;

/// A structure node: a segment, or a loop started by its trigger segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Seg {
        tag: &'static str,
        key: u32,
        min: u32,
        max: u32,
    },
    Loop {
        tag: &'static str,
        key: u32,
        min: u32,
        max: u32,
        children: Nodes,
    },
}

/// A sequence of structure nodes (a set body or a loop's children) with what validation looks
/// up for every segment precomputed: where each tag occurs (a small hash table, so finding a
/// segment's node is one probe rather than a walk whose length varies from segment to segment),
/// and for each position the next node that is mandatory, so "mandatory segment missing" checks
/// do not walk the nodes one by one either.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nodes {
    nodes: Vec<Node>,
    /// `next_required[i]`: the first index `>= i` whose node has `min > 0` (`len` when none).
    next_required: Vec<u32>,
    /// Open-addressing table (power-of-two size) of `(key, start, count)`: the positions of the
    /// nodes with that key are `positions[start..start + count]`, ascending. Key 0 = empty slot.
    table: Vec<(u32, u16, u16)>,
    positions: Vec<u16>,
}

#[inline]
fn slot_of(key: u32, mask: usize) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> 16) as usize & mask
}

impl Nodes {
    pub fn new(nodes: Vec<Node>) -> Self {
        let mut next_required = vec![nodes.len() as u32; nodes.len() + 1];
        for i in (0..nodes.len()).rev() {
            next_required[i] = if nodes[i].min() > 0 {
                i as u32
            } else {
                next_required[i + 1]
            };
        }
        // positions grouped by key, in order of first occurrence
        let mut groups: Vec<(u32, Vec<u16>)> = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            match groups.iter_mut().find(|(k, _)| *k == n.key()) {
                Some((_, at)) => at.push(i as u16),
                None => groups.push((n.key(), vec![i as u16])),
            }
        }
        let size = (groups.len() * 2).next_power_of_two().max(8);
        let mut table = vec![(0u32, 0u16, 0u16); size];
        let mut positions = Vec::with_capacity(nodes.len());
        for (key, at) in groups {
            let mut h = slot_of(key, size - 1);
            while table[h].0 != 0 {
                h = (h + 1) & (size - 1);
            }
            table[h] = (key, positions.len() as u16, at.len() as u16);
            positions.extend(at);
        }
        Nodes {
            nodes,
            next_required,
            table,
            positions,
        }
    }

    /// Index of the first node at or after `from` whose tag key is `key`.
    #[inline]
    pub fn find(&self, from: usize, key: u32) -> Option<usize> {
        if self.table.is_empty() || key == 0 {
            return None;
        }
        let mask = self.table.len() - 1;
        let mut h = slot_of(key, mask);
        loop {
            let (k, start, count) = self.table[h];
            if k == key {
                let (start, count) = (usize::from(start), usize::from(count));
                return self.positions[start..start + count]
                    .iter()
                    .map(|&i| usize::from(i))
                    .find(|&i| i >= from);
            }
            if k == 0 {
                return None;
            }
            h = (h + 1) & mask;
        }
    }

    /// Index of the first mandatory node at or after `from` (`len()` when none).
    #[inline]
    pub fn next_required(&self, from: usize) -> usize {
        self.next_required
            .get(from)
            .map_or(self.nodes.len(), |&i| i as usize)
    }
}

impl std::ops::Deref for Nodes {
    type Target = [Node];
    fn deref(&self) -> &[Node] {
        &self.nodes
    }
}

impl Node {
    pub fn tag(&self) -> &'static str {
        match self {
            Node::Seg { tag, .. } | Node::Loop { tag, .. } => tag,
        }
    }
    /// The tag packed by [`tag_key`], compared instead of strings on the hot path.
    #[inline]
    pub fn key(&self) -> u32 {
        match self {
            Node::Seg { key, .. } | Node::Loop { key, .. } => *key,
        }
    }
    pub fn min(&self) -> u32 {
        match self {
            Node::Seg { min, .. } | Node::Loop { min, .. } => *min,
        }
    }
    pub fn max(&self) -> u32 {
        match self {
            Node::Seg { max, .. } | Node::Loop { max, .. } => *max,
        }
    }
}

/// A segment tag packed into a number (tags are 2-3 ASCII characters); `u32::MAX` for longer.
#[inline]
pub fn tag_key(tag: &str) -> u32 {
    let b = tag.as_bytes();
    if b.len() > 4 {
        return u32::MAX;
    }
    b.iter().fold(0u32, |k, &c| (k << 8) | u32::from(c))
}

/// Element data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Alphanumeric text.
    An,
    /// Code value (X12 ID).
    Id,
    /// Alphabetic (EDIFACT a).
    A,
    /// Integer (X12 N0) / EDIFACT n (decimal mark allowed).
    N0,
    /// Integer with two implied decimals (X12 N2).
    N2,
    /// Decimal number (X12 R, EDIFACT n).
    R,
    /// Date `CCYYMMDD` / `YYMMDD`.
    Dt,
    /// Time `HHMM[SS[dd]]`.
    Tm,
}

/// One element (or component) definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elem {
    pub required: bool,
    pub kind: Kind,
    pub min: u16,
    pub max: u16,
    pub codes: &'static [&'static str],
    /// Components when this is a composite.
    pub components: Vec<Elem>,
}

/// A transaction set's structure: the segments between ST and SE (UNH and UNT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetSchema {
    pub id: &'static str,
    pub body: Nodes,
    pub tags: HashSet<&'static str>,
}

struct Tables {
    sets: HashMap<&'static str, SetSchema>,
    /// Element definitions, found through `seg_slot` (tag code → index + 1): validation looks
    /// one up per segment, so no hashing on that path.
    segs: Vec<Vec<Elem>>,
    seg_slot: Vec<u16>,
    known: HashSet<&'static str>,
}

const TAG_CODES: usize = 37 * 37 * 37;

/// `A-Z0-9` tags of 2 or 3 characters as a number below 37³ (0 marks "no third character").
#[inline]
fn tag_code(tag: &str) -> Option<usize> {
    let b = tag.as_bytes();
    if !(2..=3).contains(&b.len()) {
        return None;
    }
    let mut code = 0usize;
    for i in 0..3 {
        let c = match b.get(i) {
            None => 0,
            Some(c @ b'A'..=b'Z') => usize::from(c - b'A') + 1,
            Some(c @ b'0'..=b'9') => usize::from(c - b'0') + 27,
            Some(_) => return None,
        };
        code = code * 37 + c;
    }
    Some(code)
}

fn build(
    sets: &[(&'static str, &'static str)],
    segs: &[(&'static str, &'static str)],
    extra: &'static str,
) -> Tables {
    let mut t = Tables {
        sets: HashMap::new(),
        segs: Vec::new(),
        seg_slot: vec![0; TAG_CODES],
        known: HashSet::new(),
    };
    for &(id, text) in sets {
        let body = Nodes::new(parse_structure(text));
        let mut tags = HashSet::new();
        collect_tags(&body, &mut tags);
        t.known.extend(tags.iter().copied());
        t.sets.insert(id, SetSchema { id, body, tags });
    }
    for &(tag, text) in segs {
        if let Some(code) = tag_code(tag) {
            t.segs.push(parse_elements(text));
            t.seg_slot[code] = t.segs.len() as u16;
        }
        t.known.insert(tag);
    }
    // tags the standard defines that our sets do not use: "not in set" rather than unknown
    for tag in extra_tags(extra) {
        t.known.insert(tag);
    }
    t
}

fn extra_tags(s: &'static str) -> impl Iterator<Item = &'static str> {
    s.split_whitespace()
}

fn tables(std: Standard) -> &'static Tables {
    static X12: OnceLock<Tables> = OnceLock::new();
    static EDI: OnceLock<Tables> = OnceLock::new();
    match std {
        Standard::X12 => X12.get_or_init(|| build(x12::SETS, x12::SEGMENTS, x12::OTHER_TAGS)),
        Standard::Edifact => {
            EDI.get_or_init(|| build(edifact::SETS, edifact::SEGMENTS, edifact::OTHER_TAGS))
        }
    }
}

/// The structure of a transaction set / message type, if this crate has one.
pub fn set_schema(std: Standard, set_id: &str) -> Option<&'static SetSchema> {
    tables(std).sets.get(set_id)
}

/// The element definitions of a segment, if this crate has them.
pub fn segment_elements(std: Standard, tag: &str) -> Option<&'static [Elem]> {
    let t = tables(std);
    let slot = *t.seg_slot.get(tag_code(tag)?)?;
    t.segs
        .get(usize::from(slot).checked_sub(1)?)
        .map(Vec::as_slice)
}

/// Whether the standard defines this segment tag (as far as this crate's tables know).
pub fn is_known_tag(std: Standard, tag: &str) -> bool {
    tables(std).known.contains(tag)
}

fn collect_tags(nodes: &[Node], out: &mut HashSet<&'static str>) {
    for n in nodes {
        out.insert(n.tag());
        if let Node::Loop { children, .. } = n {
            collect_tags(children, out);
        }
    }
}

/// Parses `A 1 1; [B 0 9: C 0 1; D 0 2]; E 1 1`. Tables are static and tested, so a malformed
/// entry is skipped rather than reported.
fn parse_structure(text: &'static str) -> Vec<Node> {
    let mut pos = 0;
    parse_nodes(text, &mut pos)
}

fn parse_nodes(text: &'static str, pos: &mut usize) -> Vec<Node> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    loop {
        while *pos < b.len() && matches!(b[*pos], b' ' | b';' | b'\n') {
            *pos += 1;
        }
        if *pos >= b.len() || b[*pos] == b']' {
            *pos += 1;
            return out;
        }
        let is_loop = b[*pos] == b'[';
        if is_loop {
            *pos += 1;
        }
        let end = text[*pos..]
            .find([';', ':', ']'])
            .map_or(b.len(), |i| *pos + i);
        let mut parts = text[*pos..end].split_whitespace();
        // Compiled-in tables (schema/x12.rs, schema/edifact.rs), not outside data: an omitted min/max means 0/1 in their notation.
        let tag = parts.next().unwrap_or("");
        let min = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let max = parts.next().and_then(|s| s.parse().ok()).unwrap_or(1);
        *pos = end;
        if is_loop {
            if b.get(*pos) == Some(&b':') {
                *pos += 1;
                let children = Nodes::new(parse_nodes(text, pos));
                out.push(Node::Loop {
                    tag,
                    key: tag_key(tag),
                    min,
                    max,
                    children,
                });
            } else {
                *pos += 1; // loop without children
                out.push(Node::Loop {
                    tag,
                    key: tag_key(tag),
                    min,
                    max,
                    children: Nodes::default(),
                });
            }
        } else {
            out.push(Node::Seg {
                tag,
                key: tag_key(tag),
                min,
                max,
            });
        }
    }
}

fn parse_elements(text: &'static str) -> Vec<Elem> {
    split_top(text, ';').map(parse_elem).collect()
}

/// Splits on `sep` outside brackets.
fn split_top(text: &'static str, sep: char) -> impl Iterator<Item = &'static str> {
    let mut depth = 0i32;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            c if c == sep && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().map(str::trim).filter(|p| !p.is_empty())
}

fn parse_elem(text: &'static str) -> Elem {
    let required = text.starts_with('M');
    // Compiled-in tables, not outside data: an omitted kind is AN and an omitted length 1/1 in their notation.
    let rest = text.get(1..).unwrap_or("").trim();
    if let Some(inner) = rest.strip_prefix("C[").and_then(|r| r.strip_suffix(']')) {
        return Elem {
            required,
            kind: Kind::An,
            min: 0,
            max: 0,
            codes: &[],
            components: split_top(inner, '|').map(parse_elem).collect(),
        };
    }
    let mut parts = rest.splitn(2, ' ');
    let kind = match parts.next().unwrap_or("AN") {
        "ID" => Kind::Id,
        "A" => Kind::A,
        "N0" | "N" => Kind::N0,
        "N2" => Kind::N2,
        "R" => Kind::R,
        "DT" => Kind::Dt,
        "TM" => Kind::Tm,
        _ => Kind::An,
    };
    let spec = parts.next().unwrap_or("1/1");
    let (len, codes) = spec.split_once('=').unwrap_or((spec, ""));
    let (min, max) = len.trim().split_once('/').unwrap_or(("1", "1"));
    Elem {
        required,
        kind,
        min: min.parse().unwrap_or(1),
        max: max.parse().unwrap_or(1),
        codes: leak_codes(codes),
        components: Vec::new(),
    }
}

/// Code lists live as long as the program (built once per standard).
fn leak_codes(codes: &'static str) -> &'static [&'static str] {
    if codes.is_empty() {
        return &[];
    }
    Box::leak(
        codes
            .split(',')
            .map(str::trim)
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_parse() {
        for std in [Standard::X12, Standard::Edifact] {
            let t = tables(std);
            assert!(t.sets.len() >= 5);
            for s in t.sets.values() {
                assert!(!s.body.is_empty(), "{}", s.id);
                assert!(
                    s.tags.iter().all(|t| (2..=3).contains(&t.len())),
                    "{}: {:?}",
                    s.id,
                    s.tags
                );
            }
        }
        let po = set_schema(Standard::X12, "850").map(|s| s.body.len());
        assert!(po.is_some_and(|n| n > 5));
        let ak4 = segment_elements(Standard::X12, "AK4").map(|e| e[0].components.len());
        assert_eq!(ak4, Some(3));
    }

    /// `Nodes::find` and `next_required` agree with a plain walk over every list of every set.
    #[test]
    fn node_lookups_match_a_walk() {
        fn check(nodes: &Nodes) {
            let mut keys: Vec<u32> = nodes.iter().map(Node::key).collect();
            keys.extend([tag_key("ZZZ"), tag_key("X"), 0]);
            for from in 0..=nodes.len() + 1 {
                for &key in &keys {
                    let walk = (from..nodes.len()).find(|&i| nodes[i].key() == key);
                    assert_eq!(nodes.find(from, key), walk, "from {from} key {key:x}");
                }
                let req = (from..nodes.len())
                    .find(|&i| nodes[i].min() > 0)
                    .unwrap_or(nodes.len());
                assert_eq!(nodes.next_required(from), req);
            }
            for n in nodes.iter() {
                if let Node::Loop { children, .. } = n {
                    check(children);
                }
            }
        }
        for std in [Standard::X12, Standard::Edifact] {
            for s in tables(std).sets.values() {
                check(&s.body);
            }
        }
    }
}

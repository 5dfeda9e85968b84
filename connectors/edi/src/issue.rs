//! Located validation findings and the standard codes they carry.
//!
//! Every [`Issue`] names the interchange, group and transaction control numbers, the segment
//! (tag, position in the file and in the transaction set, byte offset) and the element
//! (position, component) it is about. Its [`Code`] maps to the X12 TA1/AK3/AK4/AK5/AK9 codes
//! (IK3/IK4/IK5 for 999) and to the EDIFACT CONTRL data element 0085, which is what the
//! acknowledgment builders in [`crate::ack`] use.

use std::fmt;

use serde::Serialize;

/// What level of the interchange an issue is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Level {
    Interchange,
    Group,
    Transaction,
    Segment,
    Element,
}

/// `Error` rejects the transaction (AK5/IK5 `R`, UCM 0083 `4`); `Warning` accepts it with errors
/// noted (AK5/IK5 `E`; CONTRL has no such state and acknowledges it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Severity {
    Error,
    Warning,
}

macro_rules! codes {
    ($( $name:ident => $level:ident, $sev:ident, $x12:expr, $edi:expr, $text:expr; )*) => {
        /// A validation finding. `x12()` is the TA1105 / AK905 / AK502 / AK304 / AK403 code of the
        /// issue's level; `edifact()` the CONTRL 0085 code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum Code { $( $name, )* }
        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[ $( Code::$name, )* ];
            pub fn level(self) -> Level { match self { $( Code::$name => Level::$level, )* } }
            pub fn severity(self) -> Severity { match self { $( Code::$name => Severity::$sev, )* } }
            /// The X12 code for this issue at its level (TA105, AK905, AK502, AK304 or AK403).
            pub fn x12(self) -> &'static str { match self { $( Code::$name => $x12, )* } }
            /// The EDIFACT CONTRL syntax error code (data element 0085).
            pub fn edifact(self) -> &'static str { match self { $( Code::$name => $edi, )* } }
            pub fn text(self) -> &'static str { match self { $( Code::$name => $text, )* } }
        }
    };
}

codes! {
    // interchange: X12 TA105 note codes
    InterchangeControlMismatch => Interchange, Error, "001", "28", "interchange control number in trailer does not match header";
    InterchangeTrailerMissing => Interchange, Error, "023", "13", "interchange trailer missing (premature end of file)";
    GroupCountWrong => Interchange, Error, "021", "29", "number of groups/messages in interchange trailer is wrong";
    InvalidSender => Interchange, Error, "006", "12", "invalid interchange sender id or qualifier";
    InvalidReceiver => Interchange, Error, "008", "12", "invalid interchange receiver id or qualifier";
    InvalidInterchangeDate => Interchange, Error, "014", "12", "invalid interchange date";
    InvalidInterchangeTime => Interchange, Error, "015", "12", "invalid interchange time";
    UnsupportedSyntax => Interchange, Error, "017", "2", "syntax identifier or version not supported";
    InvalidInterchangeControl => Interchange, Error, "018", "12", "invalid interchange control number";
    InvalidInterchangeValue => Interchange, Error, "024", "12", "invalid value in interchange header";
    SegmentOutsideEnvelope => Interchange, Error, "024", "15", "segment outside its envelope";
    // group: X12 AK905
    GroupTrailerMissing => Group, Error, "3", "13", "functional group trailer missing";
    GroupControlMismatch => Group, Error, "4", "28", "group control number in trailer does not match header";
    SetCountWrong => Group, Error, "5", "29", "number of transaction sets in group trailer is wrong";
    InvalidGroupControl => Group, Error, "6", "12", "group control number invalid";
    DuplicateGroup => Group, Warning, "19", "26", "group control number not unique in interchange";
    InvalidGroupValue => Group, Error, "1", "12", "invalid value in functional group header";
    // transaction: X12 AK502
    SetNotSupported => Transaction, Error, "1", "14", "transaction set not supported";
    TransactionTrailerMissing => Transaction, Error, "2", "13", "transaction set trailer missing";
    TransactionControlMismatch => Transaction, Error, "3", "28", "control number in trailer does not match header";
    SegmentCountWrong => Transaction, Error, "4", "29", "number of included segments is wrong";
    InvalidSetControl => Transaction, Error, "7", "12", "transaction set control number invalid";
    SetNotInGroup => Transaction, Error, "18", "14", "transaction set does not belong in this functional group";
    DuplicateSet => Transaction, Warning, "23", "26", "transaction set control number not unique in group";
    // segment: X12 AK304 / IK304
    UnrecognizedSegment => Segment, Warning, "1", "15", "unrecognized segment id";
    UnexpectedSegment => Segment, Error, "2", "15", "unexpected segment";
    MandatorySegmentMissing => Segment, Error, "3", "13", "mandatory segment missing";
    LoopOverMax => Segment, Error, "4", "36", "loop occurs over maximum times";
    SegmentOverMax => Segment, Error, "5", "35", "segment exceeds maximum use";
    SegmentNotInSet => Segment, Warning, "6", "15", "segment not in defined transaction set";
    SegmentOutOfOrder => Segment, Error, "7", "15", "segment not in proper sequence";
    // element: X12 AK403 / IK403
    MandatoryElementMissing => Element, Error, "1", "13", "mandatory data element missing";
    ConditionalElementMissing => Element, Error, "2", "13", "conditional required data element missing";
    TooManyElements => Element, Error, "3", "16", "too many data elements";
    ElementTooShort => Element, Error, "4", "40", "data element too short";
    ElementTooLong => Element, Error, "5", "39", "data element too long";
    InvalidCharacter => Element, Error, "6", "21", "invalid character in data element";
    NotNumeric => Element, Error, "6", "37", "numeric data element has invalid characters";
    InvalidCode => Element, Warning, "7", "12", "invalid code value";
    InvalidDate => Element, Error, "8", "12", "invalid date";
    InvalidTime => Element, Error, "9", "12", "invalid time";
    InvalidValue => Element, Error, "7", "12", "invalid value";
    TooManyRepetitions => Element, Error, "12", "16", "too many repetitions";
    TooManyComponents => Element, Error, "13", "16", "too many components";
    // control totals (crate::totals): a count that does not match rejects the set; a hash total
    // only warns, since partners compute it in different ways (see the repo's samples)
    LineCountWrong => Element, Error, "7", "12", "control total: number of line items does not match";
    HashTotalWrong => Element, Warning, "7", "12", "control total: hash total does not match the sum of quantities";
}

/// Most characters of input an [`Issue`] keeps (its value, detail and segment tag): an
/// element 2 MB long is reported by its first characters and its length, never copied whole.
pub const MAX_VALUE_CHARS: usize = 100;

/// `text` cut to [`MAX_VALUE_CHARS`] (see [`ordo_contract::excerpt`]).
pub fn bounded(text: &str) -> String {
    ordo_contract::excerpt(text, MAX_VALUE_CHARS)
}

/// Where a segment is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentAt {
    pub tag: String,
    /// 1-based segment position in the file.
    pub index: u32,
    /// 1-based position in the transaction set (ST/UNH = 1), when inside one.
    pub position: Option<u32>,
    pub offset: usize,
}

/// Where an element is: 1-based element position, component position when in a composite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ElementAt {
    pub position: u32,
    pub component: Option<u32>,
}

/// One located finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub code: Code,
    /// ISA13 / UNB 0020.
    pub interchange: String,
    /// Index of the group in the interchange and its GS06 / UNG 0048 (empty for an implicit
    /// EDIFACT group).
    pub group: Option<(usize, String)>,
    /// Index of the transaction in its group and its ST02 / UNH 0062.
    pub transaction: Option<(usize, String)>,
    pub segment: Option<SegmentAt>,
    pub element: Option<ElementAt>,
    /// The offending value, when there is one (AK404 / IK404).
    pub value: Option<String>,
    pub detail: String,
}

impl Issue {
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
    pub fn is_error(&self) -> bool {
        self.code.severity() == Severity::Error
    }
}

/// Shows the issue; the input it quotes (value, detail, tag) is cut to the formatter's precision
/// when one is given (`{issue:.40}`, the caller's `limits.max_excerpt_chars`), else to
/// [`MAX_VALUE_CHARS`].
impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Display only: the default excerpt length.
        // Display only: the default excerpt length.
        let max = f.precision().unwrap_or(MAX_VALUE_CHARS);
        let ex = |s: &str| ordo_contract::excerpt(s, max);
        write!(f, "interchange {}", ex(&self.interchange))?;
        if let Some((_, g)) = &self.group {
            write!(
                f,
                " group {}",
                if g.is_empty() { "-".into() } else { ex(g) }
            )?;
        }
        if let Some((_, t)) = &self.transaction {
            write!(f, " transaction {}", ex(t))?;
        }
        if let Some(s) = &self.segment {
            write!(f, ": segment {} {}", s.index, ex(&s.tag))?;
            if let Some(p) = s.position {
                write!(f, " (set pos {p})")?;
            }
            write!(f, " @{}", s.offset)?;
        }
        if let Some(e) = &self.element {
            write!(f, " element {}", e.position)?;
            if let Some(c) = e.component {
                write!(f, ":{c}")?;
            }
        }
        write!(
            f,
            ": {} [{:?} x12={} 0085={}]",
            self.code.text(),
            self.code,
            self.code.x12(),
            self.code.edifact()
        )?;
        if let Some(v) = &self.value {
            write!(f, " value {:?}", ex(v))?;
        }
        if !self.detail.is_empty() {
            write!(f, " ({})", ex(&self.detail))?;
        }
        Ok(())
    }
}

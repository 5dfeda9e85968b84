//! The X12 error codes an acknowledgment may carry, per version: the one place that decides
//! what goes into AK905, AK502..AK506 / IK502.., AK304 / IK304 and AK403 / IK403.
//!
//! [`Code::x12`] is the code of the newest version; an older version's list may lack it (4010
//! has no AK905 `19` "group control number not unique", no AK502 `18` "set not in functional
//! group", no AK403 `12`/`13` for repetitions and components), and a validator such as pyx12
//! rejects an ack that uses it. [`x12_code`] gives a code of the version's list, falling back
//! to the nearest general code of that list. The lists are those of pyx12 4.0.0's maps
//! (`997.4010.xml`, `999.5010X231.A1.xml`): data elements 716, 718, 720, 723 for 4010, and for
//! 5010 the same elements as the 999 uses them (618/620/621 share the 5010 718/720/723 codes
//! ordo writes).

use crate::issue::{Code, Level};
use crate::syntax::Version;

/// Which code lists apply: the older of the ack's version and the acknowledged group's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CodeList {
    X4010,
    X5010,
}

impl CodeList {
    /// The lists for an ack written in `ack` answering a group whose GS08 is `group_version`
    /// (`004010`, `004010VICS`, `005010X231A1`...): the older of the two, so the ack is valid
    /// both for its own version and for the group it answers. A GS08 without a readable
    /// version leaves the ack's.
    pub fn for_group(ack: Version, group_version: &str) -> CodeList {
        let own = match ack {
            Version::X12_4010 => CodeList::X4010,
            _ => CodeList::X5010,
        };
        let digits = group_version
            .get(..6)
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
        let group = match digits {
            Some(d) if d < "005010" => CodeList::X4010,
            Some(_) => CodeList::X5010,
            None => own,
        };
        own.min(group)
    }
}

/// The acknowledgment elements that carry an error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckElement {
    /// AK905..AK909: functional group syntax error (data element 716).
    Ak905,
    /// AK502..AK506 / IK502..: transaction set syntax error (718 / 618).
    Ak502,
    /// AK304 / IK304: segment syntax error (720 / 620).
    Ak304,
    /// AK403 / IK403: data element syntax error (723 / 621).
    Ak403,
}

const AK905_4010: &[&str] = &[
    "1", "2", "3", "4", "5", "6", "10", "11", "12", "13", "14", "15", "16", "17", "18", "23", "24",
    "25", "26",
];
const AK905_5010: &[&str] = &[
    "1", "2", "3", "4", "5", "6", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "23",
    "24", "25", "26",
];
const AK502_4010: &[&str] = &[
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "15", "16", "17", "23",
    "24", "25", "26", "27",
];
const AK502_5010: &[&str] = &[
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "15", "16", "17", "18",
    "19", "23", "24", "25", "26", "27", "I5", "I6",
];
const AK304_4010: &[&str] = &["1", "2", "3", "4", "5", "6", "7", "8"];
const AK304_5010: &[&str] = &[
    "1", "2", "3", "4", "5", "6", "7", "8", "I4", "I6", "I7", "I8", "I9",
];
const AK403_4010: &[&str] = &["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];
const AK403_5010: &[&str] = &[
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "12", "13", "I10", "I11", "I12", "I13",
    "I6", "I9",
];

/// Every code `element` may carry in `list`.
pub fn valid_codes(element: AckElement, list: CodeList) -> &'static [&'static str] {
    match (element, list) {
        (AckElement::Ak905, CodeList::X4010) => AK905_4010,
        (AckElement::Ak905, CodeList::X5010) => AK905_5010,
        (AckElement::Ak502, CodeList::X4010) => AK502_4010,
        (AckElement::Ak502, CodeList::X5010) => AK502_5010,
        (AckElement::Ak304, CodeList::X4010) => AK304_4010,
        (AckElement::Ak304, CodeList::X5010) => AK304_5010,
        (AckElement::Ak403, CodeList::X4010) => AK403_4010,
        (AckElement::Ak403, CodeList::X5010) => AK403_5010,
    }
}

/// The code `element` carries for `code` in `list`, `None` when the element has no code for
/// it (AK905 and AK502 are optional: the AK9/AK5 status still says rejected).
///
/// - a code of the element's own level: [`Code::x12`] when the list has it, else the nearest
///   code the list has (a duplicate group control number is AK905 `6` "group control number
///   violates syntax" in 4010; a set in the wrong group AK502 `6` "missing or invalid
///   transaction set identifier"; too many repetitions or components AK403 `3` "too many data
///   elements");
/// - a code of another level: AK304 `8` "segment has data element errors" for an element's
///   problem reported on its segment, AK403 `7` "invalid code value", none for AK905/AK502.
pub fn x12_code(code: Code, element: AckElement, list: CodeList) -> Option<&'static str> {
    let level = match element {
        AckElement::Ak905 => Level::Group,
        AckElement::Ak502 => Level::Transaction,
        AckElement::Ak304 => Level::Segment,
        AckElement::Ak403 => Level::Element,
    };
    if code.level() != level {
        return match element {
            AckElement::Ak304 => Some("8"),
            AckElement::Ak403 => Some("7"),
            AckElement::Ak905 | AckElement::Ak502 => None,
        };
    }
    let valid = valid_codes(element, list);
    let own = code.x12();
    if valid.contains(&own) {
        return Some(own);
    }
    let near = match (element, code) {
        (AckElement::Ak905, Code::DuplicateGroup) => "6",
        (AckElement::Ak502, Code::SetNotInGroup) => "6",
        (AckElement::Ak403, Code::TooManyRepetitions | Code::TooManyComponents) => "3",
        // every other code is in both lists (tested); the general code of each element
        (AckElement::Ak905, _) => "1",
        (AckElement::Ak502, _) => "1",
        (AckElement::Ak304, _) => "8",
        (AckElement::Ak403, _) => "7",
    };
    Some(near)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ELEMENTS: [AckElement; 4] = [
        AckElement::Ak905,
        AckElement::Ak502,
        AckElement::Ak304,
        AckElement::Ak403,
    ];

    #[test]
    fn every_code_maps_into_every_versions_list() {
        for list in [CodeList::X4010, CodeList::X5010] {
            for element in ELEMENTS {
                for &code in Code::ALL {
                    if let Some(c) = x12_code(code, element, list) {
                        assert!(
                            valid_codes(element, list).contains(&c),
                            "{code:?} as {element:?} in {list:?}: {c}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn codes_missing_from_4010_fall_back_and_5010_keeps_them() {
        let (old, new) = (CodeList::X4010, CodeList::X5010);
        let c = |code, el, list| x12_code(code, el, list);
        assert_eq!(c(Code::DuplicateGroup, AckElement::Ak905, old), Some("6"));
        assert_eq!(c(Code::DuplicateGroup, AckElement::Ak905, new), Some("19"));
        assert_eq!(c(Code::SetNotInGroup, AckElement::Ak502, old), Some("6"));
        assert_eq!(c(Code::SetNotInGroup, AckElement::Ak502, new), Some("18"));
        assert_eq!(
            c(Code::TooManyComponents, AckElement::Ak403, old),
            Some("3")
        );
        assert_eq!(
            c(Code::TooManyComponents, AckElement::Ak403, new),
            Some("13")
        );
        assert_eq!(c(Code::SetNotSupported, AckElement::Ak502, old), Some("1"));
        // an element's problem reported on its segment is "segment has data element errors"
        assert_eq!(c(Code::InvalidValue, AckElement::Ak304, old), Some("8"));
        assert_eq!(c(Code::SegmentCountWrong, AckElement::Ak905, new), None);
    }

    #[test]
    fn the_older_version_decides() {
        use CodeList::*;
        assert_eq!(CodeList::for_group(Version::X12_5010, "004010"), X4010);
        assert_eq!(CodeList::for_group(Version::X12_5010, "004010VICS"), X4010);
        assert_eq!(
            CodeList::for_group(Version::X12_5010, "005010X231A1"),
            X5010
        );
        assert_eq!(CodeList::for_group(Version::X12_4010, "005010"), X4010);
        assert_eq!(CodeList::for_group(Version::X12_5010, ""), X5010);
    }
}

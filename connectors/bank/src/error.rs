//! The crate's one error type. Every parse error carries a [`Location`]: line and column for the
//! text formats (MT940, BAI2, CSV), the element path plus line for camt XML.

use std::fmt;

use rust_decimal::Decimal;

/// Where in the input something went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// 1-based line and column of a text format.
    Text { line: usize, col: usize },
    /// Element path (e.g. `Document/BkToCstmrStmt/Stmt/Ntry/Amt`) and 1-based line of camt XML.
    Xml { path: String, line: usize },
    /// Not tied to a place in the input (e.g. configuration).
    None,
}

impl Location {
    pub fn text(line: usize, col: usize) -> Self {
        Location::Text { line, col }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Text { line, col } => write!(f, "{line}:{col}"),
            Location::Xml { path, line } => write!(f, "{line}: {path}"),
            Location::None => write!(f, "-"),
        }
    }
}

/// The figures of a statement whose balances do not add up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{loc}: statement {statement} does not balance: opening {opening} + credits {credits} - debits {debits} = {computed}, but closing is {closing} (difference {difference})"
)]
pub struct Imbalance {
    pub loc: Location,
    pub statement: String,
    pub opening: Decimal,
    pub credits: Decimal,
    pub debits: Decimal,
    pub computed: Decimal,
    pub closing: Decimal,
    pub difference: Decimal,
}

/// Everything that can go wrong in `ordo-bank`. Displayed as `LOCATION: message`, so the caller
/// prefixes the file name to get `path:line:col: message`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BankError {
    /// The input is not well-formed for its format.
    #[error("{loc}: {msg}")]
    Syntax { loc: Location, msg: String },
    /// Opening balance plus booked entries does not give the closing balance.
    #[error("{0}")]
    Unbalanced(Box<Imbalance>),
    /// A BAI2 control total or record count in a 49/98/99 trailer is wrong.
    #[error("{loc}: {level} control {what}: trailer says {stated}, computed {computed}")]
    ControlTotal {
        loc: Location,
        level: &'static str,
        what: &'static str,
        stated: String,
        computed: String,
    },
    /// The bytes are none of the supported formats.
    #[error("unrecognised statement format: {0}")]
    UnknownFormat(String),
    /// A configuration value (CSV mapping, matcher config) is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl BankError {
    pub(crate) fn syntax(loc: Location, msg: impl Into<String>) -> Self {
        BankError::Syntax {
            loc,
            msg: msg.into(),
        }
    }

    pub(crate) fn at(line: usize, col: usize, msg: impl Into<String>) -> Self {
        BankError::syntax(Location::text(line, col), msg)
    }

    /// Where the error is, if it is tied to the input.
    pub fn location(&self) -> &Location {
        match self {
            BankError::Syntax { loc, .. } | BankError::ControlTotal { loc, .. } => loc,
            BankError::Unbalanced(i) => &i.loc,
            BankError::UnknownFormat(_) | BankError::Config(_) => &Location::None,
        }
    }
}

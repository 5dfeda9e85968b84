//! The normalized statement model every parser produces and the matcher consumes.
//!
//! Amounts are [`Decimal`] and always positive; the sign lives in [`Direction`]. A booked entry
//! carries at least one [`TxDetail`] (a camt batch carries one per `TxDtls`; the other formats
//! exactly one), so the matcher always works at transaction level.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{BankError, Location};

/// Which syntax a statement was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// camt.053 end-of-day statement.
    Camt053,
    /// camt.052 intraday account report.
    Camt052,
    /// camt.054 debit/credit notification.
    Camt054,
    Bai2,
    Mt940,
    Csv,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Camt053 => "camt.053",
            Format::Camt052 => "camt.052",
            Format::Camt054 => "camt.054",
            Format::Bai2 => "bai2",
            Format::Mt940 => "mt940",
            Format::Csv => "csv",
        }
    }
}

/// Credit (money in) or debit (money out), from the account holder's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Credit,
    Debit,
}

impl Direction {
    /// `amount` with the sign of this direction (credit positive).
    pub fn signed(self, amount: Decimal) -> Decimal {
        match self {
            Direction::Credit => amount,
            Direction::Debit => -amount,
        }
    }
}

/// Booking status of an entry. Only `Booked` entries count toward the balance and get matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    Booked,
    Pending,
    /// camt `INFO`: information only, never booked.
    Info,
}

/// A balance (signed: negative = overdrawn) and the date it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub amount: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
}

/// The kind of a structured creditor reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    /// ISO 11649 `RFkk…` (camt `Cd` = `SCOR` with an RF value).
    Iso11649,
    /// Swiss QR reference / ESR-ISR reference (27 digits, mod-10 recursive).
    Qrr,
    /// Any other scheme (`SCOR` without RF, proprietary, national).
    Other,
}

/// A structured creditor reference as sent by the payer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditorRef {
    pub kind: RefKind,
    pub value: String,
    /// Whether the reference's check digits are correct (always false for `Other`).
    pub valid: bool,
}

/// One underlying transaction of an entry (camt `TxDtls`; a single one for other formats).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxDetail {
    /// Transaction amount; `None` when a batch entry gives no per-transaction amounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_to_end_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparty_name: Option<String>,
    /// Counterparty account (IBAN where given, else other id), spaces removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparty_account: Option<String>,
    /// Unstructured remittance information (several `Ustrd` joined by a space).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remittance: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor_ref: Option<CreditorRef>,
    /// Referred document numbers (`Strd/RfrdDocInf/Nb`), usually invoice numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub referred_documents: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandate_id: Option<String>,
    /// Return reason code (`RtrInf/Rsn/Cd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_reason: Option<String>,
}

/// One entry (booking line) of a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Always positive; see `direction`.
    pub amount: Decimal,
    pub direction: Direction,
    pub currency: String,
    pub status: EntryStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_date: Option<NaiveDate>,
    /// The bank's unique reference (camt `AcctSvcrRef`, MT940 `//` reference, BAI2 bank ref).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_ref: Option<String>,
    /// The account owner's / sender's reference (camt `NtryRef`, MT940 customer ref, BAI2 customer ref).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_ref: Option<String>,
    /// A reversal (camt `RvslInd`, MT940 `RC`/`RD`); the direction is already the booked one.
    pub reversal: bool,
    /// Bank transaction code (`PMNT/RCDT/ESCT`, MT940 `NTRF`, BAI2 type code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_tx_code: Option<String>,
    /// Free entry-level information (camt `AddtlNtryInf`, MT940 raw `:86:`, BAI2 text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// Charges the bank took (camt `Chrgs`, MT940 `/CHGS/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charges: Option<Decimal>,
    pub transactions: Vec<TxDetail>,
}

impl Entry {
    /// A booked credit of `amount` with one empty transaction detail (handy for tests).
    pub fn new(amount: Decimal, direction: Direction, currency: &str) -> Self {
        Entry {
            amount,
            direction,
            currency: currency.to_string(),
            status: EntryStatus::Booked,
            booking_date: None,
            value_date: None,
            bank_ref: None,
            customer_ref: None,
            reversal: false,
            bank_tx_code: None,
            info: None,
            charges: None,
            transactions: vec![TxDetail::default()],
        }
    }

    /// The amount with its sign (credit positive).
    pub fn signed_amount(&self) -> Decimal {
        self.direction.signed(self.amount)
    }

    /// Booking date, else value date.
    pub fn date(&self) -> Option<NaiveDate> {
        self.booking_date.or(self.value_date)
    }
}

/// One statement (camt `Stmt`/`Ntfctn`/`Rpt`, an MT940 `:20:` block, a BAI2 account, a CSV file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub format: Format,
    /// Version detail, e.g. `camt.053.001.08`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The account: IBAN where the format gives one, else the bank's account id.
    pub account: String,
    pub account_is_iban: bool,
    pub currency: String,
    pub statement_id: String,
    /// Electronic/legal sequence number (camt), `:28C:` (MT940), group/file ids (BAI2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening: Option<Balance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closing: Option<Balance>,
    pub entries: Vec<Entry>,
    /// Things that were accepted leniently (XSD-order deviations, batch count mismatch,
    /// an unbalanced statement imported with `allow_unbalanced`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Statement {
    pub fn new(format: Format) -> Self {
        Statement {
            format,
            version: None,
            account: String::new(),
            account_is_iban: false,
            currency: String::new(),
            statement_id: String::new(),
            sequence: None,
            opening: None,
            closing: None,
            entries: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// Running totals of booked entries, kept by the parsers while they stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub credits: Decimal,
    pub debits: Decimal,
    pub count: usize,
}

impl Totals {
    pub fn add(&mut self, e: &Entry) {
        self.count += 1;
        if e.status != EntryStatus::Booked {
            return;
        }
        match e.direction {
            Direction::Credit => self.credits += e.amount,
            Direction::Debit => self.debits += e.amount,
        }
    }
}

/// Checks opening + booked credits − booked debits = closing when both balances are present.
/// With `allow` the difference becomes a warning on the statement instead of an error.
pub fn check_balance(
    stmt: &mut Statement,
    totals: &Totals,
    loc: impl FnOnce() -> Location,
    allow: bool,
) -> Result<(), BankError> {
    let (Some(open), Some(close)) = (&stmt.opening, &stmt.closing) else {
        return Ok(());
    };
    let computed = open.amount + totals.credits - totals.debits;
    if computed == close.amount {
        return Ok(());
    }
    let err = BankError::Unbalanced(Box::new(crate::error::Imbalance {
        loc: loc(),
        statement: stmt.statement_id.clone(),
        opening: open.amount,
        credits: totals.credits,
        debits: totals.debits,
        computed,
        closing: close.amount,
        difference: close.amount - computed,
    }));
    if allow {
        stmt.warnings
            .push(format!("unbalanced (imported anyway): {err}"));
        Ok(())
    } else {
        Err(err)
    }
}

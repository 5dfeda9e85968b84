//! The camt elements the parser keeps, per scope (statement, balance, entry, transaction),
//! and what happens when a scope closes (balance check, batch explosion, counterparty choice).

use super::tags::*;
use super::{EntryBuilder, Parser, Sink};
use crate::error::BankError;
use crate::model::{
    Balance, CreditorRef, Direction, Entry, EntryStatus, Statement, TxDetail, check_balance,
};
use crate::parse::{clean, clean_ref, decimal_amount};
use crate::reference;

impl Parser<'_> {
    pub(super) fn stmt_field(&mut self, rel: &[u8]) {
        match rel {
            // Empty: finish_statement falls back to GrpHdr/MsgId, then refuses the statement.
            [ID] => self.stmt.statement_id = self.value().unwrap_or_default(),
            [ELCTRNC_SEQ_NB] => self.stmt.sequence = self.value(),
            [LGL_SEQ_NB] if self.stmt.sequence.is_none() => self.stmt.sequence = self.value(),
            [ACCT, ID, IBAN] => {
                self.stmt.account = reference::compact(&self.text);
                self.stmt.account_is_iban = true;
            }
            [ACCT, ID, OTHR, ID] if self.stmt.account.is_empty() => {
                // Empty: refused in finish_statement (Acct/Id is mandatory).
                self.stmt.account = self.value().unwrap_or_default();
            }
            // absent: Acct/Ccy is optional; the first Amt@Ccy then gives the currency.
            [ACCT, CCY] => self.stmt.currency = self.value().unwrap_or_default(),
            _ => {}
        }
    }

    pub(super) fn balance_field(&mut self, rel: &[u8]) -> Result<(), BankError> {
        match rel {
            [TP, CD_OR_PRTRY, CD | PRTRY] => self.bal.code = self.text.trim().to_string(),
            [AMT] => {
                self.bal.amount = Some(self.amount()?);
                if self.stmt.currency.is_empty() && self.has_ccy {
                    self.stmt.currency = self.amt_ccy.clone();
                }
            }
            [CDT_DBT_IND] => self.bal.debit = self.debit()?,
            [DT, DT | DT_TM] => self.bal.date = Some(self.date()?),
            _ => {}
        }
        Ok(())
    }

    pub(super) fn finish_balance(&mut self) -> Result<(), BankError> {
        let Some(amount) = self.bal.amount else {
            return Err(self.err("balance without Amt"));
        };
        let b = Balance {
            amount: if self.bal.debit { -amount } else { amount },
            date: self.bal.date,
        };
        match self.bal.code.as_str() {
            "OPBD" => self.stmt.opening = Some(b),
            "PRCD" if self.stmt.opening.is_none() => self.stmt.opening = Some(b),
            "CLBD" => self.stmt.closing = Some(b),
            _ => {}
        }
        Ok(())
    }

    pub(super) fn entry_field(&mut self, rel: &[u8]) -> Result<(), BankError> {
        // Inside an entry scope the builder is always there (opened together).
        if self.entry.is_none() {
            return Ok(());
        }
        match rel {
            [AMT] => {
                let amount = self.amount()?;
                let has_ccy = std::mem::take(&mut self.has_ccy);
                let b = self.entry.get_or_insert_with(EntryBuilder::new);
                b.entry.amount = amount;
                if has_ccy {
                    b.entry.currency.clone_from(&self.amt_ccy);
                }
                b.has_amount = true;
            }
            [CDT_DBT_IND] => {
                let debit = self.debit()?;
                let b = self.builder();
                b.entry.direction = if debit {
                    Direction::Debit
                } else {
                    Direction::Credit
                };
                b.has_direction = true;
            }
            [RVSL_IND] => {
                let v = self.text.trim();
                let reversal = v == "true" || v == "1";
                self.builder().entry.reversal = reversal;
            }
            [STS] | [STS, CD | PRTRY] => {
                let status = match self.text.trim() {
                    "BOOK" => Some(EntryStatus::Booked),
                    "PDNG" | "FUTR" => Some(EntryStatus::Pending),
                    "INFO" => Some(EntryStatus::Info),
                    // v02 `Sts` holds the code as text; v08 `Sts` only wraps `Cd`.
                    "" if rel.len() == 1 => None,
                    _ => {
                        // Only quoted in the error message.
                        let v = self.value().unwrap_or_default();
                        return Err(self.err(format!("unknown entry status {v:?}")));
                    }
                };
                if let Some(st) = status {
                    self.builder().entry.status = st;
                }
            }
            [BOOKG_DT, DT | DT_TM] => {
                let d = self.date()?;
                self.builder().entry.booking_date = Some(d);
            }
            [VAL_DT, DT | DT_TM] => {
                let d = self.date()?;
                self.builder().entry.value_date = Some(d);
            }
            [NTRY_REF] => self.builder_mut_value(|e, v| e.customer_ref = v),
            [ACCT_SVCR_REF] => self.builder_mut_value(|e, v| e.bank_ref = v),
            [ADDTL_NTRY_INF] => self.builder_mut_value(|e, v| e.info = v),
            [BK_TX_CD, DOMN, CD] => self.builder_mut_value(|e, v| {
                // Room for `/Fmly/SubFmly` (`PMNT/RCDT/ESCT`), appended next, in one allocation.
                e.bank_tx_code = v.map(|mut v| {
                    v.reserve(12);
                    v
                })
            }),
            [BK_TX_CD, DOMN, FMLY, CD | SUB_FMLY_CD] => {
                let b = self.entry.get_or_insert_with(EntryBuilder::new);
                if let (Some(code), Some(v)) =
                    (b.entry.bank_tx_code.as_mut(), clean_ref(&self.text))
                {
                    code.push('/');
                    code.push_str(&v);
                }
            }
            [BK_TX_CD, PRTRY, CD] => self.builder_mut_value(|e, v| {
                if e.bank_tx_code.is_none() {
                    e.bank_tx_code = v;
                }
            }),
            // A malformed charge is refused, not read as "no charges". The total, when given,
            // is the charges; the records then only detail it (adding both counted them twice).
            [CHRGS, TTL_CHRGS_AND_TAX_AMT] => {
                let a = self.amount()?;
                let b = self.builder();
                b.entry.charges = Some(a);
                b.charges_total = true;
            }
            [CHRGS, RCRD, AMT] => {
                let a = self.amount()?;
                let b = self.builder();
                if !b.charges_total {
                    // The first record starts the sum at zero.
                    b.entry.charges = Some(b.entry.charges.unwrap_or_default() + a);
                }
            }
            [NTRY_DTLS, BTCH, NB_OF_TXS] => {
                // Max15NumericText: a malformed count is refused, not counted as 0.
                let n: usize = self
                    .text
                    .trim()
                    .parse()
                    .map_err(|_| self.err(format!("invalid NbOfTxs {:?}", self.text.trim())))?;
                let b = self.builder();
                // The first batch starts the count at zero.
                b.batch_count = Some(b.batch_count.unwrap_or(0).saturating_add(n));
                b.batches += 1;
            }
            _ => {}
        }
        Ok(())
    }

    /// The open entry (only called inside an entry scope).
    fn builder(&mut self) -> &mut EntryBuilder {
        self.entry.get_or_insert_with(EntryBuilder::new)
    }

    /// Hands the cleaned text to `f` with the open entry.
    fn builder_mut_value(&mut self, f: impl FnOnce(&mut Entry, Option<String>)) {
        let v = self.value();
        f(&mut self.builder().entry, v);
    }

    pub(super) fn tx_field(&mut self, rel: &[u8]) -> Result<(), BankError> {
        let t = &mut self.tx;
        let text = &self.text;
        match rel {
            // (`clean` gives "NOTPROVIDED" exactly when the trimmed text is that one word.)
            [REFS, END_TO_END_ID] => {
                t.tx.end_to_end_id = match text.trim() {
                    "NOTPROVIDED" => None,
                    _ => clean(text),
                }
            }
            [REFS, MNDT_ID] => t.tx.mandate_id = clean(text),
            [AMT] | [AMT_DTLS, TX_AMT, AMT] => match decimal_amount(text) {
                Some(a) => t.tx.amount = Some(a),
                None => return Err(self.err(format!("invalid amount {:?}", text.trim()))),
            },
            // A malformed instructed amount is refused, not taken as absent.
            [AMT_DTLS, INSTD_AMT, AMT] => match decimal_amount(text) {
                Some(a) => t.instd_amt = Some(a),
                None => return Err(self.err(format!("invalid amount {:?}", text.trim()))),
            },
            [CDT_DBT_IND] => {
                let debit = self.debit()?;
                self.tx.direction = Some(if debit {
                    Direction::Debit
                } else {
                    Direction::Credit
                })
            }
            [RLTD_PTIES, DBTR, NM] | [RLTD_PTIES, DBTR, PTY, NM] => t.dbtr_name = clean(text),
            [RLTD_PTIES, CDTR, NM] | [RLTD_PTIES, CDTR, PTY, NM] => t.cdtr_name = clean(text),
            [RLTD_PTIES, ULTMT_DBTR, NM] | [RLTD_PTIES, ULTMT_DBTR, PTY, NM] => {
                t.ult_dbtr = clean(text)
            }
            [RLTD_PTIES, ULTMT_CDTR, NM] | [RLTD_PTIES, ULTMT_CDTR, PTY, NM] => {
                t.ult_cdtr = clean(text)
            }
            [RLTD_PTIES, DBTR_ACCT, ID, IBAN] => t.dbtr_acct = Some(reference::compact(text)),
            [RLTD_PTIES, DBTR_ACCT, ID, OTHR, ID] if t.dbtr_acct.is_none() => {
                t.dbtr_acct = clean(text)
            }
            [RLTD_PTIES, CDTR_ACCT, ID, IBAN] => t.cdtr_acct = Some(reference::compact(text)),
            [RLTD_PTIES, CDTR_ACCT, ID, OTHR, ID] if t.cdtr_acct.is_none() => {
                t.cdtr_acct = clean(text)
            }
            [RMT_INF, USTRD] | [RMT_INF, STRD, ADDTL_RMT_INF] => t.ustrd.extend(clean(text)),
            [RMT_INF, STRD, CDTR_REF_INF, TP, CD_OR_PRTRY, CD | PRTRY] => t.ref_code = clean(text),
            [RMT_INF, STRD, CDTR_REF_INF, REF] => t.ref_value = clean(text),
            [RMT_INF, STRD, RFRD_DOC_INF, NB] => t.tx.referred_documents.extend(clean(text)),
            [RTR_INF, RSN, CD | PRTRY] => t.tx.return_reason = clean(text),
            _ => {}
        }
        Ok(())
    }

    pub(super) fn finish_tx(&mut self) -> Result<(), BankError> {
        let mut ustrd = std::mem::take(&mut self.tx.ustrd);
        let mut t = std::mem::take(&mut self.tx);
        let Some(b) = self.entry.as_mut() else {
            ustrd.clear();
            self.tx.ustrd = ustrd;
            return Ok(());
        };
        // absent: TxDtls/CdtDbtInd is optional (v08+); the entry's indicator applies.
        let dir = t.direction.unwrap_or(b.entry.direction);
        let (name, acct, ult) = match dir {
            Direction::Credit => (t.dbtr_name, t.dbtr_acct, t.ult_dbtr),
            Direction::Debit => (t.cdtr_name, t.cdtr_acct, t.ult_cdtr),
        };
        t.tx.counterparty_name = name.or(ult);
        t.tx.counterparty_account = acct;
        if t.tx.amount.is_none() {
            t.tx.amount = t.instd_amt;
        }
        if !ustrd.is_empty() {
            t.tx.remittance = Some(if ustrd.len() == 1 {
                ustrd.swap_remove(0)
            } else {
                ustrd.join(" ")
            });
        }
        ustrd.clear();
        self.tx.ustrd = ustrd;
        if let Some(v) = t.ref_value {
            let (kind, valid) = reference::classify(t.ref_code.as_deref(), &v);
            t.tx.creditor_ref = Some(CreditorRef {
                kind,
                value: reference::compact(&v),
                valid,
            });
        }
        b.entry.transactions.push(t.tx);
        Ok(())
    }

    pub(super) fn finish_entry(&mut self, sink: &mut impl Sink) -> Result<(), BankError> {
        let Some(mut b) = self.entry.take() else {
            return Ok(());
        };
        if !b.has_amount {
            return Err(self.err("entry without Amt"));
        }
        if !b.has_direction {
            return Err(self.err("entry without CdtDbtInd"));
        }
        let e = &mut b.entry;
        match e.transactions.len() {
            0 => e.transactions.push(TxDetail {
                amount: Some(e.amount),
                remittance: e.info.clone(),
                ..TxDetail::default()
            }),
            1 => {
                if e.transactions[0].amount.is_none() {
                    e.transactions[0].amount = Some(e.amount);
                }
            }
            n => {
                if let Some(c) = b.batch_count
                    && c != n
                {
                    let msg = format!(
                        "entry {}: Btch/NbOfTxs says {c}, found {n} TxDtls",
                        // Display only: an entry without AcctSvcrRef is named `?` in the warning.
                        e.bank_ref.as_deref().unwrap_or("?")
                    );
                    self.stmt.warnings.push(msg);
                }
            }
        }
        if self.stmt.currency.is_empty() {
            self.stmt.currency = e.currency.clone();
        }
        if e.currency.is_empty() {
            e.currency = self.stmt.currency.clone();
        }
        self.totals.add(e);
        self.entries_seen += 1;
        sink.entry(&self.stmt, b.entry);
        Ok(())
    }

    pub(super) fn finish_statement(
        &mut self,
        sink: &mut impl Sink,
        line: usize,
    ) -> Result<(), BankError> {
        // Stmt/Id (Ntfctn/Id, Rpt/Id) and GrpHdr/MsgId are mandatory; the statement id is part
        // of the statement's identity, so a file with neither is refused.
        if self.stmt.statement_id.is_empty() {
            self.stmt.statement_id = self
                .msg_id
                .clone()
                .ok_or_else(|| self.err("statement without Id and without GrpHdr/MsgId"))?;
        }
        if self.stmt.account.is_empty() {
            return Err(self.err(format!(
                "statement {} without Acct/Id (IBAN or Othr/Id)",
                self.stmt.statement_id
            )));
        }
        let loc = match self.loc() {
            crate::error::Location::Xml { path, .. } => crate::error::Location::Xml { path, line },
            other => other,
        };
        if self.ccy_assumed > 1
            && let Some(w) = self.stmt.warnings.get_mut(self.ccy_warning)
        {
            w.push_str(&format!(
                " ({} Amt elements without Ccy in this statement)",
                self.ccy_assumed
            ));
        }
        let mut stmt = std::mem::replace(&mut self.stmt, Statement::new(self.format));
        check_balance(&mut stmt, &self.totals, || loc, self.opts.allow_unbalanced)?;
        sink.statement(stmt);
        Ok(())
    }
}

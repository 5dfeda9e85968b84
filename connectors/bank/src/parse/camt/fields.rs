//! The camt elements the parser keeps, per scope (statement, balance, entry, transaction),
//! and what happens when a scope closes (balance check, batch explosion, counterparty choice).

use super::{Lines, Parser, Sink};
use crate::error::BankError;
use crate::model::{
    Balance, CreditorRef, Direction, EntryStatus, Statement, TxDetail, check_balance,
};
use crate::parse::{clean, decimal_amount};
use crate::reference;

impl<R: Lines> Parser<'_, R> {
    pub(super) fn stmt_field(&mut self, rel: &str) {
        match rel {
            "/Id" => self.stmt.statement_id = self.value().unwrap_or_default(),
            "/ElctrncSeqNb" => self.stmt.sequence = self.value(),
            "/LglSeqNb" if self.stmt.sequence.is_none() => self.stmt.sequence = self.value(),
            "/Acct/Id/IBAN" => {
                self.stmt.account = reference::compact(&self.text);
                self.stmt.account_is_iban = true;
            }
            "/Acct/Id/Othr/Id" if self.stmt.account.is_empty() => {
                self.stmt.account = self.value().unwrap_or_default();
            }
            "/Acct/Ccy" => self.stmt.currency = self.value().unwrap_or_default(),
            _ => {}
        }
    }

    pub(super) fn balance_field(&mut self, rel: &str) -> Result<(), BankError> {
        match rel {
            "/Tp/CdOrPrtry/Cd" | "/Tp/CdOrPrtry/Prtry" => {
                self.bal.code = self.text.trim().to_string()
            }
            "/Amt" => {
                self.bal.amount = Some(self.amount()?);
                if self.stmt.currency.is_empty()
                    && let Some(c) = &self.amt_ccy
                {
                    self.stmt.currency = c.clone();
                }
            }
            "/CdtDbtInd" => self.bal.debit = self.debit()?,
            "/Dt/Dt" | "/Dt/DtTm" => self.bal.date = Some(self.date()?),
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

    pub(super) fn entry_field(&mut self, rel: &str) -> Result<(), BankError> {
        let v = match rel {
            "/RvslInd"
            | "/Sts"
            | "/Sts/Cd"
            | "/Sts/Prtry"
            | "/NtryRef"
            | "/AcctSvcrRef"
            | "/AddtlNtryInf"
            | "/BkTxCd/Domn/Cd"
            | "/BkTxCd/Domn/Fmly/Cd"
            | "/BkTxCd/Domn/Fmly/SubFmlyCd"
            | "/BkTxCd/Prtry/Cd"
            | "/Chrgs/TtlChrgsAndTaxAmt"
            | "/Chrgs/Rcrd/Amt"
            | "/NtryDtls/Btch/NbOfTxs" => self.value(),
            _ => None,
        };
        let (amount, debit, date) = match rel {
            "/Amt" => (Some(self.amount()?), None, None),
            "/CdtDbtInd" => (None, Some(self.debit()?), None),
            "/BookgDt/Dt" | "/BookgDt/DtTm" | "/ValDt/Dt" | "/ValDt/DtTm" => {
                (None, None, Some(self.date()?))
            }
            _ => (None, None, None),
        };
        let ccy = self.amt_ccy.clone();
        let status = match (rel, v.as_deref()) {
            ("/Sts" | "/Sts/Cd" | "/Sts/Prtry", Some("BOOK")) => Some(EntryStatus::Booked),
            ("/Sts" | "/Sts/Cd" | "/Sts/Prtry", Some("PDNG" | "FUTR")) => {
                Some(EntryStatus::Pending)
            }
            ("/Sts" | "/Sts/Cd" | "/Sts/Prtry", Some("INFO")) => Some(EntryStatus::Info),
            // v02 `Sts` holds the code as text; v08 `Sts` only wraps `Cd`.
            ("/Sts", None) => None,
            ("/Sts" | "/Sts/Cd" | "/Sts/Prtry", other) => {
                return Err(self.err(format!("unknown entry status {:?}", other.unwrap_or(""))));
            }
            _ => None,
        };
        let Some(b) = self.entry.as_mut() else {
            return Ok(());
        };
        let e = &mut b.entry;
        match rel {
            "/Amt" => {
                e.amount = amount.unwrap_or_default();
                if let Some(c) = ccy {
                    e.currency = c;
                }
                b.has_amount = true;
            }
            "/CdtDbtInd" => {
                e.direction = if debit == Some(true) {
                    Direction::Debit
                } else {
                    Direction::Credit
                };
                b.has_direction = true;
            }
            "/RvslInd" => e.reversal = v.as_deref() == Some("true") || v.as_deref() == Some("1"),
            "/Sts" | "/Sts/Cd" | "/Sts/Prtry" => {
                if let Some(st) = status {
                    e.status = st;
                }
            }
            "/BookgDt/Dt" | "/BookgDt/DtTm" => e.booking_date = date,
            "/ValDt/Dt" | "/ValDt/DtTm" => e.value_date = date,
            "/NtryRef" => e.customer_ref = v,
            "/AcctSvcrRef" => e.bank_ref = v,
            "/AddtlNtryInf" => e.info = v,
            "/BkTxCd/Domn/Cd" => e.bank_tx_code = v,
            "/BkTxCd/Domn/Fmly/Cd" | "/BkTxCd/Domn/Fmly/SubFmlyCd" => {
                if let (Some(code), Some(v)) = (e.bank_tx_code.as_mut(), v) {
                    code.push('/');
                    code.push_str(&v);
                }
            }
            "/BkTxCd/Prtry/Cd" if e.bank_tx_code.is_none() => e.bank_tx_code = v,
            "/Chrgs/TtlChrgsAndTaxAmt" | "/Chrgs/Rcrd/Amt" => {
                if let Some(a) = v.as_deref().and_then(decimal_amount) {
                    e.charges = Some(e.charges.unwrap_or_default() + a);
                }
            }
            "/NtryDtls/Btch/NbOfTxs" => {
                b.batch_count =
                    Some(b.batch_count.unwrap_or(0) + v.and_then(|s| s.parse().ok()).unwrap_or(0));
                b.batches += 1;
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn tx_field(&mut self, rel: &str) -> Result<(), BankError> {
        let dir = if rel == "/CdtDbtInd" {
            Some(self.debit()?)
        } else {
            None
        };
        let t = &mut self.tx;
        match rel {
            "/Refs/EndToEndId" => {
                t.tx.end_to_end_id = clean(&self.text).filter(|s| s != "NOTPROVIDED")
            }
            "/Refs/MndtId" => t.tx.mandate_id = clean(&self.text),
            "/Amt" | "/AmtDtls/TxAmt/Amt" => {
                let a = decimal_amount(&self.text);
                match a {
                    Some(a) => t.tx.amount = Some(a),
                    None => return Err(self.err(format!("invalid amount {:?}", self.text.trim()))),
                }
            }
            "/AmtDtls/InstdAmt/Amt" => t.instd_amt = decimal_amount(&self.text),
            "/CdtDbtInd" => {
                t.direction = Some(if dir == Some(true) {
                    Direction::Debit
                } else {
                    Direction::Credit
                })
            }
            "/RltdPties/Dbtr/Nm" | "/RltdPties/Dbtr/Pty/Nm" => t.dbtr_name = clean(&self.text),
            "/RltdPties/Cdtr/Nm" | "/RltdPties/Cdtr/Pty/Nm" => t.cdtr_name = clean(&self.text),
            "/RltdPties/UltmtDbtr/Nm" | "/RltdPties/UltmtDbtr/Pty/Nm" => {
                t.ult_dbtr = clean(&self.text)
            }
            "/RltdPties/UltmtCdtr/Nm" | "/RltdPties/UltmtCdtr/Pty/Nm" => {
                t.ult_cdtr = clean(&self.text)
            }
            "/RltdPties/DbtrAcct/Id/IBAN" => t.dbtr_acct = Some(reference::compact(&self.text)),
            "/RltdPties/DbtrAcct/Id/Othr/Id" if t.dbtr_acct.is_none() => {
                t.dbtr_acct = clean(&self.text)
            }
            "/RltdPties/CdtrAcct/Id/IBAN" => t.cdtr_acct = Some(reference::compact(&self.text)),
            "/RltdPties/CdtrAcct/Id/Othr/Id" if t.cdtr_acct.is_none() => {
                t.cdtr_acct = clean(&self.text)
            }
            "/RmtInf/Ustrd" | "/RmtInf/Strd/AddtlRmtInf" => t.ustrd.extend(clean(&self.text)),
            "/RmtInf/Strd/CdtrRefInf/Tp/CdOrPrtry/Cd"
            | "/RmtInf/Strd/CdtrRefInf/Tp/CdOrPrtry/Prtry" => t.ref_code = clean(&self.text),
            "/RmtInf/Strd/CdtrRefInf/Ref" => t.ref_value = clean(&self.text),
            "/RmtInf/Strd/RfrdDocInf/Nb" => t.tx.referred_documents.extend(clean(&self.text)),
            "/RtrInf/Rsn/Cd" | "/RtrInf/Rsn/Prtry" => t.tx.return_reason = clean(&self.text),
            _ => {}
        }
        Ok(())
    }

    pub(super) fn finish_tx(&mut self) -> Result<(), BankError> {
        let mut t = std::mem::take(&mut self.tx);
        let Some(b) = self.entry.as_mut() else {
            return Ok(());
        };
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
        if !t.ustrd.is_empty() {
            t.tx.remittance = Some(t.ustrd.join(" "));
        }
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

    pub(super) fn finish_statement(&mut self, sink: &mut impl Sink) -> Result<(), BankError> {
        if self.stmt.statement_id.is_empty() {
            self.stmt.statement_id = self.msg_id.clone().unwrap_or_default();
        }
        let loc = self.loc();
        let mut stmt = std::mem::replace(&mut self.stmt, Statement::new(self.format));
        check_balance(&mut stmt, &self.totals, || loc, self.opts.allow_unbalanced)?;
        sink.statement(stmt);
        Ok(())
    }
}

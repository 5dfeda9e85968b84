//! A camt.053.001.08 writer: the demo drops statements into a bank inbox with it, benchmarks and
//! round-trip tests write generated statements with it. The parser reads everything it writes.

use crate::model::{Direction, Entry, Statement};
use rust_decimal::Decimal;

/// Writes `stmt` as a camt.053.001.08 document .
pub fn write_camt053(stmt: &Statement, out: &mut String) {
    use std::fmt::Write;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\">\n<BkToCstmrStmt>\n<GrpHdr><MsgId>{0}</MsgId><CreDtTm>2026-03-31T18:00:00</CreDtTm></GrpHdr>\n<Stmt>\n<Id>{0}</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>2026-03-31T18:00:00</CreDtTm>\n<Acct><Id><IBAN>{1}</IBAN></Id><Ccy>{2}</Ccy></Acct>\n",
        esc(&stmt.statement_id),
        stmt.account,
        stmt.currency
    );
    for (code, b) in [("OPBD", &stmt.opening), ("CLBD", &stmt.closing)] {
        if let Some(b) = b {
            let ind = if b.amount < Decimal::ZERO {
                "DBIT"
            } else {
                "CRDT"
            };
            let _ = writeln!(
                out,
                "<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"{}\">{}</Amt><CdtDbtInd>{ind}</CdtDbtInd>{}</Bal>",
                stmt.currency,
                b.amount.abs(),
                // A balance without a date is written without Dt, never as an empty date.
                b.date
                    .map(|d| format!("<Dt><Dt>{d}</Dt></Dt>"))
                    .unwrap_or_default()
            );
        }
    }
    for e in &stmt.entries {
        write_entry(e, out);
    }
    out.push_str("</Stmt>\n</BkToCstmrStmt>\n</Document>\n");
}

/// One `Ntry` element (see [`write_camt053`]).
pub fn write_entry(e: &Entry, out: &mut String) {
    use std::fmt::Write;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let ind = if e.direction == Direction::Debit {
        "DBIT"
    } else {
        "CRDT"
    };
    // An entry without a date is written without BookgDt/ValDt (both optional), never as an
    // empty date.
    let dates = e
        .booking_date
        .map(|d| format!("<BookgDt><Dt>{d}</Dt></BookgDt><ValDt><Dt>{d}</Dt></ValDt>"))
        .unwrap_or_default();
    let _ = write!(
        out,
        "<Ntry><Amt Ccy=\"{}\">{}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>{dates}<AcctSvcrRef>{}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls>",
        e.currency,
        e.amount,
        // absent: NOTPROVIDED is the ISO 20022 placeholder for a reference the bank did not give.
        esc(e.bank_ref.as_deref().unwrap_or("NOTPROVIDED"))
    );
    for t in &e.transactions {
        let _ = write!(
            out,
            "<TxDtls><Refs><EndToEndId>{}</EndToEndId></Refs>",
            // absent: NOTPROVIDED is the SEPA placeholder for a missing EndToEndId.
            esc(t.end_to_end_id.as_deref().unwrap_or("NOTPROVIDED"))
        );
        if let Some(a) = t.amount {
            let _ = write!(
                out,
                "<Amt Ccy=\"{}\">{a}</Amt><CdtDbtInd>{ind}</CdtDbtInd>",
                e.currency
            );
        }
        let (party, acct) = if e.direction == Direction::Credit {
            ("Dbtr", "DbtrAcct")
        } else {
            ("Cdtr", "CdtrAcct")
        };
        out.push_str("<RltdPties>");
        if let Some(n) = &t.counterparty_name {
            let _ = write!(out, "<{party}><Pty><Nm>{}</Nm></Pty></{party}>", esc(n));
        }
        if let Some(a) = &t.counterparty_account {
            let _ = write!(out, "<{acct}><Id><IBAN>{a}</IBAN></Id></{acct}>");
        }
        out.push_str("</RltdPties>");
        if t.remittance.is_some() || t.creditor_ref.is_some() {
            out.push_str("<RmtInf>");
            if let Some(r) = &t.remittance {
                let _ = write!(out, "<Ustrd>{}</Ustrd>", esc(r));
            }
            if let Some(r) = &t.creditor_ref {
                let _ = write!(
                    out,
                    "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{}</Ref></CdtrRefInf></Strd>",
                    esc(&r.value)
                );
            }
            out.push_str("</RmtInf>");
        }
        out.push_str("</TxDtls>");
    }
    out.push_str("</NtryDtls></Ntry>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Format;
    use crate::parse::{ParseOptions, camt};

    /// An entry or balance without a date was written as `<Dt></Dt>`, which the parser refuses;
    /// now the optional element is left out and the file reads back.
    #[test]
    fn absent_dates_are_left_out_and_read_back() {
        let mut stmt = Statement::new(Format::Camt053);
        stmt.statement_id = "S1".into();
        stmt.account = "DE89370400440532013000".into();
        stmt.currency = "EUR".into();
        stmt.opening = Some(crate::model::Balance {
            amount: Decimal::ONE_HUNDRED,
            date: None,
        });
        stmt.entries
            .push(Entry::new(Decimal::TEN, Direction::Credit, "EUR"));
        let mut xml = String::new();
        write_camt053(&stmt, &mut xml);
        assert!(!xml.contains("<Dt></Dt>"), "{xml}");
        let back = camt::parse(xml.as_bytes(), &ParseOptions::default()).expect("reads back");
        assert_eq!(back[0].entries[0].booking_date, None);
        assert_eq!(back[0].entries[0].amount, Decimal::TEN);
    }
}

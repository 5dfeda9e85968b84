//! A SEPA credit transfer initiation writer: pain.001.001.03 (ISO 20022, the version the
//! European Payments Council's SEPA rulebook implementation guidelines use), one payment
//! information block with one transaction per [`Transfer`]. Refunds of customer credit are
//! written with it (`data/outbound/payments/`); CI validates its output against the official
//! XSD (tools/bank-crosscheck). Pure: the caller checked the IBANs
//! (`ordo_contract::rules::check_iban`) and the amounts.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

/// Who pays (the company's account) or who is paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub iban: String,
    /// Optional in SEPA (the IBAN is enough); written as `NOTPROVIDED` for the debtor's agent.
    pub bic: Option<String>,
}

/// One credit transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// End-to-end id (at most 35 characters of the SEPA set), e.g. the refund's number.
    pub end_to_end_id: String,
    pub amount: Decimal,
    pub creditor: Account,
    /// Unstructured remittance information (at most 140 characters).
    pub remittance: String,
}

/// The message: the debtor, when to execute, and the transfers (all in EUR: SEPA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditTransfer {
    /// Message id (at most 35 characters), unique per initiating party.
    pub message_id: String,
    pub created: NaiveDateTime,
    pub execution_date: NaiveDate,
    pub debtor: Account,
    pub transfers: Vec<Transfer>,
}

/// The SEPA character set (Latin, digits, `/-?:().,'+ `); anything else becomes `.` and the
/// text is cut to `max` characters, so a customer's name never makes the file invalid.
pub fn sepa_text(s: &str, max: usize) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " /-?:().,'+".contains(c) {
                c
            } else {
                '.'
            }
        })
        .take(max)
        .collect::<String>()
        .trim()
        .to_string()
}

fn bic_ok(b: &str) -> bool {
    (b.len() == 8 || b.len() == 11)
        && b.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Writes `ct` as a pain.001.001.03 document. Refused: no transfers, a non-positive amount,
/// more than 2 decimals, a malformed BIC (the caller checked the IBANs).
pub fn write_pain001(ct: &CreditTransfer) -> Result<String, String> {
    use std::fmt::Write;
    if ct.transfers.is_empty() {
        return Err("a credit transfer needs at least one transaction".into());
    }
    let mut sum = Decimal::ZERO;
    for t in &ct.transfers {
        if t.amount <= Decimal::ZERO || t.amount.normalize().scale() > 2 {
            return Err(format!(
                "{}: amount {} must be positive with at most 2 decimals",
                t.end_to_end_id, t.amount
            ));
        }
        sum = sum
            .checked_add(t.amount)
            .ok_or_else(|| "the control sum overflows".to_string())?;
    }
    for b in std::iter::once(&ct.debtor.bic)
        .chain(ct.transfers.iter().map(|t| &t.creditor.bic))
        .flatten()
    {
        if !bic_ok(b) {
            return Err(format!(
                "BIC '{}' is not 8 or 11 letters and digits",
                sepa_text(b, 20)
            ));
        }
    }
    let money = |d: Decimal| format!("{:.2}", d.round_dp(2));
    let agent = |bic: &Option<String>| match bic {
        Some(b) => format!("<FinInstnId><BIC>{b}</BIC></FinInstnId>"),
        None => "<FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId>".to_string(),
    };
    let mut out = String::new();
    let msg = sepa_text(&ct.message_id, 35);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n<CstmrCdtTrfInitn>\n<GrpHdr><MsgId>{msg}</MsgId><CreDtTm>{}</CreDtTm><NbOfTxs>{}</NbOfTxs><CtrlSum>{}</CtrlSum><InitgPty><Nm>{}</Nm></InitgPty></GrpHdr>\n",
        ct.created.format("%Y-%m-%dT%H:%M:%S"),
        ct.transfers.len(),
        money(sum),
        sepa_text(&ct.debtor.name, 70)
    );
    let _ = write!(
        out,
        "<PmtInf><PmtInfId>{msg}</PmtInfId><PmtMtd>TRF</PmtMtd><BtchBookg>false</BtchBookg><NbOfTxs>{}</NbOfTxs><CtrlSum>{}</CtrlSum><PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf><ReqdExctnDt>{}</ReqdExctnDt>\n<Dbtr><Nm>{}</Nm></Dbtr><DbtrAcct><Id><IBAN>{}</IBAN></Id></DbtrAcct><DbtrAgt>{}</DbtrAgt><ChrgBr>SLEV</ChrgBr>\n",
        ct.transfers.len(),
        money(sum),
        ct.execution_date.format("%Y-%m-%d"),
        sepa_text(&ct.debtor.name, 70),
        ct.debtor.iban,
        agent(&ct.debtor.bic)
    );
    for t in &ct.transfers {
        let cdtr_agt = t
            .creditor
            .bic
            .as_ref()
            .map(|b| format!("<CdtrAgt><FinInstnId><BIC>{b}</BIC></FinInstnId></CdtrAgt>"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<CdtTrfTxInf><PmtId><EndToEndId>{}</EndToEndId></PmtId><Amt><InstdAmt Ccy=\"EUR\">{}</InstdAmt></Amt>{cdtr_agt}<Cdtr><Nm>{}</Nm></Cdtr><CdtrAcct><Id><IBAN>{}</IBAN></Id></CdtrAcct><RmtInf><Ustrd>{}</Ustrd></RmtInf></CdtTrfTxInf>",
            sepa_text(&t.end_to_end_id, 35),
            money(t.amount),
            sepa_text(&t.creditor.name, 70),
            t.creditor.iban,
            sepa_text(&t.remittance, 140)
        );
    }
    out.push_str("</PmtInf>\n</CstmrCdtTrfInitn>\n</Document>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn ct(amount: Decimal, name: &str) -> CreditTransfer {
        CreditTransfer {
            message_id: "RF-000001".into(),
            created: NaiveDate::from_ymd_opt(2026, 12, 7)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap(),
            execution_date: NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
            debtor: Account {
                name: "ordo Supplies GmbH".into(),
                iban: "DE89370400440532013000".into(),
                bic: None,
            },
            transfers: vec![Transfer {
                end_to_end_id: "RF-000001".into(),
                amount,
                creditor: Account {
                    name: name.into(),
                    iban: "FR1420041010050500013M02606".into(),
                    bic: Some("BNPAFRPP".into()),
                },
                remittance: "Refund of customer credit C-CORA".into(),
            }],
        }
    }

    #[test]
    fn amounts_sum_and_hostile_names_stay_in_the_sepa_set() {
        let x = write_pain001(&ct(dec!(40.5), "<Cora> & \"Söhne\"")).unwrap();
        assert!(
            x.contains("<NbOfTxs>1</NbOfTxs><CtrlSum>40.50</CtrlSum>"),
            "{x}"
        );
        assert!(x.contains("<InstdAmt Ccy=\"EUR\">40.50</InstdAmt>"), "{x}");
        assert!(x.contains("<Cdtr><Nm>.Cora. . .S.hne.</Nm></Cdtr>"), "{x}");
        assert!(x.contains(
            "<DbtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId></DbtrAgt>"
        ));
        assert!(!x.contains('&'));
    }

    #[test]
    fn bad_amounts_and_bics_are_refused() {
        assert!(write_pain001(&ct(dec!(0), "A")).is_err());
        assert!(write_pain001(&ct(dec!(-1), "A")).is_err());
        assert!(write_pain001(&ct(dec!(1.001), "A")).is_err());
        assert!(write_pain001(&ct(dec!(1.000), "A")).is_ok());
        let mut c = ct(dec!(1), "A");
        c.transfers[0].creditor.bic = Some("bad bic<".into());
        assert!(write_pain001(&c).unwrap_err().contains("is not 8 or 11"));
        c.transfers.clear();
        assert!(write_pain001(&c).is_err());
    }
}

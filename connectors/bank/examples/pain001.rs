//! Writes a pain.001.001.03 credit transfer with ordo's writer for the external XSD check
//! (tools/bank-crosscheck/run.sh): two refunds, one creditor without a BIC, names outside the
//! SEPA character set. `pain001 OUT.xml`.

use chrono::NaiveDate;
use ordo_bank::pain001::{Account, CreditTransfer, Transfer, write_pain001};
use rust_decimal::Decimal;
use std::str::FromStr;

fn main() {
    let Some(out) = std::env::args().nth(1) else {
        eprintln!("usage: pain001 OUT.xml");
        std::process::exit(2);
    };
    let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default();
    let ct = CreditTransfer {
        message_id: "RF-000001".into(),
        created: day.and_hms_opt(10, 0, 0).unwrap_or_default(),
        execution_date: day,
        debtor: Account {
            name: "ordo Supplies GmbH".into(),
            iban: "DE89370400440532013000".into(),
            bic: Some("COBADEFFXXX".into()),
        },
        transfers: vec![
            Transfer {
                end_to_end_id: "RF-000001".into(),
                amount: Decimal::from_str("40.50").unwrap_or_default(),
                creditor: Account {
                    name: "Cora Supplies SA <&> Söhne".into(),
                    iban: "FR1420041010050500013M02606".into(),
                    bic: Some("BNPAFRPP".into()),
                },
                remittance: "Refund of customer credit C-CORA".into(),
            },
            Transfer {
                end_to_end_id: "RF-000002".into(),
                amount: Decimal::from_str("0.01").unwrap_or_default(),
                creditor: Account {
                    name: "Acme Retail GmbH".into(),
                    iban: "DE89370400440532013000".into(),
                    bic: None,
                },
                remittance: "Refund".into(),
            },
        ],
    };
    match write_pain001(&ct) {
        Ok(x) => {
            if let Err(e) = std::fs::write(&out, x) {
                eprintln!("{out}: {e}");
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

//! Refunds of customer credit: [`refund`] takes the amount out of the customer's credit
//! (`ordo_sales::customer_credit::take_for_refund`: numbered `RF-000001`, posted customer
//! credit / bank, refused when larger than the credit) and queues a SEPA credit transfer
//! (pain.001.001.03, `ordo_bank::pain001`) from the company's account (config/company.yaml)
//! to the customer's as the outbound file `payments/RF-000001.xml`, written after commit by
//! the dispatcher (idempotent per refund). All in the caller's transaction.

use chrono::Days;
use ordo_bank::pain001::{Account, CreditTransfer, Transfer, write_pain001};
use ordo_contract::master::Customer;
use ordo_contract::rules::check_iban;
use ordo_contract::{Company, StepContext, StepContextExt, StepError};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// The outbound folder of payment files (under the outbound root, `data/outbound/payments/`).
pub const PAYMENTS_DIR: &str = "payments";
const FILE_CHANNEL: &str = "file";
const COMPANY_DOC: (&str, &str) = ("company", "self");

/// Refunds `amount` of `customer`'s credit to `iban` (one of the customer's `bank_accounts`;
/// none given: the first). Returns the stored refund (`refund/RF-…`).
pub async fn refund(
    ctx: &mut dyn StepContext,
    customer: &str,
    amount: Decimal,
    iban: Option<&str>,
) -> Result<Value, StepError> {
    let c: Customer = ctx.get("customer", customer).await?.ok_or_else(|| {
        StepError::Permanent(format!(
            "no customer '{}'",
            ordo_contract::excerpt(customer, 40)
        ))
    })?;
    if c.currency != "EUR" {
        return Err(StepError::Permanent(format!(
            "customer {customer} pays in {}: a SEPA refund is in EUR",
            c.currency
        )));
    }
    let to = match iban {
        Some(i) => {
            let i: String = i.chars().filter(|c| !c.is_whitespace()).collect();
            if !c.bank_accounts.iter().any(|a| a.replace(' ', "") == i) {
                return Err(StepError::Permanent(format!(
                    "IBAN {} is not one of customer {customer}'s bank accounts",
                    ordo_contract::excerpt(&i, 40)
                )));
            }
            i
        }
        None => c.bank_accounts.first().cloned().ok_or_else(|| {
            StepError::Permanent(format!(
                "customer {customer} has no bank account to refund to (bank_accounts in master data)"
            ))
        })?,
    };
    check_iban(&to).map_err(|e| StepError::Permanent(format!("customer {customer}: {e}")))?;
    let company: Company = ctx
        .get(COMPANY_DOC.0, COMPANY_DOC.1)
        .await?
        .ok_or_else(|| StepError::Permanent("no company profile: a refund is paid from the company's bank account (config/company.yaml)".into()))?;
    let bank = company.bank.clone().ok_or_else(|| {
        StepError::Permanent(
            "config/company.yaml has no bank: a refund needs the account it is paid from".into(),
        )
    })?;
    check_iban(&bank.iban)
        .map_err(|e| StepError::Permanent(format!("config/company.yaml bank: {e}")))?;
    let taken =
        ordo_sales::customer_credit::take_for_refund(ctx, customer, amount, &c.currency).await?;
    let now = ctx.now();
    let today = now.date_naive();
    let ct = CreditTransfer {
        message_id: taken.number.clone(),
        created: now.naive_utc(),
        // The next banking day at the earliest; the bank moves a weekend date itself.
        execution_date: today.checked_add_days(Days::new(1)).unwrap_or(today),
        debtor: Account {
            name: bank
                .name
                .clone()
                .unwrap_or_else(|| company.legal_name.clone()),
            iban: bank.iban.clone(),
            bic: bank.bic.clone(),
        },
        transfers: vec![Transfer {
            end_to_end_id: taken.number.clone(),
            amount,
            creditor: Account {
                name: taken.customer_name.clone(),
                iban: to.clone(),
                bic: None,
            },
            remittance: format!("Refund of credit {} customer {customer}", taken.number),
        }],
    };
    let xml =
        write_pain001(&ct).map_err(|e| StepError::Permanent(format!("{}: {e}", taken.number)))?;
    let file = format!("{}.xml", taken.number);
    ctx.send_outbound(
        FILE_CHANNEL,
        &taken.number,
        &json!({ "dir": PAYMENTS_DIR, "name": file, "content": xml }),
    )
    .await?;
    let doc = json!({ "number": taken.number, "customer_id": customer, "amount": amount,
                      "currency": c.currency, "iban": to, "date": today,
                      "file": format!("{PAYMENTS_DIR}/{file}"), "credit_left": taken.credit_left });
    ctx.put_document("refund", &taken.number, &doc).await?;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordo_sales::master;
    use ordo_sales::testing::MemoryContext;
    use rust_decimal::dec;

    fn ctx() -> MemoryContext {
        let mut ctx = MemoryContext::seeded();
        let c = ctx
            .docs
            .get_mut(&("customer".to_string(), "C1".to_string()))
            .unwrap();
        c["bank_accounts"] = json!(["DE89370400440532013000"]);
        ctx.docs.insert(
            ("company".into(), "self".into()),
            json!({ "legal_name": "ordo Supplies GmbH", "address": { "lines": ["Hauptstrasse 1"], "postal_code": "10115", "city": "Berlin", "country": "DE" },
                    "bank": { "iban": "DE89370400440532013000", "bic": "COBADEFFXXX" } }),
        );
        ctx.stock
            .insert((master::credit_key("C1"), master::LEDGER.into()), dec!(40));
        ctx
    }

    #[tokio::test]
    async fn a_refund_queues_a_pain001_file_and_posts() {
        let mut ctx = ctx();
        let r = refund(&mut ctx, "C1", dec!(12.30), None).await.unwrap();
        assert_eq!(r["number"], "RF-000001");
        assert_eq!(r["file"], "payments/RF-000001.xml");
        let file = &ctx.outbound[&("file".to_string(), "RF-000001".to_string())];
        let xml = file["content"].as_str().unwrap();
        assert!(
            xml.contains("<InstdAmt Ccy=\"EUR\">12.30</InstdAmt>"),
            "{xml}"
        );
        assert!(xml.contains("<Cdtr><Nm>Acme</Nm></Cdtr>"), "{xml}");
        assert!(xml.contains("<BIC>COBADEFFXXX</BIC>"), "{xml}");
        assert_eq!(ctx.posted("refund").len(), 1);
    }

    #[tokio::test]
    async fn refusals_name_the_problem() {
        let mut ctx = ctx();
        let e = |r: Result<Value, StepError>| r.unwrap_err().to_string();
        assert_eq!(
            e(refund(&mut ctx, "C1", dec!(40.01), None).await),
            "refund of 40.01 is larger than customer C1's credit of 40.00"
        );
        assert!(
            e(refund(&mut ctx, "C1", dec!(1), Some("GB29NWBK60161331926819")).await)
                .contains("is not one of customer C1's bank accounts")
        );
        assert_eq!(
            e(refund(&mut ctx, "NOPE", dec!(1), None).await),
            "no customer 'NOPE'"
        );
        let mut ctx = self::ctx();
        let c = ctx
            .docs
            .get_mut(&("customer".to_string(), "C1".to_string()))
            .unwrap();
        c["bank_accounts"] = json!(["DE00370400440532013000"]);
        assert!(e(refund(&mut ctx, "C1", dec!(1), None).await).contains("is not a valid IBAN"));
        let mut ctx = self::ctx();
        ctx.docs
            .remove(&("company".to_string(), "self".to_string()));
        assert!(e(refund(&mut ctx, "C1", dec!(1), None).await).contains("no company profile"));
    }
}

//! Rule `advice`: a credit that fits a received remittance advice is allocated as the advice
//! says, ahead of text references; every misfit goes to the exceptions queue with the advice's
//! invoices as the top candidates, never a guess.

use chrono::NaiveDate;
use ordo_bank::matcher::{
    Advice, AdviceInvoice, Customer, Deduction, ItemKind, MatchConfig, OpenItem, ReconResult, Rule,
    reconcile_with_advices,
};
use ordo_bank::model::{Direction, Entry, Format, Statement, TxDetail};
use ordo_contract::PaymentTerms;
use rust_decimal::{Decimal, dec};

fn d(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, day).unwrap_or_default()
}

fn item(number: &str, cust: &str, amount: Decimal) -> OpenItem {
    OpenItem {
        number: number.into(),
        customer_id: cust.into(),
        amount_open: amount,
        currency: "EUR".into(),
        due_date: d(30),
        issue_date: d(1),
        terms: PaymentTerms {
            net_days: 30,
            discount_percent: Decimal::ZERO,
            discount_days: 0,
        },
        kind: ItemKind::Receivable,
    }
}

fn items() -> Vec<OpenItem> {
    vec![
        item("INV-000101", "C1", dec!(1000.00)),
        item("INV-000102", "C1", dec!(500.00)),
        item("INV-000103", "C1", dec!(480.00)),
        item("INV-000201", "C2", dec!(480.00)),
    ]
}

fn customers() -> Vec<Customer> {
    vec![
        Customer {
            id: "C1".into(),
            name: "Acme Retail".into(),
            accounts: vec!["DE89370400440532013000".into()],
        },
        Customer {
            id: "C2".into(),
            name: "Other Buyer".into(),
            accounts: vec!["GB29NWBK60161331926819".into()],
        },
    ]
}

/// C1 advice RA-2026-0001: 1000.00 on INV-000101, 480.00 on INV-000102 with a 20.00 deduction.
fn advice() -> Advice {
    Advice {
        id: "acme:RA-2026-0001".into(),
        customer_id: "C1".into(),
        reference: "RA-2026-0001".into(),
        amount: dec!(1480.00),
        currency: "EUR".into(),
        invoices: vec![
            AdviceInvoice {
                number: "INV-000101".into(),
                paid: dec!(1000.00),
                deductions: vec![],
            },
            AdviceInvoice {
                number: "INV-000102".into(),
                paid: dec!(480.00),
                deductions: vec![Deduction {
                    invoice: String::new(),
                    reason: "04".into(),
                    account: "customer-deductions".into(),
                    amount: dec!(20.00),
                    discount: false,
                }],
            },
        ],
        blocked: None,
    }
}

fn pay(amount: Decimal, account: Option<&str>, text: Option<&str>) -> Entry {
    let mut e = Entry::new(amount, Direction::Credit, "EUR");
    e.booking_date = Some(d(12));
    e.transactions[0] = TxDetail {
        amount: Some(amount),
        counterparty_account: account.map(Into::into),
        remittance: text.map(Into::into),
        ..TxDetail::default()
    };
    e
}

fn run(entries: Vec<Entry>, advices: &[Advice]) -> ReconResult {
    let mut s = Statement::new(Format::Camt053);
    s.statement_id = "S".into();
    s.entries = entries;
    reconcile_with_advices(
        &[s],
        &items(),
        &customers(),
        advices,
        &MatchConfig::default(),
    )
}

const C1: Option<&str> = Some("DE89 3704 0044 0532 0130 00");

#[test]
fn a_fitting_credit_is_allocated_as_the_advice_says_ahead_of_text_references() {
    // The text names INV-000103 (480.00), which a reference rule would take; the advice decides.
    let r = run(
        vec![pay(dec!(1480.00), C1, Some("INV-000103 and more"))],
        &[advice()],
    );
    assert_eq!(r.matches.len(), 1, "{r:#?}");
    let m = &r.matches[0];
    assert_eq!(m.rule, Rule::Advice);
    let allocs: Vec<(&str, Decimal, bool)> = m
        .allocations
        .iter()
        .map(|a| (a.invoice.as_str(), a.amount, a.remains_open))
        .collect();
    assert_eq!(
        allocs,
        [
            ("INV-000101", dec!(1000.00), false),
            ("INV-000102", dec!(480.00), false)
        ]
    );
    let used = m.advice.as_ref().expect("advice");
    assert_eq!(used.id, "acme:RA-2026-0001");
    assert_eq!(used.deductions[0].invoice, "INV-000102");
    assert_eq!(used.deductions[0].amount, dec!(20.00));
    assert!(m.writeoff.is_none() && m.credit.is_none());
}

#[test]
fn an_advice_is_used_once_and_a_second_credit_falls_to_the_other_rules() {
    let r = run(
        vec![pay(dec!(1480.00), C1, None), pay(dec!(1480.00), C1, None)],
        &[advice()],
    );
    assert_eq!(r.matches.len(), 1, "{r:#?}");
    assert_eq!(r.matches[0].rule, Rule::Advice);
    // the second one: no advice left, and the payer's open items do not make 1480.00
    assert_eq!(r.exceptions.len(), 1, "{r:#?}");
    assert!(!r.exceptions[0].reason.contains("advice"), "{r:#?}");
}

#[test]
fn a_named_advice_whose_amount_does_not_fit_is_an_exception_with_the_advice_on_top() {
    let r = run(
        vec![pay(dec!(1400.00), None, Some("Zahlung RA 2026 0001"))],
        &[advice()],
    );
    assert!(r.matches.is_empty(), "{r:#?}");
    let e = &r.exceptions[0];
    assert!(
        e.reason.contains("acme:RA-2026-0001 announces 1480.00 EUR"),
        "{}",
        e.reason
    );
    let top: Vec<(&str, u8)> = e
        .candidates
        .iter()
        .map(|c| (c.invoice.as_str(), c.score))
        .collect();
    assert_eq!(top, [("INV-000101", 99), ("INV-000102", 99)]);
    // the payer's own advice with another amount is not this payment's: other rules decide
    let r = run(vec![pay(dec!(500.00), C1, None)], &[advice()]);
    assert_eq!(r.matches[0].rule, Rule::PayerAmount, "{r:#?}");
}

#[test]
fn unknown_paid_or_foreign_invoices_and_blocked_advices_are_exceptions() {
    let cases: Vec<(Advice, &str)> = vec![
        (
            {
                let mut a = advice();
                a.invoices[0].number = "INV-000999".into();
                a
            },
            "invoice INV-000999 is not an open invoice",
        ),
        (
            {
                let mut a = advice();
                a.invoices[0].number = "INV-000201".into();
                a.invoices[0].paid = dec!(480.00);
                a.amount = dec!(960.00);
                a
            },
            "invoice INV-000201 is customer C2's, not C1's",
        ),
        (
            {
                let mut a = advice();
                a.invoices[1].paid = dec!(500.00);
                a.amount = dec!(1500.00);
                a
            },
            "invoice INV-000102 has 500.00 open, the advice settles 520.00",
        ),
        (
            {
                let mut a = advice();
                a.blocked = Some("reason code ZZ has no account".into());
                a
            },
            "remittance advice acme:RA-2026-0001: reason code ZZ has no account",
        ),
    ];
    for (a, why) in cases {
        let amount = a.amount;
        let r = run(vec![pay(amount, C1, None)], &[a]);
        assert!(r.matches.is_empty(), "{why}: {r:#?}");
        assert!(r.exceptions[0].reason.contains(why), "{why}: {r:#?}");
        assert_eq!(r.exceptions[0].candidates[0].score, 99);
    }
}

#[test]
fn two_advices_that_fit_alike_are_not_guessed_between() {
    let mut b = advice();
    b.id = "acme:RA-2026-0002".into();
    b.reference = "RA-2026-0002".into();
    let r = run(vec![pay(dec!(1480.00), C1, None)], &[advice(), b.clone()]);
    assert!(r.matches.is_empty(), "{r:#?}");
    assert!(
        r.exceptions[0]
            .reason
            .contains("several remittance advices"),
        "{r:#?}"
    );
    // the text names one: that one
    let r = run(
        vec![pay(dec!(1480.00), C1, Some("ref RA-2026/0002"))],
        &[advice(), b],
    );
    assert_eq!(
        r.matches[0].advice.as_ref().map(|a| a.id.as_str()),
        Some("acme:RA-2026-0002")
    );
}

#[test]
fn a_difference_within_the_tolerance_is_written_off() {
    let r = run(vec![pay(dec!(1479.50), C1, None)], &[advice()]);
    let m = &r.matches[0];
    assert_eq!(m.rule, Rule::Advice);
    let wo = m.writeoff.as_ref().expect("write-off");
    assert_eq!(
        (wo.account.as_str(), wo.amount),
        ("payment-differences", dec!(0.50))
    );
}

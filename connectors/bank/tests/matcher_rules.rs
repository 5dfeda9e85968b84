//! One fixture per matching rule, plus exceptions, reversals, batched entries, learning,
//! determinism and the report.

use chrono::NaiveDate;
use ordo_bank::matcher::{Customer, ItemKind, MatchConfig, OpenItem, ReconResult, Rule, reconcile};
use ordo_bank::model::{
    CreditorRef, Direction, Entry, EntryStatus, Format, RefKind, Statement, TxDetail,
};
use ordo_bank::{reference, report};
use ordo_contract::PaymentTerms;
use rust_decimal::Decimal;
use rust_decimal::dec;

fn d(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, day).unwrap_or_default()
}

fn item(number: &str, cust: &str, amount: Decimal, issue_day: u32, discount: bool) -> OpenItem {
    OpenItem {
        number: number.into(),
        customer_id: cust.into(),
        amount_open: amount,
        currency: "EUR".into(),
        due_date: d(issue_day) + chrono::Days::new(30),
        issue_date: d(issue_day),
        terms: PaymentTerms {
            net_days: 30,
            discount_percent: if discount { dec!(2) } else { Decimal::ZERO },
            discount_days: if discount { 10 } else { 0 },
        },
        kind: ItemKind::Receivable,
    }
}

fn customers() -> Vec<Customer> {
    vec![
        Customer {
            id: "C1".into(),
            name: "Müller Logistik GmbH".into(),
            accounts: vec!["DE89 3704 0044 0532 0130 00".into()],
        },
        Customer {
            id: "C2".into(),
            name: "Acme Industries Ltd".into(),
            accounts: vec!["GB29NWBK60161331926819".into()],
        },
        Customer {
            id: "C3".into(),
            name: "Schmidt Elektro KG".into(),
            accounts: vec![],
        },
    ]
}

fn items() -> Vec<OpenItem> {
    vec![
        item("INV-000101", "C1", dec!(1190.00), 1, false),
        item("INV-000102", "C1", dec!(238.00), 2, false),
        item("INV-000103", "C1", dec!(500.00), 3, true),
        item("INV-000104", "C1", dec!(77.35), 4, false),
        item("INV-000201", "C2", dec!(4000.00), 5, false),
        item("INV-000202", "C2", dec!(1000.00), 6, false),
        item("INV-000203", "C2", dec!(1000.00), 7, false),
        item("INV-000301", "C3", dec!(350.00), 8, true),
        item("INV-000302", "C3", dec!(120.00), 9, false),
    ]
}

fn pay(amount: Decimal, name: Option<&str>, account: Option<&str>, text: Option<&str>) -> Entry {
    let mut e = Entry::new(amount, Direction::Credit, "EUR");
    e.booking_date = Some(d(12));
    e.transactions[0] = TxDetail {
        amount: Some(amount),
        counterparty_name: name.map(Into::into),
        counterparty_account: account.map(Into::into),
        remittance: text.map(Into::into),
        ..TxDetail::default()
    };
    e
}

fn run(entries: Vec<Entry>, cfg: &MatchConfig) -> ReconResult {
    let mut s = Statement::new(Format::Camt053);
    s.statement_id = "S".into();
    s.entries = entries;
    reconcile(&[s], &items(), &customers(), cfg)
}

fn one(e: Entry) -> ReconResult {
    run(vec![e], &MatchConfig::default())
}

fn rule_and_invoices(r: &ReconResult) -> (Rule, Vec<String>) {
    assert_eq!(r.matches.len(), 1, "expected one match, got {r:#?}");
    let m = &r.matches[0];
    assert!(!m.reason.is_empty());
    (
        m.rule,
        m.allocations.iter().map(|a| a.invoice.clone()).collect(),
    )
}

#[test]
fn reference_with_prefix_spaces_and_leading_zeros() {
    let r = one(pay(
        dec!(1190.00),
        Some("Unknown"),
        None,
        Some("Rechnung Nr. 101 vom 01.03."),
    ));
    assert_eq!(
        rule_and_invoices(&r),
        (Rule::Reference, vec!["INV-000101".into()])
    );
    let r = one(pay(
        dec!(1428.00),
        None,
        None,
        Some("RE 000101 + RE 000102"),
    ));
    assert_eq!(
        rule_and_invoices(&r),
        (
            Rule::Reference,
            vec!["INV-000101".into(), "INV-000102".into()]
        )
    );
}

#[test]
fn structured_rf_and_qrr_references() {
    let mut e = pay(dec!(238.00), None, None, None);
    let rf = reference::rf_make("INV000102").unwrap_or_default();
    e.transactions[0].creditor_ref = Some(CreditorRef {
        kind: RefKind::Iso11649,
        value: rf,
        valid: true,
    });
    assert_eq!(
        rule_and_invoices(&one(e)),
        (Rule::Reference, vec!["INV-000102".into()])
    );
    let mut e = pay(dec!(77.35), None, None, None);
    let q = reference::qrr_make("104").unwrap_or_default();
    e.transactions[0].creditor_ref = Some(CreditorRef {
        kind: RefKind::Qrr,
        value: q,
        valid: true,
    });
    assert_eq!(
        rule_and_invoices(&one(e)),
        (Rule::Reference, vec!["INV-000104".into()])
    );
}

#[test]
fn reference_discount_tolerance_fee_overpayment_partial() {
    // 2 % discount within 10 days of 2026-03-03 (paid 03-12): 500 - 10 = 490.
    let r = one(pay(dec!(490.00), None, None, Some("INV-000103")));
    assert_eq!(rule_and_invoices(&r).0, Rule::ReferenceDiscount);
    assert_eq!(
        r.matches[0]
            .writeoff
            .as_ref()
            .map(|w| (w.account.as_str(), w.amount)),
        Some(("cash-discount", dec!(10.00)))
    );
    let r = one(pay(dec!(1189.40), None, None, Some("INV-000101")));
    assert_eq!(rule_and_invoices(&r).0, Rule::ReferenceTolerance);
    assert_eq!(
        r.matches[0].writeoff.as_ref().map(|w| w.amount),
        Some(dec!(0.60))
    );
    let r = one(pay(dec!(3985.00), None, None, Some("INV-000201")));
    assert_eq!(rule_and_invoices(&r).0, Rule::ReferenceFee);
    assert_eq!(
        r.matches[0].writeoff.as_ref().map(|w| w.account.as_str()),
        Some("bank-fees")
    );
    // Over by 2.00 (beyond the tolerance, within max_auto_credit 50 and 5 % of the payment):
    // kept as customer credit.
    let r = one(pay(
        dec!(240.00),
        Some("Müller Logistik"),
        None,
        Some("INV-000102"),
    ));
    assert_eq!(rule_and_invoices(&r).0, Rule::ReferenceOverpayment);
    assert_eq!(r.matches[0].credit, Some(dec!(2.00)));
    // Over by 62.00 (26 % of the invoice) and nothing explains it: not booked (this case used
    // to be booked as credit), the named invoice is the top candidate.
    let r = one(pay(
        dec!(300.00),
        Some("Müller Logistik"),
        None,
        Some("INV-000102"),
    ));
    assert!(r.matches.is_empty(), "{r:#?}");
    assert_eq!(r.exceptions.len(), 1);
    assert_eq!(r.exceptions[0].candidates[0].invoice, "INV-000102");
    let r = one(pay(
        dec!(500.00),
        Some("Müller Logistik"),
        None,
        Some("INV-000101"),
    ));
    assert_eq!(rule_and_invoices(&r).0, Rule::ReferencePartial);
    assert!(r.matches[0].allocations[0].remains_open);
}

#[test]
fn partial_payment_from_an_unknown_payer_is_an_exception() {
    let r = one(pay(
        dec!(500.00),
        Some("Somebody Else"),
        None,
        Some("INV-000101"),
    ));
    assert!(r.matches.is_empty());
    assert_eq!(r.exceptions[0].candidates[0].invoice, "INV-000101");
}

#[test]
fn several_numbers_of_which_some_are_paid() {
    let r = one(pay(
        dec!(315.35),
        None,
        Some("DE89370400440532013000"),
        Some("INV-000102, INV-000104, INV-000101"),
    ));
    assert_eq!(
        rule_and_invoices(&r),
        (
            Rule::ReferenceSubset,
            vec!["INV-000102".into(), "INV-000104".into()]
        )
    );
}

#[test]
fn payer_rules() {
    let iban = Some("DE89370400440532013000");
    assert_eq!(
        rule_and_invoices(&one(pay(dec!(238.00), None, iban, Some("Danke")))),
        (Rule::PayerAmount, vec!["INV-000102".into()])
    );
    assert_eq!(
        rule_and_invoices(&one(pay(dec!(490.00), None, iban, None))).0,
        Rule::PayerDiscount
    );
    let r = one(pay(dec!(1428.00), None, iban, Some("Sammelzahlung")));
    assert_eq!(
        rule_and_invoices(&r),
        (
            Rule::PayerSubset,
            vec!["INV-000101".into(), "INV-000102".into()]
        )
    );
    assert_eq!(
        rule_and_invoices(&one(pay(dec!(77.00), None, iban, None))).0,
        Rule::PayerTolerance
    );
    let mut e = pay(dec!(1175.00), None, iban, None);
    e.charges = Some(dec!(15.00));
    assert_eq!(rule_and_invoices(&one(e)).0, Rule::PayerFee);
    // Without the bank stating the charge, a short payment without reference is not guessed.
    assert!(one(pay(dec!(1175.00), None, iban, None)).matches.is_empty());
}

#[test]
fn payer_by_fuzzy_name_and_typo_in_reference() {
    let r = one(pay(dec!(120.00), Some("SCHMIDT ELEKTRO"), None, None));
    assert_eq!(
        rule_and_invoices(&r),
        (Rule::PayerAmount, vec!["INV-000302".into()])
    );
    // 000301 mistyped as 000310: one transposition, amount equal.
    let r = one(pay(
        dec!(350.00),
        Some("Schmidt Elektro K.G."),
        None,
        Some("Rechnung 000310"),
    ));
    assert_eq!(
        rule_and_invoices(&r),
        (Rule::ReferenceFuzzy, vec!["INV-000301".into()])
    );
}

#[test]
fn ambiguous_and_unknown_go_to_exceptions_with_candidates() {
    let r = one(pay(
        dec!(1000.00),
        None,
        Some("GB29NWBK60161331926819"),
        None,
    ));
    assert!(r.matches.is_empty());
    let x = &r.exceptions[0];
    assert_eq!(
        x.candidates
            .iter()
            .map(|c| c.invoice.as_str())
            .collect::<Vec<_>>(),
        ["INV-000202", "INV-000203"]
    );
    let r = one(pay(
        dec!(238.00),
        Some("Jane Doe"),
        Some("FR7630006000011234567890189"),
        Some("gift"),
    ));
    assert_eq!(r.exceptions[0].reason, "no reference and payer unknown");
    assert_eq!(r.exceptions[0].candidates[0].invoice, "INV-000102");
}

#[test]
fn reversal_pending_and_batched_entries() {
    let mut rev = pay(dec!(238.00), None, None, Some("INV-000102"));
    rev.reversal = true;
    let mut pending = pay(dec!(120.00), None, None, Some("INV-000302"));
    pending.status = EntryStatus::Pending;
    let mut batch = pay(dec!(1428.00), None, None, None);
    batch.transactions = vec![
        TxDetail {
            amount: Some(dec!(1190.00)),
            remittance: Some("INV-000101".into()),
            ..TxDetail::default()
        },
        TxDetail {
            amount: Some(dec!(238.00)),
            remittance: Some("INV 102".into()),
            ..TxDetail::default()
        },
    ];
    let r = run(vec![rev, pending, batch], &MatchConfig::default());
    assert_eq!(r.exceptions.len(), 1);
    assert!(r.exceptions[0].reason.starts_with("reversal"));
    assert_eq!(r.skipped, vec!["S/2".to_string()]);
    let refs: Vec<&str> = r.matches.iter().map(|m| m.entry_ref.as_str()).collect();
    assert_eq!(refs, ["S/3/1", "S/3/2"]);
}

#[test]
fn second_payment_sees_reduced_open_amount_and_learned_account() {
    let e1 = pay(
        dec!(500.00),
        Some("Acme Industries"),
        Some("NL91ABNA0417164300"),
        Some("INV-000201"),
    );
    let e2 = pay(
        dec!(3500.00),
        Some("Acme Industries"),
        Some("NL91ABNA0417164300"),
        Some("INV-000201 rest"),
    );
    let r = run(vec![e1, e2], &MatchConfig::default());
    assert_eq!(r.matches.len(), 2);
    assert_eq!(r.matches[1].rule, Rule::Reference);
    assert_eq!(
        r.learned,
        vec![("NL91ABNA0417164300".to_string(), "C2".to_string())]
    );
    let mut cfg = MatchConfig::default();
    cfg.learned_accounts
        .insert("NL91ABNA0417164300".into(), "C2".into());
    let r = run(
        vec![pay(
            dec!(4000.00),
            None,
            Some("NL91 ABNA 0417 1643 00"),
            None,
        )],
        &cfg,
    );
    assert_eq!(
        r.matches[0].reason,
        "payer identified by learned account; amount equals open invoice INV-000201"
    );
}

#[test]
fn min_confidence_sends_weak_matches_to_exceptions() {
    let cfg = MatchConfig {
        min_confidence: 90,
        ..MatchConfig::default()
    };
    let r = run(
        vec![pay(dec!(120.00), Some("SCHMIDT ELEKTRO"), None, None)],
        &cfg,
    );
    assert!(r.matches.is_empty());
    assert!(
        r.exceptions[0]
            .reason
            .starts_with("below minimum confidence")
    );
}

#[test]
fn deterministic_regardless_of_input_order_of_customers() {
    let entries = || {
        vec![
            pay(dec!(238.00), None, Some("DE89370400440532013000"), None),
            pay(dec!(1000.00), Some("Acme"), None, Some("INV-000203")),
        ]
    };
    let mut s = Statement::new(Format::Camt053);
    s.statement_id = "S".into();
    s.entries = entries();
    let a = reconcile(
        std::slice::from_ref(&s),
        &items(),
        &customers(),
        &MatchConfig::default(),
    );
    let mut c = customers();
    c.reverse();
    let b = reconcile(
        std::slice::from_ref(&s),
        &items(),
        &c,
        &MatchConfig::default(),
    );
    assert_eq!(
        serde_json::to_string(&a).ok(),
        serde_json::to_string(&b).ok()
    );
}

#[test]
fn report_counts_and_csv() {
    let mut s = Statement::new(Format::Camt053);
    s.statement_id = "S".into();
    s.entries = vec![
        pay(dec!(238.00), None, None, Some("INV-000102")),
        pay(
            dec!(500.00),
            Some("Müller Logistik"),
            None,
            Some("INV-000101"),
        ),
        pay(dec!(9.99), None, None, Some("?")),
    ];
    let r = reconcile(
        std::slice::from_ref(&s),
        &items(),
        &customers(),
        &MatchConfig::default(),
    );
    let rep = report::report(std::slice::from_ref(&s), &r);
    assert_eq!(
        (rep[0].matched, rep[0].partially_matched, rep[0].exceptions),
        (2, 1, 1)
    );
    assert_eq!(rep[0].allocated, dec!(738.00));
    assert_eq!(rep[0].unmatched, dec!(9.99));
    let json = serde_json::to_string(&rep).unwrap_or_default();
    assert!(json.contains("\"allocated\":738.00"), "{json}");
    let csv = report::to_csv(&r);
    assert_eq!(csv.lines().count(), 4);
    assert!(
        csv.lines()
            .nth(2)
            .unwrap_or("")
            .starts_with("S/2,500.00,EUR,partial,reference_partial,80,C1,INV-000101=500.00")
    );
}

/// Invoices with a year in the number, for weak references (`4712/26` for INV-2026-004712).
fn year_items() -> Vec<OpenItem> {
    vec![
        item("INV-2026-004711", "C1", dec!(1000.00), 1, false),
        item("INV-2026-004712", "C1", dec!(250.00), 2, false),
        item("INV-2026-004713", "C1", dec!(250.00), 3, false),
        item("INV-2026-004714", "C1", dec!(300.00), 4, false),
        item("INV-2026-004715", "C2", dec!(400.00), 5, false),
    ]
}

fn run_year(amount: Decimal, text: &str, cfg: &MatchConfig) -> ReconResult {
    let mut s = Statement::new(Format::Camt053);
    s.statement_id = "S".into();
    s.entries = vec![pay(
        amount,
        Some("Müller Logistik GmbH"),
        Some("DE89370400440532013000"),
        Some(text),
    )];
    reconcile(&[s], &year_items(), &customers(), cfg)
}

#[test]
fn overpayment_explained_by_a_weak_reference_the_amount_confirms() {
    // Two open invoices of 250.00: the weak reference picks the one it names, in every form.
    for weak in ["4712/26", "2026-4712", "26 4712", "Nr 4712", "20264712"] {
        let r = run_year(
            dec!(1250.00),
            &format!("INV-2026-004711, {weak}"),
            &MatchConfig::default(),
        );
        let (rule, inv) = rule_and_invoices(&r);
        assert_eq!(rule, Rule::ReferenceWeak, "{weak}");
        assert_eq!(inv, vec!["INV-2026-004711", "INV-2026-004712"], "{weak}");
        // Weaker evidence, lower confidence than a reference that pays exactly.
        assert!(r.matches[0].confidence < 90);
        assert_eq!(r.matches[0].credit, None);
    }
    // The same amount without the weak reference: either 250.00 invoice could be meant.
    let r = run_year(dec!(1250.00), "INV-2026-004711", &MatchConfig::default());
    assert!(r.matches.is_empty(), "{r:#?}");
    assert_eq!(r.exceptions[0].candidates[0].invoice, "INV-2026-004711");
    assert_eq!(r.exceptions[0].customer_id.as_deref(), Some("C1"));
}

#[test]
fn weak_reference_counts_only_when_the_amount_confirms_it() {
    // `2026-4714` points at 300.00, but the payment is over by 123.45: nothing explains it.
    let r = run_year(
        dec!(1123.45),
        "INV-2026-004711, 2026-4714",
        &MatchConfig::default(),
    );
    assert!(r.matches.is_empty(), "{r:#?}");
    let e = &r.exceptions[0];
    assert_eq!(e.candidates[0].invoice, "INV-2026-004711");
    assert!(e.candidates.iter().any(|c| c.invoice == "INV-2026-004714"));
    assert!(e.reason.contains("overpaid by 123.45"), "{}", e.reason);
}

#[test]
fn overpayment_equal_to_other_open_invoices_of_the_payer() {
    // Only 4711 named; the excess 300.00 is the open amount of 4714 of the same customer.
    let r = run_year(dec!(1300.00), "INV-2026-004711", &MatchConfig::default());
    assert_eq!(
        rule_and_invoices(&r),
        (
            Rule::ReferenceOpenItems,
            vec!["INV-2026-004711".into(), "INV-2026-004714".into()]
        )
    );
    // The excess 800.00 is 4712 + 4713 + 4714 (the only set): matched too.
    let r = run_year(dec!(1800.00), "INV-2026-004711", &MatchConfig::default());
    let (rule, mut inv) = rule_and_invoices(&r);
    inv.sort();
    assert_eq!(rule, Rule::ReferenceOpenItems);
    assert_eq!(
        inv,
        vec![
            "INV-2026-004711",
            "INV-2026-004712",
            "INV-2026-004713",
            "INV-2026-004714"
        ]
    );
    // 550.00 is 4712 + 4714 or 4713 + 4714: two sets, so a person decides.
    let r = run_year(dec!(1550.00), "INV-2026-004711", &MatchConfig::default());
    assert!(r.matches.is_empty(), "{r:#?}");
    assert_eq!(r.exceptions[0].candidates[0].invoice, "INV-2026-004711");
    // 400.00 is an invoice of another customer (C2): it does not explain C1's excess.
    let r = run_year(dec!(1400.00), "INV-2026-004711", &MatchConfig::default());
    assert!(r.matches.is_empty(), "{r:#?}");
}

#[test]
fn unexplained_overpayment_follows_the_credit_limits_of_the_policy() {
    // Over by 400.00: more than max_auto_credit (50.00) → exception with the named invoice.
    let r = run_year(dec!(1400.00), "INV-2026-004711", &MatchConfig::default());
    assert!(r.matches.is_empty());
    assert_eq!(r.exceptions.len(), 1);
    assert_eq!(r.exceptions[0].candidates[0].invoice, "INV-2026-004711");
    assert!(r.exceptions[0].reason.contains("max_auto_credit"));
    // A policy that allows 500.00 and 50 % books it as credit.
    let generous = MatchConfig {
        max_auto_credit: dec!(500),
        max_auto_credit_share: dec!(50),
        ..MatchConfig::default()
    };
    let r = run_year(dec!(1400.00), "INV-2026-004711", &generous);
    assert_eq!(rule_and_invoices(&r).0, Rule::ReferenceOverpayment);
    assert_eq!(r.matches[0].credit, Some(dec!(400.00)));
    // Within the absolute limit but above the share: 40.00 over a 540.00 payment is 7.4 %.
    let small = MatchConfig {
        max_auto_credit: dec!(50),
        max_auto_credit_share: dec!(5),
        ..MatchConfig::default()
    };
    let mut s = Statement::new(Format::Camt053);
    s.statement_id = "S".into();
    s.entries = vec![pay(
        dec!(540.00),
        Some("Acme Industries"),
        Some("GB29NWBK60161331926819"),
        Some("INV-2026-004715"),
    )];
    let r = reconcile(&[s], &year_items(), &customers(), &small);
    assert!(r.matches.is_empty(), "{r:#?}");
    assert!(small.credit_allowed(dec!(27.00), dec!(540.00)));
    assert!(!small.credit_allowed(dec!(27.01), dec!(540.00)));
}

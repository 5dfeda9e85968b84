//! A generator of realistic reconciliation workloads with known truth, for tests and
//! benchmarks (feature `gen`, off by default; the crate's tests and examples turn it on). Deterministic for a seed (own SplitMix64, no
//! `rand`). Noise: references written many ways, typos in references, combined payments,
//! early-payment discounts, partial payments, bank fees, small differences, overpayments,
//! payers known only by name, unknown payers, debits nobody can match.

use chrono::NaiveDate;
use ordo_contract::PaymentTerms;
use rust_decimal::Decimal;

use crate::matcher::{Customer, ItemKind, OpenItem, ReconResult};
use crate::model::{Balance, CreditorRef, Direction, Entry, Format, RefKind, Statement};
use crate::reference;

/// Deterministic pseudo-random numbers (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % (n.max(1) as u64)) as usize
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Sizes of a generated workload.
#[derive(Debug, Clone)]
pub struct GenConfig {
    pub seed: u64,
    pub customers: usize,
    pub invoices: usize,
    pub payments: usize,
    /// Statement date; invoices are issued in the 60 days before.
    pub date: NaiveDate,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 42,
            customers: 500,
            invoices: 10_000,
            payments: 2_000,
            date: NaiveDate::from_ymd_opt(2026, 3, 31).unwrap_or_default(),
        }
    }
}

/// A workload and what the right answer is: for each payment's entry ref, the invoices it
/// pays, or `None` when it must end up in the exceptions queue.
pub struct Generated {
    pub statement: Statement,
    pub items: Vec<OpenItem>,
    pub customers: Vec<Customer>,
    pub truth: Vec<(String, Option<Vec<String>>)>,
}

const FIRST: [&str; 24] = [
    "Acme",
    "Nordwind",
    "Bergmann",
    "Sonnen",
    "Alpen",
    "Rhein",
    "Hansa",
    "Kessler",
    "Lindqvist",
    "Moreau",
    "Okafor",
    "Petrov",
    "Quintero",
    "Rossi",
    "Schulte",
    "Tanaka",
    "Urban",
    "Vogel",
    "Weber",
    "Xavier",
    "Yilmaz",
    "Zeller",
    "Brandt",
    "Costa",
];
const SECOND: [&str; 20] = [
    "Logistik", "Elektro", "Bau", "Handel", "Software", "Textil", "Metall", "Foods", "Pharma",
    "Optik", "Druck", "Papier", "Energie", "Moebel", "Glas", "Chemie", "Medien", "Reisen", "Agrar",
    "Technik",
];
const SURNAME_SUFFIX: [&str; 20] = [
    "hoff", "mann", "berg", "feld", "stein", "bach", "hausen", "dorf", "meier", "brink", "horst",
    "kamp", "rath", "wald", "heim", "hagen", "thal", "kirch", "beck", "stedt",
];
const FORM: [&str; 6] = ["GmbH", "AG", "KG", "Ltd", "B.V.", "SE"];

fn iban(rng: &mut Rng) -> String {
    let bban: String = (0..18)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect();
    // Check digits: 98 - mod97(BBAN + "DE00").
    let mut r: u32 = 0;
    for c in bban.bytes().chain(*b"131400") {
        r = (r * 10 + u32::from(c - b'0')) % 97;
    }
    format!("DE{:02}{bban}", 98 - r)
}

fn money(rng: &mut Rng, lo: u64, hi: u64) -> Decimal {
    let cents = lo * 100 + rng.next_u64() % ((hi - lo) * 100);
    Decimal::new(cents as i64, 2)
}

/// Generates customers, open invoices and a camt-like statement of payments with truth.
pub fn generate(cfg: &GenConfig) -> Generated {
    let mut rng = Rng::new(cfg.seed);
    let mut customers = Vec::with_capacity(cfg.customers);
    for c in 0..cfg.customers {
        let name = format!(
            "{} {} {} {}",
            FIRST[c % FIRST.len()],
            SECOND[(c / FIRST.len()) % SECOND.len()],
            // A third word keeps 5,000 names distinct.
            [
                "Nord", "Sued", "West", "Ost", "Mitte", "Service", "Partner", "Gruppe", "Werke",
                "Union", "Holding"
            ][(c / (FIRST.len() * SECOND.len())) % 11],
            FORM[c % FORM.len()]
        );
        // Beyond 5,280 names the surname gets a suffix ("Beckerhoff"), so names stay distinct
        // word for word; a trailing number would vanish when a bank drops the last word.
        let block = c / (FIRST.len() * SECOND.len() * 11);
        let name = if block > 0 {
            let suffix = SURNAME_SUFFIX[(block - 1) % SURNAME_SUFFIX.len()];
            let round = (block - 1) / SURNAME_SUFFIX.len();
            let first = FIRST[c % FIRST.len()];
            let first = if round > 0 {
                format!("{first}{suffix}{round}")
            } else {
                format!("{first}{suffix}")
            };
            name.replacen(FIRST[c % FIRST.len()], &first, 1)
        } else {
            name
        };
        let accounts = (0..1 + rng.below(2)).map(|_| iban(&mut rng)).collect();
        customers.push(Customer {
            id: format!("C{c:05}"),
            name,
            accounts,
        });
    }
    let mut items = Vec::with_capacity(cfg.invoices);
    for n in 0..cfg.invoices {
        let issue = cfg.date - chrono::Days::new(rng.below(60) as u64);
        let discount = rng.chance(30);
        let terms = PaymentTerms {
            net_days: 30,
            discount_percent: if discount {
                Decimal::from(2)
            } else {
                Decimal::ZERO
            },
            discount_days: if discount { 10 } else { 0 },
        };
        items.push(OpenItem {
            number: format!("INV-{:07}", 1_000_000 + n),
            customer_id: customers[rng.below(cfg.customers)].id.clone(),
            amount_open: money(&mut rng, 20, 8000),
            currency: "EUR".into(),
            due_date: issue + chrono::Days::new(30),
            issue_date: issue,
            terms,
            kind: ItemKind::Receivable,
        });
    }
    // Invoices per customer, to build combined payments.
    let mut by_cust: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (i, it) in items.iter().enumerate() {
        by_cust.entry(it.customer_id.as_str()).or_default().push(i);
    }
    let cust_pos = |id: &str| {
        id.get(1..)
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let mut used = vec![false; items.len()];
    let mut stmt = Statement::new(Format::Camt053);
    stmt.account = "DE02100100109307118603".into();
    stmt.account_is_iban = true;
    stmt.currency = "EUR".into();
    stmt.statement_id = format!("GEN-{}", cfg.seed);
    let mut truth = Vec::with_capacity(cfg.payments);
    let mut next = 0usize;
    // How many items are used, so the search for a free one stops once none is left.
    let mut n_used = 0usize;
    let mut total = Decimal::ZERO;
    for p in 0..cfg.payments {
        let eref = format!("{}/{}", stmt.statement_id, p + 1);
        // Next unused invoice, cycling (benchmarks ask for more payments than invoices).
        if items.is_empty() {
            break;
        }
        let mut i = next % items.len();
        let mut free = false;
        for _ in 0..if n_used < items.len() { items.len() } else { 0 } {
            if !used[i] {
                free = true;
                break;
            }
            i = (i + 1) % items.len();
        }
        next = i + 1;
        n_used += usize::from(!used[i]);
        used[i] = true;
        let it = items[i].clone();
        let cust = &customers[cust_pos(&it.customer_id)];
        let payer_iban = cust.accounts[0].clone();
        let digits = &it.number[4..];
        let short = digits.trim_start_matches('0');
        let style = rng.below(8);
        let reftext = match style {
            0 => it.number.clone(),
            1 => format!("Rechnung {short}"),
            2 => format!("inv {digits} kd {}", cust.id),
            3 => format!("RE: {}", it.number.to_lowercase()),
            4 => format!("Invoice no {} {}", &digits[..3], &digits[3..]),
            5 => format!(
                "Zahlung {} vom {}",
                it.number.replace('-', ""),
                it.issue_date.format("%d.%m.%Y")
            ),
            _ => format!("Payment {}", it.number),
        };
        let mut e = Entry::new(it.amount_open, Direction::Credit, "EUR");
        e.booking_date = Some(cfg.date);
        e.value_date = Some(cfg.date);
        e.bank_ref = Some(format!("BR{:010}", p + 1));
        let tx = &mut e.transactions[0];
        tx.counterparty_name = Some(cust.name.clone());
        tx.counterparty_account = Some(payer_iban.clone());
        tx.end_to_end_id = Some(format!("E2E{:09}", rng.next_u64() % 1_000_000_000));
        tx.remittance = Some(reftext);
        let mut expect = Some(vec![it.number.clone()]);
        // Once every invoice is paid (benchmarks), the rest are unknown payers.
        let roll = if free { rng.below(100) } else { 90 };
        match roll {
            0..=39 => {}
            40..=44 => {
                // Structured creditor reference instead of text.
                let r = reference::rf_make(&it.number.replace('-', "")).unwrap_or_default();
                tx.creditor_ref = Some(CreditorRef {
                    kind: RefKind::Iso11649,
                    value: r,
                    valid: true,
                });
                tx.remittance = None;
            }
            45..=51 => {
                // Typo in the reference: one digit changed or two swapped.
                let mut b = digits.as_bytes().to_vec();
                let k = 2 + rng.below(b.len() - 3);
                if rng.chance(50) {
                    b.swap(k, k + 1);
                    if b[k] == b[k + 1] {
                        b[k] = b'0' + (b[k] - b'0' + 1) % 10;
                    }
                } else {
                    b[k] = b'0' + (b[k] - b'0' + 1 + rng.below(8) as u8) % 10;
                }
                tx.remittance = Some(format!("Rechnung {}", String::from_utf8_lossy(&b)));
            }
            52..=61 => tx.remittance = Some("Danke".into()),
            62..=69 => {
                // Combined payment for several invoices of the same customer.
                let others: Vec<usize> = by_cust
                    .get(it.customer_id.as_str())
                    .map(|v| {
                        v.iter()
                            .copied()
                            .filter(|&j| !used[j])
                            .take(1 + rng.below(3))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut nums = vec![it.number.clone()];
                for j in others {
                    n_used += usize::from(!used[j]);
                    used[j] = true;
                    e.amount += items[j].amount_open;
                    nums.push(items[j].number.clone());
                }
                let with_text = rng.chance(70);
                let tx = &mut e.transactions[0];
                tx.remittance = Some(if with_text {
                    nums.join(", ")
                } else {
                    "Sammelzahlung".into()
                });
                if !with_text && nums.len() > 1 + 2 {
                    // Subset search is bounded; large combos without text stay exceptions.
                }
                expect = Some(nums);
            }
            70..=74 if it.terms.discount_percent > Decimal::ZERO => {
                e.amount = it.amount_open
                    - (it.amount_open * Decimal::from(2) / Decimal::ONE_HUNDRED).round_dp(2);
            }
            70..=74 => {
                // Small difference: tolerance write-off.
                e.amount = it.amount_open - Decimal::new(1 + rng.below(90) as i64, 2);
            }
            75..=78 => {
                // Partial payment.
                e.amount = (it.amount_open / Decimal::from(2)).round_dp(2);
            }
            79..=81 => {
                // Bank fees deducted by an intermediary.
                e.amount = it.amount_open - Decimal::new(500 + rng.below(1000) as i64, 2);
                if e.amount * Decimal::from(20) < it.amount_open {
                    e.amount = it.amount_open;
                }
            }
            82..=83 => e.amount = it.amount_open + Decimal::from(10 + rng.below(50) as i64),
            84..=89 => {
                // Payer known only by name (new account), name written differently.
                tx.counterparty_account = Some(iban(&mut rng));
                let upper = cust.name.to_uppercase();
                let without_form = upper
                    .rsplit_once(' ')
                    .map(|(a, _)| a.to_string())
                    .unwrap_or(upper);
                tx.counterparty_name = Some(without_form);
                tx.remittance = Some("Danke".into());
            }
            90..=95 => {
                // Unknown payer, no usable text: must be an exception.
                used[i] = !free;
                n_used -= usize::from(free);
                tx.counterparty_account = Some(iban(&mut rng));
                tx.counterparty_name = Some(format!("Private Person {p}"));
                tx.remittance = Some("Spende".into());
                e.amount = money(&mut rng, 5, 500);
                expect = None;
            }
            _ => {
                // A debit (rent, bank charges): no payables given, must be an exception.
                used[i] = !free;
                n_used -= usize::from(free);
                e.direction = Direction::Debit;
                e.amount = money(&mut rng, 1, 3000);
                let tx = &mut e.transactions[0];
                tx.counterparty_name = Some("Vermieter GmbH".into());
                tx.counterparty_account = Some(iban(&mut rng));
                tx.remittance = Some("Miete Maerz".into());
                expect = None;
            }
        }
        if let Some(t) = e.transactions.get_mut(0) {
            t.amount = Some(e.amount);
        }
        total += e.signed_amount();
        stmt.entries.push(e);
        truth.push((eref, expect));
    }
    stmt.opening = Some(Balance {
        amount: Decimal::from(10_000),
        date: Some(cfg.date),
    });
    stmt.closing = Some(Balance {
        amount: Decimal::from(10_000) + total,
        date: Some(cfg.date),
    });
    Generated {
        statement: stmt,
        items,
        customers,
        truth,
    }
}

/// How a reconciliation did against the truth.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Score {
    /// Payments that should be matched.
    pub matchable: usize,
    /// … and were matched to exactly the right invoices.
    pub right: usize,
    /// Matches to the wrong invoices, or matches of payments that should be exceptions.
    pub wrong: usize,
    /// Payments that should be exceptions and are.
    pub true_exceptions: usize,
}

impl Score {
    /// Auto-match rate in percent (right / matchable).
    pub fn rate(&self) -> f64 {
        if self.matchable == 0 {
            100.0
        } else {
            self.right as f64 * 100.0 / self.matchable as f64
        }
    }
}

/// Compares a result with the generator's truth.
pub fn evaluate(result: &ReconResult, truth: &[(String, Option<Vec<String>>)]) -> Score {
    let by_ref: std::collections::HashMap<&str, &crate::matcher::Match> = result
        .matches
        .iter()
        .map(|m| (m.entry_ref.as_str(), m))
        .collect();
    let mut s = Score::default();
    for (eref, want) in truth {
        let got = by_ref.get(eref.as_str()).map(|m| {
            let mut v: Vec<String> = m.allocations.iter().map(|a| a.invoice.clone()).collect();
            v.sort();
            v
        });
        match (want, got) {
            (Some(w), Some(g)) => {
                s.matchable += 1;
                let mut w = w.clone();
                w.sort();
                if w == g { s.right += 1 } else { s.wrong += 1 }
            }
            (Some(_), None) => s.matchable += 1,
            (None, Some(_)) => s.wrong += 1,
            (None, None) => s.true_exceptions += 1,
        }
    }
    s
}

pub use crate::write::{write_camt053, write_entry};

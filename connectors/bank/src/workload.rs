//! A generator of realistic reconciliation workloads with known truth, for tests and
//! benchmarks (feature `gen`, off by default; the crate's tests and examples turn it on). Deterministic for a seed (own SplitMix64, no
//! `rand`). Noise: references written many ways, typos in references, combined payments,
//! early-payment discounts, partial payments, bank fees, small differences, overpayments,
//! payers known only by name, unknown payers, debits nobody can match; with
//! [`GenConfig::hard`] also the classes of issue 19: several references with one in a weak
//! form, over-payments that equal other open invoices of the payer, over-payments that equal
//! nothing. Every payment carries its class ([`Generated::classes`]) so figures can be given
//! per class ([`evaluate_classes`]).

use chrono::NaiveDate;
use ordo_contract::PaymentTerms;
use rust_decimal::Decimal;

use crate::matcher::{Customer, ItemKind, MatchConfig, OpenItem, ReconResult};
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
    /// Invoice numbers with a year (`INV-2026-001234`) and, for about a quarter of the
    /// payments, the hard classes: `weak_ref` (two or three invoices of one customer, the text
    /// names all but one well formed and the last in a weak form such as `2026-1234`,
    /// `1234/26` or `26 1234`), `overpay_open` (the text names one invoice, the amount also
    /// pays one or two other open invoices of the payer), `overpay_nothing` (the text names one
    /// invoice, the amount is 100-3000 more: an exception). Off by default, so the classic
    /// workload is unchanged for a seed.
    pub hard: bool,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 42,
            customers: 500,
            invoices: 10_000,
            payments: 2_000,
            // A constant valid date; the fallback is never taken.
            date: NaiveDate::from_ymd_opt(2026, 3, 31).unwrap_or_default(),
            hard: false,
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
    /// The class of each payment, parallel to `truth` (`reference`, `rf`, `typo`, `no_text`,
    /// `combined`, `discount`, `difference`, `partial`, `fees`, `overpay_small`, `name_only`,
    /// `unknown_payer`, `debit`, and with [`GenConfig::hard`] `weak_ref`, `overpay_open`,
    /// `overpay_nothing`).
    pub classes: Vec<&'static str>,
}

/// A weak form of an invoice number `INV-YYYY-NNNNNN`: the year and the number without prefix
/// and leading zeros, the year shortened or after the number, or the number alone.
fn weak_form(number: &str, rng: &mut Rng) -> String {
    let mut groups = number.split('-').skip(1);
    // Generated numbers are INV-YYYY-NNNNNN; the fallbacks are never taken.
    let year = groups.next().unwrap_or("");
    let serial = groups.next().unwrap_or("").trim_start_matches('0');
    let yy = year.get(2..).unwrap_or(year);
    match rng.below(5) {
        0 => format!("{year}-{serial}"),
        1 => format!("{serial}/{yy}"),
        2 => format!("{yy} {serial}"),
        3 => format!("Nr. {serial}"),
        _ => format!("{serial}-{year}"),
    }
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
            number: if cfg.hard {
                format!("INV-{}-{:06}", cfg.date.format("%Y"), 1_000 + n)
            } else {
                format!("INV-{:07}", 1_000_000 + n)
            },
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
            // Generated customer ids are C<number>; the fallback is never taken.
            .unwrap_or(0)
    };
    let mut used = vec![false; items.len()];
    let mut stmt = Statement::new(Format::Camt053);
    stmt.account = "DE02100100109307118603".into();
    stmt.account_is_iban = true;
    stmt.currency = "EUR".into();
    stmt.statement_id = format!("GEN-{}", cfg.seed);
    let mut truth = Vec::with_capacity(cfg.payments);
    let mut classes = Vec::with_capacity(cfg.payments);
    let policy = MatchConfig::default();
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
        let digits = it.number[4..].replace('-', "");
        let digits = digits.as_str();
        let short = digits.trim_start_matches('0');
        let style = rng.below(8);
        let mut reftext = match style {
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
        // Drawn here, before the class, as it always was: a seed gives the same workload.
        let e2e = format!("E2E{:09}", rng.next_u64() % 1_000_000_000);
        let mut extra = Decimal::ZERO;
        let mut expect = Some(vec![it.number.clone()]);
        let mut class = "reference";
        // Once every invoice is paid (benchmarks), the rest are unknown payers.
        let mut roll = if free { rng.below(100) } else { 90 };
        if cfg.hard && free {
            let hard = rng.below(100);
            // Other open invoices of the same customer, for the classes that pay several.
            let others: Vec<usize> = by_cust
                .get(it.customer_id.as_str())
                .map(|v| {
                    v.iter()
                        .copied()
                        .filter(|&j| !used[j])
                        .take(1 + rng.below(2))
                        .collect()
                })
                // A customer without other open invoices: a payment of one invoice.
                .unwrap_or_default();
            let mut rmt = None;
            if hard < 10 && !others.is_empty() {
                class = "weak_ref";
                let mut nums = vec![it.number.clone()];
                for &j in &others {
                    extra += items[j].amount_open;
                    nums.push(items[j].number.clone());
                }
                // All but the last well formed, the last weak; the order shuffled a little.
                let weak = weak_form(&nums[nums.len() - 1], &mut rng);
                let mut parts: Vec<String> = nums[..nums.len() - 1].to_vec();
                parts.insert(rng.below(parts.len() + 1), weak);
                rmt = Some(parts.join(", "));
                expect = Some(nums);
            } else if (10..17).contains(&hard) && !others.is_empty() {
                class = "overpay_open";
                let mut nums = vec![it.number.clone()];
                for &j in &others {
                    extra += items[j].amount_open;
                    nums.push(items[j].number.clone());
                }
                rmt = Some(format!("Rechnung {}", it.number));
                expect = Some(nums);
            } else if (17..24).contains(&hard) {
                class = "overpay_nothing";
                extra += money(&mut rng, 100, 3000);
                rmt = Some(format!("Rechnung {}", it.number));
                expect = None;
            }
            if class != "reference" {
                if let Some(r) = rmt {
                    reftext = r;
                }
                if class != "overpay_nothing" {
                    for j in others {
                        n_used += usize::from(!used[j]);
                        used[j] = true;
                    }
                }
                roll = 100;
            }
        }
        let mut e = Entry::new(it.amount_open + extra, Direction::Credit, "EUR");
        e.booking_date = Some(cfg.date);
        e.value_date = Some(cfg.date);
        e.bank_ref = Some(format!("BR{:010}", p + 1));
        let tx = &mut e.transactions[0];
        tx.counterparty_name = Some(cust.name.clone());
        tx.counterparty_account = Some(payer_iban.clone());
        tx.end_to_end_id = Some(e2e);
        tx.remittance = Some(reftext);
        match roll {
            100 => {}
            0..=39 => {}
            40..=44 => {
                // Structured creditor reference instead of text.
                // Generated invoice numbers are alphanumeric, which rf_make always accepts.
                let r = reference::rf_make(&it.number.replace('-', "")).unwrap_or_default();
                tx.creditor_ref = Some(CreditorRef {
                    kind: RefKind::Iso11649,
                    value: r,
                    valid: true,
                });
                tx.remittance = None;
                class = "rf";
            }
            45..=51 => {
                class = "typo";
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
            52..=61 => {
                tx.remittance = Some("Danke".into());
                class = "no_text";
            }
            62..=69 => {
                class = "combined";
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
                    // A customer without other open invoices: a payment of one invoice.
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
                class = "discount";
                e.amount = it.amount_open
                    - (it.amount_open * Decimal::from(2) / Decimal::ONE_HUNDRED).round_dp(2);
            }
            70..=74 => {
                // Small difference: tolerance write-off.
                class = "difference";
                e.amount = it.amount_open - Decimal::new(1 + rng.below(90) as i64, 2);
            }
            75..=78 => {
                // Partial payment.
                class = "partial";
                e.amount = (it.amount_open / Decimal::from(2)).round_dp(2);
            }
            79..=81 => {
                // Bank fees deducted by an intermediary.
                class = "fees";
                e.amount = it.amount_open - Decimal::new(500 + rng.below(1000) as i64, 2);
                if e.amount * Decimal::from(20) < it.amount_open {
                    e.amount = it.amount_open;
                }
            }
            82..=83 => {
                // Over-payment: customer credit when the policy allows that much to be booked
                // without a person (default `max_auto_credit` and `max_auto_credit_share`),
                // else an exception.
                class = "overpay_small";
                let excess = Decimal::from(10 + rng.below(50) as i64);
                e.amount = it.amount_open + excess;
                if !policy.credit_allowed(excess, e.amount) {
                    expect = None;
                }
            }
            84..=89 => {
                // Payer known only by name (new account), name written differently.
                class = "name_only";
                tx.counterparty_account = Some(iban(&mut rng));
                let upper = cust.name.to_uppercase();
                let without_form = upper
                    .rsplit_once(' ')
                    .map(|(a, _)| a.to_string())
                    // A one-word name has no legal form to drop.
                    .unwrap_or(upper);
                tx.counterparty_name = Some(without_form);
                tx.remittance = Some("Danke".into());
            }
            90..=95 => {
                // Unknown payer, no usable text: must be an exception.
                class = "unknown_payer";
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
                class = "debit";
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
        classes.push(class);
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
        classes,
    }
}

/// How a reconciliation did against the truth.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Score {
    /// Payments scored.
    pub payments: usize,
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

    /// Wrong-match rate in percent of all payments scored (wrong / payments).
    pub fn wrong_rate(&self) -> f64 {
        if self.payments == 0 {
            0.0
        } else {
            self.wrong as f64 * 100.0 / self.payments as f64
        }
    }

    fn add(&mut self, o: &Score) {
        self.payments += o.payments;
        self.matchable += o.matchable;
        self.right += o.right;
        self.wrong += o.wrong;
        self.true_exceptions += o.true_exceptions;
    }
}

/// Compares a result with the generator's truth.
pub fn evaluate(result: &ReconResult, truth: &[(String, Option<Vec<String>>)]) -> Score {
    let classes = vec![""; truth.len()];
    let mut s = Score::default();
    for (_, c) in evaluate_by_class(result, truth, &classes) {
        s.add(&c);
    }
    s
}

/// [`evaluate`] per payment class ([`Generated::classes`]), classes in name order.
pub fn evaluate_classes(result: &ReconResult, g: &Generated) -> Vec<(&'static str, Score)> {
    evaluate_by_class(result, &g.truth, &g.classes)
}

fn evaluate_by_class(
    result: &ReconResult,
    truth: &[(String, Option<Vec<String>>)],
    classes: &[&'static str],
) -> Vec<(&'static str, Score)> {
    let by_ref: std::collections::HashMap<&str, &crate::matcher::Match> = result
        .matches
        .iter()
        .map(|m| (m.entry_ref.as_str(), m))
        .collect();
    let mut per: std::collections::BTreeMap<&'static str, Score> = Default::default();
    for (n, (eref, want)) in truth.iter().enumerate() {
        let s = per
            // `classes` is parallel to `truth`; the fallback is never taken.
            .entry(classes.get(n).copied().unwrap_or(""))
            .or_default();
        s.payments += 1;
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
    per.into_iter().collect()
}

pub use crate::write::{write_camt053, write_entry};

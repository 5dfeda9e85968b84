//! X12 820 / EDIFACT REMADV → canonical [`RemittanceAdvice`].
//!
//! X12 820 (4010 and 5010 read alike): BPR (BPR02 payment amount, BPR04 method, BPR16 date),
//! TRN (TRN02 the payer's reference), CUR (CUR02), DTM 097 (advice date), N1 PR/PE (payer,
//! payee); per ENT: ADX before any RMR (an adjustment of the payment, no invoice), then RMR
//! loops (RMR01 `IV`/`OI`/…, RMR02 invoice number, RMR04 paid, RMR05 invoice amount, RMR06
//! discount) each with its ADX (ADX01 amount, negative = deducted; ADX02 reason, code list 426).
//!
//! EDIFACT REMADV (D.96A and later directories ordo accepts): BGM 1004 (reference), DTM 137
//! (advice date) and 209/203/138 (payment date), NAD PR/PE, CUX, MOA 9/12 at message level
//! (before the first DOC or after UNS: the payment amount); per DOC group: DOC 1004 (invoice
//! number), MOA 12 (paid), MOA 9/77/39 (invoice amount), MOA 52 (discount), AJT 4465 (reason)
//! with the MOA that follows it (the deducted amount).
//!
//! Every refusal is an [`Issue`] located at its segment and element: a missing payment or paid
//! amount (never read as zero), a number out of range, a bad date, no invoice, and totals that
//! do not add up (Σ paid + Σ payment adjustments ≠ the payment). The partner channel adds it to
//! the set's validation issues, so the acknowledgment rejects the set.

use chrono::NaiveDate;
use ordo_contract::{Party, PartyId, RemittanceAdjustment, RemittanceAdvice, RemittedInvoice};
use rust_decimal::Decimal;

use super::{MapOptions, edifact_scheme, role_of, x12_scheme};
use crate::envelope::{Interchange, Transaction};
use crate::issue::{Code, ElementAt, Issue};
use crate::segment::SegmentRef;
use crate::syntax::Standard;
use crate::values;

/// Largest amount an advice may carry (a payment of a thousand billion): anything larger in a
/// remittance is a broken or hostile file, not a payment.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

/// Whether `set_id` is a remittance advice ordo maps.
pub fn is_remittance(set_id: &str) -> bool {
    matches!(set_id, "820" | "REMADV")
}

/// Every 820 / REMADV of the interchange with its group and set index, mapped.
pub fn remittances<'i>(
    ich: &'i Interchange<'_>,
    opts: &'i MapOptions,
) -> impl Iterator<Item = (usize, usize, Result<RemittanceAdvice, Box<Issue>>)> + 'i {
    ich.transactions()
        .filter(|(_, _, t)| is_remittance(&t.set_id))
        .map(move |(gi, ti, t)| (gi, ti, to_remittance(ich, gi, ti, t, opts)))
}

/// Where a problem is: the set and, when known, the segment and element.
struct At<'x, 'a> {
    ich: &'x Interchange<'a>,
    gi: usize,
    ti: usize,
    header: usize,
}

impl At<'_, '_> {
    fn issue(
        &self,
        code: Code,
        seg: Option<usize>,
        element: Option<(u32, Option<u32>)>,
        value: Option<&[u8]>,
        detail: String,
    ) -> Box<Issue> {
        Box::new(self.ich.issue_at(
            code,
            Some(self.gi),
            Some(self.ti),
            Some(seg.unwrap_or(self.header)),
            element.map(|(position, component)| ElementAt {
                position,
                component,
            }),
            value.map(|v| String::from_utf8_lossy(v).into_owned()),
            detail,
        ))
    }

    /// A required amount: missing → mandatory element missing, not a number or out of range
    /// → its own code; never zero.
    fn amount(
        &self,
        si: usize,
        el: (u32, Option<u32>),
        raw: &[u8],
        what: &str,
    ) -> Result<Decimal, Box<Issue>> {
        if raw.is_empty() {
            return Err(self.issue(
                Code::MandatoryElementMissing,
                Some(si),
                Some(el),
                None,
                format!("{what} is missing (an amount is never read as zero)"),
            ));
        }
        let v = values::decimal(raw).ok_or_else(|| {
            self.issue(
                Code::NotNumeric,
                Some(si),
                Some(el),
                Some(raw),
                format!("{what} is not a number"),
            )
        })?;
        if v.abs() > MAX_AMOUNT {
            return Err(self.issue(
                Code::InvalidValue,
                Some(si),
                Some(el),
                Some(raw),
                format!("{what} is beyond {MAX_AMOUNT}: not a payment"),
            ));
        }
        Ok(v)
    }

    fn date(
        &self,
        si: usize,
        el: (u32, Option<u32>),
        d: Option<NaiveDate>,
        raw: &[u8],
        what: &str,
    ) -> Result<Option<NaiveDate>, Box<Issue>> {
        if raw.is_empty() {
            return Ok(None);
        }
        d.map(Some).ok_or_else(|| {
            self.issue(
                Code::InvalidDate,
                Some(si),
                Some(el),
                Some(raw),
                format!("{what} is not a date"),
            )
        })
    }
}

#[derive(Default)]
struct Builder {
    reference: Option<String>,
    amount: Option<Decimal>,
    /// The segment holding the payment amount (where a totals mismatch is reported).
    amount_at: Option<(usize, (u32, Option<u32>))>,
    currency: Option<String>,
    payment_date: Option<NaiveDate>,
    advice_date: Option<NaiveDate>,
    method: Option<String>,
    payer: Option<Party>,
    payee: Option<Party>,
    adjustments: Vec<RemittanceAdjustment>,
    invoices: Vec<RemittedInvoice>,
    /// The open invoice (RMR / DOC) and its segment, while its loop lasts.
    open: Option<(RemittedInvoice, usize)>,
    /// EDIFACT: the DOC group has given its paid amount (MOA 12).
    doc_paid: bool,
    /// EDIFACT: an AJT waits for its MOA.
    ajt: Option<(String, usize)>,
    in_docs: bool,
    /// EDIFACT: inside a DLI group (line details, whose MOA and AJT are the line's; the DOC's
    /// own amounts decide).
    in_dli: bool,
}

/// Maps one 820 or REMADV (`gi`, `ti`: its group and index in the group, for locating).
pub fn to_remittance(
    ich: &Interchange<'_>,
    gi: usize,
    ti: usize,
    t: &Transaction,
    opts: &MapOptions,
) -> Result<RemittanceAdvice, Box<Issue>> {
    let at = At {
        ich,
        gi,
        ti,
        header: t.header,
    };
    let mut b = Builder::default();
    match (ich.standard, t.set_id.as_str()) {
        (Standard::X12, "820") => {
            for si in t.header..t.end {
                if let Some(s) = ich.segment(si) {
                    b.x12(&at, si, &s)?;
                }
            }
        }
        (Standard::Edifact, "REMADV") => {
            for si in t.header..t.end {
                if let Some(s) = ich.segment(si) {
                    b.edifact(&at, si, &s)?;
                }
            }
        }
        (_, other) => {
            return Err(at.issue(
                Code::SetNotSupported,
                None,
                None,
                Some(other.as_bytes()),
                format!("{other} is not a remittance advice"),
            ));
        }
    }
    b.close(&at)?;
    let (x12, set) = (ich.standard == Standard::X12, t.set_id.as_str());
    let reference = b.reference.clone().ok_or_else(|| {
        at.issue(
            Code::MandatorySegmentMissing,
            None,
            None,
            None,
            format!(
                "{set}: no payment reference ({})",
                if x12 { "TRN02" } else { "BGM 1004" }
            ),
        )
    })?;
    let (amount, (amount_seg, amount_el)) = match (b.amount, b.amount_at) {
        (Some(a), Some(w)) => (a, w),
        _ => {
            return Err(at.issue(
                Code::MandatorySegmentMissing,
                None,
                None,
                None,
                format!(
                    "{set}: no payment amount ({})",
                    if x12 {
                        "BPR02"
                    } else {
                        "MOA 12 or 9 outside the DOC groups"
                    }
                ),
            ));
        }
    };
    if b.invoices.is_empty() {
        return Err(at.issue(
            Code::MandatorySegmentMissing,
            None,
            None,
            None,
            format!(
                "{set}: no invoice paid ({})",
                if x12 { "RMR" } else { "DOC" }
            ),
        ));
    }
    let advice = RemittanceAdvice {
        id: format!(
            "{}:{reference}",
            opts.partner.as_deref().unwrap_or(&opts.customer_id)
        ),
        customer_id: opts.customer_id.clone(),
        partner: opts.partner.clone(),
        reference,
        payer: b.payer,
        payee: b.payee,
        amount,
        // absent: CUR (820) and CUX (REMADV) are optional; the partner profile's currency applies.
        currency: b.currency.unwrap_or_else(|| opts.default_currency.clone()),
        payment_date: b.payment_date,
        advice_date: b.advice_date,
        method: b.method,
        adjustments: b.adjustments,
        invoices: b.invoices,
        channel: if x12 { "edi-x12" } else { "edifact" }.into(),
    };
    let computed = advice.computed_total().ok_or_else(|| {
        at.issue(
            Code::InvalidValue,
            Some(amount_seg),
            Some(amount_el),
            None,
            "the invoices' amounts add up beyond a decimal's range".into(),
        )
    })?;
    if computed != amount {
        return Err(at.issue(
            Code::InvalidValue,
            Some(amount_seg),
            Some(amount_el),
            Some(amount.to_string().as_bytes()),
            format!(
                "totals do not add up: payment {amount}, paid amounts + adjustments {computed}"
            ),
        ));
    }
    Ok(advice)
}

fn party(role: &str, name: Option<String>, q: Option<String>, id: Option<String>) -> Party {
    let mut p = Party {
        role: role_of(role.trim()),
        name,
        ..Party::default()
    };
    if let (Some(q), Some(v)) = (q, id) {
        p.ids.push(PartyId {
            qualifier: q,
            value: v,
        });
    }
    p
}

impl Builder {
    fn close(&mut self, at: &At<'_, '_>) -> Result<(), Box<Issue>> {
        if let Some((_, si)) = self.ajt.take() {
            return Err(at.issue(
                Code::MandatorySegmentMissing,
                Some(si),
                None,
                None,
                "AJT without the MOA of its amount".into(),
            ));
        }
        if let Some((inv, si)) = self.open.take() {
            if at.ich.standard == Standard::Edifact && !self.doc_paid {
                return Err(at.issue(
                    Code::MandatorySegmentMissing,
                    Some(si),
                    None,
                    None,
                    format!(
                        "DOC {}: no amount paid (MOA 12) — never read as zero",
                        crate::issue::bounded(&inv.number)
                    ),
                ));
            }
            self.invoices.push(inv);
        }
        self.doc_paid = false;
        Ok(())
    }

    fn x12(
        &mut self,
        at: &At<'_, '_>,
        si: usize,
        s: &SegmentRef<'_, '_>,
    ) -> Result<(), Box<Issue>> {
        match s.tag() {
            "BPR" => {
                self.amount = Some(at.amount(si, (2, None), s.raw(2), "BPR02 payment amount")?);
                self.amount_at = Some((si, (2, None)));
                self.method = s.opt(4);
                self.payment_date =
                    at.date(si, (16, None), values::date(s.raw(16)), s.raw(16), "BPR16")?;
            }
            "TRN" => self.reference = self.reference.take().or(s.opt(2)),
            "CUR" => self.currency = self.currency.take().or(s.opt(2)),
            "DTM" if self.open.is_none() => {
                let d = at.date(si, (2, None), values::date(s.raw(2)), s.raw(2), "DTM02")?;
                if s.raw(1) == b"097" {
                    self.advice_date = d;
                }
            }
            "N1" if self.open.is_none() => {
                let p = party(
                    &s.text(1),
                    s.opt(2),
                    s.opt(3).map(|q| x12_scheme(&q)),
                    s.opt(4),
                );
                match s.raw(1) {
                    b"PR" => self.payer = Some(p),
                    b"PE" => self.payee = Some(p),
                    _ => {}
                }
            }
            "ENT" => self.close(at)?,
            "RMR" => {
                self.close(at)?;
                let number = s.opt(2).ok_or_else(|| {
                    at.issue(
                        Code::MandatoryElementMissing,
                        Some(si),
                        Some((2, None)),
                        None,
                        "RMR02 invoice number is missing".into(),
                    )
                })?;
                let paid = at.amount(si, (4, None), s.raw(4), "RMR04 amount paid")?;
                let opt_amount = |n: u32, what: &str| -> Result<Option<Decimal>, Box<Issue>> {
                    let raw = s.raw(n as usize);
                    if raw.is_empty() {
                        return Ok(None);
                    }
                    at.amount(si, (n, None), raw, what).map(Some)
                };
                let inv = RemittedInvoice {
                    number,
                    paid,
                    invoice_amount: opt_amount(5, "RMR05 invoice amount")?,
                    discount: opt_amount(6, "RMR06 discount amount")?,
                    adjustments: Vec::new(),
                };
                self.open = Some((inv, si));
            }
            "ADX" => {
                let amount = at.amount(si, (1, None), s.raw(1), "ADX01 adjustment amount")?;
                let reason = s.opt(2).ok_or_else(|| {
                    at.issue(
                        Code::MandatoryElementMissing,
                        Some(si),
                        Some((2, None)),
                        None,
                        "ADX02 adjustment reason code is missing".into(),
                    )
                })?;
                let adj = RemittanceAdjustment { reason, amount };
                match self.open.as_mut() {
                    Some((inv, _)) => inv.adjustments.push(adj),
                    None => self.adjustments.push(adj),
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn edifact(
        &mut self,
        at: &At<'_, '_>,
        si: usize,
        s: &SegmentRef<'_, '_>,
    ) -> Result<(), Box<Issue>> {
        if self.ajt.is_some() && s.tag() != "MOA" {
            self.close(at)?;
        }
        if self.in_dli && !matches!(s.tag(), "DOC" | "UNS") {
            return Ok(());
        }
        match s.tag() {
            "DLI" => self.in_dli = true,
            "BGM" => self.reference = s.comp(2, 1),
            "DTM" => {
                let (q, v, f) = (s.component(1, 1), s.component(1, 2), s.component(1, 3));
                let ok = values::edifact_datetime(v, f);
                let d = if ok { values::edifact_date(v, f) } else { None };
                let d = at.date(si, (1, Some(2)), d, v, "DTM 2380")?;
                if !self.in_docs {
                    match q {
                        b"137" => self.advice_date = d,
                        b"209" | b"203" | b"138" => self.payment_date = self.payment_date.or(d),
                        _ => {}
                    }
                }
            }
            "CUX" => self.currency = self.currency.take().or(s.comp(1, 2)),
            "NAD" if !self.in_docs => {
                let p = party(
                    &s.text(1),
                    {
                        let name: Vec<String> = (1..=5).filter_map(|c| s.comp(4, c)).collect();
                        (!name.is_empty()).then(|| name.join(" "))
                    },
                    // absent: the code list agency (3055) is optional; the id is then unqualified.
                    Some(edifact_scheme(&s.comp(2, 3).unwrap_or_default())),
                    s.comp(2, 1),
                );
                match s.raw(1) {
                    b"PR" => self.payer = Some(p),
                    b"PE" => self.payee = Some(p),
                    _ => {}
                }
            }
            "DOC" => {
                self.close(at)?;
                self.in_dli = false;
                self.in_docs = true;
                let number = s.comp(2, 1).ok_or_else(|| {
                    at.issue(
                        Code::MandatoryElementMissing,
                        Some(si),
                        Some((2, Some(1))),
                        None,
                        "DOC 1004 document number is missing".into(),
                    )
                })?;
                self.open = Some((
                    RemittedInvoice {
                        number,
                        // set by the group's MOA 12; a group without it is refused in close()
                        paid: Decimal::ZERO,
                        invoice_amount: None,
                        discount: None,
                        adjustments: Vec::new(),
                    },
                    si,
                ));
            }
            "UNS" => {
                self.close(at)?;
                self.in_dli = false;
                self.in_docs = false;
            }
            "AJT" => {
                if self.open.is_none() {
                    return Err(at.issue(
                        Code::UnexpectedSegment,
                        Some(si),
                        None,
                        None,
                        "AJT outside a DOC group: an adjustment names its invoice".into(),
                    ));
                }
                let reason = s.comp(1, 1).ok_or_else(|| {
                    at.issue(
                        Code::MandatoryElementMissing,
                        Some(si),
                        Some((1, None)),
                        None,
                        "AJT 4465 adjustment reason code is missing".into(),
                    )
                })?;
                self.ajt = Some((reason, si));
            }
            "MOA" => {
                let q = s.component(1, 1);
                let what = format!("MOA {} amount", String::from_utf8_lossy(q));
                let v = at.amount(si, (1, Some(2)), s.component(1, 2), &what)?;
                if let Some(c) = s.comp(1, 3) {
                    self.currency = self.currency.take().or(Some(c));
                }
                if let Some((reason, _)) = self.ajt.take() {
                    // AJT amounts are deductions: stored as the payment sees them (negative).
                    if let Some((inv, _)) = self.open.as_mut() {
                        inv.adjustments
                            .push(RemittanceAdjustment { reason, amount: -v });
                    }
                    return Ok(());
                }
                match (self.open.as_mut(), q) {
                    (Some((inv, _)), b"12") => {
                        inv.paid = v;
                        self.doc_paid = true;
                    }
                    (Some((inv, _)), b"9" | b"77" | b"39") => {
                        inv.invoice_amount = inv.invoice_amount.or(Some(v))
                    }
                    (Some((inv, _)), b"52") => inv.discount = Some(v),
                    (None, b"12" | b"9") if self.amount.is_none() || q == b"12" => {
                        self.amount = Some(v);
                        self.amount_at = Some((si, (1, Some(2))));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The located refusals of the interchange's 820 / REMADV sets (none for the others): added to
/// the validation issues before acknowledging, so a set whose amounts are missing or do not
/// add up is rejected in the 997/999/CONTRL (AK5/IK5 `R`, UCM 4) like any content error.
pub fn remittance_issues(ich: &Interchange<'_>) -> Vec<Issue> {
    let opts = MapOptions {
        customer_id: String::new(),
        partner: None,
        default_currency: String::new(),
    };
    remittances(ich, &opts)
        .filter_map(|(_, _, r)| r.err().map(|e| *e))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> MapOptions {
        MapOptions {
            customer_id: "C-ACME".into(),
            partner: Some("acme".into()),
            default_currency: "USD".into(),
        }
    }

    fn x12(body: &str) -> String {
        let n = body.matches('~').count() + 2;
        format!(
            "ISA*00*          *00*          *ZZ*ACMEBUYER      *ZZ*ORDOSELLER     *261201*1200*U*00401*000000001*0*P*>~\
             GS*RA*ACMEBUYER*ORDOSELLER*20261201*1200*1*X*004010~ST*820*0001~{body}SE*{n}*0001~GE*1*1~IEA*1*000000001~"
        )
    }

    fn map(text: &str) -> Result<RemittanceAdvice, Box<Issue>> {
        let ich = crate::read(text.as_bytes())
            .next()
            .expect("an interchange")
            .expect("readable");
        let (_, _, t) = ich.transactions().next().expect("a set");
        to_remittance(&ich, 0, 0, t, &opts())
    }

    #[test]
    fn an_820_maps_payer_payment_and_invoices_with_the_profile_currency() {
        let a = map(&x12(
            "BPR*C*95.00*C*ACH************20261201~TRN*1*T1~N1*PR*ACME~ENT*1~\
             RMR*IV*INV-1**95.00*100.00~ADX*-5.00*04~",
        ))
        .expect("maps");
        assert_eq!(a.id, "acme:T1");
        assert_eq!(a.currency, "USD");
        assert_eq!(a.amount, Decimal::new(9500, 2));
        assert_eq!(a.invoices[0].settles(), Some(Decimal::new(10000, 2)));
        assert_eq!(a.invoices[0].adjustments[0].reason, "04");
    }

    #[test]
    fn an_adjustment_before_any_rmr_counts_toward_the_payment_total() {
        let ok = map(&x12(
            "BPR*C*90.00*C~TRN*1*T2~ENT*1~ADX*-10.00*CS~RMR*IV*INV-1**100.00~",
        ))
        .expect("100 paid - 10 adjusted = 90");
        assert_eq!(ok.adjustments.len(), 1);
        let bad = map(&x12(
            "BPR*C*100.00*C~TRN*1*T2~ENT*1~ADX*-10.00*CS~RMR*IV*INV-1**100.00~",
        ))
        .expect_err("100 paid - 10 adjusted is not 100");
        assert_eq!(bad.code, Code::InvalidValue);
        assert_eq!(bad.segment.as_ref().map(|s| s.tag.as_str()), Some("BPR"));
        assert_eq!(bad.element.map(|e| e.position), Some(2));
    }

    #[test]
    fn refusals_are_located_at_their_segment() {
        let e = map(&x12("BPR*C*10.00*C~TRN*1*T3~")).expect_err("no RMR");
        assert_eq!(e.code, Code::MandatorySegmentMissing);
        let e = map(&x12("BPR*C*10.00*C~ENT*1~RMR*IV*INV-1**10.00~")).expect_err("no TRN");
        assert!(e.detail.contains("TRN02"), "{}", e.detail);
        let e = map(&x12("BPR*C*1O.00*C~TRN*1*T~ENT*1~RMR*IV*INV-1**10.00~"))
            .expect_err("not a number");
        assert_eq!(e.code, Code::NotNumeric);
        let e = map(&x12(
            "BPR*C*10.00*C~TRN*1*T~ENT*1~RMR*IV*INV-1**10.00~ADX*-1.00~",
        ))
        .expect_err("ADX without reason");
        assert_eq!(e.element.map(|e| e.position), Some(2));
        // many large amounts that do not make the payment: refused at BPR02, exact sum
        let big = "RMR*IV*X**900000000000.00~".repeat(200);
        let e = map(&x12(&format!("BPR*C*10.00*C~TRN*1*T~ENT*1~{big}"))).expect_err("sum");
        assert_eq!(e.code, Code::InvalidValue);
    }

    #[test]
    fn a_remadv_ajt_without_its_moa_is_refused() {
        let text = "UNA:+.? 'UNB+UNOC:3+A:14+B:14+261201:1200+R1'UNH+1+REMADV:D:96A:UN'\
                    BGM+481+R-1+9'DTM+137:20261201:102'DOC+380+INV-1'MOA+12:10.00'AJT+3'\
                    UNS+S'MOA+12:10.00'UNT+9+1'UNZ+1+R1'";
        let e = map(text).expect_err("AJT needs its amount");
        assert_eq!(e.segment.as_ref().map(|s| s.tag.as_str()), Some("AJT"));
        let ok = text
            .replace("AJT+3'", "AJT+3'MOA+8:2.00'")
            .replace("UNT+9", "UNT+10");
        let a = map(&ok).expect("maps");
        assert_eq!(a.invoices[0].adjustments[0].amount, Decimal::new(-200, 2));
        assert_eq!(a.invoices[0].settles(), Some(Decimal::new(1200, 2)));
    }
}

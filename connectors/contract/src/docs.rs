//! Canonical documents. Channels (EDI, JSON/CSV files, bank statements) map to and from these;
//! business connectors work only on these.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An amount with its ISO 4217 currency code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: String,
}

impl Money {
    pub fn new(amount: Decimal, currency: impl Into<String>) -> Self {
        Money {
            amount,
            currency: currency.into(),
        }
    }
}

/// A postal address as trading partners send it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    pub lines: Vec<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// An identifier of a party with the scheme that qualifies it (X12 N103 / EDIFACT NAD 3055:
/// `GLN`, `DUNS`, `92` assigned by buyer, an IBAN, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyId {
    pub qualifier: String,
    pub value: String,
}

/// A party on a document and the role it plays there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Party {
    /// `buyer`, `seller`, `ship_to`, `bill_to`, `supplier`, `payer`, ... (X12 N101 `BY`/`ST`,
    /// EDIFACT NAD `BY`/`DP` map to these names).
    pub role: String,
    pub name: Option<String>,
    pub ids: Vec<PartyId>,
    pub address: Option<Address>,
}

/// One ordered line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub line_no: u32,
    /// Our item number (SKU).
    pub sku: String,
    #[serde(default)]
    pub buyer_part: Option<String>,
    #[serde(default)]
    pub vendor_part: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub quantity: Decimal,
    #[serde(default = "default_uom")]
    pub uom: String,
    /// The price the buyer sent, if any; pricing checks it against the price list.
    #[serde(default)]
    pub unit_price: Option<Decimal>,
}

fn default_uom() -> String {
    "EA".to_string()
}

/// A sales order as received from any channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// ordo's order id (unique in the store); channels derive it from the customer and PO.
    pub id: String,
    pub customer_id: String,
    /// The buyer's purchase order number (X12 BEG03, EDIFACT BGM 1004).
    pub po_number: String,
    pub order_date: NaiveDate,
    #[serde(default)]
    pub requested_date: Option<NaiveDate>,
    pub currency: String,
    #[serde(default)]
    pub parties: Vec<Party>,
    pub lines: Vec<OrderLine>,
    /// Where it came from: `json`, `csv`, `edi-x12`, `edifact`, `cli`.
    #[serde(default)]
    pub channel: String,
    /// Trading partner id when the order came by EDI.
    #[serde(default)]
    pub partner: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

impl Order {
    /// Sum of quantity × unit price over lines that carry a price.
    pub fn stated_total(&self) -> Decimal {
        self.lines
            .iter()
            .filter_map(|l| l.unit_price.map(|p| p * l.quantity))
            .sum()
    }

    pub fn party(&self, role: &str) -> Option<&Party> {
        self.parties.iter().find(|p| p.role == role)
    }
}

/// One line packed in a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentLine {
    pub line_no: u32,
    pub sku: String,
    pub quantity: Decimal,
    #[serde(default = "default_uom")]
    pub uom: String,
}

/// A package with its SSCC-18 (GS1 serial shipping container code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub sscc: String,
    pub weight_kg: Decimal,
    pub lines: Vec<ShipmentLine>,
}

/// A shipment of (part of) an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub id: String,
    pub order_id: String,
    pub ship_date: NaiveDate,
    pub carrier: String,
    pub service: String,
    pub tracking_number: String,
    #[serde(default)]
    pub ship_to: Option<Party>,
    pub packages: Vec<Package>,
}

/// Payment terms such as `net 30` or `2/10 net 30`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentTerms {
    pub net_days: u32,
    /// Early-payment discount in percent (2 for `2/10 net 30`).
    #[serde(default)]
    pub discount_percent: Decimal,
    #[serde(default)]
    pub discount_days: u32,
}

/// One invoiced line. `net_amount` is rounded per line to the currency's minor unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub line_no: u32,
    pub sku: String,
    #[serde(default)]
    pub description: Option<String>,
    pub quantity: Decimal,
    #[serde(default = "default_uom")]
    pub uom: String,
    pub unit_price: Decimal,
    pub net_amount: Decimal,
    pub tax_rate: Decimal,
    pub tax_amount: Decimal,
}

/// A customer invoice. Invariant: `total = net_total + tax_total`, `net_total` = Σ line
/// `net_amount`, `tax_total` = Σ line `tax_amount` (see [`Invoice::check_totals`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub number: String,
    pub order_id: String,
    #[serde(default)]
    pub shipment_id: Option<String>,
    pub customer_id: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    pub terms: PaymentTerms,
    pub lines: Vec<InvoiceLine>,
    pub net_total: Decimal,
    pub tax_total: Decimal,
    pub total: Decimal,
}

impl Invoice {
    /// Returns a description of the first inconsistency between lines and totals.
    pub fn check_totals(&self) -> Result<(), String> {
        let net: Decimal = self.lines.iter().map(|l| l.net_amount).sum();
        let tax: Decimal = self.lines.iter().map(|l| l.tax_amount).sum();
        if net != self.net_total {
            return Err(format!(
                "net_total {} != sum of lines {}",
                self.net_total, net
            ));
        }
        if tax != self.tax_total {
            return Err(format!(
                "tax_total {} != sum of line tax {}",
                self.tax_total, tax
            ));
        }
        if net + tax != self.total {
            return Err(format!("total {} != net {} + tax {}", self.total, net, tax));
        }
        Ok(())
    }
}

/// A payment received (from a bank statement or recorded by hand).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub id: String,
    pub amount: Money,
    pub received_on: NaiveDate,
    #[serde(default)]
    pub invoice_number: Option<String>,
    #[serde(default)]
    pub customer_id: Option<String>,
    /// Remittance text or bank reference.
    #[serde(default)]
    pub reference: Option<String>,
    /// Set when the payer's difference was accepted (bank reconciliation: early-payment
    /// discount, a small difference within tolerance, bank fees): the invoice is settled by
    /// `amount + adjustment.amount`, the adjustment booked to `adjustment.account`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment: Option<Adjustment>,
}

/// An accepted payment difference. Positive: the payment was short by this much (discount,
/// fee, write-off); negative: it was over by this much and the excess is written off, not
/// kept as customer credit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    pub account: String,
    pub amount: Decimal,
    /// True when the difference is the early-payment discount of the invoice's terms.
    #[serde(default)]
    pub discount: bool,
}

/// How an order is priced (`pricing` in the order's instance data): written by
/// `order.validate` from the price list, discounted by `order.price`, read by the approval rule,
/// allocation and invoicing. Ours and fully known, so unknown fields are refused (a misspelt
/// field is not silently dropped when `order.price` writes it back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    pub customer_id: String,
    pub currency: String,
    /// Σ line `amount` (after the discount, once `order.price` ran).
    pub total: Decimal,
    /// Σ line amount at list price.
    pub list_total: Decimal,
    pub cost_total: Decimal,
    pub margin_percent: Decimal,
    /// Set by `order.price`; absent before it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_percent: Option<Decimal>,
    /// The quote the order was accepted from (its lines are priced at the quoted unit prices,
    /// and rules/pricing.rhai gives no further discount); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    pub lines: Vec<PricedLine>,
}

/// One priced order line. `amount` is rounded to the currency's minor unit on its own line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricedLine {
    pub line_no: u32,
    pub sku: String,
    #[serde(default)]
    pub description: Option<String>,
    pub quantity: Decimal,
    pub uom: String,
    pub list_price: Decimal,
    pub unit_price: Decimal,
    pub amount: Decimal,
    pub unit_cost: Decimal,
    pub weight_kg: Decimal,
    pub tax_code: String,
    /// Set by `order.price`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_percent: Option<Decimal>,
}

/// The collection state of a stored invoice (`invoice/<number>`): what `payment.apply` and
/// `dunning.check` read and write, and what bank reconciliation matches against, beside the
/// canonical [`Invoice`] fields it repeats (`number`, `customer_id`, `currency`, `total`,
/// `issue_date`, `due_date`, `terms`). The one typed view of an invoice's money state: sales,
/// reconciliation and the reports read it, never the JSON fields one by one.
///
/// Unknown fields are allowed, and [`InvoiceCollection::write_into`] writes the state back into
/// the stored document field by field: the document also holds the canonical invoice and
/// fields other connectors own (bank reconciliation's `payments_in_transit`), which a reader of
/// the collection state must keep, not drop. Every field a payment or reminder computes with
/// is required: an invoice without `open_amount` fails the step naming the invoice and the
/// field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceCollection {
    pub number: String,
    pub customer_id: String,
    pub currency: String,
    pub total: Decimal,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub terms: PaymentTerms,
    /// `open`, `partially_paid`, `paid`, `in_collection`, `cancelled`.
    pub status: String,
    pub open_amount: Decimal,
    pub paid_amount: Decimal,
    /// The early-payment discount of the terms, in money (0 when the terms have none).
    pub discount_amount: Decimal,
    /// The last day of the discount period (null when the terms have none).
    pub discount_until: Option<NaiveDate>,
    pub discount_taken: Decimal,
    pub payments: Vec<AppliedPayment>,
    pub dunning_level: u32,
    pub overdue: bool,
    /// Reminders sent (absent until the first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dunning: Vec<Reminder>,
    /// Differences written off (absent until the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_off: Option<Decimal>,
    /// Overpayments booked as customer credit (absent until the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_booked: Option<Decimal>,
    /// Payments bank reconciliation booked that the invoice's collection instance has not
    /// applied yet (absent until reconciliation books one; owned by reconciliation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payments_in_transit: Vec<PaymentInTransit>,
}

/// A payment booked by reconciliation that the invoice's collection instance has not applied
/// yet (`payments_in_transit[]`): it settles this much of the open amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentInTransit {
    pub id: String,
    pub settles: Decimal,
}

impl InvoiceCollection {
    /// Paid or cancelled: nothing to match against.
    pub fn is_closed(&self) -> bool {
        self.status == "paid" || self.status == "cancelled"
    }

    /// The open amount less the payments in transit not applied yet. `None` when the stored
    /// amounts overflow a decimal (absurd values): the caller decides what that means.
    pub fn open_net_of_transit(&self) -> Option<Decimal> {
        let mut open = self.open_amount;
        for t in &self.payments_in_transit {
            if !self.payments.iter().any(|p| p.id == t.id) {
                open = open.checked_sub(t.settles)?;
            }
        }
        Some(open)
    }

    /// Sets every field of the state in the stored invoice `doc`, keeping its other fields.
    pub fn write_into(&self, doc: &mut serde_json::Value) -> Result<(), String> {
        let serde_json::Value::Object(state) =
            serde_json::to_value(self).map_err(|e| format!("invoice {}: {e}", self.number))?
        else {
            return Err(format!("invoice {}: not an object", self.number));
        };
        let Some(obj) = doc.as_object_mut() else {
            return Err(format!(
                "invoice {}: the stored document is not an object",
                self.number
            ));
        };
        obj.extend(state);
        Ok(())
    }
}

/// A payment applied to an invoice, as the invoice lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppliedPayment {
    pub id: String,
    pub amount: Decimal,
    pub received_on: NaiveDate,
    /// What reduced the open amount.
    pub applied: Decimal,
    /// Early-payment discount granted.
    pub discount: Decimal,
    pub written_off: Decimal,
    /// The excess booked as customer credit.
    pub credit: Decimal,
    pub reference: Option<String>,
}

/// A reminder sent for an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reminder {
    pub level: u32,
    pub on: NaiveDate,
    pub fee: Decimal,
}

/// A purchase order to a supplier (`purchase-order/PO-000001`), combining lines of many sales
/// orders. Written and read only by purchasing (`purchase.order`, goods receipts), so unknown
/// fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrder {
    pub number: String,
    pub supplier: String,
    /// `open` (orders still append to it) → `partial` → `received`.
    pub status: String,
    pub created_on: NaiveDate,
    pub expected_on: NaiveDate,
    pub lines: Vec<PurchaseLine>,
    /// Sales orders waiting for this PO's goods.
    pub waiting: Vec<String>,
    /// Goods receipt numbers.
    pub receipts: Vec<String>,
    /// The stock location the goods are for; absent: the default location `main` (POs from
    /// before locations, and every PO of the order flow's default location).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// One item on a purchase order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseLine {
    pub sku: String,
    pub quantity: Decimal,
    pub received: Decimal,
    /// The sales orders the quantity was bought for.
    pub orders: Vec<String>,
}

impl PurchaseLine {
    /// Ordered and not yet received.
    pub fn open(&self) -> Decimal {
        self.quantity - self.received
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn stored_invoice() -> serde_json::Value {
        serde_json::json!({ "number": "INV-1", "order_id": "O1", "status": "open",
            "customer_id": "C1", "currency": "EUR", "total": 100, "open_amount": 100,
            "paid_amount": 5, "discount_amount": 0, "discount_until": null, "discount_taken": 0,
            "dunning_level": 0, "overdue": false, "issue_date": "2026-09-01",
            "due_date": "2026-10-01",
            "terms": { "net_days": 30, "discount_percent": 0, "discount_days": 0 },
            "payments": [{ "id": "PAY-1", "amount": 5, "received_on": "2026-09-05",
                "applied": 5, "discount": 0, "written_off": 0, "credit": 0, "reference": null }],
            "payments_in_transit": [{ "id": "PAY-1", "settles": 5 }, { "id": "PAY-2", "settles": 30 }],
            "lines": [] })
    }

    #[test]
    fn an_invoice_reads_net_of_payments_in_transit() {
        let inv: InvoiceCollection =
            crate::read_doc("invoice", "INV-1", &stored_invoice()).unwrap();
        assert_eq!(inv.open_net_of_transit(), Some(dec!(70)));
        assert!(!inv.is_closed());
        // written back, the state keeps the fields it does not own (lines, order_id)
        let mut doc = stored_invoice();
        inv.write_into(&mut doc).unwrap();
        assert_eq!(doc, stored_invoice());
    }

    #[test]
    fn a_missing_open_amount_is_a_located_error_not_zero() {
        let mut v = stored_invoice();
        v.as_object_mut().unwrap().remove("open_amount");
        let e = crate::read_doc::<InvoiceCollection>("invoice", "INV-1", &v).unwrap_err();
        assert_eq!(e, "invoice 'INV-1': missing field `open_amount`");
        let e = crate::read_doc_text::<InvoiceCollection>("invoice", "INV-1", &v.to_string())
            .unwrap_err();
        assert!(
            e.starts_with("invoice 'INV-1': ") && e.contains("`open_amount`"),
            "{e}"
        );
    }

    #[test]
    fn a_wrong_typed_invoice_field_names_its_path() {
        let mut v = stored_invoice();
        v["payments_in_transit"][1]["settles"] = serde_json::json!("12,50");
        let e = crate::read_doc::<InvoiceCollection>("invoice", "INV-1", &v).unwrap_err();
        assert!(
            e.starts_with("invoice 'INV-1': payments_in_transit[1].settles: "),
            "{e}"
        );
        let e = crate::read_doc_text::<InvoiceCollection>("invoice", "INV-1", &v.to_string())
            .unwrap_err();
        assert!(
            e.starts_with("invoice 'INV-1': payments_in_transit[1].settles: "),
            "{e}"
        );
        let mut v = stored_invoice();
        v["terms"] = serde_json::json!(null);
        let e = crate::read_doc::<InvoiceCollection>("invoice", "INV-1", &v).unwrap_err();
        assert!(e.starts_with("invoice 'INV-1': terms: "), "{e}");
    }

    #[test]
    fn money_round_trips_through_json_exactly() {
        let m = Money::new(dec!(12345678901234567.10), "EUR");
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"amount":12345678901234567.10,"currency":"EUR"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.amount.to_string(), "12345678901234567.10");
        // Through a serde_json::Value too (the engine keeps instance data as Values).
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let back: Money = serde_json::from_value(v).unwrap();
        assert_eq!(back.amount.to_string(), "12345678901234567.10");
        let small: Money = serde_json::from_str(r#"{"amount":0.000001,"currency":"EUR"}"#).unwrap();
        assert_eq!(small.amount.to_string(), "0.000001");
    }

    #[test]
    fn invoice_totals_are_checked_to_the_cent() {
        let line = InvoiceLine {
            line_no: 1,
            sku: "A".into(),
            description: None,
            quantity: dec!(3),
            uom: "EA".into(),
            unit_price: dec!(0.35),
            net_amount: dec!(1.05),
            tax_rate: dec!(19),
            tax_amount: dec!(0.20),
        };
        let mut inv = Invoice {
            number: "INV-1".into(),
            order_id: "O1".into(),
            shipment_id: None,
            customer_id: "C1".into(),
            issue_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            due_date: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
            currency: "EUR".into(),
            terms: PaymentTerms {
                net_days: 30,
                discount_percent: dec!(0),
                discount_days: 0,
            },
            lines: vec![line],
            net_total: dec!(1.05),
            tax_total: dec!(0.20),
            total: dec!(1.25),
        };
        assert_eq!(inv.check_totals(), Ok(()));
        inv.total = dec!(1.26);
        assert!(inv.check_totals().unwrap_err().contains("total 1.26"));
    }
}

//! Demo documents (an order, its shipment and invoice) and envelopes, used by the examples,
//! tests, the cross-check script and the benchmark. Not for production use.

use chrono::{NaiveDate, NaiveDateTime};
use ordo_contract::{
    Address, Invoice, InvoiceLine, Order, OrderLine, Package, Party, PartyId, PaymentTerms,
    Shipment, ShipmentLine,
};
use rust_decimal::Decimal;

use crate::envelope::PartnerId;
use crate::syntax::Version;
use crate::write::Envelope;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    // Demo constants, always valid dates; the fallback is never taken.
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// 2026-03-02 10:30, the timestamp of every demo envelope.
pub fn timestamp() -> NaiveDateTime {
    // A constant valid time; the fallback is never taken.
    date(2026, 3, 2).and_hms_opt(10, 30, 0).unwrap_or_default()
}

/// Demo envelope from ordo (`ZZ ORDO`) to a partner (`ZZ ACME` / GLN for EDIFACT).
pub fn envelope(version: Version, control_number: u64) -> Envelope {
    let (sq, rq, rid) = match version {
        Version::X12_4010 | Version::X12_5010 => ("ZZ", "ZZ", "ACME"),
        _ => ("ZZ", "14", "4012345000009"),
    };
    Envelope::new(
        version,
        PartnerId {
            qualifier: sq.into(),
            id: "ORDO".into(),
        },
        PartnerId {
            qualifier: rq.into(),
            id: rid.into(),
        },
        control_number,
        timestamp(),
    )
}

fn party(role: &str, name: &str, scheme: &str, id: &str, city: &str) -> Party {
    Party {
        role: role.into(),
        name: Some(name.into()),
        ids: vec![PartyId {
            qualifier: scheme.into(),
            value: id.into(),
        }],
        address: Some(Address {
            lines: vec!["1 Main Street".into()],
            city: Some(city.into()),
            region: Some("NY".into()),
            postal_code: Some("10001".into()),
            country: Some("US".into()),
        }),
    }
}

/// An order with two lines, buyer/ship-to/seller parties.
pub fn order() -> Order {
    Order {
        id: "C042-PO-7781".into(),
        customer_id: "C042".into(),
        po_number: "PO-7781".into(),
        order_date: date(2026, 3, 1),
        requested_date: Some(date(2026, 3, 9)),
        currency: "USD".into(),
        parties: vec![
            party("buyer", "ACME Retail", "GLN", "4012345000009", "New York"),
            party("ship_to", "ACME DC East", "GLN", "4012345000016", "Newark"),
            party("seller", "Ordo Supplies", "DUNS", "123456789", "Boston"),
        ],
        lines: vec![
            OrderLine {
                line_no: 1,
                sku: "WID-100".into(),
                buyer_part: Some("A-55".into()),
                vendor_part: Some("WID-100".into()),
                description: Some("Widget, blue".into()),
                quantity: Decimal::new(12, 0),
                uom: "EA".into(),
                unit_price: Some(Decimal::new(350, 2)),
            },
            OrderLine {
                line_no: 2,
                sku: "GAD-7".into(),
                buyer_part: None,
                vendor_part: Some("GAD-7".into()),
                description: Some("Gadget + case: 'XL'?".into()),
                quantity: Decimal::new(3, 0),
                uom: "EA".into(),
                unit_price: Some(Decimal::new(1999, 2)),
            },
        ],
        channel: "edi-x12".into(),
        partner: Some("acme".into()),
        notes: None,
    }
}

/// A shipment of the demo order in two packages with SSCCs.
pub fn shipment() -> Shipment {
    let line = |n, sku: &str, q| ShipmentLine {
        line_no: n,
        sku: sku.into(),
        quantity: Decimal::new(q, 0),
        uom: "EA".into(),
    };
    Shipment {
        id: "SH-1001".into(),
        order_id: "C042-PO-7781".into(),
        ship_date: date(2026, 3, 3),
        carrier: "UPSN".into(),
        service: "GROUND".into(),
        tracking_number: "1Z999AA10123456784".into(),
        ship_to: None,
        packages: vec![
            Package {
                sscc: "000123456789012347".into(),
                weight_kg: Decimal::new(125, 1),
                lines: vec![line(1, "WID-100", 12)],
            },
            Package {
                sscc: "000123456789012354".into(),
                weight_kg: Decimal::new(43, 1),
                lines: vec![line(2, "GAD-7", 3)],
            },
        ],
    }
}

/// The invoice of the demo order: 19 % tax on line 1, 7 % on line 2, 2/10 net 30.
pub fn invoice() -> Invoice {
    let l1 = InvoiceLine {
        line_no: 1,
        sku: "WID-100".into(),
        description: Some("Widget, blue".into()),
        quantity: Decimal::new(12, 0),
        uom: "EA".into(),
        unit_price: Decimal::new(350, 2),
        net_amount: Decimal::new(4200, 2),
        tax_rate: Decimal::new(19, 0),
        tax_amount: Decimal::new(798, 2),
    };
    let l2 = InvoiceLine {
        line_no: 2,
        sku: "GAD-7".into(),
        description: None,
        quantity: Decimal::new(3, 0),
        uom: "EA".into(),
        unit_price: Decimal::new(1999, 2),
        net_amount: Decimal::new(5997, 2),
        tax_rate: Decimal::new(7, 0),
        tax_amount: Decimal::new(420, 2),
    };
    Invoice {
        number: "INV-2026-0042".into(),
        order_id: "C042-PO-7781".into(),
        shipment_id: Some("SH-1001".into()),
        customer_id: "C042".into(),
        issue_date: date(2026, 3, 4),
        due_date: date(2026, 4, 3),
        currency: "USD".into(),
        terms: PaymentTerms {
            net_days: 30,
            discount_percent: Decimal::new(2, 0),
            discount_days: 10,
        },
        lines: vec![l1, l2],
        net_total: Decimal::new(10197, 2),
        tax_total: Decimal::new(1218, 2),
        total: Decimal::new(11415, 2),
    }
}

/// A credit note for the demo invoice: 4 of line 1's widgets taken back (14.00 + 2.66 VAT),
/// as `ordo_sales::issue_credit_note` stores it (positive amounts, nothing due).
pub fn credit_note() -> Invoice {
    let mut cn = invoice();
    cn.number = "CN-000001".into();
    cn.issue_date = date(2026, 3, 20);
    cn.due_date = cn.issue_date;
    cn.lines.truncate(1);
    let l = &mut cn.lines[0];
    l.quantity = Decimal::new(4, 0);
    l.net_amount = Decimal::new(1400, 2);
    l.tax_amount = Decimal::new(266, 2);
    cn.net_total = Decimal::new(1400, 2);
    cn.tax_total = Decimal::new(266, 2);
    cn.total = Decimal::new(1666, 2);
    cn
}

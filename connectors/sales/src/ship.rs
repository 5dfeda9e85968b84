//! `shipment.create`: picks what `stock.allocate` reserved (`to_ship`), packs it into packages
//! by weight (`with.max_package_kg`), gives each package an SSCC-18 with a GS1 check digit from
//! the series `sscc`, uses the carrier and service rules/shipping.rhai chose (`carrier`), gives
//! the shipment a tracking number and a number from the gapless series `shipment`, stores the
//! canonical `Shipment`, posts cost of goods sold at the items' cost
//! ([`crate::posting::shipment`]) and queues the dispatch advice (outbound `shipments`).

use crate::allocate::{Fulfilment, ToShip};
use crate::checked;
use crate::master;
use crate::master::data_field;
use async_trait::async_trait;
use ordo_contract::{
    Connector, Package, Shipment, ShipmentLine, StepContext, StepContextExt, StepError, StepInput,
    StepOutput,
};
use rust_decimal::Decimal;
use serde_json::json;

pub struct CreateShipment;

/// GS1 mod-10 check digit of a digit string (weights 3,1,3,... from the right).
pub fn gs1_check_digit(digits: &str) -> Option<u32> {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let d = c.to_digit(10)?;
        sum += if i % 2 == 0 { d * 3 } else { d };
    }
    Some((10 - sum % 10) % 10)
}

/// SSCC-18: extension digit, GS1 company prefix, serial reference, check digit.
pub fn sscc(extension: u32, company_prefix: &str, serial: i64) -> Result<String, String> {
    if extension > 9
        || company_prefix.len() < 6
        || company_prefix.len() > 12
        || !company_prefix.chars().all(|c| c.is_ascii_digit())
    {
        return Err(format!(
            "SSCC: extension digit {extension} / company prefix '{company_prefix}' invalid (prefix is 6 to 12 digits)"
        ));
    }
    let width = 16 - company_prefix.len();
    let serial_text = format!("{serial:0width$}");
    if serial_text.len() > width {
        return Err(format!(
            "SSCC: serial {serial} does not fit {width} digits with prefix {company_prefix}"
        ));
    }
    let body = format!("{extension}{company_prefix}{serial_text}");
    let check = gs1_check_digit(&body).ok_or("SSCC: not digits")?;
    Ok(format!("{body}{check}"))
}

/// The carrier and service rules/shipping.rhai chose (`carrier` in the instance data); every
/// field is required: a rule that forgets one fails the step, no `UNKNOWN` carrier ships.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Carrier {
    carrier: String,
    service: String,
    tracking_prefix: String,
}

struct PackLine {
    line_no: u32,
    sku: String,
    uom: String,
    unit_kg: Decimal,
    qty: Decimal,
}

/// Most packages one shipment may have: a quantity or weight that would need more is an error
/// in the order (each package also takes an SSCC number), not something to loop over.
const MAX_PACKAGES: usize = 10_000;

/// Fills packages up to `max_kg`, line after line; a unit heavier than `max_kg` gets a package
/// of its own. Returns (weight, lines) per package. `order` names the order in errors.
fn pack(
    lines: Vec<PackLine>,
    max_kg: Decimal,
    order: &str,
) -> Result<Vec<(Decimal, Vec<ShipmentLine>)>, StepError> {
    let mut out: Vec<(Decimal, Vec<ShipmentLine>)> = Vec::new();
    let mut cur: (Decimal, Vec<ShipmentLine>) = (Decimal::ZERO, Vec::new());
    for l in lines {
        let at = |f: &str| format!("order {order} line {} {f}", l.line_no);
        let mut left = l.qty;
        while left > Decimal::ZERO {
            if out.len() >= MAX_PACKAGES {
                return Err(StepError::Permanent(format!(
                    "order {order} line {}: shipping {} of {} kg each needs more than {MAX_PACKAGES} packages of at most {max_kg} kg; check the quantity",
                    l.line_no, l.qty, l.unit_kg
                )));
            }
            let room = checked::sub(max_kg, cur.0, || at("package weight"))?;
            let fits = if l.unit_kg.is_zero() {
                left
            } else {
                checked::div(room, l.unit_kg, || at("unit_weight_kg"))?
                    .floor()
                    .min(left)
            };
            let n = if fits > Decimal::ZERO {
                fits
            } else if cur.1.is_empty() {
                // Heavier than a package: ships on its own.
                Decimal::ONE.min(left)
            } else {
                out.push(std::mem::take(&mut cur));
                continue;
            };
            let kg = checked::mul(n, l.unit_kg, || at("weight"))?;
            cur.0 = checked::add(cur.0, kg, || at("package weight"))?;
            cur.1.push(ShipmentLine {
                line_no: l.line_no,
                sku: l.sku.clone(),
                quantity: n,
                uom: l.uom.clone(),
            });
            left -= n;
        }
    }
    if !cur.1.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

#[async_trait]
impl Connector for CreateShipment {
    fn name(&self) -> &'static str {
        "shipment.create"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["shipped"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let order: ordo_contract::Order = data_field(input.data, "order")?;
        let to_ship: ToShip = data_field(input.data, "to_ship")?;
        let carrier: Carrier = data_field(input.data, "carrier")?;
        let mut f: Fulfilment = data_field(input.data, "fulfilment")?;
        let max_kg = master::param_decimal(input.params, "max_package_kg", Decimal::from(30))?;
        let prefix = master::param_str(input.params, "company_prefix", "4012345").to_string();
        let ext: u32 = match input.params.get("extension_digit") {
            None => 3,
            Some(_) => data_field(input.params, "extension_digit")?,
        };
        let mut lines = Vec::new();
        for l in to_ship.lines {
            let (line_no, qty) = (l.line_no, l.quantity);
            let fl = f
                .lines
                .iter_mut()
                .find(|x| x.line_no == line_no)
                .ok_or_else(|| {
                    StepError::Permanent(format!("to_ship line {line_no} is not on the order"))
                })?;
            if qty > fl.open() {
                return Err(StepError::Permanent(format!(
                    "line {line_no}: shipping {qty} but only {} is open",
                    fl.open()
                )));
            }
            fl.shipped = checked::add(fl.shipped, qty, || {
                format!("order {} line {line_no} shipped", order.id)
            })?;
            lines.push(PackLine {
                line_no,
                sku: fl.sku.clone(),
                uom: l.uom,
                unit_kg: l.unit_weight_kg,
                qty,
            });
        }
        if lines.is_empty() {
            return Err(StepError::Permanent(
                "nothing to ship: the workflow should not reach shipment.create".into(),
            ));
        }
        let mut packages = Vec::new();
        for (kg, plines) in pack(lines, max_kg, &order.id)? {
            let n = ctx.next_number("sscc").await?;
            let code = sscc(ext, &prefix, n).map_err(StepError::Permanent)?;
            packages.push(Package {
                sscc: code,
                weight_kg: kg,
                lines: plines,
            });
        }
        let carrier_name = carrier.carrier;
        let service = carrier.service;
        let tn = ctx.next_number(&format!("tracking.{carrier_name}")).await?;
        let tprefix = carrier.tracking_prefix;
        let tbody = format!("{tn:011}");
        let check = gs1_check_digit(&tbody).ok_or_else(|| {
            StepError::Permanent(format!("tracking number {tbody} is not digits"))
        })?;
        let tracking = format!("{tprefix}{tbody}{check}");
        let n = ctx.next_number("shipment").await?;
        let id = format!("SH-{n:06}");
        let shipment = Shipment {
            id: id.clone(),
            order_id: order.id.clone(),
            ship_date: master::today(ctx),
            carrier: carrier_name,
            service,
            tracking_number: tracking,
            ship_to: order.party("ship_to").cloned(),
            packages,
        };
        ctx.put("shipment", &id, &shipment).await?;
        let posting = crate::posting::shipment(ctx, &shipment, &order.customer_id).await?;
        ctx.post(&posting).await?;
        let doc = serde_json::to_value(&shipment)
            .map_err(|e| StepError::Permanent(format!("shipment {id}: {e}")))?;
        ctx.send_outbound("shipments", &id, &doc).await?;
        ctx.publish("shipment.created", &id, &doc).await?;
        f.shipments.push(id);
        let weight = checked::sum(shipment.packages.iter().map(|p| p.weight_kg), || {
            format!("shipment {} weight", shipment.id)
        })?;
        Ok(StepOutput::outcome("shipped")
            .with("shipment", &shipment)
            .with("fulfilment", f)
            .with("shipped_weight_kg", json!(weight)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MemoryContext, merge, order_json, run};
    use crate::{AllocateStock, ValidateOrder};
    use rust_decimal::dec;

    #[test]
    fn sscc_check_digits_match_gs1() {
        // GS1's own example: 0 0614141 123456789 → check digit 0 ("(00) 106141411234567897" has 7).
        assert_eq!(gs1_check_digit("10614141123456789"), Some(7));
        assert_eq!(gs1_check_digit("00614141123456789"), Some(0));
        // GTIN-13 4006381333931 (Stabilo pen): body 400638133393 → 1.
        assert_eq!(gs1_check_digit("400638133393"), Some(1));
        let s = sscc(3, "4012345", 42).unwrap();
        assert_eq!(s.len(), 18);
        assert!(s.starts_with("34012345000000042"));
        // Recomputing over all 18 digits with the check digit gives 0 (a scanner's test).
        let body = &s[..17];
        assert_eq!(
            s[17..].parse::<u32>().unwrap(),
            gs1_check_digit(body).unwrap()
        );
        assert!(sscc(3, "12", 1).is_err());
        assert!(
            sscc(3, "4012345", 1_000_000_000).is_err(),
            "serial must fit 9 digits"
        );
    }

    #[test]
    fn packs_by_weight() {
        let l = |no, kg: &str, q: &str| PackLine {
            line_no: no,
            sku: format!("S{no}"),
            uom: "EA".into(),
            unit_kg: kg.parse().unwrap(),
            qty: q.parse().unwrap(),
        };
        // 7 × 4 kg = 28 kg, then 10 × 0.25 = 2.5 kg: the second line fills the first box to 30
        // (8 units) and puts 2 in the next.
        let p = pack(vec![l(1, "4", "7"), l(2, "0.25", "10")], dec!(30), "O").unwrap_or_default();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].0, dec!(30.00));
        assert_eq!(p[0].1[1].quantity, dec!(8));
        assert_eq!(p[1].0, dec!(0.50));
        // A 45 kg unit ships alone.
        let p = pack(vec![l(1, "45", "2"), l(2, "1", "1")], dec!(30), "O").unwrap_or_default();
        assert_eq!(
            p.iter().map(|x| x.0).collect::<Vec<_>>(),
            vec![dec!(45), dec!(45), dec!(1)]
        );
    }

    #[tokio::test]
    async fn a_shipment_is_stored_with_sscc_and_tracking_and_sent_once() {
        let mut ctx = MemoryContext::seeded();
        let mut data = json!({ "order": order_json(&[("GADGET", "10"), ("WIDGET", "8")]) });
        let out = run(&ValidateOrder, &mut ctx, data.clone(), json!({})).await;
        merge(&mut data, &out);
        let out = run(&AllocateStock, &mut ctx, data.clone(), json!({})).await;
        merge(&mut data, &out);
        data["carrier"] = json!({ "carrier": "DHL", "service": "parcel", "tracking_prefix": "JD" });
        let out = run(
            &CreateShipment,
            &mut ctx,
            data.clone(),
            json!({ "max_package_kg": 30 }),
        )
        .await;
        let s: Shipment = serde::Deserialize::deserialize(&out.set["shipment"]).unwrap();
        assert_eq!(s.id, "SH-000001");
        // 7 gadgets (28 kg) fill the first box; 3 gadgets and the 8 widgets (12 + 2 kg) the second.
        assert_eq!(
            s.packages.iter().map(|p| p.weight_kg).collect::<Vec<_>>(),
            vec![dec!(28), dec!(14)]
        );
        for p in &s.packages {
            assert_eq!(p.sscc.len(), 18);
            assert_eq!(
                p.sscc[17..].parse::<u32>().unwrap(),
                gs1_check_digit(&p.sscc[..17]).unwrap()
            );
        }
        assert!(s.tracking_number.starts_with("JD"));
        assert_eq!(s.carrier, "DHL");
        assert!(
            out.set["fulfilment"]["lines"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["shipped"] == l["ordered"])
        );
        assert!(
            ctx.outbound
                .contains_key(&("shipments".into(), "SH-000001".into()))
        );
        // Shipping more than is open is a bug caught here, not a second shipment.
        merge(&mut data, &out);
        let input = StepInput {
            instance: "i",
            workflow: "w",
            step: "s",
            attempt: 1,
            data: &data,
            params: &json!({}),
        };
        assert!(CreateShipment.run(&mut ctx, input).await.is_err());
    }
}

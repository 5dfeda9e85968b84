//! Order changes and cancellations: what a customer may still change on an order until the
//! affected lines ship (quantity, requested date, lines added or removed, ship-to address).
//!
//! [`apply_change`] is the one function every channel's change goes through (`ordo order
//! change`, `POST /api/v1/orders/{id}/changes`): it takes the order as stored and what has
//! shipped of it, and returns the next version of the order and the fulfilment lines it
//! implies, or every reason it is refused. It is pure: the engine (`ordo::api::orders`) holds
//! the order's instance locked, stores the version and re-runs the workflow from its start
//! (pricing, approval, allocation, reorder) with the result. [`cancel_problem`] is the check a
//! cancellation makes on the same facts.

use crate::allocate::{FulfilLine, Fulfilment};
pub use ordo_contract::change::{LineChange, OrderChange};
use ordo_contract::intake::Bounds;
use ordo_contract::{Order, OrderLine, Party};
use rust_decimal::Decimal;

/// The result of an accepted change: the next version of the order, and the fulfilment (what
/// is ordered and shipped per line) when the order had one.
#[derive(Debug, Clone)]
pub struct Changed {
    pub order: Order,
    pub fulfilment: Option<Fulfilment>,
    /// What changed, one phrase per field or line (`line 2 quantity 5 → 3`).
    pub summary: Vec<String>,
}

fn shipped_of(f: Option<&Fulfilment>, line_no: u32) -> Decimal {
    f.and_then(|f| f.lines.iter().find(|l| l.line_no == line_no))
        .map_or(Decimal::ZERO, |l| l.shipped)
}

/// Applies `change` to `order` given what shipped (`fulfilment`, absent before allocation).
/// Every refusal is returned at once, each naming the order and the line; nothing is applied
/// unless all of it is valid (the caller then writes the whole result or nothing).
pub fn apply_change(
    order: &Order,
    fulfilment: Option<&Fulfilment>,
    change: &OrderChange,
    bounds: &Bounds,
) -> Result<Changed, Vec<String>> {
    let name = format!("order {}", ordo_contract::excerpt(&order.id, 60));
    let mut errors = Vec::new();
    let mut summary = Vec::new();
    let mut next = order.clone();
    let mut f = fulfilment.cloned();
    if change.lines.is_empty() && change.requested_date.is_none() && change.ship_to.is_none() {
        errors.push(format!("{name}: the change changes nothing"));
    }
    if let Some(r) = &change.reason
        && let Some(p) = ordo_contract::intake::text_problem(r, bounds.max_text_chars)
    {
        errors.push(format!("{name}: reason {p}"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for c in &change.lines {
        let at = format!("{name} line {}", c.line_no);
        if !seen.insert(c.line_no) {
            errors.push(format!("{at}: changed twice in one change"));
            continue;
        }
        let shipped = shipped_of(fulfilment, c.line_no);
        let pos = next.lines.iter().position(|l| l.line_no == c.line_no);
        match (pos, c.remove, c.quantity) {
            (_, true, Some(_)) => {
                errors.push(format!("{at}: remove and quantity together"));
            }
            (None, true, _) => errors.push(format!("{at}: the order has no such line")),
            (Some(i), true, None) => {
                if shipped > Decimal::ZERO {
                    errors.push(format!(
                        "{at}: {shipped} already shipped; a shipped line cannot change"
                    ));
                    continue;
                }
                let gone = next.lines.remove(i);
                if let Some(f) = f.as_mut() {
                    f.lines.retain(|l| l.line_no != c.line_no);
                }
                summary.push(format!("line {} ({}) removed", c.line_no, gone.sku));
            }
            (_, false, None) => errors.push(format!("{at}: no quantity given")),
            (_, false, Some(q)) if q <= Decimal::ZERO => errors.push(format!(
                "{at}: quantity {q} must be greater than 0 (remove the line instead)"
            )),
            (Some(i), false, Some(q)) => {
                if c.sku.as_ref().is_some_and(|s| *s != next.lines[i].sku) {
                    errors.push(format!(
                        "{at}: the item of a line cannot change (remove it and add a line)"
                    ));
                    continue;
                }
                if shipped > Decimal::ZERO {
                    errors.push(format!(
                        "{at}: {shipped} already shipped; a shipped line cannot change"
                    ));
                    continue;
                }
                let old = next.lines[i].quantity;
                if old == q {
                    errors.push(format!("{at}: quantity is {q} already"));
                    continue;
                }
                next.lines[i].quantity = q;
                if let Some(fl) = f
                    .as_mut()
                    .and_then(|f| f.lines.iter_mut().find(|l| l.line_no == c.line_no))
                {
                    fl.ordered = q;
                }
                summary.push(format!("line {} quantity {old} → {q}", c.line_no));
            }
            (None, false, Some(q)) => {
                let Some(sku) = c.sku.clone() else {
                    errors.push(format!(
                        "{at}: the order has no such line (a new line needs its sku)"
                    ));
                    continue;
                };
                next.lines.push(OrderLine {
                    line_no: c.line_no,
                    sku: sku.clone(),
                    buyer_part: None,
                    vendor_part: None,
                    description: None,
                    quantity: q,
                    uom: "EA".into(),
                    unit_price: None,
                });
                if let Some(f) = f.as_mut() {
                    f.lines.push(FulfilLine {
                        line_no: c.line_no,
                        sku: sku.clone(),
                        ordered: q,
                        shipped: Decimal::ZERO,
                    });
                }
                summary.push(format!("line {} ({sku}) added, quantity {q}", c.line_no));
            }
        }
    }
    if let Some(d) = change.requested_date {
        if next.requested_date == Some(d) {
            errors.push(format!("{name}: requested date is {d} already"));
        } else if d < order.order_date {
            errors.push(format!(
                "{name}: requested date {d} is before the order date {}",
                order.order_date
            ));
        } else {
            summary.push(format!("requested date {d}"));
            next.requested_date = Some(d);
        }
    }
    if let Some(a) = &change.ship_to {
        if a.lines.is_empty() && a.city.is_none() {
            errors.push(format!(
                "{name}: the new ship-to address has no street lines and no city"
            ));
        } else if fulfilment.is_some_and(|f| f.lines.iter().any(|l| l.shipped > Decimal::ZERO)) {
            // One order ships to one address; what shipped went to the old one.
            errors.push(format!(
                "{name}: part of the order has shipped to the old address; the address cannot change"
            ));
        } else {
            match next.parties.iter_mut().find(|p| p.role == "ship_to") {
                Some(p) => p.address = Some(a.clone()),
                None => next.parties.push(Party {
                    role: "ship_to".into(),
                    address: Some(a.clone()),
                    ..Party::default()
                }),
            }
            summary.push("ship-to address".into());
        }
    }
    if errors.is_empty() && next.lines.is_empty() {
        errors.push(format!(
            "{name}: the change removes every line; cancel the order instead"
        ));
    }
    if errors.is_empty()
        && let Err(e) = next.validate_bounds(bounds)
    {
        errors.extend(e);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    next.lines.sort_by_key(|l| l.line_no);
    if let Some(f) = f.as_mut() {
        f.lines.sort_by_key(|l| l.line_no);
    }
    Ok(Changed {
        order: next,
        fulfilment: f,
        summary,
    })
}

/// The lines `change` touches that have shipped (they cannot change), and the change without
/// them: a partner's change request (860/ORDCHG) is answered line by line, so the open lines
/// are applied and the shipped ones refused ("accepted with changes"). `None` for the rest
/// when nothing else is left to change.
pub fn without_shipped_lines(
    change: &OrderChange,
    fulfilment: Option<&Fulfilment>,
) -> (Vec<u32>, Option<OrderChange>) {
    let shipped: Vec<u32> = change
        .lines
        .iter()
        .filter(|c| shipped_of(fulfilment, c.line_no) > Decimal::ZERO)
        .map(|c| c.line_no)
        .collect();
    let mut rest = change.clone();
    rest.lines.retain(|c| !shipped.contains(&c.line_no));
    let empty = rest.lines.is_empty() && rest.requested_date.is_none() && rest.ship_to.is_none();
    (shipped, (!empty).then_some(rest))
}

/// Why an order cannot be cancelled: something of it has shipped (the open rest is changed
/// away line by line instead).
pub fn cancel_problem(order: &Order, fulfilment: Option<&Fulfilment>) -> Option<String> {
    let shipped: Vec<String> = fulfilment
        .map(|f| {
            f.lines
                .iter()
                .filter(|l| l.shipped > Decimal::ZERO)
                .map(|l| l.line_no.to_string())
                .collect()
        })
        .unwrap_or_default();
    if shipped.is_empty() {
        None
    } else {
        Some(format!(
            "order {}: line(s) {} already shipped; a shipped line cannot change (change the open lines instead)",
            ordo_contract::excerpt(&order.id, 60),
            shipped.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordo_contract::Address;
    use rust_decimal::dec;

    fn order() -> Order {
        serde_json::from_value(crate::testing::order_json(&[
            ("WIDGET", "3"),
            ("GADGET", "1"),
        ]))
        .unwrap()
    }

    fn shipped(line1: Decimal) -> Fulfilment {
        Fulfilment {
            lines: vec![
                FulfilLine {
                    line_no: 1,
                    sku: "WIDGET".into(),
                    ordered: dec!(3),
                    shipped: line1,
                },
                FulfilLine {
                    line_no: 2,
                    sku: "GADGET".into(),
                    ordered: dec!(1),
                    shipped: Decimal::ZERO,
                },
            ],
            ..Default::default()
        }
    }

    fn lines(l: &[LineChange]) -> OrderChange {
        OrderChange {
            lines: l.to_vec(),
            ..Default::default()
        }
    }

    fn qty(line_no: u32, q: Decimal) -> LineChange {
        LineChange {
            line_no,
            quantity: Some(q),
            ..Default::default()
        }
    }

    #[test]
    fn quantity_added_and_removed_lines_follow_into_the_fulfilment() {
        let b = Bounds::default();
        let f = shipped(Decimal::ZERO);
        let c = lines(&[
            qty(1, dec!(5)),
            LineChange {
                line_no: 2,
                remove: true,
                ..Default::default()
            },
            LineChange {
                line_no: 3,
                quantity: Some(dec!(2)),
                sku: Some("BOLT".into()),
                ..Default::default()
            },
        ]);
        let r = apply_change(&order(), Some(&f), &c, &b).unwrap();
        let got: Vec<(u32, &str, Decimal)> = r
            .order
            .lines
            .iter()
            .map(|l| (l.line_no, l.sku.as_str(), l.quantity))
            .collect();
        assert_eq!(got, vec![(1, "WIDGET", dec!(5)), (3, "BOLT", dec!(2))]);
        let f = r.fulfilment.unwrap();
        let fl: Vec<(u32, Decimal)> = f.lines.iter().map(|l| (l.line_no, l.ordered)).collect();
        assert_eq!(fl, vec![(1, dec!(5)), (3, dec!(2))]);
        assert_eq!(
            r.summary,
            vec![
                "line 1 quantity 3 → 5",
                "line 2 (GADGET) removed",
                "line 3 (BOLT) added, quantity 2"
            ]
        );
    }

    #[test]
    fn a_shipped_line_cannot_change_and_nothing_is_half_applied() {
        let b = Bounds::default();
        let f = shipped(dec!(3));
        let c = lines(&[qty(2, dec!(4)), qty(1, dec!(1))]);
        let e = apply_change(&order(), Some(&f), &c, &b).unwrap_err();
        assert_eq!(
            e,
            vec!["order C1-PO1 line 1: 3 already shipped; a shipped line cannot change"]
        );
        // The open line alone may change; the address may not once something shipped.
        assert!(apply_change(&order(), Some(&f), &lines(&[qty(2, dec!(4))]), &b).is_ok());
        let mut c = lines(&[]);
        c.ship_to = Some(Address {
            lines: vec!["Elsewhere 1".into()],
            ..Address::default()
        });
        let e = apply_change(&order(), Some(&f), &c, &b).unwrap_err();
        assert!(e[0].contains("cannot change"), "{e:?}");
        assert!(
            cancel_problem(&order(), Some(&f))
                .unwrap()
                .contains("line(s) 1 already shipped")
        );
        assert_eq!(
            cancel_problem(&order(), Some(&shipped(Decimal::ZERO))),
            None
        );
    }

    #[test]
    fn shipped_lines_are_split_off_a_partner_change() {
        let f = shipped(dec!(3));
        let (gone, rest) =
            without_shipped_lines(&lines(&[qty(1, dec!(1)), qty(2, dec!(4))]), Some(&f));
        assert_eq!(gone, vec![1]);
        let rest = rest.unwrap();
        assert_eq!(rest.lines, vec![qty(2, dec!(4))]);
        assert!(apply_change(&order(), Some(&f), &rest, &Bounds::default()).is_ok());
        let (gone, rest) = without_shipped_lines(&lines(&[qty(1, dec!(1))]), Some(&f));
        assert_eq!((gone, rest), (vec![1], None));
        let (gone, _) = without_shipped_lines(&lines(&[qty(1, dec!(1))]), None);
        assert!(gone.is_empty());
    }

    #[test]
    fn hostile_changes_are_refused_with_the_line() {
        let b = Bounds::default();
        for (c, says) in [
            (
                lines(&[qty(1, dec!(0))]),
                "line 1: quantity 0 must be greater than 0",
            ),
            (
                lines(&[qty(1, dec!(-2))]),
                "line 1: quantity -2 must be greater than 0",
            ),
            (
                lines(&[qty(9, dec!(1))]),
                "line 9: the order has no such line",
            ),
            (lines(&[qty(1, dec!(3))]), "line 1: quantity is 3 already"),
            (
                lines(&[qty(1, dec!(2)), qty(1, dec!(4))]),
                "line 1: changed twice",
            ),
            (
                lines(&[LineChange {
                    line_no: 1,
                    ..Default::default()
                }]),
                "line 1: no quantity given",
            ),
            (
                lines(&[
                    LineChange {
                        line_no: 1,
                        remove: true,
                        ..Default::default()
                    },
                    LineChange {
                        line_no: 2,
                        remove: true,
                        ..Default::default()
                    },
                ]),
                "removes every line; cancel the order instead",
            ),
            (
                lines(&[qty(1, dec!(99999999999))]),
                "more than limits.max_quantity",
            ),
            (OrderChange::default(), "the change changes nothing"),
            (
                OrderChange {
                    requested_date: chrono::NaiveDate::from_ymd_opt(2020, 1, 1),
                    ..Default::default()
                },
                "before the order date",
            ),
        ] {
            let e = apply_change(&order(), None, &c, &b).unwrap_err();
            assert!(e.iter().any(|x| x.contains(says)), "{c:?}: {e:?}");
        }
    }
}

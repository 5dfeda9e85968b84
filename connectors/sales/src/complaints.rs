//! Complaints (after-sales cases): a customer's case against an order or an invoice, with a
//! category, followed by `workflows/complaints.yaml` and its rule `rules/complaints.rhai`
//! (analyst-owned: which cases go straight to a manager, the priority).
//!
//! [`open_complaint`] is the one function the CLI (`ordo complaint open`) and the API
//! (`POST /api/v1/complaints`) call: it checks the case (the order or invoice exists, a known
//! category, a bounded description), numbers it in its own gapless series (`CMP-000001`),
//! stores `complaint/<number>` and emits `complaint.opened`, which starts the workflow. The
//! workflow waits for a decision within its SLA (the wait's timeout); past it, or when the rule
//! says so, `complaint.escalate` marks the case escalated and a task goes to a manager.
//!
//! A decision is one of [`OUTCOMES`]: start a return (the one return function,
//! `returns::request_return`), issue a credit note (the one credit-note function,
//! `issue_credit_note`), or close with a note. The engine's decision function
//! (`ordo::api::complaints::decide_complaint`) does the effect, records it here with
//! [`record_decision`] and resumes the workflow — all in one transaction.

use crate::master;
use async_trait::async_trait;
use chrono::NaiveDate;
use ordo_contract::{
    Connector, Invoice, Order, StepContext, StepContextExt, StepError, StepInput, StepOutput,
    data_field,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const SERIES: &str = "complaint";
pub const PREFIX: &str = "CMP-";
/// Starts `workflows/complaints.yaml` (keyed by the complaint number).
pub const OPENED_EVENT: &str = "complaint.opened";
/// Resumes a complaint waiting for its decision.
pub const DECIDED_EVENT: &str = "complaint.decided";
/// What a complaint may be about; the rule decides what each means.
pub const CATEGORIES: &[&str] = &[
    "damaged",
    "wrong_item",
    "missing",
    "quality",
    "late_delivery",
    "billing",
    "other",
];
/// The outcomes of a decision (and of the workflow's decision steps).
pub const OUTCOMES: &[&str] = &["return", "credit", "close"];
/// A description or a decision note is kept for people and printed: bounded.
pub const MAX_TEXT: usize = 2000;

/// A stored complaint (`complaint/<number>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Complaint {
    pub number: String,
    pub customer: String,
    pub order_id: String,
    /// The invoice the case is against (none: against the order).
    #[serde(default)]
    pub invoice: Option<String>,
    pub category: String,
    pub description: String,
    pub opened_on: NaiveDate,
    /// The invoice's total and currency (a case against an order has none).
    #[serde(default)]
    pub value: Option<Decimal>,
    #[serde(default)]
    pub currency: Option<String>,
    /// open, escalated, returned, credited, closed
    pub status: String,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub escalated_on: Option<NaiveDate>,
    #[serde(default)]
    pub decision: Option<Decision>,
}

/// How a complaint was decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// One of [`OUTCOMES`].
    pub outcome: String,
    pub note: String,
    pub by: String,
    pub on: NaiveDate,
    /// The return it started, or the credit note it issued.
    #[serde(default)]
    pub rma: Option<String>,
    #[serde(default)]
    pub credit_note: Option<String>,
}

/// What a complaint is against.
#[derive(Debug, Clone, Copy)]
pub enum Against<'a> {
    Order(&'a str),
    Invoice(&'a str),
}

fn perm(msg: impl Into<String>) -> StepError {
    StepError::Permanent(msg.into())
}

/// A person's text: trimmed, not empty, at most [`MAX_TEXT`] characters.
pub fn text(what: &str, value: &str) -> Result<String, StepError> {
    let t = value.trim();
    if t.is_empty() {
        return Err(perm(format!("a complaint needs {what}")));
    }
    if t.chars().count() > MAX_TEXT {
        return Err(perm(format!("{what} is longer than {MAX_TEXT} characters")));
    }
    Ok(t.to_string())
}

/// The stored complaint `number`, or a refusal naming it.
pub async fn load(ctx: &mut dyn StepContext, number: &str) -> Result<Complaint, StepError> {
    ctx.get::<Complaint>(SERIES, number).await?.ok_or_else(|| {
        perm(format!(
            "no complaint '{}'",
            ordo_contract::excerpt(number, 40)
        ))
    })
}

/// Opens a complaint (see the module docs). Returns the stored complaint.
pub async fn open_complaint(
    ctx: &mut dyn StepContext,
    against: Against<'_>,
    category: &str,
    description: &str,
) -> Result<Value, StepError> {
    if !CATEGORIES.contains(&category) {
        return Err(perm(format!(
            "category '{}' is not one of {}",
            ordo_contract::excerpt(category, 40),
            CATEGORIES.join(", ")
        )));
    }
    let description = text("a description", description)?;
    let id = match against {
        Against::Order(id) | Against::Invoice(id) => id,
    };
    if let Some(p) = ordo_contract::intake::id_problem(id, 64) {
        return Err(perm(format!("'{}' {p}", ordo_contract::excerpt(id, 40))));
    }
    let (order_id, customer, invoice, value, currency) = match against {
        Against::Order(id) => {
            let order: Order = ctx
                .get("order", id)
                .await?
                .ok_or_else(|| perm(format!("no order '{id}'")))?;
            (order.id, order.customer_id, None, None, None)
        }
        Against::Invoice(n) => {
            let inv: Invoice = ctx
                .get("invoice", n)
                .await?
                .ok_or_else(|| perm(format!("no invoice '{n}'")))?;
            (
                inv.order_id,
                inv.customer_id,
                Some(inv.number),
                Some(inv.total),
                Some(inv.currency),
            )
        }
    };
    let n = ctx.next_number(SERIES).await?;
    let number = format!("{PREFIX}{n:06}");
    let c = Complaint {
        number: number.clone(),
        customer,
        order_id,
        invoice,
        category: category.to_string(),
        description,
        opened_on: master::today(ctx),
        value,
        currency,
        status: "open".into(),
        priority: None,
        escalated_on: None,
        decision: None,
    };
    ctx.put(SERIES, &number, &c).await?;
    let doc = serde_json::to_value(&c).map_err(|e| perm(format!("{number}: {e}")))?;
    ctx.emit_event(
        OPENED_EVENT,
        &number,
        "opened",
        &json!({ "complaint": doc }),
    )
    .await?;
    Ok(doc)
}

/// Whether `c` still takes a decision: open or escalated.
pub fn decidable(c: &Complaint) -> Result<(), StepError> {
    match c.status.as_str() {
        "open" | "escalated" => Ok(()),
        s => Err(perm(format!(
            "complaint {} is {s} already: it takes no other decision",
            c.number
        ))),
    }
}

/// The status a decision leaves a complaint in.
fn status_of(outcome: &str) -> Result<&'static str, StepError> {
    match outcome {
        "return" => Ok("returned"),
        "credit" => Ok("credited"),
        "close" => Ok("closed"),
        o => Err(perm(format!(
            "outcome '{}' is not one of {}",
            ordo_contract::excerpt(o, 40),
            OUTCOMES.join(", ")
        ))),
    }
}

/// Records `decision` on complaint `number` (its effect — the return or credit note — is
/// already done in this transaction by the caller). Refuses a complaint decided already.
pub async fn record_decision(
    ctx: &mut dyn StepContext,
    number: &str,
    decision: Decision,
) -> Result<Value, StepError> {
    let mut c = load(ctx, number).await?;
    decidable(&c)?;
    c.status = status_of(&decision.outcome)?.into();
    c.decision = Some(decision);
    ctx.put(SERIES, number, &c).await?;
    serde_json::to_value(&c).map_err(|e| perm(format!("{number}: {e}")))
}

fn number_of(input: &StepInput<'_>) -> Result<String, StepError> {
    let c: Complaint = data_field(input.data, "complaint")?;
    Ok(c.number)
}

/// `complaint.escalate`: the SLA ran out (or the rule escalated at once): the case is marked
/// escalated for a manager's task. A case decided meanwhile (its decision came before the
/// workflow reached its wait) goes on with that decision's outcome instead.
pub struct EscalateComplaint;

#[async_trait]
impl Connector for EscalateComplaint {
    fn name(&self) -> &'static str {
        "complaint.escalate"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["escalated", "return", "credit", "close"]
    }
    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let number = number_of(&input)?;
        let mut c = load(ctx, &number).await?;
        if let Some(d) = &c.decision {
            let outcome = OUTCOMES
                .iter()
                .find(|o| **o == d.outcome)
                .ok_or_else(|| perm(format!("{number}: stored outcome '{}'", d.outcome)))?;
            return Ok(StepOutput::outcome(*outcome));
        }
        c.status = "escalated".into();
        c.escalated_on = Some(master::today(ctx));
        if let Some(p) = input.data.get("priority").and_then(Value::as_str) {
            c.priority = Some(ordo_contract::excerpt(p, 40));
        }
        ctx.put(SERIES, &number, &c).await?;
        Ok(StepOutput::outcome("escalated"))
    }
}

/// `complaint.finish` (`with: { outcome: return | credit | close }`): the workflow's end
/// agrees with the stored decision. A manager who closed the task without
/// `ordo complaint decide` (the generic task decision) closes the case with the task's word;
/// a return or credit note decided that way is refused, because only the complaint decision
/// starts the return or issues the credit note.
pub struct FinishComplaint;

#[async_trait]
impl Connector for FinishComplaint {
    fn name(&self) -> &'static str {
        "complaint.finish"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["done"]
    }
    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let number = number_of(&input)?;
        let outcome: String = data_field(input.params, "outcome")?;
        status_of(&outcome)?;
        let c = load(ctx, &number).await?;
        match &c.decision {
            Some(d) if d.outcome == outcome => Ok(StepOutput::outcome("done")),
            Some(d) => Err(perm(format!(
                "{number} was decided '{}', the workflow reached '{outcome}'",
                d.outcome
            ))),
            None if outcome == "close" => {
                let d = Decision {
                    outcome,
                    note: "closed at the manager's task".into(),
                    by: "task".into(),
                    on: master::today(ctx),
                    rma: None,
                    credit_note: None,
                };
                record_decision(ctx, &number, d).await?;
                Ok(StepOutput::outcome("done"))
            }
            None => Err(perm(format!(
                "{number}: '{outcome}' needs `ordo complaint decide {number} --outcome {outcome}` (it starts the return or issues the credit note)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryContext;

    fn seeded() -> MemoryContext {
        let mut ctx = MemoryContext::default();
        ctx.docs.insert(
            ("order".into(), "O-1".into()),
            json!({ "id": "O-1", "customer_id": "C1", "po_number": "PO1", "order_date": "2026-09-21", "currency": "EUR", "lines": [] }),
        );
        ctx
    }

    #[tokio::test]
    async fn a_complaint_is_numbered_stored_and_starts_its_workflow() {
        let mut ctx = seeded();
        let c = open_complaint(&mut ctx, Against::Order("O-1"), "damaged", "  box crushed ")
            .await
            .unwrap();
        assert_eq!(c["number"], "CMP-000001");
        assert_eq!(c["customer"], "C1");
        assert_eq!(c["description"], "box crushed");
        assert_eq!(c["status"], "open");
        assert_eq!(ctx.events.len(), 1);
        assert_eq!(ctx.events[0].0, OPENED_EVENT);
        let d = Decision {
            outcome: "close".into(),
            note: "apologised".into(),
            by: "ann".into(),
            on: NaiveDate::from_ymd_opt(2026, 9, 22).unwrap(),
            rma: None,
            credit_note: None,
        };
        let after = record_decision(&mut ctx, "CMP-000001", d.clone())
            .await
            .unwrap();
        assert_eq!(after["status"], "closed");
        let again = record_decision(&mut ctx, "CMP-000001", d)
            .await
            .unwrap_err();
        assert!(again.to_string().contains("closed already"), "{again}");
    }

    #[tokio::test]
    async fn bad_complaints_are_refused_with_nothing_numbered() {
        let mut ctx = seeded();
        for (against, cat, text, says) in [
            (Against::Order("O-1"), "angry", "x", "category 'angry'"),
            (
                Against::Order("O-1"),
                "damaged",
                "   ",
                "needs a description",
            ),
            (Against::Order("O-9"), "damaged", "x", "no order 'O-9'"),
            (
                Against::Invoice("INV-9"),
                "billing",
                "x",
                "no invoice 'INV-9'",
            ),
            (Against::Order(""), "damaged", "x", "is empty"),
        ] {
            let e = open_complaint(&mut ctx, against, cat, text)
                .await
                .unwrap_err();
            assert!(e.to_string().contains(says), "{says}: {e}");
        }
        let long = "x".repeat(MAX_TEXT + 1);
        let e = open_complaint(&mut ctx, Against::Order("O-1"), "damaged", &long)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("longer than"), "{e}");
        assert!(ctx.events.is_empty());
        assert!(
            !ctx.numbers.contains_key(SERIES),
            "a refused case takes no number"
        );
    }
}

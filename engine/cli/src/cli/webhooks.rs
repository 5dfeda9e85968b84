//! `ordo webhooks deliveries [--failed]` and `ordo webhooks redeliver ID`: the webhook rows
//! of the outbox (`ordo::api::webhooks`), and one queued again from its first attempt. A
//! redelivery is a change a person makes: it needs `admin` or `integration` and is written to
//! the audit trail in its own transaction.

use super::{fail, print_json};
use clap::Subcommand;
use ordo::api::audit::{self, Change};
use ordo::api::auth;
use ordo::runtime::{Engine, EngineError};
use ordo::store::DeliveryState;
use ordo_scenario::table::Table;
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum WebhooksCommand {
    /// Webhook deliveries, newest first: pending, delivered, or failed with the reason.
    Deliveries {
        /// Only those given up after the last attempt.
        #[arg(long)]
        failed: bool,
        #[arg(long, default_value_t = 200)]
        limit: i64,
    },
    /// Queue a delivered or failed delivery again (same event id, first attempt now).
    Redeliver { id: i64 },
}

fn state(d: &DeliveryState) -> &'static str {
    match (d.sent_at, &d.last_error) {
        (None, _) => "pending",
        (Some(_), None) => "delivered",
        (Some(_), Some(_)) => "failed",
    }
}

pub async fn run(
    engine: &Arc<Engine>,
    command: WebhooksCommand,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    match command {
        WebhooksCommand::Deliveries { failed, limit } => {
            if !(1..=100_000).contains(&limit) {
                return Ok(fail("--limit: 1 to 100000"));
            }
            let mut tx = engine.store.begin().await?;
            let rows = tx.webhook_deliveries(failed, limit).await?;
            tx.rollback().await?;
            if json_out {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|d| json!({ "state": state(d), "delivery": d }))
                    .collect();
                print_json(&json!(rows));
                return Ok(ExitCode::SUCCESS);
            }
            let mut t = Table::new(&[
                "id",
                "subscriber",
                "event",
                "queued",
                "state",
                "tries",
                "reason",
            ]);
            for d in &rows {
                t.row(vec![
                    d.id.to_string(),
                    d.channel
                        .strip_prefix(ordo::api::webhooks::CHANNEL_PREFIX)
                        .unwrap_or(&d.channel)
                        .to_string(),
                    d.key.clone(),
                    super::inspect::ms_text(d.created_at),
                    state(d).into(),
                    d.attempts.to_string(),
                    d.last_error.clone().unwrap_or_default(),
                ]);
            }
            print!("{}", t.render());
            Ok(ExitCode::SUCCESS)
        }
        WebhooksCommand::Redeliver { id } => {
            let mut tx = engine.store.begin().await?;
            engine.refresh_clock(tx.as_mut()).await?;
            let actor = match auth::local_actor(tx.as_mut()).await {
                Ok(a) => a,
                Err(e) => return Ok(fail(e)),
            };
            if !actor.has_any(&["integration"]) {
                tx.rollback().await?;
                return Ok(fail(format!(
                    "{}: redelivering webhooks needs the admin or integration role",
                    actor.id
                )));
            }
            let now = engine.clock.now_ms();
            let Some(before) = tx.webhook_delivery(id).await? else {
                tx.rollback().await?;
                return Ok(fail(format!("no webhook delivery {id}")));
            };
            if !tx.redeliver_webhook(id, now).await? {
                tx.rollback().await?;
                return Ok(fail(format!("webhook delivery {id} is still pending")));
            }
            audit::record(
                tx.as_mut(),
                &actor,
                now,
                Change {
                    action: "webhook.redelivered",
                    subject: format!("webhook/{id}"),
                    order_id: None,
                    before: Some(json!({ "state": state(&before), "attempts": before.attempts, "last_error": before.last_error })),
                    after: Some(json!({ "state": "pending", "attempts": 0 })),
                },
            )
            .await?;
            tx.commit().await?;
            println!("webhook delivery {id} ({}): queued again", before.key);
            Ok(ExitCode::SUCCESS)
        }
    }
}

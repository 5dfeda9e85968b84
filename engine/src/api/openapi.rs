//! The OpenAPI 3.1 document of the API, generated from the handlers' `#[utoipa::path]`
//! annotations and the request and response types, so it cannot drift from the code. CI
//! checks it with an independent validator (`tools/openapi-check/run.sh`).

use super::routes;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ordo",
        description = "Order-to-cash engine API. Errors: `{ \"error\": { \"code\", \"message\", \"location\"? } }` with the stable codes of README.md (HTTP API). `POST` routes that create something take an `Idempotency-Key` header.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    paths(
        routes::healthz,
        routes::readyz,
        routes::metrics,
        routes::openapi,
        routes::submit_orders,
        routes::list_orders,
        routes::get_order,
        routes::list_tasks,
        routes::approve_task,
        routes::reject_task,
        routes::get_invoice,
        routes::get_credit_note,
        routes::credit_note,
        routes::request_return,
        routes::open_complaint,
        routes::get_complaint,
        routes::decide_complaint,
        routes::change_order,
        routes::cancel_order,
        routes::request_quote,
        routes::get_quote,
        routes::accept_quote,
        routes::list_exceptions,
        routes::match_exception,
        routes::reject_exception,
        routes::recon_reports,
        routes::get_report,
        routes::partner_file,
        routes::reprocess_partner_file,
        routes::bank_statement,
        routes::list_instances,
        routes::retry_instance,
        routes::send_event,
        routes::list_audit,
    ),
    components(schemas(super::error::ErrorBody, super::error::ErrorDetail, super::error::Code)),
    modifiers(&Bearer, &RateLimited),
    tags(
        (name = "service", description = "Health, readiness, metrics, this document"),
        (name = "orders"), (name = "quotes"), (name = "tasks"), (name = "invoices"), (name = "complaints"), (name = "reconciliation"),
        (name = "files", description = "Partner EDI files and bank statements, as if dropped into their inbound folders"),
        (name = "instances"), (name = "audit"),
        (name = "reports", description = "Business reports (README: Reports); ratios with nothing to divide by are null")
    )
)]
struct Doc;

/// The bearer token scheme every `/api/v1` route uses.
struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("ordo_<id>_<secret>")
                    .build(),
            ),
        );
    }
}

/// Every `/api/v1` operation may answer `429` when `http.rate_limit` is set (the check runs
/// before any handler, so it is declared here once rather than on each handler).
struct RateLimited;

impl utoipa::Modify for RateLimited {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, ResponseBuilder};
        let response = ResponseBuilder::new()
            .description("Over `http.rate_limit`: `rate_limited`, with `Retry-After`")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer))
                    .description(Some("Seconds until a request fits again"))
                    .build(),
            )
            .build();
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1") {
                continue;
            }
            for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                op.responses
                    .responses
                    .insert("429".to_string(), response.clone().into());
            }
        }
    }
}

/// The document as JSON.
pub fn document() -> serde_json::Value {
    serde_json::to_value(Doc::openapi()).unwrap_or_default()
}

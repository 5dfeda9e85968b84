//! The one error shape of the API: `{ "error": { "code", "message", "location"? } }`, with
//! stable codes (the table in README.md, "HTTP API"). Nothing internal reaches a client: a
//! store error is logged and answered `503 unavailable`, a panic `500 internal`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The stable error codes, with their HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// 400: the body is not well-formed JSON (or not UTF-8, or nested too deeply).
    MalformedJson,
    /// 400: a header or query parameter is wrong.
    BadRequest,
    /// 401: no token, a malformed or unknown token, or a disabled user.
    Unauthenticated,
    /// 403: the token is good but its roles do not allow this.
    Forbidden,
    /// 404: no such route or resource.
    NotFound,
    /// 405: the route exists, not with this method.
    MethodNotAllowed,
    /// 408: the client did not send its body in time.
    Timeout,
    /// 409: the state does not allow it (task decided already, Idempotency-Key reused with
    /// another body, duplicate user).
    Conflict,
    /// 413: the body is over `http.body_limit_bytes`.
    PayloadTooLarge,
    /// 415: the body is not of a type the route takes.
    UnsupportedMediaType,
    /// 422: well-formed but invalid content (unknown field, wrong type, a failed check).
    Invalid,
    /// 429: too many requests.
    RateLimited,
    /// 500: a bug; logged with its cause, never shown.
    Internal,
    /// 503: the store or the queue is unreachable; try again.
    Unavailable,
}

impl Code {
    pub fn status(self) -> StatusCode {
        match self {
            Code::MalformedJson | Code::BadRequest => StatusCode::BAD_REQUEST,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::Timeout => StatusCode::REQUEST_TIMEOUT,
            Code::Conflict => StatusCode::CONFLICT,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Code::MalformedJson => "malformed_json",
            Code::BadRequest => "bad_request",
            Code::Unauthenticated => "unauthenticated",
            Code::Forbidden => "forbidden",
            Code::NotFound => "not_found",
            Code::MethodNotAllowed => "method_not_allowed",
            Code::Timeout => "timeout",
            Code::Conflict => "conflict",
            Code::PayloadTooLarge => "payload_too_large",
            Code::UnsupportedMediaType => "unsupported_media_type",
            Code::Invalid => "invalid",
            Code::RateLimited => "rate_limited",
            Code::Internal => "internal",
            Code::Unavailable => "unavailable",
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: Code,
    pub message: String,
    /// Where the input was wrong: a JSON Pointer into the body (`/0/lines/1/quantity`), or
    /// `line:column` for EDI files, statements and unparsable JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub location: Option<String>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            location: None,
        }
    }

    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::new(Code::NotFound, what)
    }

    pub fn invalid(what: impl Into<String>) -> Self {
        ApiError::new(Code::Invalid, what)
    }

    /// The JSON body of this error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
                location: self.location.clone(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.code.status(), axum::Json(self.body())).into_response()
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        if e.is_transient() {
            tracing::warn!(error = %e, "API request: store unreachable");
            ApiError::new(Code::Unavailable, "the store is unreachable; try again")
        } else {
            tracing::error!(error = %e, "API request: store error");
            ApiError::new(Code::Internal, "internal error (logged)")
        }
    }
}

impl From<crate::runtime::EngineError> for ApiError {
    fn from(e: crate::runtime::EngineError) -> Self {
        use crate::runtime::EngineError;
        match e {
            EngineError::Store(s) => s.into(),
            EngineError::Queue(q) => {
                tracing::warn!(error = %q, "API request: queue unreachable");
                ApiError::new(Code::Unavailable, "the queue is unreachable; try again")
            }
            // A refusal is the engine saying no to this input or state, in words meant for
            // the person who asked.
            EngineError::Refused(m) => ApiError::new(Code::Conflict, m),
            EngineError::Definitions(d) => {
                ApiError::new(Code::Unavailable, format!("definitions: {}", d.join("; ")))
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

//! The keystore's one error type and its mapping to HTTP responses. Messages
//! name what failed (a condition, a field, a key name), never secret values.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use outlayer_types::KeystoreErrorBody;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Startup configuration (master secret, tokens, addresses).
    #[error("configuration: {0}")]
    Config(String),
    #[error("missing or unknown bearer token")]
    Unauthorized,
    #[error("attestation refused: {0}")]
    AttestationRefused(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("no secrets stored for profile {profile:?} of {owner} for this accessor")]
    NotFound { profile: String, owner: String },
    /// The contract holds no pending, unanswered request with this id: it
    /// never existed, was settled, or was already resolved.
    #[error("request {request_id} is not pending: {reason}")]
    RequestNotPending {
        request_id: u64,
        reason: &'static str,
    },
    /// The caller does not meet the owner's access condition: `condition`
    /// names the part that failed, `detail` how ("does not hold", or why
    /// the chain's answer could not decide it).
    #[error("access denied for {caller}: {condition} {detail}")]
    AccessDenied {
        condition: String,
        caller: String,
        detail: String,
    },
    /// The condition could not be checked: the request is denied, and
    /// asking again later may succeed.
    #[error("access denied: chain state could not be read ({0})")]
    ChainUnavailable(String),
    /// The condition is malformed or too large to evaluate.
    #[error("access denied: invalid access condition ({0})")]
    InvalidCondition(String),
    #[error("stored secrets cannot be decrypted: {0}")]
    BadCiphertext(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Config(_) | Self::Internal(_) => "internal",
            Self::Unauthorized => "unauthorized",
            Self::AttestationRefused(_) => "attestation_refused",
            Self::BadRequest(_) => "bad_request",
            Self::NotFound { .. } => "not_found",
            Self::RequestNotPending { .. } => "request_not_pending",
            Self::AccessDenied { .. } | Self::InvalidCondition(_) => "access_denied",
            Self::ChainUnavailable(_) => "chain_unavailable",
            Self::BadCiphertext(_) => "bad_ciphertext",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Config(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unauthorized | Self::AttestationRefused(_) => StatusCode::UNAUTHORIZED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::RequestNotPending { .. } => StatusCode::CONFLICT,
            Self::AccessDenied { .. } | Self::InvalidCondition(_) => StatusCode::FORBIDDEN,
            Self::ChainUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::BadCiphertext(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            // Operators get the detail in the log; clients a generic text.
            Self::Internal(_) | Self::Config(_) => {
                tracing::error!(error = %self, "keystore internal error");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        let condition = match &self {
            Self::AccessDenied { condition, .. } => Some(condition.clone()),
            _ => None,
        };
        let body = KeystoreErrorBody {
            error: self.code().to_owned(),
            message,
            condition,
        };
        (status, Json(body)).into_response()
    }
}

//! What can go wrong talking to the coordinator, decided from the HTTP status
//! first: a 5xx is the coordinator (or a proxy in front of it) failing, never
//! the caller's mistake; a 4xx counts as a refusal only when it carries the
//! coordinator's own error body, so a proxy's or a wrong base URL's 404 is
//! not mistaken for "no such job".

use outlayer_types::coordinator::ApiError;

/// Bodies quoted in errors are cut here: enough to diagnose, bounded in logs.
const QUOTE_LIMIT: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No usable answer: connecting failed, the call timed out, or the
    /// body could not be read.
    #[error("coordinator unreachable: {0}")]
    Transport(String),
    /// The coordinator refused the call (4xx with its JSON error body).
    #[error("coordinator refused ({status}): {message}")]
    Refused {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    /// The coordinator or a gateway before it failed (5xx).
    #[error("coordinator unavailable ({status}): {message}")]
    Unavailable { status: u16, message: String },
    /// An answer that is not what the route returns: a success whose body
    /// does not parse, a 4xx without the coordinator's error body, a redirect.
    #[error("coordinator answered HTTP {status} with an unexpected body: {body}")]
    Unexpected { status: u16, body: String },
}

/// The kind of refusal, from the status of a 4xx.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// 400: malformed or invalid input.
    BadRequest,
    /// 401: missing, unknown or revoked token.
    Unauthorized,
    /// 404: no such job, cursor, artifact or route.
    NotFound,
    /// 409: the state forbids it (job claimed by another, lease lost, lock
    /// held by someone else).
    Conflict,
    /// 413: body over the coordinator's limit.
    PayloadTooLarge,
    /// 429: rate limited (and still so after the client's retries).
    RateLimited,
    /// Any other 4xx.
    Other,
}

impl ErrorCode {
    pub fn from_status(status: u16) -> Self {
        match status {
            400 => Self::BadRequest,
            401 => Self::Unauthorized,
            404 => Self::NotFound,
            409 => Self::Conflict,
            413 => Self::PayloadTooLarge,
            429 => Self::RateLimited,
            _ => Self::Other,
        }
    }
}

impl ClientError {
    /// The HTTP status, when the coordinator answered at all.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Transport(_) => None,
            Self::Refused { status, .. }
            | Self::Unavailable { status, .. }
            | Self::Unexpected { status, .. } => Some(*status),
        }
    }

    /// The refusal's kind; `None` for anything that is not a refusal.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code() == Some(ErrorCode::NotFound)
    }

    pub fn is_conflict(&self) -> bool {
        self.code() == Some(ErrorCode::Conflict)
    }

    pub fn is_unauthorized(&self) -> bool {
        self.code() == Some(ErrorCode::Unauthorized)
    }

    pub fn is_bad_request(&self) -> bool {
        self.code() == Some(ErrorCode::BadRequest)
    }

    pub fn is_rate_limited(&self) -> bool {
        self.code() == Some(ErrorCode::RateLimited)
    }

    /// The error for a response that is not a success.
    pub(crate) fn from_response(status: u16, body: &[u8]) -> Self {
        let api_error = serde_json::from_slice::<ApiError>(body).ok();
        if (500..600).contains(&status) {
            let message = api_error.map_or_else(|| quote(body), message_of);
            return Self::Unavailable { status, message };
        }
        match api_error {
            Some(e) if (400..500).contains(&status) => Self::Refused {
                status,
                code: ErrorCode::from_status(status),
                message: message_of(e),
            },
            _ => Self::unexpected(status, body),
        }
    }

    /// One item's refusal within a batch's answer, as the item's own call
    /// would have been refused.
    pub(crate) fn from_item(status: u16, error: ApiError) -> Self {
        if (500..600).contains(&status) {
            return Self::Unavailable {
                status,
                message: message_of(error),
            };
        }
        if (400..500).contains(&status) {
            return Self::Refused {
                status,
                code: ErrorCode::from_status(status),
                message: message_of(error),
            };
        }
        Self::Unexpected {
            status,
            body: format!("{}: {}", error.error, error.message),
        }
    }

    pub(crate) fn unexpected(status: u16, body: &[u8]) -> Self {
        Self::Unexpected {
            status,
            body: quote(body),
        }
    }

    /// A transport failure with its causes: reqwest's own message alone
    /// ("error sending request") hides whether it was a refused connection,
    /// a reset or a timeout.
    pub(crate) fn transport(error: &reqwest::Error) -> Self {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Transport(message)
    }
}

/// A body as text for an error message, cut at [`QUOTE_LIMIT`] bytes.
fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(QUOTE_LIMIT)]);
    if body.len() > QUOTE_LIMIT {
        format!("{text}… ({} bytes)", body.len())
    } else {
        text.into_owned()
    }
}

/// The readable part of an error body (older coordinators sent only `error`).
pub(crate) fn message_of(error: ApiError) -> String {
    if error.message.is_empty() {
        error.error
    } else {
        error.message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_are_never_refusals() {
        for status in [500, 502, 503, 504] {
            let e = ClientError::from_response(status, br#"{"error":"store down"}"#);
            assert!(
                matches!(&e, ClientError::Unavailable { status: s, message } if *s == status && message == "store down"),
                "{e:?}"
            );
            assert_eq!(e.code(), None);
        }
        let e = ClientError::from_response(502, b"<html>bad gateway</html>");
        assert!(
            matches!(e, ClientError::Unavailable { message, .. } if message.contains("bad gateway"))
        );
    }

    #[test]
    fn refusals_need_the_coordinators_body() {
        let e = ClientError::from_response(409, br#"{"error":"lease lost"}"#);
        assert!(e.is_conflict());
        assert_eq!(e.status(), Some(409));
        assert_eq!(e.to_string(), "coordinator refused (409): lease lost");
        // A proxy's 404 page is not "no such job".
        let e = ClientError::from_response(404, b"<h1>Not Found</h1>");
        assert!(!e.is_not_found());
        assert!(matches!(e, ClientError::Unexpected { status: 404, .. }));
        // Neither is a redirect.
        assert!(matches!(
            ClientError::from_response(302, br#"{"error":"x"}"#),
            ClientError::Unexpected { status: 302, .. }
        ));
    }

    #[test]
    fn codes_follow_the_status() {
        let code = |status| ClientError::from_response(status, br#"{"error":"e"}"#).code();
        assert_eq!(code(400), Some(ErrorCode::BadRequest));
        assert_eq!(code(401), Some(ErrorCode::Unauthorized));
        assert_eq!(code(404), Some(ErrorCode::NotFound));
        assert_eq!(code(413), Some(ErrorCode::PayloadTooLarge));
        assert_eq!(code(429), Some(ErrorCode::RateLimited));
        assert_eq!(code(418), Some(ErrorCode::Other));
    }

    #[test]
    fn quoted_bodies_are_bounded() {
        let e = ClientError::unexpected(200, &[b'x'; 10_000]);
        let ClientError::Unexpected { body, .. } = e else {
            unreachable!()
        };
        assert!(body.len() < 600, "{}", body.len());
        assert!(body.ends_with("(10000 bytes)"));
    }
}

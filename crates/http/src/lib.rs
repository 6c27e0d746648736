//! What every OutLayer HTTP service answers alike. Clients parse one error
//! shape, `{"error": "<code>", "message": "<text>"}`, so every error answer
//! must have it: the ones our handlers make, and the ones the framework
//! makes itself (405 with an empty body, 413 and 400 rejections as plain
//! text, a timeout's bare 503). [`json_errors`] rewrites the latter.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The longest framework message kept (they are one line).
const MAX_MESSAGE_BYTES: usize = 1024;

/// The error code clients see for a status when the handler gave none.
pub fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => "timeout",
        s if s.is_server_error() => "internal",
        _ => "error",
    }
}

/// An error answer in the one shape.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": code, "message": message });
    (status, axum::Json(body)).into_response()
}

/// Middleware: an error answer that is not JSON becomes `{error, message}`
/// (its status and headers such as `Allow` and `Retry-After` kept).
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = to_bytes(body, MAX_MESSAGE_BYTES).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let message = match text.trim() {
        "" => status.canonical_reason().unwrap_or("error").to_owned(),
        text => text.to_owned(),
    };
    let body = serde_json::json!({ "error": code_for(status), "message": message }).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

/// A fallback for unknown routes, in the one shape.
pub async fn no_such_route() -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found", "no such route")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::extract::DefaultBodyLimit;
    use axum::routing::post;
    use tower::ServiceExt;

    fn app() -> Router {
        Router::new()
            .route("/echo", post(|body: String| async move { body }))
            .fallback(no_such_route)
            .layer(DefaultBodyLimit::max(16))
            .layer(axum::middleware::from_fn(json_errors))
    }

    async fn call(
        method: &str,
        path: &str,
        body: &str,
    ) -> (StatusCode, Option<String>, serde_json::Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::from(body.to_owned()))
            .unwrap();
        let response = app().oneshot(request).await.unwrap();
        let status = response.status();
        let allow = response
            .headers()
            .get(header::ALLOW)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, allow, json)
    }

    #[tokio::test]
    async fn framework_errors_get_the_one_shape() {
        let (status, allow, body) = call("GET", "/echo", "").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(allow.as_deref(), Some("POST"));
        assert_eq!(body["error"], "method_not_allowed");
        assert_eq!(body["message"], "Method Not Allowed");

        let (status, _, body) = call("POST", "/echo", &"x".repeat(17)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["error"], "payload_too_large");
        assert!(
            body["message"].as_str().unwrap().contains("length limit"),
            "{body}"
        );

        let (status, _, body) = call("GET", "/nope", "").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            body,
            serde_json::json!({"error": "not_found", "message": "no such route"})
        );

        let (status, _, _) = call("POST", "/echo", "fine").await;
        assert_eq!(status, StatusCode::OK);
    }
}

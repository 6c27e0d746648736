//! Http-fetch: fetches the URL given as input (`http://` or `https://`) with
//! `wasi:http/outgoing-handler` and returns `{"status": .., "body": ..}`.
//! Failures (including requests the sandbox's network policy refuses) go to
//! stderr with the `wasi:http` error code, and the program exits with 1.

use wasi::http::outgoing_handler;
use wasi::http::types::{ErrorCode, Fields, Method, OutgoingRequest, Scheme};
use wasi::io::streams::StreamError;

const MAX_BODY: usize = 1024 * 1024;

fn main() {
    let url = outlayer_sdk::input_string();
    match fetch(url.trim()) {
        Ok((status, body)) => outlayer_sdk::output_json(&serde_json::json!({
            "status": status,
            "body": String::from_utf8_lossy(&body),
        })),
        Err(message) => {
            eprintln!("http-fetch: {message}");
            std::process::exit(1);
        }
    }
}

fn fetch(url: &str) -> Result<(u16, Vec<u8>), String> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else {
        return Err(format!(
            "unsupported URL {url:?}: expected http:// or https://"
        ));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };

    let request = OutgoingRequest::new(Fields::new());
    request
        .set_method(&Method::Get)
        .map_err(|()| "invalid method")?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| "invalid scheme")?;
    request
        .set_authority(Some(authority))
        .map_err(|()| format!("invalid authority {authority:?}"))?;
    request
        .set_path_with_query(Some(path))
        .map_err(|()| format!("invalid path {path:?}"))?;

    let pending = outgoing_handler::handle(request, None).map_err(describe)?;
    pending.subscribe().block();
    let response = pending
        .get()
        .ok_or("response not ready after waiting")?
        .map_err(|()| "response already taken")?
        .map_err(describe)?;

    let status = response.status();
    let body = response
        .consume()
        .map_err(|()| "response body already taken")?;
    let stream = body
        .stream()
        .map_err(|()| "response stream already taken")?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > MAX_BODY {
                    return Err(format!("response body larger than {MAX_BODY} bytes"));
                }
            }
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(format!("reading the body failed: {}", e.to_debug_string()));
            }
        }
    }
    Ok((status, bytes))
}

fn describe(error: ErrorCode) -> String {
    format!("request failed: {error:?}")
}

//! `fetch` over `wasi:http/outgoing-handler`: every request goes through
//! the sandbox's outbound HTTP policy (allowed hosts, private addresses
//! refused, request count, timeouts, response size), exactly as for a Rust
//! program built for WASI P2.

use rquickjs::{Ctx, Exception, Object, Result};
use wasi::http::outgoing_handler;
use wasi::http::types::{ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
use wasi::io::streams::StreamError;

/// A response body beyond this is an error, not a truncated text.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

/// `host.fetch(url, method, [[name, value]...], body)` → `{status, headers,
/// body}`; the prelude wraps it in a `Response`. Failures are thrown as
/// `TypeError`, what `fetch` rejects with on network errors.
pub fn fetch<'js>(
    ctx: Ctx<'js>,
    url: String,
    method: String,
    headers: Vec<Vec<String>>,
    body: Option<String>,
) -> Result<Object<'js>> {
    let mut pairs = Vec::with_capacity(headers.len());
    for header in headers {
        let [name, value]: [String; 2] = header
            .try_into()
            .map_err(|_| Exception::throw_type(&ctx, "fetch: a header is a [name, value] pair"))?;
        pairs.push((name, value));
    }
    let reply = send(&url, &method, &pairs, body.as_deref())
        .map_err(|message| Exception::throw_type(&ctx, &format!("fetch {url}: {message}")))?;
    let object = Object::new(ctx.clone())?;
    object.set("status", reply.status)?;
    let headers: Vec<Vec<String>> = reply.headers.into_iter().map(|(n, v)| vec![n, v]).collect();
    object.set("headers", headers)?;
    object.set("body", reply.body)?;
    Ok(object)
}

fn send(
    url: &str,
    method: &str,
    headers: &[(String, String)],
    body: Option<&str>,
) -> std::result::Result<Reply, String> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else {
        return Err("only http:// and https:// URLs can be fetched".into());
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_owned()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_owned()),
    };
    let method = match method.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        "OPTIONS" => Method::Options,
        other => Method::Other(other.to_owned()),
    };

    let fields = Fields::new();
    for (name, value) in headers {
        fields
            .append(name, &value.as_bytes().to_vec())
            .map_err(|e| format!("header {name:?} refused: {e:?}"))?;
    }
    let request = OutgoingRequest::new(fields);
    request.set_method(&method).map_err(|()| "invalid method")?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| "invalid scheme")?;
    request
        .set_authority(Some(authority))
        .map_err(|()| format!("invalid host {authority:?}"))?;
    request
        .set_path_with_query(Some(&path))
        .map_err(|()| format!("invalid path {path:?}"))?;
    let outgoing = request.body().map_err(|()| "request body unavailable")?;

    let pending = outgoing_handler::handle(request, None).map_err(describe)?;
    // A body the server stopped reading (it answered early, or the policy
    // refused the request) is not the error: the response says what happened.
    let sent = write_body(outgoing, body.unwrap_or_default().as_bytes());
    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(describe(code)),
        _ => {
            return Err(sent
                .err()
                .unwrap_or_else(|| "no response after waiting".into()));
        }
    };

    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let incoming = response
        .consume()
        .map_err(|()| "response body already taken")?;
    let stream = incoming
        .stream()
        .map_err(|()| "response stream already taken")?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > MAX_BODY_BYTES {
                    return Err(format!("response body larger than {MAX_BODY_BYTES} bytes"));
                }
            }
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(format!(
                    "reading the response failed: {}",
                    e.to_debug_string()
                ));
            }
        }
    }
    Ok(Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

fn write_body(outgoing: OutgoingBody, bytes: &[u8]) -> std::result::Result<(), String> {
    {
        let stream = outgoing
            .write()
            .map_err(|()| "request body stream unavailable")?;
        for chunk in bytes.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| format!("sending the body failed: {e:?}"))?;
        }
    }
    OutgoingBody::finish(outgoing, None).map_err(describe)
}

fn describe(error: ErrorCode) -> String {
    match error {
        ErrorCode::HttpRequestDenied => "refused by the sandbox's network policy".into(),
        ErrorCode::DestinationIpProhibited => {
            "the address is private or reserved: refused by the sandbox's network policy".into()
        }
        ErrorCode::DnsError(e) => format!("DNS lookup failed ({:?})", e.rcode),
        ErrorCode::ConnectionRefused => "connection refused".into(),
        ErrorCode::ConnectionTimeout => "connection timed out".into(),
        other => format!("{other:?}"),
    }
}

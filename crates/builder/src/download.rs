//! Prebuilt binaries (`WasmUrl`): downloaded with a size cap and a timeout,
//! then checked against the SHA-256 the source names.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::Url;
use reqwest::redirect::Policy;

use crate::error::BuildError;
use crate::wasm;

/// Redirects followed, each to an allowed address.
const MAX_REDIRECTS: usize = 5;

/// Whether binaries may be fetched from `url`: https anywhere, plain http
/// only to a loopback address and only in development.
fn allowed(url: &Url, allow_loopback_http: bool) -> Result<(), String> {
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if allow_loopback_http && is_loopback(url) => Ok(()),
        "http" => Err("only https:// URLs are downloaded".into()),
        _ => Err(format!("{}:// URLs are not downloaded", url.scheme())),
    }
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    // IPv6 hosts come bracketed.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// A client for [`download`]: redirects re-checked against the same rule.
pub(crate) fn client(allow_loopback_http: bool) -> Result<reqwest::Client, BuildError> {
    let policy = Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if let Err(reason) = allowed(attempt.url(), allow_loopback_http) {
            attempt.error(format!("redirect refused: {reason}"))
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .redirect(policy)
        .user_agent(concat!("outlayer-builder/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| BuildError::ToolMissing {
            tool: "http client",
            detail: error.to_string(),
        })
}

/// Downloads `url` (at most `max_bytes`, within `timeout`) and checks it is
/// the binary `hash` names.
pub(crate) async fn download(
    client: &reqwest::Client,
    url: &str,
    hash: &str,
    allow_loopback_http: bool,
    max_bytes: u64,
    timeout: Duration,
) -> Result<Vec<u8>, BuildError> {
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(BuildError::InvalidSource(
            "hash must be a SHA-256 in hex (64 digits)".into(),
        ));
    }
    let parsed =
        Url::parse(url).map_err(|error| BuildError::InvalidSource(format!("bad URL: {error}")))?;
    allowed(&parsed, allow_loopback_http).map_err(BuildError::Download)?;

    let fetch = async {
        let mut response = client
            .get(parsed)
            .send()
            .await
            .map_err(|error| BuildError::Download(describe(&error)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(BuildError::Download(format!("server answered {status}")));
        }
        if response
            .content_length()
            .is_some_and(|length| length > max_bytes)
        {
            return Err(BuildError::BadArtifact(format!(
                "larger than {max_bytes} bytes"
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| BuildError::Download(describe(&error)))?
        {
            if (body.len() + chunk.len()) as u64 > max_bytes {
                return Err(BuildError::BadArtifact(format!(
                    "larger than {max_bytes} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    let body = tokio::time::timeout(timeout, fetch)
        .await
        .map_err(|_| BuildError::Timeout {
            stage: crate::Stage::Download,
            limit: timeout,
            log: String::new(),
        })??;

    let actual = wasm::sha256_hex(&body);
    if !actual.eq_ignore_ascii_case(hash) {
        return Err(BuildError::HashMismatch {
            expected: hash.to_ascii_lowercase(),
            actual,
        });
    }
    Ok(body)
}

/// reqwest's error without the URL (it is the user's own anyway, but keeps
/// summaries short), with its cause.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_redirect() {
        "bad redirect"
    } else if error.is_body() || error.is_decode() {
        "reading the body failed"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(error);
    let mut cause = None;
    while let Some(inner) = source {
        cause = Some(inner.to_string());
        source = inner.source();
    }
    match cause {
        Some(cause) => format!("{kind}: {cause}"),
        None => kind.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_policy() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(allowed(&url("https://example.com/a.wasm"), false).is_ok());
        assert!(allowed(&url("http://example.com/a.wasm"), true).is_err());
        assert!(allowed(&url("http://127.0.0.1:8080/a.wasm"), false).is_err());
        assert!(allowed(&url("http://127.0.0.1:8080/a.wasm"), true).is_ok());
        assert!(allowed(&url("http://[::1]:8080/a.wasm"), true).is_ok());
        assert!(allowed(&url("http://localhost/a.wasm"), true).is_ok());
        assert!(allowed(&url("file:///etc/passwd"), true).is_err());
        assert!(allowed(&url("ftp://example.com/a"), true).is_err());
    }
}

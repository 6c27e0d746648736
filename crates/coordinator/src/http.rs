//! The raw HTTP layer of the keystore proxy: plain HTTP/1 over a pooled
//! connector (the keystore sits on an internal network, or on localhost),
//! status and body passed back as they came. Clients of the coordinator use
//! the `outlayer-coordinator-client` crate instead.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::error::{Error, Result};

#[derive(Clone)]
pub(crate) struct HttpClient {
    inner: Client<HttpConnector, Full<Bytes>>,
}

impl HttpClient {
    pub(crate) fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Self {
            inner: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(connector),
        }
    }

    /// One request (a JSON body when there is one); status and body, or
    /// `Unavailable` when no answer came within `timeout`.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &str,
        bearer: Option<&str>,
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<(StatusCode, Bytes)> {
        let mut builder = Request::builder().method(method).uri(url);
        if let Some(token) = bearer {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if body.is_some() {
            builder = builder.header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        // A bad URL is a bad setting (KEYSTORE_URL), not the caller's mistake.
        let request = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| Error::Internal(format!("bad request URL {url}: {e}")))?;
        let call = async {
            let response = self
                .inner
                .request(request)
                .await
                .map_err(|e| Error::Unavailable(format!("{url}: {e}")))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| Error::Unavailable(format!("{url}: {e}")))?
                .to_bytes();
            Ok((parts.status, body))
        };
        tokio::time::timeout(timeout, call)
            .await
            .map_err(|_| Error::Unavailable(format!("{url}: timed out")))?
    }
}

//! The public proxy to the keystore's public-key endpoint. The keystore lives
//! on an internal network; the coordinator forwards exactly one route to it,
//! with its own credentials, and passes status and body back unchanged.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Method, StatusCode};

use crate::error::{Error, Result};
use crate::http::HttpClient;

pub struct KeystoreProxy {
    base: String,
    token: Option<String>,
    http: HttpClient,
}

const TIMEOUT: Duration = Duration::from_secs(10);

impl KeystoreProxy {
    pub fn new(base: &str, token: Option<String>) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http: HttpClient::new(),
        }
    }

    /// `POST {keystore}/pubkey` with the body as given.
    pub async fn pubkey(&self, body: Bytes) -> Result<(StatusCode, Bytes)> {
        let url = format!("{}/pubkey", self.base);
        let (status, body) = self
            .http
            .send(
                Method::POST,
                &url,
                self.token.as_deref(),
                Some(body.to_vec()),
                TIMEOUT,
            )
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "keystore unreachable");
                Error::Unavailable("keystore unavailable".into())
            })?;
        Ok((status, body))
    }

    /// Whether the keystore answers its health route.
    pub async fn health(&self) -> Result<()> {
        let url = format!("{}/health", self.base);
        let (status, _) = self
            .http
            .send(
                Method::GET,
                &url,
                self.token.as_deref(),
                None,
                Duration::from_secs(3),
            )
            .await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(Error::Unavailable(format!("keystore health: {status}")))
        }
    }
}

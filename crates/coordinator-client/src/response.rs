//! A response as it came, for [`crate::CoordinatorClient::raw`] and as the
//! step between the wire and a typed result.

use outlayer_types::coordinator::ApiError;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::ClientError;

#[derive(Debug)]
pub struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The body as JSON, whatever the status (`/health/detailed` answers
    /// its report with a 503 too).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        serde_json::from_slice(&self.body)
            .map_err(|_| ClientError::unexpected(self.status.as_u16(), &self.body))
    }

    /// The message of an error response: the coordinator's `message` field,
    /// or the body as text when it is not the coordinator's.
    pub fn error_message(&self) -> String {
        self.json::<ApiError>()
            .map(crate::error::message_of)
            .unwrap_or_else(|_| String::from_utf8_lossy(&self.body).into_owned())
    }

    /// This response when it is a success, else the error it stands for.
    pub fn error_for_status(self) -> Result<Self, ClientError> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(ClientError::from_response(self.status.as_u16(), &self.body))
        }
    }
}

//! Extractors whose rejections go through our one error type, so a bad body,
//! path or query is a 4xx JSON message like every other error.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::Caller;
use crate::error::Error;
use crate::service::Coordinator;

/// A JSON body.
pub(super) struct ApiJson<T>(pub(super) T);

impl<T: DeserializeOwned> FromRequest<Arc<Coordinator>> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &Arc<Coordinator>) -> Result<Self, Error> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_error(rejection, state.config.max_body_bytes)),
        }
    }
}

fn json_error(rejection: JsonRejection, limit: usize) -> Error {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return Error::PayloadTooLarge(limit);
    }
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            Error::BadRequest("expected Content-Type: application/json".into())
        }
        other => Error::BadRequest(other.body_text()),
    }
}

/// A raw body (artifacts), bounded by `max_artifact_bytes`: axum's own
/// rejection of an oversized body is plain text, ours is the JSON every
/// other error is.
pub(super) struct ApiBytes(pub(super) Bytes);

impl FromRequest<Arc<Coordinator>> for ApiBytes {
    type Rejection = Error;

    async fn from_request(request: Request, state: &Arc<Coordinator>) -> Result<Self, Error> {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(Error::PayloadTooLarge(state.config.max_artifact_bytes))
            }
            Err(rejection) => Err(Error::BadRequest(rejection.body_text())),
        }
    }
}

/// Path parameters.
pub(super) struct ApiPath<T>(pub(super) T);

impl<T: DeserializeOwned + Send> FromRequestParts<Arc<Coordinator>> for ApiPath<T> {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<Coordinator>,
    ) -> Result<Self, Error> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e: PathRejection| Error::BadRequest(e.body_text()))
    }
}

/// Query parameters.
pub(super) struct ApiQuery<T>(pub(super) T);

impl<T: DeserializeOwned> FromRequestParts<Arc<Coordinator>> for ApiQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<Coordinator>,
    ) -> Result<Self, Error> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| Error::BadRequest(e.body_text()))
    }
}

/// An authenticated worker (the token's name). With authentication turned
/// off (`outlayer dev`), every caller is the worker `dev`.
pub struct Worker(pub String);

impl FromRequestParts<Arc<Coordinator>> for Worker {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<Coordinator>,
    ) -> Result<Self, Error> {
        match parts.extensions.get::<Caller>() {
            Some(Caller::Worker(name)) => Ok(Self(name.clone())),
            _ if state.config.insecure_no_auth => Ok(Self("dev".into())),
            _ => {
                state.metrics.auth_failure();
                Err(Error::Unauthorized)
            }
        }
    }
}

//! How values cross between the API and the store's columns.
//!
//! The API counts in `u64`; the database's integers are BIGINT (`i64`).
//! Each way has one conversion: [`to_db`] refuses a value above `i64::MAX`
//! as a bad request (`<what> out of range`: it names nothing the store
//! could hold), and [`from_db`] reads back what the store wrote from a
//! checked `u64`, the clock or a count, never negative (one would read as
//! 0 rather than wrap). Job and request ids and block heights are newtypes
//! that went through them, so they bind and decode as they are. The row
//! decoders the views share (states, categories, metrics, costs, times)
//! are here too.

use std::fmt;

use outlayer_types::coordinator::{ErrorCategory, JobState, JobType, RequestStatus};
use outlayer_types::{ResourceMetrics, U128};
use serde::Serialize;
use sqlx::any::{Any, AnyRow, AnyTypeInfo};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Row, Type};

use crate::error::{Error, Result};

/// A `u64` from the API as a BIGINT; above `i64::MAX` it is refused.
pub(super) fn to_db(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::BadRequest(format!("{what} out of range")))
}

/// A measurement (metrics, a lease's length) as a BIGINT, capped at
/// `i64::MAX` rather than refused: a report is recorded even when absurd.
pub(super) fn to_db_capped(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A BIGINT the store wrote back as the API's `u64`.
pub(super) fn from_db(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// An integer id (or height) as the store keeps it: a BIGINT that went
/// through [`to_db`] on its way in, or that the store wrote.
macro_rules! db_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub(super) struct $name(i64);

        impl $name {
            #[doc = concat!("From the API; refused above `i64::MAX` (`", $what, " out of range`).")]
            pub(super) fn new(value: u64) -> Result<Self> {
                to_db(value, $what).map(Self)
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> u64 {
                from_db(id.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl Type<Any> for $name {
            fn type_info() -> AnyTypeInfo {
                <i64 as Type<Any>>::type_info()
            }

            fn compatible(ty: &AnyTypeInfo) -> bool {
                <i64 as Type<Any>>::compatible(ty)
            }
        }

        impl Encode<'_, Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <Any as Database>::ArgumentBuffer,
            ) -> std::result::Result<IsNull, BoxDynError> {
                <i64 as Encode<'_, Any>>::encode_by_ref(&self.0, buf)
            }
        }

        impl<'r> Decode<'r, Any> for $name {
            fn decode(
                value: <Any as Database>::ValueRef<'r>,
            ) -> std::result::Result<Self, BoxDynError> {
                <i64 as Decode<'r, Any>>::decode(value).map(Self)
            }
        }
    };
}

db_id!(
    /// A job's id (`jobs.id`).
    JobId,
    "job_id"
);
db_id!(
    /// A request's id (`requests.request_id`, `jobs.request_id`).
    RequestId,
    "request_id"
);
db_id!(
    /// A block height (a settlement's block, a monitor's cursor).
    BlockHeight,
    "block_height"
);

impl RequestId {
    /// A request named by a route's path: its message has always said
    /// `request id`.
    pub(super) fn from_path(value: u64) -> Result<Self> {
        to_db(value, "request id").map(Self)
    }
}

/// A BIGINT column (a time, count or size) as the API's `u64`.
pub(super) fn u64_at(row: &AnyRow, column: &str) -> Result<u64> {
    Ok(from_db(row.try_get(column)?))
}

/// A nullable BIGINT column as the API's `u64`.
pub(super) fn opt_u64_at(row: &AnyRow, column: &str) -> Result<Option<u64>> {
    Ok(row.try_get::<Option<i64>, _>(column)?.map(from_db))
}

pub(super) fn job_type(row: &AnyRow) -> Result<JobType> {
    let name: String = row.try_get("job_type")?;
    JobType::parse(&name).ok_or_else(|| Error::Internal(format!("unknown job type {name}")))
}

pub(super) fn job_state(row: &AnyRow) -> Result<JobState> {
    let state: String = row.try_get("state")?;
    JobState::parse(&state).ok_or_else(|| Error::Internal(format!("unknown job state {state}")))
}

pub(super) fn request_status(row: &AnyRow) -> Result<RequestStatus> {
    let status: String = row.try_get("status")?;
    RequestStatus::parse(&status).ok_or_else(|| Error::Internal(format!("unknown status {status}")))
}

/// `error_category`, when it names one we know.
pub(super) fn category(row: &AnyRow) -> Result<Option<ErrorCategory>> {
    let category: Option<String> = row.try_get("error_category")?;
    Ok(category.as_deref().and_then(ErrorCategory::parse))
}

/// Metrics from their JSON column, when present and readable.
pub(super) fn metrics(row: &AnyRow, column: &str) -> Result<Option<ResourceMetrics>> {
    let metrics: Option<String> = row.try_get(column)?;
    Ok(metrics.and_then(|m| serde_json::from_str(&m).ok()))
}

/// A cost from its decimal text column, when present and readable.
pub(super) fn cost(row: &AnyRow, column: &str) -> Result<Option<U128>> {
    let cost: Option<String> = row.try_get(column)?;
    Ok(cost.and_then(|c| c.parse::<u128>().ok()).map(U128))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cross_once_checked() {
        let max = u64::try_from(i64::MAX).unwrap();
        for value in [0, 1, max] {
            assert_eq!(
                to_db(value, "job_id").unwrap().to_string(),
                value.to_string()
            );
            assert_eq!(u64::from(JobId::new(value).unwrap()), value);
            assert_eq!(u64::from(RequestId::new(value).unwrap()), value);
            assert_eq!(u64::from(RequestId::from_path(value).unwrap()), value);
            assert_eq!(u64::from(BlockHeight::new(value).unwrap()), value);
        }
        let refused = |e: Error| match e {
            Error::BadRequest(message) => message,
            other => panic!("not a bad request: {other}"),
        };
        for value in [max + 1, u64::MAX] {
            assert_eq!(
                refused(to_db(value, "limit").unwrap_err()),
                "limit out of range"
            );
            assert_eq!(
                refused(JobId::new(value).unwrap_err()),
                "job_id out of range"
            );
            assert_eq!(
                refused(RequestId::new(value).unwrap_err()),
                "request_id out of range"
            );
            assert_eq!(
                refused(RequestId::from_path(value).unwrap_err()),
                "request id out of range"
            );
            assert_eq!(
                refused(BlockHeight::new(value).unwrap_err()),
                "block_height out of range"
            );
        }
        assert_eq!(from_db(0), 0);
        assert_eq!(from_db(i64::MAX), max);
        assert_eq!(from_db(-1), 0);
        assert_eq!(to_db_capped(u64::MAX), i64::MAX);
        assert_eq!(to_db_capped(7), 7);
    }
}

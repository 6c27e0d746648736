//! Read-only views of requests and jobs for the public routes and metrics.

use outlayer_types::coordinator::{ErrorCategory, JobInfo, JobState, RequestStatus};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::jobs::{JobFilter, job_type, to_i64};
use super::{Store, trusted_sql};
use crate::error::{Error, Result};

impl Store {
    /// Recent jobs, newest first.
    pub async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<JobInfo>> {
        let mut sql = String::from(
            "SELECT id, request_id, job_type, state, attempt, worker_id, error_category, error, \
             output_summary, metrics, actual_cost, created_at, updated_at, claimed_at, finished_at \
             FROM jobs WHERE 1 = 1",
        );
        if let Some(state) = filter.state {
            sql.push_str(&format!(" AND state = '{}'", state.as_str()));
        }
        if let Some(job_type) = filter.job_type {
            sql.push_str(&format!(" AND job_type = '{}'", job_type.as_str()));
        }
        if filter.request_id.is_some() {
            sql.push_str(" AND request_id = $3");
        }
        sql.push_str(" ORDER BY id DESC LIMIT $1 OFFSET $2");
        let mut query = sqlx::query(trusted_sql(sql))
            .bind(to_i64(filter.limit, "limit")?)
            .bind(to_i64(filter.offset, "offset")?);
        if let Some(request_id) = filter.request_id {
            query = query.bind(to_i64(request_id, "request_id")?);
        }
        let rows = query.fetch_all(&self.read).await?;
        rows.iter().map(job_info).collect()
    }

    /// Counts of jobs in each state, for tests and stats.
    pub async fn job_state_counts(&self) -> Result<Vec<(JobState, u64)>> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
            .fetch_all(&self.read)
            .await?;
        let mut counts = Vec::new();
        for row in rows {
            let state: String = row.try_get("state")?;
            let n: i64 = row.try_get("n")?;
            if let Some(state) = JobState::parse(&state) {
                counts.push((state, n as u64));
            }
        }
        Ok(counts)
    }

    /// Counts of requests in each status.
    pub async fn request_status_counts(&self) -> Result<Vec<(RequestStatus, u64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM requests GROUP BY status")
            .fetch_all(&self.read)
            .await?;
        let mut counts = Vec::new();
        for row in rows {
            let status: String = row.try_get("status")?;
            let n: i64 = row.try_get("n")?;
            if let Some(status) = RequestStatus::parse(&status) {
                counts.push((status, n as u64));
            }
        }
        Ok(counts)
    }
}

pub(super) fn job_info(row: &AnyRow) -> Result<JobInfo> {
    let state: String = row.try_get("state")?;
    let category: Option<String> = row.try_get("error_category")?;
    let metrics: Option<String> = row.try_get("metrics")?;
    let cost: Option<String> = row.try_get("actual_cost")?;
    Ok(JobInfo {
        job_id: row.try_get::<i64, _>("id")? as u64,
        request_id: row.try_get::<i64, _>("request_id")? as u64,
        job_type: job_type(row)?,
        state: JobState::parse(&state)
            .ok_or_else(|| Error::Internal(format!("unknown job state {state}")))?,
        attempt: row.try_get::<i64, _>("attempt")? as u32,
        worker_id: row.try_get("worker_id")?,
        error_category: category.as_deref().and_then(ErrorCategory::parse),
        error: row.try_get("error")?,
        output_summary: row.try_get("output_summary")?,
        metrics: metrics.and_then(|m| serde_json::from_str(&m).ok()),
        actual_cost: cost
            .and_then(|c| c.parse::<u128>().ok())
            .map(outlayer_types::U128),
        created_at_ms: row.try_get::<i64, _>("created_at")? as u64,
        updated_at_ms: row.try_get::<i64, _>("updated_at")? as u64,
        claimed_at_ms: row
            .try_get::<Option<i64>, _>("claimed_at")?
            .map(|t| t as u64),
        finished_at_ms: row
            .try_get::<Option<i64>, _>("finished_at")?
            .map(|t| t as u64),
    })
}

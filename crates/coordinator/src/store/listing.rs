//! Read-only views of requests and jobs for the public routes and metrics.

use outlayer_types::coordinator::{JobInfo, JobState, RequestStatus};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::columns::{
    JobId, RequestId, category, cost, job_state, job_type, metrics, opt_u64_at, to_db, u64_at,
};
use super::jobs::JobFilter;
use super::{Store, trusted_sql};
use crate::error::Result;

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
            .bind(to_db(filter.limit, "limit")?)
            .bind(to_db(filter.offset, "offset")?);
        if let Some(request_id) = filter.request_id {
            query = query.bind(RequestId::new(request_id)?);
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
            if let Some(state) = JobState::parse(&state) {
                counts.push((state, u64_at(&row, "n")?));
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
            if let Some(status) = RequestStatus::parse(&status) {
                counts.push((status, u64_at(&row, "n")?));
            }
        }
        Ok(counts)
    }
}

fn job_info(row: &AnyRow) -> Result<JobInfo> {
    Ok(JobInfo {
        job_id: row.try_get::<JobId, _>("id")?.into(),
        request_id: row.try_get::<RequestId, _>("request_id")?.into(),
        job_type: job_type(row)?,
        state: job_state(row)?,
        attempt: row.try_get::<i64, _>("attempt")? as u32,
        worker_id: row.try_get("worker_id")?,
        error_category: category(row)?,
        error: row.try_get("error")?,
        output_summary: row.try_get("output_summary")?,
        metrics: metrics(row, "metrics")?,
        actual_cost: cost(row, "actual_cost")?,
        created_at_ms: u64_at(row, "created_at")?,
        updated_at_ms: u64_at(row, "updated_at")?,
        claimed_at_ms: opt_u64_at(row, "claimed_at")?,
        finished_at_ms: opt_u64_at(row, "finished_at")?,
    })
}

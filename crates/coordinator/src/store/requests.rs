//! Requests as the public views see them: filtered pages, one request with
//! its jobs and timeline, the totals for stats, and the fill-in of columns
//! added after rows were written.

use outlayer_types::coordinator::{
    BuildStep, ErrorCategory, ExecutionSettled, FailureCounts, JobInfo, JobState, JobType,
    RequestDetail, RequestStatus, RequestSummary, RequestTimeline, RequestedStep, ResolveStep,
    RunStep, SettledStep,
};
use outlayer_types::{CodeSource, ExecutionRequest, ResourceMetrics};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::columns::{
    BlockHeight, RequestId, category, cost, from_db, metrics, opt_u64_at, request_status, to_db,
    to_db_capped, u64_at,
};
use super::jobs::JobFilter;
use super::{Dialect, Store, trusted_sql};
use crate::error::{Error, Result};

/// Filters for the public request listing.
#[derive(Clone, Debug, Default)]
pub struct RequestFilter {
    /// Sender or payer, exactly.
    pub account: Option<String>,
    pub status: Option<RequestStatus>,
    /// A substring of the repository or URL, or of a package's path
    /// (case-sensitive).
    pub source: Option<String>,
    /// Settled (a monitor reported the contract's settlement) or not.
    pub settled: Option<bool>,
    /// Settled with this verdict (implies settled).
    pub settled_success: Option<bool>,
    pub limit: u64,
    pub offset: u64,
}

/// What the `source` filter searches: the repository or URL (or
/// `javascript:<sha256>` for inline code), and a
/// package's path after a newline (a query has no control characters, so
/// no match spans the two).
pub(super) fn source_text(source: &CodeSource) -> String {
    match source {
        CodeSource::GitHub { repo, .. } => repo.clone(),
        CodeSource::GitPackage { repo, path, .. } | CodeSource::GitScript { repo, path, .. } => {
            format!("{repo}\n{path}")
        }
        CodeSource::WasmUrl { url, .. } => url.clone(),
        // Inline code is found by its kind and content hash, never its text.
        CodeSource::JavaScript { .. } => format!("javascript:{}", source.artifact_checksum()),
    }
}

/// The builder's summary in a job's error (`compilation_failed: <summary>`).
fn build_summary(job: &JobInfo) -> Option<String> {
    if job.error_category != Some(ErrorCategory::CompilationFailed) {
        return None;
    }
    let error = job.error.as_deref()?;
    let prefix = format!("{}: ", ErrorCategory::CompilationFailed.as_str());
    Some(error.strip_prefix(&prefix).unwrap_or(error).to_owned())
}

const SUMMARY_COLUMNS: &str = "SELECT r.request_id, r.body, r.status, r.artifact_checksum, \
     r.error_category, r.error, r.created_at, r.updated_at, r.settled_success, r.settled_at, \
     e.metrics AS run_metrics, \
     COALESCE(e.actual_cost, c.actual_cost) AS cost FROM requests r \
     LEFT JOIN jobs e ON e.request_id = r.request_id AND e.job_type = 'execute' \
     LEFT JOIN jobs c ON c.request_id = r.request_id AND c.job_type = 'compile'";

fn summary(row: &AnyRow) -> Result<RequestSummary> {
    let request_id: RequestId = row.try_get("request_id")?;
    let body: String = row.try_get("body")?;
    let request: ExecutionRequest = serde_json::from_str(&body)
        .map_err(|e| Error::Internal(format!("stored request {request_id}: {e}")))?;
    Ok(RequestSummary {
        request_id: request_id.into(),
        status: request_status(row)?,
        sender_id: request.context.sender_id,
        payer_account_id: request.payer_account_id,
        artifact_checksum: row.try_get("artifact_checksum")?,
        code_source: request.code_source,
        resource_limits: request.resource_limits,
        max_compile_seconds: request.max_compile_seconds,
        response_format: request.response_format,
        secrets_ref: request.secrets_ref,
        payment: request.payment,
        block_height: request.context.block_height,
        block_timestamp: request.context.block_timestamp,
        transaction_hash: request.context.transaction_hash,
        error_category: category(row)?,
        error: row.try_get("error")?,
        metrics: metrics(row, "run_metrics")?,
        actual_cost: cost(row, "cost")?,
        created_at_ms: u64_at(row, "created_at")?,
        updated_at_ms: u64_at(row, "updated_at")?,
        settled_success: row
            .try_get::<Option<i64>, _>("settled_success")?
            .map(|s| s != 0),
        settled_at_ms: opt_u64_at(row, "settled_at")?,
    })
}

impl Store {
    /// Requests, newest (highest id) first.
    pub async fn list_requests(&self, filter: &RequestFilter) -> Result<Vec<RequestSummary>> {
        let mut sql = format!("{SUMMARY_COLUMNS} WHERE 1 = 1");
        if let Some(status) = filter.status {
            sql.push_str(&format!(" AND r.status = '{}'", status.as_str()));
        }
        // settled_success is set with the rest of the settlement (never
        // alone), so it tells settled requests apart.
        match (filter.settled, filter.settled_success) {
            (_, Some(success)) => {
                sql.push_str(&format!(" AND r.settled_success = {}", i64::from(success)))
            }
            (Some(true), None) => sql.push_str(" AND r.settled_success IS NOT NULL"),
            (Some(false), None) => sql.push_str(" AND r.settled_success IS NULL"),
            (None, None) => {}
        }
        let mut next = 3;
        if filter.account.is_some() {
            sql.push_str(&format!(
                " AND (r.sender_id = ${next} OR r.payer_id = ${next})"
            ));
            next += 1;
        }
        if filter.source.is_some() {
            // Plain substring search, case-sensitive on both engines (LIKE
            // is case-insensitive on SQLite and needs escaping).
            let find = match self.dialect {
                Dialect::Postgres => "strpos",
                Dialect::Sqlite => "instr",
            };
            sql.push_str(&format!(" AND {find}(r.source, ${next}) > 0"));
        }
        sql.push_str(" ORDER BY r.request_id DESC LIMIT $1 OFFSET $2");
        let mut query = sqlx::query(trusted_sql(sql))
            .bind(to_db(filter.limit, "limit")?)
            .bind(to_db(filter.offset, "offset")?);
        if let Some(account) = &filter.account {
            query = query.bind(account.as_str());
        }
        if let Some(source) = &filter.source {
            query = query.bind(source.as_str());
        }
        let rows = query.fetch_all(&self.read).await?;
        rows.iter().map(summary).collect()
    }

    /// One request with its jobs (oldest first) and its timeline.
    pub async fn request_detail(&self, request_id: u64) -> Result<Option<RequestDetail>> {
        let id = RequestId::from_path(request_id)?;
        let sql = format!("{SUMMARY_COLUMNS} WHERE r.request_id = $1");
        let Some(row) = sqlx::query(trusted_sql(sql))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let request = summary(&row)?;
        let mut jobs = self
            .list_jobs(&JobFilter {
                request_id: Some(request_id),
                limit: 10,
                ..Default::default()
            })
            .await?;
        jobs.reverse();
        let compile_ms: Option<i64> = sqlx::query_scalar(
            "SELECT compile_ms FROM jobs WHERE request_id = $1 AND job_type = 'compile'",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .flatten();
        let compile = jobs.iter().find(|j| j.job_type == JobType::Compile);
        let execute = jobs.iter().find(|j| j.job_type == JobType::Execute);
        let build = match compile {
            Some(job) => Some(BuildStep {
                state: Some(job.state),
                claimed_at_ms: job.claimed_at_ms,
                finished_at_ms: job.finished_at_ms,
                worker_id: job.worker_id.clone(),
                cached: (job.state == JobState::Completed).then_some(compile_ms.is_none()),
            }),
            // Built from git but no compile job: the artifact was cached.
            None if request.code_source.needs_build() => Some(BuildStep {
                state: None,
                claimed_at_ms: None,
                finished_at_ms: None,
                worker_id: None,
                cached: Some(true),
            }),
            None => None,
        };
        let run = execute.map(|job| RunStep {
            state: job.state,
            claimed_at_ms: job.claimed_at_ms,
            finished_at_ms: job.finished_at_ms,
            worker_id: job.worker_id.clone(),
        });
        let build_log_summary = jobs.iter().find_map(build_summary);
        let timeline = RequestTimeline {
            requested: RequestedStep {
                block_height: request.block_height,
                block_timestamp: request.block_timestamp,
                transaction_hash: request.transaction_hash.clone(),
            },
            build,
            run,
            resolve: None,
            settled: None,
        };
        let mut timeline = timeline;
        let end = sqlx::query(
            "SELECT resolve_tx_hash, resolve_submitted_at, settled_block, settled_success, \
             settled_charged, settled_refunded FROM requests WHERE request_id = $1",
        )
        .bind(id)
        .fetch_one(&self.read)
        .await?;
        let resolve_tx: Option<String> = end.try_get("resolve_tx_hash")?;
        let resolve_at: Option<i64> = end.try_get("resolve_submitted_at")?;
        if let (Some(tx_hash), Some(at)) = (resolve_tx, resolve_at) {
            timeline.resolve = Some(ResolveStep {
                tx_hash,
                submitted_at_ms: from_db(at),
            });
        }
        let block: Option<BlockHeight> = end.try_get("settled_block")?;
        let success: Option<i64> = end.try_get("settled_success")?;
        let charged: Option<String> = end.try_get("settled_charged")?;
        let refunded: Option<String> = end.try_get("settled_refunded")?;
        if let (Some(block), Some(success), Some(charged), Some(refunded)) =
            (block, success, charged, refunded)
        {
            let amount = |text: String| {
                text.parse::<u128>()
                    .map(outlayer_types::U128)
                    .map_err(|_| Error::Internal(format!("stored amount {text:?}")))
            };
            timeline.settled = Some(SettledStep {
                block_height: block.into(),
                success: success != 0,
                charged: amount(charged)?,
                refunded: amount(refunded)?,
            });
        }
        Ok(Some(RequestDetail {
            request,
            jobs,
            timeline,
            build_log_summary,
        }))
    }

    /// Records the contract's settlement of a request (idempotent: a
    /// repeat overwrites with the same values, and keeps the time of the
    /// first report); false for an unknown request.
    pub async fn settle(
        &self,
        request_id: u64,
        settled: &ExecutionSettled,
        now: i64,
    ) -> Result<bool> {
        let updated = sqlx::query(
            "UPDATE requests SET settled_block = $1, settled_success = $2, settled_charged = $3, \
             settled_refunded = $4, updated_at = $5, settled_at = COALESCE(settled_at, $5) \
             WHERE request_id = $6",
        )
        .bind(BlockHeight::new(settled.block_height)?)
        .bind(i64::from(settled.success))
        .bind(settled.charged.0.to_string())
        .bind(settled.refunded.0.to_string())
        .bind(now)
        .bind(RequestId::from_path(request_id)?)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    /// Instructions, run time and build time of every finished job.
    pub async fn usage_totals(&self) -> Result<(u64, u64, u64)> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(instructions), 0) AS BIGINT) AS instructions, \
             CAST(COALESCE(SUM(time_ms), 0) AS BIGINT) AS time_ms, \
             CAST(COALESCE(SUM(compile_ms), 0) AS BIGINT) AS compile_ms FROM jobs",
        )
        .fetch_one(&self.read)
        .await?;
        Ok((
            u64_at(&row, "instructions")?,
            u64_at(&row, "time_ms")?,
            u64_at(&row, "compile_ms")?,
        ))
    }

    /// Failed requests by category.
    pub async fn failure_counts(&self) -> Result<FailureCounts> {
        let rows = sqlx::query(
            "SELECT error_category, COUNT(*) AS n FROM requests WHERE status = 'failed' \
             AND error_category IS NOT NULL GROUP BY error_category",
        )
        .fetch_all(&self.read)
        .await?;
        let mut counts = FailureCounts::default();
        for row in rows {
            if let Some(category) = category(&row)? {
                counts.add(category, u64_at(&row, "n")?);
            }
        }
        Ok(counts)
    }

    /// Fills the columns migration 2 added for rows written before it, from
    /// their JSON. Runs at every start; finds nothing to do once done.
    pub(super) async fn backfill(&self) -> Result<()> {
        let rows = sqlx::query("SELECT request_id, body FROM requests WHERE sender_id IS NULL")
            .fetch_all(&self.pool)
            .await?;
        for row in rows {
            let request_id: i64 = row.try_get("request_id")?;
            let body: String = row.try_get("body")?;
            let Ok(request) = serde_json::from_str::<ExecutionRequest>(&body) else {
                tracing::warn!(request_id, "stored request does not parse; left unindexed");
                continue;
            };
            sqlx::query(
                "UPDATE requests SET sender_id = $1, payer_id = $2, source = $3 \
                 WHERE request_id = $4",
            )
            .bind(request.context.sender_id.as_str())
            .bind(request.payer_account_id.as_str())
            .bind(source_text(&request.code_source))
            .bind(request_id)
            .execute(&self.pool)
            .await?;
        }
        // Compile jobs first, so an execute job's repeat of its compile
        // job's build time is recognised.
        let rows = sqlx::query(
            "SELECT id, metrics FROM jobs WHERE metrics IS NOT NULL AND instructions IS NULL \
             ORDER BY CASE WHEN job_type = 'compile' THEN 0 ELSE 1 END, id",
        )
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let metrics: String = row.try_get("metrics")?;
            let Ok(m) = serde_json::from_str::<ResourceMetrics>(&metrics) else {
                continue;
            };
            sqlx::query(
                "UPDATE jobs SET instructions = $1, time_ms = $2, \
                 compile_ms = CASE WHEN job_type = 'execute' AND EXISTS (SELECT 1 FROM jobs c \
                     WHERE c.request_id = jobs.request_id AND c.job_type = 'compile' \
                     AND c.compile_ms IS NOT NULL) THEN NULL ELSE CAST($3 AS BIGINT) END \
                 WHERE id = $4",
            )
            .bind(to_db_capped(m.instructions))
            .bind(to_db_capped(m.time_ms))
            .bind(m.compile_time_ms.map(to_db_capped))
            .bind(id)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }
}

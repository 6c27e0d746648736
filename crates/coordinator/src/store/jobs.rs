//! Requests and their jobs: idempotent creation, atomic claims under leases,
//! completion by the lease holder only, and the reaper's lease expiry.

use outlayer_types::ExecutionRequest;
use outlayer_types::coordinator::{
    CompleteJob, ErrorCategory, JobOffer, JobState, JobType, RequestStatus,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::batch::{CompletionRow, RequestRow, first_status, outcome_state};
use super::columns::{
    JobId, RequestId, from_db, job_state, job_type, request_status, to_db_capped,
};
use super::{Dialect, Store, job_type_list, trusted_sql};
use crate::error::{Error, Result};

/// What creating a request did.
#[derive(Clone, Debug)]
pub struct CreatedRequest {
    pub created: bool,
    pub status: RequestStatus,
    pub first_job: JobOffer,
    pub artifact_checksum: String,
}

/// A job just claimed, with what the worker needs to run it.
#[derive(Clone, Debug)]
pub struct ClaimedRow {
    pub offer: JobOffer,
    pub attempt: u32,
    pub lease_token: String,
    pub lease_expires_at_ms: u64,
    pub artifact_checksum: String,
    pub request: ExecutionRequest,
}

#[derive(Clone, Debug)]
pub struct CompleteOutcome {
    pub state: JobState,
    pub next_job: Option<JobOffer>,
}

/// What one reaper pass did.
#[derive(Clone, Debug, Default)]
pub struct ReapOutcome {
    /// Jobs whose lease expired and that go back to pending.
    pub requeued: Vec<JobOffer>,
    /// Jobs that ran out of attempts.
    pub failed: u64,
}

/// Filters for the public recent-jobs listing.
#[derive(Clone, Debug, Default)]
pub struct JobFilter {
    pub state: Option<JobState>,
    pub job_type: Option<JobType>,
    pub request_id: Option<u64>,
    pub limit: u64,
    pub offset: u64,
}

fn offer(row: &AnyRow) -> Result<JobOffer> {
    Ok(JobOffer {
        job_id: row.try_get::<JobId, _>("id")?.into(),
        job_type: job_type(row)?,
        request_id: row.try_get::<RequestId, _>("request_id")?.into(),
    })
}

/// The script of `complete_in_one_call`. `$1` is now, `$2`-`$12` the job's
/// columns as [`CompletionRow::bind`] binds them for a batch, `$13` and
/// `$14` the resolve transaction and its time.
const SQLITE_COMPLETE_ONE: &str = "BEGIN; \
     UPDATE jobs SET state = $3, error_category = $4, error = $5, \
     output_summary = $6, metrics = $7, actual_cost = $8, updated_at = $1, \
     finished_at = $1, instructions = $10, time_ms = $11, \
     compile_ms = CASE WHEN job_type = 'execute' AND EXISTS (SELECT 1 FROM jobs c \
         WHERE c.request_id = jobs.request_id AND c.job_type = 'compile' \
         AND c.compile_ms IS NOT NULL) THEN NULL ELSE CAST($12 AS BIGINT) END \
     WHERE id = $2 AND state = 'claimed' AND lease_token = $9 \
     AND lease_expires_at > $1 \
     RETURNING id, job_type, request_id; \
     UPDATE requests SET \
     status = CASE WHEN $3 <> 'completed' THEN 'failed' \
         WHEN (SELECT job_type FROM jobs WHERE id = $2) = 'compile' \
         THEN 'executing' ELSE 'completed' END, \
     error_category = CASE WHEN $3 = 'completed' THEN NULL ELSE $4 END, \
     error = CASE WHEN $3 = 'completed' THEN NULL ELSE $5 END, updated_at = $1, \
     resolve_tx_hash = COALESCE($13, resolve_tx_hash), \
     resolve_submitted_at = COALESCE($14, resolve_submitted_at) \
     WHERE changes() = 1 \
     AND request_id = (SELECT request_id FROM jobs WHERE id = $2); \
     INSERT INTO jobs (request_id, job_type, state, enqueued_at, created_at, \
     updated_at) SELECT request_id, 'execute', 'pending', $1, $1, $1 FROM jobs \
     WHERE changes() = 1 AND id = $2 AND job_type = 'compile' \
     AND $3 = 'completed' \
     ON CONFLICT (request_id, job_type) DO NOTHING RETURNING id AS next_id; \
     COMMIT;";

impl Store {
    /// Records a request and its first job, once: a second call with the same
    /// `request_id` and the same content reports the existing request; with
    /// different content it is a conflict.
    pub async fn create_request(
        &self,
        request: &ExecutionRequest,
        artifact_cached: bool,
        now: i64,
    ) -> Result<CreatedRequest> {
        let (row, first) = RequestRow::new(request, artifact_cached)?;
        let status = first_status(first);
        let RequestRow {
            request_id,
            body,
            checksum,
            sender,
            payer,
            source,
            ..
        } = row;
        if self.dialect == Dialect::Postgres {
            // One statement, one round trip: the request and its first job,
            // or nothing when the request exists (then as below).
            let job_id: Option<JobId> = sqlx::query_scalar(
                "WITH r AS (INSERT INTO requests (request_id, body, artifact_checksum, status, \
                 created_at, updated_at, sender_id, payer_id, source) \
                 VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8) \
                 ON CONFLICT (request_id) DO NOTHING RETURNING request_id) \
                 INSERT INTO jobs (request_id, job_type, state, enqueued_at, created_at, updated_at) \
                 SELECT request_id, $9, 'pending', $5, $5, $5 FROM r RETURNING id",
            )
            .bind(request_id)
            .bind(&body)
            .bind(&checksum)
            .bind(status.as_str())
            .bind(now)
            .bind(sender)
            .bind(payer)
            .bind(&source)
            .bind(first.as_str())
            .fetch_optional(&self.pool)
            .await?;
            if let Some(job_id) = job_id {
                return Ok(CreatedRequest {
                    created: true,
                    status,
                    first_job: JobOffer {
                        job_id: job_id.into(),
                        job_type: first,
                        request_id: request.context.request_id,
                    },
                    artifact_checksum: checksum,
                });
            }
        }
        if self.dialect == Dialect::Sqlite {
            // One call to the connection's thread instead of four: the
            // transaction is part of the SQL. The job is only written when
            // the request was (`changes()` counts the INSERT before it).
            let rows = self
                .sqlite_script(
                    sqlx::query(
                        "BEGIN; \
                         INSERT INTO requests (request_id, body, artifact_checksum, status, \
                         created_at, updated_at, sender_id, payer_id, source) \
                         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8) \
                         ON CONFLICT (request_id) DO NOTHING; \
                         INSERT INTO jobs (request_id, job_type, state, enqueued_at, created_at, \
                         updated_at) SELECT $1, $9, 'pending', $5, $5, $5 WHERE changes() = 1 \
                         RETURNING id; \
                         COMMIT;",
                    )
                    .bind(request_id)
                    .bind(&body)
                    .bind(&checksum)
                    .bind(status.as_str())
                    .bind(now)
                    .bind(sender)
                    .bind(payer)
                    .bind(&source)
                    .bind(first.as_str()),
                )
                .await?;
            if let Some(row) = rows.first() {
                let job_id: JobId = row.try_get("id")?;
                return Ok(CreatedRequest {
                    created: true,
                    status,
                    first_job: JobOffer {
                        job_id: job_id.into(),
                        job_type: first,
                        request_id: request.context.request_id,
                    },
                    artifact_checksum: checksum,
                });
            }
        }
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO requests (request_id, body, artifact_checksum, status, created_at, \
             updated_at, sender_id, payer_id, source) \
             VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8) ON CONFLICT (request_id) DO NOTHING",
        )
        .bind(request_id)
        .bind(&body)
        .bind(&checksum)
        .bind(status.as_str())
        .bind(now)
        .bind(sender)
        .bind(payer)
        .bind(&source)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            let row = sqlx::query(
                "SELECT body, status, artifact_checksum FROM requests WHERE request_id = $1",
            )
            .bind(request_id)
            .fetch_one(&mut *tx)
            .await?;
            let stored: String = row.try_get("body")?;
            let stored: ExecutionRequest = serde_json::from_str(&stored)
                .map_err(|e| Error::Internal(format!("stored request {request_id}: {e}")))?;
            if !same_request(&stored, request) {
                return Err(Error::Conflict(format!(
                    "request {request_id} already exists with different content"
                )));
            }
            // The contract's copy (a monitor's repair) has no transaction
            // hash; the block stream's has. Keep the hash once known.
            if stored.context.transaction_hash.is_none()
                && request.context.transaction_hash.is_some()
            {
                sqlx::query("UPDATE requests SET body = $1 WHERE request_id = $2")
                    .bind(&body)
                    .bind(request_id)
                    .execute(&mut *tx)
                    .await?;
            }
            let first_job = sqlx::query(
                "SELECT id, job_type, request_id FROM jobs WHERE request_id = $1 ORDER BY id LIMIT 1",
            )
            .bind(request_id)
            .fetch_one(&mut *tx)
            .await?;
            let result = CreatedRequest {
                created: false,
                status: request_status(&row)?,
                first_job: offer(&first_job)?,
                artifact_checksum: row.try_get("artifact_checksum")?,
            };
            tx.commit().await?;
            return Ok(result);
        }
        let job_id: JobId = sqlx::query_scalar(
            "INSERT INTO jobs (request_id, job_type, state, enqueued_at, created_at, updated_at) \
             VALUES ($1, $2, 'pending', $3, $3, $3) RETURNING id",
        )
        .bind(request_id)
        .bind(first.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(CreatedRequest {
            created: true,
            status,
            first_job: JobOffer {
                job_id: job_id.into(),
                job_type: first,
                request_id: request.context.request_id,
            },
            artifact_checksum: checksum,
        })
    }

    /// The job, if it is still pending and of one of these types.
    pub async fn pending_offer(&self, job_id: u64, types: &[JobType]) -> Result<Option<JobOffer>> {
        let sql = format!(
            "SELECT id, job_type, request_id FROM jobs \
             WHERE id = $1 AND state = 'pending' AND job_type IN {}",
            job_type_list(types)
        );
        let row = sqlx::query(trusted_sql(sql))
            .bind(JobId::new(job_id)?)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(offer).transpose()
    }

    /// The oldest pending jobs of these types (at most `limit`), for polls
    /// the queue did not wake.
    pub async fn pending_jobs(&self, types: &[JobType], limit: u32) -> Result<Vec<JobOffer>> {
        let sql = format!(
            "SELECT id, job_type, request_id FROM jobs \
             WHERE state = 'pending' AND job_type IN {} ORDER BY id LIMIT $1",
            job_type_list(types)
        );
        let rows = sqlx::query(trusted_sql(sql))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(offer).collect()
    }

    /// Claims up to `max` pending jobs atomically, oldest first (or the one
    /// job `job_id`), in one statement that also returns each job's request:
    /// the conditional UPDATE hands each job to exactly one caller; the rest
    /// get fewer jobs or none. Each job's lease token is `lease_secret`
    /// followed by its id: unguessable, and distinct per job.
    #[allow(clippy::too_many_arguments)]
    pub async fn claim_many(
        &self,
        job_id: Option<u64>,
        types: &[JobType],
        max: u32,
        worker_id: &str,
        lease_secret: &str,
        lease_ms: u64,
        now: i64,
    ) -> Result<Vec<ClaimedRow>> {
        let target = match (job_id, self.dialect) {
            (Some(_), _) => "id = $5".to_owned(),
            // PostgreSQL: skip rows another claim holds instead of queueing
            // behind it, and pick once (an array is evaluated once; `IN
            // (subquery)` may be re-run by the plan and exceed the LIMIT).
            (None, Dialect::Postgres) => format!(
                "id = ANY(ARRAY(SELECT id FROM jobs WHERE state = 'pending' \
                 AND job_type IN {} ORDER BY id LIMIT $5 FOR UPDATE SKIP LOCKED))",
                job_type_list(types)
            ),
            // SQLite has one writer, so no row locks to skip.
            (None, Dialect::Sqlite) => format!(
                "id IN (SELECT id FROM jobs WHERE state = 'pending' \
                 AND job_type IN {} ORDER BY id LIMIT $5)",
                job_type_list(types)
            ),
        };
        let sql = format!(
            "UPDATE jobs SET state = 'claimed', worker_id = $1, \
             lease_token = $2 || CAST(id AS TEXT), \
             lease_expires_at = $3, attempt = attempt + 1, updated_at = $4, claimed_at = $4, \
             finished_at = NULL \
             WHERE {target} AND state = 'pending' AND job_type IN {types} \
             RETURNING id, job_type, request_id, attempt, lease_token, \
             (SELECT r.body FROM requests r WHERE r.request_id = jobs.request_id) AS body, \
             (SELECT r.artifact_checksum FROM requests r WHERE r.request_id = jobs.request_id) \
             AS artifact_checksum",
            types = job_type_list(types)
        );
        let expires = now.saturating_add(to_db_capped(lease_ms));
        let query = sqlx::query(trusted_sql(sql))
            .bind(worker_id)
            .bind(lease_secret)
            .bind(expires)
            .bind(now);
        let query = match job_id {
            Some(id) => query.bind(JobId::new(id)?),
            None => query.bind(i64::from(max)),
        };
        let rows = query.fetch_all(&self.pool).await?;
        let mut claimed = rows
            .iter()
            .map(|row| {
                let offer = offer(row)?;
                let attempt: i64 = row.try_get("attempt")?;
                let body: String = row.try_get("body")?;
                let request = serde_json::from_str(&body).map_err(|e| {
                    Error::Internal(format!("stored request {}: {e}", offer.request_id))
                })?;
                Ok(ClaimedRow {
                    offer,
                    attempt: attempt as u32,
                    lease_token: row.try_get("lease_token")?,
                    lease_expires_at_ms: from_db(expires),
                    artifact_checksum: row.try_get("artifact_checksum")?,
                    request,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        claimed.sort_by_key(|c| c.offer.job_id);
        Ok(claimed)
    }

    /// Extends a lease the caller still holds; `None` when it does not.
    pub async fn extend_lease(
        &self,
        job_id: u64,
        lease_token: &str,
        lease_ms: u64,
        now: i64,
    ) -> Result<Option<u64>> {
        let expires = now.saturating_add(to_db_capped(lease_ms));
        let updated = sqlx::query(
            "UPDATE jobs SET lease_expires_at = $1, updated_at = $2 \
             WHERE id = $3 AND state = 'claimed' AND lease_token = $4 AND lease_expires_at > $2",
        )
        .bind(expires)
        .bind(now)
        .bind(JobId::new(job_id)?)
        .bind(lease_token)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok((updated == 1).then_some(from_db(expires)))
    }

    /// Records a job's outcome, if the caller holds its lease, and moves the
    /// request on: a successful compile creates the execute job in the same
    /// transaction, so nothing is half-written.
    pub async fn complete(
        &self,
        job_id: u64,
        done: &CompleteJob,
        now: i64,
    ) -> Result<CompleteOutcome> {
        match self.dialect {
            // One statement either way: the batch's, with one row.
            Dialect::Postgres => {
                let mut results = self.complete_many(&[(job_id, done)], now).await?;
                results
                    .pop()
                    .unwrap_or_else(|| Err(Error::Internal("no completion result".into())))
            }
            Dialect::Sqlite => {
                let row = CompletionRow::new(JobId::new(job_id)?, done, now)?;
                self.complete_in_one_call(&row, done, now).await
            }
        }
    }

    /// Runs `query`, a script that is one transaction (`BEGIN; …; COMMIT;`),
    /// on one SQLite connection, in one call to its thread: its rows, from
    /// every statement. After a failure the transaction is rolled back, so
    /// the connection goes back to the pool clean.
    pub(super) async fn sqlite_script<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<Vec<AnyRow>> {
        let mut conn = self.pool.acquire().await?;
        match query.fetch_all(&mut *conn).await {
            Ok(rows) => Ok(rows),
            Err(e) => {
                // Nothing to roll back when BEGIN itself failed; that
                // error says so and is not the one to report.
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                Err(e.into())
            }
        }
    }

    /// [`Self::complete`] on SQLite: the job, the request and the execute
    /// job a compile hands over to, as one script in one call. Each step
    /// after the first runs only if the one before changed a row
    /// (`changes()`); the rows returned say what happened.
    async fn complete_in_one_call(
        &self,
        row: &CompletionRow<'_>,
        done: &CompleteJob,
        now: i64,
    ) -> Result<CompleteOutcome> {
        let query = row.bind(sqlx::query(SQLITE_COMPLETE_ONE).bind(now));
        let rows = self
            .sqlite_script(query.bind(row.tx).bind(row.tx_at))
            .await?;
        // The job's row (three columns), then the execute job's (one).
        let Some(job) = rows.iter().find(|row| row.len() == 3) else {
            return self.explain_refused_completion(row.job, done).await;
        };
        let job = offer(job)?;
        let next = match rows.iter().find(|row| row.len() == 1) {
            Some(row) => Some(row.try_get::<JobId, _>("next_id")?),
            None => None,
        };
        Ok(CompleteOutcome {
            state: outcome_state(done),
            next_job: next.map(|id| JobOffer {
                job_id: id.into(),
                job_type: JobType::Execute,
                request_id: job.request_id,
            }),
        })
    }

    /// Why a completion was refused; a repeat of an already recorded
    /// completion by the same lease holder (a retried request) succeeds.
    pub(super) async fn explain_refused_completion(
        &self,
        id: JobId,
        done: &CompleteJob,
    ) -> Result<CompleteOutcome> {
        let row = sqlx::query("SELECT state, lease_token, error_category FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        let Some(row) = row else {
            return Err(Error::NotFound(format!("job {id} not found")));
        };
        let state = job_state(&row)?;
        let holder: Option<String> = row.try_get("lease_token")?;
        let category: Option<String> = row.try_get("error_category")?;
        // A retry of the completion that finished the job (same lease, same
        // outcome) gets the same answer. A job the reaper failed has no
        // lease left, so a late completion of it is refused.
        let asked = if done.success {
            JobState::Completed
        } else {
            JobState::Failed
        };
        let same = state == asked
            && holder.as_deref() == Some(done.lease_token.as_str())
            && category.as_deref() == done.error_category.map(|c| c.as_str());
        if same {
            return Ok(CompleteOutcome {
                state,
                next_job: None,
            });
        }
        Err(Error::Conflict(format!(
            "job {id} is not held under this lease (it is {}); a completion is accepted once, from the lease holder",
            state.as_str()
        )))
    }

    /// Returns jobs with expired leases to pending, or fails them once they
    /// have used all their attempts.
    pub async fn reap_expired(&self, max_attempts: u32, now: i64) -> Result<ReapOutcome> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "UPDATE jobs SET state = 'pending', worker_id = NULL, lease_token = NULL, \
             lease_expires_at = NULL, enqueued_at = $1, updated_at = $1, claimed_at = NULL \
             WHERE state = 'claimed' AND lease_expires_at <= $1 AND attempt < $2 \
             RETURNING id, job_type, request_id",
        )
        .bind(now)
        .bind(i64::from(max_attempts))
        .fetch_all(&mut *tx)
        .await?;
        let requeued = rows.iter().map(offer).collect::<Result<Vec<_>>>()?;
        let reason =
            format!("the worker's lease expired on each of {max_attempts} attempts; giving up");
        let failed = sqlx::query(
            "UPDATE jobs SET state = 'failed', error_category = $1, error = $2, updated_at = $3, \
             finished_at = $3, lease_token = NULL \
             WHERE state = 'claimed' AND lease_expires_at <= $3 AND attempt >= $4 \
             RETURNING request_id",
        )
        .bind(ErrorCategory::Infrastructure.as_str())
        .bind(&reason)
        .bind(now)
        .bind(i64::from(max_attempts))
        .fetch_all(&mut *tx)
        .await?;
        for row in &failed {
            let request_id: RequestId = row.try_get("request_id")?;
            sqlx::query(
                "UPDATE requests SET status = 'failed', error_category = $1, error = $2, \
                 updated_at = $3 WHERE request_id = $4",
            )
            .bind(ErrorCategory::Infrastructure.as_str())
            .bind(&reason)
            .bind(now)
            .bind(request_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(ReapOutcome {
            requeued,
            failed: failed.len() as u64,
        })
    }

    /// Pending jobs whose wake-up may have been lost (not claimed within
    /// `cutoff`); marks them re-enqueued now.
    pub async fn stale_pending(&self, cutoff: i64, now: i64) -> Result<Vec<JobOffer>> {
        let rows = sqlx::query(
            "UPDATE jobs SET enqueued_at = $1 WHERE state = 'pending' AND enqueued_at <= $2 \
             RETURNING id, job_type, request_id",
        )
        .bind(now)
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(offer).collect()
    }
}

/// The same request, whether or not each copy knows its transaction hash.
fn same_request(a: &ExecutionRequest, b: &ExecutionRequest) -> bool {
    let hashes_agree = match (&a.context.transaction_hash, &b.context.transaction_hash) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    let mut a = a.clone();
    a.context.transaction_hash = b.context.transaction_hash.clone();
    hashes_agree && &a == b
}

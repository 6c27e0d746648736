//! Batches: several completions, or several new requests, in one
//! transaction (one commit, so one WAL write or fsync for the lot) and a
//! fixed number of statements whatever the batch's size. PostgreSQL gets a
//! batch as one JSON parameter (`json_to_recordset`), so each statement's
//! text is fixed and stays prepared on its connection; SQLite gets its rows
//! as numbered parameters of a `VALUES` list (parsing JSON took a quarter of
//! its thread), one prepared statement per batch size. Each item is
//! answered on its own, exactly as its single call would be answered.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use outlayer_types::ExecutionRequest;
use outlayer_types::coordinator::{CompleteJob, JobOffer, JobState, JobType, RequestStatus};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

use super::columns::{JobId, RequestId, to_db_capped};
use super::jobs::{CompleteOutcome, CreatedRequest};
use super::{Dialect, Store, trusted_sql};
use crate::error::{Error, Result};

/// A completion as the store writes it: the same values for the single
/// statement's parameters and for a batch's JSON rows.
#[derive(Clone, Debug, Serialize)]
pub(super) struct CompletionRow<'a> {
    pub(super) job: JobId,
    pub(super) state: &'static str,
    pub(super) category: Option<&'static str>,
    pub(super) error: Option<&'a str>,
    pub(super) summary: Option<&'a str>,
    pub(super) metrics: Option<String>,
    pub(super) cost: Option<String>,
    pub(super) token: &'a str,
    pub(super) instructions: Option<i64>,
    pub(super) time_ms: Option<i64>,
    pub(super) compile_ms: Option<i64>,
    /// The resolve transaction, when this job sent one: kept once known.
    pub(super) tx: Option<&'a str>,
    pub(super) tx_at: Option<i64>,
}

impl<'a> CompletionRow<'a> {
    pub(super) fn new(job: JobId, done: &'a CompleteJob, now: i64) -> Result<Self> {
        let number = |v: Option<u64>| v.map(to_db_capped);
        let metrics = done
            .metrics
            .map(|m| serde_json::to_string(&m))
            .transpose()
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Self {
            job,
            state: outcome_state(done).as_str(),
            category: done.error_category.map(|c| c.as_str()),
            error: done.error.as_deref(),
            summary: done.output_summary.as_deref(),
            metrics,
            cost: done.actual_cost.map(|c| c.0.to_string()),
            token: &done.lease_token,
            instructions: number(done.metrics.map(|m| m.instructions)),
            time_ms: number(done.metrics.map(|m| m.time_ms)),
            compile_ms: number(done.metrics.and_then(|m| m.compile_time_ms)),
            tx: done.resolve_tx_hash.as_deref(),
            tx_at: done
                .resolve_tx_hash
                .as_ref()
                .map(|_| number(done.resolve_submitted_at_ms).unwrap_or(now)),
        })
    }

    /// Binds the job's columns as the statements list them, 11 in a row:
    /// job, state, category, error, summary, metrics, cost, token,
    /// instructions, time_ms, compile_ms (the resolve transaction and its
    /// time go to the request, after).
    pub(super) fn bind<'q>(
        &self,
        query: Query<'q, sqlx::Any, AnyArguments>,
    ) -> Query<'q, sqlx::Any, AnyArguments> {
        query
            .bind(self.job)
            .bind(self.state)
            .bind(self.category)
            .bind(self.error)
            .bind(self.summary)
            .bind(self.metrics.as_deref())
            .bind(self.cost.as_deref())
            .bind(self.token)
            .bind(self.instructions)
            .bind(self.time_ms)
            .bind(self.compile_ms)
    }
}

pub(super) fn outcome_state(done: &CompleteJob) -> JobState {
    if done.success {
        JobState::Completed
    } else {
        JobState::Failed
    }
}

/// A new request as the store writes it.
#[derive(Clone, Debug, Serialize)]
pub(super) struct RequestRow<'a> {
    pub(super) request_id: RequestId,
    pub(super) body: String,
    pub(super) checksum: String,
    pub(super) status: &'static str,
    pub(super) sender: &'a str,
    pub(super) payer: &'a str,
    pub(super) source: String,
    pub(super) job_type: &'static str,
}

impl<'a> RequestRow<'a> {
    /// The row and the request's first job: compile when its program must
    /// be built and is not cached, else execute.
    pub(super) fn new(
        request: &'a ExecutionRequest,
        artifact_cached: bool,
    ) -> Result<(Self, JobType)> {
        let first = if request.code_source.needs_build() && !artifact_cached {
            JobType::Compile
        } else {
            JobType::Execute
        };
        let row = Self {
            request_id: RequestId::new(request.context.request_id)?,
            body: serde_json::to_string(request).map_err(|e| Error::Internal(e.to_string()))?,
            checksum: request.code_source.artifact_checksum(),
            status: first_status(first).as_str(),
            sender: request.context.sender_id.as_str(),
            payer: request.payer_account_id.as_str(),
            source: super::requests::source_text(&request.code_source),
            job_type: first.as_str(),
        };
        Ok((row, first))
    }
}

pub(super) fn first_status(first: JobType) -> RequestStatus {
    match first {
        JobType::Compile => RequestStatus::Compiling,
        JobType::Execute => RequestStatus::Executing,
    }
}

fn json<T: Serialize>(rows: &T) -> Result<String> {
    serde_json::to_string(rows).map_err(|e| Error::Internal(e.to_string()))
}

/// The jobs one statement completes (PostgreSQL): every completion whose
/// lease is still held, the execute jobs successful compiles hand over to,
/// and their requests.
const PG_COMPLETE: &str = "WITH i AS (SELECT * FROM json_to_recordset(CAST($1 AS json)) AS x(\
     job bigint, state text, category text, error text, summary text, metrics text, cost text, \
     token text, instructions bigint, time_ms bigint, compile_ms bigint, tx text, tx_at bigint)), \
     done AS (UPDATE jobs SET state = i.state, error_category = i.category, error = i.error, \
     output_summary = i.summary, metrics = i.metrics, actual_cost = i.cost, updated_at = $2, \
     finished_at = $2, instructions = i.instructions, time_ms = i.time_ms, \
     compile_ms = CASE WHEN jobs.job_type = 'execute' AND EXISTS (SELECT 1 FROM jobs c \
         WHERE c.request_id = jobs.request_id AND c.job_type = 'compile' \
         AND c.compile_ms IS NOT NULL) THEN NULL ELSE i.compile_ms END \
     FROM i WHERE jobs.id = i.job AND jobs.state = 'claimed' AND jobs.lease_token = i.token \
     AND jobs.lease_expires_at > $2 \
     RETURNING jobs.id, jobs.job_type, jobs.request_id, i.state AS outcome, i.category, \
     i.error AS message, i.tx, i.tx_at), \
     next AS (INSERT INTO jobs (request_id, job_type, state, enqueued_at, created_at, updated_at) \
     SELECT request_id, 'execute', 'pending', $2, $2, $2 FROM done \
     WHERE done.job_type = 'compile' AND done.outcome = 'completed' \
     ON CONFLICT (request_id, job_type) DO NOTHING RETURNING id, request_id), \
     req AS (UPDATE requests SET \
     status = CASE WHEN done.outcome <> 'completed' THEN 'failed' \
         WHEN done.job_type = 'compile' THEN 'executing' ELSE 'completed' END, \
     error_category = CASE WHEN done.outcome = 'completed' THEN NULL ELSE done.category END, \
     error = CASE WHEN done.outcome = 'completed' THEN NULL ELSE done.message END, \
     updated_at = $2, resolve_tx_hash = COALESCE(done.tx, requests.resolve_tx_hash), \
     resolve_submitted_at = COALESCE(done.tx_at, requests.resolve_submitted_at) \
     FROM done WHERE requests.request_id = done.request_id RETURNING 1) \
     SELECT done.id, done.request_id, next.id AS next_id, (SELECT COUNT(*) FROM req) AS requests \
     FROM done LEFT JOIN next ON next.request_id = done.request_id";

/// `($f, $f+1, …), (…), …`: `rows` rows of `cols` numbered parameters,
/// from `$first` on. SQLite gets its batches as parameters (no JSON to
/// parse: that was a quarter of its thread's time); a statement per batch
/// size, each prepared once per connection.
fn values(rows: usize, cols: usize, first: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..cols {
            if col > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", first + row * cols + col));
        }
        sql.push(')');
    }
    sql
}

/// SQLite, first step: the jobs whose lease is still held (`RETURNING`
/// names them; SQLite's cannot feed the next statement). `$1` is now.
fn sqlite_complete_jobs(rows: usize) -> String {
    format!(
        "WITH i(job, state, category, error, summary, metrics, cost, token, instructions, \
         time_ms, compile_ms) AS (VALUES {}) \
         UPDATE jobs SET state = i.state, \
         error_category = i.category, error = i.error, output_summary = i.summary, \
         metrics = i.metrics, actual_cost = i.cost, updated_at = $1, finished_at = $1, \
         instructions = i.instructions, time_ms = i.time_ms, \
         compile_ms = CASE WHEN jobs.job_type = 'execute' AND EXISTS (SELECT 1 FROM jobs c \
             WHERE c.request_id = jobs.request_id AND c.job_type = 'compile' \
             AND c.compile_ms IS NOT NULL) THEN NULL ELSE i.compile_ms END \
         FROM i WHERE jobs.id = i.job AND jobs.state = 'claimed' AND jobs.lease_token = i.token \
         AND jobs.lease_expires_at > $1 \
         RETURNING id, job_type, request_id",
        values(rows, 11, 2)
    )
}

/// SQLite, second step, over the completions the first one recorded (job,
/// resolve transaction and its time): their requests (from the jobs as
/// just written), and the execute jobs of the successful compiles.
fn sqlite_complete_requests(rows: usize) -> String {
    let recorded = values(rows, 3, 2);
    format!(
        "WITH i(job, tx, tx_at) AS (VALUES {recorded}) \
         UPDATE requests SET \
         status = CASE WHEN d.state <> 'completed' THEN 'failed' \
             WHEN d.job_type = 'compile' THEN 'executing' ELSE 'completed' END, \
         error_category = CASE WHEN d.state = 'completed' THEN NULL ELSE d.category END, \
         error = CASE WHEN d.state = 'completed' THEN NULL ELSE d.message END, updated_at = $1, \
         resolve_tx_hash = COALESCE(d.tx, resolve_tx_hash), \
         resolve_submitted_at = COALESCE(d.tx_at, resolve_submitted_at) \
         FROM (SELECT j.request_id AS rid, j.state, j.job_type, j.error_category AS category, \
             j.error AS message, i.tx, i.tx_at FROM i JOIN jobs AS j ON j.id = i.job) AS d \
         WHERE requests.request_id = d.rid; \
         WITH i(job, tx, tx_at) AS (VALUES {recorded}) \
         INSERT INTO jobs (request_id, job_type, state, enqueued_at, created_at, updated_at) \
         SELECT j.request_id, 'execute', 'pending', $1, $1, $1 \
         FROM i JOIN jobs AS j ON j.id = i.job \
         WHERE j.job_type = 'compile' AND j.state = 'completed' \
         ON CONFLICT (request_id, job_type) DO NOTHING RETURNING id, request_id"
    )
}

/// New requests and their first jobs (PostgreSQL): only the requests this
/// statement inserts get a job.
const PG_CREATE: &str = "WITH i AS (SELECT * FROM json_to_recordset(CAST($1 AS json)) AS x(\
     request_id bigint, body text, checksum text, status text, sender text, payer text, \
     source text, job_type text)), \
     r AS (INSERT INTO requests (request_id, body, artifact_checksum, status, created_at, \
     updated_at, sender_id, payer_id, source) \
     SELECT request_id, body, checksum, status, $2, $2, sender, payer, source FROM i \
     ON CONFLICT (request_id) DO NOTHING RETURNING request_id) \
     INSERT INTO jobs (request_id, job_type, state, enqueued_at, created_at, updated_at) \
     SELECT i.request_id, i.job_type, 'pending', $2, $2, $2 FROM i \
     JOIN r ON r.request_id = i.request_id RETURNING id, request_id";

/// The same on SQLite, as one script in one call to the connection's
/// thread. A request is never without its first job (both are written in
/// one transaction, and jobs are never deleted), so the requests without
/// jobs after the first INSERT are exactly the ones it wrote; SQLite has
/// one writer, so nothing else writes in between. `$1` is now; each row is
/// request_id, body, checksum, status, sender, payer, source, job_type.
fn sqlite_create(rows: usize) -> String {
    let ids_and_types: Vec<String> = (0..rows)
        .map(|row| format!("(${}, ${})", 2 + row * 8, 2 + row * 8 + 7))
        .collect();
    format!(
        "BEGIN; \
         WITH i(request_id, body, checksum, status, sender, payer, source, job_type) \
         AS (VALUES {}) \
         INSERT INTO requests (request_id, body, artifact_checksum, status, created_at, \
         updated_at, sender_id, payer_id, source) \
         SELECT request_id, body, checksum, status, $1, $1, sender, payer, source FROM i \
         WHERE true ON CONFLICT (request_id) DO NOTHING; \
         WITH i(request_id, job_type) AS (VALUES {}) \
         INSERT INTO jobs (request_id, job_type, state, enqueued_at, created_at, updated_at) \
         SELECT request_id, job_type, 'pending', $1, $1, $1 FROM i \
         WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.request_id = i.request_id) \
         RETURNING id, request_id; \
         COMMIT;",
        values(rows, 8, 2),
        ids_and_types.join(", ")
    )
}

impl Store {
    /// Records several completions of distinct jobs in one transaction.
    /// Each is answered as [`Store::complete`] would answer it alone:
    /// accepted once, from the current lease holder; a repeat of a recorded
    /// completion by the same holder gets the same answer; anything else is
    /// a conflict (or not found). The outer error is the store failing,
    /// which records none of them.
    pub async fn complete_many(
        &self,
        completions: &[(u64, &CompleteJob)],
        now: i64,
    ) -> Result<Vec<Result<CompleteOutcome>>> {
        let mut seen = HashSet::new();
        if let Some((id, _)) = completions.iter().find(|(id, _)| !seen.insert(*id)) {
            return Err(Error::BadRequest(format!(
                "job {id} appears more than once in the batch"
            )));
        }
        // Ids beyond i64 name no job: answered on their own, not sent.
        let ids: Vec<Result<JobId>> = completions.iter().map(|(id, _)| JobId::new(*id)).collect();
        let rows = completions
            .iter()
            .zip(&ids)
            .filter_map(|((_, done), id)| id.as_ref().ok().map(|id| (*id, done)))
            .map(|(id, done)| CompletionRow::new(id, done, now))
            .collect::<Result<Vec<_>>>()?;
        // Job id → (request id, the execute job it handed over to).
        let recorded: HashMap<JobId, (RequestId, Option<JobId>)> = if rows.is_empty() {
            HashMap::new()
        } else {
            match self.dialect {
                Dialect::Postgres => self.complete_rows_postgres(&rows, now).await?,
                Dialect::Sqlite => self.complete_rows_sqlite(&rows, now).await?,
            }
        };
        let mut results = Vec::with_capacity(completions.len());
        for ((_, done), id) in completions.iter().zip(ids) {
            let result = match id.map(|id| (id, recorded.get(&id))) {
                Err(e) => Err(e),
                Ok((_, Some((request_id, next)))) => Ok(CompleteOutcome {
                    state: outcome_state(done),
                    next_job: next.map(|next| JobOffer {
                        job_id: next.into(),
                        job_type: JobType::Execute,
                        request_id: (*request_id).into(),
                    }),
                }),
                Ok((id, None)) => self.explain_refused_completion(id, done).await,
            };
            results.push(result);
        }
        Ok(results)
    }

    async fn complete_rows_postgres(
        &self,
        rows: &[CompletionRow<'_>],
        now: i64,
    ) -> Result<HashMap<JobId, (RequestId, Option<JobId>)>> {
        let done = sqlx::query(PG_COMPLETE)
            .bind(json(&rows)?)
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        done.iter()
            .map(|row| {
                Ok((
                    row.try_get("id")?,
                    (row.try_get("request_id")?, row.try_get("next_id")?),
                ))
            })
            .collect()
    }

    /// Two statements in one transaction (four calls to the connection's
    /// thread whatever the batch's size): SQLite's `RETURNING` cannot feed
    /// the next statement, so the jobs recorded come back first.
    async fn complete_rows_sqlite(
        &self,
        rows: &[CompletionRow<'_>],
        now: i64,
    ) -> Result<HashMap<JobId, (RequestId, Option<JobId>)>> {
        let mut tx = self.pool.begin().await?;
        let sql = trusted_sql(sqlite_complete_jobs(rows.len()));
        let query = rows
            .iter()
            .fold(sqlx::query(sql).bind(now), |q, row| row.bind(q));
        let done = query.fetch_all(&mut *tx).await?;
        let mut recorded = HashMap::with_capacity(done.len());
        for row in &done {
            recorded.insert(row.try_get("id")?, (row.try_get("request_id")?, None));
        }
        if !recorded.is_empty() {
            let sql = trusted_sql(sqlite_complete_requests(recorded.len()));
            let mut query = sqlx::query(sql).bind(now);
            for row in rows.iter().filter(|row| recorded.contains_key(&row.job)) {
                query = query.bind(row.job).bind(row.tx).bind(row.tx_at);
            }
            let next = query.fetch_all(&mut *tx).await?;
            let next_by_request: HashMap<RequestId, JobId> = next
                .iter()
                .map(|row| Ok((row.try_get("request_id")?, row.try_get("id")?)))
                .collect::<Result<_>>()?;
            for (request_id, next) in recorded.values_mut() {
                *next = next_by_request.get(request_id).copied();
            }
        }
        tx.commit().await?;
        Ok(recorded)
    }

    /// Records several requests, each with its first job, in one
    /// transaction; `artifact_cached` says per request whether its program
    /// is built already. Each is answered as [`Store::create_request`]
    /// would answer it alone: a request already known (or given twice) is
    /// reported as it is, or is a conflict when its content differs.
    pub async fn create_many(
        &self,
        requests: &[(&ExecutionRequest, bool)],
        now: i64,
    ) -> Result<Vec<Result<CreatedRequest>>> {
        let mut rows = Vec::with_capacity(requests.len());
        let mut firsts = HashMap::with_capacity(requests.len());
        // Each item's id, or why it is refused (answered on its own).
        let mut ids: Vec<Result<RequestId>> = Vec::with_capacity(requests.len());
        for (request, cached) in requests {
            let (row, first) = match RequestRow::new(request, *cached) {
                Ok(made) => made,
                Err(e) => {
                    ids.push(Err(e));
                    continue;
                }
            };
            ids.push(Ok(row.request_id));
            // The first of several with one id goes in the batch; the
            // others are answered after it, as repeats.
            if let Entry::Vacant(slot) = firsts.entry(row.request_id) {
                slot.insert((first, row.checksum.clone()));
                rows.push(row);
            }
        }
        let created: HashMap<RequestId, JobId> = if rows.is_empty() {
            HashMap::new()
        } else {
            let jobs = match self.dialect {
                Dialect::Postgres => {
                    sqlx::query(PG_CREATE)
                        .bind(json(&rows)?)
                        .bind(now)
                        .fetch_all(&self.pool)
                        .await?
                }
                Dialect::Sqlite => {
                    let mut query = sqlx::query(trusted_sql(sqlite_create(rows.len()))).bind(now);
                    for row in &rows {
                        query = query
                            .bind(row.request_id)
                            .bind(row.body.as_str())
                            .bind(row.checksum.as_str())
                            .bind(row.status)
                            .bind(row.sender)
                            .bind(row.payer)
                            .bind(row.source.as_str())
                            .bind(row.job_type);
                    }
                    self.sqlite_script(query).await?
                }
            };
            jobs.iter()
                .map(|row| Ok((row.try_get("request_id")?, row.try_get("id")?)))
                .collect::<Result<_>>()?
        };
        let mut answered = HashSet::new();
        let mut results = Vec::with_capacity(requests.len());
        for ((request, cached), id) in requests.iter().zip(ids) {
            let id = match id {
                Ok(id) => id,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            let result = match (created.get(&id), firsts.get(&id)) {
                (Some(job_id), Some((first, checksum))) if answered.insert(id) => {
                    Ok(CreatedRequest {
                        created: true,
                        status: first_status(*first),
                        first_job: JobOffer {
                            job_id: (*job_id).into(),
                            job_type: *first,
                            request_id: request.context.request_id,
                        },
                        artifact_checksum: checksum.clone(),
                    })
                }
                // Known before, or a repeat within the batch: as alone.
                _ => self.create_request(request, *cached, now).await,
            };
            results.push(result);
        }
        Ok(results)
    }
}

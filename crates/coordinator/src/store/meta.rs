//! Everything in the store besides requests and jobs: worker tokens, worker
//! heartbeats, locks, artifact bookkeeping and event-monitor cursors.

use std::collections::HashMap;

use outlayer_types::coordinator::{JobType, WorkerInfo, WorkerStatus};
use sqlx::Row;

use super::Store;
use super::columns::{BlockHeight, RequestId, from_db, to_db, u64_at};
use crate::error::{Error, Result};

/// A worker token as listed (never the token itself: only its hash is kept).
#[derive(Clone, Debug)]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// An artifact's bookkeeping row.
#[derive(Clone, Debug)]
pub struct ArtifactRecord {
    pub content_sha256: String,
    pub size: u64,
}

impl Store {
    pub async fn insert_token(&self, name: &str, token_hash: &str, now: i64) -> Result<()> {
        let result = sqlx::query(
            "INSERT INTO worker_tokens (name, token_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(token_hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Err(Error::Conflict(format!(
                "a token named {name:?} already exists"
            )));
        }
        Ok(())
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>> {
        let rows =
            sqlx::query("SELECT id, name, created_at, revoked_at FROM worker_tokens ORDER BY id")
                .fetch_all(&self.read)
                .await?;
        rows.iter()
            .map(|row| {
                Ok(TokenRecord {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    created_at_ms: row.try_get("created_at")?,
                    revoked_at_ms: row.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    /// Revokes a token by name; false when there is no live token of that name.
    pub async fn revoke_token(&self, name: &str, now: i64) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE worker_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(name)
        .execute(&self.pool)
        .await?;
        // This process forgets every token it remembered: the revoked one
        // stops working at once here.
        self.tokens.clear();
        Ok(result.rows_affected() == 1)
    }

    /// The name of the live token with this hash, if it was looked up less
    /// than the cache's TTL ago (`None`: ask [`Self::token_name`]).
    pub fn cached_token_name(&self, token_hash: &str) -> Option<String> {
        self.tokens.get(&token_hash.to_owned())
    }

    /// The name of the live token with this hash, from the store; a live
    /// one is remembered for the cache's TTL. Unknown tokens are not
    /// remembered (random ones would only push out the real ones).
    pub async fn token_name(&self, token_hash: &str) -> Result<Option<String>> {
        let name: Option<String> = sqlx::query_scalar(
            "SELECT name FROM worker_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.read)
        .await?;
        if let Some(name) = &name {
            self.tokens.insert(token_hash.to_owned(), name.clone());
        }
        Ok(name)
    }

    pub async fn worker_heartbeat(
        &self,
        worker_id: &str,
        token_name: &str,
        status: WorkerStatus,
        capabilities: &[JobType],
        version: Option<&str>,
        now: i64,
    ) -> Result<()> {
        let capabilities: Vec<&str> = capabilities.iter().map(|c| c.as_str()).collect();
        let done = sqlx::query(
            "INSERT INTO workers (worker_id, token_name, status, capabilities, version, last_seen) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (worker_id) DO UPDATE SET \
             token_name = excluded.token_name, status = excluded.status, \
             capabilities = excluded.capabilities, version = excluded.version, \
             last_seen = excluded.last_seen \
             WHERE workers.token_name = excluded.token_name",
        )
        .bind(worker_id)
        .bind(token_name)
        .bind(status.as_str())
        .bind(capabilities.join(","))
        .bind(version)
        .bind(now)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(worker_taken(worker_id));
        }
        Ok(())
    }

    /// Refuses `worker_id` to any token but the one that registered it (a
    /// worker id not registered yet is free).
    pub async fn check_worker_owner(&self, worker_id: &str, token_name: &str) -> Result<()> {
        if self.owners.get(&worker_id.to_owned()).as_deref() == Some(token_name) {
            return Ok(());
        }
        let owner: Option<String> =
            sqlx::query_scalar("SELECT token_name FROM workers WHERE worker_id = $1")
                .bind(worker_id)
                .fetch_optional(&self.read)
                .await?;
        match owner {
            Some(owner) if owner != token_name => Err(worker_taken(worker_id)),
            Some(owner) => {
                self.owners.insert(worker_id.to_owned(), owner);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Workers seen since `since` count as active.
    pub async fn list_workers(&self, since: i64) -> Result<Vec<WorkerInfo>> {
        let rows = sqlx::query(
            "SELECT worker_id, token_name, status, capabilities, version, last_seen FROM workers \
             ORDER BY last_seen DESC LIMIT 500",
        )
        .fetch_all(&self.read)
        .await?;
        // All-time outcomes per worker, and the job each holds now (the
        // most recently claimed, when it holds several).
        let mut done: HashMap<String, (u64, u64)> = HashMap::new();
        let counts = sqlx::query(
            "SELECT worker_id, state, COUNT(*) AS n FROM jobs WHERE worker_id IS NOT NULL \
             AND state IN ('completed', 'failed') GROUP BY worker_id, state",
        )
        .fetch_all(&self.read)
        .await?;
        for row in counts {
            let worker: String = row.try_get("worker_id")?;
            let state: String = row.try_get("state")?;
            let n = u64_at(&row, "n")?;
            let entry = done.entry(worker).or_default();
            if state == "completed" {
                entry.0 = n;
            } else {
                entry.1 = n;
            }
        }
        let mut current: HashMap<String, RequestId> = HashMap::new();
        let held = sqlx::query(
            "SELECT worker_id, request_id, COALESCE(claimed_at, 0) AS claimed_at, id FROM jobs \
             WHERE state = 'claimed' AND worker_id IS NOT NULL ORDER BY claimed_at, id",
        )
        .fetch_all(&self.read)
        .await?;
        for row in held {
            // Ordered by claim time: the last one wins.
            current.insert(row.try_get("worker_id")?, row.try_get("request_id")?);
        }
        rows.iter()
            .map(|row| {
                let worker_id: String = row.try_get("worker_id")?;
                let (jobs_completed, jobs_failed) =
                    done.get(&worker_id).copied().unwrap_or_default();
                let current_job = current.get(&worker_id).map(|request| u64::from(*request));
                let status: String = row.try_get("status")?;
                let capabilities: String = row.try_get("capabilities")?;
                let last_seen: i64 = row.try_get("last_seen")?;
                Ok(WorkerInfo {
                    worker_id,
                    token_name: row.try_get("token_name")?,
                    status: WorkerStatus::parse(&status).unwrap_or(WorkerStatus::Idle),
                    capabilities: capabilities.split(',').filter_map(JobType::parse).collect(),
                    version: row.try_get("version")?,
                    last_seen_ms: from_db(last_seen),
                    active: last_seen >= since,
                    jobs_completed,
                    jobs_failed,
                    current_job,
                })
            })
            .collect()
    }

    /// Takes the lock if it is free or its holder's TTL ran out.
    pub async fn acquire_lock(
        &self,
        key: &str,
        owner: &str,
        ttl_ms: u64,
        now: i64,
    ) -> Result<Option<i64>> {
        let expires = now.saturating_add(to_db(ttl_ms, "ttl_ms")?);
        let granted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO locks (lock_key, owner_token, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (lock_key) DO UPDATE SET owner_token = excluded.owner_token, \
             expires_at = excluded.expires_at WHERE locks.expires_at <= $4 \
             RETURNING expires_at",
        )
        .bind(key)
        .bind(owner)
        .bind(expires)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(granted)
    }

    /// Releases the lock if `owner` holds it; false otherwise.
    pub async fn release_lock(&self, key: &str, owner: &str) -> Result<bool> {
        let result = sqlx::query("DELETE FROM locks WHERE lock_key = $1 AND owner_token = $2")
            .bind(key)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn artifact(&self, checksum: &str) -> Result<Option<ArtifactRecord>> {
        let row = sqlx::query("SELECT content_sha256, size FROM artifacts WHERE checksum = $1")
            .bind(checksum)
            .fetch_optional(&self.read)
            .await?;
        row.map(|row| {
            Ok(ArtifactRecord {
                content_sha256: row.try_get("content_sha256")?,
                size: u64_at(&row, "size")?,
            })
        })
        .transpose()
    }

    pub async fn put_artifact(
        &self,
        checksum: &str,
        content_sha256: &str,
        size: u64,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO artifacts (checksum, content_sha256, size, created_at, last_access) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (checksum) DO UPDATE SET \
             content_sha256 = excluded.content_sha256, size = excluded.size, \
             last_access = excluded.last_access",
        )
        .bind(checksum)
        .bind(content_sha256)
        .bind(to_db(size, "size")?)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn touch_artifact(&self, checksum: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE artifacts SET last_access = $1 WHERE checksum = $2")
            .bind(now)
            .bind(checksum)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_artifact(&self, checksum: &str) -> Result<()> {
        sqlx::query("DELETE FROM artifacts WHERE checksum = $1")
            .bind(checksum)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Number of artifacts and their total size.
    pub async fn artifact_totals(&self) -> Result<(u64, u64)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes FROM artifacts",
        )
        .fetch_one(&self.read)
        .await?;
        Ok((u64_at(&row, "n")?, u64_at(&row, "bytes")?))
    }

    /// Least recently used artifacts first, for eviction.
    pub async fn artifacts_by_age(&self, limit: u64) -> Result<Vec<(String, u64)>> {
        let rows = sqlx::query(
            "SELECT checksum, size FROM artifacts ORDER BY last_access, checksum LIMIT $1",
        )
        .bind(to_db(limit, "limit")?)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("checksum")?, u64_at(row, "size")?)))
            .collect()
    }

    pub async fn cursor(&self, name: &str) -> Result<Option<(u64, i64)>> {
        let row = sqlx::query("SELECT block_height, updated_at FROM cursors WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.read)
            .await?;
        row.map(|row| {
            Ok((
                row.try_get::<BlockHeight, _>("block_height")?.into(),
                row.try_get("updated_at")?,
            ))
        })
        .transpose()
    }

    pub async fn set_cursor(&self, name: &str, block_height: u64, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO cursors (name, block_height, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET block_height = excluded.block_height, \
             updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(BlockHeight::new(block_height)?)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The most recently moved cursor's update time, for monitor lag.
    pub async fn latest_cursor_update(&self) -> Result<Option<i64>> {
        let latest: Option<i64> = sqlx::query_scalar("SELECT MAX(updated_at) FROM cursors")
            .fetch_one(&self.read)
            .await?;
        Ok(latest)
    }
}

fn worker_taken(worker_id: &str) -> Error {
    Error::Conflict(format!(
        "worker id {worker_id} belongs to another token; each token names its own workers"
    ))
}

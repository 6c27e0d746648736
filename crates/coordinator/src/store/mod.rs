//! The durable store: the source of truth for requests, jobs, tokens, locks,
//! workers, artifacts and cursors. One set of portable SQL runs on PostgreSQL
//! and SQLite through sqlx's `Any` driver; the few places where the engines
//! differ (schema, row locking) are chosen by [`Dialect`].
//!
//! Times are milliseconds since the Unix epoch from the coordinator's clock,
//! passed in as parameters, so both engines compare the same numbers.

mod batch;
mod columns;
mod jobs;
mod listing;
mod meta;
mod requests;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, AssertSqlSafe, Executor, SqlSafeStr};

use crate::cache::TtlCache;
use crate::clock::Clock;
use crate::error::Result;

pub use jobs::{ClaimedRow, CompleteOutcome, CreatedRequest, JobFilter, ReapOutcome};
pub use meta::TokenRecord;
pub use requests::RequestFilter;

/// How long a query waits for a connection (or the first connect) before
/// failing: long enough for a busy pool, short enough to report a dead store.
///
/// Pools hand out connections without pinging them first
/// (`test_before_acquire(false)`): the ping doubled the round trips of every
/// call. A connection that broke (the server restarted) fails the one call
/// that finds it, and the pool drops it.
const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

#[derive(Clone, Debug)]
pub struct Store {
    /// Writes and transactions.
    pool: AnyPool,
    /// Plain reads. On SQLite a separate pool of read-only connections, which
    /// WAL lets run beside the single writer; on PostgreSQL the same pool.
    read: AnyPool,
    dialect: Dialect,
    /// Live tokens by hash (their names), remembered for a few seconds.
    tokens: Arc<TtlCache<String, String>>,
    /// Worker ids seen bound to a token (its name). A binding never
    /// changes, so a remembered one stays true.
    owners: Arc<TtlCache<String, String>>,
}

/// Entries each cache keeps at most: far more than the live tokens and
/// workers of a deployment.
const CACHE_ENTRIES: usize = 4_096;

impl Store {
    /// Connects and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else {
            Dialect::Postgres
        };
        let pool = match dialect {
            // One writer connection: SQLite has one writer anyway, and a
            // single connection rules out "database is locked" between our
            // own transactions. Other processes (the token CLI) wait on the
            // busy timeout instead.
            Dialect::Sqlite => sqlite_pool(url, 1, false).await?,
            Dialect::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .test_before_acquire(false)
                    .connect(url)
                    .await?
            }
        };
        let read = pool.clone();
        let mut store = Self {
            pool,
            read,
            dialect,
            tokens: Arc::new(TtlCache::new(
                Duration::ZERO,
                CACHE_ENTRIES,
                Clock::system(),
            )),
            owners: Arc::new(TtlCache::new(
                Duration::ZERO,
                CACHE_ENTRIES,
                Clock::system(),
            )),
        };
        store.migrator().run(&store.pool).await?;
        store.backfill().await?;
        // Readers open after the migrations, so they see the schema.
        if dialect == Dialect::Sqlite {
            store.read = sqlite_pool(url, 4, true).await?;
        }
        Ok(store)
    }

    fn migrator(&self) -> Migrator {
        let files: [(&str, &str); 4] = match self.dialect {
            Dialect::Postgres => [
                (
                    "init",
                    include_str!("../../migrations/postgres/0001_init.sql"),
                ),
                (
                    "request_views",
                    include_str!("../../migrations/postgres/0002_request_views.sql"),
                ),
                (
                    "settlement",
                    include_str!("../../migrations/postgres/0003_settlement.sql"),
                ),
                (
                    "settled_at",
                    include_str!("../../migrations/postgres/0004_settled_at.sql"),
                ),
            ],
            Dialect::Sqlite => [
                (
                    "init",
                    include_str!("../../migrations/sqlite/0001_init.sql"),
                ),
                (
                    "request_views",
                    include_str!("../../migrations/sqlite/0002_request_views.sql"),
                ),
                (
                    "settlement",
                    include_str!("../../migrations/sqlite/0003_settlement.sql"),
                ),
                (
                    "settled_at",
                    include_str!("../../migrations/sqlite/0004_settled_at.sql"),
                ),
            ],
        };
        Migrator::with_migrations(
            files
                .into_iter()
                .enumerate()
                .map(|(i, (name, sql))| {
                    Migration::new(
                        i as i64 + 1,
                        Cow::Borrowed(name),
                        MigrationType::Simple,
                        sql.into_sql_str(),
                        false,
                    )
                })
                .collect(),
        )
    }

    /// Remembers token and worker-id lookups for `ttl` (off by default, as
    /// for the token CLI). A token revoked through this store stops working
    /// at once; one revoked by another process (the CLI) within `ttl`.
    pub fn with_lookup_cache(mut self, ttl: Duration, clock: &Clock) -> Self {
        self.tokens = Arc::new(TtlCache::new(ttl, CACHE_ENTRIES, clock.clone()));
        self.owners = Arc::new(TtlCache::new(ttl, CACHE_ENTRIES, clock.clone()));
        self
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// A trivial round trip, for health checks.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.pool.close().await;
    }
}

async fn sqlite_pool(url: &str, connections: u32, read_only: bool) -> Result<AnyPool> {
    // WAL with synchronous = NORMAL, deliberately: a killed process loses
    // nothing committed (WAL is synced at checkpoints), a power cut or OS
    // crash may lose the last commits. For the embedded one-machine default
    // that is safe because the chain is the truth: the monitor re-adds
    // pending requests from the contract at start-up, and a job re-run after
    // a lost completion finds its request settled. FULL would fsync every
    // commit, several times slower on the claim path.
    let pragmas: &'static str = if read_only {
        "PRAGMA busy_timeout = 10000; PRAGMA query_only = ON;"
    } else {
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;"
    };
    let pool = AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                conn.execute(pragmas).await?;
                Ok(())
            })
        })
        .connect(url)
        .await?;
    Ok(pool)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// SQL assembled from our own constants only (never from client input).
fn trusted_sql(sql: String) -> AssertSqlSafe<String> {
    AssertSqlSafe(sql)
}

/// `job_type IN ('compile', ...)` for a set of job types: the values are our
/// enum's fixed names, so inlining them is safe and keeps one statement per
/// capability set.
fn job_type_list(types: &[outlayer_types::coordinator::JobType]) -> String {
    let names: Vec<String> = types.iter().map(|t| format!("'{}'", t.as_str())).collect();
    if names.is_empty() {
        "(NULL)".to_owned()
    } else {
        format!("({})", names.join(", "))
    }
}

//! Wake-ups for waiting workers. The queue carries job ids only and may lose
//! them (Redis flushed or restarted, coordinator restarted): every id is
//! checked against the store when popped, and the reconciler re-sends ids of
//! jobs that stayed pending, so correctness never rests on the queue.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use outlayer_types::coordinator::{JobOffer, JobType};
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use tokio::sync::Notify;

use crate::error::Result;

pub enum Queue {
    Memory(MemoryQueue),
    Redis(RedisQueue),
}

impl Queue {
    pub fn memory() -> Self {
        Self::Memory(MemoryQueue::default())
    }

    pub async fn redis(url: &str, prefix: &str) -> Result<Self> {
        Ok(Self::Redis(RedisQueue::connect(url, prefix).await?))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Memory(_) => "in-process",
            Self::Redis(_) => "redis",
        }
    }

    pub async fn push(&self, job: JobOffer) -> Result<()> {
        match self {
            Self::Memory(queue) => {
                queue.push(job);
                Ok(())
            }
            Self::Redis(queue) => queue.push(job).await,
        }
    }

    /// Several wake-ups at once (one round trip to Redis).
    pub async fn push_many(&self, jobs: &[JobOffer]) -> Result<()> {
        match self {
            Self::Memory(queue) => {
                for job in jobs {
                    queue.push(*job);
                }
                Ok(())
            }
            Self::Redis(queue) => queue.push_many(jobs).await,
        }
    }

    /// Waits up to `wait` for a wake-up for a job of one of these types:
    /// its type and id.
    pub async fn pop(&self, types: &[JobType], wait: Duration) -> Result<Option<(JobType, u64)>> {
        match self {
            Self::Memory(queue) => Ok(queue.pop(types, wait).await),
            Self::Redis(queue) => queue.pop(types, wait).await,
        }
    }

    pub async fn ping(&self) -> Result<()> {
        match self {
            Self::Memory(_) => Ok(()),
            Self::Redis(queue) => queue.ping().await,
        }
    }

    /// Wake-ups waiting in the queue for this job type.
    pub async fn len(&self, job_type: JobType) -> Result<u64> {
        match self {
            Self::Memory(queue) => {
                Ok(queue.ids.lock().expect("queue lock")[slot(job_type)].len() as u64)
            }
            Self::Redis(queue) => queue.len(job_type).await,
        }
    }
}

/// Wake-ups kept per job type. Workers that claim from the store directly
/// (`/jobs/claim-batch`) leave the wake-ups of the jobs they took behind;
/// the oldest beyond this are dropped, so the list cannot grow without end.
/// Dropping a hint loses nothing: the store is asked on every wait.
pub const MAX_WAKEUPS: usize = 10_000;

fn slot(job_type: JobType) -> usize {
    match job_type {
        JobType::Compile => 0,
        JobType::Execute => 1,
    }
}

/// The embedded queue: one deque and one `Notify` per job type.
#[derive(Default)]
pub struct MemoryQueue {
    ids: Mutex<[VecDeque<u64>; 2]>,
    ready: [Notify; 2],
}

impl MemoryQueue {
    fn push(&self, job: JobOffer) {
        let slot = slot(job.job_type);
        {
            let mut ids = self.ids.lock().expect("queue lock");
            ids[slot].push_back(job.job_id);
            if ids[slot].len() > MAX_WAKEUPS {
                ids[slot].pop_front();
            }
        }
        self.ready[slot].notify_one();
    }

    fn try_pop(&self, types: &[JobType]) -> Option<(JobType, u64)> {
        let mut ids = self.ids.lock().expect("queue lock");
        types
            .iter()
            .find_map(|t| ids[slot(*t)].pop_front().map(|id| (*t, id)))
    }

    async fn pop(&self, types: &[JobType], wait: Duration) -> Option<(JobType, u64)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(id) = self.try_pop(types) {
                return Some(id);
            }
            let wants = |t: JobType| types.contains(&t);
            let compile = self.ready[0].notified();
            let execute = self.ready[1].notified();
            let woken = async {
                tokio::select! {
                    _ = compile, if wants(JobType::Compile) => {}
                    _ = execute, if wants(JobType::Execute) => {}
                }
            };
            if tokio::time::timeout_at(deadline, woken).await.is_err() {
                return self.try_pop(types);
            }
        }
    }
}

/// Redis lists, one per job type: `LPUSH` to wake, `BRPOP` to wait.
pub struct RedisQueue {
    client: redis::Client,
    /// Shared connection for pushes and pings (never blocks); replaced after
    /// a failure, since a multiplexed connection does not reconnect itself.
    shared: Mutex<MultiplexedConnection>,
    /// Idle connections for `BRPOP`, which blocks the connection it runs on.
    blocking: Mutex<Vec<MultiplexedConnection>>,
    prefix: String,
}

impl RedisQueue {
    async fn connect(url: &str, prefix: &str) -> Result<Self> {
        let client = redis::Client::open(url)?;
        let shared = client.get_multiplexed_async_connection().await?;
        Ok(Self {
            client,
            shared: Mutex::new(shared),
            blocking: Mutex::new(Vec::new()),
            prefix: prefix.to_owned(),
        })
    }

    fn key(&self, job_type: JobType) -> String {
        format!("{}:queue:{}", self.prefix, job_type.as_str())
    }

    async fn push(&self, job: JobOffer) -> Result<()> {
        self.push_many(&[job]).await
    }

    /// One pipeline: an `LPUSH` per job, then an `LTRIM` per list touched.
    async fn push_many(&self, jobs: &[JobOffer]) -> Result<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for job in jobs {
            pipe.cmd("LPUSH")
                .arg(self.key(job.job_type))
                .arg(job.job_id)
                .ignore();
        }
        for job_type in JobType::ALL {
            if jobs.iter().any(|job| job.job_type == job_type) {
                pipe.cmd("LTRIM")
                    .arg(self.key(job_type))
                    .arg(0)
                    .arg(MAX_WAKEUPS as i64 - 1)
                    .ignore();
            }
        }
        self.shared_pipe(&pipe).await
    }

    /// [`Self::shared_query`] for a pipeline.
    async fn shared_pipe(&self, pipe: &redis::Pipeline) -> Result<()> {
        let mut conn = self.shared.lock().expect("redis lock").clone();
        match pipe.query_async::<()>(&mut conn).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() => {
                let mut fresh = self.client.get_multiplexed_async_connection().await?;
                *self.shared.lock().expect("redis lock") = fresh.clone();
                Ok(pipe.query_async::<()>(&mut fresh).await?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Runs a command on the shared connection, reconnecting once if the
    /// connection broke (Redis restarted).
    async fn shared_query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T> {
        let mut conn = self.shared.lock().expect("redis lock").clone();
        match cmd.query_async(&mut conn).await {
            Ok(value) => Ok(value),
            Err(e) if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() => {
                let mut fresh = self.client.get_multiplexed_async_connection().await?;
                *self.shared.lock().expect("redis lock") = fresh.clone();
                Ok(cmd.query_async(&mut fresh).await?)
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn pop(&self, types: &[JobType], wait: Duration) -> Result<Option<(JobType, u64)>> {
        let idle = self.blocking.lock().expect("pool lock").pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => {
                let config = AsyncConnectionConfig::new()
                    .set_response_timeout(Some(Duration::from_secs(3600)));
                self.client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await?
            }
        };
        let mut cmd = redis::cmd("BRPOP");
        for job_type in types {
            cmd.arg(self.key(*job_type));
        }
        // BRPOP's timeout 0 means forever; never ask for that.
        cmd.arg(wait.as_secs_f64().max(0.01));
        let popped: Option<(String, u64)> =
            tokio::time::timeout(wait + Duration::from_secs(2), cmd.query_async(&mut conn))
                .await
                .map_err(|_| {
                    redis::RedisError::from((redis::ErrorKind::Io, "BRPOP did not answer in time"))
                })??;
        // Only a connection that answered goes back to the pool; a failed
        // one may be mid-reply.
        self.blocking.lock().expect("pool lock").push(conn);
        Ok(popped.and_then(|(key, id)| {
            types
                .iter()
                .find(|t| self.key(**t) == key)
                .map(|t| (*t, id))
        }))
    }

    async fn ping(&self) -> Result<()> {
        self.shared_query::<String>(&redis::cmd("PING")).await?;
        Ok(())
    }

    async fn len(&self, job_type: JobType) -> Result<u64> {
        let mut cmd = redis::cmd("LLEN");
        cmd.arg(self.key(job_type));
        self.shared_query::<u64>(&cmd).await
    }
}

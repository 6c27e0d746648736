//! The running coordinator: shared state, the reconciler (lease expiry and
//! lost wake-ups), health and stats, and serving with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use outlayer_types::coordinator::*;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::artifacts::ArtifactCache;
use crate::cache::TtlCache;
use crate::config::Config;
use crate::error::Result;
use crate::keystore::KeystoreProxy;
use crate::metrics::Metrics;
use crate::queue::Queue;
use crate::ratelimit::{Rate, RateLimiter};
use crate::store::Store;

/// How long a job offered to one poll is not offered to another: time
/// enough for the poller to claim it. An offer not claimed by then (the
/// poller went away) is offered again.
pub const OFFER_HOLD: Duration = Duration::from_secs(2);

/// Everything a handler needs; shared behind an `Arc`.
pub struct Coordinator {
    pub config: Config,
    pub store: Store,
    pub queue: Queue,
    pub artifacts: ArtifactCache,
    pub limiter: RateLimiter,
    pub metrics: Metrics,
    pub keystore: Option<KeystoreProxy>,
    pub pins: crate::pins::Pins,
    /// Jobs a poll offered in the last [`OFFER_HOLD`]: the next polls are
    /// offered other pending jobs, so pollers do not all race for one.
    pub offered: TtlCache<u64, ()>,
    /// Set when shutting down, so long polls return at once instead of
    /// holding up the graceful shutdown.
    stopping: AtomicBool,
}

impl Coordinator {
    /// Opens the store (applying migrations), the queue and the artifact cache.
    pub async fn open(config: Config) -> Result<Arc<Self>> {
        tokio::fs::create_dir_all(&config.data_dir).await?;
        let store = Store::connect(&config.store_url())
            .await?
            .with_lookup_cache(Duration::from_millis(config.token_cache_ms), &config.clock);
        let queue = match &config.redis_url {
            Some(url) => Queue::redis(url, &config.redis_prefix).await?,
            None => Queue::memory(),
        };
        let artifacts = ArtifactCache::open(
            config.artifact_dir(),
            config.artifact_cache_bytes,
            store.clone(),
            config.clock.clone(),
        )
        .await?;
        let limiter = RateLimiter::new(
            Rate {
                per_second: config.anon_rps,
                burst: config.anon_burst,
            },
            Rate {
                per_second: config.keyed_rps,
                burst: config.keyed_burst,
            },
            config.trusted_proxies.clone(),
            config.clock.clone(),
        );
        let keystore = config
            .keystore_url
            .as_deref()
            .map(|url| KeystoreProxy::new(url, config.keystore_token.clone()));
        let pins = crate::pins::Pins::new(
            Duration::from_millis(config.pin_ttl_ms),
            config.clock.clone(),
        );
        let offered = TtlCache::new(OFFER_HOLD, 4_096, config.clock.clone());
        Ok(Arc::new(Self {
            config,
            store,
            queue,
            artifacts,
            limiter,
            metrics: Metrics::default(),
            keystore,
            pins,
            offered,
            stopping: AtomicBool::new(false),
        }))
    }

    /// The oldest pending job of these types that no other poll was
    /// offered in the last [`OFFER_HOLD`], now held for this one.
    pub async fn offer_pending(&self, types: &[JobType]) -> Result<Option<JobOffer>> {
        /// Pending jobs looked at: more than pollers usually wait at once.
        const WINDOW: u32 = 64;
        let pending = self.store.pending_jobs(types, WINDOW).await?;
        Ok(pending.into_iter().find(|job| self.hold_offer(job.job_id)))
    }

    /// Holds `job_id` for one poll; false when another poll holds it.
    pub fn hold_offer(&self, job_id: u64) -> bool {
        // Check and insert under one lock, so two polls cannot both win.
        self.offered.insert_if_absent(job_id, ())
    }

    /// Now, in milliseconds since the Unix epoch, on the configured clock.
    pub fn now_ms(&self) -> i64 {
        self.config.clock.now_ms()
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// Wakes a worker for this job. A failure is only logged: the job is in
    /// the store and the reconciler re-sends its wake-up.
    pub async fn wake(&self, job: JobOffer) {
        if let Err(e) = self.queue.push(job).await {
            tracing::warn!(error = %e, job_id = job.job_id, "queue push failed; the reconciler will retry");
        }
    }

    /// Wakes workers for these jobs, in one call to the queue.
    pub async fn wake_many(&self, jobs: &[JobOffer]) {
        if let Err(e) = self.queue.push_many(jobs).await {
            tracing::warn!(error = %e, jobs = jobs.len(), "queue push failed; the reconciler will retry");
        }
    }

    /// One reconciler pass: expire leases, then re-send wake-ups for jobs
    /// that stayed pending too long (their wake-up may have been lost).
    pub async fn reconcile(&self) -> Result<()> {
        let now = self.now_ms();
        let reaped = self
            .store
            .reap_expired(self.config.max_attempts, now)
            .await?;
        self.metrics
            .leases_expired(reaped.requeued.len() as u64, reaped.failed);
        for job in &reaped.requeued {
            tracing::info!(job_id = job.job_id, "lease expired; job is pending again");
            self.wake(*job).await;
        }
        let cutoff = now - self.config.requeue_ms as i64;
        let stale = self.store.stale_pending(cutoff, now).await?;
        for job_type in JobType::ALL {
            let jobs: Vec<_> = stale.iter().filter(|j| j.job_type == job_type).collect();
            if jobs.is_empty() {
                continue;
            }
            // While as many wake-ups as stale jobs still wait in the queue
            // (no worker is polling), adding more would only grow the list.
            let queued = self.queue.len(job_type).await.unwrap_or(0);
            if queued >= jobs.len() as u64 {
                continue;
            }
            self.metrics.wakeups_resent(jobs.len() as u64);
            for job in jobs {
                self.wake(*job).await;
            }
        }
        Ok(())
    }

    pub async fn stats(&self) -> Result<CoordinatorStats> {
        let mut stats = CoordinatorStats::default();
        for (status, n) in self.store.request_status_counts().await? {
            stats.requests_total += n;
            match status {
                RequestStatus::Completed => stats.requests_completed += n,
                RequestStatus::Failed => stats.requests_failed += n,
                _ => {}
            }
        }
        for (state, n) in self.store.job_state_counts().await? {
            match state {
                JobState::Pending => stats.jobs.pending = n,
                JobState::Claimed => stats.jobs.claimed = n,
                JobState::Completed => stats.jobs.completed = n,
                JobState::Failed => stats.jobs.failed = n,
            }
        }
        let since = self.now_ms() - self.config.worker_timeout_ms as i64;
        stats.workers_active = self
            .store
            .list_workers(since)
            .await?
            .iter()
            .filter(|w| w.active)
            .count() as u64;
        (stats.artifacts, stats.artifact_bytes) = self.store.artifact_totals().await?;
        (
            stats.instructions_total,
            stats.execution_ms_total,
            stats.compile_ms_total,
        ) = self.store.usage_totals().await?;
        stats.failures_by_category = self.store.failure_counts().await?;
        Ok(stats)
    }

    /// Store and queue decide health; keystore, workers and the monitor can
    /// only degrade it (the coordinator still accepts and keeps requests).
    pub async fn health(&self) -> HealthReport {
        let check = |r: Result<()>, ok: &str| match r {
            Ok(()) => HealthCheck {
                status: HealthStatus::Healthy,
                detail: ok.to_owned(),
            },
            Err(e) => HealthCheck {
                status: HealthStatus::Unhealthy,
                detail: e.to_string(),
            },
        };
        let store = check(
            self.store.ping().await,
            match self.store.dialect() {
                crate::store::Dialect::Postgres => "postgresql",
                crate::store::Dialect::Sqlite => "sqlite",
            },
        );
        let queue = check(self.queue.ping().await, self.queue.kind());
        let keystore = match &self.keystore {
            None => HealthCheck {
                status: HealthStatus::Disabled,
                detail: "not configured".into(),
            },
            Some(keystore) => match keystore.health().await {
                Ok(()) => HealthCheck {
                    status: HealthStatus::Healthy,
                    detail: "reachable".into(),
                },
                Err(e) => HealthCheck {
                    status: HealthStatus::Degraded,
                    detail: e.to_string(),
                },
            },
        };
        let now = self.now_ms();
        let since = now - self.config.worker_timeout_ms as i64;
        let workers = match self.store.list_workers(since).await {
            Ok(list) => {
                let active = list.iter().filter(|w| w.active).count();
                HealthCheck {
                    status: if active > 0 {
                        HealthStatus::Healthy
                    } else {
                        HealthStatus::Degraded
                    },
                    detail: format!("{active} active"),
                }
            }
            Err(e) => HealthCheck {
                status: HealthStatus::Unhealthy,
                detail: e.to_string(),
            },
        };
        let monitor = match self.store.latest_cursor_update().await {
            Ok(None) => HealthCheck {
                status: HealthStatus::Disabled,
                detail: "no event monitor has reported".into(),
            },
            Ok(Some(at)) => {
                let lag = (now - at).max(0) as u64;
                HealthCheck {
                    status: if lag <= self.config.monitor_max_lag_ms {
                        HealthStatus::Healthy
                    } else {
                        HealthStatus::Degraded
                    },
                    detail: format!("cursor moved {lag} ms ago"),
                }
            }
            Err(e) => HealthCheck {
                status: HealthStatus::Unhealthy,
                detail: e.to_string(),
            },
        };
        let parts = [&store, &queue, &keystore, &workers, &monitor];
        let status =
            if store.status == HealthStatus::Unhealthy || queue.status == HealthStatus::Unhealthy {
                HealthStatus::Unhealthy
            } else if parts.iter().any(|p| p.status == HealthStatus::Degraded) {
                HealthStatus::Degraded
            } else {
                HealthStatus::Healthy
            };
        HealthReport {
            status,
            store,
            queue,
            keystore,
            workers,
            monitor,
        }
    }
}

async fn reconciler(coordinator: Arc<Coordinator>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(
        coordinator.config.reconcile_ms.max(10),
    ));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = coordinator.reconcile().await {
            tracing::warn!(error = %e, "reconciler pass failed");
        }
    }
}

/// A coordinator serving in the background (tests, `outlayer dev`, bench).
pub struct Running {
    pub addr: SocketAddr,
    pub coordinator: Arc<Coordinator>,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    reconciler: JoinHandle<()>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving, waits for in-flight requests and the reconciler, and
    /// closes the store.
    pub async fn stop(self) {
        self.coordinator.stopping.store(true, Ordering::Relaxed);
        let _ = self.stop.send(true);
        let _ = self.server.await;
        let _ = self.reconciler.await;
        self.coordinator.store.close().await;
    }
}

/// Opens the coordinator and serves it on `config.listen` until `stop`.
pub async fn spawn(config: Config) -> Result<Running> {
    let coordinator = Coordinator::open(config).await?;
    let listener = TcpListener::bind(coordinator.config.listen).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let app =
        crate::api::app(coordinator.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let mut server_stop = stopped.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.changed().await;
            })
            .await
    });
    let reconciler = tokio::spawn(reconciler(coordinator.clone(), stopped));
    tracing::info!(%addr, "coordinator listening");
    Ok(Running {
        addr,
        coordinator,
        stop,
        server,
        reconciler,
    })
}

/// Serves until `shutdown` resolves (Ctrl-C in the CLI).
pub async fn serve(config: Config, shutdown: impl Future<Output = ()>) -> Result<()> {
    let running = spawn(config).await?;
    shutdown.await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

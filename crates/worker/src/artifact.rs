//! Getting a request's program: from the worker's memory, from the
//! coordinator's artifact cache, or built (or downloaded) here under a lock
//! so two workers never build the same source at once. `outlayer build`
//! uses the same [`Artifacts`] to build a source ahead of any request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use outlayer_builder::{BuildError, Builder};
use outlayer_coordinator_client::CoordinatorClient;
use outlayer_types::CodeSource;
use tokio::sync::Semaphore;

/// Programs kept in the worker's memory, by artifact checksum.
const MEMORY_ENTRIES: usize = 64;
/// Extra lock time beyond the build timeout, for the upload.
const LOCK_MARGIN: Duration = Duration::from_secs(30);

/// A program ready to run.
pub struct Program {
    pub wasm: Arc<[u8]>,
    /// Milliseconds this request spent building it, when it had to.
    pub built_ms: Option<u64>,
    /// Found ready (in memory or the coordinator's cache), not made here.
    pub cached: bool,
}

/// Why no program could be had.
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    /// The source is at fault (compile error, missing commit, wrong hash):
    /// the request fails with `compilation_failed`.
    #[error("{summary}")]
    User { summary: String, built_ms: u64 },
    /// Ours (coordinator, disk, toolchain): another attempt may succeed.
    #[error("{0}")]
    Infrastructure(String),
}

/// Recently used programs; cleared when full (simple, and a miss only costs
/// a download from the coordinator).
#[derive(Default)]
struct MemoryCache {
    entries: Mutex<HashMap<String, Arc<[u8]>>>,
}

impl MemoryCache {
    fn get(&self, key: &str) -> Option<Arc<[u8]>> {
        self.entries.lock().expect("cache lock").get(key).cloned()
    }

    fn put(&self, key: &str, wasm: Arc<[u8]>) {
        let mut entries = self.entries.lock().expect("cache lock");
        if entries.len() >= MEMORY_ENTRIES {
            entries.clear();
        }
        entries.insert(key.to_owned(), wasm);
    }
}

/// Where programs come from: memory, the coordinator's cache, or a build.
pub struct Artifacts {
    /// Unset: programs are built here and kept in memory only.
    coordinator: Option<CoordinatorClient>,
    builder: Builder,
    memory: MemoryCache,
    /// Bounds the builds running at once (each uses several cores).
    builds: Semaphore,
}

impl Artifacts {
    pub fn new(
        coordinator: Option<CoordinatorClient>,
        builder: Builder,
        max_builds: usize,
    ) -> Self {
        Self {
            coordinator,
            builder,
            memory: MemoryCache::default(),
            builds: Semaphore::new(max_builds.max(1)),
        }
    }

    /// `source` pinned to a commit: a branch or tag another worker resolved
    /// moments ago (the coordinator keeps it briefly), else resolved now and
    /// shared.
    pub async fn pin(&self, source: &CodeSource) -> Result<CodeSource, ProgramError> {
        let unpinned = source
            .commit()
            .is_some_and(|commit| !outlayer_types::is_commit_hash(commit));
        let resolve = || async {
            self.builder
                .resolve(source)
                .await
                .map_err(|e| classify(e, 0))
        };
        let (true, Some(coordinator)) = (unpinned, &self.coordinator) else {
            return resolve().await;
        };
        let key = source.artifact_checksum();
        match coordinator.pin(&key).await {
            Ok(Some(commit)) => return Ok(source.with_commit(&commit)),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "reading a shared pin failed; resolving here"),
        }
        let pinned = resolve().await?;
        if let Some(commit) = pinned.commit()
            && let Err(e) = coordinator.set_pin(&key, commit).await
        {
            tracing::warn!(error = %e, "sharing a pin failed");
        }
        Ok(pinned)
    }

    /// The JavaScript file of a pinned `GitScript` source, fetched within
    /// `timeout` (kept in memory: a commit's file never changes).
    pub async fn script(
        &self,
        pinned: &CodeSource,
        timeout: Duration,
    ) -> Result<String, ProgramError> {
        let key = pinned.artifact_checksum();
        if let Some(bytes) = self.memory.get(&key) {
            return Ok(String::from_utf8_lossy(&bytes).into_owned());
        }
        let source = self
            .builder
            .fetch_script(pinned, timeout)
            .await
            .map_err(|e| classify(e, 0))?;
        self.memory.put(&key, Arc::from(source.as_bytes()));
        Ok(source)
    }

    /// The program for a pinned source: cached, or built within `build_timeout`.
    pub async fn obtain(
        &self,
        pinned: &CodeSource,
        build_timeout: Duration,
    ) -> Result<Program, ProgramError> {
        let key = pinned.artifact_checksum();
        if let Some(wasm) = self.memory.get(&key) {
            return Ok(Program {
                wasm,
                built_ms: None,
                cached: true,
            });
        }
        if let Some(wasm) = self.download(&key).await? {
            return Ok(Program {
                wasm,
                built_ms: None,
                cached: true,
            });
        }
        self.build_under_lock(pinned, &key, build_timeout).await
    }

    async fn download(&self, key: &str) -> Result<Option<Arc<[u8]>>, ProgramError> {
        let Some(coordinator) = &self.coordinator else {
            return Ok(None);
        };
        let bytes = coordinator
            .download_artifact(key)
            .await
            .map_err(|e| ProgramError::Infrastructure(format!("artifact download: {e}")))?;
        Ok(bytes.map(|bytes| {
            let wasm: Arc<[u8]> = bytes.into();
            self.memory.put(key, wasm.clone());
            wasm
        }))
    }

    /// Builds while holding the coordinator's lock for this artifact; a worker
    /// that finds the lock taken waits for the other build's upload instead.
    async fn build_under_lock(
        &self,
        pinned: &CodeSource,
        key: &str,
        build_timeout: Duration,
    ) -> Result<Program, ProgramError> {
        let Some(coordinator) = &self.coordinator else {
            return self.build_and_upload(pinned, key, build_timeout).await;
        };
        let lock_key = format!("build:{key}");
        let ttl = build_timeout + LOCK_MARGIN;
        let deadline = Instant::now() + ttl;
        let grant = loop {
            match coordinator
                .acquire_lock(&lock_key, ttl.as_millis() as u64)
                .await
            {
                Ok(grant) => break grant,
                Err(e) if e.is_conflict() => {
                    // Someone else is building it.
                    if let Some(wasm) = self.download(key).await? {
                        return Ok(Program {
                            wasm,
                            built_ms: None,
                            cached: true,
                        });
                    }
                    if Instant::now() > deadline {
                        return Err(ProgramError::Infrastructure(
                            "another worker's build of this program did not finish".into(),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(ProgramError::Infrastructure(format!("build lock: {e}"))),
            }
        };
        // The other build may have finished between our download and the lock.
        let result = match self.download(key).await {
            Ok(Some(wasm)) => Ok(Program {
                wasm,
                built_ms: None,
                cached: true,
            }),
            Ok(None) => self.build_and_upload(pinned, key, build_timeout).await,
            Err(e) => Err(e),
        };
        if let Err(e) = coordinator
            .release_lock(&lock_key, &grant.owner_token)
            .await
        {
            tracing::warn!(error = %e, lock = %lock_key, "releasing the build lock failed; it expires on its own");
        }
        result
    }

    async fn build_and_upload(
        &self,
        pinned: &CodeSource,
        key: &str,
        build_timeout: Duration,
    ) -> Result<Program, ProgramError> {
        let _slot = self
            .builds
            .acquire()
            .await
            .map_err(|_| ProgramError::Infrastructure("the worker is shutting down".into()))?;
        tracing::info!(artifact = %key, source = ?pinned, "building");
        let artifact = self
            .builder
            .build(pinned, build_timeout)
            .await
            .map_err(|e| classify(e, build_timeout.as_millis() as u64))?;
        tracing::info!(
            artifact = %key,
            bytes = artifact.wasm.len(),
            ms = artifact.compile_time_ms,
            "built"
        );
        if let Some(coordinator) = &self.coordinator {
            coordinator
                .upload_artifact(key, artifact.wasm.clone())
                .await
                .map_err(|e| ProgramError::Infrastructure(format!("artifact upload: {e}")))?;
        }
        let wasm: Arc<[u8]> = artifact.wasm.into();
        self.memory.put(key, wasm.clone());
        // Downloads are not builds: nothing to charge for a WasmUrl.
        let built_ms = pinned.needs_build().then_some(artifact.compile_time_ms);
        Ok(Program {
            wasm,
            built_ms,
            cached: false,
        })
    }
}

fn classify(error: BuildError, built_ms: u64) -> ProgramError {
    if error.is_user_error() {
        tracing::info!(error = %error, "the source does not build");
        ProgramError::User {
            summary: error.summary(),
            built_ms,
        }
    } else {
        tracing::warn!(error = %error, "build infrastructure failed");
        ProgramError::Infrastructure(error.summary())
    }
}

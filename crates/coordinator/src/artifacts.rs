//! The WASM artifact cache: files on disk named by the source checksum, their
//! content SHA-256 recorded in the store and checked on every read (a
//! corrupted file is discarded, never served), total size bounded by
//! least-recently-used eviction.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::store::Store;

pub struct ArtifactCache {
    dir: PathBuf,
    max_bytes: u64,
    store: Store,
    /// Stamps stores and reads, for least-recently-used eviction.
    clock: Clock,
}

/// Checksums are SHA-256 hex digests; anything else is refused before it can
/// become a path.
pub fn valid_checksum(checksum: &str) -> bool {
    checksum.len() == 64
        && checksum
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check(checksum: &str) -> Result<()> {
    if valid_checksum(checksum) {
        Ok(())
    } else {
        Err(Error::BadRequest(
            "checksum must be 64 lower-case hex characters".into(),
        ))
    }
}

impl ArtifactCache {
    pub async fn open(dir: PathBuf, max_bytes: u64, store: Store, clock: Clock) -> Result<Self> {
        tokio::fs::create_dir_all(&dir).await?;
        Ok(Self {
            dir,
            max_bytes,
            store,
            clock,
        })
    }

    fn path(&self, checksum: &str) -> PathBuf {
        self.dir
            .join(&checksum[..2])
            .join(format!("{checksum}.wasm"))
    }

    /// The artifact's size, if it is cached.
    pub async fn exists(&self, checksum: &str) -> Result<Option<u64>> {
        check(checksum)?;
        let Some(record) = self.store.artifact(checksum).await? else {
            return Ok(None);
        };
        let present = tokio::fs::try_exists(self.path(checksum)).await?;
        Ok(present.then_some(record.size))
    }

    /// Stores an artifact; `declared_sha256`, when given, must match the bytes.
    pub async fn put(
        &self,
        checksum: &str,
        bytes: &[u8],
        declared_sha256: Option<&str>,
    ) -> Result<String> {
        check(checksum)?;
        if bytes.is_empty() {
            return Err(Error::BadRequest("artifact is empty".into()));
        }
        let content = hex::encode(Sha256::digest(bytes));
        if let Some(declared) = declared_sha256
            && !declared.eq_ignore_ascii_case(&content)
        {
            return Err(Error::BadRequest(format!(
                "content SHA-256 is {content}, not the declared {declared}"
            )));
        }
        let path = self.path(checksum);
        let parent = path.parent().expect("artifact path has a parent");
        tokio::fs::create_dir_all(parent).await?;
        // Write then rename: a reader never sees a half-written file.
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(|e| Error::Internal(e.to_string()))?;
        let temp = parent.join(format!(".{checksum}.{}.tmp", hex::encode(nonce)));
        tokio::fs::write(&temp, bytes).await?;
        tokio::fs::rename(&temp, &path).await?;
        self.store
            .put_artifact(checksum, &content, bytes.len() as u64, self.clock.now_ms())
            .await?;
        self.evict(checksum).await?;
        Ok(content)
    }

    /// Reads an artifact and verifies its content hash.
    pub async fn get(&self, checksum: &str, metrics: &Metrics) -> Result<Vec<u8>> {
        check(checksum)?;
        let missing = || Error::NotFound(format!("artifact {checksum} not found"));
        let record = self.store.artifact(checksum).await?.ok_or_else(missing)?;
        let bytes = match tokio::fs::read(self.path(checksum)).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.store.delete_artifact(checksum).await?;
                return Err(missing());
            }
            Err(e) => return Err(e.into()),
        };
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != record.content_sha256 {
            tracing::error!(
                checksum,
                expected = %record.content_sha256,
                actual,
                "cached artifact is corrupt; discarding it"
            );
            metrics.artifact_corrupt();
            self.remove(checksum).await?;
            return Err(Error::NotFound(format!(
                "artifact {checksum} was corrupt and has been discarded; rebuild it"
            )));
        }
        self.store
            .touch_artifact(checksum, self.clock.now_ms())
            .await?;
        Ok(bytes)
    }

    async fn remove(&self, checksum: &str) -> Result<()> {
        match tokio::fs::remove_file(self.path(checksum)).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        self.store.delete_artifact(checksum).await
    }

    /// Evicts least recently used artifacts until the cache fits, never the
    /// one just written.
    async fn evict(&self, keep: &str) -> Result<()> {
        loop {
            let (_, total) = self.store.artifact_totals().await?;
            if total <= self.max_bytes {
                return Ok(());
            }
            let oldest = self.store.artifacts_by_age(16).await?;
            let victims: Vec<_> = oldest.into_iter().filter(|(c, _)| c != keep).collect();
            if victims.is_empty() {
                return Ok(());
            }
            let mut freed = 0;
            for (checksum, size) in victims {
                if total - freed <= self.max_bytes {
                    break;
                }
                tracing::info!(checksum, size, "evicting artifact");
                self.remove(&checksum).await?;
                freed += size;
            }
        }
    }
}

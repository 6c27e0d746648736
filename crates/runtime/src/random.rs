//! Where a program's randomness comes from. For requests it is a stream
//! derived from the request, so every worker that runs the same request gets
//! the same bytes: `seed = SHA-256(request_id as u64 little-endian ‖ block
//! random seed)`, the stream is ChaCha20 keyed by the seed (the pattern of
//! nearcore's `create_random_seed`: mix the block seed with something unique
//! to the action).

use chacha20::ChaCha20Rng;
use outlayer_types::ExecutionContext;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};

/// The source of the guest's `random_get` / `wasi:random` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Randomness {
    /// A ChaCha20 stream keyed by this seed: deterministic.
    Seeded([u8; 32]),
    /// Fresh operating-system entropy: the caller asked for it explicitly.
    Os,
}

impl Randomness {
    /// The deterministic stream for an on-chain request.
    pub fn for_request(context: &ExecutionContext) -> Self {
        Self::Seeded(derive_request_seed(
            context.request_id,
            &context.random_seed,
        ))
    }

    /// The generator for one of the guest's randomness streams. The secure
    /// stream (`random_get`, `wasi:random/random`) is keyed by the seed itself;
    /// the others by `SHA-256(seed ‖ stream name)`, so they never repeat it.
    pub(crate) fn rng(&self, stream: Stream) -> ChaCha20Rng {
        match self {
            Self::Seeded(seed) => match stream {
                Stream::Secure => ChaCha20Rng::from_seed(*seed),
                Stream::Insecure => ChaCha20Rng::from_seed(subseed(seed, b"insecure")),
                Stream::InsecureSeed => ChaCha20Rng::from_seed(subseed(seed, b"insecure-seed")),
            },
            Self::Os => {
                let mut seed = [0u8; 32];
                getrandom::fill(&mut seed).expect("the OS entropy source is available");
                ChaCha20Rng::from_seed(seed)
            }
        }
    }
}

/// The guest's randomness interfaces.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stream {
    Secure,
    Insecure,
    InsecureSeed,
}

fn subseed(seed: &[u8; 32], name: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(seed);
    hasher.update(name);
    hasher.finalize().into()
}

/// Fills `buf` the way wasmtime-wasi's `random_get` / `get-random-bytes` do:
/// each byte is the low byte of the generator's next `u32`. The wasmi path
/// uses this too, so both engines hand a program the same bytes.
pub(crate) fn fill_guest_bytes(rng: &mut ChaCha20Rng, buf: &mut [u8]) {
    use rand_core::Rng as _;
    for byte in buf {
        *byte = rng.next_u32() as u8;
    }
}

/// `SHA-256(request_id.to_le_bytes() ‖ block_seed)`.
pub fn derive_request_seed(request_id: u64, block_seed: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(request_id.to_le_bytes());
    hasher.update(block_seed);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::Rng;

    #[test]
    fn seeded_streams_repeat_and_differ_by_request() {
        let block = [7u8; 32];
        let a = derive_request_seed(1, &block);
        assert_eq!(a, derive_request_seed(1, &block));
        assert_ne!(a, derive_request_seed(2, &block));
        let mut x = Randomness::Seeded(a).rng(Stream::Secure);
        let mut y = Randomness::Seeded(a).rng(Stream::Secure);
        assert_eq!(x.next_u64(), y.next_u64());
        let mut z = Randomness::Seeded(a).rng(Stream::Insecure);
        assert_ne!(x.next_u64(), z.next_u64());
        let mut os1 = Randomness::Os.rng(Stream::Secure);
        let mut os2 = Randomness::Os.rng(Stream::Secure);
        assert_ne!(os1.next_u64(), os2.next_u64());
    }

    #[test]
    fn request_seed_is_pinned() {
        // Other implementations (and auditors) must be able to reproduce it.
        assert_eq!(
            hex::encode(derive_request_seed(42, &[0u8; 32])),
            "d62478d25d54cdfe992577e862a043d0925ce82f6a4b82512997431fd7a02a40"
        );
    }
}

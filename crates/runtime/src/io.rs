//! The guest's stdout and stderr: in-memory buffers that never grow past a cap.
//! stdout is the result, so overflowing it stops the program (`output_limit`);
//! stderr is diagnostics, so it keeps only its last bytes and never fails.

use bytes::Bytes;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi_io::streams::{OutputStream, StreamError};

/// Raised (as a trap) when a program writes more stdout than allowed.
#[derive(Debug, thiserror::Error)]
#[error("stdout exceeded {cap} bytes")]
pub(crate) struct OutputLimitExceeded {
    pub(crate) cap: usize,
}

#[derive(Clone, Copy, Debug)]
enum Overflow {
    /// Refuse the write and stop the program.
    Fail,
    /// Keep the newest bytes.
    KeepTail,
}

#[derive(Debug)]
struct Buffer {
    bytes: Vec<u8>,
    cap: usize,
    overflow: Overflow,
}

/// A cloneable handle to one capped output buffer.
#[derive(Clone, Debug)]
pub(crate) struct CappedOutput(Arc<Mutex<Buffer>>);

impl CappedOutput {
    /// stdout: writes past `cap` bytes fail with [`OutputLimitExceeded`].
    pub(crate) fn failing_at(cap: usize) -> Self {
        Self::new(cap, Overflow::Fail)
    }

    /// stderr: keeps the last `cap` bytes.
    pub(crate) fn keeping_tail(cap: usize) -> Self {
        Self::new(cap, Overflow::KeepTail)
    }

    fn new(cap: usize, overflow: Overflow) -> Self {
        Self(Arc::new(Mutex::new(Buffer {
            bytes: Vec::new(),
            cap,
            overflow,
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Buffer> {
        // A panic while holding this lock cannot leave the buffer invalid.
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// Appends `data`, enforcing the cap.
    pub(crate) fn write(&self, data: &[u8]) -> Result<(), OutputLimitExceeded> {
        let mut buf = self.lock();
        match buf.overflow {
            Overflow::Fail => {
                if buf.bytes.len() + data.len() > buf.cap {
                    return Err(OutputLimitExceeded { cap: buf.cap });
                }
                buf.bytes.extend_from_slice(data);
            }
            Overflow::KeepTail => {
                let cap = buf.cap;
                if data.len() >= cap {
                    buf.bytes.clear();
                    buf.bytes.extend_from_slice(&data[data.len() - cap..]);
                } else {
                    buf.bytes.extend_from_slice(data);
                    // Drain in batches so a flood of small writes stays linear.
                    if buf.bytes.len() > cap * 2 {
                        let excess = buf.bytes.len() - cap;
                        buf.bytes.drain(..excess);
                    }
                }
            }
        }
        Ok(())
    }

    /// The buffer's contents (for stderr, its last `cap` bytes).
    pub(crate) fn contents(&self) -> Vec<u8> {
        let buf = self.lock();
        let start = buf.bytes.len().saturating_sub(buf.cap);
        buf.bytes[start..].to_vec()
    }
}

impl IsTerminal for CappedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

/// Largest single write a guest is offered; the cap itself is enforced in
/// `write`, so the guest learns about the limit by being stopped, not by a
/// short write it might retry forever.
const WRITE_PERMIT: usize = 64 * 1024;

#[async_trait::async_trait]
impl OutputStream for CappedOutput {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        CappedOutput::write(self, &bytes).map_err(|e| StreamError::Trap(e.into()))
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(WRITE_PERMIT)
    }
}

#[async_trait::async_trait]
impl wasmtime_wasi_io::poll::Pollable for CappedOutput {
    async fn ready(&mut self) {}
}

impl AsyncWrite for CappedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(
            CappedOutput::write(&self, data)
                .map(|()| data.len())
                .map_err(std::io::Error::other),
        )
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_refuses_writes_past_the_cap() {
        let out = CappedOutput::failing_at(5);
        out.write(b"abc").unwrap();
        assert!(out.write(b"def").is_err());
        assert_eq!(out.contents(), b"abc");
        out.write(b"de").unwrap();
        assert_eq!(out.contents(), b"abcde");
    }

    #[test]
    fn stderr_keeps_the_tail_in_bounded_memory() {
        let err = CappedOutput::keeping_tail(4);
        for chunk in [b"ab".as_slice(), b"cd", b"ef", b"gh", b"ij"] {
            err.write(chunk).unwrap();
            assert!(err.lock().bytes.len() <= 8);
        }
        assert_eq!(err.contents(), b"ghij");
        err.write(b"0123456789").unwrap();
        assert_eq!(err.contents(), b"6789");
    }
}

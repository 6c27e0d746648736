//! Caps linear memory and tables for one execution and records the peak.
//! Growth past the cap fails the way WebAssembly specifies (`memory.grow`
//! returns -1), and the limiter remembers it: if the program then fails, the
//! outcome is `memory_limit` rather than whatever trap followed.

/// At most this many instances, memories and tables per execution: a WASI
/// program needs one of each; a few more leave room for unusual toolchains.
const MAX_INSTANCES: usize = 4;
const MAX_MEMORIES: usize = 4;
const MAX_TABLES: usize = 8;

#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    max_memory_bytes: usize,
    max_table_elements: usize,
    memory_bytes: usize,
    peak_memory_bytes: usize,
    denied: Option<String>,
}

impl MemoryLimiter {
    pub(crate) fn new(max_memory_bytes: usize, max_table_elements: usize) -> Self {
        Self {
            max_memory_bytes,
            max_table_elements,
            memory_bytes: 0,
            peak_memory_bytes: 0,
            denied: None,
        }
    }

    pub(crate) fn peak_memory_bytes(&self) -> u64 {
        self.peak_memory_bytes as u64
    }

    /// What was refused, if anything.
    pub(crate) fn denied(&self) -> Option<&str> {
        self.denied.as_deref()
    }

    fn grow_memory(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> bool {
        let total = self.memory_bytes - current.min(self.memory_bytes) + desired;
        if total > self.max_memory_bytes {
            self.denied = Some(format!(
                "linear memory of {desired} bytes would exceed the limit of {} bytes",
                self.max_memory_bytes
            ));
            return false;
        }
        if maximum.is_some_and(|max| desired > max) {
            return false;
        }
        self.memory_bytes = total;
        self.peak_memory_bytes = self.peak_memory_bytes.max(total);
        true
    }

    fn grow_table(&mut self, desired: usize, maximum: Option<usize>) -> bool {
        if desired > self.max_table_elements {
            self.denied = Some(format!(
                "table of {desired} elements would exceed the limit of {} elements",
                self.max_table_elements
            ));
            return false;
        }
        maximum.is_none_or(|max| desired <= max)
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.grow_memory(current, desired, maximum))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.grow_table(desired, maximum))
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

impl wasmi::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool, wasmi_core::LimiterError> {
        Ok(self.grow_memory(current, desired, maximum))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool, wasmi_core::LimiterError> {
        Ok(self.grow_table(desired, maximum))
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_total_and_peak_and_refuses_past_the_cap() {
        let mut limiter = MemoryLimiter::new(100, 10);
        assert!(limiter.grow_memory(0, 60, None));
        assert!(limiter.grow_memory(60, 90, None));
        assert_eq!(limiter.peak_memory_bytes(), 90);
        assert!(!limiter.grow_memory(90, 101, None));
        assert!(limiter.denied().unwrap().contains("limit of 100 bytes"));
        assert_eq!(limiter.peak_memory_bytes(), 90);
        assert!(limiter.grow_table(10, None));
        assert!(!limiter.grow_table(11, None));
    }
}

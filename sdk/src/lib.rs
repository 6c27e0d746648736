//! placeholder; filled in by the runtime issue

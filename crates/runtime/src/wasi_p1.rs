//! WASI Preview 1 for both engines: the host functions are written once
//! against one per-execution state ([`P1Host`]: streams, environment,
//! clocks, randomness) and registered on wasmi's and on wasmtime's linker,
//! so both engines show a program the same world, byte for byte.
//!
//! Why our own and not `wasmtime_wasi::p1` or `wasmi_wasi`: a sandbox
//! without files or sockets needs only stdio, args, environment, clocks,
//! randomness, `poll_oneoff` sleeps and `proc_exit`. wasmtime-wasi's P1 is
//! an async adapter over its P2 tables: building its context and resource
//! table, running every call on a fiber and tearing it down again was most
//! of the cost of a small execution. `wasmi_wasi` pulls `wasi-common` and a
//! second copy of wiggle (minutes of build on two cores). Plain synchronous
//! host functions also let the deadline reach a sleeping program: a
//! `poll_oneoff` sleep never runs past it. Every other P1 function exists
//! and answers `EBADF`, exactly as wasmtime's WASI does for a program with
//! no preopened directories.

use std::time::{Duration, Instant};

use chacha20::ChaCha20Rng;

use crate::config::RuntimeConfig;
use crate::execution::Execution;
use crate::guest::{DeadlineExceeded, Guest, PROGRAM_NAME};
use crate::io::{CappedOutput, OutputLimitExceeded};
use crate::limiter::MemoryLimiter;
use crate::random::Stream;

/// The import module every P1 function lives in.
pub(crate) const WASI_MODULE: &str = "wasi_snapshot_preview1";
const MODULE: &str = WASI_MODULE;

// Errno values from the P1 witx.
const SUCCESS: i32 = 0;
const EBADF: i32 = 8;
const EFAULT: i32 = 21;
const EINVAL: i32 = 28;
const ENOTSUP: i32 = 58;
const ESPIPE: i32 = 70;

const RIGHT_FD_READ: u64 = 1 << 1;
const RIGHT_FD_WRITE: u64 = 1 << 6;

/// Per-execution state of a WASI P1 program, on either engine.
pub(crate) struct P1Host {
    pub(crate) guest: Guest,
    stdin: Vec<u8>,
    stdin_pos: usize,
    args: Vec<String>,
    rng: ChaCha20Rng,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) deadline_seconds: u64,
}

impl P1Host {
    pub(crate) fn new(execution: &Execution, config: &RuntimeConfig, guest: Guest) -> Self {
        Self {
            stdin: execution.input.clone(),
            stdin_pos: 0,
            args: std::iter::once(PROGRAM_NAME.to_owned())
                .chain(execution.args.iter().cloned())
                .collect(),
            rng: execution.randomness.rng(Stream::Secure),
            limiter: MemoryLimiter::new(execution.max_memory_bytes(), config.max_table_elements),
            deadline_seconds: execution.limits.max_execution_seconds,
            guest,
        }
    }
}

/// What stops the program from inside a host call; each engine turns it
/// into its own error, which `classify` recognises.
enum HostTrap {
    Output(OutputLimitExceeded),
    Deadline(DeadlineExceeded),
}

/// Why a host call did not return normally.
enum Fault {
    Errno(i32),
    Trap(HostTrap),
}

impl From<i32> for Fault {
    fn from(errno: i32) -> Self {
        Self::Errno(errno)
    }
}

/// The call's result for the guest (an errno), or the trap that ends it.
fn settle(result: Result<(), Fault>) -> Result<i32, HostTrap> {
    match result {
        Ok(()) => Ok(SUCCESS),
        Err(Fault::Errno(errno)) => Ok(errno),
        Err(Fault::Trap(trap)) => Err(trap),
    }
}

fn range(mem: &[u8], ptr: i32, len: usize) -> Result<std::ops::Range<usize>, Fault> {
    let start = ptr as u32 as usize;
    let end = start.checked_add(len).ok_or(EFAULT)?;
    if end > mem.len() {
        return Err(EFAULT.into());
    }
    Ok(start..end)
}

fn read_u32(mem: &[u8], ptr: i32) -> Result<u32, Fault> {
    let r = range(mem, ptr, 4)?;
    Ok(u32::from_le_bytes(mem[r].try_into().expect("4 bytes")))
}

fn read_u64(mem: &[u8], ptr: i32) -> Result<u64, Fault> {
    let r = range(mem, ptr, 8)?;
    Ok(u64::from_le_bytes(mem[r].try_into().expect("8 bytes")))
}

fn write_bytes(mem: &mut [u8], ptr: i32, bytes: &[u8]) -> Result<(), Fault> {
    let r = range(mem, ptr, bytes.len())?;
    mem[r].copy_from_slice(bytes);
    Ok(())
}

fn write_u32(mem: &mut [u8], ptr: i32, value: u32) -> Result<(), Fault> {
    write_bytes(mem, ptr, &value.to_le_bytes())
}

fn write_u64(mem: &mut [u8], ptr: i32, value: u64) -> Result<(), Fault> {
    write_bytes(mem, ptr, &value.to_le_bytes())
}

/// The (offset, length) pairs of an iovec array.
fn iovecs(mem: &[u8], iovs: i32, count: i32) -> Result<Vec<(i32, usize)>, Fault> {
    (0..count as u32)
        .map(|i| {
            let at = iovs.wrapping_add((i * 8) as i32);
            Ok((
                read_u32(mem, at)? as i32,
                read_u32(mem, at.wrapping_add(4))? as usize,
            ))
        })
        .collect()
}

/// Writes NUL-terminated strings and their pointer table (args, environ).
fn write_strings(mem: &mut [u8], table: i32, buf: i32, strings: &[String]) -> Result<(), Fault> {
    let mut offset = buf;
    for (i, s) in strings.iter().enumerate() {
        write_u32(mem, table.wrapping_add((i * 4) as i32), offset as u32)?;
        write_bytes(mem, offset, s.as_bytes())?;
        write_bytes(mem, offset.wrapping_add(s.len() as i32), &[0])?;
        offset = offset.wrapping_add(s.len() as i32 + 1);
    }
    Ok(())
}

fn write_sizes(
    mem: &mut [u8],
    count_ptr: i32,
    size_ptr: i32,
    strings: &[String],
) -> Result<(), Fault> {
    write_u32(mem, count_ptr, strings.len() as u32)?;
    write_u32(
        mem,
        size_ptr,
        strings.iter().map(|s| s.len() as u32 + 1).sum(),
    )
}

fn environ(state: &P1Host) -> Vec<String> {
    state
        .guest
        .env
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

fn output_for(state: &P1Host, fd: i32) -> Option<&CappedOutput> {
    match fd {
        1 => Some(&state.guest.stdout),
        2 => Some(&state.guest.stderr),
        _ => None,
    }
}

fn fd_write(
    mem: &mut [u8],
    state: &mut P1Host,
    fd: i32,
    iovs: i32,
    count: i32,
    nwritten: i32,
) -> Result<(), Fault> {
    let out = output_for(state, fd).ok_or(EBADF)?;
    let mut total = 0u32;
    for (ptr, len) in iovecs(mem, iovs, count)? {
        let r = range(mem, ptr, len)?;
        out.write(&mem[r])
            .map_err(|e| Fault::Trap(HostTrap::Output(e)))?;
        total += len as u32;
    }
    write_u32(mem, nwritten, total)
}

fn fd_read(
    mem: &mut [u8],
    state: &mut P1Host,
    fd: i32,
    iovs: i32,
    count: i32,
    nread: i32,
) -> Result<(), Fault> {
    if fd != 0 {
        return Err(EBADF.into());
    }
    let mut total = 0usize;
    for (ptr, len) in iovecs(mem, iovs, count)? {
        let available = &state.stdin[state.stdin_pos..];
        let n = len.min(available.len());
        write_bytes(mem, ptr, &available[..n])?;
        state.stdin_pos += n;
        total += n;
        if n < len {
            break;
        }
    }
    write_u32(mem, nread, total as u32)
}

fn clock_time(state: &P1Host, id: i32) -> Result<u64, Fault> {
    match id {
        0 => Ok(state.guest.clock.wall().as_nanos() as u64),
        1 => Ok(state.guest.clock.monotonic()),
        2 | 3 => Err(EBADF.into()),
        _ => Err(EINVAL.into()),
    }
}

/// `poll_oneoff`: stdio is always ready; clock subscriptions sleep, but never
/// past the execution's deadline.
fn poll_oneoff(
    mem: &mut [u8],
    state: &mut P1Host,
    subs: i32,
    events: i32,
    count: i32,
    nevents: i32,
) -> Result<(), Fault> {
    if count <= 0 {
        return Err(EINVAL.into());
    }
    struct Ready {
        userdata: u64,
        error: u16,
        kind: u8,
        nbytes: u64,
    }
    let mut fd_ready = Vec::new();
    let mut clocks = Vec::new();
    for i in 0..count {
        let at = subs.wrapping_add(i * 48);
        let userdata = read_u64(mem, at)?;
        let tag = mem[range(mem, at.wrapping_add(8), 1)?][0];
        match tag {
            0 => {
                let clock_id = read_u32(mem, at.wrapping_add(16))? as i32;
                let timeout = read_u64(mem, at.wrapping_add(24))?;
                let flags = read_u32(mem, at.wrapping_add(40))? & 0xffff;
                let wait = if flags & 1 == 1 {
                    timeout.saturating_sub(clock_time(state, clock_id)?)
                } else {
                    timeout
                };
                clocks.push((userdata, wait));
            }
            1 | 2 => {
                let fd = read_u32(mem, at.wrapping_add(16))? as i32;
                let (error, nbytes) = match (tag, fd) {
                    (1, 0) => (0, (state.stdin.len() - state.stdin_pos) as u64),
                    (2, 1 | 2) => (0, 64 * 1024),
                    _ => (EBADF as u16, 0),
                };
                fd_ready.push(Ready {
                    userdata,
                    error,
                    kind: tag,
                    nbytes,
                });
            }
            _ => return Err(EINVAL.into()),
        }
    }
    let ready = if !fd_ready.is_empty() {
        fd_ready
    } else {
        let wait = clocks.iter().map(|(_, w)| *w).min().unwrap_or(0);
        let wake = Instant::now() + Duration::from_nanos(wait);
        if wake > state.guest.deadline {
            std::thread::sleep(
                state
                    .guest
                    .deadline
                    .saturating_duration_since(Instant::now()),
            );
            return Err(Fault::Trap(HostTrap::Deadline(DeadlineExceeded {
                seconds: state.deadline_seconds,
            })));
        }
        std::thread::sleep(Duration::from_nanos(wait));
        clocks
            .into_iter()
            .filter(|(_, w)| *w <= wait)
            .map(|(userdata, _)| Ready {
                userdata,
                error: 0,
                kind: 0,
                nbytes: 0,
            })
            .collect()
    };
    for (i, event) in ready.iter().enumerate() {
        let at = events.wrapping_add((i * 32) as i32);
        let mut bytes = [0u8; 32];
        bytes[0..8].copy_from_slice(&event.userdata.to_le_bytes());
        bytes[8..10].copy_from_slice(&event.error.to_le_bytes());
        bytes[10] = event.kind;
        bytes[16..24].copy_from_slice(&event.nbytes.to_le_bytes());
        write_bytes(mem, at, &bytes)?;
    }
    write_u32(mem, nevents, ready.len() as u32)
}

/// Every P1 function the sandbox does not back with a real resource, with
/// its parameter types (`i` i32, `I` i64). All answer `EBADF`: there are no
/// files, directories or sockets to name.
const WITHOUT_RESOURCES: &[(&str, &str)] = &[
    ("fd_advise", "iIIi"),
    ("fd_allocate", "iII"),
    ("fd_datasync", "i"),
    ("fd_fdstat_set_rights", "iII"),
    ("fd_filestat_set_size", "iI"),
    ("fd_filestat_set_times", "iIIi"),
    ("fd_pread", "iiiIi"),
    ("fd_prestat_get", "ii"),
    ("fd_prestat_dir_name", "iii"),
    ("fd_pwrite", "iiiIi"),
    ("fd_readdir", "iiiIi"),
    ("fd_renumber", "ii"),
    ("fd_sync", "i"),
    ("path_create_directory", "iii"),
    ("path_filestat_get", "iiiii"),
    ("path_filestat_set_times", "iiiiIIi"),
    ("path_link", "iiiiiii"),
    ("path_open", "iiiiiIIii"),
    ("path_readlink", "iiiiii"),
    ("path_remove_directory", "iii"),
    ("path_rename", "iiiiii"),
    ("path_symlink", "iiiii"),
    ("path_unlink_file", "iii"),
    ("sock_accept", "iii"),
    ("sock_recv", "iiiiii"),
    ("sock_send", "iiiii"),
    ("sock_shutdown", "ii"),
];

/// Registers the P1 functions backed by the sandbox (stdio, args,
/// environment, clocks, randomness, sleeps, exit) on one engine's linker,
/// from one list: `$r.wrap(name, closure)` defines a function, `$C` is the
/// engine's caller, `$mem` runs a body over the guest's memory and the
/// state, `$exit` is the engine's error for `proc_exit`.
macro_rules! define_p1 {
    ($r:ident, $C:ty, $mem:ident, $exit:expr, $Err:ty) => {
        $r.wrap("args_sizes_get", |mut c: $C, argc: i32, size: i32| {
            $mem(&mut c, |m, s| write_sizes(m, argc, size, &s.args))
        })?;
        $r.wrap("args_get", |mut c: $C, argv: i32, buf: i32| {
            $mem(&mut c, |m, s| write_strings(m, argv, buf, &s.args))
        })?;
        $r.wrap("environ_sizes_get", |mut c: $C, count: i32, size: i32| {
            $mem(&mut c, |m, s| write_sizes(m, count, size, &environ(s)))
        })?;
        $r.wrap("environ_get", |mut c: $C, table: i32, buf: i32| {
            $mem(&mut c, |m, s| write_strings(m, table, buf, &environ(s)))
        })?;
        $r.wrap("clock_res_get", |mut c: $C, id: i32, out: i32| {
            $mem(&mut c, |m, s| {
                clock_time(s, id)?;
                write_u64(m, out, s.guest.clock.resolution_ns())
            })
        })?;
        $r.wrap(
            "clock_time_get",
            |mut c: $C, id: i32, _precision: i64, out: i32| {
                $mem(&mut c, |m, s| write_u64(m, out, clock_time(s, id)?))
            },
        )?;
        $r.wrap("random_get", |mut c: $C, buf: i32, len: i32| {
            $mem(&mut c, |m, s| {
                let r = range(m, buf, len as u32 as usize)?;
                crate::random::fill_guest_bytes(&mut s.rng, &mut m[r]);
                Ok(())
            })
        })?;
        $r.wrap(
            "fd_write",
            |mut c: $C, fd: i32, iovs: i32, n: i32, out: i32| {
                $mem(&mut c, |m, s| fd_write(m, s, fd, iovs, n, out))
            },
        )?;
        $r.wrap(
            "fd_read",
            |mut c: $C, fd: i32, iovs: i32, n: i32, out: i32| {
                $mem(&mut c, |m, s| fd_read(m, s, fd, iovs, n, out))
            },
        )?;
        $r.wrap("fd_close", |_: $C, fd: i32| -> i32 {
            if (0..=2).contains(&fd) {
                SUCCESS
            } else {
                EBADF
            }
        })?;
        $r.wrap("fd_fdstat_get", |mut c: $C, fd: i32, out: i32| {
            $mem(&mut c, |m, _| {
                let rights = match fd {
                    0 => RIGHT_FD_READ,
                    1 | 2 => RIGHT_FD_WRITE,
                    _ => return Err(EBADF.into()),
                };
                let mut stat = [0u8; 24];
                stat[8..16].copy_from_slice(&rights.to_le_bytes());
                write_bytes(m, out, &stat)
            })
        })?;
        $r.wrap(
            "fd_fdstat_set_flags",
            |_: $C, fd: i32, _flags: i32| -> i32 {
                if (0..=2).contains(&fd) {
                    ENOTSUP
                } else {
                    EBADF
                }
            },
        )?;
        $r.wrap("fd_filestat_get", |mut c: $C, fd: i32, out: i32| {
            $mem(&mut c, |m, _| {
                if !(0..=2).contains(&fd) {
                    return Err(EBADF.into());
                }
                write_bytes(m, out, &[0u8; 64])
            })
        })?;
        $r.wrap(
            "fd_seek",
            |_: $C, fd: i32, _off: i64, _whence: i32, _out: i32| -> i32 {
                if (0..=2).contains(&fd) { ESPIPE } else { EBADF }
            },
        )?;
        $r.wrap("fd_tell", |_: $C, fd: i32, _out: i32| -> i32 {
            if (0..=2).contains(&fd) { ESPIPE } else { EBADF }
        })?;
        $r.wrap(
            "poll_oneoff",
            |mut c: $C, subs: i32, events: i32, n: i32, out: i32| {
                $mem(&mut c, |m, s| poll_oneoff(m, s, subs, events, n, out))
            },
        )?;
        $r.wrap("proc_exit", |_: $C, code: i32| -> Result<(), $Err> {
            Err($exit(code))
        })?;
        $r.wrap("proc_raise", |_: $C, _signal: i32| -> i32 { ENOTSUP })?;
        $r.wrap("sched_yield", |_: $C| -> i32 { SUCCESS })?;
    };
}

/// The parameter types of a [`WITHOUT_RESOURCES`] entry.
fn params(spec: &str) -> impl Iterator<Item = bool> + '_ {
    spec.chars().map(|p| p == 'I')
}

/// WASI P1 on wasmi.
pub(crate) mod wasmi_p1 {
    use super::*;
    use wasmi::{Caller, Extern, FuncType, Linker, Val, ValType};

    type C<'a> = Caller<'a, P1Host>;

    fn with_memory(
        caller: &mut C<'_>,
        f: impl FnOnce(&mut [u8], &mut P1Host) -> Result<(), Fault>,
    ) -> Result<i32, wasmi::Error> {
        let Some(memory) = caller.get_export("memory").and_then(Extern::into_memory) else {
            return Ok(EFAULT);
        };
        let (mem, state) = memory.data_and_store_mut(caller);
        settle(f(mem, state)).map_err(|trap| match trap {
            HostTrap::Output(e) => wasmi::Error::host(e),
            HostTrap::Deadline(e) => wasmi::Error::host(e),
        })
    }

    /// Defines host functions and remembers their names.
    struct Registrar<'a> {
        linker: &'a mut Linker<P1Host>,
        names: Vec<&'static str>,
    }

    impl Registrar<'_> {
        fn wrap<Params, Results>(
            &mut self,
            name: &'static str,
            func: impl wasmi::IntoFunc<P1Host, Params, Results>,
        ) -> Result<(), wasmi::Error> {
            self.linker.func_wrap(MODULE, name, func)?;
            self.names.push(name);
            Ok(())
        }
    }

    /// Adds all of WASI P1 to `linker`; returns the names defined, so
    /// loading can refuse a module that imports anything else before
    /// running it.
    pub(crate) fn add_to_linker(
        linker: &mut Linker<P1Host>,
    ) -> Result<Vec<&'static str>, wasmi::Error> {
        let mut r = Registrar {
            linker,
            names: Vec::new(),
        };
        define_p1!(r, C, with_memory, wasmi::Error::i32_exit, wasmi::Error);
        for (name, spec) in WITHOUT_RESOURCES {
            let types: Vec<ValType> = params(spec)
                .map(|wide| if wide { ValType::I64 } else { ValType::I32 })
                .collect();
            let ty = FuncType::new(types, [ValType::I32]);
            r.linker.func_new(
                MODULE,
                name,
                ty,
                |_: C, _params: &[Val], results: &mut [Val]| {
                    results[0] = Val::I32(EBADF);
                    Ok(())
                },
            )?;
            r.names.push(name);
        }
        Ok(r.names)
    }
}

/// WASI P1 on wasmtime: synchronous host functions, so a P1 program runs
/// without a fiber or an async runtime.
pub(crate) mod wasmtime_p1 {
    use super::*;
    use wasmtime::{Caller, Extern, FuncType, Linker, Val, ValType};

    type C<'a> = Caller<'a, P1Host>;

    fn with_memory(
        caller: &mut C<'_>,
        f: impl FnOnce(&mut [u8], &mut P1Host) -> Result<(), Fault>,
    ) -> wasmtime::Result<i32> {
        let Some(memory) = caller.get_export("memory").and_then(Extern::into_memory) else {
            return Ok(EFAULT);
        };
        let (mem, state) = memory.data_and_store_mut(caller);
        settle(f(mem, state)).map_err(|trap| match trap {
            HostTrap::Output(e) => wasmtime::Error::new(e),
            HostTrap::Deadline(e) => wasmtime::Error::new(e),
        })
    }

    fn exit(code: i32) -> wasmtime::Error {
        wasmtime::Error::new(wasmtime_wasi::I32Exit(code))
    }

    struct Registrar<'a> {
        linker: &'a mut Linker<P1Host>,
    }

    impl Registrar<'_> {
        fn wrap<Params, Args>(
            &mut self,
            name: &str,
            func: impl wasmtime::IntoFunc<P1Host, Params, Args>,
        ) -> wasmtime::Result<()> {
            self.linker.func_wrap(MODULE, name, func)?;
            Ok(())
        }
    }

    /// Adds all of WASI P1 to `linker`.
    pub(crate) fn add_to_linker(linker: &mut Linker<P1Host>) -> wasmtime::Result<()> {
        let mut r = Registrar { linker };
        define_p1!(r, C, with_memory, exit, wasmtime::Error);
        let engine = r.linker.engine().clone();
        for (name, spec) in WITHOUT_RESOURCES {
            let types: Vec<ValType> = params(spec)
                .map(|wide| if wide { ValType::I64 } else { ValType::I32 })
                .collect();
            let ty = FuncType::new(&engine, types, [ValType::I32]);
            r.linker.func_new(
                MODULE,
                name,
                ty,
                |_: C, _params: &[Val], results: &mut [Val]| {
                    results[0] = Val::I32(EBADF);
                    Ok(())
                },
            )?;
        }
        Ok(())
    }
}

//! CPU pinning for the one-CPU round trips: every thread of a relay process is moved to
//! one CPU for the measurement and put back afterwards (on drop).
//!
//! On this VM a wakeup that crosses vCPUs costs tens of µs (an IPI, or a halted vCPU
//! woken up), which swamps the few µs a relay adds to a round trip. With the client, the
//! relay and the server's echo thread on one CPU, every wakeup is local and the round
//! trip measures the work done on the path.

use std::io;

/// The threads moved by [`Pinned::pin`], each with the mask it had before.
pub struct Pinned(Vec<(i32, libc::cpu_set_t)>);

fn get(tid: i32) -> io::Result<libc::cpu_set_t> {
    // SAFETY: cpu_set_t is plain data and sched_getaffinity writes at most its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(tid, std::mem::size_of_val(&set), &mut set) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(set)
    }
}

fn set(tid: i32, set: &libc::cpu_set_t) -> io::Result<()> {
    // SAFETY: sched_setaffinity only reads the set.
    if unsafe { libc::sched_setaffinity(tid, std::mem::size_of_val(set), set) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Pinned {
    /// Pins every thread of `pid` to `cpu`. Threads that vanish meanwhile are skipped;
    /// nothing is pinned for `None` (the kernel-only paths).
    pub fn pin(pid: Option<i32>, cpu: usize) -> io::Result<Pinned> {
        let mut done = Pinned(Vec::new());
        let Some(pid) = pid else {
            return Ok(done);
        };
        // SAFETY: as in `get`; CPU_SET writes inside the set.
        let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        unsafe { libc::CPU_SET(cpu, &mut one) };
        for task in std::fs::read_dir(format!("/proc/{pid}/task"))?.flatten() {
            let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
                continue;
            };
            let Ok(old) = get(tid) else {
                continue;
            };
            if set(tid, &one).is_ok() {
                done.0.push((tid, old));
            }
        }
        if done.0.is_empty() {
            return Err(io::Error::other(format!(
                "could not pin any thread of {pid}"
            )));
        }
        Ok(done)
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        for (tid, old) in &self.0 {
            let _ = set(*tid, old);
        }
    }
}

//! What a process forked by the lab host's init does before it is the program it was
//! asked to be: descriptors into place, namespaces, session, signals — then an exec, or
//! (a container shim, same binary) the shim's code straight from the fork.

use super::host_spawn::Request;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// Lowest number the passed descriptors are moved to before they are placed, so that
/// placing one never overwrites another still to be placed.
const HIGH_FD: RawFd = 64;

fn os_err(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

/// Set the forked child up and become the requested process. Returns only on failure,
/// with the reason.
pub fn become_it(req: &Request, fds: &[OwnedFd]) -> String {
    match set_up(req, fds) {
        Ok(()) => {}
        Err(e) => return e,
    }
    match &req.exe {
        Some(exe) => exec(exe, req),
        None => {
            if retitle(&req.argv, &req.env).is_err() {
                // Without the right command line and environment in /proc (`ps`, and
                // the recovery that finds a lab's processes by their environment), exec
                // the same binary instead.
                return exec("/proc/self/exe", req);
            }
            set_environment(&req.env);
            if let Some(name) = req.argv.first() {
                name_process(name);
            }
            std::process::exit(crate::container::init::shim_main());
        }
    }
}

fn set_up(req: &Request, fds: &[OwnedFd]) -> Result<(), String> {
    // SAFETY (whole body): plain system calls on descriptors we hold, in the
    // single-threaded child of a fork.
    unsafe {
        // The init blocks every signal (it waits for them); a child starts clean.
        let empty = nix::sys::signal::SigSet::empty();
        let _ = empty.thread_set_mask();
        let high: Vec<RawFd> = fds
            .iter()
            .map(|f| libc::fcntl(f.as_raw_fd(), libc::F_DUPFD_CLOEXEC, HIGH_FD))
            .collect();
        if high.iter().any(|&fd| fd < 0) {
            return Err(os_err("duplicating a descriptor"));
        }
        for (i, target) in &req.place {
            // dup2 clears close-on-exec on the copy: the program inherits it.
            if libc::dup2(high[*i], *target) < 0 {
                return Err(os_err("placing a descriptor"));
            }
        }
        if let Some(i) = req.net
            && libc::setns(high[i], libc::CLONE_NEWNET) < 0
        {
            return Err(os_err("entering the network namespace"));
        }
        if let Some(i) = req.uts
            && libc::setns(high[i], libc::CLONE_NEWUTS) < 0
        {
            return Err(os_err("entering the UTS namespace"));
        }
        let mut flags = req.unshare;
        if req.new_uts_unless_joined && req.uts.is_none() {
            flags |= libc::CLONE_NEWUTS;
        }
        if flags != 0 && libc::unshare(flags) < 0 {
            return Err(os_err("unshare"));
        }
        if req.setsid {
            if libc::setsid() < 0 {
                return Err(os_err("setsid"));
            }
        } else if req.process_group {
            libc::setpgid(0, 0);
        }
        // Nothing of the init's stays open in its child (its signalfd, the copies made
        // above): a shim that runs without an exec would otherwise keep them.
        let last_placed = req.place.iter().map(|(_, t)| *t).max().unwrap_or(2).max(2);
        for fd in 0..=last_placed {
            if fd > 2 && !req.place.iter().any(|(_, t)| *t == fd) {
                libc::close(fd);
            }
        }
        libc::syscall(
            libc::SYS_close_range,
            (last_placed + 1) as libc::c_uint,
            libc::c_uint::MAX,
            0 as libc::c_uint,
        );
    }
    Ok(())
}

fn c_strings(v: &[String]) -> Vec<CString> {
    v.iter()
        .map(|s| CString::new(s.as_bytes()).unwrap_or_default())
        .collect()
}

fn exec(exe: &str, req: &Request) -> String {
    // What std's Command does before an exec: Rust ignores SIGPIPE, and an ignored
    // signal stays ignored across exec.
    // SAFETY: resetting a signal disposition.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let Ok(path) = CString::new(exe) else {
        return "bad program path".into();
    };
    match nix::unistd::execve(&path, &c_strings(&req.argv), &c_strings(&req.env)) {
        Err(e) => format!("exec {exe}: {e}"),
        Ok(never) => match never {},
    }
}

/// Give the forked process its own command line and environment as /proc shows them
/// (`ps -ef`, /proc/PID/environ): new NUL-separated blocks, pointed at with
/// `PR_SET_MM` (root holds the CAP_SYS_RESOURCE it needs). Each block is allocated
/// once and lives as long as the process.
fn retitle(argv: &[String], env: &[String]) -> Result<(), ()> {
    let block = |v: &[String]| -> &'static [u8] {
        let mut b: Vec<u8> = Vec::new();
        for s in v {
            b.extend_from_slice(s.as_bytes());
            b.push(0);
        }
        if b.is_empty() {
            b.push(0);
        }
        Box::leak(b.into_boxed_slice())
    };
    let set = |field: libc::c_int, addr: usize| -> Result<(), ()> {
        // SAFETY: prctl with integer arguments; the address names memory we leaked.
        let r = unsafe { libc::prctl(libc::PR_SET_MM, field, addr as libc::c_ulong, 0, 0) };
        if r == 0 { Ok(()) } else { Err(()) }
    };
    let a = block(argv);
    let e = block(env);
    let (a0, a1) = (a.as_ptr() as usize, a.as_ptr() as usize + a.len());
    let (e0, e1) = (e.as_ptr() as usize, e.as_ptr() as usize + e.len());
    // The kernel wants start ≤ end at every step: the new blocks are on the heap,
    // below the old ones on the stack, so move the starts first.
    set(libc::PR_SET_MM_ARG_START, a0)?;
    set(libc::PR_SET_MM_ARG_END, a1)?;
    set(libc::PR_SET_MM_ENV_START, e0)?;
    set(libc::PR_SET_MM_ENV_END, e1)
}

fn set_environment(env: &[String]) {
    let keys: Vec<std::ffi::OsString> = std::env::vars_os().map(|(k, _)| k).collect();
    for k in keys {
        // SAFETY: single-threaded child of a fork; nothing reads the environment
        // concurrently.
        unsafe { std::env::remove_var(k) };
    }
    for kv in env {
        if let Some((k, v)) = kv.split_once('=') {
            // SAFETY: as above.
            unsafe { std::env::set_var(k, v) };
        }
    }
}

fn name_process(argv0: &str) {
    let base = argv0.rsplit('/').next().unwrap_or(argv0);
    let mut bytes: Vec<u8> = base.bytes().take(15).collect();
    bytes.push(0);
    // SAFETY: prctl(PR_SET_NAME) reads a NUL-terminated string of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, bytes.as_ptr()) };
}

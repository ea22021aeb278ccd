//! `exec`: run another process inside a running container. The CLI re-executes itself
//! as `dockernet __enter PID START -- CMD...`; that process, still single-threaded,
//! joins the container's namespaces (the mount namespace can only be joined by a
//! single-threaded process), forks so that the child lands in the container's PID
//! namespace, and the child becomes the command.

use crate::error::{Context, Error, Result};
use crate::util::ProcRef;
use nix::sched::{CloneFlags, setns};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};
use std::ffi::CString;
use std::os::unix::process::CommandExt;

/// CLI side of `exec`: start `__enter` with the container's environment and wait.
pub fn exec_in(
    init: ProcRef,
    privileges: super::privileges::Privileges,
    workdir: &str,
    env: &[String],
    cmd: &[String],
    interactive: bool,
) -> Result<i32> {
    let mut c = enter_command(init, privileges, workdir, env, cmd)?;
    if !interactive {
        c.stdin(std::process::Stdio::null());
    }
    let status = c.status().ctx("running exec")?;
    Ok(status.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        128 + status.signal().unwrap_or(0)
    }))
}

/// The `__enter` command that runs `cmd` in the container of `init`.
pub(super) fn enter_command(
    init: ProcRef,
    privileges: super::privileges::Privileges,
    workdir: &str,
    env: &[String],
    cmd: &[String],
) -> Result<std::process::Command> {
    if !init.alive() {
        return Err(Error::msg(
            "Error response from daemon: container is not running",
        ));
    }
    let mut c = std::process::Command::new(crate::image::self_exe()?);
    c.arg0("dockernet")
        .args([
            "__enter",
            &init.pid.to_string(),
            &init.start_time.to_string(),
            "--",
        ])
        .args(cmd)
        .env_clear()
        .env(super::privileges::PRIVILEGES_ENV, privileges.to_env())
        .env(WORKDIR_ENV, workdir);
    for kv in env {
        if let Some((k, v)) = kv.split_once('=') {
            c.env(k, v);
        }
    }
    Ok(c)
}

/// Environment variable with the directory `exec` starts in (the image's WORKDIR).
const WORKDIR_ENV: &str = "DOCKERNET_WORKDIR";

/// Entry point of `__enter` (before any runtime starts). Returns the exit status.
pub fn enter_main(args: &[String]) -> i32 {
    // What the command may do, and where it starts: read, then kept from its
    // environment. SAFETY (remove_var): single-threaded, no runtime yet.
    let privileges = std::env::var(super::privileges::PRIVILEGES_ENV)
        .ok()
        .and_then(|s| super::privileges::Privileges::from_env(&s))
        .unwrap_or_default();
    let workdir = std::env::var(WORKDIR_ENV).unwrap_or_else(|_| "/".into());
    unsafe {
        std::env::remove_var(super::privileges::PRIVILEGES_ENV);
        std::env::remove_var(WORKDIR_ENV);
    }
    let fail = |msg: String| {
        eprintln!("dockernet: {msg}");
        126
    };
    // `exec -t`: a pty of our own, served to the CLI (see `exec_tty.rs`).
    let mut console = match super::exec_tty::take_console() {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let (Some(pid), Some(start)) = (
        args.first().and_then(|s| s.parse::<i32>().ok()),
        args.get(1).and_then(|s| s.parse::<u64>().ok()),
    ) else {
        return fail("usage: dockernet __enter PID START -- CMD...".into());
    };
    let cmd: Vec<String> = args
        .iter()
        .skip_while(|a| *a != "--")
        .skip(1)
        .cloned()
        .collect();
    if cmd.is_empty() {
        return fail("exec needs a command".into());
    }
    if !(ProcRef {
        pid,
        start_time: start,
    })
    .alive()
    {
        return fail("container is not running".into());
    }
    // Open every namespace first: after joining the mount namespace /proc is the
    // container's and the host PID would no longer resolve.
    let mut files = Vec::new();
    for (ns, flag) in [
        ("ipc", CloneFlags::CLONE_NEWIPC),
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("net", CloneFlags::CLONE_NEWNET),
        ("pid", CloneFlags::CLONE_NEWPID),
        ("mnt", CloneFlags::CLONE_NEWNS),
    ] {
        match std::fs::File::open(format!("/proc/{pid}/ns/{ns}")) {
            Ok(f) => files.push((ns, f, flag)),
            Err(e) => return fail(format!("opening the container's {ns} namespace: {e}")),
        }
    }
    for (ns, f, flag) in &files {
        if let Err(e) = setns(f, *flag) {
            return fail(format!("joining the container's {ns} namespace: {e}"));
        }
    }
    drop(files);
    if let Some(c) = console.as_mut()
        && let Err(e) = c.open()
    {
        return fail(e);
    }
    if std::env::set_current_dir(&workdir).is_err() {
        let _ = std::env::set_current_dir("/");
    }
    // SAFETY: single-threaded (no runtime yet).
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            if let Some(c) = &console
                && let Err(e) = c.become_terminal()
            {
                eprintln!("OCI runtime exec failed: {e}");
                std::process::exit(126);
            }
            // SAFETY: restoring the default SIGPIPE disposition Rust changed.
            unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
            // The container's privileges, as its init has them: after the namespaces
            // were joined (which needed more), before the command runs.
            if let Err(e) = privileges.apply() {
                eprintln!("OCI runtime exec failed: {e}");
                std::process::exit(126);
            }
            let prog = &cmd[0];
            let argv: Vec<CString> = cmd
                .iter()
                .map(|a| CString::new(a.as_bytes()).unwrap_or_default())
                .collect();
            let Ok(p) = CString::new(prog.as_bytes()) else {
                std::process::exit(126)
            };
            let err = nix::unistd::execvp(&p, &argv).unwrap_err();
            if err == nix::Error::ENOENT {
                eprintln!(
                    "OCI runtime exec failed: exec failed: unable to start container process: exec: \"{prog}\": executable file not found in $PATH: unknown"
                );
                std::process::exit(127);
            }
            eprintln!("OCI runtime exec failed: exec: \"{prog}\": {}", err.desc());
            std::process::exit(126);
        }
        Ok(ForkResult::Parent { child }) => {
            if let Some(c) = console {
                return c.serve(child);
            }
            // The terminal delivers Ctrl-C to the command itself; do not die first.
            // SAFETY: ignoring signals in the waiting parent.
            unsafe {
                libc::signal(libc::SIGINT, libc::SIG_IGN);
                libc::signal(libc::SIGQUIT, libc::SIG_IGN);
            }
            loop {
                match waitpid(child, None) {
                    Ok(WaitStatus::Exited(_, code)) => return code,
                    Ok(WaitStatus::Signaled(_, sig, _)) => return 128 + sig as i32,
                    Ok(_) => continue,
                    Err(nix::Error::EINTR) => continue,
                    Err(e) => return fail(format!("waiting for the command: {e}")),
                }
            }
        }
        Err(e) => fail(format!("fork: {e}")),
    }
}

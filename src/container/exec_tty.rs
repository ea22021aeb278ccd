//! `exec -t`: `__enter` owns a pty for the exec'd process, as dockerd does, and serves
//! its master to the CLI over one end of a socket pair (fd 3): the same console loop
//! and frames as a container's shim (`console.rs`). Detaching closes the CLI's end
//! only: `__enter`, in a session of its own, keeps the process and its pty alive.

use super::attach::{Ended, relay};
use super::console::{Console, Pty, become_terminal, open_pty, serve};
use crate::error::{Context, Result};
use crate::util::ProcRef;
use nix::sys::signal::{SigSet, Signal};
use nix::unistd::Pid;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;

/// Environment variable naming the descriptor of `__enter`'s end of the socket pair.
const CONSOLE_FD_ENV: &str = "DOCKERNET_CONSOLE_FD";
/// The descriptor number `__enter` finds it on.
const CONSOLE_FD: i32 = 3;

/// CLI side of `exec -t`: start `__enter` with a console and relay our terminal to it.
/// Returns the command's exit code, or 0 when the user detached.
pub fn exec_tty(
    init: ProcRef,
    privileges: super::privileges::Privileges,
    workdir: &str,
    env: &[String],
    cmd: &[String],
    interactive: bool,
    keys: &[u8],
) -> Result<i32> {
    let mut c = super::enter::enter_command(init, privileges, workdir, env, cmd)?;
    let (ours, theirs) = UnixStream::pair().ctx("creating a socket pair")?;
    let fd = theirs.as_raw_fd();
    c.env(CONSOLE_FD_ENV, CONSOLE_FD.to_string())
        .stdin(std::process::Stdio::null());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        c.pre_exec(move || {
            // A session of its own: our terminal's hangup must not end a process the
            // user detached from.
            libc::setsid();
            if fd == CONSOLE_FD {
                libc::fcntl(fd, libc::F_SETFD, 0);
            } else if libc::dup2(fd, CONSOLE_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = c.spawn().ctx("running exec")?;
    drop(theirs);
    match relay(ours, interactive, keys)? {
        Ended::Detached => Ok(0),
        Ended::Exited => {
            let status = child.wait().ctx("waiting for exec")?;
            use std::os::unix::process::ExitStatusExt;
            Ok(status
                .code()
                .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
        }
    }
}

/// `__enter`'s console: the pty, the CLI's end, the signals the loop waits for.
pub struct EnterConsole {
    pty: Option<Pty>,
    client: UnixStream,
    signals: SigSet,
}

/// In `__enter`: the console the CLI asked for (None without `-t`); blocks the signals
/// the console loop reads from its signalfd. The pty comes later ([`EnterConsole::open`]).
pub fn take_console() -> std::result::Result<Option<EnterConsole>, String> {
    let Some(fd) = std::env::var(CONSOLE_FD_ENV)
        .ok()
        .and_then(|s| s.parse::<i32>().ok())
    else {
        return Ok(None);
    };
    // SAFETY: single-threaded (no runtime yet); the CLI placed its end on `fd`.
    unsafe {
        std::env::remove_var(CONSOLE_FD_ENV);
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    let client = unsafe { UnixStream::from_raw_fd(fd) };
    let mut signals = SigSet::empty();
    for s in [
        Signal::SIGCHLD,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
    ] {
        signals.add(s);
    }
    signals
        .thread_block()
        .map_err(|e| format!("blocking signals: {e}"))?;
    Ok(Some(EnterConsole {
        pty: None,
        client,
        signals,
    }))
}

impl EnterConsole {
    /// Open the pty once the container's mount namespace is joined: from its own
    /// devpts, so that the command's terminal has a name there (`tty`: /dev/pts/N).
    pub fn open(&mut self) -> std::result::Result<(), String> {
        self.pty = Some(open_pty()?);
        Ok(())
    }

    /// In the command's child: its signals back, the slave as its terminal (the master
    /// and the CLI's end close on exec).
    pub fn become_terminal(&self) -> std::result::Result<(), String> {
        let _ = self.signals.thread_unblock();
        let pty = self.pty.as_ref().ok_or("no pty")?;
        become_terminal(pty.slave.as_raw_fd())
    }

    /// In `__enter`: serve the console until the command ends; its exit status.
    pub fn serve(self, child: Pid) -> i32 {
        let Some(pty) = self.pty else { return 126 };
        drop(pty.slave);
        let c = Console {
            master: pty.master,
            listener: None,
            first: Some(self.client),
            log: None,
        };
        serve(c, child, &self.signals, |_| {})
    }
}

//! `attach`: the terminal to a running container again. With `-t` it joins the console
//! its shim keeps (`container/console.rs`): raw mode, detach keys, window size. Without
//! one, as Docker relays the container's streams: its output (the log, followed from
//! now on) and, for a `-i` container, our input to its stdin.

use super::{open_lab, read_lab};
use crate::container::{self, attach};
use crate::error::{Error, Result};
use crate::lab::{ContainerStatus, Lab};
use crate::step::{Executor, Mode};
use clap::{ArgAction, Args};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

/// `attach` flags (Docker's).
#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Override the key sequence for detaching a container (default ctrl-p,ctrl-q).
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Do not attach STDIN.
    #[arg(long = "no-stdin")]
    pub no_stdin: bool,
    /// Proxy all received signals to the process (without a tty; default true).
    #[arg(long = "sig-proxy", action = ArgAction::Set, num_args = 0..=1,
          default_value_t = true, default_missing_value = "true")]
    pub sig_proxy: bool,
    /// The container.
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::containers))]
    pub container: String,
}

/// `attach`
pub async fn attach(lab: &Lab, mode: Mode, a: AttachArgs) -> Result<i32> {
    let keys = attach::parse_detach_keys(a.detach_keys.as_deref())?;
    let d = read_lab(lab, mode).await?;
    let c = d.store.find_container(&a.container)?;
    let running = c.status == ContainerStatus::Running && c.shim.is_some_and(|p| p.alive());
    if !running {
        return Err(Error::msg(
            "Error response from daemon: You cannot attach to a stopped container, start it first",
        ));
    }
    if mode == Mode::DryRun {
        return Ok(0);
    }
    let dir = d.store.container_dir(&c.id);
    let stdin = c.interactive && !a.no_stdin;
    attach::check_tty_input(c.tty, stdin)?;
    let code = if c.tty {
        let stream = attach::connect(&dir)?;
        if attach::relay(stream, stdin, &keys)? == attach::Ended::Detached {
            return Ok(0);
        }
        attach::recorded_exit_code(&dir)
    } else {
        let init = c.init.filter(|_| a.sig_proxy).map(|p| p.pid);
        follow_streams(&dir, stdin, init, || c.shim.is_some_and(|p| p.alive()))?;
        attach::recorded_exit_code(&dir)
    };
    drop(d);
    // Bring the record up to date now (an `--rm` container goes at once, as in Docker).
    let mut ex = Executor::new(Mode::Quiet);
    if let Ok((_lock, mut d)) = open_lab(lab, &mut ex).await {
        let _ = container::settle(&mut d, &mut ex, &c.id).await;
    }
    ex.close().await;
    Ok(code)
}

/// `run -t`: attach to the console of the container just started; its exit code, or
/// None when the user detached.
pub(super) fn run_attached(
    dir: &Path,
    interactive: bool,
    keys: &[u8],
    spawned: &mut container::Spawned,
) -> Result<Option<i32>> {
    let stream = attach::connect(dir)?;
    if attach::relay(stream, interactive, keys)? == attach::Ended::Detached {
        return Ok(None);
    }
    // A shim of ours (no lab host init) is reaped; the code is on disk either way.
    if let Some(c) = spawned.child.as_mut() {
        let _ = c.wait();
    }
    Ok(Some(attach::recorded_exit_code(dir)))
}

/// The PID signals are proxied to (-1: none), for the handler.
static PROXY_PID: AtomicI32 = AtomicI32::new(-1);

extern "C" fn proxy_signal(sig: libc::c_int) {
    let pid = PROXY_PID.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    }
}

/// A container without a tty: its log from now on to stdout, our stdin to its stdin
/// FIFO (`-i`), signals to its init (`--sig-proxy`), until `alive` says it ended.
fn follow_streams(
    dir: &Path,
    stdin: bool,
    proxy_to: Option<i32>,
    alive: impl Fn() -> bool,
) -> Result<()> {
    let mut log = std::fs::File::open(dir.join("log"))
        .map_err(|e| Error::msg(format!("opening the container's log: {e}")))?;
    log.seek(std::io::SeekFrom::End(0))?;
    if stdin {
        let fifo = dir.join("stdin");
        // A thread of its own: the copy blocks in read(0), and ends with the process.
        std::thread::spawn(move || {
            if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(fifo) {
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut f);
            }
        });
    }
    if let Some(pid) = proxy_to {
        PROXY_PID.store(pid, Ordering::Relaxed);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
            // SAFETY: a handler that only calls kill.
            unsafe { libc::signal(sig, proxy_signal as *const () as libc::sighandler_t) };
        }
    }
    let mut out = std::io::stdout();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let ended = !alive();
        loop {
            match log.read(&mut buf) {
                Ok(n) if n > 0 => {
                    out.write_all(&buf[..n])?;
                }
                _ => break,
            }
        }
        out.flush()?;
        if ended {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

//! The container's first processes. dockernet re-executes itself as `docker-init`
//! (argv[0]), already inside the container's network namespace and in fresh PID, mount,
//! UTS and IPC namespaces (set up by the parent between fork and exec):
//!
//! * the **shim** (this process, still in the root PID namespace) forks the init, tells
//!   the CLI the init's PID, waits for it and records its exit code;
//! * the **init** is PID 1 of the new PID namespace: it mounts a fresh /proc, binds the
//!   container's /etc/hosts, /etc/hostname and /etc/resolv.conf, sets the hostname,
//!   starts the command as PID 2, reaps zombies and forwards signals, like tini.
//!
//! This code runs before any async runtime exists, so the process is single-threaded
//! and may fork freely.

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::signal::{SigSet, Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};
use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};

/// Environment variable naming the init config file.
pub const CONFIG_ENV: &str = "DOCKERNET_INIT_CONFIG";
pub use crate::util::OWNER_ENV;
/// Environment variable naming the sync pipe's file descriptor.
pub const SYNC_FD_ENV: &str = "DOCKERNET_SYNC_FD";

/// What the init needs to know, written by the CLI as JSON next to the container's files.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct InitConfig {
    /// Hostname to set (None: keep the UTS namespace's, e.g. when sharing one).
    pub hostname: Option<String>,
    /// The command.
    pub argv: Vec<String>,
    /// Its environment, `K=V`.
    pub env: Vec<String>,
    /// Files to bind-mount: (source on the host, target inside).
    pub binds: Vec<(String, String)>,
    /// Mount a fresh /proc (new PID namespace) and /sys (new network namespace).
    pub fresh_proc_sys: bool,
    /// Forward SIGINT/SIGQUIT too. False when the container shares the CLI's terminal,
    /// which already delivers them to the command.
    pub forward_terminal_signals: bool,
    /// Start the command in its own session (detached containers).
    pub new_session: bool,
    /// Where the shim records the exit code.
    pub exit_code_file: String,
    /// Where the shim leaves word that the command ended (the lab's `exited/<id>`), so
    /// that the next command releases the container's network without having to poll
    /// every container (as containerd tells dockerd).
    #[serde(default)]
    pub exit_notice: Option<String>,
    /// Its own root filesystem (None: the machine's, for a record from before).
    #[serde(default)]
    pub rootfs: Option<crate::image::rootfs::RootfsConfig>,
    /// What its processes may do.
    #[serde(default)]
    pub privileges: super::privileges::Privileges,
    /// `-t`: the container's directory, where the shim keeps the pty's master and serves
    /// attach clients on `attach.sock` (see `console.rs`).
    #[serde(default)]
    pub console: Option<String>,
}

fn forwarded_signals() -> SigSet {
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGCHLD,
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGHUP,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGWINCH,
        Signal::SIGCONT,
    ] {
        set.add(s);
    }
    set
}

fn sync_write(fd: RawFd, text: &str) {
    // SAFETY: fd is our end of the sync pipe; ManuallyDrop keeps it open.
    let mut f = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
    let _ = f.write_all(text.as_bytes());
}

fn exit_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, sig, _) => Some(128 + sig as i32),
        _ => None,
    }
}

/// CLOCK_MONOTONIC in nanoseconds: the same clock in every process, so the CLI can
/// place the shim's and the init's stages on its own timeline (`DOCKERNET_TIMINGS`).
pub fn monotonic_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// Entry point of `docker-init` (the shim). Returns the process exit status.
pub fn shim_main() -> i32 {
    let shim_started = monotonic_ns();
    let config: InitConfig = match std::env::var(CONFIG_ENV)
        .ok()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
    {
        Some(c) => c,
        None => {
            eprintln!("docker-init: this program is started by dockernet, not by hand");
            return 2;
        }
    };
    let sync_fd: RawFd = std::env::var(SYNC_FD_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(-1);
    let signals = forwarded_signals();
    // Block before forking so that no signal is lost before the wait loops start.
    let _ = signals.thread_block();
    // `-t`: the attach socket exists before the CLI hears of the init, so it can attach
    // as soon as `spawn` returns; the pty comes from PID 1, through a socket pair.
    let console = match config.console.as_deref().map(|dir| {
        let (ours, init_end) = std::os::unix::net::UnixStream::pair()
            .map_err(|e| format!("creating a socket pair: {e}"))?;
        let listener = super::console::listen(std::path::Path::new(dir))?;
        Ok::<_, String>((ours, init_end, listener))
    }) {
        Some(Err(e)) => {
            sync_write(sync_fd, &format!("error {e}\n"));
            return 1;
        }
        Some(Ok(c)) => Some(c),
        None => None,
    };
    // SAFETY: single-threaded here (no runtime has been started).
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            let init_end = console.map(|(_ours, init_end, _listener)| init_end);
            init_main(&config, sync_fd, &signals, shim_started, init_end)
        }
        Ok(ForkResult::Parent { child }) => {
            sync_write(sync_fd, &format!("init {}\n", child.as_raw()));
            let _ = nix::unistd::close(sync_fd);
            // No master (PID 1 failed before it made the pty): the plain wait.
            let master = console.and_then(|(ours, init_end, listener)| {
                drop(init_end);
                Some((super::console::recv_fd(&ours)?, listener))
            });
            match master {
                Some((master, listener)) => {
                    let c = super::console::Console {
                        master,
                        listener: Some(listener),
                        first: None,
                        log: Some(1),
                    };
                    super::console::serve(c, child, &signals, |code| record_exit(&config, code))
                }
                None => {
                    let code = wait_forwarding(child, &signals, true, false);
                    record_exit(&config, code);
                    code
                }
            }
        }
        Err(e) => {
            sync_write(
                sync_fd,
                &format!("error starting the container's init: {e}\n"),
            );
            1
        }
    }
}

/// The shim's last duty: the exit code on disk, and word for the next command.
fn record_exit(config: &InitConfig, code: i32) {
    let exit_code = std::path::Path::new(&config.exit_code_file);
    let _ = crate::util::write_private(exit_code, format!("{code}\n").as_bytes());
    if let Some(notice) = &config.exit_notice {
        let p = std::path::Path::new(notice);
        if let Some(dir) = p.parent() {
            let _ = crate::util::create_private_dir(dir);
        }
        let _ = crate::util::write_private(p, b"");
    }
}

/// Wait for `child`, forwarding signals to it. As PID 1 (`reap_all`), also reap every
/// orphan that the kernel re-parents to us.
fn wait_forwarding(child: Pid, signals: &SigSet, forward_terminal: bool, reap_all: bool) -> i32 {
    loop {
        let Ok(sig) = signals.wait() else { continue };
        if sig == Signal::SIGCHLD {
            loop {
                let target = if reap_all { Pid::from_raw(-1) } else { child };
                match waitpid(target, Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::StillAlive) | Err(_) => break,
                    Ok(status) => {
                        if status.pid() == Some(child)
                            && let Some(code) = exit_code(status)
                        {
                            return code;
                        }
                    }
                }
            }
        } else if forward_terminal || !matches!(sig, Signal::SIGINT | Signal::SIGQUIT) {
            let _ = kill(child, sig);
        }
    }
}

fn init_main(
    config: &InitConfig,
    sync_fd: RawFd,
    signals: &SigSet,
    shim_started: u64,
    console: Option<std::os::unix::net::UnixStream>,
) -> ! {
    // The CLI must see EOF on the sync pipe once the command has exec'd, so the
    // command's copy closes on exec and ours is closed after the fork.
    // SAFETY: fcntl on our own descriptor.
    unsafe { libc::fcntl(sync_fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    // The container's mount namespace is PID 1's alone: the shim stays in the machine's
    // (it writes the exit code there, and pivot_root moves the root of every process of
    // a namespace). One copy of the mount table per container, not two.
    let forked = monotonic_ns();
    let mut unshared = 0;
    let prepared = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(|e| format!("unshare(CLONE_NEWNS): {e}"))
        .and_then(|()| {
            unshared = monotonic_ns();
            match &config.rootfs {
                Some(r) => super::rootfs_mount::prepare(config, r),
                None => prepare(config),
            }
        });
    let mounted = monotonic_ns();
    // `-t`: the pty from the container's own devpts (its name resolves inside: `tty`
    // says /dev/pts/0), the master to the shim, the slave for the command.
    let mut slave = None;
    let prepared = prepared.and_then(|()| match &console {
        Some(sock) => super::console::open_and_send(sock).map(|s| slave = Some(s)),
        None => Ok(()),
    });
    drop(console);
    // PID 1 keeps only the container's privileges too: the command inherits them.
    if let Err(msg) = prepared.and_then(|()| config.privileges.apply()) {
        sync_write(sync_fd, &format!("error {msg}\n"));
        std::process::exit(1);
    }
    // Where the start's time went, for `DOCKERNET_TIMINGS` (one short write).
    sync_write(
        sync_fd,
        &format!(
            "timing shim={shim_started} fork={forked} unshare={unshared} rootfs={mounted} privileges={}\n",
            monotonic_ns()
        ),
    );
    // SAFETY: still single-threaded.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            let msg = exec_command(config, signals, slave.as_ref().map(|s| s.as_raw_fd()));
            sync_write(sync_fd, &format!("error {msg}\n"));
            std::process::exit(if msg.contains("not found") { 127 } else { 126 });
        }
        Ok(ForkResult::Parent { child }) => {
            let _ = nix::unistd::close(sync_fd);
            drop(slave);
            let code = wait_forwarding(child, signals, config.forward_terminal_signals, true);
            std::process::exit(code);
        }
        Err(e) => {
            sync_write(sync_fd, &format!("error fork: {e}\n"));
            std::process::exit(1);
        }
    }
}

/// Mounts and hostname of the container, done by PID 1 in its new mount namespace.
fn prepare(config: &InitConfig) -> Result<(), String> {
    // Slave propagation: the container sees the host's unmounts (so removing a netns
    // really frees it) but nothing mounted here leaks back to the host.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_SLAVE,
        None::<&str>,
    )
    .map_err(|e| format!("making / a slave mount: {e}"))?;
    // The container has no use for the namespace files under /run/netns, and keeping
    // its slave copies would make every later `ip netns add` propagate into every
    // running container (netns creation would slow down as containers accumulate).
    if umount2("/run/netns", MntFlags::MNT_DETACH).is_ok() {
        // Underneath lie the host's empty mount-point files; iproute2 would open each
        // to name a `link-netnsid` and print "Peer netns reference is invalid" per file.
        let _ = mount(
            Some("tmpfs"),
            "/run/netns",
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            Some("size=4k,mode=755"),
        );
    }
    if config.fresh_proc_sys {
        // /proc must be mounted from inside the new PID namespace to show only its
        // processes; /sys from inside the network namespace to show its interfaces.
        mount(
            Some("proc"),
            "/proc",
            Some("proc"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            None::<&str>,
        )
        .map_err(|e| format!("mounting /proc: {e}"))?;
        if umount2("/sys", MntFlags::MNT_DETACH).is_ok() {
            let _ = mount(
                Some("sysfs"),
                "/sys",
                Some("sysfs"),
                MsFlags::empty(),
                None::<&str>,
            );
        }
    }
    for (src, dst) in &config.binds {
        if std::path::Path::new(dst).exists() {
            mount(
                Some(src.as_str()),
                dst.as_str(),
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(|e| format!("bind-mounting {dst}: {e}"))?;
        }
    }
    if let Some(h) = &config.hostname {
        nix::unistd::sethostname(h).map_err(|e| format!("sethostname: {e}"))?;
    }
    Ok(())
}

/// Become the command (only returns an error message).
fn exec_command(config: &InitConfig, signals: &SigSet, slave: Option<RawFd>) -> String {
    let _ = signals.thread_unblock();
    // Rust ignores SIGPIPE at startup and ignored signals survive exec: restore the
    // default so pipelines inside the container behave normally.
    // SAFETY: resetting a signal disposition.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    if let Some(fd) = slave {
        // `-t`: the pty's slave is the command's terminal (a session of its own).
        if let Err(e) = super::console::become_terminal(fd) {
            return e;
        }
    } else if config.new_session {
        let _ = nix::unistd::setsid();
    }
    let Some(prog) = config.argv.first() else {
        return "no command specified".into();
    };
    let path_var = config
        .env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(crate::image::install::STANDARD_PATH);
    let resolved = match resolve(prog, path_var) {
        Some(p) => p,
        None => return format!("exec: \"{prog}\": executable file not found in $PATH"),
    };
    let to_c = |s: &String| CString::new(s.as_bytes()).unwrap_or_default();
    let argv: Vec<CString> = config.argv.iter().map(to_c).collect();
    let env: Vec<CString> = config.env.iter().map(to_c).collect();
    let Ok(path) = CString::new(resolved.as_bytes()) else {
        return "bad program path".into();
    };
    let workdir = config.rootfs.as_ref().map_or("/", |r| r.workdir.as_str());
    let _ = std::env::set_current_dir(workdir);
    match nix::unistd::execve(&path, &argv, &env) {
        Err(e) => format!("exec: \"{prog}\": {}", e.desc()),
        Ok(never) => match never {},
    }
}

/// PATH lookup as a shell does it (a name with a slash is used as is).
fn resolve(prog: &str, path_var: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let is_exec = |p: &std::path::Path| {
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if prog.contains('/') {
        return Some(prog.to_string());
    }
    path_var
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| std::path::Path::new(d).join(prog))
        .find(|p| is_exec(p))
        .map(|p| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_follows_path_order() {
        assert_eq!(
            resolve("sh", "/nonexistent:/bin").as_deref(),
            Some("/bin/sh")
        );
        assert_eq!(resolve("/x/y", "").as_deref(), Some("/x/y"));
        assert_eq!(resolve("no-such-program-xyz", "/bin:/usr/bin"), None);
    }
}

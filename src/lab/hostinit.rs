//! The lab host's own PID and mount namespaces, held by an init that lives as long as
//! the lab — so the lab host is a host of its own: `dockernet host -- ps -ef` lists this
//! lab's processes only (its docker-proxies, its DNS server, its containers' processes,
//! whose PID namespaces nest inside the host's), as `ps -ef` on a Docker host does.
//!
//! The init is our own binary started as `init __host_init` in the host's network and
//! UTS namespaces. It unshares a PID and a mount namespace and forks: the child is PID 1
//! there; it mounts a /proc and a /sys of its own (the host's processes and interfaces)
//! and binds the lab host's resolv.conf, then reaps orphans until the lab goes. Its
//! parent prints the child's PID and exits.
//!
//! Processes join with `setns(CLONE_NEWPID)` on a short-lived thread that then spawns
//! them: a PID namespace is entered by the *children* of the thread that joined it
//! (`pid_for_children`), so the rest of dockernet stays where it is.

use super::Lab;
use crate::error::{Context, Error, Result};
use crate::util::ProcRef;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};
use std::io::{BufRead, BufReader};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The argument that makes the binary the lab host's init.
pub const ARG: &str = "__host_init";
/// The environment variable naming the lab directory (where the init's spawner
/// socket goes).
const LAB_DIR_ENV: &str = "DOCKERNET_LAB_DIR";

/// Where a joining process finds the host's PID namespace.
pub fn pid_ns(init: &ProcRef) -> PathBuf {
    PathBuf::from(format!("/proc/{}/ns/pid", init.pid))
}

/// Where a joining process finds the host's mount namespace.
pub fn mnt_ns(init: &ProcRef) -> PathBuf {
    PathBuf::from(format!("/proc/{}/ns/mnt", init.pid))
}

/// The command line that starts it, for narration.
pub fn command(lab: &Lab) -> String {
    format!(
        "ip netns exec {} unshare --pid --mount --fork --mount-proc --propagation slave sleep infinity &   # {}",
        lab.host_ns(),
        crate::ui::tr(
            "the lab host's own PID 1 and mount namespace",
            "实验宿主机自己的 PID 1 和挂载命名空间",
        )
    )
}

/// Start the lab host's init; returns its PID 1 (as the root PID namespace sees it).
pub fn start(lab: &Lab) -> Result<ProcRef> {
    let net = crate::netns::open(&crate::netns::path(&lab.host_ns()))?;
    let uts = crate::netns::open(&lab.host_uts_path())?;
    let mut cmd = Command::new(crate::image::self_exe()?);
    cmd.arg0("init")
        .args([ARG, &lab.name])
        .env(
            crate::util::OWNER_ENV,
            format!("{}/host-init", lab.dir().display()),
        )
        .env(
            "DOCKERNET_HOST_RESOLV",
            lab.host_resolv_conf().display().to_string(),
        )
        .env(LAB_DIR_ENV, lab.dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0);
    use std::os::fd::AsRawFd;
    crate::netns::ChildSetup {
        net: Some(net.as_raw_fd()),
        uts: Some(uts.as_raw_fd()),
        ..Default::default()
    }
    .install(&mut cmd, Vec::new());
    let mut child = cmd.spawn().ctx("starting the lab host's init")?;
    drop(net);
    drop(uts);
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    let _ = child.wait();
    let pid: i32 = line
        .trim()
        .strip_prefix("pid ")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| {
            Error::msg(format!(
                "the lab host's init did not start: {}",
                line.trim()
            ))
        })?;
    ProcRef::of(pid).ok_or_else(|| Error::msg("the lab host's init exited at once"))
}

/// Spawn `cmd` as a process of the lab host (its PID namespace), or as it is when the
/// lab has no host init (a lab built by an older dockernet).
pub fn spawn(init: Option<&ProcRef>, mut cmd: Command) -> std::io::Result<Child> {
    let Some(init) = init.filter(|p| p.alive()) else {
        return cmd.spawn();
    };
    let path = pid_ns(init);
    std::thread::scope(|s| {
        s.spawn(move || {
            let ns = std::fs::File::open(&path)?;
            setns(ns.as_fd(), CloneFlags::CLONE_NEWPID).map_err(std::io::Error::from)?;
            // fork into a PID namespace whose init is dying fails with ENOMEM.
            cmd.spawn().map_err(|e| match e.raw_os_error() {
                Some(libc::ENOMEM) => std::io::Error::other(
                    "the lab host's init has just died; run the command again (the lab is rebuilt)",
                ),
                _ => e,
            })
        })
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("the spawning thread panicked")))
    })
}

/// The PID (in the root namespace) of the only child of `pid`, e.g. a shim's init,
/// whatever PID namespace the parent sees it in.
pub fn only_child(pid: i32) -> Option<i32> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Entry point of `init __host_init LAB` (single-threaded: no runtime yet).
pub fn main(args: &[String]) -> i32 {
    let out = |s: &str| println!("{s}");
    if let Err(e) = unshare(CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS) {
        out(&format!("error unshare: {e}"));
        return 1;
    }
    let _ = args;
    // The init must not hold the directory the learner ran `lab up` in.
    let _ = std::env::set_current_dir("/");
    // Listening before the fork: the socket exists once the CLI has the init's PID.
    let listener = match std::env::var_os(LAB_DIR_ENV) {
        Some(dir) => match super::host_spawn::listen(Path::new(&dir)) {
            Ok(l) => Some(l),
            Err(e) => {
                out(&format!("error creating the spawner socket: {e}"));
                return 1;
            }
        },
        None => None,
    };
    let signals = {
        let mut s = SigSet::all();
        s.remove(Signal::SIGKILL);
        s.remove(Signal::SIGSTOP);
        s
    };
    let _ = signals.thread_block();
    // SAFETY: single-threaded (this entry point runs before any runtime).
    match unsafe { fork() } {
        Ok(ForkResult::Parent { child }) => {
            out(&format!("pid {}", child.as_raw()));
            0
        }
        Ok(ForkResult::Child) => {
            // The CLI reads our parent's one line; PID 1 keeps nothing of its pipe.
            if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
                use std::os::fd::AsRawFd;
                // SAFETY: dup2 onto stdout with a valid fd.
                unsafe { libc::dup2(null.as_raw_fd(), 1) };
            }
            prepare_mounts();
            serve_forever(&signals, listener)
        }
        Err(e) => {
            out(&format!("error fork: {e}"));
            1
        }
    }
}

/// PID 1's view of the machine: slave propagation (nothing leaks back; the host's
/// `ip netns` mounts still arrive), a /proc of this PID namespace, a /sys of the host's
/// network namespace, the lab host's resolv.conf. Best effort: a failure leaves the
/// machine's view, never a change to it.
fn prepare_mounts() {
    let none = None::<&str>;
    if mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_SLAVE, none).is_err() {
        return;
    }
    let _ = umount2("/proc", MntFlags::MNT_DETACH);
    let _ = mount(
        Some("proc"),
        "/proc",
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        none,
    );
    if umount2("/sys", MntFlags::MNT_DETACH).is_ok() {
        let _ = mount(Some("sysfs"), "/sys", Some("sysfs"), MsFlags::empty(), none);
    }
    if let Ok(resolv) = std::env::var("DOCKERNET_HOST_RESOLV")
        && Path::new(&resolv).exists()
    {
        let _ = mount(
            Some(resolv.as_str()),
            "/etc/resolv.conf",
            none,
            MsFlags::MS_BIND,
            none,
        );
    }
}

/// PID 1's work: start the lab host's processes on request (see
/// [`super::host_spawn`]), reap every child and orphan; end on SIGTERM (the PID
/// namespace, and so every process of the lab host, ends with it).
fn serve_forever(signals: &SigSet, listener: Option<std::os::fd::OwnedFd>) -> ! {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    let Ok(sfd) = SignalFd::with_flags(signals, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
    else {
        reap_forever(signals)
    };
    loop {
        let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        if let Some(l) = &listener {
            fds.push(PollFd::new(l.as_fd(), PollFlags::POLLIN));
        }
        if poll(&mut fds, PollTimeout::NONE).is_err() {
            continue;
        }
        let signalled = fds[0].any().unwrap_or(false);
        let asked = fds.get(1).and_then(|f| f.any()).unwrap_or(false);
        if signalled {
            while let Ok(Some(info)) = sfd.read_signal() {
                if matches!(info.ssi_signo as i32, libc::SIGTERM | libc::SIGINT) {
                    std::process::exit(0);
                }
            }
            reap();
        }
        if asked && let Some(l) = &listener {
            super::host_spawn::serve_one(l);
        }
    }
}

fn reap() {
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// Without a signalfd: wait for signals, reap, end on SIGTERM.
fn reap_forever(signals: &SigSet) -> ! {
    loop {
        match signals.wait() {
            Ok(Signal::SIGCHLD) => reap(),
            Ok(Signal::SIGTERM) | Ok(Signal::SIGINT) => std::process::exit(0),
            _ => {}
        }
    }
}

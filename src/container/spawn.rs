//! Starting a container's shim from the CLI: namespaces are entered and created between
//! fork and exec (plain syscalls, safe there), and a pipe tells us when the command has
//! really started — or why it could not.

use super::init::{CONFIG_ENV, SYNC_FD_ENV};
use crate::error::{Context, Error, Result};
use crate::util::ProcRef;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The file descriptor number the shim finds the sync pipe on.
const SYNC_FD: i32 = 3;

/// How to start a container's processes.
pub struct SpawnSpec {
    /// Network namespace to enter (a /run/netns path, or /proc/PID/ns/net).
    pub netns: PathBuf,
    /// UTS namespace to join instead of creating a new one (host / container modes).
    pub join_uts: Option<PathBuf>,
    /// Hostname the init sets (in a new UTS namespace), for the narration.
    pub hostname: Option<String>,
    /// The init config written for this container.
    pub config_path: PathBuf,
    /// Detached: new session, stdin from /dev/null, output to `log`.
    pub detached: bool,
    /// Keep stdin attached (`-i`) when in the foreground.
    pub interactive: bool,
    /// Log file for detached containers.
    pub log: Option<PathBuf>,
    /// The lab host's PID 1: the container's PID namespace nests inside the host's.
    pub host_init: Option<ProcRef>,
    /// The lab's directory (where the host init's spawner socket is).
    pub lab_dir: PathBuf,
}

impl SpawnSpec {
    /// The command a learner could type to start `argv` the same way: built from the
    /// very paths the spawn enters, so it cannot drift from what really runs.
    pub fn narration(&self, argv: &[String]) -> String {
        let words = super::shell_words(argv);
        let net = self.netns.display().to_string();
        match (&self.join_uts, net.strip_prefix("/run/netns/")) {
            (None, Some(ns)) => format!(
                "ip netns exec {ns} unshare --pid --mount --uts --ipc --fork --mount-proc sh -c 'hostname \"$0\" && exec \"$@\"' {} {words}",
                self.hostname.as_deref().unwrap_or("")
            ),
            (Some(uts), _) => format!(
                "nsenter --net={net} --uts={} unshare --pid --mount --ipc --fork --mount-proc {words}",
                uts.display()
            ),
            (None, None) => format!(
                "nsenter --net={net} unshare --pid --mount --uts --ipc --fork --mount-proc {words}"
            ),
        }
    }
}

/// A started container.
pub struct Spawned {
    /// The shim (root PID namespace).
    pub shim: ProcRef,
    /// The container's PID 1, as seen from the root PID namespace.
    pub init: ProcRef,
    /// The shim's handle, for foreground runs that wait for it (a detached container's
    /// shim is the lab host init's child, not ours).
    pub child: Option<Child>,
}

/// The init's stage timestamps (`shim=NS fork=NS …`, CLOCK_MONOTONIC) as durations in
/// ms from the previous stage: `dockernet-timing-spawn spawn_exec_ms=… …` (a line of
/// its own: the benchmarks read the `dockernet-timing` line);
/// `spawn_command_ms` runs to `end`, when the command has exec'd.
fn stage_timings(started: u64, stages: &str, end: u64) -> String {
    let mut out = String::from("dockernet-timing-spawn");
    let mut last = started;
    let names = [("shim", "exec"), ("fork", "fork"), ("unshare", "unshare")];
    let names = names
        .iter()
        .copied()
        .chain([("rootfs", "rootfs"), ("privileges", "privileges")]);
    let stamps: std::collections::HashMap<&str, u64> = stages
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
        .collect();
    for (key, label) in names {
        if let Some(&t) = stamps.get(key).filter(|&&t| t >= last) {
            out.push_str(&format!(" spawn_{label}_ms={:.3}", (t - last) as f64 / 1e6));
            last = t;
        }
    }
    out.push_str(&format!(
        " spawn_command_ms={:.3}",
        end.saturating_sub(last) as f64 / 1e6
    ));
    out
}

/// A detached container's stdin (/dev/null, or with `-i` a FIFO nobody writes) and
/// its log (stdout and stderr).
fn detached_stdio(spec: &SpawnSpec) -> Result<(std::fs::File, std::fs::File)> {
    let log = spec
        .log
        .as_ref()
        .ok_or_else(|| Error::msg("detached container without a log"))?;
    let out = crate::util::open_private(log, std::fs::OpenOptions::new().create(true).append(true))
        .ctx("opening the container log")?;
    let stdin = if spec.interactive {
        // `-di`: Docker keeps the container's stdin open with nobody writing, so a
        // shell waits instead of exiting. A FIFO opened read-write does the same:
        // reads block and never see EOF.
        let fifo = log.with_file_name("stdin");
        let _ = nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600));
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&fifo)
            .ctx("opening the container's stdin")?
    } else {
        std::fs::File::open("/dev/null").ctx("opening /dev/null")?
    };
    Ok((stdin, out))
}

/// Start the shim and wait until the command has exec'd (or failed to).
pub fn spawn(spec: &SpawnSpec, argv: &[String]) -> Result<Spawned> {
    let exe = crate::image::self_exe()?;
    let net = crate::netns::open(&spec.netns)?;
    let uts = match &spec.join_uts {
        Some(p) => Some(crate::netns::open(p)?),
        None => None,
    };
    let (read_end, write_end) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).ctx("creating a pipe")?;
    let started = super::init::monotonic_ns();
    let env = [
        (CONFIG_ENV, spec.config_path.clone()),
        (
            super::init::OWNER_ENV,
            spec.config_path
                .parent()
                .unwrap_or(&spec.config_path)
                .to_path_buf(),
        ),
        (SYNC_FD_ENV, PathBuf::from(SYNC_FD.to_string())),
    ];
    let mut args = vec!["docker-init".to_string(), "--".to_string()];
    args.extend(argv.iter().cloned());
    let stdio = if spec.detached {
        Some(detached_stdio(spec)?)
    } else {
        None
    };
    // A detached container is the lab host's process, started by its init; a
    // foreground one stays our child (it shares our terminal, and we wait for it).
    let by_host = match (&stdio, spec.host_init.filter(|p| p.alive())) {
        (Some((stdin, log)), Some(init)) => {
            let req = crate::lab::host_spawn::Request {
                exe: (!crate::lab::host_spawn::same_binary(&init))
                    .then(|| exe.display().to_string()),
                argv: args.clone(),
                env: env
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.display()))
                    .collect(),
                place: vec![(0, 0), (1, 1), (2, 2), (3, SYNC_FD)],
                net: Some(4),
                uts: uts.as_ref().map(|_| 5),
                unshare: libc::CLONE_NEWPID | libc::CLONE_NEWIPC,
                new_uts_unless_joined: true,
                setsid: true,
                process_group: false,
            };
            let mut fds = vec![stdin.as_fd(), log.as_fd(), log.as_fd(), write_end.as_fd()];
            fds.push(net.as_fd());
            fds.extend(uts.as_ref().map(|u| u.as_fd()));
            crate::lab::host_spawn::spawn(&spec.lab_dir, &req, &fds)
                .ctx("starting the container")?
        }
        _ => None,
    };
    let (shim, child) = match by_host {
        Some(shim) => (Some(shim), None),
        None => {
            let mut cmd = Command::new(&exe);
            cmd.arg0("docker-init").args(&args[1..]).env_clear();
            for (k, v) in &env {
                cmd.env(k, v);
            }
            match stdio {
                Some((stdin, log)) => {
                    cmd.stdin(stdin).stdout(log.try_clone()?).stderr(log);
                }
                None if !spec.interactive => {
                    cmd.stdin(Stdio::null());
                }
                None => {}
            }
            // `net`, `uts` and `write_end` stay open here until the spawn has returned.
            crate::netns::ChildSetup {
                net: Some(net.as_raw_fd()),
                uts: uts.as_ref().map(|f| f.as_raw_fd()),
                // The mount namespace is made by the init itself (see `init::init_main`).
                unshare: libc::CLONE_NEWPID | libc::CLONE_NEWIPC,
                new_uts_unless_joined: true,
                setsid: spec.detached,
                dup: Some((write_end.as_raw_fd(), SYNC_FD)),
                ..Default::default()
            }
            .install(&mut cmd, Vec::new());
            let child = crate::lab::hostinit::spawn(spec.host_init.as_ref(), cmd)
                .ctx("starting the container")?;
            (ProcRef::of(child.id() as i32), Some(child))
        }
    };
    drop(write_end);
    drop(net);
    drop(uts);
    let mut text = String::new();
    // EOF arrives when every copy of the write end is closed: the shim's and the init's
    // after they forked, the command's when it exec'd.
    let mut reader = std::fs::File::from(read_end);
    let _ = reader.read_to_string(&mut text);
    let mut init_pid = None;
    let mut error = None;
    for line in text.lines() {
        if let Some(p) = line.strip_prefix("init ") {
            // The shim names its child as *its* PID namespace sees it (the lab host's):
            // the root namespace's number is the shim's child, while it lives.
            init_pid = shim
                .and_then(|s| crate::lab::hostinit::only_child(s.pid))
                .map(|pid| (pid, true))
                .or_else(|| {
                    // Gone already: a number of the shim's namespace, which names no
                    // process of ours in the root one when the shim is the host's.
                    let pid = p.trim().parse::<i32>().ok()?;
                    Some((pid, spec.host_init.is_none()))
                });
        } else if let Some(e) = line.strip_prefix("error ") {
            error = Some(e.to_string());
        } else if let Some(t) = line.strip_prefix("timing ")
            && std::env::var_os("DOCKERNET_TIMINGS").is_some()
        {
            eprintln!("{}", stage_timings(started, t, super::init::monotonic_ns()));
        }
    }
    let mut child = child;
    if let Some(e) = error {
        let status = child
            .as_mut()
            .and_then(|c| c.wait().ok())
            .and_then(|s| s.code())
            .unwrap_or(126);
        let code = if e.contains("not found") {
            127
        } else {
            status.max(126)
        };
        return Err(Error::with_code(
            format!(
                "Error response from daemon: failed to create task for container: {e}: unknown"
            ),
            code,
        ));
    }
    // An init that already exited (a command like `true`) did start: keep its pid as a
    // process that is gone, and the next reconcile marks the container Exited.
    let gone = |pid| ProcRef { pid, start_time: 0 };
    let init = init_pid.map(|(pid, ours)| {
        if ours {
            ProcRef::of(pid).unwrap_or(gone(pid))
        } else {
            gone(pid)
        }
    });
    let (Some(shim), Some(init)) = (shim, init) else {
        match child.as_mut() {
            Some(c) => {
                let _ = c.kill();
                let _ = c.wait();
            }
            None => {
                shim.map(|s| s.signal(libc::SIGKILL));
            }
        }
        return Err(Error::msg(crate::ui::tr(
            "the container's init exited at once (see `dockernet logs`)",
            "容器的 init 进程一启动就退出了（见 `dockernet logs`）",
        )));
    };
    Ok(Spawned { shim, init, child })
}

//! The data-path benchmark's rig: its lab, the socat stand-ins, the clients run inside
//! the lab's namespaces, and the cleanup that leaves nothing behind.
//!
//! Everything lives in the lab `dp_<pid>`: the server is a container process, socat runs
//! in the lab host namespace, clients in the host or world namespace. Cleanup kills the
//! socats by PID (and their process group, which holds only their forks), runs
//! `lab down`, and checks that no namespace and no server process of ours is left.

use crate::common::netns_with_prefix;
use crate::dp_report::Path;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub type Res<T> = Result<T, String>;

/// PIDs of benchmark servers of `lab`: argv `BENCH --serve PORT LAB` (not the
/// container's `docker-init -- BENCH --serve ...` in front of them).
fn server_pids(lab: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let argv = std::fs::read(e.path().join("cmdline")).ok()?;
            let argv: Vec<&[u8]> = argv.split(|&b| b == 0).filter(|a| !a.is_empty()).collect();
            let ours = argv.len() == 4 && argv[1] == b"--serve" && argv[3] == lab.as_bytes();
            ours.then_some(pid)
        })
        .collect()
}

/// Processes in namespace `ns` whose command name is `comm`.
fn pids_in_netns(ns: &str, comm: &str) -> Vec<i32> {
    let out = Command::new("ip").args(["netns", "pids", ns]).output();
    let out = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    out.unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == comm)
        })
        .collect()
}

fn kill(pid: i32, sig: libc::c_int) {
    // SAFETY: plain kill(2); callers pass only PIDs (or, negated, process groups) that
    // this benchmark started.
    unsafe { libc::kill(pid, sig) };
}

/// The root namespace's rules, without counters and timestamps.
pub fn root_iptables() -> String {
    let out = Command::new("iptables-save").output();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    text.unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(" [").next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Labs (and their socats and servers) of benchmarks that were killed.
pub fn remove_stale(dn: &PathBuf) {
    for ns in netns_with_prefix("dn-dp_") {
        let Some(lab) = ns.strip_prefix("dn-").and_then(|s| s.strip_suffix("-host")) else {
            continue;
        };
        let pid = &lab["dp_".len()..];
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue; // still running
        }
        eprintln!("datapath bench: removing stale lab {lab}");
        for p in pids_in_netns(&ns, "socat") {
            kill(p, libc::SIGKILL);
        }
        let _ = Command::new(dn)
            .args(["--lab", lab, "lab", "down"])
            .output();
        for p in server_pids(lab) {
            kill(p, libc::SIGKILL);
        }
    }
}

/// The lab and the processes this benchmark started in it.
pub struct Rig {
    dn: PathBuf,
    pub lab: String,
    socats: Vec<(u16, Child)>,
    /// Opened once the lab is up: the namespaces clients run in.
    host: Option<File>,
    world: Option<File>,
    cleaned: bool,
}

impl Rig {
    pub fn new(dn: PathBuf, lab: String) -> Res<Rig> {
        Ok(Rig {
            dn,
            lab,
            socats: Vec::new(),
            host: None,
            world: None,
            cleaned: false,
        })
    }

    fn netns(&mut self, world: bool) -> Res<i32> {
        let (slot, which) = if world {
            (&mut self.world, "world")
        } else {
            (&mut self.host, "host")
        };
        if slot.is_none() {
            let path = format!("/run/netns/dn-{}-{which}", self.lab);
            *slot = Some(File::open(&path).map_err(|e| format!("{path}: {e}"))?);
        }
        Ok(slot.as_ref().expect("opened").as_raw_fd())
    }

    /// `dockernet --lab LAB ARGS` with DOCKERNET_TIMINGS=1: (wall ms, stdout, stderr).
    pub fn dn(&self, args: &[&str]) -> Res<(f64, String, String)> {
        if super::common::stopping() {
            return Err("interrupted".into());
        }
        crate::common::dockernet_timed(&self.dn, &self.lab, args)
    }

    /// A container's bridge address, from `inspect`.
    pub fn container_ip(&self, name: &str) -> Res<String> {
        let (_, out, _) = self.dn(&["inspect", name])?;
        let v: serde_json::Value =
            serde_json::from_str(&out).map_err(|e| format!("inspect {name}: {e}"))?;
        v[0]["NetworkSettings"]["IPAddress"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| format!("inspect {name}: no IPAddress"))
    }

    /// `socat [-b BUF] TCP-LISTEN:PORT,fork,reuseaddr TCP:TARGET` in the lab host, in a
    /// process group of its own (its forks join it; the terminal's Ctrl-C does not).
    pub fn socat(&mut self, port: u16, target: &str, buf: Option<usize>) -> Res<()> {
        let fd = self.netns(false)?;
        let mut cmd = Command::new("socat");
        if let Some(b) = buf {
            cmd.args(["-b", &b.to_string()]);
        }
        cmd.arg(format!("TCP-LISTEN:{port},fork,reuseaddr"))
            .arg(format!("TCP:{target}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .process_group(0);
        setns_before_exec(&mut cmd, fd);
        let child = cmd.spawn().map_err(|e| format!("socat: {e}"))?;
        self.socats.push((port, child));
        Ok(())
    }

    /// CPU seconds used so far by the process relaying path `p` (forks included for
    /// socat, once reaped); `None` for the kernel-only paths.
    pub fn relay_cpu(&self, p: Path) -> Option<f64> {
        if matches!(p, Path::Socat | Path::SocatBig) {
            // Let the fork that served the last connection exit and be reaped.
            std::thread::sleep(Duration::from_millis(100));
        }
        let pid = self.relay_pid(p)?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name: state is field 3, utime..cstime are 14..17.
        let f: Vec<u64> = stat[stat.rfind(')')? + 2..]
            .split_whitespace()
            .skip(11)
            .take(4)
            .filter_map(|x| x.parse().ok())
            .collect();
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        Some(f.iter().sum::<u64>() as f64 / hz)
    }

    /// The process relaying path `p`: the binding's docker-proxy, or the socat parent
    /// (its forks inherit the parent's CPU mask); `None` for the kernel-only paths.
    pub fn relay_pid(&self, p: Path) -> Option<i32> {
        let port = match p {
            Path::Proxy => {
                let host = format!("dn-{}-host", self.lab);
                return pids_in_netns(&host, "docker-proxy").first().copied();
            }
            Path::Socat => crate::SOCAT_PORT,
            Path::SocatBig => crate::SOCAT_BIG_PORT,
            Path::Dnat | Path::Direct => return None,
        };
        Some(self.socats.iter().find(|s| s.0 == port)?.1.id() as i32)
    }

    /// Runs this binary as `--client MODE ADDR SECS EXTRA` inside the namespace of
    /// path `p`, killed if it overruns; its JSON line.
    pub fn client(
        &mut self,
        p: Path,
        mode: &str,
        addr: &str,
        secs: f64,
        extra: &[&str],
    ) -> Res<serde_json::Value> {
        if super::common::stopping() {
            return Err("interrupted".into());
        }
        let fd = self.netns(p == Path::Dnat)?;
        let me = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(me);
        cmd.args(["--client", mode, addr, &secs.to_string()])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        setns_before_exec(&mut cmd, fd);
        let mut child = cmd.spawn().map_err(|e| format!("client: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs_f64(secs + 15.0);
        while child.try_wait().map_err(|e| e.to_string())?.is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("client {mode} {addr} ({p:?}) hung"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let why = format!("{} {}", out.status, err.trim());
            return Err(format!("client {mode} {addr} ({p:?}): {}", why.trim()));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| format!("client {mode} output: {e}"))
    }

    /// Waits until path `p` carries a connection test without errors (the server and
    /// socat bind their ports a moment after they start).
    pub fn wait_ready(&mut self, p: Path, addr: &str) -> Res<()> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let v = self.client(p, "crr", addr, 0.05, &[])?;
            if v["errors"].as_u64() == Some(0) && v["conns"].as_u64() > Some(0) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("{p:?} ({addr}) never worked: {v}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the socats, removes the lab, and checks that nothing of ours is left.
    /// Idempotent.
    pub fn cleanup(&mut self) -> Res<()> {
        self.cleaned = true;
        self.host = None;
        self.world = None;
        for (_, mut c) in std::mem::take(&mut self.socats) {
            let pid = c.id() as i32;
            kill(pid, libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(2);
            while matches!(c.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            // The group is socat and its forks only: a fork still serving dies too.
            kill(-pid, libc::SIGKILL);
            let _ = c.wait();
        }
        let down = Command::new(&self.dn)
            .args(["--lab", &self.lab, "lab", "down"])
            .stdin(Stdio::null())
            .output();
        let mut problems = Vec::new();
        match down {
            Ok(o) if !o.status.success() => problems.push(format!(
                "lab down: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => problems.push(format!("lab down: {e}")),
            Ok(_) => {}
        }
        let left = netns_with_prefix(&format!("dn-{}-", self.lab));
        if !left.is_empty() {
            problems.push(format!("namespaces left behind: {}", left.join(" ")));
        }
        let servers = server_pids(&self.lab);
        if !servers.is_empty() {
            for &p in &servers {
                kill(p, libc::SIGKILL);
            }
            problems.push(format!(
                "server processes left behind (killed): {servers:?}"
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

impl Drop for Rig {
    /// Panics take this path.
    fn drop(&mut self) {
        if !self.cleaned {
            let _ = self.cleanup();
        }
    }
}

/// Makes `cmd` enter the network namespace `fd` between fork and exec.
fn setns_before_exec(cmd: &mut Command, fd: i32) {
    // SAFETY: only setns(2), which is async-signal-safe, runs between fork and exec;
    // `fd` stays open in the parent until the child has exec'd.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setns(fd, libc::CLONE_NEWNET) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

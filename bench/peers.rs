//! The peers measured side by side with dockernet: the shell-script baseline and,
//! when installed, netavark (reference/baselines.md).
//!
//! Everything a peer creates lives in namespaces named `dnbench-<pid>-*`: a "host"
//! namespace with its own bridge, and one namespace per container. Nothing is ever
//! created in the root namespace, so deleting those namespaces (after killing the
//! processes inside them) removes every trace, iptables rules included.

pub use crate::common::netns_with_prefix;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub type Res<T> = Result<T, String>;

/// Run a command to completion; a failure carries its stderr.
pub fn check(cmd: &mut Command) -> Res<()> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

pub fn ip(args: &[&str]) -> Res<()> {
    check(Command::new("ip").args(args))
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Container `i`'s address in 172.18.0.0/16 (.0.1 is the bridge).
fn addr(i: usize) -> String {
    let k = i + 2;
    format!("172.18.{}.{}", k / 250, k % 250)
}

/// Kill every process inside the namespaces starting with `prefix`, then delete them.
/// The safety net behind both normal teardown and Ctrl-C / crash cleanup.
pub fn purge(prefix: &str) {
    for ns in netns_with_prefix(prefix) {
        if let Ok(out) = Command::new("ip").args(["netns", "pids", &ns]).output() {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                if let Ok(pid) = pid.parse::<i32>() {
                    // SAFETY: plain kill(2) on a PID that `ip netns pids` found in our netns.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
        let _ = ip(&["netns", "del", &ns]);
    }
}

/// The shell script "peer created directly in the netns, ip -batch, 4 processes",
/// with each command a real process as the script would run it.
pub struct ShellBaseline {
    prefix: String,
    host: String,
    /// The `sleep` "containers", killed by PID at teardown.
    sleeps: Vec<Child>,
    netns: Vec<String>,
}

impl ShellBaseline {
    /// Build the baseline's host: netns with bridge docker0 172.18.0.1/16 (not timed).
    pub fn up(prefix: &str) -> Res<ShellBaseline> {
        let host = format!("{prefix}host");
        ip(&["netns", "add", &host])?;
        ip(&["-n", &host, "link", "set", "lo", "up"])?;
        ip(&["-n", &host, "link", "add", "docker0", "type", "bridge"])?;
        ip(&[
            "-n",
            &host,
            "addr",
            "add",
            "172.18.0.1/16",
            "dev",
            "docker0",
        ])?;
        ip(&["-n", &host, "link", "set", "docker0", "up"])?;
        Ok(ShellBaseline {
            prefix: prefix.into(),
            host,
            sleeps: Vec::new(),
            netns: Vec::new(),
        })
    }

    /// One container, 4 processes; returns the wall time in ms, up to the moment the
    /// `sleep` has exec'd (the same "process is running" point `dockernet run -d` waits for).
    pub fn container(&mut self, i: usize) -> Res<f64> {
        let c = format!("{}c{i}", self.prefix);
        let veth = format!("veth{i}");
        let batch = format!(
            "addr add {}/16 dev eth0\nlink set lo up\nlink set eth0 up\nroute add default via 172.18.0.1\n",
            addr(i)
        );
        let t = Instant::now();
        ip(&["netns", "add", &c])?;
        self.netns.push(c.clone());
        // `master` and `up` are accepted at creation (checked with iproute2 6.1).
        #[rustfmt::skip]
        ip(&["-n", &self.host, "link", "add", &veth, "master", "docker0", "up",
             "type", "veth", "peer", "name", "eth0", "netns", &c])?;
        let mut b = Command::new("ip")
            .args(["-n", &c, "-batch", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("ip -batch: {e}"))?;
        b.stdin
            .take()
            .expect("piped")
            .write_all(batch.as_bytes())
            .map_err(|e| format!("ip -batch stdin: {e}"))?;
        let out = b.wait_with_output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "ip -batch: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        // `ip netns exec` execs the command in place, so the PID stays the same.
        let child = Command::new("ip")
            .args(["netns", "exec", &c, "sleep", "3600"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("ip netns exec: {e}"))?;
        let pid = child.id();
        self.sleeps.push(child);
        wait_comm(pid, "sleep")?;
        Ok(ms(t))
    }

    /// The script's teardown: kill the sleeps by PID, `ip netns del` each container.
    /// Returns the time for all containers, in ms.
    pub fn down(&mut self) -> Res<f64> {
        let t = Instant::now();
        for c in &mut self.sleeps {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.sleeps.clear();
        for ns in std::mem::take(&mut self.netns) {
            ip(&["netns", "del", &ns])?;
        }
        let dt = ms(t);
        ip(&["netns", "del", &self.host])?;
        Ok(dt)
    }
}

impl Drop for ShellBaseline {
    fn drop(&mut self) {
        for c in &mut self.sleeps {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Poll (every 100 µs, not busy: two cores only) until `/proc/PID/comm` is `want`.
fn wait_comm(pid: u32, want: &str) -> Res<()> {
    let path = format!("/proc/{pid}/comm");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match std::fs::read_to_string(&path) {
            Ok(s) if s.trim_end() == want => return Ok(()),
            Ok(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_micros(100)),
            _ => return Err(format!("process {pid} never became `{want}`")),
        }
    }
}

/// netavark 1.4 (Debian's), run the way podman runs it: from inside the host
/// namespace (entered with setns between fork and exec, no extra nsenter process),
/// one bridge `nvbr0`, a static IP per container, no port mapping (like `run -d`
/// without `-p` on the dockernet side).
pub struct Netavark {
    bin: PathBuf,
    prefix: String,
    host: String,
    host_fd: File,
    dir: PathBuf,
    netns: Vec<(String, PathBuf)>,
}

impl Netavark {
    /// Where Debian installs it; None if not installed.
    pub fn find() -> Option<PathBuf> {
        let p = PathBuf::from("/usr/lib/podman/netavark");
        p.exists().then_some(p)
    }

    pub fn up(bin: PathBuf, prefix: &str) -> Res<Netavark> {
        let host = format!("{prefix}nvhost");
        ip(&["netns", "add", &host])?;
        ip(&["-n", &host, "link", "set", "lo", "up"])?;
        let host_fd = File::open(format!("/run/netns/{host}")).map_err(|e| e.to_string())?;
        let dir = std::env::temp_dir().join(format!("{prefix}netavark"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        Ok(Netavark {
            bin,
            prefix: prefix.into(),
            host,
            host_fd,
            dir,
            netns: Vec::new(),
        })
    }

    /// `netavark setup|teardown /run/netns/NS` inside the host namespace.
    fn netavark(&self, verb: &str, cfg: &PathBuf, ns: &str) -> Res<()> {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--config")
            .arg(&self.dir)
            .arg("-f")
            .arg(cfg)
            .args([verb, &format!("/run/netns/{ns}")]);
        let fd = self.host_fd.as_raw_fd();
        // SAFETY: setns(2) only, which is async-signal-safe, between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(fd, libc::CLONE_NEWNET) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        check(&mut cmd)
    }

    /// `ip netns add` + `netavark setup` for container `i`; ms.
    pub fn container(&mut self, i: usize) -> Res<f64> {
        self.container_published(i, None)
    }

    /// Like [`Netavark::container`], with `host_port` → 80/tcp published when given
    /// (netavark's iptables DNAT chains, as `podman run -p`).
    pub fn container_published(&mut self, i: usize, host_port: Option<u16>) -> Res<f64> {
        let ns = format!("{}nv{i}", self.prefix);
        let cfg = self.dir.join(format!("c{i}.json"));
        std::fs::write(&cfg, config(i, host_port)).map_err(|e| e.to_string())?;
        let t = Instant::now();
        ip(&["netns", "add", &ns])?;
        self.netns.push((ns.clone(), cfg.clone()));
        self.netavark("setup", &cfg, &ns)?;
        Ok(ms(t))
    }

    /// `netavark teardown` + `ip netns del` for every container; total ms.
    pub fn down(&mut self) -> Res<f64> {
        let t = Instant::now();
        for (ns, cfg) in std::mem::take(&mut self.netns) {
            self.netavark("teardown", &cfg, &ns)?;
            ip(&["netns", "del", &ns])?;
        }
        let dt = ms(t);
        ip(&["netns", "del", &self.host])?;
        Ok(dt)
    }
}

impl Drop for Netavark {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// netavark's network config for container `i` (shape from reference/baselines.md).
fn config(i: usize, host_port: Option<u16>) -> String {
    let ports = host_port
        .map(|p| {
            format!(
                r#"{{"host_ip":"","container_port":80,"host_port":{p},"range":1,"protocol":"tcp"}}"#
            )
        })
        .unwrap_or_default();
    format!(
        r#"{{"container_id":"{:064x}","container_name":"nv{i}","port_mappings":[{ports}],
"networks":{{"net":{{"static_ips":["{}"],"aliases":["nv{i}"],"interface_name":"eth0"}}}},
"network_info":{{"net":{{"name":"net","id":"{:064x}","driver":"bridge","network_interface":"nvbr0",
"subnets":[{{"subnet":"172.18.0.0/16","gateway":"172.18.0.1"}}],"ipv6_enabled":false,
"internal":false,"dns_enabled":false,"ipam_options":{{"driver":"host-local"}}}}}}}}"#,
        i + 1,
        addr(i),
        0xdbu8
    )
}

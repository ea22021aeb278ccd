//! The DNS benchmark's rig: the peers' namespaces and servers (aardvark-dns, dnsmasq),
//! the load generator (dnsperf) and the bench's own one-query-at-a-time client, each
//! run inside a client namespace, and the servers' memory and CPU from /proc.
//!
//! Every peer gets two namespaces of its own, `dndns-<pid>-<tag>srv` (a bridge `br0`
//! holding the network's gateway address, the server listening there) and
//! `dndns-<pid>-<tag>cli` (`eth0` with c1's address, on that bridge through a veth):
//! the shape of a container asking the DNS server on its bridge's gateway, as podman's
//! containers ask aardvark-dns. Nothing is created in the root namespace.

use crate::peers::{Res, ip};
use std::fs::File;
use std::net::{Ipv4Addr, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The names every server knows: the containers of the dockernet network, c1 first
/// (c1 is the one that asks).
pub struct Names {
    /// The network's gateway (the peers' server address) and prefix length.
    pub gateway: Ipv4Addr,
    pub prefix: u8,
    /// (name, container id, address), in the order c1, c2, … c100.
    pub hosts: Vec<(String, String, Ipv4Addr)>,
}

impl Names {
    /// dnsperf's input: one `NAME A` line per container.
    pub fn query_file(&self, path: &Path) -> Res<()> {
        let text: String = self.hosts.iter().map(|h| format!("{} A\n", h.0)).collect();
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// A DNS server under test, and where its client asks it from.
pub struct Server {
    /// "ours", "aardvark-dns", "dnsmasq".
    pub label: &'static str,
    /// The namespace the client tools run in.
    pub client_ns: String,
    /// The address the client sends to.
    pub addr: Ipv4Addr,
    /// The server process, for its memory and CPU (None: not found).
    pub pid: Option<i32>,
    /// dnsmasq runs in the foreground: ours to kill.
    pub child: Option<Child>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `cmd` will enter network namespace `ns` between fork and exec (one setns(2), no
/// `ip netns exec` process, no /sys remount).
fn in_netns(cmd: &mut Command, ns: &str) -> Res<File> {
    let f = File::open(format!("/run/netns/{ns}")).map_err(|e| format!("netns {ns}: {e}"))?;
    let fd = f.as_raw_fd();
    // SAFETY: setns(2) only, which is async-signal-safe, between fork and exec; the
    // file stays open in the caller until the child is spawned.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setns(fd, libc::CLONE_NEWNET) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok(f)
}

/// One peer's two namespaces: the server side with the bridge, the client side.
pub fn peer_net(prefix: &str, tag: &str, names: &Names) -> Res<(String, String)> {
    let (srv, cli) = (format!("{prefix}{tag}srv"), format!("{prefix}{tag}cli"));
    let gw = format!("{}/{}", names.gateway, names.prefix);
    let c1 = format!("{}/{}", names.hosts[0].2, names.prefix);
    ip(&["netns", "add", &srv])?;
    ip(&["netns", "add", &cli])?;
    ip(&["-n", &srv, "link", "set", "lo", "up"])?;
    ip(&["-n", &cli, "link", "set", "lo", "up"])?;
    ip(&["-n", &srv, "link", "add", "br0", "type", "bridge"])?;
    ip(&["-n", &srv, "addr", "add", &gw, "dev", "br0"])?;
    ip(&["-n", &srv, "link", "set", "br0", "up"])?;
    #[rustfmt::skip]
    ip(&["-n", &srv, "link", "add", "veth0", "master", "br0", "up",
         "type", "veth", "peer", "name", "eth0", "netns", &cli])?;
    ip(&["-n", &cli, "addr", "add", &c1, "dev", "eth0"])?;
    ip(&["-n", &cli, "link", "set", "eth0", "up"])?;
    Ok((srv, cli))
}

/// aardvark-dns 1.4 as netavark starts it: a config directory with one file per
/// network, named after it: the first line is the address(es) to listen on (the
/// bridge's gateway), then one line per container, `ID IPV4 IPV6 NAMES` (IPV6 empty,
/// names comma-separated). aardvark answers only askers listed there (it scopes
/// answers by the source address), hence c1's line. `run` forks: the parent exits
/// once the child listens, and the child writes its PID to `aardvark.pid` there.
pub fn start_aardvark(bin: &Path, dir: &Path, srv: &str, cli: &str, n: &Names) -> Res<Server> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut cfg = format!("{}\n", n.gateway);
    for (name, id, addr) in &n.hosts {
        cfg.push_str(&format!("{id} {addr}  {name}\n"));
    }
    std::fs::write(dir.join("dnsbench"), cfg).map_err(|e| format!("aardvark config: {e}"))?;
    // Not `output()`: the forked server keeps the pipes open, so no EOF would come.
    // Beside the config directory, not in it: aardvark parses every file there.
    let log = dir.with_extension("log");
    let err = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut cmd = Command::new(bin);
    cmd.arg("--config")
        .arg(dir)
        .args(["-p", "53", "run"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err);
    let _ns = in_netns(&mut cmd, srv)?;
    let st = cmd
        .status()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    if !st.success() {
        let why = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(format!("aardvark-dns run failed ({st}): {}", why.trim()));
    }
    let pid = std::fs::read_to_string(dir.join("aardvark.pid"))
        .ok()
        .and_then(|s| s.trim().parse().ok());
    if pid.is_none() {
        return Err(format!("aardvark-dns wrote no PID to {}", dir.display()));
    }
    Ok(Server {
        label: "aardvark-dns",
        client_ns: cli.into(),
        addr: n.gateway,
        pid,
        child: None,
    })
}

/// dnsmasq with exactly these names and nothing else: no upstream (`--no-resolv`), no
/// /etc/hosts, the names from an hosts file, bound to the gateway address only, in
/// the foreground so that its PID is the child's. `--user=root`: Debian's
/// dnsmasq-base has no `dnsmasq` user to drop to.
pub fn start_dnsmasq(bin: &Path, hosts: &Path, srv: &str, cli: &str, n: &Names) -> Res<Server> {
    let text: String = n
        .hosts
        .iter()
        .map(|h| format!("{} {}\n", h.2, h.0))
        .collect();
    std::fs::write(hosts, text).map_err(|e| format!("{}: {e}", hosts.display()))?;
    let mut cmd = Command::new(bin);
    cmd.args(["--keep-in-foreground", "--no-resolv", "--no-hosts"])
        .arg(format!("--addn-hosts={}", hosts.display()))
        .arg(format!("--listen-address={}", n.gateway))
        .args([
            "--bind-interfaces",
            "--port=53",
            "--user=root",
            "--group=root",
        ])
        .args(["--pid-file=", "--log-facility=-"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _ns = in_netns(&mut cmd, srv)?;
    let child = cmd.spawn().map_err(|e| format!("dnsmasq: {e}"))?;
    Ok(Server {
        label: "dnsmasq",
        client_ns: cli.into(),
        addr: n.gateway,
        pid: Some(child.id() as i32),
        child: Some(child),
    })
}

/// The query for `name` A with id `id`, recursion desired (as dnsperf and libc send).
fn query(id: u16, name: &str) -> Res<Vec<u8>> {
    use simple_dns::{CLASS, Name, Packet, PacketFlag, Question, TYPE};
    let mut p = Packet::new_query(id);
    p.set_flags(PacketFlag::RECURSION_DESIRED);
    let qname = Name::new(name).map_err(|e| format!("name {name}: {e}"))?;
    p.questions.push(Question::new(
        qname,
        TYPE::A.into(),
        CLASS::IN.into(),
        false,
    ));
    p.build_bytes_vec()
        .map_err(|e| format!("query {name}: {e}"))
}

/// True if `buf` answers query `id` with NOERROR and the A record `want`.
fn answers(buf: &[u8], id: u16, want: Ipv4Addr) -> bool {
    use simple_dns::{Packet, RCODE, rdata::RData};
    let Ok(p) = Packet::parse(buf) else {
        return false;
    };
    p.id() == id
        && p.rcode() == RCODE::NoError
        && p.answers
            .iter()
            .any(|rr| matches!(&rr.rdata, RData::A(a) if a.address == u32::from(want)))
}

/// What the one-at-a-time client saw: round trips (µs) of the good answers, and how
/// many queries got a wrong answer or none within the timeout.
#[derive(Default)]
pub struct Lat {
    pub us: Vec<f64>,
    pub bad: usize,
    pub lost: usize,
}

/// Run `f` on a thread of its own that has entered network namespace `ns`: the
/// sockets it opens belong to that namespace (setns only moves the calling thread).
fn on_thread_in<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> Res<T> + Send + 'static,
) -> Res<T> {
    let file = File::open(format!("/run/netns/{ns}")).map_err(|e| format!("netns {ns}: {e}"))?;
    std::thread::spawn(move || {
        // SAFETY: setns(2) on this thread only, with a namespace file we hold open.
        if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } < 0 {
            return Err(format!("setns: {}", std::io::Error::last_os_error()));
        }
        drop(file);
        f()
    })
    .join()
    .map_err(|_| "the client thread panicked".to_string())?
}

/// One query at a time from `s.client_ns`: send, wait for the answer, check it,
/// repeat `n` times over the names in turn, after `warm` uncounted ones. With `pin`,
/// the client thread and every thread of the server run on that one CPU meanwhile.
pub fn latency(s: &Server, names: &Names, n: usize, warm: usize, pin: Option<usize>) -> Res<Lat> {
    let hosts: Vec<(String, Ipv4Addr)> = names.hosts.iter().map(|h| (h.0.clone(), h.2)).collect();
    let addr = s.addr;
    // Put back when this returns (drop), also on error.
    let _pinned = match pin {
        Some(cpu) => Some(
            crate::dp_affinity::Pinned::pin(s.pid, cpu)
                .map_err(|e| format!("pinning {} to CPU {cpu}: {e}", s.label))?,
        ),
        None => None,
    };
    on_thread_in(&s.client_ns, move || {
        if let Some(cpu) = pin {
            // SAFETY: a zeroed cpu_set_t with one bit set; 0 is this thread.
            let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            unsafe { libc::CPU_SET(cpu, &mut one) };
            if unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&one), &one) } != 0 {
                return Err(format!(
                    "pinning the client: {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
        let sock = UdpSocket::bind("0.0.0.0:0").map_err(|e| format!("bind: {e}"))?;
        sock.connect((addr, 53))
            .map_err(|e| format!("connect {addr}: {e}"))?;
        sock.set_read_timeout(Some(Duration::from_millis(500)))
            .map_err(|e| e.to_string())?;
        let mut lat = Lat {
            us: Vec::with_capacity(n),
            ..Lat::default()
        };
        let mut buf = [0u8; 1500];
        for i in 0..warm + n {
            let (name, want) = &hosts[i % hosts.len()];
            let id = (i % 65536) as u16;
            let q = query(id, name)?;
            let t = Instant::now();
            sock.send(&q).map_err(|e| format!("send to {addr}: {e}"))?;
            // Late answers to earlier (lost) queries carry another id: skip them.
            let got = loop {
                match sock.recv(&mut buf) {
                    Ok(len) if buf[..len.min(2)] == id.to_be_bytes() => break Some(len),
                    Ok(_) => continue,
                    Err(_) => break None,
                }
            };
            let us = t.elapsed().as_secs_f64() * 1e6;
            if i < warm {
                continue;
            }
            match got {
                Some(len) if answers(&buf[..len], id, *want) => lat.us.push(us),
                Some(_) => lat.bad += 1,
                None => lat.lost += 1,
            }
        }
        Ok(lat)
    })
}

/// Does `s` answer `name` A with `want` (3 tries, 300 ms each)?
pub fn probe(s: &Server, name: &str, want: Ipv4Addr) -> bool {
    let (addr, name) = (s.addr, name.to_string());
    on_thread_in(&s.client_ns, move || {
        let sock = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
        sock.connect((addr, 53)).map_err(|e| e.to_string())?;
        sock.set_read_timeout(Some(Duration::from_millis(300)))
            .map_err(|e| e.to_string())?;
        let mut buf = [0u8; 1500];
        for id in 1..=3u16 {
            // A refused port (nothing listening yet) fails the send or the recv.
            if sock.send(&query(id, &name)?).is_err() {
                std::thread::sleep(Duration::from_millis(300));
                continue;
            }
            if let Ok(len) = sock.recv(&mut buf)
                && answers(&buf[..len], id, want)
            {
                return Ok(true);
            }
        }
        Ok(false)
    })
    .unwrap_or(false)
}

/// Wait until `s` answers (dnsmasq binds a moment after it starts), at most 5 s.
pub fn wait_ready(s: &Server, name: &str, want: Ipv4Addr) -> Res<()> {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(5) {
        if probe(s, name, want) {
            return Ok(());
        }
    }
    Err(format!(
        "{} does not answer `{name} A` on {}:53",
        s.label, s.addr
    ))
}

/// One dnsperf run: queries/s, average latency (µs), queries sent / lost, answers
/// other than NOERROR, and the server's CPU time in that run (% of one core).
#[derive(Clone, Copy, Debug, Default)]
pub struct Perf {
    pub qps: f64,
    pub avg_us: f64,
    pub sent: u64,
    pub lost: u64,
    pub not_noerror: u64,
    pub cpu_pct: f64,
}

/// The number after `key` on its line of dnsperf's report.
fn field(out: &str, key: &str) -> Option<f64> {
    let line = out.lines().find(|l| l.trim_start().starts_with(key))?;
    line.trim_start()[key.len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `dnsperf -s ADDR -d QFILE -l SECS -q 100` inside `s.client_ns`: one client socket,
/// at most 100 queries outstanding, cycling through the names for SECS seconds.
pub fn dnsperf(s: &Server, qfile: &Path, secs: u32) -> Res<Perf> {
    let mut cmd = Command::new("dnsperf");
    cmd.args(["-s", &s.addr.to_string(), "-d"])
        .arg(qfile)
        .args(["-l", &secs.to_string(), "-q", "100", "-c", "1", "-t", "2"]);
    let _ns = in_netns(&mut cmd, &s.client_ns)?;
    let cpu0 = s.pid.and_then(cpu_ticks);
    let t = Instant::now();
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("dnsperf: {e}"))?;
    let wall = t.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "dnsperf against {} failed ({}): {}",
            s.label,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let get = |k| field(&text, k).ok_or(format!("dnsperf printed no `{k}`"));
    let completed = get("Queries completed:")? as u64;
    // "Response codes:       NOERROR 62233 (100.00%), NXDOMAIN …"
    let noerror = text
        .lines()
        .find(|l| l.trim_start().starts_with("Response codes:"))
        .and_then(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let i = w.iter().position(|x| *x == "NOERROR")?;
            w.get(i + 1)?.parse::<u64>().ok()
        })
        .unwrap_or(0);
    let cpu_pct = match (cpu0, s.pid.and_then(cpu_ticks)) {
        (Some(a), Some(b)) => (b - a) as f64 / clk_tck() / wall * 100.0,
        _ => f64::NAN,
    };
    Ok(Perf {
        qps: get("Queries per second:")?,
        avg_us: get("Average Latency (s):")? * 1e6,
        sent: get("Queries sent:")? as u64,
        lost: get("Queries lost:")? as u64,
        not_noerror: completed.saturating_sub(noerror),
        cpu_pct,
    })
}

fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }) as f64
}

/// utime + stime of every thread of `pid`, in clock ticks (/proc/PID/stat 14 and 15).
fn cpu_ticks(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces: the fields start after its closing paren.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// (VmRSS, VmHWM) of `pid` in KiB.
pub fn rss_kib(pid: i32) -> Option<(u64, u64)> {
    let st = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |k: &str| -> Option<u64> {
        let l = st.lines().find(|l| l.starts_with(k))?;
        l[k.len()..].split_whitespace().next()?.parse().ok()
    };
    Some((kib("VmRSS:")?, kib("VmHWM:")?))
}

/// Field 22 of /proc/PID/stat: when it started, in clock ticks since boot.
fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The lab's resolver process. Its record: `"resolver": {"pid", "start_time"}` in
/// `/run/dockernet/LAB/lab.json` (a ProcRef, checked against /proc so that a recycled
/// PID is not measured). Failing that, a process whose `DOCKERNET_OWNER` is the lab's
/// directory and whose command line says `dockernet-dns` or `resolver`: the one process per lab.
pub fn resolver_pid(lab: &str) -> Option<i32> {
    let dir = PathBuf::from(format!("/run/dockernet/{lab}"));
    if let Some(r) = std::fs::read_to_string(dir.join("lab.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .and_then(|v| v.get("resolver").cloned())
    {
        let pid = r.get("pid").and_then(|p| p.as_i64()).map(|p| p as i32);
        let start = r.get("start_time").and_then(|s| s.as_u64());
        if let Some(pid) = pid
            && start.is_none_or(|s| start_time(pid) == Some(s))
        {
            return Some(pid);
        }
    }
    let owner = format!("DOCKERNET_OWNER={}", dir.display());
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .find(|pid| {
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let owned = env
                .split(|b| *b == 0)
                .any(|kv| kv == owner.as_bytes() || kv.starts_with(format!("{owner}/").as_bytes()));
            let cmd = String::from_utf8_lossy(&cmd);
            owned && (cmd.contains("dockernet-dns") || cmd.contains("resolver"))
        })
}

//! `cargo bench --bench dns [-- --quick]`: the lab's embedded DNS resolver (127.0.0.11
//! inside every container on a user-defined network) side by side with Debian's
//! aardvark-dns and dnsmasq serving the same names. See bench/README.md. Needs root and
//! dnsperf; builds nothing: it runs `target/release/dockernet`.
//!
//! One lab `dns_<pid>` with a network of 100 containers c1…c100; c1 asks. The peers get
//! the same names and addresses on a bridge gateway in namespaces of their own
//! (`dndns-<pid>-*`). Per round, in an order that rotates: dnsperf with 100 queries
//! outstanding against each server, then the bench's own one-query-at-a-time client.
//! Then each server's memory. Everything is removed at the end, also on failure or
//! Ctrl-C.

mod common;
mod dns_report;
mod dns_rig;
mod dp_affinity;
#[allow(dead_code)] // the lab benchmark's peers; this one uses `purge` and `ip` only
mod peers;

use dns_report::{Measured, Report};
use dns_rig::{Names, Server};
use peers::{Res, netns_with_prefix, purge};
use serde_json::Value;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Containers on the network (the names every server knows).
const CONTAINERS: usize = 100;
/// Where Debian puts aardvark-dns (package aardvark-dns) and dnsmasq (dnsmasq-base).
const AARDVARK: &str = "/usr/lib/podman/aardvark-dns";
const DNSMASQ: &str = "/usr/sbin/dnsmasq";

/// Rounds, seconds per dnsperf run, one-at-a-time queries per server and round.
#[derive(Clone, Copy)]
pub struct Plan {
    pub rounds: usize,
    pub secs: u32,
    pub queries: usize,
}

const FULL: Plan = Plan {
    rounds: 3,
    secs: 5,
    queries: 5000,
};
const QUICK: Plan = Plan {
    rounds: 1,
    secs: 2,
    queries: 2000,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("usage: cargo bench --bench dns [-- --quick]");
        return ExitCode::SUCCESS;
    }
    // Cargo passes `--bench` under `cargo bench` only: `cargo test --all-targets` must
    // not set off a root-only benchmark.
    if !args.iter().any(|a| a == "--bench") {
        eprintln!("dns bench: skipped (run it with `cargo bench --bench dns`)");
        return ExitCode::SUCCESS;
    }
    let plan = if args.iter().any(|a| a == "--quick") {
        QUICK
    } else {
        FULL
    };
    match main_inner(plan) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dns bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main_inner(plan: Plan) -> Res<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("needs root (network namespaces): run it with sudo".into());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dn = std::env::var_os("DOCKERNET_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/dockernet"));
    if !dn.exists() {
        return Err(format!(
            "{} not found: run `cargo build --release` first",
            dn.display()
        ));
    }
    if sh("dnsperf", &["-h"]).is_empty() {
        return Err(
            "dnsperf not found: `apt-get install -y dnsperf` (or `sudo ./dev bench`)".into(),
        );
    }
    common::catch_stop_signals();
    remove_stale(&dn);
    let pid = std::process::id();
    let mut b = Bench {
        dn,
        lab: format!("dns_{pid}"),
        prefix: format!("dndns-{pid}-"),
        tmp: std::env::temp_dir().join(format!("dndns-{pid}")),
        servers: Vec::new(),
    };
    let head = header(&b.dn, &plan);
    let t = std::time::Instant::now();
    let outcome = b.all(plan);
    let leaks = b.cleanup();
    let report = outcome?;
    leaks?;
    eprintln!("dns bench: done in {:.0} s", t.elapsed().as_secs_f64());
    print!("{head}");
    print!("{}", report.table());
    Ok(())
}

/// stdout and stderr of a command, trimmed ("" if it cannot run).
fn sh(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .map(|o| {
            let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
            s.push_str(&String::from_utf8_lossy(&o.stderr));
            s.trim().to_string()
        })
        .unwrap_or_default()
}

/// The servers' versions ("" when not installed).
fn versions() -> (String, String) {
    let aa = sh(AARDVARK, &["--version"]);
    let aa = aa.lines().find(|l| l.starts_with("aardvark")).unwrap_or("");
    // "Dnsmasq version 2.90  Copyright (c) …"
    let dm = sh(DNSMASQ, &["--version"]);
    let dm = dm
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(2))
        .map(|v| format!("dnsmasq {v}"))
        .unwrap_or_default();
    (aa.to_string(), dm)
}

/// The machine and the plan, above the table.
fn header(dn: &Path, p: &Plan) -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let dnsperf = sh("dnsperf", &["-h"]);
    let dnsperf = dnsperf
        .lines()
        .find_map(|l| l.strip_prefix("Version "))
        .unwrap_or("?");
    let (aa, dm) = versions();
    format!(
        "\n{}, kernel {}, {} CPUs, load {} at start; {CONTAINERS} containers; {} round(s), \
         each: dnsperf {dnsperf} ({} s, 100 outstanding) and 2 × {} one-at-a-time queries \
         (any CPU, one CPU) per server; peers: {}, {}\n\n",
        sh(&dn.display().to_string(), &["--version"]),
        sh("uname", &["-r"]),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        p.rounds,
        p.secs,
        p.queries,
        if aa.is_empty() {
            "aardvark-dns not installed"
        } else {
            &aa
        },
        if dm.is_empty() {
            "dnsmasq not installed"
        } else {
            &dm
        },
    )
}

/// Labs, namespaces and files left by a run that was killed (its PID is gone).
fn remove_stale(dn: &Path) {
    let dead_pid = |name: &str, prefix: &str| {
        let pid: String = name[prefix.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let gone = !pid.is_empty() && !Path::new(&format!("/proc/{pid}")).exists();
        gone.then_some(pid)
    };
    let mut labs: Vec<String> = netns_with_prefix("dn-dns_")
        .iter()
        .filter_map(|ns| dead_pid(ns, "dn-dns_"))
        .collect();
    labs.dedup();
    for pid in labs {
        eprintln!("dns bench: removing stale lab dns_{pid}");
        let _ = common::dockernet_timed(dn, &format!("dns_{pid}"), &["lab", "down"]);
    }
    for ns in netns_with_prefix("dndns-") {
        if let Some(pid) = dead_pid(&ns, "dndns-")
            && !netns_with_prefix(&format!("dndns-{pid}-")).is_empty()
        {
            eprintln!("dns bench: removing stale namespaces dndns-{pid}-*");
            purge(&format!("dndns-{pid}-"));
        }
    }
    for e in std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("dndns-") && dead_pid(&name, "dndns-").is_some() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

struct Bench {
    dn: PathBuf,
    lab: String,
    /// `dndns-<pid>-`: every namespace of the peers.
    prefix: String,
    /// `<tmp>/dndns-<pid>`: query file, aardvark's config, dnsmasq's hosts file.
    tmp: PathBuf,
    servers: Vec<Server>,
}

impl Bench {
    /// `dockernet --lab LAB ARGS`: stdout.
    fn dn(&self, args: &[&str]) -> Res<String> {
        if common::stopping() {
            return Err("interrupted".into());
        }
        Ok(common::dockernet_timed(&self.dn, &self.lab, args)?.1)
    }

    /// The lab, its network and containers, the servers; then the rounds.
    fn all(&mut self, p: Plan) -> Res<Report> {
        std::fs::create_dir_all(&self.tmp).map_err(|e| format!("{}: {e}", self.tmp.display()))?;
        let busy0 = common::busy_processes();
        eprintln!(
            "dns bench: lab {}, network dnsbench, {CONTAINERS} containers",
            self.lab
        );
        self.dn(&["lab", "up"])?;
        self.dn(&["network", "create", "dnsbench"])?;
        for i in 1..=CONTAINERS {
            let name = format!("c{i}");
            #[rustfmt::skip]
            self.dn(&["run", "-d", "--name", &name, "--net", "dnsbench", "busybox", "sleep", "3600"])?;
        }
        let names = self.names()?;
        let mut rep = Report {
            busy: busy0,
            ..Report::default()
        };
        self.servers = self.start_servers(&names, &mut rep.notes)?;
        let qfile = self.tmp.join("queries.txt");
        names.query_file(&qfile)?;
        rep.measured = self
            .servers
            .iter()
            .map(|s| Measured::new(s.label))
            .collect();
        let n = self.servers.len();
        let last_cpu = std::thread::available_parallelism().map_or(1, |c| c.get()) - 1;
        for r in 0..p.rounds {
            eprintln!("dns bench: round {} of {}", r + 1, p.rounds);
            rep.busy = rep.busy.max(common::busy_processes());
            for k in (0..n).map(|j| (j + r) % n) {
                if common::stopping() {
                    return Err("interrupted".into());
                }
                let perf = dns_rig::dnsperf(&self.servers[k], &qfile, p.secs)?;
                rep.measured[k].perf.push(perf);
            }
            for k in (0..n).map(|j| (j + r + 1) % n) {
                // Any CPU, then all on the last CPU (no pinning without the server's PID).
                let s = &self.servers[k];
                let pins = std::iter::once(None).chain(s.pid.map(|_| Some(last_cpu)));
                for pin in pins {
                    if common::stopping() {
                        return Err("interrupted".into());
                    }
                    let lat = dns_rig::latency(s, &names, p.queries, 200, pin)?;
                    let m = &mut rep.measured[k];
                    match pin {
                        None => m.lat.extend(lat.us),
                        Some(_) => m.lat1.extend(lat.us),
                    }
                    m.bad += lat.bad;
                    m.lost += lat.lost;
                }
            }
        }
        for (m, s) in rep.measured.iter_mut().zip(&self.servers) {
            m.rss = s.pid.and_then(dns_rig::rss_kib);
        }
        rep.busy = rep.busy.max(common::busy_processes());
        rep.load_end = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        Ok(rep)
    }

    /// The network's gateway and containers from `network inspect`, c1 … c100.
    fn names(&self) -> Res<Names> {
        let out = self.dn(&["network", "inspect", "dnsbench"])?;
        let v: Value = serde_json::from_str(&out).map_err(|e| format!("network inspect: {e}"))?;
        let net = &v[0];
        let cfg = &net["IPAM"]["Config"][0];
        let gateway: Ipv4Addr = cfg["Gateway"]
            .as_str()
            .and_then(|g| g.parse().ok())
            .ok_or("network inspect: no IPv4 gateway")?;
        let prefix: u8 = cfg["Subnet"]
            .as_str()
            .and_then(|s| s.split('/').nth(1)?.parse().ok())
            .ok_or("network inspect: no subnet")?;
        let mut hosts = Vec::new();
        for (id, c) in net["Containers"].as_object().into_iter().flatten() {
            let name = c["Name"].as_str().unwrap_or_default().to_string();
            let addr: Ipv4Addr = c["IPv4Address"]
                .as_str()
                .and_then(|a| a.split('/').next()?.parse().ok())
                .ok_or(format!("network inspect: no address for {name}"))?;
            hosts.push((name, id.clone(), addr));
        }
        // c1 first (the asker), then by number.
        hosts.sort_by_key(|h| h.0[1..].parse::<usize>().unwrap_or(usize::MAX));
        if hosts.len() != CONTAINERS || hosts[0].0 != "c1" {
            return Err(format!(
                "network inspect lists {} containers, expected c1…c{CONTAINERS}",
                hosts.len()
            ));
        }
        Ok(Names {
            gateway,
            prefix,
            hosts,
        })
    }

    /// Ours (if it answers), aardvark-dns and dnsmasq (if installed), each checked with
    /// one query for c2 before anything is timed. `notes` says what was skipped, and why.
    fn start_servers(&self, names: &Names, notes: &mut Vec<String>) -> Res<Vec<Server>> {
        let (c2, c2_addr) = (&names.hosts[1].0, names.hosts[1].2);
        let mut v = Vec::new();
        let mut ours = Server {
            label: "ours",
            client_ns: format!("dn-{}-ctr-c1", self.lab),
            addr: Ipv4Addr::new(127, 0, 0, 11),
            pid: None,
            child: None,
        };
        if dns_rig::probe(&ours, c2, c2_addr) {
            ours.pid = dns_rig::resolver_pid(&self.lab);
            if ours.pid.is_none() {
                notes.push("ours: the resolver answers, but its process was not found (no `resolver` in lab.json): no memory figure".into());
            }
            v.push(ours);
        } else {
            let msg = format!(
                "ours: skipped — nothing answers `{c2} A` on 127.0.0.11:53 in {} (is the embedded resolver built?)",
                ours.client_ns
            );
            eprintln!("dns bench: {msg}");
            notes.push(msg);
        }
        if Path::new(AARDVARK).exists() {
            let (srv, cli) = dns_rig::peer_net(&self.prefix, "aa", names)?;
            let dir = self.tmp.join("aardvark");
            let s = dns_rig::start_aardvark(Path::new(AARDVARK), &dir, &srv, &cli, names)?;
            dns_rig::wait_ready(&s, c2, c2_addr)?;
            v.push(s);
        } else {
            notes.push(format!("aardvark-dns: skipped — {AARDVARK} not installed (`apt-get install -y aardvark-dns`)"));
        }
        if Path::new(DNSMASQ).exists() {
            let (srv, cli) = dns_rig::peer_net(&self.prefix, "dm", names)?;
            let hosts = self.tmp.join("dnsmasq.hosts");
            let s = dns_rig::start_dnsmasq(Path::new(DNSMASQ), &hosts, &srv, &cli, names)?;
            dns_rig::wait_ready(&s, c2, c2_addr)?;
            v.push(s);
        } else {
            notes.push(format!(
                "dnsmasq: skipped — {DNSMASQ} not installed (`apt-get install -y dnsmasq-base`)"
            ));
        }
        if v.is_empty() {
            return Err("no DNS server to measure".into());
        }
        Ok(v)
    }

    /// Remove our lab, the peers' servers and namespaces and our files, whatever state a
    /// failure left them in; then check that nothing of ours is left.
    fn cleanup(&mut self) -> Res<()> {
        // dnsmasq is our child: killed and reaped by its Server's drop.
        self.servers.clear();
        let _ = common::dockernet_timed(&self.dn, &self.lab, &["lab", "down"]);
        // aardvark-dns forked away from us: it is killed with everything else that
        // runs in the peers' namespaces.
        purge(&self.prefix);
        let _ = std::fs::remove_dir_all(&self.tmp);
        let mut left = netns_with_prefix(&self.prefix);
        left.extend(netns_with_prefix(&format!("dn-{}-", self.lab)));
        if !left.is_empty() {
            return Err(format!("namespaces left behind: {}", left.join(" ")));
        }
        Ok(())
    }
}

impl Drop for Bench {
    /// Panics take this path; `cleanup` is idempotent.
    fn drop(&mut self) {
        if !netns_with_prefix(&self.prefix).is_empty()
            || !netns_with_prefix(&format!("dn-{}-", self.lab)).is_empty()
        {
            let _ = self.cleanup();
        }
    }
}

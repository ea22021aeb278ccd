//! Observers of kernel state for the tests: links as `ip -o link` prints them, lab
//! namespaces, processes (alive by pid + start time, or found by what they mention),
//! mounts, and a snapshot of the root network namespace.

use super::{cmd, cmd_ok, ip, stdout};

/// One network interface as `ip -o link` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Name without `@ifN`.
    pub name: String,
    /// N of `@ifN` (the peer's index, in the peer's namespace).
    pub peer_index: Option<u32>,
    /// The whole line.
    pub line: String,
}

impl Link {
    /// `master BRIDGE`, if any.
    pub fn master(&self) -> Option<String> {
        let w: Vec<&str> = self.line.split_whitespace().collect();
        w.windows(2)
            .find(|p| p[0] == "master")
            .map(|p| p[1].to_string())
    }
    /// The MAC address (`link/ether X`).
    pub fn mac(&self) -> Option<String> {
        let w: Vec<&str> = self.line.split_whitespace().collect();
        w.windows(2)
            .find(|p| p[0] == "link/ether")
            .map(|p| p[1].to_string())
    }
}

/// Parse `ip -o link` lines.
pub fn parse_links(text: &str) -> Vec<Link> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (idx, rest) = l.split_once(": ").expect("ip -o link line: `N: name...`");
            let full = rest.split(": ").next().unwrap_or("");
            let (name, peer) = match full.split_once("@if") {
                Some((n, p)) => (n.to_string(), p.parse().ok()),
                None => (full.split('@').next().unwrap_or(full).to_string(), None),
            };
            Link {
                index: idx.trim().parse().expect("link index"),
                name,
                peer_index: peer,
                line: l.to_string(),
            }
        })
        .collect()
}

/// The links of a namespace.
pub fn links(ns: &str) -> Vec<Link> {
    parse_links(&ip(ns, &["-o", "link"]))
}

/// Names of the `dn-` namespaces of one lab, as `ip netns list` shows them.
pub fn lab_namespaces(lab: &str) -> Vec<String> {
    let prefix = format!("dn-{lab}-");
    let mut v: Vec<String> = cmd_ok("ip", &["netns", "list"])
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(&prefix))
        .map(String::from)
        .collect();
    v.sort();
    v
}

/// Field 3 (state) and field 22 (start time) of /proc/PID/stat.
fn proc_stat(pid: i64) -> Option<(char, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some((f.first()?.chars().next()?, f.get(19)?.parse().ok()?))
}

/// True while this very process (same start time) exists and is not a zombie. (PID 1 of
/// a test machine may not reap orphans, so a dead process can linger as a zombie.)
pub fn proc_alive(pid: i64, start_time: u64) -> bool {
    matches!(proc_stat(pid), Some((st, t)) if t == start_time && st != 'Z' && st != 'X')
}

/// Live (non-zombie) processes whose environment, command line or open files mention
/// `needle`. Every container process of a lab has the lab directory in its PATH and the
/// world's web server has its log open there, so this finds them even when dockernet
/// has lost track of them (or their namespace is gone).
pub fn processes_mentioning(needle: &str) -> Vec<(i64, String)> {
    let me = std::process::id() as i64;
    // A child this test binary has forked and not yet exec'd is a copy of it, with the
    // fds some other thread had open at that moment (a lab's state file): not a process
    // of the lab.
    let my_exe = std::fs::read_link("/proc/self/exe").ok();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i64>().ok()) else {
            continue;
        };
        if pid == me || !matches!(proc_stat(pid), Some((st, _)) if st != 'Z' && st != 'X') {
            continue;
        }
        if my_exe.is_some() && std::fs::read_link(e.path().join("exe")).ok() == my_exe {
            continue;
        }
        let read = |f: &str| std::fs::read(e.path().join(f)).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&read("cmdline")).replace('\0', " ");
        let environ = String::from_utf8_lossy(&read("environ")).into_owned();
        let open_file = std::fs::read_dir(e.path().join("fd"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .any(|target| target.to_string_lossy().contains(needle));
        if cmdline.contains(needle) || environ.contains(needle) || open_file {
            out.push((pid, cmdline.trim().to_string()));
        }
    }
    out
}

/// Lines of /proc/self/mountinfo that mention `needle`.
pub fn mounts_mentioning(needle: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .map(String::from)
        .collect()
}

/// The root network namespace as dockernet must leave it: links (name and flags, not
/// counters), addresses (without lifetimes), routes, iptables rules (without counters
/// and comment lines), the nftables ruleset, and the namespaces of `lab`.
pub fn snapshot_root(lab: &str) -> String {
    let mut out = String::new();
    let section = |out: &mut String, title: &str, mut lines: Vec<String>| {
        lines.sort();
        out.push_str(&format!("## {title}\n"));
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
    };
    let links: Vec<String> = cmd_ok("ip", &["-o", "link"])
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            // "N: name: <FLAGS> mtu M ..." -> name, flags, mtu, master, MAC
            let mut keep = vec![
                w.get(1).copied().unwrap_or(""),
                w.get(2).copied().unwrap_or(""),
            ];
            for k in ["mtu", "master", "link/ether"] {
                if let Some(i) = w.iter().position(|x| *x == k) {
                    keep.push(k);
                    keep.push(w.get(i + 1).copied().unwrap_or(""));
                }
            }
            keep.join(" ")
        })
        .collect();
    section(&mut out, "links", links);
    let addrs: Vec<String> = cmd_ok("ip", &["-o", "addr"])
        .lines()
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .take_while(|w| *w != "valid_lft")
                .filter(|w| *w != "\\")
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    section(&mut out, "addrs", addrs);
    let routes: Vec<String> = cmd_ok("ip", &["route", "show", "table", "all"])
        .lines()
        .filter(|l| !l.contains("fe80") && !l.starts_with("multicast"))
        .map(String::from)
        .collect();
    section(&mut out, "routes", routes);
    let ipt = cmd("iptables-save", &[]);
    let ipt: Vec<String> = stdout(&ipt)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(strip_counters)
        .collect();
    section(&mut out, "iptables", ipt);
    let nft = cmd("nft", &["list", "ruleset"]);
    let nft: Vec<String> = stdout(&nft)
        .lines()
        .map(|l| {
            let l = l.trim_end();
            match l.find("counter packets") {
                Some(i) => l[..i].trim_end().to_string(),
                None => l.to_string(),
            }
        })
        .collect();
    section(&mut out, "nft", nft);
    section(&mut out, "netns", lab_namespaces(lab));
    out
}

/// Remove `[packets:bytes]` counters from an iptables-save line.
fn strip_counters(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find('[') {
        let (head, tail) = rest.split_at(i);
        out.push_str(head);
        match tail.find(']') {
            Some(j)
                if tail[1..j]
                    .split(':')
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())) =>
            {
                rest = &tail[j + 1..];
            }
            _ => {
                out.push('[');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out.trim_end().to_string()
}

/// The `@ifN` / `link-netns` normaliser shared by the view comparisons: `ip` names the
/// peer namespace (`link-netns dn-x-world`) when it can, the views print its id
/// (`link-netnsid 0`); map ids to names with `ip -n NS netns list-id`.
pub fn netnsid_names(ns: &str) -> Vec<(String, String)> {
    ip(ns, &["netns", "list-id"])
        .lines()
        .filter_map(|l| {
            // "nsid 0 (iproute2 netns name: dn-x-world)"
            let id = l.split_whitespace().nth(1)?.to_string();
            let name = l.split("name: ").nth(1)?.trim_end_matches(')').to_string();
            Some((id, name))
        })
        .collect()
}

// ----- Appended for dryrun.rs, damaged.rs and crash_networks.rs ---------------------
// Footprints, leftovers of a removed lab, and the spread of kill -9 delays.

/// `iptables-save` of a namespace as rules only: no counters, no comment lines.
pub fn iptables_rules(ns: &str) -> Vec<String> {
    let o = cmd("ip", &["netns", "exec", ns, "iptables-save"]);
    stdout(&o)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(strip_counters)
        .collect()
}

/// Everything of a lab that still exists, one line each (empty when the lab is gone):
/// its namespaces, mounts of its directory or its /run/netns entries, processes that
/// mention its directory, and the directory itself.
pub fn lab_leftovers(lab: &super::Lab) -> Vec<String> {
    let mut left: Vec<String> = lab_namespaces(&lab.name)
        .into_iter()
        .map(|n| format!("namespace {n}"))
        .collect();
    let dir = lab.dir().display().to_string();
    for m in mounts_mentioning(&format!("{dir}/"))
        .into_iter()
        .chain(mounts_mentioning(&format!("/run/netns/dn-{}-", lab.name)))
    {
        left.push(format!("mount {m}"));
    }
    for (pid, cmdline) in lab.processes() {
        left.push(format!("process {pid} ({cmdline})"));
    }
    if lab.dir().exists() {
        left.push(format!("directory {dir}"));
    }
    left
}

/// A delay in [0, max) that differs from kill to kill and from run to run (spread by
/// the iteration, shifted by the clock), so `kill -9` lands all over a command.
pub fn kill_delay(max: std::time::Duration, i: u32) -> std::time::Duration {
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    let spread = (i as u64 * 379 + clock / 1000) % 1000;
    max.mul_f64(spread as f64 / 1000.0)
}

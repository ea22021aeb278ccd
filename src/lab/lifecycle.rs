//! Building, checking and removing a lab: the world, the Docker host, the daemon's own
//! rules and its three predefined networks.

use super::{Lab, LabRecord, LabStatus, NetworkRecord, SCHEMA, addr};
use crate::error::{Context, Error, Result};
use crate::firewall::{DaemonOptions, classic_daemon_rules};
use crate::link::format_mac;
use crate::netns;
use crate::step::{Executor, Step};
use crate::util::{ProcRef, random_hex};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// Options of `lab up`.
#[derive(Debug, Clone)]
pub struct LabUpOptions {
    /// Docker's `--userland-proxy` (default true).
    pub userland_proxy: bool,
    /// Docker's `--icc` (default true): containers on docker0 may talk to each other.
    pub icc: bool,
}

impl Default for LabUpOptions {
    fn default() -> Self {
        LabUpOptions {
            userland_proxy: true,
            icc: true,
        }
    }
}

/// The steps that build a lab: the world, the Docker host, and what `dockerd` does
/// when it starts before any network exists (forwarding, its own chains and jumps).
pub fn lab_steps(lab: &Lab, opts: &LabUpOptions) -> Vec<Step> {
    let world = lab.world_ns();
    let host = lab.host_ns();
    let s = vec![
        Step::Note {
            text: "the world: a LAN switch (198.51.100.0/24) and \"the internet\" (203.0.113.0/24)"
                .into(),
        },
        Step::NetnsAdd {
            name: world.clone(),
        },
        Step::LinkUp {
            ns: world.clone(),
            dev: "lo".into(),
        },
        Step::BridgeAdd {
            ns: world.clone(),
            name: "lan0".into(),
            mac: format_mac(&local_mac()),
        },
        Step::AddrAdd {
            ns: world.clone(),
            dev: "lan0".into(),
            cidr: format!("{}/24", addr::LAN_GATEWAY),
        },
        Step::BridgeAdd {
            ns: world.clone(),
            name: "inet0".into(),
            mac: format_mac(&local_mac()),
        },
        Step::AddrAdd {
            ns: world.clone(),
            dev: "inet0".into(),
            cidr: format!("{}/24", addr::INTERNET_WEB),
        },
        Step::Firewall {
            ns: world.clone(),
            batch: crate::firewall::Batch {
                ops: vec![crate::firewall::Op::Append(crate::firewall::Rule::new(
                    "nat",
                    "PREROUTING",
                    &format!(
                        "-p udp --dport 53 -j DNAT --to-destination {}",
                        addr::INTERNET_WEB
                    ),
                    "no DNS server answers in the lab: refuse queries at once (port unreachable) instead of letting them time out",
                ))],
            },
        },
        // The kernel rate-limits those refusals (1/s per peer): every other lookup would
        // wait for the resolver's 5 s timeout instead of failing at once.
        Step::Sysctl {
            ns: world.clone(),
            key: "net.ipv4.icmp_ratelimit".into(),
            value: "0".into(),
        },
        Step::Note {
            text: format!(
                "the Docker host: its own network and hostname ({})",
                addr::HOST_HOSTNAME
            ),
        },
        Step::NetnsAdd { name: host.clone() },
        Step::UtsAdd {
            path: lab.host_uts_path().display().to_string(),
            hostname: addr::HOST_HOSTNAME.into(),
        },
        Step::VethAdd {
            ns: world.clone(),
            name: "lan-host".into(),
            master: Some("lan0".into()),
            peer: "eth0".into(),
            peer_ns: host.clone(),
            peer_mac: Some(format_mac(&local_mac())),
        },
        Step::AddrAdd {
            ns: host.clone(),
            dev: "eth0".into(),
            cidr: format!("{}/24", addr::HOST_LAN),
        },
        Step::LinkUp {
            ns: host.clone(),
            dev: "lo".into(),
        },
        Step::LinkUp {
            ns: host.clone(),
            dev: "eth0".into(),
        },
        Step::RouteDefault {
            ns: host.clone(),
            via: addr::LAN_GATEWAY,
        },
        Step::Note {
            text: "dockerd starts: it turns on forwarding and creates its iptables chains; then its default network, bridge (docker0)"
                .into(),
        },
        Step::Sysctl {
            ns: host.clone(),
            key: "net.ipv4.ip_forward".into(),
            value: "1".into(),
        },
        Step::Firewall {
            ns: host,
            batch: classic_daemon_rules(&DaemonOptions {
                userland_proxy: opts.userland_proxy,
                set_forward_drop: true,
            }),
        },
    ];
    s
}

/// Docker's three predefined networks: `bridge` (docker0, the first default pool),
/// `host` and `none`. Their steps are filled in by their drivers.
fn predefined_networks(created: f64) -> Result<Vec<NetworkRecord>> {
    let subnet: ipnet::Ipv4Net = addr::DOCKER0_SUBNET
        .parse()
        .map_err(|_| Error::msg("bad docker0 subnet"))?;
    let mut bridge_opts = BTreeMap::new();
    for (k, v) in [
        ("com.docker.network.bridge.default_bridge", "true"),
        ("com.docker.network.bridge.enable_icc", "true"),
        ("com.docker.network.bridge.enable_ip_masquerade", "true"),
        ("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"),
        ("com.docker.network.bridge.name", "docker0"),
        ("com.docker.network.driver.mtu", "1500"),
    ] {
        bridge_opts.insert(k.to_string(), v.to_string());
    }
    let record = |name: &str, driver: &str| NetworkRecord {
        id: random_hex(64),
        name: name.into(),
        driver: driver.into(),
        created,
        ipam: Vec::new(),
        user_subnet: false,
        internal: false,
        attachable: false,
        options: BTreeMap::new(),
        labels: BTreeMap::new(),
        bridge: None,
        predefined: true,
        status: LabStatus::Creating,
        creator: None,
        steps: Vec::new(),
    };
    let mut bridge = record("bridge", "bridge");
    bridge.ipam = vec![crate::ipam::Pool {
        subnet,
        gateway: addr::DOCKER0,
        ip_range: None,
    }];
    bridge.options = bridge_opts;
    bridge.bridge = Some("docker0".into());
    Ok(vec![bridge, record("host", "host"), record("none", "null")])
}

/// A random locally administered unicast MAC (for the lab's own links).
fn local_mac() -> [u8; 6] {
    let r = crate::util::random_bytes(6);
    [(r[0] & 0xfe) | 0x02, r[1], r[2], r[3], r[4], r[5]]
}

/// Make sure the lab exists and is healthy, building it if needed. The caller holds the
/// lab lock. Returns the lab's record.
pub async fn ensure_up(lab: &Lab, exec: &mut Executor, opts: &LabUpOptions) -> Result<LabRecord> {
    let store = lab.store();
    if let Some(rec) = store.lab()? {
        let creator_alive = rec.creator.is_some_and(|p| p.alive());
        let healthy = rec.status == LabStatus::Up
            && netns::exists(&lab.host_ns())
            && netns::exists(&lab.world_ns());
        if healthy {
            return Ok(rec);
        }
        if rec.status == LabStatus::Creating && creator_alive {
            return Err(Error::msg(format!(
                "lab {} is being created by process {}; try again",
                lab.name,
                rec.creator.map(|c| c.pid).unwrap_or(0)
            )));
        }
        if exec.dry_run() {
            return Err(Error::msg(format!(
                "lab {} is broken; run `dockernet --lab {} lab down` first",
                lab.name, lab.name
            )));
        }
        eprintln!(
            "dockernet: lab {} was left half-built or damaged; removing it and building it again",
            lab.name
        );
        teardown(lab, exec).await?;
    } else if !exec.dry_run() && !netns::list_with_prefix(&lab.netns_prefix()).is_empty() {
        // Leftovers of a crash before the first state write.
        teardown(lab, exec).await?;
    }
    build(lab, exec, opts).await
}

async fn build(lab: &Lab, exec: &mut Executor, opts: &LabUpOptions) -> Result<LabRecord> {
    preflight()?;
    let store = lab.store();
    let created = crate::util::now_unix();
    let mut rec = LabRecord {
        schema: SCHEMA,
        name: lab.name.clone(),
        status: LabStatus::Creating,
        creator: ProcRef::of(std::process::id() as i32),
        created,
        userland_proxy: opts.userland_proxy,
        icc: opts.icc,
        steps: lab_steps(lab, opts),
        processes: Vec::new(),
        ports: Vec::new(),
    };
    let mut networks = predefined_networks(created)?;
    {
        let ctx = super::Daemon::new(lab, rec.clone());
        for n in &mut networks {
            n.steps = crate::driver::for_network(n)?.create_network(&ctx, n)?;
            if n.is_default_bridge() && !opts.icc {
                n.options.insert(
                    "com.docker.network.bridge.enable_icc".into(),
                    "false".into(),
                );
            }
        }
    }
    // Write-ahead: the records name everything we are about to create, so a crash at
    // any point leaves a record that the next command can roll back.
    store.save_lab(exec, &rec)?;
    for n in &networks {
        store.save_network(exec, n)?;
    }
    let mut steps = rec.steps.clone();
    for n in &networks {
        steps.extend(n.steps.iter().cloned());
    }
    if let Err(e) = exec.run_all(&steps).await {
        let _ = teardown(lab, exec).await;
        return Err(e.context(format!("building lab {}", lab.name)));
    }
    if exec.dry_run() {
        exec.narrate(&world_web_command(lab));
        return Ok(rec);
    }
    let web = start_world_web(lab, exec);
    match web {
        Ok(p) => rec.processes.push(p),
        Err(e) => {
            let _ = teardown(lab, exec).await;
            return Err(e);
        }
    }
    if let Err(e) = crate::image::install_bins(lab) {
        let _ = teardown(lab, exec).await;
        return Err(e);
    }
    for n in &mut networks {
        n.status = LabStatus::Up;
        store.save_network(exec, n)?;
    }
    rec.status = LabStatus::Up;
    rec.creator = None;
    store.save_lab(exec, &rec)?;
    Ok(rec)
}

fn world_web_command(lab: &Lab) -> String {
    format!(
        "ip netns exec {} httpd-foreground -p 80 -b {} -m 'hello from the internet ({})' &",
        lab.world_ns(),
        addr::INTERNET_WEB,
        addr::INTERNET_WEB
    )
}

/// Start the "internet" web server (203.0.113.10:80) inside the world namespace.
fn start_world_web(lab: &Lab, exec: &mut Executor) -> Result<ProcRef> {
    let msg = format!("hello from the internet ({})", addr::INTERNET_WEB);
    exec.narrate(&world_web_command(lab));
    let log =
        std::fs::File::create(lab.dir().join("world-web.log")).ctx("creating world-web.log")?;
    let mut cmd =
        crate::firewall::command_in(&netns::path(&lab.world_ns()), &crate::image::self_exe()?)?;
    use std::os::unix::process::CommandExt;
    cmd.arg0("httpd-foreground")
        .args([
            "-p",
            "80",
            "-b",
            &addr::INTERNET_WEB.to_string(),
            "-m",
            &msg,
        ])
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0);
    let child = cmd.spawn().ctx("starting the world's web server")?;
    ProcRef::of(child.id() as i32)
        .ok_or_else(|| Error::msg("the world's web server exited at once"))
}

/// Refuse early, with the fix, when the machine lacks what a lab needs.
fn preflight() -> Result<()> {
    if !nix::unistd::geteuid().is_root() {
        return Err(Error::msg(crate::ui::tr(
            "dockernet needs root to build network namespaces: run it with sudo",
            "dockernet 需要 root 权限来创建网络命名空间：请用 sudo 运行",
        )));
    }
    for tool in ["iptables-restore", "iptables-save"] {
        if crate::util::which(tool).is_none() {
            return Err(Error::msg(crate::ui::tr(
                format!("{tool} not found: install it with `sudo apt-get install iptables`"),
                format!("找不到 {tool}：请先安装 `sudo apt-get install iptables`"),
            )));
        }
    }
    Ok(())
}

/// Remove everything of a lab: processes, namespaces, mounts, files. Replays the
/// recorded undo logs (containers, then networks, then the lab's own steps), then sweeps
/// by name whatever no record names (a damaged or missing state, a crash before a
/// write). Keeps going past failures and reports them all at the end.
pub async fn teardown(lab: &Lab, exec: &mut Executor) -> Result<()> {
    let store = lab.store();
    let rec = store.lab().ok().flatten();
    let containers = store.containers().unwrap_or_default();
    let networks = store.networks().unwrap_or_default();
    let mut procs: Vec<ProcRef> = Vec::new();
    if let Some(r) = &rec {
        procs.extend(r.processes.iter().copied());
    }
    for c in &containers {
        procs.extend(c.processes());
    }
    procs.extend(our_processes_in(lab));
    // Shims, inits and proxies of this lab whose namespace is already gone.
    procs.extend(crate::util::processes_with_env_prefix(
        crate::util::OWNER_ENV,
        &format!("{}/", lab.dir().display()),
    ));
    exec.narrate(&format!("# stop every process of lab {}", lab.name));
    exec.signal(&procs, libc::SIGKILL, Duration::from_secs(2));

    // User-defined networks before the predefined ones, newest first.
    let mut nets: Vec<&NetworkRecord> = networks.iter().collect();
    nets.sort_by(|a, b| {
        (a.predefined, -a.created)
            .partial_cmp(&(b.predefined, -b.created))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut undo: Vec<Step> = Vec::new();
    for c in &containers {
        let mut own: Vec<Step> = c.sandbox_steps.clone();
        for e in &c.endpoints {
            own.extend(e.steps.iter().cloned());
        }
        undo.extend(own.iter().rev().filter_map(Step::inverse));
    }
    for n in nets {
        undo.extend(n.steps.iter().rev().filter_map(Step::inverse));
    }
    if let Some(r) = &rec {
        undo.extend(r.steps.iter().rev().filter_map(Step::inverse));
    }
    // What lives inside a namespace dies with it: only the namespace removals of the
    // log (and the sweep's) need to run, not every rule and link inside them.
    let mut doomed: HashSet<String> = netns::list_with_prefix(&lab.netns_prefix())
        .into_iter()
        .collect();
    for s in &undo {
        if let Step::NetnsDel { name } = s {
            doomed.insert(name.clone());
        }
    }
    let inside_doomed = |s: &Step| match s {
        Step::LinkDel { ns, .. } | Step::Firewall { ns, .. } => doomed.contains(ns),
        _ => false,
    };
    let mut errors: Vec<String> = Vec::new();
    let mut deleted: HashSet<String> = HashSet::new();
    for s in undo.iter().filter(|s| !inside_doomed(s)) {
        if let Step::NetnsDel { name } = s
            && !deleted.insert(name.clone())
        {
            continue;
        }
        if let Err(e) = exec.run(s).await {
            errors.push(e.to_string());
        }
    }
    // The sweep: namespaces of the lab that no record named.
    for name in netns::list_with_prefix(&lab.netns_prefix()) {
        if deleted.contains(&name) && !netns::exists(&name) {
            continue;
        }
        if let Err(e) = exec.run(&Step::NetnsDel { name }).await {
            errors.push(e.to_string());
        }
    }
    if let Err(e) = exec
        .run(&Step::UtsDel {
            path: lab.host_uts_path().display().to_string(),
        })
        .await
    {
        errors.push(e.to_string());
    }
    if exec.effects() {
        // Any leftover mount under the lab directory (there should be none).
        for m in mounts_under(&lab.dir().display().to_string()) {
            let _ = nix::mount::umount2(m.as_str(), nix::mount::MntFlags::MNT_DETACH);
        }
    }
    // Everything but the lock file, which the caller still holds.
    for entry in std::fs::read_dir(lab.dir()).into_iter().flatten().flatten() {
        if entry.file_name() == "lock" {
            continue;
        }
        if let Err(e) = exec.remove_path(&entry.path()) {
            errors.push(e.to_string());
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::msg(format!(
            "lab {}: {} thing(s) could not be removed: {}",
            lab.name,
            errors.len(),
            errors.join("; ")
        )))
    }
}

/// Processes running our own binary inside this lab's namespaces: ours to end even
/// when the state file lost track of them (a `kill -9` between spawn and save).
fn our_processes_in(lab: &Lab) -> Vec<ProcRef> {
    let Ok(me) = std::fs::read_link("/proc/self/exe") else {
        return Vec::new();
    };
    let inodes: Vec<u64> = netns::list_with_prefix(&lab.netns_prefix())
        .iter()
        .filter_map(|n| netns::inode(&netns::path(n)))
        .collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    crate::util::other_processes()
        .filter(|(_, dir)| {
            netns::inode(&dir.join("ns/net")).is_some_and(|ino| inodes.contains(&ino))
        })
        .filter(|(_, dir)| std::fs::read_link(dir.join("exe")).is_ok_and(|e| e == me))
        .filter_map(|(pid, _)| ProcRef::of(pid))
        .collect()
}

/// Mount points at or below `prefix`, deepest first.
pub fn mounts_under(prefix: &str) -> Vec<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut v: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .filter(|m| m.starts_with(prefix))
        .map(String::from)
        .collect();
    v.sort_by_key(|m| std::cmp::Reverse(m.len()));
    v
}

/// What `lab down` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownResult {
    /// Nothing of the lab existed.
    Absent,
    /// Removed by replaying its records.
    Removed,
    /// The records were damaged or missing: removed by the names of its objects.
    RemovedByName,
}

/// `lab down`: remove the lab whole.
pub async fn lab_down(lab: &Lab, exec: &mut Executor) -> Result<DownResult> {
    let _lock = lab.lock_for(exec.dry_run())?;
    let store = lab.store();
    let readable = store.lab();
    let leftovers = !netns::list_with_prefix(&lab.netns_prefix()).is_empty();
    // The lock file is ours (just created); anything else is a trace of the lab.
    let traces = std::fs::read_dir(lab.dir())
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.file_name() != "lock");
    let result = match &readable {
        // A damaged container record leaves teardown to find the containers by name.
        Ok(Some(_)) if store.containers().is_ok() => DownResult::Removed,
        Ok(None) if !leftovers && !traces => DownResult::Absent,
        _ => DownResult::RemovedByName,
    };
    if result == DownResult::Absent && exec.effects() {
        let _ = std::fs::remove_file(lab.dir().join("lock"));
        let _ = std::fs::remove_dir(lab.dir());
    }
    if result == DownResult::Absent {
        return Ok(result);
    }
    teardown(lab, exec).await?;
    if exec.effects() {
        let _ = std::fs::remove_file(lab.dir().join("lock"));
        let _ = std::fs::remove_dir(lab.dir());
    }
    Ok(result)
}

/// What `lab status` reports.
#[derive(Debug, serde::Serialize)]
pub struct LabReport {
    /// Lab name.
    pub lab: String,
    /// `up`, `creating`, `absent`, or `broken`.
    pub status: String,
    /// Namespaces of the lab that exist.
    pub namespaces: Vec<String>,
    /// Containers: name, state.
    pub containers: Vec<(String, String)>,
    /// Networks, by name.
    pub networks: Vec<String>,
    /// Lab processes alive.
    pub processes: Vec<i32>,
    /// Problems found (leaked or missing objects).
    pub problems: Vec<String>,
}

/// `lab status`: what exists, what runs, and anything broken or leaked.
pub fn lab_status(lab: &Lab) -> Result<LabReport> {
    let store = lab.store();
    let st = match store.lab() {
        Ok(s) => s,
        Err(e) => {
            return Ok(LabReport {
                lab: lab.name.clone(),
                status: "broken".into(),
                namespaces: netns::list_with_prefix(&lab.netns_prefix()),
                containers: Vec::new(),
                networks: Vec::new(),
                processes: Vec::new(),
                problems: vec![e.to_string()],
            });
        }
    };
    let namespaces = netns::list_with_prefix(&lab.netns_prefix());
    let mut problems = Vec::new();
    let mut containers = Vec::new();
    let mut networks = Vec::new();
    let mut processes = Vec::new();
    let status = match &st {
        None if namespaces.is_empty() => "absent".to_string(),
        None => {
            problems.push(format!(
                "namespaces exist without a state file (run `dockernet --lab {} lab down`)",
                lab.name
            ));
            "broken".into()
        }
        Some(s) => {
            for p in &s.processes {
                if p.alive() {
                    processes.push(p.pid);
                } else {
                    problems.push(format!("lab process {} is gone", p.pid));
                }
            }
            let mut expected = vec![lab.world_ns(), lab.host_ns()];
            for n in store.networks()? {
                networks.push(n.name.clone());
            }
            for c in store.containers()? {
                let running = c.shim.is_some_and(|p| p.alive());
                containers.push((
                    c.name.clone(),
                    if running {
                        "running".into()
                    } else {
                        format!("{:?}", c.status).to_lowercase()
                    },
                ));
                if c.status == super::ContainerStatus::Running && c.owns_sandbox() {
                    expected.push(c.netns.clone());
                }
            }
            for e in &expected {
                if !namespaces.contains(e) && !e.ends_with("-host-shared") {
                    problems.push(format!("namespace {e} is missing"));
                }
            }
            for n in &namespaces {
                if !expected.contains(n) {
                    problems.push(format!("namespace {n} is not recorded (leaked)"));
                }
            }
            match s.status {
                LabStatus::Up if problems.is_empty() => "up".into(),
                LabStatus::Up => "broken".into(),
                LabStatus::Creating => "creating".into(),
            }
        }
    };
    Ok(LabReport {
        lab: lab.name.clone(),
        status,
        namespaces,
        containers,
        networks,
        processes,
        problems,
    })
}

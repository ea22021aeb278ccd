//! Building, checking and removing a lab.

use super::{Lab, LabState, LabStatus, addr};
use crate::container;
use crate::error::{Context, Error, Result};
use crate::firewall::{DaemonOptions, classic_daemon_rules};
use crate::link::{format_mac, random_docker_mac};
use crate::netns;
use crate::step::{Executor, Step};
use crate::util::{ProcRef, random_hex};
use std::collections::BTreeMap;
use std::time::Duration;

/// Options of `lab up`.
#[derive(Debug, Clone)]
pub struct LabUpOptions {
    /// Docker's `--userland-proxy` (default true).
    pub userland_proxy: bool,
}

impl Default for LabUpOptions {
    fn default() -> Self {
        LabUpOptions {
            userland_proxy: true,
        }
    }
}

/// The steps that build a lab: the world, the Docker host, and what `dockerd` does
/// when it starts (docker0 and its iptables rules).
pub fn lab_steps(lab: &Lab, opts: &LabUpOptions) -> Vec<Step> {
    let world = lab.world_ns();
    let host = lab.host_ns();
    let mut s = vec![
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
            text: "dockerd starts: it turns on forwarding, creates docker0 and its iptables rules"
                .into(),
        },
        Step::Sysctl {
            ns: host.clone(),
            key: "net.ipv4.ip_forward".into(),
            value: "1".into(),
        },
        Step::BridgeAdd {
            ns: host.clone(),
            name: "docker0".into(),
            mac: format_mac(&random_docker_mac()),
        },
        Step::AddrAdd {
            ns: host.clone(),
            dev: "docker0".into(),
            cidr: format!("{}/16", addr::DOCKER0),
        },
        Step::Firewall {
            ns: host.clone(),
            batch: classic_daemon_rules(&DaemonOptions {
                bridge: "docker0".into(),
                subnet: addr::DOCKER0_SUBNET.into(),
                userland_proxy: opts.userland_proxy,
                set_forward_drop: true,
            }),
        },
    ];
    if !opts.userland_proxy {
        s.push(Step::Sysctl {
            ns: host,
            key: "net.ipv4.conf.docker0.route_localnet".into(),
            value: "1".into(),
        });
    }
    s
}

/// A random locally administered unicast MAC (for the lab's own links).
fn local_mac() -> [u8; 6] {
    let r = crate::util::random_bytes(6);
    [(r[0] & 0xfe) | 0x02, r[1], r[2], r[3], r[4], r[5]]
}

/// Make sure the lab exists and is healthy, building it if needed. The caller holds the
/// lab lock. Also reconciles containers whose processes ended.
pub async fn ensure_up(lab: &Lab, exec: &mut Executor, opts: &LabUpOptions) -> Result<LabState> {
    if let Some(mut st) = lab.load()? {
        let creator_alive = st.creator.is_some_and(|p| p.alive());
        let healthy = st.status == LabStatus::Up
            && netns::exists(&lab.host_ns())
            && netns::exists(&lab.world_ns());
        if healthy {
            container::reconcile(lab, &mut st, exec).await?;
            return Ok(st);
        }
        if st.status == LabStatus::Creating && creator_alive {
            return Err(Error::msg(format!(
                "lab {} is being created by process {}; try again",
                lab.name,
                st.creator.map(|c| c.pid).unwrap_or(0)
            )));
        }
        if exec.dry_run() {
            return Err(Error::msg(format!(
                "lab {} is broken; run `dockernet lab down` first",
                lab.name
            )));
        }
        eprintln!(
            "dockernet: lab {} was left half-built or damaged; removing it and building it again",
            lab.name
        );
        teardown(lab, Some(st), exec).await?;
    } else if !exec.dry_run() && !netns::list_with_prefix(&lab.netns_prefix()).is_empty() {
        // Leftovers of a crash before the first state write.
        teardown(lab, None, exec).await?;
    }
    build(lab, exec, opts).await
}

async fn build(lab: &Lab, exec: &mut Executor, opts: &LabUpOptions) -> Result<LabState> {
    preflight()?;
    let mut st = LabState {
        name: lab.name.clone(),
        status: LabStatus::Creating,
        creator: ProcRef::of(std::process::id() as i32),
        created: crate::util::now_unix(),
        userland_proxy: opts.userland_proxy,
        bridge_network_id: random_hex(64),
        host_network_id: random_hex(64),
        none_network_id: random_hex(64),
        steps: lab_steps(lab, opts),
        processes: Vec::new(),
        containers: BTreeMap::new(),
    };
    if exec.dry_run() {
        for step in &st.steps {
            exec.run(step).await?;
        }
        exec.narrate(&world_web_command(lab));
        return Ok(st);
    }
    // Write-ahead: the state names everything we are about to create, so a crash at
    // any point leaves a record that the next command can roll back.
    lab.save(&st)?;
    let steps = st.steps.clone();
    if let Err(e) = exec.run_all(&steps).await {
        let _ = teardown(lab, Some(st), exec).await;
        return Err(e.context(format!("building lab {}", lab.name)));
    }
    let web = start_world_web(lab, exec);
    match web {
        Ok(p) => st.processes.push(p),
        Err(e) => {
            let _ = teardown(lab, Some(st), exec).await;
            return Err(e);
        }
    }
    if let Err(e) = crate::image::install_bins(lab) {
        let _ = teardown(lab, Some(st), exec).await;
        return Err(e);
    }
    st.status = LabStatus::Up;
    st.creator = None;
    lab.save(&st)?;
    Ok(st)
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

/// Remove everything of a lab: processes, namespaces, mounts, files. Works from the
/// state file when there is one and from what exists on the machine otherwise.
pub async fn teardown(lab: &Lab, st: Option<LabState>, exec: &mut Executor) -> Result<()> {
    let mut procs: Vec<ProcRef> = Vec::new();
    if let Some(st) = &st {
        procs.extend(st.processes.iter().copied());
        for c in st.containers.values() {
            procs.extend(c.init.iter().copied());
            procs.extend(c.shim.iter().copied());
            procs.extend(c.proxies.iter().copied());
        }
    }
    procs.extend(our_processes_in(lab));
    // Shims and inits of this lab whose namespace is already gone (not found above).
    procs.extend(crate::util::processes_with_env_prefix(
        crate::container::init::OWNER_ENV,
        &format!("{}/", lab.dir().display()),
    ));
    exec.narrate(&format!("# stop every process of lab {}", lab.name));
    if !exec.dry_run() {
        for p in &procs {
            p.signal(libc::SIGKILL);
        }
        for p in &procs {
            p.wait_gone(Duration::from_secs(2));
        }
    }
    for name in netns::list_with_prefix(&lab.netns_prefix()) {
        exec.run(&Step::NetnsDel { name }).await?;
    }
    exec.run(&Step::UtsDel {
        path: lab.host_uts_path().display().to_string(),
    })
    .await?;
    if !exec.dry_run() {
        // Any leftover mount under the lab directory (there should be none).
        for m in mounts_under(&lab.dir().display().to_string()) {
            let _ = nix::mount::umount2(m.as_str(), nix::mount::MntFlags::MNT_DETACH);
        }
        // Everything but the lock file, which the caller still holds.
        for entry in std::fs::read_dir(lab.dir()).into_iter().flatten().flatten() {
            if entry.file_name() == "lock" {
                continue;
            }
            let p = entry.path();
            let r = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
            r.with_ctx(|| format!("removing {}", p.display()))?;
        }
    }
    Ok(())
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

/// `lab down`: remove the lab whole. Returns false if there was nothing to remove.
pub async fn lab_down(lab: &Lab, exec: &mut Executor) -> Result<bool> {
    let _lock = lab.lock_for(exec.dry_run())?;
    let st = lab.load()?;
    let existed = st.is_some() || !netns::list_with_prefix(&lab.netns_prefix()).is_empty();
    teardown(lab, st, exec).await?;
    if !exec.dry_run() {
        let _ = std::fs::remove_file(lab.dir().join("lock"));
        let _ = std::fs::remove_dir(lab.dir());
    }
    Ok(existed)
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
    /// Lab processes alive.
    pub processes: Vec<i32>,
    /// Problems found (leaked or missing objects).
    pub problems: Vec<String>,
}

/// `lab status`: what exists, what runs, and anything broken or leaked.
pub fn lab_status(lab: &Lab) -> Result<LabReport> {
    let st = lab.load()?;
    let namespaces = netns::list_with_prefix(&lab.netns_prefix());
    let mut problems = Vec::new();
    let mut containers = Vec::new();
    let mut processes = Vec::new();
    let status = match &st {
        None if namespaces.is_empty() => "absent".to_string(),
        None => {
            problems
                .push("namespaces exist without a state file (run `dockernet lab down`)".into());
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
            for c in s.containers.values() {
                let running = c.shim.is_some_and(|p| p.alive());
                containers.push((
                    c.name.clone(),
                    if running {
                        "running".into()
                    } else {
                        format!("{:?}", c.status).to_lowercase()
                    },
                ));
                if c.status == super::ContainerStatus::Running {
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
        processes,
        problems,
    })
}

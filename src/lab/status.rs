//! `lab status`: what exists, what runs, and anything broken or leaked.

use super::{Lab, LabStatus};
use crate::error::Result;
use crate::netns;

/// What `lab status` reports.
#[derive(Debug, serde::Serialize)]
pub struct LabReport {
    /// Lab name.
    pub lab: String,
    /// `up`, `creating`, `absent`, or `broken`.
    pub status: String,
    /// Whose rule layout the lab's daemon writes (27, 28, 29), when it has a record.
    pub engine: Option<crate::firewall::Engine>,
    /// The daemon's firewall backend (`iptables`, `nftables`), when the lab has state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firewall_backend: Option<crate::firewall::Backend>,
    /// Namespaces of the lab that exist.
    pub namespaces: Vec<String>,
    /// Containers: name, state.
    pub containers: Vec<(String, String)>,
    /// Networks, by name.
    pub networks: Vec<String>,
    /// The lab's Docker hosts.
    pub hosts: Vec<HostReport>,
    /// Lab processes alive.
    pub processes: Vec<i32>,
    /// The embedded DNS server: pid, containers it serves, its upstream (None: not running).
    pub resolver: Option<ResolverReport>,
    /// Problems found (leaked or missing objects).
    pub problems: Vec<String>,
}

/// One Docker host of the lab as `lab status` reports it.
#[derive(Debug, serde::Serialize)]
pub struct HostReport {
    /// Its name (`--host`).
    pub name: String,
    /// Its LAN address.
    pub lan: String,
    /// Its namespace.
    pub netns: String,
}

/// The embedded DNS server as `lab status` reports it.
#[derive(Debug, serde::Serialize)]
pub struct ResolverReport {
    /// Its process.
    pub pid: i32,
    /// Containers it answers for.
    pub containers: usize,
    /// Namespaces it listens in.
    pub listeners: usize,
    /// Where it forwards other names.
    pub upstream: Option<String>,
}

/// `lab status`: what exists, what runs, and anything broken or leaked.
pub fn lab_status(lab: &Lab) -> Result<LabReport> {
    // The whole lab, whichever host `--host` named.
    let lab = &lab.first_host();
    let store = lab.store();
    let st = match store.lab() {
        Ok(s) => s,
        Err(e) => {
            return Ok(LabReport {
                lab: lab.name.clone(),
                status: "broken".into(),
                engine: None,
                firewall_backend: None,
                namespaces: netns::list_with_prefix(&lab.netns_prefix()),
                containers: Vec::new(),
                networks: Vec::new(),
                hosts: Vec::new(),
                processes: Vec::new(),
                resolver: None,
                problems: vec![e.to_string()],
            });
        }
    };
    let namespaces = netns::list_with_prefix(&lab.netns_prefix());
    let mut problems = Vec::new();
    let mut containers = Vec::new();
    let mut networks = Vec::new();
    let mut hosts = Vec::new();
    let mut processes = Vec::new();
    let mut resolver = None;
    let status = match &st {
        None if namespaces.is_empty() => "absent".to_string(),
        None => {
            problems.push(crate::ui::tr(
                format!(
                    "namespaces exist without a state file (run `dockernet --lab {} lab down`)",
                    lab.name
                ),
                format!(
                    "命名空间还在，状态文件却没有了（请运行 `dockernet --lab {} lab down`）",
                    lab.name
                ),
            ));
            "broken".into()
        }
        Some(s) => {
            for p in &s.processes {
                if p.alive() {
                    processes.push(p.pid);
                } else {
                    problems.push(crate::ui::tr(
                        format!("lab process {} is gone", p.pid),
                        format!("实验环境的进程 {} 已经不在了", p.pid),
                    ));
                }
            }
            match s.resolver {
                Some(p) if p.alive() => {
                    let r = crate::dns::ask(lab, &crate::dns::control::Request::Status);
                    match r {
                        Ok(r) => {
                            resolver = Some(ResolverReport {
                                pid: p.pid,
                                containers: r.containers,
                                listeners: r.listeners,
                                upstream: r.upstream,
                            })
                        }
                        Err(e) => problems.push(e.to_string()),
                    }
                }
                Some(p) => problems.push(crate::ui::tr(
                    format!(
                        "the embedded DNS server (pid {}) is not running: the next dockernet command starts it again",
                        p.pid
                    ),
                    format!(
                        "内嵌 DNS 服务器（pid {}）没有运行：下一条 dockernet 命令会重新启动它",
                        p.pid
                    ),
                )),
                None if s.status == LabStatus::Up => problems.push(crate::ui::tr(
                    "the embedded DNS server has not been started: the next dockernet command starts it",
                    "内嵌 DNS 服务器还没有启动：下一条 dockernet 命令会启动它",
                )),
                None => {}
            }
            let mut expected = vec![lab.world_ns()];
            // Every host of the lab: its namespace, its networks' (an overlay's), its
            // containers'; an added host's containers as `host2/web`.
            for h in super::hosts::all(lab) {
                let hs = h.store();
                let Ok(Some(hr)) = hs.lab() else {
                    problems.push(crate::ui::tr(
                        format!(
                            "host {}: its record is missing or damaged (`lab host rm {}`)",
                            h.host, h.host
                        ),
                        format!(
                            "宿主机 {}：记录缺失或已损坏（请 `lab host rm {}`）",
                            h.host, h.host
                        ),
                    ));
                    continue;
                };
                expected.push(hr.host.netns.clone());
                if hr.status != LabStatus::Up || !hr.host_init.is_none_or(|p| p.alive()) {
                    problems.push(crate::ui::tr(
                        format!(
                            "host {} is not up: the next command on it rebuilds it",
                            h.host
                        ),
                        format!(
                            "宿主机 {} 没有就绪：下一条在它上面运行的命令会重建它",
                            h.host
                        ),
                    ));
                }
                if !h.is_first_host() && !hr.resolver.is_some_and(|p| p.alive()) {
                    problems.push(crate::ui::tr(
                        format!("host {}: its embedded DNS server is not running", h.host),
                        format!("宿主机 {}：内嵌 DNS 服务器没有运行", h.host),
                    ));
                }
                hosts.push(HostReport {
                    name: hr.host.name.clone(),
                    lan: hr.host.lan.to_string(),
                    netns: hr.host.netns.clone(),
                });
                let prefix = if h.is_first_host() {
                    String::new()
                } else {
                    format!("{}/", h.host)
                };
                for n in hs.networks()? {
                    expected.extend(n.steps.iter().filter_map(|s| match s {
                        crate::step::Step::NetnsAdd { name } => Some(name.clone()),
                        _ => None,
                    }));
                    if !networks.contains(&n.name) {
                        networks.push(n.name.clone());
                    }
                }
                for c in hs.containers()? {
                    let running = c.shim.is_some_and(|p| p.alive());
                    containers.push((
                        format!("{prefix}{}", c.name),
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
            }
            for e in &expected {
                if !namespaces.contains(e) && !e.ends_with("-host-shared") {
                    problems.push(crate::ui::tr(
                        format!("namespace {e} is missing"),
                        format!("缺少命名空间 {e}"),
                    ));
                }
            }
            for n in &namespaces {
                if !expected.contains(n) {
                    problems.push(crate::ui::tr(
                        format!("namespace {n} is not recorded (leaked)"),
                        format!("命名空间 {n} 没有记录在案（泄漏）"),
                    ));
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
        engine: st.as_ref().map(|s| s.engine),
        firewall_backend: st.as_ref().map(|s| s.firewall_backend),
        namespaces,
        containers,
        networks,
        hosts,
        processes,
        resolver,
        problems,
    })
}

//! FROM and TO of `trace`: a container (name or id), `host` or a lab host's name,
//! `world`, or an IPv4 address; each found in the kernel's picture of the lab.

use crate::error::{Error, Result};
use crate::lab::{ContainerRecord, Lab, Store};
use crate::topology::model::{NsKind, Topology};
use std::net::Ipv4Addr;

/// Where the probe starts.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Source {
    /// The namespace its socket is made in.
    pub ns: String,
    /// What the learner typed, resolved: `container web1`, `host host`, `world`.
    pub label: String,
    /// The address to send from, when one was asked for.
    pub bind: Option<Ipv4Addr>,
    /// The container, when it is one (to choose the address of a shared network).
    #[serde(skip)]
    pub container: Option<ContainerRecord>,
}

/// Where the probe goes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Target {
    /// The address it is sent to.
    pub addr: Ipv4Addr,
    /// What the learner typed, resolved.
    pub label: String,
    /// The namespace that has the address, if it is in the lab.
    pub ns: Option<String>,
}

fn first_addr(topo: &Topology, ns: &str, iface: Option<&str>) -> Option<Ipv4Addr> {
    let node = topo.node(ns)?;
    node.interfaces
        .iter()
        .filter(|i| iface.is_none_or(|n| i.name == n))
        .flat_map(|i| i.addrs.iter())
        .find_map(|a| a.split('/').next()?.parse().ok())
}

/// The namespace (of the lab) that has `addr` on one of its interfaces.
pub fn owner(topo: &Topology, addr: Ipv4Addr) -> Option<String> {
    topo.nodes
        .iter()
        .find(|n| {
            n.interfaces.iter().any(|i| {
                i.addrs
                    .iter()
                    .any(|a| a.split('/').next() == Some(&addr.to_string()))
            })
        })
        .map(|n| n.name.clone())
}

fn not_running(name: &str) -> Error {
    Error::msg(crate::ui::tr(
        format!("container {name} is not running: start it with `dockernet start {name}`"),
        format!("容器 {name} 没有在运行：请先用 `dockernet start {name}` 启动它"),
    ))
}

fn unknown(word: &str) -> Error {
    Error::msg(crate::ui::tr(
        format!(
            "no container, lab host or address called {word:?}: give a container's name or ID, `host` (or a lab host's name), `world`, or an IPv4 address"
        ),
        format!(
            "找不到名为 {word:?} 的容器、实验主机或地址：请给出容器的名字或 ID、`host`（或某台实验主机的名字）、`world`，或一个 IPv4 地址"
        ),
    ))
}

/// A lab host by name (`host` is the selected one): its namespace and LAN address.
fn lab_host(lab: &Lab, word: &str) -> Option<(String, Ipv4Addr)> {
    let wanted = if word == "host" {
        lab.host.as_str()
    } else {
        word
    };
    crate::lab::hosts::records(lab)
        .into_iter()
        .find(|(h, _)| h.host == wanted)
        .and_then(|(h, r)| r.map(|r| (h.host_ns(), r.host.lan)))
}

/// Resolve FROM.
pub fn source(lab: &Lab, store: &Store, topo: &Topology, word: &str) -> Result<Source> {
    let plain = |ns: String, label: String| Source {
        ns,
        label,
        bind: None,
        container: None,
    };
    if word == "world" {
        return Ok(plain(lab.world_ns(), crate::ui::tr("world", "外部世界")));
    }
    if let Ok(addr) = word.parse::<Ipv4Addr>() {
        let ns = owner(topo, addr).ok_or_else(|| {
            Error::msg(crate::ui::tr(
                format!("no namespace of the lab has the address {addr}: FROM must be an address of the lab (`dockernet show topology` lists them)"),
                format!("实验环境里没有哪个命名空间拥有地址 {addr}：FROM 必须是实验环境里的地址（`dockernet show topology` 会列出它们）"),
            ))
        })?;
        return Ok(Source {
            label: format!("{addr} ({ns})"),
            ns,
            bind: Some(addr),
            container: None,
        });
    }
    if let Ok(c) = store.find_container(word) {
        if !crate::netns::exists(&c.netns) {
            return Err(not_running(&c.name));
        }
        return Ok(Source {
            ns: c.netns.clone(),
            label: crate::ui::tr(format!("container {}", c.name), format!("容器 {}", c.name)),
            bind: None,
            container: Some(c),
        });
    }
    if let Some((ns, _)) = lab_host(lab, word) {
        return Ok(plain(
            ns,
            crate::ui::tr(format!("host {word}"), format!("宿主机 {word}")),
        ));
    }
    Err(unknown(word))
}

/// Resolve TO (seen from `from`: a container is reached on a network both are on).
pub fn target(
    lab: &Lab,
    store: &Store,
    topo: &Topology,
    from: &Source,
    word: &str,
) -> Result<Target> {
    if word == "world" {
        let ns = lab.world_ns();
        let addr = first_addr(topo, &ns, Some("lan0")).ok_or_else(|| unknown(word))?;
        return Ok(Target {
            addr,
            label: crate::ui::tr("world", "外部世界"),
            ns: Some(ns),
        });
    }
    if let Ok(addr) = word.parse::<Ipv4Addr>() {
        return Ok(Target {
            addr,
            label: addr.to_string(),
            ns: owner(topo, addr),
        });
    }
    if let Ok(c) = store.find_container(word) {
        if !crate::netns::exists(&c.netns) {
            return Err(not_running(&c.name));
        }
        let shared = from.container.as_ref().and_then(|f| {
            c.endpoints
                .iter()
                .find(|e| f.endpoints.iter().any(|fe| fe.network_id == e.network_id))
        });
        let addr = shared
            .or(c.endpoints.first())
            .map(|e| e.ip)
            .filter(|ip| !ip.is_unspecified())
            .or_else(|| first_addr(topo, &c.netns, None))
            .ok_or_else(|| {
                Error::msg(crate::ui::tr(
                    format!(
                        "container {} has no IPv4 address to send to (is it on --network none?)",
                        c.name
                    ),
                    format!(
                        "容器 {} 没有可以发往的 IPv4 地址（它是不是用了 --network none？）",
                        c.name
                    ),
                ))
            })?;
        return Ok(Target {
            addr,
            label: crate::ui::tr(format!("container {}", c.name), format!("容器 {}", c.name)),
            ns: Some(c.netns.clone()),
        });
    }
    if let Some((ns, addr)) = lab_host(lab, word) {
        return Ok(Target {
            addr,
            label: crate::ui::tr(format!("host {word}"), format!("宿主机 {word}")),
            ns: Some(ns),
        });
    }
    Err(unknown(word))
}

/// The namespaces to trace in: every one that is not a container's (the hosts, their
/// overlays, the world), and the containers at both ends and behind published ports.
pub fn namespaces(topo: &Topology, from: &Source, to: &Target) -> Vec<String> {
    let mut v: Vec<String> = topo
        .nodes
        .iter()
        .filter(|n| n.kind != NsKind::Container)
        .map(|n| n.name.clone())
        .collect();
    let mut add = |ns: &str| {
        if !v.iter().any(|x| x == ns) && crate::netns::exists(ns) {
            v.push(ns.to_string());
        }
    };
    add(&from.ns);
    if let Some(ns) = &to.ns {
        add(ns);
    }
    for p in &topo.ports {
        if let Some(ns) = &p.container_ns {
            add(ns);
        }
    }
    v
}

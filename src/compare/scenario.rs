//! What `compare` builds under each engine: one of Docker's documented scenarios, or a
//! copy of the current lab (its daemon options, user networks, containers and ports).
//! A scenario is the `lab up` options plus the dockernet commands that follow; every
//! bridge gets a fixed name, so that both engines' rules name the same bridges.

use crate::error::{Error, Result};
use crate::lab::{ContainerStatus, Lab};
use crate::ui::tr;

/// The named scenarios, in the order `compare --help` lists them.
pub const NAMES: [&str; 6] = [
    "default", "usernet", "portmap", "noproxy", "noicc", "internal",
];

/// A scenario ready to build.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Scenario {
    /// `portmap`, ..., or `lab:<name>` for a copy of a lab.
    pub name: String,
    /// One line saying what it is.
    pub title: String,
    /// `--userland-proxy` of the daemon.
    pub userland_proxy: bool,
    /// `--icc` of the daemon.
    pub icc: bool,
    /// The dockernet commands after `lab up`, each as its arguments.
    pub commands: Vec<Vec<String>>,
    /// What a copy of a lab left out (other drivers, stopped containers...).
    pub notes: Vec<String>,
}

fn argv(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// `network create` of Docker's example network `bridge1` (192.0.2.0/24), with extras.
fn bridge1(extra: &str) -> Vec<String> {
    argv(&format!(
        "network create -o com.docker.network.bridge.name=bridge1 --subnet 192.0.2.0/24 --gateway 192.0.2.1 {extra} bridge1"
    ))
}

/// A named scenario, or a one-line error listing them.
pub fn named(name: &str) -> Result<Scenario> {
    let c1_published = argv("run -d --name c1 --network bridge1 -p 8080:80 busybox sleep 3600");
    let (title, proxy, commands) = match name {
        "default" => (
            tr(
                "the default bridge docker0 with one container publishing -p 8080:80",
                "默认网桥 docker0，上面一个容器做端口映射 -p 8080:80",
            ),
            true,
            vec![argv("run -d --name web -p 8080:80 busybox sleep 3600")],
        ),
        "usernet" => (
            tr(
                "a user-defined network bridge1 beside docker0, a container on each",
                "docker0 旁边一个自定义网络 bridge1，两边各一个容器",
            ),
            true,
            vec![
                bridge1(""),
                argv("run -d --name c0 busybox sleep 3600"),
                argv("run -d --name c1 --network bridge1 busybox sleep 3600"),
            ],
        ),
        "portmap" => (
            tr(
                "a user-defined network bridge1 and a container on it with -p 8080:80",
                "自定义网络 bridge1，上面一个容器做端口映射 -p 8080:80",
            ),
            true,
            vec![bridge1(""), c1_published.clone()],
        ),
        "noproxy" => (
            tr(
                "portmap with --userland-proxy=false (hairpin NAT instead of docker-proxy)",
                "portmap 场景，但 --userland-proxy=false（用 hairpin NAT 代替 docker-proxy）",
            ),
            false,
            vec![bridge1(""), c1_published.clone()],
        ),
        "noicc" => (
            tr(
                "portmap on a network with enable_icc=false (containers may not talk to each other)",
                "portmap 场景，网络设置 enable_icc=false（容器之间不能通信）",
            ),
            true,
            vec![
                bridge1("-o com.docker.network.bridge.enable_icc=false"),
                c1_published,
            ],
        ),
        "internal" => (
            tr(
                "an --internal network bridge1 with one container (no way in or out)",
                "--internal 内部网络 bridge1，上面一个容器（进不来也出不去）",
            ),
            true,
            vec![
                bridge1("--internal"),
                argv("run -d --name c1 --network bridge1 busybox sleep 3600"),
            ],
        ),
        other => {
            return Err(Error::with_code(
                tr(
                    format!(
                        "unknown scenario {other:?}: use one of {}, or none for the current lab",
                        NAMES.join(", ")
                    ),
                    format!(
                        "没有场景 {other:?}：可用 {}，不写则比较当前实验环境",
                        NAMES.join("、")
                    ),
                ),
                2,
            ));
        }
    };
    Ok(Scenario {
        name: name.to_string(),
        title,
        userland_proxy: proxy,
        icc: true,
        commands,
        notes: Vec::new(),
    })
}

/// A copy of a lab's first host: its daemon options, its user-defined bridge networks
/// (same subnets, gateways, options and bridge names), and its running containers on
/// bridge networks (same order, addresses, published ports and links). `None` when the
/// lab is not up.
pub fn from_lab(lab: &Lab) -> Result<Option<Scenario>> {
    let lab = lab.first_host();
    let store = lab.store();
    let Some(rec) = store.lab()? else {
        return Ok(None);
    };
    let mut notes = Vec::new();
    if rec.firewall_backend.is_nftables() {
        notes.push(tr(
            format!(
                "lab {} uses Docker 29's nftables backend; the copies are built with iptables rules, the layouts compared here",
                lab.name
            ),
            format!(
                "实验环境 {} 用的是 Docker 29 的 nftables 后端；这里的副本按 iptables 规则搭建，对比的是 iptables 布局",
                lab.name
            ),
        ));
    }
    let mut commands = Vec::new();
    let mut networks = store.networks()?;
    networks.sort_by(|a, b| a.created.total_cmp(&b.created));
    let mut copied: Vec<String> = vec!["bridge".into()];
    for n in networks.iter().filter(|n| !n.predefined) {
        let (Some(pool), Some(bridge), "bridge") = (n.pool(), &n.bridge, n.driver.as_str()) else {
            notes.push(tr(
                format!(
                    "network {} ({} driver) left out: it adds no bridge rules",
                    n.name, n.driver
                ),
                format!(
                    "网络 {}（{} 驱动）没有复制：它不产生网桥规则",
                    n.name, n.driver
                ),
            ));
            continue;
        };
        let mut a = vec!["network".to_string(), "create".into()];
        for (k, v) in &n.options {
            if k != "com.docker.network.bridge.name" {
                a.extend(["-o".into(), format!("{k}={v}")]);
            }
        }
        a.extend([
            "-o".into(),
            format!("com.docker.network.bridge.name={bridge}"),
            "--subnet".into(),
            pool.subnet.to_string(),
            "--gateway".into(),
            pool.gateway.to_string(),
        ]);
        if n.internal {
            a.push("--internal".into());
        }
        a.push(n.name.clone());
        commands.push(a);
        copied.push(n.name.clone());
    }
    let mut containers = store.containers()?;
    containers.sort_by(|a, b| a.created.total_cmp(&b.created));
    for c in &containers {
        let on: Vec<_> = c
            .endpoints
            .iter()
            .filter(|e| e.has_interface() && copied.contains(&e.network))
            .collect();
        if c.status != ContainerStatus::Running || on.is_empty() {
            notes.push(tr(
                format!(
                    "container {} left out: not running on a bridge network",
                    c.name
                ),
                format!("容器 {} 没有复制：它没有在 bridge 网络上运行", c.name),
            ));
            continue;
        }
        let mut a = vec![
            "run".to_string(),
            "-d".into(),
            "--name".into(),
            c.name.clone(),
        ];
        a.extend(["--network".into(), on[0].network.clone()]);
        if on[0].network != "bridge" {
            a.extend(["--ip".into(), on[0].ip.to_string()]);
        }
        for b in &c.ports {
            let ip = if b.host_ip == "0.0.0.0" {
                String::new()
            } else {
                format!("{}:", b.host_ip)
            };
            a.extend([
                "-p".into(),
                format!("{ip}{}:{}/{}", b.host_port, b.container_port, b.proto),
            ]);
        }
        for l in &c.links {
            a.extend(["--link".into(), format!("{}:{}", l.name, l.alias)]);
        }
        a.extend(["busybox".into(), "sleep".into(), "3600".into()]);
        commands.push(a);
        for e in &on[1..] {
            let mut a = vec!["network".to_string(), "connect".into()];
            if e.network != "bridge" {
                a.extend(["--ip".into(), e.ip.to_string()]);
            }
            a.extend([e.network.clone(), c.name.clone()]);
            commands.push(a);
        }
    }
    Ok(Some(Scenario {
        name: format!("lab:{}", lab.name),
        title: tr(
            format!("the containers, networks and ports of lab {}", lab.name),
            format!("实验环境 {} 里的容器、网络和端口映射", lab.name),
        ),
        userland_proxy: rec.userland_proxy,
        icc: rec.icc,
        commands,
        notes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_scenario_builds_commands() {
        for n in NAMES {
            let s = named(n).unwrap();
            assert!(!s.commands.is_empty(), "{n}");
            assert!(
                s.commands.iter().all(|c| !c.is_empty()),
                "{n}: {:?}",
                s.commands
            );
        }
        assert!(!named("noproxy").unwrap().userland_proxy);
        let e = named("portmapp").unwrap_err().to_string();
        assert!(e.contains("portmap") && e.contains("internal"), "{e}");
    }
}

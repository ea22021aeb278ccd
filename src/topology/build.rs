//! Reading the graph from the kernel: every namespace of the lab, its links and
//! addresses, the veth and macvlan edges, the FDB `dst` entries of each overlay, the
//! hosts' nat DOCKER DNAT rules, and the processes of containers that live in another
//! namespace. Records only label what the kernel shows.

use super::model::*;
use crate::error::Result;
use crate::lab::{ContainerRecord, Lab};
use crate::link::Netlink;
use crate::view::model::LinkView;
use std::collections::HashMap;

/// Which lab host and role a namespace name has (None: not one of ours).
fn classify(lab: &Lab, hosts: &[String], ns: &str) -> Option<(NsKind, Option<String>, String)> {
    let rest = ns.strip_prefix(&lab.netns_prefix())?;
    if rest == "world" {
        return Some((NsKind::World, None, "world".into()));
    }
    if hosts.iter().any(|h| h == rest) {
        return Some((NsKind::Host, Some(rest.into()), rest.into()));
    }
    let (host, tail) = match hosts
        .iter()
        .filter(|h| h.as_str() != crate::lab::FIRST_HOST)
        .find_map(|h| rest.strip_prefix(&format!("{h}-")).map(|t| (h.clone(), t)))
    {
        Some(x) => x,
        None => (crate::lab::FIRST_HOST.to_string(), rest),
    };
    if let Some(name) = tail.strip_prefix("ctr-") {
        return Some((NsKind::Container, Some(host), name.into()));
    }
    if let Some(id) = tail.strip_prefix("ov-") {
        return Some((NsKind::Overlay, Some(host), id.into()));
    }
    None
}

fn iface(l: &LinkView, all: &[LinkView]) -> Iface {
    Iface {
        index: l.index,
        name: l.name.clone(),
        kind: l.kind.clone(),
        master: l.master.clone(),
        addrs: l
            .addrs
            .iter()
            .filter(|a| a.addr.is_ipv4())
            .map(|a| format!("{}/{}", a.addr, a.prefix_len))
            .collect(),
        peer_index: l.peer_index,
        up: l.flags & 1 != 0,
        network: None,
        peer_here: match (l.peer_index, l.link_netnsid) {
            (Some(p), None) => all.iter().find(|x| x.index == p).map(|x| x.name.clone()),
            _ => None,
        },
    }
}

/// vxlan0's VNI, as `ip -d link` prints it (`vxlan id 4096`).
fn vni_of(ns: &str) -> Option<u32> {
    let out = std::process::Command::new("ip")
        .args(["-n", ns, "-d", "-o", "link", "show", "dev", "vxlan0"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    while let Some(w) = words.next() {
        if w == "vxlan" && words.next() == Some("id") {
            return words.next()?.parse().ok();
        }
    }
    None
}

/// The nat DOCKER chain's DNAT rules of `iptables-save` text.
pub fn parse_ports(ns: &str, saved: &str) -> Vec<Port> {
    let mut out = Vec::new();
    let mut table = "";
    for line in saved.lines() {
        if let Some(t) = line.strip_prefix('*') {
            table = t;
            continue;
        }
        // With `-c` every rule starts with its counters: `[0:0] -A ...`.
        let rule = line.split_once("] ").map_or(line, |(_, r)| r);
        if table != "nat" || !rule.starts_with("-A DOCKER ") || !rule.contains("-j DNAT") {
            continue;
        }
        let words: Vec<&str> = rule.split_whitespace().collect();
        let after = |flag: &str| {
            words
                .iter()
                .position(|w| *w == flag)
                .and_then(|i| words.get(i + 1))
                .map(|s| s.to_string())
        };
        if let (Some(port), Some(to)) = (after("--dport"), after("--to-destination")) {
            out.push(Port {
                ns: ns.to_string(),
                proto: after("-p").unwrap_or_else(|| "tcp".into()),
                port,
                to,
                container_ns: None,
            });
        }
    }
    out
}

/// The network namespace inode of a live process.
fn proc_netns_inode(pid: i32) -> Option<u64> {
    crate::netns::inode(std::path::Path::new(&format!("/proc/{pid}/ns/net")))
}

/// Read the lab from the kernel: every host, or only `only` when given.
pub async fn build(lab: &Lab, only: Option<&str>) -> Result<Topology> {
    let hosts: Vec<Lab> = crate::lab::hosts::all(lab);
    let host_names: Vec<String> = hosts.iter().map(|h| h.host.clone()).collect();
    let mut topo = Topology {
        lab: lab.name.clone(),
        ..Default::default()
    };
    let mut raw: HashMap<String, Vec<LinkView>> = HashMap::new();
    for ns in crate::netns::list_with_prefix(&lab.netns_prefix()) {
        let Some((kind, host, label)) = classify(lab, &host_names, &ns) else {
            continue;
        };
        let nl = Netlink::open(&crate::netns::path(&ns))?;
        let links = nl.links_with_addresses().await;
        let mut vni = None;
        if kind == NsKind::Overlay {
            vni = vni_of(&ns);
            if let Ok(Some(i)) = nl.index_of("vxlan0").await {
                for f in nl.fdb(i).await.unwrap_or_default() {
                    if let Some(dst) = f.dst
                        && !topo.tunnels.iter().any(|t| t.ns == ns && t.dst == dst)
                    {
                        topo.tunnels.push(Tunnel {
                            ns: ns.clone(),
                            vni,
                            dst,
                            to_host: None,
                        });
                    }
                }
            }
        }
        nl.close().await;
        let links = links?;
        topo.nodes.push(Namespace {
            name: ns.clone(),
            kind,
            host,
            label,
            vni,
            network: None,
            interfaces: links
                .iter()
                .filter(|l| l.name != "lo")
                .map(|l| iface(l, &links))
                .collect(),
        });
        raw.insert(ns, links);
    }
    // Edges: a link whose IFLA_LINK names an index in its link-netns (or its own
    // namespace when the kernel sent no netnsid). Each veth pair is kept once.
    for (ns, links) in &raw {
        for l in links {
            let (Some(peer), Some(kind)) = (l.peer_index, l.kind.as_deref()) else {
                continue;
            };
            if kind != "veth" && !is_sub_interface(kind) {
                continue;
            }
            // A netnsid the kernel names but no namespace of ours holds: the far end is
            // elsewhere, and the same ifindex here would be another interface.
            let other = match (&l.link_netns, l.link_netnsid) {
                (Some(other), _) => other.clone(),
                (None, None) => ns.clone(),
                (None, Some(_)) => continue,
            };
            let Some(pl) = raw
                .get(&other)
                .and_then(|v| v.iter().find(|p| p.index == peer))
            else {
                continue;
            };
            let a = End {
                ns: ns.clone(),
                ifname: l.name.clone(),
                index: l.index,
            };
            let b = End {
                ns: other.clone(),
                ifname: pl.name.clone(),
                index: pl.index,
            };
            let dup = topo.links.iter().any(|e| e.a == b && e.b == a);
            if !dup {
                topo.links.push(Edge {
                    kind: kind.to_string(),
                    a,
                    b,
                });
            }
        }
    }
    topo.links
        .sort_by(|x, y| (&x.a.ns, x.a.index).cmp(&(&y.a.ns, y.a.index)));
    // Which host each VTEP is: the host whose eth0 holds that address.
    let eth0: Vec<(String, String)> = topo
        .nodes
        .iter()
        .filter(|n| n.kind == NsKind::Host)
        .flat_map(|n| {
            n.interfaces
                .iter()
                .filter(|i| i.name == "eth0")
                .flat_map(|i| i.addrs.iter())
                .map(|a| {
                    (
                        a.split('/').next().unwrap_or("").to_string(),
                        n.label.clone(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for t in &mut topo.tunnels {
        t.to_host = eth0
            .iter()
            .find(|(ip, _)| *ip == t.dst.to_string())
            .map(|(_, h)| h.clone());
    }
    // Ports, from each host's nat table; the target's container by its address.
    for h in &hosts {
        let ns = h.host_ns();
        if let Ok(saved) = crate::firewall::save(&crate::netns::path(&ns)) {
            topo.ports.extend(parse_ports(&ns, &saved));
        }
    }
    for p in &mut topo.ports {
        let ip = p.to.split(':').next().unwrap_or("");
        p.container_ns = topo
            .nodes
            .iter()
            .filter(|n| n.kind == NsKind::Container)
            .find(|n| {
                n.interfaces
                    .iter()
                    .any(|i| i.addrs.iter().any(|a| a.split('/').next() == Some(ip)))
            })
            .map(|n| n.name.clone());
    }
    label_and_share(&mut topo, &hosts);
    if let Some(only) = only {
        narrow(&mut topo, only);
    }
    Ok(topo)
}

/// Label containers whose namespace is named by id, and find the processes of
/// containers that live in another's namespace (compared by inode, never trusted).
fn label_and_share(topo: &mut Topology, hosts: &[Lab]) {
    let inodes: Vec<(u64, String)> = topo
        .nodes
        .iter()
        .filter_map(|n| {
            crate::netns::inode(&crate::netns::path(&n.name)).map(|i| (i, n.name.clone()))
        })
        .collect();
    for h in hosts {
        let host = Some(h.host.clone());
        for net in h.store().networks().unwrap_or_default() {
            for n in topo.nodes.iter_mut().filter(|n| n.host == host) {
                if n.kind == NsKind::Overlay && net.id.starts_with(&n.label) {
                    n.network = Some(net.name.clone());
                }
                if n.kind != NsKind::Host {
                    continue;
                }
                for i in &mut n.interfaces {
                    if net.bridge.as_deref() == Some(i.name.as_str()) {
                        i.network = Some(net.name.clone());
                    }
                }
            }
        }
        let records: Vec<ContainerRecord> = h.store().containers().unwrap_or_default();
        for c in &records {
            if let Some(n) = topo
                .nodes
                .iter_mut()
                .find(|n| n.name == c.netns && c.owns_sandbox())
            {
                n.label = c.name.clone();
            }
            let Some(pid) = c.init.as_ref().map(|p| p.pid) else {
                continue;
            };
            let Some(ino) = proc_netns_inode(pid) else {
                continue;
            };
            let Some((_, ns)) = inodes.iter().find(|(i, _)| *i == ino) else {
                continue;
            };
            if c.owns_sandbox() && *ns == c.netns {
                continue;
            }
            let mode = match topo.node(ns).map(|n| n.kind) {
                Some(NsKind::Host) => "host",
                _ => "container",
            };
            topo.shared.push(Shared {
                container: c.name.clone(),
                ns: ns.clone(),
                mode: mode.into(),
            });
        }
    }
}

/// Keep the world, the one host and what belongs to it.
fn narrow(topo: &mut Topology, host: &str) {
    topo.nodes
        .retain(|n| n.kind == NsKind::World || n.host.as_deref() == Some(host));
    let keep: Vec<String> = topo.nodes.iter().map(|n| n.name.clone()).collect();
    let kept = |ns: &String| keep.contains(ns);
    topo.links.retain(|e| kept(&e.a.ns) && kept(&e.b.ns));
    topo.tunnels.retain(|t| kept(&t.ns));
    topo.ports.retain(|p| kept(&p.ns));
    topo.shared.retain(|s| kept(&s.ns));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_from_iptables_save() {
        let saved = "*filter\n[0:0] -A DOCKER -d 172.18.0.2/32 -p tcp -j ACCEPT\nCOMMIT\n*nat\n\
            [0:0] -A DOCKER ! -i br-1 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:80\n\
            [0:0] -A DOCKER -i docker0 -j RETURN\nCOMMIT\n";
        let p = parse_ports("h", saved);
        assert_eq!(p.len(), 1);
        assert_eq!(
            (p[0].port.as_str(), p[0].to.as_str()),
            ("8080", "172.18.0.2:80")
        );
        assert_eq!(p[0].proto, "tcp");
    }

    #[test]
    fn namespaces_are_classified() {
        let lab = Lab::new("tp").unwrap();
        let hosts = vec!["host".to_string(), "host2".to_string()];
        let c = |n| classify(&lab, &hosts, n);
        assert_eq!(c("dn-tp-world").unwrap().0, NsKind::World);
        assert_eq!(c("dn-tp-host2").unwrap().0, NsKind::Host);
        let (k, h, l) = c("dn-tp-host2-ctr-web").unwrap();
        assert_eq!(
            (k, h.as_deref(), l.as_str()),
            (NsKind::Container, Some("host2"), "web")
        );
        let (k, h, _) = c("dn-tp-ov-0123456789").unwrap();
        assert_eq!((k, h.as_deref()), (NsKind::Overlay, Some("host")));
        assert!(c("dn-other-host").is_none());
    }
}

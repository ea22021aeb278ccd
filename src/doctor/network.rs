//! Checks across networks and processes: two subnets that overlap (in the records, or
//! a network's subnet against an address someone put on another link of the host), and
//! a published port held by a process that is not our docker-proxy.

use super::{Finding, Scope};
use crate::lab::NetworkRecord;
use crate::ui::tr;
use crate::view::model::{LinkView, RouteView};
use ipnet::Ipv4Net;
use std::collections::HashSet;
use std::net::IpAddr;
use std::path::Path;

fn overlap(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Each pair of records with overlapping subnets, once: one of `networks` against any of
/// `all`. `network create` refuses such a pair (Docker's "Pool overlaps"), so only
/// records written elsewhere or by an older build hold one.
fn overlapping_records<'a>(
    networks: &'a [NetworkRecord],
    all: &'a [NetworkRecord],
) -> Vec<(&'a NetworkRecord, &'a NetworkRecord)> {
    let subnet = |n: &NetworkRecord| n.pool().map(|p| p.subnet);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for a in networks {
        let Some(sa) = subnet(a) else { continue };
        for b in all.iter().filter(|b| b.id != a.id) {
            let Some(sb) = subnet(b) else { continue };
            let key = if a.id < b.id {
                (a.id.as_str(), b.id.as_str())
            } else {
                (b.id.as_str(), a.id.as_str())
            };
            if overlap(&sa, &sb) && seen.insert(key) {
                out.push((a, b));
            }
        }
    }
    out
}

/// Two networks whose subnets overlap, or a network's subnet overlapping an address on
/// another link of the lab host: the host's routing table sends one of them the other's
/// traffic.
pub fn overlaps(s: &Scope<'_>, links: &[LinkView], out: &mut Vec<Finding>) {
    let subnet = |n: &NetworkRecord| n.pool().map(|p| p.subnet);
    for (a, b) in overlapping_records(&s.networks, &s.all_networks) {
        let (Some(sa), Some(sb)) = (subnet(a), subnet(b)) else {
            continue;
        };
        let (older, newer) = if a.created <= b.created {
            (a, b)
        } else {
            (b, a)
        };
        out.push(Finding {
            id: "subnet-overlap",
            severity: "error",
            what: tr(
                format!(
                    "networks {} ({sa}) and {} ({sb}) have overlapping subnets",
                    a.name, b.name
                ),
                format!("网络 {}（{sa}）和 {}（{sb}）的子网重叠", a.name, b.name),
            ),
            why: tr(
                "the shared addresses belong to two networks at once, but the host (like a container on both) picks one route for them: packets for those addresses go to one network only, and the other network's containers there are unreachable",
                "重叠的地址同时属于两个网络，但宿主机（以及同时接入两个网络的容器）只会为它们选一条路由：发往这些地址的数据包只会进入其中一个网络，另一个网络上这些地址的容器就访问不到了",
            ),
            fix: format!("{} network rm {}", s.dockernet(), newer.name)
                + &tr(
                    format!("   # then create it again with a --subnet outside {older_sub}", older_sub = subnet(older).map(|x| x.to_string()).unwrap_or_default()),
                    format!("   # 然后用不与 {older_sub} 重叠的 --subnet 重新创建", older_sub = subnet(older).map(|x| x.to_string()).unwrap_or_default()),
                ),
        });
    }
    // Against the kernel: an address on a link that is not the network's own bridge.
    // Only bridge networks have their subnet on this host's links (a macvlan network
    // shares its parent's LAN by design; an overlay's lives in its own namespace).
    for n in s.networks.iter().filter(|n| n.driver == "bridge") {
        let (Some(sn), Some(br)) = (subnet(n), n.bridge.as_deref()) else {
            continue;
        };
        for l in links.iter().filter(|l| l.name != br) {
            for a in &l.addrs {
                let IpAddr::V4(v4) = a.addr else { continue };
                let Ok(net) = Ipv4Net::new(v4, a.prefix_len) else {
                    continue;
                };
                if a.scope != "global" || !overlap(&sn, &net.trunc()) {
                    continue;
                }
                let addr = format!("{v4}/{}", a.prefix_len);
                out.push(Finding {
                    id: "subnet-overlap",
                    severity: "error",
                    what: tr(
                        format!(
                            "network {} ({sn}) overlaps the address {addr} on {} of the lab host",
                            n.name, l.name
                        ),
                        format!(
                            "网络 {}（{sn}）与宿主机网卡 {} 上的地址 {addr} 重叠",
                            n.name, l.name
                        ),
                    ),
                    why: tr(
                        format!(
                            "the host has routes for the same addresses through {br} and {}: traffic for one side goes to the other",
                            l.name
                        ),
                        format!(
                            "宿主机经 {br} 和 {} 都有通往这些地址的路由：发给一边的流量会被送到另一边",
                            l.name
                        ),
                    ),
                    fix: s.host_cmd(&format!("ip addr del {addr} dev {}", l.name)),
                });
            }
        }
    }
}

/// A route someone added in the lab host for part of a bridge network's subnet (a VPN's,
/// a `ip route add` by hand): more specific than the bridge's own route, or in its place,
/// it wins the lookup, and the host sends those containers' packets elsewhere. Routes
/// the kernel made for an address (`proto kernel`) are the address check's business.
pub fn route_overlaps(s: &Scope<'_>, routes: &[RouteView], out: &mut Vec<Finding>) {
    for n in s.networks.iter().filter(|n| n.driver == "bridge") {
        let (Some(pool), Some(br)) = (n.pool(), n.bridge.as_deref()) else {
            continue;
        };
        let sn = pool.subnet;
        let own = routes.iter().any(|r| {
            r.dev.as_deref() == Some(br)
                && r.destination == Some((IpAddr::V4(sn.network()), sn.prefix_len()))
        });
        for r in routes {
            let Some((IpAddr::V4(dst), len)) = r.destination else {
                continue;
            };
            let Ok(net) = Ipv4Net::new(dst, len) else {
                continue;
            };
            if r.protocol == "kernel" || r.dev.as_deref() == Some(br) || !sn.contains(&net) {
                continue;
            }
            // Same prefix: it only wins when it took the bridge's route's place.
            if len == sn.prefix_len() && own {
                continue;
            }
            let via = r.gateway.map(|g| format!(" via {g}")).unwrap_or_default();
            let dev = r.dev.clone().unwrap_or_default();
            let route = format!("{net}{via} dev {dev}");
            let mut fix = s.host_cmd(&format!("ip route del {route}"));
            if !own {
                fix.push('\n');
                fix.push_str(&s.host_cmd(&format!(
                    "ip route add {sn} dev {br} proto kernel scope link src {}",
                    pool.gateway
                )));
            }
            let (via_en, via_zh) = match r.gateway {
                Some(g) => (format!(" via {g}"), format!("经 {g} ")),
                None => (String::new(), String::new()),
            };
            let (why_en, why_zh) = if own {
                (
                    format!(
                        "the longest matching prefix wins: {net} is more specific than {br}'s {sn}"
                    ),
                    format!("路由按最长前缀匹配：{net} 比 {br} 的 {sn} 更具体"),
                )
            } else {
                (
                    format!("it took the place of {br}'s own route for {sn}"),
                    format!("它顶替了 {br} 自己的 {sn} 路由"),
                )
            };
            out.push(Finding {
                id: "subnet-overlap",
                severity: "error",
                what: tr(
                    format!(
                        "the lab host routes {net} of network {} ({sn}){via_en} out {dev}, not into {br}: {route}",
                        n.name
                    ),
                    format!(
                        "宿主机把网络 {}（{sn}）中的 {net} {via_zh}路由到 {dev}，而不是网桥 {br}：{route}",
                        n.name
                    ),
                ),
                why: tr(
                    format!(
                        "{why_en}, so packets from the host (and every reply it routes) to the containers in {net} leave through {dev} and never reach them"
                    ),
                    format!(
                        "{why_zh}，所以宿主机发往 {net} 中容器的数据包（以及它转发的回包）都从 {dev} 出去，永远到不了容器"
                    ),
                ),
                fix,
            });
        }
    }
}

/// One listening socket of the lab host's namespace.
struct Listener {
    proto: &'static str,
    addr: String,
    port: u16,
    inode: u64,
}

/// Listening TCP sockets and bound UDP sockets, from the namespace's own /proc/net
/// tables (`/proc/thread-self/net`: `/proc/self/net` is the thread-group leader's
/// namespace, not the thread's that entered the lab host's).
fn listeners(host_ns: &Path) -> Vec<Listener> {
    let read = || {
        let mut out = Vec::new();
        for (file, proto, state) in [
            ("tcp", "tcp", "0A"),
            ("tcp6", "tcp", "0A"),
            ("udp", "udp", "07"),
            ("udp6", "udp", "07"),
        ] {
            let text = std::fs::read_to_string(format!("/proc/thread-self/net/{file}"))
                .unwrap_or_default();
            for line in text.lines().skip(1) {
                let f: Vec<&str> = line.split_whitespace().collect();
                if f.len() < 10 || f[3] != state {
                    continue;
                }
                let Some((addr, port)) = f[1].split_once(':') else {
                    continue;
                };
                let (Ok(port), Ok(inode)) = (u16::from_str_radix(port, 16), f[9].parse()) else {
                    continue;
                };
                let addr = match u32::from_str_radix(addr, 16) {
                    // IPv4 in the kernel's byte order (little-endian here).
                    Ok(v) if addr.len() == 8 => {
                        std::net::Ipv4Addr::from(v.swap_bytes()).to_string()
                    }
                    _ if addr.bytes().all(|b| b == b'0') => "::".into(),
                    _ => "[v6]".into(),
                };
                out.push(Listener {
                    proto,
                    addr,
                    port,
                    inode,
                });
            }
        }
        out
    };
    crate::netns::in_netns(host_ns, read).unwrap_or_default()
}

/// The root-namespace PIDs holding a socket inode, and their program names.
fn owners(inode: u64) -> Vec<(i32, String)> {
    let want = format!("socket:[{inode}]");
    let mut out = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        if fds
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == want.as_str()))
        {
            let comm = std::fs::read_to_string(p.path().join("comm")).unwrap_or_default();
            out.push((pid, comm.trim().to_string()));
        }
    }
    out
}

/// A process's PID in the innermost PID namespace but the machine's (the lab host's, for
/// what runs there: `NSpid:` lists it outermost first), when it is in one.
fn lab_host_pid(pid: i32) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let ids: Vec<i32> = status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))?
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    ids.get(1).copied()
}

/// What a stranger on a published port breaks. With the userland proxy, DNAT sends
/// only what comes from elsewhere to the container and leaves the rest to docker-proxy
/// (the host's connections to 127.0.0.1, which OUTPUT's `! -d 127.0.0.0/8` skips, and a
/// bridge's own containers, which the DOCKER chain's `-i docker0 -j RETURN` skips): the
/// stranger gets those. Without the proxy every connection to the port is DNATed before
/// a socket sees it, so the stranger only shadows the port.
fn taken_why(userland_proxy: bool, port: u16) -> (&'static str, String) {
    if userland_proxy {
        (
            "error",
            tr(
                format!(
                    "it is not docker-proxy: DNAT still sends connections from other machines to the container, but those it leaves to the proxy (the lab host's own to 127.0.0.1:{port}, the containers' to the host's addresses) reach this process, so they see the wrong service; and docker-proxy cannot bind the port again while it is held"
                ),
                format!(
                    "它不是 docker-proxy：其他机器来的连接仍被 DNAT 送往容器，但原本由 docker-proxy 接手的连接（宿主机自己访问 127.0.0.1:{port}，容器访问宿主机地址）都到了这个进程，看到的是错误的服务；而且端口被占着，docker-proxy 也没法重新绑定"
                ),
            ),
        )
    } else {
        (
            "warning",
            tr(
                "without the userland proxy every connection to the port is DNATed to the container before any socket sees it, so this process receives none: harmless today, but whoever runs it believes it serves the port, and it takes the connections the day the DNAT rule is gone",
                "没有 userland proxy 时，到这个端口的连接在到达任何套接字之前就被 DNAT 到容器，这个进程一个连接也收不到：眼下无害，但运行它的人以为是它在提供这个端口的服务，一旦 DNAT 规则没了，连接就都归它了",
            ),
        )
    }
}

/// A published host port on which something other than our docker-proxy listens in the
/// lab host's namespace: without the proxy the port looks free to the kernel, and with
/// it the other process may take connections meant for the container.
pub fn ports_taken(s: &Scope<'_>, host_ns: &Path, out: &mut Vec<Finding>) {
    let published: Vec<(&str, &crate::ports::PortBinding)> = s
        .containers
        .iter()
        .flat_map(|c| c.ports.iter().map(move |p| (c.name.as_str(), p)))
        .filter(|(_, p)| p.host_port != 0)
        .collect();
    if published.is_empty() {
        return;
    }
    let proxies: HashSet<i32> = s
        .all_containers
        .iter()
        .flat_map(|c| c.proxies.iter().map(|p| p.pid))
        .collect();
    let mut reported = HashSet::new();
    for l in listeners(host_ns) {
        let Some((ctr, b)) = published
            .iter()
            .find(|(_, b)| b.host_port == l.port && b.proto == l.proto)
        else {
            continue;
        };
        let who = owners(l.inode);
        if who.iter().any(|(pid, _)| proxies.contains(pid)) {
            continue;
        }
        let strangers: Vec<&(i32, String)> =
            who.iter().filter(|(p, _)| !proxies.contains(p)).collect();
        if !reported.insert((l.port, l.proto)) {
            continue;
        }
        let names = if strangers.is_empty() {
            tr("an unknown process", "一个未知进程")
        } else {
            strangers
                .iter()
                .map(|(pid, comm)| match lab_host_pid(*pid) {
                    Some(inner) => tr(
                        format!("{comm} (PID {pid}; {inner} in the lab host's `ps`)"),
                        format!("{comm}（PID {pid}；在宿主机的 `ps` 里是 {inner}）"),
                    ),
                    None => format!("{comm} (PID {pid})"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let fix = if strangers.is_empty() {
            s.host_cmd(&format!("ss -lnp sport = :{}", l.port))
        } else {
            strangers
                .iter()
                .map(|(pid, _)| format!("sudo kill {pid}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (severity, why) = taken_why(s.rec.userland_proxy, l.port);
        out.push(Finding {
            id: "port-taken",
            severity,
            what: tr(
                format!(
                    "{names} listens on {}:{}/{} in the lab host, the port published for container {ctr} ({}:{}/{})",
                    l.addr, l.port, l.proto, b.host_port, b.container_port, b.proto
                ),
                format!(
                    "{names} 在宿主机上监听 {}:{}/{}，而这个端口已映射给容器 {ctr}（{}:{}/{}）",
                    l.addr, l.port, l.proto, b.host_port, b.container_port, b.proto
                ),
            ),
            why,
            fix,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, subnet: &str) -> NetworkRecord {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": format!("n{id}"), "driver": "bridge", "created": 0.0,
            "ipam": [{"subnet": subnet, "gateway": "10.0.0.1"}],
            "internal": false, "attachable": false, "options": {}, "labels": {},
            "bridge": format!("br-{id}"), "predefined": false, "status": "up",
            "creator": null, "steps": []
        }))
        .expect("a network record")
    }

    #[test]
    fn each_overlapping_pair_once() {
        let all = vec![
            record("a", "172.18.0.0/16"),
            record("b", "172.18.5.0/24"),
            record("c", "172.19.0.0/16"),
        ];
        let pairs = overlapping_records(&all, &all);
        let names: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(x, y)| (x.id.as_str(), y.id.as_str()))
            .collect();
        assert_eq!(names, vec![("a", "b")]);
        // Narrowed to c: nothing overlaps it.
        assert!(overlapping_records(&all[2..], &all).is_empty());
        assert_eq!(overlapping_records(&all[1..2], &all).len(), 1);
    }
}

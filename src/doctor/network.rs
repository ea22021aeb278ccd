//! Checks across networks and processes: two subnets that overlap (in the records, or
//! a network's subnet against an address someone put on another link of the host), and
//! a published port held by a process that is not our docker-proxy.

use super::{Finding, Scope};
use crate::ui::tr;
use crate::view::model::LinkView;
use ipnet::Ipv4Net;
use std::collections::HashSet;
use std::net::IpAddr;
use std::path::Path;

fn overlap(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Two networks whose subnets overlap, or a network's subnet overlapping an address on
/// another link of the lab host: the host's routing table sends one of them the other's
/// traffic.
pub fn overlaps(s: &Scope<'_>, links: &[LinkView], out: &mut Vec<Finding>) {
    let subnet = |n: &crate::lab::NetworkRecord| n.pool().map(|p| p.subnet);
    let mut seen = HashSet::new();
    for a in &s.networks {
        let Some(sa) = subnet(a) else { continue };
        for b in s.all_networks.iter().filter(|b| b.id != a.id) {
            let Some(sb) = subnet(b) else { continue };
            let key = if a.id < b.id {
                (a.id.clone(), b.id.clone())
            } else {
                (b.id.clone(), a.id.clone())
            };
            if !overlap(&sa, &sb) || !seen.insert(key) {
                continue;
            }
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
                    "the host holds one route per prefix: packets for the shared addresses go to one bridge only, and the other network's containers are unreachable",
                    "宿主机对同一个前缀只有一条路由：发往重叠地址的数据包只会走其中一个网桥，另一个网络上的容器就访问不到了",
                ),
                fix: format!("{} network rm {}", s.dockernet(), newer.name)
                    + &tr(
                        format!("   # then create it again with a --subnet outside {older_sub}", older_sub = subnet(older).map(|x| x.to_string()).unwrap_or_default()),
                        format!("   # 然后用不与 {older_sub} 重叠的 --subnet 重新创建", older_sub = subnet(older).map(|x| x.to_string()).unwrap_or_default()),
                    ),
            });
        }
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
                .map(|(pid, comm)| format!("{comm} (PID {pid})"))
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
        out.push(Finding {
            id: "port-taken",
            severity: "error",
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
            why: tr(
                "it is not docker-proxy: connections to this port reach that process or the container depending on where they come from (DNAT takes what arrives from outside, the process gets the rest), so clients see the wrong service or nothing",
                "它不是 docker-proxy：连接这个端口时，到达的是那个进程还是容器，取决于连接从哪里来（外面进来的被 DNAT 送往容器，其余的交给那个进程），客户端看到的是错误的服务，或者什么都没有",
            ),
            fix,
        });
    }
}

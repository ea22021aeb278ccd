//! Checks of the running containers: their bridge ports (host-side veths) and bridges
//! up, a default route in their namespace, the DNS redirect of user-defined networks.

use super::{Finding, Scope, Tables};
use crate::ui::tr;
use crate::view::model::LinkView;

/// `IFF_UP`: the administrative state (`ip link set X up`).
const IFF_UP: u32 = 1;

/// A bridge down, or a container's host-side veth down: frames stop at that link.
pub fn bridge_ports(s: &Scope<'_>, links: &[LinkView], out: &mut Vec<Finding>) {
    let is_up = |name: &str| {
        links
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.flags & IFF_UP != 0)
    };
    let mut bridges: Vec<(&str, &str)> = Vec::new();
    for c in &s.containers {
        for e in &c.endpoints {
            // Only bridge networks have their veths in the host's namespace (an
            // overlay's br0 lives in the overlay's namespace, macvlan has no veth).
            let Some(n) = s.network(&e.network_id).filter(|n| n.driver == "bridge") else {
                continue;
            };
            if !e.bridge.is_empty() && !bridges.iter().any(|(b, _)| *b == e.bridge) {
                bridges.push((&e.bridge, &n.name));
            }
            if e.veth.is_empty() || is_up(&e.veth) != Some(false) {
                continue;
            }
            out.push(Finding {
                id: "bridge-port-down",
                severity: "error",
                what: tr(
                    format!(
                        "{}, the host end of container {}'s {} on {}, is down",
                        e.veth, c.name, e.ifname, e.bridge
                    ),
                    format!(
                        "{} 是容器 {} 的 {} 在宿主机一端的 veth，接在 {} 上，它处于 down 状态",
                        e.veth, c.name, e.ifname, e.bridge
                    ),
                ),
                why: tr(
                    format!(
                        "a port that is down passes no frames: {} is cut off from {} ({}), its gateway and the outside",
                        c.name, e.network, e.bridge
                    ),
                    format!(
                        "处于 down 状态的端口不转发任何帧：{} 与网络 {}（{}）、网关和外部都断开了",
                        c.name, e.network, e.bridge
                    ),
                ),
                fix: s.host_cmd(&format!("ip link set {} up", e.veth)),
            });
        }
    }
    // The networks' own bridges too, with or without containers.
    for n in s.networks.iter().filter(|n| n.driver == "bridge") {
        if let Some(b) = n.bridge.as_deref()
            && !bridges.iter().any(|(x, _)| *x == b)
        {
            bridges.push((b, &n.name));
        }
    }
    for (br, net) in bridges {
        if is_up(br) != Some(false) {
            continue;
        }
        out.push(Finding {
            id: "bridge-down",
            severity: "error",
            what: tr(
                format!("bridge {br} (network {net}) is down"),
                format!("网桥 {br}（网络 {net}）处于 down 状态"),
            ),
            why: tr(
                "a bridge that is down neither switches frames between its ports nor routes for them: its containers reach nothing, not even their gateway",
                "处于 down 状态的网桥既不在端口之间转发帧，也不为它们做路由：上面的容器什么都访问不到，连网关也不行",
            ),
            fix: s.host_cmd(&format!("ip link set {br} up")),
        });
    }
}

/// An overlay's own namespace on this host (`dn-<lab>[-<host>]-ov-<10 hex>`, as
/// `driver::overlay` names it).
fn overlay_ns(s: &Scope<'_>, id: &str) -> String {
    format!("{}ov-{}", s.lab.host_prefix(), &id[..id.len().min(10)])
}

/// An overlay's br0, its vxlan0, or a container's veth on br0 down. They live in the
/// overlay's namespace, not the host's, so the host's links never show them.
pub async fn overlay_ports(s: &Scope<'_>, out: &mut Vec<Finding>) {
    for n in s.networks.iter().filter(|n| n.driver == "overlay") {
        let ns = overlay_ns(s, &n.id);
        let Ok(nl) = crate::link::Netlink::open(&crate::netns::path(&ns)) else {
            continue;
        };
        let links = nl.links().await;
        nl.close().await;
        let Ok(links) = links else { continue };
        let down = |name: &str| {
            links
                .iter()
                .any(|l| l.name == name && l.flags & IFF_UP == 0)
        };
        let fix = |link: &str| format!("sudo ip netns exec {ns} ip link set {link} up");
        if down("br0") {
            out.push(Finding {
                id: "bridge-down",
                severity: "error",
                what: tr(
                    format!("bridge br0 of overlay {} (in {ns}) is down", n.name),
                    format!("overlay 网络 {} 的网桥 br0（在 {ns} 中）处于 down 状态", n.name),
                ),
                why: tr(
                    "a bridge that is down switches no frames: the overlay's containers on this host reach neither each other nor the containers of other hosts",
                    "处于 down 状态的网桥不转发任何帧：这台宿主机上 overlay 网络的容器彼此不通，也访问不到其他宿主机上的容器",
                ),
                fix: fix("br0"),
            });
        }
        if down("vxlan0") {
            out.push(Finding {
                id: "bridge-port-down",
                severity: "error",
                what: tr(
                    format!("vxlan0 of overlay {} (in {ns}) is down", n.name),
                    format!("overlay 网络 {} 的 vxlan0（在 {ns} 中）处于 down 状态", n.name),
                ),
                why: tr(
                    "vxlan0 is br0's port to the other hosts: down, it encapsulates nothing, and the containers on other hosts are unreachable",
                    "vxlan0 是 br0 通往其他宿主机的端口：它处于 down 状态时不封装任何帧，其他宿主机上的容器都访问不到",
                ),
                fix: fix("vxlan0"),
            });
        }
        for c in &s.containers {
            for e in c.endpoints.iter().filter(|e| e.network_id == n.id) {
                if e.veth.is_empty() || !down(&e.veth) {
                    continue;
                }
                out.push(Finding {
                    id: "bridge-port-down",
                    severity: "error",
                    what: tr(
                        format!(
                            "{}, the overlay end of container {}'s {} on br0 (in {ns}), is down",
                            e.veth, c.name, e.ifname
                        ),
                        format!(
                            "{} 是容器 {} 的 {} 在 overlay 一端的 veth，接在 br0 上（在 {ns} 中），它处于 down 状态",
                            e.veth, c.name, e.ifname
                        ),
                    ),
                    why: tr(
                        format!(
                            "a port that is down passes no frames: {} is cut off from overlay {}",
                            c.name, n.name
                        ),
                        format!(
                            "处于 down 状态的端口不转发任何帧：{} 与 overlay 网络 {} 断开了",
                            c.name, n.name
                        ),
                    ),
                    fix: fix(&e.veth),
                });
            }
        }
    }
}

/// A running container with its own namespace on a bridge or overlay network that is
/// not internal, but no default route: it reaches its own subnets only.
pub async fn default_routes(s: &Scope<'_>, out: &mut Vec<Finding>) {
    for c in s.containers.iter().filter(|c| c.owns_sandbox()) {
        let mut needs = c.endpoints.iter().filter(|e| {
            s.network(&e.network_id)
                .is_some_and(|n| (n.driver == "bridge" || n.driver == "overlay") && !n.internal)
        });
        let Some(first) = needs.next() else { continue };
        // The endpoint that should hold it: the recorded one, else the first candidate
        // (an overlay's default route is on docker_gwbridge).
        let ep = c
            .endpoints
            .iter()
            .find(|e| e.default_route)
            .unwrap_or(first);
        let ns = crate::netns::path(&c.netns);
        let Ok(nl) = crate::link::Netlink::open(&ns) else {
            continue;
        };
        let routes = nl.routes().await;
        nl.close().await;
        let Ok(routes) = routes else { continue };
        if routes.iter().any(|r| r.destination.is_none()) {
            continue;
        }
        out.push(Finding {
            id: "no-default-route",
            severity: "error",
            what: tr(
                format!("container {} has no default route", c.name),
                format!("容器 {} 没有默认路由", c.name),
            ),
            why: tr(
                format!(
                    "it can reach only its own subnets: every other address (the internet, the LAN, other hosts) gets \"Network unreachable\"; Docker routes it via its gateway {} on {}",
                    ep.gateway, ep.ifname
                ),
                format!(
                    "它只能访问自己所在的子网：其他地址（互联网、局域网、别的宿主机）都报 \"Network unreachable\"；Docker 给它的默认路由经 {} 上的网关 {}",
                    ep.ifname, ep.gateway
                ),
            ),
            fix: format!(
                "sudo ip netns exec {} ip route add default via {} dev {}",
                c.netns, ep.gateway, ep.ifname
            ),
        });
    }
}

/// A container on a user-defined network without Docker's DNS redirect in its own nat
/// table: queries to 127.0.0.11:53 reach no server.
pub fn dns_redirects(s: &Scope<'_>, out: &mut Vec<Finding>) {
    for c in s.containers.iter().filter(|c| c.owns_sandbox()) {
        let Some(ports) = c.dns else { continue };
        let Ok(saved) = crate::firewall::save(&crate::netns::path(&c.netns)) else {
            continue;
        };
        let t = Tables::parse(&saved);
        let ip = "127.0.0.11/32";
        let wanted = [
            ("OUTPUT".to_string(), format!("-d {ip} -j DOCKER_OUTPUT")),
            (
                "DOCKER_OUTPUT".to_string(),
                format!(
                    "-d {ip} -p udp -m udp --dport 53 -j DNAT --to-destination 127.0.0.11:{}",
                    ports.udp
                ),
            ),
            (
                "DOCKER_OUTPUT".to_string(),
                format!(
                    "-d {ip} -p tcp -m tcp --dport 53 -j DNAT --to-destination 127.0.0.11:{}",
                    ports.tcp
                ),
            ),
        ];
        let missing: Vec<String> = wanted
            .iter()
            .filter(|(chain, args)| !t.has("nat", chain, args))
            .map(|(chain, args)| format!("-A {chain} {args}"))
            .collect();
        if missing.is_empty() {
            continue;
        }
        out.push(Finding {
            id: "dns-redirect-missing",
            severity: "error",
            what: tr(
                format!(
                    "container {} lacks Docker's DNS redirect in its nat table: {}",
                    c.name,
                    missing.join("; ")
                ),
                format!(
                    "容器 {} 的 nat 表缺少 Docker 的 DNS 重定向规则：{}",
                    c.name,
                    missing.join("；")
                ),
            ),
            why: tr(
                format!(
                    "its resolv.conf names 127.0.0.11, but nothing listens on port 53 there: the queries must be DNATed to the embedded DNS server's ports (udp {}, tcp {}), or no name resolves, not even the other containers'",
                    ports.udp, ports.tcp
                ),
                format!(
                    "它的 resolv.conf 指向 127.0.0.11，但那里的 53 端口没有人监听：查询必须 DNAT 到内嵌 DNS 服务器的端口（udp {}，tcp {}），否则什么名字都解析不了，其他容器的名字也不行",
                    ports.udp, ports.tcp
                ),
            ),
            // A restart rebuilds the sandbox, and the redirect with it.
            fix: format!("{} restart {}", s.dockernet(), c.name),
        });
    }
}

//! Checks of the lab host itself: IP forwarding, and the iptables rules every bridge
//! network needs (FORWARD's ACCEPT rules under a DROP policy, MASQUERADE, the nat
//! OUTPUT jump to DOCKER).

use super::{Finding, Scope, Tables};
use crate::lab::NetworkRecord;
use crate::ui::tr;
use std::path::Path;

/// `net.ipv4.ip_forward` off in the lab host: nothing is routed between its bridges
/// and its eth0.
pub fn ip_forward(s: &Scope<'_>, host_ns: &Path, out: &mut Vec<Finding>) {
    let key = "net.ipv4.ip_forward";
    let value = crate::netns::sysctl_get(host_ns, key).unwrap_or_default();
    if value == "1" {
        return;
    }
    out.push(Finding {
        id: "ip-forward-off",
        severity: "error",
        what: tr(
            format!("{key} is {value} in the lab host ({})", s.lab.host_ns()),
            format!("宿主机（{}）上的 {key} 是 {value}", s.lab.host_ns()),
        ),
        why: tr(
            "the kernel does not route packets between the bridges and eth0: containers cannot reach the outside, and published ports are unreachable from other machines",
            "内核不在网桥和 eth0 之间转发数据包：容器访问不了外部，其他机器也访问不到端口映射",
        ),
        fix: s.host_cmd(&format!("sysctl -w {key}=1")),
    });
}

/// The bridge networks whose rules the host must hold: bridge driver, with a bridge.
fn bridges<'a>(s: &'a Scope<'_>) -> impl Iterator<Item = (&'a NetworkRecord, &'a str)> {
    s.networks
        .iter()
        .filter(|n| n.driver == "bridge")
        .filter_map(|n| n.bridge.as_deref().map(|b| (n, b)))
}

/// FORWARD policy DROP (Docker's) without a bridge network's ACCEPT rules: replies
/// to the containers, or their own traffic out, are dropped.
pub fn forward_rules(s: &Scope<'_>, t: &Tables, out: &mut Vec<Finding>) {
    if t.policy("filter", "FORWARD") != Some("DROP") {
        return;
    }
    let engine = s.rec.engine;
    for (n, br) in bridges(s).filter(|(n, _)| !n.internal) {
        let wanted = wanted_forward(engine, br, n.icc());
        let missing: Vec<_> = wanted
            .iter()
            .filter(|(chain, args, _)| !t.has("filter", chain, args))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let rules: Vec<String> = missing
            .iter()
            .map(|(c, a, _)| format!("-A {c} {a}"))
            .collect();
        let why: Vec<&str> = missing.iter().map(|(_, _, w)| w.as_str()).collect();
        out.push(Finding {
            id: "forward-accept-missing",
            severity: "error",
            what: tr(
                format!(
                    "the FORWARD policy is DROP and network {} ({br}) lacks Docker's rule(s): {}",
                    n.name,
                    rules.join("; ")
                ),
                format!(
                    "FORWARD 链的默认策略是 DROP，网络 {}（{br}）缺少 Docker 的规则：{}",
                    n.name,
                    rules.join("；")
                ),
            ),
            why: tr(
                format!(
                    "every forwarded packet that no rule accepts falls to the DROP policy: {}",
                    why.join("; ")
                ),
                format!(
                    "没有规则放行的转发数据包都按默认策略 DROP 处理：{}",
                    why.join("；")
                ),
            ),
            // 27: position 3, below the DOCKER-USER and DOCKER-ISOLATION-STAGE-1 jumps,
            // as Docker inserts them; 28+ appends to its own chains.
            fix: missing
                .iter()
                .map(|(c, a, _)| {
                    s.host_cmd(&if engine.has_docker_forward() {
                        format!("iptables -A {c} {a}")
                    } else {
                        format!("iptables -I FORWARD 3 {a}")
                    })
                })
                .collect::<Vec<_>>()
                .join("\n"),
        });
    }
}

/// The rules without which a bridge's traffic falls to a DROP policy: the conntrack
/// ACCEPT for replies and the ACCEPT of what its containers send out, as (chain, args,
/// what breaks) in the engine's layout.
fn wanted_forward(
    engine: crate::firewall::Engine,
    br: &str,
    icc: bool,
) -> Vec<(&'static str, String, String)> {
    let replies = tr(
        "replies to connections the containers opened are dropped on their way back",
        "容器发起的连接，回包在回来的路上被丢弃",
    );
    let out = tr(
        "packets the containers send out to other networks are dropped",
        "容器发往其他网络的数据包被丢弃",
    );
    let ct = format!("-o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
    if !engine.has_docker_forward() {
        return vec![
            ("FORWARD", ct, replies),
            ("FORWARD", format!("-i {br} ! -o {br} -j ACCEPT"), out),
        ];
    }
    let outgoing = if icc {
        format!("-i {br} -j ACCEPT")
    } else {
        format!("-i {br} ! -o {br} -j ACCEPT")
    };
    vec![
        ("DOCKER-CT", ct, replies),
        ("DOCKER-FORWARD", outgoing, out),
    ]
}

/// A bridge network's MASQUERADE missing from nat POSTROUTING: its containers' packets
/// leave with their private source address, and no reply finds its way back.
pub fn masquerade(s: &Scope<'_>, t: &Tables, out: &mut Vec<Finding>) {
    for (n, br) in bridges(s).filter(|(n, _)| !n.internal && n.masquerade()) {
        let Some(pool) = n.pool() else { continue };
        let args = format!("-s {} ! -o {br} -j MASQUERADE", pool.subnet);
        if t.has("nat", "POSTROUTING", &args) {
            continue;
        }
        out.push(Finding {
            id: "masquerade-missing",
            severity: "error",
            what: tr(
                format!(
                    "nat POSTROUTING has no MASQUERADE for network {} ({}): -A POSTROUTING {args}",
                    n.name, pool.subnet
                ),
                format!(
                    "nat 表的 POSTROUTING 链没有网络 {}（{}）的 MASQUERADE 规则：-A POSTROUTING {args}",
                    n.name, pool.subnet
                ),
            ),
            why: tr(
                format!(
                    "packets from {} leave the host with their private source address; the far end's replies never find their way back",
                    pool.subnet
                ),
                format!(
                    "{} 发出的数据包带着私有源地址离开宿主机，对方的回包找不到回来的路",
                    pool.subnet
                ),
            ),
            fix: s.host_cmd(&format!("iptables -t nat -I POSTROUTING {args}")),
        });
    }
}

/// The nat OUTPUT jump to DOCKER missing while a port is published without the userland
/// proxy: the host's own connections to its published ports are never DNATed. With the
/// proxy, docker-proxy answers them, so the jump only matters without it.
pub fn output_jump(s: &Scope<'_>, t: &Tables, out: &mut Vec<Finding>) {
    if s.rec.userland_proxy {
        return;
    }
    let published: Vec<String> = s
        .containers
        .iter()
        .flat_map(|c| c.ports.iter())
        .filter(|p| p.host_port != 0)
        .map(|p| format!("{}/{}", p.host_port, p.proto))
        .collect();
    let jumps: Vec<&str> = t
        .chain("nat", "OUTPUT")
        .filter(|r| r.ends_with(" -j DOCKER"))
        .collect();
    let args = "-m addrtype --dst-type LOCAL -j DOCKER";
    if published.is_empty() || jumps.iter().any(|r| !r.contains("! -d 127.0.0.0/8")) {
        return;
    }
    if let Some(rule) = jumps.first() {
        // The userland proxy's form of the rule: 127.0.0.1 is left to a proxy that is
        // not there.
        out.push(Finding {
            id: "output-dnat-missing",
            severity: "warning",
            what: tr(
                format!("nat OUTPUT's jump to DOCKER skips 127.0.0.0/8 ({rule}), and the userland proxy is off"),
                format!("nat 表 OUTPUT 链跳转到 DOCKER 的规则排除了 127.0.0.0/8（{rule}），而 userland proxy 是关闭的"),
            ),
            why: tr(
                format!(
                    "that form is for hosts with docker-proxy, which serves 127.0.0.1: here the host's connections to 127.0.0.1 on its published ports ({}) are not DNATed, and nothing listens there",
                    published.join(", ")
                ),
                format!(
                    "这种写法是给有 docker-proxy 的宿主机用的，由 docker-proxy 负责 127.0.0.1：这里宿主机访问 127.0.0.1 上的端口映射（{}）时不做 DNAT，也没有进程在监听",
                    published.join("、")
                ),
            ),
            fix: [
                s.host_cmd(&rule.replacen("-A ", "iptables -t nat -D ", 1)),
                s.host_cmd(&format!("iptables -t nat -A OUTPUT {args}")),
            ]
            .join("\n"),
        });
        return;
    }
    out.push(Finding {
        id: "output-dnat-missing",
        severity: "error",
        what: tr(
            format!("nat OUTPUT has no jump to DOCKER (-A OUTPUT {args}), and the userland proxy is off"),
            format!("nat 表的 OUTPUT 链没有跳转到 DOCKER 链（-A OUTPUT {args}），而 userland proxy 是关闭的"),
        ),
        why: tr(
            format!(
                "the host's own connections to its published ports ({}) are not DNATed to the containers, and no docker-proxy listens: the host cannot reach them",
                published.join(", ")
            ),
            format!(
                "宿主机自己访问端口映射（{}）的连接不做 DNAT，也没有 docker-proxy 在监听：宿主机连不上这些端口",
                published.join("、")
            ),
        ),
        fix: s.host_cmd(&format!("iptables -t nat -A OUTPUT {args}")),
    });
}

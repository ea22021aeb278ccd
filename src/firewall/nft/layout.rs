//! What Docker 29's nftables backend writes into `ip docker-bridges` (moby's
//! `integration/network/bridge/nftablesdoc` dumps): the daemon's table, its four
//! verdict maps and base chains; each bridge's four chains, reached through the maps by
//! interface name; each endpoint's raw drop; each published port's rules.

use super::{NftOp, NftRule};
use crate::docker::PortBinding;
use crate::firewall::why;
use crate::ui::tr;
use std::net::Ipv4Addr;

/// The four per-bridge chains, each with the map that jumps to it, in Docker's order.
const PER_BRIDGE: [(&str, &str); 4] = [
    ("filter-forward-in", "filter-forward-in-jumps"),
    ("filter-forward-out", "filter-forward-out-jumps"),
    ("nat-postrouting-in", "nat-postrouting-in-jumps"),
    ("nat-postrouting-out", "nat-postrouting-out-jumps"),
];

/// The rule that ends a bridge's filter-forward-in chain; published ports go above it.
pub const UNPUBLISHED_DROP: &str = "counter drop comment \"UNPUBLISHED PORT DROP\"";

const CT: &str = "ct state established,related counter accept";

fn chain(kind: &str, bridge: &str) -> String {
    format!("{kind}__{bridge}")
}

fn rule(chain: &str, text: &str, why: String) -> NftOp {
    NftOp::AddRule(NftRule::new(chain, text, why))
}

/// The daemon's table at start: the maps, the base chains (in the sorted order Docker
/// creates them) and their rules. No FORWARD policy: with nftables, Docker 29 does not
/// set a DROP policy anywhere (it relies on each bridge's own drop rules), and it
/// leaves iptables alone.
pub fn daemon_ops(userland_proxy: bool) -> Vec<NftOp> {
    let mut ops = vec![NftOp::AddTable];
    for (_, map) in PER_BRIDGE {
        ops.push(NftOp::AddMap {
            name: map.into(),
            spec: "type ifname : verdict;".into(),
        });
    }
    let base = |h: &str| Some(format!("{h} policy accept;"));
    for (name, b) in [
        (
            "filter-FORWARD",
            base("type filter hook forward priority filter;"),
        ),
        ("nat-OUTPUT", base("type nat hook output priority -100;")),
        (
            "nat-POSTROUTING",
            base("type nat hook postrouting priority srcnat;"),
        ),
        (
            "nat-PREROUTING",
            base("type nat hook prerouting priority dstnat;"),
        ),
        ("nat-prerouting-and-output", None),
        (
            "raw-PREROUTING",
            base("type filter hook prerouting priority raw;"),
        ),
    ] {
        ops.push(NftOp::AddChain {
            name: name.into(),
            base: b,
        });
    }
    let by_bridge = || {
        tr(
            "each bridge's own chain, chosen by the interface name (one lookup, however many networks)",
            "按网卡名选出每个网桥自己的链（无论有多少网络，都只查一次表）",
        )
    };
    ops.push(rule(
        "filter-FORWARD",
        "oifname vmap @filter-forward-in-jumps",
        by_bridge(),
    ));
    ops.push(rule(
        "filter-FORWARD",
        "iifname vmap @filter-forward-out-jumps",
        by_bridge(),
    ));
    let output = if userland_proxy {
        "ip daddr != 127.0.0.0/8 fib daddr type local counter jump nat-prerouting-and-output"
    } else {
        "fib daddr type local counter jump nat-prerouting-and-output"
    };
    ops.push(rule("nat-OUTPUT", output, why::output_jump(userland_proxy)));
    ops.push(rule(
        "nat-POSTROUTING",
        "iifname vmap @nat-postrouting-out-jumps",
        by_bridge(),
    ));
    ops.push(rule(
        "nat-POSTROUTING",
        "oifname vmap @nat-postrouting-in-jumps",
        by_bridge(),
    ));
    ops.push(rule(
        "nat-PREROUTING",
        "fib daddr type local counter jump nat-prerouting-and-output",
        why::prerouting_jump(),
    ));
    ops
}

/// One bridge network: its four chains, their rules, then the map elements that make
/// them reachable (removed first on the way back: a chain a map jumps to cannot go).
pub fn network_ops(o: &crate::firewall::BridgeRules) -> Vec<NftOp> {
    let br = &o.bridge;
    let mut ops: Vec<NftOp> = PER_BRIDGE
        .iter()
        .map(|(kind, _)| NftOp::AddChain {
            name: chain(kind, br),
            base: None,
        })
        .collect();
    let fin = chain("filter-forward-in", br);
    let fout = chain("filter-forward-out", br);
    let replies = || {
        tr(
            "replies to connections already open are let through",
            "已经建立的连接的回包直接放行",
        )
    };
    ops.push(rule(&fin, CT, why::conntrack()));
    let verdict = if o.icc { "accept" } else { "drop" };
    let icc_why = if o.icc { why::icc() } else { why::icc_off() };
    if o.internal {
        ops.push(rule(
            &fin,
            &format!("iifname != \"{br}\" counter drop comment \"INTERNAL NETWORK INGRESS\""),
            why::internal_in(),
        ));
        ops.push(rule(
            &fin,
            &format!("counter {verdict} comment \"ICC\""),
            icc_why,
        ));
        ops.push(rule(&fout, CT, replies()));
        ops.push(rule(
            &fout,
            &format!("oifname != \"{br}\" counter drop comment \"INTERNAL NETWORK EGRESS\""),
            why::internal_out(),
        ));
    } else {
        ops.push(rule(
            &fin,
            &format!("iifname \"{br}\" counter {verdict} comment \"ICC\""),
            icc_why,
        ));
        ops.push(rule(&fin, UNPUBLISHED_DROP, why::drop_unpublished()));
        ops.push(rule(&fout, CT, replies()));
        ops.push(rule(
            &fout,
            "counter accept comment \"OUTGOING\"",
            why::outbound(),
        ));
        if !o.userland_proxy {
            ops.push(rule(
                &chain("nat-postrouting-in", br),
                "fib saddr type local counter masquerade comment \"MASQUERADE FROM HOST\"",
                why::hairpin_masquerade(),
            ));
        }
        if o.masquerade {
            ops.push(rule(
                &chain("nat-postrouting-out", br),
                &format!(
                    "oifname != \"{br}\" ip saddr {} counter masquerade comment \"MASQUERADE\"",
                    o.subnet
                ),
                why::masquerade(),
            ));
        }
    }
    for (kind, map) in PER_BRIDGE {
        ops.push(NftOp::AddElement {
            map: map.into(),
            key: br.clone(),
            verdict: format!("jump {}", chain(kind, br)),
        });
    }
    ops
}

/// One endpoint's raw drop of packets routed to the container from outside its
/// bridge (none on an internal network, which has no way in anyway).
pub fn endpoint_ops(ip: Ipv4Addr, bridge: &str, internal: bool) -> Vec<NftOp> {
    if internal {
        return Vec::new();
    }
    vec![rule(
        "raw-PREROUTING",
        &format!(
            "ip daddr {ip} iifname != \"{bridge}\" counter drop comment \"DROP DIRECT ACCESS\""
        ),
        why::raw_direct(&ip.to_string()),
    )]
}

/// One published port: the accept above the bridge's UNPUBLISHED PORT DROP, the DNAT,
/// without the proxy the container-to-itself masquerade, and on 127.x the drop of
/// anything but loopback.
pub fn port_ops(
    b: &PortBinding,
    container: Ipv4Addr,
    bridge: &str,
    userland_proxy: bool,
) -> Vec<NftOp> {
    let (proto, cport, hport) = (&b.proto, b.container_port, b.host_port);
    let c = container.to_string();
    let mut ops = vec![NftOp::InsertBefore {
        rule: NftRule::new(
            &chain("filter-forward-in", bridge),
            &format!("ip daddr {c} {proto} dport {cport} counter accept"),
            why::port_accept(&c, cport),
        ),
        before: UNPUBLISHED_DROP.into(),
    }];
    if !userland_proxy {
        ops.push(rule(
            &chain("nat-postrouting-in", bridge),
            &format!(
                "ip saddr {c} ip daddr {c} {proto} dport {cport} counter masquerade comment \"MASQ TO OWN PORT\""
            ),
            why::self_masquerade(),
        ));
    }
    // With the proxy, packets from the bridge itself are left to it (hairpin).
    let mut m = String::new();
    if userland_proxy {
        m.push_str(&format!("iifname != \"{bridge}\" "));
    }
    if b.host_ip != "0.0.0.0" {
        m.push_str(&format!("ip daddr {} ", b.host_ip));
    }
    ops.push(rule(
        "nat-prerouting-and-output",
        &format!("{m}{proto} dport {hport} counter dnat to {c}:{cport} comment \"DNAT\""),
        why::dnat(hport, &c, cport),
    ));
    if b.host_ip.starts_with("127.") {
        ops.push(rule(
            "raw-PREROUTING",
            &format!(
                "iifname != \"lo\" ip daddr {} {proto} dport {hport} counter drop comment \"DROP REMOTE LOOPBACK\"",
                b.host_ip
            ),
            why::raw_loopback(hport),
        ));
    }
    ops
}

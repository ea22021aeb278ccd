//! What Docker's bridge driver writes, for whichever engine the lab reproduces: the
//! daemon's chains, each network's rules, each endpoint's raw-table drop (28+) and each
//! published port's rules. The callers (lab plan, bridge driver, port publishing) ask
//! here and never care which layout comes out.

use super::classic::{classic_daemon_rules, classic_network_rules};
use super::modern::{modern_daemon_rules, modern_network_rules};
use super::{Batch, Engine, Op, Rule, why};
use crate::docker::PortBinding;
use std::net::Ipv4Addr;

/// Settings of the Docker daemon that change its own rules.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// `--userland-proxy` (default true). When false, Docker uses hairpin NAT instead.
    pub userland_proxy: bool,
    /// Whether Docker enabled ip_forward itself, in which case it sets FORWARD to DROP.
    pub set_forward_drop: bool,
}

/// What one bridge network's rules depend on.
#[derive(Debug, Clone)]
pub struct BridgeRules {
    /// Bridge name (`docker0`, `br-3f1c0a9e2b7d`).
    pub bridge: String,
    /// Subnet (`172.17.0.0/16`).
    pub subnet: String,
    /// Containers on the bridge may talk to each other (`enable_icc`).
    pub icc: bool,
    /// Outbound NAT (`enable_ip_masquerade`).
    pub masquerade: bool,
    /// `--internal`: no way in or out of the network.
    pub internal: bool,
    /// The daemon's `--userland-proxy`.
    pub userland_proxy: bool,
}

/// The daemon's own chains and jumps, created once when it starts.
pub fn daemon_rules(engine: Engine, o: &DaemonOptions) -> Batch {
    match engine {
        Engine::V27 => classic_daemon_rules(o),
        _ => modern_daemon_rules(engine, o),
    }
}

/// The rules of one bridge network, inserted or appended as that engine does.
pub fn network_rules(engine: Engine, o: &BridgeRules) -> Batch {
    match engine {
        Engine::V27 => classic_network_rules(o),
        _ => modern_network_rules(engine, o),
    }
}

/// The rules one container's endpoint on a bridge adds: since 28.2, a raw-table drop of
/// packets routed to the container's address from anywhere but its own bridge (before
/// 28, a host on the same LAN could route to container addresses directly). Nothing on
/// an internal network, which has no way in anyway.
pub fn endpoint_rules(engine: Engine, ip: Ipv4Addr, bridge: &str, internal: bool) -> Batch {
    if engine < Engine::V28 || internal {
        return Batch::default();
    }
    Batch {
        ops: vec![Op::Append(Rule::new(
            "raw",
            "PREROUTING",
            &format!("-d {ip}/32 ! -i {bridge} -j DROP"),
            &why::raw_direct(&ip.to_string()),
        ))],
    }
}

/// The rules of one published port (reference §1.2 for 27, §1.4–1.5 for 28/29).
pub fn port_rules(
    engine: Engine,
    b: &PortBinding,
    container: Ipv4Addr,
    bridge: &str,
    userland_proxy: bool,
) -> Vec<Op> {
    let (proto, cport, hport) = (&b.proto, b.container_port, b.host_port);
    let host_ip = if b.host_ip == "0.0.0.0" {
        String::new()
    } else {
        format!("-d {}/32 ", b.host_ip)
    };
    // With the proxy, packets from the bridge itself are left to it (hairpin); without
    // it, DNAT applies to them too and hairpin NAT rewrites their source.
    let not_from_bridge = if userland_proxy {
        format!("! -i {bridge} ")
    } else {
        String::new()
    };
    let c = container.to_string();
    let accept = Rule::new(
        "filter",
        "DOCKER",
        &format!(
            "-d {container}/32 ! -i {bridge} -o {bridge} -p {proto} -m {proto} --dport {cport} -j ACCEPT"
        ),
        &why::port_accept(&c, cport),
    );
    let self_masq = Rule::new(
        "nat",
        "POSTROUTING",
        &format!(
            "-s {container}/32 -d {container}/32 -p {proto} -m {proto} --dport {cport} -j MASQUERADE"
        ),
        &why::self_masquerade(),
    );
    let dnat = Rule::new(
        "nat",
        "DOCKER",
        &format!(
            "{host_ip}{not_from_bridge}-p {proto} -m {proto} --dport {hport} -j DNAT --to-destination {container}:{cport}"
        ),
        &why::dnat(hport, &c, cport),
    );
    if engine == Engine::V27 {
        return vec![Op::Append(accept), Op::Append(self_masq), Op::Append(dnat)];
    }
    // 28+: the ACCEPT goes above the bridge's "drop everything else" rule, and the
    // container-to-itself MASQUERADE only exists without the proxy (moby#48854).
    let mut ops = vec![Op::Insert(accept)];
    if !userland_proxy {
        ops.push(Op::Append(self_masq));
    }
    ops.push(Op::Append(dnat));
    if b.host_ip.starts_with("127.") {
        // moby#45610: without this, a host on the same LAN could reach a port
        // published on 127.0.0.1 by routing to it.
        ops.push(Op::Append(Rule::new(
            "raw",
            "PREROUTING",
            &format!(
                "-d {}/32 ! -i lo -p {proto} -m {proto} --dport {hport} -j DROP",
                b.host_ip
            ),
            &why::raw_loopback(hport),
        )));
    }
    ops
}

/// Replays batches the way iptables would and lists the result as `iptables -S` does
/// for each table: `-P` for the built-in chains, `-N` for Docker's (sorted, as
/// iptables-nft prints them), then each chain's rules in order. For unit tests.
#[cfg(test)]
pub(super) fn replay_listing(batches: &[Batch], table: &str) -> Vec<String> {
    let builtin: &[&str] = match table {
        "filter" => &["INPUT", "FORWARD", "OUTPUT"],
        "nat" => &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
        "raw" => &["PREROUTING", "OUTPUT"],
        _ => &[],
    };
    let mut policy: std::collections::BTreeMap<&str, String> =
        builtin.iter().map(|c| (*c, "ACCEPT".to_string())).collect();
    let mut chains: Vec<String> = Vec::new();
    for b in batches {
        for op in &b.ops {
            match op {
                Op::Policy {
                    table: t,
                    chain,
                    policy: p,
                } if t == table => {
                    if let Some(slot) = builtin.iter().find(|c| *c == chain) {
                        policy.insert(slot, p.clone());
                    }
                }
                Op::NewChain { table: t, chain } if t == table && !chains.contains(chain) => {
                    chains.push(chain.clone())
                }
                _ => {}
            }
        }
    }
    chains.sort();
    let rules: Vec<String> = replay(batches)
        .into_iter()
        .filter_map(|r| r.strip_prefix(&format!("{table} ")).map(str::to_string))
        .collect();
    let mut out: Vec<String> = builtin
        .iter()
        .map(|c| format!("-P {c} {}", policy[c]))
        .collect();
    out.extend(chains.iter().map(|c| format!("-N {c}")));
    // iptables lists built-in chains first, then user chains in the order above.
    let order: Vec<String> = builtin
        .iter()
        .map(|c| c.to_string())
        .chain(chains.iter().cloned())
        .collect();
    for c in &order {
        let prefix = format!("-A {c} ");
        out.extend(rules.iter().filter(|r| r.starts_with(&prefix)).cloned());
    }
    out
}

/// Replays batches on a list of `TABLE -A CHAIN ARGS` lines the way iptables would
/// (appends at the end, inserts at a position, deletes by spec). For unit tests.
#[cfg(test)]
pub(super) fn replay(batches: &[Batch]) -> Vec<String> {
    let mut rules: Vec<(String, String, String)> = Vec::new();
    for b in batches {
        for op in &b.ops {
            match op {
                Op::Append(r) => rules.push((r.table.clone(), r.chain.clone(), r.args.clone())),
                Op::Insert(r) | Op::InsertAt { rule: r, .. } => {
                    let pos = match op {
                        Op::InsertAt { pos, .. } => *pos as usize,
                        _ => 1,
                    };
                    let same: Vec<usize> = rules
                        .iter()
                        .enumerate()
                        .filter(|(_, x)| x.0 == r.table && x.1 == r.chain)
                        .map(|(i, _)| i)
                        .collect();
                    let at = same
                        .get(pos - 1)
                        .copied()
                        .unwrap_or_else(|| same.last().map(|l| l + 1).unwrap_or(rules.len()));
                    rules.insert(at, (r.table.clone(), r.chain.clone(), r.args.clone()));
                }
                Op::Delete(r) => {
                    if let Some(i) = rules
                        .iter()
                        .position(|x| x.0 == r.table && x.1 == r.chain && x.2 == r.args)
                    {
                        rules.remove(i);
                    }
                }
                _ => {}
            }
        }
    }
    rules
        .into_iter()
        .map(|(t, c, a)| format!("{t} -A {c} {a}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_the_classic_layout() {
        let b = PortBinding {
            host_ip: "0.0.0.0".into(),
            host_port: 8080,
            container_port: 80,
            proto: "tcp".into(),
        };
        let cmds: Vec<String> = port_rules(
            Engine::V27,
            &b,
            Ipv4Addr::new(172, 17, 0, 2),
            "docker0",
            true,
        )
        .iter()
        .map(|o| o.command())
        .collect();
        assert_eq!(
            cmds,
            [
                "iptables -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT",
                "iptables -t nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE",
                "iptables -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80",
            ]
        );
        let b = PortBinding {
            host_ip: "127.0.0.1".into(),
            ..b
        };
        let dnat = port_rules(
            Engine::V27,
            &b,
            Ipv4Addr::new(172, 17, 0, 2),
            "docker0",
            false,
        )[2]
        .command();
        assert_eq!(
            dnat,
            "iptables -t nat -A DOCKER -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80"
        );
    }
}

//! The rules Docker's bridge driver installs, in the classic (18.06–27.x) layout that
//! the articles show. Each rule carries a sentence saying why it is there.

use super::{Batch, Op, Rule};
use crate::ui::tr;

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

/// Where a network's FORWARD rules go: right below the daemon's two jumps
/// (`-j DOCKER-USER`, `-j DOCKER-ISOLATION-STAGE-1`). Docker inserts them at the top and
/// then moves the two jumps back above them; inserting at 3 gives the same order.
const BELOW_JUMPS: u32 = 3;

/// The daemon's own chains and jumps, created once when it starts (reference §1.2), in
/// the order `iptables -S` lists them. Networks add their rules into these chains.
pub fn classic_daemon_rules(o: &DaemonOptions) -> Batch {
    let mut ops = Vec::new();
    let chain = |table: &str, chain: &str| Op::NewChain {
        table: table.into(),
        chain: chain.into(),
    };
    let f = |c: &str, args: &str, why: &str| Op::Append(Rule::new("filter", c, args, why));
    let n = |c: &str, args: &str, why: &str| Op::Append(Rule::new("nat", c, args, why));

    if o.set_forward_drop {
        ops.push(Op::Policy {
            table: "filter".into(),
            chain: "FORWARD".into(),
            policy: "DROP".into(),
        });
    }
    for c in [
        "DOCKER",
        "DOCKER-ISOLATION-STAGE-1",
        "DOCKER-ISOLATION-STAGE-2",
        "DOCKER-USER",
    ] {
        ops.push(chain("filter", c));
    }
    ops.push(f(
        "FORWARD",
        "-j DOCKER-USER",
        &tr(
            "the administrator's own rules are consulted first",
            "先经过管理员自己的规则",
        ),
    ));
    ops.push(f(
        "FORWARD",
        "-j DOCKER-ISOLATION-STAGE-1",
        &tr(
            "keep traffic between different Docker networks apart",
            "隔离不同 Docker 网络之间的流量",
        ),
    ));
    ops.push(f("DOCKER-ISOLATION-STAGE-1", "-j RETURN", ""));
    ops.push(f("DOCKER-ISOLATION-STAGE-2", "-j RETURN", ""));
    ops.push(f("DOCKER-USER", "-j RETURN", ""));

    ops.push(chain("nat", "DOCKER"));
    ops.push(n(
        "PREROUTING",
        "-m addrtype --dst-type LOCAL -j DOCKER",
        &tr(
            "packets arriving for one of the host's own addresses may hit a published port",
            "发往宿主机自身地址的数据包，可能命中端口映射",
        ),
    ));
    if o.userland_proxy {
        ops.push(n(
            "OUTPUT",
            "! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
            &tr(
            "the host's own connections to its addresses too (not 127.0.0.1: docker-proxy serves that)",
            "宿主机自己发往本机地址的连接也一样（127.0.0.1 除外，由 docker-proxy 负责）",
        ),
        ));
    } else {
        ops.push(n(
            "OUTPUT",
            "-m addrtype --dst-type LOCAL -j DOCKER",
            &tr(
                "the host's own connections, 127.0.0.1 included (no userland proxy)",
                "宿主机自己发往本机地址的连接也一样，包括 127.0.0.1（没有 userland proxy）",
            ),
        ));
    }
    Batch { ops }
}

/// The rules of one bridge network (docker0 or a user-defined bridge), inserted the way
/// classic Docker inserts them (reference §1.2), so that a newer network's rules sit
/// above an older one's and every isolation rule comes before the chains' `-j RETURN`.
pub fn classic_network_rules(o: &BridgeRules) -> Batch {
    let br = &o.bridge;
    let sub = &o.subnet;
    let mut ops = Vec::new();
    let top =
        |table: &str, c: &str, args: String, why: &str| Op::Insert(Rule::new(table, c, &args, why));
    let forward = |args: String, why: &str| Op::InsertAt {
        rule: Rule::new("filter", "FORWARD", &args, why),
        pos: BELOW_JUMPS,
    };
    if o.internal {
        // Inserted one above the other: the OUT rule ends up first, as Docker lists it.
        ops.push(top(
            "filter",
            "DOCKER-ISOLATION-STAGE-1",
            format!("! -d {sub} -i {br} -j DROP"),
            &tr(
                "an internal network: nothing may leave it for another network",
                "内部网络：流量不能离开它去往别的网络",
            ),
        ));
        ops.push(top(
            "filter",
            "DOCKER-ISOLATION-STAGE-1",
            format!("! -s {sub} -o {br} -j DROP"),
            &tr(
                "an internal network: nothing from outside may enter it",
                "内部网络：外面的流量不能进来",
            ),
        ));
    } else {
        if o.masquerade {
            ops.push(top(
                "nat",
                "POSTROUTING",
                format!("-s {sub} ! -o {br} -j MASQUERADE"),
                &tr(
                    "containers reach the outside world with the host's address (outbound NAT)",
                    "容器用宿主机的地址访问外部（出站地址转换）",
                ),
            ));
            if o.userland_proxy {
                ops.push(top(
                    "nat",
                    "DOCKER",
                    format!("-i {br} -j RETURN"),
                    &tr(
            "no DNAT for packets coming from the bridge itself (docker-proxy handles hairpin)",
            "从网桥本身进来的数据包不做 DNAT（hairpin 流量交给 docker-proxy）",
        ),
                ));
            }
        }
        if !o.userland_proxy {
            ops.push(top(
                "nat",
                "POSTROUTING",
                format!("-o {br} -m addrtype --src-type LOCAL -j MASQUERADE"),
                &tr(
                    "hairpin NAT: rewrite a 127.0.0.1 source to the bridge address",
                    "hairpin NAT：把源地址 127.0.0.1 改写成网桥的地址",
                ),
            ));
        }
    }
    if o.icc {
        ops.push(forward(
            format!("-i {br} -o {br} -j ACCEPT"),
            &tr(
                "containers on the same bridge may talk to each other (icc)",
                "同一网桥上的容器可以互相通信（icc）",
            ),
        ));
    }
    if !o.internal {
        ops.push(forward(
            format!("-i {br} ! -o {br} -j ACCEPT"),
            &tr(
                "containers may go out to other networks",
                "容器可以访问别的网络",
            ),
        ));
        ops.push(forward(
            format!("-o {br} -j DOCKER"),
            &tr(
                "new connections into containers must match a published port",
                "进入容器的新连接必须匹配某个端口映射",
            ),
        ));
        ops.push(forward(
            format!("-o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
            &tr(
                "let replies to connections the containers opened come back in",
                "容器发起的连接，回包可以进来",
            ),
        ));
        ops.push(top(
            "filter",
            "DOCKER-ISOLATION-STAGE-1",
            format!("-i {br} ! -o {br} -j DOCKER-ISOLATION-STAGE-2"),
            &tr(
                "traffic leaving this bridge for another one goes to stage 2",
                "从本网桥去往别的网桥的流量，交给 STAGE-2 处理",
            ),
        ));
        ops.push(top(
            "filter",
            "DOCKER-ISOLATION-STAGE-2",
            format!("-o {br} -j DROP"),
            &tr(
                "...and is dropped if it enters this bridge from another Docker network",
                "……来自别的 Docker 网络、要进入本网桥的流量被丢弃",
            ),
        ));
    }
    if !o.icc {
        ops.push(Op::Append(Rule::new(
            "filter",
            "FORWARD",
            &format!("-i {br} -o {br} -j DROP"),
            &tr(
                "icc=false: containers on this bridge may not talk to each other",
                "icc=false：本网桥上的容器不能互相通信",
            ),
        )));
    }
    Batch { ops }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays a batch on a list of `-A` lines the way iptables would (for order tests).
    fn replay(batches: &[Batch]) -> Vec<String> {
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
                    _ => {}
                }
            }
        }
        rules
            .into_iter()
            .map(|(t, c, a)| format!("{t} -A {c} {a}"))
            .collect()
    }

    fn daemon() -> Batch {
        classic_daemon_rules(&DaemonOptions {
            userland_proxy: true,
            set_forward_drop: true,
        })
    }

    fn net(br: &str, sub: &str) -> BridgeRules {
        BridgeRules {
            bridge: br.into(),
            subnet: sub.into(),
            icc: true,
            masquerade: true,
            internal: false,
            userland_proxy: true,
        }
    }

    #[test]
    fn docker0_gives_the_classic_daemon_start_layout() {
        let rules = replay(&[
            daemon(),
            classic_network_rules(&net("docker0", "172.17.0.0/16")),
        ]);
        let filter: Vec<&str> = rules
            .iter()
            .filter_map(|r| r.strip_prefix("filter "))
            .collect();
        assert_eq!(
            filter,
            [
                "-A FORWARD -j DOCKER-USER",
                "-A FORWARD -j DOCKER-ISOLATION-STAGE-1",
                "-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                "-A FORWARD -o docker0 -j DOCKER",
                "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT",
                "-A FORWARD -i docker0 -o docker0 -j ACCEPT",
                "-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
                "-A DOCKER-ISOLATION-STAGE-1 -j RETURN",
                "-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP",
                "-A DOCKER-ISOLATION-STAGE-2 -j RETURN",
                "-A DOCKER-USER -j RETURN",
            ]
        );
        let nat: Vec<&str> = rules
            .iter()
            .filter_map(|r| r.strip_prefix("nat "))
            .collect();
        assert_eq!(
            nat,
            [
                "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
                "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
                "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
                "-A DOCKER -i docker0 -j RETURN",
            ]
        );
    }

    #[test]
    fn a_second_bridge_lands_above_docker0_and_before_every_return() {
        let rules = replay(&[
            daemon(),
            classic_network_rules(&net("docker0", "172.17.0.0/16")),
            classic_network_rules(&net("br-1", "172.18.0.0/16")),
        ]);
        let pos = |needle: &str| rules.iter().position(|r| r.ends_with(needle)).unwrap();
        assert_eq!(pos("-A FORWARD -j DOCKER-ISOLATION-STAGE-1"), 1);
        assert_eq!(
            rules[2],
            "filter -A FORWARD -o br-1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
        );
        assert!(pos("-o br-1 -j DROP") < pos("-A DOCKER-ISOLATION-STAGE-2 -j RETURN"));
        assert!(
            pos("-i br-1 ! -o br-1 -j DOCKER-ISOLATION-STAGE-2")
                < pos("-A DOCKER-ISOLATION-STAGE-1 -j RETURN")
        );
        assert!(
            pos("-s 172.18.0.0/16 ! -o br-1 -j MASQUERADE")
                < pos("-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE")
        );
    }

    #[test]
    fn internal_and_no_icc_networks() {
        let rules = replay(&[
            daemon(),
            classic_network_rules(&BridgeRules {
                internal: true,
                ..net("br-i", "172.19.0.0/16")
            }),
        ]);
        assert!(rules.contains(
            &"filter -A DOCKER-ISOLATION-STAGE-1 ! -s 172.19.0.0/16 -o br-i -j DROP".to_string()
        ));
        assert!(rules.contains(
            &"filter -A DOCKER-ISOLATION-STAGE-1 ! -d 172.19.0.0/16 -i br-i -j DROP".to_string()
        ));
        assert!(!rules.iter().any(|r| r.contains("MASQUERADE")));
        assert!(!rules.iter().any(|r| r.contains("-o br-i -j DOCKER")));
        let rules = replay(&[
            daemon(),
            classic_network_rules(&BridgeRules {
                icc: false,
                ..net("br-n", "172.20.0.0/16")
            }),
        ]);
        assert_eq!(
            rules.iter().rfind(|r| r.contains("FORWARD")).unwrap(),
            "filter -A FORWARD -i br-n -o br-n -j DROP"
        );
        assert!(
            !rules
                .iter()
                .any(|r| r.contains("-i br-n -o br-n -j ACCEPT"))
        );
    }

    #[test]
    fn no_proxy_uses_hairpin_nat() {
        let d = classic_daemon_rules(&DaemonOptions {
            userland_proxy: false,
            set_forward_drop: true,
        });
        let n = classic_network_rules(&BridgeRules {
            userland_proxy: false,
            ..net("docker0", "172.17.0.0/16")
        });
        let rules = replay(&[d, n]);
        assert!(
            rules.contains(&"nat -A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER".to_string())
        );
        let hp = rules
            .iter()
            .position(|r| r.ends_with("-o docker0 -m addrtype --src-type LOCAL -j MASQUERADE"))
            .unwrap();
        let masq = rules
            .iter()
            .position(|r| r.ends_with("-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"))
            .unwrap();
        assert!(hp < masq);
        assert!(!rules.iter().any(|r| r.contains("-i docker0 -j RETURN")));
    }
}

//! The rules Docker's bridge driver installs, in the classic (18.06–27.x) layout that
//! the articles show. Each rule carries a sentence saying why it is there.

use super::layout::{BridgeRules, DaemonOptions};
use super::{Batch, Op, Rule, why};

/// Where a network's FORWARD rules go: right below the daemon's two jumps
/// (`-j DOCKER-USER`, `-j DOCKER-ISOLATION-STAGE-1`). Docker inserts them at the top and
/// then moves the two jumps back above them; inserting at 3 gives the same order.
const BELOW_JUMPS: u32 = 3;

/// The daemon's own chains and jumps, created once when it starts (reference §1.2), in
/// the order `iptables -S` lists them. Networks add their rules into these chains.
pub(super) fn classic_daemon_rules(o: &DaemonOptions) -> Batch {
    let mut ops = Vec::new();
    let chain = |table: &str, chain: &str| Op::NewChain {
        table: table.into(),
        chain: chain.into(),
    };
    let f = |c: &str, args: &str, why: &str| Op::Append(Rule::new("filter", c, args, why));

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
    ops.push(f("FORWARD", "-j DOCKER-USER", &why::user_first()));
    ops.push(f(
        "FORWARD",
        "-j DOCKER-ISOLATION-STAGE-1",
        &why::isolation_jump(),
    ));
    ops.push(f("DOCKER-ISOLATION-STAGE-1", "-j RETURN", ""));
    ops.push(f("DOCKER-ISOLATION-STAGE-2", "-j RETURN", ""));
    ops.push(f("DOCKER-USER", "-j RETURN", ""));

    ops.extend(nat_daemon_rules(o.userland_proxy));
    Batch { ops }
}

/// The daemon's nat chain and its two jumps, the same in every engine's layout.
pub(super) fn nat_daemon_rules(userland_proxy: bool) -> Vec<Op> {
    let n = |c: &str, args: &str, why: &str| Op::Append(Rule::new("nat", c, args, why));
    let output = if userland_proxy {
        "! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER"
    } else {
        "-m addrtype --dst-type LOCAL -j DOCKER"
    };
    vec![
        Op::NewChain {
            table: "nat".into(),
            chain: "DOCKER".into(),
        },
        n(
            "PREROUTING",
            "-m addrtype --dst-type LOCAL -j DOCKER",
            &why::prerouting_jump(),
        ),
        n("OUTPUT", output, &why::output_jump(userland_proxy)),
    ]
}

/// The rules of one bridge network (docker0 or a user-defined bridge), inserted the way
/// classic Docker inserts them (reference §1.2), so that a newer network's rules sit
/// above an older one's and every isolation rule comes before the chains' `-j RETURN`.
pub(super) fn classic_network_rules(o: &BridgeRules) -> Batch {
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
            &why::internal_out(),
        ));
        ops.push(top(
            "filter",
            "DOCKER-ISOLATION-STAGE-1",
            format!("! -s {sub} -o {br} -j DROP"),
            &why::internal_in(),
        ));
    } else {
        if o.masquerade {
            ops.push(top(
                "nat",
                "POSTROUTING",
                format!("-s {sub} ! -o {br} -j MASQUERADE"),
                &why::masquerade(),
            ));
            if o.userland_proxy {
                ops.push(top(
                    "nat",
                    "DOCKER",
                    format!("-i {br} -j RETURN"),
                    &why::nat_return(),
                ));
            }
        }
        if !o.userland_proxy {
            ops.push(top(
                "nat",
                "POSTROUTING",
                format!("-o {br} -m addrtype --src-type LOCAL -j MASQUERADE"),
                &why::hairpin_masquerade(),
            ));
        }
    }
    if o.icc {
        ops.push(forward(format!("-i {br} -o {br} -j ACCEPT"), &why::icc()));
    }
    if !o.internal {
        ops.push(forward(
            format!("-i {br} ! -o {br} -j ACCEPT"),
            &why::outbound(),
        ));
        ops.push(forward(format!("-o {br} -j DOCKER"), &why::to_docker()));
        ops.push(forward(
            format!("-o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
            &why::conntrack(),
        ));
        ops.push(top(
            "filter",
            "DOCKER-ISOLATION-STAGE-1",
            format!("-i {br} ! -o {br} -j DOCKER-ISOLATION-STAGE-2"),
            &why::stage1(),
        ));
        ops.push(top(
            "filter",
            "DOCKER-ISOLATION-STAGE-2",
            format!("-o {br} -j DROP"),
            &why::stage2(),
        ));
    }
    if !o.icc {
        ops.push(Op::Append(Rule::new(
            "filter",
            "FORWARD",
            &format!("-i {br} -o {br} -j DROP"),
            &why::icc_off(),
        )));
    }
    Batch { ops }
}

#[cfg(test)]
mod tests {
    use super::super::layout::replay;
    use super::*;

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

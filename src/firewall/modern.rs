//! The layouts of Docker 28 (28.0.1–28.5.x, reference §1.4) and 29 (29.0–29.7, §1.5).
//! Docker 28 moved its filter rules out of FORWARD into DOCKER-FORWARD, which first asks
//! DOCKER-CT (replies), then the isolation chains, then DOCKER-BRIDGE (new connections
//! into a bridge → DOCKER, which now ends each bridge with a DROP). Docker 29 replaced
//! the two isolation stages by DOCKER-INTERNAL: isolation between networks is the
//! DOCKER chain's DROP plus the raw-table drops of each endpoint.

use super::classic::nat_daemon_rules;
use super::layout::{BridgeRules, DaemonOptions};
use super::{Batch, Engine, Op, Rule, why};

const STAGE1: &str = "DOCKER-ISOLATION-STAGE-1";
const STAGE2: &str = "DOCKER-ISOLATION-STAGE-2";

/// The daemon's chains at start, 28 or 29.
pub(super) fn modern_daemon_rules(engine: Engine, o: &DaemonOptions) -> Batch {
    let mut ops = Vec::new();
    let f = |c: &str, args: &str, why: String| Op::Append(Rule::new("filter", c, args, &why));
    if o.set_forward_drop {
        ops.push(Op::Policy {
            table: "filter".into(),
            chain: "FORWARD".into(),
            policy: "DROP".into(),
        });
    }
    let middle = if engine.has_isolation_stages() {
        vec![STAGE1, STAGE2]
    } else {
        vec!["DOCKER-INTERNAL"]
    };
    let chains = ["DOCKER", "DOCKER-BRIDGE", "DOCKER-CT", "DOCKER-FORWARD"]
        .into_iter()
        .chain(middle)
        .chain(["DOCKER-USER"]);
    for c in chains {
        ops.push(Op::NewChain {
            table: "filter".into(),
            chain: c.into(),
        });
    }
    // DOCKER-USER is left empty: the trailing `-j RETURN` went with 28.2.2.
    ops.push(f("FORWARD", "-j DOCKER-USER", why::user_first()));
    ops.push(f(
        "FORWARD",
        "-j DOCKER-FORWARD",
        why::docker_forward_jump(),
    ));
    ops.push(f("DOCKER-FORWARD", "-j DOCKER-CT", why::ct_jump()));
    if engine.has_isolation_stages() {
        ops.push(f(
            "DOCKER-FORWARD",
            &format!("-j {STAGE1}"),
            why::isolation_jump(),
        ));
    } else {
        ops.push(f(
            "DOCKER-FORWARD",
            "-j DOCKER-INTERNAL",
            why::internal_jump(),
        ));
    }
    ops.push(f("DOCKER-FORWARD", "-j DOCKER-BRIDGE", why::bridge_jump()));
    ops.extend(nat_daemon_rules(o.userland_proxy));
    Batch { ops }
}

/// One bridge network's rules, 28 or 29. Docker appends to its per-purpose chains, so
/// an older network's rules stay first, except where it inserts (STAGE-2, the internal
/// walls, nat POSTROUTING and nat DOCKER's RETURN).
pub(super) fn modern_network_rules(engine: Engine, o: &BridgeRules) -> Batch {
    let (br, sub) = (&o.bridge, &o.subnet);
    let append =
        |t: &str, c: &str, args: String, why: String| Op::Append(Rule::new(t, c, &args, &why));
    let insert =
        |t: &str, c: &str, args: String, why: String| Op::Insert(Rule::new(t, c, &args, &why));
    let mut ops = Vec::new();
    if o.internal {
        let walls = if engine.has_isolation_stages() {
            STAGE1
        } else {
            "DOCKER-INTERNAL"
        };
        // Inserted one above the other: the way-in rule ends up first, as Docker lists it.
        ops.push(insert(
            "filter",
            walls,
            format!("! -d {sub} -i {br} -j DROP"),
            why::internal_out(),
        ));
        ops.push(insert(
            "filter",
            walls,
            format!("! -s {sub} -o {br} -j DROP"),
            why::internal_in(),
        ));
        let (target, reason) = if o.icc {
            ("ACCEPT", why::icc())
        } else {
            ("DROP", why::icc_off())
        };
        ops.push(append(
            "filter",
            "DOCKER-FORWARD",
            format!("-i {br} -o {br} -j {target}"),
            reason,
        ));
        return Batch { ops };
    }
    ops.push(append(
        "filter",
        "DOCKER",
        format!("! -i {br} -o {br} -j DROP"),
        why::drop_unpublished(),
    ));
    ops.push(append(
        "filter",
        "DOCKER-BRIDGE",
        format!("-o {br} -j DOCKER"),
        why::to_docker(),
    ));
    ops.push(append(
        "filter",
        "DOCKER-CT",
        format!("-o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
        why::conntrack(),
    ));
    if o.icc {
        ops.push(append(
            "filter",
            "DOCKER-FORWARD",
            format!("-i {br} -j ACCEPT"),
            why::from_bridge(),
        ));
    } else {
        ops.push(append(
            "filter",
            "DOCKER-FORWARD",
            format!("-i {br} -o {br} -j DROP"),
            why::icc_off(),
        ));
        ops.push(append(
            "filter",
            "DOCKER-FORWARD",
            format!("-i {br} ! -o {br} -j ACCEPT"),
            why::outbound(),
        ));
    }
    if engine.has_isolation_stages() {
        ops.push(append(
            "filter",
            STAGE1,
            format!("-i {br} ! -o {br} -j {STAGE2}"),
            why::stage1(),
        ));
        ops.push(insert(
            "filter",
            STAGE2,
            format!("-o {br} -j DROP"),
            why::stage2(),
        ));
    }
    if o.masquerade {
        ops.push(insert(
            "nat",
            "POSTROUTING",
            format!("-s {sub} ! -o {br} -j MASQUERADE"),
            why::masquerade(),
        ));
        if o.userland_proxy && engine.has_isolation_stages() {
            ops.push(insert(
                "nat",
                "DOCKER",
                format!("-i {br} -j RETURN"),
                why::nat_return(),
            ));
        }
    }
    if !o.userland_proxy {
        ops.push(insert(
            "nat",
            "POSTROUTING",
            format!("-o {br} -m addrtype --src-type LOCAL -j MASQUERADE"),
            why::hairpin_masquerade(),
        ));
    }
    Batch { ops }
}

#[cfg(test)]
mod tests {
    use super::super::layout::{network_rules, port_rules, replay_listing};
    use super::*;
    use crate::docker::PortBinding;

    fn daemon(engine: Engine, proxy: bool) -> Batch {
        super::super::layout::daemon_rules(
            engine,
            &DaemonOptions {
                userland_proxy: proxy,
                set_forward_drop: true,
            },
        )
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

    fn lines(s: &str) -> Vec<String> {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Reference §1.4, "Daemon start" (28.5: no DOCKER-USER RETURN).
    #[test]
    fn docker28_daemon_start() {
        let b = [
            daemon(Engine::V28, true),
            network_rules(Engine::V28, &net("docker0", "172.17.0.0/16")),
        ];
        assert_eq!(
            replay_listing(&b, "filter"),
            lines(
                "-P INPUT ACCEPT
                 -P FORWARD DROP
                 -P OUTPUT ACCEPT
                 -N DOCKER
                 -N DOCKER-BRIDGE
                 -N DOCKER-CT
                 -N DOCKER-FORWARD
                 -N DOCKER-ISOLATION-STAGE-1
                 -N DOCKER-ISOLATION-STAGE-2
                 -N DOCKER-USER
                 -A FORWARD -j DOCKER-USER
                 -A FORWARD -j DOCKER-FORWARD
                 -A DOCKER ! -i docker0 -o docker0 -j DROP
                 -A DOCKER-BRIDGE -o docker0 -j DOCKER
                 -A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
                 -A DOCKER-FORWARD -j DOCKER-CT
                 -A DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1
                 -A DOCKER-FORWARD -j DOCKER-BRIDGE
                 -A DOCKER-FORWARD -i docker0 -j ACCEPT
                 -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
                 -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP"
            )
        );
        assert_eq!(
            replay_listing(&b, "nat"),
            lines(
                "-P PREROUTING ACCEPT
                 -P INPUT ACCEPT
                 -P OUTPUT ACCEPT
                 -P POSTROUTING ACCEPT
                 -N DOCKER
                 -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
                 -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
                 -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
                 -A DOCKER -i docker0 -j RETURN"
            )
        );
    }

    /// Reference §1.5, "User-defined network + container with -p 8080:80".
    #[test]
    fn docker29_usernet_portmap() {
        let c = "192.0.2.2".parse().unwrap();
        let p = PortBinding {
            host_ip: "0.0.0.0".into(),
            host_port: 8080,
            container_port: 80,
            proto: "tcp".into(),
        };
        let b = [
            daemon(Engine::V29, true),
            network_rules(Engine::V29, &net("docker0", "172.17.0.0/16")),
            network_rules(Engine::V29, &net("bridge1", "192.0.2.0/24")),
            super::super::layout::endpoint_rules(Engine::V29, c, "bridge1", false),
            Batch {
                ops: port_rules(Engine::V29, &p, c, "bridge1", true),
            },
        ];
        let filter = replay_listing(&b, "filter");
        assert_eq!(
            filter[3..],
            lines(
                "-N DOCKER
                 -N DOCKER-BRIDGE
                 -N DOCKER-CT
                 -N DOCKER-FORWARD
                 -N DOCKER-INTERNAL
                 -N DOCKER-USER
                 -A FORWARD -j DOCKER-USER
                 -A FORWARD -j DOCKER-FORWARD
                 -A DOCKER -d 192.0.2.2/32 ! -i bridge1 -o bridge1 -p tcp -m tcp --dport 80 -j ACCEPT
                 -A DOCKER ! -i docker0 -o docker0 -j DROP
                 -A DOCKER ! -i bridge1 -o bridge1 -j DROP
                 -A DOCKER-BRIDGE -o docker0 -j DOCKER
                 -A DOCKER-BRIDGE -o bridge1 -j DOCKER
                 -A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
                 -A DOCKER-CT -o bridge1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
                 -A DOCKER-FORWARD -j DOCKER-CT
                 -A DOCKER-FORWARD -j DOCKER-INTERNAL
                 -A DOCKER-FORWARD -j DOCKER-BRIDGE
                 -A DOCKER-FORWARD -i docker0 -j ACCEPT
                 -A DOCKER-FORWARD -i bridge1 -j ACCEPT"
            )[..]
        );
        assert_eq!(
            replay_listing(&b, "nat")[5..],
            lines(
                "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
                 -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
                 -A POSTROUTING -s 192.0.2.0/24 ! -o bridge1 -j MASQUERADE
                 -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
                 -A DOCKER ! -i bridge1 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.0.2.2:80"
            )[..]
        );
        assert_eq!(
            replay_listing(&b, "raw")[2..],
            lines("-A PREROUTING -d 192.0.2.2/32 ! -i bridge1 -j DROP")[..]
        );
    }

    /// Reference §1.5, internal networks (one with icc, one without).
    #[test]
    fn docker29_internal_networks() {
        let internal = |br: &str, sub: &str, icc: bool| BridgeRules {
            internal: true,
            icc,
            ..net(br, sub)
        };
        let b = [
            daemon(Engine::V29, true),
            network_rules(Engine::V29, &internal("bridgeICC", "192.0.2.0/24", true)),
            network_rules(
                Engine::V29,
                &internal("bridgeNoICC", "198.51.100.0/24", false),
            ),
        ];
        let filter = replay_listing(&b, "filter");
        let tail: Vec<&String> = filter
            .iter()
            .filter(|l| l.contains("bridge") || l.starts_with("-A DOCKER-INTERNAL"))
            .collect();
        assert_eq!(
            tail,
            lines(
                "-A DOCKER-FORWARD -i bridgeICC -o bridgeICC -j ACCEPT
                 -A DOCKER-FORWARD -i bridgeNoICC -o bridgeNoICC -j DROP
                 -A DOCKER-INTERNAL ! -s 198.51.100.0/24 -o bridgeNoICC -j DROP
                 -A DOCKER-INTERNAL ! -d 198.51.100.0/24 -i bridgeNoICC -j DROP
                 -A DOCKER-INTERNAL ! -s 192.0.2.0/24 -o bridgeICC -j DROP
                 -A DOCKER-INTERNAL ! -d 192.0.2.0/24 -i bridgeICC -j DROP"
            )
            .iter()
            .collect::<Vec<_>>()
        );
    }

    /// Reference §1.5, userland proxy off: hairpin NAT pairs, per-port MASQUERADE.
    #[test]
    fn docker29_without_the_proxy() {
        let c = "192.0.2.2".parse().unwrap();
        let p = PortBinding {
            host_ip: "0.0.0.0".into(),
            host_port: 8080,
            container_port: 80,
            proto: "tcp".into(),
        };
        let off = |br: &str, sub: &str| BridgeRules {
            userland_proxy: false,
            ..net(br, sub)
        };
        let b = [
            daemon(Engine::V29, false),
            network_rules(Engine::V29, &off("docker0", "172.17.0.0/16")),
            network_rules(Engine::V29, &off("bridge1", "192.0.2.0/24")),
            Batch {
                ops: port_rules(Engine::V29, &p, c, "bridge1", false),
            },
        ];
        assert_eq!(
            replay_listing(&b, "nat")[5..],
            lines(
                "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
                 -A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER
                 -A POSTROUTING -o bridge1 -m addrtype --src-type LOCAL -j MASQUERADE
                 -A POSTROUTING -s 192.0.2.0/24 ! -o bridge1 -j MASQUERADE
                 -A POSTROUTING -o docker0 -m addrtype --src-type LOCAL -j MASQUERADE
                 -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
                 -A POSTROUTING -s 192.0.2.2/32 -d 192.0.2.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
                 -A DOCKER -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.0.2.2:80"
            )[..]
        );
    }
}

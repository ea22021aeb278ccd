//! The rules Docker's bridge driver installs, in the classic (18.06–27.x) layout that
//! the articles show. Each rule carries a sentence saying why it is there.

use super::{Batch, Op, Rule};

/// Settings that change the daemon-start rules.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// Bridge name (`docker0`).
    pub bridge: String,
    /// Bridge subnet (`172.17.0.0/16`).
    pub subnet: String,
    /// `--userland-proxy` (default true). When false, Docker uses hairpin NAT instead.
    pub userland_proxy: bool,
    /// Whether Docker enabled ip_forward itself, in which case it sets FORWARD to DROP.
    pub set_forward_drop: bool,
}

/// The iptables state of a freshly started classic Docker daemon with its default
/// bridge (reference §1.2), in the order `iptables -S` lists it.
pub fn classic_daemon_rules(o: &DaemonOptions) -> Batch {
    let br = &o.bridge;
    let mut ops = Vec::new();
    let chain = |table: &str, chain: &str| Op::NewChain {
        table: table.into(),
        chain: chain.into(),
    };
    let f = |c: &str, args: String, why: &str| Op::Append(Rule::new("filter", c, &args, why));
    let n = |c: &str, args: String, why: &str| Op::Append(Rule::new("nat", c, &args, why));

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
        "-j DOCKER-USER".into(),
        "the administrator's own rules are consulted first",
    ));
    ops.push(f(
        "FORWARD",
        "-j DOCKER-ISOLATION-STAGE-1".into(),
        "keep traffic between different Docker networks apart",
    ));
    ops.push(f(
        "FORWARD",
        format!("-o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
        "let replies to connections the containers opened come back in",
    ));
    ops.push(f(
        "FORWARD",
        format!("-o {br} -j DOCKER"),
        "new connections into containers must match a published port",
    ));
    ops.push(f(
        "FORWARD",
        format!("-i {br} ! -o {br} -j ACCEPT"),
        "containers may go out to other networks",
    ));
    ops.push(f(
        "FORWARD",
        format!("-i {br} -o {br} -j ACCEPT"),
        "containers on the same bridge may talk to each other (icc)",
    ));
    ops.push(f(
        "DOCKER-ISOLATION-STAGE-1",
        format!("-i {br} ! -o {br} -j DOCKER-ISOLATION-STAGE-2"),
        "traffic leaving this bridge for another one goes to stage 2",
    ));
    ops.push(f("DOCKER-ISOLATION-STAGE-1", "-j RETURN".into(), ""));
    ops.push(f(
        "DOCKER-ISOLATION-STAGE-2",
        format!("-o {br} -j DROP"),
        "...and is dropped if it enters another Docker bridge",
    ));
    ops.push(f("DOCKER-ISOLATION-STAGE-2", "-j RETURN".into(), ""));
    ops.push(f("DOCKER-USER", "-j RETURN".into(), ""));

    ops.push(chain("nat", "DOCKER"));
    ops.push(n(
        "PREROUTING",
        "-m addrtype --dst-type LOCAL -j DOCKER".into(),
        "packets arriving for one of the host's own addresses may hit a published port",
    ));
    if o.userland_proxy {
        ops.push(n(
            "OUTPUT",
            "! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER".into(),
            "the host's own connections to its addresses too (not 127.0.0.1: docker-proxy serves that)",
        ));
    } else {
        ops.push(n(
            "OUTPUT",
            "-m addrtype --dst-type LOCAL -j DOCKER".into(),
            "the host's own connections, 127.0.0.1 included (no userland proxy)",
        ));
        ops.push(n(
            "POSTROUTING",
            format!("-o {br} -m addrtype --src-type LOCAL -j MASQUERADE"),
            "hairpin NAT: rewrite a 127.0.0.1 source to the bridge address",
        ));
    }
    ops.push(n(
        "POSTROUTING",
        format!("-s {} ! -o {br} -j MASQUERADE", o.subnet),
        "containers reach the outside world with the host's address (outbound NAT)",
    ));
    if o.userland_proxy {
        ops.push(n(
            "DOCKER",
            format!("-i {br} -j RETURN"),
            "no DNAT for packets coming from the bridge itself (docker-proxy handles hairpin)",
        ));
    }
    Batch { ops }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_layout_matches_reference() {
        let b = classic_daemon_rules(&DaemonOptions {
            bridge: "docker0".into(),
            subnet: "172.17.0.0/16".into(),
            userland_proxy: true,
            set_forward_drop: true,
        });
        let text = b.restore_text();
        assert!(text.contains("-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE\n"));
        assert!(
            text.contains("-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER\n")
        );
        assert!(text.contains("-A DOCKER -i docker0 -j RETURN\n"));
        assert!(text.contains(":FORWARD DROP [0:0]\n"));
        let fwd: Vec<_> = text
            .lines()
            .filter(|l| l.starts_with("-A FORWARD"))
            .collect();
        assert_eq!(fwd[0], "-A FORWARD -j DOCKER-USER");
        assert_eq!(fwd[1], "-A FORWARD -j DOCKER-ISOLATION-STAGE-1");
        assert_eq!(fwd.len(), 6);
    }

    #[test]
    fn no_proxy_uses_hairpin_nat() {
        let b = classic_daemon_rules(&DaemonOptions {
            bridge: "docker0".into(),
            subnet: "172.17.0.0/16".into(),
            userland_proxy: false,
            set_forward_drop: true,
        });
        let text = b.restore_text();
        assert!(text.contains("-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER\n"));
        assert!(
            text.contains("-A POSTROUTING -o docker0 -m addrtype --src-type LOCAL -j MASQUERADE\n")
        );
        assert!(!text.contains("-i docker0 -j RETURN"));
    }
}

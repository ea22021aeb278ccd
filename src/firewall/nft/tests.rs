use super::*;

const LISTED: &str = "table ip docker-bridges { # handle 3
	map filter-forward-in-jumps { # handle 2
		type ifname : verdict
		elements = { \"docker0\" : jump filter-forward-in__docker0,
			     \"bridge1\" : jump filter-forward-in__bridge1 }
	}

	chain filter-forward-in__bridge1 { # handle 20
		ct state established,related counter packets 3 bytes 180 accept # handle 30
		iifname \"bridge1\" counter packets 0 bytes 0 accept comment \"ICC\" # handle 31
		ip daddr 192.0.2.2 tcp dport 80 counter packets 1 bytes 60 accept # handle 40
		counter packets 0 bytes 0 drop comment \"UNPUBLISHED PORT DROP\" # handle 32
	}
}
";

#[test]
fn rule_lines_are_read_without_counters_and_handles() {
    assert_eq!(
        parse_rule_line(
            "\tct state established,related counter packets 3 bytes 180 accept # handle 30"
        ),
        Some((
            "ct state established,related counter accept".to_string(),
            30
        ))
    );
    assert_eq!(
        parse_rule_line("type filter hook forward priority filter; policy accept;"),
        None
    );
    assert_eq!(strip_counters("counter drop"), "counter drop");
}

#[test]
fn handles_are_found_by_text() {
    let l = Listing::parse(LISTED);
    let c = "filter-forward-in__bridge1";
    assert_eq!(
        l.handle(c, "ip daddr 192.0.2.2 tcp dport 80 counter accept", &[]),
        Some(40)
    );
    assert_eq!(l.handle(c, super::layout::UNPUBLISHED_DROP, &[]), Some(32));
    assert_eq!(
        l.handle(c, "ip daddr 192.0.2.2 tcp dport 80 counter accept", &[40]),
        None
    );
    assert_eq!(l.handle("filter-forward-in__docker0", "x", &[]), None);
    assert!(l.has_chain(c) && !l.has_chain("filter-forward-in__docker0"));
    assert!(l.has_element("filter-forward-in-jumps", "bridge1"));
    assert!(l.has_element("filter-forward-in-jumps", "docker0"));
    assert!(!l.has_element("filter-forward-in-jumps", "bridge2"));
    assert!(!l.has_element("filter-forward-out-jumps", "bridge1"));
}

fn port() -> Vec<NftOp> {
    let b = crate::docker::PortBinding {
        host_ip: "0.0.0.0".into(),
        host_port: 8080,
        container_port: 80,
        proto: "tcp".into(),
    };
    port_ops(&b, "192.0.2.2".parse().unwrap(), "bridge1", true)
}

#[test]
fn a_port_goes_above_the_drop_and_is_deleted_by_handle() {
    let l = Listing::parse(LISTED);
    let ops = port();
    assert_eq!(
        script(&ops, &l),
        "insert rule ip docker-bridges filter-forward-in__bridge1 position 32 ip daddr 192.0.2.2 tcp dport 80 counter accept\n\
         add rule ip docker-bridges nat-prerouting-and-output iifname != \"bridge1\" tcp dport 8080 counter dnat to 192.0.2.2:80 comment \"DNAT\"\n"
    );
    // The DNAT is not in this listing: its deletion is left out (already gone).
    assert_eq!(
        script(&inverse(&ops), &l),
        "delete rule ip docker-bridges filter-forward-in__bridge1 handle 40\n"
    );
    assert_eq!(script(&inverse(&ops), &Listing::default()), "");
}

#[test]
fn a_network_is_undone_elements_first_then_chains() {
    let o = crate::firewall::BridgeRules {
        bridge: "bridge1".into(),
        subnet: "192.0.2.0/24".into(),
        icc: true,
        masquerade: true,
        internal: false,
        userland_proxy: true,
    };
    let inv = inverse(&network_ops(&o));
    assert_eq!(inv.len(), 8, "{inv:?}");
    assert!(matches!(inv[0], NftOp::DeleteElement { .. }));
    assert!(matches!(inv[7], NftOp::DeleteChain { .. }));
    let s = script(&inv, &Listing::parse(LISTED));
    assert_eq!(
        s,
        "delete element ip docker-bridges filter-forward-in-jumps { \"bridge1\" }\n\
         flush chain ip docker-bridges filter-forward-in__bridge1\n\
         delete chain ip docker-bridges filter-forward-in__bridge1\n"
    );
    assert_eq!(inverse(&daemon_ops(true)), vec![NftOp::DeleteTable]);
}

#[test]
fn narration_reads_like_nft() {
    let lines = commands("dn-x-host", &port());
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[0].starts_with("# ") && lines[0].contains("UNPUBLISHED PORT DROP"));
    assert_eq!(
        lines[3],
        "ip netns exec dn-x-host nft 'add rule ip docker-bridges nat-prerouting-and-output iifname != \"bridge1\" tcp dport 8080 counter dnat to 192.0.2.2:80 comment \"DNAT\"'"
    );
}

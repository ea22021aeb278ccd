//! Reaching containers and leaving the host: pings across docker0, no names on the
//! default bridge, /etc/hosts, and outbound NAT through Docker's MASQUERADE rule, all
//! with real packets and the kernel's own counters.

mod common;

use common::*;
use std::time::Duration;

const PING_WAIT: Duration = Duration::from_secs(5);

/// C19: the lab host reaches a container through docker0.
#[test]
fn c19_host_pings_container() {
    let lab = Lab::new("c19");
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    let r = eventually_ok(PING_WAIT, || {
        exec_in(&lab.host(), &["ping", "-c1", "-W1", "172.17.0.2"])
    });
    assert!(
        r.is_ok(),
        "expected the host to ping 172.17.0.2: {}",
        describe("ping", &r.unwrap_err())
    );
}

/// C21: two containers on docker0 ping each other by IP.
#[test]
fn c21_containers_ping_each_other_by_ip() {
    let lab = Lab::new("c21");
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    lab.run_d("c2", &["busybox", "sleep", "600"]);
    let (ip1, ip2) = (lab.ip_of("c1"), lab.ip_of("c2"));
    for (from, to) in [("c1", &ip2), ("c2", &ip1)] {
        let r = eventually_ok(PING_WAIT, || {
            lab.dn(&["exec", from, "ping", "-c1", "-W1", to])
        });
        assert!(
            r.is_ok(),
            "expected {from} to ping {to}: {}",
            describe("exec ping", &r.unwrap_err())
        );
    }
}

/// C22, C34: the default bridge has no name resolution: pinging another container by name
/// fails, while its IP works.
#[test]
fn c22_no_ping_by_name_on_default_bridge() {
    let lab = Lab::new("c22");
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    lab.run_d("c2", &["busybox", "sleep", "600"]);
    let o = lab.dn(&["exec", "c2", "ping", "-c1", "-W1", "c1"]);
    assert!(
        !o.status.success(),
        "expected `ping c1` by name to fail on the default bridge: {}",
        describe("exec c2 ping c1", &o)
    );
    let r = eventually_ok(PING_WAIT, || {
        lab.dn(&["exec", "c2", "ping", "-c1", "-W1", "172.17.0.2"])
    });
    assert!(
        r.is_ok(),
        "expected c2 to reach c1 by IP: {}",
        describe("ping", &r.unwrap_err())
    );
}

/// C18: /etc/hosts has Docker's localhost and ip6 lines and `<IP>\t<12-hex id>`; the
/// hostname is the 12-hex id.
#[test]
fn c18_etc_hosts_and_hostname() {
    let lab = Lab::new("c18");
    let id = lab.run_d("c1", &["busybox", "sleep", "600"]);
    let short = &id[..12];
    let hosts = lab.ok(&["exec", "c1", "cat", "/etc/hosts"]);
    for line in [
        "127.0.0.1\tlocalhost".to_string(),
        "::1\tlocalhost ip6-localhost ip6-loopback".into(),
        "fe00::0\tip6-localnet".into(),
        "ff00::0\tip6-mcastprefix".into(),
        "ff02::1\tip6-allnodes".into(),
        "ff02::2\tip6-allrouters".into(),
        format!("172.17.0.2\t{short}"),
    ] {
        assert!(
            hosts.lines().any(|l| l == line),
            "expected the line {line:?} in /etc/hosts, saw:\n{hosts}"
        );
    }
    let hn = lab.ok(&["exec", "c1", "hostname"]);
    assert_eq!(
        hn.trim(),
        short,
        "expected hostname = first 12 hex of the id"
    );
}

/// C35: a container reaches "the internet" (203.0.113.10:80) through the host's
/// MASQUERADE rule, whose packet counter moves from 0.
#[test]
fn c35_outbound_nat_through_masquerade() {
    let lab = Lab::new("c35");
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    let masq_packets = || -> u64 {
        let out = exec_in_ok(
            &lab.host(),
            &["iptables", "-t", "nat", "-vnL", "POSTROUTING"],
        );
        let line = out
            .lines()
            .find(|l| {
                l.contains("MASQUERADE") && l.contains("172.17.0.0/16") && l.contains("!docker0")
            })
            .unwrap_or_else(|| {
                panic!("expected the MASQUERADE rule for 172.17.0.0/16 !docker0, saw:\n{out}")
            });
        line.split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .expect("packet counter")
    };
    assert_eq!(
        masq_packets(),
        0,
        "expected the MASQUERADE counter at 0 before any traffic"
    );
    let body = retry(
        "wget from the container to 203.0.113.10",
        Duration::from_secs(5),
        || {
            let o = lab.dn(&["exec", "c1", "wget", "-qO-", "http://203.0.113.10/"]);
            if o.status.success() {
                Ok(stdout(&o))
            } else {
                Err(describe("wget", &o))
            }
        },
    );
    assert!(
        body.contains("hello from the internet (203.0.113.10)"),
        "expected the world's greeting, saw {body:?}"
    );
    let n = masq_packets();
    assert!(
        n > 0,
        "expected the MASQUERADE rule to have counted the connection, saw {n} packets"
    );
}

/// C14: `show rules --table nat` contains the MASQUERADE rule and equals
/// `iptables -t nat -vnL` in the lab host, after its `# iptables ...` header line.
#[test]
fn c14_show_rules_nat_is_iptables_vnl() {
    let lab = Lab::new("c14");
    lab.ok(&["lab", "up"]);
    let view = lab.ok(&["show", "rules", "--table", "nat"]);
    let (header, body) = view.split_once('\n').expect("a header line");
    assert!(
        header.starts_with("# iptables"),
        "expected a `# iptables ...` header, saw {header:?}"
    );
    assert!(
        body.lines().any(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.get(2) == Some(&"MASQUERADE")
                && w.contains(&"!docker0")
                && w.contains(&"172.17.0.0/16")
        }),
        "expected a MASQUERADE line for 172.17.0.0/16 !docker0, saw:\n{body}"
    );
    let real = exec_in_ok(&lab.host(), &["iptables", "-t", "nat", "-vnL"]);
    assert_eq!(
        body.trim_end(),
        real.trim_end(),
        "expected the view to equal `iptables -t nat -vnL`"
    );
}

//! Tests of the text picture, and the sample topology the other renderers' tests draw.

use super::super::model::{Edge, End, Port, Shared};
use super::*;

fn iface(
    index: u32,
    name: &str,
    kind: &str,
    master: Option<&str>,
    addr: &str,
    peer: Option<u32>,
) -> Iface {
    Iface {
        index,
        name: name.into(),
        kind: Some(kind.into()),
        master: master.map(String::from),
        addrs: if addr.is_empty() {
            vec![]
        } else {
            vec![addr.into()]
        },
        peer_index: peer,
        up: true,
        network: None,
        peer_here: None,
    }
}

fn ns(name: &str, kind: NsKind, label: &str, interfaces: Vec<Iface>) -> Namespace {
    Namespace {
        name: name.into(),
        kind,
        host: (kind != NsKind::World).then(|| "host".into()),
        label: label.into(),
        vni: None,
        network: None,
        interfaces,
    }
}

fn end(ns: &str, ifname: &str, index: u32) -> End {
    End {
        ns: ns.into(),
        ifname: ifname.into(),
        index,
    }
}

/// world, a host with docker0 and one container, a port, a joiner.
pub(crate) fn sample() -> Topology {
    let long = "a-container-with-a-very-long-name-that-goes-on-and-on-and-on-forever-and-ever";
    Topology {
        lab: "tp".into(),
        nodes: vec![
            ns(
                "dn-tp-world",
                NsKind::World,
                "world",
                vec![
                    iface(2, "lan0", "bridge", None, "198.51.100.1/24", None),
                    iface(3, "lan-host", "veth", Some("lan0"), "", Some(2)),
                ],
            ),
            ns(
                "dn-tp-host",
                NsKind::Host,
                "host",
                vec![
                    iface(2, "eth0", "veth", None, "198.51.100.2/24", Some(3)),
                    iface(3, "docker0", "bridge", None, "172.17.0.1/16", None),
                    iface(5, "veth1a2b3c4", "veth", Some("docker0"), "", Some(2)),
                ],
            ),
            ns(
                &format!("dn-tp-ctr-{long}"),
                NsKind::Container,
                long,
                vec![iface(2, "eth0", "veth", None, "172.17.0.2/16", Some(5))],
            ),
        ],
        links: vec![
            Edge {
                kind: "veth".into(),
                a: end("dn-tp-world", "lan-host", 3),
                b: end("dn-tp-host", "eth0", 2),
            },
            Edge {
                kind: "veth".into(),
                a: end("dn-tp-host", "veth1a2b3c4", 5),
                b: end(&format!("dn-tp-ctr-{long}"), "eth0", 2),
            },
        ],
        tunnels: vec![],
        ports: vec![Port {
            ns: "dn-tp-host".into(),
            proto: "tcp".into(),
            port: "8080".into(),
            to: "172.17.0.2:80".into(),
            container_ns: None,
        }],
        shared: vec![Shared {
            container: "j1".into(),
            ns: format!("dn-tp-ctr-{long}"),
            mode: "container".into(),
        }],
    }
}

#[test]
fn fits_and_shows_both_veth_ends() {
    // The language is process-wide (other tests run beside this one): the
    // Chinese widths are checked through `fit` below.
    let text = render(&sample(), false);
    for l in text.lines() {
        assert!(columns(l) <= WIDTH, "{} columns: {l}", columns(l));
    }
    assert!(text.contains("veth1a2b3c4@if2"), "{text}");
    assert!(text.contains("eth0@if5 172.17.0.2/16"), "{text}");
    assert!(text.contains("8080/tcp → 172.17.0.2:80"), "{text}");
    assert!(text.contains("j1"), "{text}");
}

#[test]
fn chinese_takes_two_columns() {
    assert_eq!(columns("网桥 docker0"), 12);
    let long = "共用这个命名空间：".repeat(20);
    let cut = fit(&long, 50);
    assert!(columns(&cut) <= 50 && cut.ends_with('…'), "{cut}");
    let mut out = String::new();
    let f = Frame {
        key: "k".into(),
        indent: 4,
        title: "容器 web1".into(),
        keys: vec![line_key(&long)],
        lines: vec![long],
        kind: NsKind::Container,
    };
    draw(&mut out, &f, None, &|_, l| l.is_some(), false);
    assert!(
        out.lines().nth(1).is_some_and(|l| l.starts_with("    │+")),
        "{out}"
    );
    assert!(out.lines().all(|l| columns(l) <= WIDTH - 4 + 4), "{out}");
}

#[test]
fn boxes_are_closed() {
    let text = render(&sample(), false);
    let tops = text
        .lines()
        .filter(|l| l.trim_start().starts_with('┌'))
        .count();
    let bottoms = text
        .lines()
        .filter(|l| l.trim_start().starts_with("└─") && l.ends_with('┘'));
    assert_eq!(tops, bottoms.count());
    assert_eq!(tops, 3);
}

/// A macvlan child whose ifindex (2) is also its parent's, the host's eth0, in
/// another namespace: it hangs under eth0, and eth0 keeps its veth to the world.
#[test]
fn a_macvlan_child_is_not_its_parents_cable() {
    let mut t = sample();
    t.nodes.push(ns(
        "dn-tp-ctr-mv1",
        NsKind::Container,
        "mv1",
        vec![iface(
            2,
            "eth0",
            "macvlan",
            None,
            "198.51.100.50/24",
            Some(2),
        )],
    ));
    t.links.insert(
        0,
        Edge {
            kind: "macvlan".into(),
            a: end("dn-tp-ctr-mv1", "eth0", 2),
            b: end("dn-tp-host", "eth0", 2),
        },
    );
    let text = render(&t, false);
    let eth0 = text
        .lines()
        .find(|l| l.contains("eth0@if3 198.51.100.2/24"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(eth0.contains("lan-host@if2"), "{text}");
    assert!(!eth0.contains("mv1"), "{text}");
    assert!(text.contains("  └─ macvlan "), "{text}");
    let child = text
        .lines()
        .find(|l| l.contains("198.51.100.50/24"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(child.contains("eth0@if3"), "{child}");
}

#[test]
fn color_only_when_asked() {
    assert!(!render(&sample(), false).contains('\u{1b}'));
}

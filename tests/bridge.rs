//! The default bridge: docker0, veth pairs, addresses and routes, checked against what
//! the kernel holds (`ip`, `brctl`, `bridge link`).

mod common;

use common::*;

/// A veth name as Docker makes them: `veth` + 7 lowercase hex digits.
fn is_docker_veth(name: &str) -> bool {
    name.len() == 11
        && name.starts_with("veth")
        && name[4..]
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// C01: `run -d` gives the container a veth pair: the host end is `veth<7 hex>` enslaved
/// to docker0, the container end is `eth0` in the container's namespace, and that eth0
/// is not visible in the host namespace.
#[test]
fn c01_veth_pair_host_end_on_docker0_container_end_eth0() {
    let lab = Lab::new("c01");
    lab.ok(&["lab", "up"]);
    let ports_before = lab.docker0_ports();
    assert!(
        ports_before.is_empty(),
        "expected docker0 without ports in a fresh lab, saw {ports_before:?}"
    );
    lab.run_d("c1", &["busybox", "sleep", "600"]);

    let host = links(&lab.host());
    let veths: Vec<&Link> = host.iter().filter(|l| l.name.starts_with("veth")).collect();
    assert_eq!(
        veths.len(),
        1,
        "expected exactly one veth in the lab host, saw {host:#?}"
    );
    let veth = veths[0];
    assert!(
        is_docker_veth(&veth.name),
        "expected a veth named veth+7 hex, saw {:?}",
        veth.name
    );
    assert_eq!(
        veth.master().as_deref(),
        Some("docker0"),
        "expected `master docker0` on {}, saw: {}",
        veth.name,
        veth.line
    );
    assert!(
        veth.line.contains(",UP"),
        "expected the host end to be UP, saw: {}",
        veth.line
    );

    let ctr = links(&lab.ctr("c1"));
    let names: Vec<&str> = ctr.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        ["lo", "eth0"],
        "expected the container to hold lo and eth0 only, saw {names:?}"
    );
    let eth0 = &ctr[1];
    let mac = eth0.mac().expect("eth0 has a MAC");
    assert_eq!(
        mac, "02:42:ac:11:00:02",
        "expected Docker's MAC derived from 172.17.0.2, saw {mac}"
    );

    // The host has an eth0 of its own (to the world), but not the container's.
    for l in &host {
        assert_ne!(
            l.mac().as_deref(),
            Some(mac.as_str()),
            "expected the container's eth0 ({mac}) not to be in the host namespace, saw: {}",
            l.line
        );
        if l.name == "eth0" {
            assert!(
                !l.line.contains(&lab.ctr("c1")),
                "expected the host's eth0 to lead to the world, not to the container: {}",
                l.line
            );
        }
    }
    assert_eq!(
        lab.docker0_ports(),
        vec![veth.name.clone()],
        "expected the veth to be docker0's only port"
    );
}

/// C02: containers get 172.17.0.2/16, then .3, with a default route via 172.17.0.1.
#[test]
fn c02_addresses_in_order_with_default_route_via_docker0() {
    let lab = Lab::new("c02");
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    lab.run_d("c2", &["busybox", "sleep", "600"]);
    for (name, want) in [("c1", "172.17.0.2/16"), ("c2", "172.17.0.3/16")] {
        let addr = ip(&lab.ctr(name), &["-o", "-4", "addr", "show", "dev", "eth0"]);
        let got: Vec<&str> = addr
            .split_whitespace()
            .skip_while(|w| *w != "inet")
            .skip(1)
            .take(1)
            .collect();
        assert_eq!(
            got,
            [want],
            "expected {name}'s eth0 to carry {want}, saw: {addr}"
        );
        let routes = ip(&lab.ctr(name), &["route"]);
        let default: Vec<&str> = routes
            .lines()
            .filter(|l| l.starts_with("default"))
            .collect();
        assert_eq!(
            default.len(),
            1,
            "expected one default route in {name}, saw:\n{routes}"
        );
        assert!(
            default[0].starts_with("default via 172.17.0.1 dev eth0"),
            "expected `default via 172.17.0.1 dev eth0` in {name}, saw: {}",
            default[0]
        );
        assert!(
            routes.contains("172.17.0.0/16 dev eth0"),
            "expected the on-link subnet route in {name}, saw:\n{routes}"
        );
    }
}

/// C04: leaving out --net, `--net=bridge` and `--network bridge` all attach to docker0.
#[test]
fn c04_default_net_and_both_flag_spellings_attach_to_docker0() {
    let lab = Lab::new("c04");
    lab.ok(&["run", "-d", "--name", "n1", "busybox", "sleep", "600"]);
    lab.ok(&[
        "run",
        "-d",
        "--name",
        "n2",
        "--net=bridge",
        "busybox",
        "sleep",
        "600",
    ]);
    lab.ok(&[
        "run",
        "-d",
        "--name",
        "n3",
        "--network",
        "bridge",
        "busybox",
        "sleep",
        "600",
    ]);
    let ports = lab.docker0_ports();
    assert_eq!(
        ports.len(),
        3,
        "expected three veths on docker0, saw {ports:?}"
    );
    for n in ["n1", "n2", "n3"] {
        let rec = lab.record(n);
        let veth = rec["endpoints"][0]["veth"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            ports.contains(&veth),
            "expected {n}'s veth {veth:?} among docker0's ports {ports:?}"
        );
        let v = lab.inspect(n);
        assert!(
            v["NetworkSettings"]["Networks"]["bridge"].is_object(),
            "expected {n} on network bridge, saw {}",
            v["NetworkSettings"]["Networks"]
        );
        let ip = lab.ip_of(n);
        assert!(
            ip.starts_with("172.17.0."),
            "expected {n} to have a 172.17.0.x address, saw {ip}"
        );
    }
}

/// C12: docker0 holds 172.17.0.1/16 in the lab host.
#[test]
fn c12_docker0_has_172_17_0_1_slash_16() {
    let lab = Lab::new("c12");
    lab.ok(&["lab", "up"]);
    let addr = ip(&lab.host(), &["-o", "-4", "addr", "show", "dev", "docker0"]);
    assert!(
        addr.contains("inet 172.17.0.1/16 brd 172.17.255.255"),
        "expected docker0 to carry 172.17.0.1/16, saw: {addr}"
    );
    let link = ip(&lab.host(), &["-d", "link", "show", "docker0"]);
    assert!(
        link.contains("bridge "),
        "expected docker0 to be a bridge, saw: {link}"
    );
}

/// C13: `show bridges` lists docker0 without interfaces first, then one more veth per
/// running container, exactly as `brctl show` prints it and as `bridge link` sees it.
#[test]
fn c13_show_bridges_counts_one_veth_per_container_like_brctl() {
    let lab = Lab::new("c13");
    lab.ok(&["lab", "up"]);
    let check = |n: usize| {
        let view = lab.ok(&["show", "bridges"]);
        let real = exec_in_ok(&lab.host(), &["brctl", "show"]);
        assert_eq!(
            view,
            real,
            "expected `show bridges` to equal `brctl show` in {}",
            lab.host()
        );
        let lines: Vec<&str> = view.lines().collect();
        assert_eq!(
            lines[0], "bridge name\tbridge id\t\tSTP enabled\tinterfaces",
            "expected brctl's header"
        );
        assert!(
            lines[1].starts_with("docker0\t\t8000."),
            "expected docker0 on the first row, saw {:?}",
            lines[1]
        );
        let ports: Vec<String> = lines[1..]
            .iter()
            .filter_map(|l| l.split('\t').next_back())
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect();
        assert_eq!(
            ports.len(),
            n,
            "expected {n} interfaces on docker0, saw {ports:?} in:\n{view}"
        );
        let bridge = cmd_ok("bridge", &["-n", &lab.host(), "link"]);
        let on_docker0 = bridge
            .lines()
            .filter(|l| l.contains("master docker0"))
            .count();
        assert_eq!(
            on_docker0, n,
            "expected `bridge link` to show {n} ports on docker0, saw:\n{bridge}"
        );
        let mut sorted = ports.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            lab.docker0_ports(),
            "expected the view's ports to be the kernel's"
        );
    };
    check(0);
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    check(1);
    lab.run_d("c2", &["busybox", "sleep", "600"]);
    check(2);
}

/// C20: `vethX@ifN` on the host and `eth0@ifM` in the container name each other's
/// interface index.
#[test]
fn c20_veth_ends_name_each_others_index() {
    let lab = Lab::new("c20");
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    let host = links(&lab.host());
    let veth = host
        .iter()
        .find(|l| l.name.starts_with("veth"))
        .expect("a veth on the host");
    let ctr = links(&lab.ctr("c1"));
    let eth0 = ctr
        .iter()
        .find(|l| l.name == "eth0")
        .expect("eth0 in the container");
    assert_eq!(
        veth.peer_index,
        Some(eth0.index),
        "expected {}@if{} to point at the container's eth0 index, saw: {}",
        veth.name,
        eth0.index,
        veth.line
    );
    assert_eq!(
        eth0.peer_index,
        Some(veth.index),
        "expected eth0@if{} to point at the host veth's index, saw: {}",
        veth.index,
        eth0.line
    );
}

/// C23: `rm -f` removes the host's veth and the container's namespace at once.
#[test]
fn c23_rm_f_removes_veth_and_namespace_immediately() {
    let lab = Lab::new("c23");
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    let veth = lab.docker0_ports();
    assert_eq!(veth.len(), 1, "expected one veth before rm, saw {veth:?}");
    assert!(
        lab.namespaces().contains(&lab.ctr("c1")),
        "expected {} before rm",
        lab.ctr("c1")
    );
    lab.ok(&["rm", "-f", "c1"]);
    let after = ip(&lab.host(), &["-o", "link"]);
    assert!(
        !after.contains(&veth[0]),
        "expected {} gone from the host right after rm -f, saw:\n{after}",
        veth[0]
    );
    assert!(
        !lab.namespaces().contains(&lab.ctr("c1")),
        "expected {} gone from `ip netns list`, saw {:?}",
        lab.ctr("c1"),
        lab.namespaces()
    );
}

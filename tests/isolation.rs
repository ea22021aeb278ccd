//! What user-defined networks do to packets (claims C27, C05, C15, C35): networks are
//! isolated from each other until `network connect` adds an interface, `--internal`
//! networks stay off the internet, `enable_icc=false` keeps a network's containers apart,
//! `-p` works from the LAN through the network's bridge, addresses follow `--ip` and
//! `--ip-range`, and `network rm`, `prune` and `lab down` take every trace away. Each
//! claim is checked with real packets and the rule counters that count them.

mod common;

use common::*;
use std::time::Duration;

/// How long a packet that should pass may take to start passing (ARP, DAD, a server
/// that is starting).
const WAIT: Duration = Duration::from_secs(5);

/// `network create ARGS...`, which must succeed; the id it printed.
fn create(lab: &Lab, args: &[&str]) -> String {
    let mut a = vec!["network", "create"];
    a.extend_from_slice(args);
    let id = lab.ok(&a).trim().to_string();
    assert!(
        id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "expected `network create {}` to print a 64-hex id, saw {id:?}",
        args.join(" ")
    );
    id
}

/// The bridge Docker names after a network id.
fn br(id: &str) -> String {
    format!("br-{}", &id[..12])
}

/// IPv4 addresses (CIDR) of one interface in a namespace, from `ip -o -4 addr`.
fn addrs(ns: &str, dev: &str) -> Vec<String> {
    ip(ns, &["-o", "-4", "addr", "show", "dev", dev])
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let i = w.iter().position(|x| *x == "inet")?;
            w.get(i + 1).map(|s| s.to_string())
        })
        .collect()
}

/// The address part of an interface's only IPv4 address.
fn addr_of(ns: &str, dev: &str) -> String {
    let a = addrs(ns, dev);
    assert_eq!(
        a.len(),
        1,
        "expected one IPv4 address on {dev} in {ns}, saw {a:?}"
    );
    a[0].split('/').next().unwrap().to_string()
}

/// The `default` lines of a namespace's routing table.
fn default_routes(ns: &str) -> Vec<String> {
    ip(ns, &["route"])
        .lines()
        .filter(|l| l.starts_with("default"))
        .map(|l| l.trim().to_string())
        .collect()
}

/// Names of a namespace's links, sorted.
fn link_names(ns: &str) -> Vec<String> {
    let mut v: Vec<String> = links(ns).into_iter().map(|l| l.name).collect();
    v.sort();
    v
}

/// The packet counter of one rule of the lab host, given as `iptables -S` prints it
/// (`-A CHAIN ...`), read from `iptables -v -S` (which adds `-c PACKETS BYTES`).
fn packets(lab: &Lab, table: &str, rule: &str) -> u64 {
    let out = exec_in_ok(&lab.host(), &["iptables", "-t", table, "-v", "-S"]);
    for l in out.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        if let Some(i) = w.iter().position(|x| *x == "-c") {
            let mut spec = w.clone();
            spec.drain(i..(i + 3).min(w.len()));
            if spec.join(" ") == rule {
                return w[i + 1].parse().expect("a packet count");
            }
        }
    }
    panic!("expected the rule `{rule}` in the {table} table of the lab host, saw:\n{out}")
}

/// `exec FROM ping -c1 -W1 TO` until it answers (up to [`WAIT`]); panics otherwise.
fn assert_pings(lab: &Lab, from: &str, to: &str, why: &str) {
    let r = eventually_ok(WAIT, || lab.dn(&["exec", from, "ping", "-c1", "-W1", to]));
    assert!(
        r.is_ok(),
        "expected {from} to ping {to} ({why}): {}",
        describe(&format!("exec {from} ping {to}"), &r.unwrap_err())
    );
}

/// One `ping -c1 -W1` from FROM to TO, which must not be answered.
fn assert_no_ping(lab: &Lab, from: &str, to: &str, why: &str) {
    let o = lab.dn(&["exec", from, "ping", "-c1", "-W1", to]);
    assert!(
        !o.status.success(),
        "expected {from} NOT to reach {to} by ping ({why}): {}",
        describe(&format!("exec {from} ping {to}"), &o)
    );
}

/// httpd's page at `http://TO/`, fetched from FROM (retried up to [`WAIT`]).
fn assert_fetches(lab: &Lab, from: &str, to: &str, why: &str) {
    let url = format!("http://{to}/");
    let page = retry(&format!("{from} fetches {url} ({why})"), WAIT, || {
        let o = lab.dn(&["exec", from, "wget", "-qO-", &url]);
        if o.status.success() {
            Ok(stdout(&o))
        } else {
            Err(describe("wget", &o))
        }
    });
    assert!(
        page.contains("It works!"),
        "expected httpd's page from {url}, saw {page:?}"
    );
}

/// A TCP connection from FROM to TO:PORT, which must not be established within 1 s.
fn assert_no_tcp(lab: &Lab, from: &str, to: &str, port: &str, why: &str) {
    let o = lab.dn(&["exec", from, "nc", "-w", "1", to, port]);
    assert!(
        !o.status.success(),
        "expected no TCP connection from {from} to {to}:{port} ({why}): {}",
        describe(&format!("exec {from} nc -w 1 {to} {port}"), &o)
    );
}

/// C27 (article 002, the tomcat01/tomcat02 scene): a container on the default bridge
/// cannot reach one on mynet (ping and TCP fail, and mynet's STAGE-2 DROP rule counts
/// the packets); after `network connect mynet tomcat01` it has eth1 with a mynet
/// address and reaches web while its default route stays on docker0, inspect shows
/// both networks, and tomcat02 still cannot; `network disconnect` takes eth1 and its
/// veth away and the isolation is back.
#[test]
fn c27_connect_crosses_the_isolation_and_disconnect_restores_it() {
    let lab = Lab::new("c27");
    let id = create(&lab, &["--subnet", "192.168.0.0/16", "mynet"]);
    let bridge = br(&id);
    lab.run_d("web", &["--net", "mynet", "httpd"]);
    let t1 = lab.run_d("tomcat01", &["busybox", "sleep", "600"]);
    lab.run_d("tomcat02", &["busybox", "sleep", "600"]);
    let web = addr_of(&lab.ctr("web"), "eth0");
    assert_eq!(
        web, "192.168.0.2",
        "expected web to be mynet's first container"
    );
    let drop = format!("-A DOCKER-ISOLATION-STAGE-2 -o {bridge} -j DROP");
    let dropped = packets(&lab, "filter", &drop);
    assert_no_ping(&lab, "tomcat01", &web, "mynet is isolated from docker0");
    assert_no_tcp(
        &lab,
        "tomcat01",
        &web,
        "80",
        "mynet is isolated from docker0",
    );
    let moved = packets(&lab, "filter", &drop) - dropped;
    assert!(
        moved >= 2,
        "expected `{drop}` to count the ping and the SYN (>= 2 packets), it moved by {moved}"
    );

    lab.ok(&["network", "connect", "mynet", "tomcat01"]);
    let ns = lab.ctr("tomcat01");
    let eth1 = addrs(&ns, "eth1");
    assert!(
        eth1.len() == 1 && eth1[0].starts_with("192.168.0.") && eth1[0].ends_with("/16"),
        "expected tomcat01's eth1 to carry a mynet address, saw {eth1:?}"
    );
    let t1_ip = eth1[0].split('/').next().unwrap().to_string();
    assert!(
        addrs(&ns, "eth0")
            .iter()
            .all(|a| a.starts_with("172.17.0.")),
        "expected eth0 to keep its docker0 address"
    );
    let routes = default_routes(&ns);
    assert!(
        routes.len() == 1 && routes[0].starts_with("default via 172.17.0.1 dev eth0"),
        "expected the default route to stay via 172.17.0.1 dev eth0, saw {routes:?}"
    );
    assert_pings(&lab, "tomcat01", &web, "connected to mynet");
    assert_fetches(&lab, "tomcat01", &web, "connected to mynet");
    assert_no_ping(&lab, "tomcat02", &web, "tomcat02 was not connected");
    let v = lab.inspect("tomcat01");
    let nets = &v["NetworkSettings"]["Networks"];
    let mut names: Vec<&String> = nets.as_object().expect("Networks map").keys().collect();
    names.sort();
    assert_eq!(
        names,
        ["bridge", "mynet"],
        "expected both networks in inspect, saw {nets}"
    );
    assert_eq!(nets["mynet"]["IPAddress"], t1_ip.as_str());
    assert_eq!(nets["mynet"]["Gateway"], "192.168.0.1");
    let n: serde_json::Value =
        serde_json::from_str(&lab.ok(&["network", "inspect", "mynet"])).expect("JSON");
    assert_eq!(
        n[0]["Containers"][&t1]["IPv4Address"],
        format!("{t1_ip}/16"),
        "expected `network inspect mynet` to list tomcat01, saw {}",
        n[0]["Containers"]
    );
    let veth = lab.record("tomcat01")["endpoints"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["network"] == "mynet"))
        .and_then(|e| e["veth"].as_str())
        .expect("a mynet endpoint with its veth in tomcat01's record")
        .to_string();
    assert!(
        lab.bridge_ports(&bridge).contains(&veth),
        "expected tomcat01's new veth {veth} on {bridge}"
    );

    lab.ok(&["network", "disconnect", "mynet", "tomcat01"]);
    assert_eq!(
        link_names(&ns),
        ["eth0", "lo"],
        "expected eth1 gone from tomcat01 after disconnect"
    );
    assert!(
        !link_names(&lab.host()).contains(&veth),
        "expected the veth {veth} gone from the lab host after disconnect"
    );
    assert_eq!(
        lab.bridge_ports(&bridge).len(),
        1,
        "expected only web's veth on {bridge}"
    );
    assert_no_ping(&lab, "tomcat01", &web, "disconnected again");
    let n: serde_json::Value =
        serde_json::from_str(&lab.ok(&["network", "inspect", "mynet"])).expect("JSON");
    assert!(
        n[0]["Containers"].get(&t1).is_none(),
        "expected tomcat01 gone from `network inspect mynet`, saw {}",
        n[0]["Containers"]
    );
}

/// `--internal` (reference §1.2): its containers reach each other but not the internet
/// (no default route, and even with one the STAGE-1 DROP rule stops the packets), while a
/// default-bridge container does reach 203.0.113.10; there is no MASQUERADE rule for
/// its subnet.
#[test]
fn internal_network_stays_off_the_internet() {
    let lab = Lab::new("internal");
    let id = create(&lab, &["--internal", "inet"]);
    let bridge = br(&id);
    lab.run_d("i1", &["--net", "inet", "busybox", "sleep", "600"]);
    lab.run_d("i2", &["--net", "inet", "busybox", "sleep", "600"]);
    lab.run_d("out", &["busybox", "sleep", "600"]);
    assert_pings(
        &lab,
        "i1",
        &addr_of(&lab.ctr("i2"), "eth0"),
        "same internal network",
    );
    let page = retry("the internet from the default bridge", WAIT, || {
        let o = lab.dn(&["exec", "out", "wget", "-qO-", "http://203.0.113.10/"]);
        if o.status.success() {
            Ok(stdout(&o))
        } else {
            Err(describe("wget", &o))
        }
    });
    assert!(
        page.contains("203.0.113.10"),
        "expected the internet's page, saw {page:?}"
    );
    let o = lab.dn(&[
        "exec",
        "i1",
        "timeout",
        "2",
        "wget",
        "-qO-",
        "http://203.0.113.10/",
    ]);
    assert!(
        !o.status.success(),
        "expected the internal container NOT to reach the internet: {}",
        describe("exec i1 wget 203.0.113.10", &o)
    );
    let ns = lab.ctr("i1");
    assert!(
        default_routes(&ns).is_empty(),
        "expected no default route on an internal network, saw {:?}",
        default_routes(&ns)
    );
    // Give it one by hand: the host's rules still drop what leaves the subnet.
    ip(&ns, &["route", "add", "default", "via", "172.18.0.1"]);
    let drop = format!("-A DOCKER-ISOLATION-STAGE-1 ! -d 172.18.0.0/16 -i {bridge} -j DROP");
    let before = packets(&lab, "filter", &drop);
    assert_no_ping(
        &lab,
        "i1",
        "203.0.113.10",
        "internal network, even with a route",
    );
    assert!(
        packets(&lab, "filter", &drop) > before,
        "expected `{drop}` to count the ping"
    );
    let nat = exec_in_ok(&lab.host(), &["iptables", "-t", "nat", "-S"]);
    assert!(
        !nat.lines()
            .any(|l| l.contains("MASQUERADE") && l.contains("172.18.0.0/16")),
        "expected no MASQUERADE rule for the internal subnet, saw:\n{nat}"
    );
    assert!(
        nat.contains("-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"),
        "expected docker0's MASQUERADE to stay, saw:\n{nat}"
    );
}

/// `-o com.docker.network.bridge.enable_icc=false` (reference §1.2): two containers on
/// that network cannot ping each other, and the appended `-i br -o br -j DROP` rule
/// counts the attempt; there is no ICC ACCEPT for the bridge.
#[test]
fn icc_false_keeps_a_networks_containers_apart() {
    let lab = Lab::new("noicc");
    let id = create(
        &lab,
        &["-o", "com.docker.network.bridge.enable_icc=false", "noicc"],
    );
    let bridge = br(&id);
    lab.run_d("n1", &["--net", "noicc", "busybox", "sleep", "600"]);
    lab.run_d("n2", &["--net", "noicc", "busybox", "sleep", "600"]);
    let rules = iptables_rules(&lab.host());
    let drop = format!("-A FORWARD -i {bridge} -o {bridge} -j DROP");
    assert!(
        rules.contains(&drop),
        "expected `{drop}` in:\n{}",
        rules.join("\n")
    );
    assert!(
        !rules.contains(&format!("-A FORWARD -i {bridge} -o {bridge} -j ACCEPT")),
        "expected no ICC ACCEPT for {bridge}"
    );
    let before = packets(&lab, "filter", &drop);
    assert_no_ping(&lab, "n1", &addr_of(&lab.ctr("n2"), "eth0"), "icc=false");
    assert!(
        packets(&lab, "filter", &drop) > before,
        "expected `{drop}` to count the ping"
    );
}

/// C05, C15, C37 on a user-defined network: `run -d --net mynet -p 8080:80 httpd` is
/// reachable from the LAN at 198.51.100.2:8080; the DNAT rule leads to the container's
/// mynet address and counts the request, and the filter ACCEPT names the br- bridge.
#[test]
fn publish_on_a_user_network_goes_through_its_bridge() {
    let lab = Lab::new("publish_net");
    let id = create(&lab, &["--subnet", "192.168.0.0/16", "mynet"]);
    let bridge = br(&id);
    lab.run_d("web", &["--net", "mynet", "-p", "8080:80", "httpd"]);
    let rules = iptables_rules(&lab.host());
    let dnat = format!(
        "-A DOCKER ! -i {bridge} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.0.2:80"
    );
    let accept = format!(
        "-A DOCKER -d 192.168.0.2/32 ! -i {bridge} -o {bridge} -p tcp -m tcp --dport 80 -j ACCEPT"
    );
    for r in [&dnat, &accept] {
        assert!(
            rules.contains(r),
            "expected `{r}` in:\n{}",
            rules.join("\n")
        );
    }
    let before = packets(&lab, "nat", &dnat);
    let page = retry("web from the world through 198.51.100.2:8080", WAIT, || {
        let o = exec_in(&lab.world(), &["wget", "-qO-", "http://198.51.100.2:8080/"]);
        if o.status.success() {
            Ok(stdout(&o))
        } else {
            Err(describe("wget", &o))
        }
    });
    assert!(
        page.contains("It works!"),
        "expected httpd's page, saw {page:?}"
    );
    assert!(
        packets(&lab, "nat", &dnat) > before,
        "expected `{dnat}` to count the request"
    );
}

/// `--ip` and `--ip-range` (src/ipam): a static address is honoured even outside the
/// range; dynamic addresses come from the range, lowest first, the range's .0 included
/// as Docker hands it out (docker/for-linux#170); without --gateway the gateway is the
/// range's first address.
#[test]
fn static_ip_and_ip_range_are_honoured() {
    let lab = Lab::new("ip_range");
    create(
        &lab,
        &[
            "--subnet",
            "192.168.0.0/16",
            "--gateway",
            "192.168.0.1",
            "--ip-range",
            "192.168.8.0/24",
            "mynet",
        ],
    );
    lab.run_d(
        "s1",
        &[
            "--net",
            "mynet",
            "--ip",
            "192.168.5.5",
            "busybox",
            "sleep",
            "600",
        ],
    );
    lab.run_d("d1", &["--net", "mynet", "busybox", "sleep", "600"]);
    lab.run_d("d2", &["--net", "mynet", "busybox", "sleep", "600"]);
    for (c, want) in [
        ("s1", "192.168.5.5/16"),
        ("d1", "192.168.8.0/16"),
        ("d2", "192.168.8.1/16"),
    ] {
        assert_eq!(
            addrs(&lab.ctr(c), "eth0"),
            [want],
            "expected {c}'s eth0 to carry {want}"
        );
    }
    let s1 = &lab.inspect("s1")["NetworkSettings"]["Networks"]["mynet"];
    assert!(
        s1["IPAddress"] == "192.168.5.5" && s1["IPAMConfig"]["IPv4Address"] == "192.168.5.5",
        "expected inspect to show the static IP (IPAddress and IPAMConfig), saw {s1}"
    );
    assert_pings(
        &lab,
        "d2",
        "192.168.8.0",
        "the range's .0 is a usable host address",
    );
    assert_pings(
        &lab,
        "d1",
        "192.168.5.5",
        "the static address is on the same subnet",
    );

    let id = create(
        &lab,
        &[
            "--subnet",
            "10.5.0.0/16",
            "--ip-range",
            "10.5.8.0/24",
            "ranged",
        ],
    );
    assert_eq!(
        addrs(&lab.host(), &br(&id)),
        ["10.5.8.0/16"],
        "expected the gateway to be the range's first address"
    );
    lab.run_d("r1", &["--net", "ranged", "busybox", "sleep", "600"]);
    assert_eq!(addrs(&lab.ctr("r1"), "eth0"), ["10.5.8.1/16"]);
    let routes = default_routes(&lab.ctr("r1"));
    assert!(
        routes.len() == 1 && routes[0].starts_with("default via 10.5.8.0 dev eth0"),
        "expected the default route via the range gateway, saw {routes:?}"
    );
}

/// Reference §9 ("connecting a stopped container only records the config"): `stop late;
/// network connect mynet late; start late` brings it back with eth0 on docker0 and eth1 on
/// mynet, both reachable.
#[test]
fn stopped_container_connected_comes_back_with_both_interfaces() {
    let lab = Lab::new("stopped_connect");
    let id = create(&lab, &["--subnet", "192.168.0.0/16", "mynet"]);
    lab.run_d("peer", &["--net", "mynet", "busybox", "sleep", "600"]);
    lab.run_d("late", &["busybox", "sleep", "600"]);
    lab.ok(&["stop", "-t", "1", "late"]);
    lab.ok(&["network", "connect", "mynet", "late"]);
    assert!(
        !lab.namespaces().contains(&lab.ctr("late")),
        "expected connect of a stopped container to build nothing yet"
    );
    lab.ok(&["start", "late"]);
    let ns = lab.ctr("late");
    assert_eq!(
        link_names(&ns),
        ["eth0", "eth1", "lo"],
        "expected eth0 and eth1 after start"
    );
    let eth0 = addrs(&ns, "eth0");
    let eth1 = addrs(&ns, "eth1");
    assert!(
        eth0.len() == 1 && eth0[0].starts_with("172.17.0."),
        "expected eth0 on docker0, saw {eth0:?}"
    );
    assert_eq!(
        eth1,
        ["192.168.0.3/16"],
        "expected eth1 on mynet after peer's .2"
    );
    assert_eq!(
        lab.bridge_ports(&br(&id)).len(),
        2,
        "expected two veths on mynet's bridge"
    );
    assert_eq!(
        lab.docker0_ports().len(),
        1,
        "expected late's veth on docker0"
    );
    assert_pings(&lab, "late", "192.168.0.2", "late is on mynet again");
    assert_pings(&lab, "late", "172.17.0.1", "late is on docker0 again");
    let v = lab.inspect("late");
    let nets = &v["NetworkSettings"]["Networks"];
    assert!(
        nets["bridge"].is_object() && nets["mynet"]["IPAddress"] == "192.168.0.3",
        "expected both networks in inspect, saw {nets}"
    );
}

/// C11: `network rm mynet` takes its bridge, every rule naming it and its records away
/// (the host's rules are exactly those from before the create); `network prune -f`
/// prints `Deleted Networks:` and the unused networks only; `lab down` with networks
/// and containers leaves no namespace and no /run/dockernet/<lab>.
#[test]
fn rm_prune_and_lab_down_leave_no_trace() {
    let lab = Lab::new("net_rm");
    lab.ok(&["lab", "up"]);
    let rules_before = iptables_rules(&lab.host());
    let links_before = link_names(&lab.host());
    let id = create(&lab, &["--subnet", "192.168.0.0/16", "mynet"]);
    let bridge = br(&id);
    lab.run_d("c1", &["--net", "mynet", "-p", "8080:80", "httpd"]);
    lab.ok(&["rm", "-f", "c1"]);
    assert_eq!(
        lab.ok(&["network", "rm", "mynet"]),
        "mynet\n",
        "expected rm to echo the name"
    );
    assert_eq!(
        link_names(&lab.host()),
        links_before,
        "expected {bridge} gone from the host"
    );
    let save = exec_in_ok(&lab.host(), &["iptables-save"]);
    assert!(
        !save.contains(&bridge),
        "expected no rule naming {bridge}, saw:\n{save}"
    );
    assert_eq!(
        iptables_rules(&lab.host()),
        rules_before,
        "expected the host's rules as before the create"
    );
    assert!(
        !lab.dir().join("networks").join(&id).exists(),
        "expected mynet's record gone"
    );
    assert!(
        !lab.dir().join("netnames/mynet").exists(),
        "expected mynet's name record gone"
    );

    let a = create(&lab, &["unused1"]);
    let b = create(&lab, &["unused2"]);
    let used = create(&lab, &["used"]);
    lab.run_d("u1", &["--net", "used", "busybox", "sleep", "600"]);
    let out = lab.ok(&["network", "prune", "-f"]);
    let mut lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&"Deleted Networks:"),
        "expected Docker's header, saw:\n{out}"
    );
    lines.remove(0);
    lines.sort();
    assert_eq!(
        lines,
        ["unused1", "unused2"],
        "expected only the unused networks, saw:\n{out}"
    );
    let host = link_names(&lab.host());
    assert!(
        !host.contains(&br(&a)) && !host.contains(&br(&b)) && host.contains(&br(&used)),
        "expected the pruned bridges gone and {} kept, saw {host:?}",
        br(&used)
    );
    let ls = lab.ok(&["network", "ls"]);
    for n in ["bridge", "host", "none", "used"] {
        assert!(
            ls.lines().any(|l| l.split_whitespace().nth(1) == Some(n)),
            "expected {n} to survive prune, saw:\n{ls}"
        );
    }

    lab.ok(&["lab", "down"]);
    assert!(
        lab.namespaces().is_empty(),
        "expected no namespace after lab down, saw {:?}",
        lab.namespaces()
    );
    assert!(
        !lab.dir().exists(),
        "expected {} gone after lab down",
        lab.dir().display()
    );
    assert!(
        lab.processes().is_empty(),
        "expected no process left, saw {:?}",
        lab.processes()
    );
}

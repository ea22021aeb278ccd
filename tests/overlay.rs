//! Overlay networks across lab hosts, with real traffic: containers on two and three
//! hosts ping each other by address and by name and talk TCP over VXLAN; the frames
//! travel as UDP packets to port 4789 between the hosts' LAN addresses; each host's
//! vxlan0 holds one FDB entry per container elsewhere, kept current as containers come
//! and go; a host added later joins the overlays; two overlays are isolated; `lab
//! down` leaves nothing.

mod common;

use common::*;
use std::time::Duration;

/// How long a first ping (ARP through the VXLAN proxy) may take.
const WAIT: Duration = Duration::from_secs(10);

/// A lab with a second host and an attachable overlay `ov` on 10.0.9.0/24.
fn two_hosts(test: &str) -> Lab {
    let lab = Lab::new(test);
    lab.ok(&["lab", "up"]);
    lab.ok(&["lab", "host", "add", "host2"]);
    lab.ok(&[
        "network",
        "create",
        "-d",
        "overlay",
        "--subnet",
        "10.0.9.0/24",
        "--attachable",
        "ov",
    ]);
    lab
}

/// `-H HOST exec NAME ARGV...` until it succeeds; its stdout.
fn eventually_on(lab: &Lab, host: &str, name: &str, argv: &[&str]) -> String {
    let mut args = vec!["-H", host, "exec", name];
    args.extend_from_slice(argv);
    match eventually_ok(WAIT, || lab.dn(&args)) {
        Ok(o) => stdout(&o),
        Err(o) => panic!(
            "expected success within {WAIT:?}: {}",
            describe(&args.join(" "), &o)
        ),
    }
}

/// `network inspect NAME` on the first host, the object.
fn inspect_net(lab: &Lab, name: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&lab.ok(&["network", "inspect", name]))
        .expect("network inspect prints JSON");
    v[0].clone()
}

/// A container's address on overlay `ov`, as `inspect` on its host shows it.
fn ov_ip(lab: &Lab, host: &str, name: &str) -> String {
    let tpl = "{{(index .NetworkSettings.Networks \"ov\").IPAddress}}";
    lab.on(host, &["inspect", "-f", tpl, name])
        .trim()
        .to_string()
}

/// The overlay namespaces of one host (`dn-<lab>[-<host>]-ov-…`).
fn overlay_namespaces(lab: &Lab, host: &str) -> Vec<String> {
    let prefix = if host == "host" {
        format!("dn-{}-ov-", lab.name)
    } else {
        format!("dn-{}-{host}-ov-", lab.name)
    };
    lab.namespaces()
        .into_iter()
        .filter(|n| n.starts_with(&prefix))
        .collect()
}

/// `bridge fdb show dev vxlan0` in a host's one overlay namespace.
fn fdb(lab: &Lab, host: &str) -> String {
    let ns = overlay_namespaces(lab, host);
    assert_eq!(
        ns.len(),
        1,
        "expected one overlay namespace on {host}, saw {ns:?}"
    );
    exec_in_ok(&ns[0], &["bridge", "fdb", "show", "dev", "vxlan0"])
}

#[test]
fn containers_on_two_hosts_talk_over_vxlan_by_address_and_name() {
    let lab = two_hosts("ov_two");
    let serve = "echo hello-overlay > /tmp/index.html && exec httpd -f -p 80 -h /tmp";
    lab.run_d("web1", &["--net", "ov", "busybox", "sh", "-c", serve]);
    lab.on(
        "host2",
        &[
            "run", "-d", "--name", "c2", "--net", "ov", "busybox", "sleep", "600",
        ],
    );
    let web1 = ov_ip(&lab, "host", "web1");
    assert!(
        web1.starts_with("10.0.9."),
        "web1 is on the overlay's subnet: {web1}"
    );
    // A counter of VXLAN packets arriving at host2 from the first host: the overlay's
    // frames are UDP datagrams to port 4789 between the hosts' LAN addresses.
    let count = "iptables -t raw -A PREROUTING -s 198.51.100.2 -d 198.51.100.3 -p udp --dport 4789";
    let h2 = lab.host_named("host2");
    sh_in(&h2, count);
    eventually_on(&lab, "host2", "c2", &["ping", "-c", "1", "-W", "1", &web1]);
    let by_name = eventually_on(&lab, "host2", "c2", &["ping", "-c", "2", "-W", "1", "web1"]);
    assert!(
        by_name.contains(&format!("({web1})")),
        "web1 resolves on host2: {by_name}"
    );
    let page = eventually_on(
        &lab,
        "host2",
        "c2",
        &["wget", "-q", "-O", "-", "http://web1/"],
    );
    assert!(
        page.contains("hello-overlay"),
        "TCP over the overlay: {page:?}"
    );
    let back = eventually_on(&lab, "host", "web1", &["ping", "-c", "1", "-W", "1", "c2"]);
    assert!(back.contains("1 packets received"), "{back}");
    let rules = exec_in_ok(&h2, &["iptables", "-t", "raw", "-vnxL", "PREROUTING"]);
    let packets: u64 = rules
        .lines()
        .find(|l| l.contains("dpt:4789"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        packets >= 4,
        "VXLAN datagrams from 198.51.100.2 counted on host2: {rules}"
    );
    // Each host knows the other's container: its MAC behind the other host's VTEP.
    let web1_mac = lab.record("web1")["endpoints"][0]["mac"]
        .as_str()
        .unwrap()
        .to_string();
    let on_h2 = fdb(&lab, "host2");
    assert!(
        on_h2.contains(&format!(
            "{web1_mac} dst 198.51.100.2 link-netnsid 0 self permanent"
        )),
        "host2's vxlan0 has web1 behind 198.51.100.2: {on_h2}"
    );
    let view = lab.on("host2", &["show", "fdb"]);
    assert!(
        view.contains("# web1 on host"),
        "show fdb names the owner: {view}"
    );
    // Docker's device: VNI from 4096, port 4789, MTU 1450, learning and proxy on.
    let ns = &overlay_namespaces(&lab, "host")[0];
    let dev = ip(ns, &["-d", "link", "show", "vxlan0"]);
    for want in [
        "mtu 1450",
        "vxlan id 4096",
        "dstport 4789",
        "proxy",
        "l2miss",
        "l3miss",
        "master br0",
    ] {
        assert!(dev.contains(want), "vxlan0 has {want}: {dev}");
    }
    let eth0 = ip(&lab.ctr("web1"), &["link", "show", "eth0"]);
    assert!(
        eth0.contains("mtu 1450"),
        "the container's eth0 has the overlay's MTU: {eth0}"
    );
}

#[test]
fn an_overlay_container_goes_out_through_docker_gwbridge() {
    let lab = two_hosts("ov_gw");
    lab.run_d("c1", &["--net", "ov", "busybox", "sleep", "600"]);
    let routes = ip(&lab.ctr("c1"), &["route"]);
    assert!(
        routes.contains("default via 172.18.0.1 dev eth1"),
        "default route via docker_gwbridge: {routes}"
    );
    let ls = lab.ok(&["network", "ls"]);
    assert!(
        ls.lines()
            .any(|l| l.contains("docker_gwbridge") && l.contains("bridge")),
        "{ls}"
    );
    assert!(
        ls.lines()
            .any(|l| l.contains(" ov ") && l.contains("overlay") && l.ends_with("swarm")),
        "{ls}"
    );
    let out = eventually_on(
        &lab,
        "host",
        "c1",
        &["ping", "-c", "1", "-W", "1", "203.0.113.10"],
    );
    assert!(out.contains("1 packets received"), "{out}");
    let nat = exec_in_ok(&lab.host(), &["iptables", "-t", "nat", "-S", "POSTROUTING"]);
    assert!(
        nat.contains("-A POSTROUTING -s 172.18.0.0/16 ! -o docker_gwbridge -j MASQUERADE"),
        "docker_gwbridge masquerades: {nat}"
    );
    let inspect = inspect_net(&lab, "ov");
    assert_eq!(inspect["Scope"], "swarm");
    assert_eq!(
        inspect["Options"]["com.docker.network.driver.overlay.vxlanid_list"],
        "4096"
    );
    let peers = inspect["Peers"].as_array().cloned().unwrap_or_default();
    assert_eq!(peers.len(), 2, "both hosts are peers: {inspect}");
}

#[test]
fn a_container_removed_on_one_host_stops_answering_on_the_other() {
    let lab = two_hosts("ov_rm");
    lab.run_d("web1", &["--net", "ov", "busybox", "sleep", "600"]);
    lab.on(
        "host2",
        &[
            "run", "-d", "--name", "c2", "--net", "ov", "busybox", "sleep", "600",
        ],
    );
    let web1 = ov_ip(&lab, "host", "web1");
    eventually_on(&lab, "host2", "c2", &["ping", "-c", "1", "-W", "1", "web1"]);
    let mac = lab.record("web1")["endpoints"][0]["mac"]
        .as_str()
        .unwrap()
        .to_string();
    lab.ok(&["rm", "-f", "web1"]);
    let fdb2 = fdb(&lab, "host2");
    // (What br0 learned from web1's frames ages out on its own, as in Docker.)
    assert!(
        !fdb2.contains(&format!("{mac} dst")),
        "web1's FDB entry is gone from host2: {fdb2}"
    );
    let o = lab.dn_on(
        "host2",
        &["exec", "c2", "ping", "-c", "1", "-W", "1", &web1],
    );
    assert!(
        !o.status.success(),
        "web1's address no longer answers: {}",
        describe("ping", &o)
    );
    let o = lab.dn_on("host2", &["exec", "c2", "nslookup", "web1"]);
    assert!(
        !o.status.success(),
        "web1's name is gone on host2: {}",
        describe("nslookup", &o)
    );
    // A container on host2 stopped: the first host forgets it too.
    lab.run_d("c1", &["--net", "ov", "busybox", "sleep", "600"]);
    eventually_on(&lab, "host", "c1", &["ping", "-c", "1", "-W", "1", "c2"]);
    lab.on("host2", &["stop", "-t", "0", "c2"]);
    assert!(
        !fdb(&lab, "host").contains("dst 198.51.100.3"),
        "no entry of host2 left on host"
    );
}

#[test]
fn three_hosts_and_a_host_added_later_join_the_overlay() {
    let lab = two_hosts("ov_three");
    lab.run_d("c1", &["--net", "ov", "busybox", "sleep", "600"]);
    lab.on(
        "host2",
        &[
            "run", "-d", "--name", "c2", "--net", "ov", "busybox", "sleep", "600",
        ],
    );
    // host3 comes after the overlay and its containers: it gets its own copy.
    lab.ok(&["lab", "host", "add", "host3"]);
    assert_eq!(overlay_namespaces(&lab, "host3").len(), 1);
    lab.on(
        "host3",
        &[
            "run", "-d", "--name", "c3", "--net", "ov", "busybox", "sleep", "600",
        ],
    );
    for (host, from, to) in [
        ("host3", "c3", "c1"),
        ("host3", "c3", "c2"),
        ("host", "c1", "c3"),
        ("host2", "c2", "c3"),
    ] {
        let out = eventually_on(&lab, host, from, &["ping", "-c", "1", "-W", "1", to]);
        assert!(out.contains("1 packets received"), "{from} -> {to}: {out}");
    }
    let f3 = fdb(&lab, "host3");
    assert!(
        f3.contains("dst 198.51.100.2") && f3.contains("dst 198.51.100.3"),
        "{f3}"
    );
    // Addresses are the swarm's: no two containers share one across hosts.
    let mut ips: Vec<String> = [("host", "c1"), ("host2", "c2"), ("host3", "c3")]
        .iter()
        .map(|(h, c)| ov_ip(&lab, h, c))
        .collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 3, "three distinct overlay addresses: {ips:?}");
    // Removing a host: the others forget its container.
    lab.ok(&["lab", "host", "rm", "host3"]);
    assert!(
        !fdb(&lab, "host").contains("dst 198.51.100.4"),
        "host3's entries are gone"
    );
    assert!(
        lab.namespaces().iter().all(|n| !n.contains("-host3")),
        "{:?}",
        lab.namespaces()
    );
}

#[test]
fn two_overlays_are_isolated_and_have_their_own_vni() {
    let lab = two_hosts("ov_iso");
    lab.ok(&["network", "create", "-d", "overlay", "--attachable", "ov2"]);
    let ov2 = inspect_net(&lab, "ov2");
    assert_eq!(
        ov2["Options"]["com.docker.network.driver.overlay.vxlanid_list"],
        "4097"
    );
    assert_eq!(
        ov2["IPAM"]["Config"][0]["Subnet"], "10.0.1.0/24",
        "swarm's pool: {ov2}"
    );
    lab.run_d("a1", &["--net", "ov", "busybox", "sleep", "600"]);
    lab.on(
        "host2",
        &[
            "run", "-d", "--name", "b2", "--net", "ov2", "busybox", "sleep", "600",
        ],
    );
    lab.on(
        "host2",
        &[
            "run", "-d", "--name", "a2", "--net", "ov", "busybox", "sleep", "600",
        ],
    );
    eventually_on(&lab, "host", "a1", &["ping", "-c", "1", "-W", "1", "a2"]);
    let tpl = "{{(index .NetworkSettings.Networks \"ov2\").IPAddress}}";
    let b2 = lab
        .on("host2", &["inspect", "-f", tpl, "b2"])
        .trim()
        .to_string();
    assert!(b2.starts_with("10.0.1."), "{b2}");
    let o = lab.dn(&["exec", "a1", "ping", "-c", "1", "-W", "1", &b2]);
    assert!(
        !o.status.success(),
        "ov cannot reach ov2: {}",
        describe("ping", &o)
    );
    let o = lab.dn(&["exec", "a1", "nslookup", "b2"]);
    assert!(
        !o.status.success(),
        "b2's name is not in ov's scope: {}",
        describe("nslookup", &o)
    );
}

#[test]
fn docker_refusals_and_removal_across_hosts() {
    let lab = two_hosts("ov_refuse");
    lab.ok(&["network", "create", "-d", "overlay", "closed"]);
    let o = lab.fails(&[
        "run", "-d", "--name", "x1", "--net", "closed", "busybox", "sleep", "60",
    ]);
    assert!(
        stderr(&o).contains("network closed not manually attachable"),
        "{}",
        describe("run", &o)
    );
    assert!(
        lab.dn(&["inspect", "x1"]).status.code() != Some(0),
        "nothing was created"
    );
    lab.run_d("c1", &["--net", "ov", "busybox", "sleep", "600"]);
    let o = lab.dn_on("host2", &["network", "rm", "ov"]);
    assert!(
        stderr(&o).contains("has active endpoints"),
        "{}",
        describe("network rm", &o)
    );
    lab.ok(&["rm", "-f", "c1"]);
    lab.on("host2", &["network", "rm", "ov", "closed"]);
    assert!(
        overlay_namespaces(&lab, "host").is_empty() && overlay_namespaces(&lab, "host2").is_empty()
    );
    let ls = lab.ok(&["network", "ls"]);
    assert!(!ls.contains("overlay"), "{ls}");
}

#[test]
fn lab_down_removes_every_host_and_overlay() {
    let lab = two_hosts("ov_down");
    lab.run_d("c1", &["--net", "ov", "busybox", "sleep", "600"]);
    lab.on(
        "host2",
        &[
            "run", "-d", "--name", "c2", "--net", "ov", "busybox", "sleep", "600",
        ],
    );
    assert!(!lab.processes().is_empty());
    lab.ok(&["lab", "down"]);
    assert!(lab.namespaces().is_empty(), "{:?}", lab.namespaces());
    assert!(lab.processes().is_empty(), "{:?}", lab.processes());
    assert!(!lab.dir().exists());
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&format!("/run/dockernet/{}/", lab.name)),
        "no mount left"
    );
}

#[test]
fn connect_disconnect_and_the_mtu_option() {
    let lab = Lab::new("ov_connect");
    lab.ok(&["lab", "host", "add", "host2"]);
    lab.ok(&[
        "network",
        "create",
        "-d",
        "overlay",
        "--attachable",
        "-o",
        "com.docker.network.driver.mtu=1400",
        "ov",
    ]);
    lab.run_d("b1", &["busybox", "sleep", "600"]);
    lab.ok(&["network", "connect", "ov", "b1"]);
    let eth1 = ip(&lab.ctr("b1"), &["link", "show", "eth1"]);
    assert!(eth1.contains("mtu 1400"), "the option's MTU: {eth1}");
    let routes = ip(&lab.ctr("b1"), &["route"]);
    assert!(
        routes.contains("default via 172.17.0.1 dev eth0"),
        "docker0 keeps the default route: {routes}"
    );
    lab.on(
        "host2",
        &[
            "run", "-d", "--name", "c2", "--net", "ov", "busybox", "sleep", "600",
        ],
    );
    let out = eventually_on(&lab, "host2", "c2", &["ping", "-c", "1", "-W", "1", "b1"]);
    assert!(out.contains("1 packets received"), "{out}");
    lab.ok(&["network", "disconnect", "ov", "b1"]);
    let o = lab.dn_on("host2", &["exec", "c2", "nslookup", "b1"]);
    assert!(
        !o.status.success(),
        "b1 left the overlay: {}",
        describe("nslookup", &o)
    );
    assert!(
        !fdb(&lab, "host2").contains("dst 198.51.100.2"),
        "{}",
        fdb(&lab, "host2")
    );
}

#[test]
fn names_on_the_overlay_answer_with_overlay_addresses_only() {
    let lab = two_hosts("ov_names");
    lab.run_d("web1", &["--net", "ov", "busybox", "sleep", "600"]);
    lab.run_d("web3", &["--net", "ov", "busybox", "sleep", "600"]);
    let web3 = ov_ip(&lab, "host", "web3");
    let answer = eventually_on(&lab, "host", "web1", &["nslookup", "web3"]);
    assert!(answer.contains(&web3), "{answer}");
    assert!(
        !answer.contains("172.18."),
        "docker_gwbridge's addresses have no names (icc is off there): {answer}"
    );
    let out = eventually_on(
        &lab,
        "host",
        "web1",
        &["ping", "-c", "1", "-W", "1", "web3"],
    );
    assert!(out.contains("1 packets received"), "{out}");
}

//! The macvlan driver (and ipvlan where the kernel has it), with real traffic: a
//! container on a macvlan of the lab host's eth0 sits on the LAN itself — the world and
//! containers of other lab hosts reach it, its own host does not until it gets a macvlan
//! of its own; containers on it resolve each other by name; `rm` takes the link with
//! the namespace; bad input is one clear line and builds nothing.

mod common;

use common::*;
use std::path::Path;

/// The LAN's upper half: never a lab host's address (.2, .3, ...).
const MACVLAN: &[&str] = &[
    "network",
    "create",
    "-d",
    "macvlan",
    "--subnet",
    "198.51.100.0/24",
    "--gateway",
    "198.51.100.1",
    "--ip-range",
    "198.51.100.128/25",
    "-o",
    "parent=eth0",
];

/// `network create` of a macvlan network NAME on eth0 with extra options.
fn create(lab: &Lab, name: &str, extra: &[&str]) -> String {
    let mut a = MACVLAN.to_vec();
    a.extend_from_slice(extra);
    a.push(name);
    lab.ok(&a).trim().to_string()
}

/// `ping -c1 -W1 ADDR` from the world (iputils), true when answered.
fn world_pings(lab: &Lab, addr: &str) -> bool {
    lab.dn(&["world", "--", "ping", "-c1", "-W1", addr])
        .status
        .success()
}

/// True when the world reaches `addr` within a few seconds (a container just started
/// answers its first ARP under a loaded machine's scheduler, not at once).
fn world_reaches(lab: &Lab, addr: &str) -> bool {
    (0..5).any(|_| world_pings(lab, addr))
}

/// True when the kernel has ipvlan, decided as dockernet decides it but on our own:
/// loaded, built in or installed as a module, or set in the kernel's config.
fn kernel_has_ipvlan() -> bool {
    if Path::new("/sys/module/ipvlan").exists() {
        return true;
    }
    let release = cmd_ok("uname", &["-r"]).trim().to_string();
    let dir = Path::new("/lib/modules").join(&release);
    for f in ["modules.builtin", "modules.dep"] {
        if std::fs::read_to_string(dir.join(f)).is_ok_and(|t| t.contains("/ipvlan.ko")) {
            return true;
        }
    }
    let mut config = std::fs::read_to_string(format!("/boot/config-{release}")).unwrap_or_default();
    if Path::new("/proc/config.gz").exists() {
        config.push_str(&stdout(&cmd("gzip", &["-dc", "/proc/config.gz"])));
    }
    config
        .lines()
        .any(|l| l == "CONFIG_IPVLAN=y" || l == "CONFIG_IPVLAN=m")
}

#[test]
fn the_lan_reaches_a_macvlan_container_and_its_own_host_only_through_a_macvlan() {
    let lab = Lab::new("mv_reach");
    create(&lab, "lan", &[]);
    lab.run_d("mv1", &["--net", "lan", "busybox", "sleep", "3600"]);
    let ns = lab.ctr("mv1");
    // Its eth0 is a macvlan of the host's eth0, with Docker's MAC for its address.
    let link = ip(&ns, &["-d", "link", "show", "eth0"]);
    assert!(
        link.contains("macvlan mode bridge") && link.contains("link/ether 02:42:c6:33:64:80"),
        "expected eth0 to be a bridge-mode macvlan with MAC 02:42:c6:33:64:80:\n{link}"
    );
    assert!(
        ip(&ns, &["-4", "addr", "show", "eth0"]).contains("inet 198.51.100.128/24"),
        "expected the first address of the range"
    );
    // No veth, no bridge, no rule for it on the host.
    let host_links = ip(&lab.host(), &["-o", "link"]);
    assert!(
        !host_links.contains("veth") && !host_links.contains("br-"),
        "expected no veth and no bridge on the host:\n{host_links}"
    );
    let nat = exec_in_ok(&lab.host(), &["iptables-save", "-t", "nat"]);
    assert!(
        !nat.contains("198.51.100"),
        "no NAT rule for the LAN:\n{nat}"
    );

    // The world reaches it, and learns its own MAC.
    assert!(world_reaches(&lab, "198.51.100.128"), "the world pings mv1");
    let neigh = ip(&lab.world(), &["neigh", "show", "198.51.100.128"]);
    assert!(
        neigh.contains("02:42:c6:33:64:80"),
        "world's ARP entry: {neigh}"
    );
    // It reaches the world's switch (its gateway) and, through it, the internet.
    lab.ok(&["exec", "mv1", "ping", "-c1", "-W1", "198.51.100.1"]);
    lab.ok(&["exec", "mv1", "ping", "-c1", "-W1", "203.0.113.10"]);

    // A container on another lab host, on that host's default bridge, reaches it.
    lab.ok(&["lab", "host", "add", "host2"]);
    lab.ok(&[
        "-H", "host2", "run", "-d", "--name", "far", "busybox", "sleep", "3600",
    ]);
    lab.ok(&[
        "-H",
        "host2",
        "exec",
        "far",
        "ping",
        "-c1",
        "-W1",
        "198.51.100.128",
    ]);

    // Its own host does not, either way.
    let o = lab.dn(&["host", "--", "ping", "-c1", "-W1", "198.51.100.128"]);
    assert!(
        !o.status.success(),
        "expected the host not to reach its own macvlan child: {}",
        describe("host -- ping", &o)
    );
    let o = lab.dn(&["exec", "mv1", "ping", "-c1", "-W1", "198.51.100.2"]);
    assert!(!o.status.success(), "nor the child its host");

    // The workaround: a macvlan for the host too, and a route through it.
    lab.ok(&[
        "host",
        "--",
        "sh",
        "-c",
        "ip link add mac0 link eth0 type macvlan mode bridge && \
         ip addr add 198.51.100.200/32 dev mac0 && ip link set mac0 up && \
         ip route add 198.51.100.128/25 dev mac0",
    ]);
    lab.ok(&["host", "--", "ping", "-c1", "-W1", "198.51.100.128"]);

    lab.ok(&["lab", "down"]);
    assert!(lab.namespaces().is_empty(), "lab down leaves no namespace");
    assert!(!lab.dir().exists(), "lab down leaves no records");
}

#[test]
fn macvlan_containers_resolve_by_name_and_live_through_the_lifecycle() {
    let lab = Lab::new("mv_life");
    let id = create(&lab, "lan", &[]);
    lab.run_d("mv1", &["--net", "lan", "busybox", "sleep", "3600"]);
    lab.run_d("mv2", &["--net", "lan", "busybox", "sleep", "3600"]);
    // A user-defined network: the embedded DNS server answers names.
    let resolv = lab.ok(&["exec", "mv2", "cat", "/etc/resolv.conf"]);
    assert!(resolv.contains("nameserver 127.0.0.11"), "{resolv}");
    let out = lab.ok(&["exec", "mv2", "ping", "-c1", "-W1", "mv1"]);
    assert!(out.contains("198.51.100.128"), "mv1 by name: {out}");

    // network inspect looks like Docker's.
    let v: serde_json::Value =
        serde_json::from_str(&lab.ok(&["network", "inspect", "lan"])).expect("JSON");
    let n = &v[0];
    assert_eq!(n["Id"], id.as_str());
    assert_eq!(n["Driver"], "macvlan");
    assert_eq!(n["Options"], serde_json::json!({"parent": "eth0"}));
    assert_eq!(
        n["IPAM"]["Config"],
        serde_json::json!([{"Subnet": "198.51.100.0/24", "IPRange": "198.51.100.128/25", "Gateway": "198.51.100.1"}])
    );
    assert_eq!(n["Containers"].as_object().map(|m| m.len()), Some(2));
    // inspect and ps of a container on it.
    let c = lab.inspect("mv1");
    let e = &c["NetworkSettings"]["Networks"]["lan"];
    assert_eq!(e["IPAddress"], "198.51.100.128");
    assert_eq!(e["MacAddress"], "02:42:c6:33:64:80");
    assert_eq!(e["Gateway"], "198.51.100.1");
    assert!(lab.ok(&["ps"]).contains("mv1"));

    // stop / start: the macvlan goes and comes back with the same address.
    lab.ok(&["stop", "-t", "0", "mv2"]);
    assert!(
        !world_pings(&lab, "198.51.100.129"),
        "a stopped mv2 is off the LAN"
    );
    lab.ok(&["start", "mv2"]);
    assert!(
        world_reaches(&lab, "198.51.100.129"),
        "a started mv2 is back"
    );

    // connect / disconnect a container of the default bridge.
    lab.run_d("b1", &["busybox", "sleep", "3600"]);
    lab.ok(&["network", "connect", "lan", "b1"]);
    let b1 = lab.ctr("b1");
    assert!(ip(&b1, &["-d", "link", "show", "eth1"]).contains("macvlan"));
    lab.ok(&["exec", "b1", "ping", "-c1", "-W1", "mv1"]);
    lab.ok(&["network", "disconnect", "lan", "b1"]);
    assert!(!ip(&b1, &["-o", "link"]).contains("eth1"), "eth1 is gone");

    // rm takes the macvlan with the namespace.
    lab.ok(&["rm", "-f", "mv2"]);
    assert!(
        !world_pings(&lab, "198.51.100.129"),
        "mv2's address is gone"
    );
    assert!(world_reaches(&lab, "198.51.100.128"), "mv1 stays");
    lab.ok(&["rm", "-f", "mv1", "b1"]);
    lab.ok(&["network", "rm", "lan"]);
    assert!(lab.container_namespaces().is_empty());
}

#[test]
fn private_mode_keeps_siblings_apart_but_not_from_the_lan() {
    let lab = Lab::new("mv_private");
    create(&lab, "priv", &["-o", "macvlan_mode=private"]);
    lab.run_d("p1", &["--net", "priv", "busybox", "sleep", "3600"]);
    lab.run_d("p2", &["--net", "priv", "busybox", "sleep", "3600"]);
    assert!(ip(&lab.ctr("p1"), &["-d", "link", "show", "eth0"]).contains("macvlan mode private"));
    assert!(world_reaches(&lab, "198.51.100.128") && world_reaches(&lab, "198.51.100.129"));
    let o = lab.dn(&["exec", "p1", "ping", "-c1", "-W1", "198.51.100.129"]);
    assert!(
        !o.status.success(),
        "private macvlans do not reach each other"
    );
}

/// One line on stderr, a non-zero exit, and nothing created: no network record, no
/// link in the host.
fn refused(lab: &Lab, args: &[&str], expect: &str) {
    let before = ip(&lab.host(), &["-o", "link"]);
    let o = lab.fails(args);
    let err = stderr(&o);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains(expect), "expected {expect:?} in {err:?}");
    assert_eq!(ip(&lab.host(), &["-o", "link"]), before, "no link made");
    let ls = lab.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(!ls.contains("bad"), "no network recorded: {ls}");
}

#[test]
fn bad_input_is_one_clear_line_and_builds_nothing() {
    let lab = Lab::new("mv_bad");
    lab.ok(&["lab", "up"]);
    let mv = ["network", "create", "-d", "macvlan"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut a = mv.to_vec();
        a.extend_from_slice(extra);
        a.push("bad");
        a
    };
    refused(
        &lab,
        &with(&["-o", "parent=wlan0"]),
        &format!(
            "Error response from daemon: -o parent interface was not found on the host: wlan0 (interfaces in {}: docker0, eth0)",
            lab.host()
        ),
    );
    refused(&lab, &with(&["-o", "parent=eth0.50"]), "8021q");
    refused(
        &lab,
        &with(&["-o", "parent=lo"]),
        "Error response from daemon: loopback interface is not a valid macvlan parent link",
    );
    refused(
        &lab,
        &with(&["-o", "parent=eth0", "-o", "macvlan_mode=foo"]),
        "Error response from daemon: requested macvlan mode 'foo' is not valid, 'bridge' mode is the macvlan driver default",
    );
    refused(&lab, &with(&[]), "needs -o parent=IFACE");
    if !kernel_has_ipvlan() {
        refused(
            &lab,
            &[
                "network",
                "create",
                "-d",
                "ipvlan",
                "-o",
                "parent=eth0",
                "bad",
            ],
            "this machine's kernel has no ipvlan driver (CONFIG_IPVLAN is not set); use macvlan or bridge",
        );
    }
    // Passthru hands the parent to one network only (pools of Docker's choice: two
    // networks on the LAN's one subnet would overlap).
    let pt = ["network", "create", "-d", "macvlan", "-o", "parent=eth0"];
    lab.ok(&[&pt[..], &["-o", "macvlan_mode=passthru", "pt"]].concat());
    let o = lab.fails(&[&pt[..], &["-o", "macvlan_mode=passthru", "bad"]].concat());
    assert!(stderr(&o).contains("passthru"), "{}", stderr(&o));
}

#[test]
fn ipvlan_works_where_the_kernel_has_it() {
    if !kernel_has_ipvlan() {
        eprintln!("skipped: this kernel has no ipvlan (CONFIG_IPVLAN is not set)");
        return;
    }
    let lab = Lab::new("mv_ipvlan");
    let mut a = MACVLAN.to_vec();
    a[3] = "ipvlan";
    a.push("ipl");
    lab.ok(&a);
    lab.run_d("i1", &["--net", "ipl", "busybox", "sleep", "3600"]);
    lab.run_d("i2", &["--net", "ipl", "busybox", "sleep", "3600"]);
    assert!(ip(&lab.ctr("i1"), &["-d", "link", "show", "eth0"]).contains("ipvlan"));
    assert!(
        world_pings(&lab, "198.51.100.128"),
        "the world pings an ipvlan container"
    );
    lab.ok(&["exec", "i2", "ping", "-c1", "-W1", "i1"]);
}

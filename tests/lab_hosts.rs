//! Lab hosts: `lab host add|rm|ls`, `--host` / `-H` / `DOCKERNET_HOST`; each host
//! with its own namespace, LAN address, hostname, docker0, iptables, embedded DNS, PID
//! namespace and containers; bad input refused in one line with nothing built; a
//! `kill -9` in the middle of `lab host add` or of an overlay's creation rolled back
//! by the next command.

mod common;

use common::*;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn a_second_host_is_a_docker_host_of_its_own_on_the_lan() {
    let lab = Lab::new("hosts_own");
    lab.ok(&["lab", "up"]);
    let out = lab.ok(&["lab", "host", "add", "host2"]);
    assert!(out.contains("198.51.100.3"), "{out}");
    let h2 = lab.host_named("host2");
    assert!(lab.namespaces().contains(&h2));
    assert_eq!(lab.on("host2", &["host", "--", "hostname"]).trim(), "host2");
    let addrs = ip(&h2, &["-4", "-br", "addr"]);
    assert!(
        addrs.contains("198.51.100.3/24") && addrs.contains("172.17.0.1/16"),
        "{addrs}"
    );
    // Its own daemon: rules, a DNS server, a PID namespace with only its processes.
    let rules = exec_in_ok(&h2, &["iptables", "-S"]);
    assert!(
        rules.contains("-P FORWARD DROP") && rules.contains("-N DOCKER-USER"),
        "{rules}"
    );
    lab.on(
        "host2",
        &["run", "-d", "--name", "web", "busybox", "sleep", "600"],
    );
    lab.run_d("web", &["busybox", "sleep", "600"]);
    let ps_all = lab.on("host2", &["host", "--", "ps", "-ef"]);
    assert!(
        ps_all.contains("--host host2"),
        "host2's own DNS server: {ps_all}"
    );
    assert_eq!(
        ps_all.matches("sleep 600").count(),
        3,
        "one container's processes (docker-init, its child, sleep), not the first host's: {ps_all}"
    );
    // The same container name on two hosts: two containers, two namespaces.
    assert!(
        lab.namespaces()
            .contains(&format!("dn-{}-host2-ctr-web", lab.name))
    );
    assert!(lab.namespaces().contains(&lab.ctr("web")));
    let ps2 = lab.on("host2", &["ps", "--format", "{{.Names}} {{.Host}}"]);
    assert_eq!(ps2.trim(), "web host2");
    // The hosts reach each other and the world over the LAN; the containers go out.
    let o = lab.dn_on(
        "host2",
        &["host", "--", "ping", "-c", "1", "-W", "2", "198.51.100.2"],
    );
    assert!(o.status.success(), "{}", describe("ping", &o));
    let o = lab.dn_on(
        "host2",
        &["exec", "web", "ping", "-c", "1", "-W", "2", "203.0.113.10"],
    );
    assert!(o.status.success(), "{}", describe("ping", &o));
    // `lab host ls`, `*` on the one selected, and JSON.
    let ls = lab.on("host2", &["lab", "host", "ls"]);
    assert!(ls.starts_with("NAME "), "{ls}");
    assert!(
        ls.lines()
            .any(|l| l.starts_with("host2 *") && l.contains("198.51.100.3")),
        "{ls}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&lab.ok(&["lab", "host", "ls", "--format", "json"])).unwrap();
    assert_eq!(json[0]["Name"], "host");
    assert_eq!(json[1]["Hostname"], "host2");
    assert_eq!(json[1]["Containers"], 1);
    // DOCKERNET_HOST selects too.
    let mut c = lab.command(&["ps", "-q"]);
    c.env("DOCKERNET_HOST", "host2");
    let o = run_cmd(c);
    assert_eq!(stdout(&o).lines().count(), 1, "{}", describe("ps", &o));
    // Removing it removes its containers and namespaces, not the first host's.
    assert_eq!(lab.ok(&["lab", "host", "rm", "host2"]).trim(), "host2");
    assert!(
        lab.namespaces().iter().all(|n| !n.contains("-host2")),
        "{:?}",
        lab.namespaces()
    );
    assert!(!exec_in_ok(&lab.world(), &["ip", "-br", "link"]).contains("lan-host2"));
    assert!(
        lab.dn(&["exec", "web", "true"]).status.success(),
        "the first host's web stays"
    );
    // A host added again gets the same free address.
    let again = lab.ok(&["lab", "host", "add", "host2"]);
    assert!(again.contains("198.51.100.3"), "{again}");
}

#[test]
fn bad_host_input_is_refused_in_one_line_with_nothing_built() {
    let lab = Lab::new("hosts_bad");
    lab.ok(&["lab", "up"]);
    let before = lab.namespaces();
    for (args, says) in [
        (vec!["lab", "host", "add", "Host-2"], "invalid host name"),
        (vec!["lab", "host", "add", "world"], "invalid host name"),
        (
            vec!["lab", "host", "add", "averyverylongname"],
            "invalid host name",
        ),
        (
            vec!["lab", "host", "add", "host"],
            "already has a host host",
        ),
        (vec!["lab", "host", "rm", "host"], "lab down"),
        (
            vec!["lab", "host", "rm", "nosuch"],
            "has no host \"nosuch\"",
        ),
        (vec!["-H", "nosuch", "ps"], "lab host add nosuch"),
        (
            vec!["-H", "nosuch", "run", "-d", "busybox", "true"],
            "lab host add nosuch",
        ),
    ] {
        let o = lab.fails(&args);
        let err = stderr(&o);
        assert!(
            err.contains(says),
            "{args:?}: expected {says:?}: {}",
            describe("", &o)
        );
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    assert_eq!(lab.namespaces(), before, "nothing was built");
    assert!(!lab.dir().join("hosts/nosuch").exists());
}

/// Start `dockernet --lab <lab> ARGS`, SIGKILL it after `delay`, reap it.
fn kill_after(lab: &Lab, args: &[&str], delay: Duration) {
    let mut c = lab.command(args);
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = c.spawn().expect("start dockernet");
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_host_add_killed_at_any_point_is_rolled_back() {
    let lab = Lab::new("hosts_kill");
    lab.ok(&["lab", "up"]);
    let t0 = Instant::now();
    lab.ok(&["lab", "host", "add", "host2"]);
    let window = t0.elapsed().mul_f64(1.5);
    lab.ok(&["lab", "host", "rm", "host2"]);
    for i in 0..8u32 {
        kill_after(&lab, &["lab", "host", "add", "host2"], window * i / 8);
        // The next command that changes the lab settles what the kill left: the host
        // is either whole or gone, and `lab host add` then works.
        lab.ok(&["network", "prune", "-f"]);
        let ls = lab.ok(&["lab", "host", "ls", "-q"]);
        if ls.lines().any(|l| l == "host2") {
            let o = lab.dn_on("host2", &["host", "--", "true"]);
            assert!(
                o.status.success(),
                "kill {i}: a listed host works: {}",
                describe("host", &o)
            );
            lab.ok(&["lab", "host", "rm", "host2"]);
        }
        assert!(
            lab.namespaces().iter().all(|n| !n.contains("-host2")),
            "kill {i}: nothing of host2 is left: {:?}",
            lab.namespaces()
        );
        assert!(!exec_in_ok(&lab.world(), &["ip", "-br", "link"]).contains("lan-host2"));
    }
    lab.ok(&["lab", "host", "add", "host2"]);
}

#[test]
fn an_overlay_creation_killed_at_any_point_is_rolled_back_on_every_host() {
    let lab = Lab::new("hosts_ovkill");
    lab.ok(&["lab", "up"]);
    lab.ok(&["lab", "host", "add", "host2"]);
    let create = ["network", "create", "-d", "overlay", "--attachable", "ov"];
    let t0 = Instant::now();
    lab.ok(&create);
    let window = t0.elapsed().mul_f64(1.5);
    lab.ok(&["network", "rm", "ov"]);
    let ov_namespaces = |lab: &Lab| -> Vec<String> {
        lab.namespaces()
            .into_iter()
            .filter(|n| n.contains("-ov-"))
            .collect()
    };
    for i in 0..8u32 {
        kill_after(&lab, &create, window * i / 8);
        // The next command on either host finishes or undoes it everywhere.
        let host = if i % 2 == 0 { "host" } else { "host2" };
        lab.on(host, &["network", "create", "probe"]);
        lab.on(host, &["network", "rm", "probe"]);
        let on1 = lab.ok(&["network", "ls", "-q", "-f", "driver=overlay"]);
        let on2 = lab.on("host2", &["network", "ls", "-q", "-f", "driver=overlay"]);
        assert_eq!(on1, on2, "kill {i}: both hosts agree");
        let want = if on1.trim().is_empty() { 0 } else { 2 };
        assert_eq!(
            ov_namespaces(&lab).len(),
            want,
            "kill {i}: {:?}",
            ov_namespaces(&lab)
        );
        if want == 2 {
            lab.ok(&["network", "rm", "ov"]);
        }
        assert!(
            ov_namespaces(&lab).is_empty(),
            "kill {i}: {:?}",
            ov_namespaces(&lab)
        );
    }
    lab.ok(&create);
}

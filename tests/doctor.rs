//! `doctor`: each pitfall made by hand in a lab of its own, then named by the doctor
//! (its id in `--format json`, its fix in the text); a healthy lab reports nothing.

mod common;
use common::*;

/// The ids `doctor --format json` reports, and the exit status.
fn ids(lab: &Lab, args: &[&str]) -> (Vec<String>, Option<i32>) {
    let mut all = vec!["doctor"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let o = lab.dn(&all);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("expected JSON from doctor: {e}: {}", describe("doctor", &o)));
    let ids = v
        .as_array()
        .expect("a list of findings")
        .iter()
        .map(|f| f["id"].as_str().unwrap_or_default().to_string())
        .collect();
    (ids, o.status.code())
}

fn text(lab: &Lab) -> String {
    stdout(&lab.dn(&["doctor"]))
}

#[test]
fn healthy_lab_reports_nothing_then_each_pitfall_is_named() {
    let lab = Lab::new("doctor_main");
    lab.ok(&["network", "create", "mynet"]);
    lab.run_d("web", &["-p", "8080:80", "httpd"]);
    lab.run_d("u1", &["--net", "mynet", "busybox", "sleep", "1000"]);
    let o = lab.dn(&["doctor"]);
    assert_eq!(o.status.code(), Some(0), "{}", describe("doctor", &o));
    assert!(stdout(&o).contains("no problems found"), "{}", stdout(&o));

    lab.ok(&["host", "--", "sysctl", "-w", "net.ipv4.ip_forward=0"]);
    let (found, rc) = ids(&lab, &[]);
    assert_eq!(found, vec!["ip-forward-off"]);
    assert_eq!(rc, Some(1));
    assert!(text(&lab).contains("sysctl -w net.ipv4.ip_forward=1"));
    lab.ok(&["host", "--", "sysctl", "-w", "net.ipv4.ip_forward=1"]);

    lab.ok(&[
        "host",
        "--",
        "iptables",
        "-D",
        "FORWARD",
        "-o",
        "docker0",
        "-m",
        "conntrack",
        "--ctstate",
        "RELATED,ESTABLISHED",
        "-j",
        "ACCEPT",
    ]);
    assert_eq!(ids(&lab, &[]).0, vec!["forward-accept-missing"]);
    assert!(text(&lab).contains(
        "iptables -I FORWARD 3 -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
    ));
    // u1 is on mynet only: docker0's rules are not its business.
    assert!(ids(&lab, &["u1"]).0.is_empty());

    lab.ok(&[
        "host",
        "--",
        "iptables",
        "-t",
        "nat",
        "-D",
        "POSTROUTING",
        "-s",
        "172.17.0.0/16",
        "!",
        "-o",
        "docker0",
        "-j",
        "MASQUERADE",
    ]);
    assert!(
        ids(&lab, &["web"])
            .0
            .contains(&"masquerade-missing".to_string())
    );
    assert!(
        text(&lab)
            .contains("iptables -t nat -I POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE")
    );
}

#[test]
fn container_pitfalls_are_named() {
    let lab = Lab::new("doctor_ctr");
    lab.ok(&["network", "create", "mynet"]);
    lab.run_d("u1", &["--net", "mynet", "busybox", "sleep", "1000"]);
    lab.run_d("web", &["busybox", "sleep", "1000"]);
    assert!(ids(&lab, &[]).0.is_empty());

    exec_in_ok(&lab.ctr("u1"), &["ip", "route", "del", "default"]);
    assert_eq!(ids(&lab, &["u1"]).0, vec!["no-default-route"]);
    assert!(ids(&lab, &["web"]).0.is_empty());
    assert!(text(&lab).contains("ip route add default via 172.18.0.1 dev eth0"));

    exec_in_ok(
        &lab.ctr("u1"),
        &["iptables", "-t", "nat", "-F", "DOCKER_OUTPUT"],
    );
    assert!(
        ids(&lab, &["u1"])
            .0
            .contains(&"dns-redirect-missing".to_string())
    );
    assert!(text(&lab).contains("restart u1"));

    let veth = lab.record("web")["endpoints"][0]["veth"]
        .as_str()
        .expect("web's veth")
        .to_string();
    ip(&lab.host(), &["link", "set", &veth, "down"]);
    assert_eq!(ids(&lab, &["web"]).0, vec!["bridge-port-down"]);
    assert!(text(&lab).contains(&format!("ip link set {veth} up")));
}

#[test]
fn overlapping_address_is_named() {
    let lab = Lab::new("doctor_overlap");
    lab.ok(&["network", "create", "mynet"]);
    ip(&lab.host(), &["link", "add", "brx", "type", "bridge"]);
    ip(&lab.host(), &["addr", "add", "172.18.5.1/24", "dev", "brx"]);
    assert_eq!(ids(&lab, &[]).0, vec!["subnet-overlap"]);
    assert!(text(&lab).contains("ip addr del 172.18.5.1/24 dev brx"));
}

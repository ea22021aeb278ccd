//! `doctor`: each pitfall made by hand in a lab of its own, then named by the doctor
//! (its id in `--format json`, its fix in the text); a healthy lab reports nothing.

mod common;
use common::*;
use std::time::Duration;

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

/// The findings of `doctor --format json` (every field), with the exit status.
fn findings(lab: &Lab) -> Vec<serde_json::Value> {
    let o = lab.dn(&["doctor", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("expected JSON from doctor: {e}: {}", describe("doctor", &o)));
    v.as_array().expect("a list of findings").clone()
}

/// `busybox wget -qO- URL` in a namespace, three seconds at most (`timeout`: this
/// busybox's `wget -T` crashes): the page, or None.
fn get(ns: &str, url: &str) -> Option<String> {
    let o = exec_in(ns, &["timeout", "3", "busybox", "wget", "-qO-", url]);
    o.status.success().then(|| stdout(&o))
}

/// The page at `url` from `ns`, retried while the server comes up.
fn fetch(ns: &str, url: &str) -> String {
    retry(
        &format!("GET {url} from {ns}"),
        Duration::from_secs(10),
        || get(ns, url).ok_or_else(|| format!("{url} unreachable from {ns}")),
    )
}

/// Run one fix line of the doctor's text in the lab host: `sudo dockernet ... host -- CMD`.
fn apply(lab: &Lab, fix: &str) {
    let (_, cmd) = fix
        .split_once(" host -- ")
        .unwrap_or_else(|| panic!("not a host fix: {fix}"));
    let mut args = vec!["host", "--"];
    args.extend(cmd.split_whitespace());
    lab.ok(&args);
}

/// The fix lines of the one finding with this id.
fn fixes(all: &[serde_json::Value], id: &str) -> Vec<String> {
    let f = all
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} among {all:?}"));
    f["fix"]
        .as_str()
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// Without the userland proxy, the nat OUTPUT jump is what lets the host reach its own
/// published ports: gone, the host cannot; in the proxy's form (`! -d 127.0.0.0/8`),
/// 127.0.0.1 is cut off. A stranger on the port is only shadowing it (a warning).
#[test]
fn output_dnat_missing_is_named_without_the_proxy() {
    let lab = Lab::new("doctor_output");
    lab.ok(&["lab", "up", "--userland-proxy=false"]);
    lab.run_d("web", &["-p", "8080:80", "httpd"]);
    let host = lab.host();
    assert!(fetch(&host, "http://198.51.100.2:8080/").contains("It works!"));
    assert_eq!(ids(&lab, &[]), (vec![], Some(0)));

    let jump = ["-m", "addrtype", "--dst-type", "LOCAL", "-j", "DOCKER"];
    let mut del = vec!["host", "--", "iptables", "-t", "nat", "-D", "OUTPUT"];
    del.extend_from_slice(&jump);
    lab.ok(&del);
    assert_eq!(get(&host, "http://198.51.100.2:8080/"), None);
    let (found, rc) = ids(&lab, &[]);
    assert_eq!(
        (found, rc),
        (vec!["output-dnat-missing".to_string()], Some(1))
    );
    let t = text(&lab);
    assert!(
        t.contains("iptables -t nat -A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER"),
        "{t}"
    );
    // ... in Chinese too.
    let zh = stdout(&lab.dn(&["--lang", "zh", "doctor"]));
    assert!(
        zh.contains("宿主机连不上这些端口") && zh.contains("修复"),
        "{zh}"
    );

    // The proxy's form of the rule: the host's address works, 127.0.0.1 does not.
    lab.ok(&[
        "host",
        "--",
        "iptables",
        "-t",
        "nat",
        "-A",
        "OUTPUT",
        "!",
        "-d",
        "127.0.0.0/8",
        "-m",
        "addrtype",
        "--dst-type",
        "LOCAL",
        "-j",
        "DOCKER",
    ]);
    assert!(fetch(&host, "http://198.51.100.2:8080/").contains("It works!"));
    assert_eq!(get(&host, "http://127.0.0.1:8080/"), None);
    let all = findings(&lab);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        (&all[0]["id"], &all[0]["severity"]),
        (&"output-dnat-missing".into(), &"warning".into())
    );
    for fix in fixes(&all, "output-dnat-missing") {
        apply(&lab, &fix);
    }
    assert!(fetch(&host, "http://127.0.0.1:8080/").contains("It works!"));
    assert!(ids(&lab, &[]).0.is_empty());

    // A stranger on the published port: every connection is still DNATed.
    lab.ok(&[
        "host",
        "--",
        "sh",
        "-c",
        "socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo HTTP/1.0 200 OK; echo; echo impostor' </dev/null >/dev/null 2>&1 &",
    ]);
    let all = retry("the stranger seen", Duration::from_secs(5), || {
        let all = findings(&lab);
        if all.is_empty() {
            Err("nothing yet".into())
        } else {
            Ok(all)
        }
    });
    assert_eq!(
        (&all[0]["id"], &all[0]["severity"]),
        (&"port-taken".into(), &"warning".into()),
        "{all:?}"
    );
    assert!(fetch(&host, "http://127.0.0.1:8080/").contains("It works!"));
    assert!(fetch(&lab.world(), "http://198.51.100.2:8080/").contains("It works!"));
}

/// With the proxy, the OUTPUT jump is not needed for the host to reach its ports (the
/// proxy answers); but a process holding a published port after the proxy died takes
/// what DNAT leaves to the proxy (127.0.0.1 from the host), while the world still
/// reaches the container.
#[test]
fn a_port_taken_by_another_process_is_named() {
    let lab = Lab::new("doctor_port");
    lab.run_d("web", &["-p", "8080:80", "httpd"]);
    let host = lab.host();
    assert!(fetch(&host, "http://198.51.100.2:8080/").contains("It works!"));
    assert_eq!(ids(&lab, &[]), (vec![], Some(0)));

    lab.ok(&[
        "host",
        "--",
        "iptables",
        "-t",
        "nat",
        "-D",
        "OUTPUT",
        "!",
        "-d",
        "127.0.0.0/8",
        "-m",
        "addrtype",
        "--dst-type",
        "LOCAL",
        "-j",
        "DOCKER",
    ]);
    assert!(fetch(&host, "http://198.51.100.2:8080/").contains("It works!"));
    assert!(ids(&lab, &[]).0.is_empty(), "the proxy serves the host");

    let proxy = lab.record("web")["proxies"][0]["pid"]
        .as_i64()
        .expect("web's docker-proxy");
    cmd_ok("kill", &[&proxy.to_string()]);
    retry("the proxy gone", Duration::from_secs(5), || {
        if std::path::Path::new(&format!("/proc/{proxy}")).exists() {
            Err("still there".into())
        } else {
            Ok(())
        }
    });
    lab.ok(&[
        "host",
        "--",
        "sh",
        "-c",
        "socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo HTTP/1.0 200 OK; echo; echo impostor' </dev/null >/dev/null 2>&1 &",
    ]);
    let page = fetch(&host, "http://127.0.0.1:8080/");
    assert!(page.contains("impostor"), "{page}");
    assert!(fetch(&lab.world(), "http://198.51.100.2:8080/").contains("It works!"));

    let all = findings(&lab);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        (&all[0]["id"], &all[0]["severity"]),
        (&"port-taken".into(), &"error".into())
    );
    let what = all[0]["what"].as_str().unwrap_or_default();
    assert!(
        what.contains("socat") && what.contains("in the lab host's `ps`"),
        "{what}"
    );
    let socats: Vec<i64> = processes_mentioning("TCP-LISTEN:8080")
        .into_iter()
        .map(|(pid, _)| pid)
        .collect();
    let fix = fixes(&all, "port-taken");
    assert!(!fix.is_empty());
    for line in &fix {
        let pid: i64 = line
            .strip_prefix("sudo kill ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("not a kill: {line}"));
        assert!(socats.contains(&pid), "{pid} is not socat: {socats:?}");
        cmd_ok("kill", &[&pid.to_string()]);
    }
    retry("the port free", Duration::from_secs(5), || {
        let found = ids(&lab, &[]).0;
        if found.is_empty() {
            Ok(())
        } else {
            Err(format!("{found:?}"))
        }
    });
    let zh = stdout(&lab.dn(&["--lang", "zh", "doctor"]));
    assert!(zh.contains("没有发现问题"), "{zh}");
}

/// A bridge set down by hand — docker0, a user network's, an overlay's br0 — and an
/// overlay's ports: each named, and the container really cut off meanwhile.
#[test]
fn bridges_down_are_named() {
    let lab = Lab::new("doctor_bridges");
    lab.ok(&["network", "create", "mynet"]);
    lab.ok(&["network", "create", "-d", "overlay", "--attachable", "ovn"]);
    lab.run_d("web", &["busybox", "sleep", "3600"]);
    lab.run_d("u1", &["--net", "mynet", "busybox", "sleep", "3600"]);
    lab.run_d("oc", &["--net", "ovn", "busybox", "sleep", "3600"]);
    lab.run_d("oc2", &["--net", "ovn", "busybox", "sleep", "3600"]);
    assert_eq!(ids(&lab, &[]), (vec![], Some(0)));
    let pings = |from: &str, to: &str| {
        lab.dn(&["exec", from, "ping", "-c1", "-W1", to])
            .status
            .success()
    };
    assert!(pings("u1", "172.18.0.1"));

    lab.ok(&["host", "--", "ip", "link", "set", "docker0", "down"]);
    assert_eq!(ids(&lab, &["web"]).0, vec!["bridge-down"]);
    assert!(text(&lab).contains("host -- ip link set docker0 up"));
    lab.ok(&["host", "--", "ip", "link", "set", "docker0", "up"]);

    let br = lab.network("mynet")["bridge"]
        .as_str()
        .expect("mynet's bridge")
        .to_string();
    lab.ok(&["host", "--", "ip", "link", "set", &br, "down"]);
    assert!(!pings("u1", "172.18.0.1"), "u1 still reaches its gateway");
    assert_eq!(ids(&lab, &[]).0, vec!["bridge-down"]);
    assert!(ids(&lab, &["web"]).0.is_empty(), "mynet is not web's");
    let fix = fixes(&findings(&lab), "bridge-down");
    assert_eq!(
        fix,
        vec![format!(
            "sudo dockernet --lab {} host -- ip link set {br} up",
            lab.name
        )]
    );
    apply(&lab, &fix[0]);
    assert!(pings("u1", "172.18.0.1"));

    // The overlay's bridge and ports live in its own namespace.
    let oc2 = lab.inspect("oc2")["NetworkSettings"]["Networks"]["ovn"]["IPAddress"]
        .as_str()
        .expect("oc2's address on ovn")
        .to_string();
    assert!(pings("oc", &oc2));
    let ov = cmd_ok("ip", &["netns", "list"])
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .find(|n| n.starts_with(&format!("dn-{}-ov-", lab.name)))
        .expect("the overlay's namespace")
        .to_string();
    let veth = lab.record("oc")["endpoints"][0]["veth"]
        .as_str()
        .expect("oc's veth")
        .to_string();
    for (link, id) in [("br0", "bridge-down"), (veth.as_str(), "bridge-port-down")] {
        ip(&ov, &["link", "set", link, "down"]);
        assert!(!pings("oc", &oc2), "{link} down, yet oc reaches oc2");
        let all = findings(&lab);
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all[0]["id"], id, "{all:?}");
        let fix = fixes(&all, id);
        assert_eq!(
            fix,
            vec![format!("sudo ip netns exec {ov} ip link set {link} up")]
        );
        ip(&ov, &["link", "set", link, "up"]);
        assert!(retry(
            "oc reaches oc2 again",
            Duration::from_secs(5),
            || {
                if pings("oc", &oc2) {
                    Ok(true)
                } else {
                    Err("no".into())
                }
            }
        ));
    }
    assert!(ids(&lab, &[]).0.is_empty());
}

/// A route someone added for part of a network's subnet wins over the bridge's: the
/// host loses those containers until it is deleted (or the bridge's route restored).
#[test]
fn an_overlapping_route_is_named() {
    let lab = Lab::new("doctor_route");
    lab.ok(&["network", "create", "mynet"]);
    lab.run_d("u1", &["--net", "mynet", "busybox", "sleep", "3600"]);
    let host = lab.host();
    let reach = || {
        exec_in(&host, &["ping", "-c1", "-W1", "172.18.0.2"])
            .status
            .success()
    };
    assert!(reach());
    assert!(ids(&lab, &[]).0.is_empty());

    ip(
        &host,
        &["route", "add", "172.18.0.0/24", "via", "198.51.100.1"],
    );
    assert!(!reach(), "the more specific route should win");
    let all = findings(&lab);
    assert_eq!(all.len(), 1, "{all:?}");
    let fix = fixes(&all, "subnet-overlap");
    assert_eq!(
        fix,
        vec![format!(
            "sudo dockernet --lab {} host -- ip route del 172.18.0.0/24 via 198.51.100.1 dev eth0",
            lab.name
        )]
    );
    apply(&lab, &fix[0]);
    assert!(reach());

    // In the bridge's route's place: both lines of the fix are needed.
    ip(
        &host,
        &["route", "replace", "172.18.0.0/16", "via", "198.51.100.1"],
    );
    assert!(!reach());
    let all = findings(&lab);
    let fix = fixes(&all, "subnet-overlap");
    assert_eq!(fix.len(), 2, "{all:?}");
    for f in &fix {
        apply(&lab, f);
    }
    assert!(reach());
    assert!(ids(&lab, &[]).0.is_empty());
}

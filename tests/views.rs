//! The `show` views against the real tools run in the same namespace: `ip link`,
//! `ip addr`, `ip route`, `brctl show`, `iptables -vnL`.

mod common;

use common::*;
use std::time::Duration;

/// Drop the fields a view may leave out (`qdisc X`, `mode X`, `group X`) and print a
/// peer namespace the one way (`link-netnsid N`): `ip` names it when it can.
fn normalise(text: &str, ids: &[(String, String)]) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let w: Vec<&str> = line.split(' ').collect();
        let mut kept: Vec<String> = Vec::new();
        let mut i = 0;
        while i < w.len() {
            match w[i] {
                "qdisc" | "mode" | "group" if i + 1 < w.len() => i += 2,
                "link-netns" if i + 1 < w.len() => {
                    let id = ids
                        .iter()
                        .find(|(_, n)| n == w[i + 1])
                        .map(|(id, _)| id.clone())
                        .unwrap_or_else(|| format!("?{}", w[i + 1]));
                    kept.push("link-netnsid".into());
                    kept.push(id);
                    i += 2;
                }
                other => {
                    kept.push(other.to_string());
                    i += 1;
                }
            }
        }
        out.push_str(kept.join(" ").trim_end());
        out.push('\n');
    }
    out
}

/// Compare a view with the real tool in namespace `ns`, retrying while the kernel
/// settles (IPv6 duplicate address detection flips `tentative` within a second or two).
fn same_as_tool(lab: &Lab, view: &[&str], ns: &str, tool: &[&str]) {
    let ids = netnsid_names(ns);
    let mut last = (String::new(), String::new());
    let equal = retry(
        &format!("`show {}` equals `{}`", view.join(" "), tool.join(" ")),
        Duration::from_secs(4),
        || {
            let mut args = vec!["show"];
            args.extend_from_slice(view);
            let v = normalise(&lab.ok(&args), &ids);
            let t = normalise(&exec_in_ok(ns, tool), &ids);
            last = (v.clone(), t.clone());
            if v == t {
                Ok(true)
            } else {
                Err(format!("view:\n{v}\ntool:\n{t}"))
            }
        },
    );
    assert!(equal, "expected equal outputs, saw {last:?}");
}

/// A lab with two running containers, for the views to show something.
fn lab_with_two(name: &str) -> Lab {
    let lab = Lab::new(name);
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    lab.run_d("c2", &["busybox", "sleep", "600"]);
    lab
}

/// F12 (views): `show links --raw --on host` prints the host's links as `ip link` does:
/// names, indexes, `@ifN`, flags, mtu, master, state, MACs.
#[test]
fn f12_show_links_raw_is_ip_link_on_host() {
    let lab = lab_with_two("f12_links");
    same_as_tool(
        &lab,
        &["links", "--raw", "--on", "host"],
        &lab.host(),
        &["ip", "link"],
    );
    same_as_tool(&lab, &["links", "--raw"], &lab.host(), &["ip", "link"]);
}

/// F13 (views): the same for a container (`--on c1`) and for the world.
#[test]
fn f13_show_links_raw_on_container_and_world() {
    let lab = lab_with_two("f13_links_ctr");
    same_as_tool(
        &lab,
        &["links", "--raw", "--on", "c1"],
        &lab.ctr("c1"),
        &["ip", "link"],
    );
    same_as_tool(
        &lab,
        &["links", "--raw", "--on", "world"],
        &lab.world(),
        &["ip", "link"],
    );
    let v = lab.ok(&["show", "links", "--raw", "--on", "c2"]);
    assert!(
        v.contains("link/ether 02:42:ac:11:00:03"),
        "expected c2's own eth0 in `--on c2`, saw:\n{v}"
    );
}

/// F14 (views): `show addr` prints addresses as `ip addr` does, on the host and in a container.
#[test]
fn f14_show_addr_is_ip_addr() {
    let lab = lab_with_two("f14_addr");
    same_as_tool(&lab, &["addr"], &lab.host(), &["ip", "addr"]);
    same_as_tool(
        &lab,
        &["addr", "--on", "c2"],
        &lab.ctr("c2"),
        &["ip", "addr"],
    );
    same_as_tool(
        &lab,
        &["addr", "--on", "world"],
        &lab.world(),
        &["ip", "addr"],
    );
}

/// F15 (views): `show routes` is exactly `ip route`, on the host, in a container, in the world.
#[test]
fn f15_show_routes_is_ip_route_exactly() {
    let lab = lab_with_two("f15_routes");
    for (on, ns) in [
        ("host", lab.host()),
        ("c1", lab.ctr("c1")),
        ("world", lab.world()),
    ] {
        let view = lab.ok(&["show", "routes", "--on", on]);
        let real = exec_in_ok(&ns, &["ip", "route"]);
        assert_eq!(
            view, real,
            "expected `show routes --on {on}` to equal `ip route` in {ns}"
        );
    }
    let host = lab.ok(&["show", "routes"]);
    assert!(
        host.contains("default via 198.51.100.1 dev eth0"),
        "expected the host's default route, saw:\n{host}"
    );
    assert!(
        host.contains("172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1"),
        "expected docker0's subnet route, saw:\n{host}"
    );
}

/// F16 (views), C14: `show rules` equals `iptables -t T -vnL` table by table, on the host (counters
/// included, after real traffic moved some).
#[test]
fn f16_show_rules_is_iptables_vnl_per_table() {
    let lab = lab_with_two("f16_rules");
    // Move some counters first: c1 -> internet (NAT), c1 -> c2 (FORWARD on docker0).
    let _ = eventually_ok(Duration::from_secs(5), || {
        lab.dn(&["exec", "c1", "wget", "-qO-", "http://203.0.113.10/"])
    });
    let _ = eventually_ok(Duration::from_secs(5), || {
        lab.dn(&["exec", "c1", "ping", "-c1", "-W1", "172.17.0.3"])
    });
    let all = lab.ok(&["show", "rules"]);
    let mut tables = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in all.lines() {
        if let Some(rest) = line.strip_prefix("# iptables -t ") {
            tables.extend(current.take());
            let t = rest
                .split_whitespace()
                .next()
                .expect("table name")
                .to_string();
            current = Some((t, String::new()));
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        } else {
            panic!(
                "expected `show rules` to open with a `# iptables -t TABLE ...` line, saw {line:?}"
            );
        }
    }
    tables.extend(current);
    let names: Vec<&str> = tables.iter().map(|(t, _)| t.as_str()).collect();
    assert!(
        names.contains(&"filter") && names.contains(&"nat"),
        "expected filter and nat sections, saw {names:?}"
    );
    for (table, body) in &tables {
        let real = exec_in_ok(&lab.host(), &["iptables", "-t", table, "-vnL"]);
        assert_eq!(
            body.trim_end(),
            real.trim_end(),
            "expected the {table} section to equal `iptables -t {table} -vnL`"
        );
        let single = lab.ok(&["show", "rules", "--table", table]);
        let (_, single_body) = single.split_once('\n').expect("header line");
        assert_eq!(
            single_body.trim_end(),
            real.trim_end(),
            "expected `show rules --table {table}` to equal `iptables -t {table} -vnL`"
        );
    }
    let filter = &tables.iter().find(|(t, _)| t == "filter").unwrap().1;
    assert!(
        filter.contains("Chain FORWARD (policy DROP"),
        "expected Docker's FORWARD DROP policy, saw:\n{filter}"
    );
}

/// F17 (views): the annotated `show links` names who owns each veth's far end: the container
/// on the host side, the host veth and bridge on the container side.
#[test]
fn f17_show_links_names_the_owner_of_each_peer() {
    let lab = lab_with_two("f17_peer");
    let veth1 = lab.record("c1")["endpoints"][0]["veth"]
        .as_str()
        .expect("c1's veth")
        .to_string();
    let view = lab.ok(&["show", "links"]);
    let lines: Vec<&str> = view.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(&format!("{veth1}@if")))
        .unwrap_or_else(|| panic!("expected {veth1} in:\n{view}"));
    assert!(
        lines[at + 1].ends_with("# peer: container c1 (eth0)"),
        "expected `# peer: container c1 (eth0)` under {veth1}, saw {:?}",
        lines[at + 1]
    );
    let eth0 = lines
        .iter()
        .position(|l| l.contains(": eth0@if"))
        .expect("the host's eth0");
    assert!(
        lines[eth0 + 1].contains("# peer: world"),
        "expected the host's eth0 to lead to the world, saw {:?}",
        lines[eth0 + 1]
    );
    let ctr = lab.ok(&["show", "links", "--on", "c1"]);
    assert!(
        ctr.contains(&format!("# peer: host ({veth1} on docker0)")),
        "expected c1's eth0 annotated with {veth1} on docker0, saw:\n{ctr}"
    );
    let raw = lab.ok(&["show", "links", "--raw"]);
    assert!(
        !raw.contains("# peer"),
        "expected no annotations with --raw, saw:\n{raw}"
    );
}

/// C13 (world side): `show bridges --on world` equals `brctl show` there: lan0 with the
/// host's cable, inet0 without ports.
#[test]
fn c13_show_bridges_on_world_is_brctl() {
    let lab = Lab::new("c13_world");
    lab.ok(&["lab", "up"]);
    let view = lab.ok(&["show", "bridges", "--on", "world"]);
    let real = exec_in_ok(&lab.world(), &["brctl", "show"]);
    assert_eq!(
        view, real,
        "expected `show bridges --on world` to equal `brctl show` in the world"
    );
    assert!(
        view.lines()
            .any(|l| l.starts_with("lan0\t") && l.ends_with("lan-host")),
        "expected lan0 with lan-host, saw:\n{view}"
    );
}

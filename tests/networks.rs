//! User-defined networks as objects (claims C11, C24, C25, C26, C33): `network create`
//! builds a `br-<id>` bridge holding the gateway, containers on it get its addresses,
//! `ls` and `inspect` print Docker's layouts, and every refusal of `network create`,
//! `run`, `connect`, `disconnect` and `rm` uses Docker's words and leaves nothing
//! half-built (no link, no rule, no namespace, no record).

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::Path;

/// True for a full Docker id: 64 lowercase hex digits.
fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// `network create ARGS...`, which must succeed; the id it printed.
fn create(lab: &Lab, args: &[&str]) -> String {
    let mut a = vec!["network", "create"];
    a.extend_from_slice(args);
    let id = lab.ok(&a).trim().to_string();
    assert!(
        is_hex64(&id),
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

/// The `default` lines of a namespace's routing table.
fn default_routes(ns: &str) -> Vec<String> {
    ip(ns, &["route"])
        .lines()
        .filter(|l| l.starts_with("default"))
        .map(|l| l.trim().to_string())
        .collect()
}

/// Names of the lab host's links, sorted.
fn host_links(lab: &Lab) -> Vec<String> {
    let mut v: Vec<String> = links(&lab.host()).into_iter().map(|l| l.name).collect();
    v.sort();
    v
}

/// Every record under /run/dockernet/<lab>/ with its content (not the world servers' logs,
/// the lock, or the UTS namespace mount, which are not records).
fn records(lab: &Lab) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if ["world-web.log", "named.log", "lock", "host.uts"].contains(&rel.as_str()) {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(rel, std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&lab.dir(), &lab.dir(), &mut out);
    out
}

/// The network record directories (`networks/<id>`), sorted.
fn network_dirs(lab: &Lab) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(lab.dir().join("networks"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// What a refusal must leave as it was: namespaces, the host's links, its rules, records.
#[derive(Debug, PartialEq)]
struct Footprint {
    namespaces: Vec<String>,
    host_links: Vec<String>,
    rules: Vec<String>,
    records: BTreeMap<String, String>,
}

/// The lab's footprint now.
fn footprint(lab: &Lab) -> Footprint {
    Footprint {
        namespaces: lab.namespaces(),
        host_links: host_links(lab),
        rules: iptables_rules(&lab.host()),
        records: records(lab),
    }
}

/// Assert that `dockernet ARGS` is refused with exit status `code`, one `dockernet:` line
/// on stderr holding `want`, and nothing changed in the kernel or the records.
fn assert_refused(lab: &Lab, args: &[&str], code: i32, want: &str, before: &Footprint) {
    let what = args.join(" ");
    let o = lab.fails(args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "expected `{what}` to exit with {code}: {}",
        describe(&what, &o)
    );
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("dockernet: ") && lines[0].contains(want),
        "expected one stderr line `dockernet: ...{want}...` from `{what}`, saw:\n{err}"
    );
    let after = footprint(lab);
    assert_eq!(
        after.namespaces, before.namespaces,
        "expected `{what}` to leave the namespaces as they were"
    );
    assert_eq!(
        after.host_links, before.host_links,
        "expected `{what}` to leave no link behind in the lab host"
    );
    assert_eq!(
        after.rules, before.rules,
        "expected `{what}` to leave the host's iptables rules as they were"
    );
    assert_eq!(
        after.records.keys().collect::<Vec<_>>(),
        before.records.keys().collect::<Vec<_>>(),
        "expected `{what}` to add or remove no record"
    );
    assert!(
        after.records == before.records,
        "expected `{what}` to change no record"
    );
}

/// C25, C02: `network create --driver bridge --subnet 192.168.0.0/16 --gateway
/// 192.168.0.1 mynet` prints a 64-hex id; containers on it get 192.168.0.2, then .3, on
/// their eth0, with the default route via 192.168.0.1.
#[test]
fn c25_create_with_subnet_and_containers_get_its_addresses() {
    let lab = Lab::new("c25");
    create(
        &lab,
        &[
            "--driver",
            "bridge",
            "--subnet",
            "192.168.0.0/16",
            "--gateway",
            "192.168.0.1",
            "mynet",
        ],
    );
    lab.run_d("c1", &["--net", "mynet", "busybox", "sleep", "600"]);
    lab.run_d("c2", &["--net", "mynet", "busybox", "sleep", "600"]);
    for (name, want) in [("c1", "192.168.0.2/16"), ("c2", "192.168.0.3/16")] {
        let ns = lab.ctr(name);
        assert_eq!(
            addrs(&ns, "eth0"),
            [want],
            "expected {name}'s eth0 to carry {want}"
        );
        let routes = default_routes(&ns);
        assert!(
            routes.len() == 1 && routes[0].starts_with("default via 192.168.0.1 dev eth0"),
            "expected one `default via 192.168.0.1 dev eth0` in {name}, saw {routes:?}"
        );
    }
    let r = eventually_ok(std::time::Duration::from_secs(5), || {
        lab.dn(&["exec", "c1", "ping", "-c1", "-W1", "192.168.0.3"])
    });
    assert!(
        r.is_ok(),
        "expected c1 to ping c2 on mynet: {}",
        describe("exec c1 ping 192.168.0.3", &r.unwrap_err())
    );
}

/// C33, C01: the network is a bridge `br-<first 12 hex of its id>` in the lab host
/// holding the gateway address, and the containers' host-side veths are its ports;
/// `-o com.docker.network.bridge.name=mybr0` names the bridge.
#[test]
fn c33_network_is_a_br_bridge_with_the_gateway_and_the_veths() {
    let lab = Lab::new("c33");
    let id = create(&lab, &["--subnet", "192.168.0.0/16", "mynet"]);
    let bridge = br(&id);
    let host = lab.host();
    let link = ip(&host, &["-d", "link", "show", &bridge]);
    assert!(
        link.contains("bridge "),
        "expected {bridge} to be a bridge in the lab host, saw: {link}"
    );
    let addr = ip(&host, &["-o", "-4", "addr", "show"]);
    assert!(
        addr.lines()
            .any(|l| l.contains(&format!(" {bridge} ")) && l.contains("inet 192.168.0.1/16")),
        "expected {bridge} to hold 192.168.0.1/16, saw:\n{addr}"
    );
    assert!(
        lab.bridge_ports(&bridge).is_empty(),
        "expected {bridge} without ports before any container"
    );
    lab.run_d("c1", &["--net", "mynet", "busybox", "sleep", "600"]);
    lab.run_d("c2", &["--network", "mynet", "busybox", "sleep", "600"]);
    let mut veths: Vec<String> = ["c1", "c2"]
        .iter()
        .map(|c| {
            lab.record(c)["endpoints"][0]["veth"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    veths.sort();
    assert_eq!(
        lab.bridge_ports(&bridge),
        veths,
        "expected the containers' veths to be the ports of {bridge}"
    );
    assert!(
        lab.docker0_ports().is_empty(),
        "expected nothing on docker0, saw {:?}",
        lab.docker0_ports()
    );

    create(
        &lab,
        &["-o", "com.docker.network.bridge.name=mybr0", "named"],
    );
    lab.run_d("c3", &["--net", "named", "busybox", "sleep", "600"]);
    let addr = ip(&host, &["-o", "-4", "addr", "show", "dev", "mybr0"]);
    assert!(
        addr.contains("inet 172.18.0.1/16"),
        "expected mybr0 to hold the gateway 172.18.0.1/16 of the second network, saw: {addr}"
    );
    assert_eq!(
        lab.bridge_ports("mybr0").len(),
        1,
        "expected c3's veth on mybr0"
    );
    let v: serde_json::Value =
        serde_json::from_str(&lab.ok(&["network", "inspect", "named"])).expect("inspect JSON");
    assert_eq!(
        v[0]["Options"]["com.docker.network.bridge.name"], "mybr0",
        "expected the option in `network inspect`, saw {}",
        v[0]["Options"]
    );
}

/// C11, C24: `network ls` lists bridge, host, mynet and none in Docker's table, sorted
/// by name, with `-q`, `--no-trunc`, the filters and `--format json`.
#[test]
fn c24_network_ls_lists_user_networks_with_filters() {
    let lab = Lab::new("c24_ls");
    let id = create(&lab, &["--subnet", "192.168.0.0/16", "mynet"]);
    let out = lab.ok(&["network", "ls"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0], "NETWORK ID     NAME      DRIVER    SCOPE",
        "expected Docker's header, saw:\n{out}"
    );
    let rows: Vec<Vec<&str>> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let names: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[1], r[2], r[3])).collect();
    assert_eq!(
        names,
        [
            ("bridge", "bridge", "local"),
            ("host", "host", "local"),
            ("mynet", "bridge", "local"),
            ("none", "null", "local")
        ],
        "expected the four networks sorted by name, saw:\n{out}"
    );
    assert_eq!(
        lines[3],
        format!("{}   mynet     bridge    local", &id[..12]),
        "expected mynet's row with its 12-hex id in Docker's column layout"
    );
    let quiet = lab.ok(&["network", "ls", "-q"]);
    let quiet: Vec<&str> = quiet.lines().collect();
    assert_eq!(quiet.len(), 4, "expected four ids from -q, saw {quiet:?}");
    assert!(
        quiet.iter().all(|q| q.len() == 12) && quiet[2] == &id[..12],
        "expected 12-hex ids in name order from -q, saw {quiet:?}"
    );
    let full = lab.ok(&["network", "ls", "--no-trunc"]);
    assert!(
        full.lines()
            .any(|l| l.starts_with(&format!("{id}   mynet"))),
        "expected the full id with --no-trunc, saw:\n{full}"
    );
    let pick = |f: &str| -> Vec<String> {
        lab.ok(&["network", "ls", "-f", f])
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().nth(1).map(String::from))
            .collect()
    };
    assert_eq!(pick("type=custom"), ["mynet"], "-f type=custom");
    assert_eq!(
        pick("type=builtin"),
        ["bridge", "host", "none"],
        "-f type=builtin"
    );
    assert_eq!(
        pick("driver=bridge"),
        ["bridge", "mynet"],
        "-f driver=bridge"
    );
    assert_eq!(pick("name=my"), ["mynet"], "-f name=my (a substring)");
    let json = lab.ok(&["network", "ls", "--format", "json", "-f", "name=mynet"]);
    let v: serde_json::Value = serde_json::from_str(json.trim())
        .unwrap_or_else(|e| panic!("expected one JSON object per line ({e}), saw:\n{json}"));
    for (k, want) in [
        ("Name", "mynet"),
        ("ID", &id[..12]),
        ("Driver", "bridge"),
        ("Scope", "local"),
        ("Internal", "false"),
    ] {
        assert_eq!(
            v[k], want,
            "expected {k}={want:?} in `--format json`, saw {v}"
        );
    }
}

/// C26, C11: `network inspect mynet` shows the subnet, gateway and each container keyed
/// by its full id with its name, endpoint, MAC and `192.168.0.2/16`, in the field order
/// of Docker ≤27 (reference §7.3), checked in the raw text.
#[test]
fn c26_network_inspect_lists_subnet_gateway_and_containers() {
    let lab = Lab::new("c26");
    let id = create(
        &lab,
        &[
            "--subnet",
            "192.168.0.0/16",
            "--gateway",
            "192.168.0.1",
            "mynet",
        ],
    );
    let cid = lab.run_d("c1", &["--net", "mynet", "busybox", "sleep", "600"]);
    let text = lab.ok(&["network", "inspect", "mynet"]);
    let v: serde_json::Value = serde_json::from_str(&text).expect("network inspect prints JSON");
    let n = &v[0];
    assert_eq!(n["Name"], "mynet");
    assert_eq!(n["Id"], id.as_str());
    assert_eq!(n["Driver"], "bridge");
    assert_eq!(n["Internal"], false);
    assert_eq!(
        n["IPAM"]["Config"],
        serde_json::json!([{"Subnet": "192.168.0.0/16", "Gateway": "192.168.0.1"}]),
        "expected the IPAM config as created"
    );
    let members = n["Containers"].as_object().expect("Containers is a map");
    assert_eq!(
        members.keys().collect::<Vec<_>>(),
        [&cid],
        "expected Containers keyed by c1's full id, saw {}",
        n["Containers"]
    );
    let c = &members[&cid];
    assert_eq!(c["Name"], "c1");
    assert_eq!(c["IPv4Address"], "192.168.0.2/16");
    assert_eq!(
        c["MacAddress"], "02:42:c0:a8:00:02",
        "Docker ≤27 MAC from the IP"
    );
    assert!(
        c["EndpointID"].as_str().is_some_and(is_hex64),
        "expected a 64-hex EndpointID, saw {}",
        c["EndpointID"]
    );
    let eth0 = ip(&lab.ctr("c1"), &["link", "show", "eth0"]);
    assert!(
        eth0.contains("02:42:c0:a8:00:02"),
        "expected the MAC inspect shows on c1's eth0, saw: {eth0}"
    );
    // Top-level keys sit at 8 spaces, a container's at 16 (4-space indent).
    let order = |indent: usize| -> Vec<String> {
        let pad = " ".repeat(indent);
        text.lines()
            .filter_map(|l| l.strip_prefix(&pad))
            .filter(|l| l.starts_with('"'))
            .filter_map(|l| l.split('"').nth(1).map(String::from))
            .collect()
    };
    let top = [
        "Name",
        "Id",
        "Created",
        "Scope",
        "Driver",
        "EnableIPv6",
        "IPAM",
        "Internal",
        "Attachable",
        "Ingress",
        "ConfigFrom",
        "ConfigOnly",
        "Containers",
        "Options",
        "Labels",
    ];
    assert_eq!(
        order(8),
        top,
        "expected Docker ≤27's field order in:\n{text}"
    );
    let per_container = [
        "Name",
        "EndpointID",
        "MacAddress",
        "IPv4Address",
        "IPv6Address",
    ];
    assert_eq!(
        order(16),
        per_container,
        "expected a container's fields in Docker's order in:\n{text}"
    );
}

/// Default pools (reference §6): without --subnet the first network gets 172.18.0.0/16
/// (gateway .1), the next 172.19.0.0/16; a removed network's pool is free again.
#[test]
fn default_pools_give_172_18_then_172_19() {
    let lab = Lab::new("pools");
    let a = create(&lab, &["neta"]);
    let b = create(&lab, &["netb"]);
    for (id, want) in [(&a, "172.18.0.1/16"), (&b, "172.19.0.1/16")] {
        assert_eq!(
            addrs(&lab.host(), &br(id)),
            [want],
            "expected {} to hold {want}",
            br(id)
        );
    }
    lab.run_d("c1", &["--net", "netb", "busybox", "sleep", "600"]);
    assert_eq!(addrs(&lab.ctr("c1"), "eth0"), ["172.19.0.2/16"]);
    lab.ok(&["network", "rm", "neta"]);
    let c = create(&lab, &["netc"]);
    assert_eq!(
        addrs(&lab.host(), &br(&c)),
        ["172.18.0.1/16"],
        "expected the freed 172.18.0.0/16 to be the lowest free pool again"
    );
}

/// C11: `network create` refusals, each with Docker's text on one line, a non-zero exit,
/// and no new bridge, rule or record.
#[test]
fn create_refusals_leave_nothing_half_built() {
    let lab = Lab::new("create_refusals");
    create(&lab, &["--subnet", "192.168.0.0/16", "mynet"]);
    let before = footprint(&lab);
    let dirs = network_dirs(&lab);
    let cases: &[(&[&str], &str)] = &[
        (
            &["--subnet", "192.168.1.0/24", "other"],
            "Error response from daemon: invalid pool request: Pool overlaps with other one on this address space",
        ),
        (
            &["--subnet", "172.17.0.0/16", "other"],
            "Pool overlaps with other one on this address space",
        ),
        (
            &["--subnet", "10.0.0.0/24", "--gateway", "10.1.0.1", "other"],
            "no matching subnet for gateway 10.1.0.1",
        ),
        (
            &["--subnet", "10.0.0/24", "--gateway", "10.0.0.1", "other"],
            "invalid subnet: invalid CIDR address: 10.0.0/24",
        ),
        (
            &[
                "--subnet",
                "10.0.0.0/24",
                "--ip-range",
                "10.0.0.0/33",
                "other",
            ],
            "invalid CIDR address: 10.0.0.0/33",
        ),
        (
            &["mynet"],
            "Error response from daemon: network with name mynet already exists",
        ),
        (
            &["bridge"],
            "Error response from daemon: operation is not permitted on predefined bridge network",
        ),
        (
            &["host"],
            "operation is not permitted on predefined host network",
        ),
        (
            &["-d", "foo", "other"],
            "Error response from daemon: plugin \"foo\" not found",
        ),
        (
            &["-d", "overlay", "--subnet", "172.17.0.0/16", "other"],
            "Pool overlaps with other one on this address space",
        ),
        (
            &["-d", "macvlan", "other"],
            "macvlan network needs -o parent=IFACE",
        ),
        (&["-d", "ipvlan", "other"], "ipvlan"),
        (
            &["-o", "com.docker.network.bridge.name=docker0", "other"],
            "networks have same bridge name",
        ),
    ];
    for (args, want) in cases {
        let mut a = vec!["network", "create"];
        a.extend_from_slice(args);
        assert_refused(&lab, &a, 1, want, &before);
        assert_eq!(
            network_dirs(&lab),
            dirs,
            "expected no new record dir under networks/ after `{}`",
            a.join(" ")
        );
    }
    // A driver the kernel lacks says so, not that it is unknown.
    let err = stderr(&lab.fails(&["network", "create", "-d", "ipvlan", "other"]));
    assert!(
        err.contains("kernel") && err.contains("ipvlan") && !err.contains("not found"),
        "expected `-d ipvlan` to say the kernel lacks ipvlan, saw: {err}"
    );
    // Docker's daemon check of a bad subnet alone is two lines: the wrapper and the cause.
    let o = lab.fails(&["network", "create", "--subnet", "10.0.0/24", "other"]);
    assert_eq!(
        stderr(&o),
        "dockernet: Error response from daemon: invalid network config:\ninvalid subnet 10.0.0/24: invalid CIDR block notation\n",
        "expected ValidateIPAM's text for a bad CIDR"
    );
    assert_eq!(
        footprint(&lab),
        before,
        "the bad CIDR left something behind"
    );
}

/// C11 (reference §8, §9): refusals of `run`, `network connect`, `disconnect` and `rm`,
/// with Docker's texts and exit statuses (125 for run, 1 for the network commands), and
/// no new namespace, veth, rule or record.
#[test]
fn run_connect_disconnect_rm_refusals_leave_nothing_half_built() {
    let lab = Lab::new("net_refusals");
    create(&lab, &["--subnet", "192.168.0.0/16", "mynet"]);
    create(&lab, &["other"]);
    lab.run_d("web", &["--net", "mynet", "httpd"]);
    let web = lab.record("web")["id"].as_str().unwrap().to_string();
    lab.run_d("plain", &["busybox", "sleep", "600"]);
    let plain = lab.record("plain")["id"].as_str().unwrap().to_string();
    lab.run_d("hostc", &["--net", "host", "busybox", "sleep", "600"]);
    lab.run_d("nonec", &["--net", "none", "busybox", "sleep", "600"]);
    lab.run_d(
        "joiner",
        &["--net", "container:web", "busybox", "sleep", "600"],
    );
    let before = footprint(&lab);
    let shared = "container sharing network namespace with another container or host cannot be connected to any other network";
    let cases: Vec<(Vec<&str>, i32, String)> = vec![
        (
            vec!["run", "--ip", "172.17.0.9", "busybox", "true"],
            125,
            "user specified IP address is supported on user defined networks only".into(),
        ),
        (
            vec!["run", "--network-alias", "x", "busybox", "true"],
            125,
            "network-scoped alias is supported only for containers in user defined networks"
                .into(),
        ),
        (
            vec!["run", "--net", "nosuch", "busybox", "true"],
            125,
            "Error response from daemon: network nosuch not found".into(),
        ),
        (
            vec!["run", "--net", "mynet", "--ip", "192.168.0.2", "busybox", "true"],
            125,
            "Address already in use".into(),
        ),
        (
            vec!["network", "connect", "mynet", "hostc"],
            1,
            shared.into(),
        ),
        (
            vec!["network", "connect", "mynet", "joiner"],
            1,
            shared.into(),
        ),
        (
            vec!["network", "connect", "mynet", "nonec"],
            1,
            "container cannot be connected to multiple networks with one of the networks in private (none) mode".into(),
        ),
        (
            vec!["network", "connect", "host", "plain"],
            1,
            "container cannot be disconnected from host network or connected to host network"
                .into(),
        ),
        (
            vec!["network", "connect", "mynet", "web"],
            1,
            "endpoint with name web already exists in network mynet".into(),
        ),
        (
            vec!["network", "connect", "--ip", "192.168.0.2", "mynet", "plain"],
            1,
            "Address already in use".into(),
        ),
        (
            vec!["network", "connect", "nosuch", "plain"],
            1,
            "network nosuch not found".into(),
        ),
        (
            vec!["network", "connect", "mynet", "nosuch"],
            1,
            "No such container: nosuch".into(),
        ),
        (
            vec!["network", "disconnect", "mynet", "plain"],
            1,
            format!("container {plain} is not connected to network mynet"),
        ),
        (
            vec!["network", "disconnect", "other", "web"],
            1,
            format!("container {web} is not connected to network other"),
        ),
        (
            vec!["network", "rm", "mynet"],
            1,
            "error while removing network: network mynet id".into(),
        ),
        (
            vec!["network", "rm", "bridge"],
            1,
            "Error response from daemon: bridge is a pre-defined network and cannot be removed"
                .into(),
        ),
        (
            vec!["network", "rm", "nosuch"],
            1,
            "Error response from daemon: network nosuch not found".into(),
        ),
    ];
    for (args, code, want) in &cases {
        assert_refused(&lab, args, *code, want, &before);
    }
    let err = stderr(&lab.fails(&["network", "rm", "mynet"]));
    assert!(
        err.trim_end().ends_with("has active endpoints"),
        "expected Docker's `has active endpoints`, saw: {err}"
    );
}

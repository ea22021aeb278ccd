//! `show topology`: the picture is read from the kernel. Two containers on docker0, one
//! on a user network with `-p 8080:80`, a `container:` joiner, a host-mode container, a
//! second host with an overlay container; every veth end with the `@ifN` that
//! `ip -o link` prints; the dot output is a graph; a veth made by hand shows up.

mod common;
#[path = "../src/topology/dot_syntax.rs"]
mod dot_syntax;

use common::*;

/// `NAME@ifN` of every veth in a namespace, as `ip -o link` prints it.
fn veth_ends(ns: &str) -> Vec<String> {
    ip(ns, &["-o", "link", "show", "type", "veth"])
        .lines()
        .filter_map(|l| l.split(": ").nth(1).map(String::from))
        .collect()
}

/// The lab of the picture.
fn build(lab: &Lab) {
    lab.ok(&["run", "-d", "--name", "c1", "busybox", "sleep", "1000"]);
    lab.ok(&["run", "-d", "--name", "c2", "busybox", "sleep", "1000"]);
    lab.ok(&["network", "create", "un"]);
    lab.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "un",
        "-p",
        "8080:80",
        "nginx",
    ]);
    lab.ok(&[
        "run",
        "-d",
        "--name",
        "jn",
        "--network",
        "container:c1",
        "busybox",
        "sleep",
        "1000",
    ]);
    lab.ok(&[
        "run",
        "-d",
        "--name",
        "hm",
        "--network",
        "host",
        "busybox",
        "sleep",
        "1000",
    ]);
    lab.ok(&["lab", "host", "add", "host2"]);
    lab.ok(&["network", "create", "-d", "overlay", "--attachable", "ovn"]);
    lab.on(
        "host2",
        &[
            "run",
            "-d",
            "--name",
            "oc",
            "--network",
            "ovn",
            "busybox",
            "sleep",
            "1000",
        ],
    );
}

#[test]
fn text_dot_and_a_hand_made_veth() {
    let lab = Lab::new("topology");
    build(&lab);
    let text = lab.ok(&["show", "topology"]);
    for l in text.lines() {
        assert!(l.chars().count() <= 100, "wider than 100 columns: {l}");
    }
    assert!(
        !text.contains('\u{1b}'),
        "no colour without a terminal:\n{text}"
    );
    // Each container with its address, both ends of each veth as the kernel names them.
    for (name, addr) in [
        ("c1", "172.17.0.2/16"),
        ("c2", "172.17.0.3/16"),
        ("web", "172.18.0.2/16"),
    ] {
        assert!(
            text.contains(&format!("container {name}")),
            "{name} missing:\n{text}"
        );
        assert!(text.contains(addr), "{addr} missing:\n{text}");
    }
    for ns in [
        lab.host(),
        lab.ctr("c1"),
        lab.ctr("web"),
        format!("dn-{}-host2-ctr-oc", lab.name),
    ] {
        for end in veth_ends(&ns) {
            assert!(text.contains(&end), "{end} of {ns} missing:\n{text}");
        }
    }
    assert!(
        text.contains("8080/tcp → 172.18.0.2:80 (container web)"),
        "{text}"
    );
    assert!(
        text.contains("container jn (joined with container:)"),
        "{text}"
    );
    assert!(text.contains("container hm (host network mode)"), "{text}");
    assert!(text.contains("container oc"), "{text}");
    assert!(
        text.contains("tunnel to 198.51.100.3 (host host2)"),
        "{text}"
    );
    assert!(text.contains("VNI 4096"), "{text}");

    // The dot output: valid DOT, one node per namespace of the lab, every edge between
    // declared nodes.
    let dot = lab.ok(&["show", "topology", "--format", "dot"]);
    let graph = dot_syntax::parse(&dot).unwrap_or_else(|e| panic!("not DOT: {e}:\n{dot}"));
    for (a, b) in &graph.edges {
        assert!(
            graph.nodes.contains(a) && graph.nodes.contains(b),
            "{a} -- {b} names an undeclared node:\n{dot}"
        );
    }
    let namespaces = cmd_ok("ip", &["netns", "list"]);
    let ours: Vec<&str> = namespaces
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(&format!("dn-{}-", lab.name)))
        .collect();
    assert!(ours.len() >= 8, "{namespaces}");
    for ns in &ours {
        assert_eq!(
            dot.matches(&format!("  \"{ns}\" [label=")).count(),
            1,
            "{ns}:\n{dot}"
        );
    }
    let mermaid = lab.ok(&["show", "topology", "--format", "mermaid"]);
    assert!(mermaid.starts_with("flowchart TB\n"), "{mermaid}");
    let json: serde_json::Value =
        serde_json::from_str(&lab.ok(&["show", "topology", "--format", "json"])).unwrap();
    assert_eq!(
        json["nodes"].as_array().unwrap().len(),
        ours.len(),
        "{json}"
    );

    // -H narrows the picture to one host (and the world).
    let one = lab.on("host2", &["show", "topology"]);
    assert!(
        one.contains("container oc") && !one.contains("container c1"),
        "{one}"
    );

    // The kernel is the source: a veth made by hand in the lab host shows up.
    sh_in(&lab.host(), "ip link add tpa type veth peer name tpb");
    let text = lab.ok(&["show", "topology"]);
    for end in veth_ends(&lab.host())
        .iter()
        .filter(|e| e.starts_with("tp"))
    {
        assert!(text.contains(end.as_str()), "{end} missing:\n{text}");
    }
    assert!(
        text.contains("tpa@tpb") && text.contains("tpb@tpa"),
        "{text}"
    );
}

/// A macvlan child's ifindex is often its parent's (both 2: the host's eth0, the
/// container's eth0, in different namespaces), and its IFLA_LINK points at the parent:
/// it is drawn under its parent, never as the parent's cable, which stays the veth to
/// the world.
#[test]
fn a_macvlan_child_hangs_under_its_parent() {
    let lab = Lab::new("topo_macvlan");
    lab.ok(&[
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
        "lan",
    ]);
    lab.run_d("mv1", &["--net", "lan", "busybox", "sleep", "3600"]);
    let index = |ns: &str| {
        ip(ns, &["-o", "link", "show", "eth0"])
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    // The case that confused the picture: the same ifindex on both sides.
    assert_eq!(index(&lab.host()), index(&lab.ctr("mv1")));
    let text = lab.ok(&["show", "topology"]);
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle}:\n{text}"))
            .to_string()
    };
    let host_eth0 = line("198.51.100.2/24");
    assert!(
        host_eth0.contains("── world lan-host@if") && !host_eth0.contains("mv1"),
        "{text}"
    );
    assert!(
        text.contains("└─ macvlan child: container mv1 eth0"),
        "{text}"
    );
    let child = line("198.51.100.128/24");
    assert!(
        child.contains("── macvlan child of host host eth0@if"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&lab.ok(&["show", "topology", "--format", "json"])).unwrap();
    let edges: Vec<&serde_json::Value> = json["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["b"]["ns"] == lab.host().as_str() && e["b"]["ifname"] == "eth0")
        .filter(|e| e["kind"] != "veth")
        .collect();
    assert_eq!(edges.len(), 1, "{json}");
    assert_eq!(edges[0]["kind"], "macvlan");
    assert_eq!(edges[0]["a"]["ns"], lab.ctr("mv1").as_str());
}

/// The parts of a `--changes` picture marked new: the text after each `+` gutter.
fn marked(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            l.strip_prefix("│+")
                .or_else(|| l.strip_prefix("┌+"))
                .map(|r| r.trim_end_matches(['│', '┐', '─', ' ']).trim().to_string())
        })
        .collect()
}

/// `show topology --changes`: the first picture compares with the lab as it was built,
/// each later one with the one before; new boxes and lines get `+`, what is gone is
/// listed; a second picture of an unchanged lab marks nothing; the legend follows the
/// language; other formats refuse the flag.
#[test]
fn changes_mark_what_is_new_since_the_last_picture() {
    let lab = Lab::new("topo_changes");
    lab.run_d("c1", &["busybox", "sleep", "3600"]);
    let veth1 = lab.record("c1")["endpoints"][0]["veth"]
        .as_str()
        .expect("c1's veth")
        .to_string();
    let first = lab.ok(&["show", "topology", "--changes"]);
    let new = marked(&first);
    assert!(
        new.iter().any(|l| l.starts_with("container c1 ")),
        "c1's box is new since the lab was built:\n{first}"
    );
    assert!(
        new.iter().any(|l| l.contains(&veth1)),
        "{veth1} on docker0 is new:\n{first}"
    );
    assert!(
        !new.iter()
            .any(|l| l.contains("docker0") || l.contains("lan0")),
        "the lab as built is not new:\n{first}"
    );
    assert!(first.contains("+ new since the last picture"), "{first}");
    for l in first.lines() {
        assert!(l.chars().count() <= 100, "wider than 100 columns: {l}");
    }

    let again = lab.ok(&["show", "topology", "--changes"]);
    assert!(marked(&again).is_empty(), "{again}");
    assert!(
        again.contains("nothing new since the last picture"),
        "{again}"
    );

    // A user network, a container on it, c1 gone: in Chinese.
    lab.ok(&["network", "create", "mynet"]);
    lab.run_d("u1", &["--net", "mynet", "busybox", "sleep", "3600"]);
    lab.ok(&["rm", "-f", "c1"]);
    let br = lab.network("mynet")["bridge"]
        .as_str()
        .expect("mynet's bridge")
        .to_string();
    let zh = lab.ok(&["--lang", "zh", "show", "topology", "--changes"]);
    let new = marked(&zh);
    assert!(
        new.iter()
            .any(|l| l.starts_with(&format!("网桥 {br} 172.18.0.1/16"))),
        "{zh}"
    );
    assert!(new.iter().any(|l| l.starts_with("容器 u1 ")), "{zh}");
    // Only what changed: the host's eth0 and docker0 compare across languages.
    assert!(
        !new.iter()
            .any(|l| l.contains("docker0") || l.contains("198.51.100.2/24")),
        "{zh}"
    );
    assert!(zh.contains("上一张图之后消失的部分"), "{zh}");
    let gone: Vec<&str> = zh
        .lines()
        .skip_while(|l| !l.contains("上一张图之后消失的部分"))
        .skip(1)
        .collect();
    assert!(gone.iter().any(|l| l.trim() == "- 容器 c1"), "{zh}");
    assert!(gone.iter().any(|l| l.contains(&veth1)), "{zh}");

    let o = lab.fails(&["show", "topology", "--changes", "--format", "dot"]);
    assert!(stderr(&o).contains("--changes"), "{}", describe("dot", &o));
    // The kept picture lives with the lab.
    assert!(lab.dir().join("topology-all.json").exists());
}

//! `show topology`: the picture is read from the kernel. Two containers on docker0, one
//! on a user network with `-p 8080:80`, a `container:` joiner, a host-mode container, a
//! second host with an overlay container; every veth end with the `@ifN` that
//! `ip -o link` prints; the dot output is a graph; a veth made by hand shows up.

mod common;

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

    // The dot output: balanced braces, one node per namespace of the lab.
    let dot = lab.ok(&["show", "topology", "--format", "dot"]);
    assert_eq!(dot.matches('{').count(), dot.matches('}').count(), "{dot}");
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

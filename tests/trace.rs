//! `trace`: real probes through a real lab, followed with nf_tables tracing — the
//! MASQUERADE of the way out, the DNAT of a published port, the isolation DROP between
//! two networks, a frame bridged between two containers — and nothing left behind.

mod common;
use common::*;
use serde_json::Value;

fn trace_json(lab: &Lab, args: &[&str]) -> (Value, Option<i32>) {
    let mut all = vec!["trace"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let o = lab.dn(&all);
    let v = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("expected JSON from trace: {e}: {}", describe("trace", &o)));
    (v, o.status.code())
}

/// Every hop of the shown packets, flattened: (namespace, hop).
fn hops(v: &Value) -> Vec<&Value> {
    v["packets"]
        .as_array()
        .expect("packets")
        .iter()
        .flat_map(|p| p.as_array().expect("hops").iter())
        .collect()
}

fn rule_lines(hop: &Value) -> Vec<String> {
    hop["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["line"].as_str().map(|s| s.to_string()))
        .collect()
}

/// The `dockernet_trace` tables left in any namespace of the lab.
fn leftover_tables(lab: &Lab) -> Vec<String> {
    let mut v = Vec::new();
    for ns in lab_namespaces(&lab.name) {
        let out = cmd_ok("ip", &["netns", "exec", &ns, "nft", "list", "tables"]);
        if out.contains("dockernet_trace") {
            v.push(format!("{ns}: {out}"));
        }
    }
    v
}

#[test]
fn outbound_ping_is_masqueraded_and_the_lab_is_left_as_it_was() {
    let lab = Lab::new("trace_out");
    lab.run_d("c1", &["busybox", "sleep", "1000"]);
    let host = lab.host();
    let before = iptables_rules(&host);

    let (v, rc) = trace_json(&lab, &["c1", "203.0.113.10"]);
    assert_eq!(rc, Some(0), "{v:#}");
    assert_eq!(v["answer"], "answered");
    let hops = hops(&v);
    let places: Vec<&str> = hops.iter().map(|h| h["ns"].as_str().unwrap()).collect();
    // Out: container, host, world; back: world, host, container.
    assert_eq!(places.first(), Some(&lab.ctr("c1").as_str()), "{places:?}");
    assert!(places.contains(&host.as_str()), "{places:?}");
    let out_of_host = hops
        .iter()
        .find(|h| h["ns"] == host.as_str())
        .expect("a hop on the host");
    assert!(
        rule_lines(out_of_host)
            .iter()
            .any(|l| l.contains("-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE")),
        "{out_of_host:#}"
    );
    assert_eq!(out_of_host["came_in"]["bridge"], "docker0");
    assert_eq!(out_of_host["out"]["name"], "eth0");
    // The source as it left: the host's LAN address.
    assert_eq!(out_of_host["last"]["src"], "198.51.100.2");
    let snat: Vec<&Value> = v["conntrack"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["rewrites"].as_array().unwrap())
        .collect();
    assert!(
        snat.iter()
            .any(|r| r["kind"] == "SNAT" && r["to"] == "198.51.100.2"),
        "{v:#}"
    );
    // The answer comes back into the container.
    let last = hops.last().unwrap();
    assert_eq!(last["ns"], lab.ctr("c1").as_str());
    assert_eq!(last["end"], "delivered");

    assert_eq!(leftover_tables(&lab), Vec::<String>::new());
    assert_eq!(iptables_rules(&host), before);

    let text = stdout(&lab.dn(&["trace", "c1", "203.0.113.10"]));
    assert!(
        text.contains("the probe") && text.contains("the answer"),
        "{text}"
    );
    assert!(text.contains("SNAT 172.17.0.2 → 198.51.100.2"), "{text}");
    let zh = stdout(&lab.dn(&["--lang", "zh", "trace", "c1", "203.0.113.10"]));
    assert!(zh.contains("探测包") && zh.contains("源地址被改写"), "{zh}");
}

#[test]
fn a_published_port_is_dnat_and_a_closed_one_refused() {
    let lab = Lab::new("trace_dnat");
    lab.run_d("web", &["-p", "8080:80", "httpd"]);
    let (v, rc) = eventually_trace(&lab, &["world", "host", "--tcp", "8080"]);
    assert_eq!(rc, Some(0), "{v:#}");
    let hops = hops(&v);
    let host = hops
        .iter()
        .find(|h| h["ns"] == lab.host().as_str())
        .expect("a hop on the host");
    let lines = rule_lines(host);
    assert!(
        lines.iter().any(|l| l.contains(
            "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80"
        )),
        "{lines:#?}"
    );
    assert_eq!(host["last"]["dst"], "172.17.0.2");
    assert_eq!(host["lookup"]["bridge"], "docker0");
    assert!(
        host["lookup"]["port"].as_str().unwrap().starts_with("veth"),
        "{host:#}"
    );
    // The SYN reached the container's own namespace.
    assert!(
        hops.iter()
            .any(|h| h["ns"] == lab.ctr("web").as_str() && h["end"] == "delivered"),
        "{v:#}"
    );
    assert!(
        v["conntrack"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["rewrites"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["kind"] == "DNAT"
                    && r["from"] == "198.51.100.2:8080"
                    && r["to"] == "172.17.0.2:80")),
        "{v:#}"
    );

    // Nothing listens on 8081: the host answers with a reset.
    let (v, rc) = trace_json(&lab, &["world", "host", "--tcp", "8081"]);
    assert_eq!(rc, Some(1));
    assert_eq!(v["answer"], "refused", "{v:#}");
}

/// httpd needs a moment to listen after `run -d`.
fn eventually_trace(lab: &Lab, args: &[&str]) -> (Value, Option<i32>) {
    let mut last = None;
    for _ in 0..20 {
        let r = trace_json(lab, args);
        if r.1 == Some(0) {
            return r;
        }
        last = Some(r);
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    last.unwrap()
}

#[test]
fn isolation_between_networks_is_a_drop_by_docker_rule() {
    let lab = Lab::new("trace_drop");
    lab.ok(&["network", "create", "n1"]);
    lab.ok(&["network", "create", "n2"]);
    lab.run_d("a1", &["--net", "n1", "busybox", "sleep", "1000"]);
    lab.run_d("a2", &["--net", "n2", "busybox", "sleep", "1000"]);
    let (v, rc) = trace_json(&lab, &["a1", "a2"]);
    assert_eq!(rc, Some(1));
    assert_eq!(v["answer"], "timeout", "{v:#}");
    let hops = hops(&v);
    let last = hops.last().unwrap();
    assert_eq!(last["ns"], lab.host().as_str());
    assert_eq!(last["end"], "dropped");
    let rules = last["rules"].as_array().unwrap();
    let drop = rules.last().unwrap();
    assert_eq!(drop["chain"], "DOCKER-ISOLATION-STAGE-2");
    assert!(
        drop["line"].as_str().unwrap().ends_with("-j DROP"),
        "{drop:#}"
    );
    let text = stdout(&lab.dn(&["trace", "a1", "a2"]));
    assert!(text.contains("dropped"), "{text}");
    assert_eq!(leftover_tables(&lab), Vec::<String>::new());
}

#[test]
fn two_containers_on_docker0_are_bridged() {
    let lab = Lab::new("trace_bridge");
    lab.run_d("b1", &["busybox", "sleep", "1000"]);
    lab.run_d("b2", &["busybox", "sleep", "1000"]);
    let (v, rc) = trace_json(&lab, &["b1", "b2"]);
    assert_eq!(rc, Some(0), "{v:#}");
    let hops = hops(&v);
    let host = hops
        .iter()
        .find(|h| h["ns"] == lab.host().as_str())
        .expect("a hop on the host");
    assert_eq!(host["bridged_by"], "docker0", "{host:#}");
    assert_eq!(host["out"]["bridge"], "docker0");
    assert_eq!(host["out"]["leads_to"], "container b2 eth0");
    // Exactly the three namespaces on the way there.
    assert_eq!(v["packets"][0].as_array().unwrap().len(), 3, "{v:#}");
}

#[test]
fn bad_endpoints_get_one_line_errors() {
    let lab = Lab::new("trace_bad");
    lab.run_d("c1", &["busybox", "sleep", "1000"]);
    let o = lab.fails(&["trace", "c1", "nosuch"]);
    let e = stderr(&o);
    assert!(
        e.contains("no container, lab host or address called \"nosuch\""),
        "{e}"
    );
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    let o = lab.fails(&["trace", "192.0.2.77", "c1"]);
    assert!(stderr(&o).contains("no namespace of the lab has the address 192.0.2.77"));
    let o = lab.fails(&["trace", "c1", "host", "--tcp", "80", "--udp", "53"]);
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
    let o = lab.fails(&["--dry-run", "trace", "c1", "host"]);
    assert!(
        stderr(&o).contains("nothing to show under --dry-run"),
        "{}",
        stderr(&o)
    );
    assert_eq!(leftover_tables(&lab), Vec::<String>::new());
}

#[test]
fn across_an_overlay_the_vxlan_lookup_names_the_other_host() {
    let lab = Lab::new("trace_overlay");
    lab.ok(&["lab", "host", "add", "host2"]);
    lab.ok(&[
        "network",
        "create",
        "-d",
        "overlay",
        "--attachable",
        "--subnet",
        "10.0.9.0/24",
        "ov",
    ]);
    lab.run_d("o1", &["--net", "ov", "busybox", "sleep", "1000"]);
    lab.on(
        "host2",
        &[
            "run", "-d", "--name", "o2", "--net", "ov", "busybox", "sleep", "1000",
        ],
    );
    let (v, rc) = trace_json(&lab, &["o1", "10.0.9.3"]);
    assert_eq!(rc, Some(0), "{v:#}");
    let there = v["packets"][0].as_array().unwrap();
    let out = there
        .iter()
        .find(|h| h["out"]["name"] == "vxlan0")
        .expect("a hop out of vxlan0");
    assert_eq!(out["lookup"]["vtep"], "198.51.100.3", "{out:#}");
    assert_eq!(out["lookup"]["vni"], 4096);
    // Into o2's namespace on host2.
    let last = there.last().unwrap();
    assert_eq!(last["end"], "delivered");
    assert!(
        last["ns"].as_str().unwrap().ends_with("-host2-ctr-o2"),
        "{last:#}"
    );
}

#[test]
fn what_the_events_cannot_show_is_explained() {
    let lab = Lab::new("trace_explain");
    lab.run_d("c1", &["busybox", "sleep", "1000"]);
    lab.run_d("n1", &["--net", "none", "busybox", "sleep", "1000"]);
    lab.run_d("web", &["-p", "8080:80", "httpd"]);
    // Forwarding off: the host takes the DNATed SYN and sends it nowhere, and says why.
    lab.ok(&["host", "--", "sysctl", "-qw", "net.ipv4.ip_forward=0"]);
    let (v, rc) = trace_json(&lab, &["world", "host", "--tcp", "8080"]);
    assert_eq!(rc, Some(1));
    let host = hops(&v)
        .into_iter()
        .find(|h| h["ns"] == lab.host().as_str())
        .expect("a hop on the host");
    assert_eq!(host["end"], "lost");
    assert!(
        host["why"]
            .as_str()
            .unwrap()
            .contains("net.ipv4.ip_forward = 0"),
        "{host:#}"
    );
    let text = stdout(&lab.dn(&["trace", "world", "host", "--tcp", "8080"]));
    // The client's retransmitted SYN is no answer.
    assert!(!text.contains("the answer"), "{text}");
    assert!(
        text.contains("-j DNAT --to-destination 172.17.0.3:80  → DNAT"),
        "{text}"
    );
    lab.ok(&["host", "--", "sysctl", "-qw", "net.ipv4.ip_forward=1"]);

    let (v, _) = trace_json(&lab, &["n1", "c1"]);
    assert!(v["note"].as_str().unwrap().contains("only lo"), "{v:#}");
    let (v, _) = trace_json(&lab, &["world", "c1"]);
    assert!(
        v["note"].as_str().unwrap().contains("Publish a port"),
        "{v:#}"
    );
    lab.ok(&["stop", "-t", "0", "c1"]);
    let o = lab.fails(&["trace", "world", "c1"]);
    assert!(
        stderr(&o).contains("container c1 is not running"),
        "{}",
        stderr(&o)
    );
}

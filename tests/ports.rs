//! Port publishing (claims C05, C15, C30, C36, C37): `-p` in Docker's forms, the DNAT
//! rules, one userland proxy per binding, and every path a learner tries: from the
//! world, from the lab host by its address and by 127.0.0.1, from another container.

mod common;

use common::*;
use std::time::Duration;

/// Fetch a URL from a namespace with busybox wget, retrying while the server starts.
fn fetch(ns: &str, url: &str) -> String {
    retry(
        &format!("GET {url} from {ns}"),
        Duration::from_secs(5),
        || {
            let o = exec_in(ns, &["busybox", "wget", "-qO-", url]);
            if o.status.success() {
                Ok(stdout(&o))
            } else {
                Err(describe("wget", &o))
            }
        },
    )
}

/// `iptables -t nat -S` of the lab host.
fn nat_rules(lab: &Lab) -> String {
    exec_in_ok(&lab.host(), &["iptables", "-t", "nat", "-S"])
}

/// Packet counter of the DNAT rule for `port` in nat DOCKER.
fn dnat_packets(lab: &Lab, port: u16) -> u64 {
    let out = exec_in_ok(&lab.host(), &["iptables", "-t", "nat", "-vnxL", "DOCKER"]);
    out.lines()
        .find(|l| l.contains("DNAT") && l.contains(&format!("dpt:{port} ")))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("expected a DNAT rule for {port} in:\n{out}"))
}

/// docker-proxy processes of this lab: their command lines.
fn proxies(lab: &Lab) -> Vec<String> {
    lab.processes()
        .into_iter()
        .map(|(_, c)| c)
        .filter(|c| c.starts_with("docker-proxy"))
        .collect()
}

/// C15, C30, C37, C05: `-p 8080:80` adds the DNAT rule (and its filter/MASQUERADE
/// companions), starts one proxy, and the world reaches the container through the
/// host's address, with the DNAT counter moving.
#[test]
fn fixed_port_from_the_world_through_dnat() {
    let lab = Lab::new("port_fixed");
    lab.run_d("web", &["-p", "8080:80", "httpd"]);
    let nat = nat_rules(&lab);
    assert!(
        nat.contains("-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80"),
        "expected the DNAT rule, saw:\n{nat}"
    );
    assert!(nat.contains("-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE"), "{nat}");
    let filter = exec_in_ok(&lab.host(), &["iptables", "-S", "DOCKER"]);
    assert!(
        filter.contains(
            "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT"
        ),
        "{filter}"
    );
    let p = proxies(&lab);
    assert_eq!(p.len(), 1, "one proxy per binding, saw {p:?}");
    assert!(p[0].contains("-proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 -container-port 80"), "{p:?}");
    let listening = exec_in_ok(&lab.host(), &["ss", "-Htlnp", "sport", "= :8080"]);
    assert!(
        listening.contains("docker-proxy"),
        "the proxy listens on 8080: {listening}"
    );
    let before = dnat_packets(&lab, 8080);
    let page = fetch(&lab.world(), "http://198.51.100.2:8080/");
    assert!(
        page.contains("It works!"),
        "expected httpd's page, saw {page}"
    );
    assert!(
        dnat_packets(&lab, 8080) > before,
        "the DNAT rule's counter moved"
    );
}

/// C36: `-p 80` maps to a random host port from the ephemeral range; `ps` and `port`
/// show `0.0.0.0:PORT->80/tcp`; the request reaches the container (C37).
#[test]
fn random_port_shown_by_ps_and_port() {
    let lab = Lab::new("port_random");
    lab.run_d("web", &["-p", "80", "httpd"]);
    let line = lab.ok(&["port", "web"]);
    let hostport: u16 = line
        .trim()
        .strip_prefix("80/tcp -> 0.0.0.0:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("expected `80/tcp -> 0.0.0.0:PORT`, saw {line:?}"));
    assert!(
        (32768..=60999).contains(&hostport),
        "ephemeral range: {hostport}"
    );
    assert_eq!(
        lab.ok(&["port", "web", "80"]).trim(),
        format!("0.0.0.0:{hostport}")
    );
    let o = lab.fails(&["port", "web", "81"]);
    assert!(
        stderr(&o).contains("No public port '81/tcp' published for web"),
        "{}",
        stderr(&o)
    );
    let ps = lab.ok(&["ps"]);
    assert!(
        ps.contains(&format!("0.0.0.0:{hostport}->80/tcp")),
        "PORTS column: {ps}"
    );
    let page = fetch(&lab.world(), &format!("http://198.51.100.2:{hostport}/"));
    assert!(page.contains("It works!"));
    let v = lab.inspect("web");
    assert_eq!(
        v["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"],
        hostport.to_string()
    );
    assert_eq!(v["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"], "");
}

/// `-P` publishes every exposed port (the image's and `--expose`); ranges and UDP.
#[test]
fn publish_all_ranges_and_udp() {
    let lab = Lab::new("port_all");
    lab.run_d("tc", &["-P", "--expose", "9000", "tomcat"]);
    let lines = lab.ok(&["port", "tc"]);
    assert!(
        lines.contains("8080/tcp -> 0.0.0.0:") && lines.contains("9000/tcp -> 0.0.0.0:"),
        "{lines}"
    );
    lab.run_d(
        "rng",
        &["-p", "7000-7001:7000-7001", "busybox", "sleep", "600"],
    );
    let ps = lab.ok(&["ps"]);
    assert!(
        ps.contains("0.0.0.0:7000-7001->7000-7001/tcp"),
        "ranges group in PORTS: {ps}"
    );
    // UDP: a socat echo server behind -p 5353:5353/udp answers a client in the world.
    lab.ok(&[
        "run",
        "-d",
        "--name",
        "udp",
        "-p",
        "5353:5353/udp",
        "--",
        "socat",
        "UDP-RECVFROM:5353,fork",
        "EXEC:cat",
    ]);
    let reply = retry("UDP echo through the proxy", Duration::from_secs(5), || {
        let o = sh_in(
            &lab.world(),
            "echo hello-udp | timeout 2 socat -T1 - UDP:198.51.100.2:5353",
        );
        let out = stdout(&o);
        if out.contains("hello-udp") {
            Ok(out)
        } else {
            Err(describe("socat udp", &o))
        }
    });
    assert!(reply.contains("hello-udp"));
}

/// C05 and the paths of port publishing: the lab host by its own address (DNAT in
/// OUTPUT) and by 127.0.0.1 (served by the proxy), another container by the host's
/// address (hairpin through the proxy).
#[test]
fn every_path_reaches_the_published_port() {
    let lab = Lab::new("port_paths");
    lab.run_d("web", &["-p", "8080:80", "httpd"]);
    lab.run_d("bb", &["busybox", "sleep", "600"]);
    assert!(fetch(&lab.host(), "http://198.51.100.2:8080/").contains("It works!"));
    assert!(fetch(&lab.host(), "http://127.0.0.1:8080/").contains("It works!"));
    let page = retry(
        "container to the host's published port",
        Duration::from_secs(5),
        || {
            let o = lab.dn(&["exec", "bb", "wget", "-qO-", "http://198.51.100.2:8080/"]);
            if o.status.success() {
                Ok(stdout(&o))
            } else {
                Err(describe("wget", &o))
            }
        },
    );
    assert!(page.contains("It works!"));
    // Without publishing, the world cannot reach the container's address at all (C05).
    let o = exec_in(&lab.world(), &["ping", "-c", "1", "-W", "1", "172.17.0.2"]);
    assert!(
        !o.status.success(),
        "the world has no route to container addresses"
    );
}

/// A taken host port gets Docker's error and leaves nothing behind; rules and proxies
/// go away on stop and rm.
#[test]
fn taken_port_and_cleanup() {
    let lab = Lab::new("port_taken");
    lab.run_d("aa", &["-p", "8080:80", "httpd"]);
    let rules = nat_rules(&lab);
    let ports = lab.docker0_ports();
    let o = lab.fails(&["run", "-d", "--name", "bb", "-p", "8080:80", "httpd"]);
    let err = stderr(&o);
    assert!(
        err.contains("driver failed programming external connectivity on endpoint bb")
            && err.contains("Bind for 0.0.0.0:8080 failed: port is already allocated"),
        "Docker's error, saw: {err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert_eq!(nat_rules(&lab), rules, "no rule left behind");
    assert_eq!(lab.docker0_ports(), ports, "no veth left behind");
    assert_eq!(proxies(&lab).len(), 1, "no proxy left behind");
    // A port the lab host itself uses (host-mode httpd on 80) is refused by the proxy's bind.
    lab.run_d("hh", &["--net", "host", "httpd"]);
    let _ = fetch(&lab.host(), "http://127.0.0.1:80/");
    let o = lab.fails(&["run", "-d", "--name", "cc", "-p", "80:80", "httpd"]);
    assert!(
        stderr(&o).contains("address already in use"),
        "{}",
        stderr(&o)
    );
    assert_eq!(lab.docker0_ports(), ports, "no veth left behind");
    lab.ok(&["stop", "-t", "1", "aa"]);
    assert!(
        !nat_rules(&lab).contains("--dport 8080"),
        "stop removes the rules"
    );
    assert!(proxies(&lab).is_empty(), "stop ends the proxy");
    lab.ok(&["start", "aa"]);
    assert!(
        nat_rules(&lab).contains("--dport 8080"),
        "start brings them back"
    );
    assert!(fetch(&lab.world(), "http://198.51.100.2:8080/").contains("It works!"));
    lab.ok(&["rm", "-f", "aa"]);
    assert!(
        !nat_rules(&lab).contains("--dport 8080") && proxies(&lab).is_empty(),
        "rm removes rules and proxy"
    );
}

/// Invalid -p specs get Docker's one-line errors and build nothing.
#[test]
fn invalid_specs_are_refused() {
    let lab = Lab::new("port_invalid");
    lab.ok(&["lab", "up"]);
    for (spec, want) in [
        ("abc", "invalid containerPort: abc"),
        ("99999:80", "invalid hostPort: 99999"),
        ("1.2.3:80:80", "invalid IP address: 1.2.3"),
        ("80/sctpx", "invalid proto: sctpx"),
        (
            "8000-8002:80-81",
            "invalid ranges specified for container and host Ports: 80-81 and 8000-8002",
        ),
    ] {
        let o = lab.fails(&["run", "-d", "-p", spec, "httpd"]);
        assert_eq!(o.status.code(), Some(125));
        assert!(
            stderr(&o).contains(want),
            "-p {spec}: expected {want:?}, saw {}",
            stderr(&o)
        );
    }
    assert!(lab.all_ids().is_empty() && lab.container_namespaces().is_empty());
}

/// `--userland-proxy=false`: no proxy processes; Docker's hairpin NAT and
/// route_localnet serve the host's own connections instead.
#[test]
fn without_userland_proxy_hairpin_nat_serves_localhost() {
    let lab = Lab::new("port_noproxy");
    lab.ok(&["lab", "up", "--userland-proxy=false"]);
    lab.run_d("web", &["-p", "8080:80", "httpd"]);
    assert!(
        proxies(&lab).is_empty(),
        "no proxy without the userland proxy"
    );
    let nat = nat_rules(&lab);
    assert!(
        nat.contains("-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER"),
        "{nat}"
    );
    assert!(
        nat.contains("-A POSTROUTING -o docker0 -m addrtype --src-type LOCAL -j MASQUERADE"),
        "{nat}"
    );
    assert!(
        nat.contains("-A DOCKER -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80"),
        "{nat}"
    );
    let localnet = exec_in_ok(
        &lab.host(),
        &["sysctl", "-n", "net.ipv4.conf.docker0.route_localnet"],
    );
    assert_eq!(localnet.trim(), "1");
    assert!(fetch(&lab.world(), "http://198.51.100.2:8080/").contains("It works!"));
    assert!(fetch(&lab.host(), "http://127.0.0.1:8080/").contains("It works!"));
}

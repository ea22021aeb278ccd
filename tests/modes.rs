//! Network modes as the articles demonstrate them: host, none and container:NAME
//! (claims C06, C07, C08, C16, C24, C29), with Docker's refusals. Each test has its own
//! lab and checks what the kernel holds, not what dockernet says.

mod common;

use common::*;
use std::time::Duration;

/// Lines of `ip -o link` inside a container, names only (`eth0`, `docker0`, ...).
fn link_names(text: &str) -> Vec<String> {
    parse_links(text).into_iter().map(|l| l.name).collect()
}

/// C06, C16: in host mode the process sees the lab host's interfaces (docker0 included),
/// its routes and address, and its hostname; its PID namespace stays its own.
#[test]
fn host_mode_shares_the_hosts_network_and_hostname() {
    let lab = Lab::new("host_mode");
    lab.run_d("other", &["busybox", "sleep", "600"]);
    let links = link_names(&lab.ok(&[
        "run", "--rm", "--net", "host", "busybox", "ip", "-o", "link",
    ]));
    for want in ["lo", "eth0", "docker0"] {
        assert!(
            links.contains(&want.to_string()),
            "expected {want} in host-mode `ip l`, saw {links:?}"
        );
    }
    assert!(
        links.iter().any(|l| l.starts_with("veth")),
        "expected the other container's veth, saw {links:?}"
    );
    let addr = lab.ok(&[
        "run",
        "--rm",
        "--network=host",
        "busybox",
        "ip",
        "-o",
        "-4",
        "addr",
    ]);
    assert!(
        addr.contains("198.51.100.2/24") && addr.contains("172.17.0.1/16"),
        "expected the host's addresses, saw:\n{addr}"
    );
    let route = lab.ok(&["run", "--rm", "--net=host", "busybox", "ip", "route"]);
    assert!(
        route.contains("default via 198.51.100.1"),
        "expected the host's default route, saw:\n{route}"
    );
    let name = lab.ok(&["run", "--rm", "--net", "host", "busybox", "hostname"]);
    assert_eq!(
        name.trim(),
        "dockernet-host",
        "host mode prints the host's hostname"
    );
    // Processes stay isolated: the other container's sleep is not visible.
    let ps = lab.ok(&["run", "--rm", "--net", "host", "busybox", "ps", "-ef"]);
    assert!(
        !ps.contains("sleep 600"),
        "expected an own PID namespace in host mode, saw:\n{ps}"
    );
    // No veth was added for the host-mode runs.
    assert_eq!(
        lab.docker0_ports().len(),
        1,
        "host mode must not attach anything to docker0"
    );
    let v = lab.inspect("other");
    assert_eq!(v["HostConfig"]["NetworkMode"], "bridge");
}

/// C06: a server in host mode binds the host's own port: reachable from the world
/// without NAT, and a second server on the same port fails with the real bind error.
#[test]
fn host_mode_ports_are_the_hosts_ports() {
    let lab = Lab::new("host_ports");
    lab.run_d("h1", &["--net", "host", "httpd"]);
    let page = retry(
        "httpd in host mode answers from the world",
        Duration::from_secs(5),
        || {
            let o = exec_in(&lab.world(), &["wget", "-qO-", "http://198.51.100.2/"]);
            if o.status.success() {
                Ok(stdout(&o))
            } else {
                Err(describe("wget", &o))
            }
        },
    );
    assert!(
        page.contains("It works!"),
        "expected httpd's page, saw {page}"
    );
    let o = lab.fails(&["run", "--net", "host", "httpd"]);
    let err = stderr(&o) + &stdout(&o);
    assert!(
        err.contains("in use"),
        "expected the real bind error (address in use), saw:\n{err}"
    );
    let v = lab.inspect("h1");
    assert_eq!(v["HostConfig"]["NetworkMode"], "host");
    assert_eq!(
        v["NetworkSettings"]["SandboxKey"],
        format!("/run/netns/{}", lab.host())
    );
    assert!(
        v["NetworkSettings"]["Networks"]["host"].is_object(),
        "expected Networks.host, saw {v}"
    );
    // -p with host mode: Docker's warning, and it goes on.
    let o = lab.dn(&[
        "run", "--rm", "--net", "host", "-p", "8080:80", "busybox", "true",
    ]);
    assert!(o.status.success(), "{}", describe("run --net host -p", &o));
    assert!(
        stderr(&o).contains("WARNING: Published ports are discarded when using host network mode"),
        "{}",
        stderr(&o)
    );
}

/// C08: none mode has its own namespace with only lo, no address but loopback, no
/// route, and nothing on docker0.
#[test]
fn none_mode_has_only_loopback() {
    let lab = Lab::new("none_mode");
    lab.run_d("n1", &["--net", "none", "busybox", "sleep", "600"]);
    let ns = lab.ctr("n1");
    assert_eq!(
        link_names(&ip(&ns, &["-o", "link"])),
        ["lo"],
        "none mode: only lo"
    );
    let addrs = ip(&ns, &["-o", "addr"]);
    assert!(
        addrs.lines().all(|l| l.contains(" lo ")),
        "only loopback addresses, saw:\n{addrs}"
    );
    assert_eq!(ip(&ns, &["route"]).trim(), "", "no routes in none mode");
    assert!(
        lab.docker0_ports().is_empty(),
        "no veth on docker0 in none mode"
    );
    let ping = lab.dn(&["exec", "n1", "ping", "-c", "1", "-W", "1", "172.17.0.1"]);
    assert!(!ping.status.success(), "none mode cannot reach docker0");
    let lo = lab.ok(&["exec", "n1", "ping", "-c", "1", "-W", "1", "127.0.0.1"]);
    assert!(lo.contains("1 packets received"), "loopback works: {lo}");
    let v = lab.inspect("n1");
    assert_eq!(v["HostConfig"]["NetworkMode"], "none");
    assert!(
        v["NetworkSettings"]["Networks"]["none"].is_object(),
        "expected Networks.none, saw {v}"
    );
    lab.ok(&["rm", "-f", "n1"]);
    assert!(
        lab.container_namespaces().is_empty(),
        "rm removes the none-mode namespace"
    );
}

/// C07 (article 004): a busybox joined to web1 has web1's MAC and IP, and fetches
/// web1's page from 127.0.0.1; it shares web1's hostname but not its processes.
#[test]
fn container_mode_shares_web1s_network() {
    let lab = Lab::new("ctr_mode");
    let id = lab.run_d("web1", &["httpd"]);
    lab.run_d(
        "bb",
        &["--net", "container:web1", "busybox", "sleep", "600"],
    );
    let web1 = lab.inspect("web1");
    let mac = web1["NetworkSettings"]["MacAddress"]
        .as_str()
        .unwrap()
        .to_string();
    let ipaddr = web1["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    let eth0 = lab.ok(&["exec", "bb", "ip", "addr", "show", "eth0"]);
    assert!(
        eth0.contains(&mac) && eth0.contains(&format!("{ipaddr}/16")),
        "expected web1's MAC {mac} and IP {ipaddr}, saw:\n{eth0}"
    );
    let page = retry("web1 over 127.0.0.1", Duration::from_secs(5), || {
        let o = lab.dn(&["exec", "bb", "wget", "-qO-", "http://127.0.0.1/"]);
        if o.status.success() {
            Ok(stdout(&o))
        } else {
            Err(describe("wget 127.0.0.1", &o))
        }
    });
    assert!(
        page.contains("It works!"),
        "expected httpd's page over loopback, saw {page}"
    );
    assert_eq!(
        lab.ok(&["exec", "bb", "hostname"]).trim(),
        &id[..12],
        "container mode shares web1's hostname"
    );
    let ps = lab.ok(&["exec", "bb", "ps", "-ef"]);
    assert!(
        !ps.contains("httpd-foreground"),
        "web1's processes stay invisible, saw:\n{ps}"
    );
    let hosts = lab.ok(&["exec", "bb", "cat", "/etc/hosts"]);
    assert!(
        hosts.contains(&format!("{ipaddr}\t{}", &id[..12])),
        "shares web1's /etc/hosts, saw:\n{hosts}"
    );
    let v = lab.inspect("bb");
    assert_eq!(v["HostConfig"]["NetworkMode"], format!("container:{id}"));
    assert_eq!(v["NetworkSettings"]["SandboxKey"], "");
    assert_eq!(lab.docker0_ports().len(), 1, "the joiner adds no veth");
}

/// C29 (article 003): a container joined to redis does not see redis-server, yet
/// `redis-cli ping` answers PONG and 6379 is listening.
#[test]
fn container_mode_redis_pong_without_redis_server() {
    let lab = Lab::new("ctr_redis");
    lab.run_d("redis", &["redis"]);
    lab.run_d(
        "cli",
        &["--net", "container:redis", "busybox", "sleep", "600"],
    );
    let ps = lab.ok(&["exec", "cli", "ps", "-ef"]);
    assert!(
        !ps.contains("redis-server"),
        "no redis-server in the joiner's ps -ef, saw:\n{ps}"
    );
    let pong = retry("redis-cli ping", Duration::from_secs(5), || {
        let o = lab.dn(&["exec", "cli", "redis-cli", "ping"]);
        let out = stdout(&o);
        if out.trim() == "PONG" {
            Ok(out)
        } else {
            Err(describe("redis-cli ping", &o))
        }
    });
    assert_eq!(pong.trim(), "PONG");
    let listening = lab.ok(&["exec", "cli", "netstat", "-tln"]);
    assert!(
        listening
            .lines()
            .any(|l| l.contains(":6379") && l.contains("LISTEN")),
        "6379 listening, saw:\n{listening}"
    );
}

/// Removing the joined container while a joiner runs: the joiner keeps running with
/// only loopback (the namespace lives while it is used), and nothing leaks afterwards.
#[test]
fn removing_the_target_leaves_the_joiner_with_loopback() {
    let lab = Lab::new("ctr_rm_target");
    lab.run_d("web1", &["httpd"]);
    lab.run_d(
        "bb",
        &["--net", "container:web1", "busybox", "sleep", "600"],
    );
    lab.ok(&["rm", "-f", "web1"]);
    assert!(lab.docker0_ports().is_empty(), "web1's veth is gone");
    let links = link_names(&lab.ok(&["exec", "bb", "ip", "-o", "link"]));
    assert_eq!(
        links,
        ["lo"],
        "the joiner keeps the namespace, without eth0"
    );
    lab.ok(&["rm", "-f", "bb"]);
    assert!(
        lab.container_namespaces().is_empty(),
        "no namespace left: {:?}",
        lab.namespaces()
    );
    assert!(lab.all_ids().is_empty());
}

/// C24: `network ls` lists bridge, host and none (driver null), scope local, in Docker's layout.
#[test]
fn network_ls_lists_the_predefined_networks() {
    let lab = Lab::new("net_ls");
    // `network ls` only reads: it does not build a lab that does not exist.
    lab.ok(&["lab", "up"]);
    let out = lab.ok(&["network", "ls"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0], "NETWORK ID     NAME      DRIVER    SCOPE",
        "Docker's header"
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
            ("none", "null", "local")
        ]
    );
    assert!(rows.iter().all(|r| r[0].len() == 12), "12-hex ids: {out}");
    assert_eq!(lab.ok(&["network", "ls", "-q"]).lines().count(), 3);
}

/// Docker's refusals for container mode, each leaving nothing behind.
#[test]
fn container_mode_refusals_leave_nothing_behind() {
    let lab = Lab::new("ctr_refusals");
    lab.run_d("web1", &["httpd"]);
    lab.run_d("stopped", &["busybox", "true"]);
    retry("the short container exits", Duration::from_secs(5), || {
        let ps = lab.ok(&["ps", "-a"]);
        if ps.contains("Exited (0)") {
            Ok(())
        } else {
            Err(ps)
        }
    });
    let ports = lab.docker0_ports();
    let namespaces = lab.namespaces();
    let ids = lab.all_ids();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--hostname", "x"],
            "conflicting options: hostname and the network mode",
        ),
        (
            &["--link", "web1:w"],
            "conflicting options: container type network can't be used with links",
        ),
        (
            &["--dns", "1.1.1.1"],
            "conflicting options: dns and the network mode",
        ),
        (
            &["--add-host", "a:1.2.3.4"],
            "conflicting options: custom host-to-IP mapping and the network mode",
        ),
        (
            &["-p", "80:80"],
            "conflicting options: port publishing and the container type network mode",
        ),
        (
            &["-P"],
            "conflicting options: port publishing and the container type network mode",
        ),
        (
            &["--expose", "80"],
            "conflicting options: port exposing and the container type network mode",
        ),
        (
            &["--mac-address", "02:42:ac:11:00:09"],
            "conflicting options: mac-address and the network mode",
        ),
    ];
    for (flags, want) in cases {
        let mut args = vec!["run", "--net", "container:web1"];
        args.extend_from_slice(flags);
        args.push("busybox");
        let o = lab.fails(&args);
        assert_eq!(
            o.status.code(),
            Some(125),
            "{}",
            describe(&args.join(" "), &o)
        );
        let err = stderr(&o);
        assert!(
            err.contains(want) && err.lines().count() == 1,
            "expected one line with {want:?}, saw:\n{err}"
        );
    }
    let o = lab.fails(&["run", "--net", "container:nosuch", "busybox"]);
    assert!(
        stderr(&o).contains("No such container: nosuch"),
        "{}",
        stderr(&o)
    );
    let o = lab.fails(&["run", "--net", "container:", "busybox"]);
    assert!(
        stderr(&o).contains("invalid container format container:<name|id>"),
        "{}",
        stderr(&o)
    );
    let o = lab.fails(&["run", "--net", "container:stopped", "busybox"]);
    assert!(
        stderr(&o).contains(
            "cannot join network namespace of a non running container: container stopped is exited"
        ),
        "{}",
        stderr(&o)
    );
    let o = lab.fails(&["run", "--net", "host", "--link", "web1", "busybox"]);
    assert!(
        stderr(&o).contains("host type networking can't be used with links"),
        "{}",
        stderr(&o)
    );
    assert_eq!(lab.docker0_ports(), ports, "no veth was left behind");
    assert_eq!(lab.namespaces(), namespaces, "no namespace was left behind");
    assert_eq!(lab.all_ids(), ids, "no container record was left behind");
}

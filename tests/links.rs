//! Legacy `--link` with real traffic: names through the linking container's /etc/hosts,
//! one direction only, Docker 27's link environment variables, HostConfig.Links,
//! Docker's refusals (nothing left half-built), the ACCEPT pair that opens the linked
//! container's exposed port when icc=false, and the alias-only link on a user-defined
//! network.

mod common;

use common::*;
use std::time::Duration;

/// How long a ping or a Tomcat that has just started may take to answer.
const WAIT: Duration = Duration::from_secs(10);

/// tomcat02 (with `-e X=y`) and tomcat03 `--link LINK`; their full ids.
fn linked_pair(lab: &Lab, link: &str) -> (String, String) {
    let child = lab.ok(&["run", "-d", "--name", "tomcat02", "-e", "X=y", "tomcat"]);
    let parent = lab.ok(&["run", "-d", "--name", "tomcat03", "--link", link, "tomcat"]);
    (child.trim().to_string(), parent.trim().to_string())
}

/// `exec NAME cat /etc/hosts`.
fn hosts_of(lab: &Lab, name: &str) -> String {
    lab.ok(&["exec", name, "cat", "/etc/hosts"])
}

/// The container's environment, one `K=V` per entry.
fn env_of(lab: &Lab, name: &str) -> Vec<String> {
    lab.ok(&["exec", name, "env"])
        .lines()
        .map(String::from)
        .collect()
}

/// `exec FROM ARGV...` until it succeeds (within [`WAIT`]); its stdout.
fn eventually(lab: &Lab, from: &str, argv: &[&str]) -> String {
    let mut args = vec!["exec", from];
    args.extend_from_slice(argv);
    match eventually_ok(WAIT, || lab.dn(&args)) {
        Ok(o) => stdout(&o),
        Err(o) => panic!(
            "expected success within {WAIT:?}: {}",
            describe(&args.join(" "), &o)
        ),
    }
}

/// The host's filter rules (`iptables -S`).
fn filter_rules(lab: &Lab) -> String {
    exec_in_ok(&lab.host(), &["iptables", "-S"])
}

/// The legacy link pair for PARENT → CHILD:PORT/tcp on docker0, as `iptables -S` shows it.
fn link_pair(parent: &str, child: &str, port: u16) -> [String; 2] {
    let common = "-i docker0 -o docker0 -p tcp -m tcp";
    [
        format!("-A DOCKER -s {parent}/32 -d {child}/32 {common} --dport {port} -j ACCEPT"),
        format!("-A DOCKER -s {child}/32 -d {parent}/32 {common} --sport {port} -j ACCEPT"),
    ]
}

/// C09: `--link tomcat02` writes `IP\ttomcat02 <short id>` into tomcat03's /etc/hosts
/// (before its own line), and tomcat03 pings and fetches tomcat02 by that name.
#[test]
fn c09_link_gives_a_name_to_ping_and_fetch() {
    let lab = Lab::new("c09_link");
    let (child, _) = linked_pair(&lab, "tomcat02");
    let ip = lab.ip_of("tomcat02");
    assert_eq!(ip, "172.17.0.2", "expected the first container at .2");
    let hosts = hosts_of(&lab, "tomcat03");
    let line = format!("172.17.0.2\ttomcat02 {}", &child[..12]);
    assert!(
        hosts.lines().any(|l| l == line),
        "expected the line {line:?} in tomcat03's /etc/hosts:\n{hosts}"
    );
    let own = format!("{}\t", lab.ip_of("tomcat03"));
    let (link_at, own_at) = (
        hosts.lines().position(|l| l == line),
        hosts.lines().position(|l| l.starts_with(&own)),
    );
    assert!(
        link_at < own_at && own_at.is_some(),
        "expected the link line before tomcat03's own line:\n{hosts}"
    );
    let out = eventually(&lab, "tomcat03", &["ping", "-c1", "-W1", "tomcat02"]);
    assert!(
        out.contains("from tomcat02 (172.17.0.2)") || out.contains("bytes from 172.17.0.2"),
        "expected replies from 172.17.0.2 for `ping tomcat02`:\n{out}"
    );
    // busybox's ping has its own resolver; it reads /etc/hosts too.
    let out = eventually(
        &lab,
        "tomcat03",
        &["busybox", "ping", "-c1", "-W1", "tomcat02"],
    );
    assert!(out.contains("bytes from 172.17.0.2"), "{out}");
    let page = eventually(
        &lab,
        "tomcat03",
        &["timeout", "5", "wget", "-q", "-O", "-", "tomcat02:8080"],
    );
    assert!(
        page.contains("Apache Tomcat"),
        "expected Tomcat's page from tomcat02:8080, saw:\n{page}"
    );
}

/// C09 with an alias: `--link tomcat02:db` gives `IP\tdb <short id> tomcat02`, and `db`
/// answers.
#[test]
fn c09_link_alias_names_the_target() {
    let lab = Lab::new("c09_alias");
    let (child, _) = linked_pair(&lab, "tomcat02:db");
    let hosts = hosts_of(&lab, "tomcat03");
    let line = format!("172.17.0.2\tdb {} tomcat02", &child[..12]);
    assert!(
        hosts.lines().any(|l| l == line),
        "expected the line {line:?} in tomcat03's /etc/hosts:\n{hosts}"
    );
    eventually(&lab, "tomcat03", &["ping", "-c1", "-W1", "db"]);
    let page = eventually(
        &lab,
        "tomcat03",
        &["timeout", "5", "wget", "-q", "-O", "-", "db:8080"],
    );
    assert!(page.contains("Apache Tomcat"), "{page}");
    let v = lab.inspect("tomcat03");
    assert_eq!(
        v["HostConfig"]["Links"],
        serde_json::json!(["/tomcat02:/tomcat03/db"]),
        "expected HostConfig.Links in {}",
        v["HostConfig"]
    );
}

/// C10: the link is one-way: tomcat02's /etc/hosts gains nothing and its ping by name
/// fails with a resolver error, while tomcat02 still reaches tomcat03 by IP.
#[test]
fn c10_link_is_one_directional() {
    let lab = Lab::new("c10_oneway");
    let (child, parent) = linked_pair(&lab, "tomcat02");
    let hosts = hosts_of(&lab, "tomcat02");
    assert!(
        !hosts.contains("tomcat03") && !hosts.contains(&parent[..12]),
        "expected no line for tomcat03 in tomcat02's /etc/hosts:\n{hosts}"
    );
    assert!(
        hosts.contains(&format!("172.17.0.2\t{}", &child[..12])),
        "expected tomcat02's own line:\n{hosts}"
    );
    let o = lab.dn(&[
        "exec", "tomcat02", "busybox", "ping", "-c1", "-W1", "tomcat03",
    ]);
    let text = stdout(&o) + &stderr(&o);
    assert!(
        !o.status.success() && text.contains("bad address 'tomcat03'"),
        "expected busybox's `bad address`: {}",
        describe("exec tomcat02 busybox ping tomcat03", &o)
    );
    // The image's own ping (the host's iputils here) fails in its resolver the same way.
    let o = lab.dn(&["exec", "tomcat02", "ping", "-c1", "-W1", "tomcat03"]);
    let text = stdout(&o) + &stderr(&o);
    assert!(
        !o.status.success()
            && [
                "bad address",
                "Name or service not known",
                "Temporary failure in name resolution"
            ]
            .iter()
            .any(|m| text.contains(m)),
        "expected a name resolution error: {}",
        describe("exec tomcat02 ping tomcat03", &o)
    );
    assert!(
        env_of(&lab, "tomcat02")
            .iter()
            .all(|e| !e.starts_with("TOMCAT03_")),
        "expected no link variables in tomcat02"
    );
    // Not a network barrier: only the name is missing.
    eventually(
        &lab,
        "tomcat02",
        &["ping", "-c1", "-W1", &lab.ip_of("tomcat03")],
    );
}

/// Reference §4 (Docker 27 `ToEnv`): the linking container's environment describes the
/// linked one; the child's own variables come as `ALIAS_ENV_*`, except HOME and PATH.
/// `inspect` records the link in HostConfig.Links.
#[test]
fn link_environment_and_inspect() {
    let lab = Lab::new("link_env");
    linked_pair(&lab, "tomcat02");
    let env = env_of(&lab, "tomcat03");
    let link: Vec<&String> = env.iter().filter(|e| e.starts_with("TOMCAT02_")).collect();
    let mut want = vec![
        "TOMCAT02_ENV_X=y",
        "TOMCAT02_NAME=/tomcat03/tomcat02",
        "TOMCAT02_PORT=tcp://172.17.0.2:8080",
        "TOMCAT02_PORT_8080_TCP=tcp://172.17.0.2:8080",
        "TOMCAT02_PORT_8080_TCP_ADDR=172.17.0.2",
        "TOMCAT02_PORT_8080_TCP_PORT=8080",
        "TOMCAT02_PORT_8080_TCP_PROTO=tcp",
    ];
    want.sort();
    let mut seen: Vec<&str> = link.iter().map(|s| s.as_str()).collect();
    seen.sort();
    assert_eq!(seen, want, "expected exactly these link variables");
    // tomcat03's own HOME and PATH stay its own.
    assert!(env.iter().any(|e| e == "HOME=/root"), "{env:?}");
    assert!(
        env.iter()
            .any(|e| e.starts_with("PATH=") && e.contains("/usr/bin")),
        "{env:?}"
    );
    let v = lab.inspect("tomcat03");
    assert_eq!(
        v["HostConfig"]["Links"],
        serde_json::json!(["/tomcat02:/tomcat03/tomcat02"]),
        "expected HostConfig.Links in {}",
        v["HostConfig"]
    );
    assert!(
        lab.inspect("tomcat02")["HostConfig"]["Links"].is_null(),
        "the linked container records no link"
    );
}

/// What is left of the lab before and after a refused `run`: ids, namespaces, docker0's
/// ports, pending creations.
fn snapshot(lab: &Lab) -> (Vec<String>, Vec<String>, Vec<String>, usize) {
    let pending = std::fs::read_dir(lab.dir().join("pending"))
        .map(|d| d.count())
        .unwrap_or(0);
    (
        lab.all_ids(),
        lab.namespaces(),
        lab.docker0_ports(),
        pending,
    )
}

/// `run --name x1 ARGS... busybox sleep 60` is refused with exit 125 and exactly `msg`,
/// and nothing of x1 is left (the name stays free).
fn refused(lab: &Lab, args: &[&str], msg: &str) {
    let before = snapshot(lab);
    let mut a = vec!["run", "-d", "--name", "x1"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["busybox", "sleep", "60"]);
    let o = lab.dn(&a);
    let what = a.join(" ");
    assert_eq!(o.status.code(), Some(125), "{}", describe(&what, &o));
    let want = format!("Error response from daemon: {msg}");
    assert!(
        stderr(&o).lines().any(|l| l.ends_with(&want)),
        "expected {want:?} on stderr: {}",
        describe(&what, &o)
    );
    assert!(
        stdout(&o).trim().is_empty(),
        "no id is printed: {}",
        stdout(&o)
    );
    assert_eq!(snapshot(lab), before, "`{what}` must leave nothing behind");
    assert!(
        !lab.namespaces().contains(&lab.ctr("x1")),
        "no namespace for x1"
    );
}

/// Docker's refusals of `--link`: an unknown container, a stopped one, host and
/// container network modes. Each exits 125 with Docker's text and builds nothing; the
/// name x1 is still free afterwards.
#[test]
fn link_refusals() {
    let lab = Lab::new("link_refuse");
    lab.run_d("web1", &["busybox", "sleep", "600"]);
    lab.run_d("gone", &["busybox", "sleep", "600"]);
    lab.ok(&["stop", "-t", "0", "gone"]);
    refused(
        &lab,
        &["--link", "nosuch"],
        "could not get container for nosuch: No such container: nosuch",
    );
    refused(
        &lab,
        &["--link", "gone:g"],
        "Cannot link to a non running container: /gone AS /x1/g",
    );
    refused(
        &lab,
        &["--net", "host", "--link", "web1"],
        "conflicting options: host type networking can't be used with links. This would result in undefined behavior",
    );
    refused(
        &lab,
        &["--net", "container:web1", "--link", "web1"],
        "conflicting options: container type network can't be used with links. This would result in undefined behavior",
    );
    lab.run_d("x1", &["--link", "web1", "busybox", "sleep", "600"]);
    let hosts = hosts_of(&lab, "x1");
    assert!(hosts.contains("\tweb1 "), "{hosts}");
}

/// icc=false: containers on docker0 cannot talk, except that `--link` opens the linked
/// container's exposed port (8080) to the linking one with a pair of ACCEPT rules in
/// filter DOCKER; `rm -f` of the linking container takes the pair away.
#[test]
fn icc_false_link_opens_only_the_exposed_port() {
    let lab = Lab::new("link_icc");
    lab.ok(&["lab", "up", "--icc=false"]);
    let rules = filter_rules(&lab);
    assert!(
        rules
            .lines()
            .any(|l| l == "-A FORWARD -i docker0 -o docker0 -j DROP"),
        "expected the icc=false DROP:\n{rules}"
    );
    lab.run_d("b1", &["busybox", "sleep", "600"]);
    lab.run_d("b2", &["busybox", "sleep", "600"]);
    let b2 = lab.ip_of("b2");
    let o = lab.dn(&["exec", "b1", "ping", "-c1", "-W1", &b2]);
    assert!(
        !o.status.success(),
        "expected icc=false to stop b1 → b2: {}",
        describe("exec b1 ping", &o)
    );
    lab.run_d("tomcat02", &["tomcat"]);
    lab.run_d("tomcat03", &["--link", "tomcat02", "tomcat"]);
    let (child, parent) = (lab.ip_of("tomcat02"), lab.ip_of("tomcat03"));
    let rules = filter_rules(&lab);
    for r in link_pair(&parent, &child, 8080) {
        assert!(
            rules.lines().any(|l| l == r),
            "expected {r:?} in iptables -S:\n{rules}"
        );
    }
    let page = eventually(
        &lab,
        "tomcat03",
        &["timeout", "5", "wget", "-q", "-O", "-", "tomcat02:8080"],
    );
    assert!(page.contains("Apache Tomcat"), "{page}");
    // Only the port is open: ICMP still meets the icc=false DROP.
    let o = lab.dn(&["exec", "tomcat03", "ping", "-c1", "-W1", "tomcat02"]);
    assert!(
        !o.status.success(),
        "expected ping to be dropped under icc=false: {}",
        describe("exec tomcat03 ping tomcat02", &o)
    );
    lab.ok(&["rm", "-f", "tomcat03"]);
    let rules = filter_rules(&lab);
    assert!(
        !rules.contains(&format!("-s {parent}/32")) && !rules.contains(&format!("-d {parent}/32")),
        "expected the link pair to go with tomcat03:\n{rules}"
    );
}

/// On a user-defined network `--link c1:db` is only a name for the linking container,
/// answered by the embedded DNS server: no /etc/hosts line, no variables, no rules,
/// nothing in the other direction; the target need not exist (it resolves once it does).
#[test]
fn user_network_link_is_an_alias_for_the_linking_container() {
    let lab = Lab::new("link_usernet");
    lab.ok(&["network", "create", "mynet"]);
    let c1 = lab.run_d("c1", &["--net", "mynet", "busybox", "sleep", "600"]);
    let c2 = lab.run_d(
        "c2",
        &[
            "--net", "mynet", "--link", "c1:db", "busybox", "sleep", "600",
        ],
    );
    // Like Docker, the top-level IPAddress is for the default bridge only.
    let v = lab.inspect("c1");
    let ip1 = v["NetworkSettings"]["Networks"]["mynet"]["IPAddress"]
        .as_str()
        .unwrap_or_else(|| panic!("expected Networks.mynet.IPAddress in {v}"))
        .to_string();
    assert!(
        ip1.starts_with("172.18."),
        "expected mynet's subnet, saw {ip1}"
    );
    let hosts = hosts_of(&lab, "c2");
    assert!(
        // Whole names: c2's own hostname (its id) may begin with "db".
        !hosts
            .lines()
            .any(|l| l.split_whitespace().skip(1).any(|n| n == "db"))
            && !hosts.contains(&c1[..12]),
        "expected no link line in c2's /etc/hosts (the DNS server answers):\n{hosts}"
    );
    let out = eventually(&lab, "c2", &["ping", "-c1", "-W1", "db"]);
    assert!(out.contains(&format!("bytes from {ip1}")), "{out}");
    let other = lab.dn(&["exec", "c1", "nslookup", "db"]);
    assert!(
        !other.status.success() || String::from_utf8_lossy(&other.stdout).contains("NXDOMAIN"),
        "expected `db` unknown to c1 (the alias is c2's own): {}",
        String::from_utf8_lossy(&other.stdout)
    );
    // Whole names, not substrings: c1's own hostname is random hex and may contain "c2".
    let hosts1 = hosts_of(&lab, "c1");
    let names: Vec<&str> = hosts1
        .lines()
        .flat_map(|l| l.split_whitespace().skip(1))
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| *n == "db" || *n == "c2" || *n == &c2[..12]),
        "expected nothing about c2 in c1's /etc/hosts:\n{hosts1}"
    );
    assert!(
        env_of(&lab, "c2").iter().all(|e| !e.starts_with("DB_")),
        "no link variables on a user-defined network"
    );
    assert!(
        !filter_rules(&lab).contains("--dport") && !filter_rules(&lab).contains("--sport"),
        "no link rules on a user-defined network"
    );
    // The target may not exist yet: accepted, and no line for it.
    lab.run_d(
        "c3",
        &[
            "--net", "mynet", "--link", "ghost:g", "busybox", "sleep", "600",
        ],
    );
    let hosts3 = hosts_of(&lab, "c3");
    assert!(
        !hosts3.lines().any(|l| l.contains("\tg ")),
        "expected no line for a missing target:\n{hosts3}"
    );
    // Once the target exists, c3's alias finds it.
    lab.run_d("ghost", &["--net", "mynet", "busybox", "sleep", "600"]);
    let out = eventually(&lab, "c3", &["ping", "-c1", "-W1", "g"]);
    assert!(out.contains("1 packets received"), "{out}");
}

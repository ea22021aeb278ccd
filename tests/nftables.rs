//! `lab up --engine 29 --firewall-backend nftables`: Docker 29's nftables backend. For
//! each scenario of moby's own nftables dumps (integration/network/bridge/nftablesdoc,
//! in tests/data/engines/nft29/) the lab host's `nft list table ip docker-bridges`
//! equals the dump, and after rm / network rm it is the new daemon's again; then the
//! traffic checks of tests/engines.rs pass under nftables.

mod common;

use common::*;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

/// The expected table listing from a data file (the `#` header lines left out).
fn expected(scenario: &str) -> Vec<String> {
    let path = format!(
        "{}/tests/data/engines/nft29/{scenario}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let out: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.trim_end().to_string())
        .collect();
    assert!(!out.is_empty(), "{path} has no listing");
    out
}

/// The lab host's table. Real nft prints `counter packets N bytes M`; Docker's dumps
/// print a plain `counter`, which is what `nft -s` (stateless: no counter values)
/// prints, so the table is listed with `-s`. Trailing whitespace is trimmed.
fn listing(lab: &Lab) -> Vec<String> {
    exec_in_ok(
        &lab.host(),
        &["nft", "-s", "list", "table", "ip", "docker-bridges"],
    )
    .lines()
    .map(|l| l.trim_end().to_string())
    .collect()
}

fn check_listing(scenario: &str) {
    let lab = Lab::new(&format!("nft_{scenario}"));
    build_scenario(
        &lab,
        &["--engine", "29", "--firewall-backend", "nftables"],
        scenario,
    );
    let (seen, want) = (listing(&lab), expected(scenario));
    assert_eq!(
        seen,
        want,
        "{scenario}: `nft list table ip docker-bridges` differs from Docker's\nseen:\n{}\nwant:\n{}",
        seen.join("\n"),
        want.join("\n")
    );
    for c in ["c1", "c2"] {
        lab.dn(&["rm", "-f", c]);
    }
    for n in ["bridge1", "netICC", "netNoICC"] {
        lab.dn(&["network", "rm", n]);
    }
    if !scenario.ends_with("noproxy") {
        let (seen, want) = (listing(&lab), expected("new-daemon"));
        assert_eq!(
            seen,
            want,
            "{scenario}: after rm and network rm the table is the new daemon's again\nseen:\n{}",
            seen.join("\n")
        );
    }
}

macro_rules! listings {
    ($($name:ident: $scenario:literal;)*) => {$(
        #[test]
        fn $name() {
            check_listing($scenario);
        }
    )*};
}

listings! {
    nft_new_daemon: "new-daemon";
    nft_usernet_portmap: "usernet-portmap";
    nft_noproxy: "usernet-portmap-noproxy";
    nft_noicc: "usernet-portmap-noicc";
    nft_loopback: "usernet-portmap-lo";
    nft_internal: "usernet-internal";
}

/// A command in a container that must succeed within WAIT.
fn works(lab: &Lab, args: &[&str], what: &str) {
    let r = eventually_ok(WAIT, || lab.dn(args));
    if let Err(o) = r {
        panic!("expected {what}: {}", describe(&args.join(" "), &o));
    }
}

/// A TCP connection that must not be established (`nc -w 1`).
fn blocked(lab: &Lab, args: &[&str], what: &str) {
    let o = lab.dn(args);
    assert!(
        !o.status.success(),
        "expected {what} to fail: {}",
        describe(&args.join(" "), &o)
    );
}

/// `wget` from a namespace (the world, the host) that must fetch httpd's page.
fn fetch_from(ns: &str, url: &str) {
    let page = retry(&format!("GET {url} from {ns}"), WAIT, || {
        let o = exec_in(ns, &["busybox", "wget", "-qO-", url]);
        if o.status.success() {
            Ok(stdout(&o))
        } else {
            Err(describe("wget", &o))
        }
    });
    assert!(page.contains("It works!"), "{url} from {ns}: {page}");
}

/// The traffic checks of tests/engines.rs under nftables: `-p` from the world and from the host itself,
/// names and icc on a user network, isolation between networks, outbound NAT, an
/// internal network that stays inside; and direct routing to a container's address
/// from the LAN, which 27 lets through to a published port and 28/29 drop in raw.
fn traffic(proxy: &str) {
    let lab = Lab::new(&format!("nfttraffic_{proxy}"));
    lab.ok(&[
        "lab",
        "up",
        "--engine",
        "29",
        "--firewall-backend",
        "nftables",
        "--userland-proxy",
        proxy,
    ]);
    lab.ok(&["network", "create", "--subnet", "192.0.2.0/24", "front"]);
    lab.ok(&["network", "create", "back"]);
    lab.ok(&["network", "create", "--internal", "vault"]);
    lab.run_d("web", &["--network", "front", "-p", "8080:80", "httpd"]);
    lab.run_d("peer", &["--network", "front", "busybox", "sleep", "600"]);
    lab.run_d("other", &["--network", "back", "busybox", "sleep", "600"]);
    lab.run_d("inside", &["--network", "vault", "busybox", "sleep", "600"]);
    let web = lab.inspect("web")["NetworkSettings"]["Networks"]["front"]["IPAddress"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        web.starts_with("192.0.2."),
        "web's address on front: {web:?}"
    );
    // Publishing, from the LAN's far end and from the host itself.
    fetch_from(&lab.world(), "http://198.51.100.2:8080/");
    fetch_from(&lab.host(), "http://127.0.0.1:8080/");
    fetch_from(&lab.host(), "http://198.51.100.2:8080/");
    // Same network: by name (the embedded DNS) and by address.
    works(
        &lab,
        &["exec", "peer", "wget", "-qO-", "http://web/"],
        "peer to fetch web by name on front",
    );
    // A container reaching the published port through the host's address (hairpin).
    works(
        &lab,
        &["exec", "peer", "wget", "-qO-", "http://198.51.100.2:8080/"],
        "peer to reach web's published port through the host address",
    );
    // Isolation between networks, under every layout.
    blocked(
        &lab,
        &["exec", "other", "nc", "-w", "1", &web, "80"],
        "a container on back to reach web on front",
    );
    // Outbound NAT to the lab's internet.
    works(
        &lab,
        &["exec", "other", "wget", "-qO-", "http://203.0.113.10/"],
        "a container on back to reach the internet",
    );
    // An internal network has no way out.
    blocked(
        &lab,
        &["exec", "inside", "nc", "-w", "1", "203.0.113.10", "80"],
        "a container on an internal network to reach the internet",
    );
    // A LAN machine that routes the container subnet to the host: 27 forwards its
    // packets to the published container port (the DOCKER chain's ACCEPT matches);
    // 28 and 29 drop them in raw PREROUTING before any routing.
    exec_in_ok(
        &lab.world(),
        &["ip", "route", "add", "192.0.2.0/24", "via", "198.51.100.2"],
    );
    let direct = exec_in(&lab.world(), &["busybox", "nc", "-w", "1", &web, "80"]);
    assert!(
        !direct.status.success(),
        "Docker 29 with nftables drops packets routed straight to {web}: {}",
        describe("nc", &direct)
    );
    let raw = exec_in_ok(
        &lab.host(),
        &[
            "nft",
            "list",
            "chain",
            "ip",
            "docker-bridges",
            "raw-PREROUTING",
        ],
    );
    assert!(
        raw.contains(&format!("ip daddr {web} iifname != ")) && raw.contains("DROP DIRECT ACCESS"),
        "{raw}"
    );
    // Nothing of Docker's in iptables under nftables, and FORWARD keeps its policy.
    let ipt = exec_in_ok(&lab.host(), &["iptables", "-S"]);
    assert!(!ipt.contains("DOCKER"), "{ipt}");
    assert!(ipt.contains("-P FORWARD ACCEPT"), "{ipt}");
}

#[test]
fn traffic_under_nftables() {
    traffic("true");
}

#[test]
fn traffic_under_nftables_without_the_proxy() {
    traffic("false");
}

/// The backend is the lab's: `lab status`, `info` and `show rules` say so; another
/// backend for an existing lab is refused.
#[test]
fn the_backend_is_shown_and_kept() {
    let lab = Lab::new("nft_shown");
    lab.ok(&[
        "lab",
        "up",
        "--engine",
        "29",
        "--firewall-backend",
        "nftables",
    ]);
    let st = lab.ok(&["lab", "status"]);
    assert!(st.contains("nftables"), "{st}");
    let json: serde_json::Value =
        serde_json::from_str(&lab.ok(&["lab", "status", "--format", "json"])).unwrap();
    assert_eq!(json["firewall_backend"], "nftables", "{json}");
    let info = lab.ok(&["info"]);
    assert!(info.contains(" Firewall Backend: nftables"), "{info}");
    let rules = lab.ok(&["show", "rules"]);
    assert!(rules.contains("table ip docker-bridges"), "{rules}");
    // Flags left out are no conflict; another backend typed is.
    lab.ok(&["lab", "up", "--engine", "29"]);
    let o = lab.fails(&[
        "lab",
        "up",
        "--engine",
        "29",
        "--firewall-backend",
        "iptables",
    ]);
    let e = stderr(&o);
    assert!(
        e.contains("--firewall-backend nftables")
            && e.contains("lab down")
            && e.lines().count() == 1,
        "{e}"
    );
}

/// nftables with an engine that has no such backend is refused in one line, and
/// nothing is built.
#[test]
fn nftables_needs_engine_29() {
    let lab = Lab::new("nft_bad");
    let o = lab.fails(&[
        "lab",
        "up",
        "--engine",
        "27",
        "--firewall-backend",
        "nftables",
    ]);
    let e = stderr(&o);
    assert!(e.contains("--engine 29") && e.lines().count() == 1, "{e}");
    assert!(lab.namespaces().is_empty(), "{:?}", lab.namespaces());
    assert!(!lab.dir().exists());
}

/// Trace follows a published port through `ip docker-bridges` and names the rules as
/// nft prints them; doctor's iptables checks stay quiet, and a bridge taken out of the
/// verdict maps is found.
#[test]
fn trace_and_doctor_under_nftables() {
    let lab = Lab::new("nft_trace");
    lab.ok(&[
        "lab",
        "up",
        "--engine",
        "29",
        "--firewall-backend",
        "nftables",
    ]);
    lab.ok(&[
        "network",
        "create",
        "-o",
        "com.docker.network.bridge.name=bridge1",
        "--subnet",
        "192.0.2.0/24",
        "bridge1",
    ]);
    lab.run_d("c1", &["--network", "bridge1", "-p", "8080:80", "httpd"]);
    fetch_from(&lab.world(), "http://198.51.100.2:8080/");
    let out = lab.ok(&["trace", "world", "host", "--tcp", "8080"]);
    assert!(out.contains("answered"), "{out}");
    assert!(
        out.contains("docker-bridges nat-prerouting-and-output iifname != \"bridge1\" tcp dport 8080 counter dnat to 192.0.2.2:80 comment \"DNAT\""),
        "{out}"
    );
    assert!(
        out.contains("filter-forward-in__bridge1 ip daddr 192.0.2.2 tcp dport 80 counter accept"),
        "{out}"
    );
    // A trace to the container's own address is unreachable from the world, but works.
    lab.dn(&["trace", "world", "c1", "--tcp", "8080"]);
    let doc = lab.ok(&["doctor"]);
    assert!(doc.contains("no problems"), "{doc}");
    exec_in_ok(
        &lab.host(),
        &[
            "nft",
            "delete element ip docker-bridges filter-forward-in-jumps { \"bridge1\" }",
        ],
    );
    let o = lab.dn(&["doctor"]);
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        all.contains("bridge1") && all.contains("docker-bridges"),
        "{all}"
    );
    // Undo still works with the element already gone.
    lab.ok(&["rm", "-f", "c1"]);
    lab.ok(&["network", "rm", "bridge1"]);
    assert_eq!(listing(&lab), expected("new-daemon"));
}

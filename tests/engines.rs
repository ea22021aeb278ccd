//! Issue 15: `lab up --engine 27|28|29` builds each Docker release's iptables layout.
//! For every engine and scenario of Docker's own rule dumps (a new daemon; a user
//! network with `-p 8080:80`; the same without the userland proxy, with icc off, on
//! 127.0.0.1; two internal networks) the lab's `iptables -S` for filter, nat and raw
//! equals the listing in `tests/data/engines/`, which is transcribed from the reference
//! (docker-networking.md §1.2, §1.4, §1.5), never from dockernet's output. Then the same
//! traffic checks pass under each engine: publishing, isolation, outbound NAT, DNS, and
//! what 28 changed (no routing straight to a container's address).

mod common;

use common::*;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

/// The expected listing of one table from a data file (`*filter` ... lines).
fn expected(engine: &str, scenario: &str, table: &str) -> Vec<String> {
    let path = format!(
        "{}/tests/data/engines/{engine}/{scenario}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if let Some(t) = line.strip_prefix('*') {
            current = t.to_string();
        } else if !line.starts_with('#') && !line.trim().is_empty() && current == table {
            out.push(line.to_string());
        }
    }
    assert!(!out.is_empty(), "{path} has no *{table} section");
    out
}

/// The lab host's `iptables -t TABLE -S`, line by line.
fn listing(lab: &Lab, table: &str) -> Vec<String> {
    exec_in_ok(&lab.host(), &["iptables", "-t", table, "-S"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn check_listing(engine: &str, scenario: &str) {
    let lab = Lab::new(&format!("eng{engine}_{scenario}"));
    build_scenario(&lab, &["--engine", engine], scenario);
    for table in ["filter", "nat", "raw"] {
        let want = expected(engine, scenario, table);
        let seen = listing(&lab, table);
        assert_eq!(
            seen,
            want,
            "Docker {engine}, {scenario}: `iptables -t {table} -S` differs from the reference\nseen:\n{}\nwant:\n{}",
            seen.join("\n"),
            want.join("\n")
        );
    }
    // Removing the containers and networks takes every per-port, per-endpoint and
    // per-network rule away again: back to the new daemon's listing.
    for c in ["c1", "c2"] {
        lab.dn(&["rm", "-f", c]);
    }
    for n in ["bridge1", "netICC", "netNoICC"] {
        lab.dn(&["network", "rm", n]);
    }
    if !scenario.ends_with("noproxy") {
        for table in ["filter", "nat", "raw"] {
            assert_eq!(
                listing(&lab, table),
                expected(engine, "new-daemon", table),
                "Docker {engine}, {scenario}: after rm and network rm, {table} is the new daemon's again"
            );
        }
    }
}

macro_rules! listings {
    ($($name:ident: $engine:literal, $scenario:literal;)*) => {$(
        #[test]
        fn $name() {
            check_listing($engine, $scenario);
        }
    )*};
}

listings! {
    d27_new_daemon: "27", "new-daemon";
    d27_usernet_portmap: "27", "usernet-portmap";
    d27_noproxy: "27", "usernet-portmap-noproxy";
    d27_noicc: "27", "usernet-portmap-noicc";
    d27_loopback: "27", "usernet-portmap-lo";
    d27_internal: "27", "usernet-internal";
    d28_new_daemon: "28", "new-daemon";
    d28_usernet_portmap: "28", "usernet-portmap";
    d28_noproxy: "28", "usernet-portmap-noproxy";
    d28_noicc: "28", "usernet-portmap-noicc";
    d28_loopback: "28", "usernet-portmap-lo";
    d28_internal: "28", "usernet-internal";
    d29_new_daemon: "29", "new-daemon";
    d29_usernet_portmap: "29", "usernet-portmap";
    d29_noproxy: "29", "usernet-portmap-noproxy";
    d29_noicc: "29", "usernet-portmap-noicc";
    d29_loopback: "29", "usernet-portmap-lo";
    d29_internal: "29", "usernet-internal";
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

/// The same traffic under each engine: `-p` from the world and from the host itself,
/// names and icc on a user network, isolation between networks, outbound NAT, an
/// internal network that stays inside; and direct routing to a container's address
/// from the LAN, which 27 lets through to a published port and 28/29 drop in raw.
fn traffic(engine: &str, proxy: &str) {
    let lab = Lab::new(&format!("engtraffic{engine}_{proxy}"));
    lab.ok(&["lab", "up", "--engine", engine, "--userland-proxy", proxy]);
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
    let drops = exec_in_ok(&lab.host(), &["iptables", "-t", "raw", "-S", "PREROUTING"]);
    if engine == "27" {
        assert!(
            direct.status.success(),
            "Docker 27 lets a LAN host route to a published container port: {}",
            describe("nc", &direct)
        );
        assert!(!drops.contains("DROP"), "no raw rules under 27: {drops}");
    } else {
        assert!(
            !direct.status.success(),
            "Docker {engine} drops packets routed straight to {web}: {}",
            describe("nc", &direct)
        );
        assert!(
            drops.contains(&format!("-A PREROUTING -d {web}/32 ! -i")),
            "{drops}"
        );
    }
}

#[test]
fn traffic_under_27() {
    traffic("27", "true");
}

#[test]
fn traffic_under_28() {
    traffic("28", "true");
}

#[test]
fn traffic_under_29() {
    traffic("29", "true");
}

#[test]
fn traffic_under_29_without_the_proxy() {
    traffic("29", "false");
}

#[test]
fn traffic_under_28_without_the_proxy() {
    traffic("28", "false");
}

/// The engine is the lab's: `lab status`, `info` and `lab up` say which, and asking an
/// existing lab for another engine is refused with the way out.
#[test]
fn the_engine_is_shown_and_kept() {
    let lab = Lab::new("eng_shown");
    let up = lab.ok(&["lab", "up", "--engine", "28"]);
    assert!(up.contains("Docker 28"), "{up}");
    let st = lab.ok(&["lab", "status"]);
    assert!(st.contains("engine:") && st.contains("Docker 28"), "{st}");
    let json: serde_json::Value =
        serde_json::from_str(&lab.ok(&["lab", "status", "--format", "json"])).unwrap();
    assert_eq!(json["engine"], 28, "{json}");
    let info = lab.ok(&["info"]);
    assert!(
        info.contains(" Rules Layout: Docker 28 (28.0.1–28.5.x)"),
        "{info}"
    );
    let o = lab.fails(&["lab", "up", "--engine", "29"]);
    let e = stderr(&o);
    assert!(
        e.contains("--engine 28") && e.contains("lab down") && e.lines().count() == 1,
        "{e}"
    );
    // Flags left out are not a conflict: a plain `lab up` finds the lab up.
    let again = lab.ok(&["lab", "up"]);
    assert!(again.contains("Docker 28"), "{again}");
    let o = lab.fails(&["lab", "up", "--engine", "26"]);
    assert!(stderr(&o).contains("26"), "{}", stderr(&o));
}

/// `doctor` knows each engine's chains: under 29 a missing DOCKER-CT rule is found, the
/// fix it prints appends it to DOCKER-CT again, and replies flow once more; a healthy
/// 28 or 29 lab has no finding at all.
#[test]
fn doctor_reads_the_engines_chains() {
    let lab = Lab::new("eng_doctor");
    lab.ok(&["lab", "up", "--engine", "29"]);
    lab.run_d("web", &["-p", "8080:80", "httpd"]);
    fetch_from(&lab.world(), "http://198.51.100.2:8080/");
    let findings = |lab: &Lab| {
        let doc: serde_json::Value =
            serde_json::from_str(&stdout(&lab.dn(&["doctor", "--format", "json"]))).unwrap();
        doc.as_array()
            .map(|a| {
                a.iter()
                    .map(|f| f["id"].as_str().unwrap_or("").to_string())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert!(
        findings(&lab).is_empty(),
        "a healthy 29 lab: {:?}",
        findings(&lab)
    );
    let rule = "-o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT";
    let mut del = vec!["host", "--", "iptables", "-D", "DOCKER-CT"];
    del.extend(rule.split(' '));
    lab.ok(&del);
    assert_eq!(findings(&lab), ["forward-accept-missing"]);
    let text = stdout(&lab.dn(&["doctor"]));
    let fix = format!("iptables -A DOCKER-CT {rule}");
    assert!(text.contains(&fix), "{text}");
    let mut add = vec!["host", "--", "iptables", "-A", "DOCKER-CT"];
    add.extend(rule.split(' '));
    lab.ok(&add);
    assert!(findings(&lab).is_empty());
    fetch_from(&lab.world(), "http://198.51.100.2:8080/");
}

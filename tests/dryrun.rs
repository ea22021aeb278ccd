//! `--dry-run` changes nothing, for every command that changes the lab: namespaces,
//! links, addresses, routes and rules of every lab namespace, the lab's files and its
//! processes are the same after the dry run, which printed its steps and exited as the
//! real command would (success, or the same refusal); the containers still answer.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Everything a dry run may not change, as comparable text sections.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Footprint(BTreeMap<String, Vec<String>>);

/// Every entry under `dir` (relative path and what it is: a directory, a symlink and its
/// target, or a file and its content), but the top-level lock file.
fn files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap_or(&p).display().to_string();
            if rel == "lock" {
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                out.push(format!("{rel}/"));
                todo.push(p);
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&p).unwrap_or_default();
                out.push(format!("{rel} -> {}", target.display()));
            } else {
                // host.uts is a namespace bind mount: it cannot be read, only seen.
                let content = match std::fs::read(&p) {
                    Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                    Err(e) => format!("<unreadable: {:?}>", e.kind()),
                };
                out.push(format!("{rel}: {content}"));
            }
        }
    }
    out.sort();
    out
}

/// The lab as the kernel and the file system hold it.
fn footprint(lab: &Lab) -> Footprint {
    let mut m = BTreeMap::new();
    let namespaces = lab.namespaces();
    for ns in &namespaces {
        let links = ip(ns, &["-o", "link"]).lines().map(link_line).collect();
        m.insert(format!("{ns}: ip -o link"), links);
        // IPv6 link-local addresses come and go with carrier, and DAD ends on its own:
        // the kernel's doing, never a step of ours.
        let addrs = ip(ns, &["-o", "addr"])
            .lines()
            .filter(|l| !l.contains("inet6 fe80::"))
            .map(|l| l.replace(" tentative", ""))
            .collect();
        m.insert(format!("{ns}: ip -o addr"), addrs);
        m.insert(format!("{ns}: ip route"), lines(&ip(ns, &["route"])));
    }
    m.insert("netns".into(), namespaces);
    m.insert("host: iptables-save".into(), iptables_rules(&lab.host()));
    m.insert("files".into(), files(&lab.dir()));
    let mut pids: Vec<String> = lab
        .processes()
        .into_iter()
        .map(|(pid, cmdline)| format!("{pid} {cmdline}"))
        .collect();
    pids.sort();
    m.insert("processes".into(), pids);
    Footprint(m)
}

/// An `ip -o link` line without what the kernel changes by itself a moment after a
/// link appears (carrier and operational state); the admin `UP` flag stays.
fn link_line(l: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut words = l.split_whitespace();
    while let Some(w) = words.next() {
        if w == "state" {
            words.next();
            continue;
        }
        if w.starts_with('<') {
            let flags: Vec<&str> = w
                .trim_matches(|c| c == '<' || c == '>')
                .split(',')
                .filter(|f| !matches!(*f, "LOWER_UP" | "NO-CARRIER" | "M-DOWN"))
                .collect();
            out.push(format!("<{}>", flags.join(",")));
            continue;
        }
        out.push(w.to_string());
    }
    out.join(" ")
}

/// Footprints until two in a row agree (links, addresses and processes settle a moment
/// after a container starts or stops): the baseline a dry run is compared with.
fn settled(lab: &Lab) -> Footprint {
    let mut last = footprint(lab);
    for _ in 0..30 {
        std::thread::sleep(Duration::from_millis(100));
        let now = footprint(lab);
        if now == last {
            return now;
        }
        last = now;
    }
    panic!("expected the lab to settle within 3 s; still changing:\n{last:?}");
}

/// The lines of a command's output.
fn lines(s: &str) -> Vec<String> {
    s.lines().map(String::from).collect()
}

/// What differs between two footprints, section by section (for the failure message).
fn diff(before: &Footprint, after: &Footprint) -> String {
    let mut out = String::new();
    let keys: std::collections::BTreeSet<&String> = before.0.keys().chain(after.0.keys()).collect();
    let empty = Vec::new();
    for k in keys {
        let (b, a) = (
            before.0.get(k).unwrap_or(&empty),
            after.0.get(k).unwrap_or(&empty),
        );
        if a == b {
            continue;
        }
        out.push_str(&format!("## {k}\n"));
        for l in b.iter().filter(|l| !a.contains(l)) {
            out.push_str(&format!("- {l}\n"));
        }
        for l in a.iter().filter(|l| !b.contains(l)) {
            out.push_str(&format!("+ {l}\n"));
        }
    }
    out
}

/// The lab of every test but the fresh-lab one: `mynet`; `c1` (httpd, `-p 8080:80`) on
/// the default bridge; `c2` on mynet; `c3` stopped.
fn build(test: &str) -> Lab {
    let lab = Lab::new(test);
    lab.ok(&["network", "create", "mynet"]);
    lab.run_d("c1", &["-p", "8080:80", "httpd"]);
    lab.run_d("c2", &["--net", "mynet", "busybox", "sleep", "600"]);
    lab.run_d("c3", &["busybox", "sleep", "600"]);
    lab.ok(&["stop", "-t", "1", "c3"]);
    assert_serving(&lab, "after building the lab");
    settled(&lab);
    lab
}

/// c1's httpd answers from the lab host, c2 answers pings on mynet.
fn assert_serving(lab: &Lab, context: &str) {
    let r = eventually_ok(Duration::from_secs(5), || {
        lab.dn(&["host", "--", "wget", "-qO-", "-T", "2", "172.17.0.2"])
    });
    match r {
        Ok(o) => assert!(
            stdout(&o).contains("It works!"),
            "{context}: expected c1's httpd page, saw {:?}",
            stdout(&o)
        ),
        Err(o) => panic!(
            "{context}: expected c1's httpd to answer: {}",
            describe("host -- wget -qO- 172.17.0.2", &o)
        ),
    }
    // On a user-defined network Docker leaves NetworkSettings.IPAddress empty.
    let ip2 = lab.record("c2")["endpoints"][0]["ip"]
        .as_str()
        .expect("c2's address")
        .to_string();
    let r = eventually_ok(Duration::from_secs(5), || {
        exec_in(&lab.host(), &["ping", "-c1", "-W1", &ip2])
    });
    assert!(
        r.is_ok(),
        "{context}: expected c2 ({ip2}) to answer pings: {}",
        describe("ping", &r.unwrap_err())
    );
}

/// How the real command ends: success, or a refusal whose `dockernet: ...` line the dry
/// run must print too.
enum Expect {
    Ok,
    Refused(String),
}

/// Run `--dry-run ARGS` and check it changed nothing, ended as `expect` says, and
/// narrated steps (one of them containing `step`, when given).
fn dry(lab: &Lab, args: &[&str], expect: Expect, step: Option<&str>) {
    let what = format!("dockernet --lab {} --dry-run {}", lab.name, args.join(" "));
    let before = footprint(lab);
    let mut full = vec!["--dry-run"];
    full.extend_from_slice(args);
    let o = lab.dn(&full);
    let after = footprint(lab);
    assert!(
        after == before,
        "`{what}` changed the lab:\n{}\n{}",
        diff(&before, &after),
        describe(&what, &o)
    );
    let err = stderr(&o);
    match &expect {
        Expect::Ok => assert!(
            o.status.success(),
            "expected `{what}` to succeed: {}",
            describe(&what, &o)
        ),
        Expect::Refused(line) => {
            assert_eq!(
                o.status.code(),
                Some(1),
                "expected `{what}` to be refused as the real command is: {}",
                describe(&what, &o)
            );
            assert!(
                err.lines().any(|l| l == line),
                "expected `{what}` to print the real command's refusal {line:?}: {}",
                describe(&what, &o)
            );
        }
    }
    for l in err.lines() {
        assert!(
            l.starts_with("  $ ") || l.starts_with("  # ") || l.starts_with("dockernet: "),
            "expected only narration (and the refusal) on stderr of `{what}`, saw {l:?}:\n{err}"
        );
    }
    if let Some(step) = step {
        assert!(
            err.lines()
                .any(|l| (l.starts_with("  $ ") || l.starts_with("  # ")) && l.contains(step)),
            "expected `{what}` to narrate a step with {step:?}: {}",
            describe(&what, &o)
        );
    }
    assert_serving(lab, &format!("after `{what}`"));
}

/// The refusal line of a real command that must fail (and change nothing).
fn real_refusal(lab: &Lab, args: &[&str]) -> String {
    let before = footprint(lab);
    let o = lab.fails(args);
    let after = footprint(lab);
    assert!(
        after == before,
        "the refused `{}` changed the lab:\n{}",
        args.join(" "),
        diff(&before, &after)
    );
    stderr(&o)
        .lines()
        .find(|l| l.starts_with("dockernet: "))
        .unwrap_or_else(|| {
            panic!(
                "expected a `dockernet: ` refusal: {}",
                describe(&args.join(" "), &o)
            )
        })
        .to_string()
}

/// The bridge of a network, from its record.
fn bridge_of(lab: &Lab, net: &str) -> String {
    lab.network(net)["bridge"]
        .as_str()
        .unwrap_or_else(|| panic!("expected a bridge in {net}'s record"))
        .to_string()
}

/// Container commands: `run -d` (default bridge, mynet), `stop`, `start`, `rm -f`, `rm`.
#[test]
fn dry_run_container_commands_change_nothing() {
    let lab = build("dry_ctr");
    let ctr_prefix = format!("ip netns add dn-{}-ctr-", lab.name);
    dry(
        &lab,
        &["run", "-d", "busybox", "sleep", "600"],
        Expect::Ok,
        Some(&ctr_prefix),
    );
    let mynet = bridge_of(&lab, "mynet");
    dry(
        &lab,
        &["run", "-d", "--net", "mynet", "busybox", "sleep", "600"],
        Expect::Ok,
        Some(&format!("master {mynet}")),
    );
    dry(&lab, &["stop", "c1"], Expect::Ok, Some("stop c1"));
    dry(
        &lab,
        &["start", "c3"],
        Expect::Ok,
        Some(&format!("ip netns add {}", lab.ctr("c3"))),
    );
    dry(
        &lab,
        &["rm", "-f", "c1"],
        Expect::Ok,
        Some("--dport 8080 -j DNAT"),
    );
    dry(&lab, &["rm", "c3"], Expect::Ok, Some("remove c3"));
    // A real refusal is given by the dry run too: c1 runs, `rm` without -f refuses.
    let refusal = real_refusal(&lab, &["rm", "c1"]);
    dry(&lab, &["rm", "c1"], Expect::Refused(refusal), None);
}

/// Network commands: `create`, `rm` (refused, then of an unused network), `prune -f`,
/// `connect`, `disconnect`.
#[test]
fn dry_run_network_commands_change_nothing() {
    let lab = build("dry_net");
    dry(
        &lab,
        &["network", "create", "n2"],
        Expect::Ok,
        Some("type bridge"),
    );
    let refusal = real_refusal(&lab, &["network", "rm", "mynet"]);
    assert!(
        refusal.contains("has active endpoints"),
        "expected `network rm mynet` refused for its endpoints, saw {refusal:?}"
    );
    dry(
        &lab,
        &["network", "rm", "mynet"],
        Expect::Refused(refusal),
        None,
    );
    lab.ok(&["network", "create", "n3"]);
    settled(&lab);
    let n3 = bridge_of(&lab, "n3");
    dry(
        &lab,
        &["network", "rm", "n3"],
        Expect::Ok,
        Some(&format!("link del {n3}")),
    );
    dry(
        &lab,
        &["network", "prune", "-f"],
        Expect::Ok,
        Some(&format!("link del {n3}")),
    );
    let mynet = bridge_of(&lab, "mynet");
    dry(
        &lab,
        &["network", "connect", "mynet", "c1"],
        Expect::Ok,
        Some(&format!("master {mynet} up type veth peer name eth1")),
    );
    let veth = lab.record("c2")["endpoints"][0]["veth"]
        .as_str()
        .expect("c2's veth")
        .to_string();
    dry(
        &lab,
        &["network", "disconnect", "mynet", "c2"],
        Expect::Ok,
        Some(&format!("link del {veth}")),
    );
}

/// `lab up` on an existing lab (nothing to do) and `lab down`.
#[test]
fn dry_run_lab_commands_change_nothing() {
    let lab = build("dry_lab");
    dry(&lab, &["lab", "up"], Expect::Ok, None);
    dry(
        &lab,
        &["lab", "down"],
        Expect::Ok,
        Some(&format!("ip netns del {}", lab.host())),
    );
}

/// On a lab that does not exist, `--dry-run lab up`, `run` and `network create` narrate
/// building it and create nothing at all: no directory, no namespace, no process.
#[test]
fn dry_run_on_a_missing_lab_creates_nothing() {
    let lab = Lab::new("dry_fresh");
    for args in [
        &["lab", "up"][..],
        &["run", "-d", "--net", "bridge", "busybox", "true"][..],
        &["network", "create", "x"][..],
    ] {
        let what = format!("--dry-run {}", args.join(" "));
        let mut full = vec!["--dry-run"];
        full.extend_from_slice(args);
        let o = lab.dn(&full);
        assert!(
            o.status.success(),
            "expected success: {}",
            describe(&what, &o)
        );
        assert!(
            stderr(&o).contains(&format!("  $ ip netns add {}", lab.host())),
            "expected `{what}` to narrate building the lab: {}",
            describe(&what, &o)
        );
        let left = lab_leftovers(&lab);
        assert!(
            left.is_empty(),
            "expected `{what}` to create nothing, saw:\n{}",
            left.join("\n")
        );
    }
}

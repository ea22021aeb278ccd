//! Crash recovery of network commands: a `network create` or `network connect` killed
//! with SIGKILL at any point leaves, after the next command, a lab whose kernel objects
//! and records agree — no bridge, veth, rule or address claim without its record, no
//! record without its objects — and `lab down` then removes everything.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Kills per test, spread over 1.5 times an undisturbed run of the command.
const KILLS: u32 = 20;

/// Start `dockernet --lab <lab> ARGS`, SIGKILL it after `delay`, reap it.
fn kill_after(lab: &Lab, args: &[&str], delay: Duration) {
    let mut c = lab.command(args);
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = c.spawn().expect("start dockernet");
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

/// How long an undisturbed `args` takes (the fastest of three runs, each undone by
/// `undo`: a busy machine only stretches some of them), times 1.5: the window the kills
/// cover.
fn window(lab: &Lab, args: &[&str], undo: &[&str]) -> Duration {
    let mut fastest = Duration::MAX;
    for _ in 0..3 {
        let t0 = Instant::now();
        lab.ok(args);
        fastest = fastest.min(t0.elapsed());
        lab.ok(undo);
    }
    fastest.mul_f64(1.5)
}

/// The records of the lab's networks.
fn network_records(lab: &Lab) -> Vec<Value> {
    lab.state()["networks"]
        .as_object()
        .map(|m| m.values().cloned().collect())
        .unwrap_or_default()
}

/// Entries of a directory of the lab (none if it does not exist).
fn entries(lab: &Lab, rel: &str) -> BTreeSet<String> {
    std::fs::read_dir(lab.dir().join(rel))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.contains(".tmp"))
        .collect()
}

/// `br-` followed by 12 hex digits, wherever it appears in `text`.
fn bridge_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("br-") {
        let cand = &rest[i..];
        let hex: String = cand[3..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect();
        if hex.len() == 12 {
            out.insert(format!("br-{hex}"));
        }
        rest = &cand[3..];
    }
    out
}

/// Nothing is left half-done: no pending creation survives the command after a kill.
fn assert_no_pending(lab: &Lab, context: &str) {
    let pending = entries(lab, "pending");
    if pending.is_empty() {
        return;
    }
    let detail: Vec<String> = pending
        .iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(lab.dir().join("pending").join(p)).unwrap_or_default();
            let creator = serde_json::from_str::<Value>(&text).ok().and_then(|v| {
                let pid = v["creator"]["pid"].as_i64()?;
                let t = v["creator"]["start_time"].as_u64()?;
                Some((pid, proc_alive(pid, t)))
            });
            format!("{text} (creator alive: {creator:?})")
        })
        .collect();
    panic!(
        "{context}: expected no pending work after the next command, saw:\n{}",
        detail.join("\n")
    );
}

/// Networks agree with the kernel: `network ls` lists exactly the records, all up; the
/// lab host's br-* bridges are exactly the records' bridges; every rule that names a
/// br-* bridge names a recorded one, and every user network has its MASQUERADE rule;
/// network names map to records and back.
fn assert_networks_consistent(lab: &Lab, context: &str) {
    assert_no_pending(lab, context);
    let recs = network_records(lab);
    for r in &recs {
        assert_eq!(
            r["status"], "up",
            "{context}: expected every network record up (the interrupted one rolled back), saw {} {}",
            r["name"], r["status"]
        );
    }
    let rec_ids: BTreeSet<String> = recs
        .iter()
        .map(|r| r["id"].as_str().unwrap_or("").to_string())
        .collect();
    let listed: BTreeSet<String> = lab
        .ok(&["network", "ls", "-q", "--no-trunc"])
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        listed, rec_ids,
        "{context}: expected `network ls` to list exactly the network records"
    );
    let rec_bridges: BTreeSet<String> = recs
        .iter()
        .filter_map(|r| r["bridge"].as_str())
        .filter(|b| b.starts_with("br-"))
        .map(String::from)
        .collect();
    let host_bridges: BTreeSet<String> = links(&lab.host())
        .into_iter()
        .map(|l| l.name)
        .filter(|n| n.starts_with("br-"))
        .collect();
    assert_eq!(
        host_bridges, rec_bridges,
        "{context}: expected the lab host's br-* bridges to be exactly the recorded ones"
    );
    let rules = iptables_rules(&lab.host());
    let named = bridge_names(&rules.join("\n"));
    let stray: Vec<&String> = named.difference(&rec_bridges).collect();
    assert!(
        stray.is_empty(),
        "{context}: expected no rule naming an unrecorded bridge, saw {stray:?} in:\n{}",
        rules.join("\n")
    );
    for r in recs.iter().filter(|r| r["predefined"] == false) {
        let (bridge, subnet) = (
            r["bridge"].as_str().unwrap_or(""),
            r["ipam"][0]["subnet"].as_str().unwrap_or(""),
        );
        let masq = format!("-A POSTROUTING -s {subnet} ! -o {bridge} -j MASQUERADE");
        assert!(
            rules.contains(&masq),
            "{context}: expected network {}'s rule {masq:?}",
            r["name"]
        );
    }
    let names = entries(lab, "netnames");
    let rec_names: BTreeSet<String> = recs
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        names, rec_names,
        "{context}: expected netnames/ to hold exactly the recorded networks' names"
    );
    for n in &names {
        let id = std::fs::read_to_string(lab.dir().join("netnames").join(n)).unwrap_or_default();
        assert!(
            rec_ids.contains(id.trim()),
            "{context}: expected netnames/{n} to name a recorded network, it holds {id:?}"
        );
    }
}

/// F-crash (network create): `network create` killed at any point; the next `network
/// ls` settles it, the name is free again unless the creation completed, and a real
/// create, a container on the network and `network rm` all work.
#[test]
fn kill_9_of_network_create_is_rolled_back() {
    let lab = Lab::new("crash_netcreate");
    lab.ok(&["lab", "up"]);
    let window = window(
        &lab,
        &["network", "create", "timed"],
        &["network", "rm", "timed"],
    );
    lab.ok(&["network", "create", "base"]);
    lab.run_d("onbase", &["--net", "base", "busybox", "sleep", "600"]);
    // How many kills were rolled back [0] or came after the creation completed [1].
    let mut outcomes = [0u32; 2];
    for i in 0..KILLS {
        let name = format!("cn{i}");
        let delay = kill_delay(window, i);
        let context = format!("kill -9 #{i} of `network create {name}` after {delay:?}");
        kill_after(&lab, &["network", "create", &name], delay);
        lab.ok(&["network", "ls"]);
        assert_networks_consistent(&lab, &format!("{context}, then `network ls`"));
        let made = lab.state()["networks"]
            .as_object()
            .is_some_and(|m| m.values().any(|n| n["name"] == name.as_str()));
        outcomes[made as usize] += 1;
        // The name is taken only by a creation that completed.
        let o = lab.dn(&["network", "create", &name]);
        if made {
            assert!(
                !o.status.success() && stderr(&o).contains("already exists"),
                "{context}: expected a second create of a created network refused: {}",
                describe("network create", &o)
            );
        } else {
            assert!(
                o.status.success(),
                "{context}: expected the name free after the rollback: {}",
                describe("network create", &o)
            );
        }
        assert_networks_consistent(&lab, &format!("{context}, then a real create"));
        let gw = lab.network(&name)["ipam"][0]["gateway"]
            .as_str()
            .expect("gateway")
            .to_string();
        let o = lab.dn(&[
            "run", "--rm", "--net", &name, "busybox", "ping", "-c1", "-W2", &gw,
        ]);
        assert!(
            o.status.success(),
            "{context}: expected a container on {name} to ping its gateway {gw}: {}",
            describe("run --rm ping", &o)
        );
        lab.ok(&["network", "rm", &name]);
        assert_networks_consistent(&lab, &format!("{context}, then `network rm`"));
    }
    eprintln!(
        "create: {} kills rolled back, {} after completion (window {window:?})",
        outcomes[0], outcomes[1]
    );
    assert!(
        outcomes[0] > 0,
        "expected some kills to interrupt the creation (window {window:?}), saw none"
    );
    let ip = lab.record("onbase")["endpoints"][0]["ip"]
        .as_str()
        .expect("onbase's address")
        .to_string();
    let r = eventually_ok(Duration::from_secs(5), || {
        exec_in(&lab.host(), &["ping", "-c1", "-W1", &ip])
    });
    assert!(
        r.is_ok(),
        "expected the container on the untouched network to answer: {}",
        describe("ping", &r.unwrap_err())
    );
    lab.ok(&["lab", "down"]);
    let left = lab_leftovers(&lab);
    assert!(
        left.is_empty(),
        "expected nothing of the lab after lab down, saw:\n{}",
        left.join("\n")
    );
}

/// The running containers' records, by name.
fn running_records(lab: &Lab) -> Vec<Value> {
    lab.state()["containers"]
        .as_object()
        .map(|m| {
            m.values()
                .filter(|c| c["status"] == "running")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Containers agree with the kernel: each running container has exactly the interfaces
/// its record lists (and `inspect` the same networks); the lab host's veths are exactly
/// the recorded ones, each on its network's bridge; each network's claimed addresses
/// and members are exactly those of live endpoints.
fn assert_endpoints_consistent(lab: &Lab, context: &str) {
    assert_no_pending(lab, context);
    let recs = running_records(lab);
    let mut want_veths: BTreeSet<(String, String)> = BTreeSet::new();
    for c in &recs {
        let name = c["name"].as_str().unwrap_or("").to_string();
        let eps = c["endpoints"].as_array().cloned().unwrap_or_default();
        let want: BTreeSet<String> = eps
            .iter()
            .filter_map(|e| e["ifname"].as_str().map(String::from))
            .collect();
        let have: BTreeSet<String> = links(&lab.ctr(&name))
            .into_iter()
            .map(|l| l.name)
            .filter(|n| n != "lo")
            .collect();
        assert_eq!(
            have, want,
            "{context}: expected {name}'s interfaces to be those of its record"
        );
        let attached: BTreeSet<String> = c["attachments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["network"].as_str().map(String::from))
            .collect();
        let inspected: BTreeSet<String> = lab.inspect(&name)["NetworkSettings"]["Networks"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(
            inspected, attached,
            "{context}: expected `inspect {name}` to show the recorded networks"
        );
        for e in &eps {
            if let (Some(v), Some(b)) = (e["veth"].as_str(), e["bridge"].as_str()) {
                want_veths.insert((v.to_string(), b.to_string()));
            }
        }
    }
    let have_veths: BTreeSet<(String, String)> = links(&lab.host())
        .into_iter()
        .filter(|l| l.name.starts_with("veth"))
        .map(|l| (l.name.clone(), l.master().unwrap_or_default()))
        .collect();
    assert_eq!(
        have_veths, want_veths,
        "{context}: expected the lab host's veths (and their bridges) to be exactly the recorded ones"
    );
    for n in network_records(lab) {
        let id = n["id"].as_str().unwrap_or("");
        let on_it: Vec<(&Value, &Value)> = recs
            .iter()
            .flat_map(|c| {
                c["endpoints"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|e| e["network_id"] == id)
                    .map(move |e| (c, e))
            })
            .collect();
        let want_ips: BTreeSet<String> = on_it
            .iter()
            .filter_map(|(_, e)| e["ip"].as_str().map(String::from))
            .collect();
        let have_ips = entries(lab, &format!("networks/{id}/ips"));
        assert_eq!(
            have_ips, want_ips,
            "{context}: expected network {}'s claimed addresses to be exactly its live endpoints'",
            n["name"]
        );
        let want_members: BTreeSet<String> = on_it
            .iter()
            .filter_map(|(c, _)| c["id"].as_str().map(String::from))
            .collect();
        let have_members = entries(lab, &format!("networks/{id}/members"));
        assert_eq!(
            have_members, want_members,
            "{context}: expected network {}'s members to be exactly the containers on it",
            n["name"]
        );
    }
}

/// True if `inspect probe` shows it on `net`.
fn on_network(lab: &Lab, ctr: &str, net: &str) -> bool {
    lab.inspect(ctr)["NetworkSettings"]["Networks"]
        .get(net)
        .is_some()
}

/// `probe` reaches `peer` over cnet (its eth1).
fn assert_probe_reaches_peer(lab: &Lab, peer_ip: &str, context: &str) {
    let r = eventually_ok(Duration::from_secs(5), || {
        lab.dn(&["exec", "probe", "ping", "-c1", "-W1", peer_ip])
    });
    assert!(
        r.is_ok(),
        "{context}: expected probe to ping peer ({peer_ip}) over cnet: {}",
        describe("exec probe ping", &r.unwrap_err())
    );
}

/// F-crash (network connect): `network connect cnet probe` killed at any point; after
/// the next `ps -a` probe has eth1 exactly when inspect shows cnet, no veth or address
/// claim is left without its endpoint; a real connect then works (same address as
/// undisturbed) and disconnect removes it.
#[test]
fn kill_9_of_network_connect_is_rolled_back() {
    let lab = Lab::new("crash_connect");
    lab.ok(&["network", "create", "cnet"]);
    lab.run_d("probe", &["busybox", "sleep", "600"]);
    lab.run_d("peer", &["--net", "cnet", "busybox", "sleep", "600"]);
    let peer_ip = lab.record("peer")["endpoints"][0]["ip"]
        .as_str()
        .expect("peer's address")
        .to_string();
    let window = window(
        &lab,
        &["network", "connect", "cnet", "probe"],
        &["network", "disconnect", "cnet", "probe"],
    );
    lab.ok(&["network", "connect", "cnet", "probe"]);
    let probe_ip = lab.inspect("probe")["NetworkSettings"]["Networks"]["cnet"]["IPAddress"]
        .as_str()
        .expect("probe's cnet address")
        .to_string();
    assert_probe_reaches_peer(&lab, &peer_ip, "undisturbed connect");
    lab.ok(&["network", "disconnect", "cnet", "probe"]);
    assert_endpoints_consistent(&lab, "after an undisturbed connect and disconnect");
    // How many kills were rolled back [0] or came after the connect completed [1].
    let mut outcomes = [0u32; 2];
    for i in 0..KILLS {
        let delay = kill_delay(window, i);
        let context = format!("kill -9 #{i} of `network connect cnet probe` after {delay:?}");
        kill_after(&lab, &["network", "connect", "cnet", "probe"], delay);
        lab.ok(&["ps", "-a"]);
        assert_endpoints_consistent(&lab, &format!("{context}, then `ps -a`"));
        let survived = on_network(&lab, "probe", "cnet");
        outcomes[survived as usize] += 1;
        if !survived {
            // The next mutating command: the interrupted connect, for real.
            lab.ok(&["network", "connect", "cnet", "probe"]);
            assert_endpoints_consistent(&lab, &format!("{context}, then a real connect"));
        }
        let ip = lab.inspect("probe")["NetworkSettings"]["Networks"]["cnet"]["IPAddress"]
            .as_str()
            .unwrap_or("")
            .to_string();
        assert_eq!(
            ip, probe_ip,
            "{context}: expected probe to get cnet's first free address again (no stale claim)"
        );
        assert_probe_reaches_peer(&lab, &peer_ip, &context);
        lab.ok(&["network", "disconnect", "cnet", "probe"]);
        assert_endpoints_consistent(&lab, &format!("{context}, then disconnect"));
    }
    eprintln!(
        "connect: {} kills rolled back, {} after completion (window {window:?})",
        outcomes[0], outcomes[1]
    );
    assert!(
        outcomes[0] > 0,
        "expected some kills to interrupt the connect (window {window:?}), saw none"
    );
    lab.ok(&["lab", "down"]);
    let left = lab_leftovers(&lab);
    assert!(
        left.is_empty(),
        "expected nothing of the lab after lab down, saw:\n{}",
        left.join("\n")
    );
}

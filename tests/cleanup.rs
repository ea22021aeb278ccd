//! Leaving nothing behind: `lab down`, `rm`, crash recovery after `kill -9`, and the
//! machine's own (root) network namespace untouched by a whole scenario.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Inode of a namespace file (`/run/netns/X` or `/proc/PID/ns/net`).
fn ns_inode(path: &str) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.ino())
}

/// Assert that nothing of the lab is left: namespaces, mounts, processes, files.
fn assert_lab_gone(lab: &Lab, tracked: &[(i64, u64)]) {
    assert!(
        lab.namespaces().is_empty(),
        "expected no dn-{}-* namespace, saw {:?}",
        lab.name,
        lab.namespaces()
    );
    let dir = format!("{}", lab.dir().display());
    let mounts: Vec<String> = mounts_mentioning(&format!("{dir}/"))
        .into_iter()
        .chain(mounts_mentioning(&format!("/run/netns/dn-{}-", lab.name)))
        .collect();
    assert!(
        mounts.is_empty(),
        "expected no mount of the lab left, saw:\n{}",
        mounts.join("\n")
    );
    for (pid, t) in tracked {
        assert!(
            !proc_alive(*pid, *t),
            "expected tracked process {pid} gone, it still runs: {:?}",
            std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .unwrap_or_default()
                .replace('\0', " ")
        );
    }
    let left = lab.processes();
    assert!(
        left.is_empty(),
        "expected no process mentioning {dir}/, saw {left:?}"
    );
    assert!(!lab.dir().exists(), "expected {dir} removed");
}

/// F23 (hermetic lab): `lab down` removes every namespace, mount, process and file of the
/// lab (running, stopped and server containers included) and is idempotent.
#[test]
fn f23_lab_down_leaves_nothing() {
    let lab = Lab::new("f23_down");
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    lab.run_d("web", &["httpd"]);
    lab.run_d("st", &["busybox", "sleep", "600"]);
    lab.ok(&["stop", "-t", "1", "st"]);
    let tracked = lab.tracked_processes();
    assert_eq!(
        tracked.len(),
        6,
        "expected the world's web and DNS servers + 2×(shim, init) tracked, saw {tracked:?}"
    );
    for (pid, t) in &tracked {
        assert!(
            proc_alive(*pid, *t),
            "expected tracked process {pid} alive before lab down"
        );
    }
    assert!(
        !lab.processes().is_empty(),
        "expected to see the lab's processes before lab down"
    );
    assert!(
        !mounts_mentioning(&format!("/run/netns/dn-{}-", lab.name)).is_empty(),
        "expected namespace mounts before lab down"
    );
    let out = lab.ok(&["lab", "down"]);
    assert!(
        out.contains("removed"),
        "expected `lab {} removed`, saw {out:?}",
        lab.name
    );
    assert_lab_gone(&lab, &tracked);
    let again = lab.ok(&["lab", "down"]);
    assert!(
        again.contains("nothing to remove"),
        "expected a second lab down to find nothing, saw {again:?}"
    );
}

/// C23 (and its processes): `rm -f` removes the container's veth, namespace, processes and
/// files, and leaves its neighbour working.
#[test]
fn c23_rm_removes_veth_netns_processes_and_files() {
    let lab = Lab::new("c23_rm");
    let id = lab.run_d("c1", &["busybox", "sleep", "600"]);
    lab.run_d("c2", &["busybox", "sleep", "600"]);
    let rec = lab.record("c1");
    let veth = rec["endpoints"][0]["veth"]
        .as_str()
        .expect("veth")
        .to_string();
    let procs: Vec<(i64, u64)> = ["shim", "init"]
        .iter()
        .map(|k| {
            (
                rec[k]["pid"].as_i64().expect("pid"),
                rec[k]["start_time"].as_u64().expect("start"),
            )
        })
        .collect();
    lab.ok(&["rm", "-f", "c1"]);
    assert!(
        !lab.docker0_ports().contains(&veth),
        "expected {veth} gone, saw {:?}",
        lab.docker0_ports()
    );
    assert!(
        !lab.namespaces().contains(&lab.ctr("c1")),
        "expected {} gone",
        lab.ctr("c1")
    );
    for (pid, t) in procs {
        assert!(
            !proc_alive(pid, t),
            "expected c1's process {pid} gone after rm -f"
        );
    }
    assert!(
        !lab.dir().join("containers").join(&id).exists(),
        "expected c1's files removed"
    );
    assert!(
        lab.ok(&["ps", "-a"]).lines().all(|l| !l.ends_with("c1")),
        "expected no record of c1"
    );
    let r = eventually_ok(Duration::from_secs(5), || {
        exec_in(&lab.host(), &["ping", "-c1", "-W1", "172.17.0.3"])
    });
    assert!(
        r.is_ok(),
        "expected c2 still reachable: {}",
        describe("ping", &r.unwrap_err())
    );
}

/// The lab is consistent: every container namespace has a running record and every
/// running record its namespace; docker0's ports are exactly the recorded veths; every
/// process of the lab lives in a recorded namespace (a container's, the world's, or the
/// host's for its init and the embedded DNS server, which lives there as dockerd does).
fn assert_consistent(lab: &Lab, context: &str) {
    let st = lab.state();
    let recs: Vec<&serde_json::Value> = st["containers"]
        .as_object()
        .map(|m| m.values().collect())
        .unwrap_or_default();
    let running: Vec<&&serde_json::Value> =
        recs.iter().filter(|c| c["status"] == "running").collect();
    let want_ns: BTreeSet<String> = running
        .iter()
        .map(|c| c["netns"].as_str().unwrap_or("").to_string())
        .collect();
    let have_ns: BTreeSet<String> = lab.container_namespaces().into_iter().collect();
    assert_eq!(
        have_ns, want_ns,
        "{context}: expected the container namespaces to be those of running records"
    );
    let want_veths: BTreeSet<String> = running
        .iter()
        .flat_map(|c| c["endpoints"].as_array().cloned().unwrap_or_default())
        .map(|e| e["veth"].as_str().unwrap_or("").to_string())
        .collect();
    let have_veths: BTreeSet<String> = lab.docker0_ports().into_iter().collect();
    assert_eq!(
        have_veths, want_veths,
        "{context}: expected docker0's ports to be the recorded veths"
    );
    let mut inodes: BTreeSet<u64> = want_ns
        .iter()
        .filter_map(|n| ns_inode(&format!("/run/netns/{n}")))
        .collect();
    inodes.extend(ns_inode(&format!("/run/netns/{}", lab.world())));
    let host = ns_inode(&format!("/run/netns/{}", lab.host()));
    for (pid, cmdline) in lab.processes() {
        if cmdline.starts_with("dockernet-dns ") || cmdline.starts_with("init __host_init ") {
            assert_eq!(
                ns_inode(&format!("/proc/{pid}/ns/net")),
                host,
                "{context}: expected {cmdline} in the host's namespace"
            );
            continue;
        }
        let Some(ino) = ns_inode(&format!("/proc/{pid}/ns/net")) else {
            continue;
        };
        assert!(
            inodes.contains(&ino),
            "{context}: expected every lab process in a recorded namespace; {pid} ({cmdline}) is in net:[{ino}], which is not one"
        );
    }
}

/// A delay in [0, max) that differs from kill to kill and run to run (no extra crate
/// for randomness): spread by the iteration, shifted by the clock.
fn jitter(max: Duration, i: u32) -> Duration {
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    let spread = (i as u64 * 379 + clock / 1000) % 1000;
    max.mul_f64(spread as f64 / 1000.0)
}

/// F24 (crash recovery): a `run -d` killed with SIGKILL at any point is rolled back by the
/// next command: no namespace without a record, no leaked veth on docker0, no orphaned
/// container process; and `lab down` then removes everything.
#[test]
fn f24_crash_recovery_after_kill_9_of_run() {
    let lab = Lab::new("f24_crash");
    lab.ok(&["lab", "up"]);
    // How long an undisturbed `run -d` takes: the kills land across that window.
    let t0 = Instant::now();
    lab.run_d("probe", &["busybox", "sleep", "600"]);
    let window = t0.elapsed().mul_f64(1.5);
    for i in 0..40u32 {
        let mut c = lab.command(&["run", "-d", "busybox", "sleep", "600"]);
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = c.spawn().expect("start dockernet run");
        std::thread::sleep(jitter(window, i));
        let _ = child.kill();
        let _ = child.wait();
        lab.ok(&["ps", "-a"]);
        assert_consistent(&lab, &format!("after kill -9 #{i}"));
    }
    let tracked = lab.tracked_processes();
    lab.ok(&["lab", "down"]);
    assert_lab_gone(&lab, &tracked);
}

/// F25 (crash recovery): a `lab up` killed half-way is detected by the next command, which
/// removes the half-built lab and builds a healthy one; `lab down` removes everything.
#[test]
fn f25_crash_recovery_after_kill_9_of_lab_up() {
    let lab = Lab::new("f25_labup");
    let t0 = Instant::now();
    lab.ok(&["lab", "up"]);
    let window = t0.elapsed().mul_f64(1.5);
    lab.ok(&["lab", "down"]);
    for i in 0..10u32 {
        let mut c = lab.command(&["lab", "up"]);
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = c.spawn().expect("start dockernet lab up");
        std::thread::sleep(jitter(window, i));
        let _ = child.kill();
        let _ = child.wait();
        // Killed before it created anything: the lab does not exist, and `ps` (which
        // only reads) says so and builds nothing; `lab up` then builds it.
        let ps = lab.dn(&["ps", "-a"]);
        if !ps.status.success() {
            assert!(
                stderr(&ps).contains("does not exist") && lab_leftovers(&lab).is_empty(),
                "after kill -9 #{i}: expected a healthy lab or none at all: {}",
                describe("ps -a", &ps)
            );
            lab.ok(&["lab", "up"]);
        }
        let status = lab.dn(&["lab", "status"]);
        assert!(
            status.status.success(),
            "after kill -9 #{i}: expected a healthy lab: {}",
            describe("lab status", &status)
        );
        let mut want = vec![lab.host(), lab.world()];
        want.sort();
        assert_eq!(
            lab.namespaces(),
            want,
            "after kill -9 #{i}: expected exactly the host and world namespaces"
        );
        let hello = lab.ok(&["host", "--", "ip", "-o", "-4", "addr", "show", "docker0"]);
        assert!(
            hello.contains("172.17.0.1/16"),
            "after kill -9 #{i}: expected docker0 rebuilt, saw {hello}"
        );
        assert_eq!(
            lab.processes().len(),
            4,
            "after kill -9 #{i}: expected the host's init, the world's web and DNS servers and the embedded DNS server, saw {:?}",
            lab.processes()
        );
        let tracked = lab.tracked_processes();
        lab.ok(&["lab", "down"]);
        assert_lab_gone(&lab, &tracked);
    }
}

/// F26 (hermetic lab): a whole scenario (lab up, three containers, pings, internet, rm, lab
/// down) leaves the machine's root network namespace exactly as it was.
#[test]
fn f26_root_namespace_untouched_by_a_scenario() {
    let lab = Lab::new("f26_root");
    let before = snapshot_root(&lab.name);
    lab.ok(&["lab", "up"]);
    for n in ["a1", "a2", "a3"] {
        lab.run_d(n, &["busybox", "sleep", "600"]);
    }
    let r = eventually_ok(Duration::from_secs(5), || {
        lab.dn(&["exec", "a1", "ping", "-c1", "-W1", "172.17.0.4"])
    });
    assert!(
        r.is_ok(),
        "expected a1 to ping a3: {}",
        describe("ping", &r.unwrap_err())
    );
    let r = eventually_ok(Duration::from_secs(5), || {
        lab.dn(&["exec", "a2", "wget", "-qO-", "http://203.0.113.10/"])
    });
    assert!(
        r.is_ok(),
        "expected a2 to reach the internet: {}",
        describe("wget", &r.unwrap_err())
    );
    let during = snapshot_root(&lab.name);
    assert_ne!(
        during, before,
        "expected the lab's namespaces in the snapshot while it is up"
    );
    lab.ok(&["rm", "-f", "a1", "a2"]);
    lab.ok(&["lab", "down"]);
    let after = snapshot_root(&lab.name);
    assert_eq!(
        after, before,
        "expected the root network namespace unchanged by the scenario"
    );
}

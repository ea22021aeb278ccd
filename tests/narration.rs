//! `--explain` and `--dry-run`: the narrated steps are the real commands (replaying them
//! by hand builds the same kernel state), and a dry run changes nothing.

mod common;

use common::*;
use std::time::Duration;

/// The narrated commands (`  $ CMD`) of a stderr text, in order.
fn commands(stderr_text: &str) -> Vec<String> {
    stderr_text
        .lines()
        .filter_map(|l| l.strip_prefix("  $ "))
        .map(String::from)
        .collect()
}

/// Every narration line is `  $ command` or `  # comment`.
fn assert_only_narration(stderr_text: &str) {
    for l in stderr_text.lines() {
        assert!(
            l.starts_with("  $ ") || l.starts_with("  # "),
            "expected only `  $ ` / `  # ` narration lines on stderr, saw {l:?} in:\n{stderr_text}"
        );
    }
}

/// What a dry run may not leave behind: namespaces, veths, records, files, processes.
fn footprint(lab: &Lab) -> (Vec<String>, Vec<String>, Vec<String>, usize) {
    let dirs = std::fs::read_dir(lab.dir().join("containers"))
        .map(|d| d.count())
        .unwrap_or(0);
    (lab.namespaces(), lab.docker0_ports(), lab.all_ids(), dirs)
}

/// F18 (narration): `--explain run -d` narrates each kernel step as the `ip` command that
/// does it, names the veth that really appears on docker0, and prints only the id on
/// stdout.
#[test]
fn f18_explain_run_narrates_real_ip_commands() {
    let lab = Lab::new("f18_explain");
    lab.ok(&["lab", "up"]);
    let o = lab.dn(&[
        "--explain",
        "run",
        "-d",
        "--name",
        "c1",
        "busybox",
        "sleep",
        "600",
    ]);
    assert!(
        o.status.success(),
        "expected success: {}",
        describe("--explain run", &o)
    );
    let id = stdout(&o);
    assert!(
        id.trim().len() == 64 && id.lines().count() == 1,
        "expected only the id on stdout, saw {id:?}"
    );
    let err = stderr(&o);
    assert_only_narration(&err);
    let cmds = commands(&err);
    let (host, ctr) = (lab.host(), lab.ctr("c1"));
    let veth = lab.docker0_ports();
    assert_eq!(veth.len(), 1, "expected one veth on docker0");
    // The sandbox first (namespace, lo), then the endpoint on docker0.
    let want = [
        format!("ip netns add {ctr}"),
        format!("ip -n {ctr} link set lo up"),
        format!(
            "ip -n {host} link add {} master docker0 up type veth peer name eth0 address 02:42:ac:11:00:02 netns {ctr}",
            veth[0]
        ),
        format!("ip -n {ctr} addr add 172.17.0.2/16 dev eth0"),
        format!("ip -n {ctr} link set eth0 up"),
        format!("ip -n {ctr} route add default via 172.17.0.1"),
    ];
    let mut at = 0;
    for w in &want {
        let found = cmds[at..].iter().position(|c| c == w);
        assert!(
            found.is_some(),
            "expected the step {w:?} (in this order) in the narration:\n{}",
            cmds.join("\n")
        );
        at += found.unwrap() + 1;
    }
    assert!(
        cmds.iter()
            .any(|c| c.starts_with(&format!("ip netns exec {ctr} unshare --pid"))),
        "expected the process start narrated, saw:\n{}",
        cmds.join("\n")
    );
    // Without --explain nothing is narrated.
    let quiet = lab.dn(&["run", "-d", "--name", "c2", "busybox", "sleep", "600"]);
    assert!(
        stderr(&quiet).is_empty(),
        "expected a silent stderr without --explain, saw {:?}",
        stderr(&quiet)
    );
}

/// F19 (narration): `--explain lab up` narrates the world, the host, and dockerd's docker0
/// and iptables rules, as commands.
#[test]
fn f19_explain_lab_up_narrates_dockerd() {
    let lab = Lab::new("f19_labup");
    let o = lab.dn(&["--explain", "lab", "up"]);
    assert!(
        o.status.success(),
        "expected success: {}",
        describe("--explain lab up", &o)
    );
    let err = stderr(&o);
    assert_only_narration(&err);
    let cmds = commands(&err);
    let host = lab.host();
    for w in [
        format!("ip netns add {}", lab.world()),
        format!("ip netns add {host}"),
        format!("ip -n {host} addr add 172.17.0.1/16 dev docker0"),
        format!("ip -n {host} route add default via 198.51.100.1"),
        format!("ip netns exec {host} sysctl -w net.ipv4.ip_forward=1"),
        format!("ip netns exec {host} iptables -P FORWARD DROP"),
        // Docker inserts each network's MASQUERADE at the top of POSTROUTING.
        format!(
            "ip netns exec {host} iptables -t nat -I POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"
        ),
        format!("ip netns exec {host} iptables -I FORWARD 3 -i docker0 -o docker0 -j ACCEPT"),
    ] {
        assert!(
            cmds.contains(&w),
            "expected {w:?} in the narration:\n{}",
            cmds.join("\n")
        );
    }
}

/// F20 (narration): replaying the narrated `ip` commands of `--dry-run run` by hand builds
/// a working container network: the address is in place and the host pings it.
#[test]
fn f20_replaying_the_narration_builds_the_same_network() {
    let lab = Lab::new("f20_replay");
    lab.ok(&["lab", "up"]);
    let o = lab.dn(&[
        "--dry-run",
        "run",
        "-d",
        "--name",
        "byhand",
        "busybox",
        "sleep",
        "600",
    ]);
    assert!(
        o.status.success(),
        "expected success: {}",
        describe("--dry-run run", &o)
    );
    let cmds = commands(&stderr(&o));
    let ip_cmds: Vec<&String> = cmds
        .iter()
        .filter(|c| c.starts_with("ip ") && !c.contains(" unshare "))
        .collect();
    assert!(
        ip_cmds.len() >= 6,
        "expected the network steps as ip commands, saw {cmds:?}"
    );
    for c in &ip_cmds {
        let args: Vec<&str> = c.split_whitespace().skip(1).collect();
        cmd_ok("ip", &args);
    }
    let ctr = lab.ctr("byhand");
    let addr = ip(&ctr, &["-o", "-4", "addr", "show", "eth0"]);
    assert!(
        addr.contains("inet 172.17.0.2/16"),
        "expected 172.17.0.2/16 on the hand-built eth0, saw {addr}"
    );
    let r = eventually_ok(Duration::from_secs(5), || {
        exec_in(&lab.host(), &["ping", "-c1", "-W1", "172.17.0.2"])
    });
    assert!(
        r.is_ok(),
        "expected the host to ping the hand-built container: {}",
        describe("ping", &r.unwrap_err())
    );
    // dockernet knows nothing of it; `lab down` (in Drop) removes it by its prefix.
    assert!(
        lab.all_ids().is_empty(),
        "expected no record for a hand-built container"
    );
}

/// F21 (dry run): `--dry-run run -d` on an existing lab prints the steps and leaves no new
/// namespace, veth, record, file or process.
#[test]
fn f21_dry_run_changes_nothing_in_an_existing_lab() {
    let lab = Lab::new("f21_dry");
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    let before = footprint(&lab);
    let procs_before = lab.processes().len();
    let o = lab.dn(&[
        "--dry-run",
        "run",
        "-d",
        "--name",
        "ghost",
        "busybox",
        "sleep",
        "600",
    ]);
    assert!(
        o.status.success(),
        "expected success: {}",
        describe("--dry-run run", &o)
    );
    assert!(
        stdout(&o).is_empty(),
        "expected nothing on stdout for a dry run, saw {:?}",
        stdout(&o)
    );
    let cmds = commands(&stderr(&o));
    assert!(
        cmds.contains(&format!("ip netns add {}", lab.ctr("ghost"))),
        "expected the steps printed, saw {cmds:?}"
    );
    assert_eq!(
        footprint(&lab),
        before,
        "expected (namespaces, docker0 ports, records, container dirs) unchanged"
    );
    assert_eq!(
        lab.processes().len(),
        procs_before,
        "expected no new process of the lab"
    );
    let st = lab.state();
    assert_eq!(
        st["containers"].as_object().map(|m| m.len()),
        Some(1),
        "expected one record in state.json, saw {}",
        st["containers"]
    );
}

/// F22 (dry run): `--dry-run` on a lab that does not exist creates nothing at all: no
/// namespace, no state directory, no process — for `run`, `lab up` and `ps` (which, only
/// reading, says the lab does not exist).
#[test]
fn f22_dry_run_on_a_fresh_lab_creates_nothing() {
    let lab = Lab::new("f22_fresh");
    for args in [
        &["--dry-run", "run", "-d", "busybox", "sleep", "600"][..],
        &["--dry-run", "lab", "up"][..],
        &["--dry-run", "ps"][..],
    ] {
        let o = lab.dn(args);
        if args[1] == "ps" {
            assert!(
                !o.status.success() && stderr(&o).contains("does not exist"),
                "expected `ps` to say the lab does not exist: {}",
                describe(&args.join(" "), &o)
            );
        } else {
            assert!(
                o.status.success(),
                "expected success: {}",
                describe(&args.join(" "), &o)
            );
        }
        assert!(
            lab.namespaces().is_empty(),
            "expected no namespace after `{}`, saw {:?}",
            args.join(" "),
            lab.namespaces()
        );
        assert!(
            !lab.dir().exists(),
            "expected no {} after `{}`",
            lab.dir().display(),
            args.join(" ")
        );
        assert!(
            lab.processes().is_empty(),
            "expected no process after `{}`, saw {:?}",
            args.join(" "),
            lab.processes()
        );
    }
    let o = lab.dn(&["--dry-run", "lab", "up"]);
    let cmds = commands(&stderr(&o));
    assert!(
        cmds.contains(&format!("ip netns add {}", lab.host())),
        "expected the lab's steps printed, saw {cmds:?}"
    );
}

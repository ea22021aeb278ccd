//! Refusals: Docker's messages and exit statuses, one `dockernet:` line on stderr, and
//! nothing half-built afterwards (no extra veth, namespace or record).

mod common;

use common::*;

/// What a refusal must leave unchanged: container namespaces, docker0's ports, records.
type Footprint = (Vec<String>, Vec<String>, Vec<String>);

/// The footprint of a lab now.
fn footprint(lab: &Lab) -> Footprint {
    (
        lab.container_namespaces(),
        lab.docker0_ports(),
        lab.all_ids(),
    )
}

/// stderr is exactly one line starting with `dockernet:`.
fn assert_one_error_line(o: &std::process::Output, what: &str) -> String {
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line on stderr for {what}, saw:\n{err}"
    );
    assert!(
        lines[0].starts_with("dockernet: "),
        "expected the `dockernet:` prefix for {what}, saw {:?}",
        lines[0]
    );
    lines[0].to_string()
}

/// A lab with one running container `x1`, and its footprint.
fn lab_with_one(name: &str) -> (Lab, Footprint) {
    let lab = Lab::new(name);
    lab.run_d("x1", &["busybox", "sleep", "600"]);
    let fp = footprint(&lab);
    assert_eq!(
        (fp.0.len(), fp.1.len(), fp.2.len()),
        (1, 1, 1),
        "expected one container, saw {fp:?}"
    );
    (lab, fp)
}

/// E01: without root, dockernet refuses with a hint to use sudo and creates nothing.
#[test]
fn e01_not_root_is_refused_with_sudo_hint() {
    let lab = Lab::new("e01_noroot");
    if cmd("setpriv", &["--version"]).status.code().is_none() {
        panic!("expected setpriv (util-linux) to be installed for this test");
    }
    // A copy nobody may execute, wherever the build tree lives (a home may be 0700).
    let dir = std::env::temp_dir().join(format!("dockernet-e01-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bin = dir.join("dockernet");
    std::fs::copy(BIN, &bin).expect("copying the binary");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let bin = bin.display().to_string();
    for args in [
        &["run", "-d", "busybox", "sleep", "600"][..],
        &["lab", "up"][..],
        &["ps"][..],
    ] {
        let mut c = std::process::Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            &bin,
            "--lab",
            &lab.name,
        ])
        .args(args)
        .env("NO_COLOR", "1");
        let o = run_cmd(c);
        assert!(
            !o.status.success(),
            "expected `{}` as nobody to fail: {}",
            args.join(" "),
            describe("setpriv", &o)
        );
        let line = assert_one_error_line(&o, "not root");
        assert!(
            line.contains("sudo"),
            "expected a hint to use sudo, saw {line:?}"
        );
        assert!(
            lab.namespaces().is_empty() && !lab.dir().exists(),
            "expected nothing created by a refused non-root `{}`",
            args.join(" ")
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// E02: an unknown image is refused with 125 and one line listing the built-ins.
#[test]
fn e02_unknown_image_is_125_listing_builtins() {
    let (lab, before) = lab_with_one("e02_image");
    let o = lab.dn(&["run", "-d", "centos"]);
    assert_eq!(
        o.status.code(),
        Some(125),
        "expected exit 125: {}",
        describe("run centos", &o)
    );
    let line = assert_one_error_line(&o, "unknown image");
    for img in [
        "centos", "busybox", "alpine", "nginx", "ubuntu", "debian", "redis",
    ] {
        assert!(line.contains(img), "expected {img} in {line:?}");
    }
    assert_eq!(
        footprint(&lab),
        before,
        "expected nothing half-built by the refused run"
    );
}

/// E03: a name in use is refused with 125 and Docker's Conflict text.
#[test]
fn e03_name_in_use_is_125_conflict() {
    let (lab, before) = lab_with_one("e03_conflict");
    let id = &before.2[0];
    let o = lab.dn(&["run", "-d", "--name", "x1", "busybox", "sleep", "600"]);
    assert_eq!(
        o.status.code(),
        Some(125),
        "expected exit 125: {}",
        describe("run --name x1", &o)
    );
    let line = assert_one_error_line(&o, "name in use");
    let want =
        format!("Conflict. The container name \"/x1\" is already in use by container \"{id}\"");
    assert!(line.contains(&want), "expected {want:?} in {line:?}");
    assert_eq!(
        footprint(&lab),
        before,
        "expected nothing half-built by the refused run"
    );
}

/// E04: exec, rm, inspect, stop, logs of an unknown container fail with `No such ...`.
#[test]
fn e04_unknown_container() {
    let (lab, before) = lab_with_one("e04_nosuch");
    for args in [
        &["exec", "nosuch", "true"][..],
        &["rm", "nosuch"][..],
        &["rm", "-f", "nosuch"][..],
        &["stop", "nosuch"][..],
        &["logs", "nosuch"][..],
        &["inspect", "nosuch"][..],
    ] {
        let o = lab.fails(args);
        let err = stderr(&o);
        assert!(
            err.contains("No such container: nosuch")
                || (args[0] == "inspect" && err.contains("No such object: nosuch")),
            "expected `No such container: nosuch` for `{}`, saw {err:?}",
            args.join(" ")
        );
        assert!(
            err.lines().all(|l| l.starts_with("dockernet: ")),
            "expected `dockernet:` lines, saw {err:?}"
        );
    }
    assert_eq!(footprint(&lab), before, "expected nothing changed");
}

/// E05: usage errors (unknown flag, missing argument) exit 2.
#[test]
fn e05_bad_flags_exit_2() {
    let (lab, before) = lab_with_one("e05_flags");
    for args in [
        &["ps", "--bogus"][..],
        &["exec", "x1"][..],
        &["rm"][..],
        &["show", "links", "--nope"][..],
    ] {
        let o = lab.dn(args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "expected exit 2 for `{}`: {}",
            args.join(" "),
            describe("usage", &o)
        );
    }
    assert_eq!(footprint(&lab), before, "expected nothing changed");
}

/// E06: an invalid lab name exits 2 with a hint and creates nothing.
#[test]
fn e06_invalid_lab_name_exit_2() {
    for bad in [
        "a-b",
        "../x",
        "has space",
        "x23456789012345678901234567890123",
    ] {
        let mut c = std::process::Command::new(BIN);
        c.args(["--lab", bad, "ps"]).env("NO_COLOR", "1");
        let o = run_cmd(c);
        assert_eq!(
            o.status.code(),
            Some(2),
            "expected exit 2 for lab {bad:?}: {}",
            describe("ps", &o)
        );
        let line = assert_one_error_line(&o, "invalid lab name");
        assert!(
            line.contains("invalid lab name"),
            "expected `invalid lab name` in {line:?}"
        );
        assert!(
            lab_namespaces(bad).is_empty(),
            "expected no namespace for {bad:?}"
        );
    }
    let o = run_cmd({
        let mut c = std::process::Command::new(BIN);
        c.args(["ps"]).env("DOCKERNET_LAB", "bad-name");
        c
    });
    assert_eq!(
        o.status.code(),
        Some(2),
        "expected DOCKERNET_LAB to be validated too: {}",
        describe("ps", &o)
    );
}

/// E07: `rm` of a running container without -f is refused and the container keeps
/// running with its network.
#[test]
fn e07_rm_running_without_force_refused() {
    let (lab, before) = lab_with_one("e07_rm");
    let o = lab.fails(&["rm", "x1"]);
    let line = assert_one_error_line(&o, "rm running");
    assert!(
        line.contains("container is running") && line.contains("force"),
        "expected Docker's `container is running ... force remove`, saw {line:?}"
    );
    assert_eq!(footprint(&lab), before, "expected the container untouched");
    assert!(lab.ok(&["ps"]).contains("x1"), "expected x1 still running");
    let r = eventually_ok(std::time::Duration::from_secs(5), || {
        exec_in(&lab.host(), &["ping", "-c1", "-W1", "172.17.0.2"])
    });
    assert!(
        r.is_ok(),
        "expected x1 still reachable: {}",
        describe("ping", &r.unwrap_err())
    );
}

/// E08: `--net nosuch` is refused with 125 and nothing is built.
#[test]
fn e08_unknown_network_is_125() {
    let (lab, before) = lab_with_one("e08_net");
    for args in [
        &["run", "-d", "--net", "nosuch", "busybox", "sleep", "600"][..],
        &["run", "-d", "--network=nosuch", "busybox"][..],
    ] {
        let o = lab.dn(args);
        assert_eq!(
            o.status.code(),
            Some(125),
            "expected exit 125: {}",
            describe(&args.join(" "), &o)
        );
        let line = assert_one_error_line(&o, "unknown network");
        assert!(
            line.contains("network nosuch not found"),
            "expected Docker's `network nosuch not found`, saw {line:?}"
        );
        assert_eq!(
            footprint(&lab),
            before,
            "expected nothing half-built by `{}`",
            args.join(" ")
        );
    }
}

/// E09: a run whose command does not exist fails with 127 and rolls back its network.
#[test]
fn e09_run_missing_command_is_127_and_rolled_back() {
    let (lab, before) = lab_with_one("e09_cmd");
    let o = lab.dn(&[
        "run",
        "-d",
        "--name",
        "broken",
        "busybox",
        "no-such-command",
    ]);
    assert_eq!(
        o.status.code(),
        Some(127),
        "expected exit 127: {}",
        describe("run no-such-command", &o)
    );
    assert!(
        stderr(&o).contains("no-such-command"),
        "expected the command named, saw {:?}",
        stderr(&o)
    );
    assert_eq!(
        footprint(&lab),
        before,
        "expected the failed run's namespace, veth and record gone"
    );
    // The name is free again and the address is reused.
    lab.run_d("broken", &["busybox", "sleep", "600"]);
    assert_eq!(
        lab.ip_of("broken"),
        "172.17.0.3",
        "expected the next free address after the rollback"
    );
}

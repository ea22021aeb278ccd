//! Containers that are containers (issue 10, items 1 and 2): their own root file system
//! and Docker's privileges. From inside containers of every image: the VM's files are
//! not there and a file written inside does not reach the VM; `umount /proc`, `mount`,
//! `nsenter`, `unshare -n` and `ip link add` fail with EPERM, `ip addr add` works only
//! with `--cap-add NET_ADMIN`, `--privileged` may mount; `ip link` prints no error
//! lines; `exec` gets the same limits.

mod common;

use common::*;

const IMAGES: [&str; 8] = [
    "busybox", "alpine", "httpd", "nginx", "tomcat", "redis", "ubuntu", "debian",
];

/// `exec NAME sh -c SCRIPT`: (exit code, stdout + stderr).
fn sh(lab: &Lab, name: &str, script: &str) -> (i32, String) {
    let o = lab.dn(&["exec", name, "sh", "-c", script]);
    (
        o.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&o), stderr(&o)),
    )
}

#[test]
fn every_image_has_its_own_root_file_system() {
    let lab = Lab::new("sandbox_fs");
    let marker = format!("/tmp/dockernet-sandbox-{}", std::process::id());
    for (i, image) in IMAGES.iter().enumerate() {
        let name = format!("fs{i}");
        lab.run_d(&name, &[image, "sleep", "600"]);
        let (_, ls) = sh(
            &lab,
            &name,
            "ls /; ls /home /root /run; cat /etc/shadow >/dev/null 2>&1 && echo SHADOW-READ; ls /run/netns 2>&1",
        );
        for vm_only in ["work", "SHADOW-READ", "dn-"] {
            assert!(
                !ls.contains(vm_only),
                "{image}: expected nothing of the VM ({vm_only:?}) inside:\n{ls}"
            );
        }
        assert!(ls.contains("No such file"), "{image}: {ls}");
        let (rc, _) = sh(
            &lab,
            &name,
            &format!("echo inside > {marker} && cat {marker}"),
        );
        assert_eq!(rc, 0, "{image}: a container may write its own /tmp");
        assert!(
            !std::path::Path::new(&marker).exists(),
            "{image}: a file written inside reached the VM"
        );
        // `ip link` names no other namespace of the machine.
        let (rc, links) = sh(&lab, &name, "ip link");
        assert_eq!(rc, 0, "{links}");
        assert!(
            !links.contains("Error") && !links.contains("invalid"),
            "{image}: expected no error lines from ip link:\n{links}"
        );
        // /proc is the container's, /sys and /proc/sys read-only, Docker's masked paths masked.
        let (_, procs) = sh(&lab, &name, "ps");
        assert!(!procs.contains("dockernet-dns"), "{procs}");
        let (rc, _) = sh(&lab, &name, "echo 1 > /proc/sys/net/ipv4/ip_forward");
        assert_ne!(rc, 0, "{image}: /proc/sys must be read-only");
        // /proc/timer_list (the host's timers) is masked by /dev/null; mount shows it.
        let (_, masked) = sh(
            &lab,
            &name,
            "wc -c < /proc/timer_list; grep timer_list /proc/mounts",
        );
        assert!(
            masked.lines().next().is_some_and(|l| l.trim() == "0") && masked.contains("timer_list"),
            "{image}: /proc/timer_list masked, saw {masked}"
        );
    }
    // rm removes the writable layer with the container.
    let id = lab.record("fs0")["id"].as_str().unwrap().to_string();
    let upper = lab.dir().join("containers").join(&id).join("upper");
    assert!(upper.join("tmp").exists(), "expected fs0's writable layer");
    // The writable layer and the records are in memory: <lab>/mem is a tmpfs and the
    // record directories link into it.
    let mem = lab.dir().join("mem").display().to_string();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        mounts
            .lines()
            .any(|l| l.split(' ').nth(4) == Some(mem.as_str()) && l.contains(" - tmpfs ")),
        "expected a tmpfs on {mem}"
    );
    for d in ["containers", "pending", "names", "networks"] {
        let link = std::fs::read_link(lab.dir().join(d)).unwrap_or_default();
        assert_eq!(link, std::path::Path::new("mem").join(d), "{d}");
    }
    let (_, df) = sh(&lab, "fs0", "df -k / | tail -1");
    assert!(
        df.contains("1048576"),
        "the layer's size is the lab tmpfs's 1 GiB: {df}"
    );
    lab.ok(&["rm", "-f", "fs0"]);
    assert!(!upper.exists(), "expected the writable layer gone with rm");
}

#[test]
fn dockers_privileges_and_their_flags() {
    let lab = Lab::new("sandbox_caps");
    lab.run_d("cc", &["busybox", "sleep", "600"]);
    for (what, script) in [
        ("umount /proc", "umount /proc"),
        ("mount", "mount -t tmpfs none /mnt"),
        ("nsenter", "nsenter -t 1 -n true"),
        ("unshare -n", "unshare -n true"),
        ("ip link add", "ip link add d0 type bridge"),
        ("ip addr add", "ip addr add 192.0.2.9/32 dev lo"),
    ] {
        let (rc, out) = sh(&lab, "cc", script);
        assert_ne!(rc, 0, "expected {what} refused: {out}");
        assert!(
            out.contains("not permitted") || out.contains("denied") || out.contains("Operation"),
            "expected EPERM for {what}: {out}"
        );
    }
    let (_, caps) = sh(&lab, "cc", "grep CapEff /proc/self/status");
    assert!(
        caps.contains("00000000a80425fb"),
        "Docker's 14 default capabilities: {caps}"
    );
    let (_, caps1) = sh(&lab, "cc", "grep CapEff /proc/1/status");
    assert!(caps1.contains("00000000a80425fb"), "PID 1 too: {caps1}");
    let (_, nnp) = sh(&lab, "cc", "grep NoNewPrivs /proc/self/status");
    assert!(nnp.contains('1'), "{nnp}");

    let ok = lab.dn(&[
        "run",
        "--rm",
        "--cap-add",
        "NET_ADMIN",
        "busybox",
        "ip",
        "addr",
        "add",
        "192.0.2.9/32",
        "dev",
        "lo",
    ]);
    assert!(
        ok.status.success(),
        "{}",
        describe("--cap-add NET_ADMIN", &ok)
    );
    let priv_ = lab.dn(&[
        "run",
        "--rm",
        "--privileged",
        "busybox",
        "sh",
        "-c",
        "mount -t tmpfs none /mnt && echo mounted",
    ]);
    assert!(
        stdout(&priv_).contains("mounted"),
        "{}",
        describe("--privileged", &priv_)
    );
    let dropped = lab.dn(&[
        "run",
        "--rm",
        "--cap-drop",
        "NET_RAW",
        "busybox",
        "ping",
        "-c1",
        "-W1",
        "172.17.0.1",
    ]);
    assert!(
        !dropped.status.success(),
        "ping needs NET_RAW: {}",
        describe("--cap-drop", &dropped)
    );
    let bad = lab.dn(&["run", "--rm", "--cap-add", "NOPE", "busybox", "true"]);
    assert!(
        stderr(&bad).contains("invalid CapAdd: unknown capability: \"CAP_NOPE\""),
        "{}",
        describe("--cap-add NOPE", &bad)
    );
    assert!(
        lab.record("cc")["cap_add"]
            .as_array()
            .is_some_and(|a| a.is_empty())
    );
}

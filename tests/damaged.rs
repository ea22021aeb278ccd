//! A damaged or missing state file never strands a lab: commands refuse with one line
//! that names the way out (`dockernet --lab <lab> lab down`), and `lab down` removes
//! every namespace, process, mount and file of the lab all the same.

mod common;

use common::*;
use std::path::Path;

/// The lab of every case: a network, a container with a published port on the default
/// bridge, one on the network.
fn build(test: &str) -> Lab {
    let lab = Lab::new(test);
    lab.ok(&["network", "create", "dnet"]);
    lab.run_d("web", &["-p", "8080:80", "httpd"]);
    lab.run_d("sleeper", &["--net", "dnet", "busybox", "sleep", "600"]);
    assert_eq!(
        lab.container_namespaces().len(),
        2,
        "expected two container namespaces before the damage"
    );
    lab
}

/// Cut a file to half its size, as a crash in the middle of a write by another tool
/// (or a full disk) would.
fn truncate_half(path: &Path) {
    let len = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("expected {} to exist: {e}", path.display()))
        .len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open for truncation");
    f.set_len(len / 2).expect("truncate");
}

/// `containers/<id>/record.json` of a container, by name.
fn record_path(lab: &Lab, name: &str) -> std::path::PathBuf {
    let id = std::fs::read_to_string(lab.dir().join("names").join(name))
        .expect("the name's id")
        .trim()
        .to_string();
    lab.dir().join("containers").join(id).join("record.json")
}

/// Each command fails with exactly one line on stderr that names `lab down` as the way
/// out, and changes nothing (no silent teardown or rebuild).
fn assert_refused(lab: &Lab, commands: &[&[&str]], context: &str) {
    let hint = format!("dockernet --lab {} lab down", lab.name);
    let namespaces = lab.namespaces();
    let processes = lab.processes().len();
    for args in commands {
        let what = format!("dockernet --lab {} {}", lab.name, args.join(" "));
        let o = lab.dn(args);
        let err = stderr(&o);
        assert!(
            !o.status.success(),
            "{context}: expected `{what}` to refuse: {}",
            describe(&what, &o)
        );
        assert!(
            err.lines().count() == 1 && err.starts_with("dockernet: ") && err.contains(&hint),
            "{context}: expected `{what}` to print one line naming `{hint}`: {}",
            describe(&what, &o)
        );
        assert_eq!(
            lab.namespaces(),
            namespaces,
            "{context}: expected `{what}` to leave the namespaces alone"
        );
    }
    assert_eq!(
        lab.processes().len(),
        processes,
        "{context}: expected the refused commands to leave the processes alone"
    );
}

/// `lab status` reports the lab broken and names the way out.
fn assert_status_broken(lab: &Lab, context: &str) {
    let o = lab.dn(&["lab", "status"]);
    let out = stdout(&o);
    assert!(
        !o.status.success()
            && out.contains("broken")
            && out.contains(&format!("dockernet --lab {} lab down", lab.name)),
        "{context}: expected `lab status` to say broken and name lab down: {}",
        describe("lab status", &o)
    );
}

/// `lab down` succeeds, says it removed the lab by name, and nothing of the lab is left.
fn assert_down_by_name(lab: &Lab, context: &str) {
    let out = lab.ok(&["lab", "down"]);
    assert!(
        out.contains("removed everything of it by name"),
        "{context}: expected `lab down` to say it removed the lab by name, saw {out:?}"
    );
    assert_gone(lab, context);
}

/// Nothing of the lab is left: namespaces, mounts, processes, directory.
fn assert_gone(lab: &Lab, context: &str) {
    let left = lab_leftovers(lab);
    assert!(
        left.is_empty(),
        "{context}: expected nothing of the lab after `lab down`, saw:\n{}",
        left.join("\n")
    );
}

/// Every kind of command: listings, container and network commands, lab commands.
const EVERY_COMMAND: &[&[&str]] = &[
    &["ps"],
    &["ps", "-a"],
    &["inspect", "web"],
    &["port", "web"],
    &["logs", "web"],
    &["exec", "web", "true"],
    &["run", "-d", "busybox", "sleep", "600"],
    &["stop", "web"],
    &["start", "web"],
    &["rm", "-f", "web"],
    &["network", "ls"],
    &["network", "inspect", "dnet"],
    &["network", "create", "other"],
    &["network", "rm", "dnet"],
    &["network", "prune", "-f"],
    &["network", "connect", "dnet", "web"],
    &["network", "disconnect", "dnet", "sleeper"],
    &["show", "links"],
    &["host", "--", "true"],
    &["lab", "up"],
];

/// (a) lab.json cut in half.
#[test]
fn truncated_lab_json_refuses_then_lab_down_removes_everything() {
    let lab = build("dmg_labjson");
    truncate_half(&lab.dir().join("lab.json"));
    assert_refused(&lab, EVERY_COMMAND, "lab.json truncated");
    assert_status_broken(&lab, "lab.json truncated");
    assert_down_by_name(&lab, "lab.json truncated");
}

/// (b) lab.json deleted while the other records remain.
#[test]
fn deleted_lab_json_refuses_then_lab_down_removes_everything() {
    let lab = build("dmg_nolabjson");
    std::fs::remove_file(lab.dir().join("lab.json")).expect("remove lab.json");
    assert_refused(&lab, EVERY_COMMAND, "lab.json deleted");
    assert_status_broken(&lab, "lab.json deleted");
    assert_down_by_name(&lab, "lab.json deleted");
}

/// (c) one container's record.json cut in half: the commands that need it refuse (the
/// others need not read it), and `lab down` still removes everything, the healthy
/// container included.
#[test]
fn truncated_container_record_refuses_then_lab_down_removes_everything() {
    let lab = build("dmg_record");
    truncate_half(&record_path(&lab, "web"));
    assert_refused(
        &lab,
        &[
            &["ps"],
            &["ps", "-a"],
            &["inspect", "web"],
            &["port", "web"],
            &["logs", "web"],
            &["exec", "web", "true"],
            &["stop", "web"],
            &["start", "web"],
            &["rm", "-f", "web"],
            &["network", "connect", "dnet", "web"],
        ],
        "web's record.json truncated",
    );
    let o = lab.dn(&["lab", "status"]);
    assert!(
        !o.status.success(),
        "expected `lab status` to fail on a damaged record: {}",
        describe("lab status", &o)
    );
    assert_down_by_name(&lab, "web's record.json truncated");
}

/// (d) the whole lab directory deleted while its namespaces and processes live on.
#[test]
fn deleted_lab_directory_then_lab_down_removes_everything() {
    let lab = build("dmg_dir");
    // The lab host's UTS namespace is bind-mounted in the directory: an `rm -rf` cannot
    // remove a mount point, so unmount it first as an administrator would have to.
    for m in mounts_mentioning(&format!("{}/", lab.dir().display())) {
        let point = m
            .split_whitespace()
            .nth(4)
            .expect("mount point")
            .to_string();
        cmd_ok("umount", &["-l", &point]);
    }
    std::fs::remove_dir_all(lab.dir()).expect("remove the lab directory");
    assert!(
        !lab.namespaces().is_empty() && !lab.processes().is_empty(),
        "expected the lab's namespaces and processes to outlive its directory"
    );
    assert_down_by_name(&lab, "lab directory deleted");
}

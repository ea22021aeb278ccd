//! The lab's state is root's only: `/run/dockernet` and every directory under it 0700,
//! records, logs, configs and the lock 0600 (records hold `-e` values; a lock anyone may
//! open is a lock anyone may hold), and a user who is not root can neither read the
//! state nor block a lab, and is told to use sudo. Only the files bind-mounted into
//! containers (hosts, hostname, resolv.conf) are 0644, and containers still work.

mod common;

use common::*;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Permission bits of a path (not following a symlink).
fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p)
        .unwrap_or_else(|e| panic!("expected {} to exist: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Files of a container that it sees as its /etc files: readable inside, so 0644.
const SHARED: [&str; 3] = ["hosts", "hostname", "resolv.conf"];

/// Every file and directory under `dir` but the image link directories, with its mode.
fn walk(dir: &Path, out: &mut Vec<(PathBuf, u32, bool)>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() {
            if p.file_name().is_some_and(|n| n == "images") && p.parent() == Some(dir) {
                continue;
            }
            // A container's own file system (its overlay layers): its files keep the
            // modes the image and its processes give them, behind the 0700 directory.
            if p.file_name()
                .is_some_and(|n| n == "upper" || n == "work" || n == "rootfs")
                && p.parent()
                    .and_then(|d| d.parent())
                    .and_then(|d| d.file_name())
                    == Some(std::ffi::OsStr::new("containers"))
            {
                continue;
            }
            out.push((p.clone(), mode(&p), true));
            walk(&p, out);
        } else if t.is_file() && p.file_name().is_some_and(|n| n != "host.uts")
            || t.is_socket()
            || t.is_fifo()
        {
            // Sockets and FIFOs count as files (the DNS server's control socket, a
            // container's stdin). `host.uts` is a bind mount of the kernel's nsfs file.
            out.push((p.clone(), mode(&p), false));
        }
    }
}

/// The dockernet binary copied where the user `nobody` may run it (the build tree may
/// be in a home directory nobody else can enter), removed when dropped.
struct NobodyBin {
    dir: PathBuf,
    bin: String,
}

impl NobodyBin {
    fn new(tag: &str) -> NobodyBin {
        if cmd("setpriv", &["--version"]).status.code().is_none() {
            panic!("expected setpriv (util-linux) to be installed for this test");
        }
        let dir = std::env::temp_dir().join(format!("dockernet-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating a directory for the binary");
        let bin = dir.join("dockernet");
        std::fs::copy(BIN, &bin).expect("copying the binary");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        NobodyBin {
            dir,
            bin: bin.display().to_string(),
        }
    }
}

impl Drop for NobodyBin {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `PROG ARGS...` as the user nobody (uid and gid 65534, no supplementary groups).
fn as_nobody(prog: &str, args: &[&str]) -> Output {
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", prog])
        .args(args)
        .env("NO_COLOR", "1")
        .env("LC_ALL", "C.UTF-8");
    run_cmd(c)
}

/// A lab with a published httpd (a proxy log), a container on a user network (the
/// embedded DNS server) with an `-e` secret, and one that has exited (its exit code).
fn busy_lab(name: &str) -> (Lab, String) {
    let lab = Lab::new(name);
    let web = lab.ok(&["run", "-d", "--name", "web1", "-p", "8080:80", "httpd"]);
    lab.ok(&["network", "create", "pnet"]);
    lab.ok(&[
        "run",
        "-d",
        "--name",
        "c2",
        "--net",
        "pnet",
        "-e",
        "SECRET=s3cr3t",
        "busybox",
        "sleep",
        "600",
    ]);
    lab.ok(&[
        "run", "-d", "--name", "ex1", "busybox", "sh", "-c", "exit 3",
    ]);
    retry("ex1 to exit", std::time::Duration::from_secs(10), || {
        let s = lab.ok(&["ps", "-a"]);
        if s.lines()
            .any(|l| l.ends_with("ex1") && l.contains("Exited (3)"))
        {
            Ok(())
        } else {
            Err(s)
        }
    });
    (lab, web.trim().to_string())
}

/// P01: every directory of a running lab is 0700 (but the image links'), every file
/// 0600 (but a container's /etc files, 0644), and the containers still work.
#[test]
fn p01_state_is_root_only() {
    let (lab, web) = busy_lab("p01_modes");
    assert_eq!(mode(Path::new("/run/dockernet")), 0o700, "/run/dockernet");
    let dir = lab.dir();
    assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    let ctr = dir.join("containers").join(&web);
    for (f, want) in [
        (dir.join("lab.json"), 0o600),
        (dir.join("lock"), 0o600),
        (dir.join("dns.log"), 0o600),
        (dir.join("dns.sock"), 0o600),
        (ctr.clone(), 0o700),
        (ctr.join("record.json"), 0o600),
        (ctr.join("config.json"), 0o600),
        (ctr.join("log"), 0o600),
        (ctr.join("proxy-tcp-8080.log"), 0o600),
        (ctr.join("hosts"), 0o644),
        (ctr.join("hostname"), 0o644),
        (ctr.join("resolv.conf"), 0o644),
    ] {
        assert_eq!(mode(&f), want, "expected {} to be {want:o}", f.display());
    }
    let mut all = Vec::new();
    walk(&dir, &mut all);
    assert!(
        all.iter().any(|(p, _, _)| p.ends_with("exitcode")),
        "expected ex1's exit code file among {all:?}"
    );
    let wrong: Vec<String> = all
        .iter()
        .filter(|(p, m, is_dir)| {
            let shared = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| SHARED.contains(&n));
            let want = match (is_dir, shared) {
                (true, _) => 0o700,
                (false, true) => 0o644,
                (false, false) => 0o600,
            };
            *m != want
        })
        .map(|(p, m, _)| format!("{m:o} {}", p.display()))
        .collect();
    assert!(
        wrong.is_empty(),
        "expected 0700 dirs and 0600 files, saw {wrong:#?}"
    );
    // The /etc files are readable inside by any user; the programs still run.
    let hosts = lab.ok(&[
        "exec",
        "c2",
        "su",
        "nobody",
        "-s",
        "/bin/sh",
        "-c",
        "id -u; cat /etc/hosts",
    ]);
    assert!(
        hosts.contains("localhost"),
        "expected /etc/hosts readable by nobody inside: {hosts}"
    );
    let secret = lab.ok(&["exec", "c2", "sh", "-c", "echo $SECRET"]);
    assert_eq!(secret.trim(), "s3cr3t");
    // The published port: the proxy (its log 0600) still forwards to httpd.
    let page = lab.ok(&[
        "host",
        "--",
        "curl",
        "-s",
        "--max-time",
        "5",
        "127.0.0.1:8080",
    ]);
    assert!(
        page.contains("It works"),
        "expected httpd's page, saw {page:?}"
    );
}

/// P02: a user who is not root can neither read a lab's records and logs nor open (and
/// so `flock`) its lock, and every command tells them to use sudo, in one line.
#[test]
fn p02_non_root_cannot_read_or_block() {
    let (lab, web) = busy_lab("p02_nobody");
    let dir = lab.dir();
    let ctr = dir.join("containers").join(&web);
    for f in [
        dir.join("lab.json"),
        ctr.join("record.json"),
        ctr.join("config.json"),
        ctr.join("log"),
    ] {
        let o = as_nobody("cat", &[&f.display().to_string()]);
        assert!(
            !o.status.success() && stderr(&o).contains("Permission denied"),
            "expected nobody to be refused {}: {}",
            f.display(),
            describe("cat", &o)
        );
    }
    for d in [Path::new("/run/dockernet"), dir.as_path()] {
        let o = as_nobody("ls", &[&d.display().to_string()]);
        assert!(
            !o.status.success(),
            "expected nobody not to list {}",
            d.display()
        );
    }
    // `flock -n` would hold the lock for the command's duration; nobody cannot even
    // open the file.
    let lock = dir.join("lock").display().to_string();
    let o = as_nobody("flock", &["-n", &lock, "sleep", "5"]);
    assert!(
        !o.status.success() && stderr(&o).contains("Permission denied"),
        "expected nobody not to open the lock: {}",
        describe("flock", &o)
    );
    let nb = NobodyBin::new("p02");
    for args in [
        &["lab", "status"][..],
        &["lab", "status", "--format", "json"][..],
        &["ps"][..],
        &["inspect", "web1"][..],
        &["logs", "web1"][..],
        &["network", "ls"][..],
        &["show", "links"][..],
        &["exec", "c2", "true"][..],
        &["lab", "down"][..],
    ] {
        let mut a = vec!["--lab", lab.name.as_str()];
        a.extend(args);
        let o = as_nobody(&nb.bin, &a);
        let err = stderr(&o);
        assert!(
            !o.status.success()
                && err.lines().count() == 1
                && err.starts_with("dockernet: ")
                && err.contains("sudo"),
            "expected `{}` as nobody to fail with one line saying sudo: {}",
            args.join(" "),
            describe("dockernet", &o)
        );
    }
    // Nothing was blocked or changed: root's commands go on.
    lab.ok(&["rm", "-f", "c2"]);
    assert!(lab.ok(&["ps"]).contains("web1"));
}

/// P03: a lab made by an older dockernet (0755 directories, a 0644 lock) is tightened by
/// the next command that takes the lock.
#[test]
fn p03_older_lab_is_tightened() {
    let lab = Lab::new("p03_older");
    lab.ok(&["lab", "up"]);
    let dir = lab.dir();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(dir.join("lock"), std::fs::Permissions::from_mode(0o644))
        .expect("chmod");
    lab.ok(&["lab", "up"]);
    assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    assert_eq!(mode(&dir.join("lock")), 0o600, "the lock");
}

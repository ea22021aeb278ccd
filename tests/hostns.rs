//! The lab host is a host of its own (issue 10, item 3): its own PID and mount
//! namespaces with an init that lives as long as the lab, so `dockernet host -- ps -ef`
//! shows this lab's processes only — its docker-proxies, its DNS server, its containers'
//! processes (in PID namespaces nested inside the host's) — never another lab's.

mod common;

use common::*;

/// `host -- ps -ef` of a lab: (pid, command) per line.
fn host_ps(lab: &Lab) -> Vec<(u32, String)> {
    lab.ok(&["host", "--", "ps", "-eo", "pid=,args="])
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let (pid, cmd) = l.split_once(' ')?;
            Some((pid.parse().ok()?, cmd.trim().to_string()))
        })
        .collect()
}

/// `host -- ps -eo ppid,args` of a lab: (ppid, command) per line.
fn lab_parents(lab: &Lab) -> Vec<(u32, String)> {
    lab.ok(&["host", "--", "ps", "-eo", "ppid=,args="])
        .lines()
        .filter_map(|l| {
            let (ppid, cmd) = l.trim().split_once(' ')?;
            Some((ppid.parse().ok()?, cmd.trim().to_string()))
        })
        .collect()
}

#[test]
fn host_ps_shows_this_labs_processes_only() {
    let a = Lab::new("hostns_a");
    let b = Lab::new("hostns_b");
    a.run_d("web1", &["-p", "8080:80", "httpd"]);
    a.ok(&["network", "create", "an"]);
    a.run_d("aa", &["--net", "an", "busybox", "sleep", "600"]);
    b.run_d("bweb", &["-p", "9090:80", "httpd"]);
    b.run_d("bb", &["busybox", "sleep", "777"]);

    let ps = host_ps(&a);
    let cmds: Vec<&str> = ps.iter().map(|(_, c)| c.as_str()).collect();
    let init = ps.iter().find(|(p, _)| *p == 1).map(|(_, c)| c.as_str());
    assert!(
        init.is_some_and(|c| c.starts_with("init ")),
        "expected the lab host's init as PID 1: {cmds:?}"
    );
    for want in [
        "docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080",
        "dockernet-dns --lab",
        "httpd-foreground",
        "sleep 600",
    ] {
        assert!(
            cmds.iter().any(|c| c.contains(want)),
            "expected {want:?} among lab a's host processes: {cmds:?}"
        );
    }
    for never in [
        "9090",
        "sleep 777",
        &b.name,
        "named",
        "httpd-foreground -p 80 -b",
    ] {
        assert!(
            !cmds.iter().any(|c| c.contains(never)),
            "expected nothing of lab b or of the world ({never:?}) in lab a's host: {cmds:?}"
        );
    }
    // As on a Docker host, the lab's daemons and shims are children of the host's init
    // (PPID 1), not orphans of the machine's (PPID 0 from inside).
    let parents = lab_parents(&a);
    for want in [
        "docker-proxy ",
        "dockernet-dns ",
        "docker-init -- sleep 600",
    ] {
        assert!(
            parents
                .iter()
                .any(|(ppid, c)| *ppid == 1 && c.starts_with(want)),
            "expected {want:?} with PPID 1 in lab a's host: {parents:?}"
        );
    }
    // Inside a container: its own PID namespace, nested in the host's.
    let inside = a.ok(&["exec", "aa", "ps"]);
    assert!(
        inside
            .lines()
            .nth(1)
            .is_some_and(|l| l.trim().starts_with("1 ")),
        "expected the container's own PID 1:\n{inside}"
    );
    assert!(!inside.contains("dockernet-dns"), "{inside}");
    // The host's mount namespace shows the host's interfaces in /sys and its resolver.
    let sys = a.ok(&["host", "--", "ls", "/sys/class/net"]);
    assert!(sys.contains("docker0") && sys.contains("eth0"), "{sys}");
    let resolv = a.ok(&["host", "--", "cat", "/etc/resolv.conf"]);
    assert!(resolv.contains("nameserver 203.0.113.53"), "{resolv}");
    // The recorded pids are the root namespace's: stop, rm and ps keep working.
    a.ok(&["stop", "-t", "1", "aa"]);
    let after = host_ps(&a);
    assert!(
        !after.iter().any(|(_, c)| c.contains("sleep 600")),
        "expected aa's processes gone: {after:?}"
    );
    assert!(a.ok(&["ps", "-a"]).contains("Exited ("));
}

#[test]
fn the_host_init_goes_with_the_lab_and_a_dead_one_rebuilds_it() {
    let lab = Lab::new("hostns_init");
    lab.ok(&["lab", "up"]);
    let init = lab.state()["host_init"]["pid"]
        .as_i64()
        .expect("the host init's pid");
    cmd_ok("kill", &["-9", &init.to_string()]);
    // A PID 1 dies only after every process of its namespace has.
    retry(
        "the host init to die",
        std::time::Duration::from_secs(10),
        || {
            let stat = std::fs::read_to_string(format!("/proc/{init}/stat")).unwrap_or_default();
            if stat.is_empty() || stat.contains(") Z ") {
                Ok(())
            } else {
                Err(format!("still there: {stat}"))
            }
        },
    );
    // The next command finds the lab host without its PID 1 and builds it again.
    let o = lab.dn(&["run", "-d", "--name", "cc", "busybox", "sleep", "600"]);
    assert!(o.status.success(), "{}", describe("run", &o));
    assert!(
        stderr(&o).contains("damaged"),
        "expected the rebuild said: {}",
        stderr(&o)
    );
    let again = lab.state()["host_init"]["pid"].as_i64().unwrap();
    assert_ne!(again, init);
    lab.ok(&["lab", "down"]);
    assert!(
        processes_mentioning(&format!("__host_init {}", lab.name)).is_empty(),
        "expected no host init left after lab down"
    );
}

/// A lab whose host init runs another build of dockernet (a learner upgraded it while
/// the lab was up): the init cannot run the new build's shim from its own memory, so
/// it execs the binary the CLI names — containers start, are its children, and go.
#[test]
fn a_host_init_of_another_build_still_starts_containers() {
    let lab = Lab::new("hostns_build");
    let dir = std::env::temp_dir().join(format!("dn-other-build-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let other = dir.join("dockernet");
    std::fs::copy(BIN, &other).expect("copying the binary");
    let up = lab.command(&["lab", "up"]);
    let up = std::process::Command::new(&other)
        .args(up.get_args())
        .envs(up.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .output()
        .expect("running the other build");
    assert!(
        up.status.success(),
        "{}",
        describe("lab up (other build)", &up)
    );
    lab.run_d("cc", &["busybox", "sleep", "600"]);
    let inside = lab.ok(&["exec", "cc", "ps"]);
    assert!(inside.contains("sleep 600"), "{inside}");
    let parents = lab_parents(&lab);
    assert!(
        parents
            .iter()
            .any(|(ppid, c)| *ppid == 1 && c.starts_with("docker-init -- sleep 600")),
        "expected the shim as the host init's child: {parents:?}"
    );
    lab.ok(&["rm", "-f", "cc"]);
    lab.ok(&["lab", "down"]);
    let _ = std::fs::remove_dir_all(&dir);
}

//! Containers as processes: their namespaces, Docker's commands and outputs (`ps`,
//! `inspect`, `logs`, exit codes, `stop`/`start`), and the built-in images serving real
//! TCP to other containers.

mod common;

use common::*;
use std::time::Duration;

/// F01 (isolation): a container has its own PID namespace: `ps -ef` inside shows PID 1
/// docker-init, its command, and no host process; its /proc holds only those few PIDs.
#[test]
fn f01_pid_namespace_shows_only_the_container() {
    let lab = Lab::new("f01_pid");
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    let ps = lab.ok(&["exec", "c1", "ps", "-ef"]);
    let rows: Vec<Vec<&str>> = ps
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    let pid1 = rows
        .iter()
        .find(|r| r[0] == "1")
        .unwrap_or_else(|| panic!("expected a PID 1 row, saw:\n{ps}"));
    assert_eq!(
        pid1[2], "docker-init",
        "expected PID 1 to be docker-init, saw:\n{ps}"
    );
    assert!(
        rows.iter().any(|r| r[2..] == ["sleep", "600"]),
        "expected the command `sleep 600`, saw:\n{ps}"
    );
    for r in &rows {
        let cmd = r[2];
        assert!(
            ["docker-init", "sleep", "ps"].contains(&cmd),
            "expected only the container's processes, saw {cmd:?} in:\n{ps}"
        );
    }
    assert!(
        rows.len() <= 4,
        "expected at most 4 processes (init, command, ps), saw:\n{ps}"
    );
    let ls = lab.ok(&["exec", "c1", "ls", "/proc"]);
    let pids: Vec<&str> = ls
        .split_whitespace()
        .filter(|w| w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    assert!(
        pids.len() <= 5,
        "expected a fresh /proc with a handful of PIDs, saw {pids:?}"
    );
}

/// F02 (isolation): each container has its own UTS namespace: `--hostname` changes only its
/// own hostname; the lab host keeps `dockernet-host`, the machine keeps its own.
#[test]
fn f02_uts_namespace_hostnames() {
    let lab = Lab::new("f02_uts");
    let root_before = cmd_ok("hostname", &[]);
    lab.ok(&[
        "run",
        "-d",
        "--name",
        "c1",
        "--hostname",
        "web.example",
        "busybox",
        "sleep",
        "600",
    ]);
    let id2 = lab.run_d("c2", &["busybox", "sleep", "600"]);
    assert_eq!(
        lab.ok(&["exec", "c1", "hostname"]).trim(),
        "web.example",
        "expected --hostname inside c1"
    );
    assert_eq!(
        lab.ok(&["exec", "c1", "cat", "/etc/hostname"]).trim(),
        "web.example",
        "expected /etc/hostname of c1"
    );
    assert_eq!(
        lab.ok(&["exec", "c2", "hostname"]).trim(),
        &id2[..12],
        "expected c2's hostname = short id"
    );
    assert_eq!(
        lab.ok(&["host", "--", "hostname"]).trim(),
        "dockernet-host",
        "expected the lab host's own hostname"
    );
    assert_eq!(
        cmd_ok("hostname", &[]),
        root_before,
        "expected the machine's hostname unchanged"
    );
}

/// F03 (Docker CLI): `ps` has Docker's header and columns; `ps` lists running containers
/// only, `ps -a` also exited ones, `ps -q` only 12-hex ids, `--format json` one object per
/// line.
#[test]
fn f03_ps_columns_all_and_quiet() {
    let lab = Lab::new("f03_ps");
    let id = lab.run_d("up1", &["busybox", "sleep", "600"]);
    let o = lab.dn(&["run", "--name", "done1", "busybox", "sh", "-c", "exit 3"]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "expected the foreground run to exit 3: {}",
        describe("run", &o)
    );
    let ps = lab.ok(&["ps"]);
    let lines: Vec<&str> = ps.lines().collect();
    assert!(
        lines[0].starts_with("CONTAINER ID   IMAGE     COMMAND       CREATED")
            && lines[0].contains("STATUS")
            && lines[0].contains("PORTS")
            && lines[0].trim_end().ends_with("NAMES"),
        "expected Docker's header, saw {:?}",
        lines[0]
    );
    assert_eq!(
        lines.len(),
        2,
        "expected one running container in `ps`, saw:\n{ps}"
    );
    let cols: Vec<&str> = lines[1]
        .split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cols[0],
        &id[..12],
        "expected the short id first, saw {cols:?}"
    );
    assert_eq!(cols[1], "busybox", "expected the image, saw {cols:?}");
    assert_eq!(
        cols[2], "\"sleep 600\"",
        "expected the quoted command, saw {cols:?}"
    );
    assert!(
        cols.iter().any(|c| c.starts_with("Up ")),
        "expected an `Up ...` status, saw {cols:?}"
    );
    assert_eq!(
        *cols.last().unwrap(),
        "up1",
        "expected the name last, saw {cols:?}"
    );
    let all = lab.ok(&["ps", "-a"]);
    let exited = all
        .lines()
        .find(|l| l.trim_end().ends_with("done1"))
        .unwrap_or_else(|| panic!("expected done1 in `ps -a`, saw:\n{all}"));
    assert!(
        exited.contains("Exited (3)"),
        "expected `Exited (3)` for done1, saw {exited:?}"
    );
    assert_eq!(
        all.lines().count(),
        3,
        "expected header + 2 rows in `ps -a`, saw:\n{all}"
    );
    let q = lab.ok(&["ps", "-q"]);
    assert_eq!(
        q,
        format!("{}\n", &id[..12]),
        "expected `ps -q` to print the running id only"
    );
    let qa = lab.ok(&["ps", "-a", "-q"]);
    assert_eq!(
        qa.lines().count(),
        2,
        "expected two ids in `ps -a -q`, saw:\n{qa}"
    );
    let json = lab.ok(&["ps", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(json.trim())
        .unwrap_or_else(|e| panic!("expected one JSON object ({e}), saw {json}"));
    assert_eq!(v["Names"], "up1", "expected Names up1 in {v}");
    assert_eq!(v["State"], "running", "expected State running in {v}");
    assert_eq!(v["Networks"], "bridge", "expected Networks bridge in {v}");
}

/// F04 (Docker CLI), C24 (`network ls`): `inspect` prints Docker-shaped JSON with the
/// container's real network settings.
#[test]
fn f04_inspect_fields() {
    let lab = Lab::new("f04_inspect");
    let id = lab.run_d("c1", &["busybox", "sleep", "600"]);
    let v = lab.inspect("c1");
    assert_eq!(v["Id"], id.as_str(), "expected Id = the printed id");
    assert_eq!(v["Name"], "/c1", "expected Name /c1");
    assert_eq!(
        v["State"]["Running"], true,
        "expected State.Running true in {}",
        v["State"]
    );
    let ns = &v["NetworkSettings"];
    assert_eq!(
        ns["IPAddress"], "172.17.0.2",
        "expected IPAddress 172.17.0.2 in {ns}"
    );
    assert_eq!(ns["IPPrefixLen"], 16, "expected IPPrefixLen 16 in {ns}");
    assert_eq!(
        ns["Gateway"], "172.17.0.1",
        "expected Gateway 172.17.0.1 in {ns}"
    );
    assert_eq!(
        ns["MacAddress"], "02:42:ac:11:00:02",
        "expected MacAddress 02:42:ac:11:00:02 in {ns}"
    );
    assert_eq!(
        ns["SandboxKey"],
        format!("/run/netns/{}", lab.ctr("c1")).as_str(),
        "expected SandboxKey = the netns path"
    );
    let b = &ns["Networks"]["bridge"];
    assert_eq!(
        b["IPAddress"], "172.17.0.2",
        "expected Networks.bridge.IPAddress in {b}"
    );
    assert_eq!(
        b["MacAddress"], "02:42:ac:11:00:02",
        "expected Networks.bridge.MacAddress in {b}"
    );
    // The kernel agrees with the JSON.
    let eth0 = ip(&lab.ctr("c1"), &["-o", "link", "show", "eth0"]);
    assert!(
        eth0.contains("link/ether 02:42:ac:11:00:02"),
        "expected the kernel's eth0 MAC to match inspect, saw {eth0}"
    );
    // Docker's prefix lookup works too.
    assert_eq!(
        lab.inspect(&id[..8])["Name"],
        "/c1",
        "expected inspect by id prefix"
    );
    let net = lab.ok(&["network", "inspect", "bridge"]);
    let n: serde_json::Value = serde_json::from_str(&net).expect("network inspect JSON");
    let c = &n[0]["Containers"][&id];
    assert_eq!(
        c["IPv4Address"], "172.17.0.2/16",
        "expected c1 in `network inspect bridge`, saw {}",
        n[0]["Containers"]
    );
    let ls = lab.ok(&["network", "ls"]);
    for name in ["bridge", "host", "none"] {
        assert!(
            ls.lines()
                .any(|l| l.split_whitespace().nth(1) == Some(name)),
            "expected network {name} in `network ls`, saw:\n{ls}"
        );
    }
}

/// F05 (Docker CLI): `logs` prints what a detached container wrote to stdout and stderr.
#[test]
fn f05_logs_of_detached_container() {
    let lab = Lab::new("f05_logs");
    lab.run_d(
        "c1",
        &[
            "busybox",
            "sh",
            "-c",
            "echo out-line; echo err-line >&2; sleep 600",
        ],
    );
    retry("logs show both lines", Duration::from_secs(5), || {
        let logs = lab.ok(&["logs", "c1"]);
        if logs.contains("out-line") && logs.contains("err-line") {
            Ok(())
        } else {
            Err(format!("saw {logs:?}"))
        }
    });
}

/// F06 (Docker CLI): a foreground `run` exits with the command's status; `--rm` leaves no
/// record; a finished container keeps no namespace or veth.
#[test]
fn f06_run_exit_codes_and_rm() {
    let lab = Lab::new("f06_exit");
    let o = lab.dn(&["run", "--name", "three", "busybox", "sh", "-c", "exit 3"]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "expected exit status 3: {}",
        describe("run", &o)
    );
    let o = lab.dn(&[
        "run",
        "--rm",
        "--name",
        "gone",
        "busybox",
        "sh",
        "-c",
        "echo hi; exit 0",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "expected exit status 0: {}",
        describe("run --rm", &o)
    );
    assert_eq!(
        stdout(&o),
        "hi\n",
        "expected the foreground output on our stdout"
    );
    let all = lab.ok(&["ps", "-a"]);
    assert!(
        !all.contains("gone"),
        "expected no record of the --rm container, saw:\n{all}"
    );
    assert!(
        all.contains("Exited (3)"),
        "expected `three` as Exited (3), saw:\n{all}"
    );
    assert!(
        lab.container_namespaces().is_empty(),
        "expected no container namespace left, saw {:?}",
        lab.container_namespaces()
    );
    assert!(
        lab.docker0_ports().is_empty(),
        "expected no veth left on docker0, saw {:?}",
        lab.docker0_ports()
    );
}

/// F07 (Docker CLI): `run -d` of a command that ends at once (`true`) still succeeds,
/// prints the id, and the container shows as `Exited (0)` with its network released, also
/// when the machine is busy (three labs at a time).
#[test]
fn f07_detached_command_that_exits_at_once() {
    let labs: Vec<Lab> = (0..3).map(|i| Lab::new(&format!("f07_quick{i}"))).collect();
    std::thread::scope(|s| {
        for lab in &labs {
            s.spawn(move || {
                for i in 0..15 {
                    let o = lab.dn(&["run", "-d", "busybox", "true"]);
                    assert!(
                        o.status.success() && stdout(&o).trim().len() == 64,
                        "run #{i}: expected `run -d busybox true` to print an id: {}",
                        describe("run -d busybox true", &o)
                    );
                }
            });
        }
    });
    for lab in &labs {
        let all = retry(
            "every quick container Exited (0)",
            Duration::from_secs(5),
            || {
                let all = lab.ok(&["ps", "-a"]);
                let exited = all.lines().filter(|l| l.contains("Exited (0)")).count();
                if exited == 15 {
                    Ok(all)
                } else {
                    Err(format!("{exited} of 15 exited:\n{all}"))
                }
            },
        );
        assert_eq!(all.lines().count(), 16, "expected 15 records, saw:\n{all}");
        assert!(
            lab.container_namespaces().is_empty(),
            "expected no namespace left, saw {:?}",
            lab.container_namespaces()
        );
        assert!(
            lab.docker0_ports().is_empty(),
            "expected no veth left, saw {:?}",
            lab.docker0_ports()
        );
    }
}

/// F08 (Docker CLI): `stop` ends the container (Exited in `ps -a`, network released);
/// `start` gives it a network again, reachable from the host.
#[test]
fn f08_stop_then_start_again() {
    let lab = Lab::new("f08_stop");
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    let tracked = lab.tracked_processes();
    // The lab's own processes (the world's servers) come first and stay.
    let lab_processes = lab.state()["processes"].as_array().map_or(0, Vec::len);
    assert_eq!(
        lab.ok(&["stop", "-t", "2", "c1"]).trim(),
        "c1",
        "expected stop to echo the name"
    );
    let all = lab.ok(&["ps", "-a"]);
    let row = all
        .lines()
        .find(|l| l.trim_end().ends_with("c1"))
        .unwrap_or_else(|| panic!("expected c1 in ps -a:\n{all}"));
    assert!(row.contains("Exited ("), "expected c1 Exited, saw {row:?}");
    assert!(
        lab.ok(&["ps", "-q"]).is_empty(),
        "expected nothing running after stop"
    );
    assert!(
        lab.docker0_ports().is_empty(),
        "expected the veth gone after stop, saw {:?}",
        lab.docker0_ports()
    );
    assert!(
        lab.container_namespaces().is_empty(),
        "expected the namespace gone after stop, saw {:?}",
        lab.container_namespaces()
    );
    for (pid, t) in tracked.iter().skip(lab_processes) {
        assert!(
            !proc_alive(*pid, *t),
            "expected container process {pid} gone after stop"
        );
    }
    lab.ok(&["start", "c1"]);
    assert_eq!(
        lab.docker0_ports().len(),
        1,
        "expected a veth on docker0 again after start"
    );
    let ip = lab.ip_of("c1");
    let r = eventually_ok(Duration::from_secs(5), || {
        exec_in(&lab.host(), &["ping", "-c1", "-W1", &ip])
    });
    assert!(
        r.is_ok(),
        "expected the restarted container to answer pings at {ip}: {}",
        describe("ping", &r.unwrap_err())
    );
    assert!(lab.ok(&["ps"]).contains("c1"), "expected c1 running again");
}

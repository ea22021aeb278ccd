//! Docker's management-command forms and lifecycle commands (issue 11, items 2, 3, 6):
//! `container ls|run|create|start|stop|restart|rm|inspect|exec|logs|port|top|prune`
//! against their short forms, `ps -l / -n / -f`, and Docker's exit codes.

mod common;

use common::*;

/// `ps` output with the CREATED / STATUS columns blanked (they tick between calls).
fn steady(table: &str) -> String {
    table
        .lines()
        .map(|l| {
            l.split("   ")
                .filter(|w| !w.contains("ago") && !w.starts_with("Up ") && !w.is_empty())
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_container_form_does_what_its_short_form_does() {
    let lab = Lab::new("forms_same");
    let id = lab
        .ok(&[
            "container",
            "run",
            "-d",
            "--name",
            "web1",
            "-p",
            "8080:80",
            "nginx",
        ])
        .trim()
        .to_string();
    assert_eq!(id.len(), 64, "expected an ID from container run: {id}");
    for form in [
        &["container", "ls"][..],
        &["container", "ps"],
        &["container", "list"],
    ] {
        assert_eq!(
            steady(&lab.ok(form)),
            steady(&lab.ok(&["ps"])),
            "{form:?} against ps"
        );
    }
    assert_eq!(
        lab.ok(&["container", "port", "web1"]),
        lab.ok(&["port", "web1"])
    );
    assert_eq!(
        lab.ok(&["container", "inspect", "web1"]),
        lab.ok(&["inspect", "web1"])
    );
    assert_eq!(
        lab.ok(&["container", "exec", "web1", "hostname"]),
        lab.ok(&["exec", "web1", "hostname"])
    );
    assert_eq!(
        lab.ok(&["container", "logs", "web1"]),
        lab.ok(&["logs", "web1"])
    );
    let top = lab.ok(&["container", "top", "web1"]);
    assert!(
        top.lines()
            .next()
            .is_some_and(|h| h.contains("PID") && h.contains("CMD")),
        "expected ps -ef's header: {top}"
    );
    assert!(
        top.contains("nginx"),
        "expected nginx among the processes: {top}"
    );
    // The same processes (PIDs, commands): ps's CPU and TIME columns tick between calls.
    let pids_cmds = |t: &str| -> Vec<String> {
        t.lines()
            .skip(1)
            .map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                format!(
                    "{} {}",
                    w.get(1).unwrap_or(&""),
                    w.get(7..).unwrap_or(&[]).join(" ")
                )
            })
            .collect()
    };
    assert_eq!(pids_cmds(&top), pids_cmds(&lab.ok(&["top", "web1"])));
    let top_o = lab.ok(&["top", "web1", "-o", "pid,args"]);
    assert!(
        top_o.starts_with("    PID COMMAND") || top_o.contains("PID COMMAND"),
        "{top_o}"
    );
    assert_eq!(
        lab.ok(&["container", "stop", "-t", "1", "web1"]).trim(),
        "web1"
    );
    assert!(lab.ok(&["ps", "-a"]).contains("Exited ("));
    assert_eq!(lab.ok(&["container", "start", "web1"]).trim(), "web1");
    assert_eq!(
        lab.ok(&["container", "restart", "-t", "1", "web1"]).trim(),
        "web1"
    );
    let page = lab.ok(&[
        "host",
        "--",
        "curl",
        "-s",
        "--max-time",
        "5",
        "localhost:8080",
    ]);
    assert!(
        page.contains("Welcome to nginx"),
        "expected the page after restart: {page}"
    );
    assert_eq!(lab.ok(&["container", "rm", "-f", "web1"]).trim(), "web1");
    assert!(!lab.ok(&["ps", "-a"]).contains("web1"));
}

#[test]
fn create_then_start_and_prune_removes_the_stopped_ones() {
    let lab = Lab::new("forms_create");
    let id = lab
        .ok(&["create", "--name", "cc", "busybox", "sleep", "600"])
        .trim()
        .to_string();
    assert_eq!(id.len(), 64);
    let all = lab.ok(&["ps", "-a"]);
    assert!(all.contains("Created") && all.contains("cc"), "{all}");
    assert!(
        !lab.ok(&["ps"]).contains("cc"),
        "a created container does not run"
    );
    // A created container has no network yet.
    assert!(
        lab.record("cc")["endpoints"]
            .as_array()
            .is_none_or(|e| e.is_empty())
    );
    lab.ok(&["start", "cc"]);
    let ip = lab.ok(&["exec", "cc", "ip", "-4", "-o", "addr", "show", "eth0"]);
    assert!(
        ip.contains("172.17.0."),
        "expected an address once started: {ip}"
    );
    lab.ok(&["container", "create", "--name", "idle", "busybox"]);
    lab.ok(&["run", "--name", "done", "busybox", "true"]);
    let mut prune = lab.command(&["container", "prune", "-f"]);
    let o = run_cmd({
        prune.stdin(std::process::Stdio::null());
        prune
    });
    assert!(o.status.success(), "{}", describe("container prune -f", &o));
    let out = stdout(&o);
    assert!(out.starts_with("Deleted Containers:\n"), "{out}");
    assert!(out.ends_with("\nTotal reclaimed space: 0B\n"), "{out}");
    assert_eq!(out.lines().filter(|l| l.len() == 64).count(), 2, "{out}");
    let left = lab.ok(&["ps", "-a", "--format", "json"]);
    assert!(left.contains("\"cc\"") && !left.contains("idle") && !left.contains("\"done\""));
    // Without -f, anything but yes keeps them.
    lab.ok(&["run", "--name", "kept", "busybox", "true"]);
    let mut ask = lab.command(&["container", "prune"]);
    ask.stdin(std::process::Stdio::null());
    let o = run_cmd(ask);
    assert!(stderr(&o).contains("Are you sure you want to continue? [y/N]"));
    assert!(lab.ok(&["ps", "-a"]).contains("kept"));
}

#[test]
fn ps_latest_last_and_filters() {
    let lab = Lab::new("forms_ps");
    lab.run_d("web1", &["-p", "8080:80", "nginx"]);
    lab.ok(&["network", "create", "mynet"]);
    lab.run_d("r1", &["--net", "mynet", "redis:alpine"]);
    let o = lab.dn(&["run", "--name", "once", "busybox", "sh", "-c", "exit 3"]);
    assert_eq!(o.status.code(), Some(3));
    let names = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["ps", "--format", "json"];
        a.extend_from_slice(args);
        lab.ok(&a)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| v["Names"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(names(&["-l"]), ["once"]);
    assert_eq!(names(&["-n", "2"]), ["once", "r1"]);
    assert_eq!(lab.ok(&["ps", "-lq"]).trim().len(), 12);
    assert_eq!(names(&["-f", "status=exited"]), ["once"]);
    assert_eq!(names(&["-f", "exited=3"]), ["once"]);
    assert_eq!(names(&["-f", "network=mynet"]), ["r1"]);
    assert_eq!(names(&["-f", "ancestor=redis"]), ["r1"]);
    assert_eq!(names(&["-f", "publish=80"]), ["web1"]);
    assert_eq!(names(&["-f", "name=web"]), ["web1"]);
    // Values of one key are alternatives; keys must all match.
    assert_eq!(names(&["-f", "name=web1", "-f", "name=r1"]), ["r1", "web1"]);
    assert!(names(&["-f", "name=web1", "-f", "network=mynet"]).is_empty());
    // The tutorial's `--network container:$(docker ps -ql)`, the last one running.
    lab.run_d("last1", &["busybox", "sleep", "600"]);
    let last = lab.ok(&["ps", "-ql"]).trim().to_string();
    let o = lab.ok(&[
        "run",
        "--rm",
        "--net",
        &format!("container:{last}"),
        "busybox",
        "hostname",
    ]);
    assert!(!o.trim().is_empty());
    let o = lab.fails(&["ps", "-f", "colour=red"]);
    assert_eq!(
        stderr(&o).trim(),
        "dockernet: Error response from daemon: invalid filter 'colour'"
    );
    let o = lab.fails(&["ps", "-s"]);
    assert!(
        stderr(&o).contains("--size is not available"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn exit_codes_are_dockers() {
    let lab = Lab::new("forms_codes");
    lab.run_d("web1", &["-p", "8080:80", "nginx"]);
    // The daemon refuses: 125 (a taken port).
    let o = lab.fails(&["run", "-d", "--name", "web2", "-p", "8080:80", "nginx"]);
    assert_eq!(
        o.status.code(),
        Some(125),
        "{}",
        describe("run on a taken port", &o)
    );
    assert!(stderr(&o).contains("port is already allocated"));
    let o = lab.fails(&["create", "--name", "web1", "busybox"]);
    assert_eq!(
        o.status.code(),
        Some(125),
        "{}",
        describe("create, name taken", &o)
    );
    // A command that cannot be found: 127; that cannot be invoked: 126.
    let o = lab.fails(&["run", "--rm", "busybox", "no-such-command"]);
    assert_eq!(o.status.code(), Some(127), "{}", describe("not found", &o));
    let o = lab.fails(&["run", "--rm", "busybox", "/etc/hostname"]);
    assert_eq!(
        o.status.code(),
        Some(126),
        "{}",
        describe("not executable", &o)
    );
    // Otherwise the container's own code.
    let o = lab.fails(&["run", "--rm", "busybox", "sh", "-c", "exit 7"]);
    assert_eq!(o.status.code(), Some(7));
}

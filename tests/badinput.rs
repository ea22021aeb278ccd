//! Bad input, as Docker answers it (issue 10, item 6): each malformed input gets one
//! `dockernet:` line with Docker's words where Docker has them, the right exit status,
//! and leaves nothing behind — no namespace, veth, rule or record, and on a lab that
//! does not exist, not even the lab.

mod common;

use common::*;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

/// What a refusal must leave as it was: namespaces, docker0's ports, containers, the
/// lab host's rules, the name index and work in progress.
fn footprint(lab: &Lab) -> Vec<String> {
    let list = |dir: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(lab.dir().join(dir))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| format!("{dir}/{}", e.file_name().to_string_lossy()))
            .collect();
        v.sort();
        v
    };
    let mut v = lab.namespaces();
    v.extend(lab.docker0_ports().into_iter().map(|p| format!("port {p}")));
    v.extend(lab.all_ids().into_iter().map(|i| format!("id {i}")));
    v.extend(iptables_rules(&lab.host()));
    v.extend(list("names"));
    v.extend(list("pending"));
    v
}

/// stderr is exactly one `dockernet:` line and stdout is empty; that line.
fn one_line(o: &std::process::Output, what: &str) -> String {
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("dockernet: "),
        "expected one `dockernet:` line on stderr for {what}: {}",
        describe(what, o)
    );
    assert_eq!(stdout(o), "", "expected nothing on stdout for {what}");
    lines[0].to_string()
}

/// Exit status `code`, one line equal to `dockernet: ` + `want`.
fn refused(o: &std::process::Output, what: &str, code: i32, want: &str) {
    assert_eq!(o.status.code(), Some(code), "{}", describe(what, o));
    assert_eq!(
        one_line(o, what),
        format!("dockernet: {want}"),
        "for {what}"
    );
}

/// Nothing of the lab exists: it was never built.
fn assert_no_lab(lab: &Lab, after: &str) {
    let left = lab_leftovers(lab);
    assert!(
        left.is_empty(),
        "expected no lab after {after}, saw:\n{}",
        left.join("\n")
    );
}

/// A lab with one running container `x1`, and its footprint.
fn lab_with_one(name: &str) -> (Lab, Vec<String>) {
    let lab = Lab::new(name);
    lab.run_d("x1", &["busybox", "sleep", "600"]);
    let fp = footprint(&lab);
    (lab, fp)
}

/// The refusals of `run` flags, on a lab that does not exist (nothing is built, not even
/// the lab: the docker CLI refuses them before it talks to the daemon) and on one that
/// does (nothing changes).
const RUN_REFUSALS: &[(&[&str], &str)] = &[
    (
        &["run", "-d", "-e", "=bad", "busybox"],
        "invalid argument \"=bad\" for \"-e, --env\" flag: invalid environment variable: =bad",
    ),
    (
        &["run", "-d", "-e", "A=1", "-e", "", "busybox"],
        "invalid argument \"\" for \"-e, --env\" flag: invalid environment variable: ",
    ),
    (
        &["run", "-d", "--hostname", "bad host!", "busybox"],
        "Error response from daemon: invalid hostname format: bad host!",
    ),
    (
        &["run", "-d", "--hostname", "-web", "busybox"],
        "Error response from daemon: invalid hostname format: -web",
    ),
    (
        &["run", "-d", "-p", "[::1]:8082:80", "httpd"],
        "-p [::1]:8082:80: IPv6 is not available in the lab (its networks are IPv4 only): publish on an IPv4 address of the host, e.g. -p 127.0.0.1:8082:80",
    ),
    (
        &[
            "run",
            "-d",
            "-p",
            "8080:80",
            "-p",
            "[::]:8081:80/udp",
            "httpd",
        ],
        "-p [::]:8081:80/udp: IPv6 is not available in the lab (its networks are IPv4 only): publish on an IPv4 address of the host, e.g. -p 0.0.0.0:8081:80/udp",
    ),
];

#[test]
fn run_flag_refusals_on_a_missing_lab_build_nothing() {
    let lab = Lab::new("bad_flags_nolab");
    for (args, want) in RUN_REFUSALS {
        let o = lab.dn(args);
        refused(&o, &args.join(" "), 125, want);
        assert_no_lab(&lab, &args.join(" "));
    }
}

#[test]
fn run_flag_refusals_change_nothing() {
    let (lab, before) = lab_with_one("bad_flags");
    for (args, want) in RUN_REFUSALS {
        let o = lab.dn(args);
        refused(&o, &args.join(" "), 125, want);
        assert_eq!(footprint(&lab), before, "after `{}`", args.join(" "));
    }
    // `exec -e` is checked the same way.
    let o = lab.dn(&["exec", "-e", "=x", "x1", "true"]);
    refused(
        &o,
        "exec -e =x",
        125,
        "invalid argument \"=x\" for \"-e, --env\" flag: invalid environment variable: =x",
    );
    // A hostname of 64 bytes is one too many (RFC 1123, HOST_NAME_MAX).
    let long = "h".repeat(64);
    let o = lab.dn(&["run", "-d", "--hostname", &long, "busybox"]);
    refused(
        &o,
        "--hostname <64 bytes>",
        125,
        &format!("Error response from daemon: invalid hostname format: {long}"),
    );
    assert_eq!(footprint(&lab), before, "after the long hostname");
}

/// `-e NAME` takes NAME's value from the caller's environment, as the docker CLI does.
#[test]
fn bare_env_names_take_the_callers_value() {
    let lab = Lab::new("bad_env_lookup");
    let mut c = lab.command(&[
        "run",
        "-d",
        "--name",
        "e1",
        "-e",
        "DN_BADINPUT_SET",
        "-e",
        "DN_BADINPUT_UNSET",
        "busybox",
        "sleep",
        "600",
    ]);
    c.env("DN_BADINPUT_SET", "from the caller")
        .env_remove("DN_BADINPUT_UNSET");
    let o = run_cmd(c);
    assert!(o.status.success(), "{}", describe("run -e NAME", &o));
    let env = lab.ok(&["exec", "e1", "env"]);
    assert!(
        env.lines().any(|l| l == "DN_BADINPUT_SET=from the caller"),
        "expected the caller's value, saw:\n{env}"
    );
    assert!(
        !env.contains("DN_BADINPUT_UNSET="),
        "expected no value for an unset name, saw:\n{env}"
    );
}

/// A non-UTF-8 argument gets one line (exit 2, a usage error), not a panic (101).
#[test]
fn non_utf8_argument_is_one_line_not_a_panic() {
    let lab = Lab::new("bad_utf8");
    let mut c = lab.command(&["run", "--name"]);
    c.arg(OsStr::from_bytes(b"\xff")).arg("busybox");
    let o = run_cmd(c);
    refused(
        &o,
        "run --name $'\\xff' busybox",
        2,
        "argument 5 (\"\\xFF\") is not valid UTF-8: dockernet takes its arguments as UTF-8 text",
    );
    assert_no_lab(&lab, "the non-UTF-8 name");
    // Anywhere on the line: a command's argument too.
    let (lab, before) = lab_with_one("bad_utf8_exec");
    let mut c = lab.command(&["exec", "x1", "echo"]);
    c.arg(OsStr::from_bytes(b"caf\xe9"));
    let o = run_cmd(c);
    assert_eq!(o.status.code(), Some(2), "{}", describe("exec", &o));
    let line = one_line(&o, "exec x1 echo $'caf\\xe9'");
    assert!(line.contains("\"caf\\xE9\""), "{line}");
    assert_eq!(footprint(&lab), before);
}

/// `--name /c1` is the name `c1`; `--name //c1` is refused with Docker's words.
#[test]
fn a_leading_slash_is_part_of_dockers_name_syntax() {
    let lab = Lab::new("bad_slash");
    lab.run_d("/c1", &["busybox", "sleep", "600"]);
    assert!(
        lab.namespaces().contains(&lab.ctr("c1")),
        "expected {}, saw {:?}",
        lab.ctr("c1"),
        lab.namespaces()
    );
    assert_eq!(lab.inspect("c1")["Name"], "/c1");
    assert_eq!(lab.inspect("/c1")["Name"], "/c1");
    let ps = lab.ok(&["ps", "--format", "json"]);
    assert!(
        ps.contains("\"c1\""),
        "expected the name c1 in ps, saw {ps}"
    );
    let before = footprint(&lab);
    let o = lab.dn(&["run", "-d", "--name", "/c1", "busybox"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        one_line(&o, "--name /c1 again").contains("The container name \"/c1\" is already in use"),
        "{}",
        stderr(&o)
    );
    let o = lab.dn(&["run", "-d", "--name", "//c1", "busybox"]);
    refused(
        &o,
        "--name //c1",
        125,
        "Error response from daemon: Invalid container name (//c1), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
    );
    assert_eq!(footprint(&lab), before);
    lab.ok(&["rm", "-f", "/c1"]);
    assert!(lab.container_namespaces().is_empty());
}

/// Names of any length work: a namespace is named by the id's first 12 hex when the
/// readable `dn-<lab>-ctr-<name>` would pass 64 bytes; the name index keeps long names.
#[test]
fn names_of_any_length_work_and_leave_nothing() {
    let lab = Lab::new("bad_longname");
    let names = [
        "c".repeat(60),  // id form (the lab's prefix makes it pass 64 bytes)
        "d".repeat(200), // kept as it is in the name index
        "e".repeat(250), // the 250 of the issue: "File name too long" before
        format!("f{}", "-g.h_".repeat(200)),
    ];
    let mut ids = Vec::new();
    for n in &names {
        let id = lab.run_d(n, &["busybox", "sleep", "600"]);
        let ns = lab.ctr(n);
        assert_eq!(ns, format!("dn-{}-ctr-{}", lab.name, &id[..12]), "{n}");
        assert!(lab.namespaces().contains(&ns), "expected {ns}");
        assert_eq!(lab.record(n)["netns"], ns.as_str());
        assert_eq!(lab.ok(&["exec", n, "hostname"]).trim(), &id[..12]);
        assert_eq!(lab.inspect(n)["Id"], id.as_str());
        ids.push(id);
    }
    // Readable where it fits.
    lab.run_d("short", &["busybox", "sleep", "600"]);
    assert!(
        lab.namespaces()
            .contains(&format!("dn-{}-ctr-short", lab.name))
    );
    let ps = lab.ok(&["ps", "--format", "json"]);
    for n in &names {
        assert!(ps.contains(n.as_str()), "expected {} in ps", &n[..20]);
    }
    // The name is taken, whatever its length.
    let before = footprint(&lab);
    let o = lab.dn(&["run", "-d", "--name", &names[2], "busybox"]);
    assert_eq!(o.status.code(), Some(125), "{}", describe("run again", &o));
    assert!(
        one_line(&o, "the long name again").contains("is already in use by container"),
        "{}",
        stderr(&o)
    );
    assert_eq!(footprint(&lab), before);
    let mut rm = vec!["rm", "-f", "short"];
    rm.extend(names.iter().map(String::as_str));
    lab.ok(&rm);
    assert_eq!(lab.container_namespaces(), Vec::<String>::new());
    assert_eq!(lab.docker0_ports(), Vec::<String>::new());
    let left: Vec<String> = std::fs::read_dir(lab.dir().join("names"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        left.is_empty(),
        "expected an empty name index, saw {left:?}"
    );
    lab.ok(&["lab", "down"]);
    assert_no_lab(&lab, "lab down");
}

/// `-p 0:80` is a random host port, as in Docker: never `--dport 0`.
#[test]
fn host_port_zero_is_a_random_port() {
    let lab = Lab::new("bad_port0");
    lab.run_d("web", &["-p", "0:80", "httpd"]);
    let port = lab.ok(&["port", "web"]);
    let hport: u16 = port
        .trim()
        .strip_prefix("80/tcp -> 0.0.0.0:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("expected `80/tcp -> 0.0.0.0:N`, saw {port:?}"));
    assert!(hport >= 1024, "expected an ephemeral port, saw {hport}");
    let rules = iptables_rules(&lab.host()).join("\n");
    assert!(
        rules.contains(&format!("--dport {hport} -j DNAT --to-destination")),
        "expected the DNAT rule for {hport}:\n{rules}"
    );
    assert!(
        !rules.contains("--dport 0 "),
        "no rule for port 0:\n{rules}"
    );
    let url = format!("http://198.51.100.2:{hport}/");
    let got = eventually_ok(Duration::from_secs(10), || {
        lab.dn(&[
            "world", "--", "timeout", "5", "busybox", "wget", "-q", "-O", "-", &url,
        ])
    });
    assert!(
        got.as_ref().is_ok_and(|o| stdout(o).contains("It works!")),
        "expected httpd from the world on {url}: {}",
        describe("wget", got.as_ref().unwrap_or_else(|o| o))
    );
    assert_eq!(
        lab.inspect("web")["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"],
        "0",
        "expected HostConfig to keep what was asked, as Docker's does"
    );
}

/// `network inspect nosuch` prints one line (the error), not `[]` and the error.
#[test]
fn network_inspect_of_an_unknown_network_is_one_line() {
    let (lab, before) = lab_with_one("bad_netinspect");
    let o = lab.dn(&["network", "inspect", "nosuch"]);
    refused(
        &o,
        "network inspect nosuch",
        1,
        "Error response from daemon: network nosuch not found",
    );
    // With a network that exists: its JSON, and one line for the other.
    let o = lab.dn(&["network", "inspect", "bridge", "nosuch"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON on stdout");
    assert_eq!(v[0]["Name"], "bridge");
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert_eq!(footprint(&lab), before);
}

/// A foreground `run` whose container `lab down` removes from another terminal says so,
/// with Docker's status for a killed container, and does not build the lab again.
#[test]
fn foreground_run_removed_by_lab_down_says_so() {
    let lab = Lab::new("bad_fg_down");
    let cmd = lab.command(&["run", "--name", "fg", "busybox", "sleep", "600"]);
    let waiter = std::thread::spawn(move || run_cmd(cmd));
    retry("fg running", Duration::from_secs(20), || {
        let o = lab.dn(&["ps"]);
        if stdout(&o).contains("fg") {
            Ok(())
        } else {
            Err(describe("ps", &o))
        }
    });
    lab.ok(&["lab", "down"]);
    let o = waiter.join().expect("the run thread");
    assert_eq!(o.status.code(), Some(137), "{}", describe("run (fg)", &o));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [format!(
            "dockernet: container fg was removed while it ran: lab {} was taken down (`lab down`) from another terminal",
            lab.name
        )],
        "{}",
        describe("run (fg)", &o)
    );
    assert_no_lab(&lab, "the foreground run ended");
}

/// Commands that only read never build a lab that does not exist; they say so. The
/// commands that create something still build it.
#[test]
fn read_only_commands_on_a_missing_lab_say_so_and_build_nothing() {
    let lab = Lab::new("bad_nolab");
    let want = format!(
        "lab {0} does not exist: `dockernet --lab {0} lab up` builds it, or any command that creates something (`run`, `network create`)",
        lab.name
    );
    for args in [
        &["ps"][..],
        &["ps", "-a"][..],
        &["inspect", "x"][..],
        &["show", "links"][..],
        &["show", "rules"][..],
        &["network", "ls"][..],
        &["network", "inspect", "bridge"][..],
        &["logs", "x"][..],
        &["port", "x"][..],
        &["dns", "x"][..],
        &["exec", "x", "true"][..],
        &["host", "--", "true"][..],
    ] {
        let o = lab.dn(args);
        refused(&o, &args.join(" "), 1, &want);
        assert_no_lab(&lab, &args.join(" "));
    }
    // `run` builds the lab on first use, as before.
    lab.run_d("x1", &["busybox", "sleep", "600"]);
    assert!(lab.ok(&["ps"]).contains("x1"));
}

//! Go-template `--format` with the exact outputs of Docker's docs and tutorials, on real
//! containers: `inspect -f` (`{{.NetworkSettings.IPAddress}}`, `{{range
//! .NetworkSettings.Networks}}…`, `{{json .NetworkSettings.Ports}}`, `{{.Name}}`),
//! `network inspect -f`, `network ls --format`, `ps --format 'table …'`, `info` and its
//! `--format '{{ .Plugins.Network }}'` (article 003, C28), `version`, and Docker's
//! `template parsing error` with Docker's exit statuses.

mod common;

use common::*;

/// The exit status of a command that must fail, and its stderr.
fn failure(lab: &Lab, args: &[&str]) -> (i32, String) {
    let o = lab.fails(args);
    (o.status.code().unwrap_or(-1), stderr(&o))
}

/// The tutorials' way to find a container's address, and the other inspect templates of
/// Docker's docs, byte for byte.
#[test]
fn inspect_templates_print_docker_s_output() {
    let lab = Lab::new("tmpl_inspect");
    lab.run_d("web1", &["-p", "8080:80", "nginx"]);
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    assert_eq!(
        lab.ok(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "web1"]),
        "172.17.0.2\n"
    );
    assert_eq!(
        lab.ok(&[
            "inspect",
            "-f",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            "c1"
        ]),
        "172.17.0.3\n"
    );
    assert_eq!(
        lab.ok(&["inspect", "-f", "{{json .NetworkSettings.Ports}}", "web1"]),
        "{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8080\"}]}\n"
    );
    assert_eq!(lab.ok(&["inspect", "-f", "{{.Name}}", "c1"]), "/c1\n");
    // One line per object, in the order asked; --format is -f.
    assert_eq!(
        lab.ok(&[
            "inspect",
            "--format",
            "{{.Name}} {{.State.Status}}",
            "c1",
            "web1"
        ]),
        "/c1 running\n/web1 running\n"
    );
    // The docs' port template: range with key and value, index, a field of the result.
    assert_eq!(
        lab.ok(&[
            "inspect",
            "-f",
            "{{range $p, $conf := .NetworkSettings.Ports}}{{$p}} -> {{(index $conf 0).HostPort}}{{end}}",
            "web1"
        ]),
        "80/tcp -> 8080\n"
    );
    // `-f json`: the objects as one compact JSON array.
    let compact = lab.ok(&["inspect", "-f", "json", "c1"]);
    assert!(
        compact.starts_with("[{\"Id\":\"") && compact.ends_with("}]\n"),
        "{compact}"
    );
    // A field that is not there: Docker's error, the other objects still printed.
    let o = lab.fails(&["inspect", "-f", "{{.Nope}}", "c1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("template parsing error: ")
            && stderr(&o).contains("map has no entry for key \"Nope\""),
        "{}",
        stderr(&o)
    );
}

/// `network inspect -f` and `network ls --format`, plain and `table`.
#[test]
fn network_templates_print_docker_s_output() {
    let lab = Lab::new("tmpl_network");
    lab.ok(&["network", "create", "mynet"]);
    assert_eq!(
        lab.ok(&[
            "network",
            "inspect",
            "-f",
            "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
            "bridge"
        ]),
        "172.17.0.0/16\n"
    );
    assert_eq!(
        lab.ok(&[
            "network",
            "inspect",
            "-f",
            "{{.Name}} {{.Driver}}",
            "bridge",
            "mynet"
        ]),
        "bridge bridge\nmynet bridge\n"
    );
    assert_eq!(
        lab.ok(&["network", "ls", "--format", "{{.Name}}"]),
        "bridge\nhost\nmynet\nnone\n"
    );
    assert_eq!(
        lab.ok(&["network", "ls", "--format", "table {{.Name}}\\t{{.Driver}}"]),
        "NAME      DRIVER\nbridge    bridge\nhost      host\nmynet     bridge\nnone      null\n"
    );
}

/// `ps --format 'table {{.ID}}\t{{.Names}}'`: Docker's header, 12-hex ids, columns
/// aligned with three spaces; a plain template prints one line per container.
#[test]
fn ps_templates_print_docker_s_output() {
    let lab = Lab::new("tmpl_ps");
    let web = lab.run_d("web", &["nginx"]);
    let db = lab.run_d("db", &["redis"]);
    assert_eq!(
        lab.ok(&["ps", "--format", "table {{.ID}}\\t{{.Names}}"]),
        format!(
            "CONTAINER ID   NAMES\n{}   db\n{}   web\n",
            &db[..12],
            &web[..12]
        )
    );
    assert_eq!(
        lab.ok(&[
            "ps",
            "--format",
            "{{.Names}}: {{.Image}} {{.State}} {{.Networks}}"
        ]),
        "db: redis running bridge\nweb: nginx running bridge\n"
    );
    assert_eq!(
        lab.ok(&["ps", "--no-trunc", "--format", "{{.ID}}"]),
        format!("{db}\n{web}\n")
    );
    // -q wins over a format, as in Docker.
    assert_eq!(
        lab.ok(&["ps", "-q", "--format", "{{.Names}}"]),
        format!("{}\n{}\n", &db[..12], &web[..12])
    );
}

/// `info`: Docker's layout with the lab's counts, and C28's template.
#[test]
fn info_has_docker_s_layout_and_templates() {
    let lab = Lab::new("tmpl_info");
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    lab.ok(&["create", "--name", "c2", "busybox"]);
    let out = lab.ok(&["info"]);
    for line in [
        "Server:",
        " Containers: 2",
        "  Running: 1",
        "  Paused: 0",
        "  Stopped: 1",
        " Images: 8",
        " Storage Driver: overlay2",
        " Logging Driver: json-file",
        "  Network: bridge host ipvlan macvlan null overlay",
        " OSType: linux",
        " Name: dockernet-host",
        " Default Address Pools:",
        "   Base: 172.17.0.0/16, Size: 16",
        "   Base: 192.168.0.0/16, Size: 20",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "expected the line {line:?} in `info`:\n{out}"
        );
    }
    assert!(out.starts_with("Client: dockernet\n Version:    "), "{out}");
    assert_eq!(
        lab.ok(&["info", "--format", "{{ .Plugins.Network }}"]),
        "[bridge host ipvlan macvlan null overlay]\n"
    );
    assert_eq!(
        lab.ok(&[
            "info",
            "-f",
            "{{.Containers}} {{.ContainersRunning}} {{.OSType}}"
        ]),
        "2 1 linux\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&lab.ok(&["info", "--format", "json"])).expect("info --format json");
    assert_eq!(json["Containers"], 2);
    assert_eq!(json["Driver"], "overlay2");
    assert_eq!(json["Plugins"]["Network"][5], "overlay");
    assert_eq!(json["DefaultAddressPools"][0]["Base"], "172.17.0.0/16");
    assert_eq!(json["ClientInfo"]["ApiVersion"], "1.47");
}

/// `info` on a lab that was never built says so and builds nothing.
#[test]
fn info_on_a_missing_lab_says_so() {
    let lab = Lab::new("tmpl_nolab");
    let (code, err) = failure(&lab, &["info"]);
    assert_eq!(code, 1);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!lab.dir().exists(), "info must not build the lab");
}

/// `version` needs no lab; its template sees Docker's field names.
#[test]
fn version_and_its_templates() {
    let lab = Lab::new("tmpl_version");
    let v = env!("CARGO_PKG_VERSION");
    assert_eq!(
        lab.ok(&["version", "--format", "{{.Server.Version}}"]),
        format!("{v}\n")
    );
    let out = lab.ok(&["version"]);
    assert!(
        out.contains(&format!(
            " Version:           {v}\n API version:       1.47\n"
        )),
        "{out}"
    );
    assert!(
        out.contains("  API version:      1.47 (minimum version 1.24)\n"),
        "{out}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&lab.ok(&["version", "--format", "{{json .}}"])).expect("json");
    assert_eq!(json["Server"]["Version"], v);
    assert_eq!(json["Client"]["ApiVersion"], "1.47");
    assert!(!lab.dir().exists(), "version must not build the lab");
}

/// A template that does not parse: Docker's one line, exit 64 where docker/cli uses it
/// (inspect, info, version) and 1 for the list commands (ps, network ls).
#[test]
fn bad_templates_are_docker_s_errors() {
    let lab = Lab::new("tmpl_errors");
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    for (args, code) in [
        (&["inspect", "-f", "{{.Name", "c1"][..], 64),
        (
            &[
                "network",
                "inspect",
                "-f",
                "{{range .IPAM.Config}}",
                "bridge",
            ][..],
            64,
        ),
        (&["info", "--format", "{{ .Plugins.Network "][..], 64),
        (&["version", "--format", "{{end}}"][..], 64),
        (&["ps", "--format", "table {{.ID}"][..], 1),
        (
            &["network", "ls", "--format", "{{nosuchfunc .Name}}"][..],
            1,
        ),
    ] {
        let (got, err) = failure(&lab, args);
        assert_eq!(got, code, "exit status of {args:?}: {err}");
        assert!(
            err.contains("template parsing error: template: "),
            "{args:?}: expected Docker's template parsing error, saw {err:?}"
        );
        assert_eq!(err.lines().count(), 1, "one line for {args:?}: {err:?}");
    }
    let (_, err) = failure(&lab, &["ps", "--format", "{{nosuchfunc .Name}}"]);
    assert!(err.contains("function \"nosuchfunc\" not defined"), "{err}");
}

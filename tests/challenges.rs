//! `challenge`: every challenge started in a lab of its own, its `check` failing on the
//! broken lab (with a hint), its reference solution (the file's `solution` commands)
//! applied, and `check` passing; graded hints, the refusals, and `list --format json`.

mod common;
use common::*;

/// The challenge files, as `src/challenge/mod.rs` compiles them in.
fn file(name: &str) -> toml::Table {
    let path = format!("{}/challenges/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One solution command with its placeholders filled in from the lab's records, split
/// into words (solutions use no quoting).
fn expand(lab: &Lab, cmd: &str) -> Vec<String> {
    assert!(
        !cmd.contains(['\'', '"', '\\']),
        "a solution command needs no quoting: {cmd:?}"
    );
    let mut out = String::new();
    let mut rest = cmd;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').expect("a closed placeholder") + i;
        let key = &rest[i + 1..end];
        let value = match key.split_once(':') {
            Some(("ns", c)) => lab.ctr(c),
            Some(("veth", c)) => lab.record(c)["endpoints"][0]["veth"]
                .as_str()
                .expect("a veth")
                .to_string(),
            Some(("ip", c)) => lab.record(c)["endpoints"][0]["ip"]
                .as_str()
                .expect("an address")
                .to_string(),
            None if key == "host_ip" => "198.51.100.2".into(),
            _ => panic!("the test does not know {{{key}}}"),
        };
        out.push_str(&value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out.split_whitespace().map(str::to_string).collect()
}

/// Start `name` in `lab`; `check` must fail with a hint; the reference solution makes
/// it pass.
fn solve(lab: &Lab, name: &str) {
    let start = lab.ok(&["challenge", name]);
    let f = file(name);
    let title = f["title"]["en"].as_str().unwrap();
    assert!(start.contains(title), "the task's title:\n{start}");
    assert!(
        start.contains(&format!("dockernet --lab {} challenge check", lab.name)),
        "how to work:\n{start}"
    );
    let active = std::fs::read_to_string(lab.dir().join("challenge.json"))
        .expect("the active challenge is kept in the lab's directory");
    assert!(active.contains(name), "{active}");

    let o = lab.dn(&["challenge", "check"]);
    let text = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        describe("challenge check", &o)
    );
    for want in ["✗", "expected:", "seen:", "hint:", "challenge hint"] {
        assert!(
            text.contains(want),
            "unsolved: expected {want:?} in:\n{text}"
        );
    }

    for cmd in f["solution"].as_array().unwrap() {
        let argv = expand(lab, cmd.as_str().unwrap());
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        lab.ok(&argv);
    }
    let o = lab.dn(&["challenge", "check"]);
    let text = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        describe("challenge check", &o)
    );
    assert!(text.contains("Solved") && !text.contains("✗"), "{text}");
}

#[test]
fn bridge_port_down_and_graded_hints() {
    let lab = Lab::new("ch_bridge_port");
    lab.ok(&["challenge", "bridge-port-down"]);
    let h1 = lab.ok(&["challenge", "hint"]);
    let h2 = lab.ok(&["challenge", "hint"]);
    assert!(h1.contains("Hint 1 of 3"), "{h1}");
    assert!(h2.contains("Hint 2 of 3"), "{h2}");
    assert_ne!(h1.lines().nth(1), h2.lines().nth(1), "graded hints differ");
    // `hint N` shows one again; the count shown is remembered in the lab.
    assert_eq!(lab.ok(&["challenge", "hint", "1"]), h1);
    let h3 = lab.ok(&["challenge", "hint"]);
    assert!(
        h3.contains("Hint 3 of 3") && h3.contains("last hint"),
        "{h3}"
    );
    let o = lab.fails(&["challenge", "hint", "4"]);
    assert_eq!(o.status.code(), Some(2), "{}", describe("hint 4", &o));
    let zh = lab.ok(&["--lang", "zh", "challenge", "hint", "2"]);
    assert!(
        zh.contains("提示 2/3") && zh.contains("两端都处于 up 状态"),
        "{zh}"
    );
    solve(&lab, "bridge-port-down");
}

#[test]
fn veth_by_hand() {
    solve(&Lab::new("ch_veth"), "veth-by-hand");
}

#[test]
fn no_default_route() {
    solve(&Lab::new("ch_route"), "no-default-route");
}

#[test]
fn forwarding_off() {
    let lab = Lab::new("ch_forwarding");
    solve(&lab, "forwarding-off");
    // The next challenge in the same lab starts from a rebuilt lab.
    let o = lab.ok(&["challenge", "masquerade-gone"]);
    assert!(
        o.contains("masquerade") || o.contains("Requests leave"),
        "{o}"
    );
    let fwd = lab.ok(&["host", "--", "sysctl", "-n", "net.ipv4.ip_forward"]);
    assert_eq!(fwd.trim(), "1");
}

#[test]
fn forward_drop() {
    solve(&Lab::new("ch_forward_drop"), "forward-drop");
}

#[test]
fn masquerade_gone_and_lab_down_forgets_it() {
    let lab = Lab::new("ch_masquerade");
    solve(&lab, "masquerade-gone");
    lab.ok(&["lab", "down"]);
    assert!(!lab.dir().exists(), "lab down removes the lab's directory");
    let o = lab.fails(&["challenge", "check"]);
    assert!(
        stderr(&o).contains("no challenge is active"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn dnat_gone() {
    solve(&Lab::new("ch_dnat"), "dnat-gone");
}

#[test]
fn publish_by_hand() {
    solve(&Lab::new("ch_publish"), "publish-by-hand");
}

#[test]
fn every_challenge_has_a_test_and_the_list_is_json() {
    let lab = Lab::new("ch_list");
    let out = lab.ok(&["challenge", "list", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let names: Vec<&str> = rows
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            for k in ["article", "section", "title"] {
                assert!(!r[k].as_str().unwrap_or("").is_empty(), "{k} in {r}");
            }
            r["name"].as_str().unwrap()
        })
        .collect();
    assert!(names.len() >= 6, "{names:?}");
    let tested = [
        "bridge-port-down",
        "veth-by-hand",
        "no-default-route",
        "forwarding-off",
        "forward-drop",
        "masquerade-gone",
        "dnat-gone",
        "publish-by-hand",
    ];
    assert_eq!(names, tested, "each challenge needs its test above");
    let zh = lab.ok(&["--lang", "zh", "challenge", "list"]);
    assert!(
        zh.starts_with("名称") && zh.contains("容器上不了外网了"),
        "{zh}"
    );
    assert!(!lab.dir().exists(), "listing builds no lab");

    // The shell completes the challenges' names and the command's own words.
    let mut c = std::process::Command::new(BIN);
    c.args(["--", "dockernet", "challenge", ""])
        .env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", "2")
        .env("_CLAP_COMPLETE_COMP_TYPE", "9");
    let o = run_cmd(c);
    let offered: Vec<String> = stdout(&o)
        .split(['\n', '\u{b}'])
        .map(String::from)
        .collect();
    for want in tested.iter().chain(&["check", "hint", "list"]) {
        assert!(
            offered.iter().any(|w| w == want),
            "{want} not offered: {offered:?}"
        );
    }
}

#[test]
fn refusals_are_one_clear_line() {
    let lab = Lab::new("ch_refusals");
    let o = lab.fails(&["challenge", "check"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("no challenge is active") && err.contains("challenge NAME"),
        "{err}"
    );
    assert!(lab.fails(&["challenge", "hint"]).status.code() == Some(1));

    let o = lab.fails(&["challenge", "forwarding-of"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("did you mean forwarding-off") && err.contains("veth-by-hand"),
        "{err}"
    );
    assert!(!lab.dir().exists(), "a refusal builds no lab");

    // A lab holding the learner's own containers is not rebuilt under them.
    lab.run_d("mine", &["busybox", "sleep", "1000"]);
    let o = lab.fails(&["challenge", "forwarding-off"]);
    let err = stderr(&o);
    assert!(err.contains("mine") && err.contains("lab down"), "{err}");
    assert!(
        lab.record("mine")["status"] == "running",
        "the container is left alone"
    );
}

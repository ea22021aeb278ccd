//! Issue 15: `compare [--engines A,B] [SCENARIO]` builds one scenario under two engines
//! in throwaway labs and lines their rules up, each with its reason, in en and zh; the
//! throwaway labs are gone afterwards (and a killed compare's are removed by the next).

mod common;

use common::*;

/// Labs whose state directory exists and that `compare` made (`cmp<engine>_<pid>`).
fn throwaway_labs() -> Vec<String> {
    std::fs::read_dir("/run/dockernet")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("cmp"))
                .collect()
        })
        .unwrap_or_default()
}

/// `dockernet compare ARGS...` (no lab of its own is needed for a named scenario).
fn compare(lab: &Lab, args: &[&str]) -> String {
    let mut a = vec!["compare"];
    a.extend_from_slice(args);
    lab.ok(&a)
}

#[test]
fn portmap_27_against_29_as_a_diff() {
    let lab = Lab::new("cmp_portmap");
    let out = compare(&lab, &["portmap"]);
    // The 27-only FORWARD rules, the 29-only chains and raw drop, the shared DNAT.
    for want in [
        "- -A FORWARD -o bridge1 -j DOCKER",
        "- -A DOCKER-ISOLATION-STAGE-2 -o bridge1 -j DROP",
        "- -A POSTROUTING -s 192.0.2.2/32 -d 192.0.2.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE",
        "+ -N DOCKER-INTERNAL",
        "+ -A FORWARD -j DOCKER-FORWARD",
        "+ -A DOCKER ! -i bridge1 -o bridge1 -j DROP",
        "+ -A PREROUTING -d 192.0.2.2/32 ! -i bridge1 -j DROP",
        "  -A DOCKER ! -i bridge1 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.0.2.2:80",
        "  -A FORWARD -j DOCKER-USER",
    ] {
        assert!(
            out.lines().any(|l| l == want),
            "expected the line {want:?} in:\n{out}"
        );
    }
    // Each rule with its reason on the next line.
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("+ -A PREROUTING -d 192.0.2.2/32"))
        .unwrap();
    assert!(
        lines[at + 1].contains("nobody may route straight to 192.0.2.2"),
        "{}",
        lines[at + 1]
    );
    assert!(out.contains("What changed from 27 to 29:"), "{out}");
    assert!(
        out.contains("29 removed DOCKER-ISOLATION-STAGE-1/2"),
        "{out}"
    );
    assert!(
        !throwaway_labs()
            .iter()
            .any(|n| n.ends_with(&format!("_{}", std::process::id()))),
        "no throwaway lab is left: {:?}",
        throwaway_labs()
    );
}

#[test]
fn internal_28_against_29_side_by_side_in_chinese() {
    let lab = Lab::new("cmp_internal");
    let out = compare(
        &lab,
        &[
            "--lang",
            "zh",
            "--engines",
            "28,29",
            "--side-by-side",
            "internal",
        ],
    );
    // Without a terminal the columns are 48 wide: a long rule goes on over two lines.
    assert!(
        out.lines()
            .any(|l| l.split_once(" │ ").is_some_and(|(a, b)| a
                .starts_with("-A DOCKER-ISOLATION-STAGE-1 ! -s 192.0.2.0/24")
                && b.trim().is_empty())),
        "28's internal wall on the left only:\n{out}"
    );
    assert!(
        out.lines().any(|l| l
            .split_once(" │ ")
            .is_some_and(|(a, b)| a.trim().is_empty()
                && b.starts_with("-A DOCKER-INTERNAL ! -s 192.0.2.0/24"))),
        "29's wall on the right only:\n{out}"
    );
    assert!(out.contains("Docker 28 与 Docker 29"), "{out}");
    assert!(out.contains("内部网络：外面的流量不能进来"), "{out}");
    assert!(out.contains("从 28 到 29 改了什么："), "{out}");
    assert!(!out.contains("What changed"), "{out}");
}

#[test]
fn the_current_lab_is_copied_and_json_lists_every_row() {
    let lab = Lab::new("cmp_current");
    lab.ok(&["network", "create", "mynet"]);
    lab.run_d("web", &["-p", "8080:80", "busybox", "sleep", "600"]);
    lab.run_d("app", &["--network", "mynet", "busybox", "sleep", "600"]);
    lab.ok(&["network", "connect", "mynet", "web"]);
    let bridge = lab.network("mynet")["bridge"].as_str().unwrap().to_string();
    let web = lab.ip_of("web");
    let doc: serde_json::Value =
        serde_json::from_str(&compare(&lab, &["--engines", "27,28", "--format", "json"])).unwrap();
    assert_eq!(doc["engines"], serde_json::json!([27, 28]));
    let rows: Vec<&serde_json::Value> = doc["tables"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["rows"].as_array().unwrap())
        .collect();
    let has = |side: &str, rule: &str| {
        rows.iter().any(|r| {
            r["side"] == side && r["rule"] == rule && !r["why"].as_str().unwrap().is_empty()
        })
    };
    // The copy has the lab's own bridge name, container address and port.
    assert!(
        has("second", &format!("-A DOCKER-BRIDGE -o {bridge} -j DOCKER")),
        "{doc:#}"
    );
    assert!(
        has(
            "second",
            &format!("-A PREROUTING -d {web}/32 ! -i docker0 -j DROP")
        ),
        "{doc:#}"
    );
    assert!(
        has(
            "both",
            &format!(
                "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination {web}:80"
            )
        ),
        "{doc:#}"
    );
    assert!(
        has("first", &format!("-A FORWARD -o {bridge} -j DOCKER")),
        "{doc:#}"
    );
    // The lab itself is untouched: still its engine and its containers.
    assert_eq!(lab.state()["engine"], 27);
}

#[test]
fn bad_input_and_a_killed_compares_labs() {
    let lab = Lab::new("cmp_bad");
    let o = lab.fails(&["compare", "--engines", "27,27", "portmap"]);
    assert!(stderr(&o).contains("--engines"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    let o = lab.fails(&["compare", "--engines", "26,29"]);
    assert!(stderr(&o).contains("26"), "{}", stderr(&o));
    let o = lab.fails(&["compare"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "no lab and no scenario is a usage error"
    );
    assert!(stderr(&o).contains("portmap"), "{}", stderr(&o));
    let o = lab.fails(&["compare", "portmapp"]);
    assert!(stderr(&o).contains("portmap"), "{}", stderr(&o));
    let o = lab.fails(&["--dry-run", "compare", "portmap"]);
    assert!(stderr(&o).contains("--dry-run"), "{}", stderr(&o));
    // A lab left by a compare that was killed (its pid is gone) goes with the next one.
    let dead = std::process::Command::new("true").spawn().unwrap();
    let pid = dead.id();
    let mut dead = dead;
    dead.wait().unwrap();
    let stale = Lab {
        name: format!("cmp29_{pid}"),
    };
    stale.ok(&["lab", "up", "--engine", "29"]);
    assert!(stale.dir().exists());
    compare(&lab, &["default"]);
    assert!(
        !stale.dir().exists() && lab_namespaces(&stale.name).is_empty(),
        "the stale throwaway lab {} is removed",
        stale.name
    );
}

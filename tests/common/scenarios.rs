//! The scenarios of Docker's generated rule dumps (moby `iptablesdoc` / `nftablesdoc`),
//! built with dockernet commands: shared by tests/engines.rs and tests/nftables.rs.

use super::Lab;

/// Build one scenario of Docker's dumps in a fresh lab: `lab up` with `up` (the engine,
/// the backend) and the scenario's `--userland-proxy`, then its networks and containers.
pub fn build_scenario(lab: &Lab, up: &[&str], scenario: &str) {
    let proxy = if scenario.ends_with("noproxy") {
        "false"
    } else {
        "true"
    };
    let mut args = vec!["lab", "up"];
    args.extend_from_slice(up);
    args.extend(["--userland-proxy", proxy]);
    lab.ok(&args);
    let bridge1 = |extra: &[&str]| {
        let mut a = vec![
            "network",
            "create",
            "-o",
            "com.docker.network.bridge.name=bridge1",
            "--subnet",
            "192.0.2.0/24",
            "--gateway",
            "192.0.2.1",
        ];
        a.extend_from_slice(extra);
        a.push("bridge1");
        lab.ok(&a);
    };
    let c1 = |port: &str| {
        lab.run_d(
            "c1",
            &[
                "--network",
                "bridge1",
                "-p",
                port,
                "busybox",
                "sleep",
                "600",
            ],
        );
    };
    match scenario {
        "new-daemon" => {}
        "usernet-portmap" | "usernet-portmap-noproxy" => {
            bridge1(&[]);
            c1("8080:80");
        }
        "usernet-portmap-lo" => {
            bridge1(&[]);
            c1("127.0.0.1:8080:80");
        }
        "usernet-portmap-noicc" => {
            bridge1(&["-o", "com.docker.network.bridge.enable_icc=false"]);
            c1("8080:80");
        }
        "usernet-internal" => {
            lab.ok(&[
                "network",
                "create",
                "-o",
                "com.docker.network.bridge.name=bridgeICC",
                "--internal",
                "--subnet",
                "192.0.2.0/24",
                "--gateway",
                "192.0.2.1",
                "netICC",
            ]);
            lab.run_d("c1", &["--network", "netICC", "busybox", "sleep", "600"]);
            lab.ok(&[
                "network",
                "create",
                "-o",
                "com.docker.network.bridge.name=bridgeNoICC",
                "-o",
                "com.docker.network.bridge.enable_icc=false",
                "--internal",
                "--subnet",
                "192.168.100.0/24",
                "--gateway",
                "192.168.100.1",
                "netNoICC",
            ]);
            lab.run_d("c2", &["--network", "netNoICC", "busybox", "sleep", "600"]);
        }
        other => panic!("unknown scenario {other}"),
    }
}

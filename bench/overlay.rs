//! `cargo bench --bench overlay [-- --quick]`: the multi-host benchmark (bench/README.md).
//! Needs root and iperf3 (`apt-get install iperf3`); builds nothing: it runs
//! `target/release/dockernet` (or `DOCKERNET_BIN`) in a lab of its own, `ovb_<pid>`,
//! removed at the end.
//!
//! Side by side in one run, interleaved so that machine noise hits them alike:
//! 1. iperf3 between two containers on two lab hosts over our overlay (veth, br0,
//!    vxlan0 in each overlay namespace) against a VXLAN built by hand with `ip`
//!    between two namespaces of the same two hosts (the shell peer: one vxlan device
//!    straight in each namespace, same MTU 1450, VNI 100, same UDP port); target: ours
//!    at least 0.9 times the peer's throughput;
//! 2. `lab host add` (and `rm`): how long another Docker host takes;
//! 3. `run -d` on the overlay against `run -d` on the default bridge.

mod common;

use common::{
    busy_processes, catch_stop_signals, dockernet_timed, median, netns_with_prefix, stopping,
};
use std::path::PathBuf;
use std::process::{Command, ExitCode};

type Res<T> = Result<T, String>;

/// Repetitions: iperf3 pairs, seconds per iperf3 run, host add/rm rounds, run -d pairs.
struct Plan {
    pairs: usize,
    seconds: u32,
    host_rounds: usize,
    run_pairs: usize,
}

const FULL: Plan = Plan {
    pairs: 5,
    seconds: 4,
    host_rounds: 5,
    run_pairs: 15,
};
const QUICK: Plan = Plan {
    pairs: 2,
    seconds: 2,
    host_rounds: 2,
    run_pairs: 5,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        eprintln!("overlay bench: skipped (run it with `cargo bench --bench overlay`)");
        return ExitCode::SUCCESS;
    }
    let plan = if args.iter().any(|a| a == "--quick") {
        QUICK
    } else {
        FULL
    };
    let rig = match Rig::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("overlay bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = run(&rig, &plan);
    let _ = rig.dn(&["lab", "down"]);
    match result {
        Ok(pass) => {
            if pass {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("overlay bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The binary and the lab.
struct Rig {
    bin: PathBuf,
    lab: String,
}

impl Rig {
    fn new() -> Res<Rig> {
        if !nix_root() {
            return Err("needs root: run it with sudo".into());
        }
        if which("iperf3").is_none() {
            return Err("iperf3 not found: install it with `sudo apt-get install iperf3`".into());
        }
        let bin = std::env::var_os("DOCKERNET_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/dockernet")
            });
        if !bin.exists() {
            return Err(format!(
                "{} not found: `cargo build --release` first",
                bin.display()
            ));
        }
        Ok(Rig {
            bin,
            lab: format!("ovb_{}", std::process::id()),
        })
    }

    /// `dockernet --lab LAB ARGS`: (wall ms, stdout), or the error.
    fn dn(&self, args: &[&str]) -> Res<(f64, String)> {
        if stopping() {
            return Err("stopped by a signal".into());
        }
        dockernet_timed(&self.bin, &self.lab, args).map(|(ms, out, _)| (ms, out))
    }

    fn ns(&self, suffix: &str) -> String {
        format!("dn-{}-{suffix}", self.lab)
    }
}

fn nix_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn which(prog: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| PathBuf::from(d).join(prog))
        .find(|p| p.exists())
}

/// A shell command, which must succeed.
fn sh(script: &str) -> Res<String> {
    let out = Command::new("sh")
        .args(["-c", script])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "`{script}` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The shell peer: namespaces `sh1` (on the first host's side) and `sh2`, one VXLAN
/// device each made in its host's namespace straight into it, 10.99.0.1 and .2.
/// Named under the lab's prefix, so `lab down` removes them too.
fn shell_vxlan(rig: &Rig) -> Res<()> {
    let (h1, h2) = (rig.ns("host"), rig.ns("host2"));
    let (s1, s2) = (rig.ns("sh1"), rig.ns("sh2"));
    sh(&format!(
        "ip netns add {s1} && ip netns add {s2} && \
         ip -n {h1} link add vxs0 netns {s1} mtu 1450 type vxlan id 100 local 198.51.100.2 remote 198.51.100.3 dstport 4789 && \
         ip -n {h2} link add vxs0 netns {s2} mtu 1450 type vxlan id 100 local 198.51.100.3 remote 198.51.100.2 dstport 4789 && \
         ip -n {s1} addr add 10.99.0.1/24 dev vxs0 && ip -n {s1} link set vxs0 up && ip -n {s1} link set lo up && \
         ip -n {s2} addr add 10.99.0.2/24 dev vxs0 && ip -n {s2} link set vxs0 up && ip -n {s2} link set lo up"
    ))
    .map(drop)
}

/// iperf3 from namespace `client` to `server_ip` (an `iperf3 -s` in the peer
/// namespace): Gbit/s received.
fn iperf(client: &str, server_ip: &str, seconds: u32) -> Res<f64> {
    let out = sh(&format!(
        "ip netns exec {client} iperf3 -c {server_ip} -t {seconds} -J"
    ))?;
    let v: serde_json::Value = serde_json::from_str(&out).map_err(|e| e.to_string())?;
    v["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .map(|b| b / 1e9)
        .ok_or_else(|| "iperf3 printed no result".into())
}

fn run(rig: &Rig, plan: &Plan) -> Res<bool> {
    catch_stop_signals();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "overlay bench: lab {}, load {}, {} busy processes",
        rig.lab,
        load.split_whitespace().next().unwrap_or("?"),
        busy_processes()
    );
    rig.dn(&["lab", "up"])?;
    // 2. `lab host add` / `rm`, rounds.
    let (mut adds, mut rms) = (Vec::new(), Vec::new());
    for _ in 0..plan.host_rounds {
        adds.push(rig.dn(&["lab", "host", "add", "host2"])?.0);
        rms.push(rig.dn(&["lab", "host", "rm", "host2"])?.0);
    }
    rig.dn(&["lab", "host", "add", "host2"])?;
    rig.dn(&["network", "create", "-d", "overlay", "--attachable", "ov"])?;
    rig.dn(&[
        "run", "-d", "--name", "cli", "--net", "ov", "busybox", "sleep", "3600",
    ])?;
    rig.dn(&[
        "-H", "host2", "run", "-d", "--name", "srv", "--net", "ov", "busybox", "sleep", "3600",
    ])?;
    let srv_ip = rig
        .dn(&[
            "-H",
            "host2",
            "inspect",
            "-f",
            "{{(index .NetworkSettings.Networks \"ov\").IPAddress}}",
            "srv",
        ])?
        .1
        .trim()
        .to_string();
    shell_vxlan(rig)?;
    let (cli_ns, srv_ns) = (rig.ns("ctr-cli"), rig.ns("host2-ctr-srv"));
    let (s1, s2) = (rig.ns("sh1"), rig.ns("sh2"));
    for ns in [&srv_ns, &s2] {
        sh(&format!("ip netns exec {ns} iperf3 -s -D"))?;
    }
    // Warm both paths (ARP through the proxy, the first flows), then interleave.
    sh(&format!("ip netns exec {cli_ns} ping -c 2 -W 1 {srv_ip}"))?;
    sh(&format!("ip netns exec {s1} ping -c 2 -W 1 10.99.0.2"))?;
    let (mut ours, mut shell) = (Vec::new(), Vec::new());
    for i in 0..plan.pairs {
        if i % 2 == 0 {
            ours.push(iperf(&cli_ns, &srv_ip, plan.seconds)?);
            shell.push(iperf(&s1, "10.99.0.2", plan.seconds)?);
        } else {
            shell.push(iperf(&s1, "10.99.0.2", plan.seconds)?);
            ours.push(iperf(&cli_ns, &srv_ip, plan.seconds)?);
        }
    }
    // 3. `run -d` on the overlay and on the default bridge, interleaved.
    let (mut ov_runs, mut br_runs) = (Vec::new(), Vec::new());
    for i in 0..plan.run_pairs {
        let o = format!("o{i}");
        let b = format!("b{i}");
        ov_runs.push(
            rig.dn(&[
                "run", "-d", "--name", &o, "--net", "ov", "busybox", "sleep", "600",
            ])?
            .0,
        );
        br_runs.push(
            rig.dn(&["run", "-d", "--name", &b, "busybox", "sleep", "600"])?
                .0,
        );
        rig.dn(&["rm", "-f", &o, &b])?;
    }
    let left = netns_with_prefix(&format!("dn-{}-", rig.lab)).len();
    let (g_ours, g_shell) = (median(&ours), median(&shell));
    let ratio = g_ours / g_shell;
    let pass = ratio >= 0.9;
    println!();
    println!("| measure | dockernet | peer | ratio | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| iperf3 over VXLAN, Gbit/s (median of {}, {} s each) | {g_ours:.2} | {g_shell:.2} (shell VXLAN) | {ratio:.2} | >= 0.9: {} |",
        plan.pairs,
        plan.seconds,
        if pass { "PASS" } else { "FAIL" }
    );
    println!(
        "| `lab host add`, ms (median of {}) | {:.1} | | | |",
        plan.host_rounds,
        median(&adds)
    );
    println!(
        "| `lab host rm`, ms (median of {}) | {:.1} | | | |",
        plan.host_rounds,
        median(&rms)
    );
    println!(
        "| `run -d`, ms (median of {}) | overlay {:.2} | bridge {:.2} | {:.2} | |",
        plan.run_pairs,
        median(&ov_runs),
        median(&br_runs),
        median(&ov_runs) / median(&br_runs)
    );
    println!("\nsamples: ours {ours:.2?}, shell {shell:.2?}; namespaces before lab down: {left}");
    Ok(pass)
}

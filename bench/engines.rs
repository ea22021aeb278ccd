//! `cargo bench --bench engines [-- --quick] [-- --no-netavark]`: what each engine's rule
//! layout costs when a container publishes a port. For Docker 27, 28, 29 (iptables) and
//! 29 with the nftables backend, `run -d -p PORT:80` (its network part, from
//! DOCKERNET_TIMINGS: every step incl. the firewall change) and `rm -f`, side by side in
//! the same run with netavark 1.4 doing the same kernel work (a veth, an address, a route
//! and the iptables rules of one port mapping), if installed. See bench/README.md.
//! Needs root; builds nothing: it runs `target/release/dockernet`.

mod common;
// The lab benchmark's peers; this one uses netavark and `purge` only.
#[allow(dead_code)]
mod peers;

use common::{busy_processes, catch_stop_signals, dockernet_timed, median, run_timing, stopping};
use peers::{Netavark, Res, purge};
use std::path::PathBuf;
use std::process::ExitCode;

/// The layouts measured: (label, `lab up` arguments).
const VARIANTS: &[(&str, &[&str])] = &[
    ("Docker 27 (iptables)", &["--engine", "27"]),
    ("Docker 28 (iptables)", &["--engine", "28"]),
    ("Docker 29 (iptables)", &["--engine", "29"]),
    (
        "Docker 29 (nftables)",
        &["--engine", "29", "--firewall-backend", "nftables"],
    ),
];

/// Samples of one variant.
#[derive(Default)]
struct Samples {
    up: Vec<f64>,
    network: Vec<f64>,
    wall: Vec<f64>,
    rm: Vec<f64>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Under `cargo test --all-targets` this binary runs without `--bench`: do nothing.
    if !args.iter().any(|a| a == "--bench") {
        eprintln!("engines bench: skipped (run it with `cargo bench --bench engines`)");
        return ExitCode::SUCCESS;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let use_netavark = !args.iter().any(|a| a == "--no-netavark");
    catch_stop_signals();
    let pid = std::process::id();
    let result = run(quick, use_netavark, pid);
    cleanup(pid);
    match result {
        Ok(table) => {
            print!("{table}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("engines bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn dn() -> PathBuf {
    std::env::var_os("DOCKERNET_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/dockernet")
        })
}

fn lab_name(v: usize, pid: u32) -> String {
    format!("benceng{v}_{pid}")
}

/// Remove this run's labs and namespaces, and those of runs killed before (dead pids).
fn cleanup(pid: u32) {
    let dn = dn();
    let mut pids = vec![pid];
    for e in std::fs::read_dir("/run/dockernet")
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(p) = name
            .strip_prefix("benceng")
            .and_then(|r| r.split_once('_'))
            .and_then(|(_, p)| p.parse::<u32>().ok())
            && p != pid
            && !std::path::Path::new(&format!("/proc/{p}")).exists()
        {
            pids.push(p);
        }
    }
    for p in pids {
        for v in 0..VARIANTS.len() {
            let _ = std::process::Command::new(&dn)
                .args(["--lab", &lab_name(v, p), "lab", "down"])
                .output();
        }
        purge(&format!("dnbencheng-{p}-"));
    }
}

fn run(quick: bool, use_netavark: bool, pid: u32) -> Res<String> {
    if unsafe { libc::geteuid() } != 0 {
        return Err("needs root (network namespaces): run it with sudo".into());
    }
    let dn = dn();
    if !dn.exists() {
        return Err(format!(
            "{} not found: run `cargo build --release` first",
            dn.display()
        ));
    }
    let (n, rounds) = if quick { (5, 2) } else { (20, 3) };
    let nv_bin = if use_netavark { Netavark::find() } else { None };
    let mut samples: Vec<Samples> = VARIANTS.iter().map(|_| Samples::default()).collect();
    let (mut nv_setup, mut nv_down) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        eprintln!(
            "engines bench: round {}/{rounds}, {n} containers per layout",
            round + 1
        );
        for (v, (_, up)) in VARIANTS.iter().enumerate() {
            let mut a = vec!["lab", "up"];
            a.extend_from_slice(up);
            let (ms, _, _) = dockernet_timed(&dn, &lab_name(v, pid), &a)?;
            samples[v].up.push(ms);
        }
        let mut nv = match &nv_bin {
            Some(b) => Some(Netavark::up(b.clone(), &format!("dnbencheng-{pid}-"))?),
            None => None,
        };
        // Interleaved, so that machine noise hits every layout and the peer alike.
        for i in 0..n {
            if stopping() {
                return Err("stopped".into());
            }
            let port = format!("{}:80", 8000 + i);
            for (v, sample) in samples.iter_mut().enumerate() {
                let name = format!("p{i}");
                let (wall, _, err) = dockernet_timed(
                    &dn,
                    &lab_name(v, pid),
                    &[
                        "run", "-d", "--name", &name, "-p", &port, "busybox", "sleep", "3600",
                    ],
                )?;
                sample.wall.push(wall);
                sample.network.push(
                    run_timing(&err, "network_ms").ok_or("no dockernet-timing line on stderr")?,
                );
            }
            if let Some(nv) = nv.as_mut() {
                nv_setup.push(nv.container_published(i, Some(8000 + i as u16))?);
            }
        }
        for i in 0..n {
            for (v, sample) in samples.iter_mut().enumerate() {
                let (ms, _, _) =
                    dockernet_timed(&dn, &lab_name(v, pid), &["rm", "-f", &format!("p{i}")])?;
                sample.rm.push(ms);
            }
        }
        if let Some(mut nv) = nv {
            nv_down.push(nv.down()? / n as f64);
        }
        for v in 0..VARIANTS.len() {
            dockernet_timed(&dn, &lab_name(v, pid), &["lab", "down"])?;
        }
    }
    Ok(report(&samples, &nv_setup, &nv_down, n, rounds))
}

fn report(s: &[Samples], nv_setup: &[f64], nv_down: &[f64], n: usize, rounds: usize) -> String {
    let nv = median(nv_setup);
    let ratio = |x: f64| {
        if nv.is_nan() {
            "—".to_string()
        } else {
            format!("×{:.2}", x / nv)
        }
    };
    let mut o = "| layout (`lab up` flags) | `lab up` ms | `run -d -p` network part ms | vs netavark setup | `run -d -p` wall ms | `rm -f` wall ms |\n|---|---|---|---|---|---|\n".to_string();
    for ((label, _), x) in VARIANTS.iter().zip(s) {
        let net = median(&x.network);
        o.push_str(&format!(
            "| {label} | {:.1} | {net:.2} | {} | {:.1} | {:.1} |\n",
            median(&x.up),
            ratio(net),
            median(&x.wall),
            median(&x.rm)
        ));
    }
    if nv.is_nan() {
        o.push_str(
            "| netavark 1.4 | — | not installed (`apt-get install netavark`) | — | — | — |\n",
        );
    } else {
        o.push_str(&format!(
            "| netavark 1.4, one port mapping (iptables) | — | {nv:.2} | ×1.00 | — | teardown {:.1} |\n",
            median(nv_down)
        ));
    }
    o.push_str(&format!(
        "\nMedians of {n} containers × {rounds} rounds per layout, interleaved; load average {}; {} compiler processes seen.\n",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .unwrap_or("?"),
        busy_processes()
    ));
    o
}

//! `cargo bench --bench datapath [-- --quick] [-- --busy-poll]`: the port-publishing
//! benchmark (bench/README.md). Needs root and socat; builds nothing: it runs
//! `target/release/dockernet` in a lab of its own, `dp_<pid>`, removed at the end.
//!
//! One container `srv` runs this binary as its server (`--serve`), published with
//! `run -d -p 8080:5001`. Bulk throughput, new connections per second and 64-byte round
//! trips (once with client, relay and server pinned to one CPU, once free) are measured
//! through five paths (see [`Path`]), interleaved (the order rotates every repetition)
//! so that machine noise hits them alike; then `run -d -p` is timed against `run -d`,
//! interleaved too. Clients are this binary again (`--client`), run
//! inside the lab's namespaces (setns between fork and exec).

mod common;
mod dp_affinity;
mod dp_report;
mod dp_rig;
mod traffic;

use dp_affinity::Pinned;
use dp_report::{Path, PathSamples, Results, RunSample, busy_processes, loadavg, median, sh};
use dp_rig::{Res, Rig, remove_stale, root_iptables};
use std::process::ExitCode;

/// The server's port in the container.
const PORT: u16 = 5001;
/// The published host port (`-p 8080:5001`): DNAT rule and docker-proxy.
const HOST_PORT: u16 = 8080;
/// socat with default buffers, in the lab host.
const SOCAT_PORT: u16 = 8081;
/// `socat -b 262144`, in the lab host.
const SOCAT_BIG_PORT: u16 = 8082;

/// Repetitions and seconds per run (bulk, connection rate, ping-pong); `run -d` pairs.
struct Plan {
    reps: usize,
    bulk: f64,
    crr: f64,
    rr: f64,
    run_pairs: usize,
}

const FULL: Plan = Plan {
    reps: 5,
    bulk: 4.0,
    crr: 1.5,
    rr: 1.5,
    run_pairs: 20,
};
const QUICK: Plan = Plan {
    reps: 2,
    bulk: 2.0,
    crr: 1.0,
    rr: 1.0,
    run_pairs: 8,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The re-executed roles first: they run without `--bench`.
    match args.first().map(String::as_str) {
        Some("--serve") => {
            let port = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(PORT);
            return match traffic::serve(port) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("serve: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some("--client") => {
            let out = traffic::ClientArgs::parse(&args[1..])
                .and_then(|c| traffic::client(&c).map_err(|e| e.to_string()));
            return match out {
                Ok(json) => {
                    println!("{json}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("client: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        _ => {}
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("usage: cargo bench --bench datapath [-- --quick] [-- --busy-poll]");
        return ExitCode::SUCCESS;
    }
    // `cargo test --all-targets` runs bench binaries without `--bench`.
    if !args.iter().any(|a| a == "--bench") {
        eprintln!("datapath bench: skipped (run it with `cargo bench --bench datapath`)");
        return ExitCode::SUCCESS;
    }
    let plan = if args.iter().any(|a| a == "--quick") {
        QUICK
    } else {
        FULL
    };
    let busy_poll = args.iter().any(|a| a == "--busy-poll");
    match main_inner(&plan, busy_poll) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("datapath bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main_inner(plan: &Plan, busy_poll: bool) -> Res<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("needs root (network namespaces): run it with sudo".into());
    }
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dn = std::env::var_os("DOCKERNET_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/dockernet"));
    if !dn.exists() {
        return Err(format!(
            "{} not found: run `cargo build --release` first",
            dn.display()
        ));
    }
    if sh("socat", &["-V"]).is_empty() {
        return Err("socat not found: `apt-get install -y socat`".into());
    }
    common::catch_stop_signals();
    remove_stale(&dn);
    let iptables_before = root_iptables();
    let rev = sh(
        "git",
        &[
            "-C",
            &root.display().to_string(),
            "describe",
            "--always",
            "--dirty",
        ],
    );
    let header = format!(
        "\ndockernet {rev}, kernel {}, {} CPUs, load {} at start; {} repetitions of bulk {} s, \
         connection rate {} s, ping-pong {} s twice (all on the last CPU, blocking; any CPU, {}); \
         {}\n\n",
        sh("uname", &["-r"]),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg(),
        plan.reps,
        plan.bulk,
        plan.crr,
        plan.rr,
        if busy_poll { "busy-poll" } else { "blocking" },
        sh("socat", &["-V"])
            .lines()
            .nth(1)
            .unwrap_or("socat")
            .trim()
    );
    let mut rig = Rig::new(dn, format!("dp_{}", std::process::id()))?;
    let mut r = Results::default();
    let outcome = measure(&mut rig, plan, busy_poll, &mut r);
    let leaks = rig.cleanup();
    outcome?;
    leaks?;
    if root_iptables() != iptables_before {
        return Err("the root namespace's iptables-save changed during the run".into());
    }
    print!("{header}{}", r.table());
    Ok(())
}

/// Everything measured, in one lab: data paths first, then `run -d -p` vs `run -d`.
fn measure(rig: &mut Rig, plan: &Plan, busy_poll: bool, r: &mut Results) -> Res<()> {
    rig.dn(&["lab", "up"])?;
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let me = me.to_str().ok_or("bench binary path is not UTF-8")?;
    let publish = format!("{HOST_PORT}:{PORT}");
    let port = PORT.to_string();
    let lab = rig.lab.clone();
    #[rustfmt::skip]
    let run = ["run", "-d", "-p", &publish, "--name", "srv", "--", me, "--serve", &port, &lab];
    rig.dn(&run)?;
    let ip = rig.container_ip("srv")?;
    let target = format!("{ip}:{PORT}");
    rig.socat(SOCAT_PORT, &target, None)?;
    rig.socat(SOCAT_BIG_PORT, &target, Some(262_144))?;
    let addr = |p: Path| match p {
        Path::Dnat => format!("198.51.100.2:{HOST_PORT}"),
        Path::Proxy => format!("127.0.0.1:{HOST_PORT}"),
        Path::Socat => format!("127.0.0.1:{SOCAT_PORT}"),
        Path::SocatBig => format!("127.0.0.1:{SOCAT_BIG_PORT}"),
        Path::Direct => target.clone(),
    };
    r.paths = Path::ALL
        .iter()
        .map(|&p| PathSamples {
            label: match p {
                Path::Dnat => format!("(a) world → {}, DNAT", addr(p)),
                Path::Proxy => format!("(b) lab host → {}, dockernet's docker-proxy", addr(p)),
                Path::Socat => format!("(c) lab host → {}, socat (default buffers)", addr(p)),
                Path::SocatBig => format!("(d) lab host → {}, `socat -b 262144`", addr(p)),
                Path::Direct => format!("(e) lab host → {}, no NAT, no proxy (reference)", addr(p)),
            },
            ..Default::default()
        })
        .collect();
    for &p in &Path::ALL {
        rig.wait_ready(p, &addr(p))?;
    }
    let extra: &[&str] = if busy_poll { &["--busy-poll"] } else { &[] };
    // The CPU of the one-CPU round trips: the last one.
    let cpu = std::thread::available_parallelism().map_or(1, |n| n.get()) - 1;
    let modes = [
        ("bulk", plan.bulk),
        ("crr", plan.crr),
        ("rr1", plan.rr),
        ("rr", plan.rr),
    ];
    for rep in 0..plan.reps {
        r.busy.push(busy_processes());
        eprintln!("datapath bench: repetition {}/{}", rep + 1, plan.reps);
        for (mode, secs) in modes {
            for k in 0..Path::ALL.len() {
                let p = Path::ALL[(k + rep) % Path::ALL.len()];
                let s = &mut r.paths[p as usize];
                sample(rig, s, p, &addr(p), mode, secs, extra, cpu)?;
            }
        }
    }
    run_cost(rig, plan.run_pairs, r)
}

/// One measurement of path `p` into `s`. Modes: `bulk`, `crr`, `rr` (round trips,
/// free to use every CPU), `rr1` (client, relay and echo thread pinned to `cpu`).
#[allow(clippy::too_many_arguments)]
fn sample(
    rig: &mut Rig,
    s: &mut PathSamples,
    p: Path,
    addr: &str,
    mode: &str,
    secs: f64,
    extra: &[&str],
    cpu: usize,
) -> Res<()> {
    let cpu_arg = cpu.to_string();
    let v = match mode {
        "bulk" => {
            let cpu0 = rig.relay_cpu(p);
            let v = rig.client(p, mode, addr, secs, &[])?;
            let secs = v["secs"].as_f64().unwrap_or(f64::NAN);
            s.gbps.push(v["gbps"].as_f64().unwrap_or(f64::NAN));
            if let (Some(a), Some(b)) = (cpu0, rig.relay_cpu(p)) {
                s.relay_cpu.push((b - a) / secs * 100.0);
            }
            v
        }
        "crr" => {
            let cpu0 = rig.relay_cpu(p);
            let v = rig.client(p, mode, addr, secs, &[])?;
            let secs = v["secs"].as_f64().unwrap_or(f64::NAN);
            s.conns_per_s
                .push(v["per_sec"].as_f64().unwrap_or(f64::NAN));
            s.conn_errors += v["errors"].as_u64().unwrap_or(0);
            if let (Some(a), Some(b)) = (cpu0, rig.relay_cpu(p)) {
                s.relay_cpu_conns.push((b - a) / secs * 100.0);
            }
            v
        }
        "rr1" => {
            let pinned = Pinned::pin(rig.relay_pid(p), cpu)
                .map_err(|e| format!("pinning the relay of {p:?}: {e}"))?;
            let v = rig.client(p, "rr", addr, secs, &["--pin", &cpu_arg]);
            drop(pinned); // back to its old CPU mask before anything else can fail
            let v = v?;
            s.rtt1_us.push(v["median_us"].as_f64().unwrap_or(f64::NAN));
            s.rtt1_p99_us.push(v["p99_us"].as_f64().unwrap_or(f64::NAN));
            v
        }
        _ => {
            let v = rig.client(p, mode, addr, secs, extra)?;
            s.rtt_us.push(v["median_us"].as_f64().unwrap_or(f64::NAN));
            s.rtt_p99_us.push(v["p99_us"].as_f64().unwrap_or(f64::NAN));
            v
        }
    };
    eprintln!("  {mode:4} {p:?}: {v}");
    Ok(())
}

/// `run -d -p PORT:80 httpd` against `run -d httpd`, alternating which goes first.
fn run_cost(rig: &mut Rig, pairs: usize, r: &mut Results) -> Res<()> {
    eprintln!("datapath bench: `run -d -p` vs `run -d`, {pairs} pairs");
    let timing = |err: &str, key: &str| -> f64 {
        err.lines()
            .find(|l| l.starts_with("dockernet-timing "))
            .and_then(|l| {
                l.split_whitespace()
                    .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
            })
            .unwrap_or(f64::NAN)
    };
    // Pair 0 warms up (page cache, image files) and is not counted.
    for i in 0..=pairs {
        let (plain, publ, hp) = (
            format!("plain{i}"),
            format!("pub{i}"),
            format!("{}:80", 10000 + i),
        );
        let runs: [Vec<&str>; 2] = [
            vec!["run", "-d", "--name", &plain, "httpd"],
            vec!["run", "-d", "-p", &hp, "--name", &publ, "httpd"],
        ];
        let mut got = [None, None];
        for k in [i % 2, 1 - i % 2] {
            let (wall, _, err) = rig.dn(&runs[k])?;
            got[k] = Some(RunSample {
                wall,
                network: timing(&err, "network_ms"),
                spawn: timing(&err, "spawn_ms"),
            });
        }
        if i > 0 {
            r.plain.extend(got[0]);
            r.publish.extend(got[1]);
        }
    }
    let walls = |v: &[RunSample]| median(&v.iter().map(|s| s.wall).collect::<Vec<_>>());
    eprintln!(
        "  run -d {:.2} ms, run -d -p {:.2} ms (medians)",
        walls(&r.plain),
        walls(&r.publish)
    );
    Ok(())
}

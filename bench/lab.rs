//! `cargo bench --bench lab [-- --quick] [-- --no-netavark]`: how fast dockernet builds
//! containers, side by side with the shell-script baseline (and netavark if installed).
//! See bench/README.md. Needs root; builds nothing: it runs `target/release/dockernet`.
//!
//! Per round: `lab up` a fresh lab `bench_<pid>`, then for i in 0..N alternate
//! `dockernet run -d` container i, baseline container i, netavark container i (so machine
//! noise hits all equally), then `lab down` and the peers' teardowns. Rounds are
//! repeated (more for small N) and samples pooled. Everything is removed at the end,
//! also on failure or Ctrl-C (the first one; a second one kills at once).

mod common;
mod peers;
mod report;

use peers::{Netavark, Res, ShellBaseline, netns_with_prefix, purge};
use report::{Results, Sample, busy_processes, header};
use std::path::PathBuf;
use std::process::ExitCode;

/// (N containers, rounds). More rounds for small N so every row has enough samples.
const FULL: &[(usize, usize)] = &[(1, 10), (10, 5), (100, 3)];
const QUICK: &[(usize, usize)] = &[(1, 5), (10, 3)];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("usage: cargo bench --bench lab [-- --quick] [-- --no-netavark]");
        return ExitCode::SUCCESS;
    }
    // Cargo passes `--bench` under `cargo bench` only; `cargo test --all-targets` runs
    // this binary without it, and must not set off a root-only, minute-long benchmark.
    if !args.iter().any(|a| a == "--bench") {
        eprintln!("lab bench: skipped (run it with `cargo bench --bench lab`)");
        return ExitCode::SUCCESS;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let netavark = !args.iter().any(|a| a == "--no-netavark");
    match main_inner(quick, netavark) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lab bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main_inner(quick: bool, want_netavark: bool) -> Res<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("needs root (network namespaces): run it with sudo".into());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dn = std::env::var_os("DOCKERNET_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/dockernet"));
    if !dn.exists() {
        return Err(format!(
            "{} not found: run `cargo build --release` first",
            dn.display()
        ));
    }
    common::catch_stop_signals();
    remove_stale(&dn);
    let pid = std::process::id();
    let nv_bin = if want_netavark {
        Netavark::find()
    } else {
        None
    };
    let mut b = Bench {
        dn,
        lab: format!("bench_{pid}"),
        prefix: format!("dnbench-{pid}-"),
        nv_bin,
        base: None,
        nv: None,
        r: Results::default(),
    };
    let plan = if quick { QUICK } else { FULL };
    let header = header(&root, plan, b.nv_bin.is_some(), want_netavark);
    let outcome = plan
        .iter()
        .try_for_each(|&(n, rounds)| (0..rounds).try_for_each(|_| b.round(n)));
    let leaks = b.cleanup();
    outcome?;
    leaks?;
    print!("{header}");
    print!(
        "{}",
        b.r.table(plan.last().expect("plan").0, b.nv_bin.is_some())
    );
    Ok(())
}

/// Labs and baseline namespaces left by a benchmark that was killed (its PID is gone).
fn remove_stale(dn: &std::path::Path) {
    // The PID right after `prefix` in a namespace name, if that process is gone.
    let dead_pid = |ns: &str, prefix: &str| {
        let pid: String = ns[prefix.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let gone = !pid.is_empty() && !std::path::Path::new(&format!("/proc/{pid}")).exists();
        gone.then_some(pid)
    };
    let mut labs: Vec<String> = netns_with_prefix("dn-bench_")
        .iter()
        .filter_map(|ns| dead_pid(ns, "dn-bench_"))
        .collect();
    labs.dedup(); // one lab has several namespaces (sorted, so duplicates are adjacent)
    for pid in labs {
        eprintln!("lab bench: removing stale lab bench_{pid}");
        let _ = common::dockernet_timed(dn, &format!("bench_{pid}"), &["lab", "down"]);
    }
    // purge() removes all of a PID's namespaces at once; later ones are then gone.
    for ns in netns_with_prefix("dnbench-") {
        if let Some(pid) = dead_pid(&ns, "dnbench-")
            && !netns_with_prefix(&format!("dnbench-{pid}-")).is_empty()
        {
            eprintln!("lab bench: removing stale namespaces dnbench-{pid}-*");
            purge(&format!("dnbench-{pid}-"));
        }
    }
}

/// `dockernet-timing network_ms=X spawn_ms=Y` from a run's stderr.
fn timing(stderr: &str, key: &str) -> Option<f64> {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("dockernet-timing "))?;
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

struct Bench {
    dn: PathBuf,
    lab: String,
    /// `dnbench-<pid>-`: every namespace of the peers.
    prefix: String,
    nv_bin: Option<PathBuf>,
    base: Option<ShellBaseline>,
    nv: Option<Netavark>,
    r: Results,
}

impl Bench {
    fn dn(&self, args: &[&str]) -> Res<(f64, String, String)> {
        if common::stopping() {
            return Err("interrupted".into());
        }
        common::dockernet_timed(&self.dn, &self.lab, args)
    }

    /// One fresh lab with `n` containers, interleaved with the peers.
    fn round(&mut self, n: usize) -> Res<()> {
        eprintln!("lab bench: round with N={n}");
        self.r.busy.push(busy_processes());
        self.r.lab_up.push(self.dn(&["lab", "up"])?.0);
        self.base = Some(ShellBaseline::up(&self.prefix)?);
        if let Some(bin) = &self.nv_bin {
            self.nv = Some(Netavark::up(bin.clone(), &self.prefix)?);
        }
        let mut samples = Vec::with_capacity(n);
        for i in 0..n {
            let name = format!("b{i}");
            let (run, id, err) =
                self.dn(&["run", "-d", "--name", &name, "busybox", "sleep", "3600"])?;
            if id.trim().len() != 64 {
                return Err(format!("run printed {id:?}, not a container ID"));
            }
            let net = timing(&err, "network_ms").ok_or("no dockernet-timing line on stderr")?;
            let spawn = timing(&err, "spawn_ms").unwrap_or(f64::NAN);
            let base = self.base.as_mut().expect("up").container(i)?;
            let nv = match self.nv.as_mut() {
                Some(nv) => nv.container(i)?,
                None => f64::NAN,
            };
            samples.push(Sample {
                run,
                net,
                spawn,
                base,
                nv,
            });
        }
        self.r.rounds.entry(n).or_default().push(samples);
        let down = self.dn(&["lab", "down"])?.0;
        self.r.lab_down.entry(n).or_default().push(down);
        let bd = self.base.take().expect("up").down()?;
        self.r.base_down.entry(n).or_default().push(bd);
        if let Some(mut nv) = self.nv.take() {
            self.r.nv_down.entry(n).or_default().push(nv.down()?);
        }
        Ok(())
    }

    /// Remove our lab and every peer namespace, whatever state a failure left them in,
    /// then check that nothing of ours is left.
    fn cleanup(&mut self) -> Res<()> {
        let _ = common::dockernet_timed(&self.dn, &self.lab, &["lab", "down"]);
        self.base = None; // Drop kills the sleeps by PID
        self.nv = None;
        purge(&self.prefix);
        let mut left = netns_with_prefix(&self.prefix);
        left.extend(netns_with_prefix(&format!("dn-{}-", self.lab)));
        if !left.is_empty() {
            return Err(format!("namespaces left behind: {}", left.join(" ")));
        }
        Ok(())
    }
}

impl Drop for Bench {
    /// Panics take this path; `cleanup` is idempotent.
    fn drop(&mut self) {
        if self.base.is_some() || self.nv.is_some() || !netns_with_prefix(&self.prefix).is_empty() {
            let _ = self.cleanup();
        }
    }
}

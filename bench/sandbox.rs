//! `cargo bench --bench sandbox [-- --quick]`: what a container's own root filesystem
//! and Docker's privileges (overlay, pivot_root, fresh /proc and /dev, masks,
//! capabilities, no_new_privs, the seccomp filter) cost `run -d`, measured in one run
//! beside the binary from before them and the lab benchmark's shell baseline (the noise
//! control); then `rm -f` of 100 containers and `lab down` of a lab with 100. See
//! bench/README.md. Needs root; builds nothing: it runs `target/release/dockernet`
//! (or `DOCKERNET_BIN`) and the older binary named by `DOCKERNET_BEFORE_BIN`.

mod common;
// The lab benchmark's peers; this one uses the shell baseline only.
#[allow(dead_code)]
mod peers;

use common::{busy_processes, dockernet_timed, median, netns_with_prefix};
use peers::{Res, ShellBaseline, purge};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// `run -d` samples per binary (after one uncounted warm-up that builds the image tree).
const RUNS: usize = 30;
const QUICK_RUNS: usize = 10;
/// Containers in the `rm -f` and `lab down` measurements.
const MANY: usize = 100;
/// Rounds of those (full run; `--quick`: one).
const MANY_ROUNDS: usize = 2;

const HOW_TO_BUILD_BEFORE: &str = "DOCKERNET_BEFORE_BIN is not set: build the commit before \
the root filesystem and privileges in a directory of its own, e.g. `git archive 3b56782 | \
tar -x -C /tmp/dn-before && (cd /tmp/dn-before && cargo build --release --target-dir \
/tmp/dn-before-target)`, then DOCKERNET_BEFORE_BIN=/tmp/dn-before-target/release/dockernet";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("usage: DOCKERNET_BEFORE_BIN=OLD cargo bench --bench sandbox [-- --quick]");
        return ExitCode::SUCCESS;
    }
    // As in the lab benchmark: `cargo test --all-targets` runs this without `--bench`.
    if !args.iter().any(|a| a == "--bench") {
        eprintln!("sandbox bench: skipped (run it with `cargo bench --bench sandbox`)");
        return ExitCode::SUCCESS;
    }
    match main_inner(args.iter().any(|a| a == "--quick")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sandbox bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One binary under test, with a lab of its own.
struct Subject {
    label: &'static str,
    bin: PathBuf,
    lab: String,
}

impl Subject {
    fn dn(&self, args: &[&str]) -> Res<(f64, String, String)> {
        if common::stopping() {
            return Err("interrupted".into());
        }
        dockernet_timed(&self.bin, &self.lab, args)
    }

    /// `run -d --name NAME busybox sleep 3600`: wall ms and the `DOCKERNET_TIMINGS` parts.
    fn run(&self, name: &str) -> Res<Run> {
        let (wall, id, err) =
            self.dn(&["run", "-d", "--name", name, "busybox", "sleep", "3600"])?;
        if id.trim().len() != 64 {
            return Err(format!(
                "{}: run printed {id:?}, not a container ID",
                self.label
            ));
        }
        let t = |k| timing(&err, "dockernet-timing ", k).unwrap_or(f64::NAN);
        let stage = |k| timing(&err, "dockernet-timing-spawn ", k).unwrap_or(f64::NAN);
        Ok(Run {
            wall,
            net: t("network_ms"),
            spawn: t("spawn_ms"),
            pre: t("before_network_ms"),
            shim: stage("spawn_exec_ms"),
            rootfs: stage("spawn_rootfs_ms"),
            privileges: stage("spawn_privileges_ms"),
        })
    }

    /// A fresh lab holding `MANY` containers `m0..`; returns their names.
    fn fill(&self) -> Res<Vec<String>> {
        let _ = self.dn(&["lab", "down"]);
        self.dn(&["lab", "up"])?;
        let names: Vec<String> = (0..MANY).map(|i| format!("m{i}")).collect();
        for n in &names {
            self.run(n)?;
        }
        Ok(names)
    }
}

/// One field of a [`Run`].
type Part = fn(&Run) -> f64;

/// One `run -d`, ms: wall time, and the parts the binary reports.
#[derive(Clone, Copy)]
struct Run {
    wall: f64,
    net: f64,
    spawn: f64,
    pre: f64,
    /// Spawn stages (binaries that report them): the shim's start, the root
    /// filesystem, the privileges.
    shim: f64,
    rootfs: f64,
    privileges: f64,
}

/// `key=X` from the line of a run's stderr that starts with `prefix`.
fn timing(stderr: &str, prefix: &str, key: &str) -> Option<f64> {
    let line = stderr.lines().find(|l| l.starts_with(prefix))?;
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

/// Nearest-rank percentile.
fn pct(v: &[f64], p: f64) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(f64::total_cmp);
    let k = ((p / 100.0 * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[k - 1]
}

fn sh(cmd: &Path, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn load() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn main_inner(quick: bool) -> Res<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("needs root (network namespaces): run it with sudo".into());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let today = std::env::var_os("DOCKERNET_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/dockernet"));
    let before =
        PathBuf::from(std::env::var_os("DOCKERNET_BEFORE_BIN").ok_or(HOW_TO_BUILD_BEFORE)?);
    for b in [&today, &before] {
        if !b.exists() {
            return Err(format!(
                "{} not found: build it first (`cargo build --release`)",
                b.display()
            ));
        }
    }
    common::catch_stop_signals();
    remove_stale(&today);
    let pid = std::process::id();
    let subjects = [
        Subject {
            label: "today",
            bin: today,
            lab: format!("sbx_{pid}_a"),
        },
        Subject {
            label: "before",
            bin: before,
            lab: format!("sbx_{pid}_b"),
        },
    ];
    let prefix = format!("dnsbx-{pid}-");
    let git = root.display().to_string();
    let rev = sh(
        Path::new("git"),
        &["-C", &git, "describe", "--always", "--dirty"],
    );
    let header = format!(
        "\nbench checkout {rev}; today: {} vs before: {}; kernel {}, {} CPUs, load {} at start, \
         compiler processes {}; {} `run -d` each\n\n",
        subjects[0].bin.display(),
        subjects[1].bin.display(),
        sh(Path::new("uname"), &["-r"]),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load(),
        busy_processes(),
        if quick { QUICK_RUNS } else { RUNS },
    );
    let mut base = None;
    let outcome = measure(&subjects, &prefix, &mut base, quick);
    // Cleanup whatever happened: labs down, the shell's sleeps killed, namespaces gone.
    drop(base);
    for s in &subjects {
        let _ = dockernet_timed(&s.bin, &s.lab, &["lab", "down"]);
    }
    purge(&prefix);
    let mut left = netns_with_prefix(&prefix);
    for s in &subjects {
        left.extend(netns_with_prefix(&format!("dn-{}-", s.lab)));
    }
    let m = outcome?;
    if !left.is_empty() {
        return Err(format!("namespaces left behind: {}", left.join(" ")));
    }
    print!("{header}{}", m.report());
    Ok(())
}

/// Everything measured, ms (the 100-container figures too).
#[derive(Default)]
struct Measured {
    today: Vec<Run>,
    before: Vec<Run>,
    shell: Vec<f64>,
    /// (today, before) per sample: `rm -f` of MANY in one command, `lab down` with MANY.
    rm: Vec<(f64, f64)>,
    down: Vec<(f64, f64)>,
    /// The shell's teardown of MANY containers (kill, `ip netns del` each).
    shell_down: Vec<f64>,
}

fn measure(
    subjects: &[Subject; 2],
    prefix: &str,
    base: &mut Option<ShellBaseline>,
    quick: bool,
) -> Res<Measured> {
    let mut m = Measured::default();
    for s in subjects {
        eprintln!(
            "sandbox bench: {} lab up + warm-up run ({})",
            s.label,
            s.bin.display()
        );
        s.dn(&["lab", "up"])?;
        s.run("w0")?; // builds the image's tree (today) and warms the page cache
    }
    let shell = base.insert(ShellBaseline::up(prefix)?);
    shell.container(0)?;
    let runs = if quick { QUICK_RUNS } else { RUNS };
    eprintln!("sandbox bench: {runs} × (today, before, shell), order rotating");
    for i in 1..=runs {
        let name = format!("c{i}");
        for k in 0..3 {
            match (i + k) % 3 {
                0 => m.today.push(subjects[0].run(&name)?),
                1 => m.before.push(subjects[1].run(&name)?),
                _ => m.shell.push(shell.container(i)?),
            }
        }
    }
    for s in subjects {
        s.dn(&["lab", "down"])?;
    }
    base.take().expect("up").down()?;
    for round in 0..if quick { 1 } else { MANY_ROUNDS } {
        eprintln!("sandbox bench: {MANY} containers, round {}", round + 1);
        let mut rm = [0.0; 2];
        let mut down = [0.0; 2];
        for (k, s) in subjects.iter().enumerate() {
            let names = s.fill()?;
            let mut args = vec!["rm", "-f"];
            args.extend(names.iter().map(String::as_str));
            rm[k] = s.dn(&args)?.0;
            s.fill()?;
            down[k] = s.dn(&["lab", "down"])?.0;
        }
        m.rm.push((rm[0], rm[1]));
        m.down.push((down[0], down[1]));
        let shell = base.insert(ShellBaseline::up(prefix)?);
        for i in 0..MANY {
            shell.container(i)?;
        }
        m.shell_down.push(base.take().expect("up").down()?);
    }
    Ok(m)
}

impl Measured {
    fn report(&self) -> String {
        let col = |v: &[Run], f: fn(&Run) -> f64| v.iter().map(f).collect::<Vec<f64>>();
        let wall = |r: &Run| r.wall;
        let (tw, bw) = (col(&self.today, wall), col(&self.before, wall));
        // Pairwise: sample i of today against sample i of before (same container index).
        let diffs: Vec<f64> = tw.iter().zip(&bw).map(|(t, b)| t - b).collect();
        let (tm, bm, sm) = (median(&tw), median(&bw), median(&self.shell));
        let mut out = String::new();
        out.push_str("| `run -d busybox sleep 3600`, ms | today (rootfs + privileges) | before (3b56782) | shell baseline | today − before | today / shell |\n|---|---|---|---|---|---|\n");
        out.push_str(&format!(
            "| wall, median (n={}) | {tm:.2} | {bm:.2} | {sm:.2} | {:+.2} (pairwise median {:+.2}) | ×{:.2} |\n",
            tw.len(),
            tm - bm,
            median(&diffs),
            tm / sm
        ));
        let (tp, bp, sp) = (pct(&tw, 90.0), pct(&bw, 90.0), pct(&self.shell, 90.0));
        out.push_str(&format!(
            "| wall, p90 | {tp:.2} | {bp:.2} | {sp:.2} | {:+.2} | ×{:.2} |\n",
            tp - bp,
            tp / sp
        ));
        let parts: [(&str, Part); 7] = [
            (
                "… before the network (lock, records, files, image tree), median",
                |r| r.pre,
            ),
            ("… network (the steps), median", |r| r.net),
            (
                "… spawn (shim, init: namespaces, rootfs, privileges, exec), median",
                |r| r.spawn,
            ),
            (
                "… … of which the shim's start (fork, and exec unless the host init forks it), median",
                |r| r.shim,
            ),
            (
                "… … of which the root filesystem (PID 1's mounts, pivot_root), median",
                |r| r.rootfs,
            ),
            (
                "… … of which the privileges (capabilities, seccomp), median",
                |r| r.privileges,
            ),
            ("… after (record saved, exit), median", |r| {
                r.wall - r.pre - r.net - r.spawn
            }),
        ];
        for (what, f) in parts {
            let (t, b) = (median(&col(&self.today, f)), median(&col(&self.before, f)));
            out.push_str(&format!(
                "| {what} | {t:.2} | {b:.2} | | {:+.2} | |\n",
                t - b
            ));
        }
        let secs = |v: &[(f64, f64)], k: usize| {
            median(
                &v.iter()
                    .map(|p| if k == 0 { p.0 } else { p.1 })
                    .collect::<Vec<_>>(),
            ) / 1e3
        };
        let (rt, rb) = (secs(&self.rm, 0), secs(&self.rm, 1));
        let (dt, db) = (secs(&self.down, 0), secs(&self.down, 1));
        let sd = median(&self.shell_down) / 1e3;
        out.push_str(&format!(
            "\n| {MANY} containers, s (median of {}) | today | before | shell baseline |\n|---|---|---|---|\n\
             | `rm -f` of all {MANY} (one command) | {rt:.3} | {rb:.3} | |\n\
             | `lab down` with {MANY} | {dt:.3} | {db:.3} | {sd:.3} (kill + `ip netns del` each) |\n",
            self.rm.len()
        ));
        let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
        let add = tm - bm;
        out.push_str("\n| target | result | verdict |\n|---|---|---|\n");
        out.push_str(&format!(
            "| rootfs + privileges add ≤ 1 ms per container (today − before, medians) | {add:+.2} ms ({tm:.2} vs {bm:.2}, ×{:.2}; pairwise {:+.2}) | {} |\n",
            tm / bm,
            median(&diffs),
            verdict(add <= 1.0)
        ));
        out.push_str(&format!(
            "| `run -d` ≤ the shell baseline (medians) | {tm:.2} vs {sm:.2} ms (×{:.2}) | {} |\n",
            tm / sm,
            verdict(tm <= sm)
        ));
        out.push_str(&format!(
            "| `rm -f` of {MANY} containers < 0.5 s | {rt:.3} s (before: {rb:.3} s, ×{:.2}) | {} |\n",
            rt / rb,
            verdict(rt < 0.5)
        ));
        out.push_str(&format!(
            "| `lab down` with {MANY} containers < 0.5 s | {dt:.3} s (before: {db:.3} s, ×{:.2}; shell teardown {sd:.3} s) | {} |\n",
            dt / db,
            verdict(dt < 0.5)
        ));
        out.push_str(&format!(
            "\nload at end {}; compiler processes at end {}\n",
            load(),
            busy_processes()
        ));
        // The same lines on stderr, for a reader of the progress output.
        for l in out
            .lines()
            .filter(|l| l.ends_with("PASS |") || l.ends_with("FAIL |"))
        {
            eprintln!("{}", l.trim_matches('|').trim());
        }
        out
    }
}

/// Labs and baseline namespaces left by a run that was killed (its PID is gone).
fn remove_stale(dn: &Path) {
    let dead = |pid: &str| !pid.is_empty() && !Path::new(&format!("/proc/{pid}")).exists();
    let pid_after = |ns: &str, prefix: &str| -> String {
        ns[prefix.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect()
    };
    let mut labs: Vec<String> = Vec::new();
    for ns in netns_with_prefix("dn-sbx_") {
        let pid = pid_after(&ns, "dn-sbx_");
        // dn-sbx_<pid>_a-... or dn-sbx_<pid>_b-...
        let rest = &ns["dn-sbx_".len() + pid.len()..];
        if dead(&pid)
            && let Some(ab) = rest.get(..2)
        {
            labs.push(format!("sbx_{pid}{ab}"));
        }
    }
    labs.dedup();
    for lab in labs {
        eprintln!("sandbox bench: removing stale lab {lab}");
        let _ = dockernet_timed(dn, &lab, &["lab", "down"]);
    }
    for ns in netns_with_prefix("dnsbx-") {
        let pid = pid_after(&ns, "dnsbx-");
        if dead(&pid) && !netns_with_prefix(&format!("dnsbx-{pid}-")).is_empty() {
            eprintln!("sandbox bench: removing stale namespaces dnsbx-{pid}-*");
            purge(&format!("dnsbx-{pid}-"));
        }
    }
}

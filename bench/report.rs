//! The report: samples, statistics, and the Markdown table (with the machine's state,
//! because on a shared 2-core VM the load explains most differences between runs).

pub use crate::common::busy_processes;
use crate::common::median;
use std::collections::BTreeMap;
use std::process::Command;

fn sh(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

pub fn header(root: &std::path::Path, plan: &[(usize, usize)], nv: bool, want_nv: bool) -> String {
    let git = root.display().to_string();
    let rev = sh("git", &["-C", &git, "describe", "--always", "--dirty"]);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let plan: Vec<String> = plan.iter().map(|(n, r)| format!("N={n}×{r}")).collect();
    let nv = match (nv, want_nv) {
        (true, _) => sh("/usr/lib/podman/netavark", &["--version"]),
        (false, true) => "netavark not installed (`apt-get install -y netavark`): skipped".into(),
        (false, false) => "netavark skipped (--no-netavark)".into(),
    };
    format!(
        "\ndockernet {rev}, kernel {}, {} CPUs, load {} at start; rounds {}; {nv}\n\n",
        sh("uname", &["-r"]),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        plan.join(", ")
    )
}

/// One container's numbers, in ms: dockernet's `run -d` wall time and its two timed
/// parts, then the peers' container i (NaN when netavark is skipped).
#[derive(Clone, Copy)]
pub struct Sample {
    pub run: f64,
    pub net: f64,
    pub spawn: f64,
    pub base: f64,
    pub nv: f64,
}

/// Samples in ms. `rounds[N]` keeps each round's containers in order (for flatness).
#[derive(Default)]
pub struct Results {
    pub lab_up: Vec<f64>,
    pub rounds: BTreeMap<usize, Vec<Vec<Sample>>>,
    pub lab_down: BTreeMap<usize, Vec<f64>>,
    pub base_down: BTreeMap<usize, Vec<f64>>,
    pub nv_down: BTreeMap<usize, Vec<f64>>,
    pub busy: Vec<usize>,
}

/// Nearest-rank percentile.
fn pct(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let k = ((p / 100.0 * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[k - 1]
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

/// Last 10 may be at most this much slower than the first 10 to count as flat.
const FLAT: f64 = 1.25;

/// One field of a set of samples.
fn col<'a>(s: impl IntoIterator<Item = &'a Sample>, f: fn(&Sample) -> f64) -> Vec<f64> {
    s.into_iter().map(f).collect()
}

/// `run -d` minus its timed parts: process start, clap, lock, state load/save, files.
fn rest(s: &Sample) -> f64 {
    s.run - s.net - s.spawn
}

impl Results {
    pub fn table(&self, nmax: usize, nv: bool) -> String {
        let mut t =
            String::from("| measurement | result | target | verdict |\n|---|---|---|---|\n");
        let mut row = |what: &str, res: String, target: &str, v: &str| {
            t.push_str(&format!("| {what} | {res} | {target} | {v} |\n"));
        };
        let all: Vec<Sample> = self.rounds.values().flatten().flatten().copied().collect();
        let lab_up = &self.lab_up;
        let n_up = lab_up.len();
        row(
            "`lab up` (fresh lab)",
            format!("{:.1} ms median (n={n_up})", median(lab_up)),
            "—",
            "info",
        );
        for (n, rounds) in &self.rounds {
            let v = col(rounds.iter().flatten(), |s| s.run);
            let m = median(&v);
            let (p90, k) = (pct(&v, 90.0), v.len());
            row(
                &format!("`run -d` per container, N={n}"),
                format!("{m:.1} / {p90:.1} ms (median / p90, n={k})"),
                "median ≤ 15 ms",
                verdict(m <= 15.0),
            );
        }
        if let Some(rounds) = self.rounds.get(&100) {
            // Median of containers 1-10 vs 91-100 over all rounds, for one field.
            let ends = |f: fn(&Sample) -> f64| {
                let a = median(&col(rounds.iter().flat_map(|r| &r[..10]), f));
                let b = median(&col(rounds.iter().flat_map(|r| &r[90..]), f));
                (
                    a,
                    b,
                    format!("{a:.1} → {b:.1} ms ({:+.0}%)", (b / a - 1.0) * 100.0),
                )
            };
            let (a, b, text) = ends(|s| s.run);
            let target = format!("last ≤ {FLAT}× first");
            row(
                "flat? `run -d` at N=100, containers 1–10 → 91–100",
                text,
                &target,
                verdict(b <= a * FLAT),
            );
            let parts = format!(
                "network {}; spawn {}; rest {}; shell baseline {}",
                ends(|s| s.net).2,
                ends(|s| s.spawn).2,
                ends(rest).2,
                ends(|s| s.base).2
            );
            row(
                "… where it goes (same containers; baseline = noise control)",
                parts,
                "—",
                "info",
            );
        }
        let nets = col(&all, |s| s.net);
        let net = median(&nets);
        let detail = format!(
            "{net:.2} ms median, p90 {:.2} (spawn part {:.2}, rest {:.2} ms)",
            pct(&nets, 90.0),
            median(&col(&all, |s| s.spawn)),
            median(&col(&all, rest))
        );
        row(
            "network part per container (`DOCKERNET_TIMINGS`, all N)",
            detail,
            "≤ 4 ms",
            verdict(net <= 4.0),
        );
        // Ratio of medians over the same interleaved containers.
        let (base, dn) = (
            median(&col(&all, |s| s.base)),
            median(&col(&all, |s| s.run)),
        );
        row(
            "shell baseline per container (4 processes, all N); ratio baseline / dockernet `run -d`",
            format!("{base:.1} ms median vs {dn:.1}; ×{:.2}", base / dn),
            "—",
            "info",
        );
        if nv {
            let m = median(&col(&all, |s| s.nv));
            row(
                "netavark per container (`ip netns add` + `netavark setup`); ratio netavark / dockernet network part",
                format!("{m:.1} ms median; ×{:.1}", m / net),
                "—",
                "info",
            );
        }
        let downs = &self.lab_down[&nmax];
        let down = median(downs);
        let (target, v) = if nmax == 100 {
            ("≤ 0.5 s", verdict(down <= 500.0))
        } else {
            ("≤ 0.5 s at N=100 (not run: --quick)", "n/a")
        };
        let res = format!("{:.3} s median (n={})", down / 1e3, downs.len());
        row(
            &format!("`lab down` with {nmax} containers"),
            res,
            target,
            v,
        );
        let bd = median(&self.base_down[&nmax]) / 1e3;
        let what = format!("shell baseline teardown, {nmax} containers (kill + `ip netns del`)");
        row(&what, format!("{bd:.3} s median"), "—", "info");
        if nv {
            let nd = median(&self.nv_down[&nmax]) / 1e3;
            let what = format!("netavark teardown, {nmax} containers (teardown + `ip netns del`)");
            row(&what, format!("{nd:.3} s median"), "—", "info");
        }
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        t.push_str(&format!(
            "\nload at end {}; compiler processes seen at round starts: max {}\n",
            load.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
            self.busy.iter().max().unwrap_or(&0)
        ));
        t
    }
}

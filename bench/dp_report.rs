//! The data-path benchmark's samples, statistics and Markdown tables.

use std::process::Command;

/// The paths measured, in table order; `Path as usize` indexes [`Results::paths`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    Dnat,
    Proxy,
    Socat,
    SocatBig,
    Direct,
}

impl Path {
    pub const ALL: [Path; 5] = [
        Path::Dnat,
        Path::Proxy,
        Path::Socat,
        Path::SocatBig,
        Path::Direct,
    ];
}

/// Every sample of one path, pooled over repetitions.
#[derive(Default)]
pub struct PathSamples {
    /// Table label, with the address the client used.
    pub label: String,
    pub gbps: Vec<f64>,
    pub conns_per_s: Vec<f64>,
    /// Median round trip of each ping-pong run with everything on one CPU, µs.
    pub rtt1_us: Vec<f64>,
    pub rtt1_p99_us: Vec<f64>,
    /// The same, free to use every CPU.
    pub rtt_us: Vec<f64>,
    pub rtt_p99_us: Vec<f64>,
    /// The relaying process's CPU time during each bulk run, % of one core.
    pub relay_cpu: Vec<f64>,
    /// The same during each connection-rate run.
    pub relay_cpu_conns: Vec<f64>,
    /// Failed connects in the connection-rate runs.
    pub conn_errors: u64,
}

/// One `run -d` wall time and its `DOCKERNET_TIMINGS` parts, ms.
#[derive(Clone, Copy)]
pub struct RunSample {
    pub wall: f64,
    pub network: f64,
    pub spawn: f64,
}

#[derive(Default)]
pub struct Results {
    pub paths: Vec<PathSamples>,
    /// `run -d httpd`
    pub plain: Vec<RunSample>,
    /// `run -d -p PORT:80 httpd`, interleaved with `plain`
    pub publish: Vec<RunSample>,
    /// Compiler processes seen at each repetition's start.
    pub busy: Vec<usize>,
}

pub use crate::common::{busy_processes, median};

fn min_max(v: &[f64]) -> (f64, f64) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

/// `median (min–max)` with `prec` decimals, or `–` without samples.
fn spread(v: &[f64], prec: usize) -> String {
    if v.is_empty() {
        return "–".into();
    }
    let (lo, hi) = min_max(v);
    format!("{:.prec$} ({lo:.prec$}–{hi:.prec$})", median(v))
}

/// Thousands separators for rates.
fn thousands(x: f64) -> String {
    let s = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

pub fn sh(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

pub fn loadavg() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Results {
    fn path(&self, p: Path) -> &PathSamples {
        &self.paths[p as usize]
    }

    /// The data-path table, the targets, and the `run -d -p` cost.
    pub fn table(&self) -> String {
        let mut t = String::from(
            "| path | Gbit/s, 1 stream | new conn/s (2 threads) | 64 B round trip µs, all on 1 CPU: median (p99) | the same, any CPU | relay process CPU, % of a core: bulk / conn/s |\n|---|---|---|---|---|---|\n",
        );
        for p in &self.paths {
            let rtt = |m: &[f64], p99: &[f64]| match m.is_empty() {
                true => "–".to_string(),
                false => format!("{:.1} ({:.0})", median(m), median(p99)),
            };
            let rtt1 = rtt(&p.rtt1_us, &p.rtt1_p99_us);
            let rtt = rtt(&p.rtt_us, &p.rtt_p99_us);
            let cps = if p.conns_per_s.is_empty() {
                "–".into()
            } else {
                let (lo, hi) = min_max(&p.conns_per_s);
                let errs = match p.conn_errors {
                    0 => String::new(),
                    n => format!(", {n} failed"),
                };
                format!(
                    "{} ({}–{}){errs}",
                    thousands(median(&p.conns_per_s)),
                    thousands(lo),
                    thousands(hi)
                )
            };
            let cpu = if p.relay_cpu.is_empty() {
                "kernel only".into()
            } else {
                let (b, c) = (median(&p.relay_cpu), median(&p.relay_cpu_conns));
                format!("{b:.0}% / {c:.0}%")
            };
            t.push_str(&format!(
                "| {} | {} | {cps} | {rtt1} | {rtt} | {cpu} |\n",
                p.label,
                spread(&p.gbps, 2)
            ));
        }
        t.push_str("\n| target | result | verdict |\n|---|---|---|\n");
        let (dnat, proxy) = (self.path(Path::Dnat), self.path(Path::Proxy));
        let (socat, big) = (self.path(Path::Socat), self.path(Path::SocatBig));
        let g = |p: &PathSamples| median(&p.gbps);
        let share = g(proxy) / g(dnat);
        t.push_str(&format!(
            "| our proxy's throughput ≥ 80% of the DNAT path's | {:.0}% ({:.2} / {:.2} Gbit/s) | {} |\n",
            share * 100.0,
            g(proxy),
            g(dnat),
            verdict(share >= 0.8)
        ));
        t.push_str(&format!(
            "| our proxy's throughput above `socat -b 262144` | {:.2} vs {:.2} Gbit/s (×{:.2}) | {} |\n",
            g(proxy),
            g(big),
            g(proxy) / g(big),
            verdict(g(proxy) > g(big))
        ));
        let c = |p: &PathSamples| median(&p.conns_per_s);
        let x = c(proxy) / c(socat);
        t.push_str(&format!(
            "| our proxy's connection rate ≥ 5× socat's | ×{x:.1} ({} vs {} conn/s) | {} |\n",
            thousands(c(proxy)),
            thousands(c(socat)),
            verdict(x >= 5.0)
        ));
        t.push_str(&self.run_cost());
        t.push_str(&format!(
            "\nload at end {}; compiler processes seen at repetition starts: max {}\n",
            loadavg(),
            self.busy.iter().max().unwrap_or(&0)
        ));
        t
    }

    /// Target row for `run -d -p` over `run -d`, and where the difference goes.
    fn run_cost(&self) -> String {
        let m = |v: &[RunSample], f: fn(&RunSample) -> f64| {
            median(&v.iter().map(f).collect::<Vec<_>>())
        };
        let (p, n) = (&self.publish, &self.plain);
        let (pw, nw) = (m(p, |s| s.wall), m(n, |s| s.wall));
        // Paired: the i-th `-p` run against the i-th plain run next to it.
        let paired: Vec<f64> = p.iter().zip(n).map(|(a, b)| a.wall - b.wall).collect();
        let mut t = format!(
            "| `run -d -p PORT:80 httpd` adds ≤ 3 ms over `run -d httpd` | {:+.2} ms ({pw:.1} vs {nw:.1} ms median, n={} each; median of pairwise differences {:+.2} ms) | {} |\n",
            pw - nw,
            p.len(),
            median(&paired),
            verdict(pw - nw <= 3.0)
        );
        t.push_str(&format!(
            "| … where it goes (`DOCKERNET_TIMINGS`: network = steps incl. iptables, spawn = proxy + process start) | network {:.2} vs {:.2} ms; spawn {:.2} vs {:.2} ms; rest {:.2} vs {:.2} ms | info |\n",
            m(p, |s| s.network),
            m(n, |s| s.network),
            m(p, |s| s.spawn),
            m(n, |s| s.spawn),
            m(p, |s| s.wall - s.network - s.spawn),
            m(n, |s| s.wall - s.network - s.spawn),
        ));
        t
    }
}

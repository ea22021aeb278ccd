//! The DNS benchmark's samples and its Markdown tables: each server's figures side by
//! side, ours / peer ratios, and a PASS / FAIL line per target of issue 9.

use crate::common::median;
use crate::dns_rig::Perf;

/// The targets: our rate ≥ dnsmasq's, our p99 < aardvark's, our RSS < 20 MiB.
const RSS_TARGET_MIB: f64 = 20.0;

/// Everything measured for one server.
pub struct Measured {
    pub label: &'static str,
    /// One dnsperf run per round.
    pub perf: Vec<Perf>,
    /// One-at-a-time round trips of every round, µs: on any CPU, and with the client
    /// and the server on one CPU.
    pub lat: Vec<f64>,
    pub lat1: Vec<f64>,
    /// One-at-a-time queries answered wrongly / not within 500 ms.
    pub bad: usize,
    pub lost: usize,
    /// (VmRSS, VmHWM) KiB after the rounds.
    pub rss: Option<(u64, u64)>,
}

impl Measured {
    /// Nothing measured yet.
    pub fn new(label: &'static str) -> Measured {
        Measured {
            label,
            perf: Vec::new(),
            lat: Vec::new(),
            lat1: Vec::new(),
            bad: 0,
            lost: 0,
            rss: None,
        }
    }

    fn qps(&self) -> f64 {
        median(&self.perf.iter().map(|p| p.qps).collect::<Vec<_>>())
    }

    fn p(&self, q: f64) -> f64 {
        percentile(&self.lat, q)
    }

    fn p1(&self, q: f64) -> f64 {
        percentile(&self.lat1, q)
    }

    fn rss_mib(&self) -> f64 {
        self.rss.map_or(f64::NAN, |r| r.0 as f64 / 1024.0)
    }
}

/// The run's results, and what it had to skip.
#[derive(Default)]
pub struct Report {
    pub measured: Vec<Measured>,
    pub notes: Vec<String>,
    /// Compiler processes seen (a parallel build moves every number).
    pub busy: usize,
    pub load_end: String,
}

/// Nearest-rank percentile `q` (0–1) of the samples; NaN when there are none.
fn percentile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[rank - 1]
}

/// 12345.6 → "12,346".
fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_finite() && b.is_finite() && b > 0.0 {
        format!("×{:.2}", a / b)
    } else {
        "–".into()
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

impl Report {
    fn get(&self, label: &str) -> Option<&Measured> {
        self.measured.iter().find(|m| m.label == label)
    }

    /// The figures table, the targets table, then notes and the machine's load.
    pub fn table(&self) -> String {
        let ours = self.get("ours");
        let peers: Vec<&Measured> = self.measured.iter().filter(|m| m.label != "ours").collect();
        let mut t = String::from("| measurement |");
        for m in &self.measured {
            t.push_str(&format!(" {} |", m.label));
        }
        if ours.is_some() {
            for p in &peers {
                t.push_str(&format!(" ours / {} |", p.label));
            }
        }
        let cols = self.measured.len() + if ours.is_some() { peers.len() } else { 0 };
        t.push_str(&format!("\n|---|{}\n", "---|".repeat(cols)));
        let runs = self.measured.first().map_or(0, |m| m.perf.len());
        let n_lat = self.measured.iter().map(|m| m.lat.len()).max().unwrap_or(0);
        type Cell = fn(&Measured) -> String;
        type Num = fn(&Measured) -> f64;
        let rows: Vec<(String, Cell, Option<Num>)> = vec![
            (
                format!("queries/s, dnsperf 100 outstanding (median of {runs} runs; range)"),
                |m| {
                    let q: Vec<f64> = m.perf.iter().map(|p| p.qps).collect();
                    let (lo, hi) = (
                        q.iter().copied().fold(f64::INFINITY, f64::min),
                        q.iter().copied().fold(0.0, f64::max),
                    );
                    format!(
                        "{} ({}–{})",
                        thousands(m.qps()),
                        thousands(lo),
                        thousands(hi)
                    )
                },
                Some(|m| m.qps()),
            ),
            (
                "… average latency at that load, µs".into(),
                |m| {
                    format!(
                        "{:.0}",
                        median(&m.perf.iter().map(|p| p.avg_us).collect::<Vec<_>>())
                    )
                },
                Some(|m| median(&m.perf.iter().map(|p| p.avg_us).collect::<Vec<_>>())),
            ),
            (
                "… server CPU during the load, % of one core".into(),
                |m| {
                    format!(
                        "{:.0}%",
                        median(&m.perf.iter().map(|p| p.cpu_pct).collect::<Vec<_>>())
                    )
                },
                None,
            ),
            (
                "… queries lost / answers not NOERROR, of sent".into(),
                |m| {
                    let s = |f: fn(&Perf) -> u64| m.perf.iter().map(f).sum::<u64>();
                    format!(
                        "{} / {} of {}",
                        s(|p| p.lost),
                        s(|p| p.not_noerror),
                        thousands(s(|p| p.sent) as f64)
                    )
                },
                None,
            ),
            (
                format!("one query at a time, any CPU: p50 µs (n={n_lat} per server)"),
                |m| format!("{:.0}", m.p(0.5)),
                Some(|m| m.p(0.5)),
            ),
            (
                "… p99 µs".into(),
                |m| format!("{:.0}", m.p(0.99)),
                Some(|m| m.p(0.99)),
            ),
            (
                "one query at a time, client and server on one CPU: p50 µs".into(),
                |m| format!("{:.0}", m.p1(0.5)),
                Some(|m| m.p1(0.5)),
            ),
            (
                "… p99 µs".into(),
                |m| format!("{:.0}", m.p1(0.99)),
                Some(|m| m.p1(0.99)),
            ),
            (
                "… unanswered (500 ms) / wrong answers, both kinds".into(),
                |m| format!("{} / {}", m.lost, m.bad),
                None,
            ),
            (
                format!(
                    "memory with {} names: VmRSS (VmHWM), MiB",
                    crate::CONTAINERS
                ),
                |m| match m.rss {
                    Some((r, h)) => format!("{:.1} ({:.1})", r as f64 / 1024.0, h as f64 / 1024.0),
                    None => "–".into(),
                },
                Some(|m| m.rss_mib()),
            ),
        ];
        for (what, cell, num) in rows {
            t.push_str(&format!("| {what} |"));
            for m in &self.measured {
                t.push_str(&format!(" {} |", cell(m)));
            }
            if let Some(o) = ours {
                for p in &peers {
                    let r = num.map_or("".into(), |f| ratio(f(o), f(p)));
                    t.push_str(&format!(" {r} |"));
                }
            }
            t.push('\n');
        }
        t.push_str("\n| target | result | verdict |\n|---|---|---|\n");
        t.push_str(&self.targets(ours));
        for n in &self.notes {
            t.push_str(&format!("\n{n}\n"));
        }
        t.push_str(&format!(
            "\nload at end {}; compiler processes seen (max at start, rounds, end): {}\n",
            self.load_end
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
            self.busy
        ));
        t
    }

    /// One line per target of issue 9; SKIP when a side was not measured.
    fn targets(&self, ours: Option<&Measured>) -> String {
        let mut t = String::new();
        let mut line = |what: &str, result: String, v: &str| {
            t.push_str(&format!("| {what} | {result} | {v} |\n"));
        };
        let (aa, dm) = (self.get("aardvark-dns"), self.get("dnsmasq"));
        let what = "our rate ≥ dnsmasq's (100 outstanding)";
        match (ours, dm) {
            (Some(o), Some(d)) => line(
                what,
                format!(
                    "{} vs {} q/s ({})",
                    thousands(o.qps()),
                    thousands(d.qps()),
                    ratio(o.qps(), d.qps())
                ),
                verdict(o.qps() >= d.qps()),
            ),
            _ => line(what, "not measured".into(), "SKIP"),
        }
        type P = fn(&Measured, f64) -> f64;
        let kinds: [(&str, P); 2] = [
            ("any CPU", Measured::p),
            ("client and server on one CPU", Measured::p1),
        ];
        for (how, p) in kinds {
            let what = format!("our p99 < aardvark's (one query at a time, {how})");
            match (ours, aa) {
                (Some(o), Some(a)) if p(o, 0.99).is_finite() && p(a, 0.99).is_finite() => {
                    let (x, y) = (p(o, 0.99), p(a, 0.99));
                    let r = format!("{x:.0} vs {y:.0} µs ({})", ratio(x, y));
                    line(&what, r, verdict(x < y))
                }
                _ => line(&what, "not measured".into(), "SKIP"),
            }
        }
        let what = format!(
            "our RSS with {} containers < {RSS_TARGET_MIB} MiB",
            crate::CONTAINERS
        );
        match ours.map(|o| o.rss_mib()) {
            Some(r) if r.is_finite() => {
                line(&what, format!("{r:.1} MiB"), verdict(r < RSS_TARGET_MIB))
            }
            _ => line(&what, "not measured".into(), "SKIP"),
        }
        t
    }
}

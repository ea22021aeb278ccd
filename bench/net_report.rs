//! The networks benchmark's samples and its Markdown table: medians / p90, ratios to
//! the peers, and a verdict per target.

use crate::common::median;
use crate::net_peers::NvRound;

/// One `dockernet run -d`, ms: wall time and its `DOCKERNET_TIMINGS` parts.
#[derive(Clone, Copy, Debug)]
pub struct RunT {
    pub wall: f64,
    pub net: f64,
    pub spawn: f64,
    pub before: f64,
}

impl RunT {
    /// What is left after the steps, the spawn and what came before them: saving the
    /// record, exit, and the parent's wait.
    pub fn after(&self) -> f64 {
        self.wall - self.before - self.net - self.spawn
    }
}

/// Section 1: one `network create` + `network rm` pair and its peers, ms.
#[derive(Clone, Copy, Debug)]
pub struct PairS {
    pub dn_create: f64,
    pub dn_rm: f64,
    pub sh_create: f64,
    pub sh_rm: f64,
    /// dockernet's recorded steps replayed in-process (kernel work alone).
    pub kr_create: f64,
    pub kr_rm: f64,
    /// The part of `kr_rm` spent deleting the rules (the rest deletes the bridge).
    pub kr_rm_rules: f64,
    pub nv: Option<NvRound>,
}

/// Section 3: one connect / disconnect and its peers, ms.
#[derive(Clone, Copy, Debug)]
pub struct ConnS {
    pub dn_conn: f64,
    pub dn_disc: f64,
    pub kr_conn: f64,
    pub kr_disc: f64,
    pub sh_conn: f64,
    pub sh_disc: f64,
    /// `dockernet --version` in the same round: the floor of any CLI command here
    /// (exec, dynamic loading, page faults, exit).
    pub floor: f64,
}

/// Section 4: one build of 10 networks × 10 containers and its removal, ms (sums of
/// the interleaved operations).
#[derive(Clone, Copy, Debug, Default)]
pub struct GridS {
    pub dn_create: f64,
    pub dn_run: f64,
    pub dn_down: f64,
    pub sh_create: f64,
    pub sh_run: f64,
    pub sh_down: f64,
}

/// Everything one run measured.
#[derive(Default)]
pub struct Results {
    pub pairs: Vec<PairS>,
    /// Section 2: (user-defined network, docker0) runs, interleaved.
    pub runs: Vec<(RunT, RunT)>,
    pub conns: Vec<ConnS>,
    pub grids: Vec<GridS>,
    /// Section 5: per round, per container: dockernet's run and the shell's container.
    pub flat: Vec<Vec<(RunT, f64)>>,
    pub flat_down: Vec<(f64, f64)>,
    /// Section 5: mounts in the root mount namespace before container 1 and after 100
    /// (each netns is a bind mount there, and every container's mount namespace starts
    /// as a copy of that table).
    pub flat_mounts: Vec<(usize, usize)>,
    /// Section 5: µs to create a file in the lab's directory, medians after containers
    /// 1–10 and after 91–100.
    pub flat_probe: Vec<(f64, f64)>,
    /// Section 5, first round only: containers 101–110 after a 32 s pause.
    pub flat_after_pause: Vec<(RunT, f64)>,
    /// Seconds spent waiting for the file system to settle after lab downs.
    pub settled_s: f64,
    pub busy: Vec<usize>,
}

/// Nearest-rank percentile (NaN when empty).
pub fn pct(v: &[f64], p: f64) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(f64::total_cmp);
    let k = ((p / 100.0 * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[k - 1]
}

/// `median / p90` (ms).
fn mp(v: &[f64]) -> String {
    format!("{:.1} / {:.1}", median(v), pct(v, 90.0))
}

/// `median (p90 X)` (ms), for rows that show several values.
fn mq(v: &[f64]) -> String {
    format!("{:.1} (p90 {:.1})", median(v), pct(v, 90.0))
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

/// `run -d` for containers 91–100 at most this much slower than 1–10.
pub const FLAT: f64 = 1.25;
/// `run -d` on a user-defined network within this fraction of docker0's.
pub const SAME: f64 = 0.10;

fn field<T>(v: &[T], f: impl Fn(&T) -> f64) -> Vec<f64> {
    v.iter().map(f).collect()
}

impl Results {
    /// The result table (Markdown), with the rounds it pooled.
    pub fn table(&self, nv: bool) -> String {
        let mut t = String::from(
            "| # | measurement | dockernet | peer | ratio dockernet / peer | target | verdict |\n|---|---|---|---|---|---|---|\n",
        );
        let mut row = |n: &str,
                       what: &str,
                       dn: String,
                       peer: String,
                       ratio: String,
                       target: &str,
                       v: &str| {
            t.push_str(&format!(
                "| {n} | {what} | {dn} | {peer} | {ratio} | {target} | {v} |\n"
            ));
        };
        let x = |a: f64, b: f64| format!("×{:.2}", a / b);

        // 1. network create + rm
        let p = &self.pairs;
        if !p.is_empty() {
            let dn = field(p, |s| s.dn_create + s.dn_rm);
            let sh = field(p, |s| s.sh_create + s.sh_rm);
            let (dm, sm) = (median(&dn), median(&sh));
            row(
                "1",
                &format!(
                    "`network create` + `network rm` (bridge), per pair, n={}",
                    p.len()
                ),
                format!("{} ms", mp(&dn)),
                format!("shell (4 + 2 processes): {} ms", mp(&sh)),
                x(dm, sm),
                "≤ the shell doing the same kernel work",
                verdict(dm <= sm),
            );
            let (dc, dr) = (field(p, |s| s.dn_create), field(p, |s| s.dn_rm));
            let (sc, sr) = (field(p, |s| s.sh_create), field(p, |s| s.sh_rm));
            row(
                "1a",
                "… `create` / `rm` alone",
                format!("create {} / rm {} ms", mq(&dc), mq(&dr)),
                format!("shell: create {} / rm {} ms", mq(&sc), mq(&sr)),
                format!(
                    "{} / {}",
                    x(median(&dc), median(&sc)),
                    x(median(&dr), median(&sr))
                ),
                "—",
                "info",
            );
            let (kc, kr) = (field(p, |s| s.kr_create), field(p, |s| s.kr_rm));
            let k = field(p, |s| s.kr_create + s.kr_rm);
            row(
                "1b",
                "… dockernet's own steps replayed in-process (kernel work alone: netlink + 1 `iptables-restore` each way), create / rm",
                format!(
                    "create {} / rm {} ms (pair {:.1})",
                    mq(&kc),
                    mq(&kr),
                    median(&k)
                ),
                "—".into(),
                format!(
                    "rm = rules {:.1} + bridge {:.1} ms; CLI overhead per pair {:.1} ms",
                    median(&field(p, |s| s.kr_rm_rules)),
                    median(&field(p, |s| s.kr_rm - s.kr_rm_rules)),
                    dm - median(&k)
                ),
                "—",
                "info",
            );
            if nv {
                let nvs: Vec<NvRound> = p.iter().filter_map(|s| s.nv).collect();
                let net = field(&nvs, NvRound::network_part);
                let first = field(&nvs, |r| r.setup_first + r.teardown_last);
                let second = field(&nvs, |r| r.setup_second + r.teardown_other);
                row(
                    "1c",
                    "… netavark 1.4 (no `network create`: the first setup builds the bridge + rules, the last teardown removes them); network part = (first − second setup) + (last − other teardown)",
                    format!("{dm:.1} ms"),
                    format!(
                        "netavark network part {:.1} ms (first container setup+teardown {}, second {} ms)",
                        median(&net),
                        mp(&first),
                        mp(&second)
                    ),
                    x(dm, median(&net)),
                    "—",
                    "info",
                );
            }
        }

        // 2. run -d on a user-defined network vs docker0
        let r = &self.runs;
        if !r.is_empty() {
            let u = field(r, |s| s.0.wall);
            let d = field(r, |s| s.1.wall);
            let ratio = median(&u) / median(&d);
            let paired = median(&field(r, |s| s.0.wall / s.1.wall));
            row(
                "2",
                &format!(
                    "`run -d` on a user-defined bridge vs on docker0, alternating, n={} each",
                    r.len()
                ),
                format!("user-defined {} ms", mp(&u)),
                format!("docker0 {} ms", mp(&d)),
                format!("×{ratio:.3} (median of pairwise ratios ×{paired:.3})"),
                "within 10 %",
                verdict((ratio - 1.0).abs() <= SAME),
            );
            let part = |v: &[RunT], f: fn(&RunT) -> f64| median(&field(v, f));
            let uu: Vec<RunT> = r.iter().map(|s| s.0).collect();
            let dd: Vec<RunT> = r.iter().map(|s| s.1).collect();
            let parts = |v: &[RunT]| {
                format!(
                    "before {:.2}, network {:.2}, spawn {:.2}, after {:.2}",
                    part(v, |s| s.before),
                    part(v, |s| s.net),
                    part(v, |s| s.spawn),
                    part(v, RunT::after)
                )
            };
            row(
                "2a",
                "… where it goes (`DOCKERNET_TIMINGS` medians, ms)",
                parts(&uu),
                parts(&dd),
                x(part(&uu, |s| s.net), part(&dd, |s| s.net)),
                "—",
                "info",
            );
        }

        // 3. network connect
        let c = &self.conns;
        if !c.is_empty() && !r.is_empty() {
            let netpart = median(&field(r, |s| s.1.net));
            let conn = field(c, |s| s.dn_conn);
            let kc = field(c, |s| s.kr_conn);
            let sh = field(c, |s| s.sh_conn);
            row(
                "3",
                &format!(
                    "`network connect NET CTR` (running container, 2nd network), wall, n={}",
                    c.len()
                ),
                format!("{} ms", mp(&conn)),
                format!("network part of `run -d` on docker0: {netpart:.2} ms median (row 2a)"),
                x(median(&conn), netpart),
                "≤ network part of `run -d`",
                verdict(median(&conn) <= netpart),
            );
            row(
                "3a",
                "… its kernel steps alone (the endpoint's recorded steps replayed in-process: veth + address + up)",
                format!("{} ms", mp(&kc)),
                format!("shell (2 processes): {} ms", mp(&sh)),
                x(median(&kc), median(&sh)),
                "≤ network part of `run -d`",
                verdict(median(&kc) <= netpart),
            );
            let fl = field(c, |s| s.floor);
            row(
                "3c",
                "… the floor of any CLI command: `dockernet --version` (process start and exit), same rounds",
                format!("{} ms", mp(&fl)),
                format!(
                    "connect minus floor minus kernel steps: {:.1} ms (lock, records, /etc/hosts)",
                    median(&conn) - median(&fl) - median(&kc)
                ),
                "—".into(),
                "—",
                "info",
            );
            let dd = field(c, |s| s.dn_disc);
            let kd = field(c, |s| s.kr_disc);
            let sd = field(c, |s| s.sh_disc);
            row(
                "3b",
                "… `network disconnect` wall / its kernel step alone",
                format!("wall {} / kernel {} ms", mq(&dd), mq(&kd)),
                format!("shell (1 process): {} ms", mp(&sd)),
                x(median(&dd), median(&sd)),
                "—",
                "info",
            );
        }

        // 4. 10 networks × 10 containers
        let g = &self.grids;
        if !g.is_empty() {
            let dn_b = field(g, |s| s.dn_create + s.dn_run);
            let sh_b = field(g, |s| s.sh_create + s.sh_run);
            let dn_t = field(g, |s| s.dn_create + s.dn_run + s.dn_down);
            let sh_t = field(g, |s| s.sh_create + s.sh_run + s.sh_down);
            let s = |v: &[f64]| format!("{:.2} s", median(v) / 1e3);
            row(
                "4",
                &format!(
                    "10 networks × 10 containers: build + remove, total (median of {} rounds)",
                    g.len()
                ),
                s(&dn_t),
                format!("shell: {}", s(&sh_t)),
                x(median(&dn_t), median(&sh_t)),
                "≤ the shell doing the same kernel work",
                verdict(median(&dn_t) <= median(&sh_t)),
            );
            row(
                "4a",
                "… build (10 `network create` + 100 `run -d --net`)",
                format!(
                    "{} ({:.0} ms networks + {:.0} ms containers)",
                    s(&dn_b),
                    median(&field(g, |s| s.dn_create)),
                    median(&field(g, |s| s.dn_run))
                ),
                format!(
                    "{} ({:.0} + {:.0} ms)",
                    s(&sh_b),
                    median(&field(g, |s| s.sh_create)),
                    median(&field(g, |s| s.sh_run))
                ),
                x(median(&dn_b), median(&sh_b)),
                "—",
                "info",
            );
            let dd = field(g, |s| s.dn_down);
            let sd = field(g, |s| s.sh_down);
            row(
                "4b",
                "… remove (`lab down` / kill + 100 `ip netns del` + host netns del)",
                s(&dd),
                s(&sd),
                x(median(&dd), median(&sd)),
                "—",
                "info",
            );
        }

        // 5. flatness
        let f = &self.flat;
        if !f.is_empty() && f.iter().all(|r| r.len() >= 100) {
            let ends = |get: &dyn Fn(&(RunT, f64)) -> f64| {
                let a = median(&f.iter().flat_map(|r| &r[..10]).map(get).collect::<Vec<_>>());
                let b = median(
                    &f.iter()
                        .flat_map(|r| &r[90..100])
                        .map(get)
                        .collect::<Vec<_>>(),
                );
                (a, b)
            };
            let (a, b) = ends(&|s| s.0.wall);
            let (ba, bb) = ends(&|s| s.1);
            row(
                "5",
                &format!(
                    "flatness: `run -d` on docker0, containers 1–10 → 91–100 of 100 ({} rounds)",
                    f.len()
                ),
                format!("{a:.1} → {b:.1} ms: growth ×{:.2}", b / a),
                format!(
                    "shell (noise control): {ba:.1} → {bb:.1} ms: ×{:.2}",
                    bb / ba
                ),
                format!("growth / shell's growth ×{:.2}", (b / a) / (bb / ba)),
                "growth ≤ ×1.25",
                verdict(b <= a * FLAT),
            );
            let g = |get: &dyn Fn(&(RunT, f64)) -> f64| {
                let (a, b) = ends(get);
                format!("{a:.2} → {b:.2} (×{:.2})", b / a)
            };
            row(
                "5a",
                "… where it goes, ms: before network (process start, lock, state) / network steps / spawn / after",
                format!(
                    "{}; {}; {}; {}",
                    g(&|s| s.0.before),
                    g(&|s| s.0.net),
                    g(&|s| s.0.spawn),
                    g(&|s| s.0.after())
                ),
                format!(
                    "mounts in the root mount namespace {} → {}; creating a file in the lab's directory {:.0} → {:.0} µs",
                    self.flat_mounts.iter().map(|m| m.0).min().unwrap_or(0),
                    self.flat_mounts.iter().map(|m| m.1).max().unwrap_or(0),
                    median(&field(&self.flat_probe, |p| p.0)),
                    median(&field(&self.flat_probe, |p| p.1))
                ),
                "—".into(),
                "—",
                "info",
            );
            let ap = &self.flat_after_pause;
            if !ap.is_empty() {
                // Against containers 1-10 of the same (first) round.
                let first = &f[0][..10];
                let (a0, b0) = (
                    median(&field(first, |s| s.0.wall)),
                    median(&field(first, |s| s.1)),
                );
                let (a1, b1) = (
                    median(&field(ap, |s| s.0.wall)),
                    median(&field(ap, |s| s.1)),
                );
                let before = median(&field(ap, |s| s.0.before));
                row(
                    "5c",
                    "… the same lab after a 32 s pause: containers 101–110 vs 1–10 of that round (N = 100 still, the churn of the last runs gone)",
                    format!(
                        "{a0:.1} → {a1:.1} ms: growth ×{:.2} (before network {before:.2} ms)",
                        a1 / a0
                    ),
                    format!("shell: {b0:.1} → {b1:.1} ms: ×{:.2}", b1 / b0),
                    format!("growth / shell's growth ×{:.2}", (a1 / a0) / (b1 / b0)),
                    "growth ≤ ×1.25",
                    verdict(a1 <= a0 * FLAT),
                );
            }
            let dn = median(&field(&self.flat_down, |s| s.0));
            let sh = median(&field(&self.flat_down, |s| s.1));
            row(
                "5b",
                "… `lab down` with those 100 containers / shell teardown",
                format!("{:.3} s", dn / 1e3),
                format!("{:.3} s", sh / 1e3),
                x(dn, sh),
                "—",
                "info",
            );
        }
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        t.push_str(&format!(
            "\nload at end {}; compiler processes seen at section starts: max {}; {:.0} s spent \
             waiting for the file system to settle after lab downs\n",
            load.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
            self.busy.iter().max().unwrap_or(&0),
            self.settled_s
        ));
        t
    }
}

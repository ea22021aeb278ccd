//! `cargo bench --bench networks [-- --quick] [-- --no-netavark]`: how fast dockernet
//! builds user-defined networks, side by side with a shell script doing the same kernel
//! work (and netavark when installed). See bench/README.md. Needs root; builds nothing:
//! it runs `target/release/dockernet`.
//!
//! Five sections, each interleaving dockernet with its peer operation by operation so
//! that machine load hits both alike: (1) `network create` + `rm` pairs, (2) `run -d`
//! on a user-defined network vs docker0, (3) `network connect` of running containers,
//! (4) 10 networks × 10 containers built and removed, (5) flatness of `run -d` over 100
//! containers. Everything is removed at the end, also on failure or Ctrl-C.

mod common;
mod net_peers;
mod net_report;
mod net_steps;
#[allow(dead_code)] // the lab benchmark's peers; this one uses the shell baseline only
mod peers;

use net_peers::{NetShell, NetSpec, NvNet, endpoint_steps, network_record};
use net_report::{ConnS, GridS, PairS, Results, RunT};
use net_steps::{St, replay};
use peers::{Res, ShellBaseline, netns_with_prefix, purge};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;

/// How many of each: pairs (1), run pairs (2), connects (3), grid rounds (4), flatness
/// rounds (5).
#[derive(Clone, Copy)]
struct Plan {
    pairs: usize,
    runs: usize,
    conns: usize,
    grids: usize,
    flats: usize,
}

const FULL: Plan = Plan {
    pairs: 30,
    runs: 40,
    conns: 40,
    grids: 3,
    flats: 3,
};
const QUICK: Plan = Plan {
    pairs: 8,
    runs: 10,
    conns: 10,
    grids: 1,
    flats: 1,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!(
            "usage: cargo bench --bench networks [-- --quick] [-- --no-netavark] [-- --no-settle]"
        );
        return ExitCode::SUCCESS;
    }
    // Cargo passes `--bench` under `cargo bench` only: `cargo test --all-targets` must
    // not set off a root-only, minutes-long benchmark.
    if !args.iter().any(|a| a == "--bench") {
        eprintln!("networks bench: skipped (run it with `cargo bench --bench networks`)");
        return ExitCode::SUCCESS;
    }
    let plan = if args.iter().any(|a| a == "--quick") {
        QUICK
    } else {
        FULL
    };
    let netavark = !args.iter().any(|a| a == "--no-netavark");
    let settle = !args.iter().any(|a| a == "--no-settle");
    match main_inner(plan, netavark, settle) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("networks bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main_inner(plan: Plan, want_netavark: bool, settle: bool) -> Res<()> {
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
    let nv_bin = if want_netavark { NvNet::find() } else { None };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let mut b = Bench {
        dn,
        lab: format!("nets_{pid}"),
        prefix: format!("dnnet-{pid}-"),
        nv_bin,
        rt,
        r: Results::default(),
        settle,
        last_delete: None,
    };
    let head = header(&root, &plan, b.nv_bin.is_some(), want_netavark);
    let t = std::time::Instant::now();
    let outcome = b.all(plan);
    let leaks = b.cleanup();
    outcome?;
    leaks?;
    eprintln!("networks bench: done in {:.0} s", t.elapsed().as_secs_f64());
    print!("{head}");
    print!("{}", b.r.table(b.nv_bin.is_some()));
    Ok(())
}

fn sh(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The machine and the plan, above the table.
fn header(root: &std::path::Path, p: &Plan, nv: bool, want_nv: bool) -> String {
    let git = root.display().to_string();
    let rev = sh("git", &["-C", &git, "describe", "--always", "--dirty"]);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let nv = match (nv, want_nv) {
        (true, _) => sh("/usr/lib/podman/netavark", &["--version"]),
        (false, true) => "netavark not installed (`apt-get install -y netavark`): skipped".into(),
        (false, false) => "netavark skipped (--no-netavark)".into(),
    };
    format!(
        "\ndockernet {rev}, kernel {}, {} CPUs, load {} at start; /run/dockernet on {}; {} create+rm \
         pairs, {} run pairs, {} connects, {} rounds of 100, {} rounds of 10×10; {nv}\n\n",
        sh("uname", &["-r"]),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        fs_kind(),
        p.pairs,
        p.runs,
        p.conns,
        p.flats,
        p.grids
    )
}

/// Labs and namespaces left by a run that was killed (its PID is gone).
fn remove_stale(dn: &std::path::Path) {
    let dead_pid = |ns: &str, prefix: &str| {
        let pid: String = ns[prefix.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let gone = !pid.is_empty() && !std::path::Path::new(&format!("/proc/{pid}")).exists();
        gone.then_some(pid)
    };
    let mut labs: Vec<String> = netns_with_prefix("dn-nets_")
        .iter()
        .filter_map(|ns| dead_pid(ns, "dn-nets_"))
        .collect();
    labs.dedup();
    for pid in labs {
        eprintln!("networks bench: removing stale lab nets_{pid}");
        let _ = common::dockernet_timed(dn, &format!("nets_{pid}"), &["lab", "down"]);
    }
    for ns in netns_with_prefix("dnnet-") {
        if let Some(pid) = dead_pid(&ns, "dnnet-")
            && !netns_with_prefix(&format!("dnnet-{pid}-")).is_empty()
        {
            eprintln!("networks bench: removing stale namespaces dnnet-{pid}-*");
            purge(&format!("dnnet-{pid}-"));
        }
    }
    // netavark's config directories (`<tmp>/dnnet-<pid>-vnetavark`).
    for e in std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("dnnet-") && dead_pid(&name, "dnnet-").is_some() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Median µs to create a file in `dir`, 10 tries: the cost every state-file write of
/// dockernet pays on this file system. The files are left for `lab down` to remove with
/// the lab's directory: deleting them here would add to the churn being measured.
fn create_probe(dir: &str) -> f64 {
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let pid = std::process::id();
    let mut v = Vec::with_capacity(10);
    for _ in 0..10 {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let p = format!("{dir}/.nbprobe-{pid}-{n}");
        let t = std::time::Instant::now();
        if std::fs::File::create(&p).is_err() {
            return f64::NAN;
        }
        v.push(t.elapsed().as_secs_f64() * 1e6);
    }
    common::median(&v)
}

/// What /run/dockernet lives on: `tmpfs`, `ext4 (no journal)`, `ext4`, or the magic.
fn fs_kind() -> String {
    let _ = std::fs::create_dir_all("/run/dockernet");
    let path = std::ffi::CString::new("/run/dockernet").expect("no NUL");
    // SAFETY: statfs(2) fills the zeroed struct; the path is a valid C string.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(path.as_ptr(), &mut st) } != 0 {
        return "unknown".into();
    }
    match st.f_type as i64 {
        0x0102_1994 => "tmpfs".into(),
        0xEF53 => {
            // A journaled ext4 has a jbd2 instance per device under /proc/fs/jbd2.
            let journaled = std::fs::read_dir("/proc/fs/jbd2")
                .map(|d| d.count() > 0)
                .unwrap_or(false);
            if journaled {
                "ext4"
            } else {
                "ext4 (no journal)"
            }
            .into()
        }
        other => format!("fs magic {other:#x}"),
    }
}

/// Mounts in our (the root) mount namespace.
fn mounts() -> usize {
    std::fs::read_to_string("/proc/self/mountinfo").map_or(0, |s| s.lines().count())
}

/// A value of the `dockernet-timing k=v ...` line on a run's stderr.
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
    /// `dnnet-<pid>-`: every namespace of the peers.
    prefix: String,
    nv_bin: Option<PathBuf>,
    rt: tokio::runtime::Runtime,
    r: Results,
    /// Wait for the file system after lab downs (see `settle`).
    settle: bool,
    last_delete: Option<std::time::Instant>,
}

impl Bench {
    /// `dockernet --lab LAB ARGS`: (wall ms, stdout, stderr).
    fn dn(&self, args: &[&str]) -> Res<(f64, String, String)> {
        if common::stopping() {
            return Err("interrupted".into());
        }
        common::dockernet_timed(&self.dn, &self.lab, args)
    }

    fn lab_host(&self) -> String {
        format!("dn-{}-host", self.lab)
    }

    /// `lab up`, then `sync`: the lab's files (the images' links) are written back
    /// before anything is timed, so that the first containers do not wait on that I/O
    /// (this VM's /run is on the ext4 root, not a tmpfs).
    fn lab_up(&self) -> Res<()> {
        self.dn(&["lab", "up"])?;
        // SAFETY: sync(2) has no preconditions.
        unsafe { libc::sync() };
        Ok(())
    }

    /// `run -d --name NAME [--net NET] busybox sleep 3600`: (timings, container id).
    fn run(&self, name: &str, net: Option<&str>) -> Res<(RunT, String)> {
        let mut args = vec!["run", "-d", "--name", name];
        if let Some(n) = net {
            args.extend(["--net", n]);
        }
        args.extend(["busybox", "sleep", "3600"]);
        let (wall, id, err) = self.dn(&args)?;
        let id = id.trim().to_string();
        if id.len() != 64 {
            return Err(format!("run printed {id:?}, not a container ID"));
        }
        let get = |k| timing(&err, k).ok_or("no dockernet-timing line on stderr");
        let t = RunT {
            wall,
            net: get("network_ms")?,
            spawn: get("spawn_ms")?,
            before: get("before_network_ms")?,
        };
        Ok((t, id))
    }

    /// `network create NAME` and its record.
    fn create(&self, name: &str) -> Res<(f64, String, Value, Vec<St>)> {
        let (ms, id, _) = self.dn(&["network", "create", name])?;
        let id = id.trim().to_string();
        let (rec, steps) = network_record(&self.lab, &id)?;
        Ok((ms, id, rec, steps))
    }

    /// Flatness (5) right after sections 1-3, before the grids' lab downs.
    fn all(&mut self, p: Plan) -> Res<()> {
        self.r.busy.push(common::busy_processes());
        self.sections_1_to_3(p)?;
        for i in 0..p.flats {
            self.r.busy.push(common::busy_processes());
            self.flat(i)?;
        }
        for i in 0..p.grids {
            self.r.busy.push(common::busy_processes());
            self.grid(i)?;
        }
        Ok(())
    }

    /// Container `i` of a flatness round: dockernet's `run -d` and the shell's, the
    /// order alternating.
    fn flat_pair(&mut self, base: &mut ShellBaseline, i: usize) -> Res<(RunT, f64)> {
        let name = format!("f{i}");
        Ok(if i.is_multiple_of(2) {
            let t = self.run(&name, None)?.0;
            (t, base.container(i)?)
        } else {
            let b = base.container(i)?;
            (self.run(&name, None)?.0, b)
        })
    }

    /// Sleep `secs`, interruptible.
    fn pause(&self, secs: u64) -> Res<()> {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < until {
            if common::stopping() {
                return Err("interrupted".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        Ok(())
    }

    /// Remember that many files were just deleted (a lab down, the shell's netns).
    fn deleted(&mut self) {
        self.last_delete = Some(std::time::Instant::now());
    }

    /// On an ext4 without a journal, creating a file scans past every inode deleted
    /// in the last ~30 s (`recently_deleted` in the inode allocator): for half a minute
    /// after a lab down each file creation costs up to ~1 ms, which would show up as
    /// growth in whatever round comes next. Wait until 32 s after our last mass
    /// deletion, then until creating a file in the lab's directory is fast again (at
    /// most 30 s more). Nothing to wait for on a tmpfs, or with `--no-settle`.
    fn settle(&mut self) -> Res<()> {
        if !self.settle || fs_kind().starts_with("tmpfs") {
            return Ok(());
        }
        let t = std::time::Instant::now();
        let dir = format!("/run/dockernet/{}", self.lab);
        if let Some(del) = self.last_delete {
            let until = del + std::time::Duration::from_secs(32);
            eprintln!(
                "networks bench: settling the file system ({:.0} s)",
                until.saturating_duration_since(t).as_secs_f64()
            );
            self.pause(until.saturating_duration_since(t).as_secs())?;
        }
        while create_probe(&dir) > 150.0 && t.elapsed().as_secs() < 62 {
            if common::stopping() {
                return Err("interrupted".into());
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        self.r.settled_s += t.elapsed().as_secs_f64();
        Ok(())
    }

    /// Sections 1-3 share one lab and one shell host.
    fn sections_1_to_3(&mut self, p: Plan) -> Res<()> {
        eprintln!("networks bench: 1. network create + rm, {} pairs", p.pairs);
        self.lab_up()?;
        self.settle()?;
        let shell = NetShell::up(&format!("{}a", self.prefix), &self.lab_host())?;
        let nv = match &self.nv_bin {
            Some(bin) => Some(NvNet::up(bin.clone(), &format!("{}v", self.prefix))?),
            None => None,
        };
        // Warm-up (uncounted); its record is the shape the shell rebuilds every time.
        let (_, _, warm, warm_steps) = self.create("nbw")?;
        self.dn(&["network", "rm", "nbw"])?;
        let spec = NetSpec::of(&warm, &warm_steps)?;
        if let Some(nv) = &nv {
            nv.round()?;
        }
        for i in 0..p.pairs {
            let name = format!("nb{i}");
            let dn_first = i % 2 == 0;
            let (mut sh_create, mut sh_rm) = (0.0, 0.0);
            if !dn_first {
                sh_create = shell.net_create(&spec)?;
            }
            let (dn_create, _, _, steps) = self.create(&name)?;
            if dn_first {
                sh_create = shell.net_create(&spec)?;
                sh_rm = shell.net_rm(&spec)?;
            }
            let dn_rm = self.dn(&["network", "rm", &name])?.0;
            if !dn_first {
                sh_rm = shell.net_rm(&spec)?;
            }
            let k = replay(&self.rt, &steps)?;
            let nv = match &nv {
                Some(nv) => Some(nv.round()?),
                None => None,
            };
            self.r.pairs.push(PairS {
                dn_create,
                dn_rm,
                sh_create,
                sh_rm,
                kr_create: k.up,
                kr_rm: k.down,
                kr_rm_rules: k.down_rules,
                nv,
            });
        }
        drop(nv);

        eprintln!(
            "networks bench: 2. run -d user-defined vs docker0, {} pairs",
            p.runs
        );
        self.dn(&["network", "create", "unet"])?;
        self.run("uw", Some("unet"))?;
        self.run("dw", None)?;
        let mut d_names = Vec::new();
        for i in 0..p.runs {
            let (u, d) = (format!("u{i}"), format!("d{i}"));
            let (ut, dt) = if i % 2 == 0 {
                let ut = self.run(&u, Some("unet"))?.0;
                (ut, self.run(&d, None)?.0)
            } else {
                let dt = self.run(&d, None)?.0;
                (self.run(&u, Some("unet"))?.0, dt)
            };
            self.r.runs.push((ut, dt));
            d_names.push(d);
        }

        eprintln!("networks bench: 3. network connect, {} containers", p.conns);
        let (_, conn_id, conn, conn_steps) = self.create("conn")?;
        let cspec = NetSpec::of(&conn, &conn_steps)?;
        let mut shell = shell;
        shell.net_create(&cspec)?;
        let k = shell.bare_netns("k")?;
        // Warm-up (uncounted) on the warm-up container.
        self.dn(&["network", "connect", "conn", "dw"])?;
        self.dn(&["network", "disconnect", "conn", "dw"])?;
        for (i, name) in d_names.iter().take(p.conns).enumerate() {
            let mac = format!("02:42:0a:00:00:{:02x}", i % 256);
            let dn_first = i % 2 == 0;
            let (mut sh_conn, mut sh_disc) = (0.0, 0.0);
            if !dn_first {
                sh_conn = shell.connect(&cspec, &k, "vk", &mac, i)?;
                sh_disc = shell.disconnect("vk")?;
            }
            let dn_conn = self.dn(&["network", "connect", "conn", name])?.0;
            let id = std::fs::read_to_string(format!("/run/dockernet/{}/names/{name}", self.lab))
                .map_err(|e| format!("name {name}: {e}"))?;
            let steps = endpoint_steps(&self.lab, id.trim(), &conn_id)?;
            let dn_disc = self.dn(&["network", "disconnect", "conn", name])?.0;
            if dn_first {
                sh_conn = shell.connect(&cspec, &k, "vk", &mac, i)?;
                sh_disc = shell.disconnect("vk")?;
            }
            let k = replay(&self.rt, &steps)?;
            let (kr_conn, kr_disc) = (k.up, k.down);
            let floor = self.dn(&["--version"])?.0;
            self.r.conns.push(ConnS {
                dn_conn,
                dn_disc,
                kr_conn,
                kr_disc,
                sh_conn,
                sh_disc,
                floor,
            });
        }
        self.dn(&["lab", "down"])?;
        shell.down()?;
        self.deleted();
        Ok(())
    }

    /// Section 4, one round: 10 networks × 10 containers, then everything removed.
    fn grid(&mut self, round: usize) -> Res<()> {
        eprintln!(
            "networks bench: 4. 10 networks × 10 containers, round {}",
            round + 1
        );
        self.lab_up()?;
        self.settle()?;
        let mut shell = NetShell::up(&format!("{}g", self.prefix), &self.lab_host())?;
        let mut g = GridS::default();
        for k in 0..10 {
            // dockernet first: the shell rebuilds the network dockernet just recorded.
            let net = format!("g{k}");
            let (ms, _, rec, steps) = self.create(&net)?;
            g.dn_create += ms;
            let spec = NetSpec::of(&rec, &steps)?;
            g.sh_create += shell.net_create(&spec)?;
            for j in 0..10 {
                let name = format!("g{k}_{j}");
                if (k * 10 + j) % 2 == 0 {
                    g.dn_run += self.run(&name, Some(&net))?.0.wall;
                    g.sh_run += shell.container(&spec, &name, j)?;
                } else {
                    g.sh_run += shell.container(&spec, &name, j)?;
                    g.dn_run += self.run(&name, Some(&net))?.0.wall;
                }
            }
        }
        if round.is_multiple_of(2) {
            g.dn_down = self.dn(&["lab", "down"])?.0;
            g.sh_down = shell.down()?;
        } else {
            g.sh_down = shell.down()?;
            g.dn_down = self.dn(&["lab", "down"])?.0;
        }
        self.deleted();
        self.r.grids.push(g);
        Ok(())
    }

    /// Section 5, one round: 100 containers on docker0, each next to the shell's.
    fn flat(&mut self, round: usize) -> Res<()> {
        eprintln!(
            "networks bench: 5. flatness, 100 containers, round {}",
            round + 1
        );
        self.lab_up()?;
        self.settle()?;
        let mut base = ShellBaseline::up(&format!("{}f", self.prefix))?;
        let mut v = Vec::with_capacity(100);
        let m0 = mounts();
        let mut probes = Vec::with_capacity(20);
        // Where `run` creates most of its files (the container's directory).
        let where_files = format!("/run/dockernet/{}/containers", self.lab);
        for i in 0..100 {
            v.push(self.flat_pair(&mut base, i)?);
            if !(10..90).contains(&i) {
                probes.push(create_probe(&where_files));
            }
        }
        // Once per run: the same lab after a pause, when the file churn of the last
        // 100 runs no longer costs anything (see `settle`) but N is still 100. This
        // separates growth with N from growth with the rate of recent commands.
        if round == 0 && self.settle && !fs_kind().starts_with("tmpfs") {
            eprintln!("networks bench: 5. pause 32 s, then containers 101–110 of the same lab");
            self.pause(32)?;
            for i in 100..110 {
                let s = self.flat_pair(&mut base, i)?;
                self.r.flat_after_pause.push(s);
            }
        }
        self.r.flat_mounts.push((m0, mounts()));
        self.r
            .flat_probe
            .push((common::median(&probes[..10]), common::median(&probes[10..])));
        self.r.flat.push(v);
        let dn_down = self.dn(&["lab", "down"])?.0;
        let sh_down = base.down()?;
        self.deleted();
        self.r.flat_down.push((dn_down, sh_down));
        Ok(())
    }

    /// Remove our lab and every peer namespace, whatever state a failure left them in,
    /// then check that nothing of ours is left.
    fn cleanup(&mut self) -> Res<()> {
        let _ = common::dockernet_timed(&self.dn, &self.lab, &["lab", "down"]);
        purge(&self.prefix);
        let _ =
            std::fs::remove_dir_all(std::env::temp_dir().join(format!("{}vnetavark", self.prefix)));
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
        if !netns_with_prefix(&self.prefix).is_empty()
            || !netns_with_prefix(&format!("dn-{}-", self.lab)).is_empty()
        {
            let _ = self.cleanup();
        }
    }
}

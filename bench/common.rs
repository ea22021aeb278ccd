//! Helpers shared by the benchmarks.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set by SIGINT/SIGTERM/SIGHUP: benchmarks check it between measurements so that their
/// cleanup still runs.
pub static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(sig: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
    // SAFETY: signal(2) is async-signal-safe; a second signal now kills us outright.
    unsafe { libc::signal(sig, libc::SIG_DFL) };
}

/// Catch the first SIGINT/SIGTERM/SIGHUP into [`STOP`].
pub fn catch_stop_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores an atomic and resets the disposition.
        unsafe { libc::signal(sig, on_stop_signal as *const () as libc::sighandler_t) };
    }
}

/// Whether a stop was asked for.
pub fn stopping() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Median of the samples that are numbers (NaN when there are none).
pub fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    }
}

/// Other CPU-heavy processes (a parallel build or test on this 2-core VM).
pub fn busy_processes() -> usize {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
        .filter(|c| matches!(c.trim(), "rustc" | "cargo" | "cc" | "ld" | "rust-lld"))
        .count()
}

/// `/run/netns` entries starting with `prefix`.
pub fn netns_with_prefix(prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("/run/netns")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix))
        .collect();
    v.sort();
    v
}

/// Run `dockernet --lab LAB ARGS` with DOCKERNET_TIMINGS=1 and time it from spawn to
/// exit: (wall ms, stdout, stderr), or a one-line error naming the command.
pub fn dockernet_timed(
    dn: &std::path::Path,
    lab: &str,
    args: &[&str],
) -> Result<(f64, String, String), String> {
    let t = std::time::Instant::now();
    let out = std::process::Command::new(dn)
        .args(["--lab", lab])
        .args(args)
        .env("DOCKERNET_TIMINGS", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", dn.display()))?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(format!(
            "dockernet {} failed ({}): {}",
            args.join(" "),
            out.status,
            stderr.trim()
        ));
    }
    Ok((ms, stdout, stderr))
}

/// One value of the `dockernet-timing network_ms=X spawn_ms=Y` line a run prints with
/// DOCKERNET_TIMINGS=1 on stderr (not every benchmark reads timings).
#[allow(dead_code)]
pub fn run_timing(stderr: &str, key: &str) -> Option<f64> {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("dockernet-timing "))?;
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

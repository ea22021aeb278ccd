//! What `info` reads of the machine the lab runs on: kernel, operating system, CPUs,
//! memory, cgroup version, the file system under the lab's directory.

/// go-units `BytesSize`: binary units, four significant digits (`%.4g`), e.g.
/// `7.751GiB`.
pub fn bytes_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let mut size = bytes as f64;
    let mut i = 0;
    while size >= 1024.0 && i < UNITS.len() - 1 {
        size /= 1024.0;
        i += 1;
    }
    if size == 0.0 {
        return format!("0{}", UNITS[i]);
    }
    // %.4g: four significant digits, trailing zeros dropped (size < 1024 here, so
    // never in exponent form).
    let int_digits = (size.log10().floor() as i32 + 1).clamp(1, 4) as usize;
    let text = format!("{size:.*}", 4 - int_digits);
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text}{}", UNITS[i])
}

/// What `info` reports of the machine the lab runs on.
pub struct Host {
    /// `uname -r`.
    pub kernel: String,
    /// `PRETTY_NAME` of /etc/os-release.
    pub os: String,
    /// `VERSION_ID` of /etc/os-release.
    pub os_version: String,
    /// CPUs this process may run on.
    pub cpus: usize,
    /// Bytes of memory (/proc/meminfo).
    pub mem_total: u64,
    /// "2" on a unified cgroup hierarchy, else "1".
    pub cgroup_version: &'static str,
}

impl Host {
    /// Read them now.
    pub fn read() -> Host {
        let text = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let os_release = text("/etc/os-release");
        let field = |k: &str| {
            os_release
                .lines()
                .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
                .map(|v| v.trim().trim_matches('"').to_string())
        };
        let mem_total = text("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024);
        Host {
            kernel: text("/proc/sys/kernel/osrelease").trim().to_string(),
            os: field("PRETTY_NAME").unwrap_or_else(|| "<unknown>".into()),
            os_version: field("VERSION_ID").unwrap_or_default(),
            cpus: cpus_allowed(&text("/proc/self/status"))
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            mem_total,
            cgroup_version: if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
                "2"
            } else {
                "1"
            },
        }
    }
}

/// Go's `runtime.NumCPU()`: the CPUs this process may run on (`Cpus_allowed_list:
/// 0-3,6` in /proc/self/status).
fn cpus_allowed(status: &str) -> Option<usize> {
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))?
        .trim();
    let mut n = 0;
    for part in list.split(',').filter(|p| !p.is_empty()) {
        n += match part.split_once('-') {
            Some((a, b)) => b.parse::<usize>().ok()? - a.parse::<usize>().ok()? + 1,
            None => 1,
        };
    }
    (n > 0).then_some(n)
}

/// Docker's name for the file system under its root dir (moby `fsutils` magic numbers).
pub fn backing_filesystem(path: &std::path::Path) -> String {
    use nix::sys::statfs::{
        BTRFS_SUPER_MAGIC, EXT4_SUPER_MAGIC, OVERLAYFS_SUPER_MAGIC, TMPFS_MAGIC, XFS_SUPER_MAGIC,
        statfs,
    };
    let Ok(st) = statfs(path) else {
        return "<unknown>".into();
    };
    let t = st.filesystem_type();
    let name = if t == EXT4_SUPER_MAGIC {
        "extfs"
    } else if t == TMPFS_MAGIC {
        "tmpfs"
    } else if t == XFS_SUPER_MAGIC {
        "xfs"
    } else if t == BTRFS_SUPER_MAGIC {
        "btrfs"
    } else if t == OVERLAYFS_SUPER_MAGIC {
        "overlayfs"
    } else {
        "<unknown>"
    };
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_memory_is_go_units_bytes_size() {
        assert_eq!(bytes_size(8_322_600_960), "7.751GiB");
        assert_eq!(bytes_size(16 * 1024 * 1024 * 1024), "16GiB");
        assert_eq!(bytes_size(1536), "1.5KiB");
        assert_eq!(bytes_size(0), "0B");
        assert_eq!(bytes_size(1023), "1023B");
    }

    #[test]
    fn cpus_from_the_allowed_list() {
        assert_eq!(
            cpus_allowed("Name:\tx\nCpus_allowed_list:\t0-3,6\n"),
            Some(5)
        );
        assert_eq!(cpus_allowed("Cpus_allowed_list:\t0\n"), Some(1));
        assert_eq!(cpus_allowed("nothing"), None);
    }
}

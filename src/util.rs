//! Small helpers shared by several modules: randomness, process identity, atomic files.

use crate::error::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Environment variable every process dockernet starts carries (shims, inits,
/// proxies): the directory of the container (or lab) it belongs to. It is how a process
/// is found again when a crash lost its record.
pub const OWNER_ENV: &str = "DOCKERNET_OWNER";

/// When this process started its work (set first thing in `main`), for timings.
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// `n` random bytes from the kernel (getrandom), for ids and names.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    let mut filled = 0;
    while filled < n {
        // SAFETY: the buffer is valid for n - filled bytes from the offset.
        let r = unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), n - filled, 0) };
        if r > 0 {
            filled += r as usize;
        }
    }
    buf
}

/// Random lowercase hex of the given length (Docker ids: 64; veth suffixes: 7).
pub fn random_hex(len: usize) -> String {
    let bytes = random_bytes(len.div_ceil(2));
    let mut s: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    s.truncate(len);
    s
}

/// A random u64, for name generation.
pub fn random_u64() -> u64 {
    let b = random_bytes(8);
    u64::from_le_bytes(b.try_into().unwrap_or([0; 8]))
}

/// A process we started, identified by PID *and* start time so that a recycled PID
/// is never mistaken for ours (we only ever signal processes we started).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProcRef {
    /// Process id in the root PID namespace.
    pub pid: i32,
    /// Field 22 of /proc/PID/stat (clock ticks since boot).
    pub start_time: u64,
}

impl ProcRef {
    /// Identify a live process; `None` if it is already gone.
    pub fn of(pid: i32) -> Option<ProcRef> {
        proc_start_time(pid).map(|start_time| ProcRef { pid, start_time })
    }

    /// True while the very same process still exists (and is not a zombie).
    pub fn alive(&self) -> bool {
        match proc_stat(self.pid) {
            Some((state, start)) => start == self.start_time && state != 'Z' && state != 'X',
            None => false,
        }
    }

    /// Send a signal if (and only if) it is still our process.
    pub fn signal(&self, sig: i32) -> bool {
        if !self.alive() {
            return false;
        }
        // SAFETY: plain syscall with a checked PID.
        unsafe { libc::kill(self.pid, sig) == 0 }
    }

    /// Wait (polling) until the process is gone, up to `timeout`. Returns true if gone.
    pub fn wait_gone(&self, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if !self.alive() {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}

fn proc_stat(pid: i32) -> Option<(char, u64)> {
    use std::io::Read;
    // One read into a fixed buffer: procfs reports size 0, so read_to_string would probe
    // with several small reads, and this runs for every container on every command.
    let mut buf = [0u8; 1024];
    let n = std::fs::File::open(format!("/proc/{pid}/stat"))
        .ok()?
        .read(&mut buf)
        .ok()?;
    let text = std::str::from_utf8(&buf[..n]).ok()?;
    // The command name (field 2) may contain spaces and parentheses; fields after the
    // last ')' are well-formed.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((state, start))
}

/// Start time (field 22 of /proc/PID/stat) of a process, if it exists.
pub fn proc_start_time(pid: i32) -> Option<u64> {
    proc_stat(pid).map(|(_, s)| s)
}

/// Write a file atomically: write a temporary sibling, then rename over the target.
/// The file is private (0600, root only): it is a state record.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    // Appended, not `with_extension`: `ips/172.18.0.5` must not become `172.18.0.tmpN`.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!("{name}.tmp{}", std::process::id()));
    let mut f = create_private(&tmp).with_ctx(|| format!("writing {}", tmp.display()))?;
    f.write_all(data)
        .with_ctx(|| format!("writing {}", tmp.display()))?;
    drop(f);
    std::fs::rename(&tmp, path).with_ctx(|| format!("renaming onto {}", path.display()))
}

/// Mode of dockernet's state directories (`/run/dockernet`, each lab's, and every
/// directory under it but `images/`): root only, so no other user lists or reaches the
/// records, the logs or the lock.
pub const PRIVATE_DIR_MODE: u32 = 0o700;
/// Mode of every file dockernet keeps in a lab directory (records, logs, the lock, the
/// init's config): root only. Records and configs hold `-e` values, which may be
/// secrets, and a lock any user could open is a lock any user could hold.
pub const PRIVATE_FILE_MODE: u32 = 0o600;
/// Mode of the files bind-mounted into containers (`/etc/hosts`, `/etc/hostname`,
/// `/etc/resolv.conf`): readable by every user *inside* the container, as Docker's are —
/// a process that dropped root there still resolves names. They hold nothing secret, and
/// the private lab directory above them keeps other users of the machine out anyway.
pub const SHARED_FILE_MODE: u32 = 0o644;

/// Give an open file exactly `mode`, if it has another one: a file that already existed
/// keeps its old mode through `open` (a lab made by an older dockernet: 0644), and a
/// new one gets `mode` minus the umask.
fn set_mode(f: &std::fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if f.metadata()?.permissions().mode() & 0o7777 != mode {
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Create a directory and its missing parents, all 0700 ([`PRIVATE_DIR_MODE`]); an
/// existing one with a wider mode (an older lab) is tightened.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR_MODE)
        .create(path)?;
    if std::fs::metadata(path)?.permissions().mode() & 0o7777 != PRIVATE_DIR_MODE {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(PRIVATE_DIR_MODE))?;
    }
    Ok(())
}

/// Mount a tmpfs with `options` on `path` (made a private directory first); make each
/// directory of `linked` in it, linked from beside `path` (`../containers -> mem/containers`).
pub fn mount_tmpfs(path: &Path, options: &str, linked: &[String]) -> crate::error::Result<()> {
    use crate::error::Error;
    create_private_dir(path)
        .map_err(|e| Error::from(e).context(format!("creating {}", path.display())))?;
    nix::mount::mount(
        Some("tmpfs"),
        path,
        Some("tmpfs"),
        nix::mount::MsFlags::empty(),
        Some(options),
    )
    .map_err(|e| Error::errno(format!("mounting a tmpfs on {}", path.display()), e as i32))?;
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(());
    };
    for d in linked {
        let inside = path.join(d);
        let link = parent.join(d);
        create_private_dir(&inside)
            .and_then(|()| std::os::unix::fs::symlink(Path::new(name).join(d), &link))
            .map_err(|e| {
                Error::from(e).context(format!("linking {} into memory", link.display()))
            })?;
    }
    Ok(())
}

/// Detach the mount on `path`; nothing mounted there (EINVAL) or no such path is fine:
/// a crash may have come before the mount, and cleanup runs again after a failure.
pub fn unmount(path: &Path) -> crate::error::Result<()> {
    match nix::mount::umount2(path, nix::mount::MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => Ok(()),
        Err(e) => Err(crate::error::Error::errno(
            format!("unmounting {}", path.display()),
            e as i32,
        )),
    }
}

/// Open a file of the lab directory with `opts` (which say create, append, truncate…),
/// making it 0600 ([`PRIVATE_FILE_MODE`]) whether it is new or was there before.
pub fn open_private(
    path: &Path,
    opts: &mut std::fs::OpenOptions,
) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = opts.mode(PRIVATE_FILE_MODE).open(path)?;
    set_mode(&f, PRIVATE_FILE_MODE)?;
    Ok(f)
}

/// Create (or truncate) a private file: `File::create` for logs and records, 0600.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    open_private(
        path,
        std::fs::File::options()
            .write(true)
            .create(true)
            .truncate(true),
    )
}

/// Write a private file in place (the init's config, an exit code): 0600.
pub fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    create_private(path)?.write_all(data)
}

/// Write in place (same inode: it is bind-mounted, and a rename would leave the
/// container with the old file) one of a container's /etc files, 0644
/// ([`SHARED_FILE_MODE`]): readable by the container's processes whatever their user.
pub fn write_shared(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::File::options()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(SHARED_FILE_MODE)
        .open(path)?;
    set_mode(&f, SHARED_FILE_MODE)?;
    f.write_all(data)
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Find an executable on PATH.
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(program))
        .find(|p| {
            use std::os::unix::fs::PermissionsExt;
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// Every other process on the machine: (pid, its /proc directory). For the sweeps
/// that find our own processes again when a crash lost their record.
pub fn other_processes() -> impl Iterator<Item = (i32, std::path::PathBuf)> {
    let me = std::process::id() as i32;
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(move |e| {
            let pid = e.file_name().to_str()?.parse::<i32>().ok()?;
            (pid != me).then(|| (pid, e.path()))
        })
}

/// Live processes started with `KEY=VALUE...` in their environment where VALUE begins
/// with `value_prefix` (how a shim or init of a given container, or of any container of
/// a lab, is found when no record names it: a `kill -9` between spawn and save).
pub fn processes_with_env_prefix(key: &str, value_prefix: &str) -> Vec<ProcRef> {
    let needle = format!("{key}={value_prefix}");
    other_processes()
        .filter(|(_, dir)| {
            std::fs::read(dir.join("environ")).is_ok_and(|env| {
                env.split(|b| *b == 0)
                    .any(|kv| kv.starts_with(needle.as_bytes()))
            })
        })
        .filter_map(|(pid, _)| ProcRef::of(pid))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_has_requested_length() {
        assert_eq!(random_hex(64).len(), 64);
        assert_eq!(random_hex(7).len(), 7);
        assert!(random_hex(7).chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(random_hex(64), random_hex(64));
    }

    #[test]
    fn private_and_shared_files_get_their_modes() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        let dir = std::env::temp_dir().join(format!("dn-util-modes-{}", random_hex(8)));
        let sub = dir.join("a").join("b");
        create_private_dir(&sub).unwrap();
        assert_eq!((mode(&dir), mode(&sub)), (0o700, 0o700));
        // An older lab's directory and files (0755, 0644) are tightened when opened.
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&sub).unwrap();
        assert_eq!(mode(&sub), 0o700);
        let log = sub.join("log");
        std::fs::write(&log, b"old").unwrap();
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
        open_private(&log, std::fs::File::options().append(true)).unwrap();
        assert_eq!(mode(&log), 0o600);
        write_atomic(&sub.join("rec.json"), b"{}").unwrap();
        assert_eq!(mode(&sub.join("rec.json")), 0o600);
        write_private(&sub.join("config.json"), b"{}").unwrap();
        assert_eq!(mode(&sub.join("config.json")), 0o600);
        write_shared(&sub.join("hosts"), b"127.0.0.1\tlocalhost\n").unwrap();
        assert_eq!(mode(&sub.join("hosts")), 0o644);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn own_process_is_alive_and_identified() {
        let me = ProcRef::of(std::process::id() as i32).unwrap();
        assert!(me.alive());
        let fake = ProcRef {
            pid: me.pid,
            start_time: me.start_time + 1,
        };
        assert!(
            !fake.alive(),
            "a different start time is a different process"
        );
    }
}

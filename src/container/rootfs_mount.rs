//! What a container's init (PID 1, in its new mount namespace) does to give it a root
//! filesystem of its own, as runc does: the image's layer under a writable overlay,
//! read-only binds of what the image takes from the host (C libraries, this binary),
//! Docker's /etc files, a fresh /proc and a read-only /sys, a minimal /dev, Docker's
//! masked paths, then `pivot_root` into it and the old root detached — after which
//! nothing of the machine's tree is reachable.

use super::init::InitConfig;
use crate::image::rootfs::RootfsConfig;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use std::path::{Path, PathBuf};

/// Docker's masked paths (`oci/defaults.go`): files hidden behind /dev/null, directories
/// behind an empty read-only tmpfs.
const MASKED: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Docker's read-only paths.
const READ_ONLY: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The device nodes a container gets: name, major, minor (as runc creates them). Made
/// with mknod (PID 1 still holds CAP_MKNOD): a node is an inode, a bind is a mount, and
/// every mount a container start makes costs time.
const DEVICES: &[(&str, u64, u64)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

fn inside(root: &Path, p: &str) -> PathBuf {
    root.join(p.trim_start_matches('/'))
}

fn err(what: &str, path: &Path, e: nix::Error) -> String {
    format!("{what} {}: {e}", path.display())
}

fn bind(src: &Path, dst: &Path, read_only: bool) -> Result<(), String> {
    let none = None::<&str>;
    mount(
        Some(src),
        dst,
        none,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        none,
    )
    .map_err(|e| err("bind-mounting", dst, e))?;
    if read_only {
        mount(
            none,
            dst,
            none,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_REC,
            none,
        )
        .map_err(|e| err("making read-only", dst, e))?;
    }
    Ok(())
}

/// A mount point of the right kind for a bind of `src`.
fn mount_point(src: &Path, dst: &Path) -> Result<(), String> {
    if dst.exists() {
        return Ok(());
    }
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    let r = if src.is_dir() {
        std::fs::create_dir_all(dst)
    } else {
        std::fs::write(dst, b"")
    };
    r.map_err(|e| format!("creating {}: {e}", dst.display()))
}

/// Build the container's root and pivot into it; set its hostname.
pub fn prepare(config: &InitConfig, r: &RootfsConfig) -> Result<(), String> {
    let none = None::<&str>;
    let root = PathBuf::from(&r.target);
    // Slave propagation: the host's unmounts reach us (a deleted netns is freed), our
    // mounts never reach the host.
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_SLAVE, none)
        .map_err(|e| format!("making / a slave mount: {e}"))?;
    // `volatile`: the upper layer is on the lab's tmpfs (`lab::IN_MEMORY`) and dies with the lab, so syncing it means
    // nothing — yet without the option every container's exit syncs the filesystems
    // under the overlay (the machine's disk included) in the unmount, and `rm` / `lab
    // down` of many containers wait seconds for it. A volatile overlay leaves
    // work/work/incompat/volatile (with a `dirty` file) behind and refuses to mount
    // again while it exists: a restarted container clears it first (its upper layer is
    // on tmpfs: nothing there could outlive a crash of the machine anyway).
    let _ = std::fs::remove_dir_all(format!("{}/work/incompat", r.work));
    let opts = format!(
        "lowerdir={},upperdir={},workdir={},volatile",
        r.lower, r.upper, r.work
    );
    mount(
        Some("overlay"),
        &root,
        Some("overlay"),
        MsFlags::empty(),
        Some(opts.as_str()),
    )
    .map_err(|e| err("mounting the overlay on", &root, e))?;
    for (src, dst) in &r.ro_binds {
        let (src, dst) = (Path::new(src), inside(&root, dst));
        mount_point(src, &dst)?;
        bind(src, &dst, true)?;
    }
    for (src, dst) in &config.binds {
        let (src, dst) = (Path::new(src), inside(&root, dst));
        mount_point(src, &dst)?;
        bind(src, &dst, false)?;
    }
    let proc_dir = inside(&root, "/proc");
    // /proc from inside the new PID namespace shows only its processes.
    mount(
        Some("proc"),
        &proc_dir,
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        none,
    )
    .map_err(|e| err("mounting", &proc_dir, e))?;
    let sys = inside(&root, "/sys");
    let mut sys_flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    if r.masked {
        sys_flags |= MsFlags::MS_RDONLY;
    }
    // sysfs from inside the network namespace shows its interfaces.
    mount(Some("sysfs"), &sys, Some("sysfs"), sys_flags, none)
        .map_err(|e| err("mounting", &sys, e))?;
    make_dev(&inside(&root, "/dev"))?;
    if r.masked {
        mask(&root)?;
    }
    pivot(&root)?;
    if let Some(h) = &config.hostname {
        nix::unistd::sethostname(h).map_err(|e| format!("sethostname: {e}"))?;
    }
    Ok(())
}

/// A tmpfs /dev with the usual nodes, a private devpts, /dev/shm and the fd links.
fn make_dev(dev: &Path) -> Result<(), String> {
    mount(
        Some("tmpfs"),
        dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )
    .map_err(|e| err("mounting", dev, e))?;
    // mknod honours the umask: clear it for the nodes, so each gets the mode asked for
    // without a chmod after it.
    let umask = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    let made = DEVICES.iter().try_for_each(|(name, major, minor)| {
        let dst = dev.join(name);
        nix::sys::stat::mknod(
            &dst,
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o666),
            nix::sys::stat::makedev(*major, *minor),
        )
        .map_err(|e| err("creating", &dst, e))
    });
    nix::sys::stat::umask(umask);
    made?;
    let pts = dev.join("pts");
    let shm = dev.join("shm");
    for d in [&pts, &shm] {
        std::fs::create_dir_all(d).map_err(|e| format!("creating {}: {e}", d.display()))?;
    }
    mount(
        Some("devpts"),
        &pts,
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620"),
    )
    .map_err(|e| err("mounting", &pts, e))?;
    mount(
        Some("shm"),
        &shm,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=1777,size=65536k"),
    )
    .map_err(|e| err("mounting", &shm, e))?;
    for (link, to) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        let _ = std::os::unix::fs::symlink(to, dev.join(link));
    }
    Ok(())
}

/// Docker's masked and read-only paths, inside the new root.
fn mask(root: &Path) -> Result<(), String> {
    let none = None::<&str>;
    let null = inside(root, "/dev/null");
    for p in MASKED {
        let path = inside(root, p);
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            mount(
                Some("tmpfs"),
                &path,
                Some("tmpfs"),
                MsFlags::MS_RDONLY,
                none,
            )
            .map_err(|e| err("masking", &path, e))?;
        } else {
            bind(&null, &path, false)?;
        }
    }
    for p in READ_ONLY {
        let path = inside(root, p);
        if path.exists() {
            bind(&path, &path, true)?;
        }
    }
    Ok(())
}

/// runc's `pivot_root(".", ".")`: the new root becomes `/`, the old one is stacked on
/// it and detached, so nothing of the machine's tree stays reachable.
fn pivot(root: &Path) -> Result<(), String> {
    std::env::set_current_dir(root).map_err(|e| format!("chdir {}: {e}", root.display()))?;
    nix::unistd::pivot_root(".", ".").map_err(|e| format!("pivot_root: {e}"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| format!("detaching the old root: {e}"))?;
    std::env::set_current_dir("/").map_err(|e| format!("chdir /: {e}"))
}

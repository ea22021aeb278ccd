//! Named network namespaces, made and removed exactly like `ip netns add/del`, plus the
//! "run this closure on a thread inside namespace X" helper that every other module uses.
//!
//! Why a separate OS thread: `setns()` changes only the calling thread. Doing it on a
//! tokio worker would strand later tasks in the wrong namespace. A socket keeps the
//! namespace it was created in, so we create sockets on a short-lived thread that has
//! entered the namespace and then drive them from anywhere.

mod child;

pub use child::ChildSetup;

use crate::error::{Context, Error, Result};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, setns, unshare};
use std::fs::File;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

/// Where iproute2 keeps named network namespaces.
pub const NETNS_DIR: &str = "/run/netns";

/// Path of the bind-mounted namespace file for a named namespace.
pub fn path(name: &str) -> PathBuf {
    Path::new(NETNS_DIR).join(name)
}

/// True if a named namespace exists (its file is present).
pub fn exists(name: &str) -> bool {
    path(name).exists()
}

/// True if the namespace file is a namespace (an nsfs bind mount), not the empty file
/// `ip netns add` makes before it binds one: a command killed in between leaves that.
pub fn is_bound(name: &str) -> bool {
    const NSFS_MAGIC: i64 = 0x6e73_6673;
    nix::sys::statfs::statfs(&path(name)).is_ok_and(|s| s.filesystem_type().0 == NSFS_MAGIC)
}

/// Make sure /run/netns exists and is a shared mount point, as iproute2 does, so that
/// namespace bind mounts propagate into (and their removal out of) every mount namespace.
fn prepare_netns_dir() -> Result<()> {
    std::fs::create_dir_all(NETNS_DIR).ctx("creating /run/netns")?;
    let dir = File::open(NETNS_DIR).ctx("opening /run/netns")?;
    // iproute2 takes this lock so that concurrent `ip netns add` do not stack
    // recursive bind mounts of /run/netns on itself.
    let _lock = nix::fcntl::Flock::lock(dir, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| Error::errno("locking /run/netns", e as i32))?;
    loop {
        match mount(
            None::<&str>,
            NETNS_DIR,
            Some("none"),
            MsFlags::MS_SHARED | MsFlags::MS_REC,
            None::<&str>,
        ) {
            Ok(()) => return Ok(()),
            // EINVAL: not a mount point yet; make it one and retry, like iproute2.
            Err(nix::Error::EINVAL) => {
                mount(
                    Some(NETNS_DIR),
                    NETNS_DIR,
                    Some("none"),
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                )
                .ctx("bind-mounting /run/netns")?;
            }
            Err(e) => return Err(Error::from(e).context("making /run/netns shared")),
        }
    }
}

/// Create a named network namespace (`ip netns add NAME`).
pub fn create(name: &str) -> Result<()> {
    prepare_netns_dir()?;
    let target = path(name);
    create_ns_file(&target).with_ctx(|| format!("creating namespace {name}"))?;
    let t = target.clone();
    let result = std::thread::scope(|s| {
        s.spawn(move || -> Result<()> {
            unshare(CloneFlags::CLONE_NEWNET).ctx("unshare(CLONE_NEWNET)")?;
            // /proc/self would name the thread-group leader, which is still in the old
            // namespace: binding it would silently publish the root namespace.
            mount(
                Some("/proc/thread-self/ns/net"),
                &t,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .ctx("bind-mounting the new namespace")
        })
        .join()
        .unwrap_or_else(|_| Err(Error::msg("namespace thread panicked")))
    });
    if let Err(e) = result {
        let _ = std::fs::remove_file(&target);
        return Err(e.context(format!("creating namespace {name}")));
    }
    Ok(())
}

/// Create an empty, mode-0 file to bind a namespace onto. Fails if it exists.
pub fn create_ns_file(target: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o000)
        .open(target)
        .map(drop)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::errno(format!("{} already exists", target.display()), libc::EEXIST)
            } else {
                e.into()
            }
        })
}

/// Remove a namespace bind mount and its file (`ip netns del`). Missing is not an error.
///
/// The unlink matters: a process in a mount namespace with private propagation keeps a
/// copy of the bind mount, and only unlinking the file detaches every copy.
pub fn remove_ns_file(target: &Path) -> Result<()> {
    match umount2(target, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::Error::EINVAL) | Err(nix::Error::ENOENT) => {}
        Err(e) => return Err(Error::from(e).context(format!("unmounting {}", target.display()))),
    }
    match std::fs::remove_file(target) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::from(e).context(format!("removing {}", target.display()))),
    }
}

/// Delete a named network namespace (`ip netns del NAME`).
pub fn delete(name: &str) -> Result<()> {
    remove_ns_file(&path(name))
}

/// Names in /run/netns that start with `prefix`.
pub fn list_with_prefix(prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(NETNS_DIR)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Open a namespace file for setns or for `IFLA_NET_NS_FD`.
pub fn open(ns_path: &Path) -> Result<File> {
    File::open(ns_path).with_ctx(|| format!("opening namespace {}", ns_path.display()))
}

/// Inode number of a namespace file: equal inodes mean the same namespace.
pub fn inode(ns_path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(ns_path).ok().map(|m| m.ino())
}

/// Run `f` on a fresh OS thread that has entered the network namespace at `ns_path`.
/// Sockets created inside `f` stay bound to that namespace.
pub fn in_netns<T: Send>(ns_path: &Path, f: impl FnOnce() -> T + Send) -> Result<T> {
    let file = open(ns_path)?;
    std::thread::scope(|s| {
        s.spawn(move || -> Result<T> {
            setns(file.as_fd(), CloneFlags::CLONE_NEWNET)
                .with_ctx(|| format!("entering namespace {}", ns_path.display()))?;
            Ok(f())
        })
        .join()
        .unwrap_or_else(|_| Err(Error::msg("namespace thread panicked")))
    })
}

/// Create a persistent UTS namespace with the given hostname, bound at `target`
/// (used for the lab host, which has its own hostname like a real Docker host).
pub fn create_uts(target: &Path, hostname: &str) -> Result<()> {
    create_ns_file(target)?;
    let t = target.to_path_buf();
    let host = hostname.to_string();
    let result = std::thread::scope(|s| {
        s.spawn(move || -> Result<()> {
            unshare(CloneFlags::CLONE_NEWUTS).ctx("unshare(CLONE_NEWUTS)")?;
            nix::unistd::sethostname(&host).ctx("sethostname")?;
            mount(
                Some("/proc/thread-self/ns/uts"),
                &t,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .ctx("bind-mounting the UTS namespace")
        })
        .join()
        .unwrap_or_else(|_| Err(Error::msg("namespace thread panicked")))
    });
    if let Err(e) = result {
        let _ = std::fs::remove_file(target);
        return Err(e);
    }
    Ok(())
}

/// Write a sysctl inside a network namespace (`ip netns exec NS sysctl -w key=value`).
/// /proc/sys/net shows the namespace of the thread that opens it.
pub fn sysctl(ns_path: &Path, key: &str, value: &str) -> Result<()> {
    let file = format!("/proc/sys/{}", key.replace('.', "/"));
    in_netns(ns_path, || std::fs::write(&file, value))?
        .with_ctx(|| format!("setting {key}={value}"))
}

/// Read a sysctl inside a network namespace.
pub fn sysctl_get(ns_path: &Path, key: &str) -> Result<String> {
    let file = format!("/proc/sys/{}", key.replace('.', "/"));
    Ok(in_netns(ns_path, || std::fs::read_to_string(&file))?
        .with_ctx(|| format!("reading {key}"))?
        .trim()
        .to_string())
}

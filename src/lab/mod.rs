//! The hermetic lab: a *world* namespace ("the LAN and the internet") and a *host*
//! namespace ("the Docker host") with `docker0`, plus containers. This module names
//! things, keeps the state file, and builds and removes labs.

mod files;
mod host_child;
pub mod host_spawn;
pub mod hostinit;
pub mod hosts;
mod lifecycle;
mod plan;
mod state;
mod status;
mod store;
mod teardown;

pub use lifecycle::{LabUpOptions, ensure_up};
pub use state::{
    Attachment, ContainerRecord, ContainerStatus, DnsPorts, Endpoint, LabHost, LabRecord,
    LabStatus, LinkRecord, Member, NetworkRecord, PortClaim, SCHEMA,
};
pub use status::lab_status;
pub use store::{Pending, PendingKind, Store};
pub use teardown::{Doomed, DownResult, lab_down};

use crate::error::{Context, Error, Result};
use crate::netns;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Root of all lab state. /run is a tmpfs on most systems (gone after a reboot, like the
/// namespaces); on the classroom VMs it is plain ext4, which is why state writes are few.
pub const STATE_ROOT: &str = "/run/dockernet";
/// The lab's records kept in memory: `mem/` is a tmpfs of the lab's own, and each of
/// these directories of the lab is a link into it (`containers -> mem/containers`), so
/// every path stays what it was. On a machine whose /run is a disk (the classroom VMs:
/// ext4 mounted with `discard`) every overlay mount probes its work directory (1 ms
/// median, 9 ms p90, against 0.17 / 0.23 ms on tmpfs), and for a while after any file
/// of the lab is deleted each file creation nearby costs ~1 ms (ext4's
/// `recently_deleted`): a `run -d` creates five. `lab.json` (replaced by rename, which
/// a link would not survive), the lock and the images stay on the disk.
pub const IN_MEMORY: &[&str] = &[
    "hosts",
    "containers",
    "pending",
    "names",
    "networks",
    "netnames",
    "exited",
];
/// The tmpfs under [`IN_MEMORY`]'s directories.
pub const MEMORY_DIR: &str = "mem";
/// Its options: private as the rest of the lab's state; the size caps what containers
/// can write into their layers.
pub const MEMORY_TMPFS: &str = "mode=0700,size=1g";
/// Prefix of every namespace dockernet creates under /run/netns.
pub const NETNS_PREFIX: &str = "dn-";
/// Longest container namespace name that keeps the container's name in it
/// (`dn-<lab>-ctr-<name>`); see [`Lab::container_ns`].
pub const CONTAINER_NS_MAX: usize = 64;

/// Addresses of the lab (TEST-NET ranges and Docker's own).
pub mod addr {
    use std::net::Ipv4Addr;
    /// The world's LAN bridge address.
    pub const LAN_GATEWAY: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
    /// The Docker host's eth0.
    pub const HOST_LAN: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
    /// "The internet": a web server reachable from the lab host.
    pub const INTERNET_WEB: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);
    /// The lab's internet DNS (`named`, in the world): the lab host's nameserver. The
    /// names it serves and their addresses are in `dns::world`.
    pub const INTERNET_DNS: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 53);
    /// docker0's address.
    pub const DOCKER0: Ipv4Addr = Ipv4Addr::new(172, 17, 0, 1);
    /// docker0's subnet: the first of Docker's default address pools.
    pub const DOCKER0_SUBNET: &str = "172.17.0.0/16";
    /// Hostname of the lab's Docker host.
    pub const HOST_HOSTNAME: &str = "dockernet-host";
}

/// Refuse, with the fix, when not root.
pub fn require_root() -> Result<()> {
    if nix::unistd::geteuid().is_root() {
        Ok(())
    } else {
        Err(Error::msg(crate::ui::tr(
            "dockernet needs root to work with network namespaces: run it with sudo",
            "dockernet 需要 root 权限来操作网络命名空间：请用 sudo 运行",
        )))
    }
}

/// The daemon's view of a lab while one command runs: its name, records and settings.
/// Drivers and container operations work in it.
pub struct Daemon<'a> {
    /// The lab.
    pub lab: &'a Lab,
    /// Its records.
    pub store: Store,
    /// The lab record (daemon settings, port allocations).
    pub rec: LabRecord,
}

impl<'a> Daemon<'a> {
    /// The daemon of an up lab.
    pub fn new(lab: &'a Lab, rec: LabRecord) -> Daemon<'a> {
        Daemon {
            lab,
            store: lab.store(),
            rec,
        }
    }
}

/// A lab, by name, as seen from one of its Docker hosts: where its files and
/// namespaces live. Every lab has a first host, [`FIRST_HOST`]; `lab host add` adds
/// more (see [`hosts`]), each with its own records under `hosts/<name>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lab {
    /// Lab name (`default`).
    pub name: String,
    /// The lab host this view is on ([`FIRST_HOST`] unless `--host`).
    pub host: String,
}

/// Name of every lab's first Docker host (its namespace is `dn-<lab>-host`).
pub const FIRST_HOST: &str = "host";

/// An exclusive hold on a lab's state; released when dropped (or when the process dies,
/// which is what makes crash recovery possible).
pub struct LabLock {
    _file: Option<File>,
}

impl Lab {
    /// A lab by name; names are short and simple because they become part of
    /// namespace names (`dn-NAME-host`).
    pub fn new(name: &str) -> Result<Lab> {
        let ok = !name.is_empty()
            && name.len() <= 32
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        if !ok {
            return Err(Error::with_code(
                crate::ui::tr(
                    format!(
                        "invalid lab name {name:?}: use 1-32 letters, digits or '_' (no '-'), e.g. --lab class1"
                    ),
                    format!(
                        "实验环境名称 {name:?} 无效：请用 1-32 个字母、数字或 '_'（不能有 '-'），例如 --lab class1"
                    ),
                ),
                2,
            ));
        }
        Ok(Lab {
            name: name.to_string(),
            host: FIRST_HOST.to_string(),
        })
    }

    /// The same lab seen from its host `host` (checked: see [`hosts::check_name`]).
    pub fn on_host(&self, host: &str) -> Result<Lab> {
        hosts::check_name(host)?;
        Ok(Lab {
            name: self.name.clone(),
            host: host.to_string(),
        })
    }

    /// The same lab seen from its first host.
    pub fn first_host(&self) -> Lab {
        Lab {
            name: self.name.clone(),
            host: FIRST_HOST.to_string(),
        }
    }

    /// True when this view is on the lab's first host (which also holds the world).
    pub fn is_first_host(&self) -> bool {
        self.host == FIRST_HOST
    }

    /// `/run/dockernet/<lab>`: the lab's own files (lock, images, the world's logs) and
    /// the first host's records.
    pub fn root(&self) -> PathBuf {
        PathBuf::from(STATE_ROOT).join(&self.name)
    }

    /// This host's records: the lab's root for the first host, `hosts/<name>/` (in the
    /// lab's memory, like its other records) for the others.
    pub fn dir(&self) -> PathBuf {
        if self.is_first_host() {
            self.root()
        } else {
            self.root().join(hosts::DIR).join(&self.host)
        }
    }

    /// Where containers' files live (in memory: see [`IN_MEMORY`]).
    pub fn containers_dir(&self) -> PathBuf {
        self.dir().join("containers")
    }

    /// Per-container files (hosts, hostname, resolv.conf, log, the writable layer).
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.containers_dir().join(id)
    }

    /// Directory of the built-in images' program links.
    pub fn image_bin(&self, image: &str) -> PathBuf {
        self.root().join("images").join(image)
    }

    /// Where the lab host's UTS namespace is bind-mounted.
    pub fn host_uts_path(&self) -> PathBuf {
        self.dir().join("host.uts")
    }

    /// The lab host's /etc/resolv.conf (`nameserver 203.0.113.53`): what the default
    /// bridge's containers get (Docker's legacy transform) and host-mode containers and
    /// `dockernet host` see.
    pub fn host_resolv_conf(&self) -> PathBuf {
        self.dir().join("host").join("resolv.conf")
    }

    /// Prefix of every namespace of this lab.
    pub fn netns_prefix(&self) -> String {
        format!("{NETNS_PREFIX}{}-", self.name)
    }

    /// Prefix of the namespaces this host's daemon makes (its containers', its
    /// overlays'): `dn-<lab>-` on the first host (the names learners know from the
    /// single-host lessons), `dn-<lab>-<host>-` on the others.
    pub fn host_prefix(&self) -> String {
        if self.is_first_host() {
            self.netns_prefix()
        } else {
            format!("{}{}-", self.netns_prefix(), self.host)
        }
    }

    /// The namespaces that belong to this host: its own and its daemon's on an added
    /// host; every namespace of the lab on the first (removing the first host removes
    /// the lab).
    pub fn own_namespaces(&self) -> Vec<String> {
        if self.is_first_host() {
            return netns::list_with_prefix(&self.netns_prefix());
        }
        let mut v = netns::list_with_prefix(&self.host_prefix());
        if netns::exists(&self.host_ns()) {
            v.push(self.host_ns());
        }
        v
    }

    /// The world namespace's name.
    pub fn world_ns(&self) -> String {
        format!("{}world", self.netns_prefix())
    }

    /// This Docker host's namespace: `dn-<lab>-<host>` (`dn-default-host` for the first).
    pub fn host_ns(&self) -> String {
        format!("{}{}", self.netns_prefix(), self.host)
    }

    /// A container's namespace name: `dn-<lab>-ctr-<name>` when that stays short
    /// enough to read, otherwise `dn-<lab>-ctr-<first 12 hex of its id>`.
    ///
    /// Docker puts no limit on a container's name, but a namespace is a file under
    /// /run/netns (NAME_MAX is 255 bytes, so a 250-character name failed with "File
    /// name too long"), and learners read these names in `ip netns list` and in every
    /// narrated `ip -n NS ...` command. So the readable form is used only while the
    /// whole name is at most [`CONTAINER_NS_MAX`] bytes (a container name of up to 49
    /// characters in the `default` lab, 24 with the longest lab name); longer names
    /// get the id form, the way Docker names kernel objects by id (`br-<12 hex>`). A
    /// name that is itself 12 hex digits gets the id form too, so a readable name can
    /// never look like (and collide with) another container's id form.
    pub fn container_ns(&self, container_name: &str, id: &str) -> String {
        let readable = format!("{}ctr-{container_name}", self.host_prefix());
        let looks_like_id = container_name.len() == 12
            && container_name
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if readable.len() <= CONTAINER_NS_MAX && !looks_like_id {
            readable
        } else {
            format!("{}ctr-{}", self.host_prefix(), &id[..id.len().min(12)])
        }
    }

    /// The lock file, 0600 in a 0700 directory under a 0700 `/run/dockernet`: no other
    /// user can open it, so none can `flock` it and block root's commands. Every
    /// command that changes the lab comes here first, so a lab (or state root) made by
    /// an older dockernet with 0755 directories is tightened here.
    fn lock_file(&self) -> Result<File> {
        crate::util::create_private_dir(Path::new(STATE_ROOT))
            .and_then(|()| crate::util::create_private_dir(&self.root()))
            .with_ctx(|| format!("creating {}", self.root().display()))?;
        crate::util::open_private(
            &self.root().join("lock"),
            File::options().create(true).truncate(false).write(true),
        )
        .ctx("opening the lab lock")
    }

    /// Take the lab's lock, creating its directory if needed.
    pub fn lock(&self) -> Result<LabLock> {
        let file = self.lock_file()?;
        file.lock().ctx("locking the lab")?;
        Ok(LabLock { _file: Some(file) })
    }

    /// The lock if nobody holds it now; `None` if another command does.
    pub fn try_lock(&self) -> Result<Option<LabLock>> {
        let file = self.lock_file()?;
        match file.try_lock() {
            Ok(()) => Ok(Some(LabLock { _file: Some(file) })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::from(e).context("locking the lab")),
        }
    }

    /// The lock of a lab that exists, waiting for it; `None` (and nothing created) when
    /// the lab's directory is gone — a `lab down` from another terminal, for a command
    /// that was waiting for its container meanwhile. The caller still checks the lab
    /// record: the lab may have been removed while this waited for the lock.
    pub fn lock_if_exists(&self) -> Result<Option<LabLock>> {
        let file = match File::options().write(true).open(self.root().join("lock")) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::from(e).context("opening the lab lock")),
        };
        file.lock().ctx("locking the lab")?;
        Ok(Some(LabLock { _file: Some(file) }))
    }

    /// Lock for a `--dry-run`: a lab that does not exist yet is not created (not even
    /// its directory); an existing one is locked as usual.
    pub fn lock_for(&self, dry_run: bool) -> Result<LabLock> {
        if dry_run && !self.root().exists() {
            return Ok(LabLock { _file: None });
        }
        self.lock()
    }

    /// The lab's records.
    pub fn store(&self) -> Store {
        Store::new(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_names_are_validated() {
        assert!(Lab::new("default").is_ok());
        assert!(Lab::new("t_c01").is_ok());
        assert!(Lab::new("a-b").is_err());
        assert!(Lab::new("").is_err());
        assert!(Lab::new("../x").is_err());
    }

    #[test]
    fn namespace_names_are_prefixed_by_lab() {
        let l = Lab::new("x1").unwrap();
        assert_eq!(l.host_ns(), "dn-x1-host");
        assert_eq!(l.world_ns(), "dn-x1-world");
        let id = "0123456789abcdef".repeat(4);
        assert_eq!(l.container_ns("web1", &id), "dn-x1-ctr-web1");
    }

    #[test]
    fn long_container_names_get_the_id_form() {
        let id = "0123456789abcdef".repeat(4);
        let l = Lab::new("default").unwrap();
        // dn-default-ctr- is 15 bytes: names up to 49 characters stay readable.
        let fits = "a".repeat(49);
        assert_eq!(l.container_ns(&fits, &id), format!("dn-default-ctr-{fits}"));
        assert_eq!(
            l.container_ns(&"a".repeat(50), &id),
            "dn-default-ctr-0123456789ab"
        );
        assert_eq!(
            l.container_ns(&"b".repeat(250), &id),
            "dn-default-ctr-0123456789ab"
        );
        // A name that looks like a short id never takes the readable form.
        assert_eq!(
            l.container_ns("deadbeef0000", &id),
            "dn-default-ctr-0123456789ab"
        );
        assert_eq!(
            l.container_ns("deadbeef000", &id),
            "dn-default-ctr-deadbeef000"
        );
        let longest = Lab::new(&"l".repeat(32)).unwrap();
        assert_eq!(longest.container_ns(&"c".repeat(24), &id).len(), 64);
        assert!(
            longest
                .container_ns(&"c".repeat(25), &id)
                .ends_with("-ctr-0123456789ab")
        );
    }
}

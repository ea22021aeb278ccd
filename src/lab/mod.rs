//! The hermetic lab: a *world* namespace ("the LAN and the internet") and a *host*
//! namespace ("the Docker host") with `docker0`, plus containers. This module names
//! things, keeps the state file, and builds and removes labs.

mod files;
mod lifecycle;
mod state;
mod status;
mod store;
mod teardown;

pub use lifecycle::{LabUpOptions, ensure_up};
pub use state::{
    Attachment, ContainerRecord, ContainerStatus, DnsPorts, Endpoint, LabRecord, LabStatus,
    LinkRecord, Member, NetworkRecord, PortClaim, SCHEMA,
};
pub use status::lab_status;
pub use store::{Pending, PendingKind, Store};
pub use teardown::{DownResult, lab_down};

use crate::error::{Context, Error, Result};
use std::fs::File;
use std::path::PathBuf;

/// Root of all lab state. /run is a tmpfs on most systems (gone after a reboot, like the
/// namespaces); on the classroom VMs it is plain ext4, which is why state writes are few.
pub const STATE_ROOT: &str = "/run/dockernet";
/// Prefix of every namespace dockernet creates under /run/netns.
pub const NETNS_PREFIX: &str = "dn-";

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

/// A lab, by name: where its files and namespaces live.
#[derive(Debug, Clone)]
pub struct Lab {
    /// Lab name (`default`).
    pub name: String,
}

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
        })
    }

    /// `/run/dockernet/<lab>`
    pub fn dir(&self) -> PathBuf {
        PathBuf::from(STATE_ROOT).join(&self.name)
    }

    /// Per-container files (hosts, hostname, resolv.conf, log).
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.dir().join("containers").join(id)
    }

    /// Directory of the built-in images' program links.
    pub fn image_bin(&self, image: &str) -> PathBuf {
        self.dir().join("images").join(image)
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

    /// The world namespace's name.
    pub fn world_ns(&self) -> String {
        format!("{}world", self.netns_prefix())
    }

    /// The Docker host namespace's name.
    pub fn host_ns(&self) -> String {
        format!("{}host", self.netns_prefix())
    }

    /// A container's namespace name.
    pub fn container_ns(&self, container_name: &str) -> String {
        format!("{}ctr-{container_name}", self.netns_prefix())
    }

    fn lock_file(&self) -> Result<File> {
        std::fs::create_dir_all(self.dir())
            .with_ctx(|| format!("creating {}", self.dir().display()))?;
        File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir().join("lock"))
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

    /// Lock for a `--dry-run`: a lab that does not exist yet is not created (not even
    /// its directory); an existing one is locked as usual.
    pub fn lock_for(&self, dry_run: bool) -> Result<LabLock> {
        if dry_run && !self.dir().exists() {
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
        assert_eq!(l.container_ns("web1"), "dn-x1-ctr-web1");
    }
}

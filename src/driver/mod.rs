//! Network drivers. Each one answers four questions through the [`Driver`] interface:
//! which kernel steps create (and, undone, delete) a network of its kind; where a
//! container whose first network is of its kind lives (its *sandbox*); and which steps
//! join one container to one network (an *endpoint*, undone to leave).
//!
//! * `bridge` — a Linux bridge with the gateway address and its iptables rules; each
//!   endpoint a veth pair onto it, an address and a route ([`bridge`]);
//! * `macvlan`, `ipvlan` — nothing for the network itself; each endpoint a child link
//!   of the lab host's LAN interface, made inside the container's namespace (`macvlan`);
//! * `host` — no sandbox of its own: the lab host's network and hostname;
//! * `null` — a sandbox with only `lo`;
//! * `container:NAME` — not a network but a way to share another container's sandbox;
//!   it goes through the same interface and refuses what it cannot do.

mod bridge;
mod macvlan;
mod modes;
pub mod overlay;
mod validate;

pub use bridge::BridgeDriver;
pub use macvlan::{IpvlanDriver, MacvlanDriver, ipvlan_missing, ipvlan_supported};
pub use modes::{ContainerDriver, HostDriver, NullDriver};
pub use overlay::OverlayDriver;
pub use validate::{ModeFlags, validate};

use crate::error::{EXIT_REFUSED, Error, Result};
use crate::lab::{Attachment, ContainerRecord, Endpoint, NetworkRecord, Store};
use crate::step::Step;
use std::path::PathBuf;

/// `--net` / `--network`, parsed: a network (by name or id), or another container's
/// sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMode {
    /// A network by name or id: `bridge` (the default), `host`, `none`, `mynet`.
    Network(String),
    /// Another container's namespace (name or id prefix as given).
    Container(String),
}

pub(crate) fn refuse(msg: impl std::fmt::Display) -> Error {
    Error::with_code(format!("Error response from daemon: {msg}"), EXIT_REFUSED)
}

impl NetworkMode {
    /// Parse Docker's spelling (`bridge`, `default`, `host`, `none`, `container:web1`,
    /// or a network name).
    pub fn parse(s: &str) -> Result<NetworkMode> {
        match s {
            "" | "default" => Ok(NetworkMode::Network("bridge".into())),
            other => match other.strip_prefix("container:") {
                Some(target) if !target.is_empty() => {
                    Ok(NetworkMode::Container(target.to_string()))
                }
                _ if other == "container" || other.starts_with("container:") => Err(refuse(
                    "invalid network mode: invalid container format container:<name|id>",
                )),
                _ => Ok(NetworkMode::Network(other.to_string())),
            },
        }
    }

    /// Read back a recorded `HostConfig.NetworkMode`. Unlike [`NetworkMode::parse`] it
    /// never falls back to a default: what was recorded must still resolve.
    pub fn from_recorded(s: &str) -> Result<NetworkMode> {
        if s.is_empty() {
            return Err(Error::msg("the container's recorded network mode is empty"));
        }
        NetworkMode::parse(s)
    }

    /// True for `--net host`.
    pub fn is_host(&self) -> bool {
        matches!(self, NetworkMode::Network(n) if n == "host")
    }

    /// True for `--net container:X`.
    pub fn is_container(&self) -> bool {
        matches!(self, NetworkMode::Container(_))
    }
}

/// Which /etc/resolv.conf a sandbox gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolv {
    /// Docker's "legacy" transform of the host's file (bridge networks, none).
    Legacy,
    /// The host's file as it is (host mode).
    HostFile,
    /// `nameserver 127.0.0.11`: the embedded DNS server (a user-defined network).
    Embedded,
}

/// Where the container's /etc/hosts, /etc/hostname and /etc/resolv.conf come from.
#[derive(Debug, Clone)]
pub enum EtcFiles {
    /// Its own, generated: /etc/hosts lines for its addresses, the hostname.
    Own {
        /// Which /etc/resolv.conf.
        resolv: Resolv,
        /// Host mode: the lab host's own /etc/hosts instead of Docker's generated one.
        hosts_override: Option<String>,
    },
    /// Another container's files (container mode shares them).
    Shared {
        /// That container's directory.
        dir: PathBuf,
    },
}

/// Where a container's processes live.
#[derive(Debug, Clone)]
pub struct SandboxPlan {
    /// Steps that build a sandbox of its own (namespace, `lo` up); empty when shared.
    pub steps: Vec<Step>,
    /// Name of the network namespace the processes live in (for views and exec).
    pub netns: String,
    /// Path of that namespace to enter at spawn time.
    pub netns_path: PathBuf,
    /// UTS namespace to join instead of a new one.
    pub join_uts: Option<PathBuf>,
    /// Hostname to set (None: the joined UTS namespace's).
    pub hostname: Option<String>,
    /// The /etc files.
    pub files: EtcFiles,
    /// A note for the learner on what this sandbox is.
    pub note: String,
}

/// What every driver call may need to know: the lab, its records, its daemon settings.
pub type Context<'a> = crate::lab::Daemon<'a>;

/// One container joining one network.
pub struct JoinRequest<'a> {
    /// The container (its `netns` is where the endpoint's interface goes).
    pub container: &'a ContainerRecord,
    /// The network.
    pub network: &'a NetworkRecord,
    /// What the container asked for on it (`--ip`, aliases).
    pub attachment: &'a Attachment,
    /// Interface name inside the container (`eth0`, `eth1`, ...).
    pub ifname: String,
    /// Whether this endpoint gives the container its default route.
    pub default_route: bool,
}

/// The interface every network driver implements.
pub trait Driver: Sync {
    /// Docker's name of the driver (`bridge`, `host`, `null`).
    fn name(&self) -> &'static str;

    /// Steps that create a network of this kind (undone in reverse to delete it).
    fn create_network(&self, ctx: &Context<'_>, net: &NetworkRecord) -> Result<Vec<Step>>;

    /// Where a container whose first network is `net` lives.
    fn sandbox(
        &self,
        ctx: &Context<'_>,
        c: &ContainerRecord,
        net: &NetworkRecord,
    ) -> Result<SandboxPlan>;

    /// Plan one endpoint: the address it gets and the steps that attach it (undone in
    /// reverse to leave).
    fn join(&self, ctx: &Context<'_>, j: &JoinRequest) -> Result<Endpoint>;
}

/// The driver of a network record.
pub fn for_network(net: &NetworkRecord) -> Result<&'static dyn Driver> {
    match net.driver.as_str() {
        "bridge" => Ok(&BridgeDriver),
        "host" => Ok(&HostDriver),
        "null" => Ok(&NullDriver),
        "macvlan" => Ok(&MacvlanDriver),
        "ipvlan" => Ok(&IpvlanDriver),
        "overlay" => Ok(&OverlayDriver),
        other => Err(Error::msg(format!(
            "network {} uses driver {other}, which this dockernet does not know",
            net.name
        ))),
    }
}

/// The sandbox of a container in `mode`: the first network's driver decides, or the
/// container driver for `container:NAME`.
pub fn plan_sandbox(
    ctx: &Context<'_>,
    c: &ContainerRecord,
    mode: &NetworkMode,
    first: Option<&NetworkRecord>,
) -> Result<SandboxPlan> {
    match (mode, first) {
        (NetworkMode::Container(target), _) => ContainerDriver::sandbox_of(ctx, c, target),
        (NetworkMode::Network(_), Some(net)) => for_network(net)?.sandbox(ctx, c, net),
        (NetworkMode::Network(n), None) => Err(refuse(format!("network {n} not found"))),
    }
}

/// Find the running container another one wants to join.
pub fn join_target(store: &Store, target: &str) -> Result<ContainerRecord> {
    let t = store
        .find_container(target)
        .map_err(|_| refuse(format!("No such container: {target}")))?;
    if t.status != crate::lab::ContainerStatus::Running || t.init.is_none_or(|p| !p.alive()) {
        let state = match t.status {
            crate::lab::ContainerStatus::Creating => "created",
            _ => "exited",
        };
        return Err(refuse(format!(
            "cannot join network namespace of a non running container: container {} is {state}",
            t.name
        )));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_like_docker() {
        assert_eq!(
            NetworkMode::parse("bridge").unwrap(),
            NetworkMode::Network("bridge".into())
        );
        assert_eq!(
            NetworkMode::parse("default").unwrap(),
            NetworkMode::Network("bridge".into())
        );
        assert!(NetworkMode::parse("host").unwrap().is_host());
        assert_eq!(
            NetworkMode::parse("container:web1").unwrap(),
            NetworkMode::Container("web1".into())
        );
        let e = NetworkMode::parse("container:").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Error response from daemon: invalid network mode: invalid container format container:<name|id>"
        );
        assert_eq!(e.exit_code(), 125);
        assert_eq!(
            NetworkMode::parse("mynet").unwrap(),
            NetworkMode::Network("mynet".into())
        );
        assert!(NetworkMode::from_recorded("").is_err());
    }
}

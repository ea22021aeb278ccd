//! The records dockernet keeps about a lab, one file per object (see [`super::store`]):
//! the lab itself (the Docker host and its daemon), each network, and each container
//! (a sandbox plus its endpoints). Every record that built something in the kernel keeps
//! the steps it performed: its own undo log.

use crate::ipam::Pool;
use crate::step::Step;
use crate::util::ProcRef;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Version of the on-disk layout; a lab written by another version is rebuilt.
pub const SCHEMA: u32 = 3;

/// Lifecycle of a record whose creation can be interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabStatus {
    /// Being built (or died half-way: see `creator`).
    Creating,
    /// Ready.
    Up,
}

/// One Docker host of a lab: a machine on the lab's LAN with its own daemon.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LabHost {
    /// Its name in the lab (`host`, `host2`): what `--host` selects.
    pub name: String,
    /// Its hostname (its own UTS namespace).
    pub hostname: String,
    /// Its network namespace (`dn-<lab>-<name>`).
    pub netns: String,
    /// Its `eth0` address on the LAN (198.51.100.2 for the first host).
    pub lan: Ipv4Addr,
    /// Its end of the LAN cable, on the world's switch `lan0` (`lan-<name>`).
    pub lan_port: String,
}

/// One Docker host of the lab and what its daemon set up at start; the first host's
/// record also holds the world (the LAN and the internet), which it builds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LabRecord {
    /// Layout version ([`SCHEMA`]).
    pub schema: u32,
    /// Lab name.
    pub name: String,
    /// The Docker host this record is of.
    pub host: LabHost,
    /// Lifecycle.
    pub status: LabStatus,
    /// The process building the lab, while `Creating`.
    pub creator: Option<ProcRef>,
    /// When the lab was created (Unix seconds).
    pub created: f64,
    /// `--userland-proxy` of the lab's Docker daemon.
    pub userland_proxy: bool,
    /// `--icc` of the lab's Docker daemon (the default bridge's inter-container traffic).
    pub icc: bool,
    /// Which Docker Engine's rule layout the host's daemon writes (labs made before
    /// engines existed are 27's).
    #[serde(default)]
    pub engine: crate::firewall::Engine,
    /// The daemon's `--firewall-backend` (labs made before it existed: iptables).
    #[serde(default)]
    pub firewall_backend: crate::firewall::Backend,
    /// Steps that built the host and the daemon's own chains, and on the first host the
    /// world before them (undone last).
    pub steps: Vec<Step>,
    /// Long-running helper processes of the lab itself (the world's web server).
    pub processes: Vec<ProcRef>,
    /// Host ports held by running containers: the daemon's port allocator.
    pub ports: Vec<PortClaim>,
    /// The lab's embedded DNS server (one process, like dockerd), while it runs.
    #[serde(default)]
    pub resolver: Option<ProcRef>,
    /// PID 1 of the lab host's own PID and mount namespaces (`lab::hostinit`).
    #[serde(default)]
    pub host_init: Option<ProcRef>,
}

/// One host port held by one container.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PortClaim {
    /// Container id.
    pub container: String,
    /// The binding.
    pub binding: crate::ports::PortBinding,
}

/// A network: the predefined `bridge`, `host` and `none`, or a user-defined one.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NetworkRecord {
    /// 64-hex id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Driver: `bridge`, `host`, `null`.
    pub driver: String,
    /// Created (Unix seconds).
    pub created: f64,
    /// IPAM configuration (empty for host and null).
    pub ipam: Vec<Pool>,
    /// The subnet was given by the user (`--subnet`): only then does Docker accept `--ip`.
    #[serde(default)]
    pub user_subnet: bool,
    /// `--internal`: no way out of the network.
    pub internal: bool,
    /// `--attachable`.
    pub attachable: bool,
    /// `-o K=V` driver options, as `network inspect` shows them.
    pub options: BTreeMap<String, String>,
    /// `--label K=V`.
    pub labels: BTreeMap<String, String>,
    /// The Linux bridge carrying it (`docker0`, `br-<12 hex>`), for bridge networks.
    pub bridge: Option<String>,
    /// One of Docker's three predefined networks (cannot be created or removed).
    pub predefined: bool,
    /// Lifecycle.
    pub status: LabStatus,
    /// The process creating it, while `Creating`.
    pub creator: Option<ProcRef>,
    /// Steps that built it (its undo log).
    pub steps: Vec<Step>,
}

impl NetworkRecord {
    /// `com.docker.network.bridge.enable_icc` (default true).
    pub fn icc(&self) -> bool {
        self.option_bool("com.docker.network.bridge.enable_icc", true)
    }

    /// `com.docker.network.bridge.enable_ip_masquerade` (default true).
    pub fn masquerade(&self) -> bool {
        self.option_bool("com.docker.network.bridge.enable_ip_masquerade", true)
    }

    fn option_bool(&self, key: &str, default: bool) -> bool {
        self.options
            .get(key)
            .map(|v| v != "false" && v != "0")
            .unwrap_or(default)
    }

    /// The first pool (every bridge network here has exactly one).
    pub fn pool(&self) -> Option<&Pool> {
        self.ipam.first()
    }

    /// Docker's scope: `swarm` for an overlay (one network across the hosts), `local`
    /// for the rest.
    pub fn scope(&self) -> &'static str {
        if self.driver == "overlay" {
            "swarm"
        } else {
            "local"
        }
    }

    /// True for the default bridge (`bridge`, docker0).
    pub fn is_default_bridge(&self) -> bool {
        self.predefined && self.driver == "bridge"
    }
}

/// What a network knows of one attached container (its inspect `Containers` entry).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    /// Container id.
    pub container: String,
    /// Container name.
    pub name: String,
    /// Endpoint id.
    pub endpoint_id: String,
    /// Container-side MAC ("" on host / none).
    pub mac: String,
    /// `172.18.0.2/16` ("" on host / none).
    pub ipv4: String,
}

/// Lifecycle of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerStatus {
    /// Being set up by `creator`; rolled back if that process died.
    Creating,
    /// Its process runs.
    Running,
    /// Its process ended (network already torn down).
    Exited,
}

/// A network a container asked to be on (Docker's EndpointsConfig): kept while the
/// container is stopped, so that `start` attaches it again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    /// Network id.
    pub network_id: String,
    /// Network name.
    pub network: String,
    /// `--ip` / `connect --ip`.
    pub ip: Option<Ipv4Addr>,
    /// `--network-alias` / `connect --alias`.
    pub aliases: Vec<String>,
}

/// A container's live attachment to a network.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Endpoint {
    /// Network name.
    pub network: String,
    /// Network id.
    pub network_id: String,
    /// Endpoint id (64 hex).
    pub endpoint_id: String,
    /// Container address (unspecified on host / none).
    pub ip: Ipv4Addr,
    /// Prefix length of the subnet.
    pub prefix_len: u8,
    /// Gateway (the bridge's address).
    pub gateway: Ipv4Addr,
    /// Container-side MAC.
    pub mac: String,
    /// Host-side veth name.
    pub veth: String,
    /// Container-side interface name (`eth0`, `eth1`, ...).
    pub ifname: String,
    /// Bridge the veth is attached to.
    pub bridge: String,
    /// Whether the container's default route goes through this endpoint.
    pub default_route: bool,
    /// Steps that made it (its undo log): the veth, the address, the route, port rules.
    pub steps: Vec<Step>,
}

impl Endpoint {
    /// True for a real interface (bridge, macvlan networks), false for host / none
    /// membership. A macvlan endpoint has no host-side veth, only its `ethN`.
    pub fn has_interface(&self) -> bool {
        !self.veth.is_empty() || !self.ifname.is_empty()
    }
}

/// A legacy link (`--link NAME:ALIAS`), as recorded in HostConfig.Links.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkRecord {
    /// The linked container's name.
    pub name: String,
    /// The alias the linking container knows it by.
    pub alias: String,
    /// The linked container's id (empty if it did not exist: user networks allow that).
    pub target_id: String,
}

/// One container: a sandbox (namespaces, `lo`, files, processes) plus endpoints.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ContainerRecord {
    /// 64-hex id.
    pub id: String,
    /// Name (without Docker's leading slash).
    pub name: String,
    /// Built-in image name, if any.
    pub image: Option<String>,
    /// The command (argv).
    pub cmd: Vec<String>,
    /// Hostname (first 12 hex of the id unless --hostname).
    pub hostname: String,
    /// Environment of the main process (`K=V`).
    pub env: Vec<String>,
    /// `-e` values and the image's own variables only (what links pass on).
    #[serde(default)]
    pub user_env: Vec<String>,
    /// HostConfig.NetworkMode as Docker records it (`bridge`, `mynet`, `container:<id>`).
    pub network_mode: String,
    /// Name of the network namespace its processes live in (for views and exec).
    pub netns: String,
    /// Steps that built its own sandbox (namespace, `lo`); empty when it shares one.
    pub sandbox_steps: Vec<Step>,
    /// Networks it asked to be on, in order (the first gives the default route).
    pub attachments: Vec<Attachment>,
    /// Live endpoints (while running).
    pub endpoints: Vec<Endpoint>,
    /// Legacy links.
    #[serde(default)]
    pub links: Vec<LinkRecord>,
    /// The environment variables its links added when it last started.
    #[serde(default)]
    pub link_env: Vec<String>,
    /// Exposed ports of the image and `--expose` (`80/tcp`).
    pub exposed: Vec<String>,
    /// Lifecycle.
    pub status: ContainerStatus,
    /// The process creating or starting it, while `Creating`.
    pub creator: Option<ProcRef>,
    /// The shim process (parent of the container's PID 1, in the root PID namespace).
    pub shim: Option<ProcRef>,
    /// The container's PID 1 as seen from the root PID namespace.
    pub init: Option<ProcRef>,
    /// Created (Unix seconds).
    pub created: f64,
    /// Started (Unix seconds).
    pub started: Option<f64>,
    /// Finished (Unix seconds).
    pub finished: Option<f64>,
    /// Exit code once exited.
    pub exit_code: Option<i32>,
    /// `-d`
    pub detached: bool,
    /// `-i`
    pub interactive: bool,
    /// `-t`
    pub tty: bool,
    /// `--rm`
    pub auto_remove: bool,
    /// `-p` / `-P` requests as given (HostConfig.PortBindings).
    pub port_specs: Vec<crate::ports::Publish>,
    /// `-P` given.
    #[serde(default)]
    pub publish_all: bool,
    /// Host ports actually bound while it runs (NetworkSettings.Ports).
    pub ports: Vec<crate::ports::PortBinding>,
    /// Its userland proxy processes (one per binding), while it runs.
    pub proxies: Vec<ProcRef>,
    /// Where the embedded DNS server listens inside its namespace (user-defined
    /// networks only), while it runs.
    #[serde(default)]
    pub dns: Option<DnsPorts>,
    /// `--cap-add` (HostConfig.CapAdd).
    #[serde(default)]
    pub cap_add: Vec<String>,
    /// `--cap-drop` (HostConfig.CapDrop).
    #[serde(default)]
    pub cap_drop: Vec<String>,
    /// `--privileged`.
    #[serde(default)]
    pub privileged: bool,
}

/// The ports the embedded DNS server listens on at 127.0.0.11 inside one container's
/// namespace; Docker's redirect rules send port 53 there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DnsPorts {
    /// UDP port.
    pub udp: u16,
    /// TCP port.
    pub tcp: u16,
}

impl ContainerRecord {
    /// What its processes may do (Docker's defaults, `--cap-add`/`--cap-drop`,
    /// `--privileged`); validated when it was created.
    pub fn privileges(&self) -> crate::container::privileges::Privileges {
        crate::container::privileges::Privileges::docker(
            &self.cap_add,
            &self.cap_drop,
            self.privileged,
        )
        .unwrap_or_default()
    }

    /// Its own namespace, if the sandbox is its own (not host / container mode).
    pub fn owns_sandbox(&self) -> bool {
        !self.sandbox_steps.is_empty()
    }

    /// The endpoint on a network, by network id.
    pub fn endpoint(&self, network_id: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.network_id == network_id)
    }

    /// Every process of the container we started: init, shim, proxies.
    pub fn processes(&self) -> Vec<ProcRef> {
        self.init
            .iter()
            .chain(self.shim.iter())
            .chain(self.proxies.iter())
            .copied()
            .collect()
    }
}

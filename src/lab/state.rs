//! The lab's state file: JSON under /run/dockernet/<lab>/, written atomically, read and
//! written only under the lab lock. It is also the undo log: each record keeps the steps
//! that built it.

use crate::error::{Context, Error, Result};
use crate::step::Step;
use crate::util::ProcRef;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

/// Lifecycle of the lab itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabStatus {
    /// `lab up` is in progress (or died half-way: see `creator`).
    Creating,
    /// Ready.
    Up,
}

/// Everything dockernet knows about one lab.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LabState {
    /// Lab name.
    pub name: String,
    /// Lifecycle.
    pub status: LabStatus,
    /// The process building the lab, while `Creating`.
    pub creator: Option<ProcRef>,
    /// When the lab was created (Unix seconds).
    pub created: f64,
    /// `--userland-proxy` setting of the lab's Docker host.
    pub userland_proxy: bool,
    /// Id of the default `bridge` network (64 hex).
    pub bridge_network_id: String,
    /// Id of the `host` network.
    pub host_network_id: String,
    /// Id of the `none` network.
    pub none_network_id: String,
    /// Steps that built the lab (undone in reverse by `lab down`).
    pub steps: Vec<Step>,
    /// Long-running helper processes of the lab itself (the world's web server).
    pub processes: Vec<ProcRef>,
    /// Containers by id.
    pub containers: BTreeMap<String, ContainerRecord>,
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

/// A container's attachment to a network.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Endpoint {
    /// Network name (`bridge`).
    pub network: String,
    /// Network id.
    pub network_id: String,
    /// Endpoint id (64 hex).
    pub endpoint_id: String,
    /// Container address.
    pub ip: Ipv4Addr,
    /// Prefix length of the subnet.
    pub prefix_len: u8,
    /// Gateway (the bridge's address).
    pub gateway: Ipv4Addr,
    /// Container-side MAC.
    pub mac: String,
    /// Host-side veth name.
    pub veth: String,
    /// Container-side interface name (`eth0`).
    pub ifname: String,
    /// Bridge the veth is attached to.
    pub bridge: String,
}

/// One container.
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
    /// `--net` as given (`bridge`).
    pub network_mode: String,
    /// Name of its network namespace under /run/netns.
    pub netns: String,
    /// Attachments.
    pub endpoints: Vec<Endpoint>,
    /// Exposed ports of the image (`80/tcp`).
    pub exposed: Vec<String>,
    /// Lifecycle.
    pub status: ContainerStatus,
    /// The process creating it, while `Creating`.
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
    /// Network steps applied for it (its undo log).
    pub steps: Vec<Step>,
    /// `-p` / `-P` requests as given (HostConfig.PortBindings).
    #[serde(default)]
    pub port_specs: Vec<crate::ports::Publish>,
    /// Host ports actually bound while it runs (NetworkSettings.Ports).
    #[serde(default)]
    pub ports: Vec<crate::ports::PortBinding>,
    /// Its userland proxy processes (one per binding), while it runs.
    #[serde(default)]
    pub proxies: Vec<ProcRef>,
}

impl LabState {
    /// Find a container by full id, name, or unique id prefix (as Docker does).
    pub fn find(&self, key: &str) -> Result<&ContainerRecord> {
        let key = key.trim_start_matches('/');
        if let Some(c) = self.containers.get(key) {
            return Ok(c);
        }
        if let Some(c) = self.containers.values().find(|c| c.name == key) {
            return Ok(c);
        }
        let matches: Vec<_> = self
            .containers
            .values()
            .filter(|c| !key.is_empty() && c.id.starts_with(key))
            .collect();
        match matches.len() {
            1 => Ok(matches[0]),
            0 => Err(Error::msg(format!(
                "Error response from daemon: No such container: {key}"
            ))),
            n => Err(Error::msg(format!(
                "Error response from daemon: multiple IDs found with provided prefix: {key} ({n} matches)"
            ))),
        }
    }

    /// Mutable access to a container by its full id.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut ContainerRecord> {
        self.containers.get_mut(id)
    }
}

/// Read the state file; `None` if the lab does not exist.
pub fn load(path: &Path) -> Result<Option<LabState>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::msg(format!(
                "{} is damaged ({e}); run `dockernet lab down` to reset the lab",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_ctx(|| format!("reading {}", path.display())),
    }
}

/// Write the state file atomically (compact: it is rewritten on every change).
pub fn save(path: &Path, st: &LabState) -> Result<()> {
    let json = serde_json::to_vec(st).map_err(|e| Error::msg(format!("encoding state: {e}")))?;
    crate::util::write_atomic(path, &json)
}

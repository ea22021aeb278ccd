//! Networks as objects: `network create`, `rm`, `prune`, and the rollback of a creation
//! a crash interrupted. Each network's record keeps the steps that built it (its
//! bridge, its address, its rules), so removing it undoes exactly those.

mod filter;
mod view;

pub use filter::NetworkFilter;
pub use view::{inspect_json, ls_json};

use crate::driver;
use crate::error::{Error, Result};
use crate::lab::{Daemon, LabStatus, NetworkRecord, PendingKind};
use crate::step::Executor;
use crate::util::{ProcRef, random_hex};
use std::collections::BTreeMap;

/// What `network create` asks for.
#[derive(Debug, Clone, Default)]
pub struct CreateSpec {
    /// Network name.
    pub name: String,
    /// `-d` (default `bridge`).
    pub driver: String,
    /// `--subnet`, `--gateway`, `--ip-range`.
    pub ipam: crate::ipam::IpamRequest,
    /// `--internal`
    pub internal: bool,
    /// `--attachable`
    pub attachable: bool,
    /// `--label K=V` values.
    pub labels: Vec<String>,
    /// `-o K=V` values.
    pub options: Vec<String>,
}

/// `K=V` pairs (a bare `K` means an empty value, as Docker reads labels).
fn key_values(list: &[String], what: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for kv in list {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        if k.is_empty() {
            return Err(Error::msg(crate::ui::tr(
                format!("invalid {what} {kv:?}: expected KEY=VALUE"),
                format!(
                    "{} {kv:?} 无效：应为 KEY=VALUE 的形式",
                    match what {
                        "option" => "选项",
                        "label" => "标签",
                        other => other,
                    }
                ),
            )));
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// Docker's names that `network create` refuses (`runconfig.IsPreDefinedNetwork`).
fn is_predefined_name(name: &str) -> bool {
    matches!(name, "bridge" | "host" | "none" | "default")
}

/// Refuse drivers this lab does not have (ipvlan without the kernel's support).
fn check_driver(driver: &str) -> Result<()> {
    match driver {
        "bridge" => Ok(()),
        "host" | "null" => Err(Error::msg(format!(
            "Error response from daemon: only one instance of \"{driver}\" network is allowed"
        ))),
        "overlay" => Ok(()),
        "macvlan" => Ok(()),
        "ipvlan" if driver::ipvlan_supported() => Ok(()),
        "ipvlan" => Err(driver::ipvlan_missing()),
        other => Err(Error::msg(format!(
            "Error response from daemon: plugin \"{other}\" not found"
        ))),
    }
}

/// `network create`: validate as Docker does, then build the bridge and its rules.
/// Returns the new record (its id is what the CLI prints).
pub async fn create(
    d: &mut Daemon<'_>,
    ex: &mut Executor,
    spec: &CreateSpec,
) -> Result<NetworkRecord> {
    let mut parsed = crate::ipam::parse_request(&spec.ipam)?;
    if is_predefined_name(&spec.name) {
        return Err(Error::msg(format!(
            "Error response from daemon: operation is not permitted on predefined {} network ",
            spec.name
        )));
    }
    if spec.name.is_empty() {
        return Err(Error::msg(
            "Error response from daemon: network name cannot be empty",
        ));
    }
    // Names become file names in the lab's records: keep them to Docker's usual set.
    if spec.name.len() > 128
        || !spec
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return Err(Error::msg(crate::ui::tr(
            format!(
                "invalid network name {:?}: use letters, digits, '_', '.' and '-'",
                spec.name
            ),
            format!(
                "网络名称 {:?} 无效：只能使用字母、数字、'_'、'.' 和 '-'",
                spec.name
            ),
        )));
    }
    if d.store.network_by_name(&spec.name)?.is_some() {
        return Err(Error::msg(format!(
            "Error response from daemon: network with name {} already exists",
            spec.name
        )));
    }
    let driver_name = if spec.driver.is_empty() {
        "bridge"
    } else {
        spec.driver.as_str()
    };
    check_driver(driver_name)?;
    let overlay = driver_name == "overlay";
    let existing = d.store.networks()?;
    let mut subnets: Vec<ipnet::Ipv4Net> = existing
        .iter()
        .flat_map(|n| n.ipam.iter().map(|p| p.subnet))
        .collect();
    if overlay {
        // An overlay spans every host: no host may have its subnet already.
        for (h, _) in crate::overlay::up_hosts(d.lab) {
            if h.host != d.lab.host {
                let theirs = h.store().networks()?;
                subnets.extend(theirs.iter().flat_map(|n| n.ipam.iter().map(|p| p.subnet)));
            }
        }
        if parsed.is_empty() {
            parsed = crate::ipam::parse_request(&crate::ipam::IpamRequest {
                subnets: vec![crate::overlay::default_subnet(d.lab)?],
                ..Default::default()
            })?;
        }
    }
    let pool = crate::ipam::configure(&parsed, &subnets)
        .map_err(|e| Error::msg(format!("Error response from daemon: {e}")))?;
    let options = key_values(&spec.options, "option")?;
    let labels = key_values(&spec.labels, "label")?;
    let id = random_hex(64);
    let bridge = if driver_name == "bridge" {
        Some(bridge_name(&options, &id, &existing)?)
    } else {
        None
    };
    let mut net = NetworkRecord {
        id,
        name: spec.name.clone(),
        driver: driver_name.to_string(),
        created: crate::util::now_unix(),
        ipam: vec![pool],
        user_subnet: !spec.ipam.subnets.is_empty(),
        internal: spec.internal,
        attachable: spec.attachable,
        options,
        labels,
        bridge,
        predefined: false,
        status: LabStatus::Creating,
        creator: ProcRef::of(std::process::id() as i32),
        steps: Vec::new(),
    };
    if overlay {
        return crate::overlay::create(d, ex, net).await;
    }
    let drv = driver::for_network(&net)?;
    net.driver = drv.name().to_string();
    net.steps = drv.create_network(d, &net)?;
    // Write-ahead: a crash from here on is rolled back by the next command.
    d.store.pending_add(ex, &net.id, PendingKind::Network)?;
    d.store.save_network(ex, &net)?;
    if let Err(e) = ex.run_all(&net.steps).await {
        d.store.remove_network(ex, &net)?;
        d.store.pending_done(ex, &net.id)?;
        return Err(e);
    }
    net.status = LabStatus::Up;
    net.creator = None;
    d.store.save_network(ex, &net)?;
    d.store.pending_done(ex, &net.id)?;
    Ok(net)
}

/// A bridge network's Linux bridge: `-o com.docker.network.bridge.name` or
/// `br-<12 hex of the id>`, refused as Docker refuses it when too long or taken.
fn bridge_name(
    options: &BTreeMap<String, String>,
    id: &str,
    existing: &[NetworkRecord],
) -> Result<String> {
    let bridge = options
        .get("com.docker.network.bridge.name")
        .cloned()
        .unwrap_or_else(|| format!("br-{}", &id[..12]));
    if bridge.len() > 15 {
        return Err(Error::msg(format!(
            "Error response from daemon: bridge name {bridge} is longer than 15 characters (the kernel's limit for interface names)"
        )));
    }
    if let Some(other) = existing
        .iter()
        .find(|n| n.bridge.as_deref() == Some(bridge.as_str()))
    {
        return Err(Error::msg(format!(
            "Error response from daemon: cannot create network {id} ({bridge}): conflicts with network {} ({bridge}): networks have same bridge name",
            other.id
        )));
    }
    Ok(bridge)
}

/// `network rm`: refuse predefined networks and networks with containers; otherwise
/// undo the network's steps (its rules, address and bridge) and forget it.
pub async fn remove(d: &mut Daemon<'_>, ex: &mut Executor, key: &str) -> Result<()> {
    let net = d.store.find_network(key)?;
    if net.predefined {
        return Err(Error::msg(format!(
            "Error response from daemon: {} is a pre-defined network and cannot be removed",
            net.name
        )));
    }
    if net.driver == "overlay" {
        return crate::overlay::remove(d, ex, &net).await;
    }
    if d.store.member_count(&net.id) > 0 {
        return Err(Error::msg(format!(
            "Error response from daemon: error while removing network: network {} id {} has active endpoints",
            net.name, net.id
        )));
    }
    delete(d, ex, &net).await
}

async fn delete(d: &mut Daemon<'_>, ex: &mut Executor, net: &NetworkRecord) -> Result<()> {
    let errors = ex.undo(&net.steps).await;
    d.store.remove_network(ex, net)?;
    Error::all(format!("removing network {}", net.name), errors)
}

/// `network prune`: every user-defined network no container is attached to. Returns
/// the names removed, oldest first.
pub async fn prune(d: &mut Daemon<'_>, ex: &mut Executor) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    let mut nets: Vec<NetworkRecord> = d
        .store
        .networks()?
        .into_iter()
        .filter(|n| !n.predefined && n.status == LabStatus::Up)
        .collect();
    nets.sort_by(|a, b| a.created.total_cmp(&b.created));
    for n in nets {
        if n.driver == "overlay" {
            // Pruned only when no host has a container on it.
            if crate::overlay::remove(d, ex, &n).await.is_ok() {
                removed.push(n.name.clone());
            }
        } else if d.store.member_count(&n.id) == 0 {
            delete(d, ex, &n).await?;
            removed.push(n.name.clone());
        }
    }
    Ok(removed)
}

/// Undo a `network create` whose process died half-way.
pub async fn rollback(d: &mut Daemon<'_>, ex: &mut Executor, id: &str) -> Result<()> {
    if let Some(net) = d.store.network(id)?
        && net.status == LabStatus::Creating
    {
        if net.driver == "overlay" {
            // Built host by host: every copy goes, wherever the crash left it.
            return crate::overlay::remove_everywhere(d.lab, ex, id).await;
        }
        delete(d, ex, &net).await?;
    }
    d.store.pending_done(ex, id)
}

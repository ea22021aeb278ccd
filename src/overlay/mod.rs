//! Overlay networks across the lab's Docker hosts: what swarm mode does between the
//! daemons. An overlay is one network (one id, one VNI, one subnet) known to every
//! host: each host's records hold a copy with that host's own steps (its namespace,
//! `br0`, `vxlan0`: `driver::OverlayDriver`), and all copies share one address
//! allocation, the first host's (the swarm's manager allocates overlay addresses).
//!
//! What Docker's daemons tell each other over gossip (which container, with which MAC
//! and address, is behind which host), the lab reads from the hosts' records: after any
//! change, [`sync_peers`] makes every host's `vxlan0` hold exactly one forwarding (FDB)
//! entry and one neighbour entry per container on the other hosts, comparing with what
//! the kernel has (so a command killed half-way is set right by the next one), and the
//! other hosts' embedded DNS servers are told to read the container again.

mod gwbridge;
mod peers;

pub use gwbridge::{GWBRIDGE, ensure_gwbridge};
pub use peers::{forget_dns, notify_dns, sync_peers};

use crate::driver::Driver;
use crate::driver::overlay::{OverlayDriver, VNI_OPTION};
use crate::error::{Error, Result};
use crate::lab::{Daemon, Lab, LabRecord, LabStatus, NetworkRecord, PendingKind, hosts};
use crate::step::Executor;

/// The first VNI Docker hands out (`vxlanIDStart`).
pub const FIRST_VNI: u32 = 4096;

/// The hosts of the lab that are up, with their records, the first host first.
pub fn up_hosts(lab: &Lab) -> Vec<(Lab, LabRecord)> {
    hosts::records(lab)
        .into_iter()
        .filter_map(|(h, r)| r.map(|r| (h, r)))
        .filter(|(_, r)| r.status == LabStatus::Up && crate::netns::exists(&r.host.netns))
        .collect()
}

/// The lab's overlay networks (the first host's copies).
pub fn overlays(lab: &Lab) -> Vec<NetworkRecord> {
    lab.first_host()
        .store()
        .networks()
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n.driver == "overlay")
        .collect()
}

/// The lowest VNI from 4096 that no overlay of the lab holds.
pub fn next_vni(lab: &Lab) -> u32 {
    let taken: Vec<u32> = overlays(lab)
        .iter()
        .filter_map(|n| crate::driver::overlay::vni(n).ok())
        .collect();
    (FIRST_VNI..)
        .find(|v| !taken.contains(v))
        .unwrap_or(FIRST_VNI)
}

/// The subnet of an overlay created without `--subnet`: the lowest free `10.0.N.0/24`
/// from N = 1 (swarm's global pool 10.0.0.0/8 in /24s; its ingress network usually
/// holds 10.0.0.0/24), overlapping no network of any host.
pub fn default_subnet(lab: &Lab) -> Result<String> {
    let taken: Vec<ipnet::Ipv4Net> = up_hosts(lab)
        .iter()
        .flat_map(|(h, _)| h.store().networks().unwrap_or_default())
        .flat_map(|n| n.ipam.into_iter().map(|p| p.subnet))
        .collect();
    (1..=255u8)
        .filter_map(|n| format!("10.0.{n}.0/24").parse::<ipnet::Ipv4Net>().ok())
        .find(|s| !taken.iter().any(|t| crate::ipam::overlaps(s, t)))
        .map(|s| s.to_string())
        .ok_or_else(|| Error::msg("Error response from daemon: could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network"))
}

/// `network create -d overlay`: the network `net` (validated, with its subnet and VNI)
/// built on every host of the lab, the first host first. Each host's copy is journaled
/// there before its steps run; a failure undoes every host's copy.
pub async fn create(
    d: &mut Daemon<'_>,
    ex: &mut Executor,
    mut net: NetworkRecord,
) -> Result<NetworkRecord> {
    net.options
        .entry(VNI_OPTION.to_string())
        .or_insert_with(|| next_vni(d.lab).to_string());
    let mut done: Vec<(Lab, NetworkRecord)> = Vec::new();
    for (host, rec) in up_hosts(d.lab) {
        match build_on(&host, rec, ex, &net).await {
            Ok(copy) => done.push((host, copy)),
            Err(e) => {
                let mut cleanup = Vec::new();
                for (h, copy) in done.iter().rev() {
                    cleanup.extend(ex.undo(&undo_log(copy)).await);
                    let store = h.store();
                    if let Err(e) = store.remove_network(ex, copy) {
                        cleanup.push(e);
                    }
                }
                return Err(e.with_cleanup_errors(cleanup));
            }
        }
    }
    for (h, copy) in &mut done {
        copy.status = LabStatus::Up;
        copy.creator = None;
        h.store().save_network(ex, copy)?;
        h.store().pending_done(ex, &copy.id)?;
    }
    let here = done
        .into_iter()
        .find(|(h, _)| h.host == d.lab.host)
        .map(|(_, c)| c)
        .unwrap_or(net);
    Ok(here)
}

/// One host's copy of an overlay: journaled, saved, its address allocation pointed at
/// the first host's, its steps run. Left `Creating` (and journaled) on success; on
/// failure rolled back here.
async fn build_on(
    host: &Lab,
    rec: LabRecord,
    ex: &mut Executor,
    net: &NetworkRecord,
) -> Result<NetworkRecord> {
    let dh = Daemon::new(host, rec);
    let mut copy = net.clone();
    copy.status = LabStatus::Creating;
    copy.creator = crate::util::ProcRef::of(std::process::id() as i32);
    copy.steps = OverlayDriver.create_network(&dh, &copy)?;
    dh.store.pending_add(ex, &copy.id, PendingKind::Network)?;
    dh.store.save_network(ex, &copy)?;
    if !host.is_first_host() {
        share_ipam(host, ex, &copy.id)?;
    }
    if let Err(e) = ex.run_all(&copy.steps).await {
        dh.store.remove_network(ex, &copy)?;
        dh.store.pending_done(ex, &copy.id)?;
        return Err(e);
    }
    Ok(copy)
}

/// Point a host's address allocation of overlay `id` at the first host's: its
/// `networks/<id>/ips` becomes a link to the first host's, so an address taken on any
/// host is taken on all (the lab lock serializes the commands that take them).
fn share_ipam(host: &Lab, ex: &Executor, id: &str) -> Result<()> {
    let shared = host
        .first_host()
        .dir()
        .join("networks")
        .join(id)
        .join("ips");
    let mine = host.dir().join("networks").join(id).join("ips");
    ex.create_dir(&shared)?;
    ex.symlink(&shared, &mine)
}

/// `network rm` of an overlay: refused while any host has a container on it, then
/// removed from every host.
pub async fn remove(d: &mut Daemon<'_>, ex: &mut Executor, net: &NetworkRecord) -> Result<()> {
    for (h, _) in up_hosts(d.lab) {
        if h.store().member_count(&net.id) > 0 {
            return Err(Error::msg(format!(
                "Error response from daemon: error while removing network: network {} id {} has active endpoints",
                net.name, net.id
            )));
        }
    }
    remove_everywhere(d.lab, ex, &net.id).await
}

/// Undo every host's copy of overlay `id` (a removal, or the rollback of a creation a
/// crash interrupted) and forget them.
pub async fn remove_everywhere(lab: &Lab, ex: &mut Executor, id: &str) -> Result<()> {
    let mut errors = Vec::new();
    // The first host last: it holds the address allocation the others link to.
    for h in hosts::all(lab).into_iter().rev() {
        let store = h.store();
        let Ok(Some(copy)) = store.network(id) else {
            continue;
        };
        errors.extend(ex.undo(&undo_log(&copy)).await);
        if let Err(e) = store.remove_network(ex, &copy) {
            errors.push(e);
        }
        if let Err(e) = store.pending_done(ex, id) {
            errors.push(e);
        }
    }
    Error::all(
        format!("removing overlay network {}", &id[..id.len().min(12)]),
        errors,
    )
}

/// What must be undone of one host's copy: only its namespace's removal, since its
/// bridge and VXLAN device live in it. (A copy whose creation was killed may have a
/// namespace file that was never bound: entering it fails, deleting it does not.)
fn undo_log(copy: &NetworkRecord) -> Vec<crate::step::Step> {
    let mut doomed = crate::lab::Doomed::default();
    doomed.add_created(&copy.steps);
    copy.steps
        .iter()
        .filter(|s| !doomed.takes(s))
        .cloned()
        .collect()
}

/// A host joined the lab: it gets every overlay network (its own namespace, bridge and
/// VXLAN device for each), and learns where the other hosts' containers are.
pub async fn host_joined(d: &Daemon<'_>, ex: &mut Executor) -> Result<()> {
    for net in overlays(d.lab) {
        if net.status != LabStatus::Up || d.store.network(&net.id)?.is_some() {
            continue;
        }
        ex.narrate(&crate::ui::tr(
            format!(
                "# host {} joins the overlay network {}",
                d.lab.host, net.name
            ),
            format!("# 宿主机 {} 加入 overlay 网络 {}", d.lab.host, net.name),
        ));
        let mut copy = build_on(d.lab, d.rec.clone(), ex, &net).await?;
        copy.status = LabStatus::Up;
        copy.creator = None;
        d.store.save_network(ex, &copy)?;
        d.store.pending_done(ex, &copy.id)?;
        sync_peers(d.lab, ex, &net.id).await?;
    }
    Ok(())
}

/// A host left the lab: the others forget its containers (`gone`: their ids), and the
/// addresses they held on the overlays are free again.
pub async fn host_left(host: &Lab, ex: &mut Executor, gone: &[String]) -> Result<()> {
    for id in gone {
        notify_dns(host, ex, id);
    }
    let alive: Vec<String> = hosts::all(host)
        .iter()
        .flat_map(|h| h.store().container_ids())
        .collect();
    let first = host.first_host().store();
    for net in overlays(host) {
        for (ip, holder) in first.ip_holders(&net.id) {
            if !alive.contains(&holder) {
                first.release_ip(ex, &net.id, ip, &holder)?;
            }
        }
        sync_peers(host, ex, &net.id).await?;
    }
    Ok(())
}

/// A container's endpoints on the overlays `networks` (ids) changed on host `d` (it
/// started, stopped, was removed, connected or disconnected): every host's VXLAN tables
/// and the other hosts' DNS servers are brought up to date. Nothing to do (and nothing
/// read) for a container on no overlay.
pub async fn container_changed(
    d: &Daemon<'_>,
    ex: &mut Executor,
    id: &str,
    networks: &[String],
) -> Result<()> {
    if networks.is_empty() {
        return Ok(());
    }
    for n in networks {
        sync_peers(d.lab, ex, n).await?;
    }
    notify_dns(d.lab, ex, id);
    Ok(())
}

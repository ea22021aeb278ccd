//! What a container holds in the lab's records while it runs: an address and a
//! membership on each network (the IPAM's state and `network inspect`'s list), and its
//! host ports (the daemon's port allocator). Claimed before the kernel changes
//! (write-ahead), released when its endpoints go.

use crate::error::Result;
use crate::lab::{ContainerRecord, Daemon, Member, PortClaim};
use crate::step::Executor;

/// Record what a container holds: its addresses and memberships, its host ports.
pub(super) fn claim(d: &mut Daemon, ex: &Executor, rec: &ContainerRecord) -> Result<()> {
    for e in &rec.endpoints {
        claim_endpoint(d, ex, rec, e)?;
    }
    if !rec.ports.is_empty() {
        d.rec.ports.retain(|p| p.container != rec.id);
        d.rec.ports.extend(rec.ports.iter().map(|b| PortClaim {
            container: rec.id.clone(),
            binding: b.clone(),
        }));
        d.store.save_lab(ex, &d.rec)?;
    }
    Ok(())
}

/// Record one endpoint in its network (IPAM and the inspect listing).
pub(super) fn claim_endpoint(
    d: &Daemon,
    ex: &Executor,
    rec: &ContainerRecord,
    e: &crate::lab::Endpoint,
) -> Result<()> {
    if e.has_interface() {
        d.store.claim_ip(ex, &e.network_id, e.ip, &rec.id)?;
    }
    d.store.add_member(
        ex,
        &e.network_id,
        &Member {
            container: rec.id.clone(),
            name: rec.name.clone(),
            endpoint_id: e.endpoint_id.clone(),
            mac: e.mac.clone(),
            ipv4: if e.has_interface() {
                format!("{}/{}", e.ip, e.prefix_len)
            } else {
                String::new()
            },
        },
    )
}

/// Forget one endpoint in its network.
pub(super) fn unclaim_endpoint(
    d: &Daemon,
    ex: &Executor,
    rec: &ContainerRecord,
    e: &crate::lab::Endpoint,
) -> Result<()> {
    if e.has_interface() {
        d.store.release_ip(ex, &e.network_id, e.ip, &rec.id)?;
    }
    d.store.remove_member(ex, &e.network_id, &rec.id)
}

/// Release what [`claim`] recorded.
pub(super) fn unclaim(d: &mut Daemon, ex: &Executor, rec: &ContainerRecord) -> Result<()> {
    for e in &rec.endpoints {
        unclaim_endpoint(d, ex, rec, e)?;
    }
    if d.rec.ports.iter().any(|p| p.container == rec.id) {
        d.rec.ports.retain(|p| p.container != rec.id);
        d.store.save_lab(ex, &d.rec)?;
    }
    Ok(())
}

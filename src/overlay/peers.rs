//! Where each overlay container is: the VXLAN forwarding and neighbour entries every
//! host needs for the containers on the other hosts (what Docker's daemons learn over
//! gossip and program as `peerAdd` / `peerDelete`), and the other hosts' DNS.

use super::up_hosts;
use crate::driver::overlay::VXLAN;
use crate::error::Result;
use crate::lab::Lab;
use crate::link::Peer;
use crate::step::{Executor, Step};
use std::net::Ipv4Addr;

/// The containers on overlay `net_id` per host, as the hosts' records say: (host's
/// view, its overlay namespace, its LAN address, its members as peers).
fn members_by_host(lab: &Lab, net_id: &str) -> Vec<(Lab, String, Ipv4Addr, Vec<Peer>)> {
    up_hosts(lab)
        .into_iter()
        .filter_map(|(h, rec)| {
            let store = h.store();
            let net = store.network(net_id).ok().flatten()?;
            let d = crate::lab::Daemon::new(&h, rec.clone());
            let ns = crate::driver::overlay::namespace(&d, &net);
            let peers = store
                .members(net_id)
                .into_iter()
                .filter_map(|m| {
                    let ip = m.ipv4.split('/').next()?.parse().ok()?;
                    let mac = crate::link::parse_mac(&m.mac)?;
                    Some(Peer {
                        mac,
                        ip,
                        vtep: rec.host.lan,
                    })
                })
                .collect();
            drop(d);
            Some((h, ns, rec.host.lan, peers))
        })
        .collect()
}

/// Make every host's `vxlan0` on overlay `net_id` hold exactly the containers of the
/// other hosts: entries missing are added, entries of containers gone are removed,
/// read back from the kernel first (so what a killed command left is corrected).
pub async fn sync_peers(lab: &Lab, ex: &mut Executor, net_id: &str) -> Result<()> {
    let all = members_by_host(lab, net_id);
    for (h, ns, lan, _) in &all {
        let mut want: Vec<Peer> = all
            .iter()
            .filter(|(_, _, other, _)| other != lan)
            .flat_map(|(_, _, _, p)| p.iter().copied())
            .collect();
        want.sort();
        let have = if ex.effects() {
            ex.overlay_peers(ns, VXLAN).await?
        } else {
            Vec::new()
        };
        let add: Vec<&Peer> = want.iter().filter(|p| !have.contains(p)).collect();
        let del: Vec<&Peer> = have.iter().filter(|p| !want.contains(p)).collect();
        if add.is_empty() && del.is_empty() {
            continue;
        }
        ex.narrate(&crate::ui::tr(
            format!(
                "# {} updates its VXLAN tables: each container on another host is a MAC behind that host's VTEP (FDB) and an address vxlan0's ARP proxy answers for (neighbour)",
                h.host
            ),
            format!(
                "# {} 更新 VXLAN 的两张表：别的宿主机上的每个容器，是那台宿主机 VTEP 后面的一个 MAC（FDB），也是 vxlan0 的 ARP 代理替它应答的一个地址（邻居表）",
                h.host
            ),
        ));
        for p in del {
            ex.run(&Step::PeerDel {
                ns: ns.clone(),
                dev: VXLAN.into(),
                mac: crate::link::format_mac(&p.mac),
                ip: p.ip,
                vtep: p.vtep,
            })
            .await?;
        }
        for p in add {
            ex.run(&Step::PeerAdd {
                ns: ns.clone(),
                dev: VXLAN.into(),
                mac: crate::link::format_mac(&p.mac),
                ip: p.ip,
                vtep: p.vtep,
            })
            .await?;
        }
    }
    Ok(())
}

/// Tell the other hosts' embedded DNS servers that container `id` of host `lab`
/// changed: each reads its record again and keeps its names on the overlays it shares.
pub fn notify_dns(lab: &Lab, ex: &Executor, id: &str) {
    tell_others(
        lab,
        ex,
        &crate::dns::control::Request::Remote {
            host: lab.host.clone(),
            id: id.to_string(),
        },
    );
}

/// Tell the other hosts' embedded DNS servers that container `id` of host `lab` left
/// its networks (its record, still on disk until the command ends, would say otherwise).
pub fn forget_dns(lab: &Lab, ex: &Executor, id: &str) {
    tell_others(
        lab,
        ex,
        &crate::dns::control::Request::Forget { id: id.to_string() },
    );
}

fn tell_others(lab: &Lab, ex: &Executor, req: &crate::dns::control::Request) {
    if !ex.effects() {
        return;
    }
    for (h, rec) in up_hosts(lab) {
        if h.host == lab.host || !rec.resolver.is_some_and(|p| p.alive()) {
            continue;
        }
        if let Err(e) = crate::dns::ask(&h, req) {
            eprintln!("dockernet: {e}");
        }
    }
}

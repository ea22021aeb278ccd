//! Links that reach beyond one host — VXLAN devices, macvlans — and the tables a VXLAN
//! device forwards by: its forwarding database (FDB: which host's VTEP has a MAC) and
//! the neighbour entries its ARP proxy answers from.

use super::Netlink;
use crate::error::{Error, Result, netlink_errno};
use crate::netns;
use futures::TryStreamExt;
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::packet_route::link::{IpVlanFlags, IpVlanMode, MacVlanMode};
use rtnetlink::packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use rtnetlink::{LinkIpVlan, LinkMacVlan, LinkUnspec, LinkVxlan};
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsRawFd;
use std::path::Path;

/// A VXLAN device as [`Netlink::add_vxlan_into`] makes it.
#[derive(Debug, Clone)]
pub struct Vxlan<'a> {
    /// Its name in the target namespace (`vxlan0`).
    pub name: &'a str,
    /// The VXLAN network identifier.
    pub vni: u32,
    /// The local VTEP address (the host's LAN address).
    pub local: Ipv4Addr,
    /// UDP destination port (4789).
    pub port: u16,
    /// Its MTU (1450: 1500 less the 50 bytes of VXLAN over UDP over IPv4).
    pub mtu: u32,
}

/// One static entry of a VXLAN device's forwarding table and neighbour table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Peer {
    /// The remote container's MAC.
    pub mac: [u8; 6],
    /// Its address.
    pub ip: Ipv4Addr,
    /// The VTEP (LAN address of the host it is on).
    pub vtep: Ipv4Addr,
}

impl Netlink {
    /// `ip link add NAME netns TARGET mtu M type vxlan id VNI local IP dstport PORT
    /// proxy l2miss l3miss`, sent in this (the host's) namespace: the device lives in
    /// TARGET but its UDP socket in the namespace the request came from, so the VXLAN
    /// packets leave through the host's eth0 — in one request, without moving it.
    pub async fn add_vxlan_into(&self, v: &Vxlan<'_>, target: &Path) -> Result<()> {
        let ns_file = netns::open(target)?;
        let msg = LinkVxlan::new(v.name, v.vni)
            .local(v.local)
            .port(v.port)
            .learning(true)
            .proxy(true)
            .l2miss(true)
            .l3miss(true)
            .mtu(v.mtu)
            .setns_by_fd(ns_file.as_raw_fd())
            .build();
        let r = self
            .add(
                msg,
                &format!("creating VXLAN device {} (VNI {})", v.name, v.vni),
            )
            .await;
        drop(ns_file);
        r
    }

    /// `ip link set NAME master MASTER up`.
    pub async fn set_master_up(&self, name: &str, master: &str) -> Result<()> {
        let index = self.require(name).await?;
        let master_index = self.require(master).await?;
        self.handle
            .link()
            .set(
                LinkUnspec::new_with_index(index)
                    .controller(master_index)
                    .up()
                    .build(),
            )
            .execute()
            .await
            .map_err(|e| Error::from(e).context(format!("attaching {name} to {master}")))
    }

    /// `ip link add NAME link PARENT address MAC netns TARGET type macvlan mode MODE`
    /// (MODE `bridge` when none): the macvlan is made on the parent in this namespace
    /// and created directly in TARGET.
    pub async fn add_macvlan_into(
        &self,
        name: &str,
        parent: &str,
        target: &Path,
        mac: Option<[u8; 6]>,
        mode: Option<&str>,
    ) -> Result<()> {
        let mode = match mode.unwrap_or("bridge") {
            "bridge" => MacVlanMode::Bridge,
            "private" => MacVlanMode::Private,
            "vepa" => MacVlanMode::Vepa,
            "passthru" => MacVlanMode::Passthrough,
            other => return Err(Error::msg(format!("unknown macvlan mode {other}"))),
        };
        let parent_index = self.require(parent).await?;
        let ns_file = netns::open(target)?;
        let mut msg = LinkMacVlan::new(name, parent_index, mode).setns_by_fd(ns_file.as_raw_fd());
        if let Some(m) = mac {
            msg = msg.address(m.to_vec());
        }
        let r = self
            .add(msg.build(), &format!("creating macvlan {name} on {parent}"))
            .await;
        drop(ns_file);
        r
    }

    /// `ip link add NAME link PARENT netns TARGET type ipvlan mode MODE FLAG`: an ipvlan
    /// (it shares the parent's MAC) made on the parent here, created directly in TARGET.
    pub async fn add_ipvlan_into(
        &self,
        name: &str,
        parent: &str,
        target: &Path,
        mode: &str,
        flag: &str,
    ) -> Result<()> {
        let mode = match mode {
            "l2" => IpVlanMode::L2,
            "l3" => IpVlanMode::L3,
            "l3s" => IpVlanMode::L3S,
            other => return Err(Error::msg(format!("unknown ipvlan mode {other}"))),
        };
        let flag = match flag {
            "bridge" => IpVlanFlags::empty(),
            "private" => IpVlanFlags::Private,
            "vepa" => IpVlanFlags::Vepa,
            other => return Err(Error::msg(format!("unknown ipvlan flag {other}"))),
        };
        let parent_index = self.require(parent).await?;
        let ns_file = netns::open(target)?;
        let msg = LinkIpVlan::new(name, parent_index, mode)
            .flag(flag)
            .setns_by_fd(ns_file.as_raw_fd());
        let r = self
            .add(msg.build(), &format!("creating ipvlan {name} on {parent}"))
            .await;
        drop(ns_file);
        r
    }

    /// `bridge fdb add MAC dev DEV dst VTEP self permanent` and `ip neigh add IP lladdr
    /// MAC dev DEV nud permanent`: where a remote container's MAC is, and the answer the
    /// device's ARP proxy gives for its address. Replaces entries already there.
    pub async fn add_peer(&self, dev: &str, p: &Peer) -> Result<()> {
        let index = self.require(dev).await?;
        let what = || {
            format!(
                "adding {} ({}) via {} on {dev}",
                p.ip,
                super::format_mac(&p.mac),
                p.vtep
            )
        };
        self.handle
            .neighbours()
            .add_bridge(index, &p.mac)
            .flags(NeighbourFlags::Own)
            .destination(IpAddr::V4(p.vtep))
            .replace()
            .execute()
            .await
            .map_err(|e| Error::from(e).context(what()))?;
        self.handle
            .neighbours()
            .add(index, IpAddr::V4(p.ip))
            .link_layer_address(&p.mac)
            .state(NeighbourState::Permanent)
            .replace()
            .execute()
            .await
            .map_err(|e| Error::from(e).context(what()))
    }

    /// Remove what [`Netlink::add_peer`] added; entries already gone are fine.
    pub async fn del_peer(&self, dev: &str, p: &Peer) -> Result<()> {
        let Some(index) = self.index_of(dev).await? else {
            return Ok(());
        };
        let mut fdb = NeighbourMessage::default();
        fdb.header.family = AddressFamily::Bridge;
        fdb.header.ifindex = index;
        fdb.header.flags = NeighbourFlags::Own;
        fdb.attributes = vec![
            NeighbourAttribute::LinkLayerAddress(p.mac.to_vec()),
            NeighbourAttribute::Destination(NeighbourAddress::Inet(p.vtep)),
        ];
        let mut neigh = NeighbourMessage::default();
        neigh.header.family = AddressFamily::Inet;
        neigh.header.ifindex = index;
        neigh.attributes = vec![NeighbourAttribute::Destination(NeighbourAddress::Inet(
            p.ip,
        ))];
        for msg in [fdb, neigh] {
            match self.handle.neighbours().del(msg).execute().await {
                Ok(()) => {}
                Err(e) if matches!(netlink_errno(&e), Some(libc::ENOENT | libc::ENODEV)) => {}
                Err(e) => {
                    return Err(Error::from(e).context(format!("removing {} from {dev}", p.ip)));
                }
            }
        }
        Ok(())
    }

    /// The static entries on VXLAN device `dev`: its FDB entries with a remote VTEP
    /// joined with its permanent neighbour entries by MAC.
    pub async fn peers(&self, dev: &str) -> Result<Vec<Peer>> {
        let Some(index) = self.index_of(dev).await? else {
            return Ok(Vec::new());
        };
        let fdb = self.fdb(index).await?;
        let mut out = Vec::new();
        let mut neigh = self
            .handle
            .neighbours()
            .get()
            .set_address_family(AddressFamily::Inet)
            .execute();
        while let Some(m) = neigh
            .try_next()
            .await
            .map_err(|e| Error::from(e).context(format!("listing neighbours of {dev}")))?
        {
            if m.header.ifindex != index || m.header.state != NeighbourState::Permanent {
                continue;
            }
            let (Some(ip), Some(mac)) = (neigh_ip(&m), neigh_mac(&m)) else {
                continue;
            };
            if let Some(vtep) = fdb.iter().filter(|e| e.mac == mac).find_map(|e| e.dst) {
                out.push(Peer { mac, ip, vtep });
            }
        }
        out.sort();
        Ok(out)
    }

    /// Every FDB entry of device `index`: the device's own (`self`, naming a remote
    /// VTEP) and its bridge's (`master`: learned, or its own MAC), in the kernel's order.
    pub async fn fdb(&self, index: u32) -> Result<Vec<FdbEntry>> {
        let mut req = self.handle.neighbours().get();
        req.message_mut().header.family = AddressFamily::Bridge;
        let mut s = req.execute();
        let mut out = Vec::new();
        while let Some(m) = s
            .try_next()
            .await
            .map_err(|e| Error::from(e).context("listing the forwarding table"))?
        {
            if m.header.ifindex != index {
                continue;
            }
            let master = m.attributes.iter().find_map(|a| match a {
                NeighbourAttribute::Controller(i) => Some(*i),
                _ => None,
            });
            let dst = neigh_ip(&m);
            if let Some(mac) = neigh_mac(&m)
                && (dst.is_some() || master.is_some())
            {
                out.push(FdbEntry {
                    mac,
                    dst,
                    master,
                    permanent: m.header.state == NeighbourState::Permanent,
                });
            }
        }
        Ok(out)
    }
}

/// One FDB entry of a VXLAN device, as `bridge fdb show` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdbEntry {
    /// The MAC.
    pub mac: [u8; 6],
    /// The VTEP it is behind (the device's own entries).
    pub dst: Option<Ipv4Addr>,
    /// The bridge's index (the bridge's entries for this port).
    pub master: Option<u32>,
    /// Added by hand (`permanent`) rather than learned.
    pub permanent: bool,
}

pub(super) fn neigh_ip(m: &NeighbourMessage) -> Option<Ipv4Addr> {
    m.attributes.iter().find_map(|a| match a {
        NeighbourAttribute::Destination(NeighbourAddress::Inet(ip)) => Some(*ip),
        // In an AF_BRIDGE message (an FDB entry) the parser cannot tell the family of
        // the VTEP address from the header, and leaves its bytes as they came.
        NeighbourAttribute::Destination(NeighbourAddress::Other(b)) if b.len() == 4 => {
            Some(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
        }
        _ => None,
    })
}

pub(super) fn neigh_mac(m: &NeighbourMessage) -> Option<[u8; 6]> {
    m.attributes.iter().find_map(|a| match a {
        NeighbourAttribute::LinkLayerAddress(l) if l.len() == 6 => l.as_slice().try_into().ok(),
        _ => None,
    })
}

//! The two lookups a bridge makes before it sends a routed packet out of a port: the
//! neighbour (ARP) table gives the next hop's MAC, the bridge's forwarding database
//! (FDB) the port that MAC was learned on. `trace` shows both.

use super::Netlink;
use super::tunnel::{neigh_ip, neigh_mac};
use crate::error::{Error, Result};
use futures::TryStreamExt;
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::packet_route::neighbour::{NeighbourAttribute, NeighbourState};
use std::net::Ipv4Addr;

/// A neighbour entry: the MAC and the state (`REACHABLE`, `STALE`, …) as `ip neigh` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    /// The MAC the address resolved to.
    pub mac: [u8; 6],
    /// `REACHABLE`, `STALE`, `PERMANENT` …
    pub state: String,
}

impl Netlink {
    /// `ip neigh show dev IFINDEX to IP`: the ARP entry of `ip` on interface `index`.
    pub async fn neighbour(&self, index: u32, ip: Ipv4Addr) -> Result<Option<Neighbour>> {
        let mut s = self.handle.neighbours().get().execute();
        while let Some(m) = s
            .try_next()
            .await
            .map_err(|e| Error::from(e).context("listing the neighbour table"))?
        {
            if m.header.ifindex != index || neigh_ip(&m) != Some(ip) {
                continue;
            }
            if let Some(mac) = neigh_mac(&m) {
                let state = match m.header.state {
                    NeighbourState::Reachable => "REACHABLE",
                    NeighbourState::Stale => "STALE",
                    NeighbourState::Delay => "DELAY",
                    NeighbourState::Probe => "PROBE",
                    NeighbourState::Permanent => "PERMANENT",
                    NeighbourState::Noarp => "NOARP",
                    _ => "INCOMPLETE",
                };
                return Ok(Some(Neighbour {
                    mac,
                    state: state.into(),
                }));
            }
        }
        Ok(None)
    }

    /// `bridge fdb show br BRIDGE`: the port (ifindex) where `mac` was learned, if any.
    pub async fn fdb_port(&self, bridge: u32, mac: [u8; 6]) -> Result<Option<u32>> {
        let mut req = self.handle.neighbours().get();
        req.message_mut().header.family = AddressFamily::Bridge;
        let mut s = req.execute();
        while let Some(m) = s
            .try_next()
            .await
            .map_err(|e| Error::from(e).context("listing the forwarding table"))?
        {
            let master = m.attributes.iter().find_map(|a| match a {
                NeighbourAttribute::Controller(i) => Some(*i),
                _ => None,
            });
            if master == Some(bridge) && neigh_mac(&m) == Some(mac) && m.header.ifindex != bridge {
                return Ok(Some(m.header.ifindex));
            }
        }
        Ok(None)
    }
}

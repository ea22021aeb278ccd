//! Netlink operations (rtnetlink, in-process): bridges, veth pairs, addresses, routes,
//! and the dumps the views render. One [`Netlink`] connection per namespace.

mod dump;
mod lookup;
mod tunnel;

pub use tunnel::{Peer, Vxlan};

use crate::error::{Context, Error, Result, netlink_errno};
use crate::netns;
use futures::TryStreamExt;
use rtnetlink::packet_route::link::{InfoData, InfoKind, InfoVeth, LinkMessage};
use rtnetlink::{
    Handle, LinkBridge, LinkMessageBuilder, LinkUnspec, LinkVeth, RouteMessageBuilder,
};
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, IntoRawFd};
use std::path::Path;

/// A netlink (NETLINK_ROUTE) connection bound to one network namespace.
pub struct Netlink {
    handle: Handle,
    task: tokio::task::JoinHandle<()>,
}

impl Netlink {
    /// Connect to the namespace at `ns_path`.
    ///
    /// The socket is created on a short-lived thread inside the namespace (a socket
    /// keeps the namespace it was created in) and then driven by this runtime.
    pub fn open(ns_path: &Path) -> Result<Netlink> {
        let sock = netns::in_netns(ns_path, || {
            rtnetlink::sys::Socket::new(rtnetlink::sys::protocols::NETLINK_ROUTE)
        })?
        .with_ctx(|| format!("opening netlink in {}", ns_path.display()))?;
        // SAFETY: we own the fd and hand its ownership to TokioSocket.
        let ts = unsafe {
            <rtnetlink::sys::TokioSocket as std::os::fd::FromRawFd>::from_raw_fd(sock.into_raw_fd())
        };
        let (conn, handle, _messages) = rtnetlink::from_socket(ts);
        let task = tokio::spawn(conn);
        Ok(Netlink { handle, task })
    }

    /// Index of the link called `name`, or `None` if there is none.
    pub async fn index_of(&self, name: &str) -> Result<Option<u32>> {
        let mut links = self
            .handle
            .link()
            .get()
            .match_name(name.to_string())
            .execute();
        match links.try_next().await {
            Ok(Some(msg)) => Ok(Some(msg.header.index)),
            Ok(None) => Ok(None),
            // The kernel answers a name lookup of a missing link with ENODEV.
            Err(e) if netlink_errno(&e) == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(Error::from(e).context(format!("looking up link {name}"))),
        }
    }

    /// Index of `name`, failing with a clear message if it does not exist.
    pub async fn require(&self, name: &str) -> Result<u32> {
        self.index_of(name)
            .await?
            .ok_or_else(|| Error::errno(format!("link {name}"), libc::ENODEV))
    }

    /// `ip link add NAME [address MAC] type bridge` then `ip link set NAME up`.
    pub async fn add_bridge(&self, name: &str, mac: Option<[u8; 6]>) -> Result<u32> {
        let mut b = LinkBridge::new(name).up();
        if let Some(m) = mac {
            b = b.address(m.to_vec());
        }
        self.add(b.build(), &format!("creating bridge {name}"))
            .await?;
        self.require(name).await
    }

    /// Create a veth pair whose local end is `name` (enslaved to `master`, up) and
    /// whose peer is created directly inside another namespace as `peer` with `peer_mac`.
    ///
    /// Creating the peer in its namespace, in one request, avoids moving a device
    /// between namespaces afterwards, the most expensive kernel operation here (~20 ms).
    pub async fn add_veth_into(
        &self,
        name: &str,
        master: Option<u32>,
        peer: &str,
        peer_ns: &Path,
        peer_mac: Option<[u8; 6]>,
        mtu: Option<u32>,
    ) -> Result<()> {
        // Keep the namespace file open until the kernel has answered.
        let ns_file = netns::open(peer_ns)?;
        let mut peer_msg = LinkUnspec::new_with_name(peer).setns_by_fd(ns_file.as_raw_fd());
        if let Some(m) = peer_mac {
            peer_msg = peer_msg.address(m.to_vec());
        }
        if let Some(m) = mtu {
            peer_msg = peer_msg.mtu(m);
        }
        let mut msg = LinkMessageBuilder::<LinkVeth>::new_with_info_kind(InfoKind::Veth)
            .name(name)
            .up()
            .set_info_data(InfoData::Veth(InfoVeth::Peer(peer_msg.build())));
        if let Some(m) = mtu {
            msg = msg.mtu(m);
        }
        if let Some(m) = master {
            msg = msg.controller(m);
        }
        let r = self
            .add(
                msg.build(),
                &format!("creating veth pair {name} <-> {peer}"),
            )
            .await;
        drop(ns_file);
        r
    }

    async fn add(&self, msg: LinkMessage, what: &str) -> Result<()> {
        self.handle
            .link()
            .add(msg)
            .execute()
            .await
            .map_err(|e| Error::from(e).context(what))
    }

    /// `ip link set NAME up`.
    pub async fn set_up(&self, name: &str) -> Result<()> {
        let index = self.require(name).await?;
        self.handle
            .link()
            .set(LinkUnspec::new_with_index(index).up().build())
            .execute()
            .await
            .map_err(|e| Error::from(e).context(format!("setting {name} up")))
    }

    /// `bridge link set dev NAME hairpin on`: let the bridge send a frame back out of the
    /// port it came in on, which hairpin NAT (no userland proxy) needs.
    pub async fn set_hairpin(&self, name: &str) -> Result<()> {
        let index = self.require(name).await?;
        let msg = rtnetlink::LinkBridgePort::new(index)
            .append_info_data(rtnetlink::packet_route::link::InfoBridgePort::HairpinMode(
                true,
            ))
            .build();
        self.handle
            .link()
            .set_port(msg)
            .execute()
            .await
            .map_err(|e| Error::from(e).context(format!("setting hairpin mode on {name}")))
    }

    /// `ip link del NAME`. Returns false if it did not exist.
    pub async fn delete_link(&self, name: &str) -> Result<bool> {
        let Some(index) = self.index_of(name).await? else {
            return Ok(false);
        };
        match self.handle.link().del(index).execute().await {
            Ok(()) => Ok(true),
            Err(e) if netlink_errno(&e) == Some(libc::ENODEV) => Ok(false),
            Err(e) => Err(Error::from(e).context(format!("deleting link {name}"))),
        }
    }

    /// `ip addr add ADDR/PREFIX dev NAME`.
    pub async fn add_address(&self, name: &str, addr: IpAddr, prefix_len: u8) -> Result<()> {
        let index = self.require(name).await?;
        self.handle
            .address()
            .add(index, addr, prefix_len)
            .execute()
            .await
            .map_err(|e| Error::from(e).context(format!("adding {addr}/{prefix_len} to {name}")))
    }

    /// `ip route add default via GW`.
    pub async fn add_default_route(&self, gateway: Ipv4Addr) -> Result<()> {
        let msg = RouteMessageBuilder::<Ipv4Addr>::new()
            .gateway(gateway)
            // What `ip route add` records (proto boot), so the narrated command and
            // the kernel's route agree.
            .protocol(rtnetlink::packet_route::route::RouteProtocol::Boot)
            .build();
        self.handle
            .route()
            .add(msg)
            .execute()
            .await
            .map_err(|e| Error::from(e).context(format!("adding default route via {gateway}")))
    }

    /// Close the connection (and with it the socket, which would otherwise keep the
    /// namespace alive).
    pub async fn close(self) {
        let Netlink { handle, task } = self;
        drop(handle);
        task.abort();
        let _ = task.await;
    }
}

/// Parse `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<u8> = s
        .split(':')
        .map(|p| u8::from_str_radix(p, 16))
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    parts.try_into().ok()
}

/// Format a MAC as `aa:bb:cc:dd:ee:ff`.
pub fn format_mac(m: &[u8]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Docker's classic (≤27) container MAC: `02:42` followed by the four IPv4 bytes.
pub fn docker_mac(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

/// Docker's classic bridge MAC: `02:42` and four random bytes.
pub fn random_docker_mac() -> [u8; 6] {
    let r = crate::util::random_bytes(4);
    [0x02, 0x42, r[0], r[1], r[2], r[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_mac_embeds_the_ipv4_address() {
        assert_eq!(
            format_mac(&docker_mac(Ipv4Addr::new(172, 17, 0, 2))),
            "02:42:ac:11:00:02"
        );
    }

    #[test]
    fn mac_round_trips() {
        assert_eq!(
            parse_mac("02:42:ac:11:00:02"),
            Some([2, 0x42, 0xac, 0x11, 0, 2])
        );
        assert_eq!(parse_mac("02:42:ac"), None);
        assert_eq!(parse_mac("zz:42:ac:11:00:02"), None);
    }
}

//! Dumps of live kernel state (links, addresses, routes, bridges) turned into the plain
//! view structs that `view/` renders.

use super::{Netlink, format_mac};
use crate::error::{Error, Result};
use crate::view::model::{AddrView, BridgeView, LinkView, RouteView};
use futures::TryStreamExt;
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::packet_route::address::AddressAttribute;
use rtnetlink::packet_route::link::{
    InfoBridge, InfoData, LinkAttribute, LinkInfo, LinkLayerType, LinkMessage,
};
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteProtocol, RouteScope, RouteType,
};
use std::collections::HashMap;
use std::net::IpAddr;

const IFF_LOWER_UP: u32 = 1 << 16;

impl Netlink {
    /// Every link in the namespace, sorted by index, without addresses.
    pub async fn links(&self) -> Result<Vec<LinkView>> {
        let msgs: Vec<LinkMessage> = self
            .handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| Error::from(e).context("dumping links"))?;
        let names: HashMap<u32, String> = msgs
            .iter()
            .map(|m| (m.header.index, link_name(m)))
            .collect();
        let mut views: Vec<LinkView> = msgs.iter().map(|m| link_view(m, &names)).collect();
        views.sort_by_key(|l| l.index);
        if views.iter().any(|l| l.link_netnsid.is_some()) {
            let ids = self.nsid_names().await;
            for l in &mut views {
                l.link_netns = l.link_netnsid.and_then(|id| ids.get(&id).cloned());
            }
        }
        Ok(views)
    }

    /// Names of the namespaces under /run/netns, by the id this namespace knows them
    /// by (how `ip link` turns `link-netnsid 0` into `link-netns NAME`).
    pub async fn nsid_names(&self) -> HashMap<i32, String> {
        let mut out = HashMap::new();
        for name in crate::netns::list_with_prefix("") {
            if let Ok(Some(id)) = self
                .handle
                .link()
                .get_netns_id(name.clone())
                .execute()
                .await
            {
                out.entry(id).or_insert(name);
            }
        }
        out
    }

    /// Every link with its addresses filled in (`ip addr`).
    pub async fn links_with_addresses(&self) -> Result<Vec<LinkView>> {
        let mut links = self.links().await?;
        let msgs: Vec<_> = self
            .handle
            .address()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| Error::from(e).context("dumping addresses"))?;
        for m in msgs {
            let mut addr = None;
            let mut local = None;
            let mut broadcast = None;
            let mut label = None;
            for a in &m.attributes {
                match a {
                    AddressAttribute::Address(x) => addr = Some(*x),
                    AddressAttribute::Local(x) => local = Some(*x),
                    AddressAttribute::Broadcast(b) => broadcast = Some(IpAddr::V4(*b)),
                    AddressAttribute::Label(l) => label = Some(l.clone()),
                    _ => {}
                }
            }
            // For IPv4, IFA_LOCAL is the interface's own address; IFA_ADDRESS is the
            // peer on point-to-point links and equal to LOCAL otherwise.
            let Some(ip) = local.or(addr) else { continue };
            if let Some(link) = links.iter_mut().find(|l| l.index == m.header.index) {
                link.addrs.push(AddrView {
                    addr: ip,
                    prefix_len: m.header.prefix_len,
                    broadcast,
                    scope: m.header.scope.to_string().replace("universe", "global"),
                    label,
                });
            }
        }
        // `ip addr` lists IPv4 before IPv6 for each link.
        for l in &mut links {
            l.addrs.sort_by_key(|a| a.addr.is_ipv6());
        }
        Ok(links)
    }

    /// IPv4 routes of the main table (`ip route`).
    pub async fn routes(&self) -> Result<Vec<RouteView>> {
        let links = self.links().await?;
        let names: HashMap<u32, (String, bool)> = links
            .iter()
            .map(|l| (l.index, (l.name.clone(), l.flags & IFF_LOWER_UP == 0)))
            .collect();
        let filter = rtnetlink::RouteMessageBuilder::<std::net::Ipv4Addr>::new().build();
        let msgs: Vec<_> = self
            .handle
            .route()
            .get(filter)
            .execute()
            .try_collect()
            .await
            .map_err(|e| Error::from(e).context("dumping routes"))?;
        let mut out = Vec::new();
        for m in msgs {
            if m.header.table != 254 || m.header.kind != RouteType::Unicast {
                continue;
            }
            let mut r = RouteView {
                destination: None,
                gateway: None,
                dev: None,
                protocol: protocol_name(m.header.protocol),
                scope: scope_name(m.header.scope),
                prefsrc: None,
                metric: None,
                linkdown: false,
            };
            for a in &m.attributes {
                match a {
                    RouteAttribute::Destination(d) => {
                        r.destination =
                            route_ip(d).map(|ip| (ip, m.header.destination_prefix_length))
                    }
                    RouteAttribute::Gateway(g) => r.gateway = route_ip(g),
                    RouteAttribute::PrefSource(s) => r.prefsrc = route_ip(s),
                    RouteAttribute::Priority(p) => r.metric = Some(*p),
                    RouteAttribute::Oif(i) => {
                        if let Some((n, down)) = names.get(i) {
                            r.dev = Some(n.clone());
                            r.linkdown = *down;
                        }
                    }
                    _ => {}
                }
            }
            out.push(r);
        }
        Ok(out)
    }

    /// Bridges and their ports (`brctl show`).
    pub async fn bridges(&self) -> Result<Vec<BridgeView>> {
        let msgs: Vec<LinkMessage> = self
            .handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| Error::from(e).context("dumping links"))?;
        let mut bridges: Vec<(u32, BridgeView)> = Vec::new();
        for m in &msgs {
            let mut is_bridge = false;
            let mut prio = 0x8000u16;
            let mut stp = false;
            for a in &m.attributes {
                if let LinkAttribute::LinkInfo(infos) = a {
                    for i in infos {
                        match i {
                            LinkInfo::Kind(k) => is_bridge = k.to_string() == "bridge",
                            LinkInfo::Data(InfoData::Bridge(opts)) => {
                                for o in opts {
                                    match o {
                                        InfoBridge::Priority(p) => prio = *p,
                                        InfoBridge::StpState(s) => {
                                            stp = !matches!(
                                            s,
                                            rtnetlink::packet_route::link::BridgeStpState::Disabled
                                        )
                                        }
                                        _ => {}
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            if is_bridge {
                let mac = attr_mac(m).unwrap_or_default().replace(':', "");
                bridges.push((
                    m.header.index,
                    BridgeView {
                        name: link_name(m),
                        bridge_id: format!("{prio:04x}.{mac}"),
                        stp,
                        ports: Vec::new(),
                    },
                ));
            }
        }
        for m in &msgs {
            let master = m.attributes.iter().find_map(|a| match a {
                LinkAttribute::Controller(i) => Some(*i),
                _ => None,
            });
            if let Some(mi) = master
                && let Some((_, b)) = bridges.iter_mut().find(|(i, _)| *i == mi)
            {
                b.ports.push(link_name(m));
            }
        }
        let mut out: Vec<BridgeView> = bridges.into_iter().map(|(_, b)| b).collect();
        for b in &mut out {
            b.ports.sort();
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

fn link_name(m: &LinkMessage) -> String {
    m.attributes
        .iter()
        .find_map(|a| match a {
            LinkAttribute::IfName(n) => Some(n.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn attr_mac(m: &LinkMessage) -> Option<String> {
    m.attributes.iter().find_map(|a| match a {
        LinkAttribute::Address(mac) => Some(format_mac(mac)),
        _ => None,
    })
}

fn link_view(m: &LinkMessage, names: &HashMap<u32, String>) -> LinkView {
    let mut v = LinkView {
        index: m.header.index,
        flags: m.header.flags.bits(),
        link_type: match m.header.link_layer_type {
            LinkLayerType::Ether => "ether".into(),
            LinkLayerType::Loopback => "loopback".into(),
            LinkLayerType::None => "none".into(),
            other => other.to_string().to_lowercase(),
        },
        ..Default::default()
    };
    for a in &m.attributes {
        match a {
            LinkAttribute::IfName(n) => v.name = n.clone(),
            LinkAttribute::Mtu(x) => v.mtu = *x,
            LinkAttribute::Qdisc(q) => v.qdisc = Some(q.clone()),
            LinkAttribute::OperState(s) => v.operstate = s.to_string(),
            LinkAttribute::Controller(i) => v.master = names.get(i).cloned(),
            LinkAttribute::Address(mac) => v.mac = Some(format_mac(mac)),
            LinkAttribute::Broadcast(b) => v.broadcast = Some(format_mac(b)),
            LinkAttribute::Link(i) => v.peer_index = Some(*i),
            LinkAttribute::LinkNetNsId(id) => v.link_netnsid = Some(*id),
            LinkAttribute::TxQueueLen(q) => v.qlen = Some(*q),
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    if let LinkInfo::Kind(k) = i {
                        v.kind = Some(k.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    // IFLA_LINK equal to our own index carries no information (iproute2 skips it),
    // unless it names a link in another namespace: the kernel then sends it anyway (a
    // container's macvlan eth0 and its parent are often both index 2).
    if v.peer_index == Some(v.index) && v.link_netnsid.is_none() {
        v.peer_index = None;
    }
    v
}

fn route_ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn protocol_name(p: RouteProtocol) -> String {
    match p {
        RouteProtocol::Kernel => "kernel".into(),
        RouteProtocol::Boot => "boot".into(),
        RouteProtocol::Static => "static".into(),
        RouteProtocol::Dhcp => "dhcp".into(),
        other => u8::from(other).to_string(),
    }
}

fn scope_name(s: RouteScope) -> String {
    match s {
        RouteScope::Universe => "universe".into(),
        RouteScope::Link => "link".into(),
        RouteScope::Host => "host".into(),
        RouteScope::Site => "site".into(),
        RouteScope::NoWhere => "nowhere".into(),
        other => u8::from(other).to_string(),
    }
}

/// Address family helper kept for IPv6 dumps later.
#[allow(dead_code)]
fn is_inet(f: AddressFamily) -> bool {
    f == AddressFamily::Inet
}

//! The lab as a graph, read from the kernel: every namespace of the lab with its
//! interfaces, the veth and macvlan edges between them, the VXLAN tunnels, the
//! published ports (nat DOCKER DNAT rules) and the containers that share another's
//! namespace. Records only label what the kernel shows; they never decide what exists.

use serde::Serialize;
use std::net::Ipv4Addr;

/// What a namespace plays in the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NsKind {
    /// The LAN's switch and the internet.
    World,
    /// A Docker host.
    Host,
    /// An overlay network's namespace (br0 + vxlan0).
    Overlay,
    /// A container's sandbox.
    Container,
}

/// One interface of a namespace.
#[derive(Debug, Clone, Serialize)]
pub struct Iface {
    /// ifindex.
    pub index: u32,
    /// Name.
    pub name: String,
    /// IFLA_INFO_KIND (`veth`, `bridge`, `vxlan`, `macvlan`).
    pub kind: Option<String>,
    /// The bridge it is a port of.
    pub master: Option<String>,
    /// IPv4 addresses as `a.b.c.d/len`.
    pub addrs: Vec<String>,
    /// IFLA_LINK: a veth's peer index, a macvlan's parent index (`@ifN`).
    pub peer_index: Option<u32>,
    /// Administratively up.
    pub up: bool,
    /// For a bridge: the Docker network it carries (a record's label).
    pub network: Option<String>,
    /// The peer's name when it is in the same namespace (`ip` prints `tpb@tpa` then).
    pub peer_here: Option<String>,
}

/// One namespace of the lab.
#[derive(Debug, Clone, Serialize)]
pub struct Namespace {
    /// Its name under /run/netns.
    pub name: String,
    /// What it plays.
    pub kind: NsKind,
    /// The lab host it belongs to (none for the world).
    pub host: Option<String>,
    /// Short label: the host's, the container's name, or the overlay's id part.
    pub label: String,
    /// For an overlay: vxlan0's VNI.
    pub vni: Option<u32>,
    /// For an overlay: the Docker network's name (a record's label).
    pub network: Option<String>,
    /// Its interfaces, by index (`lo` left out).
    pub interfaces: Vec<Iface>,
}

/// One end of an edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct End {
    /// Namespace name.
    pub ns: String,
    /// Interface name.
    pub ifname: String,
    /// Its ifindex.
    pub index: u32,
}

/// Kinds of link that are a child of a parent interface (IFLA_LINK is the parent's
/// index, in the parent's namespace), not one end of a cable.
pub const SUB_INTERFACES: [&str; 2] = ["macvlan", "ipvlan"];

/// Whether a link kind is a child of a parent interface (macvlan, ipvlan).
pub fn is_sub_interface(kind: &str) -> bool {
    SUB_INTERFACES.contains(&kind)
}

/// A cable between two namespaces (or inside one).
#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    /// `veth`, or `macvlan` / `ipvlan` (a is then the child, b its parent).
    pub kind: String,
    /// One end.
    pub a: End,
    /// The other end.
    pub b: End,
}

/// A VXLAN tunnel: an overlay namespace's vxlan0 sends to a VTEP.
#[derive(Debug, Clone, Serialize)]
pub struct Tunnel {
    /// The overlay namespace.
    pub ns: String,
    /// VNI.
    pub vni: Option<u32>,
    /// The remote VTEP (an FDB `dst`).
    pub dst: Ipv4Addr,
    /// The lab host whose eth0 has that address.
    pub to_host: Option<String>,
}

/// A published port: one nat DOCKER DNAT rule of a host.
#[derive(Debug, Clone, Serialize)]
pub struct Port {
    /// The host's namespace.
    pub ns: String,
    /// `tcp` / `udp`.
    pub proto: String,
    /// Host port (`--dport`).
    pub port: String,
    /// `--to-destination`.
    pub to: String,
    /// The container namespace holding that address, if any.
    pub container_ns: Option<String>,
}

/// A container without a namespace of its own, seen in another's.
#[derive(Debug, Clone, Serialize)]
pub struct Shared {
    /// Container name (from its record).
    pub container: String,
    /// The namespace its process is in (by /proc/PID/ns/net's inode).
    pub ns: String,
    /// `host` or `container`.
    pub mode: String,
}

/// The whole picture.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Topology {
    /// Lab name.
    pub lab: String,
    /// Namespaces: world, then each host followed by its overlays and containers.
    pub nodes: Vec<Namespace>,
    /// veth pairs and macvlan children.
    pub links: Vec<Edge>,
    /// VXLAN tunnels.
    pub tunnels: Vec<Tunnel>,
    /// Published ports.
    pub ports: Vec<Port>,
    /// Joined and host-mode containers.
    pub shared: Vec<Shared>,
}

impl Topology {
    /// The namespace called `name`.
    pub fn node(&self, name: &str) -> Option<&Namespace> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The cable at (ns, index): this end and the far one, and the edge's kind. A
    /// macvlan or ipvlan parent has no cable to its children (they are listed under it):
    /// only the child end of such an edge matches, so the host's eth0 keeps its veth to
    /// the world however many children hang from it.
    pub fn edge_at(&self, ns: &str, index: u32) -> Option<(&End, &End, &str)> {
        self.links.iter().find_map(|e| {
            if e.a.ns == ns && e.a.index == index {
                Some((&e.a, &e.b, e.kind.as_str()))
            } else if !is_sub_interface(&e.kind) && e.b.ns == ns && e.b.index == index {
                Some((&e.b, &e.a, e.kind.as_str()))
            } else {
                None
            }
        })
    }
}

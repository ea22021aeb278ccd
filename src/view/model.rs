//! Plain data gathered from the kernel (netlink dumps, `iptables-save`), handed to the
//! renderers in this module. Keeping the data separate from the netlink code lets the
//! renderers be unit-tested without namespaces.

use std::net::IpAddr;

/// One network interface as `ip link` / `ip addr` would show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkView {
    /// Interface index (`5:` in `ip link`).
    pub index: u32,
    /// Interface name (`veth1a2b3c4`).
    pub name: String,
    /// Raw `IFF_*` flags from `ifi_flags` (UP, BROADCAST, LOOPBACK, LOWER_UP, ...).
    pub flags: u32,
    /// MTU in bytes.
    pub mtu: u32,
    /// Queueing discipline name if the kernel reported one (`noqueue`).
    pub qdisc: Option<String>,
    /// Operational state as `ip` prints it: `UP`, `DOWN`, `UNKNOWN`, `LOWERLAYERDOWN`.
    pub operstate: String,
    /// Name of the bridge this link is enslaved to (`master docker0`).
    pub master: Option<String>,
    /// Link-layer address, `aa:bb:cc:dd:ee:ff`.
    pub mac: Option<String>,
    /// Link-layer broadcast address.
    pub broadcast: Option<String>,
    /// `link/ether`, `link/loopback`, ... (the part after `link/`).
    pub link_type: String,
    /// Kind from IFLA_INFO_KIND: `veth`, `bridge`, `vxlan`, ...
    pub kind: Option<String>,
    /// IFLA_LINK: for a veth, the peer's ifindex (printed as `@ifN`).
    pub peer_index: Option<u32>,
    /// IFLA_LINK_NETNSID: set when the peer lives in another namespace.
    pub link_netnsid: Option<i32>,
    /// The name under /run/netns of that namespace, if it has one (`link-netns NAME`).
    pub link_netns: Option<String>,
    /// Who owns the other end, in lab words (`container web1`, `host`), when known.
    pub peer_owner: Option<String>,
    /// Transmit queue length (`qlen 1000`), if reported.
    pub qlen: Option<u32>,
    /// Addresses on this link (filled for `ip addr` views).
    pub addrs: Vec<AddrView>,
}

/// One address as `ip addr` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrView {
    /// The address itself.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix_len: u8,
    /// IPv4 broadcast (`brd 172.17.255.255`).
    pub broadcast: Option<IpAddr>,
    /// `global`, `host`, `link`.
    pub scope: String,
    /// Label (`eth0`, or `eth0:1`); usually the link name.
    pub label: Option<String>,
}

/// One route as `ip route` shows it (main table only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteView {
    /// Destination prefix; `None` means `default`.
    pub destination: Option<(IpAddr, u8)>,
    /// Next hop (`via 172.17.0.1`).
    pub gateway: Option<IpAddr>,
    /// Output device name (`dev eth0`).
    pub dev: Option<String>,
    /// `kernel`, `static`, `boot`, ... (`proto kernel`); `boot` is omitted by `ip route`.
    pub protocol: String,
    /// `link`, `host`, `universe` (universe is omitted by `ip route`).
    pub scope: String,
    /// Preferred source (`src 172.17.0.2`).
    pub prefsrc: Option<IpAddr>,
    /// Route metric, if set.
    pub metric: Option<u32>,
    /// True when the kernel marks the route `linkdown` (no carrier on dev).
    pub linkdown: bool,
}

/// One bridge and its ports, for the `brctl show` layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeView {
    /// Bridge name (`docker0`).
    pub name: String,
    /// Bridge id as brctl prints it: `8000.0242ac110001` (priority.mac).
    pub bridge_id: String,
    /// Whether STP is enabled.
    pub stp: bool,
    /// Names of attached ports, in the order to print them (sorted by name).
    pub ports: Vec<String>,
}

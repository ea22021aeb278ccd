//! The overlay driver on one host, as Docker's builds it (reference §10): a network
//! namespace of the network's own holding a bridge `br0` with the subnet's gateway and
//! a VXLAN device `vxlan0` whose UDP socket lives in the host's namespace, so the
//! frames between containers on different hosts travel inside UDP packets (port 4789)
//! between the hosts' LAN addresses. Each container gets a veth pair: one end on `br0`
//! in the overlay's namespace, the other its `ethN`, both with the overlay's MTU (1450:
//! the 50 bytes of VXLAN, UDP, IP and Ethernet headers leave room in a 1500-byte LAN
//! frame). Which host has which container is programmed by `overlay::sync_peers`.

use super::{Context, Driver, JoinRequest, SandboxPlan, refuse};
use crate::error::{Error, Result};
use crate::lab::{ContainerRecord, Endpoint, NetworkRecord};
use crate::link::{docker_mac, format_mac, random_docker_mac};
use crate::step::Step;
use crate::util::random_hex;

/// Docker's `overlay` driver.
pub struct OverlayDriver;

/// The bridge inside every overlay namespace.
pub const BRIDGE: &str = "br0";
/// The VXLAN device beside it.
pub const VXLAN: &str = "vxlan0";
/// VXLAN's IANA port, Docker's default data path port.
pub const VXLAN_PORT: u16 = 4789;
/// 1500 less VXLAN's 50 bytes of encapsulation.
pub const DEFAULT_MTU: u32 = 1450;
/// The option naming the network's VNI (`network inspect` shows it).
pub const VNI_OPTION: &str = "com.docker.network.driver.overlay.vxlanid_list";
/// The option setting the MTU.
pub const MTU_OPTION: &str = "com.docker.network.driver.mtu";

/// The network's VNI, from its options.
pub fn vni(net: &NetworkRecord) -> Result<u32> {
    net.options
        .get(VNI_OPTION)
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Error::msg(format!("overlay network {} has no VNI", net.name)))
}

/// The network's MTU (`-o com.docker.network.driver.mtu=N`, default 1450).
pub fn mtu(net: &NetworkRecord) -> u32 {
    net.options
        .get(MTU_OPTION)
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_MTU)
}

/// The overlay's own namespace on the host `ctx` is on: `dn-<lab>[-<host>]-ov-<10 hex>`
/// (Docker's is `/var/run/docker/netns/1-<10 hex of the network id>`).
pub fn namespace(ctx: &Context<'_>, net: &NetworkRecord) -> String {
    format!("{}ov-{}", ctx.lab.host_prefix(), &net.id[..10])
}

impl Driver for OverlayDriver {
    fn name(&self) -> &'static str {
        "overlay"
    }

    fn create_network(&self, ctx: &Context<'_>, net: &NetworkRecord) -> Result<Vec<Step>> {
        let pool = net
            .pool()
            .ok_or_else(|| Error::msg(format!("network {} has no subnet", net.name)))?;
        let vni = vni(net)?;
        let ns = namespace(ctx, net);
        let host = &ctx.rec.host;
        Ok(vec![
            Step::Note {
                text: crate::ui::tr(
                    format!(
                        "overlay network {} on {}: a namespace of its own with a bridge {BRIDGE} holding the gateway {} of {}, and a VXLAN device {VXLAN} (VNI {vni}) that carries its frames in UDP packets to port {VXLAN_PORT} from {} (eth0)",
                        net.name, host.name, pool.gateway, pool.subnet, host.lan
                    ),
                    format!(
                        "overlay 网络 {} 在 {} 上：一个自己的命名空间，里面的网桥 {BRIDGE} 持有网关 {}（子网 {}），VXLAN 设备 {VXLAN}（VNI {vni}）把帧装进 UDP 包，从 {}（eth0）发往对端的 {VXLAN_PORT} 端口",
                        net.name, host.name, pool.gateway, pool.subnet, host.lan
                    ),
                ),
            },
            Step::NetnsAdd { name: ns.clone() },
            Step::LinkUp {
                ns: ns.clone(),
                dev: "lo".into(),
            },
            Step::BridgeAdd {
                ns: ns.clone(),
                name: BRIDGE.into(),
                mac: format_mac(&random_docker_mac()),
            },
            Step::AddrAdd {
                ns: ns.clone(),
                dev: BRIDGE.into(),
                cidr: format!("{}/{}", pool.gateway, pool.subnet.prefix_len()),
            },
            Step::VxlanAdd {
                ns: host.netns.clone(),
                target_ns: ns,
                name: VXLAN.into(),
                vni,
                local: host.lan,
                port: VXLAN_PORT,
                mtu: mtu(net),
                master: BRIDGE.into(),
            },
        ])
    }

    fn sandbox(
        &self,
        _ctx: &Context<'_>,
        c: &ContainerRecord,
        _net: &NetworkRecord,
    ) -> Result<SandboxPlan> {
        Ok(super::bridge::own_sandbox(
            c,
            crate::ui::tr(
                format!("container {}: its own network namespace", c.name),
                format!("容器 {}：有自己的网络命名空间", c.name),
            ),
        ))
    }

    fn join(&self, ctx: &Context<'_>, j: &JoinRequest) -> Result<Endpoint> {
        let net = j.network;
        let c = j.container;
        let pool = net
            .pool()
            .ok_or_else(|| Error::msg(format!("network {} has no subnet", net.name)))?;
        // The addresses of an overlay are the swarm's, not one host's: every host's
        // record of it points at the same allocation (`overlay::share_ipam`).
        let used = ctx.store.ips_in_use(&net.id);
        let ip = super::bridge::endpoint_address(j, pool, &used)?;
        let veth = format!("veth{}", random_hex(7));
        let mac = format_mac(&docker_mac(ip));
        let ovns = namespace(ctx, net);
        let ns = c.netns.clone();
        let ifname = j.ifname.clone();
        let mtu = mtu(net);
        let steps = vec![
            Step::Note {
                text: crate::ui::tr(
                    format!(
                        "a veth pair with the overlay's MTU {mtu}: {veth} joins {BRIDGE} in the overlay's namespace, {ifname} goes into {}",
                        c.name
                    ),
                    format!(
                        "一对 veth，MTU 取 overlay 的 {mtu}：{veth} 接到 overlay 命名空间里的 {BRIDGE}，{ifname} 放进容器 {}",
                        c.name
                    ),
                ),
            },
            Step::VethAdd {
                ns: ovns,
                name: veth.clone(),
                master: Some(BRIDGE.into()),
                peer: ifname.clone(),
                peer_ns: ns.clone(),
                peer_mac: Some(mac.clone()),
                mtu: Some(mtu),
            },
            Step::AddrAdd {
                ns: ns.clone(),
                dev: ifname.clone(),
                cidr: format!("{ip}/{}", pool.subnet.prefix_len()),
            },
            Step::LinkUp {
                ns,
                dev: ifname.clone(),
            },
        ];
        // No default route here: the gateway on br0 leads nowhere. An overlay
        // container goes out through docker_gwbridge (its next endpoint).
        Ok(Endpoint {
            network: net.name.clone(),
            network_id: net.id.clone(),
            endpoint_id: random_hex(64),
            ip,
            prefix_len: pool.subnet.prefix_len(),
            gateway: pool.gateway,
            mac,
            veth,
            ifname,
            bridge: BRIDGE.into(),
            default_route: false,
            steps,
        })
    }
}

/// Docker's refusal of a plain container on an overlay made without `--attachable`
/// (only swarm services may join those).
pub fn check_attachable(net: &NetworkRecord) -> Result<()> {
    if net.driver == "overlay" && !net.attachable {
        return Err(refuse(format!(
            "Could not attach to network {}: rpc error: code = PermissionDenied desc = network {} not manually attachable",
            net.name, net.name
        )));
    }
    Ok(())
}

/// True for an endpoint on an overlay (its veth is in the overlay's namespace, not the
/// host's: no host rule can name it).
pub fn is_overlay_endpoint(e: &Endpoint) -> bool {
    e.bridge == BRIDGE
}

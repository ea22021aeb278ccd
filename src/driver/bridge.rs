//! The bridge driver: a Linux bridge in the lab host holding the network's gateway
//! address, the network's iptables rules, and per endpoint a veth pair whose container
//! end is created directly inside the container's namespace (no move between
//! namespaces: that costs ~20 ms), with Docker's classic MAC (02:42 + the IPv4 bytes).

use super::{Context, Driver, EtcFiles, JoinRequest, Resolv, SandboxPlan, refuse};
use crate::error::{Error, Result};
use crate::firewall::{BridgeRules, endpoint_rules, network_rules};
use crate::lab::{ContainerRecord, Endpoint, NetworkRecord};
use crate::link::{docker_mac, format_mac, random_docker_mac};
use crate::step::Step;
use crate::util::random_hex;

/// Docker's `bridge` driver.
pub struct BridgeDriver;

/// A sandbox of its own: a network namespace with `lo` up (bridge and none modes).
pub(super) fn own_sandbox(c: &ContainerRecord, note: String) -> SandboxPlan {
    let ns = c.netns.clone();
    SandboxPlan {
        steps: vec![
            Step::Note { text: note.clone() },
            Step::NetnsAdd { name: ns.clone() },
            Step::LinkUp {
                ns: ns.clone(),
                dev: "lo".into(),
            },
        ],
        netns_path: crate::netns::path(&ns),
        netns: ns,
        join_uts: None,
        hostname: Some(c.hostname.clone()),
        files: EtcFiles::Own {
            resolv: Resolv::Legacy,
            hosts_override: None,
        },
        note,
    }
}

/// The address an endpoint gets on `j.network`: `--ip` checked as Docker checks it,
/// or the lowest free one, `used` being the addresses taken; Docker's texts when refused
/// (`invalid config for network NAME: ...`, `no available IPv4 addresses ...: NAME (ID)`).
pub(super) fn endpoint_address(
    j: &JoinRequest,
    pool: &crate::ipam::Pool,
    used: &[std::net::Ipv4Addr],
) -> Result<std::net::Ipv4Addr> {
    let net = j.network;
    match j.attachment.ip {
        Some(ip) => crate::ipam::request_static(pool, &ip.to_string(), used)
            .map_err(|e| refuse(format!("invalid config for network {}: {e}", net.name))),
        None => crate::ipam::allocate(pool, used)
            .map_err(|e| refuse(format!("{e}: {} ({})", net.name, &net.id[..12]))),
    }
}

impl Driver for BridgeDriver {
    fn name(&self) -> &'static str {
        "bridge"
    }

    fn create_network(&self, ctx: &Context<'_>, net: &NetworkRecord) -> Result<Vec<Step>> {
        let host = ctx.lab.host_ns();
        let bridge = net
            .bridge
            .clone()
            .ok_or_else(|| Error::msg(format!("network {} has no bridge name", net.name)))?;
        let pool = net
            .pool()
            .ok_or_else(|| Error::msg(format!("network {} has no subnet", net.name)))?;
        let mut steps = vec![
            Step::Note {
                text: crate::ui::tr(
                    format!(
                        "network {}: a Linux bridge {bridge} holding the gateway {} of {}",
                        net.name, pool.gateway, pool.subnet
                    ),
                    format!(
                        "网络 {}：Linux 网桥 {bridge}，网关地址 {}（子网 {}）",
                        net.name, pool.gateway, pool.subnet
                    ),
                ),
            },
            Step::BridgeAdd {
                ns: host.clone(),
                name: bridge.clone(),
                mac: format_mac(&random_docker_mac()),
            },
            Step::AddrAdd {
                ns: host.clone(),
                dev: bridge.clone(),
                cidr: format!("{}/{}", pool.gateway, pool.subnet.prefix_len()),
            },
        ];
        let rules = BridgeRules {
            bridge: bridge.clone(),
            subnet: pool.subnet.to_string(),
            icc: net.icc() && (!net.is_default_bridge() || ctx.rec.icc),
            masquerade: net.masquerade(),
            internal: net.internal,
            userland_proxy: ctx.rec.userland_proxy,
        };
        steps.push(if ctx.rec.firewall_backend.is_nftables() {
            Step::Nft {
                ns: host.clone(),
                ops: crate::firewall::nft::network_ops(&rules),
            }
        } else {
            Step::Firewall {
                ns: host.clone(),
                batch: network_rules(ctx.rec.engine, &rules),
            }
        });
        if !ctx.rec.userland_proxy {
            // Hairpin NAT rewrites 127.0.0.1 sources, which the kernel only routes out
            // of a bridge with route_localnet on.
            steps.push(Step::Sysctl {
                ns: host,
                key: format!("net.ipv4.conf.{bridge}.route_localnet"),
                value: "1".into(),
            });
        }
        Ok(steps)
    }

    fn sandbox(
        &self,
        _ctx: &Context<'_>,
        c: &ContainerRecord,
        _net: &NetworkRecord,
    ) -> Result<SandboxPlan> {
        Ok(own_sandbox(
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
        let bridge = net.bridge.clone().unwrap_or_default();
        let used = ctx.store.ips_in_use(&net.id);
        let ip = endpoint_address(j, pool, &used)?;
        // Host-side names must be unique in the lab host: 7 random hex digits, as Docker.
        let veth = format!("veth{}", random_hex(7));
        let mac = format_mac(&docker_mac(ip));
        let host = ctx.lab.host_ns();
        let ns = c.netns.clone();
        let ifname = j.ifname.clone();
        let mut steps = vec![
            Step::Note {
                text: crate::ui::tr(
                    format!(
                        "a veth pair: {veth} stays on the host and joins {bridge}, {ifname} goes into {}",
                        c.name
                    ),
                    format!(
                        "一对 veth：{veth} 留在宿主机上，接到 {bridge}；{ifname} 放进容器 {}",
                        c.name
                    ),
                ),
            },
            Step::VethAdd {
                ns: host,
                name: veth.clone(),
                master: Some(bridge.clone()),
                peer: ifname.clone(),
                peer_ns: ns.clone(),
                peer_mac: Some(mac.clone()),
                mtu: None,
            },
            Step::AddrAdd {
                ns: ns.clone(),
                dev: ifname.clone(),
                cidr: format!("{ip}/{}", pool.subnet.prefix_len()),
            },
            Step::LinkUp {
                ns: ns.clone(),
                dev: ifname.clone(),
            },
        ];
        if ctx.rec.firewall_backend.is_nftables() {
            let ops = crate::firewall::nft::endpoint_ops(ip, &bridge, net.internal);
            if !ops.is_empty() {
                steps.push(Step::Nft {
                    ns: ctx.lab.host_ns(),
                    ops,
                });
            }
        }
        let raw = endpoint_rules(ctx.rec.engine, ip, &bridge, net.internal);
        if !raw.is_empty() && !ctx.rec.firewall_backend.is_nftables() {
            steps.push(Step::Firewall {
                ns: ctx.lab.host_ns(),
                batch: raw,
            });
        }
        let default_route = j.default_route && !net.internal;
        if default_route {
            steps.push(Step::RouteDefault {
                ns,
                via: pool.gateway,
            });
        }
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
            bridge,
            default_route,
            steps,
        })
    }
}

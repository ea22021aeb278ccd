//! The drivers without interfaces of their own: `host` (the lab host's network),
//! `null` (only `lo`), and the `container:` mode (another container's sandbox).

use super::{Context, Driver, EtcFiles, JoinRequest, SandboxPlan, bridge::own_sandbox, refuse};
use crate::error::{Error, Result};
use crate::lab::{ContainerRecord, Endpoint, NetworkRecord};
use crate::step::Step;
use crate::util::random_hex;
use std::net::Ipv4Addr;

/// Docker's `host` driver.
pub struct HostDriver;
/// Docker's `null` driver (the `none` network).
pub struct NullDriver;
/// `--net container:NAME`: shares NAME's sandbox.
pub struct ContainerDriver;

/// Membership without an interface: what inspect shows for host and none.
fn membership(j: &JoinRequest) -> Endpoint {
    Endpoint {
        network: j.network.name.clone(),
        network_id: j.network.id.clone(),
        endpoint_id: random_hex(64),
        ip: Ipv4Addr::UNSPECIFIED,
        prefix_len: 0,
        gateway: Ipv4Addr::UNSPECIFIED,
        mac: String::new(),
        veth: String::new(),
        ifname: String::new(),
        bridge: String::new(),
        default_route: false,
        steps: Vec::new(),
    }
}

fn predefined_only(net: &NetworkRecord) -> Result<Vec<Step>> {
    if net.predefined {
        Ok(Vec::new())
    } else {
        Err(Error::msg(format!(
            "Error response from daemon: only one instance of \"{}\" network is allowed",
            net.driver
        )))
    }
}

impl Driver for HostDriver {
    fn name(&self) -> &'static str {
        "host"
    }

    fn create_network(&self, _ctx: &Context<'_>, net: &NetworkRecord) -> Result<Vec<Step>> {
        predefined_only(net)
    }

    fn sandbox(
        &self,
        ctx: &Context<'_>,
        c: &ContainerRecord,
        _net: &NetworkRecord,
    ) -> Result<SandboxPlan> {
        let ns = ctx.lab.host_ns();
        Ok(SandboxPlan {
            steps: Vec::new(),
            netns_path: crate::netns::path(&ns),
            note: crate::ui::tr(
                format!(
                    "host mode: no network namespace of its own; {} joins the host's ({ns}) and its hostname",
                    c.name
                ),
                format!(
                    "host 模式：{} 没有自己的网络命名空间，直接用宿主机的（{ns}），主机名也用宿主机的",
                    c.name
                ),
            ),
            netns: ns,
            join_uts: Some(ctx.lab.host_uts_path()),
            hostname: None,
            files: EtcFiles::Own {
                resolv: super::Resolv::HostFile,
                // Host mode copies the host's /etc/hosts.
                hosts_override: Some(format!(
                    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{}\t{}\n",
                    ctx.rec.host.lan, ctx.rec.host.hostname
                )),
            },
        })
    }

    fn join(&self, _ctx: &Context<'_>, j: &JoinRequest) -> Result<Endpoint> {
        Ok(membership(j))
    }
}

impl Driver for NullDriver {
    fn name(&self) -> &'static str {
        "null"
    }

    fn create_network(&self, _ctx: &Context<'_>, net: &NetworkRecord) -> Result<Vec<Step>> {
        predefined_only(net)
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
                format!(
                    "none mode: {} gets a namespace with only lo, and nothing else",
                    c.name
                ),
                format!("none 模式：{} 的网络命名空间里只有 lo，别无其他", c.name),
            ),
        ))
    }

    fn join(&self, _ctx: &Context<'_>, j: &JoinRequest) -> Result<Endpoint> {
        Ok(membership(j))
    }
}

impl ContainerDriver {
    /// The sandbox of the container named `target`, which must be running.
    pub fn sandbox_of(ctx: &Context<'_>, c: &ContainerRecord, target: &str) -> Result<SandboxPlan> {
        let t = super::join_target(&ctx.store, target)?;
        let init = t
            .init
            .ok_or_else(|| refuse(format!("container {} is not running", t.name)))?;
        Ok(SandboxPlan {
            steps: Vec::new(),
            note: crate::ui::tr(
                format!(
                    "container mode: {} joins the network namespace of {} (same interfaces, IP, MAC and ports) and its hostname; PID and mount namespaces stay its own",
                    c.name, t.name
                ),
                format!(
                    "container 模式：{} 加入 {} 的网络命名空间（网卡、IP、MAC 和端口都相同），并使用它的主机名；PID 和挂载命名空间仍是自己的",
                    c.name, t.name
                ),
            ),
            netns: t.netns.clone(),
            netns_path: format!("/proc/{}/ns/net", init.pid).into(),
            join_uts: Some(format!("/proc/{}/ns/uts", init.pid).into()),
            hostname: None,
            files: EtcFiles::Shared {
                dir: ctx.store.container_dir(&t.id),
            },
        })
    }
}

impl Driver for ContainerDriver {
    fn name(&self) -> &'static str {
        "container"
    }

    fn create_network(&self, _ctx: &Context<'_>, _net: &NetworkRecord) -> Result<Vec<Step>> {
        Err(Error::msg(
            "container: is a network mode, not a network driver",
        ))
    }

    fn sandbox(
        &self,
        ctx: &Context<'_>,
        c: &ContainerRecord,
        net: &NetworkRecord,
    ) -> Result<SandboxPlan> {
        ContainerDriver::sandbox_of(ctx, c, &net.name)
    }

    fn join(&self, _ctx: &Context<'_>, _j: &JoinRequest) -> Result<Endpoint> {
        Err(refuse(
            "container sharing network namespace with another container or host cannot be connected to any other network",
        ))
    }
}

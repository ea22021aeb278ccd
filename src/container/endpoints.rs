//! `network connect` and `network disconnect`: one endpoint added to or removed from a
//! container, each with its own steps, so nothing else of the container changes.

use super::{claim_endpoint, publish, rewrite_hosts, unclaim_endpoint};
use crate::driver::{self, refuse};
use crate::error::{Error, Result};
use crate::lab::{
    Attachment, ContainerRecord, ContainerStatus, Daemon, NetworkRecord, PendingKind,
};
use crate::step::{Executor, Step};
use std::net::Ipv4Addr;

/// What `network connect` asks for.
#[derive(Debug, Clone, Default)]
pub struct ConnectSpec {
    /// `--ip`
    pub ip: Option<Ipv4Addr>,
    /// `--alias` values.
    pub aliases: Vec<String>,
}

/// Docker's refusals for connecting `rec` to `net`, before anything changes.
fn check_connect(rec: &ContainerRecord, net: &NetworkRecord, spec: &ConnectSpec) -> Result<()> {
    // moby ≤27 `updateNetworkSettings`: a host-mode container's "host" network is not
    // private, so joining any other network is the shared-namespace conflict.
    if rec.network_mode.starts_with("container:")
        || (rec.network_mode == "host" && net.driver != "host")
    {
        return Err(refuse(
            "container sharing network namespace with another container or host cannot be connected to any other network",
        ));
    }
    if rec.network_mode == "host" || net.driver == "host" {
        return Err(refuse(
            "container cannot be disconnected from host network or connected to host network",
        ));
    }
    if rec.network_mode == "none" || net.driver == "null" {
        return Err(refuse(
            "container cannot be connected to multiple networks with one of the networks in private (none) mode",
        ));
    }
    driver::overlay::check_attachable(net)?;
    if rec.attachments.iter().any(|a| a.network_id == net.id) {
        return Err(refuse(format!(
            "endpoint with name {} already exists in network {}",
            rec.name, net.name
        )));
    }
    if net.predefined && spec.ip.is_some() {
        return Err(refuse(crate::ipam::ERR_IP_ON_PREDEFINED_NETWORK));
    }
    if spec.ip.is_some() && !net.user_subnet {
        return Err(refuse(crate::ipam::ERR_IP_NEEDS_USER_SUBNET));
    }
    if net.predefined && !spec.aliases.is_empty() {
        return Err(refuse(
            "network-scoped alias is supported only for containers in user defined networks",
        ));
    }
    Ok(())
}

/// `network connect NET CONTAINER`: a running container gets a new interface (`eth1`,
/// ...), its address and the network's rules reach it; a stopped one only records the
/// request, which its next start carries out.
pub async fn connect(
    d: &mut Daemon<'_>,
    ex: &mut Executor,
    rec: &mut ContainerRecord,
    net: &NetworkRecord,
    spec: &ConnectSpec,
) -> Result<()> {
    check_connect(rec, net, spec)?;
    let att = Attachment {
        network_id: net.id.clone(),
        network: net.name.clone(),
        ip: spec.ip,
        aliases: spec.aliases.clone(),
    };
    if rec.status != ContainerStatus::Running {
        rec.attachments.push(att);
        return d.store.save_container(ex, rec);
    }
    let ifname = (0..)
        .map(|i| format!("eth{i}"))
        .find(|n| !rec.endpoints.iter().any(|e| &e.ifname == n))
        .expect("an unused name");
    let default_route = !rec.endpoints.iter().any(|e| e.default_route);
    let ep = driver::for_network(net)?.join(
        d,
        &driver::JoinRequest {
            container: rec,
            network: net,
            attachment: &att,
            ifname,
            default_route,
        },
    )?;
    // Write-ahead, as for `run`: a crash from here on is rolled back by the next command.
    d.store
        .pending_add_for(ex, &rec.id, PendingKind::Connect, Some(&net.id))?;
    rec.attachments.push(att);
    rec.endpoints.push(ep.clone());
    d.store.save_container(ex, rec)?;
    claim_endpoint(d, ex, rec, &ep)?;
    let mut result = ex.run_all(&ep.steps).await;
    if result.is_ok() {
        result = embedded_dns_on_connect(d, ex, rec, net).await;
        if result.is_err() {
            let _ = ex.undo(&ep.steps).await;
        }
    }
    if let Err(e) = result {
        unclaim_endpoint(d, ex, rec, &ep)?;
        rec.attachments.retain(|a| a.network_id != net.id);
        rec.endpoints.retain(|e| e.network_id != net.id);
        d.store.save_container(ex, rec)?;
        d.store.pending_done(ex, &rec.id)?;
        return Err(e);
    }
    rewrite_hosts(d, ex, rec)?;
    if net.driver == "overlay" {
        crate::overlay::container_changed(d, ex, &rec.id, std::slice::from_ref(&net.id)).await?;
    }
    d.store.pending_done(ex, &rec.id)
}

/// A container joining its first user-defined network gets the embedded DNS server
/// (its resolv.conf is rewritten in place: it is bind-mounted); one that has it already
/// only tells the server about its new names.
async fn embedded_dns_on_connect(
    d: &mut Daemon<'_>,
    ex: &mut Executor,
    rec: &mut ContainerRecord,
    net: &NetworkRecord,
) -> Result<()> {
    if rec.dns.is_some() || net.predefined || !rec.owns_sandbox() {
        crate::dns::sync(d, ex, &rec.id);
        return Ok(());
    }
    crate::dns::attach(d, ex, rec).await?;
    let host = std::fs::read_to_string(d.lab.host_resolv_conf()).unwrap_or_default();
    let path = d.store.container_dir(&rec.id).join("resolv.conf");
    ex.narrate(&crate::ui::tr(
        format!(
            "# {}'s /etc/resolv.conf now names the embedded DNS server: nameserver 127.0.0.11",
            rec.name
        ),
        format!(
            "# {} 的 /etc/resolv.conf 改为指向内嵌 DNS 服务器：nameserver 127.0.0.11",
            rec.name
        ),
    ));
    ex.write_file(&path, crate::dns::resolv_conf_embedded(&host).as_bytes())?;
    d.store.save_container(ex, rec)
}

/// Undo a connect that a dead process left half-done.
pub(super) async fn rollback_connect(
    d: &mut Daemon<'_>,
    ex: &mut Executor,
    rec: &mut ContainerRecord,
    network: Option<&str>,
) -> Result<()> {
    let Some(net_id) = network else {
        return Ok(());
    };
    if let Some(ep) = rec
        .endpoints
        .iter()
        .find(|e| e.network_id == net_id)
        .cloned()
    {
        let cleanup = ex.undo(&ep.steps).await;
        unclaim_endpoint(d, ex, rec, &ep)?;
        if let Some(e) = cleanup.into_iter().next() {
            eprintln!(
                "{}",
                crate::ui::tr(
                    format!(
                        "dockernet: rolling back an interrupted connect of {}: {e}",
                        rec.name
                    ),
                    format!("dockernet：回滚 {} 被中断的 connect：{e}", rec.name),
                )
            );
        }
    }
    rec.endpoints.retain(|e| e.network_id != net_id);
    rec.attachments.retain(|a| a.network_id != net_id);
    d.store.save_container(ex, rec)?;
    crate::dns::sync(d, ex, &rec.id);
    rewrite_hosts(d, ex, rec)
}

/// `network disconnect NET CONTAINER`: exactly that interface and its rules go. If it
/// carried the default route, the next network the container is on takes it over.
pub async fn disconnect(
    d: &mut Daemon<'_>,
    ex: &mut Executor,
    rec: &mut ContainerRecord,
    net: &NetworkRecord,
) -> Result<()> {
    if rec.network_mode == "host" || net.driver == "host" {
        return Err(refuse(
            "container cannot be disconnected from host network or connected to host network",
        ));
    }
    let running = rec.status == ContainerStatus::Running;
    if !rec.attachments.iter().any(|a| a.network_id == net.id) {
        return Err(refuse(if running {
            format!(
                "container {} is not connected to network {}",
                rec.id, net.name
            )
        } else {
            format!(
                "container {} is not connected to the network {}",
                rec.id, net.name
            )
        }));
    }
    rec.attachments.retain(|a| a.network_id != net.id);
    let Some(ep) = rec.endpoint(&net.id).cloned() else {
        return d.store.save_container(ex, rec);
    };
    let publishing = rec
        .endpoints
        .iter()
        .find(|e| e.has_interface())
        .map(|e| e.endpoint_id.clone());
    if publishing.as_deref() == Some(ep.endpoint_id.as_str()) && !rec.ports.is_empty() {
        // Its published ports led to this interface: they go with it.
        publish::stop_proxies(ex, &std::mem::take(&mut rec.proxies));
        rec.ports.clear();
        if d.rec.ports.iter().any(|p| p.container == rec.id) {
            d.rec.ports.retain(|p| p.container != rec.id);
            d.store.save_lab(ex, &d.rec)?;
        }
    }
    let errors = ex.undo(&ep.steps).await;
    unclaim_endpoint(d, ex, rec, &ep)?;
    rec.endpoints.retain(|e| e.network_id != net.id);
    if ep.default_route {
        let mut next = None;
        for (i, e) in rec.endpoints.iter().enumerate() {
            let internal = d.store.network(&e.network_id)?.is_some_and(|n| n.internal);
            if e.has_interface() && !internal && !driver::overlay::is_overlay_endpoint(e) {
                next = Some(i);
                break;
            }
        }
        if let Some(i) = next {
            let step = Step::RouteDefault {
                ns: rec.netns.clone(),
                via: rec.endpoints[i].gateway,
            };
            ex.run(&step).await?;
            rec.endpoints[i].steps.push(step);
            rec.endpoints[i].default_route = true;
        }
    }
    d.store.save_container(ex, rec)?;
    crate::dns::sync(d, ex, &rec.id);
    rewrite_hosts(d, ex, rec)?;
    if net.driver == "overlay" {
        crate::overlay::container_changed(d, ex, &rec.id, std::slice::from_ref(&net.id)).await?;
    }
    Error::all(
        format!("disconnecting {} from {}", rec.name, net.name),
        errors,
    )
}

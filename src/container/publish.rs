//! A container's published ports: host ports chosen, rules added to its steps, and one
//! userland proxy per binding started (and stopped) around its process.

use super::Daemon;
use crate::error::{Error, Result};
use crate::lab::{ContainerRecord, Endpoint, Lab};
use crate::ports::{self, PortBinding};
use crate::step::{Executor, Step};
use crate::util::ProcRef;
use std::time::Duration;

/// The endpoint published ports lead to: the container's first real interface.
fn publishing_endpoint(rec: &ContainerRecord) -> Option<&Endpoint> {
    rec.endpoints.iter().find(|e| e.has_interface())
}

/// The ports `-p` and `-P` ask for: `-P` publishes every exposed port on a random port.
pub fn requested(
    rec: &ContainerRecord,
    publish: &[String],
    publish_all: bool,
) -> Result<Vec<ports::Publish>> {
    let mut out = Vec::new();
    for spec in publish {
        out.extend(ports::parse_publish(spec)?);
    }
    if publish_all {
        for e in &rec.exposed {
            let (port, proto) = e.split_once('/').unwrap_or((e, "tcp"));
            let port: u16 = port
                .parse()
                .map_err(|_| Error::msg(format!("bad exposed port {e}")))?;
            if !out
                .iter()
                .any(|p| p.container_port == port && p.proto == proto)
            {
                out.push(ports::Publish {
                    host_ip: String::new(),
                    host_port: None,
                    host_range: None,
                    container_port: port,
                    proto: proto.to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// The lab host's ephemeral port range (where random host ports come from).
fn ephemeral_range(lab: &Lab) -> (u16, u16) {
    crate::netns::sysctl_get(
        &crate::netns::path(&lab.host_ns()),
        "net.ipv4.ip_local_port_range",
    )
    .ok()
    .and_then(|s| {
        let mut it = s.split_whitespace().filter_map(|x| x.parse().ok());
        Some((it.next()?, it.next()?))
    })
    .unwrap_or((49153, 65535))
}

/// Choose host ports for a bridge container and the rules that forward them.
pub fn plan(d: &Daemon, rec: &ContainerRecord) -> Result<(Vec<PortBinding>, Vec<Step>)> {
    let lab = d.lab;
    let Some(ep) = publishing_endpoint(rec) else {
        return Ok((Vec::new(), Vec::new()));
    };
    if rec.port_specs.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    // The daemon's port allocator: what running containers hold (their claims).
    let taken: Vec<PortBinding> = d
        .rec
        .ports
        .iter()
        .filter(|c| c.container != rec.id)
        .map(|c| c.binding.clone())
        .collect();
    let bindings = ports::allocate(&rec.port_specs, &taken, ephemeral_range(lab)).map_err(|e| {
        e.context(format!(
            "Error response from daemon: driver failed programming external connectivity on endpoint {} ({})",
            rec.name, ep.endpoint_id
        ))
    })?;
    let mut batch = crate::firewall::Batch::default();
    for b in &bindings {
        batch.ops.extend(crate::firewall::port_rules(
            d.rec.engine,
            b,
            ep.ip,
            &ep.bridge,
            d.rec.userland_proxy,
        ));
    }
    let mut steps = vec![Step::Firewall {
        ns: lab.host_ns(),
        batch,
    }];
    if d.rec.firewall_backend.is_nftables() {
        let ops = bindings
            .iter()
            .flat_map(|b| {
                crate::firewall::nft::port_ops(b, ep.ip, &ep.bridge, d.rec.userland_proxy)
            })
            .collect();
        steps = vec![Step::Nft {
            ns: lab.host_ns(),
            ops,
        }];
    }
    if !d.rec.userland_proxy {
        // Without the proxy, a container reaching its own published port through the
        // host address comes back out of the same bridge port.
        steps.push(Step::Hairpin {
            ns: lab.host_ns(),
            dev: ep.veth.clone(),
        });
    }
    Ok((bindings, steps))
}

/// Start one proxy per binding (when the lab uses the userland proxy) without waiting
/// for them, so their start-up overlaps the network steps.
pub fn launch_proxies(d: &Daemon, rec: &ContainerRecord) -> Result<Vec<ports::PendingProxy>> {
    let lab = d.lab;
    let Some(ep) = publishing_endpoint(rec).filter(|_| d.rec.userland_proxy) else {
        return Ok(Vec::new());
    };
    let mut pending = Vec::new();
    for b in &rec.ports {
        let log = lab
            .container_dir(&rec.id)
            .join(format!("proxy-{}-{}.log", b.proto, b.host_port));
        let host_ns = crate::netns::path(&lab.host_ns());
        match ports::start_proxy(
            &d.lab.dir(),
            &host_ns,
            d.rec.host_init.as_ref(),
            b,
            ep.ip,
            &log,
        ) {
            Ok(p) => pending.push(p),
            Err(e) => {
                pending.into_iter().for_each(ports::PendingProxy::abandon);
                return Err(e);
            }
        }
    }
    Ok(pending)
}

/// Narrate the proxies and wait until each listens; on failure stop them all.
pub fn await_proxies(
    d: &Daemon,
    rec: &ContainerRecord,
    pending: Vec<ports::PendingProxy>,
    exec: &mut Executor,
) -> Result<Vec<ProcRef>> {
    let lab = d.lab;
    let Some(ep) = publishing_endpoint(rec).filter(|_| d.rec.userland_proxy) else {
        return Ok(Vec::new());
    };
    for b in &rec.ports {
        exec.narrate(&format!(
            "ip netns exec {} docker-proxy {} &",
            lab.host_ns(),
            ports::proxy_args(b, ep.ip).join(" ")
        ));
    }
    let mut started = Vec::new();
    let mut failure = None;
    for p in pending {
        if failure.is_some() {
            p.abandon();
            continue;
        }
        match p.ready() {
            Ok(p) => started.push(p),
            Err(e) => failure = Some(e),
        }
    }
    match failure {
        None => Ok(started),
        Some(e) => {
            stop_proxies(exec, &started);
            Err(e.context(format!(
                "Error response from daemon: driver failed programming external connectivity on endpoint {} ({})",
                rec.name, ep.endpoint_id
            )))
        }
    }
}

/// Stop proxies (SIGTERM, as Docker stops docker-proxy) and wait until they are gone.
pub fn stop_proxies(exec: &Executor, proxies: &[ProcRef]) {
    let left = exec.signal(proxies, libc::SIGTERM, Duration::from_secs(2));
    exec.signal(&left, libc::SIGKILL, Duration::from_secs(1));
}

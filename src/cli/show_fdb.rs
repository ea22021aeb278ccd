//! `show fdb`: each overlay's VXLAN tables on one host, as `bridge fdb show dev vxlan0`
//! and `ip neigh show dev vxlan0` print them, read from the kernel, each entry named by
//! the container and host it leads to.

use crate::driver::overlay::{VXLAN, namespace, vni};
use crate::error::Result;
use crate::lab::Daemon;
use crate::link::{Netlink, format_mac};
use std::fmt::Write;

/// `show fdb [--network NET] [--raw]`: the text to print.
pub async fn render(d: &Daemon<'_>, network: Option<&str>, raw: bool) -> Result<String> {
    let nets: Vec<_> = match network {
        Some(n) => vec![d.store.find_network(n)?],
        None => d
            .store
            .networks()?
            .into_iter()
            .filter(|n| n.driver == "overlay")
            .collect(),
    };
    let owners = owners(d);
    let mut out = String::new();
    if nets.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            crate::ui::tr(
                format!(
                    "# no overlay network on {}: `network create -d overlay --attachable NAME` makes one",
                    d.lab.host
                ),
                format!(
                    "# {} 上没有 overlay 网络：`network create -d overlay --attachable NAME` 可以建一个",
                    d.lab.host
                ),
            )
        );
        return Ok(out);
    }
    for net in nets {
        if net.driver != "overlay" {
            return Err(crate::error::Error::msg(crate::ui::tr(
                format!(
                    "network {} is a {} network: only overlay networks have a VXLAN forwarding table",
                    net.name, net.driver
                ),
                format!(
                    "网络 {} 用的是 {} 驱动：只有 overlay 网络才有 VXLAN 转发表",
                    net.name, net.driver
                ),
            )));
        }
        let ns = namespace(d, &net);
        let nl = Netlink::open(&crate::netns::path(&ns))?;
        let peers = nl.peers(VXLAN).await;
        let fdb = match nl.index_of(VXLAN).await {
            Ok(Some(i)) => nl.fdb(i).await,
            Ok(None) => Ok(Vec::new()),
            Err(e) => Err(e),
        };
        nl.close().await;
        let (peers, fdb) = (peers?, fdb?);
        if !raw {
            let _ = writeln!(
                out,
                "{}",
                crate::ui::tr(
                    format!(
                        "# overlay {} (VNI {}) on {}: ip netns exec {ns} bridge fdb show dev {VXLAN}",
                        net.name,
                        vni(&net).unwrap_or_default(),
                        d.lab.host
                    ),
                    format!(
                        "# {} 上的 overlay {}（VNI {}）：ip netns exec {ns} bridge fdb show dev {VXLAN}",
                        d.lab.host,
                        net.name,
                        vni(&net).unwrap_or_default()
                    ),
                )
            );
        }
        for e in &fdb {
            let mac = format_mac(&e.mac);
            // iproute2 ends a line with the state after a space, also an empty one.
            let state = if e.permanent { "permanent" } else { "" };
            let line = match e.dst {
                Some(dst) => format!("{mac} dst {dst} link-netnsid 0 self {state}"),
                // The overlay namespace has one bridge: br0.
                None => format!("{mac} master {} {state}", crate::driver::overlay::BRIDGE),
            };
            let note = owners
                .iter()
                .find(|(m, _)| *m == mac)
                .map(|(_, who)| who.as_str());
            match note {
                Some(who) if !raw => {
                    let _ = writeln!(out, "{}  # {who}", line.trim_end());
                }
                _ => {
                    let _ = writeln!(out, "{line}");
                }
            }
        }
        if !raw {
            let _ = writeln!(out, "# ip netns exec {ns} ip neigh show dev {VXLAN}");
            for p in &peers {
                let _ = writeln!(out, "{} lladdr {} PERMANENT", p.ip, format_mac(&p.mac));
            }
        }
    }
    Ok(out)
}

/// Every overlay container of the lab by MAC: "web2 on host2".
fn owners(d: &Daemon<'_>) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for (h, _) in crate::overlay::up_hosts(d.lab) {
        for c in h.store().containers().unwrap_or_default() {
            for e in c
                .endpoints
                .iter()
                .filter(|e| crate::driver::overlay::is_overlay_endpoint(e))
            {
                v.push((
                    e.mac.clone(),
                    crate::ui::tr(
                        format!("{} on {}", c.name, h.host),
                        format!("{} 上的 {}", h.host, c.name),
                    ),
                ));
            }
        }
    }
    v
}

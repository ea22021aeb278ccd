//! `show`: live kernel state of a lab namespace, laid out like `ip`, `brctl` and
//! `iptables`, with veth peers named by their owner.

use super::read_lab;
use crate::error::{Error, Result};
use crate::lab::{ContainerRecord, Lab};
use crate::link::Netlink;
use crate::step::Mode;
use clap::{Args, Subcommand};

/// `show` subcommands.
#[derive(Debug, Subcommand)]
pub enum ShowCommand {
    /// Links, like `ip link` (veths as vethX@ifN, with the peer's owner).
    Links(OnArgs),
    /// Addresses, like `ip addr`.
    Addr(OnArgs),
    /// Routes, like `ip route`.
    Routes(OnArgs),
    /// Bridges and their ports, like `brctl show`.
    Bridges(OnArgs),
    /// iptables rules with counters, like `iptables -vnL`.
    Rules(RulesArgs),
    /// Each overlay's VXLAN forwarding table, like `bridge fdb show dev vxlan0`.
    Fdb(FdbArgs),
    /// The lab as a picture read from the kernel: hosts, bridges, veth pairs, containers.
    Topology(crate::topology::TopologyArgs),
}

/// `show fdb` options.
#[derive(Debug, Args)]
pub struct FdbArgs {
    /// Only this overlay network (default: every overlay on the host).
    #[arg(long)]
    pub network: Option<String>,
    /// Print exactly what `bridge fdb show dev vxlan0` prints (no owners, no neighbours).
    #[arg(long)]
    pub raw: bool,
}

/// Where to look.
#[derive(Debug, Args)]
pub struct OnArgs {
    /// `host` (default), `world`, or a container name or ID.
    #[arg(long, default_value = "host")]
    pub on: String,
    /// Print exactly what the real tool prints (no peer annotations).
    #[arg(long)]
    pub raw: bool,
}

/// `show rules` options.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// `host` (default), `world`, or a container name or ID.
    #[arg(long, default_value = "host")]
    pub on: String,
    /// Only this table (`filter`, `nat`, ...).
    #[arg(long)]
    pub table: Option<String>,
}

/// Resolve `--on` to a namespace name.
fn namespace(lab: &Lab, store: &crate::lab::Store, on: &str) -> Result<String> {
    match on {
        "host" => Ok(lab.host_ns()),
        "world" => Ok(lab.world_ns()),
        other => {
            let c = store.find_container(other)?;
            if c.status != crate::lab::ContainerStatus::Running {
                return Err(Error::msg(crate::ui::tr(
                    format!(
                        "container {} is not running: it has no network namespace now",
                        c.name
                    ),
                    format!("容器 {} 没有在运行：它现在没有网络命名空间", c.name),
                )));
            }
            Ok(c.netns.clone())
        }
    }
}

/// Who owns the far end of a veth, in lab words.
fn peer_owner(lab: &Lab, containers: &[ContainerRecord], ns: &str, link: &str) -> Option<String> {
    if ns == lab.host_ns() {
        if link == "eth0" {
            let port = format!("lan-{}", lab.host);
            return Some(crate::ui::tr(
                format!("world ({port} on lan0)"),
                format!("外部世界（lan0 上的 {port}）"),
            ));
        }
        return containers.iter().find_map(|c| {
            c.endpoints.iter().find(|e| e.veth == link).map(|e| {
                crate::ui::tr(
                    format!("container {} ({})", c.name, e.ifname),
                    format!("容器 {}（{}）", c.name, e.ifname),
                )
            })
        });
    }
    if ns == lab.world_ns() {
        let host = link.strip_prefix("lan-")?;
        return Some(if host == crate::lab::FIRST_HOST {
            crate::ui::tr("host (eth0)", "宿主机（eth0）")
        } else {
            crate::ui::tr(
                format!("host {host} (eth0)"),
                format!("宿主机 {host}（eth0）"),
            )
        });
    }
    containers
        .iter()
        .find(|c| c.netns == ns && c.owns_sandbox())
        .and_then(|c| c.endpoints.iter().find(|e| e.ifname == link))
        .map(|e| {
            crate::ui::tr(
                format!("host ({} on {})", e.veth, e.bridge),
                format!("宿主机（{} 上的 {}）", e.bridge, e.veth),
            )
        })
}

/// `show ...`
/// `host_given`: `--host` / `-H` / DOCKERNET_HOST was given (the topology then shows
/// that host only).
pub async fn show(lab: &Lab, mode: Mode, c: ShowCommand, host_given: bool) -> Result<i32> {
    let d = read_lab(lab, mode).await?;
    let st = &d.store;
    let text = match c {
        ShowCommand::Rules(a) => {
            let ns = namespace(lab, st, &a.on)?;
            // Under the nftables backend Docker's rules are the host's table
            // `ip docker-bridges`, which iptables cannot show: the whole ruleset, as nft
            // prints it (a container's own DNS rules stay iptables, below).
            if ns == lab.host_ns() && a.table.is_none() && d.rec.firewall_backend.is_nftables() {
                print!(
                    "{}",
                    crate::firewall::nft::run(&crate::netns::path(&ns), &["list", "ruleset"])?
                );
                return Ok(0);
            }
            let saved = crate::firewall::save(&crate::netns::path(&ns))?;
            let tables = crate::view::parse_iptables_save(&saved).map_err(Error::msg)?;
            if let Some(t) = &a.table
                && !tables.iter().any(|x| &x.name == t)
            {
                return Err(Error::msg(crate::ui::tr(
                    format!("table {t} has no rules in {ns} (tables: filter, nat, mangle, raw)"),
                    format!("{ns} 中的 {t} 表没有规则（表有 filter、nat、mangle、raw）"),
                )));
            }
            crate::view::render_all_vnl(&tables, a.table.as_deref())
        }
        ShowCommand::Links(a) => ip_view(lab, st, IpView::Links, &a).await?,
        ShowCommand::Addr(a) => ip_view(lab, st, IpView::Addr, &a).await?,
        ShowCommand::Routes(a) => ip_view(lab, st, IpView::Routes, &a).await?,
        ShowCommand::Bridges(a) => ip_view(lab, st, IpView::Bridges, &a).await?,
        ShowCommand::Fdb(a) => super::show_fdb::render(&d, a.network.as_deref(), a.raw).await?,
        ShowCommand::Topology(a) => crate::topology::show(lab, mode, &a, host_given).await?,
    };
    print!("{text}");
    Ok(0)
}

/// The four netlink-backed views.
enum IpView {
    Links,
    Addr,
    Routes,
    Bridges,
}

async fn ip_view(lab: &Lab, st: &crate::lab::Store, view: IpView, a: &OnArgs) -> Result<String> {
    let ns = namespace(lab, st, &a.on)?;
    let nl = Netlink::open(&crate::netns::path(&ns))?;
    let text = async {
        Ok::<String, Error>(match view {
            IpView::Links => {
                let mut links = nl.links().await?;
                let containers = st.containers()?;
                for l in &mut links {
                    if l.kind.as_deref() == Some("veth") {
                        l.peer_owner = peer_owner(lab, &containers, &ns, &l.name);
                    }
                }
                crate::view::render_links_annotated(&links, !a.raw)
            }
            IpView::Addr => crate::view::render_addrs(&nl.links_with_addresses().await?),
            IpView::Routes => crate::view::render_routes(&nl.routes().await?),
            IpView::Bridges => crate::view::render_bridges(&nl.bridges().await?),
        })
    }
    .await;
    nl.close().await;
    text
}

//! `dns CONTAINER`: what the embedded DNS server answers that container — every name in
//! its scope with its address and network — and where the rest of its queries go.

use super::{Format, read_lab};
use crate::dns::control::Request;
use crate::error::{Error, Result};
use crate::lab::{ContainerStatus, Lab};
use crate::step::Mode;
use clap::Args;

/// `dns` flags.
#[derive(Debug, Args)]
pub struct DnsArgs {
    /// Container name or ID.
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::containers))]
    pub container: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `dns CONTAINER`
pub async fn dns(lab: &Lab, mode: Mode, a: DnsArgs) -> Result<i32> {
    let d = read_lab(lab, mode).await?;
    let c = d.store.find_container(&a.container)?;
    if c.status != ContainerStatus::Running {
        return Err(Error::msg(crate::ui::tr(
            format!(
                "container {} is not running: its DNS server answers only while it runs",
                c.name
            ),
            format!(
                "容器 {} 没有在运行：它的 DNS 服务器只在容器运行时应答",
                c.name
            ),
        )));
    }
    // A `container:` sandbox asks through the sandbox's owner.
    let owner = match c.network_mode.strip_prefix("container:") {
        Some(id) => d.store.container(id)?.unwrap_or(c.clone()),
        None => c.clone(),
    };
    let Some(ports) = owner.dns else {
        let resolv = std::fs::read_to_string(d.store.container_dir(&owner.id).join("resolv.conf"))
            .unwrap_or_default();
        let servers: Vec<&str> = resolv
            .lines()
            .filter_map(|l| l.trim().strip_prefix("nameserver"))
            .map(str::trim)
            .collect();
        if a.format == Format::Json {
            let v = serde_json::json!({"container": c.name, "embedded": false, "nameservers": servers, "names": []});
            println!(
                "{}",
                serde_json::to_string_pretty(&v).map_err(|e| Error::msg(e.to_string()))?
            );
        } else {
            println!(
                "{}",
                crate::ui::tr(
                    format!(
                        "{} has no embedded DNS server (it is on no user-defined network): its /etc/resolv.conf names {}, which knows the internet's names but no container's",
                        c.name,
                        servers.join(", ")
                    ),
                    format!(
                        "{} 没有内嵌 DNS 服务器（它不在任何自定义网络上）：/etc/resolv.conf 里的 nameserver 是 {}，它只认识互联网上的域名，不认识任何容器",
                        c.name,
                        servers.join("、")
                    ),
                )
            );
        }
        return Ok(0);
    };
    let reply = crate::dns::ask(
        lab,
        &Request::Names {
            id: owner.id.clone(),
        },
    )?;
    let status = crate::dns::ask(lab, &Request::Status)?;
    let upstream = status.upstream.unwrap_or_else(|| "none".into());
    if a.format == Format::Json {
        let v = serde_json::json!({
            "container": c.name,
            "embedded": true,
            "listen": {"udp": format!("127.0.0.11:{}", ports.udp), "tcp": format!("127.0.0.11:{}", ports.tcp)},
            "upstream": upstream,
            "names": reply.names,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| Error::msg(e.to_string()))?
        );
        return Ok(0);
    }
    println!(
        "{}",
        crate::ui::tr(
            format!(
                "{}: nameserver 127.0.0.11 → {} in {}, 127.0.0.11:{}/udp and :{}/tcp; other names go to {upstream}",
                c.name,
                crate::dns::PROCESS_NAME,
                owner.netns,
                ports.udp,
                ports.tcp
            ),
            format!(
                "{}：nameserver 127.0.0.11 → {} 在 {} 里监听 127.0.0.11:{}/udp 和 :{}/tcp；其余域名转发给 {upstream}",
                c.name,
                crate::dns::PROCESS_NAME,
                owner.netns,
                ports.udp,
                ports.tcp
            ),
        )
    );
    let rows: Vec<Vec<String>> = reply
        .names
        .iter()
        .map(|n| vec![n.name.clone(), n.ip.to_string(), n.network.clone()])
        .collect();
    print!(
        "{}",
        crate::docker::render_table(&["NAME", "ADDRESS", "NETWORK"], &rows)
    );
    if let Some(n) = reply.names.iter().find(|n| n.network != "link") {
        println!(
            "{}",
            crate::ui::tr(
                format!(
                    "(each name also answers as NAME.NETWORK, e.g. {}.{})",
                    n.name, n.network
                ),
                format!(
                    "（每个名字也可以写成 名字.网络名，例如 {}.{}）",
                    n.name, n.network
                ),
            )
        );
    }
    Ok(0)
}

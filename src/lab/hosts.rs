//! The lab's Docker hosts. Every lab has a first host ([`super::FIRST_HOST`], built
//! with the lab); `lab host add NAME` puts another on the LAN, with its own namespace,
//! hostname, daemon (`docker0`, iptables chains, proxies, embedded DNS), PID namespace
//! and containers. Each host keeps its records in its own directory (`hosts/<name>/`,
//! in the lab's memory), laid out like the first host's, so a [`Lab`] seen from a host
//! ([`Lab::on_host`]) finds everything of that host and nothing of another.

use super::{Lab, LabHost, LabRecord, LabStatus};
use crate::error::{Error, Result};
use crate::netns;
use crate::step::Executor;
use std::net::Ipv4Addr;

/// Where the added hosts' directories are, under the lab's root (a link into its memory).
pub const DIR: &str = "hosts";
/// Longest host name: its LAN port on the world's switch is `lan-<name>`, and a link
/// name has at most 15 bytes.
pub const NAME_MAX: usize = 11;

/// Refuse a host name that cannot name a namespace and a link: 1-11 lowercase letters
/// or digits, starting with a letter; `world` is the world's.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= NAME_MAX
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name != "world"
        && name != "ctr";
    if ok {
        Ok(())
    } else {
        Err(Error::with_code(
            crate::ui::tr(
                format!(
                    "invalid host name {name:?}: use 1-{NAME_MAX} lowercase letters or digits, starting with a letter (not \"world\"), e.g. host2"
                ),
                format!(
                    "宿主机名称 {name:?} 无效：请用 1-{NAME_MAX} 个小写字母或数字，以字母开头（不能是 \"world\"），例如 host2"
                ),
            ),
            2,
        ))
    }
}

/// The hosts added to the lab (not the first), by name.
pub fn added(lab: &Lab) -> Vec<Lab> {
    let mut names: Vec<String> = std::fs::read_dir(lab.root().join(DIR))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| check_name(n).is_ok())
        .collect();
    names.sort();
    names.iter().filter_map(|n| lab.on_host(n).ok()).collect()
}

/// Every host of the lab, the first one first.
pub fn all(lab: &Lab) -> Vec<Lab> {
    std::iter::once(lab.first_host())
        .chain(added(lab))
        .collect()
}

/// Every host of the lab with its record (`None` when it cannot be read), ordered by
/// their LAN addresses.
pub fn records(lab: &Lab) -> Vec<(Lab, Option<LabRecord>)> {
    let mut v: Vec<(Lab, Option<LabRecord>)> = all(lab)
        .into_iter()
        .map(|h| {
            let r = h.store().lab().ok().flatten();
            (h, r)
        })
        .collect();
    v.sort_by_key(|(h, r)| (!h.is_first_host(), r.as_ref().map(|r| r.host.lan)));
    v
}

/// The error for `--host NAME` when the lab has no such host.
pub fn no_such_host(lab: &Lab) -> Error {
    let hosts: Vec<String> = all(lab).into_iter().map(|h| h.host).collect();
    Error::msg(crate::ui::tr(
        format!(
            "lab {} has no host {:?} (its hosts: {}): add it with `dockernet --lab {} lab host add {}`",
            lab.name,
            lab.host,
            hosts.join(", "),
            lab.name,
            lab.host
        ),
        format!(
            "实验环境 {} 里没有宿主机 {:?}（现有：{}）：请用 `dockernet --lab {} lab host add {}` 添加",
            lab.name,
            lab.host,
            hosts.join("、"),
            lab.name,
            lab.host
        ),
    ))
}

/// The lowest LAN address no host holds (198.51.100.2 is the first host's, .1 the
/// world's switch).
fn next_lan(lab: &Lab) -> Result<Ipv4Addr> {
    let taken: Vec<Ipv4Addr> = records(lab)
        .into_iter()
        .filter_map(|(_, r)| r.map(|r| r.host.lan))
        .collect();
    (2..=254u8)
        .map(|d| Ipv4Addr::new(198, 51, 100, d))
        .find(|a| !taken.contains(a))
        .ok_or_else(|| {
            Error::msg(crate::ui::tr(
                "the lab's LAN (198.51.100.0/24) has no free address for another host",
                "实验环境的局域网（198.51.100.0/24）没有空闲地址给新的宿主机了",
            ))
        })
}

/// `lab host add NAME`: build another Docker host on the LAN. The caller holds the lab
/// lock and has made sure the lab (its first host) is up; `host` is the new host's view.
pub async fn add(host: &Lab, exec: &mut Executor, first: &LabRecord) -> Result<LabRecord> {
    if host.is_first_host() || host.dir().exists() || netns::exists(&host.host_ns()) {
        return Err(Error::msg(crate::ui::tr(
            format!(
                "lab {} already has a host {}: pick another name, or remove it with `lab host rm {}`",
                host.name, host.host, host.host
            ),
            format!(
                "实验环境 {} 已有宿主机 {}：请换个名字，或先用 `lab host rm {}` 删除它",
                host.name, host.host, host.host
            ),
        )));
    }
    let lan = next_lan(host)?;
    let info = LabHost {
        name: host.host.clone(),
        hostname: host.host.clone(),
        netns: host.host_ns(),
        lan,
        lan_port: format!("lan-{}", host.host),
    };
    let opts = super::LabUpOptions {
        userland_proxy: first.userland_proxy,
        icc: first.icc,
        engine: first.engine,
        firewall_backend: first.firewall_backend,
    };
    let rec = super::lifecycle::build(host, exec, &opts, info).await?;
    Ok(rec)
}

/// A host other than the first, up and healthy: rebuilt from its record (same name and
/// address) when it was left half-built or damaged.
pub async fn ensure_up(host: &Lab, exec: &mut Executor, first: &LabRecord) -> Result<LabRecord> {
    let rec = match host.store().lab() {
        Ok(Some(r)) => r,
        Ok(None) if !host.dir().exists() && !netns::exists(&host.host_ns()) => {
            return Err(no_such_host(host));
        }
        // Left by a crash before its first record, or unreadable: removed by name.
        _ => {
            super::teardown::teardown(host, exec).await?;
            return Err(no_such_host(host));
        }
    };
    let healthy = rec.status == LabStatus::Up
        && rec.host_init.is_none_or(|p| p.alive())
        && netns::exists(&host.host_ns());
    if healthy {
        return Ok(rec);
    }
    if rec.status == LabStatus::Creating && rec.creator.is_some_and(|p| p.alive()) {
        let pid = rec.creator.map(|c| c.pid).unwrap_or(0);
        return Err(Error::msg(crate::ui::tr(
            format!(
                "host {} is being created by process {pid}; try again",
                host.host
            ),
            format!("进程 {pid} 正在创建宿主机 {}，请稍后再试", host.host),
        )));
    }
    if exec.dry_run() {
        return Err(Error::msg(crate::ui::tr(
            format!(
                "host {} of lab {} is broken; run `dockernet --lab {} lab host rm {}` first",
                host.host, host.name, host.name, host.host
            ),
            format!(
                "实验环境 {} 的宿主机 {} 已损坏，请先运行 `dockernet --lab {} lab host rm {}`",
                host.name, host.host, host.name, host.host
            ),
        )));
    }
    eprintln!(
        "{}",
        crate::ui::tr(
            format!(
                "dockernet: host {} was left half-built or damaged; removing it and building it again",
                host.host
            ),
            format!(
                "dockernet：宿主机 {} 没有建完或已损坏，先删除再重建",
                host.host
            ),
        )
    );
    super::teardown::teardown(host, exec).await?;
    let opts = super::LabUpOptions {
        userland_proxy: first.userland_proxy,
        icc: first.icc,
        engine: first.engine,
        firewall_backend: first.firewall_backend,
    };
    super::lifecycle::build(host, exec, &opts, rec.host).await
}

/// Work a `lab host add` left half-done when it was killed: a host still `Creating`
/// whose creator is gone is removed (the next `lab host add` builds it anew). Called
/// by every command that changes the lab, before its own work.
pub async fn recover(lab: &Lab, exec: &mut Executor) -> Result<()> {
    for host in added(lab) {
        let broken = match host.store().lab() {
            Ok(Some(r)) => r.status == LabStatus::Creating && !r.creator.is_some_and(|p| p.alive()),
            Ok(None) => true,
            Err(_) => true,
        };
        if broken {
            super::teardown::teardown(&host, exec).await?;
        }
    }
    Ok(())
}

/// `lab host rm NAME`: remove one added host with its containers and networks. The
/// first host is the lab itself (`lab down` removes it).
pub async fn remove(host: &Lab, exec: &mut Executor) -> Result<()> {
    if host.is_first_host() {
        return Err(Error::msg(crate::ui::tr(
            format!(
                "{} is the lab's first host and holds the lab: remove the whole lab with `dockernet --lab {} lab down`",
                host.host, host.name
            ),
            format!(
                "{} 是实验环境的第一台宿主机，承载着整个实验环境：请用 `dockernet --lab {} lab down` 删除整个实验环境",
                host.host, host.name
            ),
        )));
    }
    if !host.dir().exists() && !netns::exists(&host.host_ns()) {
        return Err(no_such_host(host));
    }
    super::teardown::teardown(host, exec).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_fit_a_link_name() {
        for ok in ["host2", "h1", "node12345ab"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Host2",
            "2host",
            "host-2",
            "host_2",
            "world",
            "node12345abc",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(format!("lan-{}", "a".repeat(NAME_MAX)).len() <= 15);
    }

    #[test]
    fn hosts_have_their_own_namespaces_and_directories() {
        let lab = Lab::new("x1").unwrap();
        assert_eq!(lab.host_ns(), "dn-x1-host");
        let h2 = lab.on_host("host2").unwrap();
        assert_eq!(h2.host_ns(), "dn-x1-host2");
        assert_eq!(h2.host_prefix(), "dn-x1-host2-");
        assert_eq!(h2.dir(), lab.root().join("hosts/host2"));
        assert_eq!(h2.root(), lab.root());
        let id = "0123456789abcdef".repeat(4);
        assert_eq!(h2.container_ns("web1", &id), "dn-x1-host2-ctr-web1");
        assert_eq!(lab.container_ns("web1", &id), "dn-x1-ctr-web1");
    }
}

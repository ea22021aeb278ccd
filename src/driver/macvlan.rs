//! The macvlan and ipvlan drivers: no kernel object for the network itself (no bridge,
//! no iptables rule), only the lab host's LAN interface as the *parent*. Each endpoint
//! is a child link of that parent created directly inside the container's namespace:
//! a macvlan with a MAC of its own (Docker's 02:42 + the IPv4 bytes), or an ipvlan that
//! shares the parent's MAC. The container then sits on the LAN itself, next to the lab
//! hosts. Its own host cannot reach it: frames a macvlan child sends to its parent's
//! own MAC never climb the parent's stack, and the parent's frames never come back
//! down to its children (the kernel switches between siblings only, in bridge mode).

use super::bridge::own_sandbox;
use super::{Context, Driver, JoinRequest, SandboxPlan};
use crate::error::{Error, Result};
use crate::lab::{ContainerRecord, Endpoint, NetworkRecord};
use crate::link::{docker_mac, format_mac};
use crate::step::Step;
use crate::util::random_hex;
use std::path::Path;

/// Docker's `macvlan` driver.
pub struct MacvlanDriver;

/// Docker's `ipvlan` driver (only where the kernel has ipvlan).
pub struct IpvlanDriver;

/// The two drivers differ in their option names, modes and the link they make.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Macvlan,
    Ipvlan,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Macvlan => "macvlan",
            Kind::Ipvlan => "ipvlan",
        }
    }
}

/// True if this machine's kernel has the ipvlan driver: loaded (`/sys/module/ipvlan`),
/// built in or installed as a module (`/lib/modules/$(uname -r)`), or set in the
/// kernel's config. Only files are read: no module is loaded, no link is tried.
pub fn ipvlan_supported() -> bool {
    if Path::new("/sys/module/ipvlan").exists() {
        return true;
    }
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let modules = Path::new("/lib/modules").join(&release);
    let lists = ["modules.builtin", "modules.dep"];
    if lists.iter().any(|f| {
        std::fs::read_to_string(modules.join(f))
            .is_ok_and(|t| t.lines().any(|l| l.contains("/ipvlan.ko")))
    }) {
        return true;
    }
    let config = std::fs::read_to_string(format!("/boot/config-{release}")).unwrap_or_default();
    config_has_ipvlan(&config) || config_has_ipvlan(&proc_config())
}

/// `/proc/config.gz`, decompressed by `gzip -dc` (no inflate code of our own), or empty.
fn proc_config() -> String {
    if !Path::new("/proc/config.gz").exists() {
        return String::new();
    }
    std::process::Command::new("gzip")
        .args(["-dc", "/proc/config.gz"])
        .stderr(std::process::Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn config_has_ipvlan(config: &str) -> bool {
    config
        .lines()
        .any(|l| l == "CONFIG_IPVLAN=y" || l == "CONFIG_IPVLAN=m")
}

/// The line `network create -d ipvlan` prints where the kernel has no ipvlan.
pub fn ipvlan_missing() -> Error {
    Error::msg(crate::ui::tr(
        "ipvlan networks cannot be created here: this machine's kernel has no ipvlan driver (CONFIG_IPVLAN is not set); use macvlan or bridge",
        "这里无法创建 ipvlan 网络：本机内核没有 ipvlan 驱动（未设置 CONFIG_IPVLAN）；请改用 macvlan 或 bridge",
    ))
}

/// Names of the links in namespace `ns` (`if_nameindex(3)` on a thread inside it), or
/// None if the namespace cannot be entered (a dry run before the lab exists).
fn links_in(ns: &str) -> Option<Vec<String>> {
    crate::netns::in_netns(&crate::netns::path(ns), || {
        let mut out = Vec::new();
        // SAFETY: if_nameindex returns an array ended by a zero entry, or NULL; it is
        // read before if_freenameindex frees it.
        unsafe {
            let list = libc::if_nameindex();
            if list.is_null() {
                return out;
            }
            let mut p = list;
            while (*p).if_index != 0 && !(*p).if_name.is_null() {
                out.push(
                    std::ffi::CStr::from_ptr((*p).if_name)
                        .to_string_lossy()
                        .into_owned(),
                );
                p = p.add(1);
            }
            libc::if_freenameindex(list);
        }
        out
    })
    .ok()
}

/// Docker's daemon error as `network create` prints it (exit status 1).
fn daemon(msg: impl std::fmt::Display) -> Error {
    Error::msg(format!("Error response from daemon: {msg}"))
}

/// `parent=`, checked as Docker checks it, against the links the lab host has now.
fn check_parent(ctx: &Context<'_>, net: &NetworkRecord, kind: Kind) -> Result<String> {
    let host = ctx.lab.host_ns();
    let Some(parent) = net.options.get("parent").filter(|p| !p.is_empty()) else {
        // Docker makes a dummy link (dm-<id>, di-<id>) and an internal network; this
        // kernel has no dummy driver, and a LAN-less macvlan teaches nothing anyway.
        return Err(Error::msg(crate::ui::tr(
            format!(
                "a {} network needs -o parent=IFACE here: Docker would make a dummy link as parent, but this kernel has no dummy driver; the lab host's LAN interface is eth0 (-o parent=eth0)",
                kind.name()
            ),
            format!(
                "这里的 {} 网络必须指定 -o parent=网卡：Docker 会建一块 dummy 网卡作父网卡，但本机内核没有 dummy 驱动；宿主机接局域网的网卡是 eth0（-o parent=eth0）",
                kind.name()
            ),
        )));
    };
    if parent == "lo" {
        return Err(daemon(format!(
            "loopback interface is not a valid {} parent link",
            kind.name()
        )));
    }
    let Some(links) = links_in(&host) else {
        return Ok(parent.clone());
    };
    if links.iter().any(|l| l == parent) {
        return Ok(parent.clone());
    }
    let mut names: Vec<&str> = links
        .iter()
        .map(String::as_str)
        .filter(|l| *l != "lo")
        .collect();
    names.sort();
    if parent.contains('.') {
        // Docker creates a missing `eth0.50` as an 802.1q sub-interface.
        return Err(Error::msg(crate::ui::tr(
            format!(
                "-o parent={parent}: no such interface in {host}, and Docker's 802.1q sub-interface cannot be made here (this kernel has no 8021q driver); interfaces there: {}",
                names.join(", ")
            ),
            format!(
                "-o parent={parent}：{host} 里没有这块网卡，本机内核也没有 8021q 驱动，无法像 Docker 那样建 802.1q 子网卡；那里的网卡有 {}",
                names.join("、")
            ),
        )));
    }
    Err(daemon(crate::ui::tr(
        format!(
            "-o parent interface was not found on the host: {parent} (interfaces in {host}: {})",
            names.join(", ")
        ),
        format!(
            "-o parent interface was not found on the host: {parent}（{host} 里的网卡有 {}）",
            names.join("、")
        ),
    )))
}

/// The mode option, checked with Docker's words: `(mode, flag)`.
fn check_mode(net: &NetworkRecord, kind: Kind) -> Result<(String, String)> {
    let opt = |k: &str| net.options.get(k).filter(|v| !v.is_empty()).cloned();
    match kind {
        Kind::Macvlan => {
            let mode = opt("macvlan_mode").unwrap_or_else(|| "bridge".into());
            if !matches!(mode.as_str(), "bridge" | "private" | "vepa" | "passthru") {
                return Err(daemon(format!(
                    "requested macvlan mode '{mode}' is not valid, 'bridge' mode is the macvlan driver default"
                )));
            }
            Ok((mode, String::new()))
        }
        Kind::Ipvlan => {
            let mode = opt("ipvlan_mode").unwrap_or_else(|| "l2".into());
            if !matches!(mode.as_str(), "l2" | "l3" | "l3s") {
                return Err(daemon(format!(
                    "requested ipvlan mode '{mode}' is not valid, 'l2' mode is the ipvlan driver default"
                )));
            }
            let flag = opt("ipvlan_flag").unwrap_or_else(|| "bridge".into());
            if !matches!(flag.as_str(), "bridge" | "private" | "vepa") {
                return Err(daemon(format!(
                    "requested ipvlan flag '{flag}' is not valid, 'bridge' is the ipvlan driver default"
                )));
            }
            Ok((mode, flag))
        }
    }
}

fn create(ctx: &Context<'_>, net: &NetworkRecord, kind: Kind) -> Result<Vec<Step>> {
    if kind == Kind::Ipvlan && !ipvlan_supported() {
        return Err(ipvlan_missing());
    }
    let (mode, _) = check_mode(net, kind)?;
    let parent = check_parent(ctx, net, kind)?;
    if kind == Kind::Macvlan && mode == "passthru" {
        // passthru hands the parent itself to one child: one such network per parent.
        let taken = ctx.store.networks()?.into_iter().any(|n| {
            n.id != net.id
                && n.driver == "macvlan"
                && n.options.get("parent") == Some(&parent)
                && n.options.get("macvlan_mode").map(String::as_str) == Some("passthru")
        });
        if taken {
            return Err(daemon(format!(
                "network with parent {parent} in passthru mode already exists: only one passthru network per parent"
            )));
        }
    }
    let pool = net
        .pool()
        .ok_or_else(|| Error::msg(format!("network {} has no subnet", net.name)))?;
    Ok(vec![Step::Note {
        text: crate::ui::tr(
            format!(
                "network {}: nothing to build — its containers get {} links of the lab host's {parent} ({mode} mode), addresses from {} (gateway {}); no bridge, no iptables rule",
                net.name,
                kind.name(),
                pool.subnet,
                pool.gateway
            ),
            format!(
                "网络 {}：不用建任何东西。容器各得一块宿主机 {parent} 的 {} 子网卡（{mode} 模式），地址取自 {}（网关 {}）；没有网桥，也没有 iptables 规则",
                net.name,
                kind.name(),
                pool.subnet,
                pool.gateway
            ),
        ),
    }])
}

fn sandbox(c: &ContainerRecord) -> SandboxPlan {
    own_sandbox(
        c,
        crate::ui::tr(
            format!("container {}: its own network namespace", c.name),
            format!("容器 {}：有自己的网络命名空间", c.name),
        ),
    )
}

fn join(ctx: &Context<'_>, j: &JoinRequest, kind: Kind) -> Result<Endpoint> {
    let net = j.network;
    let c = j.container;
    let pool = net
        .pool()
        .ok_or_else(|| Error::msg(format!("network {} has no subnet", net.name)))?;
    let parent = net
        .options
        .get("parent")
        .cloned()
        .ok_or_else(|| Error::msg(format!("network {} has no parent interface", net.name)))?;
    let (mode, flag) = check_mode(net, kind)?;
    let mut used = ctx.store.ips_in_use(&net.id);
    // Docker's IPAM knows nothing of the LAN; the lab does: never hand out an address
    // a lab host holds there (a static --ip is taken as given, as Docker would).
    used.extend(
        crate::lab::hosts::records(ctx.lab)
            .into_iter()
            .filter_map(|(_, r)| r.map(|r| r.host.lan))
            .filter(|a| pool.subnet.contains(a)),
    );
    let ip = super::bridge::endpoint_address(j, pool, &used)?;
    let host = ctx.lab.host_ns();
    let ns = c.netns.clone();
    let ifname = j.ifname.clone();
    let (link, mac) = match kind {
        Kind::Macvlan => {
            let mac = format_mac(&docker_mac(ip));
            let link = Step::MacvlanAdd {
                ns: host,
                parent: parent.clone(),
                name: ifname.clone(),
                peer_ns: ns.clone(),
                mac: Some(mac.clone()),
                mode: (mode != "bridge").then(|| mode.clone()),
            };
            (link, mac)
        }
        Kind::Ipvlan => {
            let link = Step::IpvlanAdd {
                ns: host,
                parent: parent.clone(),
                name: ifname.clone(),
                peer_ns: ns.clone(),
                mode: mode.clone(),
                flag,
            };
            (link, String::new())
        }
    };
    let note = match kind {
        Kind::Macvlan => crate::ui::tr(
            format!(
                "a macvlan of the lab host's {parent}, created as {ifname} in {}: its own MAC {mac}, {ip} on the LAN; no veth, no bridge",
                c.name
            ),
            format!(
                "宿主机 {parent} 的一块 macvlan 子网卡，直接在容器 {} 里建成 {ifname}：MAC 是它自己的 {mac}，局域网地址 {ip}；没有 veth，也没有网桥",
                c.name
            ),
        ),
        Kind::Ipvlan => crate::ui::tr(
            format!(
                "an ipvlan ({mode}) of the lab host's {parent}, created as {ifname} in {}: the parent's MAC, {ip}; no veth, no bridge",
                c.name
            ),
            format!(
                "宿主机 {parent} 的一块 ipvlan 子网卡（{mode}），直接在容器 {} 里建成 {ifname}：与父网卡共用 MAC，地址 {ip}；没有 veth，也没有网桥",
                c.name
            ),
        ),
    };
    let mut steps = vec![
        Step::Note { text: note },
        link,
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
        veth: String::new(),
        ifname,
        bridge: String::new(),
        default_route,
        steps,
    })
}

impl Driver for MacvlanDriver {
    fn name(&self) -> &'static str {
        "macvlan"
    }

    fn create_network(&self, ctx: &Context<'_>, net: &NetworkRecord) -> Result<Vec<Step>> {
        create(ctx, net, Kind::Macvlan)
    }

    fn sandbox(
        &self,
        _ctx: &Context<'_>,
        c: &ContainerRecord,
        _net: &NetworkRecord,
    ) -> Result<SandboxPlan> {
        Ok(sandbox(c))
    }

    fn join(&self, ctx: &Context<'_>, j: &JoinRequest) -> Result<Endpoint> {
        join(ctx, j, Kind::Macvlan)
    }
}

impl Driver for IpvlanDriver {
    fn name(&self) -> &'static str {
        "ipvlan"
    }

    fn create_network(&self, ctx: &Context<'_>, net: &NetworkRecord) -> Result<Vec<Step>> {
        create(ctx, net, Kind::Ipvlan)
    }

    fn sandbox(
        &self,
        _ctx: &Context<'_>,
        c: &ContainerRecord,
        _net: &NetworkRecord,
    ) -> Result<SandboxPlan> {
        Ok(sandbox(c))
    }

    fn join(&self, ctx: &Context<'_>, j: &JoinRequest) -> Result<Endpoint> {
        join(ctx, j, Kind::Ipvlan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_config_lines() {
        assert!(config_has_ipvlan("CONFIG_X=y\nCONFIG_IPVLAN=m\n"));
        assert!(!config_has_ipvlan("# CONFIG_IPVLAN is not set\n"));
    }
}

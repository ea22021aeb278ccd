//! The steps that build a lab and its hosts, as data: the world (the LAN's switch and
//! "the internet"), one Docker host with what `dockerd` does when it starts, and the
//! three predefined networks. `lifecycle` performs them.

use super::lifecycle::LabUpOptions;
use super::{Lab, LabHost, LabStatus, NetworkRecord, addr};
use crate::dns::world as world_dns;
use crate::error::{Error, Result};
use crate::firewall::{DaemonOptions, daemon_rules};
use crate::link::format_mac;
use crate::step::Step;
use crate::util::random_hex;
use std::collections::BTreeMap;

/// The first host of a lab: `host`, hostname `dockernet-host`, 198.51.100.2 on the LAN.
pub fn first_host(lab: &Lab) -> LabHost {
    let first = lab.first_host();
    LabHost {
        name: first.host.clone(),
        hostname: addr::HOST_HOSTNAME.into(),
        netns: first.host_ns(),
        lan: addr::HOST_LAN,
        lan_port: format!("lan-{}", first.host),
    }
}

/// The steps that build a lab: its records' tmpfs, the world, then its first Docker
/// host (see [`host_steps`]).
pub fn lab_steps(lab: &Lab, opts: &LabUpOptions) -> Vec<Step> {
    let mut s = vec![
        // First: the records of everything else go there (see `build`).
        Step::TmpfsAdd {
            path: lab.root().join(super::MEMORY_DIR).display().to_string(),
            options: super::MEMORY_TMPFS.into(),
            linked: super::IN_MEMORY.iter().map(|d| d.to_string()).collect(),
        },
    ];
    s.extend(world_steps(lab));
    s.extend(host_steps(lab, &first_host(lab), opts));
    s
}

/// The world: the LAN's switch and "the internet" with its sites.
fn world_steps(lab: &Lab) -> Vec<Step> {
    let world = lab.world_ns();
    let mut s = vec![
        Step::Note {
            text: crate::ui::tr(
                "the world: a LAN switch (198.51.100.0/24) and \"the internet\" (203.0.113.0/24)",
                "外部世界：一台局域网交换机（198.51.100.0/24）和“互联网”（203.0.113.0/24）",
            ),
        },
        Step::NetnsAdd {
            name: world.clone(),
        },
        Step::LinkUp {
            ns: world.clone(),
            dev: "lo".into(),
        },
        Step::BridgeAdd {
            ns: world.clone(),
            name: "lan0".into(),
            mac: format_mac(&local_mac()),
        },
        Step::AddrAdd {
            ns: world.clone(),
            dev: "lan0".into(),
            cidr: format!("{}/24", addr::LAN_GATEWAY),
        },
        Step::BridgeAdd {
            ns: world.clone(),
            name: "inet0".into(),
            mac: format_mac(&local_mac()),
        },
        Step::AddrAdd {
            ns: world.clone(),
            dev: "inet0".into(),
            cidr: format!("{}/24", addr::INTERNET_WEB),
        },
    ];
    s.push(Step::Note {
        text: crate::ui::tr(
            "the internet's DNS server and web sites: one address each on inet0 (a /32, so the world's routes stay as they are)",
            "互联网的 DNS 服务器和各个网站：在 inet0 上各占一个地址（/32，外部世界的路由不受影响）",
        ),
    });
    let extra = std::iter::once(addr::INTERNET_DNS).chain(world_dns::SITES.iter().map(|h| h.addr));
    s.extend(extra.map(|ip| Step::AddrAdd {
        ns: world.clone(),
        dev: "inet0".into(),
        cidr: format!("{ip}/32"),
    }));
    s
}

/// One Docker host on the LAN, and what `dockerd` does when it starts there before
/// any network exists (forwarding, its own chains and jumps).
pub fn host_steps(lab: &Lab, host: &LabHost, opts: &LabUpOptions) -> Vec<Step> {
    let world = lab.world_ns();
    let ns = host.netns.clone();
    let uts = lab
        .on_host(&host.name)
        .map(|l| l.host_uts_path())
        .unwrap_or_else(|_| lab.host_uts_path());
    let what = if host.name == super::FIRST_HOST {
        crate::ui::tr(
            format!(
                "the Docker host: its own network and hostname ({})",
                host.hostname
            ),
            format!("Docker 宿主机：有自己的网络和主机名（{}）", host.hostname),
        )
    } else {
        crate::ui::tr(
            format!(
                "another Docker host on the LAN, {} ({}): its own network and hostname",
                host.name, host.lan
            ),
            format!(
                "局域网上的另一台 Docker 宿主机 {}（{}）：有自己的网络和主机名",
                host.name, host.lan
            ),
        )
    };
    let starts = if opts.firewall_backend.is_nftables() {
        crate::ui::tr(
            "forwarding is turned on first: with nftables, dockerd does not do it itself (it refuses to start without it); then dockerd --firewall-backend=nftables creates its table ip docker-bridges, and its default network, bridge (docker0)",
            "先打开 IP 转发：用 nftables 时 dockerd 不会自己打开（没有打开就拒绝启动）；然后 dockerd --firewall-backend=nftables 建立自己的表 ip docker-bridges 和默认网络 bridge（docker0）",
        )
    } else {
        crate::ui::tr(
            "dockerd starts: it turns on forwarding and creates its iptables chains; then its default network, bridge (docker0)",
            "dockerd 启动：打开 IP 转发，创建自己的 iptables 链，然后建立默认网络 bridge（docker0）",
        )
    };
    vec![
        Step::Note { text: what },
        Step::NetnsAdd { name: ns.clone() },
        Step::UtsAdd {
            path: uts.display().to_string(),
            hostname: host.hostname.clone(),
        },
        Step::VethAdd {
            ns: world,
            name: host.lan_port.clone(),
            master: Some("lan0".into()),
            peer: "eth0".into(),
            peer_ns: ns.clone(),
            peer_mac: Some(format_mac(&local_mac())),
            mtu: None,
        },
        Step::AddrAdd {
            ns: ns.clone(),
            dev: "eth0".into(),
            cidr: format!("{}/24", host.lan),
        },
        Step::LinkUp {
            ns: ns.clone(),
            dev: "lo".into(),
        },
        Step::LinkUp {
            ns: ns.clone(),
            dev: "eth0".into(),
        },
        Step::RouteDefault {
            ns: ns.clone(),
            via: addr::LAN_GATEWAY,
        },
        Step::Note { text: starts },
        Step::Sysctl {
            ns: ns.clone(),
            key: "net.ipv4.ip_forward".into(),
            value: "1".into(),
        },
        daemon_step(ns, opts),
    ]
}

/// The daemon's own rules: iptables chains (FORWARD set to DROP, since dockerd turned
/// forwarding on itself), or under the nftables backend its table `ip docker-bridges`
/// and nothing in iptables. Docker's nftables docs ("Docker with nftables", IP
/// forwarding): with nftables Docker never enables forwarding itself, only checks it
/// is on, and sets no DROP policy anywhere (each bridge's chains end with their own
/// drops); an iptables FORWARD DROP would even drop what its chains accept, so the
/// lab host's iptables are left untouched.
fn daemon_step(ns: String, opts: &LabUpOptions) -> Step {
    if opts.firewall_backend.is_nftables() {
        return Step::Nft {
            ns,
            ops: crate::firewall::nft::daemon_ops(opts.userland_proxy),
        };
    }
    Step::Firewall {
        ns,
        batch: daemon_rules(
            opts.engine,
            &DaemonOptions {
                userland_proxy: opts.userland_proxy,
                set_forward_drop: true,
            },
        ),
    }
}

/// Docker's three predefined networks: `bridge` (docker0, the first default pool),
/// `host` and `none`. Their steps are filled in by their drivers.
pub(super) fn predefined_networks(created: f64) -> Result<Vec<NetworkRecord>> {
    let subnet: ipnet::Ipv4Net = addr::DOCKER0_SUBNET
        .parse()
        .map_err(|_| Error::msg("bad docker0 subnet"))?;
    let mut bridge_opts = BTreeMap::new();
    for (k, v) in [
        ("com.docker.network.bridge.default_bridge", "true"),
        ("com.docker.network.bridge.enable_icc", "true"),
        ("com.docker.network.bridge.enable_ip_masquerade", "true"),
        ("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"),
        ("com.docker.network.bridge.name", "docker0"),
        ("com.docker.network.driver.mtu", "1500"),
    ] {
        bridge_opts.insert(k.to_string(), v.to_string());
    }
    let record = |name: &str, driver: &str| NetworkRecord {
        id: random_hex(64),
        name: name.into(),
        driver: driver.into(),
        created,
        ipam: Vec::new(),
        user_subnet: false,
        internal: false,
        attachable: false,
        options: BTreeMap::new(),
        labels: BTreeMap::new(),
        bridge: None,
        predefined: true,
        status: LabStatus::Creating,
        creator: None,
        steps: Vec::new(),
    };
    let mut bridge = record("bridge", "bridge");
    bridge.ipam = vec![crate::ipam::Pool {
        subnet,
        gateway: addr::DOCKER0,
        ip_range: None,
    }];
    bridge.options = bridge_opts;
    bridge.bridge = Some("docker0".into());
    Ok(vec![bridge, record("host", "host"), record("none", "null")])
}

/// A random locally administered unicast MAC (for the lab's own links).
fn local_mac() -> [u8; 6] {
    let r = crate::util::random_bytes(6);
    [(r[0] & 0xfe) | 0x02, r[1], r[2], r[3], r[4], r[5]]
}

//! The one stream of steps. Every change dockernet makes to the kernel is a [`Step`]:
//! it can be performed, narrated as the command a learner would type, recorded, and
//! undone. `--explain` prints steps as they run, `--dry-run` prints them only, lessons
//! collect them, and `rm` / `lab down` / crash recovery replay the inverses. The
//! [`Executor`] (`executor.rs`) performs them.

mod executor;

pub use executor::{Executor, Mode, PHASES_ENV, UndoLog};

use crate::error::{Error, Result};
use crate::firewall::Batch;
use std::net::Ipv4Addr;

/// One kernel change. Namespaces are named by their /run/netns name (`dn-default-host`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Step {
    /// `ip netns add NAME`
    NetnsAdd {
        /// Namespace name.
        name: String,
    },
    /// `ip netns del NAME`
    NetnsDel {
        /// Namespace name.
        name: String,
    },
    /// A persistent UTS namespace with its own hostname (the lab host's).
    UtsAdd {
        /// Where the namespace is bind-mounted.
        path: String,
        /// Hostname inside it.
        hostname: String,
    },
    /// Remove a persistent UTS namespace.
    UtsDel {
        /// Where the namespace is bind-mounted.
        path: String,
    },
    /// `mkdir -p PATH && mount -t tmpfs -o OPTIONS tmpfs PATH`, then for each of
    /// `linked` a directory in it and a link to that from PATH's parent: the lab's
    /// records in memory, as `/run` is on most machines.
    TmpfsAdd {
        /// Mount point (created 0700 if missing).
        path: String,
        /// tmpfs options (`mode=0700,size=1g`).
        options: String,
        /// Directories made inside and linked from beside it (`containers`).
        #[serde(default)]
        linked: Vec<String>,
    },
    /// `umount PATH` (lazily: nothing may still use it, but nothing must keep it either).
    Umount {
        /// Mount point.
        path: String,
    },
    /// `ip -n NS link add NAME address MAC type bridge; ip -n NS link set NAME up`
    BridgeAdd {
        /// Namespace.
        ns: String,
        /// Bridge name.
        name: String,
        /// Bridge MAC.
        mac: String,
    },
    /// `ip -n NS link add NAME master M up type veth peer name PEER netns PEER_NS address MAC`
    VethAdd {
        /// Namespace of the first end.
        ns: String,
        /// Name of the first end.
        name: String,
        /// Bridge to enslave the first end to.
        master: Option<String>,
        /// Name of the peer end.
        peer: String,
        /// Namespace the peer is created in.
        peer_ns: String,
        /// MAC of the peer end.
        peer_mac: Option<String>,
        /// MTU of both ends (the kernel's 1500 when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mtu: Option<u32>,
    },
    /// `ip -n NS link add NAME netns TARGET mtu MTU type vxlan id VNI local LOCAL dstport
    /// PORT proxy l2miss l3miss`, then `ip -n TARGET link set NAME master MASTER up`: the
    /// device in TARGET (an overlay's namespace), its UDP socket in NS (the host's).
    VxlanAdd {
        /// Namespace whose UDP socket carries the tunnel (the host's).
        ns: String,
        /// Namespace the device lives in.
        target_ns: String,
        /// Device name (`vxlan0`).
        name: String,
        /// VXLAN network identifier.
        vni: u32,
        /// Local VTEP address.
        local: Ipv4Addr,
        /// UDP destination port.
        port: u16,
        /// MTU.
        mtu: u32,
        /// Bridge it joins in TARGET (`br0`).
        master: String,
    },
    /// `ip -n NS link add NAME link PARENT address MAC netns PEER_NS type macvlan mode
    /// bridge`: a macvlan on NS's PARENT, created inside PEER_NS.
    MacvlanAdd {
        /// Namespace of the parent link.
        ns: String,
        /// The parent link (`eth0`).
        parent: String,
        /// Name of the new link (`eth0` in the container).
        name: String,
        /// Namespace it is created in.
        peer_ns: String,
        /// Its MAC.
        mac: Option<String>,
        /// macvlan mode (`private`, `vepa`, `passthru`); none: `bridge`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<String>,
    },
    /// `ip -n NS link add NAME link PARENT netns PEER_NS type ipvlan mode MODE FLAG`: an
    /// ipvlan on NS's PARENT (sharing its MAC), created inside PEER_NS.
    IpvlanAdd {
        /// Namespace of the parent link.
        ns: String,
        /// The parent link (`eth0`).
        parent: String,
        /// Name of the new link (`eth0` in the container).
        name: String,
        /// Namespace it is created in.
        peer_ns: String,
        /// `l2`, `l3` or `l3s`.
        mode: String,
        /// `bridge`, `private` or `vepa`.
        flag: String,
    },
    /// `bridge -n NS fdb add MAC dev DEV dst VTEP self permanent` and `ip -n NS neigh add
    /// IP lladdr MAC dev DEV nud permanent`: a remote container behind host VTEP, as
    /// Docker's overlay driver programs it.
    PeerAdd {
        /// Namespace (an overlay's).
        ns: String,
        /// The VXLAN device.
        dev: String,
        /// The container's MAC.
        mac: String,
        /// Its address.
        ip: Ipv4Addr,
        /// The LAN address of the host it is on.
        vtep: Ipv4Addr,
    },
    /// The inverse of [`Step::PeerAdd`]: `bridge fdb del` and `ip neigh del`.
    PeerDel {
        /// Namespace (an overlay's).
        ns: String,
        /// The VXLAN device.
        dev: String,
        /// The container's MAC.
        mac: String,
        /// Its address.
        ip: Ipv4Addr,
        /// The LAN address of the host it was on.
        vtep: Ipv4Addr,
    },
    /// `ip -n NS link del NAME`
    LinkDel {
        /// Namespace.
        ns: String,
        /// Link name.
        name: String,
    },
    /// `ip -n NS addr add CIDR dev DEV`
    AddrAdd {
        /// Namespace.
        ns: String,
        /// Device.
        dev: String,
        /// Address with prefix length, `172.17.0.2/16`.
        cidr: String,
    },
    /// `ip -n NS link set DEV up`
    LinkUp {
        /// Namespace.
        ns: String,
        /// Device.
        dev: String,
    },
    /// `bridge -n NS link set dev DEV hairpin on`
    Hairpin {
        /// Namespace.
        ns: String,
        /// Bridge port.
        dev: String,
    },
    /// `ip -n NS route add default via GW`
    RouteDefault {
        /// Namespace.
        ns: String,
        /// Gateway.
        via: Ipv4Addr,
    },
    /// `ip netns exec NS sysctl -w KEY=VALUE`
    Sysctl {
        /// Namespace.
        ns: String,
        /// Sysctl key, dotted.
        key: String,
        /// Value.
        value: String,
    },
    /// One `iptables-restore --noflush` batch inside NS.
    Firewall {
        /// Namespace.
        ns: String,
        /// The rules.
        batch: Batch,
    },
    /// One `nft -f -` script on the table `ip docker-bridges` inside NS (the
    /// nftables firewall backend).
    Nft {
        /// Namespace.
        ns: String,
        /// The changes, in order.
        ops: Vec<crate::firewall::nft::NftOp>,
    },
    /// A comment for the learner; changes nothing.
    Note {
        /// Text, printed as `# text`.
        text: String,
    },
}

impl Step {
    /// The equivalent commands a learner could type, one per line.
    pub fn commands(&self) -> Vec<String> {
        match self {
            Step::NetnsAdd { name } => vec![format!("ip netns add {name}")],
            Step::NetnsDel { name } => vec![format!("ip netns del {name}")],
            Step::UtsAdd { path, hostname } => vec![format!(
                "touch {path} && unshare --uts={path} hostname {hostname}"
            )],
            Step::UtsDel { path } => vec![format!("umount {path} && rm {path}")],
            Step::TmpfsAdd {
                path,
                options,
                linked,
            } => {
                let mut out = vec![format!(
                    "mkdir -p {path} && mount -t tmpfs -o {options} tmpfs {path}"
                )];
                if !linked.is_empty() {
                    let parent = std::path::Path::new(path)
                        .parent()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    let name = path.rsplit('/').next().unwrap_or(path);
                    out.push(format!(
                        "for d in {}; do mkdir {path}/$d && ln -s {name}/$d {parent}/$d; done",
                        linked.join(" ")
                    ));
                }
                out
            }
            Step::Umount { path } => vec![format!("umount {path}")],
            Step::BridgeAdd { ns, name, mac } => vec![
                format!("ip -n {ns} link add {name} address {mac} type bridge"),
                format!("ip -n {ns} link set {name} up"),
            ],
            Step::VethAdd {
                ns,
                name,
                master,
                peer,
                peer_ns,
                peer_mac,
                mtu,
            } => {
                let mtu = mtu.map(|m| format!(" mtu {m}")).unwrap_or_default();
                let master = master
                    .as_ref()
                    .map(|m| format!(" master {m}"))
                    .unwrap_or_default();
                let mac = peer_mac
                    .as_ref()
                    .map(|m| format!(" address {m}"))
                    .unwrap_or_default();
                vec![format!(
                    "ip -n {ns} link add {name}{master}{mtu} up type veth peer name {peer}{mac}{mtu} netns {peer_ns}"
                )]
            }
            Step::VxlanAdd {
                ns,
                target_ns,
                name,
                vni,
                local,
                port,
                mtu,
                master,
            } => vec![
                format!(
                    "ip -n {ns} link add {name} netns {target_ns} mtu {mtu} type vxlan id {vni} local {local} dstport {port} proxy l2miss l3miss"
                ),
                format!("ip -n {target_ns} link set {name} master {master} up"),
            ],
            Step::MacvlanAdd {
                ns,
                parent,
                name,
                peer_ns,
                mac,
                mode,
            } => {
                let mac = mac
                    .as_ref()
                    .map(|m| format!(" address {m}"))
                    .unwrap_or_default();
                let mode = mode.as_deref().unwrap_or("bridge");
                vec![format!(
                    "ip -n {ns} link add {name} link {parent}{mac} netns {peer_ns} type macvlan mode {mode}"
                )]
            }
            Step::IpvlanAdd {
                ns,
                parent,
                name,
                peer_ns,
                mode,
                flag,
            } => vec![format!(
                "ip -n {ns} link add {name} link {parent} netns {peer_ns} type ipvlan mode {mode} {flag}"
            )],
            Step::PeerAdd {
                ns,
                dev,
                mac,
                ip,
                vtep,
            } => vec![
                format!("bridge -n {ns} fdb add {mac} dev {dev} dst {vtep} self permanent"),
                format!("ip -n {ns} neigh add {ip} lladdr {mac} dev {dev} nud permanent"),
            ],
            Step::PeerDel {
                ns,
                dev,
                mac,
                ip,
                vtep,
            } => vec![
                format!("bridge -n {ns} fdb del {mac} dev {dev} dst {vtep} self"),
                format!("ip -n {ns} neigh del {ip} dev {dev}"),
            ],
            Step::LinkDel { ns, name } => vec![format!("ip -n {ns} link del {name}")],
            Step::AddrAdd { ns, dev, cidr } => {
                vec![format!("ip -n {ns} addr add {cidr} dev {dev}")]
            }
            Step::LinkUp { ns, dev } => vec![format!("ip -n {ns} link set {dev} up")],
            Step::Hairpin { ns, dev } => {
                vec![format!("bridge -n {ns} link set dev {dev} hairpin on")]
            }
            Step::RouteDefault { ns, via } => {
                vec![format!("ip -n {ns} route add default via {via}")]
            }
            Step::Sysctl { ns, key, value } => {
                vec![format!("ip netns exec {ns} sysctl -w {key}={value}")]
            }
            Step::Firewall { ns, batch } => {
                let mut out = Vec::new();
                for op in &batch.ops {
                    if let Some(why) = op.why() {
                        out.push(format!("# {why}"));
                    }
                    out.push(format!("ip netns exec {ns} {}", op.command()));
                }
                out
            }
            Step::Nft { ns, ops } => crate::firewall::nft::commands(ns, ops),
            Step::Note { text } => vec![format!("# {text}")],
        }
    }

    /// The step that undoes this one, if it created something that outlives its
    /// namespace's removal. Addresses, routes and sysctls die with their link or namespace.
    pub fn inverse(&self) -> Option<Step> {
        match self {
            Step::NetnsAdd { name } => Some(Step::NetnsDel { name: name.clone() }),
            Step::UtsAdd { path, .. } => Some(Step::UtsDel { path: path.clone() }),
            Step::TmpfsAdd { path, .. } => Some(Step::Umount { path: path.clone() }),
            Step::BridgeAdd { ns, name, .. } => Some(Step::LinkDel {
                ns: ns.clone(),
                name: name.clone(),
            }),
            Step::VethAdd { ns, name, .. } => Some(Step::LinkDel {
                ns: ns.clone(),
                name: name.clone(),
            }),
            Step::VxlanAdd {
                target_ns, name, ..
            } => Some(Step::LinkDel {
                ns: target_ns.clone(),
                name: name.clone(),
            }),
            Step::MacvlanAdd { peer_ns, name, .. } | Step::IpvlanAdd { peer_ns, name, .. } => {
                Some(Step::LinkDel {
                    ns: peer_ns.clone(),
                    name: name.clone(),
                })
            }
            Step::PeerAdd {
                ns,
                dev,
                mac,
                ip,
                vtep,
            } => Some(Step::PeerDel {
                ns: ns.clone(),
                dev: dev.clone(),
                mac: mac.clone(),
                ip: *ip,
                vtep: *vtep,
            }),
            Step::Firewall { ns, batch } => {
                let inv = batch.inverse();
                (!inv.is_empty()).then(|| Step::Firewall {
                    ns: ns.clone(),
                    batch: inv,
                })
            }
            Step::Nft { ns, ops } => {
                let inv = crate::firewall::nft::inverse(ops);
                (!inv.is_empty()).then(|| Step::Nft {
                    ns: ns.clone(),
                    ops: inv,
                })
            }
            _ => None,
        }
    }
}

/// Parse `172.17.0.2/16`.
pub fn parse_cidr(cidr: &str) -> Result<(Ipv4Addr, u8)> {
    let bad = || Error::msg(format!("invalid address {cidr}: expected A.B.C.D/N"));
    let (ip, len) = cidr.split_once('/').ok_or_else(bad)?;
    let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
    let len: u8 = len.parse().map_err(|_| bad())?;
    if len > 32 {
        return Err(bad());
    }
    Ok((ip, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tmpfs_is_narrated_with_its_links_and_undone_by_umount() {
        let s = Step::TmpfsAdd {
            path: "/run/dockernet/l/mem".into(),
            options: "mode=0700,size=1g".into(),
            linked: vec!["containers".into(), "names".into()],
        };
        assert_eq!(
            s.commands(),
            vec![
                "mkdir -p /run/dockernet/l/mem && mount -t tmpfs -o mode=0700,size=1g tmpfs /run/dockernet/l/mem",
                "for d in containers names; do mkdir /run/dockernet/l/mem/$d && ln -s mem/$d /run/dockernet/l/$d; done",
            ]
        );
        assert_eq!(
            s.inverse(),
            Some(Step::Umount {
                path: "/run/dockernet/l/mem".into()
            })
        );
    }

    #[test]
    fn veth_narration_is_a_real_ip_command() {
        let s = Step::VethAdd {
            ns: "dn-x-host".into(),
            name: "veth1234567".into(),
            master: Some("docker0".into()),
            peer: "eth0".into(),
            peer_ns: "dn-x-ctr-web1".into(),
            peer_mac: Some("02:42:ac:11:00:02".into()),
            mtu: None,
        };
        assert_eq!(
            s.commands(),
            vec![
                "ip -n dn-x-host link add veth1234567 master docker0 up type veth peer name eth0 address 02:42:ac:11:00:02 netns dn-x-ctr-web1"
            ]
        );
        assert_eq!(
            s.inverse(),
            Some(Step::LinkDel {
                ns: "dn-x-host".into(),
                name: "veth1234567".into()
            })
        );
    }

    #[test]
    fn addresses_and_routes_have_no_inverse() {
        let s = Step::AddrAdd {
            ns: "n".into(),
            dev: "eth0".into(),
            cidr: "172.17.0.2/16".into(),
        };
        assert_eq!(s.inverse(), None);
        assert_eq!(
            Step::NetnsAdd { name: "n".into() }.inverse(),
            Some(Step::NetnsDel { name: "n".into() })
        );
    }

    #[test]
    fn steps_serialize_for_the_undo_log() {
        let s = Step::RouteDefault {
            ns: "n".into(),
            via: Ipv4Addr::new(172, 17, 0, 1),
        };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"op":"route_default","ns":"n","via":"172.17.0.1"}"#
        );
        assert_eq!(serde_json::from_str::<Step>(&json).unwrap(), s);
    }

    #[test]
    fn cidr_parsing_rejects_garbage() {
        assert_eq!(
            parse_cidr("172.17.0.2/16").unwrap(),
            (Ipv4Addr::new(172, 17, 0, 2), 16)
        );
        assert!(parse_cidr("172.17.0.2").is_err());
        assert!(parse_cidr("172.17.0.2/33").is_err());
    }
}

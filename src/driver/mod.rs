//! Network drivers: each turns "attach this container to network mode X" into steps
//! (for `--explain`, the undo log and crash recovery) plus what the container's
//! processes must enter and which files they see.
//!
//! * `bridge` — own namespace, a veth pair onto docker0, an address, a default route;
//! * `host` — no namespace of its own: the lab host's network and hostname;
//! * `none` — own namespace with only `lo`;
//! * `container:NAME` — NAME's namespace, hostname and /etc files.

mod bridge;

use crate::error::{EXIT_REFUSED, Error, Result};
use crate::lab::{ContainerRecord, ContainerStatus, Endpoint, Lab, LabState, addr};
use crate::step::Step;
use std::path::PathBuf;

/// `--net` / `--network`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMode {
    /// The default bridge, docker0.
    Bridge,
    /// The lab host's own network namespace.
    Host,
    /// Loopback only.
    None,
    /// Another container's namespace (name or id prefix as given).
    Container(String),
}

fn refuse(msg: impl std::fmt::Display) -> Error {
    Error::with_code(format!("Error response from daemon: {msg}"), EXIT_REFUSED)
}

impl NetworkMode {
    /// Parse Docker's spelling (`bridge`, `default`, `host`, `none`, `container:web1`).
    pub fn parse(s: &str) -> Result<NetworkMode> {
        match s {
            "" | "bridge" | "default" => Ok(NetworkMode::Bridge),
            "host" => Ok(NetworkMode::Host),
            "none" => Ok(NetworkMode::None),
            other => match other.strip_prefix("container:") {
                Some(target) if !target.is_empty() => {
                    Ok(NetworkMode::Container(target.to_string()))
                }
                _ if other == "container" || other.starts_with("container:") => Err(refuse(
                    "invalid network mode: invalid container format container:<name|id>",
                )),
                _ => Err(refuse(format!("network {other} not found"))),
            },
        }
    }

    /// `HostConfig.NetworkMode` as Docker records it (container mode by full id).
    pub fn recorded(&self, target_id: Option<&str>) -> String {
        match self {
            NetworkMode::Bridge => "bridge".into(),
            NetworkMode::Host => "host".into(),
            NetworkMode::None => "none".into(),
            NetworkMode::Container(t) => format!("container:{}", target_id.unwrap_or(t)),
        }
    }

    /// Read back a recorded mode.
    pub fn from_recorded(s: &str) -> NetworkMode {
        NetworkMode::parse(s).unwrap_or(NetworkMode::Bridge)
    }
}

/// Where the container's /etc/hosts, /etc/hostname and /etc/resolv.conf come from.
#[derive(Debug, Clone)]
pub enum EtcFiles {
    /// Its own, generated: hosts lines for its addresses, and the hostname.
    Own {
        /// /etc/hosts content.
        hosts: String,
        /// /etc/resolv.conf content.
        resolv: String,
    },
    /// Another container's files (container mode shares them).
    Shared {
        /// That container's directory.
        dir: PathBuf,
    },
}

/// What a driver decided for a container.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// Kernel steps to perform (and undo on removal).
    pub steps: Vec<Step>,
    /// Name of the network namespace the processes live in (for views and exec).
    pub netns: String,
    /// Path of that namespace to enter at spawn time.
    pub netns_path: PathBuf,
    /// UTS namespace to join instead of a new one.
    pub join_uts: Option<PathBuf>,
    /// Hostname to set (None: the joined UTS namespace's).
    pub hostname: Option<String>,
    /// Endpoints on networks.
    pub endpoints: Vec<Endpoint>,
    /// The /etc files.
    pub files: EtcFiles,
    /// How to start the process, as a command a learner could type.
    pub spawn_narration: String,
}

/// Docker's flag checks for a network mode (reference §8), before anything is built.
pub struct ModeFlags<'a> {
    /// `--hostname` given.
    pub hostname: bool,
    /// `--link` values.
    pub links: &'a [String],
    /// `--dns` values.
    pub dns: &'a [String],
    /// `--add-host` values.
    pub add_hosts: &'a [String],
    /// `--mac-address` given.
    pub mac_address: bool,
    /// `-p` or `-P` given.
    pub publish: bool,
    /// `--expose` given.
    pub expose: bool,
}

/// Refuse flag combinations the way Docker's `validateNetContainerMode` does, in its order.
pub fn validate(mode: &NetworkMode, f: &ModeFlags) -> Result<()> {
    let container = matches!(mode, NetworkMode::Container(_));
    if container && f.hostname {
        return Err(refuse("conflicting options: hostname and the network mode"));
    }
    if container && !f.links.is_empty() {
        return Err(refuse(
            "conflicting options: container type network can't be used with links. This would result in undefined behavior",
        ));
    }
    if container && !f.dns.is_empty() {
        return Err(refuse("conflicting options: dns and the network mode"));
    }
    if container && !f.add_hosts.is_empty() {
        return Err(refuse(
            "conflicting options: custom host-to-IP mapping and the network mode",
        ));
    }
    if container && f.mac_address {
        return Err(refuse(
            "conflicting options: mac-address and the network mode",
        ));
    }
    if container && f.publish {
        return Err(refuse(
            "conflicting options: port publishing and the container type network mode",
        ));
    }
    if container && f.expose {
        return Err(refuse(
            "conflicting options: port exposing and the container type network mode",
        ));
    }
    if *mode == NetworkMode::Host && !f.links.is_empty() {
        return Err(refuse(
            "conflicting options: host type networking can't be used with links. This would result in undefined behavior",
        ));
    }
    Ok(())
}

/// Find the running container another one wants to join.
pub fn join_target<'a>(st: &'a LabState, target: &str) -> Result<&'a ContainerRecord> {
    let t = st
        .find(target)
        .map_err(|_| refuse(format!("No such container: {target}")))?;
    if t.status != ContainerStatus::Running || t.init.is_none_or(|p| !p.alive()) {
        let state = match t.status {
            ContainerStatus::Creating => "created",
            _ => "exited",
        };
        return Err(refuse(format!(
            "cannot join network namespace of a non running container: container {} is {state}",
            t.name
        )));
    }
    Ok(t)
}

/// Plan the attachment of `rec` in `mode`.
pub fn plan(
    lab: &Lab,
    st: &LabState,
    rec: &ContainerRecord,
    mode: &NetworkMode,
) -> Result<Attachment> {
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let argv = crate::container::shell_words(&rec.cmd);
    match mode {
        NetworkMode::Bridge => bridge::plan(lab, st, rec, &host_resolv),
        NetworkMode::Host => {
            let ns = lab.host_ns();
            Ok(Attachment {
                steps: vec![Step::Note {
                    text: format!(
                        "host mode: no network namespace of its own; {} joins the host's ({ns}) and its hostname",
                        rec.name
                    ),
                }],
                netns_path: crate::netns::path(&ns),
                netns: ns.clone(),
                join_uts: Some(lab.host_uts_path()),
                hostname: None,
                endpoints: Vec::new(),
                files: EtcFiles::Own {
                    hosts: format!(
                        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{}\t{}\n",
                        addr::HOST_LAN,
                        addr::HOST_HOSTNAME
                    ),
                    resolv: host_resolv,
                },
                spawn_narration: format!(
                    "nsenter --net=/run/netns/{ns} --uts={} unshare --pid --mount --ipc --fork --mount-proc {argv}",
                    lab.host_uts_path().display()
                ),
            })
        }
        NetworkMode::None => {
            let ns = rec.netns.clone();
            Ok(Attachment {
                steps: vec![
                    Step::Note {
                        text: format!(
                            "none mode: {} gets a namespace with only lo, and nothing else",
                            rec.name
                        ),
                    },
                    Step::NetnsAdd { name: ns.clone() },
                    Step::LinkUp {
                        ns: ns.clone(),
                        dev: "lo".into(),
                    },
                ],
                netns_path: crate::netns::path(&ns),
                spawn_narration: format!(
                    "ip netns exec {ns} unshare --pid --mount --uts --ipc --fork --mount-proc sh -c 'hostname \"$0\" && exec \"$@\"' {} {argv}",
                    rec.hostname
                ),
                netns: ns,
                join_uts: None,
                hostname: Some(rec.hostname.clone()),
                endpoints: Vec::new(),
                files: EtcFiles::Own {
                    hosts: crate::container::files::hosts_file(&[], &[]),
                    resolv: crate::container::files::resolv_conf_legacy(&host_resolv),
                },
            })
        }
        NetworkMode::Container(target) => {
            let t = join_target(st, target)?;
            let init = t.init.expect("checked running");
            Ok(Attachment {
                steps: vec![Step::Note {
                    text: format!(
                        "container mode: {} joins the network namespace of {} (same interfaces, IP, MAC and ports) and its hostname; PID and mount namespaces stay its own",
                        rec.name, t.name
                    ),
                }],
                netns: t.netns.clone(),
                netns_path: PathBuf::from(format!("/proc/{}/ns/net", init.pid)),
                join_uts: Some(PathBuf::from(format!("/proc/{}/ns/uts", init.pid))),
                hostname: None,
                endpoints: Vec::new(),
                files: EtcFiles::Shared {
                    dir: lab.container_dir(&t.id),
                },
                spawn_narration: format!(
                    "nsenter --target {} --net --uts unshare --pid --mount --ipc --fork --mount-proc {argv}",
                    init.pid
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_like_docker() {
        assert_eq!(NetworkMode::parse("bridge").unwrap(), NetworkMode::Bridge);
        assert_eq!(NetworkMode::parse("host").unwrap(), NetworkMode::Host);
        assert_eq!(NetworkMode::parse("none").unwrap(), NetworkMode::None);
        assert_eq!(
            NetworkMode::parse("container:web1").unwrap(),
            NetworkMode::Container("web1".into())
        );
        let e = NetworkMode::parse("container:").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Error response from daemon: invalid network mode: invalid container format container:<name|id>"
        );
        assert_eq!(e.exit_code(), 125);
        assert!(
            NetworkMode::parse("mynet")
                .unwrap_err()
                .to_string()
                .contains("network mynet not found")
        );
    }

    const NONE: [String; 0] = [];

    fn flags() -> ModeFlags<'static> {
        ModeFlags {
            hostname: false,
            links: &NONE,
            dns: &NONE,
            add_hosts: &NONE,
            mac_address: false,
            publish: false,
            expose: false,
        }
    }

    fn refusal(mode: &NetworkMode, f: ModeFlags) -> String {
        validate(mode, &f).unwrap_err().to_string()
    }

    #[test]
    fn container_mode_refusals_follow_dockers_order() {
        let one = ["x".to_string()];
        let c = NetworkMode::Container("web1".into());
        assert!(validate(&c, &flags()).is_ok());
        // --hostname is checked before --dns.
        let r = refusal(
            &c,
            ModeFlags {
                hostname: true,
                dns: &one,
                ..flags()
            },
        );
        assert!(
            r.ends_with("conflicting options: hostname and the network mode"),
            "{r}"
        );
        let r = refusal(
            &c,
            ModeFlags {
                dns: &one,
                ..flags()
            },
        );
        assert!(
            r.ends_with("conflicting options: dns and the network mode"),
            "{r}"
        );
        let r = refusal(
            &c,
            ModeFlags {
                add_hosts: &one,
                ..flags()
            },
        );
        assert!(
            r.ends_with("custom host-to-IP mapping and the network mode"),
            "{r}"
        );
        let r = refusal(
            &c,
            ModeFlags {
                publish: true,
                ..flags()
            },
        );
        assert!(
            r.ends_with("port publishing and the container type network mode"),
            "{r}"
        );
        let r = refusal(
            &c,
            ModeFlags {
                expose: true,
                ..flags()
            },
        );
        assert!(
            r.ends_with("port exposing and the container type network mode"),
            "{r}"
        );
        let r = refusal(
            &c,
            ModeFlags {
                mac_address: true,
                ..flags()
            },
        );
        assert!(r.ends_with("mac-address and the network mode"), "{r}");
        let r = refusal(
            &c,
            ModeFlags {
                links: &one,
                ..flags()
            },
        );
        assert!(
            r.contains("container type network can't be used with links"),
            "{r}"
        );
        let r = refusal(
            &NetworkMode::Host,
            ModeFlags {
                links: &one,
                ..flags()
            },
        );
        assert!(
            r.contains("host type networking can't be used with links"),
            "{r}"
        );
        assert!(
            validate(
                &NetworkMode::Bridge,
                &ModeFlags {
                    links: &one,
                    ..flags()
                }
            )
            .is_ok()
        );
    }
}

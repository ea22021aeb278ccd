//! `run`'s first half: validate the request the way Docker does and record the new
//! container. Nothing in the kernel changes here.

use super::{Daemon, links, publish};
use crate::driver::{self, NetworkMode};
use crate::error::{EXIT_REFUSED, Error, Result};
use crate::image::{self, BuiltinImage};
use crate::lab::{Attachment, ContainerRecord, ContainerStatus, LinkRecord, NetworkRecord};
use crate::util::{ProcRef, random_hex};

/// What `run` asks for.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    /// `--name`
    pub name: Option<String>,
    /// `--hostname`
    pub hostname: Option<String>,
    /// IMAGE (a built-in), if given.
    pub image: Option<String>,
    /// Command and arguments (empty: the image's default).
    pub cmd: Vec<String>,
    /// `--net` / `--network`
    pub network: String,
    /// `--ip`
    pub ip: Option<String>,
    /// `--network-alias` values.
    pub aliases: Vec<String>,
    /// `-e K=V`
    pub env: Vec<String>,
    /// `-d`
    pub detach: bool,
    /// `-i`
    pub interactive: bool,
    /// `-t`
    pub tty: bool,
    /// `--rm`
    pub auto_remove: bool,
    /// `--link` values.
    pub links: Vec<String>,
    /// `--dns` values.
    pub dns: Vec<String>,
    /// `--add-host` values.
    pub add_hosts: Vec<String>,
    /// `--mac-address`.
    pub mac_address: Option<String>,
    /// `-p` values.
    pub publish: Vec<String>,
    /// `-P`.
    pub publish_all: bool,
    /// `--expose` values.
    pub expose: Vec<String>,
    /// `--cap-add`
    pub cap_add: Vec<String>,
    /// `--cap-drop`
    pub cap_drop: Vec<String>,
    /// `--privileged`
    pub privileged: bool,
}

/// The checks of a `run` request that need no lab, in Docker's order: what the docker
/// CLI refuses while it parses the flags (`-e`, network-mode conflicts, `-p`,
/// `--expose`), then the daemon's first check of the config (`--hostname`). The CLI runs
/// them before the lab is opened, so a bad flag builds nothing, not even a lab.
pub fn check_flags(spec: &RunSpec) -> Result<()> {
    super::privileges::Privileges::docker(&spec.cap_add, &spec.cap_drop, spec.privileged)
        .map_err(crate::error::Error::msg)?;
    for e in &spec.env {
        crate::docker::flags::validate_env(e, |_| None)
            .map_err(|m| Error::with_code(m, EXIT_REFUSED))?;
    }
    let mode = NetworkMode::parse(&spec.network)?;
    driver::validate(
        &mode,
        &driver::ModeFlags {
            hostname: spec.hostname.is_some(),
            links: &spec.links,
            dns: &spec.dns,
            add_hosts: &spec.add_hosts,
            mac_address: spec.mac_address.is_some(),
            publish: !spec.publish.is_empty() || spec.publish_all,
            expose: !spec.expose.is_empty(),
        },
    )?;
    for e in &spec.expose {
        crate::ports::parse_expose(e)?;
    }
    for p in &spec.publish {
        crate::ports::parse_publish(p)?;
    }
    if let Some(h) = spec.hostname.as_deref().filter(|h| !h.is_empty()) {
        crate::docker::flags::validate_hostname(h).map_err(|m| {
            Error::with_code(format!("Error response from daemon: {m}"), EXIT_REFUSED)
        })?;
    }
    Ok(())
}

/// Validate a `run` request and build the new container's record (status `Creating`).
/// Nothing is written and nothing in the kernel changes yet.
pub fn create_record(d: &Daemon, spec: &RunSpec) -> Result<ContainerRecord> {
    let lab = d.lab;
    check_flags(spec)?;
    let image: Option<&BuiltinImage> = match &spec.image {
        Some(name) => Some(
            image::find_image(name)
                .ok_or_else(|| Error::with_code(image::unknown_image_error(name), EXIT_REFUSED))?,
        ),
        None => None,
    };
    let mode = NetworkMode::parse(&spec.network)?;
    let not_yet = |flag: &str, feature: &str| {
        Error::with_code(
            format!("{flag} is not supported yet in dockernet (it comes with {feature})"),
            EXIT_REFUSED,
        )
    };
    let publishing = !spec.publish.is_empty() || spec.publish_all;
    if mode.is_host() && publishing {
        eprintln!("WARNING: Published ports are discarded when using host network mode");
    }
    let mut extra_exposed = Vec::new();
    for e in &spec.expose {
        for (port, proto) in crate::ports::parse_expose(e)? {
            extra_exposed.push(format!("{port}/{proto}"));
        }
    }
    if !spec.dns.is_empty() || !spec.add_hosts.is_empty() || spec.mac_address.is_some() {
        return Err(not_yet(
            "--dns/--add-host/--mac-address",
            "DNS and user-defined networks",
        ));
    }
    // Container mode: the target must run now; its hostname becomes ours.
    let (network_mode, shared_hostname, net) = match &mode {
        NetworkMode::Container(t) => {
            let target = driver::join_target(&d.store, t)?;
            (
                format!("container:{}", target.id),
                Some(target.hostname.clone()),
                None,
            )
        }
        NetworkMode::Network(name) => {
            let net = d
                .store
                .find_network(name)
                .map_err(|_| driver::refuse(format!("network {name} not found")))?;
            driver::overlay::check_attachable(&net)?;
            let hostname = mode.is_host().then(|| d.rec.host.hostname.clone());
            // Docker records the name as given (`mynet`), or `bridge` / `host` / `none`.
            (name.clone(), hostname, Some(net))
        }
    };
    let user_defined = net.as_ref().is_some_and(|n| !n.predefined);
    let ip = match &spec.ip {
        Some(_) if !user_defined => {
            return Err(driver::refuse(crate::ipam::ERR_IP_ON_PREDEFINED_NETWORK));
        }
        Some(_) if !net.as_ref().is_some_and(|n| n.user_subnet) => {
            return Err(driver::refuse(crate::ipam::ERR_IP_NEEDS_USER_SUBNET));
        }
        Some(ip) => Some(ip.parse::<std::net::Ipv4Addr>().map_err(|_| {
            Error::with_code(
                format!("invalid argument \"{ip}\" for \"--ip\" flag: invalid IPv4 address"),
                EXIT_REFUSED,
            )
        })?),
        None => None,
    };
    if !spec.aliases.is_empty() && !user_defined {
        return Err(driver::refuse(
            "network-scoped alias is supported only for containers in user defined networks",
        ));
    }
    // Docker's names are stored as `/NAME`: `--name /c1` is the name `c1` (one slash;
    // the error quotes the name as given).
    let given_name = spec.name.as_deref();
    let bare_name = given_name.map(|n| n.strip_prefix('/').unwrap_or(n));
    let links = resolve_links(d, &spec.links, net.as_ref(), bare_name)?;
    if let (Some(given), Some(n)) = (given_name, bare_name) {
        crate::docker::validate_name(given).map_err(|e| {
            Error::with_code(format!("Error response from daemon: {e}"), EXIT_REFUSED)
        })?;
        if let Some(other) = d.store.container_by_name(n) {
            return Err(Error::with_code(
                format!(
                    "Error response from daemon: Conflict. The container name \"/{n}\" is already in use by container \"{other}\". You have to remove (or rename) that container to be able to reuse that name.",
                ),
                EXIT_REFUSED,
            ));
        }
    }
    let cmd: Vec<String> = if !spec.cmd.is_empty() {
        spec.cmd.clone()
    } else if let Some(img) = image {
        img.default_cmd.iter().map(|s| s.to_string()).collect()
    } else {
        return Err(Error::with_code(
            format!(
                "no image and no command: give a built-in image ({}) or `-- CMD ARGS`",
                image::image_names().join(", ")
            ),
            EXIT_REFUSED,
        ));
    };
    let path = image::container_path(lab, image)?;
    let id = random_hex(64);
    let name = match bare_name {
        Some(n) => n.to_string(),
        None => crate::docker::random_name(crate::util::random_u64(), &|n| {
            d.store.container_by_name(n).is_some()
        }),
    };
    let hostname = shared_hostname
        .or_else(|| spec.hostname.clone().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| id[..12].to_string());
    // `-e NAME` takes NAME's value from this command's environment, as the docker CLI
    // does (checked above).
    let user_env = crate::docker::flags::user_env(&spec.env)?;
    let mut env = vec![format!("PATH={path}"), format!("HOSTNAME={hostname}")];
    if spec.tty {
        env.push("TERM=xterm".into());
    }
    env.extend(user_env.iter().cloned());
    env.push("HOME=/root".into());
    let netns = lab.container_ns(&name, &id);
    let attachments = match &net {
        Some(n) => vec![Attachment {
            network_id: n.id.clone(),
            network: n.name.clone(),
            ip,
            aliases: spec.aliases.clone(),
        }],
        None => Vec::new(),
    };
    let rec = ContainerRecord {
        id: id.clone(),
        name,
        // As typed (`redis:alpine`), as Docker's `ps` and `Config.Image` show it; every
        // reader resolves it with `find_image`.
        image: image.and(spec.image.clone()),
        cmd,
        hostname,
        env,
        user_env,
        network_mode,
        netns,
        sandbox_steps: Vec::new(),
        attachments,
        endpoints: Vec::new(),
        links,
        link_env: Vec::new(),
        exposed: {
            let mut v: Vec<String> = image
                .map(|i| {
                    i.exposed_ports
                        .iter()
                        .map(|(p, proto)| format!("{p}/{proto}"))
                        .collect()
                })
                .unwrap_or_default();
            for e in extra_exposed {
                if !v.contains(&e) {
                    v.push(e);
                }
            }
            v
        },
        status: ContainerStatus::Creating,
        creator: ProcRef::of(std::process::id() as i32),
        shim: None,
        init: None,
        created: crate::util::now_unix(),
        started: None,
        finished: None,
        exit_code: None,
        detached: spec.detach,
        interactive: spec.interactive,
        tty: spec.tty,
        auto_remove: spec.auto_remove,
        port_specs: Vec::new(),
        publish_all: spec.publish_all,
        ports: Vec::new(),
        proxies: Vec::new(),
        dns: None,
        cap_add: spec.cap_add.clone(),
        cap_drop: spec.cap_drop.clone(),
        privileged: spec.privileged,
    };
    let mut rec = rec;
    // Only bridge networks publish; host mode discards the ports (warned above).
    if net.as_ref().is_some_and(|n| n.driver == "bridge") {
        rec.port_specs = publish::requested(&rec, &spec.publish, spec.publish_all)?;
    }
    Ok(rec)
}

/// `--link NAME[:ALIAS]`: on the default bridge a real legacy link to a running
/// container on it (Docker's refusals otherwise); on a user-defined network only an
/// alias the linking container knows, whose target need not exist yet.
fn resolve_links(
    d: &Daemon,
    specs: &[String],
    net: Option<&NetworkRecord>,
    own_name: Option<&str>,
) -> Result<Vec<LinkRecord>> {
    let mut out = Vec::new();
    let default_bridge = net.is_some_and(|n| n.is_default_bridge());
    for s in specs {
        let l = links::parse_link(s).map_err(|e| Error::with_code(e.to_string(), EXIT_REFUSED))?;
        let parent = own_name.unwrap_or("");
        let target = d.store.find_container(&l.name).ok();
        if default_bridge {
            // Docker's registerLinks (at create) fails first for a name it cannot find.
            if target.is_none() {
                return Err(driver::refuse(format!(
                    "could not get container for {}: No such container: {}",
                    l.name, l.name
                )));
            }
            let running = target.as_ref().is_some_and(|t| {
                t.status == ContainerStatus::Running && t.init.is_some_and(|p| p.alive())
            });
            let Some(t) = target.filter(|_| running) else {
                return Err(driver::refuse(format!(
                    "Cannot link to a non running container: /{} AS /{parent}/{}",
                    l.name, l.alias
                )));
            };
            if !t.endpoints.iter().any(|e| e.bridge == "docker0") {
                return Err(driver::refuse(format!(
                    "Cannot link to /{}, as it does not belong to the default network",
                    t.name
                )));
            }
            out.push(LinkRecord {
                name: t.name.clone(),
                alias: l.alias,
                target_id: t.id,
            });
        } else {
            out.push(LinkRecord {
                name: l.name,
                alias: l.alias,
                target_id: target.map(|t| t.id).unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

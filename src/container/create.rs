//! `run`'s first half: validate the request the way Docker does and record the new
//! container. Nothing in the kernel changes here.

use super::publish;
use crate::driver::{self, NetworkMode};
use crate::error::{EXIT_REFUSED, Error, Result};
use crate::image::{self, BuiltinImage};
use crate::lab::{ContainerRecord, ContainerStatus, Lab, LabState};
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
}

/// Validate a `run` request and record the new container (status `Creating`).
/// Nothing in the kernel changes yet.
pub fn create_record(lab: &Lab, st: &mut LabState, spec: &RunSpec) -> Result<String> {
    let image: Option<&BuiltinImage> = match &spec.image {
        Some(name) => Some(
            image::find_image(name)
                .ok_or_else(|| Error::with_code(image::unknown_image_error(name), EXIT_REFUSED))?,
        ),
        None => None,
    };
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
    let not_yet = |flag: &str, feature: &str| {
        Error::with_code(
            format!("{flag} is not supported yet in dockernet (it comes with {feature})"),
            EXIT_REFUSED,
        )
    };
    let publishing = !spec.publish.is_empty() || spec.publish_all;
    if mode == NetworkMode::Host && publishing {
        eprintln!("WARNING: Published ports are discarded when using host network mode");
    }
    let mut extra_exposed = Vec::new();
    for e in &spec.expose {
        for (port, proto) in crate::ports::parse_expose(e)? {
            extra_exposed.push(format!("{port}/{proto}"));
        }
    }
    // Validate -p now (bad specs are refused before anything is built).
    for p in &spec.publish {
        crate::ports::parse_publish(p)?;
    }
    if !spec.links.is_empty() {
        return Err(not_yet("--link", "legacy links"));
    }
    if !spec.dns.is_empty() || !spec.add_hosts.is_empty() || spec.mac_address.is_some() {
        return Err(not_yet(
            "--dns/--add-host/--mac-address",
            "DNS and user-defined networks",
        ));
    }
    // Container mode: the target must run now; its hostname becomes ours.
    let (network, shared_hostname) = match &mode {
        NetworkMode::Container(t) => {
            let target = driver::join_target(st, t)?;
            (
                mode.recorded(Some(&target.id)),
                Some(target.hostname.clone()),
            )
        }
        NetworkMode::Host => (
            mode.recorded(None),
            Some(crate::lab::addr::HOST_HOSTNAME.to_string()),
        ),
        _ => (mode.recorded(None), None),
    };
    if let Some(n) = &spec.name {
        crate::docker::validate_name(n).map_err(|e| {
            Error::with_code(format!("Error response from daemon: {e}"), EXIT_REFUSED)
        })?;
        if let Some(other) = st.containers.values().find(|c| &c.name == n) {
            return Err(Error::with_code(
                format!(
                    "Error response from daemon: Conflict. The container name \"/{n}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                    other.id
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
            "no image and no command: give a built-in image (busybox, httpd, redis, tomcat) or `-- CMD ARGS`",
            EXIT_REFUSED,
        ));
    };
    let path = image::container_path(lab, image)?;
    let id = random_hex(64);
    let name = match &spec.name {
        Some(n) => n.clone(),
        None => crate::docker::random_name(crate::util::random_u64(), &|n| {
            st.containers.values().any(|c| c.name == n)
        }),
    };
    let hostname = shared_hostname
        .or_else(|| spec.hostname.clone())
        .unwrap_or_else(|| id[..12].to_string());
    let mut env = vec![format!("PATH={path}"), format!("HOSTNAME={hostname}")];
    if spec.tty {
        env.push("TERM=xterm".into());
    }
    env.extend(spec.env.iter().cloned());
    env.push("HOME=/root".into());
    let netns = lab.container_ns(&name);
    let rec = ContainerRecord {
        id: id.clone(),
        name,
        image: image.map(|i| i.name.to_string()),
        cmd,
        hostname,
        env,
        network_mode: network,
        netns,
        endpoints: Vec::new(),
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
        steps: Vec::new(),
        port_specs: Vec::new(),
        ports: Vec::new(),
        proxies: Vec::new(),
    };
    let mut rec = rec;
    // Only bridge containers publish; host mode discards the ports (warned above).
    if mode == NetworkMode::Bridge {
        rec.port_specs = publish::requested(&rec, &spec.publish, spec.publish_all)?;
    }
    st.containers.insert(id.clone(), rec);
    Ok(id)
}

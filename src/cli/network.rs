//! `network` commands, with Docker's flags, outputs and refusals (reference §7, §9).

use super::{open_lab, read_lab};
use crate::container::ConnectSpec;
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::network::{CreateSpec, NetworkFilter};
use crate::step::{Executor, Mode};
use clap::Subcommand;

/// `network` subcommands.
#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Create a network.
    Create {
        /// Driver to manage the network: bridge, overlay, macvlan (-o parent=eth0), ipvlan
        /// (where the kernel has it).
        #[arg(short = 'd', long, default_value = "bridge")]
        driver: String,
        /// Subnet in CIDR format that represents a network segment.
        #[arg(long)]
        subnet: Vec<String>,
        /// IPv4 gateway for the master subnet.
        #[arg(long)]
        gateway: Vec<String>,
        /// Allocate container IPs from a sub-range.
        #[arg(long = "ip-range")]
        ip_range: Vec<String>,
        /// Restrict external access to the network.
        #[arg(long)]
        internal: bool,
        /// Enable manual container attachment.
        #[arg(long)]
        attachable: bool,
        /// Set metadata on a network (KEY=VALUE).
        #[arg(long)]
        label: Vec<String>,
        /// Set driver specific options (com.docker.network.bridge.name=NAME, ...enable_icc=false, ...enable_ip_masquerade=false).
        #[arg(short = 'o', long = "opt")]
        opt: Vec<String>,
        /// Network name.
        name: String,
    },
    /// List networks.
    #[command(visible_alias = "list")]
    Ls {
        /// Only display network IDs.
        #[arg(short = 'q', long)]
        quiet: bool,
        /// Do not truncate the output.
        #[arg(long)]
        no_trunc: bool,
        /// Provide filter values (e.g. driver=bridge, name=my, type=custom).
        #[arg(short = 'f', long = "filter")]
        filter: Vec<String>,
        /// Format output: `table` (default), `json`, or a Go template such as
        /// `{{.Name}}` or `table {{.ID}}\t{{.Name}}`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Display detailed information on one or more networks.
    Inspect {
        /// Format output using a custom template: 'json' prints compact JSON;
        /// '{{range .IPAM.Config}}{{.Subnet}}{{end}}' executes the Go template for each network.
        #[arg(short = 'f', long)]
        format: Option<String>,
        /// Networks.
        #[arg(required = true)]
        #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::networks))]
        networks: Vec<String>,
    },
    /// Remove one or more networks.
    #[command(visible_alias = "remove")]
    Rm {
        /// Networks.
        #[arg(required = true)]
        #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::networks))]
        networks: Vec<String>,
    },
    /// Remove all unused networks.
    Prune {
        /// Do not prompt for confirmation.
        #[arg(short = 'f', long)]
        force: bool,
    },
    /// Connect a container to a network.
    Connect {
        /// IPv4 address (e.g. 172.30.100.104).
        #[arg(long)]
        ip: Option<String>,
        /// Add network-scoped alias for the container.
        #[arg(long)]
        alias: Vec<String>,
        /// Network.
        #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::networks))]
        network: String,
        /// Container.
        #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::containers))]
        container: String,
    },
    /// Disconnect a container from a network.
    Disconnect {
        /// Force the container to disconnect from a network.
        #[arg(short = 'f', long)]
        force: bool,
        /// Network.
        #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::networks))]
        network: String,
        /// Container.
        #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::containers))]
        container: String,
    },
}

/// `network ...`
pub async fn network(lab: &Lab, mode: Mode, c: NetworkCommand) -> Result<i32> {
    match c {
        NetworkCommand::Create {
            driver,
            subnet,
            gateway,
            ip_range,
            internal,
            attachable,
            label,
            opt,
            name,
        } => {
            let spec = CreateSpec {
                name,
                driver,
                ipam: crate::ipam::IpamRequest {
                    subnets: subnet,
                    gateways: gateway,
                    ip_ranges: ip_range,
                },
                internal,
                attachable,
                labels: label,
                options: opt,
            };
            let mut ex = Executor::new(mode);
            let (_lock, mut d) = open_lab(lab, &mut ex).await?;
            let r = crate::network::create(&mut d, &mut ex, &spec).await;
            ex.close().await;
            let net = r?;
            if mode != Mode::DryRun {
                println!("{}", net.id);
            }
            Ok(0)
        }
        NetworkCommand::Ls {
            quiet,
            no_trunc,
            filter,
            format,
        } => {
            let filter = NetworkFilter::parse(&filter)?;
            let d = read_lab(lab, mode).await?;
            let nets: Vec<_> = d
                .store
                .networks()?
                .into_iter()
                .filter(|n| filter.matches(n, d.store.member_count(&n.id) > 0))
                .collect();
            let id = |i: &str| {
                if no_trunc {
                    i.to_string()
                } else {
                    i[..12].to_string()
                }
            };
            if quiet {
                for n in &nets {
                    println!("{}", id(&n.id));
                }
            } else if let Some(f) = super::format::custom_list(&format, super::format::NETWORK_RAW)
            {
                let rows: Vec<_> = nets
                    .iter()
                    .map(|n| super::format::network_fields(n, &id(&n.id)))
                    .collect();
                return super::format::print_list(&f, super::format::NETWORK_HEADERS, &rows);
            } else if format == "json" {
                for n in &nets {
                    println!("{}", crate::network::ls_json(n, &id(&n.id)));
                }
            } else {
                let rows: Vec<Vec<String>> = nets
                    .iter()
                    .map(|n| {
                        vec![
                            id(&n.id),
                            n.name.clone(),
                            n.driver.clone(),
                            n.scope().into(),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    crate::docker::render_table(&["NETWORK ID", "NAME", "DRIVER", "SCOPE"], &rows)
                );
            }
            Ok(0)
        }
        NetworkCommand::Inspect { networks, format } => {
            let format = super::format::InspectFormat::parse(format.as_deref())?;
            let d = read_lab(lab, mode).await?;
            let mut out = Vec::new();
            let mut failed = false;
            for key in &networks {
                match d.store.find_network(key) {
                    Ok(n) => out.push(crate::network::inspect_json(&d, &n)),
                    Err(e) => {
                        eprintln!("dockernet: {e}");
                        failed = true;
                    }
                }
            }
            // Docker prints `[]` before the error when nothing was found; one line (the
            // error) says it all.
            if !out.is_empty() || !failed || format.is_template() {
                failed |= format.print(&out);
            }
            Ok(if failed { 1 } else { 0 })
        }
        NetworkCommand::Rm { networks } => {
            let mut ex = Executor::new(mode);
            let (_lock, mut d) = open_lab(lab, &mut ex).await?;
            let mut failed = false;
            for key in &networks {
                match crate::network::remove(&mut d, &mut ex, key).await {
                    Ok(()) => println!("{key}"),
                    Err(e) => {
                        eprintln!("dockernet: {e}");
                        failed = true;
                    }
                }
            }
            ex.close().await;
            Ok(if failed { 1 } else { 0 })
        }
        NetworkCommand::Prune { force } => {
            if !force && !confirm_prune()? {
                return Ok(0);
            }
            let mut ex = Executor::new(mode);
            let (_lock, mut d) = open_lab(lab, &mut ex).await?;
            let r = crate::network::prune(&mut d, &mut ex).await;
            ex.close().await;
            let removed = r?;
            if !removed.is_empty() {
                println!("Deleted Networks:");
                for n in removed {
                    println!("{n}");
                }
            }
            Ok(0)
        }
        NetworkCommand::Connect {
            ip,
            alias,
            network,
            container,
        } => {
            let ip = match ip {
                Some(s) => Some(s.parse().map_err(|_| {
                    Error::msg(format!(
                        "invalid argument \"{s}\" for \"--ip\" flag: invalid IPv4 address"
                    ))
                })?),
                None => None,
            };
            let mut ex = Executor::new(mode);
            let (_lock, mut d) = open_lab(lab, &mut ex).await?;
            let r = async {
                let net = d.store.find_network(&network)?;
                let id = d.store.find_container(&container)?.id;
                let mut rec = settled(&mut d, &mut ex, &id, &container).await?;
                crate::container::connect(
                    &mut d,
                    &mut ex,
                    &mut rec,
                    &net,
                    &ConnectSpec { ip, aliases: alias },
                )
                .await
            }
            .await;
            ex.close().await;
            // The docker CLI exits 1 on any daemon error here (only run/create use 125).
            r.map(|_| 0).map_err(|e| Error::msg(e.message()))
        }
        NetworkCommand::Disconnect {
            force,
            network,
            container,
        } => {
            let mut ex = Executor::new(mode);
            let (_lock, mut d) = open_lab(lab, &mut ex).await?;
            let r = async {
                let net = d.store.find_network(&network)?;
                let found = d.store.find_container(&container);
                let id = match found {
                    Ok(c) => c.id,
                    // -f: forget a container that no longer exists from the network.
                    Err(_) if force => {
                        for m in d
                            .store
                            .members(&net.id)
                            .into_iter()
                            .filter(|m| m.name == container)
                        {
                            d.store.remove_member(&ex, &net.id, &m.container)?;
                        }
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                };
                let mut rec = settled(&mut d, &mut ex, &id, &container).await?;
                crate::container::disconnect(&mut d, &mut ex, &mut rec, &net).await
            }
            .await;
            ex.close().await;
            r.map(|_| 0).map_err(|e| Error::msg(e.message()))
        }
    }
}

/// A container's record brought up to date first (its process may have ended since the
/// last command): connect and disconnect act on what the container is now.
async fn settled(
    d: &mut crate::lab::Daemon<'_>,
    ex: &mut Executor,
    id: &str,
    given: &str,
) -> Result<crate::lab::ContainerRecord> {
    crate::container::settle(d, ex, id).await?.ok_or_else(|| {
        Error::msg(format!(
            "Error response from daemon: No such container: {given}"
        ))
    })
}

/// Docker's prune prompt; false unless the answer is y / yes.
fn confirm_prune() -> Result<bool> {
    use std::io::Write;
    eprint!(
        "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] "
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

//! `network` commands. The three predefined networks exist in every lab; user-defined
//! networks come with a later issue.

use super::{Format, open_lab};
use crate::error::{Error, Result};
use crate::lab::{Lab, LabState};
use crate::step::{Executor, Mode};
use clap::Subcommand;
use serde_json::json;

/// `network` subcommands.
#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// List networks.
    Ls {
        /// Only display network IDs.
        #[arg(short = 'q', long)]
        quiet: bool,
        /// Do not truncate the output.
        #[arg(long)]
        no_trunc: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Display detailed information on one or more networks.
    Inspect {
        /// Networks.
        #[arg(required = true)]
        networks: Vec<String>,
    },
}

/// (name, id, driver) of the predefined networks, sorted by name like `network ls`.
fn predefined(st: &LabState) -> Vec<(&'static str, &str, &'static str)> {
    vec![
        ("bridge", st.bridge_network_id.as_str(), "bridge"),
        ("host", st.host_network_id.as_str(), "host"),
        ("none", st.none_network_id.as_str(), "null"),
    ]
}

/// `network ...`
pub async fn network(lab: &Lab, mode: Mode, c: NetworkCommand) -> Result<i32> {
    let mut ex = Executor::new(mode);
    let (_lock, st) = open_lab(lab, &mut ex).await?;
    ex.close().await;
    match c {
        NetworkCommand::Ls {
            quiet,
            no_trunc,
            format,
        } => {
            let nets = predefined(&st);
            let id = |i: &str| {
                if no_trunc {
                    i.to_string()
                } else {
                    i[..12].to_string()
                }
            };
            if quiet {
                for (_, i, _) in &nets {
                    println!("{}", id(i));
                }
            } else if format == Format::Json {
                for (n, i, d) in &nets {
                    println!(
                        "{}",
                        json!({"CreatedAt": crate::view::docker_inspect::rfc3339(st.created), "Driver": d, "ID": id(i), "IPv4": "true", "IPv6": "false", "Internal": "false", "Labels": "", "Name": n, "Scope": "local"})
                    );
                }
            } else {
                let rows: Vec<Vec<String>> = nets
                    .iter()
                    .map(|(n, i, d)| vec![id(i), n.to_string(), d.to_string(), "local".into()])
                    .collect();
                print!(
                    "{}",
                    crate::docker::render_table(&["NETWORK ID", "NAME", "DRIVER", "SCOPE"], &rows)
                );
            }
            Ok(0)
        }
        NetworkCommand::Inspect { networks } => {
            let mut out = Vec::new();
            let mut failed = false;
            for key in &networks {
                let found = predefined(&st)
                    .into_iter()
                    .find(|(n, i, _)| n == key || (key.len() >= 3 && i.starts_with(key.as_str())));
                match found {
                    Some((name, id, driver)) => out.push(network_json(&st, name, id, driver)),
                    None => {
                        eprintln!("dockernet: Error response from daemon: network {key} not found");
                        failed = true;
                    }
                }
            }
            if out.is_empty() && failed {
                return Err(Error::msg("no such network"));
            }
            println!("{}", crate::view::docker_inspect::to_docker_json(&out));
            Ok(if failed { 1 } else { 0 })
        }
    }
}

fn network_json(st: &LabState, name: &str, id: &str, driver: &str) -> serde_json::Value {
    let containers: serde_json::Map<String, serde_json::Value> = st
        .containers
        .values()
        .flat_map(|c| c.endpoints.iter().map(move |e| (c, e)))
        .filter(|(_, e)| e.network == name)
        .map(|(c, e)| {
            (
                c.id.clone(),
                json!({"Name": c.name, "EndpointID": e.endpoint_id, "MacAddress": e.mac, "IPv4Address": format!("{}/{}", e.ip, e.prefix_len), "IPv6Address": ""}),
            )
        })
        .chain(
            // host and none list their containers without addresses.
            st.containers
                .values()
                .filter(|c| {
                    (name == "host" || name == "none")
                        && c.network_mode == name
                        && c.status == crate::lab::ContainerStatus::Running
                })
                .map(|c| {
                    (
                        c.id.clone(),
                        json!({"Name": c.name, "EndpointID": c.id.chars().rev().collect::<String>(), "MacAddress": "", "IPv4Address": "", "IPv6Address": ""}),
                    )
                }),
        )
        .collect();
    let (config, options) = if name == "bridge" {
        (
            json!([{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]),
            json!({
                "com.docker.network.bridge.default_bridge": "true",
                "com.docker.network.bridge.enable_icc": "true",
                "com.docker.network.bridge.enable_ip_masquerade": "true",
                "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
                "com.docker.network.bridge.name": "docker0",
                "com.docker.network.driver.mtu": "1500"
            }),
        )
    } else {
        (json!([]), json!({}))
    };
    json!({
        "Name": name,
        "Id": id,
        "Created": crate::view::docker_inspect::rfc3339(st.created),
        "Scope": "local",
        "Driver": driver,
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": null, "Config": config},
        "Internal": false,
        "Attachable": false,
        "Ingress": false,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": false,
        "Containers": containers,
        "Options": options,
        "Labels": {}
    })
}

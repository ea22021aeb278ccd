//! What `network inspect` and `network ls --format json` print: Docker's JSON, with
//! the field order of the ≤27 API (reference §7.3).

use crate::lab::{Daemon, NetworkRecord};
use crate::view::docker_inspect::rfc3339;
use serde_json::{Value, json};

/// The inspect object of one network.
pub fn inspect_json(d: &Daemon, net: &NetworkRecord) -> Value {
    let mut members = d.store.members(&net.id);
    members.sort_by(|a, b| a.container.cmp(&b.container));
    let containers: serde_json::Map<String, Value> = members
        .into_iter()
        .map(|m| {
            (
                m.container.clone(),
                json!({
                    "Name": m.name,
                    "EndpointID": m.endpoint_id,
                    "MacAddress": m.mac,
                    "IPv4Address": m.ipv4,
                    "IPv6Address": ""
                }),
            )
        })
        .collect();
    let config: Vec<Value> = net
        .ipam
        .iter()
        .map(|p| {
            let mut m = serde_json::Map::new();
            m.insert("Subnet".into(), json!(p.subnet.to_string()));
            if let Some(r) = p.ip_range {
                m.insert("IPRange".into(), json!(r.to_string()));
            }
            m.insert("Gateway".into(), json!(p.gateway.to_string()));
            Value::Object(m)
        })
        .collect();
    // The daemon creates the predefined networks with no IPAM options (null); networks
    // created through the API get an empty map.
    let ipam_options = if net.predefined {
        Value::Null
    } else {
        json!({})
    };
    let mut v = json!({
        "Name": net.name,
        "Id": net.id,
        "Created": rfc3339(net.created),
        "Scope": net.scope(),
        "Driver": net.driver,
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": ipam_options, "Config": config},
        "Internal": net.internal,
        "Attachable": net.attachable,
        "Ingress": false,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": false,
        "Containers": containers,
        "Options": net.options,
        "Labels": net.labels
    });
    if net.driver == "overlay" {
        // Swarm lists the nodes that have the network, by hostname and address: the
        // place to see which host is where (the containers listed are this host's).
        let peers: Vec<Value> = crate::overlay::up_hosts(d.lab)
            .into_iter()
            .filter(|(h, _)| h.store().network(&net.id).ok().flatten().is_some())
            .map(|(_, r)| json!({"Name": r.host.hostname, "IP": r.host.lan.to_string()}))
            .collect();
        v["Peers"] = json!(peers);
    }
    v
}

/// One line of `network ls --format json` (Docker's `{{json .}}` of a network row).
pub fn ls_json(net: &NetworkRecord, id: &str) -> Value {
    let labels: Vec<String> = net.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    json!({
        "CreatedAt": rfc3339(net.created),
        "Driver": net.driver,
        "ID": id,
        "IPv4": "true",
        "IPv6": "false",
        "Internal": net.internal.to_string(),
        "Labels": labels.join(","),
        "Name": net.name,
        "Scope": net.scope()
    })
}

//! `docker inspect` for containers: Docker's JSON shape (field order of the ≤27 API),
//! indented with four spaces like the Docker CLI.

use crate::lab::{ContainerRecord, ContainerStatus, Daemon};
use serde_json::{Value, json};

/// RFC 3339 UTC time with nanoseconds, as Docker prints `Created`/`StartedAt`.
pub fn rfc3339(unix: f64) -> String {
    if unix <= 0.0 {
        return "0001-01-01T00:00:00Z".into();
    }
    let secs = unix.floor() as i64;
    let nanos = ((unix - unix.floor()) * 1e9) as u64;
    let t = crate::image::clock::Utc::from_unix_millis(secs * 1000);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second, nanos
    )
}

/// Docker's `State.Status` word for a record.
pub fn state_word(c: &ContainerRecord) -> &'static str {
    match c.status {
        ContainerStatus::Creating => "created",
        ContainerStatus::Running => "running",
        ContainerStatus::Exited => "exited",
    }
}

/// The inspect object of one container.
pub fn container_json(d: &Daemon, c: &ContainerRecord) -> Value {
    let dir = d.store.container_dir(&c.id);
    let path = |f: &str| dir.join(f).display().to_string();
    let running = c.status == ContainerStatus::Running;
    // The top-level NetworkSettings fields describe the default bridge only (Docker's
    // legacy fields); every network is under Networks.
    let ep = c.endpoints.iter().find(|e| e.bridge == "docker0");
    let exposed: serde_json::Map<String, Value> =
        c.exposed.iter().map(|p| (p.clone(), json!({}))).collect();
    let short = &c.id[..12.min(c.id.len())];
    let networks: serde_json::Map<String, Value> = c
        .attachments
        .iter()
        .map(|a| {
            let e = c.endpoints.iter().find(|e| e.network_id == a.network_id);
            let user_defined = !matches!(a.network.as_str(), "bridge" | "host" | "none");
            let text = |f: fn(&crate::lab::Endpoint) -> String| e.map(f).unwrap_or_default();
            let mut dns_names: Vec<String> = vec![c.name.clone()];
            dns_names.extend(a.aliases.iter().cloned());
            dns_names.push(short.to_string());
            (
                a.network.clone(),
                json!({
                    "IPAMConfig": a.ip.map(|ip| json!({"IPv4Address": ip.to_string()})),
                    "Links": if c.links.is_empty() || a.network != "bridge" { Value::Null } else {
                        json!(c.links.iter().map(|l| format!("{}:{}", l.name, l.alias)).collect::<Vec<_>>())
                    },
                    "Aliases": if a.aliases.is_empty() { Value::Null } else { json!(a.aliases) },
                    "MacAddress": text(|e| e.mac.clone()),
                    "NetworkID": a.network_id,
                    "EndpointID": text(|e| e.endpoint_id.clone()),
                    "Gateway": text(|e| if e.has_interface() { e.gateway.to_string() } else { String::new() }),
                    "IPAddress": text(|e| if e.has_interface() { e.ip.to_string() } else { String::new() }),
                    "IPPrefixLen": e.map(|e| e.prefix_len).unwrap_or(0),
                    "IPv6Gateway": "",
                    "GlobalIPv6Address": "",
                    "GlobalIPv6PrefixLen": 0,
                    "DriverOpts": null,
                    "DNSNames": if user_defined && e.is_some() { json!(dns_names) } else { Value::Null }
                }),
            )
        })
        .collect();
    // Container mode has no sandbox of its own.
    let sandbox_key = if running && !c.network_mode.starts_with("container:") {
        crate::netns::path(&c.netns).display().to_string()
    } else {
        String::new()
    };
    let s = |v: Option<String>| v.unwrap_or_default();
    json!({
        "Id": c.id,
        "Created": rfc3339(c.created),
        "Path": c.cmd.first().cloned().unwrap_or_default(),
        "Args": c.cmd.iter().skip(1).collect::<Vec<_>>(),
        "State": {
            "Status": state_word(c),
            "Running": running,
            "Paused": false,
            "Restarting": false,
            "OOMKilled": false,
            "Dead": false,
            "Pid": if running { c.init.map(|p| p.pid).unwrap_or(0) } else { 0 },
            "ExitCode": c.exit_code.unwrap_or(0),
            "Error": "",
            "StartedAt": rfc3339(c.started.unwrap_or(0.0)),
            "FinishedAt": rfc3339(c.finished.unwrap_or(0.0))
        },
        "Image": c.image.clone().unwrap_or_default(),
        "ResolvConfPath": path("resolv.conf"),
        "HostnamePath": path("hostname"),
        "HostsPath": path("hosts"),
        "LogPath": path("log"),
        "Name": format!("/{}", c.name),
        "RestartCount": 0,
        "Driver": "dockernet",
        "Platform": "linux",
        "HostConfig": {
            "NetworkMode": c.network_mode,
            "PortBindings": port_bindings(c),
            "AutoRemove": c.auto_remove,
            "Links": if c.links.is_empty() { Value::Null } else {
                json!(c.links.iter().map(|l| format!("/{}:/{}/{}", l.name, c.name, l.alias)).collect::<Vec<_>>())
            },
            "PublishAllPorts": c.publish_all
        },
        "Config": {
            "Hostname": c.hostname,
            "Domainname": "",
            "User": "",
            "AttachStdin": c.interactive && !c.detached,
            "AttachStdout": !c.detached,
            "AttachStderr": !c.detached,
            "ExposedPorts": if exposed.is_empty() { Value::Null } else { Value::Object(exposed) },
            "Tty": c.tty,
            "OpenStdin": c.interactive,
            "Env": c.env,
            "Cmd": c.cmd,
            "Image": c.image.clone().unwrap_or_default()
        },
        "NetworkSettings": {
            "Bridge": "",
            "SandboxID": c.id.chars().rev().collect::<String>(),
            "SandboxKey": sandbox_key,
            "Ports": if running { ports(c) } else { json!({}) },
            "HairpinMode": false,
            "LinkLocalIPv6Address": "",
            "LinkLocalIPv6PrefixLen": 0,
            "SecondaryIPAddresses": null,
            "SecondaryIPv6Addresses": null,
            "EndpointID": s(ep.map(|e| e.endpoint_id.clone())),
            "Gateway": s(ep.map(|e| e.gateway.to_string())),
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "IPAddress": s(ep.map(|e| e.ip.to_string())),
            "IPPrefixLen": ep.map(|e| e.prefix_len).unwrap_or(0),
            "IPv6Gateway": "",
            "MacAddress": s(ep.map(|e| e.mac.clone())),
            "Networks": networks
        }
    })
}

/// `HostConfig.PortBindings`: what was asked for ("" for a random host port).
fn port_bindings(c: &ContainerRecord) -> Value {
    let mut m = serde_json::Map::new();
    for p in &c.port_specs {
        let key = format!("{}/{}", p.container_port, p.proto);
        let entry = json!({"HostIp": p.host_ip, "HostPort": p.host_port.map(|h| h.to_string()).unwrap_or_default()});
        m.entry(key)
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("array")
            .push(entry);
    }
    Value::Object(m)
}

/// `NetworkSettings.Ports`: every exposed or published port; null when not published.
fn ports(c: &ContainerRecord) -> Value {
    let mut m = serde_json::Map::new();
    for e in &c.exposed {
        m.insert(e.clone(), Value::Null);
    }
    for b in &c.ports {
        let key = format!("{}/{}", b.container_port, b.proto);
        let entry = json!({"HostIp": b.host_ip, "HostPort": b.host_port.to_string()});
        let slot = m.entry(key).or_insert(Value::Null);
        if slot.is_null() {
            *slot = json!([]);
        }
        slot.as_array_mut().expect("array").push(entry);
    }
    Value::Object(m)
}

/// Serialize like the Docker CLI: a JSON array indented with four spaces.
pub fn to_docker_json(values: &[Value]) -> String {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(&values, &mut ser).expect("JSON values serialize");
    String::from_utf8(out).expect("JSON is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_has_nanoseconds() {
        assert_eq!(rfc3339(0.0), "0001-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_325_471.5), "2026-11-22T05:31:11.500000000Z");
    }

    #[test]
    fn docker_json_uses_four_spaces() {
        let s = to_docker_json(&[json!({"Id": "x"})]);
        assert_eq!(s, "[\n    {\n        \"Id\": \"x\"\n    }\n]");
    }
}

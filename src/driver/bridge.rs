//! The bridge driver on the default bridge: lowest free address of 172.17.0.0/16,
//! Docker's classic MAC (02:42 + the IPv4 bytes), a veth whose container end is created
//! directly inside the container's namespace as `eth0`.

use super::{Attachment, EtcFiles};
use crate::error::Result;
use crate::lab::{ContainerRecord, Endpoint, Lab, LabState, addr};
use crate::link::{docker_mac, format_mac};
use crate::step::Step;
use crate::util::random_hex;
use std::net::Ipv4Addr;

/// Plan a container's attachment to docker0.
pub fn plan(
    lab: &Lab,
    st: &LabState,
    rec: &ContainerRecord,
    host_resolv: &str,
) -> Result<Attachment> {
    let endpoints = || st.containers.values().flat_map(|c| c.endpoints.iter());
    let used: Vec<Ipv4Addr> = endpoints()
        .filter(|e| e.network == "bridge")
        .map(|e| e.ip)
        .collect();
    let ip = crate::ipam::lowest_free(Ipv4Addr::new(172, 17, 0, 0), 16, addr::DOCKER0, &used)?;
    let veth = loop {
        let v = format!("veth{}", random_hex(7));
        if !endpoints().any(|e| e.veth == v) {
            break v;
        }
    };
    let mac = format_mac(&docker_mac(ip));
    let host = lab.host_ns();
    let ns = rec.netns.clone();
    let endpoint = Endpoint {
        network: "bridge".into(),
        network_id: st.bridge_network_id.clone(),
        endpoint_id: random_hex(64),
        ip,
        prefix_len: 16,
        gateway: addr::DOCKER0,
        mac: mac.clone(),
        veth: veth.clone(),
        ifname: "eth0".into(),
        bridge: "docker0".into(),
    };
    let steps = vec![
        Step::Note {
            text: format!("container {}: its own network namespace", rec.name),
        },
        Step::NetnsAdd { name: ns.clone() },
        Step::Note {
            text: format!(
                "a veth pair: {veth} stays on the host and joins docker0, eth0 goes into the container"
            ),
        },
        Step::VethAdd {
            ns: host,
            name: veth,
            master: Some("docker0".into()),
            peer: "eth0".into(),
            peer_ns: ns.clone(),
            peer_mac: Some(mac),
        },
        Step::AddrAdd {
            ns: ns.clone(),
            dev: "eth0".into(),
            cidr: format!("{ip}/16"),
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
            via: addr::DOCKER0,
        },
    ];
    Ok(Attachment {
        steps,
        netns_path: crate::netns::path(&ns),
        spawn_narration: format!(
            "ip netns exec {ns} unshare --pid --mount --uts --ipc --fork --mount-proc sh -c 'hostname \"$0\" && exec \"$@\"' {} {}",
            rec.hostname,
            crate::container::shell_words(&rec.cmd)
        ),
        netns: ns,
        join_uts: None,
        hostname: Some(rec.hostname.clone()),
        files: EtcFiles::Own {
            hosts: crate::container::files::hosts_file(&[(ip, rec.hostname.clone())], &[]),
            resolv: crate::container::files::resolv_conf_legacy(host_resolv),
        },
        endpoints: vec![endpoint],
    })
}

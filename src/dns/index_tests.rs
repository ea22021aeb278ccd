use super::*;

/// A running container record on the given networks: (network id, address, aliases).
pub(crate) fn ctr(
    id_char: char,
    name: &str,
    nets: &[(&str, &str, &[&str])],
    links: &[(&str, &str)],
) -> ContainerRecord {
    let id: String = std::iter::repeat_n(id_char, 64).collect();
    let attachments: Vec<_> = nets
        .iter()
        .map(|(n, _, aliases)| {
            serde_json::json!({"network_id": n, "network": n, "ip": null, "aliases": aliases})
        })
        .collect();
    let endpoints: Vec<_> = nets
        .iter()
        .enumerate()
        .map(|(i, (n, ip, _))| {
            serde_json::json!({"network": n, "network_id": n, "endpoint_id": "e", "ip": ip,
                "prefix_len": 16, "gateway": "172.18.0.1", "mac": "02:42:00:00:00:00",
                "veth": format!("veth{i}"), "ifname": format!("eth{i}"), "bridge": "br",
                "default_route": i == 0, "steps": []})
        })
        .collect();
    let links: Vec<_> = links
        .iter()
        .map(|(alias, target)| {
            serde_json::json!({"name": target, "alias": alias,
                "target_id": std::iter::repeat_n(target.chars().next().unwrap(), 64).collect::<String>()})
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "id": id, "name": name, "image": null, "cmd": [], "hostname": &id[..12], "env": [],
        "network_mode": nets.first().map(|n| n.0).unwrap_or("bridge"), "netns": "ns",
        "sandbox_steps": [], "attachments": attachments, "endpoints": endpoints,
        "links": links, "exposed": [], "status": "running", "creator": null, "shim": null,
        "init": null, "created": 0.0, "started": null, "finished": null, "exit_code": null,
        "detached": true, "interactive": false, "tty": false, "auto_remove": false,
        "port_specs": [], "ports": [], "proxies": []
    }))
    .unwrap()
}

pub(crate) fn nets(id: &str) -> Option<NetInfo> {
    Some(NetInfo {
        name: id.to_string(),
        internal: id.starts_with("internal"),
        user_defined: id != "bridge",
    })
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn id(c: char) -> String {
    std::iter::repeat_n(c, 64).collect()
}

#[test]
fn dns_names_are_dockers_order_without_duplicates() {
    let mut c = ctr('a', "Web", &[("mynet", "172.18.0.2", &["www"])], &[]);
    assert_eq!(
        dns_names(&c, &["www".into()]),
        vec!["web", "www", "aaaaaaaaaaaa"]
    );
    c.hostname = "box".into();
    assert_eq!(
        dns_names(&c, &["www".into(), "WEB".into()]),
        vec!["web", "www", "aaaaaaaaaaaa", "box"]
    );
}

#[test]
fn names_resolve_only_on_shared_networks() {
    let mut ix = Index::default();
    ix.update(
        &ctr('a', "bbox1", &[("my_net2", "172.19.0.2", &[])], &[]),
        nets,
    );
    ix.update(
        &ctr('b', "bbox2", &[("my_net2", "172.19.0.3", &[])], &[]),
        nets,
    );
    ix.update(
        &ctr('c', "other", &[("net3", "172.20.0.2", &[])], &[]),
        nets,
    );
    assert_eq!(ix.lookup(&id('a'), "bbox2"), vec![ip("172.19.0.3")]);
    assert_eq!(ix.lookup(&id('a'), "BBOX2."), vec![ip("172.19.0.3")]);
    assert_eq!(ix.lookup(&id('a'), "bbbbbbbbbbbb"), vec![ip("172.19.0.3")]);
    assert_eq!(ix.lookup(&id('a'), "bbox2.my_net2"), vec![ip("172.19.0.3")]);
    assert!(
        ix.lookup(&id('a'), "other").is_empty(),
        "not on a shared network"
    );
    assert!(ix.lookup(&id('a'), "bbox2.net3").is_empty());
    assert!(ix.lookup(&id('c'), "bbox1").is_empty());
    assert_eq!(
        ix.reverse(&id('a'), ip("172.19.0.3")).as_deref(),
        Some("bbox2.my_net2")
    );
    assert_eq!(ix.reverse(&id('a'), ip("172.20.0.2")), None);
}

#[test]
fn the_default_bridge_has_no_names() {
    let mut ix = Index::default();
    ix.update(
        &ctr('a', "bbox3", &[("bridge", "172.17.0.2", &[])], &[]),
        nets,
    );
    ix.update(
        &ctr('b', "bbox4", &[("bridge", "172.17.0.3", &[])], &[]),
        nets,
    );
    assert!(!ix.knows(&id('a')));
    assert!(ix.lookup(&id('a'), "bbox4").is_empty());
    // On the default bridge *and* a user network: only the user network's names.
    ix.update(
        &ctr(
            'c',
            "both",
            &[("bridge", "172.17.0.4", &[]), ("mynet", "172.18.0.2", &[])],
            &[],
        ),
        nets,
    );
    ix.update(
        &ctr('d', "peer", &[("mynet", "172.18.0.3", &[])], &[]),
        nets,
    );
    assert_eq!(ix.lookup(&id('c'), "peer"), vec![ip("172.18.0.3")]);
    assert_eq!(ix.lookup(&id('d'), "both"), vec![ip("172.18.0.2")]);
    assert!(ix.lookup(&id('c'), "bbox4").is_empty());
}

#[test]
fn aliases_collect_every_holder_and_go_with_them() {
    let mut ix = Index::default();
    ix.update(
        &ctr('a', "client", &[("mynet", "172.18.0.2", &[])], &[]),
        nets,
    );
    ix.update(
        &ctr('b', "s1", &[("mynet", "172.18.0.3", &["search"])], &[]),
        nets,
    );
    ix.update(
        &ctr('c', "s2", &[("mynet", "172.18.0.4", &["search"])], &[]),
        nets,
    );
    let mut got = ix.lookup(&id('a'), "search");
    got.sort();
    assert_eq!(got, vec![ip("172.18.0.3"), ip("172.18.0.4")]);
    ix.remove(&id('b'));
    assert_eq!(ix.lookup(&id('a'), "search"), vec![ip("172.18.0.4")]);
    assert!(ix.lookup(&id('a'), "s1").is_empty());
    // A stopped container has no names.
    let mut s2 = ctr('c', "s2", &[("mynet", "172.18.0.4", &["search"])], &[]);
    s2.status = ContainerStatus::Exited;
    ix.update(&s2, nets);
    assert!(ix.lookup(&id('a'), "search").is_empty());
}

#[test]
fn link_aliases_are_the_askers_own() {
    let mut ix = Index::default();
    ix.update(
        &ctr(
            'a',
            "web",
            &[("mynet", "172.18.0.2", &[])],
            &[("db", "postgres")],
        ),
        nets,
    );
    ix.update(
        &ctr('b', "postgres", &[("mynet", "172.18.0.3", &[])], &[]),
        nets,
    );
    ix.update(
        &ctr('c', "third", &[("mynet", "172.18.0.4", &[])], &[]),
        nets,
    );
    assert_eq!(ix.lookup(&id('a'), "db"), vec![ip("172.18.0.3")]);
    assert!(
        ix.lookup(&id('c'), "db").is_empty(),
        "only the linking container"
    );
    // A link to a container that does not exist yet resolves once it does.
    ix.update(
        &ctr(
            'd',
            "late",
            &[("mynet", "172.18.0.5", &[])],
            &[("g", "ghost")],
        ),
        nets,
    );
    assert!(ix.lookup(&id('d'), "g").is_empty());
    ix.update(
        &ctr('e', "ghost", &[("mynet", "172.18.0.6", &[])], &[]),
        nets,
    );
    assert_eq!(ix.lookup(&id('d'), "g"), vec![ip("172.18.0.6")]);
    let names = ix.names_in_scope(&id('a'));
    assert_eq!(names[0].network, "link");
    assert!(
        names
            .iter()
            .any(|n| n.name == "third" && n.network == "mynet")
    );
}

#[test]
fn internal_only_sandboxes_do_not_forward() {
    let mut ix = Index::default();
    ix.update(&ctr('a', "x", &[("internal1", "10.0.0.2", &[])], &[]), nets);
    ix.update(
        &ctr(
            'b',
            "y",
            &[("internal1", "10.0.0.3", &[]), ("mynet", "172.18.0.2", &[])],
            &[],
        ),
        nets,
    );
    assert!(!ix.may_forward(&id('a')));
    assert!(ix.may_forward(&id('b')));
    assert!(!ix.may_forward(&id('z')));
    // Disconnected from its last user network, it keeps its resolver, which forwards
    // for it over the default bridge.
    let mut c = ctr('c', "z", &[("bridge", "172.17.0.2", &[])], &[]);
    c.dns = Some(crate::lab::DnsPorts { udp: 1, tcp: 2 });
    ix.update(&c, nets);
    assert!(ix.may_forward(&id('c')));
    assert!(ix.lookup(&id('c'), "x").is_empty());
}

#[test]
fn updating_again_replaces_old_entries() {
    let mut ix = Index::default();
    ix.update(&ctr('a', "x", &[("n1", "10.0.0.2", &["old"])], &[]), nets);
    ix.update(&ctr('b', "y", &[("n1", "10.0.0.3", &[])], &[]), nets);
    ix.update(&ctr('a', "x", &[("n1", "10.0.0.5", &["new"])], &[]), nets);
    assert!(ix.lookup(&id('b'), "old").is_empty());
    assert_eq!(ix.lookup(&id('b'), "new"), vec![ip("10.0.0.5")]);
    assert_eq!(ix.lookup(&id('b'), "x"), vec![ip("10.0.0.5")]);
    assert_eq!(ix.len(), 2);
}

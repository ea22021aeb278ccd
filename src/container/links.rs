//! Docker's legacy `--link` as pure functions, as Docker Engine 27.x does it on the
//! default bridge: the CLI's parsing of `NAME[:ALIAS]`, the environment variables and
//! the /etc/hosts line the linking (parent) container gets, and the iptables pair per
//! exposed port of the linked (child) container when `icc=false`.
//!
//! Sources (moby/moby): `opts/opts.go` (`ParseLink`), `daemon/daemon.go`
//! (`registerLink`), `daemon/links/links.go` (`ToEnv` as 27.x has it, before its rewrite),
//! `daemon/container_operations.go` (`buildSandboxOptions`), `daemon/network.go`
//! (`nat.SortPortMap`), `libnetwork/drivers/bridge/link.go` and
//! `libnetwork/iptables/iptables.go` (`ChainInfo.Link`).

use crate::error::{Error, Result};
use crate::firewall::{Op, Rule};
use std::cmp::Ordering;
use std::net::Ipv4Addr;

/// `--link NAME[:ALIAS]` as given.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkSpec {
    /// The linked (child) container's name or ID.
    pub name: String,
    /// The name the linking (parent) container knows it by.
    pub alias: String,
}

/// Parse like the Docker CLI (alias defaults to the name; leading '/' stripped; Docker's
/// error text for an invalid value).
///
/// The texts are `ParseLink`'s; the CLI shows them wrapped by pflag as
/// `invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c`.
/// Like Docker, an empty alias (`db:`) is accepted here; the daemon then silently
/// drops that link, because `/parent` + "" is the parent's own, already taken, name.
pub fn parse_link(s: &str) -> Result<LinkSpec> {
    if s.is_empty() {
        return Err(Error::msg("empty string specified for links"));
    }
    let spec = |name: &str, alias: &str| LinkSpec {
        name: name.into(),
        alias: alias.into(),
    };
    match s.split(':').collect::<Vec<_>>().as_slice() {
        // Docker keeps "/db" as is here, but the daemon's path.Join("/web", "/db")
        // makes the link "/web/db" all the same, so stripping is equivalent.
        [one] => {
            let n = one.strip_prefix('/').unwrap_or(one);
            Ok(spec(n, n))
        }
        // The "/db:/web/db" form is what `docker inspect` shows in HostConfig.Links.
        [name, alias] => Ok(match name.strip_prefix('/') {
            Some(n) => spec(n, last_component(alias)),
            None => spec(name, alias),
        }),
        _ => Err(Error::msg(format!("bad format for links: {s}"))),
    }
}

/// The environment variables Docker 27 adds to the linking (parent) container, in
/// Docker's order.
///
/// Docker 27 still has the original `ToEnv`, with its quirks, kept here on purpose:
/// * ports sort by number, TCP first only between equal numbers, so `ALIAS_PORT` is
///   the lowest port (`53/udp` beats `80/tcp`);
/// * `_START`/`_END` (plus a second `_ADDR` and `_PROTO` for the first port) appear
///   only for runs of three or more consecutive numbers, whatever their protocols,
///   and come before the per-port variables;
/// * the alias is upper-cased and only '-' becomes '_' ('.' stays);
/// * of the child's env only `HOME` and `PATH` (exact case) and entries without '='
///   are skipped.
///
/// Later releases rewrote this (TCP ports first, two-port ranges, no duplicates), and
/// 29.0 stopped adding these variables unless `DOCKER_KEEP_DEPRECATED_LEGACY_LINKS_ENV_VARS=1`.
pub fn link_env(
    parent_name: &str,
    alias: &str,
    child_ip: Ipv4Addr,
    child_exposed: &[String],
    child_env: &[String],
) -> Vec<String> {
    let full = link_name(parent_name, alias);
    let a = last_component(&full).to_uppercase().replace('-', "_");
    let ip = child_ip;
    let mut ports = parse_ports(child_exposed);
    ports.sort_by(|x, y| x.num.cmp(&y.num).then_with(|| tcp_first(x, y)));

    let mut env = Vec::new();
    if let Some(p) = ports.first() {
        env.push(format!("{a}_PORT={}://{ip}:{}", p.proto, p.num));
    }
    let mut i = 0;
    while i < ports.len() {
        let j = run_end(&ports, i);
        if j <= i + 1 {
            i += 1;
            continue;
        }
        let (p, q) = (&ports[i], &ports[j]);
        let start = format!("{a}_PORT_{}_{}", p.num, p.proto.to_uppercase());
        env.push(format!("{start}_START={}://{ip}:{}", p.proto, p.num));
        env.push(format!("{start}_ADDR={ip}"));
        env.push(format!("{start}_PROTO={}", p.proto));
        env.push(format!("{start}_PORT_START={}", p.num));
        // Docker names the end after the first port's number but the last one's protocol.
        let end = format!("{a}_PORT_{}_{}", p.num, q.proto.to_uppercase());
        env.push(format!("{end}_END={}://{ip}:{}", q.proto, q.num));
        env.push(format!("{end}_PORT_END={}", q.num));
        i = j + 1;
    }
    for p in &ports {
        let pre = format!("{a}_PORT_{}_{}", p.num, p.proto.to_uppercase());
        env.push(format!("{pre}={}://{ip}:{}", p.proto, p.num));
        env.push(format!("{pre}_ADDR={ip}"));
        env.push(format!("{pre}_PORT={}", p.num));
        env.push(format!("{pre}_PROTO={}", p.proto));
    }
    env.push(format!("{a}_NAME={full}"));
    for kv in child_env {
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        // Docker's reason: these come from the image build and mean nothing to the parent.
        if k != "HOME" && k != "PATH" {
            env.push(format!("{a}_ENV_{k}={v}"));
        }
    }
    env
}

/// The parent's /etc/hosts line: "<child IP>\t<alias> <child hostname> <child name>",
/// the name left out when it equals the alias.
///
/// That is Docker's only rule: nothing else is de-duplicated, so a child started with
/// `--hostname db` and linked as `db` gives `172.17.0.5\tdb db`.
pub fn hosts_line(
    child_ip: Ipv4Addr,
    alias: &str,
    child_hostname: &str,
    child_name: &str,
) -> String {
    let alias = last_component(alias);
    let name = child_name.strip_prefix('/').unwrap_or(child_name);
    let mut names = format!("{alias} {child_hostname}");
    if alias != name {
        names.push(' ');
        names.push_str(name);
    }
    format!("{child_ip}\t{names}")
}

/// With icc=false on the bridge, the pair of filter DOCKER ACCEPT rules per exposed port
/// of the child (appended, as Docker does), args as `iptables -S` prints them.
///
/// Ports come in the order the daemon hands them to the bridge driver
/// (`nat.SortPortMap`): highest number first, TCP first between equal numbers. A child
/// that also publishes ports gets those first in Docker; that is not modelled here.
pub fn link_rules(
    parent_ip: Ipv4Addr,
    child_ip: Ipv4Addr,
    bridge: &str,
    child_exposed: &[String],
) -> Vec<Op> {
    let mut ports = parse_ports(child_exposed);
    ports.sort_by(|x, y| y.num.cmp(&x.num).then_with(|| tcp_first(x, y)));
    let rule = |args: String, why: String| Op::Append(Rule::new("filter", "DOCKER", &args, &why));
    let mut ops = Vec::new();
    for p in &ports {
        let (n, pr) = (p.num, &p.proto);
        let iface = format!("-i {bridge} -o {bridge} -p {pr} -m {pr}");
        ops.push(rule(
            format!("-s {parent_ip}/32 -d {child_ip}/32 {iface} --dport {n} -j ACCEPT"),
            crate::ui::tr(
                format!(
                    "With icc=false {bridge} drops traffic between containers, so this lets the \
                     linking container {parent_ip} reach port {n}/{pr} of the linked one {child_ip}."
                ),
                format!(
                    "icc=false 时 {bridge} 丢弃容器之间的流量，这条规则让发起 link 的容器 \
                     {parent_ip} 能访问被 link 的容器 {child_ip} 的 {n}/{pr} 端口。"
                ),
            ),
        ));
        ops.push(rule(
            format!("-s {child_ip}/32 -d {parent_ip}/32 {iface} --sport {n} -j ACCEPT"),
            crate::ui::tr(
                format!(
                    "Lets the replies from port {n}/{pr} of {child_ip} back to {parent_ip}, which the \
                     icc=false drop would stop too."
                ),
                format!(
                    "放行 {child_ip} 的 {n}/{pr} 端口发回 {parent_ip} 的应答，否则 icc=false \
                     的 DROP 规则也会拦下它们。"
                ),
            ),
        ));
    }
    ops
}

/// An exposed port: number and lower-case protocol.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Port {
    num: u16,
    proto: String,
}

/// "80/tcp", "53/udp" or "80" (TCP, as go-connections' `nat.Port` defaults). Docker's
/// exposed ports are a set of valid single ports, so duplicates and junk are dropped.
fn parse_ports(exposed: &[String]) -> Vec<Port> {
    let mut ports: Vec<Port> = exposed
        .iter()
        .filter_map(|s| {
            let (num, proto) = s.split_once('/').unwrap_or((s, ""));
            let proto = if proto.is_empty() { "tcp" } else { proto };
            Some(Port {
                num: num.trim().parse().ok()?,
                proto: proto.to_ascii_lowercase(),
            })
        })
        .collect();
    ports.sort();
    ports.dedup();
    ports
}

/// TCP before other protocols. Docker leaves two non-TCP protocols on the same number
/// unordered (map iteration order); by name keeps the output reproducible.
fn tcp_first(x: &Port, y: &Port) -> Ordering {
    (x.proto != "tcp")
        .cmp(&(y.proto != "tcp"))
        .then_with(|| x.proto.cmp(&y.proto))
}

/// Docker's `nextContiguous`: the index of the last port in the run starting at
/// `index`. The protocol is ignored, and a repeated number (53/tcp, 53/udp) still
/// counts as a step, which is how Docker behaves.
fn run_end(ports: &[Port], index: usize) -> usize {
    let start = usize::from(ports[index].num);
    ports
        .iter()
        .enumerate()
        .skip(index + 1)
        .find(|(i, p)| usize::from(p.num) > start + (i - index))
        .map_or(ports.len() - 1, |(i, _)| i - 1)
}

/// `path.Join(parent.Name, alias)` as the daemon registers the link: "/web/db".
fn link_name(parent: &str, alias: &str) -> String {
    let parts: Vec<&str> = parent
        .split('/')
        .chain(alias.split('/'))
        .filter(|p| !p.is_empty())
        .collect();
    format!("/{}", parts.join("/"))
}

/// `path.Split`'s file part: what follows the last '/'.
fn last_component(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: Ipv4Addr = Ipv4Addr::new(172, 17, 0, 3);
    const CHILD: Ipv4Addr = Ipv4Addr::new(172, 17, 0, 5);

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn env_of(alias: &str, exposed: &[&str]) -> Vec<String> {
        link_env("web", alias, CHILD, &strs(exposed), &[])
    }

    #[test]
    fn postgres_env_skips_home_and_path() {
        let env = link_env(
            "web",
            "db",
            CHILD,
            &strs(&["5432/tcp"]),
            &strs(&[
                "POSTGRES_PASSWORD=x",
                "PATH=/usr/bin:/bin",
                "HOME=/root",
                "NOVALUE",
                "A=b=c",
            ]),
        );
        let want = [
            "DB_PORT=tcp://172.17.0.5:5432",
            "DB_PORT_5432_TCP=tcp://172.17.0.5:5432",
            "DB_PORT_5432_TCP_ADDR=172.17.0.5",
            "DB_PORT_5432_TCP_PORT=5432",
            "DB_PORT_5432_TCP_PROTO=tcp",
            "DB_NAME=/web/db",
            "DB_ENV_POSTGRES_PASSWORD=x",
            "DB_ENV_A=b=c",
        ];
        assert_eq!(env, strs(&want));
    }

    #[test]
    fn several_ports_with_udp_and_a_range() {
        let exposed = strs(&["8080/tcp", "6381/tcp", "53/udp", "6379/tcp", "6380/tcp"]);
        let env = link_env("/web", "db", CHILD, &exposed, &[]);
        let mut want = strs(&[
            // Lowest number wins, even over TCP.
            "DB_PORT=udp://172.17.0.5:53",
            "DB_PORT_6379_TCP_START=tcp://172.17.0.5:6379",
            "DB_PORT_6379_TCP_ADDR=172.17.0.5",
            "DB_PORT_6379_TCP_PROTO=tcp",
            "DB_PORT_6379_TCP_PORT_START=6379",
            "DB_PORT_6379_TCP_END=tcp://172.17.0.5:6381",
            "DB_PORT_6379_TCP_PORT_END=6381",
        ]);
        for (n, p) in [
            (53, "udp"),
            (6379, "tcp"),
            (6380, "tcp"),
            (6381, "tcp"),
            (8080, "tcp"),
        ] {
            let pre = format!("DB_PORT_{n}_{}", p.to_uppercase());
            want.push(format!("{pre}={p}://172.17.0.5:{n}"));
            want.push(format!("{pre}_ADDR=172.17.0.5"));
            want.push(format!("{pre}_PORT={n}"));
            want.push(format!("{pre}_PROTO={p}"));
        }
        want.push("DB_NAME=/web/db".into());
        assert_eq!(env, want);
    }

    #[test]
    fn tcp_wins_a_tie_and_two_ports_are_no_range() {
        let env = env_of("db", &["53/udp", "53/tcp", "8081", "8080/tcp"]);
        assert_eq!(env[0], "DB_PORT=tcp://172.17.0.5:53");
        assert_eq!(env[1], "DB_PORT_53_TCP=tcp://172.17.0.5:53");
        assert!(
            !env.iter()
                .any(|e| e.contains("_START") || e.contains("_END"))
        );
        assert!(env.contains(&"DB_PORT_8081_TCP_PROTO=tcp".to_string()));
    }

    #[test]
    fn a_run_across_protocols_is_a_range_as_in_docker() {
        let env = env_of("dns", &["53/tcp", "53/udp", "54/udp"]);
        assert_eq!(env[1], "DNS_PORT_53_TCP_START=tcp://172.17.0.5:53");
        assert_eq!(env[5], "DNS_PORT_53_UDP_END=udp://172.17.0.5:54");
        assert_eq!(env[6], "DNS_PORT_53_UDP_PORT_END=54");
    }

    #[test]
    fn alias_replaces_only_dashes() {
        let env = link_env("web-1", "my-db.v2", CHILD, &[], &strs(&["X=1"]));
        assert_eq!(
            env,
            strs(&["MY_DB.V2_NAME=/web-1/my-db.v2", "MY_DB.V2_ENV_X=1"])
        );
    }

    #[test]
    fn hosts_line_leaves_out_name_equal_to_alias() {
        assert_eq!(
            hosts_line(CHILD, "db", "6e5cdeb2d300", "/db"),
            "172.17.0.5\tdb 6e5cdeb2d300"
        );
        assert_eq!(
            hosts_line(CHILD, "webdb", "6e5cdeb2d300", "db"),
            "172.17.0.5\twebdb 6e5cdeb2d300 db"
        );
        // Only the name is compared: a hostname equal to the alias stays twice.
        assert_eq!(hosts_line(CHILD, "db", "db", "/db"), "172.17.0.5\tdb db");
    }

    #[test]
    fn rules_for_two_ports_highest_first() {
        let ops = link_rules(PARENT, CHILD, "docker0", &strs(&["53/udp", "5432/tcp"]));
        let args: Vec<&str> = ops
            .iter()
            .map(|o| match o {
                Op::Append(r) => {
                    assert_eq!((r.table.as_str(), r.chain.as_str()), ("filter", "DOCKER"));
                    assert!(r.why.ends_with('.') && r.why.contains("icc=false"));
                    r.args.as_str()
                }
                other => panic!("not an append: {other:?}"),
            })
            .collect();
        assert_eq!(
            args,
            [
                "-s 172.17.0.3/32 -d 172.17.0.5/32 -i docker0 -o docker0 -p tcp -m tcp --dport 5432 -j ACCEPT",
                "-s 172.17.0.5/32 -d 172.17.0.3/32 -i docker0 -o docker0 -p tcp -m tcp --sport 5432 -j ACCEPT",
                "-s 172.17.0.3/32 -d 172.17.0.5/32 -i docker0 -o docker0 -p udp -m udp --dport 53 -j ACCEPT",
                "-s 172.17.0.5/32 -d 172.17.0.3/32 -i docker0 -o docker0 -p udp -m udp --sport 53 -j ACCEPT",
            ]
        );
        assert!(
            ops[0]
                .command()
                .starts_with("iptables -A DOCKER -s 172.17.0.3/32")
        );
        assert!(link_rules(PARENT, CHILD, "docker0", &[]).is_empty());
    }

    #[test]
    fn parse_link_forms() {
        let ok = |s: &str| parse_link(s).unwrap();
        let spec = |n: &str, a: &str| LinkSpec {
            name: n.into(),
            alias: a.into(),
        };
        assert_eq!(ok("db"), spec("db", "db"));
        assert_eq!(ok("db:webdb"), spec("db", "webdb"));
        assert_eq!(ok("/db"), spec("db", "db"));
        assert_eq!(ok("/db:/web/webdb"), spec("db", "webdb"));
        assert_eq!(ok("db:"), spec("db", ""));
    }

    #[test]
    fn parse_link_errors_use_docker_text() {
        let err = |s: &str| parse_link(s).unwrap_err().to_string();
        assert_eq!(err(""), "empty string specified for links");
        assert_eq!(err("a:b:c"), "bad format for links: a:b:c");
        assert_eq!(err("db::x"), "bad format for links: db::x");
    }
}

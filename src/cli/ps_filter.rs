//! `ps -f KEY=VALUE`, `-n N`, `-l`: which containers `ps` lists, as Docker chooses them.
//! Values of one key are alternatives (OR); different keys must all match (AND).

use crate::error::{Error, Result};
use crate::lab::{ContainerRecord, ContainerStatus};
use std::collections::BTreeMap;

/// The filter keys `ps` accepts here (Docker's, less those with no meaning in a lab:
/// volume, health, isolation, is-task, before/since are kept).
const KEYS: &[&str] = &[
    "id", "name", "status", "network", "ancestor", "publish", "expose", "label", "exited",
    "before", "since",
];

/// Docker's container states, for `status=`.
const STATES: &[&str] = &[
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

/// Parsed `-f` filters.
#[derive(Debug, Default)]
pub struct Filters {
    by_key: BTreeMap<String, Vec<String>>,
}

impl Filters {
    /// Parse `-f` arguments, refusing unknown keys and values as Docker does.
    pub fn parse(args: &[String]) -> Result<Filters> {
        let mut f = Filters::default();
        for a in args {
            let Some((k, v)) = a.split_once('=') else {
                return Err(Error::msg(format!(
                    "invalid argument \"{a}\" for \"-f, --filter\" flag: bad format of filter (expected name=value)"
                )));
            };
            let k = k.trim().to_lowercase();
            if !KEYS.contains(&k.as_str()) {
                return Err(Error::msg(format!(
                    "Error response from daemon: invalid filter '{k}'"
                )));
            }
            if k == "status" && !STATES.contains(&v) {
                return Err(Error::msg(format!(
                    "Error response from daemon: invalid filter 'status={v}'"
                )));
            }
            f.by_key.entry(k).or_default().push(v.to_string());
        }
        Ok(f)
    }

    /// A status filter widens the list to every state (`ps -f status=exited` needs no
    /// `-a`), as do `exited=` and `before`/`since`.
    pub fn lists_all_states(&self) -> bool {
        ["status", "exited", "before", "since"]
            .iter()
            .any(|k| self.by_key.contains_key(*k))
    }

    /// Whether `c` passes every filter. `all` is every container (for `before` and
    /// `since`, which name one).
    pub fn matches(&self, c: &ContainerRecord, state: &str, all: &[ContainerRecord]) -> bool {
        self.by_key
            .iter()
            .all(|(k, values)| values.iter().any(|v| matches_one(k, v, c, state, all)))
    }
}

fn matches_one(
    key: &str,
    v: &str,
    c: &ContainerRecord,
    state: &str,
    all: &[ContainerRecord],
) -> bool {
    let find = |name: &str| {
        all.iter()
            .find(|o| o.name == name.trim_start_matches('/') || o.id.starts_with(name))
    };
    match key {
        "id" => c.id.starts_with(v),
        // Docker matches names as a regular expression; a substring is what tutorials use.
        "name" => c.name.contains(v.trim_start_matches('/')),
        "status" => state == v,
        "exited" => {
            c.status == ContainerStatus::Exited
                && c.exit_code.is_some_and(|code| v.parse() == Ok(code))
        }
        "network" => c
            .endpoints
            .iter()
            .any(|e| e.network == v || e.network_id.starts_with(v)),
        "ancestor" => c.image.as_deref().is_some_and(|img| image_matches(img, v)),
        "publish" => c
            .ports
            .iter()
            .any(|p| p.host_port != 0 && port_matches(p.container_port, &p.proto, v)),
        "expose" => c
            .ports
            .iter()
            .any(|p| port_matches(p.container_port, &p.proto, v)),
        // dockernet containers carry no labels.
        "label" => false,
        "before" => find(v).is_some_and(|o| c.created < o.created),
        "since" => find(v).is_some_and(|o| c.created > o.created),
        _ => false,
    }
}

/// `ancestor=redis` matches `redis`, `redis:alpine`, `redis:latest`; with a tag, only
/// that tag (`latest` when none was typed).
fn image_matches(image: &str, want: &str) -> bool {
    let split = |s: &str| match s.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n.to_string(), t.to_string()),
        _ => (s.to_string(), "latest".to_string()),
    };
    let (name, tag) = split(image);
    if want.contains(':') {
        split(want) == (name, tag)
    } else {
        name == want
    }
}

/// `publish=80`, `publish=80/tcp`, `publish=8000-8080/tcp`.
fn port_matches(port: u16, proto: &str, want: &str) -> bool {
    let (range, want_proto) = match want.split_once('/') {
        Some((r, p)) => (r, Some(p)),
        None => (want, None),
    };
    if want_proto.is_some_and(|p| p != proto) {
        return false;
    }
    let (lo, hi) = match range.split_once('-') {
        Some((a, b)) => (a.parse().unwrap_or(u16::MAX), b.parse().unwrap_or(0)),
        None => {
            let p = range.parse().unwrap_or(0);
            (p, p)
        }
    };
    (lo..=hi).contains(&port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_are_checked_as_docker_does() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(Filters::parse(&s(&["name=web", "status=exited"])).is_ok());
        assert_eq!(
            Filters::parse(&s(&["colour=red"])).unwrap_err().to_string(),
            "Error response from daemon: invalid filter 'colour'"
        );
        assert_eq!(
            Filters::parse(&s(&["status=sleepy"]))
                .unwrap_err()
                .to_string(),
            "Error response from daemon: invalid filter 'status=sleepy'"
        );
        assert!(Filters::parse(&s(&["name"])).is_err());
        assert!(
            Filters::parse(&s(&["status=exited"]))
                .unwrap()
                .lists_all_states()
        );
        assert!(!Filters::parse(&s(&["name=x"])).unwrap().lists_all_states());
    }

    #[test]
    fn images_and_ports_match_like_dockers() {
        assert!(image_matches("redis:alpine", "redis"));
        assert!(image_matches("redis", "redis:latest"));
        assert!(!image_matches("redis:alpine", "redis:latest"));
        assert!(!image_matches("redis", "red"));
        assert!(port_matches(80, "tcp", "80"));
        assert!(port_matches(80, "tcp", "80/tcp"));
        assert!(!port_matches(80, "tcp", "80/udp"));
        assert!(port_matches(8080, "tcp", "8000-8100"));
        assert!(!port_matches(81, "tcp", "80"));
    }
}

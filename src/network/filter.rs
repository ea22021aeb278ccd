//! `network ls -f KEY=VALUE`: Docker's filters. Values of one key are alternatives;
//! different keys must all match.

use crate::error::{Error, Result};
use crate::lab::NetworkRecord;
use std::collections::BTreeMap;

/// Parsed `-f` flags.
#[derive(Debug, Clone, Default)]
pub struct NetworkFilter {
    by_key: BTreeMap<String, Vec<String>>,
}

const KEYS: [&str; 7] = ["dangling", "driver", "id", "label", "name", "scope", "type"];

impl NetworkFilter {
    /// Parse the `-f` values, refusing unknown keys with Docker's text.
    pub fn parse(flags: &[String]) -> Result<NetworkFilter> {
        let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in flags {
            let Some((k, v)) = f.split_once('=') else {
                return Err(Error::msg(format!(
                    "invalid argument \"{f}\" for \"-f, --filter\" flag: bad format of filter (expected name=value)"
                )));
            };
            let k = k.trim().to_lowercase();
            if !KEYS.contains(&k.as_str()) {
                return Err(Error::msg(format!(
                    "Error response from daemon: invalid filter '{k}'"
                )));
            }
            if k == "type" && v != "custom" && v != "builtin" {
                return Err(Error::msg(format!(
                    "Error response from daemon: invalid filter: 'type'='{v}'"
                )));
            }
            by_key.entry(k).or_default().push(v.to_string());
        }
        Ok(NetworkFilter { by_key })
    }

    /// Does a network pass? `attached` says whether any container is on it (for `dangling`).
    pub fn matches(&self, n: &NetworkRecord, attached: bool) -> bool {
        self.by_key.iter().all(|(k, values)| {
            values.iter().any(|v| match k.as_str() {
                // Docker matches names and ids by substring / prefix, not exactly.
                "name" => n.name.contains(v.as_str()),
                "id" => n.id.starts_with(v.as_str()),
                "driver" => &n.driver == v,
                "scope" => v == n.scope(),
                "type" => (v == "builtin") == n.predefined,
                "dangling" => (v == "true" || v == "1") == (!attached && !n.predefined),
                "label" => match v.split_once('=') {
                    Some((lk, lv)) => n.labels.get(lk).is_some_and(|x| x == lv),
                    None => n.labels.contains_key(v.as_str()),
                },
                _ => false,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(name: &str, driver: &str, predefined: bool) -> NetworkRecord {
        NetworkRecord {
            id: format!("{name:0>64}"),
            name: name.into(),
            driver: driver.into(),
            created: 0.0,
            ipam: Vec::new(),
            user_subnet: false,
            internal: false,
            attachable: false,
            options: BTreeMap::new(),
            labels: [("env".to_string(), "lab".to_string())].into(),
            bridge: None,
            predefined,
            status: crate::lab::LabStatus::Up,
            creator: None,
            steps: Vec::new(),
        }
    }

    #[test]
    fn filters_combine_like_docker() {
        let f = NetworkFilter::parse(&["type=custom".into(), "name=my".into()]).unwrap();
        assert!(f.matches(&net("mynet", "bridge", false), false));
        assert!(!f.matches(&net("bridge", "bridge", true), false));
        assert!(!f.matches(&net("other", "bridge", false), false));
        let f = NetworkFilter::parse(&["driver=null".into(), "driver=host".into()]).unwrap();
        assert!(f.matches(&net("none", "null", true), false));
        assert!(f.matches(&net("host", "host", true), false));
        assert!(!f.matches(&net("bridge", "bridge", true), false));
        let f = NetworkFilter::parse(&["label=env=lab".into()]).unwrap();
        assert!(f.matches(&net("x", "bridge", false), false));
        let f = NetworkFilter::parse(&["label=other".into()]).unwrap();
        assert!(!f.matches(&net("x", "bridge", false), false));
        let f = NetworkFilter::parse(&["dangling=true".into()]).unwrap();
        assert!(f.matches(&net("x", "bridge", false), false));
        assert!(!f.matches(&net("x", "bridge", false), true));
    }

    #[test]
    fn bad_filters_are_refused() {
        assert!(
            NetworkFilter::parse(&["colour=red".into()])
                .unwrap_err()
                .to_string()
                .contains("invalid filter 'colour'")
        );
        assert!(NetworkFilter::parse(&["type=mine".into()]).is_err());
        assert!(NetworkFilter::parse(&["name".into()]).is_err());
    }
}

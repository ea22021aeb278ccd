//! Placeholders in lesson commands and checks (`{ip:web1}`, `{veth:web1}`,
//! `{port:web1:80}`, `{lab}`, saved outputs) and shell-like word splitting.
//!
//! Values come from the lab's state file and are refreshed after every command; a
//! container's values outlive it, so a step can check that `{veth:web1}` is gone after
//! `rm web1`.

use crate::lab::{Lab, addr};
use std::collections::BTreeMap;

/// Known values, by placeholder name (without braces).
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: BTreeMap<String, String>,
}

impl Vars {
    /// The values every lab has.
    pub fn new(lab: &Lab) -> Vars {
        let mut v = Vars::default();
        v.set("lab", &lab.name);
        v.set("lab_dir", &lab.dir().display().to_string());
        v.set("host_ip", &addr::HOST_LAN.to_string());
        v.set("internet_ip", &addr::INTERNET_WEB.to_string());
        v.set("ns:host", &lab.host_ns());
        v.set("ns:world", &lab.world_ns());
        v
    }

    /// Set one value.
    pub fn set(&mut self, key: &str, value: &str) {
        self.values.insert(key.to_string(), value.to_string());
    }

    /// A value, if known.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Read the containers of the lab's records: `ip:`, `mac:`, `veth:`, `id:`,
    /// `ns:` and `port:NAME:PORT` for each (first endpoint, first binding), and
    /// `ip:NAME:NETWORK` / `veth:NAME:NETWORK` / `if:NAME:NETWORK` for every endpoint;
    /// `bridge:NETWORK` for every bridge network; `netns:NETWORK` (first host) and
    /// `netns:NETWORK:HOST` for every overlay's namespace. Containers of every lab host
    /// are read, the first host last, so that its values win a clash of names.
    pub fn refresh(&mut self, lab: &Lab) {
        let mut hosts = crate::lab::hosts::all(lab);
        hosts.reverse();
        for h in &hosts {
            self.refresh_host(h);
        }
    }

    /// The values of one lab host's records.
    fn refresh_host(&mut self, lab: &Lab) {
        let store = lab.store();
        for n in store.networks().unwrap_or_default() {
            if let Some(b) = &n.bridge {
                self.set(&format!("bridge:{}", n.name), b);
            }
            if let Some(p) = n.pool() {
                self.set(&format!("subnet:{}", n.name), &p.subnet.to_string());
                self.set(&format!("gateway:{}", n.name), &p.gateway.to_string());
            }
            if n.driver == "overlay" && n.id.len() >= 10 {
                // As `driver::overlay::namespace` names it: `dn-<lab>[-<host>]-ov-<10 hex>`.
                let ns = format!("{}ov-{}", lab.host_prefix(), &n.id[..10]);
                self.set(&format!("netns:{}:{}", n.name, lab.host), &ns);
                if lab.is_first_host() {
                    self.set(&format!("netns:{}", n.name), &ns);
                }
            }
        }
        for c in store.containers().unwrap_or_default() {
            let n = &c.name;
            self.set(&format!("id:{n}"), &c.id[..12.min(c.id.len())]);
            if c.status == crate::lab::ContainerStatus::Running && !c.netns.is_empty() {
                self.set(&format!("ns:{n}"), &c.netns);
            }
            if let Some(e) = c.endpoints.iter().find(|e| e.has_interface()) {
                self.set(&format!("ip:{n}"), &e.ip.to_string());
                self.set(&format!("mac:{n}"), &e.mac);
                self.set(&format!("veth:{n}"), &e.veth);
            }
            for e in c.endpoints.iter().filter(|e| e.has_interface()) {
                self.set(&format!("ip:{n}:{}", e.network), &e.ip.to_string());
                self.set(&format!("veth:{n}:{}", e.network), &e.veth);
                self.set(&format!("if:{n}:{}", e.network), &e.ifname);
            }
            for b in &c.ports {
                let key = format!("port:{n}:{}", b.container_port);
                if b.host_port != 0 && self.get(&key).is_none_or(|_| b.host_ip != "::") {
                    self.set(&key, &b.host_port.to_string());
                }
            }
        }
    }

    /// Replace every `{name}` in `text`; `{{` and `}}` stand for braces.
    pub fn expand(&self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find(['{', '}']) {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            if tail.starts_with("{{") || tail.starts_with("}}") {
                out.push_str(&tail[..1]);
                rest = &tail[2..];
                continue;
            }
            if tail.starts_with('}') {
                return Err(format!("unmatched '}}' in {text:?}"));
            }
            let end = tail
                .find('}')
                .ok_or_else(|| format!("unmatched '{{' in {text:?}"))?;
            let key = &tail[1..end];
            let value = self
                .get(key)
                .ok_or_else(|| format!("{{{key}}} is not known (yet) in {text:?}"))?;
            out.push_str(value);
            rest = &tail[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Split a command like a shell would (spaces, '…' and "…" quoting, `\` escapes),
    /// then expand placeholders in each word.
    pub fn argv(&self, command: &str) -> Result<Vec<String>, String> {
        split(command)?.iter().map(|w| self.expand(w)).collect()
    }
}

/// The placeholder names used in `text` (`ip:web1`, `host_ip`), without braces.
pub fn keys(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            rest = after;
            continue;
        }
        match tail.find('}') {
            Some(end) => {
                out.push(tail[1..end].to_string());
                rest = &tail[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Whether a placeholder name is one the engine fills in itself (not a saved value).
pub fn is_builtin(key: &str) -> bool {
    match key.split_once(':') {
        Some((kind, rest)) => {
            !rest.is_empty()
                && ([
                    "ip", "mac", "veth", "id", "ns", "if", "bridge", "subnet", "gateway", "netns",
                ]
                .contains(&kind)
                    || (kind == "port" && rest.contains(':')))
        }
        None => ["lab", "lab_dir", "host_ip", "internet_ip"].contains(&key),
    }
}

/// Shell-like word splitting, without expansion.
pub fn split(command: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err(format!("unterminated ' in {command:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\')) => word.push(ch),
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => return Err(format!("unterminated \" in {command:?}")),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err(format!("unterminated \" in {command:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(ch) = chars.next() {
                    word.push(ch);
                }
            }
            ch => {
                in_word = true;
                word.push(ch);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Quote a word for display when the shell would need it.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+!^[]".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting_handles_quotes_and_escapes() {
        assert_eq!(
            split(r#"exec c1 sh -c 'echo "a b"' "x y" z\ w"#).unwrap(),
            ["exec", "c1", "sh", "-c", r#"echo "a b""#, "x y", "z w"]
        );
        assert!(split("echo 'open").is_err());
        assert_eq!(split("  a   b ").unwrap(), ["a", "b"]);
        assert_eq!(split("a ''").unwrap(), ["a", ""]);
    }

    #[test]
    fn placeholders_expand_and_unknown_ones_are_errors() {
        let mut v = Vars::default();
        v.set("ip:web1", "172.17.0.2");
        assert_eq!(
            v.expand("ping {ip:web1} {{x}}").unwrap(),
            "ping 172.17.0.2 {x}"
        );
        assert!(v.expand("{ip:web2}").unwrap_err().contains("ip:web2"));
        assert!(v.expand("{oops").is_err());
        assert_eq!(
            v.argv("exec c ping -c 1 {ip:web1}").unwrap(),
            ["exec", "c", "ping", "-c", "1", "172.17.0.2"]
        );
    }

    #[test]
    fn keys_are_found_and_classified() {
        assert_eq!(keys("a {ip:web1} {{x}} {saved}"), ["ip:web1", "saved"]);
        assert!(is_builtin("port:web1:80") && is_builtin("host_ip"));
        assert!(is_builtin("bridge:mynet") && is_builtin("if:c1:mynet"));
        assert!(is_builtin("netns:ov") && is_builtin("netns:ov:host2"));
        assert!(!is_builtin("port:web1") && !is_builtin("saved") && !is_builtin("ipx:a"));
    }

    #[test]
    fn quoting_for_display() {
        assert_eq!(quote("172.17.0.2"), "172.17.0.2");
        assert_eq!(quote("!docker0"), "!docker0");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}

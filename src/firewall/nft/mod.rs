//! Docker 29's nftables backend as data: a change to the table `ip docker-bridges` is a
//! list of [`NftOp`]s, applied as one `nft -f -` script (one transaction) inside the lab
//! host's namespace, narrated as the `nft` commands a learner would type, and undone
//! by its inverse. nft deletes rules by handle only: an undo lists the table with
//! `nft -a` first and finds each rule's handle by its text, which is why every rule is
//! written in the canonical form `nft list` prints it in.

mod layout;

pub use layout::{daemon_ops, endpoint_ops, network_ops, port_ops};

use crate::error::{Context, Error, Result};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

/// Docker's table (family `ip`).
pub const TABLE: &str = "docker-bridges";

/// A rule of the table: its chain, its text as `nft list` prints it (counters as a
/// plain `counter`), and why it exists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NftRule {
    /// Chain the rule lives in.
    pub chain: String,
    /// The rule, as `nft -s list` prints it.
    pub text: String,
    /// One sentence for the learner.
    #[serde(default)]
    pub why: String,
}

impl NftRule {
    /// Build a rule.
    pub fn new(chain: &str, text: &str, why: String) -> NftRule {
        NftRule {
            chain: chain.into(),
            text: text.into(),
            why,
        }
    }
}

/// One change to `ip docker-bridges`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "nft", rename_all = "snake_case")]
pub enum NftOp {
    /// `add table ip docker-bridges`
    AddTable,
    /// `delete table ip docker-bridges`
    DeleteTable,
    /// `add map ip docker-bridges NAME { SPEC }`
    AddMap {
        /// Map name.
        name: String,
        /// Its declaration (`type ifname : verdict;`).
        spec: String,
    },
    /// `add chain ip docker-bridges NAME [{ BASE }]`
    AddChain {
        /// Chain name.
        name: String,
        /// A base chain's hook (`type filter hook forward priority filter; policy accept;`).
        base: Option<String>,
    },
    /// `flush chain` then `delete chain`.
    DeleteChain {
        /// Chain name.
        name: String,
    },
    /// `add element ip docker-bridges MAP { "KEY" : VERDICT }`
    AddElement {
        /// Map name.
        map: String,
        /// Interface name.
        key: String,
        /// `jump CHAIN`.
        verdict: String,
    },
    /// `delete element ip docker-bridges MAP { "KEY" }`
    DeleteElement {
        /// Map name.
        map: String,
        /// Interface name.
        key: String,
    },
    /// `add rule`: at the end of its chain.
    AddRule(NftRule),
    /// `insert rule ... position H`: just before the rule whose text is `before` (at
    /// the end of the chain if there is none).
    InsertBefore {
        /// The rule.
        rule: NftRule,
        /// Text of the rule it goes above.
        before: String,
    },
    /// `delete rule ... handle H`, H found by the rule's text.
    DeleteRule(NftRule),
}

fn shell(cmd: &str) -> String {
    format!("nft '{cmd}'")
}

impl NftOp {
    /// The `nft` command a learner would type (without `ip netns exec`); a handle
    /// that is only known at run time is shown as `<handle>`.
    pub fn command(&self) -> String {
        let t = format!("ip {TABLE}");
        match self {
            NftOp::AddTable => format!("nft add table {t}"),
            NftOp::DeleteTable => format!("nft delete table {t}"),
            NftOp::AddMap { name, spec } => shell(&format!("add map {t} {name} {{ {spec} }}")),
            NftOp::AddChain { name, base: None } => format!("nft add chain {t} {name}"),
            NftOp::AddChain {
                name,
                base: Some(b),
            } => shell(&format!("add chain {t} {name} {{ {b} }}")),
            NftOp::DeleteChain { name } => {
                format!("nft flush chain {t} {name} && nft delete chain {t} {name}")
            }
            NftOp::AddElement { map, key, verdict } => shell(&format!(
                "add element {t} {map} {{ \"{key}\" : {verdict} }}"
            )),
            NftOp::DeleteElement { map, key } => {
                shell(&format!("delete element {t} {map} {{ \"{key}\" }}"))
            }
            NftOp::AddRule(r) => shell(&format!("add rule {t} {} {}", r.chain, r.text)),
            NftOp::InsertBefore { rule: r, .. } => shell(&format!(
                "insert rule {t} {} position <handle> {}",
                r.chain, r.text
            )),
            NftOp::DeleteRule(r) => format!("nft delete rule {t} {} handle <handle>", r.chain),
        }
    }

    /// A comment line for the learner: why, and where a `<handle>` comes from.
    pub fn note(&self) -> Option<String> {
        match self {
            NftOp::AddRule(r) if !r.why.is_empty() => Some(r.why.clone()),
            NftOp::InsertBefore { rule: r, before } => Some(format!(
                "{} (<handle>: `{before}` in nft -a list chain ip {TABLE} {})",
                r.why, r.chain
            )),
            NftOp::DeleteRule(r) => Some(format!(
                "<handle>: `{}` in nft -a list chain ip {TABLE} {}",
                r.text, r.chain
            )),
            _ => None,
        }
    }

    /// The operation that undoes this one, if any.
    fn inverse(&self) -> Option<NftOp> {
        match self {
            NftOp::AddTable => Some(NftOp::DeleteTable),
            NftOp::AddChain { name, .. } => Some(NftOp::DeleteChain { name: name.clone() }),
            NftOp::AddElement { map, key, .. } => Some(NftOp::DeleteElement {
                map: map.clone(),
                key: key.clone(),
            }),
            NftOp::AddRule(r) | NftOp::InsertBefore { rule: r, .. } => {
                Some(NftOp::DeleteRule(r.clone()))
            }
            _ => None,
        }
    }

    fn needs_handles(&self) -> bool {
        matches!(self, NftOp::InsertBefore { .. } | NftOp::DeleteRule(_))
    }

    /// True for the operations that remove something.
    pub fn is_deletion(&self) -> bool {
        matches!(
            self,
            NftOp::DeleteTable
                | NftOp::DeleteChain { .. }
                | NftOp::DeleteElement { .. }
                | NftOp::DeleteRule(_)
        )
    }
}

/// The lines of a step's narration, inside namespace `ns`.
pub fn commands(ns: &str, ops: &[NftOp]) -> Vec<String> {
    let mut out = Vec::new();
    for op in ops {
        if let Some(n) = op.note() {
            out.push(format!("# {n}"));
        }
        out.push(format!("ip netns exec {ns} {}", op.command()));
    }
    out
}

/// The operations that undo `ops`, in reverse order. A table's deletion takes all in
/// it; a chain's flush takes its rules (so they are not deleted one by one), and a
/// chain can only go once no map element jumps to it, so elements go first.
pub fn inverse(ops: &[NftOp]) -> Vec<NftOp> {
    if ops.contains(&NftOp::AddTable) {
        return vec![NftOp::DeleteTable];
    }
    let own: Vec<&str> = ops
        .iter()
        .filter_map(|o| match o {
            NftOp::AddChain { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let mut inv: Vec<NftOp> = ops
        .iter()
        .rev()
        .filter(|o| match o {
            NftOp::AddRule(r) | NftOp::InsertBefore { rule: r, .. } => {
                !own.contains(&r.chain.as_str())
            }
            _ => true,
        })
        .filter_map(NftOp::inverse)
        .collect();
    // Elements first, then rules, then chains (stable within each kind).
    inv.sort_by_key(|o| match o {
        NftOp::DeleteElement { .. } => 0,
        NftOp::DeleteRule(_) => 1,
        _ => 2,
    });
    inv
}

/// A rule line of `nft -a list` reduced to the form rules are written in: no
/// `# handle N`, and `counter packets N bytes M` as a plain `counter`. Returns the
/// text and the handle.
pub fn parse_rule_line(line: &str) -> Option<(String, u64)> {
    let (text, handle) = line.trim().rsplit_once(" # handle ")?;
    let handle: u64 = handle.trim().parse().ok()?;
    Some((strip_counters(text), handle))
}

/// `counter packets 12 bytes 720` → `counter` (what `nft -s` prints).
pub fn strip_counters(text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let mut out: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        out.push(words[i]);
        if words[i] == "counter" && words.get(i + 1) == Some(&"packets") && words.len() > i + 4 {
            i += 5;
        } else {
            i += 1;
        }
    }
    out.join(" ")
}

/// What an `nft -a list table` says: each chain with its rules' texts and handles.
#[derive(Debug, Default)]
pub struct Listing {
    chains: Vec<(String, Vec<(String, u64)>)>,
    maps: Vec<(String, Vec<String>)>,
    text: String,
}

impl Listing {
    /// Parse `nft -a list table ip docker-bridges` output.
    pub fn parse(text: &str) -> Listing {
        let mut l = Listing {
            text: text.to_string(),
            ..Listing::default()
        };
        let mut in_map = false;
        for line in text.lines() {
            let t = line.trim();
            if let Some(rest) = t.strip_prefix("map ") {
                let name = rest.split_whitespace().next().unwrap_or("").to_string();
                l.maps.push((name, Vec::new()));
                in_map = true;
            } else if t.starts_with("chain ") || t == "}" {
                in_map = false;
            }
            if in_map && let Some((_, keys)) = l.maps.last_mut() {
                // `elements = { "docker0" : jump …,` and its continuation lines.
                let mut rest = t;
                while let Some(i) = rest.find(" : ") {
                    let head = rest[..i].trim_end();
                    if let Some(key) = head.strip_suffix('"').and_then(|h| h.rsplit('"').next()) {
                        keys.push(key.to_string());
                    }
                    rest = &rest[i + 3..];
                }
            }
            if let Some(rest) = t.strip_prefix("chain ") {
                let name = rest.split_whitespace().next().unwrap_or("").to_string();
                l.chains.push((name, Vec::new()));
            } else if let (Some((_, rules)), Some(r)) = (l.chains.last_mut(), parse_rule_line(t))
                && !t.starts_with("map ")
                && !t.starts_with("type ")
            {
                rules.push(r);
            }
        }
        l
    }

    /// True if the chain exists.
    pub fn has_chain(&self, chain: &str) -> bool {
        self.chains.iter().any(|(c, _)| c == chain)
    }

    /// True if map `map` holds key `key`.
    pub fn has_element(&self, map: &str, key: &str) -> bool {
        self.maps
            .iter()
            .any(|(m, keys)| m == map && keys.iter().any(|k| k == key))
    }

    /// The handle of the first rule of `chain` whose text is `text` and whose handle
    /// is not in `taken` (two identical rules are two rules).
    pub fn handle(&self, chain: &str, text: &str, taken: &[u64]) -> Option<u64> {
        self.chains
            .iter()
            .find(|(c, _)| c == chain)?
            .1
            .iter()
            .find(|(t, h)| t == text && !taken.contains(h))
            .map(|(_, h)| *h)
    }
}

/// The `nft -f` script for `ops`, handles resolved from `listing` (needed for
/// insertions before a rule and deletions). Deletions of what is already gone are
/// left out, so an undo can be replayed.
pub fn script(ops: &[NftOp], listing: &Listing) -> String {
    let t = format!("ip {TABLE}");
    let mut out = String::new();
    let mut taken: Vec<u64> = Vec::new();
    let table_gone = listing.text.is_empty();
    for op in ops {
        if table_gone && op.is_deletion() {
            continue;
        }
        let line = match op {
            NftOp::AddTable => format!("add table {t}"),
            NftOp::DeleteTable => format!("delete table {t}"),
            NftOp::AddMap { name, spec } => format!("add map {t} {name} {{ {spec} }}"),
            NftOp::AddChain { name, base: None } => format!("add chain {t} {name}"),
            NftOp::AddChain {
                name,
                base: Some(b),
            } => format!("add chain {t} {name} {{ {b} }}"),
            NftOp::DeleteChain { name } if listing.has_chain(name) => {
                format!("flush chain {t} {name}\ndelete chain {t} {name}")
            }
            NftOp::AddElement { map, key, verdict } => {
                format!("add element {t} {map} {{ \"{key}\" : {verdict} }}")
            }
            NftOp::DeleteElement { map, key } if listing.has_element(map, key) => {
                format!("delete element {t} {map} {{ \"{key}\" }}")
            }
            NftOp::AddRule(r) => format!("add rule {t} {} {}", r.chain, r.text),
            NftOp::InsertBefore { rule: r, before } => {
                match listing.handle(&r.chain, before, &[]) {
                    Some(h) => format!("insert rule {t} {} position {h} {}", r.chain, r.text),
                    None => format!("add rule {t} {} {}", r.chain, r.text),
                }
            }
            NftOp::DeleteRule(r) => match listing.handle(&r.chain, &r.text, &taken) {
                Some(h) => {
                    taken.push(h);
                    format!("delete rule {t} {} handle {h}", r.chain)
                }
                None => continue,
            },
            _ => continue,
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The `nft` binary, or a one-line error saying which package to install.
fn tool() -> Result<std::path::PathBuf> {
    crate::util::which("nft").ok_or_else(|| {
        Error::msg(crate::ui::tr(
            "nft not found: install it with `sudo apt-get install nftables`",
            "找不到 nft：请先安装 `sudo apt-get install nftables`",
        ))
    })
}

/// `nft ARGS` inside `ns_path`; its output, or a one-line error.
pub fn run(ns_path: &Path, args: &[&str]) -> Result<String> {
    let out = super::helper_in(ns_path, &tool()?)?
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .ctx("running nft")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or("failed").trim().to_string();
        return Err(Error::msg(format!("nft {}: {first}", args.join(" "))));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `nft -a list table ip docker-bridges` in `ns_path` (empty if there is no table).
pub fn list_table(ns_path: &Path) -> String {
    run(ns_path, &["-a", "list", "table", "ip", TABLE]).unwrap_or_default()
}

/// Apply `ops` in one `nft -f -` run inside `ns_path` (listing the table first when a
/// handle is needed). A step made only of deletions tolerates what is gone already.
pub fn apply(ns_path: &Path, ops: &[NftOp]) -> Result<()> {
    let listing = if ops.iter().any(|o| o.needs_handles() || o.is_deletion()) {
        Listing::parse(&list_table(ns_path))
    } else {
        Listing::default()
    };
    let text = script(ops, &listing);
    if text.is_empty() {
        return Ok(());
    }
    match run_script(ns_path, &text) {
        // An undo whose transaction failed whole (something changed between the
        // listing and the script): each line on its own, so the rest still goes.
        Err(e) if ops.iter().all(NftOp::is_deletion) => {
            let failed: Vec<String> = text
                .lines()
                .filter_map(|l| run_script(ns_path, &format!("{l}\n")).err())
                .map(|e| e.to_string())
                .filter(|e| !e.contains("No such file or directory"))
                .collect();
            if failed.is_empty() { Ok(()) } else { Err(e) }
        }
        r => r,
    }
}

/// One `nft -f -` run of `text` inside `ns_path`.
fn run_script(ns_path: &Path, text: &str) -> Result<()> {
    let mut child = super::helper_in(ns_path, &tool()?)?
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ctx("starting nft")?;
    // A few KiB at most: fits the pipe.
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(text.as_bytes())
        .ctx("writing to nft")?;
    let out = child.wait_with_output().ctx("waiting for nft")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or("failed").trim();
        return Err(Error::msg(format!("nft -f: {first}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests;

//! Reading a built throwaway lab: the host's `iptables -S` for filter, nat and raw, and
//! for each line the sentence the rule was written with (from the lab's own records,
//! where every firewall step keeps its rules' reasons).

use crate::error::{Context, Error, Result};
use crate::firewall::{Batch, Op, why};
use crate::lab::Lab;
use crate::ui::tr;
use std::collections::HashMap;

/// The tables `compare` shows, in order.
pub const TABLES: [&str; 3] = ["filter", "nat", "raw"];

/// One line of `iptables -S` and why it is there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Line {
    /// The line, exactly as `iptables -t T -S` prints it.
    pub rule: String,
    /// One sentence (empty if nothing is known).
    pub why: String,
}

/// One table of one lab.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Table {
    /// `filter`, `nat`, `raw`.
    pub name: String,
    /// Its lines.
    pub lines: Vec<Line>,
}

/// Every rule the lab's records hold, by (table, chain, args).
fn reasons(lab: &Lab) -> Result<HashMap<(String, String, String), String>> {
    let store = lab.store();
    // The records as JSON: firewall steps are found wherever a record keeps them
    // (the daemon's steps, a network's, an endpoint's, a container's ports).
    let json = |v: serde_json::Result<serde_json::Value>| v.unwrap_or_default();
    let mut docs: Vec<serde_json::Value> = Vec::new();
    if let Some(rec) = store.lab()? {
        docs.push(json(serde_json::to_value(&rec)));
    }
    for n in store.networks()? {
        docs.push(json(serde_json::to_value(&n)));
    }
    for c in store.containers()? {
        docs.push(json(serde_json::to_value(&c)));
    }
    let mut out = HashMap::new();
    for d in &docs {
        walk(d, &mut |batch| {
            for op in &batch.ops {
                if let Op::Append(r) | Op::Insert(r) | Op::InsertAt { rule: r, .. } = op
                    && !r.why.is_empty()
                {
                    out.entry((r.table.clone(), r.chain.clone(), r.args.clone()))
                        .or_insert_with(|| r.why.clone());
                }
            }
        });
    }
    Ok(out)
}

/// Calls `f` for every firewall step's batch anywhere in a record.
fn walk(v: &serde_json::Value, f: &mut dyn FnMut(&Batch)) {
    match v {
        serde_json::Value::Object(m) => {
            if m.get("op").and_then(|o| o.as_str()) == Some("firewall")
                && let Some(b) = m.get("batch")
                && let Ok(batch) = serde_json::from_value::<Batch>(b.clone())
            {
                f(&batch);
            }
            m.values().for_each(|x| walk(x, f));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, f)),
        _ => {}
    }
}

/// Why a line that no firewall step wrote is there: policies, chains and the chains'
/// trailing RETURNs, which the daemon makes without a rule of its own to explain.
fn builtin_why(table: &str, line: &str) -> String {
    let w: Vec<&str> = line.split_whitespace().collect();
    match (table, w.as_slice()) {
        ("filter", ["-P", "FORWARD", "DROP"]) => tr(
            "dockerd turned on ip_forward itself, so it closes forwarding by default",
            "dockerd 自己打开了 ip_forward，所以默认关上转发",
        ),
        (_, ["-P", ..]) => String::new(),
        (_, ["-N", chain]) => why::chain(table, chain),
        (_, ["-A", _, "-j", "RETURN"]) => tr(
            "end of the chain: back to where it was jumped to from",
            "链的末尾：回到跳转过来的地方",
        ),
        _ => String::new(),
    }
}

/// The host's rules of a built lab, each with its reason.
pub fn read(lab: &Lab) -> Result<Vec<Table>> {
    let reasons = reasons(lab)?;
    let iptables = crate::util::which("iptables").ok_or_else(|| {
        Error::msg(tr(
            "iptables not found: install it with `sudo apt-get install iptables`",
            "找不到 iptables：请先安装 `sudo apt-get install iptables`",
        ))
    })?;
    let ns = crate::netns::path(&lab.host_ns());
    let mut out = Vec::new();
    for table in TABLES {
        let o = crate::firewall::command_in(&ns, &iptables)?
            .args(["-t", table, "-S"])
            .output()
            .ctx("running iptables -S")?;
        if !o.status.success() {
            return Err(Error::msg(format!(
                "iptables -t {table} -S: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )));
        }
        let lines = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| {
                let why = l
                    .strip_prefix("-A ")
                    .and_then(|rest| rest.split_once(' '))
                    .and_then(|(chain, args)| {
                        reasons.get(&(table.to_string(), chain.to_string(), args.to_string()))
                    })
                    .cloned()
                    .unwrap_or_else(|| builtin_why(table, l));
                Line {
                    rule: l.to_string(),
                    why,
                }
            })
            .collect();
        out.push(Table {
            name: table.to_string(),
            lines,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firewall::Rule;

    #[test]
    fn finds_firewall_steps_anywhere_in_a_record() {
        let step = crate::step::Step::Firewall {
            ns: "n".into(),
            batch: Batch {
                ops: vec![Op::Append(Rule::new(
                    "nat",
                    "DOCKER",
                    "-i x -j RETURN",
                    "because",
                ))],
            },
        };
        let doc = serde_json::json!({"a": [{"b": serde_json::to_value(&step).unwrap()}]});
        let mut seen = Vec::new();
        walk(&doc, &mut |b| seen.push(b.ops.len()));
        assert_eq!(seen, [1]);
        assert!(!builtin_why("filter", "-N DOCKER-FORWARD").is_empty());
        assert!(builtin_why("filter", "-A DOCKER-USER -j RETURN").contains("chain"));
    }
}

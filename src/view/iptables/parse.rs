//! Parser for `iptables-save -c` output.

use super::{Chain, Rule, Table};

/// Parses the output of `iptables-save -c` (or plain `iptables-save`, whose
/// rules then get zero counters) into tables.
///
/// Recognised lines: `# comments`, `*table`, `:CHAIN POLICY [p:b]`,
/// `[p:b] -A CHAIN args...` and `COMMIT`. Rule arguments are tokenized the way
/// `iptables-restore` does it: whitespace separates tokens, double quotes group
/// them, and inside quotes a backslash escapes the next character (which is
/// how `iptables-save` writes `--comment "say \"hi\""`).
///
/// # Errors
///
/// Returns a message naming the 1-based line number for anything else: a rule
/// or chain outside a table, a rule for an undeclared chain, bad counters, an
/// unterminated quote, or a table without `COMMIT`.
pub fn parse_iptables_save(text: &str) -> Result<Vec<Table>, String> {
    let mut tables = Vec::new();
    let mut current: Option<Table> = None;

    for (idx, raw) in text.lines().enumerate() {
        let lineno = idx + 1;
        let line = raw.trim();
        let err = |msg: &str| format!("line {lineno}: {msg}: {line}");
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('*') {
            if current.is_some() {
                return Err(err("new table before COMMIT"));
            }
            current = Some(Table {
                name: name.trim().to_string(),
                chains: Vec::new(),
            });
            continue;
        }
        if line == "COMMIT" {
            let table = current
                .take()
                .ok_or_else(|| err("COMMIT outside a table"))?;
            tables.push(table);
            continue;
        }
        let table = current
            .as_mut()
            .ok_or_else(|| err("line outside a table"))?;
        if let Some(decl) = line.strip_prefix(':') {
            table
                .chains
                .push(parse_chain_decl(decl).map_err(|m| err(&m))?);
        } else {
            let (chain, rule) = parse_rule_line(line).map_err(|m| err(&m))?;
            let target = table
                .chains
                .iter_mut()
                .find(|c| c.name == chain)
                .ok_or_else(|| err("rule for undeclared chain"))?;
            target.rules.push(rule);
        }
    }
    if let Some(table) = current {
        return Err(format!("table {} not terminated by COMMIT", table.name));
    }
    Ok(tables)
}

/// Parses `DOCKER - [0:0]` or `PREROUTING ACCEPT [12:720]` (leading `:` already gone).
fn parse_chain_decl(decl: &str) -> Result<Chain, String> {
    let mut parts = decl.split_whitespace();
    let name = parts.next().ok_or("chain without a name")?.to_string();
    let policy = match parts.next() {
        None | Some("-") => None,
        Some(p) => Some(p.to_string()),
    };
    let (packets, bytes) = match parts.next() {
        Some(c) => parse_counters(c)?,
        None => (0, 0),
    };
    if parts.next().is_some() {
        return Err("trailing text after chain counters".into());
    }
    Ok(Chain {
        name,
        policy,
        packets,
        bytes,
        rules: Vec::new(),
    })
}

/// Parses `[p:b] -A CHAIN args...` into the chain name and the rule.
fn parse_rule_line(line: &str) -> Result<(String, Rule), String> {
    let (packets, bytes, rest) = match line.strip_prefix('[') {
        Some(_) => {
            let end = line.find(']').ok_or("unterminated counters")?;
            let (p, b) = parse_counters(&line[..=end])?;
            (p, b, &line[end + 1..])
        }
        None => (0, 0, line),
    };
    let mut tokens = tokenize(rest)?.into_iter();
    match tokens.next().as_deref() {
        Some("-A" | "--append") => {}
        _ => return Err("expected -A CHAIN".into()),
    }
    let chain = tokens.next().ok_or("-A without a chain")?;
    Ok((
        chain,
        Rule {
            packets,
            bytes,
            args: tokens.collect(),
        },
    ))
}

/// Parses `[12:720]`.
fn parse_counters(text: &str) -> Result<(u64, u64), String> {
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| format!("bad counters {text}"))?;
    let (p, b) = inner
        .split_once(':')
        .ok_or_else(|| format!("bad counters {text}"))?;
    let num = |s: &str| {
        s.parse::<u64>()
            .map_err(|e| format!("bad counter {s}: {e}"))
    };
    Ok((num(p)?, num(b)?))
}

/// Splits rule arguments like `iptables-restore` does.
fn tokenize(text: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    // A token can be empty (`--comment ""`), so track "started" separately.
    let mut started = false;
    let mut in_quotes = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                started = true;
            }
            '\\' if in_quotes => {
                let next = chars.next().ok_or("backslash at end of line")?;
                cur.push(next);
            }
            c if c.is_whitespace() && !in_quotes => {
                if started {
                    tokens.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            c => {
                cur.push(c);
                started = true;
            }
        }
    }
    if in_quotes {
        return Err("unterminated quote".into());
    }
    if started {
        tokens.push(cur);
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_quotes_and_escapes() {
        let t = tokenize(r#"-m comment --comment "allow web \"x\"" --x "a\\b" "" tail"#).unwrap();
        assert_eq!(
            t,
            [
                "-m",
                "comment",
                "--comment",
                "allow web \"x\"",
                "--x",
                "a\\b",
                "",
                "tail"
            ]
        );
        assert!(tokenize("--comment \"open").is_err());
    }

    #[test]
    fn parses_tables_chains_and_rules() {
        let text = "# Generated by iptables-save\n*nat\n:PREROUTING ACCEPT [12:720]\n\
                    :DOCKER - [0:0]\n[3:180] -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n\
                    -A DOCKER -i docker0 -j RETURN\nCOMMIT\n*filter\n:INPUT DROP [1:2]\nCOMMIT\n";
        let tables = parse_iptables_save(text).unwrap();
        assert_eq!(tables.len(), 2);
        let nat = &tables[0];
        assert_eq!(nat.name, "nat");
        assert_eq!(nat.chains[0].policy.as_deref(), Some("ACCEPT"));
        assert_eq!((nat.chains[0].packets, nat.chains[0].bytes), (12, 720));
        assert_eq!(nat.chains[1].policy, None);
        let rule = &nat.chains[0].rules[0];
        assert_eq!((rule.packets, rule.bytes), (3, 180));
        assert_eq!(
            rule.args.join(" "),
            "-m addrtype --dst-type LOCAL -j DOCKER"
        );
        assert_eq!(nat.chains[1].rules[0].packets, 0);
        assert_eq!(nat.references("DOCKER"), 1);
        assert_eq!(tables[1].chains[0].policy.as_deref(), Some("DROP"));
    }

    #[test]
    fn reports_errors_with_line_numbers() {
        let e = parse_iptables_save("*nat\n-A NOPE -j ACCEPT\nCOMMIT\n").unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
        assert!(parse_iptables_save("*nat\n:X - [0:0]\n").is_err());
        assert!(parse_iptables_save(":X - [0:0]\n").is_err());
        assert!(parse_iptables_save("*nat\n:X - [a:0]\nCOMMIT\n").is_err());
        assert!(parse_iptables_save("*nat\n:X - [0:0]\n[1:1] -I X\nCOMMIT\n").is_err());
    }

    #[test]
    fn parses_real_fixture() {
        let tables = parse_iptables_save(include_str!("../testdata/iptables_save.txt")).unwrap();
        let names: Vec<_> = tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["filter", "nat"]);
        let misc = tables[0].chains.iter().find(|c| c.name == "MISC").unwrap();
        let comment = misc
            .rules
            .iter()
            .find(|r| r.args.iter().any(|a| a == "allow web \"x\""));
        assert!(comment.is_some());
    }
}

//! From a trace event's rule handle to the rule as `iptables -S` prints it.
//!
//! The kernel names a rule by its nf_tables handle; iptables-nft users know rules by
//! their `-A CHAIN …` line. Both listings keep a chain's rules in the same order, so the
//! n-th handle of a chain in `nft -a list ruleset` is the n-th `-A CHAIN` line of that
//! table in `iptables-save`. Under the nftables firewall backend Docker's rules are in
//! `ip docker-bridges`, which iptables does not know: those are shown as nft prints
//! them (counters left out).

use std::collections::HashMap;

/// Rule lines by (table, chain, handle), for the `ip` family.
#[derive(Debug, Default, Clone)]
pub struct RuleBook {
    lines: HashMap<(String, String, u64), String>,
}

impl RuleBook {
    /// Pair `nft -a list ruleset` with `iptables-save` of the same namespace.
    pub fn new(nft_listing: &str, iptables_save: &str) -> RuleBook {
        let mut saved: HashMap<(String, String), Vec<String>> = HashMap::new();
        let mut table = String::new();
        for line in iptables_save.lines() {
            if let Some(t) = line.strip_prefix('*') {
                table = t.trim().to_string();
            } else if let Some(rest) = line.strip_prefix("-A ") {
                let chain = rest.split_whitespace().next().unwrap_or("").to_string();
                saved
                    .entry((table.clone(), chain))
                    .or_default()
                    .push(line.to_string());
            }
        }
        let mut lines = HashMap::new();
        for ((t, c), handles) in handles(nft_listing) {
            if let Some(rules) = saved.get(&(t.clone(), c.clone()))
                && rules.len() == handles.len()
            {
                for (h, r) in handles.iter().zip(rules) {
                    lines.insert((t.clone(), c.clone(), *h), r.clone());
                }
            }
        }
        lines.extend(nft_rules(nft_listing, crate::firewall::nft::TABLE));
        RuleBook { lines }
    }

    /// The `-A CHAIN …` line of a rule.
    pub fn line(&self, table: &str, chain: &str, handle: u64) -> Option<&str> {
        self.lines
            .get(&(table.to_string(), chain.to_string(), handle))
            .map(|s| s.as_str())
    }
}

/// The rules of nft table `ip NAME` by (table, chain, handle), as nft prints them.
fn nft_rules(listing: &str, name: &str) -> Vec<((String, String, u64), String)> {
    let mut out = Vec::new();
    let mut inside = false;
    let mut chain: Option<String> = None;
    for raw in listing.lines() {
        let line = raw.trim();
        if let Some(rest) = line.strip_prefix("table ") {
            let mut w = rest.split_whitespace();
            inside = (w.next(), w.next()) == (Some("ip"), Some(name));
            chain = None;
        } else if let Some(rest) = line.strip_prefix("chain ") {
            chain = rest.split_whitespace().next().map(|s| s.to_string());
        } else if inside
            && let Some(c) = &chain
            && let Some((text, h)) = crate::firewall::nft::parse_rule_line(line)
        {
            out.push(((name.to_string(), c.clone(), h), text));
        }
    }
    out
}

/// Rule handles in order, per (table, chain) of the `ip` family.
fn handles(listing: &str) -> HashMap<(String, String), Vec<u64>> {
    let mut out: HashMap<(String, String), Vec<u64>> = HashMap::new();
    let mut table: Option<String> = None;
    let mut chain: Option<String> = None;
    for raw in listing.lines() {
        let line = raw.trim();
        if let Some(rest) = line.strip_prefix("table ") {
            let mut w = rest.split_whitespace();
            table = match (w.next(), w.next()) {
                (Some("ip"), Some(name)) => Some(name.to_string()),
                _ => None,
            };
            chain = None;
        } else if let Some(rest) = line.strip_prefix("chain ") {
            chain = rest.split_whitespace().next().map(|s| s.to_string());
        } else if let (Some(t), Some(c)) = (&table, &chain)
            && let Some((_, h)) = line.rsplit_once("# handle ")
            && let Ok(h) = h.trim().parse()
        {
            out.entry((t.clone(), c.clone())).or_default().push(h);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NFT: &str = "table ip filter { # handle 3
	chain DOCKER { # handle 1
		iifname != \"docker0\" oifname \"docker0\" meta l4proto tcp ip daddr 172.17.0.2 tcp dport 80 counter packets 0 bytes 0 accept # handle 14
	}
	chain FORWARD { # handle 2
		type filter hook forward priority filter; policy drop;
		counter packets 0 bytes 0 jump DOCKER-USER # handle 11
		counter packets 0 bytes 0 jump DOCKER-ISOLATION-STAGE-1 # handle 12
	}
}
table ip6 filter { # handle 4
	chain FORWARD { # handle 1
		counter packets 0 bytes 0 accept # handle 2
	}
}
table ip nat { # handle 5
	chain DOCKER { # handle 1
		iifname \"docker0\" counter packets 0 bytes 0 return # handle 3
		iifname != \"docker0\" meta l4proto tcp tcp dport 8080 counter packets 0 bytes 0 dnat to 172.17.0.2:80 # handle 9
	}
}
";

    const SAVE: &str = "*filter
:FORWARD DROP [0:0]
:DOCKER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
COMMIT
*nat
:DOCKER - [0:0]
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
COMMIT
";

    #[test]
    fn handles_pair_with_rule_lines() {
        let b = RuleBook::new(NFT, SAVE);
        assert_eq!(
            b.line("filter", "FORWARD", 11),
            Some("-A FORWARD -j DOCKER-USER")
        );
        assert_eq!(
            b.line("filter", "FORWARD", 12),
            Some("-A FORWARD -j DOCKER-ISOLATION-STAGE-1")
        );
        assert_eq!(
            b.line("nat", "DOCKER", 9),
            Some(
                "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80"
            )
        );
        assert!(
            b.line("filter", "DOCKER", 14)
                .unwrap()
                .ends_with("-j ACCEPT")
        );
        // ip6 tables are not iptables' (and a handle of theirs maps to nothing).
        assert_eq!(b.line("filter", "FORWARD", 2), None);
    }

    #[test]
    fn docker_bridges_rules_read_as_nft_prints_them() {
        let nft = "table ip docker-bridges { # handle 7
	chain nat-prerouting-and-output { # handle 9
		iifname != \"bridge1\" tcp dport 8080 counter packets 1 bytes 60 dnat to 192.0.2.2:80 comment \"DNAT\" # handle 21
	}
}
";
        let b = RuleBook::new(nft, "");
        assert_eq!(
            b.line("docker-bridges", "nat-prerouting-and-output", 21),
            Some(
                "iifname != \"bridge1\" tcp dport 8080 counter dnat to 192.0.2.2:80 comment \"DNAT\""
            )
        );
    }

    #[test]
    fn a_chain_whose_counts_differ_is_left_unnamed() {
        let save = SAVE.replace("-A FORWARD -j DOCKER-USER\n", "");
        let b = RuleBook::new(NFT, &save);
        assert_eq!(b.line("filter", "FORWARD", 12), None);
        assert!(b.line("nat", "DOCKER", 3).is_some());
    }
}

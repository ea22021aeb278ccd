//! `iptables-save -c` parsing and `iptables -v -n -L` rendering.
//!
//! The renderer reproduces iptables 1.8.9 (nf_tables) byte for byte for the
//! rules Docker writes and for common extensions: matches `addrtype`,
//! `comment`, `conntrack`, `icmp`, `mark`, `multiport`, `state`, `tcp`, `udp`;
//! targets `DNAT`, `SNAT`, `MASQUERADE`, `REDIRECT`, `REJECT`, `MARK`,
//! `CONNMARK` (save/restore), `LOG` and plain verdicts/jumps. Anything else
//! is rendered in its `iptables-save` spelling instead of failing.

mod ext;
mod parse;
mod render;

pub use parse::parse_iptables_save;
pub use render::render_all_vnl;

/// One table (`*nat`, `*filter`, ...) from `iptables-save` output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Table name without the `*` (`nat`).
    pub name: String,
    /// Chains in the order `iptables-save` declared them. For the nf_tables
    /// flavour that is built-in chains in hook order, then user chains sorted
    /// by name, which is also the order `iptables -L` lists them in.
    pub chains: Vec<Chain>,
}

/// One chain with its policy, counters and rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    /// Chain name (`DOCKER`).
    pub name: String,
    /// Policy of a built-in chain (`ACCEPT`); `None` for user chains, which
    /// `iptables-save` writes as `-`.
    pub policy: Option<String>,
    /// Packets counted against the policy.
    pub packets: u64,
    /// Bytes counted against the policy.
    pub bytes: u64,
    /// Rules in order.
    pub rules: Vec<Rule>,
}

/// One rule (`[pk:bytes] -A CHAIN args...`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    /// Packets matched.
    pub packets: u64,
    /// Bytes matched.
    pub bytes: u64,
    /// Tokens after `-A CHAIN`, unquoted (`["-m", "comment", "--comment", "foo bar", ...]`).
    pub args: Vec<String>,
}

impl Rule {
    /// The rule's jump or goto target (`-j X` / `-g X`), if it has one.
    pub fn target(&self) -> Option<&str> {
        self.args
            .windows(2)
            .find(|w| w[0] == "-j" || w[0] == "-g" || w[0] == "--jump" || w[0] == "--goto")
            .map(|w| w[1].as_str())
    }
}

impl Table {
    /// How many rules in this table jump (`-j`) or go (`-g`) to `chain`; this
    /// is the "(N references)" count that the nf_tables flavour prints.
    pub fn references(&self, chain: &str) -> usize {
        self.chains
            .iter()
            .flat_map(|c| &c.rules)
            .filter(|r| r.target() == Some(chain))
            .count()
    }
}

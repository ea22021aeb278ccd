//! Which firewall the lab's Docker daemon writes: iptables rules (every engine's
//! default) or, from Docker 29 on, its own nftables table `ip docker-bridges`
//! (`dockerd --firewall-backend=nftables`).

use super::Engine;
use crate::error::{Error, Result};
use crate::ui::tr;
use std::fmt;

/// The daemon's `--firewall-backend`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// iptables rules (through iptables-nft here), each engine's layout.
    #[default]
    Iptables,
    /// Docker 29's nftables table `ip docker-bridges`.
    Nftables,
}

impl Backend {
    /// Parse `iptables` or `nftables`, checking that `engine` has that backend (only
    /// Docker 29 has nftables).
    pub fn parse(s: &str, engine: Engine) -> Result<Backend> {
        let b = match s.trim() {
            "iptables" => Backend::Iptables,
            "nftables" => Backend::Nftables,
            _ => {
                return Err(Error::msg(tr(
                    format!("unknown firewall backend {s:?}: use iptables or nftables"),
                    format!("未知的防火墙后端 {s:?}：可用 iptables 或 nftables"),
                )));
            }
        };
        if b == Backend::Nftables && engine < Engine::V29 {
            return Err(Error::msg(tr(
                format!(
                    "--firewall-backend nftables needs Docker 29: add `--engine 29` (Docker {engine} only writes iptables rules)"
                ),
                format!(
                    "--firewall-backend nftables 需要 Docker 29：请加上 `--engine 29`（Docker {engine} 只会写 iptables 规则）"
                ),
            )));
        }
        Ok(b)
    }

    /// True for nftables.
    pub fn is_nftables(self) -> bool {
        self == Backend::Nftables
    }

    /// The word Docker's `info` prints (`iptables`, `nftables`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Iptables => "iptables",
            Backend::Nftables => "nftables",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nftables_needs_29() {
        assert_eq!(
            Backend::parse("nftables", Engine::V29).unwrap(),
            Backend::Nftables
        );
        assert_eq!(
            Backend::parse("iptables", Engine::V27).unwrap(),
            Backend::Iptables
        );
        let e = Backend::parse("nftables", Engine::V27)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--engine 29"), "{e}");
        assert!(Backend::parse("pf", Engine::V29).is_err());
        assert_eq!(
            serde_json::to_string(&Backend::Nftables).unwrap(),
            "\"nftables\""
        );
    }
}

//! Which Docker Engine's rule layout a lab builds: the articles' classic layout (up to
//! 27.x), 28.x's (rules moved out of FORWARD, raw-table drops) or 29.x's (no isolation
//! chains, DOCKER-INTERNAL). Everything else in the lab is the same under each.

use crate::error::{Error, Result};
use crate::ui::tr;
use std::fmt;

/// A Docker Engine release line whose iptables layout the lab reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub enum Engine {
    /// 18.06–27.x: FORWARD holds each network's four rules, two-stage isolation.
    #[default]
    V27,
    /// 28.0.1–28.5.x: DOCKER-FORWARD / -BRIDGE / -CT, isolation stages kept, raw drops.
    V28,
    /// 29.x: DOCKER-INTERNAL replaces the isolation stages; no nat `-i br -j RETURN`.
    V29,
}

impl Engine {
    /// All engines, oldest first.
    pub const ALL: [Engine; 3] = [Engine::V27, Engine::V28, Engine::V29];

    /// The major version number (27, 28, 29).
    pub fn major(self) -> u8 {
        match self {
            Engine::V27 => 27,
            Engine::V28 => 28,
            Engine::V29 => 29,
        }
    }

    /// Parse `27`, `28` or `29` (a leading `v` and a minor version are accepted:
    /// `v28`, `29.7`).
    pub fn parse(s: &str) -> Result<Engine> {
        let t = s.trim().trim_start_matches(['v', 'V']);
        let major = t.split('.').next().unwrap_or("");
        match major {
            "27" => Ok(Engine::V27),
            "28" => Ok(Engine::V28),
            "29" => Ok(Engine::V29),
            _ => Err(Error::msg(tr(
                format!("unknown Docker engine {s:?}: use 27 (the articles' layout), 28 or 29"),
                format!("未知的 Docker 引擎版本 {s:?}：可用 27（文章里的规则布局）、28 或 29"),
            ))),
        }
    }

    /// The releases whose layout this is, as the reference records them.
    pub fn releases(self) -> &'static str {
        match self {
            Engine::V27 => "18.06–27.x",
            Engine::V28 => "28.0.1–28.5.x",
            Engine::V29 => "29.0–29.7",
        }
    }

    /// One line for `lab status` and `info`: which layout, in the learner's language.
    pub fn describe(self) -> String {
        match self {
            Engine::V27 => tr(
                "Docker 27 (classic layout, as in the articles)",
                "Docker 27（经典规则布局，和文章里一样）",
            ),
            Engine::V28 => tr(
                "Docker 28 (DOCKER-FORWARD / DOCKER-BRIDGE / DOCKER-CT, raw-table drops)",
                "Docker 28（DOCKER-FORWARD / DOCKER-BRIDGE / DOCKER-CT 链，raw 表丢弃规则）",
            ),
            Engine::V29 => tr(
                "Docker 29 (DOCKER-INTERNAL instead of the isolation chains)",
                "Docker 29（用 DOCKER-INTERNAL 取代隔离链）",
            ),
        }
    }

    /// What this release line changed in the rules, against the one before it (empty
    /// for 27, the first one modelled). Each item is one sentence for the learner.
    pub fn changes(self) -> Vec<String> {
        match self {
            Engine::V27 => Vec::new(),
            Engine::V28 => vec![
                tr(
                    "28 moved Docker's filter rules out of FORWARD: FORWARD only jumps to DOCKER-USER and DOCKER-FORWARD, which asks DOCKER-CT (replies), the isolation chains, then DOCKER-BRIDGE (new connections into a bridge go to DOCKER)",
                    "28 把 Docker 的 filter 规则搬出了 FORWARD：FORWARD 只跳到 DOCKER-USER 和 DOCKER-FORWARD，后者依次问 DOCKER-CT（回包）、隔离链、DOCKER-BRIDGE（进入网桥的新连接交给 DOCKER）",
                ),
                tr(
                    "the DOCKER chain ends each bridge with `! -i br -o br -j DROP`: a port not published stays closed even if FORWARD's policy is ACCEPT",
                    "DOCKER 链给每个网桥末尾加了一条 `! -i br -o br -j DROP`：就算 FORWARD 的默认策略是 ACCEPT，没映射的端口也进不去",
                ),
                tr(
                    "raw PREROUTING drops packets routed straight to a container's address from outside its bridge, and to ports published on 127.0.0.1 from outside lo",
                    "raw 表的 PREROUTING 丢弃从网桥外直接路由到容器地址的包，以及从 lo 以外访问只映射在 127.0.0.1 上的端口的包",
                ),
                tr(
                    "with docker-proxy on, a published port no longer gets its own `-s C -d C` MASQUERADE (28.0)",
                    "开着 docker-proxy 时，端口映射不再带那条 `-s C -d C` 的 MASQUERADE（28.0）",
                ),
                tr(
                    "DOCKER-USER no longer ends in `-j RETURN` (28.2.2)",
                    "DOCKER-USER 末尾不再有 `-j RETURN`（28.2.2）",
                ),
            ],
            Engine::V29 => vec![
                tr(
                    "29 removed DOCKER-ISOLATION-STAGE-1/2: networks are kept apart by the DOCKER chain's per-bridge DROP and the raw-table drops",
                    "29 去掉了 DOCKER-ISOLATION-STAGE-1/2：网络之间的隔离改由 DOCKER 链里每个网桥的 DROP 和 raw 表的丢弃规则完成",
                ),
                tr(
                    "--internal networks have their walls in DOCKER-INTERNAL; with docker-proxy on, nat DOCKER has no `-i br -j RETURN` any more (the DNAT rules' `! -i br` does that)",
                    "--internal 内部网络的隔离墙放在 DOCKER-INTERNAL 链；开着 docker-proxy 时，nat 表的 DOCKER 链不再有 `-i br -j RETURN`（DNAT 规则里的 `! -i br` 已经管了）",
                ),
            ],
        }
    }

    /// True for the layouts that moved Docker's rules out of FORWARD (28 and later).
    pub fn has_docker_forward(self) -> bool {
        self >= Engine::V28
    }

    /// True while the two DOCKER-ISOLATION-STAGE chains exist (up to 28.x).
    pub fn has_isolation_stages(self) -> bool {
        self <= Engine::V28
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.major())
    }
}

impl std::str::FromStr for Engine {
    type Err = Error;
    fn from_str(s: &str) -> Result<Engine> {
        Engine::parse(s)
    }
}

// Stored as the plain major number (`"engine": 28`) so a lab's state reads naturally.
impl serde::Serialize for Engine {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u8(self.major())
    }
}

impl<'de> serde::Deserialize<'de> for Engine {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Engine, D::Error> {
        let n = <u8 as serde::Deserialize>::deserialize(d)?;
        Engine::parse(&n.to_string()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_majors_and_rejects_the_rest() {
        assert_eq!(Engine::parse("27").unwrap(), Engine::V27);
        assert_eq!(Engine::parse("v28").unwrap(), Engine::V28);
        assert_eq!(Engine::parse("29.7").unwrap(), Engine::V29);
        let e = Engine::parse("26").unwrap_err().to_string();
        assert!(e.contains("27") && e.contains("29"), "{e}");
        assert_eq!(Engine::default(), Engine::V27);
    }

    #[test]
    fn stored_as_a_number() {
        assert_eq!(serde_json::to_string(&Engine::V29).unwrap(), "29");
        let e: Engine = serde_json::from_str("28").unwrap();
        assert_eq!(e, Engine::V28);
        assert!(serde_json::from_str::<Engine>("30").is_err());
    }
}

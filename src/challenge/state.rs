//! The active challenge of a lab: one small JSON file in the lab's directory (its
//! name and how many hints were shown). `lab down` removes the lab's directory, and
//! the file with it, so a rebuilt lab has no challenge.

use crate::error::{Error, Result};
use crate::lab::Lab;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The file's name in the lab's root directory.
pub const FILE: &str = "challenge.json";

/// What `challenge check` and `challenge hint` need to know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Active {
    /// The challenge's name.
    pub name: String,
    /// How many hints were shown so far.
    #[serde(default)]
    pub hints_shown: usize,
}

/// Where a lab keeps its active challenge.
pub fn path(lab: &Lab) -> PathBuf {
    lab.root().join(FILE)
}

/// The lab's active challenge, if one was started (a damaged file counts as none).
pub fn load(lab: &Lab) -> Option<Active> {
    let text = std::fs::read(path(lab)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Remember `active` (replaced atomically).
pub fn save(lab: &Lab, active: &Active) -> Result<()> {
    let data = serde_json::to_vec_pretty(active).map_err(|e| Error::msg(e.to_string()))?;
    crate::util::write_atomic(&path(lab), &data)
}

/// The lab's active challenge, or the one-line refusal naming how to start one.
pub fn require(lab: &Lab) -> Result<Active> {
    load(lab).ok_or_else(|| {
        let at = lab_flag(lab);
        Error::msg(crate::ui::tr(
            format!(
                "no challenge is active in lab {}: start one with `dockernet{at} challenge NAME` (`dockernet challenge list` lists them)",
                lab.name
            ),
            format!(
                "实验环境 {} 中没有进行中的挑战：先用 `dockernet{at} challenge NAME` 开始一个（`dockernet challenge list` 列出全部挑战）",
                lab.name
            ),
        ))
    })
}

/// ` --lab L` when the lab is not the default one, for commands shown to the learner.
pub fn lab_flag(lab: &Lab) -> String {
    if lab.name == "default" {
        String::new()
    } else {
        format!(" --lab {}", lab.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_round_trips() {
        let a = Active {
            name: "forwarding-off".into(),
            hints_shown: 2,
        };
        let text = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Active>(&text).unwrap(), a);
        let old: Active = serde_json::from_str(r#"{"name":"x"}"#).unwrap();
        assert_eq!(old.hints_shown, 0);
    }
}

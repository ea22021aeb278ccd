//! `compare [--engines A,B] [SCENARIO]`: one scenario under two Docker engines' rule
//! layouts, side by side or as a diff (see `crate::compare`).

use super::Format;
use crate::compare::{View, scenario};
use crate::error::{Error, Result};
use crate::firewall::Engine;
use crate::lab::Lab;
use crate::step::Mode;
use crate::ui::tr;
use clap::Args;

/// `compare` flags.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// What to build: default, usernet, portmap, noproxy, noicc or internal (Docker's
    /// documented scenarios); left out, a copy of the current lab's networks,
    /// containers and ports.
    #[arg(value_parser = scenario::NAMES)]
    pub scenario: Option<String>,
    /// The two engines to compare, first and second (27, 28, 29).
    #[arg(long, default_value = "27,29", value_name = "A,B")]
    pub engines: String,
    /// Two columns, the first engine left, instead of a diff.
    #[arg(long)]
    pub side_by_side: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// The two engines of `--engines`, or a one-line error.
fn engines(s: &str) -> Result<[Engine; 2]> {
    let list: Vec<&str> = s.split(',').map(str::trim).collect();
    let bad = || {
        Error::with_code(
            tr(
                format!("--engines {s:?}: give two different engines, e.g. --engines 27,29"),
                format!("--engines {s:?}：请给出两个不同的引擎版本，例如 --engines 27,29"),
            ),
            2,
        )
    };
    let [a, b] = list.as_slice() else {
        return Err(bad());
    };
    // A bad engine number is a usage error, like the other bad values (exit 2).
    let parse = |e: &str| Engine::parse(e).map_err(|err| Error::with_code(err.to_string(), 2));
    let (a, b) = (parse(a)?, parse(b)?);
    if a == b {
        return Err(bad());
    }
    Ok([a, b])
}

/// `compare`
pub async fn compare(lab: &Lab, mode: Mode, a: CompareArgs) -> Result<i32> {
    if mode == Mode::DryRun {
        return Err(Error::msg(tr(
            "compare builds real labs to read the rules each engine writes: it has nothing to show under --dry-run (leave the flag out)",
            "compare 会真的搭建实验环境来读取每个引擎写下的规则，--dry-run 下没有什么可显示的（去掉这个选项即可）",
        )));
    }
    let engines = engines(&a.engines)?;
    crate::lab::require_root()?;
    let s = match &a.scenario {
        Some(name) => scenario::named(name)?,
        None => match scenario::from_lab(lab)? {
            Some(s) => s,
            None => {
                return Err(Error::with_code(
                    tr(
                        format!(
                            "lab {} is not up: name a scenario ({}) or build the lab first",
                            lab.name,
                            scenario::NAMES.join(", ")
                        ),
                        format!(
                            "实验环境 {} 没有运行：请指定一个场景（{}），或者先把实验环境建起来",
                            lab.name,
                            scenario::NAMES.join("、")
                        ),
                    ),
                    2,
                ));
            }
        },
    };
    let view = match (a.format, a.side_by_side) {
        (Format::Json, _) => View::Json,
        (_, true) => View::SideBySide,
        _ => View::Diff,
    };
    print!("{}", crate::compare::run(&s, engines, view).await?);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_are_two_different_ones() {
        assert_eq!(engines("27,29").unwrap(), [Engine::V27, Engine::V29]);
        assert_eq!(engines("29, 28").unwrap(), [Engine::V29, Engine::V28]);
        assert!(engines("27").is_err());
        assert!(engines("27,27").is_err());
        assert!(engines("27,28,29").is_err());
        assert!(engines("27,30").is_err());
    }
}

//! Challenges: a lab left broken on purpose (one of the pitfalls `doctor` knows), or a
//! task to build something by hand (a veth pair, a DNAT rule), which the learner works
//! on in `dockernet host` / `dockernet exec` shells; `challenge check` verifies the
//! result against the kernel with the lessons' checks and answers in their expected /
//! seen / hint form, and `challenge hint` gives graded hints.
//!
//! Challenges are data files in `challenges/` (TOML, see `challenges/README.md` and
//! [`model`]), compiled into the binary; [`state`] keeps a lab's active challenge,
//! [`run`] starts, checks and hints.

pub mod model;
pub mod run;
pub mod state;

pub use model::Challenge;

use crate::error::{Error, Result};
use crate::lesson::{Lang, claims, ui};

/// The challenge files, in the order `challenge list` shows them (and "the next
/// challenge" follows).
pub const FILES: &[(&str, &str)] = &[
    (
        "bridge-port-down.toml",
        include_str!("../../challenges/bridge-port-down.toml"),
    ),
    (
        "veth-by-hand.toml",
        include_str!("../../challenges/veth-by-hand.toml"),
    ),
    (
        "no-default-route.toml",
        include_str!("../../challenges/no-default-route.toml"),
    ),
    (
        "forwarding-off.toml",
        include_str!("../../challenges/forwarding-off.toml"),
    ),
    (
        "forward-drop.toml",
        include_str!("../../challenges/forward-drop.toml"),
    ),
    (
        "masquerade-gone.toml",
        include_str!("../../challenges/masquerade-gone.toml"),
    ),
    (
        "dnat-gone.toml",
        include_str!("../../challenges/dnat-gone.toml"),
    ),
    (
        "publish-by-hand.toml",
        include_str!("../../challenges/publish-by-hand.toml"),
    ),
];

/// Every challenge, parsed and validated.
pub fn challenges() -> Result<Vec<Challenge>> {
    let articles = crate::lesson::articles()?;
    FILES
        .iter()
        .map(|(file, text)| {
            let c: Challenge =
                toml::from_str(text).map_err(|e| Error::msg(format!("challenges/{file}: {e}")))?;
            let problems = c.problems(&articles);
            if !problems.is_empty() {
                return Err(Error::msg(format!(
                    "challenges/{file}: {}",
                    problems.join("; ")
                )));
            }
            Ok(c)
        })
        .collect()
}

/// A challenge by name, or an error (exit status 2) naming the closest one and listing
/// them all.
pub fn find(name: &str) -> Result<Challenge> {
    let all = challenges()?;
    let names: Vec<String> = all.iter().map(|c| c.name.clone()).collect();
    all.into_iter().find(|c| c.name == name).ok_or_else(|| {
        let list = names.join(", ");
        let msg = match claims::closest(name, &names) {
            Some(near) => crate::ui::tr(
                format!("no challenge {name:?}: did you mean {near}? The challenges: {list}"),
                format!("没有名为 {name:?} 的挑战：是不是想输入 {near}？全部挑战：{list}"),
            ),
            None => crate::ui::tr(
                format!("no challenge {name:?}: the challenges are {list}"),
                format!("没有名为 {name:?} 的挑战：全部挑战有 {list}"),
            ),
        };
        Error::with_code(msg, 2)
    })
}

/// The challenge after `name` in [`FILES`]' order, if any.
pub fn next_after(name: &str) -> Option<Challenge> {
    let all = challenges().ok()?;
    let i = all.iter().position(|c| c.name == name)?;
    all.into_iter().nth(i + 1)
}

/// One row of `challenge list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// Challenge name.
    pub name: String,
    /// Article id (`004`).
    pub article: String,
    /// The article's title.
    pub article_title: String,
    /// The article's section (its own heading).
    pub section: String,
    /// Title in the chosen language.
    pub title: String,
    /// Number of hints.
    pub hints: usize,
}

/// Summaries of every challenge in `lang`.
pub fn summaries(lang: Lang) -> Result<Vec<Summary>> {
    let articles = crate::lesson::articles()?;
    Ok(challenges()?
        .iter()
        .map(|c| Summary {
            name: c.name.clone(),
            article: c.article.clone(),
            article_title: articles
                .get(&c.article)
                .map(|a| a.title.clone())
                .unwrap_or_default(),
            section: c.section.clone(),
            title: c.title.get(lang).to_string(),
            hints: c.hints.len(),
        })
        .collect())
}

/// `challenge list` as a table (wide characters counted as two columns).
pub fn render_list(rows: &[Summary], lang: Lang) -> String {
    let heads = match lang {
        Lang::En => ["NAME", "ARTICLE", "SECTION", "TITLE"],
        Lang::Zh => ["名称", "文章", "章节", "标题"],
    };
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.article.clone(),
                r.section.clone(),
                r.title.clone(),
            ]
        })
        .collect();
    let mut out = ui::columns(heads, &cells);
    out.push('\n');
    out.push_str(&match lang {
        Lang::En => "Start one: `sudo dockernet challenge NAME` (in the current lab, `--lab L`); then `challenge check`, `challenge hint`.\n".to_string(),
        Lang::Zh => "开始一个挑战：`sudo dockernet challenge NAME`（在当前实验环境里进行，可用 `--lab L` 指定）；之后用 `challenge check` 检查、`challenge hint` 看提示。\n".to_string(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_challenge_loads_and_validates() {
        let all = challenges().unwrap();
        assert_eq!(all.len(), FILES.len());
        assert!(all.len() >= 6, "the issue asks for at least six challenges");
        for ((file, _), c) in FILES.iter().zip(&all) {
            assert_eq!(*file, format!("{}.toml", c.name));
            assert!(c.hints.len() >= 2, "{}: graded hints", c.name);
            // Set-up and solution touch the lab only through its own places: never
            // the machine's root namespace.
            for cmd in c.setup.iter().chain(&c.solution) {
                let first = crate::lesson::vars::split(cmd).unwrap()[0].clone();
                assert!(
                    ["lab", "run", "host", "exec", "world", "network"].contains(&first.as_str()),
                    "{}: {cmd:?} is not a lab command",
                    c.name
                );
            }
        }
        let mut names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len(), "two challenges share a name");
    }

    #[test]
    fn the_validator_catches_mistakes() {
        let bad = r#"
name = "check"
article = "999"
section = ""
setup = ["run -d --name a {nonsense}"]
solution = []
title = { en = "t", zh = "" }
task = { en = "t", zh = "t" }
hint = [{ en = "h", zh = "h" }]
[[check]]
claim = "C7"
run = "exec a ping {ip:a}"
what = { en = "w", zh = "w" }
hint = { en = "h", zh = "h" }
"#;
        let c: Challenge = toml::from_str(bad).unwrap();
        let p = c.problems(&crate::lesson::articles().unwrap()).join("\n");
        for want in [
            "word of `challenge`",
            "unknown article",
            "`section` is empty",
            "`solution` needs",
            "two graded hints",
            "empty in one language",
            "{nonsense}",
            "C7",
        ] {
            assert!(p.contains(want), "expected {want:?} among:\n{p}");
        }
    }

    #[test]
    fn unknown_names_are_refused_with_the_list() {
        let e = find("forwarding-of").unwrap_err().to_string();
        assert!(
            e.contains("forwarding-off") && e.contains("veth-by-hand"),
            "{e}"
        );
        assert!(find("zzzzzzzzzzzzzzzz").is_err());
    }

    #[test]
    fn the_list_aligns_chinese_sections() {
        let rows = summaries(Lang::Zh).unwrap();
        let text = render_list(&rows, Lang::Zh);
        assert!(text.starts_with("名称"));
        assert_eq!(
            text.lines().filter(|l| !l.is_empty()).count(),
            rows.len() + 2
        );
        let next = next_after(&rows[0].name).unwrap();
        assert_eq!(next.name, rows[1].name);
        assert!(next_after(&rows[rows.len() - 1].name).is_none());
    }
}

//! Lessons: the articles' claims reproduced step by step in a lab of their own, each step
//! explained (English or Chinese), acted out with narrated dockernet commands, shown as a
//! before/after difference of kernel state, and verified by checks that observe the
//! kernel (a ping, a packet counter, an interface index, a process list).
//!
//! The engine is generic: lessons are data files in `lessons/` (TOML, see
//! `lessons/README.md` and [`model`]), compiled into the binary. Adding a lesson means
//! adding a file here and one line to [`FILES`].

pub mod check;
pub mod claims;
pub mod english;
pub mod exec;
mod fold;
mod glossary;
pub mod keys;
pub mod model;
pub(crate) mod print;
mod proof;
pub mod runner;
pub mod snapshot;
pub mod ui;
pub mod vars;
mod words;

pub use model::{Article, Lang, Lesson};
pub use print::print_script;
pub use runner::{Options, run};

use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// The lesson files, in the order `lesson list` shows them.
pub const FILES: &[(&str, &str)] = &[
    ("bridge.toml", include_str!("../../lessons/bridge.toml")),
    ("host.toml", include_str!("../../lessons/host.toml")),
    ("none.toml", include_str!("../../lessons/none.toml")),
    (
        "container.toml",
        include_str!("../../lessons/container.toml"),
    ),
    (
        "port-mapping.toml",
        include_str!("../../lessons/port-mapping.toml"),
    ),
    ("outbound.toml", include_str!("../../lessons/outbound.toml")),
    ("link.toml", include_str!("../../lessons/link.toml")),
    ("connect.toml", include_str!("../../lessons/connect.toml")),
    (
        "custom-network.toml",
        include_str!("../../lessons/custom-network.toml"),
    ),
    ("dns.toml", include_str!("../../lessons/dns.toml")),
    ("macvlan.toml", include_str!("../../lessons/macvlan.toml")),
    ("overlay.toml", include_str!("../../lessons/overlay.toml")),
];

/// The articles lessons follow, by id.
const ARTICLES: &str = include_str!("../../lessons/articles.toml");

/// Every lesson, parsed and validated.
pub fn lessons() -> Result<Vec<Lesson>> {
    let articles = articles()?;
    FILES
        .iter()
        .map(|(file, text)| {
            let l: Lesson =
                toml::from_str(text).map_err(|e| Error::msg(format!("lessons/{file}: {e}")))?;
            let problems = l.problems(&articles);
            if !problems.is_empty() {
                return Err(Error::msg(format!(
                    "lessons/{file}: {}",
                    problems.join("; ")
                )));
            }
            Ok(l)
        })
        .collect()
}

/// The articles, by id (`002`).
pub fn articles() -> Result<BTreeMap<String, Article>> {
    toml::from_str(ARTICLES).map_err(|e| Error::msg(format!("lessons/articles.toml: {e}")))
}

/// A lesson by name, or an error (in the process's language) naming the closest lesson
/// and listing them all.
pub fn find(name: &str) -> Result<Lesson> {
    let all = lessons()?;
    let names: Vec<String> = all.iter().map(|l| l.name.clone()).collect();
    all.into_iter().find(|l| l.name == name).ok_or_else(|| {
        let lang = ui::language(None);
        let list = names.join(", ");
        let quoted = format!("{name:?}");
        let msg = match claims::closest(name, &names) {
            Some(near) => ui::trf(lang, "did_you_mean", &[&quoted, &near, &list]),
            None => ui::trf(lang, "no_lesson", &[&quoted, &list]),
        };
        Error::with_code(msg, 2)
    })
}

/// One row of `lesson list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// Lesson name.
    pub name: String,
    /// Title in the chosen language.
    pub title: String,
    /// Articles followed: id and title.
    pub articles: Vec<ArticleRef>,
    /// Claims its checks verify.
    pub claims: Vec<String>,
    /// Rough duration in minutes.
    pub minutes: u32,
    /// Number of steps.
    pub steps: usize,
    /// The lab it runs in by default.
    pub lab: String,
}

/// An article as `lesson list` names it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ArticleRef {
    /// Id (`002`).
    pub id: String,
    /// Title.
    pub title: String,
}

/// Summaries of every lesson in `lang`.
pub fn summaries(lang: Lang) -> Result<Vec<Summary>> {
    let articles = articles()?;
    Ok(lessons()?
        .iter()
        .map(|l| Summary {
            name: l.name.clone(),
            title: l.title.get(lang).to_string(),
            articles: l
                .articles()
                .into_iter()
                .map(|id| ArticleRef {
                    title: articles
                        .get(&id)
                        .map(|a| a.title.clone())
                        .unwrap_or_default(),
                    id,
                })
                .collect(),
            claims: l.claims(),
            minutes: l.minutes,
            steps: l.steps.len(),
            lab: l.lab_name(),
        })
        .collect())
}

/// `C01 C02 C04 C05 C06` → `C01–C02, C04–C06` (in Chinese text `C01–C02、C04–C06`).
pub fn claim_ranges(claims: &[String], lang: Lang) -> String {
    let nums: Vec<u32> = claims
        .iter()
        .filter_map(|c| c.strip_prefix('C')?.parse().ok())
        .collect();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < nums.len() {
        let mut j = i;
        while j + 1 < nums.len() && nums[j + 1] == nums[j] + 1 {
            j += 1;
        }
        parts.push(if j == i {
            format!("C{:02}", nums[i])
        } else {
            format!("C{:02}–C{:02}", nums[i], nums[j])
        });
        i = j + 1;
    }
    parts.join(match lang {
        Lang::En => ", ",
        Lang::Zh => "、",
    })
}

/// `lesson list` as a table.
pub fn render_list(rows: &[Summary], lang: Lang) -> String {
    let heads = match lang {
        Lang::En => ["NAME", "TITLE", "ARTICLES", "CLAIMS", "TIME"],
        Lang::Zh => ["名称", "标题", "文章", "文章说法", "时长"],
    };
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.title.clone(),
                r.articles
                    .iter()
                    .map(|a| a.id.clone())
                    .collect::<Vec<_>>()
                    .join(" "),
                claim_ranges(&r.claims, lang),
                match lang {
                    Lang::En => format!("~{} min", r.minutes),
                    Lang::Zh => format!("约 {} 分钟", r.minutes),
                },
            ]
        })
        .collect();
    let mut out = ui::columns(heads, &cells);
    let articles = articles().unwrap_or_default();
    out.push('\n');
    for (id, a) in &articles {
        out.push_str(&format!("{id}  {} ({})\n", a.title, a.source));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lesson_parses_and_is_consistent() {
        let all = lessons().unwrap();
        assert_eq!(all.len(), FILES.len());
        for ((file, _), l) in FILES.iter().zip(&all) {
            assert_eq!(*file, format!("{}.toml", l.name));
            crate::lab::Lab::new(&l.lab_name()).unwrap();
        }
    }

    #[test]
    fn the_lessons_cover_every_claim_built_so_far() {
        let mut covered: Vec<String> = lessons().unwrap().iter().flat_map(|l| l.claims()).collect();
        covered.sort();
        covered.dedup();
        // Every claim of the single-host half, of user-defined networks and of the
        // embedded DNS, and the overlay across lab hosts (C17).
        let want = [
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
            25, 26, 27, 29, 30, 31, 32, 33, 34, 35, 36, 37,
        ];
        for n in want {
            let c = format!("C{n:02}");
            assert!(covered.contains(&c), "no lesson checks {c}");
        }
    }

    #[test]
    fn the_readme_maps_every_claim_a_lesson_checks() {
        let readme = include_str!("../../lessons/README.md");
        for l in lessons().unwrap() {
            for (i, s) in l.steps.iter().enumerate() {
                for c in s.claims() {
                    let cell = format!("`{}` step {}", l.name, i + 1);
                    let row = readme
                        .lines()
                        .find(|r| r.starts_with(&format!("| {c} ")))
                        .unwrap_or_else(|| panic!("lessons/README.md has no row for {c}"));
                    assert!(
                        row.contains(&cell),
                        "README row for {c} lacks {cell}: {row}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_validator_catches_mistakes() {
        let bad = r#"
name = "x"
minutes = 1
title = { en = "t", zh = "t" }
intro = { en = "i", zh = "i" }
[[step]]
article = "999"
section = "s"
run = ["run -d --name a {nonsense}"]
title = { en = "t", zh = "t" }
text = { en = "t", zh = "t" }
[[step.check]]
claim = "C7"
run = "exec a cat {later}"
log = "nope"
what = { en = "w", zh = "w" }
hint = { en = "h", zh = "h" }
[[step.check]]
run = "exec a hostname"
save = "later"
what = { en = "w", zh = "w" }
hint = { en = "h", zh = "h" }
"#;
        let l: Lesson = toml::from_str(bad).unwrap();
        let p = l.problems(&articles().unwrap()).join("\n");
        for want in [
            "unknown article",
            "{nonsense}",
            "{later}",
            "no background",
            "C7",
        ] {
            assert!(p.contains(want), "expected {want:?} among:\n{p}");
        }
    }

    #[test]
    fn claim_ranges_compress() {
        let c: Vec<String> = ["C01", "C02", "C04", "C05", "C06", "C12"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(claim_ranges(&c, Lang::En), "C01–C02, C04–C06, C12");
        assert_eq!(claim_ranges(&c, Lang::Zh), "C01–C02、C04–C06、C12");
    }
}

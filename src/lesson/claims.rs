//! The articles' claims at hand (`lessons/claims.toml`): `lesson claims` lists C01–C37
//! with their text, the articles and sections they come from and the lesson steps that
//! check each (or what they wait for); `lesson NAME --claims` lists one lesson's; and
//! every lesson ends with a recap naming what it built, its commands and its claims.

use super::model::{Lang, Lesson, Text};
use super::print::{Printer, colon, paren};
use super::ui::{Paint, tr, trf, wrap};
use super::{ArticleRef, articles, claim_ranges};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The claims file, compiled in.
const CLAIMS: &str = include_str!("../../lessons/claims.toml");

/// One claim of the articles.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// The articles that make it (`000`, keys of `lessons/articles.toml`).
    pub articles: Vec<String>,
    /// The article's section, for a claim no lesson step checks yet (a checking step
    /// names its own section).
    pub section: Option<String>,
    /// The claim in English.
    pub en: String,
    /// The claim in Chinese.
    pub zh: String,
    /// What a claim no lesson checks yet waits for.
    pub waits: Option<Text>,
}

impl Claim {
    /// The claim in `lang`.
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }
}

/// Every claim, by id (`C01`).
pub fn claims() -> Result<BTreeMap<String, Claim>> {
    toml::from_str(CLAIMS).map_err(|e| Error::msg(format!("lessons/claims.toml: {e}")))
}

/// A lesson step that checks a claim.
#[derive(Debug, Clone, Serialize)]
pub struct Checker {
    /// The lesson's name.
    pub lesson: String,
    /// The step, from 1.
    pub step: usize,
    /// The step's title.
    pub title: String,
    /// The article the step follows.
    pub article: String,
    /// The article's section.
    pub section: String,
}

/// One claim as `lesson claims` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Id (`C12`).
    pub id: String,
    /// The claim.
    pub text: String,
    /// The articles that make it.
    pub articles: Vec<ArticleRef>,
    /// The steps that check it.
    pub checked_by: Vec<Checker>,
    /// The article's section, when no step names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// What it waits for, when nothing checks it yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waits_for: Option<String>,
}

/// The claims in `lang` with the steps of `lessons` that check them; `only`: just
/// these ids.
pub fn rows(lang: Lang, lessons: &[Lesson], only: Option<&[String]>) -> Result<Vec<Row>> {
    let titles = articles()?;
    Ok(claims()?
        .into_iter()
        .filter(|(id, _)| only.is_none_or(|o| o.contains(id)))
        .map(|(id, c)| {
            let checked_by = lessons
                .iter()
                .flat_map(|l| {
                    l.steps
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.claims().contains(&id))
                        .map(|(i, s)| Checker {
                            lesson: l.name.clone(),
                            step: i + 1,
                            title: s.title.get(lang).to_string(),
                            article: s.article.clone(),
                            section: s.section.clone(),
                        })
                })
                .collect();
            Row {
                text: c.text(lang).to_string(),
                articles: c
                    .articles
                    .iter()
                    .map(|a| ArticleRef {
                        id: a.clone(),
                        title: titles.get(a).map(|t| t.title.clone()).unwrap_or_default(),
                    })
                    .collect(),
                checked_by,
                section: c.section.clone(),
                waits_for: c.waits.as_ref().map(|w| w.get(lang).to_string()),
                id,
            }
        })
        .collect())
}

/// The rows as text, wrapped to `width`, with the articles' titles at the end.
pub fn render(rows: &[Row], lang: Lang, paint: &Paint, width: usize) -> String {
    let mut out = String::new();
    let sep = match lang {
        Lang::En => ", ",
        Lang::Zh => "、",
    };
    let mut line = |s: &str| {
        out.push_str(s);
        out.push('\n');
    };
    for r in rows {
        let text = wrap(&r.text, width, 5);
        for (i, l) in text.iter().enumerate() {
            let l = paint.code_spans(l);
            if i == 0 {
                line(&format!(
                    "{}{}",
                    paint.bold(&r.id),
                    &l[r.id.len().min(l.len())..]
                ));
            } else {
                line(&l);
            }
        }
        let ids: Vec<&str> = r.articles.iter().map(|a| a.id.as_str()).collect();
        let mut from = format!("{}{}{}", tr(lang, "articles"), colon(lang), ids.join(sep));
        if let Some(s) = &r.section {
            from.push_str(&format!(" › {s}"));
        }
        for l in wrap(&from, width, 5) {
            line(&paint.dim(&l));
        }
        if let Some(w) = &r.waits_for {
            for l in wrap(&trf(lang, "claim_waits", &[w]), width, 5) {
                line(&paint.code_spans(&l));
            }
        }
        // One checking step a line, under the first: section names stay whole.
        let label = format!("{}{}", tr(lang, "checked_by"), colon(lang));
        let pad = " ".repeat(5 + super::ui::text_width(&label));
        for (i, c) in r.checked_by.iter().enumerate() {
            let step = trf(lang, "claim_step", &[&c.lesson, &c.step]);
            let from = paren(lang, &format!("{} › {}", c.article, c.section));
            let lead = if i == 0 {
                format!("     {label}")
            } else {
                pad.clone()
            };
            line(&format!("{lead}{step}{from}"));
        }
        line("");
    }
    for (id, a) in articles().unwrap_or_default() {
        line(&format!("{id}  {} ({})", a.title, a.source));
    }
    out
}

/// What the recap needs from the run: the commands shown (resolved) and how each
/// claim's checks went.
#[derive(Debug, Default)]
pub struct Outcomes {
    /// The steps that ran (from 0).
    pub steps: Vec<usize>,
    /// The `run` commands of those steps, as the learner would type them.
    pub commands: Vec<String>,
    /// Per check with a claim: its id, whether it passed, whether it failed.
    pub checks: Vec<(String, bool, bool)>,
}

/// The recap that ends a lesson: what was built (the steps' titles), the commands
/// that matter, the claims verified (and any that failed).
pub fn print_recap(out: &Printer, lesson: &Lesson, o: &Outcomes) {
    let (lang, p) = (out.lang, &out.paint);
    let head = format!("━━ {} ", tr(lang, "recap"));
    let fill = out.width.saturating_sub(super::ui::text_width(&head));
    println!("{}", p.bold(&format!("{head}{}", "━".repeat(fill))));
    println!("  {}", p.bold(&tr(lang, "recap_built")));
    for &i in &o.steps {
        let title = lesson.steps[i].title.get(lang);
        for l in wrap(&format!("{}. {title}", i + 1), out.width, 4) {
            println!("{}", p.code_spans(&l));
        }
    }
    if !o.commands.is_empty() {
        println!("  {}", p.bold(&tr(lang, "recap_commands")));
        for c in &o.commands {
            println!("    {}", p.cmd(&format!("$ {c}")));
        }
    }
    let mut verified: Vec<String> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    for (id, _, fail) in &o.checks {
        if *fail && !failed.contains(id) {
            failed.push(id.clone());
        }
    }
    for (id, pass, _) in &o.checks {
        if *pass && !failed.contains(id) && !verified.contains(id) {
            verified.push(id.clone());
        }
    }
    verified.sort();
    failed.sort();
    if !verified.is_empty() {
        let text = format!(
            "{}{}{}",
            tr(lang, "recap_claims"),
            colon(lang),
            claim_ranges(&verified, lang)
        );
        println!("  {}", p.good(&text));
    }
    if !failed.is_empty() {
        let text = format!(
            "{}{}{}",
            tr(lang, "recap_failed"),
            colon(lang),
            failed.join(" ")
        );
        println!("  {}", p.bad(&text));
    }
    let more = trf(lang, "recap_more", &[&lesson.name]);
    for l in wrap(&more, out.width, 2) {
        println!("{}", p.dim(&p.code_spans(&l)));
    }
    println!();
}

/// The lesson name closest to `name` (a typo, or the start of a name), if one is close.
pub fn closest<'a>(name: &str, names: &'a [String]) -> Option<&'a str> {
    let best = names
        .iter()
        .map(|n| (distance(name, n), n))
        .min_by_key(|(d, _)| *d)?;
    // The start of exactly one name wins (`port` → `port-mapping`), else a close one.
    let starting: Vec<&String> = names.iter().filter(|n| n.starts_with(name)).collect();
    if name.len() >= 3 && starting.len() == 1 {
        return Some(starting[0]);
    }
    (best.0 <= 2.max(name.chars().count() / 3)).then_some(best.1.as_str())
}

/// Levenshtein distance, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_claim_is_there_and_every_lesson_claim_exists() {
        let all = claims().unwrap();
        let want: Vec<String> = (1..=37).map(|n| format!("C{n:02}")).collect();
        assert_eq!(all.keys().cloned().collect::<Vec<_>>(), want);
        let titles = articles().unwrap();
        for (id, c) in &all {
            assert!(!c.en.trim().is_empty() && !c.zh.trim().is_empty(), "{id}");
            for a in &c.articles {
                assert!(titles.contains_key(a), "{id}: unknown article {a}");
            }
        }
        let lessons = super::super::lessons().unwrap();
        for l in &lessons {
            for c in l.claims() {
                assert!(
                    all.contains_key(&c),
                    "lesson {} checks {c}, not in claims.toml",
                    l.name
                );
            }
        }
        // A claim waits for something exactly when no lesson checks it.
        for r in rows(Lang::En, &lessons, None).unwrap() {
            assert_eq!(
                r.checked_by.is_empty(),
                r.waits_for.is_some(),
                "{}: checked by {:?}, waits for {:?}",
                r.id,
                r.checked_by,
                r.waits_for
            );
        }
    }

    #[test]
    fn the_readme_says_what_the_waiting_claims_wait_for() {
        let readme = include_str!("../../lessons/README.md");
        for (id, c) in claims().unwrap() {
            if let Some(w) = c.waits {
                let row = readme
                    .lines()
                    .find(|r| r.starts_with(&format!("| {id} ")))
                    .unwrap_or_else(|| panic!("lessons/README.md has no row for {id}"));
                assert!(row.contains(&w.en), "README row for {id}: {row}");
            }
        }
    }

    #[test]
    fn misspelled_names_find_the_lesson() {
        let names: Vec<String> = ["bridge", "host", "none", "port-mapping", "dns"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(closest("brige", &names), Some("bridge"));
        assert_eq!(closest("hots", &names), Some("host"));
        assert_eq!(closest("port", &names), Some("port-mapping"));
        assert_eq!(closest("zzzzzzzz", &names), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}

//! Keeps the Chinese texts to `lessons/GLOSSARY.md`: the terms of its table 不用的词 are
//! rejected in every zh text of the lessons (`lessons/*.toml`) and in the Chinese of the
//! program's own sources (the lesson frame, views, messages), and a few style rules of
//! the glossary are checked (no label repeated after the frame's, no chain of 的).
//! Test-only: the files are read from the source tree, so a new lesson or a new source
//! file is covered without a line here.

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// A rejected term and the compounds that may still contain it (`接口` in `回环接口`).
    struct Rejected {
        term: String,
        allowed: Vec<String>,
    }

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    /// The backticked terms of a markdown table cell.
    fn backticked(cell: &str) -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// The table under `## 不用的词`: column 1 the rejected terms, column 3 the allowed
    /// compounds.
    fn rejected() -> Vec<Rejected> {
        let text = std::fs::read_to_string(root().join("lessons/GLOSSARY.md")).unwrap();
        let section = text
            .split("\n## ")
            .find(|s| s.starts_with("不用的词"))
            .expect("lessons/GLOSSARY.md has a section `## 不用的词`");
        let mut out = Vec::new();
        for row in section.lines().filter(|l| l.starts_with('|')) {
            let cells: Vec<&str> = row.split('|').collect();
            // | rejected | use | allowed | why |  →  ["", rejected, use, allowed, why, ""]
            if cells.len() < 5 {
                continue;
            }
            let allowed = backticked(cells[3]);
            for term in backticked(cells[1]) {
                out.push(Rejected {
                    term,
                    allowed: allowed.clone(),
                });
            }
        }
        out
    }

    /// The text without `code` spans and without “quotes” (the articles' own words,
    /// which stay verbatim, and Docker's).
    fn prose(text: &str) -> String {
        let mut out = String::new();
        let mut code = false;
        let mut quote = 0usize;
        for c in text.chars() {
            match c {
                '`' => code = !code,
                '“' if !code => quote += 1,
                '”' if !code => quote = quote.saturating_sub(1),
                _ if code || quote > 0 => {}
                _ => out.push(c),
            }
        }
        out
    }

    /// The rejected terms found in `text`, as `term (in: …)` messages.
    fn offences(text: &str, rejected: &[Rejected]) -> Vec<String> {
        let p = prose(text);
        let mut found = Vec::new();
        for r in rejected {
            let mut rest = p.clone();
            for a in &r.allowed {
                rest = rest.replace(a.as_str(), "");
            }
            if rest.contains(r.term.as_str()) {
                found.push(r.term.clone());
            }
        }
        found
    }

    /// Every string value under a key `zh` (and its sibling `en`), with its path.
    fn texts(v: &toml::Value, path: &str, out: &mut Vec<(String, String, Option<String>)>) {
        match v {
            toml::Value::Table(t) => {
                if let Some(toml::Value::String(zh)) = t.get("zh") {
                    let en = t.get("en").and_then(|e| e.as_str()).map(String::from);
                    out.push((path.to_string(), zh.clone(), en));
                }
                for (k, v) in t {
                    if k != "zh" && k != "en" {
                        texts(v, &format!("{path}.{k}"), out);
                    }
                }
            }
            toml::Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    texts(v, &format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }

    /// (file:path, zh, en) of every bilingual text in `lessons/*.toml`.
    fn lesson_texts() -> Vec<(String, String, Option<String>)> {
        // The challenges (`challenges/*.toml`) are written with the same terms.
        let mut files: Vec<PathBuf> = ["lessons", "challenges"]
            .iter()
            .flat_map(|d| std::fs::read_dir(root().join(d)).unwrap())
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let mut out = Vec::new();
        for f in files {
            let v: toml::Value = toml::from_str(&std::fs::read_to_string(&f).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            texts(&v, &name, &mut out);
        }
        out
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    fn has_han(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    #[test]
    fn the_glossary_rejects_some_terms() {
        let r = rejected();
        for want in ["论点", "发布", "序号", "网络接口"] {
            assert!(
                r.iter().any(|x| x.term == want),
                "GLOSSARY.md no longer rejects {want}"
            );
        }
        let offending = format!("验证{}", "论点");
        assert_eq!(offences(&offending, &r), ["论点"]);
        assert!(offences("只有回环接口", &r).is_empty());
        assert!(offences("“只有 lo 网络接口”", &r).is_empty());
        assert!(offences("`network 发布`", &r).is_empty());
    }

    #[test]
    fn lesson_texts_use_the_glossary_terms() {
        let r = rejected();
        let mut bad = Vec::new();
        for (path, zh, _) in lesson_texts() {
            let found = offences(&zh, &r);
            if !found.is_empty() {
                bad.push(format!("{path}: {} in {:?}", found.join(", "), zh.trim()));
            }
        }
        assert!(
            bad.is_empty(),
            "zh texts with terms lessons/GLOSSARY.md rejects:\n{}",
            bad.join("\n")
        );
    }

    /// The Chinese of the program itself: every line with Chinese characters in the
    /// sources, up to the file's test module (test data may quote bad examples).
    #[test]
    fn the_programs_chinese_uses_the_glossary_terms() {
        let r = rejected();
        let mut files = Vec::new();
        rust_files(&root().join("src"), &mut files);
        files.sort();
        let mut bad = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("#[cfg(test)]") {
                    break;
                }
                if !has_han(line) {
                    continue;
                }
                let found = offences(line, &r);
                if !found.is_empty() {
                    let rel = f.strip_prefix(root()).unwrap_or(&f).display().to_string();
                    bad.push(format!(
                        "{rel}:{}: {}: {}",
                        n + 1,
                        found.join(", "),
                        line.trim()
                    ));
                }
            }
        }
        assert!(
            bad.is_empty(),
            "Chinese in the sources with terms lessons/GLOSSARY.md rejects:\n{}",
            bad.join("\n")
        );
    }

    /// The frame prints `如今的 Docker：` / `Docker today:` before a step's `today`
    /// note, so the note must not say it again.
    #[test]
    fn today_notes_do_not_repeat_the_label() {
        use crate::lesson::ui::tr;
        use crate::ui::Lang;
        let (zh_label, en_label) = (tr(Lang::Zh, "today"), tr(Lang::En, "today"));
        let mut bad = Vec::new();
        for (path, zh, en) in lesson_texts() {
            if !path.ends_with(".today") {
                continue;
            }
            // The label, or the same label in other words.
            let zh_starts = [
                zh_label.as_str(),
                "现在的 Docker",
                "如今 Docker",
                "目前的 Docker",
            ];
            if zh_starts.iter().any(|l| zh.trim_start().starts_with(l)) {
                bad.push(format!("{path}.zh: {zh}"));
            }
            let en_starts = [
                en_label.to_lowercase(),
                "today's docker".into(),
                "current docker".into(),
            ];
            if let Some(en) = en
                && en_starts
                    .iter()
                    .any(|l| en.trim_start().to_lowercase().starts_with(l.as_str()))
            {
                bad.push(format!("{path}.en: {en}"));
            }
        }
        assert!(bad.is_empty(), "the label repeated:\n{}", bad.join("\n"));
    }

    /// GLOSSARY.md: at most two 的 in a clause (“web0 在它的私有地址的 80 端口上” reads as
    /// a translation).
    #[test]
    fn no_chains_of_de() {
        let mut bad = Vec::new();
        for (path, zh, _) in lesson_texts() {
            let p = prose(&zh);
            for clause in p.split(|c: char| "，。：；！？、（）\n—".contains(c)) {
                if clause.matches('的').count() >= 3 {
                    bad.push(format!("{path}: {}", clause.trim()));
                }
            }
        }
        assert!(
            bad.is_empty(),
            "clauses with three or more 的:\n{}",
            bad.join("\n")
        );
    }
}

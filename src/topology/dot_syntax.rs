//! A checker of the DOT language's grammar (Graphviz's `graph { ... }`), for the tests
//! of `show topology --format dot` without Graphviz installed: statements, attribute
//! lists, edge operators and IDs (names, numerals, quoted strings and their escapes)
//! as the grammar at graphviz.org/doc/info/lang.html has them, HTML labels and
//! subgraphs left out (the renderer makes neither). Compiled for tests only (the unit
//! tests here, and `tests/topology.rs` through `#[path]`).

use std::collections::BTreeSet;

/// What a graph that parsed declares.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Nodes with a statement of their own (`"a" [label=...];`).
    pub nodes: BTreeSet<String>,
    /// Edges as (from, to), quotes and escapes resolved.
    pub edges: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Id(String),
    Sym(&'static str),
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let cs: Vec<char> = src.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                match cs.get(i) {
                    None => return Err("a quoted string is not closed".into()),
                    Some('"') => break,
                    // `\"` is a quote; every other escape (`\n`, `\l`, `\\`) stays
                    // as written for Graphviz's label rules.
                    Some('\\') if cs.get(i + 1) == Some(&'"') => {
                        s.push('"');
                        i += 2;
                    }
                    Some('\\') if cs.get(i + 1) == Some(&'\\') => {
                        s.push_str("\\\\");
                        i += 2;
                    }
                    Some('\n') => return Err(format!("a raw line break inside \"{s}\"")),
                    Some(&ch) => {
                        s.push(ch);
                        i += 1;
                    }
                }
            }
            i += 1;
            out.push(Tok::Id(s));
        } else if c.is_ascii_alphabetic() || c == '_' || !c.is_ascii() {
            let start = i;
            while i < cs.len()
                && (cs[i].is_ascii_alphanumeric() || cs[i] == '_' || !cs[i].is_ascii())
            {
                i += 1;
            }
            out.push(Tok::Id(cs[start..i].iter().collect()));
        } else if c.is_ascii_digit()
            || (c == '.' && cs.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < cs.len() && (cs[i].is_ascii_digit() || cs[i] == '.') {
                i += 1;
            }
            out.push(Tok::Id(cs[start..i].iter().collect()));
        } else if c == '-' && matches!(cs.get(i + 1), Some('-') | Some('>')) {
            out.push(Tok::Sym(if cs[i + 1] == '-' { "--" } else { "->" }));
            i += 2;
        } else {
            let sym = match c {
                '{' => "{",
                '}' => "}",
                '[' => "[",
                ']' => "]",
                '=' => "=",
                ';' => ";",
                ',' => ",",
                _ => return Err(format!("unexpected character {c:?}")),
            };
            out.push(Tok::Sym(sym));
            i += 1;
        }
    }
    Ok(out)
}

struct P {
    toks: Vec<Tok>,
    at: usize,
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }
    fn sym(&mut self, s: &'static str) -> bool {
        if self.peek() == Some(&Tok::Sym(s)) {
            self.at += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, s: &'static str) -> Result<(), String> {
        if self.sym(s) {
            Ok(())
        } else {
            Err(format!(
                "expected `{s}`, saw {:?} (token {})",
                self.peek(),
                self.at
            ))
        }
    }
    fn id(&mut self) -> Result<String, String> {
        match self.peek().cloned() {
            Some(Tok::Id(s)) => {
                self.at += 1;
                Ok(s)
            }
            other => Err(format!("expected an ID, saw {other:?} (token {})", self.at)),
        }
    }
    /// `[ a=b, c=d ]` lists, one or more.
    fn attr_lists(&mut self) -> Result<(), String> {
        while self.sym("[") {
            while !self.sym("]") {
                self.id()?;
                self.expect("=")?;
                self.id()?;
                let _ = self.sym(",") || self.sym(";");
            }
        }
        Ok(())
    }
}

/// Parse a whole `graph` / `digraph`; the first error names what was expected.
pub fn parse(src: &str) -> Result<Parsed, String> {
    let mut p = P {
        toks: lex(src)?,
        at: 0,
    };
    let mut out = Parsed::default();
    let kind = p.id()?;
    let kind = if kind.eq_ignore_ascii_case("strict") {
        p.id()?
    } else {
        kind
    };
    let op = match kind.to_ascii_lowercase().as_str() {
        "graph" => "--",
        "digraph" => "->",
        _ => {
            return Err(format!(
                "a graph starts with `graph` or `digraph`, not {kind}"
            ));
        }
    };
    if matches!(p.peek(), Some(Tok::Id(_))) {
        p.id()?;
    }
    p.expect("{")?;
    while !p.sym("}") {
        let first = p.id()?;
        let keyword = ["graph", "node", "edge"].contains(&first.to_ascii_lowercase().as_str());
        if p.sym("=") {
            p.id()?;
        } else if keyword {
            p.attr_lists()?;
        } else if matches!(p.peek(), Some(Tok::Sym("--")) | Some(Tok::Sym("->"))) {
            let mut from = first;
            while let Some(Tok::Sym(o)) = p.peek().cloned() {
                if o != "--" && o != "->" {
                    break;
                }
                if o != op {
                    return Err(format!("`{o}` in a {kind} (edges there are `{op}`)"));
                }
                p.at += 1;
                let to = p.id()?;
                out.edges.push((from, to.clone()));
                from = to;
            }
            p.attr_lists()?;
        } else {
            p.attr_lists()?;
            out.nodes.insert(first);
        }
        let _ = p.sym(";");
    }
    if p.at != p.toks.len() {
        return Err(format!("text after the graph's `}}` (token {})", p.at));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_grammar_and_rejects_mistakes() {
        let ok = parse(
            "graph \"g\" {\n  node [shape=box];\n  \"a\\\"b\" [label=\"x\\ny\"];\n  b;\n  \"a\\\"b\" -- b -- c [style=dashed, label=\"l\"];\n  rankdir=LR\n}\n",
        )
        .unwrap();
        assert!(ok.nodes.contains("a\"b") && ok.nodes.contains("b"));
        assert_eq!(ok.edges.len(), 2);
        for bad in [
            "graph { a -> b }",
            "graph { \"a }",
            "graph { a [label=] }",
            "graph { a -- }",
            "graph { a }}",
            "digraph { a -- b }",
            "graph { a [label=\"x\"; }",
            "graph { \"line\nbreak\" }",
        ] {
            assert!(parse(bad).is_err(), "accepted: {bad}");
        }
    }
}

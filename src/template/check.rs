//! What Go's parser refuses and gotmpl's lets through, refused before anything runs, with
//! Go's messages (`template: :1: function "foo" not defined`).
//!
//! gotmpl's parser ends a list at `{{end}}`, `{{else}}` or the end of the text alike, so a
//! stray `{{end}}` silently drops the rest of the template and an unclosed `{{range}}`
//! passes. The text is therefore parsed once more inside `{{if true}}…{{end}}` followed by
//! a marker: balanced text gives exactly that `if` (without `else`) and the marker; an
//! unclosed block swallows the marker into the `if`; a stray `{{end}}` closes the `if`
//! early, so the wrapper's own `{{end}}` ends the template before the marker; a stray
//! `{{else}}` becomes the wrapper's `else`. Then the tree is walked for what Go checks
//! while parsing: functions that do not exist and variables never declared.

use gotmpl::TemplateError;
use gotmpl::parse::{Expr, ListNode, Node, Parser, PipeNode};

/// Text after the wrapper: no template contains it (NUL bytes around).
const MARKER: &str = "\u{0}dockernet-template-end\u{0}";

/// The wrapper's opening action; it adds no line, so line numbers stay the user's.
const OPEN: &str = "{{if true}}";

/// Go's parse error line: `template: NAME:LINE: MESSAGE`.
pub fn parse_error(name: &str, line: usize, message: &str) -> String {
    format!("template: {name}:{line}: {message}")
}

/// A gotmpl lexer or parser error in Go's form (Go reports the line, not the column).
pub fn from_gotmpl(name: &str, e: &TemplateError) -> String {
    match e {
        TemplateError::Parse { line, message, .. } | TemplateError::Lex { line, message, .. } => {
            parse_error(name, (*line).max(1), message)
        }
        other => format!("template: {name}: {other}"),
    }
}

/// Refuses what Go's `text/template` parser refuses, with its message.
pub fn check(name: &str, src: &str, funcs: &[&str]) -> Result<(), String> {
    // The text's own lexer and parser errors first: inside the wrapper an unclosed
    // action would run into the wrapper's `{{end}}` and be reported as something else.
    Parser::new(src, "{{", "}}")
        .and_then(Parser::parse)
        .map_err(|e| from_gotmpl(name, &e))?;
    let wrapped = format!("{OPEN}{src}{{{{end}}}}{MARKER}");
    let parser = Parser::new(&wrapped, "{{", "}}").map_err(|e| from_gotmpl(name, &e))?;
    let (tree, defines) = parser.parse().map_err(|e| from_gotmpl(name, &e))?;
    let last_line = src.lines().count().max(1);
    let (body, else_body) = match tree.nodes.first() {
        Some(Node::If(b)) => (&b.body, &b.else_body),
        _ => return Err(parse_error(name, 1, "unexpected EOF")),
    };
    if let Some(e) = else_body {
        let line = e.nodes.first().map_or(last_line, |n| line_of(n, last_line));
        return Err(parse_error(name, line, "unexpected {{else}}"));
    }
    let ends_with_marker =
        |n: Option<&Node>| matches!(n, Some(Node::Text(t)) if &*t.text == MARKER);
    match tree.nodes.len() {
        2 if ends_with_marker(tree.nodes.get(1)) => {}
        // The marker swallowed by a block that never ended.
        1 if holds_marker(body) => return Err(parse_error(name, last_line, "unexpected EOF")),
        1 => return Err(parse_error(name, last_line, "unexpected {{end}}")),
        _ => {
            // The stray {{end}} is just before the first node after the wrapper.
            let line = line_of(&tree.nodes[1], last_line);
            return Err(parse_error(name, line, "unexpected {{end}}"));
        }
    }
    let mut walk = Walk {
        funcs,
        vars: vec!["$".into()],
    };
    walk.list(body)
        .map_err(|(line, m)| parse_error(name, line, &m))?;
    for d in &defines {
        let mut walk = Walk {
            funcs,
            vars: vec!["$".into()],
        };
        walk.list(&d.body)
            .map_err(|(line, m)| parse_error(name, line, &m))?;
    }
    Ok(())
}

/// True if the marker text is somewhere in `l` (the end of an unclosed block).
fn holds_marker(l: &ListNode) -> bool {
    l.nodes.iter().any(|n| match n {
        Node::Text(t) => &*t.text == MARKER,
        Node::List(l) => holds_marker(l),
        Node::If(b) | Node::Range(b) | Node::With(b) => {
            holds_marker(&b.body) || b.else_body.as_ref().is_some_and(holds_marker)
        }
        _ => false,
    })
}

/// The line a node starts on.
fn line_of(n: &Node, fallback: usize) -> usize {
    let line = match n {
        Node::List(l) => l.pos.line,
        Node::Text(t) => t.pos.line,
        Node::Action(a) => a.pos.line,
        Node::If(b) | Node::Range(b) | Node::With(b) => b.pos.line,
        Node::Template(t) => t.pos.line,
        Node::Define(d) => d.pos.line,
        Node::Break(p) | Node::Continue(p) => p.line,
    };
    if line == 0 { fallback } else { line }
}

/// Go's parse-time checks over one tree: the variables in scope (Go pops a block's
/// variables at its `{{end}}`), the functions that exist.
struct Walk<'a> {
    funcs: &'a [&'a str],
    vars: Vec<String>,
}

type Found = (usize, String);

impl Walk<'_> {
    fn list(&mut self, l: &ListNode) -> Result<(), Found> {
        l.nodes.iter().try_for_each(|n| self.node(n))
    }

    fn node(&mut self, n: &Node) -> Result<(), Found> {
        match n {
            Node::List(l) => self.list(l),
            Node::Action(a) => self.pipe(&a.pipe),
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                let mark = self.vars.len();
                self.pipe(&b.pipe)?;
                self.list(&b.body)?;
                if let Some(e) = &b.else_body {
                    self.list(e)?;
                }
                self.vars.truncate(mark);
                Ok(())
            }
            Node::Template(t) => t.pipe.as_ref().map_or(Ok(()), |p| self.pipe(p)),
            Node::Text(_) | Node::Define(_) | Node::Break(_) | Node::Continue(_) => Ok(()),
        }
    }

    fn pipe(&mut self, p: &PipeNode) -> Result<(), Found> {
        for c in &p.commands {
            for e in &c.args {
                self.expr(e)?;
            }
        }
        for v in &p.decl {
            if p.is_assign {
                self.var(p.pos.line, v)?;
            } else {
                self.vars.push(v.to_string());
            }
        }
        Ok(())
    }

    fn var(&self, line: usize, name: &str) -> Result<(), Found> {
        let name = if name.starts_with('$') {
            name.to_string()
        } else {
            format!("${name}")
        };
        if self.vars.contains(&name) {
            Ok(())
        } else {
            Err((line.max(1), format!("undefined variable \"{name}\"")))
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<(), Found> {
        match e {
            Expr::Identifier(pos, name) if !self.funcs.contains(&name.as_str()) => {
                Err((pos.line.max(1), format!("function \"{name}\" not defined")))
            }
            Expr::Variable(pos, name, _) => self.var(pos.line, name),
            Expr::Pipe(_, p) => {
                // A parenthesized pipeline's declarations stay in scope, as in Go.
                self.pipe(p)
            }
            Expr::Chain(_, inner, _) => self.expr(inner),
            _ => Ok(()),
        }
    }
}

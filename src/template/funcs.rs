//! Docker's template functions (docker/cli `templates/templates.go`) on top of gotmpl's
//! builtins (`index`, `len`, `println`, `printf`, `eq`, …): `json`, `split`, `join`,
//! `title`, `lower`, `upper`, `pad`, `truncate`; and the table-header variants that
//! leave a column's name as it is.

use super::value::{KeyOrder, json_text};
use gotmpl::{TemplateError, Value};
use std::sync::{Arc, Mutex};

/// What `json` needs beside its argument: the key order of the document being rendered
/// (set before each rendering) and the template's JSON names for its field names.
#[derive(Debug, Default)]
pub struct JsonContext {
    /// Key orders of the current document.
    pub order: KeyOrder,
    /// Template field name -> JSON name, where they differ.
    pub renames: &'static [(&'static str, &'static str)],
}

/// The names of every function a Docker template may call: gotmpl's builtins (Go's)
/// and Docker's.
pub const KNOWN: &[&str] = &[
    "and", "call", "eq", "ge", "gt", "html", "index", "js", "le", "len", "lt", "ne", "not", "or",
    "print", "printf", "println", "slice", "urlquery", "json", "split", "join", "title", "lower",
    "upper", "pad", "truncate",
];

type Result<T> = std::result::Result<T, TemplateError>;

/// Go's complaint when a function gets the wrong number of arguments.
fn want(name: &str, args: &[Value], n: usize) -> Result<()> {
    if args.len() == n {
        return Ok(());
    }
    Err(TemplateError::Exec(format!(
        "wrong number of args for {name}: want {n} got {}",
        args.len()
    )))
}

/// Go's complaint when an argument has the wrong type.
fn wrong(expected: &str, got: &Value) -> TemplateError {
    TemplateError::Exec(format!(
        "wrong type for value; expected {expected}; got {}",
        got.type_name()
    ))
}

fn string_arg(v: &Value) -> Result<&str> {
    v.as_str().ok_or_else(|| wrong("string", v))
}

fn int_arg(v: &Value) -> Result<i64> {
    v.as_int().ok_or_else(|| wrong("int", v))
}

fn string(s: impl AsRef<str>) -> Value {
    Value::String(Arc::from(s.as_ref()))
}

/// Go's `strings.Title`: the first letter of every word upper-cased; a word starts after
/// anything that is not a letter, a digit, `_` (or, outside ASCII, a space).
pub fn title(s: &str) -> String {
    let separator = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            c.is_whitespace() && !c.is_alphanumeric()
        }
    };
    let mut prev = ' ';
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if separator(prev) {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

/// Docker's `pad`: spaces before and after, unless the text is empty.
pub fn pad(s: &str, prefix: i64, suffix: i64) -> String {
    if s.is_empty() {
        return String::new();
    }
    let spaces = |n: i64| " ".repeat(n.max(0) as usize);
    format!("{}{s}{}", spaces(prefix), spaces(suffix))
}

/// Docker's `truncate`: the first `n` bytes (Go slices bytes; here cut at the character
/// boundary at or below `n`, so the text stays valid UTF-8).
pub fn truncate(s: &str, n: i64) -> &str {
    let n = n.max(0) as usize;
    if s.len() < n {
        return s;
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Docker's functions, `json` reading its context from `ctx`.
pub fn docker(ctx: Arc<Mutex<JsonContext>>) -> gotmpl::FuncMap {
    let mut m = gotmpl::FuncMap::new();
    let mut add = |name: &str, f: gotmpl::ValueFunc| {
        m.insert(name.to_string(), f);
    };
    add(
        "json",
        Arc::new(move |args: &[Value]| {
            want("json", args, 1)?;
            let ctx = ctx.lock().unwrap_or_else(|e| e.into_inner());
            Ok(string(json_text(&args[0], &ctx.order, ctx.renames)))
        }),
    );
    add(
        "split",
        Arc::new(|args: &[Value]| {
            want("split", args, 2)?;
            let (s, sep) = (string_arg(&args[0])?, string_arg(&args[1])?);
            // Go's strings.Split with an empty separator splits after each character.
            let parts: Vec<Value> = if sep.is_empty() {
                s.chars().map(|c| string(c.to_string())).collect()
            } else {
                s.split(sep).map(string).collect()
            };
            Ok(Value::List(parts.into()))
        }),
    );
    add(
        "join",
        Arc::new(|args: &[Value]| {
            want("join", args, 2)?;
            let Value::List(items) = &args[0] else {
                return Err(wrong("[]string", &args[0]));
            };
            let sep = string_arg(&args[1])?;
            let parts: Vec<String> = items.iter().map(|v| v.to_string()).collect();
            Ok(string(parts.join(sep)))
        }),
    );
    add(
        "title",
        Arc::new(|args: &[Value]| {
            want("title", args, 1)?;
            Ok(string(title(string_arg(&args[0])?)))
        }),
    );
    add(
        "lower",
        Arc::new(|args: &[Value]| {
            want("lower", args, 1)?;
            Ok(string(string_arg(&args[0])?.to_lowercase()))
        }),
    );
    add(
        "upper",
        Arc::new(|args: &[Value]| {
            want("upper", args, 1)?;
            Ok(string(string_arg(&args[0])?.to_uppercase()))
        }),
    );
    add(
        "pad",
        Arc::new(|args: &[Value]| {
            want("pad", args, 3)?;
            let s = string_arg(&args[0])?;
            Ok(string(pad(s, int_arg(&args[1])?, int_arg(&args[2])?)))
        }),
    );
    add(
        "truncate",
        Arc::new(|args: &[Value]| {
            want("truncate", args, 2)?;
            Ok(string(truncate(string_arg(&args[0])?, int_arg(&args[1])?)))
        }),
    );
    m
}

/// Docker's `HeaderFunctions`: while the header row of a `table` is rendered, `json`,
/// `split`, `join`, `title`, `lower`, `upper` and `truncate` give the column's name
/// back unchanged (`pad` is kept, so headers stay aligned with padded cells).
pub fn header() -> gotmpl::FuncMap {
    let mut m = gotmpl::FuncMap::new();
    for name in [
        "json", "split", "join", "title", "lower", "upper", "truncate",
    ] {
        let f: gotmpl::ValueFunc =
            Arc::new(|args: &[Value]| Ok(args.first().cloned().unwrap_or(Value::Nil)));
        m.insert(name.to_string(), f);
    }
    m
}

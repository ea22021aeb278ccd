//! Docker's Go-template `--format`, on the gotmpl crate (a port of Go's `text/template`):
//! the functions docker/cli adds (`json`, `join`, `split`, `title`, `lower`, `upper`,
//! `pad`, `truncate`), Go's parse errors, and the `table` directive of list commands.
//!
//! Data is JSON (the same objects `inspect` prints), turned into gotmpl values, which
//! print as Go's `fmt` prints: `[a b c]`, `map[k:v]` with sorted keys, `<no value>` for a
//! missing map key. Errors read as Docker's (`template parsing error: template: :1:
//! function "foo" not defined`); callers choose the exit status Docker uses.

mod check;
mod funcs;
mod list;
mod value;

#[cfg(test)]
mod tests;

pub use list::ListFormat;

use funcs::JsonContext;
use std::sync::{Arc, Mutex};

/// A template that cannot be parsed or rendered, as Docker words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Go's message (`template: :1: unexpected EOF`), without Docker's prefix.
    pub message: String,
    /// True when the text did not parse (Docker's inspect, info and version exit with
    /// 64 then); false when it failed while rendering an object.
    pub parse: bool,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "template parsing error: {}", self.message)
    }
}

/// How a template treats what it is given.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The template's name, in error messages (Docker's is empty; `version`'s is
    /// "version").
    pub name: &'static str,
    /// A field that is not there is an error (`map has no entry for key "Foo"`), as
    /// Docker's `inspect` renders its raw-JSON fallback and as a typo in a field of a
    /// Go struct is; otherwise it prints `<no value>`, Go's default for maps.
    pub missing_key_error: bool,
    /// Field name -> JSON name where the template sees Go's field name (`APIVersion`)
    /// and `json` prints the JSON one (`ApiVersion`).
    pub json_renames: &'static [(&'static str, &'static str)],
}

/// A parsed Docker template.
pub struct Template {
    tmpl: gotmpl::Template,
    json: Arc<Mutex<JsonContext>>,
    name: &'static str,
}

impl Template {
    /// Parse `src` with Docker's functions and Go's default for missing keys.
    #[cfg(test)]
    pub fn parse(src: &str) -> Result<Template, Error> {
        Template::with_options(src, Options::default())
    }

    /// Parse `src` with `opts`.
    pub fn with_options(src: &str, opts: Options) -> Result<Template, Error> {
        Template::build(src, opts, false)
    }

    /// Parse `src`; for a `table` header (`header`), Docker's header functions replace
    /// `json`, `upper`, … so that column names stay as they are.
    fn build(src: &str, opts: Options, header: bool) -> Result<Template, Error> {
        let parse_error = |message: String| Error {
            message,
            parse: true,
        };
        check::check(opts.name, src, funcs::KNOWN).map_err(parse_error)?;
        let json = Arc::new(Mutex::new(JsonContext {
            order: Default::default(),
            renames: opts.json_renames,
        }));
        let mut tmpl = gotmpl::Template::new(opts.name)
            .missing_key(if opts.missing_key_error {
                gotmpl::MissingKey::Error
            } else {
                gotmpl::MissingKey::Invalid
            })
            .funcs(funcs::docker(json.clone()));
        if header {
            tmpl = tmpl.funcs(funcs::header());
        }
        let tmpl = tmpl
            .parse(src)
            .map_err(|e| parse_error(check::from_gotmpl(opts.name, &e)))?;
        Ok(Template {
            tmpl,
            json,
            name: opts.name,
        })
    }

    /// Render the template over one JSON document.
    pub fn render(&self, doc: &serde_json::Value) -> Result<String, Error> {
        self.json.lock().unwrap_or_else(|e| e.into_inner()).order = value::KeyOrder::of(doc);
        self.tmpl
            .execute_to_string(&value::to_value(doc))
            .map_err(|e| Error {
                message: exec_message(self.name, &e),
                parse: false,
            })
    }
}

/// Go's execution error: `template: NAME: executing "NAME": MESSAGE`, gotmpl's wording
/// brought to Go's where they differ (gotmpl does not say where in the text it was).
fn exec_message(name: &str, e: &gotmpl::TemplateError) -> String {
    let text = match e {
        gotmpl::TemplateError::MissingKey { key } => format!("map has no entry for key \"{key}\""),
        gotmpl::TemplateError::Exec(m) => m.clone(),
        gotmpl::TemplateError::IndexOutOfRange { index } => {
            format!("error calling index: index out of range: {index}")
        }
        gotmpl::TemplateError::NotIterable(what) => format!("range can't iterate over {what}"),
        other => other.to_string(),
    };
    format!("template: {name}: executing \"{name}\": {text}")
}

/// Render one template over each document, one line each, as Docker's `inspect -f`
/// does; nothing rendered at all still prints one empty line (Docker's `Flush`).
/// Objects whose rendering fails are skipped and their errors returned beside.
pub fn render_each(tmpl: &Template, docs: &[serde_json::Value]) -> (String, Vec<Error>) {
    let mut out = String::new();
    let mut errors = Vec::new();
    for d in docs {
        match tmpl.render(d) {
            Ok(s) => {
                out.push_str(&s);
                out.push('\n');
            }
            Err(e) => errors.push(e),
        }
    }
    if out.is_empty() {
        out.push('\n');
    }
    (out, errors)
}

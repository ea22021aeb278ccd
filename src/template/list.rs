//! `--format` of list commands (`ps`, `network ls`): docker/cli's formatter `Context`.
//!
//! `table …` renders a header row — the same template over the column names
//! (`{{.ID}}` -> `CONTAINER ID`) with Docker's header functions — then one row per
//! object, all through docker/cli's tabwriter (min width 10, padding 3). Any other text
//! renders one line per object. In both, a literal `\t` or `\n` typed on the command
//! line means a tab or a newline.

use super::{Error, Options, Template};
use std::sync::Arc;

/// A list command's `--format` text, prepared as docker/cli prepares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFormat {
    text: String,
    table: bool,
}

impl ListFormat {
    /// Docker's `preFormat`: a leading `table` marks a table and is dropped, spaces
    /// around are trimmed, and the two-character `\t` / `\n` become a tab / a newline.
    pub fn new(format: &str) -> ListFormat {
        let table = format.starts_with("table");
        let text = if table { &format[5..] } else { format };
        let text = text
            .trim_matches(' ')
            .replace("\\t", "\t")
            .replace("\\n", "\n");
        ListFormat { text, table }
    }

    /// True for `table …`.
    #[cfg(test)]
    pub fn is_table(&self) -> bool {
        self.table
    }

    /// Render `rows` (one JSON object each, with the command's template fields), the
    /// header of a table from `headers` (field -> column name). A template that does
    /// not parse, or fails on a row, is an error (Docker prints no partial table).
    pub fn render(
        &self,
        headers: &[(&str, &str)],
        rows: &[serde_json::Value],
    ) -> Result<String, Error> {
        let opts = Options {
            missing_key_error: true,
            ..Options::default()
        };
        let tmpl = Template::with_options(&self.text, opts)?;
        let mut body = String::new();
        for r in rows {
            body.push_str(&tmpl.render(r)?);
            body.push('\n');
        }
        if !self.table {
            return Ok(body);
        }
        let header = Template::build(&self.text, Options::default(), true)?;
        let names = gotmpl::Value::Map(Arc::new(
            headers
                .iter()
                .map(|(k, v)| (Arc::from(*k), gotmpl::Value::String(Arc::from(*v))))
                .collect(),
        ));
        // Docker ignores errors of the header row (a column it cannot name is left as
        // far as it got); an empty header keeps the rows aligned all the same.
        let head = header.tmpl.execute_to_string(&names).unwrap_or_default();
        let text = format!("{head}\n{body}");
        Ok(crate::docker::table::tabwriter(
            &text,
            crate::docker::table::MIN_WIDTH,
            crate::docker::table::PADDING,
        ))
    }
}

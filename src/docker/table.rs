//! Table rendering exactly like docker/cli's `table` formats.
//!
//! docker/cli renders `table …` templates into its fork of Go's
//! `text/tabwriter`, created as
//! `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)` (minwidth 10, tabwidth 1,
//! padding 3, space padding, no flags). [`tabwriter`] is a port of that
//! writer's elastic-tabstop algorithm restricted to those settings, and
//! [`render_table`] feeds it the same tab-separated text docker/cli's
//! template would produce.

use super::width::cell_width;

/// docker/cli's tabwriter `minwidth`: a column is never narrower than this,
/// padding included.
pub const MIN_WIDTH: usize = 10;

/// docker/cli's tabwriter `padding`: spaces added after the widest cell.
pub const PADDING: usize = 3;

/// One tab- or newline-terminated cell: its text and display width.
struct Cell<'a> {
    text: &'a str,
    width: usize,
}

/// One input line; `terminated` is false only for trailing text that had no
/// final newline (Go writes that without a newline too).
struct Line<'a> {
    cells: Vec<Cell<'a>>,
    terminated: bool,
}

/// Formats tab-separated `text` the way Go's `text/tabwriter` (docker/cli
/// fork) does with padchar `' '` and no flags.
///
/// Rules reproduced from the Go source:
/// * a cell is text terminated by `'\t'`; the text after the last tab of a
///   line is *not* part of any column, so it is never padded (no trailing
///   spaces);
/// * a column is a run of consecutive lines that all have a tab-terminated
///   cell at that index; its width is `max(minwidth, widest cell + padding)`;
/// * empty cells inside a column are still padded to the column width;
/// * a line without any tab flushes the writer, so columns never span
///   across it.
///
/// Only `'\t'` and `'\n'` are interpreted; escapes, HTML filtering, `'\v'`
/// and `'\f'` (unused by docker/cli tables) are passed through as text.
pub fn tabwriter(text: &str, minwidth: usize, padding: usize) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut block: Vec<Line<'_>> = Vec::new();
    for raw in text.split_inclusive('\n') {
        let (body, terminated) = match raw.strip_suffix('\n') {
            Some(body) => (body, true),
            None => (raw, false),
        };
        let mut cells: Vec<Cell<'_>> = body
            .split('\t')
            .map(|t| Cell {
                text: t,
                width: cell_width(t),
            })
            .collect();
        // Go only adds the final, unterminated cell at Flush time when it is
        // non-empty; a trailing "a\t" without newline has just one cell.
        if !terminated && cells.len() > 1 && cells.last().is_some_and(|c| c.text.is_empty()) {
            cells.pop();
        }
        let single = cells.len() == 1;
        block.push(Line { cells, terminated });
        // Go flushes after a newline-terminated line that has a single cell:
        // it cannot influence later columns, so formatting restarts there.
        if terminated && single {
            flush(&block, minwidth, padding, &mut out);
            block.clear();
        }
    }
    flush(&block, minwidth, padding, &mut out);
    out
}

/// Formats and writes one buffered block of lines (Go's `flushInternal`).
fn flush(lines: &[Line<'_>], minwidth: usize, padding: usize, out: &mut String) {
    let mut widths = Vec::new();
    let fmt = Formatter {
        lines,
        minwidth,
        padding,
    };
    fmt.format(&mut widths, 0, lines.len(), out);
}

struct Formatter<'l, 'a> {
    lines: &'l [Line<'a>],
    minwidth: usize,
    padding: usize,
}

impl Formatter<'_, '_> {
    /// True when `line` has a tab-terminated cell in `column` (the last cell
    /// of every line is excluded, exactly like Go's `column >= len(line)-1`).
    fn has_column(&self, line: usize, column: usize) -> bool {
        column + 1 < self.lines[line].cells.len()
    }

    /// Port of Go's recursive `Writer.format`: finds blocks of consecutive
    /// lines sharing column `widths.len()`, sizes that column, recurses for
    /// the columns to its right and finally writes the lines.
    fn format(&self, widths: &mut Vec<usize>, mut line0: usize, line1: usize, out: &mut String) {
        let column = widths.len();
        let mut this = line0;
        while this < line1 {
            if !self.has_column(this, column) {
                this += 1;
                continue;
            }
            self.write_lines(widths, line0, this, out);
            line0 = this;

            let mut width = self.minwidth;
            while this < line1 && self.has_column(this, column) {
                width = width.max(self.lines[this].cells[column].width + self.padding);
                this += 1;
            }

            widths.push(width);
            self.format(widths, line0, this, out);
            widths.pop();
            line0 = this;
            // Go's outer loop also steps past the line that ended the block;
            // that line lacks the column, so skipping it changes nothing.
            this += 1;
        }
        self.write_lines(widths, line0, line1, out);
    }

    /// Port of Go's `writeLines` for left alignment with space padding.
    fn write_lines(&self, widths: &[usize], line0: usize, line1: usize, out: &mut String) {
        for line in &self.lines[line0..line1] {
            for (j, cell) in line.cells.iter().enumerate() {
                out.push_str(cell.text);
                if let Some(&w) = widths.get(j) {
                    out.extend(std::iter::repeat_n(' ', w - cell.width));
                }
            }
            if line.terminated {
                out.push('\n');
            }
        }
    }
}

/// Renders a header row plus data rows exactly as docker/cli prints a
/// `table` format (`docker ps`, `docker network ls`, …).
///
/// Every column but the last is padded to
/// `max(10, widest cell + 3)` display columns; the last column is never
/// padded. Each line, including the last, ends with `'\n'`, so the result
/// can be printed with `print!`. With no rows only the header line is
/// produced, as Docker does. Cells containing tabs or newlines are not
/// escaped, mirroring the Go template output they would come from.
pub fn render_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut text = String::new();
    text.push_str(&headers.join("\t"));
    text.push('\n');
    for row in rows {
        text.push_str(&row.join("\t"));
        text.push('\n');
    }
    tabwriter(&text, MIN_WIDTH, PADDING)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(data: &[&[&str]]) -> Vec<Vec<String>> {
        data.iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn network_ls_matches_docker() {
        let out = render_table(
            &["NETWORK ID", "NAME", "DRIVER", "SCOPE"],
            &rows(&[
                &["7fca4eb8c647", "bridge", "bridge", "local"],
                &["9f904ee27bf5", "host", "host", "local"],
                &["cf03ee007fb4", "none", "null", "local"],
            ]),
        );
        let expected = "\
NETWORK ID     NAME      DRIVER    SCOPE
7fca4eb8c647   bridge    bridge    local
9f904ee27bf5   host      host      local
cf03ee007fb4   none      null      local
";
        assert_eq!(out, expected);
    }

    #[test]
    fn ps_matches_docker() {
        let out = render_table(
            &[
                "CONTAINER ID",
                "IMAGE",
                "COMMAND",
                "CREATED",
                "STATUS",
                "PORTS",
                "NAMES",
            ],
            &rows(&[
                &[
                    "8c166c98adbf",
                    "httpd",
                    "\"httpd-foreground\"",
                    "3 seconds ago",
                    "Up 2 seconds",
                    "0.0.0.0:32773->80/tcp",
                    "web1",
                ],
                &[
                    "0123456789ab",
                    "busybox",
                    "\"sh\"",
                    "About a minute ago",
                    "Exited (0) 5 seconds ago",
                    "",
                    "tender_turing",
                ],
            ]),
        );
        let expected = "\
CONTAINER ID   IMAGE     COMMAND              CREATED              STATUS                     PORTS                   NAMES
8c166c98adbf   httpd     \"httpd-foreground\"   3 seconds ago        Up 2 seconds               0.0.0.0:32773->80/tcp   web1
0123456789ab   busybox   \"sh\"                 About a minute ago   Exited (0) 5 seconds ago                           tender_turing
";
        assert_eq!(out, expected);
    }

    #[test]
    fn header_only_when_no_rows() {
        assert_eq!(
            render_table(&["NETWORK ID", "NAME"], &[]),
            "NETWORK ID   NAME\n"
        );
    }

    #[test]
    fn last_column_is_never_padded() {
        let out = render_table(&["A", "B"], &rows(&[&["x", "short"], &["y", ""]]));
        assert_eq!(out, "A         B\nx         short\ny         \n");
        for line in out.lines().take(2) {
            assert!(!line.ends_with(' '));
        }
    }

    #[test]
    fn empty_middle_cell_still_pads() {
        let out = render_table(&["A", "B", "C"], &rows(&[&["1", "", "3"]]));
        assert_eq!(out, "A         B         C\n1                   3\n");
    }

    #[test]
    fn wide_cells_use_display_width() {
        let out = render_table(&["NAME", "X"], &rows(&[&["日本語日本語", "1"]]));
        // 12 display columns + 3 padding = 15.
        assert_eq!(out, "NAME           X\n日本語日本語   1\n");
    }

    #[test]
    fn tab_free_line_breaks_the_column_block() {
        // The middle line has no tab, so the first and last lines are
        // aligned independently, exactly as Go's tabwriter does.
        let out = tabwriter("a\tb\nplain\nlonger-than-ten\tc\n", MIN_WIDTH, PADDING);
        assert_eq!(out, "a         b\nplain\nlonger-than-ten   c\n");
    }

    #[test]
    fn unterminated_last_line_has_no_newline() {
        assert_eq!(tabwriter("a\tb\nc\td", 10, 3), "a         b\nc         d");
    }

    #[test]
    fn ragged_rows_form_separate_column_blocks() {
        // Go's classic example: b and c are in distinct column blocks.
        let out = tabwriter("aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n", 1, 1);
        assert_eq!(out, "aaaa bbb d\naa   b   dd\na    \naa   cccc eee\n");
    }
}

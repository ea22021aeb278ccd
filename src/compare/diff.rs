//! Lining two engines' listings up: the longest common subsequence of their lines, so
//! that a rule both write sits on one row and what only one writes stands out.

use super::collect::{Line, TABLES, Table};
use crate::firewall::Engine;

/// Where a row's rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Both engines write it.
    Both,
    /// Only the first engine.
    First,
    /// Only the second engine.
    Second,
}

/// One row of the comparison.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    /// Which engines write it.
    pub side: Side,
    /// Both engines write it, at different places (inserted by one, appended by the
    /// other): it stands once on each side, and counts as the same rule.
    pub moved: bool,
    /// The line and its reason.
    #[serde(flatten)]
    pub line: Line,
}

/// One table compared.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableDiff {
    /// `filter`, `nat`, `raw`.
    pub table: String,
    /// Rows in listing order.
    pub rows: Vec<Row>,
}

/// The whole comparison of two engines.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Comparison {
    /// The two engines, first and second.
    pub engines: [Engine; 2],
    /// Each table.
    pub tables: Vec<TableDiff>,
}

impl Comparison {
    /// (rules of the first, rules of the second, rules in both), `-A` lines only.
    pub fn counts(&self) -> (usize, usize, usize) {
        let rules = self
            .tables
            .iter()
            .flat_map(|t| &t.rows)
            .filter(|r| r.line.rule.starts_with("-A "));
        let (mut a, mut b, mut both) = (0, 0, 0);
        for r in rules {
            if r.moved {
                // Counted once, on its first side, as a rule both write.
                if r.side == Side::First {
                    a += 1;
                    b += 1;
                    both += 1;
                }
                continue;
            }
            match r.side {
                Side::Both => {
                    a += 1;
                    b += 1;
                    both += 1;
                }
                Side::First => a += 1,
                Side::Second => b += 1,
            }
        }
        (a, b, both)
    }
}

/// Rows for two listings: common lines once, the first's own lines before the
/// second's wherever they differ.
pub fn align(a: &[Line], b: &[Line]) -> Vec<Row> {
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: length of the common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i].rule == b[j].rule {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut rows = Vec::new();
    let row = |side, line: &Line| Row {
        side,
        moved: false,
        line: line.clone(),
    };
    while i < n || j < m {
        if i < n && j < m && a[i].rule == b[j].rule {
            rows.push(row(Side::Both, &a[i]));
            i += 1;
            j += 1;
        } else if j == m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
            rows.push(row(Side::First, &a[i]));
            i += 1;
        } else {
            rows.push(row(Side::Second, &b[j]));
            j += 1;
        }
    }
    let first: Vec<String> = rows
        .iter()
        .filter(|r| r.side == Side::First)
        .map(|r| r.line.rule.clone())
        .collect();
    let second: Vec<String> = rows
        .iter()
        .filter(|r| r.side == Side::Second)
        .map(|r| r.line.rule.clone())
        .collect();
    for r in &mut rows {
        r.moved = match r.side {
            Side::First => second.contains(&r.line.rule),
            Side::Second => first.contains(&r.line.rule),
            Side::Both => false,
        };
    }
    rows
}

/// Compare two labs' tables, table by table.
pub fn compare(engines: [Engine; 2], a: &[Table], b: &[Table]) -> Comparison {
    let lines = |t: &[Table], name: &str| {
        t.iter()
            .find(|x| x.name == name)
            .map(|x| x.lines.clone())
            .unwrap_or_default()
    };
    Comparison {
        engines,
        tables: TABLES
            .iter()
            .map(|name| TableDiff {
                table: name.to_string(),
                rows: align(&lines(a, name), &lines(b, name)),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<Line> {
        v.iter()
            .map(|r| Line {
                rule: r.to_string(),
                why: String::new(),
            })
            .collect()
    }

    #[test]
    fn common_lines_once_and_differences_in_place() {
        let a = lines(&["-P F", "-N X", "-A F -j X", "-A X -j RETURN"]);
        let b = lines(&["-P F", "-N Y", "-A F -j Y", "-A X -j RETURN"]);
        let rows = align(&a, &b);
        let sides: Vec<(Side, &str)> = rows
            .iter()
            .map(|r| (r.side, r.line.rule.as_str()))
            .collect();
        assert_eq!(
            sides,
            [
                (Side::Both, "-P F"),
                (Side::First, "-N X"),
                (Side::First, "-A F -j X"),
                (Side::Second, "-N Y"),
                (Side::Second, "-A F -j Y"),
                (Side::Both, "-A X -j RETURN"),
            ]
        );
        let c = Comparison {
            engines: [Engine::V27, Engine::V29],
            tables: vec![TableDiff {
                table: "filter".into(),
                rows,
            }],
        };
        assert_eq!(c.counts(), (2, 2, 1));
        let moved = align(&lines(&["-A X 1", "-A X 2"]), &lines(&["-A X 2", "-A X 1"]));
        assert!(
            moved
                .iter()
                .filter(|r| r.side != Side::Both)
                .all(|r| r.moved)
        );
    }
}

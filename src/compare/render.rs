//! `compare`'s text: a diff (`-` only in the first engine, `+` only in the second, each
//! rule with its reason beneath) or two columns side by side, then what changed between
//! the two releases. Colors only on a terminal, never with NO_COLOR.

use super::diff::{Comparison, Row, Side};
use super::scenario::Scenario;
use crate::lesson::ui::{Paint, text_width, width, wrap};
use crate::ui::tr;

fn paint() -> Paint {
    Paint {
        on: crate::ui::color_stdout(),
    }
}

fn header(c: &Comparison, s: &Scenario, p: Paint) -> String {
    let [a, b] = c.engines;
    let mut o = String::new();
    o.push_str(&p.bold(&tr(
        format!("Docker {a} and Docker {b}: {}", s.title),
        format!("Docker {a} 与 Docker {b}：{}", s.title),
    )));
    o.push('\n');
    o.push_str(&p.dim(&tr(
        format!(
            "  both built in throwaway labs and removed again; `-` only in {a} ({}), `+` only in {b} ({})",
            a.releases(),
            b.releases()
        ),
        format!(
            "  两边都在临时实验环境里实际建出来，比较完即删除；`-` 只有 {a}（{}）有，`+` 只有 {b}（{}）有",
            a.releases(),
            b.releases()
        ),
    )));
    o.push('\n');
    for n in &s.notes {
        o.push_str(&format!("  {}\n", p.dim(n)));
    }
    o
}

fn table_title(table: &str, p: Paint) -> String {
    format!(
        "\n{}\n",
        p.bold(&tr(
            format!("{table} table (iptables -t {table} -S)"),
            format!("{table} 表（iptables -t {table} -S）"),
        ))
    )
}

fn marked(row: &Row, p: Paint) -> String {
    let moved = if row.moved {
        p.dim(&tr("  (moved: both write it)", "  （位置变了：两边都有）"))
    } else {
        String::new()
    };
    match row.side {
        Side::Both => format!("  {}", row.line.rule),
        Side::First => p.bad(&format!("- {}", row.line.rule)) + &moved,
        Side::Second => p.good(&format!("+ {}", row.line.rule)) + &moved,
    }
}

/// The diff view.
pub fn diff(c: &Comparison, s: &Scenario) -> String {
    let p = paint();
    let w = width();
    let mut o = header(c, s, p);
    for t in &c.tables {
        o.push_str(&table_title(&t.table, p));
        for row in &t.rows {
            o.push_str(&marked(row, p));
            o.push('\n');
            if !row.line.why.is_empty() {
                for l in wrap(&row.line.why, w, 6) {
                    o.push_str(&p.dim(&l));
                    o.push('\n');
                }
            }
        }
    }
    o.push_str(&summary(c, p));
    o
}

/// A rule cut into lines of at most `w` columns, between its words where it can be
/// (a word longer than a line is cut); continuing lines are indented by four, twice
/// the reason's indent, so the two stay apart without color.
fn pieces(s: &str, w: usize) -> Vec<String> {
    let mut out: Vec<String> = vec![String::new()];
    for word in s.split(' ') {
        let last = out.len() - 1;
        let started = !out[last].trim().is_empty();
        if started && text_width(&out[last]) + 1 + text_width(word) > w {
            out.push("    ".into());
        } else if started {
            out[last].push(' ');
        }
        for ch in word.chars() {
            let last = out.len() - 1;
            if text_width(&out[last]) + 1 > w {
                out.push("    ".into());
            }
            out.last_mut().expect("one piece").push(ch);
        }
    }
    out
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(text_width(s))))
}

/// The side-by-side view: the first engine left, the second right, a rule both write
/// on both sides of its row.
pub fn side_by_side(c: &Comparison, s: &Scenario) -> String {
    let p = paint();
    // Two columns want more room than prose: up to 200 on a wide terminal.
    let total = crate::lesson::ui::terminal_columns()
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
        .unwrap_or(100)
        .clamp(60, 200);
    let col = total.saturating_sub(3) / 2;
    let mut o = header(c, s, p);
    let [a, b] = c.engines;
    for t in &c.tables {
        o.push_str(&table_title(&t.table, p));
        o.push_str(&p.bold(&format!(
            "{} │ Docker {b}",
            pad(&format!("Docker {a}"), col)
        )));
        o.push('\n');
        for row in &t.rows {
            let text = pieces(&row.line.rule, col);
            let why = if row.line.why.is_empty() {
                Vec::new()
            } else {
                wrap(&row.line.why, col, 2)
            };
            let cell: Vec<String> = text
                .iter()
                .map(|l| l.to_string())
                .chain(why.iter().map(|l| p.dim(l)))
                .collect();
            let plain: Vec<String> = text.iter().chain(why.iter()).cloned().collect();
            let (left, right) = match row.side {
                Side::Both => (Some(&cell), Some(&cell)),
                Side::First => (Some(&cell), None),
                Side::Second => (None, Some(&cell)),
            };
            for i in 0..cell.len() {
                let l = left.map(|c| c[i].clone()).unwrap_or_default();
                let lw = left.map(|_| text_width(&plain[i])).unwrap_or(0);
                let r = right.map(|c| c[i].clone()).unwrap_or_default();
                let l = match row.side {
                    Side::First if i < text.len() => p.bad(&l),
                    _ => l,
                };
                let r = match row.side {
                    Side::Second if i < text.len() => p.good(&r),
                    _ => r,
                };
                o.push_str(&format!(
                    "{l}{} │ {r}\n",
                    " ".repeat(col.saturating_sub(lw))
                ));
            }
        }
    }
    o.push_str(&summary(c, p));
    o
}

/// Counts, then what each release between the two changed.
fn summary(c: &Comparison, p: Paint) -> String {
    let [a, b] = c.engines;
    let (na, nb, both) = c.counts();
    let mut o = format!(
        "\n{}\n",
        p.bold(&tr(
            format!(
                "Docker {a} writes {na} rules, Docker {b} {nb}: {both} the same, {} only in {a}, {} only in {b}.",
                na - both,
                nb - both
            ),
            format!(
                "Docker {a} 写了 {na} 条规则，Docker {b} 写了 {nb} 条：相同的 {both} 条，只有 {a} 有的 {} 条，只有 {b} 有的 {} 条。",
                na - both,
                nb - both
            ),
        ))
    );
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    let steps: Vec<_> = crate::firewall::Engine::ALL
        .into_iter()
        .filter(|e| *e > lo && *e <= hi)
        .collect();
    if !steps.is_empty() {
        o.push_str(&tr(
            format!("What changed from {lo} to {hi}:\n"),
            format!("从 {lo} 到 {hi} 改了什么：\n"),
        ));
        for e in steps {
            for change in e.changes() {
                for l in wrap(&format!("- {change}"), width(), 2) {
                    o.push_str(&p.code_spans(&l));
                    o.push('\n');
                }
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_rules_are_cut_into_column_pieces() {
        let p = pieces(&"x".repeat(70), 30);
        assert!(p.iter().all(|l| text_width(l) <= 30), "{p:?}");
        assert_eq!(p.concat().replace(' ', ""), "x".repeat(70));
        let r = "-A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT";
        let p = pieces(r, 44);
        assert_eq!(
            p,
            [
                "-A DOCKER-CT -o docker0 -m conntrack",
                "    --ctstate RELATED,ESTABLISHED -j ACCEPT"
            ]
        );
    }
}

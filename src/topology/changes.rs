//! `show topology --changes`: the picture with what is new since the previous one of
//! the same lab marked. The previous picture is kept in the lab's directory
//! (`topology-<view>.json`, in the lab's memory: `lab down` and a reboot take it with
//! the lab); each view (every host, or one `-H` host) keeps its own. Before the first
//! `--changes`, the whole lab's view compares with the lab as it was built (`lab up`
//! keeps that picture: the world, the host, docker0), so a lesson's first picture
//! already marks its first container; a view without any kept picture (one `-H` host,
//! a lab built before) marks nothing the first time, and says so. Boxes are told apart
//! by their namespace, lines by their English text without the tree branch, so a veth
//! made again under another name, or a port mapped anew, is new, and a lesson in
//! Chinese compares like one in English.

use super::model::Topology;
use super::text::{self, Frame, NEW_MARK, fit, line_key};
use crate::error::Result;
use crate::lab::Lab;
use crate::ui::tr;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// What is kept of a box: its title and lines in both languages (what is gone is
/// listed in the language of the picture that lists it), and the lines' keys.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Kept {
    /// The title, English then Chinese.
    pub title: [String; 2],
    /// The lines, English then Chinese.
    pub lines: [Vec<String>; 2],
    /// Their keys ([`line_key`] of the English lines).
    pub keys: Vec<String>,
}

/// What is kept of a picture: each box, by namespace.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// Namespace -> the box.
    pub boxes: BTreeMap<String, Kept>,
}

/// A picture laid out in both languages, box for box; the Chinese lines keyed by their
/// English form.
pub struct Laid {
    /// In English.
    pub en: Vec<Frame>,
    /// In Chinese.
    pub zh: Vec<Frame>,
}

impl Laid {
    /// The frames in the language of the messages.
    pub fn shown(&self) -> &[Frame] {
        if crate::ui::chinese() {
            &self.zh
        } else {
            &self.en
        }
    }
}

impl Snapshot {
    /// The snapshot of a laid-out picture.
    pub fn of(laid: &Laid) -> Snapshot {
        let mut boxes = BTreeMap::new();
        for (en, zh) in laid.en.iter().zip(&laid.zh) {
            let kept = Kept {
                title: [en.title.clone(), zh.title.clone()],
                lines: [en.lines.clone(), zh.lines.clone()],
                keys: en.keys.clone(),
            };
            boxes.insert(en.key.clone(), kept);
        }
        Snapshot { boxes }
    }

    /// Whether a box (`key` None) or one of its lines (by key) is absent.
    pub fn lacks(&self, ns: &str, key: Option<&str>) -> bool {
        match (self.boxes.get(ns), key) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(b), Some(k)) => !b.keys.iter().any(|x| x == k),
        }
    }
}

/// The picture laid out for `--changes`, in both languages. The language is
/// process-wide: it is switched for each layout and back (one command, one thread).
pub fn layout(t: &Topology) -> Laid {
    let zh_now = crate::ui::chinese();
    crate::ui::set_lang(Some(false));
    let en = text::layout(t);
    crate::ui::set_lang(Some(true));
    let mut zh = text::layout(t);
    crate::ui::set_lang(Some(zh_now));
    for (z, e) in zh.iter_mut().zip(&en) {
        if z.key == e.key && z.keys.len() == e.keys.len() {
            z.keys = e.keys.clone();
        }
    }
    Laid { en, zh }
}

/// Where a view's last picture is kept: the lab's root (what the lab has once), one
/// file per view.
pub fn path(lab: &Lab, only: Option<&str>) -> PathBuf {
    lab.root()
        .join(format!("topology-{}.json", only.unwrap_or("all")))
}

/// The last picture of a view, if one was kept (an unreadable one counts as none).
pub fn load(lab: &Lab, only: Option<&str>) -> Option<Snapshot> {
    let text = std::fs::read(path(lab, only)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Keep this picture as the view's last (not under `--dry-run`: the executor decides).
pub fn save(
    lab: &Lab,
    only: Option<&str>,
    snap: &Snapshot,
    exec: &crate::step::Executor,
) -> Result<()> {
    let data = serde_json::to_vec(snap)
        .map_err(|e| crate::error::Error::msg(format!("encoding the picture: {e}")))?;
    exec.write_atomic(&path(lab, only), &data)
}

/// The lines under the picture: the legend of the marks, and what is gone since.
pub fn legend(prev: Option<&Snapshot>, now: &Snapshot) -> String {
    let Some(prev) = prev else {
        return tr(
            "(no earlier picture to compare with: the next `show topology --changes` marks what is new since this one)",
            "（没有更早的图可以对比：下一次 `show topology --changes` 会标出在此之后新出现的部分）",
        ) + "\n";
    };
    let new = now
        .boxes
        .iter()
        .any(|(ns, b)| prev.lacks(ns, None) || b.keys.iter().any(|k| prev.lacks(ns, Some(k))));
    let mut out = if new {
        tr(
            format!("{NEW_MARK} new since the last picture"),
            format!("{NEW_MARK} 表示上一张图之后新出现的部分"),
        )
    } else {
        tr(
            "nothing new since the last picture",
            "与上一张图相比，没有新出现的部分",
        )
    };
    out.push('\n');
    let lang = usize::from(crate::ui::chinese());
    let mut gone = BTreeSet::new();
    for (ns, b) in &prev.boxes {
        let title = title_short(&b.title[lang]);
        if now.lacks(ns, None) {
            gone.insert(title.to_string());
            continue;
        }
        for (l, k) in b.lines[lang].iter().zip(&b.keys) {
            if now.lacks(ns, Some(k)) {
                let sep = if lang == 1 { "：" } else { ": " };
                gone.insert(format!("{title}{sep}{}", line_key(l)));
            }
        }
    }
    if !gone.is_empty() {
        out.push_str(&tr(
            "gone since the last picture:",
            "上一张图之后消失的部分：",
        ));
        out.push('\n');
        for g in gone {
            out.push_str(&fit(&format!("  - {g}"), text::width()));
            out.push('\n');
        }
    }
    out
}

/// A box's title without its namespace name (`container web1  dn-…` -> `container web1`).
fn title_short(title: &str) -> &str {
    title.split("  ").next().unwrap_or(title)
}

#[cfg(test)]
mod tests {
    use super::super::model::NsKind;
    use super::super::text::{columns, draw_all};
    use super::*;

    fn frame(key: &str, lines: &[&str]) -> Frame {
        Frame {
            key: key.into(),
            indent: 0,
            title: format!("box {key}  dn-{key}"),
            lines: lines.iter().map(|l| l.to_string()).collect(),
            keys: lines.iter().map(|l| line_key(l)).collect(),
            kind: NsKind::Host,
        }
    }

    #[test]
    fn new_boxes_and_lines_are_marked_and_the_gone_listed() {
        let before = [
            frame("h", &["eth0", "bridge docker0", "  └─ veth0@if2"]),
            frame("c1", &["eth0@if5"]),
        ];
        let after = [
            frame(
                "h",
                &["eth0", "bridge docker0", "  ├─ veth0@if2", "  └─ veth1@if2"],
            ),
            frame("c2", &["eth0@if7"]),
        ];
        let prev = Snapshot::of(&both(&before));
        let text = draw_all("head", &after, false, &|k, l| prev.lacks(k, l));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("┌─ box h"), "{text}");
        assert!(lines[2].starts_with("│ eth0"), "{text}");
        // A branch that became `├─` is not new.
        assert!(lines[4].starts_with("│   ├─ veth0@if2"), "{text}");
        assert!(lines[5].starts_with("│+  └─ veth1@if2"), "{text}");
        assert!(lines[7].starts_with("┌+ box c2"), "{text}");
        assert!(lines[8].starts_with("│+eth0@if7"), "{text}");
        assert!(text.lines().all(|l| columns(l) <= text::WIDTH));
        let now = Snapshot::of(&both(&after));
        let legend = legend(Some(&prev), &now);
        assert!(legend.contains("\n  - box c1\n"), "{legend}");
        assert!(!legend.contains("veth0"), "{legend}");
        // Nothing new, nothing gone: said in one line; so is the first picture.
        assert_eq!(legend_lines(Some(&now), &now), 1);
        assert_eq!(legend_lines(None, &now), 1);
    }

    fn both(frames: &[Frame]) -> Laid {
        Laid {
            en: frames.to_vec(),
            zh: frames.to_vec(),
        }
    }

    fn legend_lines(prev: Option<&Snapshot>, now: &Snapshot) -> usize {
        legend(prev, now).lines().count()
    }
}

//! `show topology`: the lab as a picture, read from the kernel (every namespace of the
//! lab, its interfaces and the cables between them), so that what was changed by hand
//! shows too. `model.rs` is the graph, `build.rs` reads it; `text.rs`, `dot.rs` and `mermaid.rs` draw it;
//! `json` prints the model itself.

mod build;
mod changes;
/// The lab's graph, read from the kernel (also what `trace` follows hop by hop).
pub use build::build;
pub use text::WIDTH_ENV;
mod dot;
#[cfg(test)]
mod dot_syntax;
mod mermaid;
pub mod model;
mod text;

use crate::error::{Error, Result};
use crate::lab::Lab;
use clap::Args;

/// `show topology` options.
#[derive(Debug, Args)]
pub struct TopologyArgs {
    /// Output format: `text` (boxes), `dot` (Graphviz), `mermaid` (flowchart), `json`.
    #[arg(long, default_value = "text", value_parser = ["text", "dot", "mermaid", "json"])]
    pub format: String,
    /// Mark what is new since the last `--changes` picture of this lab with `+` (the
    /// first: since the lab was built), and list what is gone.
    #[arg(long)]
    pub changes: bool,
}

/// Keep the picture of a lab just built (the world, its first host and docker0) as the
/// one the first `show topology --changes` compares with, so that a lesson's first
/// picture already marks its first container. Best effort: a lab whose picture cannot
/// be read is built all the same, and its first `--changes` marks nothing.
pub async fn remember_built(lab: &Lab, exec: &crate::step::Executor) {
    let Ok(topo) = build::build(lab, None).await else {
        return;
    };
    let now = changes::Snapshot::of(&changes::layout(&topo));
    let _ = changes::save(lab, None, &now, exec);
}

/// Print the topology of `lab`: every host, or only `lab.host` when `host_given`
/// (`--host` / `-H` / DOCKERNET_HOST on the command line).
pub async fn show(
    lab: &Lab,
    mode: crate::step::Mode,
    a: &TopologyArgs,
    host_given: bool,
) -> Result<String> {
    if a.changes && a.format != "text" {
        return Err(Error::msg(crate::ui::tr(
            format!(
                "--changes marks the text picture only, not --format {}: drop one of them",
                a.format
            ),
            format!(
                "--changes 只能标注文本图，不能与 --format {} 同用：去掉其中一个",
                a.format
            ),
        )));
    }
    let only = host_given.then(|| lab.host.clone());
    let topo = build::build(lab, only.as_deref()).await?;
    if topo.nodes.is_empty() {
        return Err(Error::msg(crate::ui::tr(
            format!(
                "lab {} has no namespaces: start it with `dockernet --lab {} lab up`",
                lab.name, lab.name
            ),
            format!(
                "实验环境 {} 没有任何命名空间：先运行 `dockernet --lab {} lab up`",
                lab.name, lab.name
            ),
        )));
    }
    Ok(match a.format.as_str() {
        "dot" => dot::render(&topo),
        "mermaid" => mermaid::render(&topo),
        "json" => {
            let mut s = serde_json::to_string_pretty(&topo)
                .map_err(|e| Error::msg(format!("encoding the topology: {e}")))?;
            s.push('\n');
            s
        }
        _ if a.changes => {
            let laid = changes::layout(&topo);
            let frames = laid.shown();
            let prev = changes::load(lab, only.as_deref());
            let now = changes::Snapshot::of(&laid);
            let is_new = |k: &str, l: Option<&str>| prev.as_ref().is_some_and(|p| p.lacks(k, l));
            let head = text::heading(&topo);
            let mut out = text::draw_all(&head, frames, crate::ui::color_stdout(), &is_new);
            out.push_str(&changes::legend(prev.as_ref(), &now));
            changes::save(
                lab,
                only.as_deref(),
                &now,
                &crate::step::Executor::new(mode),
            )?;
            out
        }
        _ => text::render(&topo, crate::ui::color_stdout()),
    })
}

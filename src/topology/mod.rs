//! `show topology`: the lab as a picture, read from the kernel (every namespace of the
//! lab, its interfaces and the cables between them), so that what was changed by hand
//! shows too. `model.rs` is the graph, `build.rs` reads it; `text.rs`, `dot.rs` and `mermaid.rs` draw it;
//! `json` prints the model itself.

mod build;
mod dot;
mod mermaid;
mod model;
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
}

/// Whether `--host` / `-H` / DOCKERNET_HOST was given: the picture shows every host
/// unless one was asked for. The CLI keeps only the resolved host name (its default is
/// the first host), so the command line is read again here.
fn host_given() -> bool {
    if std::env::var_os("DOCKERNET_HOST").is_some_and(|v| !v.is_empty()) {
        return true;
    }
    std::env::args().skip(1).take_while(|a| a != "--").any(|a| {
        a == "-H"
            || a == "--host"
            || a.starts_with("--host=")
            || (a.starts_with("-H") && a.len() > 2)
    })
}

/// Print the topology of `lab` (every host, or only `lab.host` when one was given).
pub async fn show(lab: &Lab, a: &TopologyArgs) -> Result<String> {
    let only = host_given().then(|| lab.host.clone());
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
        _ => text::render(&topo, crate::ui::color_stdout()),
    })
}

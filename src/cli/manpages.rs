//! Manual pages generated from the clap tree (`clap_mangen`): `dockernet.1` and one
//! per subcommand (`dockernet-run.1`, `dockernet-network-create.1`, …), written by the
//! hidden `__man DIR` command that `./dev install` runs.

use crate::error::{Context, Result};
use clap::CommandFactory;
use std::path::Path;

/// Write every page into `dir`; returns how many.
pub fn write_all(dir: &Path) -> Result<usize> {
    std::fs::create_dir_all(dir).ctx("creating the man page directory")?;
    let mut root = super::Cli::command();
    root.build();
    write_tree(&root, "dockernet", dir)
}

fn write_tree(cmd: &clap::Command, name: &str, dir: &Path) -> Result<usize> {
    // A page's title is its full command name, as git's are.
    let page = cmd.clone().name(name.to_string());
    let mut buf = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut buf)
        .ctx("rendering a man page")?;
    std::fs::write(dir.join(format!("{name}.1")), buf).ctx(format!("writing {name}.1"))?;
    let mut n = 1;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        n += write_tree(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(n)
}

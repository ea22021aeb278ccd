//! `lesson list` and `lesson NAME [--yes] [--step N] [--keep]`.

use super::{Format, Lang};
use crate::error::Result;
use crate::lab::Lab;
use crate::lesson::{self, Options};
use crate::step::Mode;
use clap::Args;

/// `lesson` arguments.
#[derive(Debug, Args)]
pub struct LessonArgs {
    /// The lesson (`bridge`, `host`, `none`, `container`, `port-mapping`, `outbound`), or
    /// `list` (the default) to list them.
    #[arg(default_value = "list", add = clap_complete::ArgValueCandidates::new(super::complete::lessons))]
    pub name: String,
    /// Run straight through without waiting for Enter (for projectors and CI).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Start at step N (earlier steps' commands run quietly).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub step: usize,
    /// Keep the lab at the end, to explore it (and print how to remove it).
    #[arg(long)]
    pub keep: bool,
    /// Output format of `lesson list`.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `lesson ...`
pub async fn lesson(lab: &Lab, mode: Mode, lang: Option<Lang>, a: LessonArgs) -> Result<i32> {
    let lang = lesson::ui::language(lang);
    if a.name == "list" {
        let rows = lesson::summaries(lang)?;
        match a.format {
            Format::Json => println!(
                "{}",
                serde_json::to_string_pretty(&rows)
                    .map_err(|e| crate::error::Error::msg(e.to_string()))?
            ),
            Format::Table => print!("{}", lesson::render_list(&rows, lang)),
        }
        return Ok(0);
    }
    let l = lesson::find(&a.name)?;
    if mode == Mode::DryRun {
        lesson::print_script(&l, lang);
        return Ok(0);
    }
    let opts = Options {
        lang,
        yes: a.yes,
        step: a.step,
        keep: a.keep,
        lab: (lab.name != "default").then(|| lab.name.clone()),
    };
    lesson::run(&l, &opts).await
}

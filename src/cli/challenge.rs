//! `challenge list`, `challenge NAME`, `challenge check` and `challenge hint [N]`:
//! the arguments and their dispatch (the engine is `crate::challenge`).

use super::{Format, Lang};
use crate::challenge::{self, run};
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::step::Mode;
use clap::Args;

/// What `challenge --help` ends with: the lab, the state, the exit status.
const AFTER_HELP: &str = "\
The lab: a challenge works in the current lab (`--lab L`), rebuilt from scratch when it \
starts; a lab holding containers of your own and no challenge is refused. The active \
challenge and the hints shown are kept in the lab's directory, so `lab down` forgets them.

Exit status: `challenge check` 0 when solved, 1 when not; 2 for an unknown challenge or \
a bad hint number.";

/// `challenge` arguments.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ChallengeArgs {
    /// `list` (the default) lists the challenges; a challenge's name starts it in the
    /// current lab; `check` checks the active one against the kernel; `hint` gives its
    /// next hint.
    #[arg(default_value = "list", add = clap_complete::ArgValueCandidates::new(super::complete::challenges))]
    pub name: String,
    /// With `hint`: show hint N (1 is the gentlest).
    #[arg(value_name = "N")]
    pub number: Option<usize>,
    /// Output format of `challenge list`.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `challenge ...`
pub async fn challenge(lab: &Lab, mode: Mode, lang: Option<Lang>, a: ChallengeArgs) -> Result<i32> {
    let lang = crate::lesson::ui::language(lang);
    if a.number.is_some() && a.name != "hint" {
        return Err(Error::with_code(
            crate::ui::tr(
                "a number goes only with `challenge hint N`",
                "只有 `challenge hint N` 才带编号",
            ),
            2,
        ));
    }
    match a.name.as_str() {
        "list" => {
            let rows = challenge::summaries(lang)?;
            match a.format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).map_err(|e| Error::msg(e.to_string()))?
                ),
                Format::Table => print!("{}", challenge::render_list(&rows, lang)),
            }
            Ok(0)
        }
        "check" => run::check(lab, lang).await,
        "hint" => run::hint(lab, lang, a.number),
        name => {
            let ch = challenge::find(name)?;
            if mode == Mode::DryRun {
                for c in &ch.setup {
                    println!("dockernet --lab {} {c}", lab.name);
                }
                return Ok(0);
            }
            run::start(lab, lang, &ch).await
        }
    }
}

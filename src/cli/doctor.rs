//! `doctor [CONTAINER]`: the lab host (or one container and its networks) checked
//! against the classic networking pitfalls; each finding with the command that fixes
//! it. Exit status 1 when anything is found, so scripts and CI can test for it.

use super::{Format, read_lab};
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::step::Mode;
use clap::Args;

/// `doctor` flags.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Check only this container and its networks (name or ID).
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::containers))]
    pub container: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `doctor [CONTAINER]`
pub async fn doctor(lab: &Lab, mode: Mode, a: DoctorArgs) -> Result<i32> {
    let d = read_lab(lab, mode).await?;
    let scope = crate::doctor::scope(lab, &d.rec, &d.store, a.container.as_deref())?;
    let findings = crate::doctor::run(&scope).await?;
    match a.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&findings).map_err(|e| Error::msg(e.to_string()))?
        ),
        Format::Table => print!("{}", crate::doctor::render_text(&findings)),
    }
    Ok(if findings.is_empty() { 0 } else { 1 })
}

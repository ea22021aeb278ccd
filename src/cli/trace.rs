//! `trace FROM TO [--tcp PORT|--udp PORT|--icmp]`: one real probe, followed hop by hop
//! through the lab's namespaces and rules (see `crate::trace`). Exit status 0 when the
//! probe was answered, 1 when not (like `ping`), so checks can test either.

use super::{Format, read_lab};
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::step::Mode;
use clap::Args;

/// `trace` flags.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("probe").args(["tcp", "udp", "icmp"])))]
pub struct TraceArgs {
    /// Where the probe starts: a container (name or ID), `host` or a lab host's name,
    /// `world`, or an IPv4 address of the lab.
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::containers))]
    pub from: String,
    /// Where it goes: a container, `host` or a lab host's name, `world`, or an IPv4
    /// address (a published port: the host's address with `--tcp PORT`).
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::containers))]
    pub to: String,
    /// Probe with a TCP connection attempt to PORT.
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub tcp: Option<u16>,
    /// Probe with a UDP datagram to PORT.
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub udp: Option<u16>,
    /// Probe with an ICMP echo request (ping; the default).
    #[arg(long)]
    pub icmp: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `trace FROM TO`
pub async fn trace(lab: &Lab, mode: Mode, a: TraceArgs) -> Result<i32> {
    if mode == Mode::DryRun {
        return Err(Error::msg(crate::ui::tr(
            "trace sends a real probe and reads what the kernel did: it has nothing to show under --dry-run (leave the flag out)",
            "trace 会真的发出一个探测包并读取内核的处理过程，--dry-run 下没有什么可显示的（去掉这个选项即可）",
        )));
    }
    let d = read_lab(lab, mode).await?;
    let kind = match (a.tcp, a.udp) {
        (Some(p), _) => crate::trace::Kind::Tcp(p),
        (_, Some(p)) => crate::trace::Kind::Udp(p),
        _ => crate::trace::Kind::Icmp,
    };
    // Two traces at once in one lab would replace each other's trace tables.
    let _lock = lab.lock()?;
    let report = crate::trace::trace(lab, &d.store, &a.from, &a.to, kind).await?;
    match a.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| Error::msg(e.to_string()))?
        ),
        Format::Table => print!(
            "{}",
            crate::trace::render_text(&report, crate::ui::color_stdout())
        ),
    }
    Ok(if report.answer == crate::trace::Answer::Answered {
        0
    } else {
        1
    })
}

//! The command line: one clap tree for the whole surface (../CLI.md), and dispatch.
//! Commands that mirror Docker take Docker's names, flags and output formats.

mod attach;
mod challenge;
mod compare;
mod complete;
mod containers;
mod dns;
mod doctor;
mod each;
mod format;
pub mod help_zh;
mod hostcmd;
mod info;
mod labcmd;
mod lesson;
mod lifecycle;
mod manpages;
mod network;
mod ps;
mod ps_filter;
mod show;
mod show_fdb;
mod trace;

use crate::error::Result;
use crate::step::Mode;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// dockernet: Docker's Linux networking, rebuilt step by step from real kernel objects.
#[derive(Debug, Parser)]
#[command(
    name = "dockernet",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = "Exit status, as Docker's: 125 when a `run` / `create` is refused (a taken port or name, a bad flag), 126 when the container's command cannot be invoked, 127 when it cannot be found, otherwise the command's own; 1 for other errors, 2 for usage errors."
)]
pub struct Cli {
    /// Which lab to use (each lab is its own set of namespaces).
    #[arg(long, global = true, env = "DOCKERNET_LAB", default_value = "default")]
    pub lab: String,
    /// Which of the lab's Docker hosts to work on (`lab host ls` lists them).
    #[arg(
        long = "host",
        short = 'H',
        global = true,
        env = "DOCKERNET_HOST",
        default_value = crate::lab::FIRST_HOST,
        value_name = "NAME"
    )]
    pub on_host: String,
    /// Whether `on_host` was given (flag or environment) rather than defaulted: set by
    /// `help_zh::parse` from the matches.
    #[arg(skip)]
    pub host_given: bool,
    /// Print each kernel step as the equivalent command while it runs.
    #[arg(long, global = true)]
    pub explain: bool,
    /// Print the steps and change nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Language of explanations and messages (default from LANG / LC_ALL).
    #[arg(long, global = true, value_enum)]
    pub lang: Option<Lang>,
    /// Plain output without colors (NO_COLOR is honoured too).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

pub use crate::ui::Lang;

/// Output format of listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Docker's table layout.
    #[default]
    Table,
    /// JSON for machines.
    Json,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build, inspect or remove the lab.
    #[command(subcommand)]
    Lab(LabCommand),
    /// Run a command (or a shell) on the lab's Docker host.
    Host(ShellArgs),
    /// Run a command (or a shell) in the outside world (the LAN and "the internet").
    World(ShellArgs),
    /// Create and start a container (docker run).
    Run(Box<containers::RunArgs>),
    /// Create a container without starting it (docker create).
    Create(Box<containers::RunArgs>),
    /// Run a command in a running container (docker exec).
    Exec(containers::ExecArgs),
    /// List containers (docker ps).
    Ps(ps::PsArgs),
    /// Show a container's output (docker logs).
    Logs(containers::LogsArgs),
    /// Attach to a running container (docker attach).
    Attach(attach::AttachArgs),
    /// Stop running containers (docker stop).
    Stop(containers::StopArgs),
    /// Start stopped containers (docker start).
    Start(containers::NamesArgs),
    /// Restart containers (docker restart).
    Restart(containers::StopArgs),
    /// Show the processes of a container (docker top CONTAINER [ps OPTIONS]).
    Top(lifecycle::TopArgs),
    /// Manage containers: Docker's `container ls|run|rm|…` forms.
    #[command(subcommand)]
    Container(lifecycle::ContainerCommand),
    /// `container prune` (only through `container`).
    #[command(hide = true)]
    ContainerPrune(lifecycle::PruneArgs),
    /// Remove containers (docker rm).
    Rm(containers::RmArgs),
    /// List port mappings of a container (docker port).
    Port(ps::PortArgs),
    /// Show a container's low-level information as JSON (docker inspect).
    Inspect(format::InspectArgs),
    /// Display system-wide information (docker info).
    Info(info::InfoArgs),
    /// Show the dockernet version information (docker version).
    Version(info::VersionArgs),
    /// Show the names a container's embedded DNS server (127.0.0.11) answers.
    Dns(dns::DnsArgs),
    /// Check the lab host for the classic networking pitfalls and say how to fix each.
    Doctor(doctor::DoctorArgs),
    /// Send one probe and show the way it took: hops, rules matched, NAT, drops.
    Trace(trace::TraceArgs),
    /// Build one scenario under two Docker engines' rule layouts and compare the rules.
    Compare(compare::CompareArgs),
    /// Manage networks (docker network).
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Show live kernel state the way ip, brctl and iptables print it.
    #[command(subcommand)]
    Show(show::ShowCommand),
    /// Learn step by step: `lesson list`, `lesson NAME [--yes] [--step N] [--keep]`.
    Lesson(lesson::LessonArgs),
    /// Solve a broken lab: `challenge list`, `challenge NAME`, `challenge check`, `challenge hint`.
    Challenge(challenge::ChallengeArgs),
    /// Write the manual pages (dockernet.1 and one per subcommand) into DIR.
    #[command(name = "__man", hide = true)]
    Man {
        /// Where to write them (e.g. /usr/local/share/man/man1).
        dir: std::path::PathBuf,
    },
    /// Print a shell completion script (bash, zsh, fish, ...).
    ///
    /// The completions know the lab's container, network and lesson names:
    /// `source <(dockernet completion bash)`.
    Completion {
        /// The shell.
        #[arg(value_parser = ["bash", "zsh", "fish", "elvish", "powershell"])]
        shell: String,
    },
}

/// `lab` subcommands.
#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Build the lab (also done by the first command that needs it).
    Up {
        // No clap defaults: on a lab that runs already, only the flags typed must match.
        /// Docker's --userland-proxy (default true): false switches to hairpin NAT and
        /// route_localnet.
        #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
        userland_proxy: Option<bool>,
        /// Docker's --icc (default true): false stops containers on docker0 from talking
        /// to each other (except over legacy links).
        #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
        icc: Option<bool>,
        /// Whose iptables layout the daemon writes: 27 (default: classic, as in the
        /// articles), 28 (DOCKER-FORWARD, raw-table drops) or 29 (DOCKER-INTERNAL).
        #[arg(long, value_parser = ["27", "28", "29"])]
        engine: Option<String>,
        /// Docker's --firewall-backend: iptables (default), or nftables (Docker 29 only:
        /// its own table `ip docker-bridges` instead of iptables rules).
        #[arg(long, value_parser = ["iptables", "nftables"])]
        firewall_backend: Option<String>,
    },
    /// Remove everything of the lab: namespaces, links, rules, processes, files.
    Down,
    /// What exists, what runs, and anything broken or leaked.
    Status {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Add, remove or list the lab's Docker hosts (machines on its LAN).
    #[command(subcommand)]
    Host(hostcmd::HostCommand),
}

/// `host` / `world` arguments.
#[derive(Debug, Args)]
pub struct ShellArgs {
    /// The command and its arguments (default: an interactive shell).
    #[arg(last = true)]
    pub command: Vec<String>,
}

impl Cli {
    /// The execution mode chosen by --explain / --dry-run.
    pub fn mode(&self) -> Mode {
        if self.dry_run {
            Mode::DryRun
        } else if self.explain {
            Mode::Explain
        } else {
            Mode::Quiet
        }
    }
}

pub use complete::answer_if_asked as answer_completion_request;

/// Run the parsed command; returns the process exit status.
pub async fn dispatch(cli: Cli) -> Result<i32> {
    if cli.no_color {
        crate::ui::disable_color();
    }
    crate::ui::set_lang(cli.lang.map(|l| l == Lang::Zh));
    let lab = crate::lab::Lab::new(&cli.lab)?.on_host(&cli.on_host)?;
    let mode = cli.mode();
    let command = match cli.command {
        Command::Container(c) => c.into_command(),
        other => other,
    };
    match command {
        Command::Lab(c) => labcmd::lab(&lab, mode, c).await,
        Command::Host(a) => labcmd::shell(&lab, mode, labcmd::Place::Host, a.command).await,
        Command::World(a) => labcmd::shell(&lab, mode, labcmd::Place::World, a.command).await,
        Command::Run(a) => containers::run(&lab, mode, *a).await,
        Command::Exec(a) => containers::exec(&lab, mode, a).await,
        Command::Ps(a) => ps::ps(&lab, mode, a).await,
        Command::Logs(a) => containers::logs(&lab, mode, a).await,
        Command::Attach(a) => attach::attach(&lab, mode, a).await,
        Command::Stop(a) => containers::stop(&lab, mode, a).await,
        Command::Start(a) => containers::start(&lab, mode, a).await,
        Command::Create(a) => lifecycle::create(&lab, mode, *a).await,
        Command::Restart(a) => lifecycle::restart(&lab, mode, a).await,
        Command::Top(a) => lifecycle::top(&lab, mode, a).await,
        Command::ContainerPrune(a) => lifecycle::prune(&lab, mode, a).await,
        Command::Container(_) => unreachable!("mapped to its short form above"),
        Command::Rm(a) => each::rm(&lab, mode, a).await,
        Command::Inspect(a) => containers::inspect(&lab, mode, a).await,
        Command::Port(a) => ps::port(&lab, mode, a).await,
        Command::Info(a) => info::info(&lab, mode, a).await,
        Command::Version(a) => info::version(&lab, a),
        Command::Dns(a) => dns::dns(&lab, mode, a).await,
        Command::Doctor(a) => doctor::doctor(&lab, mode, a).await,
        Command::Trace(a) => trace::trace(&lab, mode, a).await,
        Command::Compare(a) => compare::compare(&lab, mode, a).await,
        Command::Network(c) => network::network(&lab, mode, c).await,
        Command::Show(c) => show::show(&lab, mode, c, cli.host_given).await,
        Command::Lesson(a) => lesson::lesson(&lab, mode, cli.lang, a).await,
        Command::Challenge(a) => challenge::challenge(&lab, mode, cli.lang, a).await,
        Command::Man { dir } => {
            let n = manpages::write_all(&dir)?;
            eprintln!("dockernet: {n} manual pages written to {}", dir.display());
            Ok(0)
        }
        Command::Completion { shell } => {
            print!("{}", complete::script(&shell)?);
            Ok(0)
        }
    }
}

/// For a command that changes the lab: take the lab lock, make sure the lab is up
/// (building it if needed), and roll back what crashed commands left half-done.
pub(crate) async fn open_lab<'a>(
    lab: &'a crate::lab::Lab,
    exec: &mut crate::step::Executor,
) -> Result<(crate::lab::LabLock, crate::lab::Daemon<'a>)> {
    require_root()?;
    let lock = lab.lock_for(exec.dry_run())?;
    let rec = crate::lab::ensure_up(lab, exec, &Default::default()).await?;
    if !exec.dry_run() {
        crate::lab::hosts::recover(lab, exec).await?;
    }
    let mut d = crate::lab::Daemon::new(lab, rec);
    crate::recover::run(&mut d, exec).await?;
    // Work spanning hosts (an overlay's creation) may have left journals on others.
    for other in crate::lab::hosts::all(lab) {
        if other == *lab || other.store().pending().is_empty() {
            continue;
        }
        if let Ok(Some(r)) = other.store().lab() {
            let mut od = crate::lab::Daemon::new(&other, r);
            crate::recover::run(&mut od, exec).await?;
        }
    }
    crate::dns::ensure_running(&mut d, exec).await?;
    Ok((lock, d))
}

/// For a command that only reads (`ps`, `inspect`, `show`, `network ls`, `logs`, ...):
/// no lock when the lab is up (records are replaced atomically, so a read sees whole
/// files). A lab that does not exist is not built: a mistyped `--lab` must not quietly
/// create a lab, so the error names the commands that do. A lab with any trace left (a
/// directory, a namespace: a crashed `lab up`) is rebuilt as before.
pub(crate) async fn read_lab(lab: &crate::lab::Lab, mode: Mode) -> Result<crate::lab::Daemon<'_>> {
    require_root()?;
    let store = lab.store();
    let rec = store.lab()?;
    if rec.is_none()
        && !lab.root().exists()
        && crate::netns::list_with_prefix(&lab.netns_prefix()).is_empty()
    {
        return Err(lab_does_not_exist(lab));
    }
    if rec.is_none() && !lab.is_first_host() && !lab.dir().exists() {
        return Err(crate::lab::hosts::no_such_host(lab));
    }
    if let Some(rec) = rec
        && rec.status == crate::lab::LabStatus::Up
        && crate::netns::exists(&lab.host_ns())
    {
        let mut d = crate::lab::Daemon::new(lab, rec);
        // Work a crashed command left half-done, or containers that ended, are settled
        // first so the listing is true — only if there are any, and only if no other
        // command holds the lab (it will settle them itself).
        let me = std::process::id() as i32;
        let stale = store
            .pending()
            .iter()
            .any(|p| !p.creator.is_some_and(|c| c.pid != me && c.alive()))
            || !store.exited().is_empty()
            // A dead embedded DNS server is started again by the next command, even one
            // that only reads: `exec c1 nslookup c2` must not fail because of it.
            || !d.rec.resolver.is_some_and(|p| p.alive());
        if stale
            && mode != Mode::DryRun
            && let Some(_lock) = lab.try_lock()?
        {
            let mut ex = crate::step::Executor::new(Mode::Quiet);
            if let Some(rec) = store.lab()? {
                d.rec = rec;
            }
            crate::recover::run(&mut d, &mut ex).await?;
            crate::dns::ensure_running(&mut d, &mut ex).await?;
            ex.close().await;
        }
        return Ok(d);
    }
    let mut ex = crate::step::Executor::new(mode);
    let (_lock, d) = open_lab(lab, &mut ex).await?;
    ex.close().await;
    Ok(d)
}

pub(crate) use crate::lab::require_root;

/// The refusal of argument `i` (counting the program as 0) that is not UTF-8 (`main`
/// checks them before clap, whose own error spans several lines), showing its bytes as
/// Rust escapes them (`"\xFF"`): names, addresses, ports and commands are text.
pub fn not_utf8(i: usize, arg: &std::ffi::OsStr) -> String {
    crate::ui::tr(
        format!(
            "argument {i} ({arg:?}) is not valid UTF-8: dockernet takes its arguments as UTF-8 text"
        ),
        format!("第 {i} 个参数（{arg:?}）不是有效的 UTF-8：dockernet 只接受 UTF-8 文本参数"),
    )
}

/// The refusal of a read-only command on a lab that was never built (or was removed).
fn lab_does_not_exist(lab: &crate::lab::Lab) -> crate::error::Error {
    let n = &lab.name;
    crate::error::Error::msg(crate::ui::tr(
        format!(
            "lab {n} does not exist: `dockernet --lab {n} lab up` builds it, or any command that creates something (`run`, `network create`)"
        ),
        format!(
            "实验环境 {n} 不存在：`dockernet --lab {n} lab up` 可以创建它，任何创建对象的命令（`run`、`network create`）也会创建它"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_splits_image_command_and_dashdash() {
        let c = Cli::try_parse_from([
            "dockernet",
            "run",
            "-dit",
            "--name",
            "web1",
            "busybox",
            "ping",
            "-c",
            "1",
            "x",
        ])
        .unwrap();
        let Command::Run(r) = c.command else { panic!() };
        assert!(r.detach && r.interactive && r.tty);
        let (image, cmd) = r.image_and_command(false);
        assert_eq!(image.as_deref(), Some("busybox"));
        assert_eq!(cmd, ["ping", "-c", "1", "x"]);
        let c =
            Cli::try_parse_from(["dockernet", "run", "--net=bridge", "--", "sleep", "1"]).unwrap();
        let Command::Run(r) = c.command else { panic!() };
        assert_eq!(
            r.image_and_command(true),
            (None, vec!["sleep".to_string(), "1".to_string()])
        );
        let c = Cli::try_parse_from(["dockernet", "run", "busybox", "--", "ls", "-l"]).unwrap();
        let Command::Run(r) = c.command else { panic!() };
        assert_eq!(
            r.image_and_command(true),
            (
                Some("busybox".into()),
                vec!["ls".to_string(), "-l".to_string()]
            )
        );
        let c = Cli::try_parse_from(["dockernet", "run", "nginx"]).unwrap();
        let Command::Run(r) = c.command else { panic!() };
        assert_eq!(r.image_and_command(false).0.as_deref(), Some("nginx"));
    }
}

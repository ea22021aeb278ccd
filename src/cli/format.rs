//! Docker's `-f/--format` on the commands that have it: `inspect`, `network inspect`,
//! `ps`, `network ls` (templates in `crate::template`), with Docker's exit statuses —
//! 64 when an inspect template does not parse (docker/cli `inspect.Inspect`), 1 when it
//! fails on an object and for the list commands.

use crate::error::{Error, Result};
use crate::lab::{ContainerRecord, NetworkRecord};
use crate::template::{ListFormat, Options, Template};
use clap::Args;

/// docker/cli's exit status for an inspect, info or version template that does not
/// parse (`cli.StatusError{StatusCode: 64}`).
pub const EXIT_TEMPLATE: i32 = 64;

/// `inspect` flags.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format output using a custom template: 'json' prints compact JSON;
    /// '{{.NetworkSettings.IPAddress}}' executes the Go template for each container.
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Containers.
    #[arg(required = true, add = clap_complete::ArgValueCandidates::new(super::complete::containers))]
    pub containers: Vec<String>,
}

/// A template error as the command line reports it.
pub fn template_error(e: crate::template::Error, parse_code: i32) -> Error {
    let code = if e.parse { parse_code } else { 1 };
    Error::with_code(e.to_string(), code)
}

/// What `inspect` prints: Docker's indented JSON array (no `-f`), compact JSON
/// (`-f json`), or a template rendered over each object.
pub enum InspectFormat {
    /// `[` + each object indented with four spaces + `]`.
    Indented,
    /// One compact JSON array.
    Json,
    /// One line per object.
    Template(Template),
}

impl InspectFormat {
    /// From `-f`: a template is parsed now, before anything is looked up, as Docker
    /// does; a field that is not there is an error, as in Docker's raw-JSON fallback.
    pub fn parse(format: Option<&str>) -> Result<InspectFormat> {
        Ok(match format {
            None | Some("") => InspectFormat::Indented,
            Some("json") => InspectFormat::Json,
            Some(text) => {
                let opts = Options {
                    missing_key_error: true,
                    ..Options::default()
                };
                let t = Template::with_options(text, opts)
                    .map_err(|e| template_error(e, EXIT_TEMPLATE))?;
                InspectFormat::Template(t)
            }
        })
    }

    /// True for a template (which prints a line even when nothing was found).
    pub fn is_template(&self) -> bool {
        matches!(self, InspectFormat::Template(_))
    }

    /// Print the objects; true if a template failed on one of them (its error is
    /// printed, the others still are). A template that printed nothing at all still
    /// prints an empty line, as Docker's does.
    pub fn print(&self, values: &[serde_json::Value]) -> bool {
        match self {
            InspectFormat::Indented => {
                println!("{}", crate::view::docker_inspect::to_docker_json(values));
                false
            }
            InspectFormat::Json => {
                println!("{}", serde_json::Value::Array(values.to_vec()));
                false
            }
            InspectFormat::Template(t) => {
                let (out, errors) = crate::template::render_each(t, values);
                print!("{out}");
                for e in &errors {
                    eprintln!("dockernet: {e}");
                }
                !errors.is_empty()
            }
        }
    }
}

/// A list command's `--format` when it is a template: `None` for `table` (or nothing)
/// and `json`, which the command renders itself; Docker's `raw` is a template too.
pub fn custom_list(format: &str, raw: &str) -> Option<ListFormat> {
    match format {
        "" | "table" | "json" => None,
        "raw" => Some(ListFormat::new(raw)),
        f => Some(ListFormat::new(f)),
    }
}

/// Render a list format over the rows and print it.
pub fn print_list(
    f: &ListFormat,
    headers: &[(&str, &str)],
    rows: &[serde_json::Value],
) -> Result<i32> {
    let out = f.render(headers, rows).map_err(|e| template_error(e, 1))?;
    print!("{out}");
    Ok(0)
}

/// `ps` template fields and their column names (docker/cli `NewContainerContext`).
pub const PS_HEADERS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Names", "NAMES"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("LocalVolumes", "LOCAL VOLUMES"),
    ("Networks", "NETWORKS"),
    ("Host", "HOST"),
];

/// Docker's `ps --format raw`.
pub const PS_RAW: &str = "container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\nlabels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n";

/// One container's `ps` template fields. `row` is its table row as `ps` renders it:
/// ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES.
pub fn ps_fields(c: &ContainerRecord, row: &[String]) -> serde_json::Value {
    let cell = |i: usize| row.get(i).cloned().unwrap_or_default();
    let mut networks: Vec<&str> = c.endpoints.iter().map(|e| e.network.as_str()).collect();
    networks.sort_unstable();
    networks.dedup();
    serde_json::json!({
        "ID": cell(0),
        "Image": cell(1),
        "Command": cell(2),
        "CreatedAt": go_time(c.created, false),
        "RunningFor": cell(3),
        "Ports": cell(5),
        "State": crate::view::docker_inspect::state_word(c),
        "Status": cell(4),
        "Size": "0B",
        "Names": c.name,
        "Labels": "",
        "Mounts": "",
        "LocalVolumes": "0",
        "Networks": networks.join(","),
    })
}

/// `network ls` template fields and their column names (docker/cli `FormatWrite`).
pub const NETWORK_HEADERS: &[(&str, &str)] = &[
    ("ID", "NETWORK ID"),
    ("Name", "NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("IPv4", "IPV4"),
    ("IPv6", "IPV6"),
    ("Internal", "INTERNAL"),
    ("Labels", "LABELS"),
    ("CreatedAt", "CREATED AT"),
];

/// Docker's `network ls --format raw`.
pub const NETWORK_RAW: &str =
    "network_id: {{.ID}}\\nname: {{.Name}}\\ndriver: {{.Driver}}\\nscope: {{.Scope}}\\n";

/// One network's `network ls` template fields (`id` as the listing shows it).
pub fn network_fields(n: &NetworkRecord, id: &str) -> serde_json::Value {
    let mut v = crate::network::ls_json(n, id);
    v["CreatedAt"] = serde_json::Value::String(go_time(n.created, true));
    v
}

/// Go's `time.Time.String()` in UTC: `2026-11-22 05:31:11.5 +0000 UTC` (fractional
/// seconds without trailing zeros, none when whole), as `.CreatedAt` prints.
pub fn go_time(unix: f64, with_fraction: bool) -> String {
    let secs = unix.floor();
    let t = crate::image::clock::Utc::from_unix_millis(secs as i64 * 1000);
    let mut frac = String::new();
    if with_fraction {
        let nanos = ((unix - secs) * 1e9).round().min(999_999_999.0) as u64;
        if nanos > 0 {
            frac = format!(".{nanos:09}").trim_end_matches('0').to_string();
        }
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}{frac} +0000 UTC",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_time_is_time_string() {
        assert_eq!(
            go_time(1_795_325_471.0, false),
            "2026-11-22 05:31:11 +0000 UTC"
        );
        assert_eq!(
            go_time(1_795_325_471.5, true),
            "2026-11-22 05:31:11.5 +0000 UTC"
        );
        assert_eq!(
            go_time(1_795_325_471.5, false),
            "2026-11-22 05:31:11 +0000 UTC"
        );
    }

    #[test]
    fn list_formats_that_are_templates() {
        assert!(custom_list("table", PS_RAW).is_none());
        assert!(custom_list("json", PS_RAW).is_none());
        assert!(custom_list("", PS_RAW).is_none());
        assert!(custom_list("table {{.ID}}", PS_RAW).is_some_and(|f| f.is_table()));
        assert!(custom_list("raw", PS_RAW).is_some_and(|f| !f.is_table()));
    }
}

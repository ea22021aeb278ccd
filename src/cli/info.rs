//! `info` and `version`: Docker 27's layouts (docker/cli `system/info.go`,
//! `system/version.go`) filled with what is true of the lab — its containers, the
//! built-in images, the lab host (name, kernel, CPUs, memory), dockernet's version — and
//! `--format` over the same fields (`{{ .Plugins.Network }}`, `{{json .}}`).

use super::format::{EXIT_TEMPLATE, template_error};
use super::read_lab;
use crate::error::Result;
use crate::lab::{ContainerStatus, Lab};
use crate::step::Mode;
use crate::template::{Options, Template};
use clap::Args;
use host::{Host, backing_filesystem, bytes_size};
use serde_json::{Value, json};

mod host;

/// The Docker Engine API version dockernet's outputs follow (Docker 27).
const API_VERSION: &str = "1.47";
/// The oldest API version Docker 27 still serves.
const MIN_API_VERSION: &str = "1.24";
/// Docker's name for the product; dockernet's here.
const PLATFORM: &str = "dockernet";
/// Template field names that Docker's JSON spells otherwise.
const RENAMES: &[(&str, &str)] = &[("APIVersion", "ApiVersion")];

/// `info` flags.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Format output using a custom template: 'json' prints JSON;
    /// '{{ .Plugins.Network }}' executes the Go template.
    #[arg(short = 'f', long)]
    pub format: Option<String>,
}

/// `version` flags.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Format output using a custom template: 'json' prints JSON;
    /// '{{.Server.Version}}' executes the Go template.
    #[arg(short = 'f', long)]
    pub format: Option<String>,
}

/// A user's `--format` for `info` / `version`: `json` is `{{json .}}`; a field that is
/// not there is an error, as on Docker's Go structs.
fn user_template(name: &'static str, format: &str) -> Result<Template> {
    let text = if format == "json" {
        "{{json .}}"
    } else {
        format
    };
    let opts = Options {
        name,
        missing_key_error: true,
        json_renames: RENAMES,
    };
    Template::with_options(text, opts).map_err(|e| template_error(e, EXIT_TEMPLATE))
}

/// A template that fails while rendering: docker/cli's `info` and `version` print Go's
/// error as it is (no "template parsing error" before it), exit status 1.
fn exec_error(e: crate::template::Error) -> crate::error::Error {
    crate::error::Error::msg(e.message)
}

/// `info`
pub async fn info(lab: &Lab, mode: Mode, a: InfoArgs) -> Result<i32> {
    let tmpl = match a.format.as_deref() {
        None | Some("") => None,
        Some(f) => Some(user_template("", f)?),
    };
    let d = read_lab(lab, mode).await?;
    let doc = info_doc(lab, &d)?;
    match tmpl {
        Some(t) => {
            let out = t.render(&doc).map_err(exec_error)?;
            println!("{out}");
        }
        None => print!("{}", pretty_info(&doc)),
    }
    Ok(0)
}

/// Docker's `system.Info` (field order of the API) with the lab's values, and the
/// client's section.
fn info_doc(lab: &Lab, d: &crate::lab::Daemon<'_>) -> Result<Value> {
    let containers = d.store.containers()?;
    let running = containers
        .iter()
        .filter(|c| c.status == ContainerStatus::Running && c.shim.is_some_and(|p| p.alive()))
        .count();
    let host = Host::read();
    // The daemon's ID, stable for the lab's life: Docker's is a random UUID kept in its
    // root dir; the lab's default bridge has a random 64-hex id of the same lifetime.
    let bridge = d
        .store
        .find_network("bridge")
        .map(|n| n.id)
        .unwrap_or_default();
    let pools: Vec<Value> = DEFAULT_POOLS
        .iter()
        .map(|(base, size)| json!({"Base": base, "Size": size}))
        .collect();
    let root = lab.dir();
    let plugins = json!({
        "Volume": ["local"],
        "Network": ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"],
        "Authorization": null,
        "Log": ["awslogs", "fluentd", "gcplogs", "gelf", "journald", "json-file", "local", "splunk", "syslog"]
    });
    let swarm = json!({"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": false, "Error": "", "RemoteManagers": null});
    let client = json!({
        "Debug": false,
        "Platform": {"Name": PLATFORM},
        "Version": env!("CARGO_PKG_VERSION"),
        "APIVersion": API_VERSION,
        "DefaultAPIVersion": API_VERSION,
        "Os": "linux",
        "Arch": go_arch(),
        "Context": lab.name,
        "Plugins": [],
        "Warnings": null
    });
    let status = json!([
        ["Backing Filesystem", backing_filesystem(&root)],
        ["Supports d_type", "true"]
    ]);
    Ok(json!({
        "ID": uuid_from_hex(&bridge),
        "Containers": containers.len(),
        "ContainersRunning": running,
        "ContainersPaused": 0,
        "ContainersStopped": containers.len() - running,
        "Images": crate::image::image_names().len(),
        "Driver": "overlay2",
        "DriverStatus": status,
        "Plugins": plugins,
        "IPv4Forwarding": true,
        "Debug": false,
        "SystemTime": crate::view::docker_inspect::rfc3339(crate::util::now_unix()),
        "LoggingDriver": "json-file",
        // dockernet puts containers in no cgroup of their own.
        "CgroupDriver": "none",
        "CgroupVersion": host.cgroup_version,
        "KernelVersion": host.kernel,
        "OperatingSystem": host.os,
        "OSVersion": host.os_version,
        "OSType": "linux",
        "Architecture": std::env::consts::ARCH,
        "NCPU": host.cpus,
        "MemTotal": host.mem_total,
        "DockerRootDir": root.display().to_string(),
        "Name": d.rec.host.hostname,
        "Labels": [],
        "ExperimentalBuild": false,
        "ServerVersion": env!("CARGO_PKG_VERSION"),
        // Not Docker's: which engine's rule layout this daemon writes (`lab up --engine`).
        "RulesLayout": {"Engine": d.rec.engine.major(), "Releases": d.rec.engine.releases()},
        "FirewallBackend": {"Driver": d.rec.firewall_backend.name()},
        "Swarm": swarm,
        "LiveRestoreEnabled": false,
        "InitBinary": "docker-init",
        "SecurityOptions": ["name=seccomp,profile=builtin", "name=no-new-privileges"],
        "DefaultAddressPools": pools,
        "Warnings": null,
        "ClientInfo": client
    }))
}

/// The default address pools of Docker's IPAM (moby `ipamutils`), which the lab's
/// IPAM allocates from (reference §6).
const DEFAULT_POOLS: &[(&str, u8)] = &[
    ("172.17.0.0/16", 16),
    ("172.18.0.0/16", 16),
    ("172.19.0.0/16", 16),
    ("172.20.0.0/14", 16),
    ("172.24.0.0/14", 16),
    ("172.28.0.0/14", 16),
    ("192.168.0.0/16", 20),
];

/// `docker info`'s text, from the same document `--format` sees.
fn pretty_info(doc: &Value) -> String {
    let s = |k: &str| match &doc[k] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    };
    let words = |v: &Value| {
        let list: Vec<&str> = v
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        list.join(" ")
    };
    let mut o = String::new();
    let mut line = |l: String| {
        o.push_str(&l);
        o.push('\n');
    };
    let client = &doc["ClientInfo"];
    line(format!("Client: {PLATFORM}"));
    line(format!(
        " Version:    {}",
        client["Version"].as_str().unwrap_or("")
    ));
    line(format!(
        " Context:    {}",
        client["Context"].as_str().unwrap_or("")
    ));
    line(" Debug Mode: false".into());
    line(String::new());
    line("Server:".into());
    line(format!(" Containers: {}", s("Containers")));
    line(format!("  Running: {}", s("ContainersRunning")));
    line(format!("  Paused: {}", s("ContainersPaused")));
    line(format!("  Stopped: {}", s("ContainersStopped")));
    line(format!(" Images: {}", s("Images")));
    line(format!(" Server Version: {}", s("ServerVersion")));
    line(format!(" Storage Driver: {}", s("Driver")));
    for pair in doc["DriverStatus"].as_array().into_iter().flatten() {
        line(format!(
            "  {}: {}",
            pair[0].as_str().unwrap_or(""),
            pair[1].as_str().unwrap_or("")
        ));
    }
    line(format!(" Logging Driver: {}", s("LoggingDriver")));
    line(format!(" Cgroup Driver: {}", s("CgroupDriver")));
    line(format!(" Cgroup Version: {}", s("CgroupVersion")));
    line(" Plugins:".into());
    line(format!("  Volume: {}", words(&doc["Plugins"]["Volume"])));
    line(format!("  Network: {}", words(&doc["Plugins"]["Network"])));
    line(format!("  Log: {}", words(&doc["Plugins"]["Log"])));
    line(format!(
        " Swarm: {}",
        doc["Swarm"]["LocalNodeState"].as_str().unwrap_or("")
    ));
    line(format!(
        " Firewall Backend: {}",
        doc["FirewallBackend"]["Driver"].as_str().unwrap_or("")
    ));
    line(format!(
        " Rules Layout: Docker {} ({})",
        doc["RulesLayout"]["Engine"],
        doc["RulesLayout"]["Releases"].as_str().unwrap_or("")
    ));
    line(format!(" Init Binary: {}", s("InitBinary")));
    line(" Security Options:".into());
    for opt in doc["SecurityOptions"].as_array().into_iter().flatten() {
        // "name=seccomp,profile=builtin": the name, then its profile (Docker's layout).
        let mut name = "";
        let mut profile = None;
        for kv in opt.as_str().unwrap_or("").split(',') {
            match kv.split_once('=') {
                Some(("name", v)) => name = v,
                Some(("profile", v)) => profile = Some(v),
                _ => {}
            }
        }
        line(format!("  {name}"));
        if let Some(p) = profile {
            line(format!("   Profile: {p}"));
        }
    }
    line(format!(" Kernel Version: {}", s("KernelVersion")));
    line(format!(" Operating System: {}", s("OperatingSystem")));
    line(format!(" OSType: {}", s("OSType")));
    line(format!(" Architecture: {}", s("Architecture")));
    line(format!(" CPUs: {}", s("NCPU")));
    line(format!(
        " Total Memory: {}",
        bytes_size(doc["MemTotal"].as_u64().unwrap_or(0))
    ));
    line(format!(" Name: {}", s("Name")));
    line(format!(" ID: {}", s("ID")));
    line(format!(" Docker Root Dir: {}", s("DockerRootDir")));
    line(" Debug Mode: false".into());
    line(" Experimental: false".into());
    line(" Live Restore Enabled: false".into());
    line(" Default Address Pools:".into());
    for p in doc["DefaultAddressPools"].as_array().into_iter().flatten() {
        line(format!(
            "   Base: {}, Size: {}",
            p["Base"].as_str().unwrap_or(""),
            p["Size"]
        ));
    }
    line(String::new());
    o
}

/// 32 hex digits as a UUID (8-4-4-4-12), the shape of Docker's daemon ID.
fn uuid_from_hex(hex: &str) -> String {
    if hex.len() < 32 || !hex.is_ascii() {
        return String::new();
    }
    let h = &hex[..32];
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Go's `GOARCH` name of this machine (`amd64` for x86_64), as `OS/Arch` prints it.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// dockernet is not written in Go: what is known of its toolchain is the Rust version
/// Cargo requires to build it (`rust-version` in Cargo.toml).
fn rust_version() -> String {
    format!(">= {}", env!("CARGO_PKG_RUST_VERSION"))
}

/// Docker's `version` template (docker/cli `defaultVersionTemplate`), with the Rust
/// toolchain where Docker names its Go one, and without the git commit and build time
/// (not recorded in the binary).
const VERSION_TEMPLATE: &str = "{{with .Client -}}
Client:{{if .Platform}} {{.Platform.Name}}{{end}}
 Version:\t{{.Version}}
 API version:\t{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Rust version:\t{{.RustVersion}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
 Context:\t{{.Context}}
{{- end}}

{{- if .Server}}{{with .Server}}

Server:{{if ne .Platform.Name \"\"}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name \"Engine\" }}
  Version:\t{{.Version}}
  API version:\t{{index .Details \"ApiVersion\"}} (minimum version {{index .Details \"MinAPIVersion\"}})
  Rust version:\t{{index .Details \"RustVersion\"}}
  OS/Arch:\t{{index .Details \"Os\"}}/{{index .Details \"Arch\"}}
  Experimental:\t{{index .Details \"Experimental\"}}
  {{- else }}
  Version:\t{{$component.Version}}
  {{- range $key, $value := $component.Details}}
  {{$key}}:\t{{$value}}
   {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}";

/// `version`: needs no lab (the "server" is this binary); the context is the lab.
pub fn version(lab: &Lab, a: VersionArgs) -> Result<i32> {
    let tmpl = match a.format.as_deref() {
        None | Some("") => user_template("version", VERSION_TEMPLATE)?,
        Some(f) => user_template("version", f)?,
    };
    let v = env!("CARGO_PKG_VERSION");
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let kernel = kernel.trim();
    let doc = json!({
        "Client": {
            "Platform": {"Name": PLATFORM},
            "Version": v,
            "APIVersion": API_VERSION,
            "DefaultAPIVersion": API_VERSION,
            "RustVersion": rust_version(),
            "Os": "linux",
            "Arch": go_arch(),
            "Context": lab.name
        },
        "Server": {
            "Platform": {"Name": PLATFORM},
            "Components": [
                {"Name": "Engine", "Version": v, "Details": {
                    "ApiVersion": API_VERSION, "Arch": go_arch(), "Experimental": "false",
                    "KernelVersion": kernel, "MinAPIVersion": MIN_API_VERSION, "Os": "linux",
                    "RustVersion": rust_version()
                }},
                {"Name": "docker-init", "Version": v, "Details": {}}
            ],
            "Version": v,
            "APIVersion": API_VERSION,
            "MinAPIVersion": MIN_API_VERSION,
            "RustVersion": rust_version(),
            "Os": "linux",
            "Arch": go_arch(),
            "KernelVersion": kernel
        }
    });
    let out = tmpl.render(&doc).map_err(exec_error)?;
    // docker/cli writes every version output through a tabwriter (min width 20,
    // padding 1), then a newline.
    print!(
        "{}",
        crate::docker::table::tabwriter(&format!("{out}\n"), 20, 1)
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemon_id_is_uuid_shaped() {
        let hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(uuid_from_hex(hex), "01234567-89ab-cdef-0123-456789abcdef");
    }

    #[test]
    fn the_version_template_parses() {
        assert!(user_template("version", VERSION_TEMPLATE).is_ok());
    }
}

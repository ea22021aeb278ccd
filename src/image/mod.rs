//! Built-in images: Docker-like images whose programs live inside this binary.
//!
//! dockernet has no image store. Instead, `run httpd` starts a process whose
//! program is an *applet* compiled into the dockernet binary itself: like
//! busybox, the binary looks at the basename of `argv[0]` and, if it names an
//! applet (`httpd-foreground`, `redis-server`, ...), runs that instead of the
//! CLI. [`run_applet`] is that dispatch.
//!
//! The applets are small, blocking, thread-per-connection imitations of the
//! real servers: enough to see packets flow through the lab's network, with
//! the same ports, greetings and log lines as the real images.
//!
//! Applets never use `println!`/`eprintln!`, which panic when the output is
//! a closed pipe; write errors (`EPIPE`) are ignored instead. This relies on
//! `SIGPIPE` being ignored, which is how the Rust runtime starts every program.

use std::io::{self, Write};

pub mod clock;
pub mod curl;
pub mod distro;
pub mod http;
pub mod httpd;
pub mod nginx;
pub mod offline;
pub mod redis_cli;
pub mod redis_server;
pub mod resp;
pub mod tomcat;

pub mod install;
pub mod rootfs;
#[cfg(test)]
mod tests;
pub use install::{container_path, install_bins, self_exe};

/// Where an image's userland comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Userland {
    /// The host's static busybox, copied into the image's tree (`sh`, `ash`, `wget`, ...).
    Busybox,
    /// The host's /usr, read-only: `bash` and coreutils, for the Debian-like images.
    Host,
}

/// A built-in image: what `docker run IMAGE` would start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinImage {
    /// Repository name, without registry, `library/` or tag (`redis`).
    pub name: &'static str,
    /// One line for listings.
    pub description: &'static str,
    /// The image's `CMD`: argv run when no command is given.
    pub default_cmd: &'static [&'static str],
    /// The image's `EXPOSE`d ports, as `(port, "tcp")`.
    pub exposed_ports: &'static [(u16, &'static str)],
    /// Whether the image's programs come from the host's busybox rather than applets.
    pub uses_busybox: bool,
    /// Where its userland comes from.
    pub userland: Userland,
    /// The image's `WORKDIR`, where its processes and `exec` start.
    pub workdir: &'static str,
    /// Applets only this image has (`nginx`, `apk`), beside the common [`APPLETS`].
    pub own_applets: &'static [&'static str],
    /// Its `/etc/os-release` (None: the image has none, as Docker's busybox).
    pub os_release: Option<&'static str>,
}

/// A busybox-userland image's fields that most images share.
const BUSYBOX_BASED: BuiltinImage = BuiltinImage {
    name: "",
    description: "",
    default_cmd: &[],
    exposed_ports: &[],
    uses_busybox: false,
    userland: Userland::Busybox,
    workdir: "/",
    own_applets: &[],
    os_release: Some(distro::DEBIAN),
};

const IMAGES: &[BuiltinImage] = &[
    BuiltinImage {
        name: "busybox",
        description: "a shell and the usual tools (the host's busybox)",
        default_cmd: &["sh"],
        uses_busybox: true,
        os_release: None,
        ..BUSYBOX_BASED
    },
    BuiltinImage {
        name: "alpine",
        description: "Alpine-like: busybox's ash and tools, Alpine's os-release, an offline apk",
        default_cmd: &["/bin/sh"],
        uses_busybox: true,
        own_applets: &["apk"],
        os_release: Some(distro::ALPINE),
        ..BUSYBOX_BASED
    },
    BuiltinImage {
        name: "httpd",
        description: "Apache-like web server answering \"It works!\" on port 80",
        default_cmd: &["httpd-foreground"],
        exposed_ports: &[(80, "tcp")],
        workdir: "/usr/local/apache2",
        ..BUSYBOX_BASED
    },
    BuiltinImage {
        name: "nginx",
        description: "nginx-like web server answering \"Welcome to nginx!\" on port 80",
        default_cmd: &["nginx", "-g", "daemon off;"],
        exposed_ports: &[(80, "tcp")],
        own_applets: &["nginx"],
        ..BUSYBOX_BASED
    },
    BuiltinImage {
        name: "redis",
        description: "Redis-like key-value server on port 6379",
        default_cmd: &["redis-server"],
        exposed_ports: &[(6379, "tcp")],
        workdir: "/data",
        ..BUSYBOX_BASED
    },
    BuiltinImage {
        name: "tomcat",
        description: "Tomcat-like web server on port 8080",
        default_cmd: &["catalina.sh", "run"],
        exposed_ports: &[(8080, "tcp")],
        workdir: "/usr/local/tomcat",
        os_release: Some(distro::UBUNTU),
        ..BUSYBOX_BASED
    },
    BuiltinImage {
        name: "ubuntu",
        description: "bash and coreutils (the host's /usr, read-only), Ubuntu's os-release",
        default_cmd: &["bash"],
        userland: Userland::Host,
        os_release: Some(distro::UBUNTU),
        ..BUSYBOX_BASED
    },
    BuiltinImage {
        name: "debian",
        description: "bash and coreutils (the host's /usr, read-only), Debian's os-release",
        default_cmd: &["bash"],
        userland: Userland::Host,
        ..BUSYBOX_BASED
    },
];

/// Every applet name that [`run_applet`] recognizes as `argv[0]`.
pub const APPLETS: &[&str] = &[
    "httpd-foreground",
    "catalina.sh",
    "redis-server",
    "redis-cli",
    "curl",
];

/// The names of the built-in images, in the order listings show them.
pub fn image_names() -> Vec<&'static str> {
    IMAGES.iter().map(|image| image.name).collect()
}

/// Finds a built-in image by a Docker image reference: `redis`, `redis:alpine`,
/// `library/redis`, `docker.io/library/httpd:2.4`, `busybox@sha256:...`.
/// The registry, the `library/` namespace, the tag and the digest are ignored.
pub fn find_image(name: &str) -> Option<&'static BuiltinImage> {
    let repo = short_name(name);
    IMAGES.iter().find(|image| image.name == repo)
}

/// Docker's "not found" error, one line, listing what is available instead:
/// `unable to find image 'foo:latest' locally; dockernet works offline and has
/// these built-in images: busybox, alpine, httpd, nginx, redis, tomcat, ubuntu, debian`.
pub fn unknown_image_error(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    let tag = if last.contains([':', '@']) {
        ""
    } else {
        ":latest"
    };
    let names = image_names();
    format!(
        "unable to find image '{name}{tag}' locally; dockernet works offline and has these \
         built-in images: {}",
        names.join(", ")
    )
}

/// Strips registry, `library/`, tag and digest from an image reference.
fn short_name(reference: &str) -> &str {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    let mut path = without_digest;
    // A first component with a dot or a port, or `localhost`, is a registry.
    if let Some((first, rest)) = path.split_once('/')
        && (first.contains(['.', ':']) || first == "localhost")
    {
        path = rest;
    }
    path = path.strip_prefix("library/").unwrap_or(path);
    match path.rsplit_once(':') {
        Some((repo, _tag)) if !repo.is_empty() => repo,
        _ => path,
    }
}

/// Runs the applet named by `argv0`'s basename with `args` (the arguments
/// after `argv[0]`) and returns its exit code, or `None` if `argv0` is not an
/// applet. The servers return only when they fail to start.
pub fn run_applet(argv0: &str, args: &[String]) -> Option<i32> {
    let name = argv0.rsplit('/').next().unwrap_or(argv0);
    let code = match name {
        "httpd-foreground" => httpd::main(args),
        "catalina.sh" => tomcat::main(args),
        "redis-server" => redis_server::main(args),
        "redis-cli" => redis_cli::main(args),
        "curl" => curl::main(args),
        "nginx" => nginx::main(args),
        "apk" => offline::apk(args),
        // The lab's internet DNS: started by `lab up` in the world, not an image's program.
        crate::dns::world::APPLET => crate::dns::world::main(args),
        _ => return None,
    };
    Some(code)
}

/// Writes one line to stderr and flushes it, ignoring failures.
fn say(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{line}").and_then(|()| err.flush());
}

/// Writes one line to stdout and flushes it, ignoring failures.
fn print_line(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// Reports a usage error as `APPLET: WHAT` then the usage line; returns exit code 2.
fn usage_error(applet: &str, what: &str, usage: &str) -> i32 {
    say(&format!("{applet}: {what} ({usage})"));
    2
}

/// An I/O error as the C library words it: `Connection refused`, without
/// Rust's ` (os error 111)` suffix.
fn describe(error: &io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

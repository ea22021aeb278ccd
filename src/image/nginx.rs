//! `nginx`: the program of the built-in `nginx` image.
//!
//! Serves nginx's "Welcome to nginx!" page on `0.0.0.0:80` with nginx's headers and
//! error pages, and logs nginx's startup notices to stderr and one access line per
//! request to stdout (the real image links its logs to the container's stdout and
//! stderr). The image's command is the real one, `nginx -g 'daemon off;'`; this nginx
//! never daemonizes, whatever `-g` says, since a container ends with its first process.

use std::io;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::clock::Utc;
use super::http::{self, Flavor, Site};

/// The `Server:` header value (the version in Docker's `nginx:latest` image).
pub const SERVER: &str = "nginx/1.27.3";
/// The port nginx's default server listens on.
pub const PORT: u16 = 80;

const NAME: &str = "nginx";
const USAGE: &str = "usage: nginx [-v] [-V] [-t] [-g DIRECTIVES] [-c FILE]";

/// Runs the applet with `args` (argv without `argv[0]`); returns only on error.
pub fn main(args: &[String]) -> i32 {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // Configuration is fixed: the default server of the real image's default.conf.
            "-g" | "-c" | "-p" | "-e" => {
                if args.next().is_none() {
                    let what = format!("option \"{arg}\" requires parameter");
                    return super::usage_error(NAME, &what, USAGE);
                }
            }
            "-v" | "-V" => {
                super::say(&format!("nginx version: {SERVER}"));
                return 0;
            }
            "-t" | "-T" => {
                super::say("nginx: the configuration file /etc/nginx/nginx.conf syntax is ok");
                super::say("nginx: configuration file /etc/nginx/nginx.conf test is successful");
                return 0;
            }
            "-s" => {
                super::say(
                    "nginx: [error] signals are not supported by dockernet's nginx: stop the container instead",
                );
                return 1;
            }
            _ => return super::usage_error(NAME, &format!("invalid option: \"{arg}\""), USAGE),
        }
    }
    let listener = match TcpListener::bind(("0.0.0.0", PORT)) {
        Ok(listener) => listener,
        Err(e) => {
            let e = super::describe(&e);
            notice(&format!(
                "[emerg] 1#1: bind() to 0.0.0.0:{PORT} failed ({e})"
            ));
            return 1;
        }
    };
    for line in [
        "using the \"epoll\" event method",
        SERVER,
        "OS: Linux",
        "start worker processes",
    ] {
        notice(&format!("[notice] 1#1: {line}"));
    }
    let site = Site {
        flavor: Flavor::Nginx,
        index: super::distro::NGINX_WELCOME.to_string(),
    };
    let log: http::Log = Arc::new(Mutex::new(io::stdout()));
    http::serve_on(listener, Arc::new(site), log)
}

/// One line of nginx's error log: `2026/11/22 05:31:11 [notice] 1#1: ...`.
fn notice(text: &str) {
    let t = Utc::now();
    super::say(&format!(
        "{}/{:02}/{:02} {:02}:{:02}:{:02} {text}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    ));
}

//! `httpd-foreground`: the program of the built-in `httpd` image.
//!
//! Serves Apache's "It works!" page on `0.0.0.0:80`, logs Apache's startup
//! notices to stderr and one access line per request to stdout, as Docker's
//! `httpd` image does. `-m TEXT` replaces the page, which turns the applet into
//! the lab's "internet" web server.

use std::io;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::clock::Utc;
use super::http::{self, Flavor, Site};

/// The `Server:` header value (the version in Docker's `httpd:2.4` image).
pub const SERVER: &str = "Apache/2.4.62 (Unix)";
/// The page Apache's default `htdocs/index.html` holds (45 bytes).
pub const IT_WORKS: &str = "<html><body><h1>It works!</h1></body></html>\n";

const NAME: &str = "httpd-foreground";
const USAGE: &str = "usage: httpd-foreground [-p PORT] [-b ADDR] [-m TEXT]";

/// Runs the applet with `args` (argv without `argv[0]`); returns only on error.
pub fn main(args: &[String]) -> i32 {
    let mut port = 80;
    let mut addr = "0.0.0.0".to_string();
    let mut page = IT_WORKS.to_string();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "-p" | "-b" | "-m" => args.next(),
            // The real script passes its arguments on to `httpd -DFOREGROUND`.
            "-DFOREGROUND" => continue,
            _ => return super::usage_error(NAME, &format!("unknown argument '{arg}'"), USAGE),
        };
        let Some(value) = value else {
            return super::usage_error(NAME, &format!("option {arg} needs a value"), USAGE);
        };
        match arg.as_str() {
            "-p" => match value.parse() {
                Ok(p) => port = p,
                Err(_) => return super::usage_error(NAME, &format!("bad port '{value}'"), USAGE),
            },
            "-b" => addr = value.clone(),
            _ => page = format!("{value}\n"),
        }
    }
    let listener = match TcpListener::bind((addr.as_str(), port)) {
        Ok(listener) => listener,
        Err(e) => {
            let e = super::describe(&e);
            super::say(&format!(
                "{NAME}: could not bind to address {addr}:{port}: {e}"
            ));
            return 1;
        }
    };
    let now = Utc::now().apache_error();
    let pid = std::process::id();
    super::say(&format!(
        "[{now}] [mpm_event:notice] [pid {pid}:tid {pid}] AH00489: {SERVER} configured \
         -- resuming normal operations"
    ));
    super::say(&format!(
        "[{now}] [core:notice] [pid {pid}:tid {pid}] AH00094: Command line: 'httpd -D FOREGROUND'"
    ));
    let site = Site {
        flavor: Flavor::Apache,
        index: page,
    };
    http::serve_on(listener, Arc::new(site), Arc::new(Mutex::new(io::stdout())))
}

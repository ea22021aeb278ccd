//! `httpd-foreground`: the program of the built-in `httpd` image.
//!
//! Serves Apache's "It works!" page on `0.0.0.0:80`, logs Apache's startup
//! notices to stderr and one access line per request to stdout, as Docker's
//! `httpd` image does. `-m TEXT` replaces the page and `-b ADDR` (repeatable, each
//! with its own `-m`) chooses the addresses, which turns the applet into the web
//! servers of the lab's internet.

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
const USAGE: &str = "usage: httpd-foreground [-p PORT] [-m TEXT] [-b ADDR [-m TEXT]]...";

/// One address to listen on and its page (`None`: the default page).
struct Binding {
    addr: String,
    page: Option<String>,
}

/// Runs the applet with `args` (argv without `argv[0]`); returns only on error.
///
/// Each `-b ADDR` adds a listener; a `-m TEXT` after it sets that listener's page, one
/// before any `-b` the page of all. This is how the world serves every site of the
/// lab's internet from one process, each with its own greeting.
pub fn main(args: &[String]) -> i32 {
    let mut port = 80;
    let mut bindings: Vec<Binding> = Vec::new();
    let mut default_page = IT_WORKS.to_string();
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
            "-b" => bindings.push(Binding {
                addr: value.clone(),
                page: None,
            }),
            _ => match bindings.last_mut() {
                Some(b) => b.page = Some(format!("{value}\n")),
                None => default_page = format!("{value}\n"),
            },
        }
    }
    if bindings.is_empty() {
        bindings.push(Binding {
            addr: "0.0.0.0".into(),
            page: None,
        });
    }
    let mut listeners = Vec::new();
    for b in bindings {
        match TcpListener::bind((b.addr.as_str(), port)) {
            Ok(listener) => {
                listeners.push((listener, b.page.unwrap_or_else(|| default_page.clone())))
            }
            Err(e) => {
                let e = super::describe(&e);
                super::say(&format!(
                    "{NAME}: could not bind to address {}:{port}: {e}",
                    b.addr
                ));
                return 1;
            }
        }
    }
    let now = Utc::now().apache_error();
    let pid = std::process::id();
    super::say(&format!(
        "[{now}] [mpm_event:notice] [pid {pid}:tid {pid}] AH00489: {SERVER} configured \
         -- resuming normal operations"
    ));
    super::say(&format!(
        "[{now}] [core:notice] [pid {pid}:tid {pid}] AH00094: Command line: 'httpd -D FOREGROUND'"
    ));
    let log: http::Log = Arc::new(Mutex::new(io::stdout()));
    let serve = move |(listener, index): (TcpListener, String), log: http::Log| {
        let site = Site {
            flavor: Flavor::Apache,
            index,
        };
        http::serve_on(listener, Arc::new(site), log)
    };
    let last = listeners.pop().expect("at least one listener");
    for pair in listeners {
        let log = Arc::clone(&log);
        // Without a thread, that address goes unserved; the others still work.
        let _ = std::thread::Builder::new()
            .name("http-accept".into())
            .spawn(move || serve(pair, log));
    }
    serve(last, log)
}

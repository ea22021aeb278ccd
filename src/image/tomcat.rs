//! `catalina.sh run`: the program of the built-in `tomcat` image.
//!
//! Prints Tomcat-like startup lines (to stderr, where Tomcat's console logger
//! writes) and serves a small "Apache Tomcat" page on `0.0.0.0:8080`. Like the
//! real Tomcat, it keeps its access log to itself: nothing per request on stdout.

use std::io;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::clock::Utc;
use super::http::{self, Flavor, Site};

/// The version reported in logs and error pages.
pub const VERSION: &str = "Apache Tomcat/10.1.34";
/// The port Tomcat's HTTP connector listens on.
pub const PORT: u16 = 8080;
/// The page served at `/`.
pub const PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head><title>Apache Tomcat</title></head>\n\
<body>\n<h1>Apache Tomcat</h1>\n<p>This is dockernet's built-in tomcat, \
answering on port 8080.</p>\n</body>\n</html>\n";

const NAME: &str = "catalina.sh";

/// Runs the applet with `args` (argv without `argv[0]`); returns only on error.
pub fn main(args: &[String]) -> i32 {
    let started = Instant::now();
    match args.first().map(String::as_str) {
        Some("run") if args.len() == 1 => {}
        Some(other) => {
            let what = format!("'{other}' is not supported; the built-in tomcat only does 'run'");
            return super::usage_error(NAME, &what, "usage: catalina.sh run");
        }
        None => return super::usage_error(NAME, "missing command", "usage: catalina.sh run"),
    }
    let log = |class: &str, message: &str| {
        super::say(&format!(
            "{} INFO [main] {class} {message}",
            Utc::now().tomcat()
        ));
    };
    let listener_class = "org.apache.catalina.startup.VersionLoggerListener.log";
    log(listener_class, &format!("Server version name:   {VERSION}"));
    log(listener_class, "OS Name:               Linux");
    let handler = format!("[\"http-nio-{PORT}\"]");
    log(
        "org.apache.coyote.AbstractProtocol.init",
        &format!("Initializing ProtocolHandler {handler}"),
    );
    let listener = match TcpListener::bind(("0.0.0.0", PORT)) {
        Ok(listener) => listener,
        Err(e) => {
            super::say(&format!(
                "{NAME}: could not bind to port {PORT}: {}",
                super::describe(&e)
            ));
            return 1;
        }
    };
    let ms = started.elapsed().as_millis();
    log(
        "org.apache.catalina.startup.Catalina.load",
        &format!("Server initialization in [{ms}] milliseconds"),
    );
    log(
        "org.apache.catalina.core.StandardService.startInternal",
        "Starting service [Catalina]",
    );
    log(
        "org.apache.catalina.core.StandardEngine.startInternal",
        &format!("Starting Servlet engine: [{VERSION}]"),
    );
    log(
        "org.apache.coyote.AbstractProtocol.start",
        &format!("Starting ProtocolHandler {handler}"),
    );
    let ms = started.elapsed().as_millis();
    log(
        "org.apache.catalina.startup.Catalina.start",
        &format!("Server startup in [{ms}] milliseconds"),
    );
    let site = Site {
        flavor: Flavor::Tomcat,
        index: PAGE.to_string(),
    };
    http::serve_on(listener, Arc::new(site), Arc::new(Mutex::new(io::sink())))
}

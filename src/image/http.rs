//! The tiny HTTP/1.1 server behind `httpd-foreground` and `catalina.sh run`.
//!
//! One thread per connection; keep-alive unless the client asks to close (or
//! speaks HTTP/1.0 without `Connection: keep-alive`). `GET` and `HEAD` of the
//! index page answer `200 OK`, other paths `404 Not Found`, other methods
//! `405 Method Not Allowed`. A malformed request gets a `400` and the
//! connection is closed; a client vanishing mid-request just ends its thread.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::clock::Utc;

/// Where access-log lines go (stdout for the applets, a buffer in tests).
pub type Log = Arc<Mutex<dyn Write + Send>>;

/// How long a connection may sit idle (or dribble a request) before it is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest request line or header line accepted.
const MAX_LINE: u64 = 8 * 1024;
/// Most header lines accepted in one request.
const MAX_HEADERS: usize = 100;
/// Largest request body read (and discarded) while keeping the connection.
const MAX_BODY: u64 = 1024 * 1024;

/// Which real server's headers and error pages to imitate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Apache httpd 2.4, as in Docker's `httpd` image.
    Apache,
    /// Apache Tomcat 10, as in Docker's `tomcat` image.
    Tomcat,
    /// nginx 1.27, as in Docker's `nginx` image.
    Nginx,
}

/// What a built-in web server serves.
#[derive(Debug, Clone)]
pub struct Site {
    /// Server whose headers and error pages are imitated.
    pub flavor: Flavor,
    /// Body of the index page (`/`).
    pub index: String,
}

impl Site {
    fn is_index(&self, path: &str) -> bool {
        let index_file = match self.flavor {
            Flavor::Apache | Flavor::Nginx => "/index.html",
            Flavor::Tomcat => "/index.jsp",
        };
        path == "/" || path == index_file
    }

    fn content_type(&self) -> &'static str {
        match self.flavor {
            Flavor::Apache | Flavor::Nginx => "text/html",
            Flavor::Tomcat => "text/html;charset=UTF-8",
        }
    }

    fn error_page(&self, status: u16, reason: &str, detail: &str) -> String {
        match self.flavor {
            Flavor::Apache => format!(
                "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n\
                 <title>{status} {reason}</title>\n</head><body>\n<h1>{reason}</h1>\n\
                 <p>{detail}</p>\n</body></html>\n"
            ),
            Flavor::Nginx => format!(
                "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n\
                 <center><h1>{status} {reason}</h1></center>\r\n<hr><center>{}</center>\r\n\
                 </body>\r\n</html>\r\n",
                super::nginx::SERVER
            ),
            Flavor::Tomcat => {
                let detail = match status {
                    404 => {
                        "The origin server did not find a current representation for the \
                            target resource or is not willing to disclose that one exists."
                    }
                    _ => detail,
                };
                format!(
                    "<!doctype html><html lang=\"en\"><head><title>HTTP Status {status} – {reason}\
                 </title></head><body><h1>HTTP Status {status} – {reason}</h1><p><b>Type</b> \
                 Status Report</p><p><b>Description</b> {detail}</p><h3>{}</h3></body></html>",
                    super::tomcat::VERSION
                )
            }
        }
    }
}

/// Accepts connections forever, serving each on its own thread.
///
/// Tests pass a listener bound to `127.0.0.1:0`; the applets bind the real port.
pub fn serve_on(listener: TcpListener, site: Arc<Site>, log: Log) -> ! {
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(_) => {
                // e.g. too many open files: back off instead of spinning.
                thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let (site, log) = (Arc::clone(&site), Arc::clone(&log));
        // If no thread can be started, the stream is dropped: the client sees a close.
        let _ = thread::Builder::new()
            .name("http-conn".into())
            .spawn(move || {
                let _ = handle_connection(stream, &site, &log);
            });
    }
}

/// One parsed request: just what the server needs to answer and log it.
struct Request {
    line: String,
    method: String,
    path: String,
    keep_alive: bool,
    http10: bool,
}

fn handle_connection(stream: TcpStream, site: &Site, log: &Log) -> io::Result<()> {
    let peer = stream.peer_addr()?.ip().to_canonical();
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    stream.set_write_timeout(Some(IDLE_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let request = match read_request(&mut reader) {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                let body = site.error_page(
                    400,
                    "Bad Request",
                    "Your browser sent a request that this server could not understand.",
                );
                let head = response_head(site, 400, "Bad Request", body.len(), Some("close"), &[]);
                writer.write_all(head.as_bytes())?;
                return writer.write_all(body.as_bytes());
            }
            Err(e) => return Err(e),
        };
        let (status, reason, body, extra) = route(site, &request);
        // HTTP/1.1 keeps connections open by default; HTTP/1.0 must be told it is.
        let connection = match (request.keep_alive, request.http10) {
            (false, _) => Some("close"),
            (true, true) => Some("keep-alive"),
            (true, false) => None,
        };
        let head = response_head(site, status, reason, body.len(), connection, extra);
        writer.write_all(head.as_bytes())?;
        let sent = if request.method == "HEAD" {
            0
        } else {
            body.len()
        };
        writer.write_all(&body.as_bytes()[..sent])?;
        writer.flush()?;
        log_access(log, peer, &request.line, status, sent);
        if !request.keep_alive {
            return Ok(());
        }
    }
}

type Extra = &'static [(&'static str, &'static str)];

fn route(site: &Site, request: &Request) -> (u16, &'static str, String, Extra) {
    if request.method != "GET" && request.method != "HEAD" {
        let detail = format!(
            "The requested method {} is not allowed for this URL.",
            escape_html(&request.method)
        );
        let body = site.error_page(405, "Method Not Allowed", &detail);
        return (405, "Method Not Allowed", body, &[("Allow", "GET, HEAD")]);
    }
    if site.is_index(&request.path) {
        return (200, "OK", site.index.clone(), &[]);
    }
    let detail = "The requested URL was not found on this server.";
    (
        404,
        "Not Found",
        site.error_page(404, "Not Found", detail),
        &[],
    )
}

fn response_head(
    site: &Site,
    status: u16,
    reason: &str,
    length: usize,
    connection: Option<&str>,
    extra: Extra,
) -> String {
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nDate: {}\r\n",
        Utc::now().http()
    );
    match site.flavor {
        Flavor::Apache => head.push_str(&format!("Server: {}\r\n", super::httpd::SERVER)),
        Flavor::Nginx => head.push_str(&format!("Server: {}\r\n", super::nginx::SERVER)),
        Flavor::Tomcat => {}
    }
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {length}\r\nContent-Type: {}\r\n",
        site.content_type()
    ));
    if let Some(connection) = connection {
        head.push_str(&format!("Connection: {connection}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// Reads one request. `Ok(None)` means the client closed cleanly between requests;
/// `InvalidData` means the request was malformed.
fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Request>> {
    // Like real servers, tolerate blank lines before the request line.
    let line = loop {
        match read_line(reader)? {
            None => return Ok(None),
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("malformed request line"));
    };
    if method.is_empty() || !target.starts_with('/') || !version.starts_with("HTTP/1.") {
        return Err(bad("malformed request line"));
    }
    let mut keep_alive = version == "HTTP/1.1";
    let mut body_length = 0;
    for count in 0.. {
        let header = read_line(reader)?.ok_or_else(|| eof("headers"))?;
        if header.is_empty() {
            break;
        }
        if count >= MAX_HEADERS {
            return Err(bad("too many headers"));
        }
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| bad("malformed header"))?;
        let value = value.trim().to_ascii_lowercase();
        match name.to_ascii_lowercase().as_str() {
            "connection" if has_token(&value, "close") => keep_alive = false,
            "connection" if has_token(&value, "keep-alive") => keep_alive = true,
            "content-length" => body_length = value.parse().map_err(|_| bad("bad length"))?,
            // A chunked body is not worth decoding here: answer, then close.
            "transfer-encoding" => keep_alive = false,
            _ => {}
        }
    }
    if body_length > MAX_BODY {
        return Err(bad("request body too large"));
    }
    let skipped = io::copy(&mut reader.by_ref().take(body_length), &mut io::sink())?;
    if skipped < body_length {
        return Err(eof("body"));
    }
    let path = target
        .split(['?', '#'])
        .next()
        .unwrap_or(target)
        .to_string();
    Ok(Some(Request {
        method: method.to_string(),
        path,
        keep_alive,
        http10: version == "HTTP/1.0",
        line,
    }))
}

/// Reads one CRLF- (or LF-) terminated line; `None` on EOF before any byte.
fn read_line(reader: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    reader
        .by_ref()
        .take(MAX_LINE + 1)
        .read_until(b'\n', &mut buf)?;
    if buf.is_empty() {
        return Ok(None);
    }
    if buf.pop() != Some(b'\n') {
        return Err(if buf.len() as u64 >= MAX_LINE {
            bad("line too long")
        } else {
            eof("line")
        });
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

fn has_token(list: &str, token: &str) -> bool {
    list.split(',').any(|t| t.trim() == token)
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

fn eof(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("client closed during {what}"),
    )
}

/// Writes one line in Apache's common log format and flushes it.
fn log_access(log: &Log, peer: IpAddr, request_line: &str, status: u16, bytes: usize) {
    let bytes = if bytes == 0 {
        "-".to_string()
    } else {
        bytes.to_string()
    };
    let line = format!(
        "{peer} - - [{}] \"{}\" {status} {bytes}\n",
        Utc::now().apache(),
        request_line.escape_debug()
    );
    // A poisoned lock or a closed stdout must not take the server down.
    let mut out = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

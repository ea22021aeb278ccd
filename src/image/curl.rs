//! `curl`: a minimal HTTP/1.1 GET client, for lab machines without a real curl.
//!
//! `curl [-s] [-S] [-i] [-I] [-f] [-o FILE] [-m SECS] [--connect-timeout SECS] URL`
//! fetches one `http://` URL and writes the body to stdout. Error messages and
//! exit codes follow curl's: 6 (resolve), 7 (connect), 22 (`-f` and status >= 400),
//! 28 (timeout), 18/52/56 (broken replies), 23 (output), 2 (usage).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

mod options;

use options::{Options, Url};

/// Longest status or header line accepted.
const MAX_LINE: u64 = 64 * 1024;
/// curl's default connect timeout.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs the applet on the real stdout/stderr and returns its exit code.
pub fn main(args: &[String]) -> i32 {
    let (stdout, stderr) = (io::stdout(), io::stderr());
    run(args, &mut stdout.lock(), &mut stderr.lock())
}

/// Runs curl with `args` (argv without `argv[0]`), writing to `out` and `err`.
pub fn run(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let opts = match Options::parse(args) {
        Ok(opts) => opts,
        Err(message) => {
            let _ = writeln!(err, "curl: {message}");
            let _ = writeln!(
                err,
                "curl: try 'curl --help' or 'curl --manual' for more information"
            );
            return 2;
        }
    };
    match fetch(&opts, out) {
        Ok(()) => 0,
        Err(Failure { code, message }) => {
            if !opts.silent || opts.show_error {
                let _ = writeln!(err, "curl: ({code}) {message}");
            }
            code
        }
    }
}

/// A curl error: exit code and message.
#[derive(Debug)]
struct Failure {
    code: i32,
    message: String,
}

fn fail(code: i32, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

fn fetch(opts: &Options, out: &mut dyn Write) -> Result<(), Failure> {
    let url = Url::parse(&opts.url)?;
    let started = Instant::now();
    let deadline = opts.max_time.map(|limit| started + limit);
    let stream = connect(&url, opts, deadline, started)?;
    let method = if opts.head { "HEAD" } else { "GET" };
    let request = format!(
        "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
        url.path, url.host_header
    );
    let mut received = 0;
    let mut reader = BufReader::new(Timed { stream, deadline });
    let timed_out = |received| {
        let ms = started.elapsed().as_millis();
        fail(
            28,
            format!("Operation timed out after {ms} milliseconds with {received} bytes received"),
        )
    };
    let io_failure = |e: io::Error, received| match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => timed_out(received),
        io::ErrorKind::InvalidData => fail(8, e.to_string()),
        _ => fail(56, format!("Recv failure: {}", super::describe(&e))),
    };
    reader
        .get_mut()
        .stream
        .write_all(request.as_bytes())
        .map_err(|e| fail(55, format!("Send failure: {}", super::describe(&e))))?;

    // Skip interim 1xx responses; keep the final status line and headers.
    let (status, head, framing) = loop {
        let response = read_head(&mut reader).map_err(|e| io_failure(e, 0))?;
        let Some((status, head, framing)) = response else {
            return Err(fail(52, "Empty reply from server"));
        };
        if !(100..200).contains(&status) {
            break (status, head, framing);
        }
    };
    if opts.fail && status >= 400 {
        return Err(fail(
            22,
            format!("The requested URL returned error: {status}"),
        ));
    }
    let mut file;
    let sink: &mut dyn Write = match &opts.output {
        Some(path) => {
            file = File::create(path).map_err(|e| {
                fail(
                    23,
                    format!("Failed to open the file {path}: {}", super::describe(&e)),
                )
            })?;
            &mut file
        }
        None => out,
    };
    let write_failed = |_: io::Error| fail(23, "Failure writing output to destination");
    if opts.include || opts.head {
        sink.write_all(&head).map_err(write_failed)?;
    }
    let no_body = opts.head || status == 204 || status == 304;
    let body = match framing {
        _ if no_body => Ok(()),
        Framing::Chunked => copy_chunked(&mut reader, sink, &mut received),
        Framing::Length(n) => copy_body(&mut reader, sink, Some(n), &mut received),
        Framing::UntilClose => copy_body(&mut reader, sink, None, &mut received),
    };
    match body {
        Err(Copy::Read(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
            Err(fail(18, e.to_string()))
        }
        Err(Copy::Read(e)) if e.kind() == io::ErrorKind::InvalidData => {
            Err(fail(56, e.to_string()))
        }
        Err(Copy::Read(e)) => Err(io_failure(e, received)),
        Err(Copy::Write) => Err(fail(23, "Failure writing output to destination")),
        Ok(()) => sink.flush().map_err(write_failed),
    }
}

fn connect(
    url: &Url,
    opts: &Options,
    deadline: Option<Instant>,
    started: Instant,
) -> Result<TcpStream, Failure> {
    let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|_| fail(6, format!("Could not resolve host: {}", url.host)))?
        .collect();
    let mut last_error = io::Error::new(io::ErrorKind::NotFound, "Could not resolve host");
    let connect_deadline = started + opts.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let deadline = deadline.map_or(connect_deadline, |d| d.min(connect_deadline));
    for addr in &addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            last_error = io::ErrorKind::TimedOut.into();
            break;
        }
        match TcpStream::connect_timeout(addr, left) {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = e,
        }
    }
    let (host, port, ms) = (&url.host, url.port, started.elapsed().as_millis());
    let (code, why) = match last_error.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            (28, "Timeout was reached".to_string())
        }
        _ => (7, super::describe(&last_error)),
    };
    Err(fail(
        code,
        format!("Failed to connect to {host} port {port} after {ms} ms: {why}"),
    ))
}

/// A stream whose reads fail with `TimedOut` once the `-m` deadline has passed.
struct Timed {
    stream: TcpStream,
    deadline: Option<Instant>,
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            self.stream.set_read_timeout(Some(left))?;
        }
        self.stream.read(buf)
    }
}

/// How the body of a response is delimited.
enum Framing {
    Chunked,
    Length(u64),
    UntilClose,
}

/// Reads a status line and headers. Returns the status, the raw head (as curl
/// `-i` prints it) and the body framing; `Ok(None)` if the server sent nothing.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<(u16, Vec<u8>, Framing)>> {
    let mut head = Vec::new();
    let Some(status_line) = read_line(reader, &mut head)? else {
        return Ok(None);
    };
    let weird = || io::Error::new(io::ErrorKind::InvalidData, "Weird server reply");
    let mut parts = status_line.splitn(3, ' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Err(weird());
    };
    let status: u16 = code.parse().map_err(|_| weird())?;
    if !version.starts_with("HTTP/1.") || !(100..1000).contains(&status) {
        return Err(weird());
    }
    let mut framing = Framing::UntilClose;
    loop {
        let line = read_line(reader, &mut head)?.ok_or_else(weird)?;
        if line.is_empty() {
            return Ok(Some((status, head, framing)));
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
            framing = Framing::Chunked;
        } else if name.eq_ignore_ascii_case("content-length")
            && !matches!(framing, Framing::Chunked)
        {
            framing = Framing::Length(value.parse().map_err(|_| weird())?);
        }
    }
}

/// Reads one line, appending its raw bytes to `raw`; returns it without CRLF.
fn read_line(reader: &mut impl BufRead, raw: &mut Vec<u8>) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    reader
        .by_ref()
        .take(MAX_LINE)
        .read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(None);
    }
    raw.extend_from_slice(&line);
    if line.pop() != Some(b'\n') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "Weird server reply",
        ));
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

/// Why copying a body stopped.
enum Copy {
    Read(io::Error),
    Write,
}

/// Copies `length` bytes (or, if `None`, everything until EOF) to `sink`.
fn copy_body(
    reader: &mut impl Read,
    sink: &mut dyn Write,
    length: Option<u64>,
    received: &mut u64,
) -> Result<(), Copy> {
    let mut buf = [0; 16 * 1024];
    let mut left = length.unwrap_or(u64::MAX);
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let got = match reader.read(&mut buf[..want]) {
            Ok(0) if length.is_none() => return Ok(()),
            Ok(0) => {
                let message = format!("transfer closed with {left} bytes remaining to read");
                return Err(Copy::Read(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    message,
                )));
            }
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Copy::Read(e)),
        };
        sink.write_all(&buf[..got]).map_err(|_| Copy::Write)?;
        *received += got as u64;
        left -= got as u64;
    }
    Ok(())
}

/// Decodes a `Transfer-Encoding: chunked` body onto `sink`.
fn copy_chunked(
    reader: &mut impl BufRead,
    sink: &mut dyn Write,
    received: &mut u64,
) -> Result<(), Copy> {
    let bad = || {
        Copy::Read(io::Error::new(
            io::ErrorKind::InvalidData,
            "Illegal or missing hexadecimal sequence in chunked-encoding",
        ))
    };
    let closed = || {
        Copy::Read(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "transfer closed with outstanding read data remaining",
        ))
    };
    let mut scratch = Vec::new();
    loop {
        let line = read_line(reader, &mut scratch)
            .map_err(Copy::Read)?
            .ok_or_else(closed)?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = u64::from_str_radix(size, 16).map_err(|_| bad())?;
        if size == 0 {
            // Skip trailers up to the final empty line (a missing one is tolerated).
            while let Some(trailer) = read_line(reader, &mut scratch).map_err(Copy::Read)? {
                if trailer.is_empty() {
                    break;
                }
            }
            return Ok(());
        }
        copy_body(reader, sink, Some(size), received).map_err(|e| match e {
            Copy::Read(e) if e.kind() == io::ErrorKind::UnexpectedEof => closed(),
            other => other,
        })?;
        match read_line(reader, &mut scratch).map_err(Copy::Read)? {
            Some(end) if end.is_empty() => scratch.clear(),
            Some(_) => return Err(bad()),
            None => return Err(closed()),
        }
    }
}

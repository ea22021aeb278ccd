//! dockernet: Docker's Linux networking rebuilt from real kernel objects, one visible
//! step at a time, in a hermetic lab of namespaces.
//!
//! This binary is multi-call: as `docker-init` it is a container's shim and PID 1, as
//! `httpd-foreground`, `redis-server`, `curl`, ... it is a built-in image's program, and
//! as `dockernet __enter` it joins a container for `exec`. Those entry points are
//! recognised before any async runtime starts, while the process is single-threaded
//! and may fork and join mount namespaces.

use dockernet::{cli, entry};

fn main() {
    let _ = entry::STARTED.set(std::time::Instant::now());
    // `std::env::args()` panics on an argument that is not UTF-8 (exit 101): read them
    // raw. Applets (a built-in image's programs) get them lossily, as text; the CLI
    // refuses them below with one line.
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let args: Vec<String> = raw
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let argv0 = args.first().map(String::as_str).unwrap_or("dockernet");
    let base = argv0.rsplit('/').next().unwrap_or(argv0);
    if base != "dockernet" {
        // Run as an applet (docker-proxy, redis-server, ...): let `ps`, `ss -p` and
        // `top` show that name rather than the binary's.
        name_process(base);
    }
    if base == "docker-init" {
        std::process::exit(entry::shim_main());
    }
    if base == "docker-proxy" {
        std::process::exit(entry::proxy_main(&args[1..]));
    }
    if base == "dockernet-dns" {
        std::process::exit(entry::resolver_main(&args[1..]));
    }
    if args.get(1).map(String::as_str) == Some(entry::HOST_INIT_ARG) {
        std::process::exit(entry::host_init_main(&args[2..]));
    }
    if args.get(1).map(String::as_str) == Some("__enter") {
        std::process::exit(entry::enter_main(&args[2..]));
    }
    if let Some(code) = entry::run_applet(argv0, &args[1..]) {
        std::process::exit(code);
    }
    // The CLI dies quietly when its output is closed (`dockernet network inspect | head`),
    // as Unix tools do, instead of panicking in println!. Our own servers and applets
    // keep Rust's default (ignored; EPIPE is an error they handle).
    // SAFETY: no other thread exists yet; setting a signal disposition is sound here.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    if let Some((i, bad)) = raw.iter().enumerate().find(|(_, a)| a.to_str().is_none()) {
        eprintln!("dockernet: {}", cli::not_utf8(i, bad));
        std::process::exit(2);
    }
    // `COMPLETE=bash dockernet -- …`: the shell asking for completions.
    cli::answer_completion_request();
    // Parsed with the Chinese help texts under `--lang zh` or a Chinese locale.
    let cli = match cli::help_zh::parse(&raw) {
        Ok(c) => c,
        Err(e) => cli::help_zh::exit_with(e, &raw),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dockernet: starting the runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = match runtime.block_on(cli::dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dockernet: {e}");
            e.exit_code()
        }
    };
    // Do not wait for stray runtime tasks (netlink connections already closed).
    drop(runtime);
    std::process::exit(code);
}

/// Set the kernel's name of this process (/proc/PID/comm, at most 15 bytes).
fn name_process(name: &str) {
    let mut bytes: Vec<u8> = name.bytes().take(15).collect();
    bytes.push(0);
    // SAFETY: prctl(PR_SET_NAME) reads a NUL-terminated string of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, bytes.as_ptr()) };
}

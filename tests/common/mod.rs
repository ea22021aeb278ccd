//! Shared harness of the integration tests: a [`Lab`] guard per test (its own lab, so
//! tests run in parallel and clean up even when they panic), ways to run the binary and
//! the real tools (`ip`, `iptables`, `brctl`) in lab namespaces, polling helpers, and
//! observers of what the kernel holds (namespaces, bridge ports, processes, mounts).
//!
//! Every test needs root (network namespaces), like dockernet itself.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod kernel;
pub use kernel::*;
mod pty;
#[allow(unused_imports)]
pub use pty::*;
mod scenarios;
#[allow(unused_imports)]
pub use scenarios::*;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_dockernet");

/// Longest any single command may take before the test gives up (a hang is a failure).
const CMD_TIMEOUT: Duration = Duration::from_secs(60);

/// Run a command with a time limit, capturing stdout and stderr. Pipes are read on
/// threads that are abandoned if a leaked grandchild keeps them open after the child
/// exited, so a leak shows up as an assertion, never as a hung test.
pub fn run_cmd(mut cmd: Command) -> Output {
    let what = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let reader = |mut r: Box<dyn Read + Send>| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
        rx
    };
    let out_rx = reader(Box::new(child.stdout.take().expect("stdout piped")));
    let err_rx = reader(Box::new(child.stderr.take().expect("stderr piped")));
    let deadline = Instant::now() + CMD_TIMEOUT;
    let status = loop {
        if let Some(s) = child.try_wait().expect("waiting for a child") {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {CMD_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let grace = Duration::from_secs(2);
    Output {
        status,
        stdout: out_rx.recv_timeout(grace).unwrap_or_default(),
        stderr: err_rx.recv_timeout(grace).unwrap_or_default(),
    }
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// One line describing how a command ended, for assertion messages.
pub fn describe(what: &str, o: &Output) -> String {
    format!(
        "`{what}` exited with {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    )
}

/// Run a program (from PATH) and return its output.
pub fn cmd(prog: &str, args: &[&str]) -> Output {
    let mut c = Command::new(prog);
    c.args(args);
    run_cmd(c)
}

/// Run a program that must succeed; its stdout.
pub fn cmd_ok(prog: &str, args: &[&str]) -> String {
    let o = cmd(prog, args);
    let what = format!("{prog} {}", args.join(" "));
    assert!(
        o.status.success(),
        "expected success, saw failure: {}",
        describe(&what, &o)
    );
    stdout(&o)
}

/// `ip netns exec NS sh -c CMD`
pub fn sh_in(ns: &str, script: &str) -> Output {
    cmd("ip", &["netns", "exec", ns, "sh", "-c", script])
}

/// `ip netns exec NS ARGV...`
pub fn exec_in(ns: &str, argv: &[&str]) -> Output {
    let mut args = vec!["netns", "exec", ns];
    args.extend_from_slice(argv);
    cmd("ip", &args)
}

/// `ip netns exec NS ARGV...`, which must succeed; its stdout.
pub fn exec_in_ok(ns: &str, argv: &[&str]) -> String {
    let o = exec_in(ns, argv);
    assert!(
        o.status.success(),
        "expected success, saw failure: {}",
        describe(&format!("ip netns exec {ns} {}", argv.join(" ")), &o)
    );
    stdout(&o)
}

/// `ip -n NS ARGS...`, which must succeed; its stdout.
pub fn ip(ns: &str, args: &[&str]) -> String {
    let mut a = vec!["-n", ns];
    a.extend_from_slice(args);
    cmd_ok("ip", &a)
}

/// Call `f` until it returns `Ok`, every 20 ms up to `timeout`; panic with the last
/// error otherwise. For servers that need a moment to listen and for kernel state that
/// settles (IPv6 DAD, a process being reaped).
pub fn retry<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if Instant::now() >= deadline => {
                panic!("{what}: still failing after {timeout:?}: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// True if a command succeeds within `timeout` (retried); for reachability checks.
pub fn eventually_ok(timeout: Duration, mut f: impl FnMut() -> Output) -> Result<Output, Output> {
    let deadline = Instant::now() + timeout;
    loop {
        let o = f();
        if o.status.success() {
            return Ok(o);
        }
        if Instant::now() >= deadline {
            return Err(o);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Add a lab's name to the file `./dev test` names in `DOCKERNET_TEST_LABS`: its guard
/// then looks for leftovers of the suite's own labs only, whatever other labs (a
/// learner's, a lesson's, another suite's run) come and go on the machine meanwhile.
fn record_suite_lab(name: &str) {
    let Some(file) = std::env::var_os("DOCKERNET_TEST_LABS") else {
        return;
    };
    use std::io::Write;
    // One short O_APPEND write per lab: whole lines even from parallel tests.
    let line = format!("{name}\n");
    let _ = std::fs::OpenOptions::new()
        .append(true)
        .open(file)
        .and_then(|mut f| f.write_all(line.as_bytes()));
}

/// A test's own lab, removed (`lab down`) when the guard is dropped, panic or not.
pub struct Lab {
    /// The lab name (`--lab`).
    pub name: String,
}

impl Lab {
    /// A lab named after the test and this process: unique across parallel tests and
    /// test binaries, at most 32 characters of `[A-Za-z0-9_]`.
    pub fn new(test: &str) -> Lab {
        let pid = std::process::id().to_string();
        let clean: String = test
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let keep = 32 - pid.len() - 2;
        let name = format!("t{}_{pid}", &clean[..clean.len().min(keep)]);
        record_suite_lab(&name);
        let lab = Lab { name };
        // Leftovers of an earlier, killed run with the same pid.
        if lab.dir().exists() || !lab_namespaces(&lab.name).is_empty() {
            lab.dn(&["lab", "down"]);
        }
        lab
    }

    /// `/run/dockernet/<lab>`
    pub fn dir(&self) -> PathBuf {
        Path::new("/run/dockernet").join(&self.name)
    }

    /// The lab host's namespace.
    pub fn host(&self) -> String {
        format!("dn-{}-host", self.name)
    }

    /// The namespace of the lab host called `name` (`host` is the first).
    pub fn host_named(&self, name: &str) -> String {
        format!("dn-{}-{name}", self.name)
    }

    /// `dockernet --lab <lab> -H HOST ARGS...` that must succeed; its stdout.
    pub fn on(&self, host: &str, args: &[&str]) -> String {
        let mut all = vec!["-H", host];
        all.extend_from_slice(args);
        self.ok(&all)
    }

    /// `dockernet --lab <lab> -H HOST ARGS...`, whatever it does.
    pub fn dn_on(&self, host: &str, args: &[&str]) -> Output {
        let mut all = vec!["-H", host];
        all.extend_from_slice(args);
        self.dn(&all)
    }

    /// The world's namespace.
    pub fn world(&self) -> String {
        format!("dn-{}-world", self.name)
    }

    /// A container's namespace, by dockernet's rule (`Lab::container_ns`):
    /// `dn-<lab>-ctr-<name>` up to 64 bytes, else `dn-<lab>-ctr-<first 12 hex of the id>`
    /// (also for a name that is itself 12 hex digits); the id comes from the record.
    pub fn ctr(&self, container: &str) -> String {
        let readable = format!("dn-{}-ctr-{container}", self.name);
        let looks_like_id = container.len() == 12
            && container
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if readable.len() <= 64 && !looks_like_id {
            return readable;
        }
        let rec = self.record(container);
        let id = rec["id"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an id in {container}'s record, saw {rec}"));
        format!("dn-{}-ctr-{}", self.name, &id[..12])
    }

    /// The `dockernet --lab <lab> ARGS...` command, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--lab")
            .arg(&self.name)
            .args(args)
            .env_remove("DOCKERNET_LAB")
            .env_remove("DOCKERNET_HOST")
            .env("NO_COLOR", "1")
            .env("LC_ALL", "C.UTF-8");
        c
    }

    /// Run `dockernet --lab <lab> ARGS...`.
    pub fn dn(&self, args: &[&str]) -> Output {
        run_cmd(self.command(args))
    }

    /// Run a dockernet command that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.dn(args);
        assert!(
            o.status.success(),
            "expected success, saw failure: {}",
            describe(
                &format!("dockernet --lab {} {}", self.name, args.join(" ")),
                &o
            )
        );
        stdout(&o)
    }

    /// Run a dockernet command that must fail; its output.
    pub fn fails(&self, args: &[&str]) -> Output {
        let o = self.dn(args);
        assert!(
            !o.status.success(),
            "expected a failure, saw success: {}",
            describe(
                &format!("dockernet --lab {} {}", self.name, args.join(" ")),
                &o
            )
        );
        o
    }

    /// `run -d --name NAME IMAGE CMD...`; the container id it printed.
    pub fn run_d(&self, name: &str, image_and_cmd: &[&str]) -> String {
        let mut args = vec!["run", "-d", "--name", name];
        args.extend_from_slice(image_and_cmd);
        let id = self.ok(&args).trim().to_string();
        assert!(
            id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit()),
            "expected `run -d` to print a 64-hex id, saw {id:?}"
        );
        id
    }

    /// The lab's records, parsed and put together: `lab.json`'s fields, plus
    /// `containers` (id -> record) and `networks` (id -> record) from their own files.
    pub fn state(&self) -> serde_json::Value {
        let p = self.dir().join("lab.json");
        let text = std::fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("expected {} to exist: {e}", p.display()));
        let mut st: serde_json::Value = serde_json::from_str(&text).expect("lab.json is JSON");
        let read_dir = |dir: PathBuf, file: &str| {
            let mut m = serde_json::Map::new();
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let f = e.path().join(file);
                if let Ok(t) = std::fs::read_to_string(&f) {
                    let v: serde_json::Value = serde_json::from_str(&t)
                        .unwrap_or_else(|e| panic!("expected {} to be JSON: {e}", f.display()));
                    m.insert(e.file_name().to_string_lossy().into_owned(), v);
                }
            }
            serde_json::Value::Object(m)
        };
        st["containers"] = read_dir(self.dir().join("containers"), "record.json");
        st["networks"] = read_dir(self.dir().join("networks"), "network.json");
        st
    }

    /// A container's record, by name.
    pub fn record(&self, name: &str) -> serde_json::Value {
        let st = self.state();
        st["containers"]
            .as_object()
            .and_then(|m| m.values().find(|c| c["name"] == name).cloned())
            .unwrap_or_else(|| panic!("expected a record for container {name}"))
    }

    /// A network's record, by name.
    pub fn network(&self, name: &str) -> serde_json::Value {
        let st = self.state();
        st["networks"]
            .as_object()
            .and_then(|m| m.values().find(|c| c["name"] == name).cloned())
            .unwrap_or_else(|| panic!("expected a record for network {name}"))
    }

    /// `inspect NAME`, the first (only) object.
    pub fn inspect(&self, name: &str) -> serde_json::Value {
        let out = self.ok(&["inspect", name]);
        let v: serde_json::Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("expected inspect to print JSON ({e}), saw:\n{out}"));
        v[0].clone()
    }

    /// A running container's IP address, from `inspect`.
    pub fn ip_of(&self, name: &str) -> String {
        let v = self.inspect(name);
        v["NetworkSettings"]["IPAddress"]
            .as_str()
            .unwrap_or_else(|| panic!("expected NetworkSettings.IPAddress for {name}, saw {v}"))
            .to_string()
    }

    /// This lab's namespaces.
    pub fn namespaces(&self) -> Vec<String> {
        lab_namespaces(&self.name)
    }

    /// This lab's container namespaces.
    pub fn container_namespaces(&self) -> Vec<String> {
        let p = format!("dn-{}-ctr-", self.name);
        self.namespaces()
            .into_iter()
            .filter(|n| n.starts_with(&p))
            .collect()
    }

    /// Names of the ports of docker0 in the lab host, sorted.
    pub fn docker0_ports(&self) -> Vec<String> {
        self.bridge_ports("docker0")
    }

    /// Names of the ports of a bridge in the lab host, sorted.
    pub fn bridge_ports(&self, bridge: &str) -> Vec<String> {
        let mut v: Vec<String> =
            parse_links(&ip(&self.host(), &["-o", "link", "show", "master", bridge]))
                .into_iter()
                .map(|l| l.name)
                .collect();
        v.sort();
        v
    }

    /// Names in `ps -a -q --no-trunc`... as full ids, sorted.
    pub fn all_ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .ok(&["ps", "-a", "-q", "--no-trunc"])
            .lines()
            .map(String::from)
            .collect();
        v.sort();
        v
    }

    /// Live processes that belong to this lab (its directory in their environment,
    /// command line or open files).
    pub fn processes(&self) -> Vec<(i64, String)> {
        processes_mentioning(&format!("{}/", self.dir().display()))
    }

    /// (pid, start_time) of every process the state file tracks: the lab's own
    /// (`processes[*]`) and each container's shim and init.
    pub fn tracked_processes(&self) -> Vec<(i64, u64)> {
        let st = self.state();
        let mut v = Vec::new();
        let mut push = |p: &serde_json::Value| {
            if let (Some(pid), Some(t)) = (p["pid"].as_i64(), p["start_time"].as_u64()) {
                v.push((pid, t));
            }
        };
        for p in st["processes"].as_array().into_iter().flatten() {
            push(p);
        }
        for c in st["containers"].as_object().into_iter().flatten() {
            push(&c.1["shim"]);
            push(&c.1["init"]);
        }
        v
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = run_cmd(self.command(&["lab", "down"]));
        // Processes this test started that dockernet lost track of: end them by pid so
        // a failing test does not leave them behind (the failure was already reported).
        for (pid, _) in self.processes() {
            // SAFETY: plain kill(2) of a process started by this test's lab.
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
        }
    }
}

//! Port publishing: which host ports a container gets (`-p`, `-P`) and the userland
//! proxy process that serves each binding (docker-proxy's role). The rules Docker
//! installs for each binding are in `firewall::port_rules`, per engine.

pub mod spec;

pub use crate::docker::PortBinding;
pub use spec::{Publish, parse_expose, parse_publish};

use crate::error::{Context, Error, Result};
use crate::util::ProcRef;
use std::io::Read;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::Path;

/// Does `a` (an address a binding listens on) overlap `b`? 0.0.0.0 overlaps everything.
fn ip_overlaps(a: &str, b: &str) -> bool {
    a == b || a == "0.0.0.0" || b == "0.0.0.0"
}

fn bound_ip(p: &Publish) -> String {
    if p.host_ip.is_empty() {
        "0.0.0.0".into()
    } else {
        p.host_ip.clone()
    }
}

/// Choose host ports for `wanted`, given the bindings that already exist in the lab.
/// Random ports come from `ephemeral` (the lab host's ip_local_port_range), lowest free
/// first, as a freshly started Docker daemon hands them out.
pub fn allocate(
    wanted: &[Publish],
    taken: &[PortBinding],
    ephemeral: (u16, u16),
) -> Result<Vec<PortBinding>> {
    let mut out: Vec<PortBinding> = Vec::new();
    let in_use = |ip: &str, port: u16, proto: &str, out: &[PortBinding]| {
        taken
            .iter()
            .chain(out.iter())
            .any(|b| b.host_port == port && b.proto == proto && ip_overlaps(&b.host_ip, ip))
    };
    for p in wanted {
        let ip = bound_ip(p);
        let port = match (p.host_port, p.host_range) {
            // Host port 0 (`-p 0:80`) is Docker's "any port", as when it is left out.
            (Some(port), _) if port != 0 => {
                if in_use(&ip, port, &p.proto, &out) {
                    return Err(Error::msg(format!(
                        "Bind for {ip}:{port} failed: port is already allocated"
                    )));
                }
                port
            }
            (_, range) => {
                let (lo, hi) = range.unwrap_or(ephemeral);
                (lo..=hi)
                    .find(|&port| !in_use(&ip, port, &p.proto, &out))
                    .ok_or_else(|| {
                        Error::msg(format!(
                            "Bind for {ip}:{lo}-{hi} failed: port is already allocated"
                        ))
                    })?
            }
        };
        out.push(PortBinding {
            host_ip: ip,
            host_port: port,
            container_port: p.container_port,
            proto: p.proto.clone(),
        });
    }
    Ok(out)
}

/// docker-proxy's command line for a binding.
pub fn proxy_args(b: &PortBinding, container: Ipv4Addr) -> Vec<String> {
    [
        "-proto",
        &b.proto,
        "-host-ip",
        &b.host_ip,
        "-host-port",
        &b.host_port.to_string(),
        "-container-ip",
        &container.to_string(),
        "-container-port",
        &b.container_port.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The file descriptor on which the proxy reports readiness.
const READY_FD: i32 = 3;

/// A proxy that has been started but has not yet said whether it listens.
pub struct PendingProxy {
    process: Started,
    ready: std::os::fd::OwnedFd,
}

/// Who started the proxy: the lab host's init (whose child it is), or we.
enum Started {
    ByHost(ProcRef),
    Ours(std::process::Child),
}

impl Started {
    fn pid(&self) -> Option<ProcRef> {
        match self {
            Started::ByHost(p) => Some(*p),
            Started::Ours(c) => ProcRef::of(c.id() as i32),
        }
    }

    fn kill(self) {
        match self {
            // The host's init reaps its children.
            Started::ByHost(p) => {
                p.signal(libc::SIGKILL);
            }
            Started::Ours(mut c) => {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

/// Start a userland proxy without waiting for it: the caller overlaps the proxy's
/// start-up with other work and calls [`PendingProxy::ready`] afterwards. With a lab
/// host init, the proxy is its child (`dockernet host -- ps -ef | grep docker-proxy`
/// finds it with PPID 1, as on a Docker host).
pub fn start_proxy(
    lab_dir: &Path,
    host_ns: &Path,
    host_init: Option<&crate::util::ProcRef>,
    b: &PortBinding,
    container: Ipv4Addr,
    log: &Path,
) -> Result<PendingProxy> {
    use std::os::fd::AsFd;
    let net = crate::netns::open(host_ns)?;
    let (read_end, write_end) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).ctx("creating a pipe")?;
    let log_path = log;
    let log = crate::util::open_private(
        log_path,
        std::fs::OpenOptions::new().create(true).append(true),
    )
    .ctx("opening the proxy log")?;
    let exe = crate::image::self_exe()?;
    let mut argv = vec!["docker-proxy".to_string()];
    argv.extend(proxy_args(b, container));
    argv.extend(["-ready-fd".to_string(), READY_FD.to_string()]);
    let owner = format!(
        "{}={}",
        crate::util::OWNER_ENV,
        log_path.parent().unwrap_or(log_path).display()
    );
    if host_init.is_some_and(|p| p.alive()) {
        let null = std::fs::File::open("/dev/null").ctx("opening /dev/null")?;
        let req = crate::lab::host_spawn::Request {
            exe: Some(exe.display().to_string()),
            argv: argv.clone(),
            env: vec![owner.clone()],
            place: vec![(0, 0), (1, 1), (2, 2), (3, READY_FD)],
            net: Some(4),
            setsid: true,
            ..Default::default()
        };
        let fds = [
            null.as_fd(),
            log.as_fd(),
            log.as_fd(),
            write_end.as_fd(),
            net.as_fd(),
        ];
        if let Some(p) =
            crate::lab::host_spawn::spawn(lab_dir, &req, &fds).ctx("starting docker-proxy")?
        {
            return Ok(PendingProxy {
                process: Started::ByHost(p),
                ready: read_end,
            });
        }
    }
    let mut cmd = std::process::Command::new(exe);
    cmd.arg0(&argv[0])
        .args(&argv[1..])
        .env_clear()
        .env(
            crate::util::OWNER_ENV,
            log_path.parent().unwrap_or(log_path),
        )
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // `net` and `write_end` stay open here until the spawn has returned.
    crate::netns::ChildSetup {
        net: Some(net.as_raw_fd()),
        setsid: true,
        dup: Some((write_end.as_raw_fd(), READY_FD)),
        ..Default::default()
    }
    .install(&mut cmd, Vec::new());
    // A process of the lab host: `dockernet host -- ps -ef | grep docker-proxy` finds it.
    let child = crate::lab::hostinit::spawn(host_init, cmd).ctx("starting docker-proxy")?;
    drop(write_end);
    drop(net);
    Ok(PendingProxy {
        process: Started::Ours(child),
        ready: read_end,
    })
}

impl PendingProxy {
    /// Wait for the proxy's answer on its ready pipe: listening, or why not.
    pub fn ready(self) -> Result<ProcRef> {
        let PendingProxy { process, ready } = self;
        let mut answer = String::new();
        let _ = std::fs::File::from(ready).read_to_string(&mut answer);
        if answer.starts_with('0')
            && let Some(p) = process.pid().filter(|p| p.alive())
        {
            return Ok(p);
        }
        process.kill();
        let why = answer
            .strip_prefix("1\n")
            .unwrap_or("the proxy exited")
            .trim()
            .to_string();
        Err(Error::msg(format!("Error starting userland proxy: {why}")))
    }

    /// Give up on it (the container's set-up failed before it was needed).
    pub fn abandon(self) {
        self.process.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(spec: &str) -> Vec<Publish> {
        parse_publish(spec).unwrap()
    }

    #[test]
    fn random_ports_start_at_the_ephemeral_range_and_skip_taken_ones() {
        let a = allocate(&publish("80"), &[], (32768, 60999)).unwrap();
        assert_eq!(
            a[0],
            PortBinding {
                host_ip: "0.0.0.0".into(),
                host_port: 32768,
                container_port: 80,
                proto: "tcp".into()
            }
        );
        let b = allocate(
            &[publish("80")[0].clone(), publish("81")[0].clone()],
            &a,
            (32768, 60999),
        )
        .unwrap();
        assert_eq!(
            b.iter().map(|b| b.host_port).collect::<Vec<_>>(),
            [32769, 32770]
        );
        // Same port number on UDP is free.
        assert_eq!(
            allocate(&publish("80/udp"), &a, (32768, 60999)).unwrap()[0].host_port,
            32768
        );
    }

    #[test]
    fn host_port_zero_is_a_random_port() {
        let a = allocate(&publish("8080:80"), &[], (32768, 60999)).unwrap();
        let b = allocate(&publish("0:80"), &a, (32768, 60999)).unwrap();
        assert_eq!((b[0].host_port, b[0].container_port), (32768, 80));
        let c = allocate(&publish("127.0.0.1:0:81"), &b, (32768, 60999)).unwrap();
        assert_eq!(
            (c[0].host_ip.as_str(), c[0].host_port),
            ("127.0.0.1", 32769)
        );
    }

    #[test]
    fn a_taken_fixed_port_is_refused_like_docker() {
        let a = allocate(&publish("8080:80"), &[], (32768, 60999)).unwrap();
        let e = allocate(&publish("8080:80"), &a, (32768, 60999)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Bind for 0.0.0.0:8080 failed: port is already allocated"
        );
        // A specific address conflicts with a wildcard binding too.
        assert!(allocate(&publish("127.0.0.1:8080:80"), &a, (32768, 60999)).is_err());
        let c = allocate(&publish("127.0.0.1:9090:80"), &[], (32768, 60999)).unwrap();
        assert!(allocate(&publish("198.51.100.2:9090:80"), &c, (32768, 60999)).is_ok());
    }
}

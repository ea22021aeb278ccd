//! The peers of the networks benchmark.
//!
//! - [`NetShell`]: the shell script doing the same kernel work as `network create` /
//!   `rm`, `run -d --net`, `network connect` / `disconnect`, one process per command,
//!   in namespaces `dnnet-<pid>-*` of its own. Its networks copy dockernet's records
//!   (bridge name, MAC, subnet, the exact rule batch), so the kernel objects are the same.
//! - [`NvNet`]: netavark 1.4, which has no "network create": it builds a bridge and its
//!   rules with the first container and removes them with the last one. Its network cost
//!   is estimated as (first setup − second setup) + (last teardown − other teardown).
//!
//! dockernet's own steps replayed in-process are in `net_steps`.

use crate::net_steps::{self, St};
use crate::peers::{Res, check, ip};
use serde_json::Value;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Milliseconds since `t`.
pub fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// A command whose process enters the namespace at `/run/netns/NS` between fork and
/// exec (as dockernet runs iptables-restore: no `ip netns exec` process in between).
fn in_ns(ns: &str, program: &str) -> Res<Command> {
    let fd = File::open(format!("/run/netns/{ns}")).map_err(|e| format!("netns {ns}: {e}"))?;
    let mut cmd = Command::new(program);
    // SAFETY: setns(2) only, async-signal-safe, between fork and exec; `fd` is moved in
    // and stays open until then.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok(cmd)
}

/// Run `cmd` with `input` on its stdin; a failure carries its stderr.
fn feed(mut cmd: Command, input: &str) -> Res<()> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes())
        .map_err(|e| format!("{cmd:?} stdin: {e}"))?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// Copy the iptables state of namespace `from` into `to` (daemon chains, docker0's
/// rules), so that the shell's batches meet the same chains as dockernet's. Not timed.
pub fn copy_rules(from: &str, to: &str) -> Res<()> {
    let out = in_ns(from, "iptables-save")?
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("iptables-save: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "iptables-save in {from}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    feed(
        in_ns(to, "iptables-restore")?,
        &String::from_utf8_lossy(&out.stdout),
    )
}

/// What the shell needs to rebuild one of dockernet's networks.
#[derive(Clone, Debug)]
pub struct NetSpec {
    pub bridge: String,
    pub mac: String,
    /// Gateway with prefix, `172.18.0.1/16`.
    pub gw_cidr: String,
    pub gateway: String,
    pub prefix_len: u8,
    /// The network's subnet, for container addresses.
    pub subnet: ipnet::Ipv4Net,
    /// `iptables-restore --noflush` input that adds the network's rules, and its inverse.
    pub rules_add: String,
    pub rules_del: String,
}

impl NetSpec {
    /// From dockernet's record of a network (network.json) and its parsed steps.
    pub fn of(net: &Value, steps: &[St]) -> Res<NetSpec> {
        let pool = net.pointer("/ipam/0").ok_or("network without a subnet")?;
        let field = |v: &Value, k: &str| -> Res<String> {
            v.get(k)
                .and_then(Value::as_str)
                .map(String::from)
                .ok_or_else(|| format!("network record without {k}"))
        };
        let subnet: ipnet::Ipv4Net = field(pool, "subnet")?
            .parse()
            .map_err(|e| format!("subnet: {e}"))?;
        let gateway = field(pool, "gateway")?;
        let (mut mac, mut add, mut del) = (None, String::new(), String::new());
        for s in steps {
            match s {
                St::BridgeAdd { mac: m, .. } => mac = Some(m.clone()),
                St::Firewall { add: a, del: d, .. } => {
                    add.push_str(a);
                    del.insert_str(0, d);
                }
                _ => {}
            }
        }
        Ok(NetSpec {
            bridge: field(net, "bridge")?,
            mac: mac.ok_or("network record without a bridge_add step")?,
            gw_cidr: format!("{gateway}/{}", subnet.prefix_len()),
            gateway,
            prefix_len: subnet.prefix_len(),
            subnet,
            rules_add: add,
            rules_del: del,
        })
    }

    /// The j-th container address (the gateway is .1, containers from .2).
    pub fn addr(&self, j: usize) -> String {
        let base = u32::from(self.subnet.network()) + 2 + j as u32;
        format!("{}/{}", std::net::Ipv4Addr::from(base), self.prefix_len)
    }
}

fn read_json(p: &str) -> Res<Value> {
    let bytes = std::fs::read(p).map_err(|e| format!("{p}: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{p}: {e}"))
}

/// A network's record (network.json) and its parsed steps.
pub fn network_record(lab: &str, id: &str) -> Res<(Value, Vec<St>)> {
    let v = read_json(&format!("/run/dockernet/{lab}/networks/{id}/network.json"))?;
    let steps = net_steps::parse(v.get("steps").ok_or("network record without steps")?)?;
    Ok((v, steps))
}

/// The recorded steps of container `id`'s endpoint on network `net_id`.
pub fn endpoint_steps(lab: &str, id: &str, net_id: &str) -> Res<Vec<St>> {
    let v = read_json(&format!("/run/dockernet/{lab}/containers/{id}/record.json"))?;
    let ep = v
        .get("endpoints")
        .and_then(Value::as_array)
        .and_then(|eps| {
            eps.iter()
                .find(|e| e.get("network_id").and_then(Value::as_str) == Some(net_id))
        })
        .ok_or_else(|| format!("container {id} has no endpoint on {net_id}"))?;
    net_steps::parse(ep.get("steps").ok_or("endpoint without steps")?)
}

/// Poll (every 100 µs) until `/proc/PID/comm` is `want`: the point `run -d` waits for.
fn wait_comm(pid: u32, want: &str) -> Res<()> {
    let path = format!("/proc/{pid}/comm");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match std::fs::read_to_string(&path) {
            Ok(s) if s.trim_end() == want => return Ok(()),
            Ok(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_micros(100)),
            _ => return Err(format!("process {pid} never became `{want}`")),
        }
    }
}

/// The shell script, in a host namespace `<prefix>h` of its own whose iptables start
/// as a copy of the lab host's.
pub struct NetShell {
    prefix: String,
    pub host: String,
    sleeps: Vec<Child>,
    /// Container namespaces, deleted at `down`.
    netns: Vec<String>,
}

impl NetShell {
    /// The host namespace with `lo` up and the lab host's rules (not timed).
    pub fn up(prefix: &str, lab_host: &str) -> Res<NetShell> {
        let host = format!("{prefix}h");
        ip(&["netns", "add", &host])?;
        let s = NetShell {
            prefix: prefix.into(),
            host,
            sleeps: Vec::new(),
            netns: Vec::new(),
        };
        ip(&["-n", &s.host, "link", "set", "lo", "up"])?;
        copy_rules(lab_host, &s.host)?;
        Ok(s)
    }

    /// `network create`: bridge, gateway address, up, the rule batch. 4 processes; ms.
    pub fn net_create(&self, n: &NetSpec) -> Res<f64> {
        let h = self.host.as_str();
        let t = Instant::now();
        #[rustfmt::skip]
        ip(&["-n", h, "link", "add", &n.bridge, "address", &n.mac, "type", "bridge"])?;
        ip(&["-n", h, "addr", "add", &n.gw_cidr, "dev", &n.bridge])?;
        ip(&["-n", h, "link", "set", &n.bridge, "up"])?;
        let mut cmd = in_ns(h, "iptables-restore")?;
        cmd.arg("--noflush");
        feed(cmd, &n.rules_add)?;
        Ok(ms(t))
    }

    /// `network rm`: the rules out, the bridge deleted. 2 processes; ms.
    pub fn net_rm(&self, n: &NetSpec) -> Res<f64> {
        let t = Instant::now();
        let mut cmd = in_ns(&self.host, "iptables-restore")?;
        cmd.arg("--noflush");
        feed(cmd, &n.rules_del)?;
        ip(&["-n", &self.host, "link", "del", &n.bridge])?;
        Ok(ms(t))
    }

    /// `run -d` on network `n`: netns, veth with its peer created in the netns, one
    /// `ip -batch` (address, lo, eth0, default route), `ip netns exec NS sleep`, timed
    /// until the sleep has exec'd. 4 processes; ms.
    pub fn container(&mut self, n: &NetSpec, name: &str, j: usize) -> Res<f64> {
        let c = format!("{}{name}", self.prefix);
        let veth = format!("v{name}");
        let batch = format!(
            "addr add {} dev eth0\nlink set lo up\nlink set eth0 up\nroute add default via {}\n",
            n.addr(j),
            n.gateway
        );
        let t = Instant::now();
        ip(&["netns", "add", &c])?;
        self.netns.push(c.clone());
        #[rustfmt::skip]
        ip(&["-n", &self.host, "link", "add", &veth, "master", &n.bridge, "up",
             "type", "veth", "peer", "name", "eth0", "netns", &c])?;
        let mut b = Command::new("ip");
        b.args(["-n", &c, "-batch", "-"]);
        feed(b, &batch)?;
        let child = Command::new("ip")
            .args(["netns", "exec", &c, "sleep", "3600"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("ip netns exec: {e}"))?;
        let pid = child.id();
        self.sleeps.push(child);
        wait_comm(pid, "sleep")?;
        Ok(ms(t))
    }

    /// An empty container namespace with `lo` up, for connects (not timed).
    pub fn bare_netns(&mut self, name: &str) -> Res<String> {
        let c = format!("{}{name}", self.prefix);
        ip(&["netns", "add", &c])?;
        self.netns.push(c.clone());
        ip(&["-n", &c, "link", "set", "lo", "up"])?;
        Ok(c)
    }

    /// `network connect`: a veth whose peer `eth1` is created in `ns`, then one
    /// `ip -batch` (address, up). 2 processes; ms.
    pub fn connect(&self, n: &NetSpec, ns: &str, veth: &str, mac: &str, j: usize) -> Res<f64> {
        let batch = format!("addr add {} dev eth1\nlink set eth1 up\n", n.addr(j));
        let t = Instant::now();
        #[rustfmt::skip]
        ip(&["-n", &self.host, "link", "add", veth, "master", &n.bridge, "up",
             "type", "veth", "peer", "name", "eth1", "address", mac, "netns", ns])?;
        let mut b = Command::new("ip");
        b.args(["-n", ns, "-batch", "-"]);
        feed(b, &batch)?;
        Ok(ms(t))
    }

    /// `network disconnect`: delete the veth (its peer goes with it). 1 process; ms.
    pub fn disconnect(&self, veth: &str) -> Res<f64> {
        let t = Instant::now();
        ip(&["-n", &self.host, "link", "del", veth])?;
        Ok(ms(t))
    }

    /// The script's teardown: kill the sleeps by PID, `ip netns del` every container,
    /// then the host namespace (its bridges and rules go with it). ms.
    pub fn down(&mut self) -> Res<f64> {
        let t = Instant::now();
        for c in &mut self.sleeps {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.sleeps.clear();
        for ns in std::mem::take(&mut self.netns) {
            ip(&["netns", "del", &ns])?;
        }
        ip(&["netns", "del", &self.host])?;
        Ok(ms(t))
    }
}

impl Drop for NetShell {
    /// Kill the sleeps by PID; the namespaces are removed by the caller's purge.
    fn drop(&mut self) {
        for c in &mut self.sleeps {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// netavark's cost for one network, estimated from four calls on two containers.
pub struct NvNet {
    bin: PathBuf,
    host_fd: File,
    dir: PathBuf,
    /// The two container namespaces.
    ns: [String; 2],
}

/// One round of [`NvNet::round`], ms: setups of the first and second container,
/// teardowns of the second and of the last one.
#[derive(Clone, Copy, Debug)]
pub struct NvRound {
    pub setup_first: f64,
    pub setup_second: f64,
    pub teardown_other: f64,
    pub teardown_last: f64,
}

impl NvRound {
    /// The part of setup + teardown that builds and removes the network itself.
    pub fn network_part(&self) -> f64 {
        (self.setup_first - self.setup_second) + (self.teardown_last - self.teardown_other)
    }
}

impl NvNet {
    /// Debian's netavark, if installed.
    pub fn find() -> Option<PathBuf> {
        let p = PathBuf::from("/usr/lib/podman/netavark");
        p.exists().then_some(p)
    }

    /// Host namespace `<prefix>h` and two container namespaces (not timed).
    pub fn up(bin: PathBuf, prefix: &str) -> Res<NvNet> {
        let host = format!("{prefix}h");
        ip(&["netns", "add", &host])?;
        ip(&["-n", &host, "link", "set", "lo", "up"])?;
        let host_fd = File::open(format!("/run/netns/{host}")).map_err(|e| e.to_string())?;
        let dir = std::env::temp_dir().join(format!("{prefix}netavark"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let ns = [format!("{prefix}c0"), format!("{prefix}c1")];
        for (i, n) in ns.iter().enumerate() {
            ip(&["netns", "add", n])?;
            std::fs::write(dir.join(format!("c{i}.json")), nv_config(i))
                .map_err(|e| e.to_string())?;
        }
        Ok(NvNet {
            bin,
            host_fd,
            dir,
            ns,
        })
    }

    /// `netavark setup|teardown /run/netns/NS` from inside the host namespace; ms.
    fn call(&self, verb: &str, i: usize) -> Res<f64> {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--config")
            .arg(&self.dir)
            .arg("-f")
            .arg(self.dir.join(format!("c{i}.json")))
            .args([verb, &format!("/run/netns/{}", self.ns[i])]);
        let fd = self.host_fd.as_raw_fd();
        // SAFETY: setns(2) only, async-signal-safe, between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(fd, libc::CLONE_NEWNET) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let t = Instant::now();
        check(&mut cmd)?;
        Ok(ms(t))
    }

    /// Setup c0 (creates the bridge and the network's rules), setup c1, teardown c1,
    /// teardown c0 (removes them).
    pub fn round(&self) -> Res<NvRound> {
        Ok(NvRound {
            setup_first: self.call("setup", 0)?,
            setup_second: self.call("setup", 1)?,
            teardown_other: self.call("teardown", 1)?,
            teardown_last: self.call("teardown", 0)?,
        })
    }
}

impl Drop for NvNet {
    /// The namespaces are removed by the caller's purge; the configs here.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// netavark's config for container `i` (the shape of reference/baselines.md), no ports.
fn nv_config(i: usize) -> String {
    format!(
        r#"{{"container_id":"{:064x}","container_name":"nv{i}","port_mappings":[],
"networks":{{"net":{{"static_ips":["172.18.0.{}"],"aliases":["nv{i}"],"interface_name":"eth0"}}}},
"network_info":{{"net":{{"name":"net","id":"{:064x}","driver":"bridge","network_interface":"nvbr0",
"subnets":[{{"subnet":"172.18.0.0/16","gateway":"172.18.0.1"}}],"ipv6_enabled":false,
"internal":false,"dns_enabled":false,"ipam_options":{{"driver":"host-local"}}}}}}}}"#,
        i + 1,
        i + 2,
        0xdbu8
    )
}

//! Docker's privileges for a container's processes: its default capability set (the 14
//! of a `docker run` without flags), `--cap-add` / `--cap-drop` / `--privileged`,
//! `no_new_privs`, and a seccomp filter refusing what Docker's default profile refuses
//! to a container without the matching capability (mount, setns, unshare, pivot_root,
//! kexec_load, init_module, bpf, ...). The filter is built with `seccompiler` (a
//! maintained crate), not assembled by hand.
//!
//! Applied by the container's init after its mounts and before its command, and by
//! `exec` after it joined the container's namespaces: what either starts inherits it.

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};
use std::collections::BTreeMap;

/// Capability names by number (linux/capability.h), without the `CAP_` prefix.
const CAPS: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Docker's default capabilities (moby `oci/caps/defaults.go`).
pub const DEFAULT_CAPS: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// What a container's processes may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Privileges {
    /// Capability bits (bit N = capability number N).
    pub caps: u64,
    /// Whether the seccomp filter applies (not with `--privileged`).
    pub seccomp: bool,
}

impl Default for Privileges {
    fn default() -> Self {
        Privileges::docker(&[], &[], false).expect("the defaults are valid")
    }
}

fn cap_bit(name: &str) -> Option<u64> {
    let n = name.to_ascii_uppercase();
    let n = n.strip_prefix("CAP_").unwrap_or(&n);
    CAPS.iter().position(|c| *c == n).map(|i| 1u64 << i)
}

fn all_caps() -> u64 {
    (1u64 << CAPS.len()) - 1
}

impl Privileges {
    /// Docker's computation (`caps.TweakCapabilities`): the defaults, minus
    /// `--cap-drop`, plus `--cap-add`; `ALL` in either; `--privileged` gets everything
    /// and no filter. Unknown names get Docker's error.
    pub fn docker(add: &[String], drop: &[String], privileged: bool) -> Result<Privileges, String> {
        if privileged {
            return Ok(Privileges {
                caps: all_caps(),
                seccomp: false,
            });
        }
        let parse = |list: &[String], what: &str| -> Result<(bool, u64), String> {
            let mut bits = 0;
            let mut all = false;
            for c in list {
                if c.eq_ignore_ascii_case("ALL") {
                    all = true;
                    continue;
                }
                bits |= cap_bit(c).ok_or_else(|| {
                    format!(
                        "Error response from daemon: invalid {what}: unknown capability: \"CAP_{}\"",
                        c.to_ascii_uppercase().trim_start_matches("CAP_")
                    )
                })?;
            }
            Ok((all, bits))
        };
        let (add_all, add_bits) = parse(add, "CapAdd")?;
        let (drop_all, drop_bits) = parse(drop, "CapDrop")?;
        let mut caps: u64 = DEFAULT_CAPS
            .iter()
            .filter_map(|c| cap_bit(c))
            .fold(0, |a, b| a | b);
        if drop_all {
            caps = 0;
        }
        caps &= !drop_bits;
        caps |= if add_all { all_caps() } else { add_bits };
        Ok(Privileges {
            caps,
            seccomp: true,
        })
    }

    /// Whether a capability (by name, without `CAP_`) is in the set.
    pub fn has(&self, name: &str) -> bool {
        cap_bit(name).is_some_and(|b| self.caps & b != 0)
    }

    /// The names of the capabilities in the set, in kernel order.
    pub fn names(&self) -> Vec<String> {
        CAPS.iter()
            .enumerate()
            .filter(|(i, _)| self.caps & (1 << i) != 0)
            .map(|(_, c)| format!("CAP_{c}"))
            .collect()
    }

    /// The seccomp programs this set needs (empty for `--privileged`).
    pub fn filters(&self) -> Result<Vec<BpfProgram>, String> {
        if !self.seccomp {
            return Ok(Vec::new());
        }
        let arch = std::env::consts::ARCH
            .try_into()
            .map_err(|e| format!("seccomp: {e:?}"))?;
        let mut denied: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
        let mut deny = |nr: libc::c_long| {
            denied.insert(nr, Vec::new());
        };
        // Never allowed in Docker's profile.
        for nr in [
            libc::SYS_keyctl,
            libc::SYS_add_key,
            libc::SYS_request_key,
            libc::SYS_userfaultfd,
            libc::SYS_kexec_file_load,
        ] {
            deny(nr);
        }
        let gated: &[(&str, &[libc::c_long])] = &[
            (
                "SYS_ADMIN",
                &[
                    libc::SYS_mount,
                    libc::SYS_umount2,
                    libc::SYS_setns,
                    libc::SYS_unshare,
                    libc::SYS_pivot_root,
                    libc::SYS_swapon,
                    libc::SYS_swapoff,
                    libc::SYS_quotactl,
                    libc::SYS_sethostname,
                    libc::SYS_setdomainname,
                    libc::SYS_fanotify_init,
                    libc::SYS_lookup_dcookie,
                    libc::SYS_fsopen,
                    libc::SYS_fsmount,
                    libc::SYS_fsconfig,
                    libc::SYS_fspick,
                    libc::SYS_move_mount,
                    libc::SYS_open_tree,
                ],
            ),
            ("SYS_BOOT", &[libc::SYS_reboot, libc::SYS_kexec_load]),
            (
                "SYS_MODULE",
                &[
                    libc::SYS_init_module,
                    libc::SYS_finit_module,
                    libc::SYS_delete_module,
                ],
            ),
            ("SYS_PACCT", &[libc::SYS_acct]),
            (
                "SYS_TIME",
                &[libc::SYS_settimeofday, libc::SYS_clock_settime],
            ),
            ("SYS_RAWIO", &[libc::SYS_iopl, libc::SYS_ioperm]),
            (
                "DAC_READ_SEARCH",
                &[libc::SYS_open_by_handle_at, libc::SYS_name_to_handle_at],
            ),
            ("SYSLOG", &[libc::SYS_syslog]),
            ("BPF", &[libc::SYS_bpf]),
            ("PERFMON", &[libc::SYS_perf_event_open]),
        ];
        for (cap, nrs) in gated {
            let allowed =
                self.has(cap) || (*cap == "BPF" || *cap == "PERFMON") && self.has("SYS_ADMIN");
            if !allowed {
                for nr in *nrs {
                    deny(*nr);
                }
            }
        }
        if !self.has("SYS_ADMIN") {
            // clone(2) that would create namespaces: one rule per flag (rules are OR'ed).
            let flags = [
                libc::CLONE_NEWNS,
                libc::CLONE_NEWUTS,
                libc::CLONE_NEWIPC,
                libc::CLONE_NEWUSER,
                libc::CLONE_NEWPID,
                libc::CLONE_NEWNET,
                libc::CLONE_NEWCGROUP,
            ];
            let rules = flags
                .iter()
                .map(|f| {
                    let f = *f as u64;
                    SeccompCondition::new(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(f), f)
                        .and_then(|c| SeccompRule::new(vec![c]))
                        .map_err(|e| format!("seccomp: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            denied.insert(libc::SYS_clone, rules);
        }
        let eperm = SeccompFilter::new(
            denied,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            arch,
        )
        .map_err(|e| format!("seccomp: {e}"))?;
        let mut out: Vec<BpfProgram> =
            vec![eperm.try_into().map_err(|e| format!("seccomp: {e:?}"))?];
        if !self.has("SYS_ADMIN") {
            // clone3 passes its flags in memory, out of a filter's reach: Docker answers
            // ENOSYS so that libc falls back to clone(2), which the filter can check.
            let mut c3 = BTreeMap::new();
            c3.insert(libc::SYS_clone3, Vec::new());
            let f = SeccompFilter::new(
                c3,
                SeccompAction::Allow,
                SeccompAction::Errno(libc::ENOSYS as u32),
                arch,
            )
            .map_err(|e| format!("seccomp: {e}"))?;
            out.push(f.try_into().map_err(|e| format!("seccomp: {e:?}"))?);
        }
        Ok(out)
    }

    /// Restrict the calling (single-threaded) process: drop every capability outside
    /// the set from the bounding set (so that no exec brings them back to root), set
    /// the process's own sets, `no_new_privs`, then the filters.
    pub fn apply(&self) -> Result<(), String> {
        let filters = self.filters()?;
        // Every capability number the kernel might know: one past its last answers
        // EINVAL, which is skipped (no read of /proc/sys/kernel/cap_last_cap).
        for cap in 0..64u32 {
            if self.caps & (1 << cap) == 0 {
                // SAFETY: prctl with plain integer arguments.
                let r =
                    unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
                if r != 0 {
                    if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
                        break;
                    }
                    return Err(format!(
                        "dropping capability {cap}: {}",
                        std::io::Error::last_os_error()
                    ));
                }
            }
        }
        #[repr(C)]
        struct Header {
            version: u32,
            pid: i32,
        }
        #[repr(C)]
        #[derive(Clone, Copy, Default)]
        struct Data {
            effective: u32,
            permitted: u32,
            inheritable: u32,
        }
        let mut header = Header {
            version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
            pid: 0,
        };
        // Never more than we hold: a machine (or a sandbox around it) may already lack
        // some, and asking for them makes capset fail.
        let mut now = [Data::default(); 2];
        // SAFETY: capget with a v3 header and room for two data structs.
        let got = unsafe {
            libc::syscall(
                libc::SYS_capget,
                &mut header as *mut Header,
                now.as_mut_ptr(),
            )
        };
        let held = if got == 0 {
            u64::from(now[0].permitted) | (u64::from(now[1].permitted) << 32)
        } else {
            u64::MAX
        };
        let caps = self.caps & held;
        let lo = caps as u32;
        let hi = (caps >> 32) as u32;
        let data = [
            Data {
                effective: lo,
                permitted: lo,
                inheritable: lo,
            },
            Data {
                effective: hi,
                permitted: hi,
                inheritable: hi,
            },
        ];
        // SAFETY: capset with a v3 header and two data structs, as the kernel expects.
        let r =
            unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr()) };
        if r != 0 {
            return Err(format!("capset: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: prctl with plain integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(format!("no_new_privs: {}", std::io::Error::last_os_error()));
        }
        for f in &filters {
            seccompiler::apply_filter(f).map_err(|e| format!("seccomp: {e}"))?;
        }
        Ok(())
    }

    /// The form handed to `exec` in its environment: `CAPS_HEX:SECCOMP(0|1)`.
    pub fn to_env(self) -> String {
        format!("{:x}:{}", self.caps, u8::from(self.seccomp))
    }

    /// Read back [`Privileges::to_env`].
    pub fn from_env(s: &str) -> Option<Privileges> {
        let (caps, seccomp) = s.split_once(':')?;
        Some(Privileges {
            caps: u64::from_str_radix(caps, 16).ok()?,
            seccomp: seccomp == "1",
        })
    }
}

/// The environment variable that carries an `exec`'s privileges to `__enter`.
pub const PRIVILEGES_ENV: &str = "DOCKERNET_PRIVILEGES";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_dockers_fourteen() {
        let p = Privileges::default();
        assert_eq!(p.names().len(), 14);
        assert!(p.has("NET_RAW") && p.has("CHOWN") && !p.has("NET_ADMIN") && !p.has("SYS_ADMIN"));
        assert!(p.seccomp);
    }

    #[test]
    fn add_drop_all_and_privileged() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let p = Privileges::docker(&s(&["NET_ADMIN"]), &s(&["cap_net_raw"]), false).unwrap();
        assert!(p.has("NET_ADMIN") && !p.has("NET_RAW"));
        let p = Privileges::docker(&s(&["NET_BIND_SERVICE"]), &s(&["ALL"]), false).unwrap();
        assert_eq!(p.names(), vec!["CAP_NET_BIND_SERVICE"]);
        let p = Privileges::docker(&[], &[], true).unwrap();
        assert!(p.has("SYS_ADMIN") && !p.seccomp);
        let e = Privileges::docker(&s(&["FOO"]), &[], false).unwrap_err();
        assert_eq!(
            e,
            "Error response from daemon: invalid CapAdd: unknown capability: \"CAP_FOO\""
        );
        assert_eq!(Privileges::from_env(&p.to_env()), Some(p));
    }

    #[test]
    fn the_filter_compiles_for_every_set() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(Privileges::default().filters().unwrap().len(), 2);
        let admin = Privileges::docker(&s(&["SYS_ADMIN"]), &[], false).unwrap();
        assert_eq!(admin.filters().unwrap().len(), 1);
        assert!(
            Privileges::docker(&[], &[], true)
                .unwrap()
                .filters()
                .unwrap()
                .is_empty()
        );
    }
}

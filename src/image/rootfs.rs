//! Containers' root filesystems. Each built-in image gets, once per lab, a read-only
//! tree of its own (the image's layer): a busybox userland (the host's static busybox,
//! copied), dockernet's own programs (`httpd-foreground`, `curl`, ...) as links to one
//! read-only bind of this binary, the C library directories it needs (read-only binds
//! of the host's), and an /etc of its own. A container without an image (`run -- CMD`,
//! a host command) gets the host's /usr read-only instead of busybox. Nothing else of the
//! machine is in either: not /home, /root, /etc, /run, the checkouts.
//!
//! Each container then gets a writable overlay on that layer (`upper`/`work` in its own
//! directory, removed with it) mounted by its init inside its own mount namespace, which
//! `pivot_root`s into it (see `container::init`).

use super::{BuiltinImage, Userland};
use crate::error::{Context, Result};
use crate::lab::Lab;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

/// Bump when the layout of an image tree changes: older trees are built again.
const LAYOUT: &str = "2";

/// Where dockernet's own programs live inside every image.
pub const APPLET_DIR: &str = "/usr/local/bin";
/// iputils' ping on the host, taken by the Debian-like images.
const HOST_PING: &str = "/usr/bin/ping";
/// Where they live in the host-command image (its /usr is the host's, read-only).
const HOST_APPLET_DIR: &str = "/.dockernet/bin";

/// How a container's init builds its root filesystem.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RootfsConfig {
    /// The image's read-only tree (the overlay's lower layer).
    pub lower: String,
    /// The container's writable layer.
    pub upper: String,
    /// Overlayfs's work directory (same file system as `upper`).
    pub work: String,
    /// Where the overlay is mounted before `pivot_root`.
    pub target: String,
    /// Read-only binds: (path on the host, path inside the container).
    pub ro_binds: Vec<(String, String)>,
    /// The image's working directory (`WORKDIR`).
    pub workdir: String,
    /// Docker's masked and read-only /proc and /sys paths (not with `--privileged`).
    pub masked: bool,
}

/// The host's C library directories the dockernet binary (and host commands) need.
fn library_dirs() -> Vec<&'static str> {
    [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
    ]
    .into_iter()
    .filter(|d| Path::new(d).is_dir())
    .collect()
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_ctx(|| format!("writing {}", path.display()))
}

fn mkdirs(root: &Path, dirs: &[&str]) -> Result<()> {
    for d in dirs {
        let p = root.join(d.trim_start_matches('/'));
        std::fs::create_dir_all(&p).with_ctx(|| format!("creating {}", p.display()))?;
    }
    Ok(())
}

/// The image's working directory (`/` without an image).
pub fn workdir(image: Option<&BuiltinImage>) -> &'static str {
    image.map_or("/", |i| i.workdir)
}

/// Whether the image takes the host's /usr (read-only) rather than a busybox userland:
/// the host-command case and the Debian-like images (`ubuntu`, `debian`).
fn host_userland(image: Option<&BuiltinImage>) -> bool {
    image.is_none_or(|i| i.userland == Userland::Host)
}

/// The image's tree for this lab, built on first use.
pub fn ensure(lab: &Lab, image: Option<&BuiltinImage>) -> Result<PathBuf> {
    let name = image.map(|i| i.name).unwrap_or("host");
    let root = lab.image_bin("roots").join(name);
    let marker = root.join(".dockernet-layout");
    if std::fs::read_to_string(&marker).is_ok_and(|s| s == LAYOUT) {
        return Ok(root);
    }
    let _ = std::fs::remove_dir_all(&root);
    mkdirs(
        &root,
        &[
            "etc", "root", "home", "tmp", "var/tmp", "var/log", "run", "proc", "sys", "dev", "mnt",
            "opt", "srv",
        ],
    )?;
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777))?;
    std::fs::set_permissions(
        root.join("var/tmp"),
        std::fs::Permissions::from_mode(0o1777),
    )?;
    std::fs::set_permissions(root.join("root"), std::fs::Permissions::from_mode(0o700))?;
    let wd = workdir(image);
    mkdirs(&root, &[wd])?;
    let applets = if !host_userland(image) {
        build_busybox_userland(&root)?;
        APPLET_DIR
    } else {
        // The host's /usr, read-only, as merged-/usr Debian lays it out.
        mkdirs(&root, &["usr"])?;
        for (link, to) in [
            ("bin", "usr/bin"),
            ("sbin", "usr/sbin"),
            ("lib", "usr/lib"),
            ("lib64", "usr/lib64"),
        ] {
            symlink(to, root.join(link))?;
        }
        HOST_APPLET_DIR
    };
    let dir = root.join(applets.trim_start_matches('/'));
    std::fs::create_dir_all(&dir)?;
    // The mount point of the read-only bind of this binary, and its applets' links.
    write(&dir.join("dockernet"), "")?;
    let own = image.map_or(&[][..], |i| i.own_applets);
    for a in super::APPLETS.iter().chain(own) {
        let _ = std::fs::remove_file(dir.join(a));
        symlink("dockernet", dir.join(a))?;
    }
    let etc = root.join("etc");
    let shell = if host_userland(image) {
        "/bin/bash"
    } else {
        "/bin/sh"
    };
    write(
        &etc.join("passwd"),
        &format!(
            "root:x:0:0:root:/root:{shell}\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
        ),
    )?;
    write(&etc.join("group"), "root:x:0:\nnogroup:x:65534:\n")?;
    write(
        &etc.join("nsswitch.conf"),
        "hosts: files dns\nnetworks: files\n",
    )?;
    // Mount points for Docker's three files (bind-mounted by the init).
    for f in ["hosts", "hostname", "resolv.conf"] {
        write(&etc.join(f), "")?;
    }
    if let Some(text) = image.and_then(|i| i.os_release) {
        write(&etc.join("os-release"), text)?;
    }
    for (path, text) in image
        .map(|i| super::distro::extra_files(i.name))
        .unwrap_or_default()
    {
        let p = root.join(path.trim_start_matches('/'));
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        write(&p, text)?;
    }
    write(&marker, LAYOUT)?;
    Ok(root)
}

/// /bin/busybox (a copy of the host's static one) and a link per applet, in /bin.
fn build_busybox_userland(root: &Path) -> Result<()> {
    mkdirs(
        root,
        &[
            "bin",
            "sbin",
            "usr/bin",
            "usr/sbin",
            "usr/lib",
            "usr/local/bin",
            "usr/local/sbin",
        ],
    )?;
    symlink("usr/lib", root.join("lib"))?;
    symlink("usr/lib64", root.join("lib64"))?;
    for d in library_dirs() {
        mkdirs(root, &[d])?;
    }
    let Some(busybox) = crate::util::which("busybox") else {
        return Ok(());
    };
    let dst = root.join("bin/busybox");
    std::fs::copy(&busybox, &dst).ctx("copying busybox into the image")?;
    std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o755))?;
    let out = std::process::Command::new(&busybox)
        .arg("--list-full")
        .output()
        .ctx("listing busybox applets")?;
    for path in String::from_utf8_lossy(&out.stdout).lines() {
        let path = path.trim();
        if path.is_empty() || path == "bin/busybox" || path.contains("..") {
            continue;
        }
        let link = root.join(path);
        if link.exists() || link.symlink_metadata().is_ok() {
            continue;
        }
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent)?;
        }
        symlink("/bin/busybox", &link)?;
    }
    Ok(())
}

/// The mount plan for one container of `image`, its layers under `dir`.
pub fn plan(
    lab: &Lab,
    image: Option<&BuiltinImage>,
    dir: &Path,
    masked: bool,
) -> Result<RootfsConfig> {
    let lower = ensure(lab, image)?;
    for d in ["upper", "work", "rootfs"] {
        std::fs::create_dir_all(dir.join(d))?;
    }
    let exe = super::self_exe()?;
    let applets = if host_userland(image) {
        HOST_APPLET_DIR
    } else {
        APPLET_DIR
    };
    let mut ro_binds: Vec<(String, String)> = Vec::new();
    if host_userland(image) {
        ro_binds.push(("/usr".into(), "/usr".into()));
        for f in [
            "alternatives",
            "protocols",
            "services",
            "ethertypes",
            "iproute2",
            "ld.so.cache",
        ] {
            let p = Path::new("/etc").join(f);
            if p.exists() {
                ro_binds.push((p.display().to_string(), p.display().to_string()));
            }
        }
    } else {
        for d in library_dirs() {
            ro_binds.push((d.into(), d.into()));
        }
        // The Debian-based images of the articles had iputils' ping (its replies name
        // the peer: `64 bytes from tomcat02.mynet (172.18.0.3)`): the host's, read-only.
        if image.is_some_and(|i| !i.uses_busybox) && Path::new(HOST_PING).exists() {
            ro_binds.push((HOST_PING.into(), HOST_PING.into()));
        }
    }
    ro_binds.push((exe.display().to_string(), format!("{applets}/dockernet")));
    Ok(RootfsConfig {
        lower: lower.display().to_string(),
        upper: dir.join("upper").display().to_string(),
        work: dir.join("work").display().to_string(),
        target: dir.join("rootfs").display().to_string(),
        ro_binds,
        workdir: workdir(image).into(),
        masked,
    })
}

/// The PATH of a container of `image` inside its own root filesystem.
pub fn container_path(image: Option<&BuiltinImage>) -> String {
    if host_userland(image) {
        format!("{}:{HOST_APPLET_DIR}", super::install::STANDARD_PATH)
    } else {
        super::install::STANDARD_PATH.to_string()
    }
}

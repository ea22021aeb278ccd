//! Making the built-in images' programs available inside containers: a per-lab
//! directory of links, put first on the container's PATH. `busybox` links every applet
//! of the host's busybox; `applets` links dockernet's own applets (`curl`,
//! `redis-cli`, ...) to this binary, which dispatches on argv[0] like busybox.

use super::{APPLETS, BuiltinImage};
use crate::error::{Context, Error, Result};
use crate::lab::Lab;
use std::path::PathBuf;

/// The standard PATH Docker images set.
pub const STANDARD_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Path of the running dockernet binary.
pub fn self_exe() -> Result<PathBuf> {
    std::fs::read_link("/proc/self/exe").ctx("finding the dockernet binary")
}

/// Create the lab's link directories. Busybox is optional: without it the busybox
/// image is refused with a hint, everything else works.
pub fn install_bins(lab: &Lab) -> Result<()> {
    let exe = self_exe()?;
    let applets = lab.image_bin("applets");
    // Left 0755, not private like the rest of the lab directory: containers' processes
    // run programs from here through their PATH. The 0700 lab directory above still
    // keeps other users of the machine out; a container's root passes it (its
    // CAP_DAC_OVERRIDE is in Docker's default set).
    std::fs::create_dir_all(&applets).ctx("creating the applet directory")?;
    for a in APPLETS {
        let link = applets.join(a);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&exe, &link)
            .with_ctx(|| format!("linking {}", link.display()))?;
    }
    if let Some(busybox) = crate::util::which("busybox") {
        let dir = lab.image_bin("busybox");
        std::fs::create_dir_all(&dir).ctx("creating the busybox directory")?;
        let out = std::process::Command::new(&busybox)
            .arg("--list")
            .output()
            .ctx("listing busybox applets")?;
        for name in String::from_utf8_lossy(&out.stdout).lines() {
            let name = name.trim();
            if name.is_empty() || name.contains('/') {
                continue;
            }
            let _ = std::os::unix::fs::symlink(&busybox, dir.join(name));
        }
    }
    Ok(())
}

/// The PATH of a container running `image` (None: a host command).
pub fn container_path(_lab: &Lab, image: Option<&BuiltinImage>) -> Result<String> {
    match image.filter(|i| i.userland == super::Userland::Busybox) {
        Some(_) => {
            // These images' userland is the host's static busybox, copied in.
            if crate::util::which("busybox").is_none() {
                return Err(Error::msg(crate::ui::tr(
                    "the busybox image uses the host's busybox, which is not installed: run `sudo apt-get install busybox-static`",
                    "busybox 镜像使用宿主机的 busybox，但它没有安装：请运行 `sudo apt-get install busybox-static`",
                )));
            }
            Ok(super::rootfs::container_path(image))
        }
        None => Ok(super::rootfs::container_path(None)),
    }
}

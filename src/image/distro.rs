//! The distributions the built-in images say they are: the `/etc/os-release` texts of
//! the real images' bases (Docker's `httpd`, `nginx` and `redis` are Debian 12, `tomcat`
//! Ubuntu 24.04), and the few other files of theirs that tutorials `cat`.

/// Alpine 3.21's `/etc/os-release`.
pub const ALPINE: &str = "NAME=\"Alpine Linux\"
ID=alpine
VERSION_ID=3.21.3
PRETTY_NAME=\"Alpine Linux v3.21\"
HOME_URL=\"https://alpinelinux.org/\"
BUG_REPORT_URL=\"https://gitlab.alpinelinux.org/alpine/aports/-/issues\"
";

/// Debian 12's `/etc/os-release`.
pub const DEBIAN: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"
NAME=\"Debian GNU/Linux\"
VERSION_ID=\"12\"
VERSION=\"12 (bookworm)\"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL=\"https://www.debian.org/\"
SUPPORT_URL=\"https://www.debian.org/support\"
BUG_REPORT_URL=\"https://bugs.debian.org/\"
";

/// Ubuntu 24.04's `/etc/os-release`.
pub const UBUNTU: &str = "PRETTY_NAME=\"Ubuntu 24.04.2 LTS\"
NAME=\"Ubuntu\"
VERSION_ID=\"24.04\"
VERSION=\"24.04.2 LTS (Noble Numbat)\"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
HOME_URL=\"https://www.ubuntu.com/\"
SUPPORT_URL=\"https://help.ubuntu.com/\"
BUG_REPORT_URL=\"https://bugs.launchpad.net/ubuntu/\"
UBUNTU_CODENAME=noble
LOGO=ubuntu-logo
";

/// nginx's default `/usr/share/nginx/html/index.html` (615 bytes), served on port 80.
pub const NGINX_WELCOME: &str = "<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href=\"http://nginx.org/\">nginx.org</a>.<br/>
Commercial support is available at
<a href=\"http://nginx.com/\">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
";

/// Files of the image `name` besides os-release: `(path inside, text)`.
pub fn extra_files(name: &str) -> Vec<(&'static str, &'static str)> {
    match name {
        "alpine" => vec![("/etc/alpine-release", "3.21.3\n")],
        "nginx" => vec![
            ("/etc/debian_version", "12.10\n"),
            ("/usr/share/nginx/html/index.html", NGINX_WELCOME),
        ],
        "debian" | "httpd" | "redis" => vec![("/etc/debian_version", "12.10\n")],
        "ubuntu" | "tomcat" => vec![("/etc/debian_version", "trixie/sid\n")],
        _ => Vec::new(),
    }
}

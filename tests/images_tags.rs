//! The images tutorials use (issue 10, item 4): every built-in image starts with its
//! default command, in its WORKDIR, says which distribution it is; any tag of a
//! built-in name is accepted and shown as typed; `apk` says the lab is offline; nginx
//! serves its welcome page to another container.

mod common;

use common::*;
use std::time::Duration;

/// (image, WORKDIR, the `ID=` line of its /etc/os-release; None: it has none, as
/// Docker's busybox).
const IMAGES: &[(&str, &str, Option<&str>)] = &[
    ("busybox", "/", None),
    ("alpine", "/", Some("ID=alpine")),
    ("httpd", "/usr/local/apache2", Some("ID=debian")),
    ("nginx", "/", Some("ID=debian")),
    ("redis", "/data", Some("ID=debian")),
    ("tomcat", "/usr/local/tomcat", Some("ID=ubuntu")),
    ("ubuntu", "/", Some("ID=ubuntu")),
    ("debian", "/", Some("ID=debian")),
];

/// I01: each image runs; `exec NAME pwd` prints its WORKDIR and /etc/os-release names
/// its distribution.
#[test]
fn i01_every_image_has_its_workdir_and_os_release() {
    let lab = Lab::new("i01_workdirs");
    for (image, _, _) in IMAGES {
        lab.run_d(&format!("c-{image}"), &[image, "sleep", "600"]);
    }
    for (image, workdir, id) in IMAGES {
        let name = format!("c-{image}");
        let pwd = lab.ok(&["exec", &name, "pwd"]);
        assert_eq!(pwd.trim(), *workdir, "expected {image}'s WORKDIR");
        let o = lab.dn(&["exec", &name, "cat", "/etc/os-release"]);
        match id {
            Some(id) => assert!(
                o.status.success() && stdout(&o).lines().any(|l| l == *id),
                "expected {id} in {image}'s /etc/os-release: {}",
                describe("cat /etc/os-release", &o)
            ),
            None => assert!(
                !o.status.success(),
                "expected {image} to have no /etc/os-release, as Docker's: {}",
                describe("cat /etc/os-release", &o)
            ),
        }
    }
}

/// I02: the shells' default commands run (`sh`, `/bin/sh`, `bash` end at the end of
/// stdin with 0); alpine has ash, ubuntu and debian have bash and GNU coreutils.
#[test]
fn i02_shell_images_default_commands_and_tools() {
    let lab = Lab::new("i02_shells");
    for (image, cmd) in [
        ("busybox", "[\"sh\"]"),
        ("alpine", "[\"/bin/sh\"]"),
        ("ubuntu", "[\"bash\"]"),
        ("debian", "[\"bash\"]"),
    ] {
        let name = format!("d-{image}");
        lab.ok(&["run", "--name", &name, image]);
        let v = lab.inspect(&name);
        assert_eq!(
            v["Config"]["Cmd"].to_string(),
            cmd,
            "expected {image}'s default command"
        );
        assert_eq!(
            v["State"]["ExitCode"], 0,
            "expected {image}'s shell to exit 0"
        );
    }
    let out = lab.ok(&["run", "--rm", "alpine", "ash", "-c", "echo ash:$0"]);
    assert_eq!(out.trim(), "ash:ash", "expected ash in alpine");
    for image in ["ubuntu", "debian"] {
        let out = lab.ok(&[
            "run",
            "--rm",
            image,
            "bash",
            "-c",
            "echo bash:$BASH_VERSION; ls --version | head -1",
        ]);
        assert!(
            out.starts_with("bash:") && out.contains("GNU coreutils"),
            "expected bash and GNU coreutils in {image}, saw {out:?}"
        );
    }
}

/// I03: `apk add curl` in alpine fails at once with exit 1 and says the lab is offline.
#[test]
fn i03_apk_says_the_lab_is_offline() {
    let lab = Lab::new("i03_apk");
    lab.run_d("al", &["alpine:3.21", "sleep", "600"]);
    let o = lab.dn(&["exec", "al", "apk", "add", "curl"]);
    assert_eq!(o.status.code(), Some(1), "{}", describe("apk add curl", &o));
    assert!(
        stderr(&o).contains("offline"),
        "expected apk to say the lab is offline, saw {:?}",
        stderr(&o)
    );
}

/// I04: nginx's default command (`nginx -g 'daemon off;'`) answers "Welcome to nginx!"
/// on port 80 to another container, with nginx's Server header.
#[test]
fn i04_nginx_welcomes_another_container() {
    let lab = Lab::new("i04_nginx");
    lab.run_d("web", &["nginx:latest"]);
    lab.run_d("client", &["alpine", "sleep", "600"]);
    let v = lab.inspect("web");
    assert_eq!(
        v["Config"]["Cmd"].to_string(),
        r#"["nginx","-g","daemon off;"]"#,
        "expected nginx's default command"
    );
    let ip = lab.ip_of("web");
    let url = format!("http://{ip}/");
    let body = retry("wget the nginx container", Duration::from_secs(5), || {
        let o = lab.dn(&["exec", "client", "timeout", "5", "wget", "-qO-", &url]);
        if o.status.success() {
            Ok(stdout(&o))
        } else {
            Err(describe("wget", &o))
        }
    });
    assert!(
        body.contains("<h1>Welcome to nginx!</h1>"),
        "expected nginx's welcome page, saw {body:?}"
    );
    let head = lab.dn(&["exec", "client", "curl", "-sI", "--max-time", "5", &url]);
    assert!(
        stdout(&head).contains("Server: nginx/"),
        "expected nginx's Server header: {}",
        describe("curl -I", &head)
    );
}

/// I05: any tag of a built-in name runs, and `ps` and `inspect` show the image as typed.
#[test]
fn i05_tags_are_accepted_and_shown_as_typed() {
    let lab = Lab::new("i05_tags");
    let typed = [
        ("t1", "redis:alpine"),
        ("t2", "busybox:latest"),
        ("t3", "httpd:2.4"),
        ("t4", "library/nginx"),
        ("t5", "docker.io/library/redis:7"),
    ];
    for (name, image) in typed {
        lab.run_d(name, &[image]);
    }
    lab.run_d("t6", &["busybox:1.36", "sleep", "600"]);
    let ps = lab.ok(&["ps"]);
    for (name, image) in typed.iter().filter(|(n, _)| *n != "t2") {
        let line = ps
            .lines()
            .find(|l| l.ends_with(&format!(" {name}")))
            .unwrap_or_else(|| panic!("expected {name} in ps, saw:\n{ps}"));
        assert!(
            line.split_whitespace().nth(1) == Some(image),
            "expected IMAGE {image} for {name}, saw {line:?}"
        );
        assert_eq!(lab.inspect(name)["Config"]["Image"], *image);
    }
    assert_eq!(lab.inspect("t6")["Config"]["Image"], "busybox:1.36");
    let o = lab.fails(&["run", "-d", "centos:7"]);
    assert_eq!(
        o.status.code(),
        Some(125),
        "{}",
        describe("run centos:7", &o)
    );
    let err = stderr(&o);
    assert!(
        err.contains("'centos:7'")
            && err.contains("busybox, alpine, httpd, nginx, redis, tomcat, ubuntu, debian"),
        "expected the built-in images listed, saw {err:?}"
    );
}

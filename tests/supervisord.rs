//! examples/supervisord.toml against a real supervisord (Debian's
//! `supervisor` package) listening only on a Unix socket, driven by the real
//! `supervisorctl` through the real binary over TCP: status, stop, start,
//! tail, a fault passing through, and the gateway's own credentials.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use common::{Binary, TempDir, python, tool, wait_until};

const PASSWORD: &str = "s3cret-for-the-test";

/// A supervisord in the foreground; stopped by its pid when dropped (a
/// SIGTERM, so that it stops its programs, then SIGKILL if it lingers),
/// whether the test passed or not.
struct Supervisord {
    child: Child,
    socket: PathBuf,
}

impl Supervisord {
    /// Starts supervisord in `dir` with a Unix socket and no inet server,
    /// running `sleeper` (`sleep 1000`) and `ticker` (prints `tick N`).
    fn start(dir: &Path) -> Supervisord {
        let socket = dir.join("supervisor.sock");
        let d = dir.display();
        let conf = dir.join("supervisord.conf");
        std::fs::write(
            &conf,
            format!(
                "[unix_http_server]
file={d}/supervisor.sock

[supervisord]
nodaemon=true
logfile={d}/supervisord.log
pidfile={d}/supervisord.pid
childlogdir={d}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:sleeper]
command=sleep 1000
autorestart=false
startsecs=1

[program:ticker]
command=/bin/sh -c 'i=0; while true; do i=$((i+1)); echo \"tick $i\"; sleep 0.2; done'
autorestart=false
startsecs=1
"
            ),
        )
        .unwrap();
        let child = Command::new("supervisord")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("supervisord starts");
        Supervisord { child, socket }
    }
}

impl Drop for Supervisord {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `supervisorctl -s http://ADDR [-u admin -p PASSWORD] ARGS...`, with a
/// config file of its own (it would otherwise read a supervisord.conf it
/// finds); stdout and stderr together.
fn ctl(dir: &Path, addr: &str, password: Option<&str>, args: &[&str]) -> (Option<i32>, String) {
    ctl_as(dir, addr, "admin", password, args)
}

/// As [`ctl`], as `user`.
fn ctl_as(
    dir: &Path,
    addr: &str,
    user: &str,
    password: Option<&str>,
    args: &[&str],
) -> (Option<i32>, String) {
    let conf = dir.join("supervisorctl.conf");
    std::fs::write(&conf, "[supervisorctl]\n").unwrap();
    let mut cmd = Command::new("supervisorctl");
    cmd.arg("-c")
        .arg(&conf)
        .args(["-s", &format!("http://{addr}")]);
    if let Some(password) = password {
        cmd.args(["-u", user, "-p", password]);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.args(args).output().expect("supervisorctl runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (status.code(), text)
}

/// The state column of `name` in `supervisorctl status` output.
fn state<'a>(status: &'a str, name: &str) -> Option<&'a str> {
    status.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some(name)).then(|| words.next()).flatten()
    })
}

#[test]
fn supervisorctl_drives_a_real_supervisord_on_a_unix_socket_through_the_gateway() {
    if tool("supervisord", "supervisor").is_none() || tool("supervisorctl", "supervisor").is_none()
    {
        return;
    }
    let dir = TempDir::new();
    let supervisord = Supervisord::start(&dir.0);
    wait_until(Duration::from_secs(20), || supervisord.socket.exists());

    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/supervisord.toml");
    let socket = supervisord.socket.to_str().unwrap();
    let gateway = Binary::start_env(
        &std::fs::read_to_string(example).unwrap(),
        &[
            ("XMLRPC_GATEWAY__BACKENDS__SUPERVISORD__SOCKET", socket),
            ("SUPERVISORD_GATEWAY_PASSWORD", PASSWORD),
        ],
    );
    let addr = gateway.addr.to_string();
    let run = |args: &[&str]| ctl(&dir.0, &addr, Some(PASSWORD), args);

    // status: both programs, once their startsecs have passed.
    let mut status = String::new();
    wait_until(Duration::from_secs(20), || {
        status = run(&["status"]).1;
        state(&status, "sleeper") == Some("RUNNING") && state(&status, "ticker") == Some("RUNNING")
    });
    assert!(status.contains("pid "), "{status}");

    // stop, then start: supervisord's own answers, through the gateway.
    let (code, out) = run(&["stop", "sleeper"]);
    assert_eq!((code, out.trim()), (Some(0), "sleeper: stopped"), "{out}");
    let (_, status) = run(&["status"]);
    assert_eq!(state(&status, "sleeper"), Some("STOPPED"), "{status}");
    assert_eq!(state(&status, "ticker"), Some("RUNNING"), "{status}");
    let (code, out) = run(&["start", "sleeper"]);
    assert_eq!((code, out.trim()), (Some(0), "sleeper: started"), "{out}");
    let (_, status) = run(&["status"]);
    assert_eq!(state(&status, "sleeper"), Some("RUNNING"), "{status}");

    // tail: the program's output, read over the socket.
    let mut tail = String::new();
    wait_until(Duration::from_secs(10), || {
        tail = run(&["tail", "ticker"]).1;
        tail.lines().any(|l| l.starts_with("tick "))
    });

    // A supervisord fault (BAD_NAME) passes through unchanged.
    let (code, out) = run(&["stop", "nosuch"]);
    assert_eq!(
        (code, out.trim()),
        (Some(1), "nosuch: ERROR (no such process)"),
        "{out}"
    );

    // The gateway's credentials: without them, or wrong, supervisorctl is
    // told what supervisord itself would tell it.
    for password in [None, Some("wrong")] {
        let (code, out) = ctl(&dir.0, &addr, password, &["status"]);
        assert_eq!(code, Some(1), "{out}");
        assert!(out.contains("Server requires authentication"), "{out}");
    }

    // What supervisorctl relies on, and the gateway's introspection over
    // the socket: supervisord's methods listed, its help passed on.
    let out = python(
        r#"
import os, xmlrpc.client as xc
s = xc.ServerProxy(os.environ["URL"])
print(s.supervisor.getVersion())
names = s.system.listMethods()
print("supervisor.getAllProcessInfo" in names, "supervisor.stopProcess" in names)
print(sorted(n for n in names if n.startswith("system.")))
print(s.system.methodHelp("supervisor.getVersion").split("\n")[0].strip())
"#,
        &format!("http://admin:{PASSWORD}@{addr}/RPC2"),
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "3.0",
            "True True",
            "['system.listMethods', 'system.methodHelp', 'system.methodSignature', 'system.multicall']",
            "Return the version of the RPC API used by supervisord",
        ],
        "{out}"
    );
}

/// examples/supervisord-roles.toml: `monitor` may read state and logs only,
/// `operator` may also stop and start; supervisord itself knows one
/// password for everything.
#[test]
fn a_monitor_user_reads_and_cannot_stop_while_an_operator_can() {
    if tool("supervisord", "supervisor").is_none() || tool("supervisorctl", "supervisor").is_none()
    {
        return;
    }
    let dir = TempDir::new();
    let supervisord = Supervisord::start(&dir.0);
    wait_until(Duration::from_secs(20), || supervisord.socket.exists());
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/supervisord-roles.toml"
    );
    let socket = supervisord.socket.to_str().unwrap();
    let gateway = Binary::start_env(
        &std::fs::read_to_string(example).unwrap(),
        &[
            ("XMLRPC_GATEWAY__BACKENDS__SUPERVISORD__SOCKET", socket),
            ("MONITOR_PASSWORD", "m-secret"),
            ("OPERATOR_PASSWORD", "o-secret"),
        ],
    );
    let addr = gateway.addr.to_string();
    let monitor = |args: &[&str]| ctl_as(&dir.0, &addr, "monitor", Some("m-secret"), args);
    let operator = |args: &[&str]| ctl_as(&dir.0, &addr, "operator", Some("o-secret"), args);

    // monitor: status works.
    let mut status = String::new();
    wait_until(Duration::from_secs(20), || {
        status = monitor(&["status"]).1;
        state(&status, "sleeper") == Some("RUNNING")
    });
    // tail works too.
    wait_until(Duration::from_secs(10), || {
        monitor(&["tail", "ticker"])
            .1
            .lines()
            .any(|l| l.starts_with("tick "))
    });
    // stop is refused (HTTP 403), and the process keeps running.
    let (code, out) = monitor(&["stop", "sleeper"]);
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains("403"), "{out}");
    assert_eq!(state(&operator(&["status"]).1, "sleeper"), Some("RUNNING"));
    // operator: stop and start work.
    let (code, out) = operator(&["stop", "sleeper"]);
    assert_eq!((code, out.trim()), (Some(0), "sleeper: stopped"), "{out}");
    let (code, out) = operator(&["start", "sleeper"]);
    assert_eq!((code, out.trim()), (Some(0), "sleeper: started"), "{out}");
    // Neither may shut supervisord down.
    let (code, out) = operator(&["shutdown"]);
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains("403"), "{out}");
    assert_eq!(state(&monitor(&["status"]).1, "sleeper"), Some("RUNNING"));
}

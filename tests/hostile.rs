//! Hostile input against the real binary: every attack of the list
//! (entities, DOCTYPE, deep nesting, huge and slow bodies, gzip bombs,
//! slowloris, idle connection floods, bad characters, giant multicalls),
//! each followed by a normal client that must be served promptly, and the
//! server's memory checked at the end. The attacks are a Python script
//! (tests/hostile/attacks.py) so they use plain sockets.

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_xmlrpc-gateway");

/// Open files the attacks need: 10,000 idle connections, and some room.
const FILES_NEEDED: u64 = 10_000 + 256;

/// Raises this process's soft open-file limit to its hard limit (the
/// gateway and the attack script, started from here, inherit it); fails,
/// saying how to fix it, when even the hard limit is too low.
fn raise_open_file_limit() {
    use rlimit::Resource;
    let (_, hard) = Resource::NOFILE.get().expect("getrlimit(RLIMIT_NOFILE)");
    assert!(
        hard >= FILES_NEEDED,
        "the hostile suite opens 10,000 connections and needs {FILES_NEEDED} open files, \
         but the hard limit is {hard}: raise it (as root `ulimit -Hn {FILES_NEEDED}`, \
         in docker `--ulimit nofile={FILES_NEEDED}`, in systemd `LimitNOFILE=`)"
    );
    Resource::NOFILE
        .set(hard, hard)
        .expect("raising the soft open-file limit to the hard limit");
}

#[test]
fn hostile_clients_do_not_hurt_the_server_or_others() {
    raise_open_file_limit();
    let dir = std::env::temp_dir().join(format!("xg-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("gateway.toml");
    // Default limits, except short timeouts so the slow-client attacks end quickly.
    std::fs::write(
        &cfg,
        "[server]\nlog_requests = false\n[limits]\nheader_read_timeout = \"2s\"\nbody_read_timeout = \"2s\"\nmax_string_bytes = 4194304\n",
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(BIN)
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "gateway did not start");
        std::thread::sleep(Duration::from_millis(25));
    }
    let out = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/hostile/attacks.py"
        ))
        .env("URL", format!("http://127.0.0.1:{port}/RPC2"))
        .env("PID", child.id().to_string())
        .env("HEADER_TIMEOUT", "2")
        .output()
        .unwrap();
    let alive = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    assert!(alive, "the gateway died under attack");
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

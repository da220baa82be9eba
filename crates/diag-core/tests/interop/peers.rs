//! Finding the interop peers that `scripts/peers-up.sh` started (tests/peers/README.md).
//!
//! Addresses come from the environment (`XDIAG_PEER_NSD`, ...), else from the `peers.env` file
//! peers-up.sh wrote (`$XDIAG_PEERS_DIR/peers.env`, default `<workspace>/target/peers/peers.env`).
//! A peer that is not there, or does not answer: under `CI=true` the test fails (CI must run
//! them); on a developer's machine it prints a skip message and returns.
use std::{
    collections::HashMap,
    io::Write,
    net::{SocketAddr, TcpStream, UdpSocket},
    path::PathBuf,
    time::Duration,
};

pub const NSD: &str = "XDIAG_PEER_NSD";
pub const SMTP: &str = "XDIAG_PEER_SMTP";
pub const SMTP_TLS12: &str = "XDIAG_PEER_SMTP_TLS12";
pub const CA: &str = "XDIAG_PEER_CA";
pub const PYTHON: &str = "XDIAG_PEER_PYTHON";
pub const ORACLE: &str = "XDIAG_PEER_ORACLE";

/// The workspace root (this file is crates/diag-core/tests/interop/peers.rs).
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn env_file() -> PathBuf {
    match std::env::var_os("XDIAG_PEERS_DIR") {
        Some(dir) => PathBuf::from(dir).join("peers.env"),
        None => workspace().join("target/peers/peers.env"),
    }
}

fn file_values() -> HashMap<String, String> {
    let text = std::fs::read_to_string(env_file()).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The peers a test needs, by variable name.
pub struct Peers(HashMap<String, String>);

impl Peers {
    pub fn get(&self, name: &str) -> &str {
        &self.0[name]
    }
    pub fn addr(&self, name: &str) -> SocketAddr {
        self.get(name)
            .parse()
            .unwrap_or_else(|e| panic!("{name}={} is not IP:PORT: {e}", self.get(name)))
    }
}

/// The values of `names`, or `None` after a skip message (fails under CI=true instead).
pub fn require(test: &str, names: &[&str]) -> Option<Peers> {
    let file = file_values();
    let mut found = HashMap::new();
    let mut missing = Vec::new();
    for &name in names {
        match std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| file.get(name).cloned())
        {
            Some(v) => {
                found.insert(name.to_string(), v);
            }
            None => missing.push(name.to_string()),
        }
    }
    let mut problems: Vec<String> = missing.iter().map(|n| format!("{n} is not set")).collect();
    if missing.is_empty() {
        problems.extend(names.iter().filter_map(|&n| alive(n, &found[n]).err()));
    }
    if problems.is_empty() {
        return Some(Peers(found));
    }
    let why = problems.join("; ");
    let hint = format!(
        "start the peers with scripts/peers-up.sh (it writes {})",
        env_file().display()
    );
    if in_ci() {
        panic!("{test}: interop peer missing under CI=true: {why}. {hint}");
    }
    // Straight to the stderr handle, not eprintln!: libtest captures the macros' output of a
    // passing test, and a skip that nobody sees is no message.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: interop peer missing: {why}. To run it, {hint}."
    );
    None
}

/// Is the peer behind `name` there at all? (The test itself judges what it answers.)
fn alive(name: &str, value: &str) -> Result<(), String> {
    let timeout = Duration::from_secs(2);
    match name {
        SMTP | SMTP_TLS12 => {
            let addr: SocketAddr = value
                .parse()
                .map_err(|e| format!("{name}={value} is not IP:PORT: {e}"))?;
            TcpStream::connect_timeout(&addr, timeout)
                .map(drop)
                .map_err(|e| format!("{name}={value} refuses connections ({e})"))
        }
        NSD => {
            let addr: SocketAddr = value
                .parse()
                .map_err(|e| format!("{name}={value} is not IP:PORT: {e}"))?;
            dns_answers(addr, timeout)
                .map_err(|e| format!("{name}={value} does not answer DNS ({e})"))
        }
        CA | PYTHON | ORACLE => {
            if PathBuf::from(value).exists() {
                Ok(())
            } else {
                Err(format!("{name}={value} does not exist"))
            }
        }
        _ => Ok(()),
    }
}

/// Sends one SOA question for `spf.test` and waits for any answer.
fn dns_answers(addr: SocketAddr, timeout: Duration) -> std::io::Result<()> {
    // A hand-made query: id 0x7864, RD off, one question spf.test SOA IN.
    let mut q = vec![0x78, 0x64, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in ["spf", "test"] {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 6, 0, 1]);
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.set_read_timeout(Some(timeout))?;
    socket.send_to(&q, addr)?;
    let mut buf = [0u8; 512];
    let (n, _) = socket.recv_from(&mut buf)?;
    if n >= 2 && buf[..2] == q[..2] {
        Ok(())
    } else {
        Err(std::io::Error::other("a reply that is not ours"))
    }
}

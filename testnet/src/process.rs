//! Node processes: starting `bansos-node --config` in its own process group with its output in
//! a log file, telling whether a recorded pid is still that node, signalling it, and Ctrl-C.
//!
//! Signals go through the `kill` command (no `libc`, no `unsafe`); whether a pid is still our
//! node is read from `/proc/<pid>/cmdline`, so a pid reused by another program after a reboot
//! is never signalled.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Environment variable naming the `bansos-node` executable to run.
pub const NODE_BIN_ENV: &str = "BANSOS_NODE_BIN";
/// How often a waiting loop looks again.
pub const POLL_INTERVAL_MS: u64 = 100;
/// Reads of an empty `/proc/<pid>/cmdline` before concluding it is not our node.
const CMDLINE_READS_MAX: usize = 20;
/// Lines of a node's log shown when it fails.
pub const LOG_TAIL_LINES: usize = 15;

/// The `bansos-node` executable: `$BANSOS_NODE_BIN`, or `bansos-node` next to this executable
/// (cargo puts every binary of the workspace in the same `target/<profile>/`).
pub fn node_bin() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os(NODE_BIN_ENV) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            bail!(
                "{NODE_BIN_ENV}={} is not a file: point it at a built bansos-node",
                p.display()
            );
        }
        return Ok(p);
    }
    let exe = std::env::current_exe().context("finding this executable's path")?;
    let p = exe.with_file_name("bansos-node");
    if !p.is_file() {
        bail!(
            "bansos-node is not next to this executable ({} is missing): build both with \
             `cargo build --release -p bansos-node -p bansos-testnet`, or set {NODE_BIN_ENV}",
            p.display()
        );
    }
    Ok(p)
}

/// Starts `bin --config config` with stdin closed and stdout and stderr appended to `log`, in a
/// new process group: Ctrl-C in the terminal reaches only `bansos-testnet`, which stops the
/// nodes itself, and detached nodes outlive it.
pub fn spawn_node(
    bin: &Path,
    config: &Path,
    log: &Path,
    netns: Option<&str>,
) -> anyhow::Result<Child> {
    let mut out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    writeln!(
        out,
        "=== bansos-testnet: starting {} --config {}",
        bin.display(),
        config.display()
    )?;
    let err = out.try_clone()?;
    // In a namespace, `ip netns exec` enters it and then executes the node in its own place:
    // the pid is the node's.
    let mut cmd = match netns {
        None => Command::new(bin),
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]).arg(bin);
            c
        }
    };
    cmd.arg("--config")
        .arg(config)
        .stdin(Stdio::null())
        // The log is a file: no terminal colour codes in it (tracing-subscriber honours this).
        .env("NO_COLOR", "1")
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))
}

/// Whether `pid` is a live (not zombie) `bansos-node` started with `config`. Without `/proc`
/// (not Linux) it falls back to whether any process `pid` exists.
pub fn is_node_running(pid: u32, config: &Path) -> bool {
    is_alive(pid, Some(config))
}

/// Whether `pid` is a live (not zombie) process, and if `config` is given, one whose command
/// line has `config` as an argument.
fn is_alive(pid: u32, config: Option<&Path>) -> bool {
    if pid <= 1 {
        return false;
    }
    if !Path::new("/proc/self/cmdline").exists() {
        return signal(pid, "0").is_ok();
    }
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    // A zombie has exited; its parent just has not collected it yet.
    let Ok(stat) = std::fs::read_to_string(proc_dir.join("stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    if matches!(state, Some("Z" | "X")) {
        return false;
    }
    let Some(config) = config else {
        return true;
    };
    // While a process is in exec its command line reads empty for a moment; so does a
    // kernel thread's, always.
    let mut cmdline = Vec::new();
    for _ in 0..CMDLINE_READS_MAX {
        let Ok(c) = std::fs::read(proc_dir.join("cmdline")) else {
            return false;
        };
        cmdline = c;
        if !cmdline.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let config = config.as_os_str().as_encoded_bytes();
    cmdline.split(|b| *b == 0).any(|arg| arg == config)
}

/// Sends signal `name` (`TERM`, `KILL`, or `0` to test) to `pid` with the `kill` command.
pub fn signal(pid: u32, name: &str) -> anyhow::Result<()> {
    assert!(pid > 1, "never signal pid {pid}");
    let status = Command::new("kill")
        .args(["-s", name, &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .or_else(|_| {
            // No `kill` executable: the shell's builtin does the same.
            Command::new("sh")
                .args(["-c", &format!("kill -s {name} {pid}")])
                .stderr(Stdio::null())
                .status()
        })
        .context("running kill")?;
    if !status.success() {
        bail!("kill -s {name} {pid} failed (no such process?)");
    }
    Ok(())
}

/// How a stop went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// It was not running.
    NotRunning,
    /// It exited after SIGTERM.
    Terminated,
    /// It needed SIGKILL (asked for, or SIGTERM was not enough within the grace time).
    Killed,
}

/// Stops the node `pid` started with `config`: SIGTERM, then SIGKILL if it is still running
/// after `grace` (or at once with `kill`). Returns once it is gone. `tick` is called while
/// waiting, so a parent can collect its children; when it returns true, SIGKILL follows at once.
/// `config` `None`: `pid` is known to be ours (a child not yet collected), whatever its
/// command line says.
pub fn stop_node(
    pid: u32,
    config: Option<&Path>,
    grace: Duration,
    kill: bool,
    tick: &mut dyn FnMut() -> bool,
) -> anyhow::Result<Stopped> {
    if !is_alive(pid, config) {
        return Ok(Stopped::NotRunning);
    }
    let mut how = if kill {
        Stopped::Killed
    } else {
        Stopped::Terminated
    };
    // It may exit between the check and the signal; the wait below tells.
    let _ = signal(pid, if kill { "KILL" } else { "TERM" });
    let deadline = Instant::now() + grace;
    while is_alive(pid, config) {
        let force = tick();
        if how == Stopped::Terminated && (force || Instant::now() >= deadline) {
            how = Stopped::Killed;
            let _ = signal(pid, "KILL");
        }
        if Instant::now() >= deadline + Duration::from_secs(10) {
            bail!("pid {pid} is still running 10 s after SIGKILL");
        }
        std::thread::sleep(Duration::from_millis(POLL_INTERVAL_MS));
    }
    Ok(how)
}

/// The last `n` lines of a log file, for error messages.
pub fn log_tail(log: &Path, n: usize) -> String {
    let Ok(bytes) = std::fs::read(log) else {
        return format!("({} cannot be read)", log.display());
    };
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(n)..];
    tail.iter().map(|l| format!("    {l}\n")).collect()
}

/// Counts SIGINT and SIGTERM received since [`Interrupts::install`].
#[derive(Clone)]
pub struct Interrupts(Arc<AtomicUsize>);

impl Interrupts {
    /// Catches SIGINT and SIGTERM from now on (a thread with a small Tokio runtime waits for
    /// them): the process no longer dies on Ctrl-C, the loops that check [`Interrupts::count`]
    /// wind down instead.
    pub fn install() -> anyhow::Result<Interrupts> {
        use tokio::signal::unix::{SignalKind, signal};
        let count = Arc::new(AtomicUsize::new(0));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .context("starting the signal handler")?;
        // Registered before returning, so no signal is missed.
        let (mut int, mut term) = rt
            .block_on(async {
                Ok::<_, std::io::Error>((
                    signal(SignalKind::interrupt())?,
                    signal(SignalKind::terminate())?,
                ))
            })
            .context("catching SIGINT and SIGTERM")?;
        let c = count.clone();
        std::thread::spawn(move || {
            rt.block_on(async move {
                loop {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                    c.fetch_add(1, Ordering::SeqCst);
                }
            })
        });
        Ok(Interrupts(count))
    }

    /// Signals received so far.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// Whether any signal was received.
    pub fn any(&self) -> bool {
        self.count() > 0
    }

    /// Fails with "interrupted" if a signal was received: for `?` in waiting loops.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.any() {
            bail!("interrupted");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pid_is_recognised_by_its_arguments_and_stopped() {
        // `sleep` stands in for bansos-node: its argument plays the config path.
        let mut child = Command::new("sleep").arg("37").spawn().unwrap();
        let pid = child.id();
        assert!(is_node_running(pid, Path::new("37")));
        assert!(!is_node_running(pid, Path::new("38")), "another config");
        let how = stop_node(
            pid,
            Some(Path::new("37")),
            Duration::from_secs(5),
            false,
            &mut || {
                // The parent collects its child, as `up` does while stopping.
                let _ = child.try_wait();
                false
            },
        )
        .unwrap();
        assert_eq!(how, Stopped::Terminated);
        assert!(!is_node_running(pid, Path::new("37")));
        assert_eq!(
            stop_node(
                pid,
                Some(Path::new("37")),
                Duration::ZERO,
                true,
                &mut || false
            )
            .unwrap(),
            Stopped::NotRunning
        );
    }

    #[test]
    fn an_own_child_is_stopped_whatever_its_command_line() {
        let mut child = Command::new("sleep").arg("41").spawn().unwrap();
        let pid = child.id();
        let mut tick = || {
            let _ = child.try_wait();
            false
        };
        let how = stop_node(pid, None, Duration::from_secs(5), true, &mut tick).unwrap();
        assert_eq!(how, Stopped::Killed);
        assert!(!is_alive(pid, None));
    }

    #[test]
    fn a_zombie_is_not_running() {
        let mut child = Command::new("true").arg("zombie-check").spawn().unwrap();
        let pid = child.id();
        // Not collected yet: a zombie until `wait`.
        std::thread::sleep(Duration::from_millis(300));
        assert!(!is_node_running(pid, Path::new("zombie-check")));
        child.wait().unwrap();
    }

    #[test]
    fn log_tails_are_the_last_lines() {
        let dir = std::env::temp_dir().join(format!("bansos-testnet-tail-{}", std::process::id()));
        std::fs::write(&dir, "a\nb\nc\n").unwrap();
        assert_eq!(log_tail(&dir, 2), "    b\n    c\n");
        std::fs::remove_file(&dir).unwrap();
        assert!(log_tail(&dir, 2).contains("cannot be read"));
    }
}

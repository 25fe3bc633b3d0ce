//! Delay and loss on a validator's link where the kernel has no `sch_netem` (the machines this
//! project is tested on run such a kernel): an iptables rule in the validator's namespace hands
//! every packet it sends on `eth0` to an NFQUEUE, and this process, started inside that
//! namespace, holds each packet for the delay before letting it go, or drops it (seeded, so a
//! chaos run is repeatable). Packets keep their order. The rule has `--queue-bypass`: should
//! this process die, packets flow again unshaped rather than stopping.
//!
//! It runs as `bansos-testnet shape-link` (hidden), detached, until `link --clear`, the chaos
//! command or `down` removes the rule and kills it (found with `ip netns pids`).

use std::collections::VecDeque;
use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};

/// The NFQUEUE number used in every validator's namespace (each namespace has its own queues).
pub const QUEUE: u16 = 7;

/// How often, at most, the loop looks for new packets when none is due before then.
const POLL: Duration = Duration::from_millis(1);

/// Binds the queue, prints `ready` on stdout (the parent waits for it), then shapes until
/// killed.
pub fn run(delay: Duration, loss_percent: f64, seed: u64) -> anyhow::Result<()> {
    let mut queue = nfq::Queue::open().context("opening a netfilter queue socket")?;
    queue
        .bind(QUEUE)
        .with_context(|| format!("binding NFQUEUE {QUEUE}"))?;
    // Only the verdict matters here, not the bytes.
    queue.set_copy_range(QUEUE, 0)?;
    queue.set_queue_max_len(QUEUE, 1 << 16)?;
    queue.set_fail_open(QUEUE, true)?;
    queue.set_nonblocking(true);
    println!("ready");
    std::io::stdout().flush()?;

    let mut rng = StdRng::seed_from_u64(seed);
    let mut held: VecDeque<(Instant, nfq::Message)> = VecDeque::new();
    loop {
        loop {
            match queue.recv() {
                Ok(mut msg) => {
                    if rng.random_range(0.0..100.0) < loss_percent {
                        msg.set_verdict(nfq::Verdict::Drop);
                        queue.verdict(msg)?;
                    } else {
                        msg.set_verdict(nfq::Verdict::Accept);
                        held.push_back((Instant::now() + delay, msg));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e).context("reading the netfilter queue"),
            }
        }
        let now = Instant::now();
        while held.front().is_some_and(|(due, _)| *due <= now) {
            let (_, msg) = held.pop_front().expect("checked");
            queue.verdict(msg)?;
        }
        let wait = held.front().map_or(POLL, |(due, _)| {
            due.saturating_duration_since(now).min(POLL)
        });
        std::thread::sleep(wait);
    }
}

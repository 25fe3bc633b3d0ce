//! `up --netns`, `partition`, `heal` and link faults: each validator in a Linux network
//! namespace of its own, with its own address, instead of all of them sharing 127.0.0.1.
//!
//! Layout for a testnet whose first HTTP port is P (so that testnets on other ports do not
//! collide): a bridge `bsbrP` in the root namespace holding 10.199.K.1/24 (K = P mod 251),
//! and per validator i a namespace `bsP-<name>` joined to the bridge by a veth pair
//! (`bsvP-i` outside, `eth0` inside) with the address 10.199.K.(i+2). The load tool, the
//! chaos command and the tests reach the validators from the root namespace through the
//! bridge. Everything is made with iproute2 (`ip`, `tc`; iptables for shaping without netem) as
//! root and removed by `down`.
//!
//! A partition is a pair of blackhole routes per cut link, one in each namespace: every packet
//! between the two addresses is dropped, on connections already open as on new ones (firewall
//! rules on a shared loopback did not separate anything). Delay and loss are `tc netem` on a
//! validator's link to the bridge; on a kernel without `sch_netem`, an NFQUEUE rule and a
//! shaper process in the validator's namespace (`shaper.rs`).

use std::net::Ipv4Addr;
use std::process::Command;

use anyhow::{Context, bail};
use bansos_testnet::layout::{NetnsLayout, TestnetFile};

/// Names and addresses of a namespaced testnet whose first HTTP port is `base_port`.
pub fn layout(base_port: u16, names: &[&str]) -> NetnsLayout {
    let k = (base_port % 251) as u8;
    NetnsLayout {
        bridge: format!("bsbr{base_port}"),
        host_ip: Ipv4Addr::new(10, 199, k, 1).to_string(),
        namespaces: names.iter().map(|n| format!("bs{base_port}-{n}")).collect(),
        veths: (0..names.len())
            .map(|i| format!("bsv{base_port}-{i}"))
            .collect(),
        ips: (0..names.len())
            .map(|i| Ipv4Addr::new(10, 199, k, i as u8 + 2).to_string())
            .collect(),
    }
}

/// Runs a command to the end; its stderr is the error.
fn run(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("running {program} (from iproute2)"))?;
    if !out.status.success() {
        bail!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Refuses to go on unless this process is root and has `ip`.
pub fn check_can() -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let uid = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .context("reading /proc/self: --netns needs Linux")?;
    if uid != 0 {
        bail!(
            "--netns makes network namespaces, veth pairs and a bridge: run as root (uid 0, \
             this is uid {uid}), or leave out --netns to share 127.0.0.1"
        );
    }
    run("ip", &["-V"]).context("--netns needs iproute2 (`apt-get install iproute2`)")?;
    Ok(())
}

/// Makes the bridge, the namespaces and their links. On failure whatever was made is removed.
pub fn create(l: &NetnsLayout) -> anyhow::Result<()> {
    if run("ip", &["link", "show", &l.bridge]).is_ok() {
        bail!(
            "the bridge {} exists already: another testnet on the same --base-port runs (stop \
             it with `bansos-testnet down`) or one was not cleaned up (`ip link del {0}`)",
            l.bridge
        );
    }
    let made = (|| {
        run("ip", &["link", "add", &l.bridge, "type", "bridge"])?;
        run(
            "ip",
            &[
                "addr",
                "add",
                &format!("{}/24", l.host_ip),
                "dev",
                &l.bridge,
            ],
        )?;
        run("ip", &["link", "set", &l.bridge, "up"])?;
        for ((ns, veth), ip) in l.namespaces.iter().zip(&l.veths).zip(&l.ips) {
            run("ip", &["netns", "add", ns])?;
            run("ip", &["-n", ns, "link", "set", "lo", "up"])?;
            run(
                "ip",
                &[
                    "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns,
                ],
            )?;
            run("ip", &["link", "set", veth, "master", &l.bridge])?;
            run("ip", &["link", "set", veth, "up"])?;
            run(
                "ip",
                &["-n", ns, "addr", "add", &format!("{ip}/24"), "dev", "eth0"],
            )?;
            run("ip", &["-n", ns, "link", "set", "eth0", "up"])?;
        }
        Ok(())
    })();
    if made.is_err() {
        remove(l);
    }
    made
}

/// Removes the namespaces (their veth pairs go with them) and the bridge; what is already
/// gone is skipped.
pub fn remove(l: &NetnsLayout) {
    for ns in &l.namespaces {
        // A link shaper would keep its namespace alive.
        clear_link(ns);
        let _ = run("ip", &["netns", "del", ns]);
    }
    for veth in &l.veths {
        let _ = run("ip", &["link", "del", veth]);
    }
    let _ = run("ip", &["link", "del", &l.bridge]);
}

/// The validators' indices in each group of `--groups a,b/c,d`; validators named in no group
/// form one more group.
pub fn groups(t: &TestnetFile, spec: &str) -> anyhow::Result<Vec<Vec<usize>>> {
    let mut groups = Vec::new();
    let mut seen = vec![false; t.nodes.len()];
    for part in spec.split('/') {
        let mut g = Vec::new();
        for name in part.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let Some(i) = t.nodes.iter().position(|n| n.name == name) else {
                bail!(
                    "--groups: no validator {name} in this testnet ({})",
                    t.names()
                );
            };
            if std::mem::replace(&mut seen[i], true) {
                bail!("--groups: {name} is in two groups");
            }
            g.push(i);
        }
        if g.is_empty() {
            bail!("--groups {spec}: an empty group; write groups as a,b/c,d");
        }
        groups.push(g);
    }
    let rest: Vec<usize> = (0..t.nodes.len()).filter(|i| !seen[*i]).collect();
    if !rest.is_empty() {
        groups.push(rest);
    }
    if groups.len() < 2 {
        bail!("--groups {spec}: one group cuts nothing; write two or more as a,b/c,d");
    }
    Ok(groups)
}

fn namespaced(t: &TestnetFile) -> anyhow::Result<&NetnsLayout> {
    t.netns.as_ref().context(
        "this testnet shares 127.0.0.1: partitions and link faults need one made with \
         `bansos-testnet up --netns`",
    )
}

/// Cuts every link between validators of different groups (after healing any earlier cut).
pub fn partition(t: &TestnetFile, groups: &[Vec<usize>]) -> anyhow::Result<()> {
    heal(t)?;
    let l = namespaced(t)?;
    for (a, ga) in groups.iter().enumerate() {
        for gb in groups.iter().skip(a + 1) {
            for &i in ga {
                for &j in gb {
                    for (from, to) in [(i, j), (j, i)] {
                        let dst = format!("{}/32", l.ips[to]);
                        run(
                            "ip",
                            &["-n", &l.namespaces[from], "route", "add", "blackhole", &dst],
                        )?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Restores every link cut by [`partition`].
pub fn heal(t: &TestnetFile) -> anyhow::Result<()> {
    let l = namespaced(t)?;
    for ns in &l.namespaces {
        let routes = run("ip", &["-n", ns, "route", "show", "type", "blackhole"])?;
        for line in routes.lines() {
            let dst = line.trim().trim_start_matches("blackhole").trim();
            if !dst.is_empty() {
                run("ip", &["-n", ns, "route", "del", "blackhole", dst])?;
            }
        }
    }
    Ok(())
}

/// Delay and loss on one validator's link.
#[derive(Clone, Copy, Debug)]
pub struct LinkFault {
    /// Added one-way delay, milliseconds.
    pub delay_ms: u32,
    /// Share of packets dropped, percent.
    pub loss: f64,
    /// Which packets are dropped, where the shaping is ours (see [`Shaping`]).
    pub seed: u64,
}

/// How this machine delays and drops a link's packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shaping {
    /// `tc netem` on the validator's `eth0`.
    Netem,
    /// The kernel has no netem: an iptables NFQUEUE rule and `bansos-testnet shape-link` in
    /// the validator's namespace (`shaper.rs`).
    Nfqueue,
}

impl std::fmt::Display for Shaping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Shaping::Netem => "tc netem",
            Shaping::Nfqueue => "NFQUEUE (no netem in this kernel)",
        })
    }
}

/// Delays and drops what validator `i` sends; `None` restores its link. Says which way it
/// shaped the link.
pub fn set_link(
    t: &TestnetFile,
    i: usize,
    fault: Option<LinkFault>,
) -> anyhow::Result<Option<Shaping>> {
    let l = namespaced(t)?;
    let ns = &l.namespaces[i];
    clear_link(ns);
    let Some(fault) = fault else {
        return Ok(None);
    };
    let netem = run(
        "ip",
        &[
            "netns",
            "exec",
            ns,
            "tc",
            "qdisc",
            "replace",
            "dev",
            "eth0",
            "root",
            "netem",
            "delay",
            &format!("{}ms", fault.delay_ms),
            "loss",
            &format!("{}%", fault.loss),
        ],
    );
    match netem {
        Ok(_) => Ok(Some(Shaping::Netem)),
        Err(e) if format!("{e:#}").contains("qdisc kind is unknown") => {
            shape_with_nfqueue(ns, fault).map_err(|e2| {
                e2.context(
                    "this kernel has no netem (CONFIG_NET_SCH_NETEM), and shaping the link \
                     through NFQUEUE failed too",
                )
            })?;
            Ok(Some(Shaping::Nfqueue))
        }
        Err(e) => Err(e),
    }
}

/// The iptables of the legacy (x_tables) kind if there is one: the kernels without netem met
/// so far had x_tables but not nf_tables.
fn iptables() -> anyhow::Result<&'static str> {
    ["iptables-legacy", "iptables"]
        .into_iter()
        .find(|p| run(p, &["-V"]).is_ok())
        .context("shaping a link without netem needs iptables (`apt-get install iptables`)")
}

/// The rule that hands what the validator sends to the shaper (`--queue-bypass`: packets flow
/// unshaped while no shaper listens).
fn nfqueue_rule(action: &str) -> Vec<String> {
    [
        "-w",
        action,
        "OUTPUT",
        "-o",
        "eth0",
        "-j",
        "NFQUEUE",
        "--queue-num",
        &crate::shaper::QUEUE.to_string(),
        "--queue-bypass",
    ]
    .map(String::from)
    .to_vec()
}

/// Starts `bansos-testnet shape-link` inside `ns`, waits until it listens, then adds the rule.
fn shape_with_nfqueue(ns: &str, fault: LinkFault) -> anyhow::Result<()> {
    use std::io::{BufRead as _, Read as _};
    use std::os::unix::process::CommandExt as _;
    let ipt = iptables()?;
    let exe = std::env::current_exe().context("finding this program")?;
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(exe)
        .args([
            "shape-link",
            "--delay-ms",
            &fault.delay_ms.to_string(),
            "--loss",
            &fault.loss.to_string(),
            "--seed",
            &fault.seed.to_string(),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        // Its own process group: a Ctrl-C meant for `chaos` does not reach it; `clear_link`
        // stops it.
        .process_group(0)
        .spawn()
        .context("starting the link shaper")?;
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let ready = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .is_ok_and(|l| l.trim() == "ready");
    if !ready {
        let _ = child.kill();
        let _ = child.wait();
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        bail!("the link shaper did not start: {}", err.trim());
    }
    let rule = nfqueue_rule("-A");
    let args: Vec<&str> = rule.iter().map(String::as_str).collect();
    let mut full = vec!["netns", "exec", ns, ipt];
    full.extend(args);
    if let Err(e) = run("ip", &full) {
        clear_link(ns);
        return Err(e);
    }
    Ok(())
}

/// Removes whatever shapes `ns`'s link: the netem qdisc, the NFQUEUE rule, and the shaper
/// (after the packets it holds have gone out). Nothing to remove is fine.
fn clear_link(ns: &str) {
    let _ = run(
        "ip",
        &[
            "netns", "exec", ns, "tc", "qdisc", "del", "dev", "eth0", "root",
        ],
    );
    let shapers = shapers(ns);
    if shapers.is_empty() {
        return;
    }
    if let Ok(ipt) = iptables() {
        let rule = nfqueue_rule("-D");
        let mut full = vec!["netns", "exec", ns, ipt];
        full.extend(rule.iter().map(String::as_str));
        // One rule per shaper started; delete until none is left.
        while run("ip", &full).is_ok() {}
    }
    let held = shapers.iter().map(|(_, d)| *d).max().unwrap_or(0);
    std::thread::sleep(std::time::Duration::from_millis(u64::from(held) + 20));
    for (pid, _) in shapers {
        let _ = run("kill", &["-KILL", &pid.to_string()]);
    }
}

/// The shapers running in `ns`: their pids and delays.
fn shapers(ns: &str) -> Vec<(u32, u32)> {
    let Ok(pids) = run("ip", &["netns", "pids", ns]) else {
        return Vec::new();
    };
    pids.split_whitespace()
        .filter_map(|p| p.parse::<u32>().ok())
        .filter_map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            if !args.iter().any(|a| a == "shape-link") {
                return None;
            }
            let delay = args
                .iter()
                .position(|a| a == "--delay-ms")
                .and_then(|k| args.get(k + 1))
                .and_then(|d| d.parse().ok())
                .unwrap_or(0);
            Some((pid, delay))
        })
        .collect()
}

/// How this machine can delay links, tried on validator 0's link and restored; the error says
/// why it cannot.
pub fn link_shaping(t: &TestnetFile) -> anyhow::Result<Shaping> {
    let tried = set_link(
        t,
        0,
        Some(LinkFault {
            delay_ms: 1,
            loss: 0.0,
            seed: 0,
        }),
    );
    set_link(t, 0, None)?;
    Ok(tried?.expect("a fault was set"))
}

//! `up --netns`, `partition`, `heal` and link faults: each validator in a Linux network
//! namespace of its own, with its own address, instead of all of them sharing 127.0.0.1.
//!
//! Layout for a testnet whose first HTTP port is P (so that testnets on other ports do not
//! collide): a bridge `bsbrP` in the root namespace holding 10.199.K.1/24 (K = P mod 251),
//! and per validator i a namespace `bsP-<name>` joined to the bridge by a veth pair
//! (`bsvP-i` outside, `eth0` inside) with the address 10.199.K.(i+2). The load tool, the
//! chaos command and the tests reach the validators from the root namespace through the
//! bridge. Everything is made with iproute2 (`ip`, `tc`) as root and removed by `down`.
//!
//! A partition is a pair of blackhole routes per cut link, one in each namespace: every packet
//! between the two addresses is dropped, on connections already open as on new ones (firewall
//! rules on a shared loopback did not separate anything). Delay and loss are `tc netem` on a
//! validator's link to the bridge, which needs a kernel with `sch_netem`.

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

/// Delays (milliseconds) and drops (percent) what validator `i` sends; `None` restores its link.
pub fn set_link(t: &TestnetFile, i: usize, fault: Option<(u32, f64)>) -> anyhow::Result<()> {
    let l = namespaced(t)?;
    let ns = &l.namespaces[i];
    match fault {
        None => {
            // Nothing to remove is fine.
            let _ = run(
                "ip",
                &[
                    "netns", "exec", ns, "tc", "qdisc", "del", "dev", "eth0", "root",
                ],
            );
            Ok(())
        }
        Some((delay_ms, loss)) => run(
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
                &format!("{delay_ms}ms"),
                "loss",
                &format!("{loss}%"),
            ],
        )
        .map(|_| ())
        .map_err(|e| {
            if format!("{e:#}").contains("qdisc kind is unknown") {
                anyhow::anyhow!(
                    "this kernel has no netem (CONFIG_NET_SCH_NETEM): links cannot be delayed \
                     or made lossy here"
                )
            } else {
                e
            }
        }),
    }
}

/// Whether the kernel can delay links (`tc netem`): tried on validator 0's link, then restored.
pub fn netem_available(t: &TestnetFile) -> bool {
    set_link(t, 0, Some((1, 0.0))).is_ok() && set_link(t, 0, None).is_ok()
}

//! `keygen`, `assemble`, `approve` and `validate --approvals`: a genesis made without anyone
//! seeing another member's key (bansos_genesis::card).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use bansos_genesis::card::{MemberCard, approval_text, dedup_commitment};
use bansos_genesis::config::AssembleConfig;
use bansos_genesis::{Network, Role};
use bansos_verifier::note::{KeyKind, Note, NoteSignature, Policy, SignerKey, VerifierKey};
use ed25519_dalek::SigningKey;

use super::{refuse, write_fresh, write_private, write_public};

fn random32() -> anyhow::Result<[u8; 32]> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    Ok(b)
}

/// `keygen`: this member's key files and its public card, in `out`.
pub fn keygen(
    name: &str,
    role: &str,
    display_name: &str,
    host: &str,
    p2p_port: u16,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    use std::os::unix::fs::DirBuilderExt as _;
    let role: Role = serde_json::from_value(serde_json::Value::String(role.into()))
        .map_err(|_| anyhow::anyhow!("--role {role}: give ministry, bank or auditor"))?;
    let key = SigningKey::from_bytes(&random32()?);
    let dedup = (role == Role::Ministry).then(random32).transpose()?;
    let card = MemberCard {
        format: bansos_genesis::card::CARD_FORMAT.into(),
        name: name.into(),
        display_name: display_name.into(),
        role,
        public_key: data_encoding::HEXLOWER.encode(key.verifying_key().as_bytes()),
        host: host.into(),
        p2p_port,
        dedup_commitment: dedup.as_ref().map(dedup_commitment),
    };
    let problems = card.problems();
    if !problems.is_empty() {
        bail!("nothing was written: {}", problems.join("; "));
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(out)
        .with_context(|| format!("creating {}", out.display()))?;
    // An existing folder keeps its mode: it must be the owner's only before keys go in.
    bansos_store::private::tighten(out)?;
    let key_path = out.join(format!("{name}.key"));
    let card_path = out.join(format!("{name}.card.json"));
    let dedup_path = out.join(format!("{name}.dedup-key"));
    for p in [&key_path, &card_path, &dedup_path] {
        if p.exists() {
            bail!(
                "{} exists already: nothing was written (a member draws its key once)",
                p.display()
            );
        }
    }
    write_private(
        &key_path,
        &format!("{}\n", SignerKey::new(name, key).to_secret_string()),
    )?;
    if let Some(d) = dedup {
        write_private(
            &dedup_path,
            &format!("{}\n", data_encoding::HEXLOWER.encode(&d)),
        )?;
    }
    let mut json = serde_json::to_string_pretty(&card)?;
    json.push('\n');
    std::fs::write(&card_path, json)?;
    println!(
        "wrote {} (private, 0600){} and the public card {}: send the card to the coordinator; \
         the key files never leave this machine",
        key_path.display(),
        if role == Role::Ministry {
            format!(" and {} (private, 0600)", dedup_path.display())
        } else {
            String::new()
        },
        card_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `assemble`: the genesis from `network.toml` and the cards alone.
pub fn assemble(config_path: &Path, out: &Path, cards: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(config_path)
        .with_context(|| format!("reading {}", config_path.display()))?;
    let config: AssembleConfig = toml::from_str(&text).with_context(|| {
        format!(
            "{} is not a valid network description",
            config_path.display()
        )
    })?;
    let mut problems = Vec::new();
    let mut parsed = Vec::new();
    for path in cards {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        match MemberCard::parse(&bytes) {
            Ok(c) => parsed.push(c),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    let genesis = if problems.is_empty() {
        match config.to_genesis(&parsed) {
            Ok(g) => Some(g),
            Err(p) => {
                problems.extend(p);
                None
            }
        }
    } else {
        None
    };
    let Some(genesis) = genesis else {
        return Ok(refuse("the network description and its cards", &problems));
    };
    let network = write_fresh(out, |out| write_public(out, &genesis))?;
    println!(
        "network {:?}: {} members, {} validators, checkpoint quorum {}; id {}",
        network.genesis.network_name,
        network.genesis.members.len(),
        network.validator_vkeys().len(),
        network.checkpoint_quorum(),
        data_encoding::HEXLOWER.encode(&network.id.0)
    );
    println!(
        "wrote {0}/genesis.json, {0}/vkeys.txt, {0}/policy.json (all public): send genesis.json \
         to every member to check and `approve`",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn read_network(path: &Path) -> anyhow::Result<Network> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Network::from_bytes(&bytes)
        .with_context(|| format!("{} is not a valid genesis (see `validate`)", path.display()))
}

/// `approve`: this member's signature on the genesis's network id.
pub fn approve(genesis: &Path, key: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let network = read_network(genesis)?;
    let text = bansos_store::private::read_secret(key)
        .with_context(|| format!("reading {}", key.display()))?;
    let key = SignerKey::parse(text.trim())
        .map_err(|e| anyhow::anyhow!("{} is not a member key file: {e}", key.display()))?;
    let public = key.signing_key().verifying_key();
    let Some(member) = network
        .genesis
        .members
        .iter()
        .find(|m| network.key(m.id) == Some(&public))
    else {
        bail!("this key is not the key of any member of this genesis: nothing was approved");
    };
    if member.name != key.name() {
        bail!(
            "the key file is named {} but its key is {}'s in this genesis",
            key.name(),
            member.name
        );
    }
    let mut note = Note::new(&approval_text(&network.id))?;
    note.add_signature(NoteSignature::sign(
        &member.name,
        key.signing_key(),
        note.text(),
    ));
    if out.exists() {
        bail!("{} exists already", out.display());
    }
    std::fs::write(out, note.to_bytes()).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "{} approves network {}: wrote {}",
        member.name,
        data_encoding::HEXLOWER.encode(&network.id.0),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `validate --approvals`: who approved, who has not yet.
pub fn count_approvals(genesis: &Path, approvals: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let Ok(network) = read_network(genesis) else {
        // `validate` has said why.
        return Ok(ExitCode::from(1));
    };
    let keys: Vec<VerifierKey> = network
        .genesis
        .members
        .iter()
        .map(|m| {
            VerifierKey::new(
                &m.name,
                KeyKind::Ed25519,
                *network.key(m.id).expect("member"),
            )
        })
        .collect();
    let anyone = Policy::new(keys, 1)?;
    let expected = approval_text(&network.id);
    let mut approved: Vec<String> = Vec::new();
    let mut bad = Vec::new();
    for path in approvals {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        match Note::parse(&bytes) {
            Err(e) => bad.push(format!("{}: not an approval: {e}", path.display())),
            Ok(note) if note.text() != expected => {
                bad.push(format!("{}: approves another genesis", path.display()))
            }
            Ok(note) => match anyone.verify(&note) {
                Ok(v) => approved.extend(v.signers),
                Err(e) => bad.push(format!("{}: {e}", path.display())),
            },
        }
    }
    let members = &network.genesis.members;
    let yes: Vec<&str> = members
        .iter()
        .filter(|m| approved.contains(&m.name))
        .map(|m| m.name.as_str())
        .collect();
    let not_yet: Vec<&str> = members
        .iter()
        .filter(|m| !approved.contains(&m.name))
        .map(|m| m.name.as_str())
        .collect();
    println!(
        "approved by {} of {} members: {}{}",
        yes.len(),
        members.len(),
        if yes.is_empty() {
            "none".into()
        } else {
            yes.join(", ")
        },
        if not_yet.is_empty() {
            String::new()
        } else {
            format!("; not yet: {}", not_yet.join(", "))
        }
    );
    if bad.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for b in bad {
            eprintln!("  - {b}");
        }
        Ok(ExitCode::from(1))
    }
}

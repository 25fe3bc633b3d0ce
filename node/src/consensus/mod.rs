//! Consensus, behind one module so the engine could be swapped: the Malachite context of
//! Bansos Ledger ([`ctx`]), the byte formats its engine sends and logs ([`codec`]), blocks as
//! stored and synced ([`block`]), the signer ([`signing`]), the application as a pure state
//! machine ([`core`]) and the shell that answers the engine with it ([`app`]), and [`start`],
//! which wires them to a Malachite 0.8.2 engine over libp2p (through Malachite's Byzantine
//! proxy for a test validator configured to misbehave: [`byzantine`]).

pub mod app;
pub mod block;
pub mod byzantine;
pub mod codec;
pub mod core;
pub mod ctx;
pub mod liveness;
pub mod peers;
pub mod signing;
#[doc(hidden)]
pub mod testkit;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use malachitebft_app_channel::app::config::NodeConfig;
use malachitebft_app_channel::app::config::{
    ConsensusConfig, P2pConfig, ValuePayload, ValueSyncConfig,
};
use malachitebft_app_channel::app::engine::network::NetworkRef;
use malachitebft_app_channel::app::metrics::SharedRegistry;
use malachitebft_app_channel::app::net::Multiaddr;
use malachitebft_app_channel::app::types::Keypair;
use malachitebft_app_channel::app::types::codec::Codec as _;
use malachitebft_app_channel::spawn::spawn_network_actor;
use malachitebft_app_channel::{
    Channels, ConsensusContext, EngineBuilder, EngineHandle, NetworkIdentity, RequestContext,
    Signer as _, SyncContext, WalContext,
};
use sha2::{Digest, Sha256};

use self::codec::WireCodec;
use self::ctx::{Address, BansosContext};
use self::signing::ConsensusSigner;

/// The engine configuration Malachite asks for.
#[derive(Clone, Debug)]
struct EngineConfig {
    moniker: String,
    consensus: ConsensusConfig,
    value_sync: ValueSyncConfig,
}

impl NodeConfig for EngineConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }
    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }
    fn consensus_mut(&mut self) -> &mut ConsensusConfig {
        &mut self.consensus
    }
    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }
    fn value_sync_mut(&mut self) -> &mut ValueSyncConfig {
        &mut self.value_sync
    }
}

/// What a validator needs to join consensus.
pub struct Join {
    /// Its name (logs and metrics).
    pub moniker: String,
    /// Its consensus address (member id).
    pub address: Address,
    /// Its member key seed (signs consensus messages; the libp2p key is derived from it).
    pub seed: [u8; 32],
    /// The network id.
    pub network_id: [u8; 32],
    /// Where it listens for peers.
    pub listen: Multiaddr,
    /// The other validators' addresses.
    pub peers: Vec<Multiaddr>,
    /// The consensus write-ahead log file.
    pub wal: PathBuf,
    /// Misbehave on purpose (tests only; `[byzantine]` in node.toml).
    pub byzantine: Option<byzantine::Byzantine>,
}

/// Starts a Malachite engine for this validator. Protocol and topic names carry the network id,
/// so nodes of another genesis cannot even exchange consensus or sync messages with this one.
/// Besides the engine's channels and handle, it returns its network actor for
/// [`liveness::republish`] and [`peers::repair`] (none for a Byzantine test validator, whose
/// network is Malachite's proxy).
pub async fn start(join: Join) -> anyhow::Result<Started> {
    let ctx = BansosContext {
        network_id: join.network_id,
    };
    let net = data_encoding::HEXLOWER.encode(&join.network_id[..8]);
    let mut p2p = P2pConfig {
        listen_addr: join.listen,
        persistent_peers: join.peers,
        ..P2pConfig::default()
    };
    p2p.protocol_names.consensus = format!("/bansos/{net}/consensus/v1");
    p2p.protocol_names.discovery_kad = format!("/bansos/{net}/kad/v1");
    p2p.protocol_names.discovery_regres = format!("/bansos/{net}/reqres/v1");
    p2p.protocol_names.sync = format!("/bansos/{net}/sync/v1");
    p2p.protocol_names.validator_proof = format!("/bansos/{net}/validator-proof/v1");
    p2p.channel_names.consensus = format!("/bansos/{net}/consensus");
    p2p.channel_names.proposal_parts = format!("/bansos/{net}/proposal_parts");
    p2p.channel_names.sync = format!("/bansos/{net}/sync");
    p2p.channel_names.liveness = format!("/bansos/{net}/liveness");
    p2p.pubsub_max_size = bytesize_mib(8);
    p2p.rpc_max_size = bytesize_mib(64);
    let consensus = ConsensusConfig {
        p2p,
        value_payload: ValuePayload::ProposalAndParts,
        queue_capacity: 100,
        ..ConsensusConfig::default()
    };
    let value_sync = ValueSyncConfig {
        status_update_interval: Duration::from_secs(1),
        request_timeout: Duration::from_secs(10),
        max_response_size: bytesize_mib(64),
        ..ValueSyncConfig::default()
    };
    let config = EngineConfig {
        moniker: join.moniker.clone(),
        consensus,
        value_sync,
    };
    let libp2p_seed: [u8; 32] = Sha256::new()
        .chain_update(b"bansos-ledger/libp2p-key/v1\0")
        .chain_update(join.seed)
        .finalize()
        .into();
    let keypair = Keypair::ed25519_from_bytes(libp2p_seed).context("deriving the libp2p key")?;
    let signer = ConsensusSigner::new(ctx.clone(), join.seed);
    let proof = signer
        .sign_validator_proof(
            signer.public_key().as_bytes().to_vec(),
            keypair.public().to_peer_id().to_bytes(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("signing the proof of validator: {e:?}"))?;
    let proof_bytes = WireCodec
        .encode(&proof)
        .context("encoding the proof of validator")?;
    let identity = NetworkIdentity::new_validator(
        join.moniker,
        keypair,
        join.address.to_string(),
        proof_bytes,
    );
    let (signer, verifier) =
        byzantine::signer_and_verifier(join.byzantine.as_ref(), &ctx, join.address, join.seed);
    let builder = EngineBuilder::new(ctx.clone(), config.clone())
        .with_default_wal(WalContext::new(join.wal, WireCodec))
        .with_default_sync(SyncContext::new(WireCodec))
        .with_default_consensus(ConsensusContext::new_validator(
            join.address,
            verifier,
            signer,
        ))
        .with_default_request(RequestContext::new(100));
    let (built, network) = match join.byzantine {
        None => {
            // The engine's default network actor, spawned here so that the shell can publish
            // on it too (liveness::republish) and ask it about its peers (peers::repair).
            let registry = SharedRegistry::global().with_moniker(config.moniker());
            let (net_ref, tx_network) = spawn_network_actor(
                identity,
                config.consensus(),
                config.value_sync(),
                &registry,
                WireCodec,
            )
            .await
            .map_err(|e| anyhow::anyhow!("starting the network: {e:?}"))?;
            let built = builder
                .with_custom_network(net_ref.clone(), tx_network)
                .build()
                .await;
            (built, Some(net_ref))
        }
        #[cfg(feature = "byzantine")]
        Some(b) => {
            tracing::warn!(proxy = ?b.proxy, "BYZANTINE: Malachite's proxy alters this validator's consensus messages (test only)");
            let built = builder
                .with_byzantine_network(malachitebft_app_channel::ByzantineContext {
                    identity,
                    codec: WireCodec,
                    config: b.proxy,
                    // The conflicting proposals and votes are signed with the validator's key.
                    signer: Box::new(ConsensusSigner::new(ctx.clone(), join.seed)),
                    address: join.address,
                    conflicting_value_fn: Some(Box::new(byzantine::conflicting_value)),
                    conflicting_vote_value_fn: Some(Box::new(byzantine::conflicting_vote_value)),
                })
                .await
                .map_err(|e| anyhow::anyhow!("starting Malachite's Byzantine proxy: {e:?}"))?
                .build()
                .await;
            (built, None)
        }
        #[cfg(not(feature = "byzantine"))]
        Some(b) => match b {},
    };
    let (channels, engine) =
        built.map_err(|e| anyhow::anyhow!("starting the consensus engine: {e:?}"))?;
    Ok(Started {
        channels,
        engine,
        ctx,
        network,
    })
}

/// A started engine.
pub struct Started {
    /// The application's channels.
    pub channels: Channels<BansosContext>,
    /// The engine's actors.
    pub engine: EngineHandle,
    /// The context it runs.
    pub ctx: BansosContext,
    /// Its network actor (none behind Malachite's Byzantine proxy).
    pub network: Option<NetworkRef<BansosContext>>,
}

fn bytesize_mib(n: u64) -> bytesize::ByteSize {
    bytesize::ByteSize::mib(n)
}

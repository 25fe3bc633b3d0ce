//! Networks of validators with keys derived from their index, for the core's unit tests and
//! the simulator (`bansos-sim`), and example messages of every kind the consensus codec reads
//! ([`wire`]), for its tests and fuzz targets. **Test keys only**: every private key here is
//! public knowledge; nothing outside tests may use this module.

use bansos_genesis::{ConsensusTimeouts, Genesis, Member, Network, Role};
use bansos_ledger::Ledger;
use bansos_ledger::store::ConsensusStore;
use bansos_verifier::entry::{
    AmountRule, MemberId, PeriodKind, ProgramCode, ProgramRegistered, Rupiah, SignedTx, TxBody,
};
use bansos_verifier::note::SignerKey;
use bytes::Bytes;
use ed25519_dalek::SigningKey;

use super::core::{BlockPolicy, Core};
use super::ctx::{Address, BansosContext};

pub mod wire;

/// A network of `n` validators (power 1 each) whose keys anyone can derive.
#[derive(Clone, Debug)]
pub struct TestNetwork {
    /// The network (genesis).
    pub network: Network,
    /// Each validator's member key, by index (= member id).
    pub keys: Vec<SigningKey>,
    /// The consensus context.
    pub ctx: BansosContext,
}

/// The test key of validator `i`.
pub fn test_key(i: usize) -> SigningKey {
    let mut seed = [0x5a; 32];
    seed[0] = i as u8;
    SigningKey::from_bytes(&seed)
}

impl TestNetwork {
    /// `n` validators: the first is a ministry (it registers programs), the others banks;
    /// consensus timeouts and the block-time drift bound as given (milliseconds).
    pub fn new(n: usize, timeouts: ConsensusTimeouts) -> TestNetwork {
        let keys: Vec<SigningKey> = (0..n).map(test_key).collect();
        let members = keys
            .iter()
            .enumerate()
            .map(|(i, k)| Member {
                id: MemberId(i as u16),
                name: format!("v{i}"),
                display_name: format!("Validator {i}"),
                role: if i == 0 { Role::Ministry } else { Role::Bank },
                public_key: k
                    .verifying_key()
                    .as_bytes()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
                p2p_address: format!("/ip4/127.0.0.1/tcp/{}", 1000 + i),
                voting_power: 1,
            })
            .collect();
        let genesis = Genesis {
            format: 1,
            network_name: "sim".into(),
            origin: "ledger.bansos.example/sim".into(),
            members,
            programs: vec![],
            witnesses: Vec::new(),
            witness_quorum: 0,
            consensus: timeouts,
        };
        let network = Network::from_bytes(&Network::to_file_bytes(&genesis))
            .expect("a test genesis is valid");
        let ctx = BansosContext {
            network_id: network.id.0,
        };
        TestNetwork { network, keys, ctx }
    }

    /// Validator `i`'s core over `store`.
    pub fn core<S: ConsensusStore>(&self, i: usize, store: S) -> Core<S>
    where
        S::Error: std::error::Error + Send + Sync + 'static,
    {
        let ledger = Ledger::open(self.network.clone(), store).expect("opening a test ledger");
        let key = SignerKey::new(&format!("v{i}"), self.keys[i].clone());
        Core::new(
            self.ctx.clone(),
            Address(i as u16),
            key,
            ledger,
            BlockPolicy::default(),
        )
        .expect("a test core")
    }

    /// A valid transaction, different for each `seq`: validator 0 registers a program.
    pub fn tx(&self, seq: u64) -> Bytes {
        let body = TxBody::ProgramRegistered(ProgramRegistered {
            code: ProgramCode::new(&format!("P{seq}")).expect("a valid code"),
            name: "Program".into(),
            period_kind: PeriodKind::Monthly,
            amount: AmountRule::Flat(Rupiah(100_000)),
        });
        let tx = SignedTx::sign(&self.network.id, MemberId(0), body, &self.keys[0])
            .expect("a valid transaction");
        Bytes::from(tx.encode())
    }
}

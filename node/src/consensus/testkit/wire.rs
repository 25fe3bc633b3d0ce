//! Example consensus messages of every kind the [`WireCodec`] reads, signed with keys derived
//! from the validator's index: the values of the codec's round-trip tests, and (encoded) the
//! seeds of its property tests and fuzz target (`fuzz/src/node.rs`). **Test keys only.**

use bytes::Bytes;
use malachitebft_app_channel::app::consensus::LivenessMsg;
use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::Keypair;
use malachitebft_app_channel::app::types::codec::Codec;
use malachitebft_app_channel::app::types::core::{
    ExtendedCommitCertificate, NilOrVal, PolkaCertificate, PolkaSignature, Round, RoundCertificate,
    RoundCertificateType, RoundSignature, SignedMessage, SignedProposal, SignedVote,
    ValidatorProof, Validity, Value as _, VoteExtensionScope, VoteType,
};
use malachitebft_app_channel::app::types::sync::{RawDecidedValue, Request, Response, Status};
use malachitebft_app_channel::app::types::{PeerId, ProposedValue, SignedConsensusMsg};
use malachitebft_signing_ed25519::PrivateKey;
use malachitebft_sync::{ValueRequest, ValueResponse};

use crate::consensus::codec::{CodecError, WireCodec, encode_extended_certificate};
use crate::consensus::ctx::{
    Address, BansosContext as Ctx, BlockHeader, Height, Proposal, ProposalPart, ValueId, Vote,
    body_hash, extension_sign_bytes, parts_sign_bytes, proposal_sign_bytes, vote_sign_bytes,
};

/// The context of the examples (network id `[7; 32]`).
pub fn ctx() -> Ctx {
    Ctx {
        network_id: [7; 32],
    }
}

/// The consensus key of `validator`.
pub fn key(validator: u16) -> PrivateKey {
    PrivateKey::from([(validator % 251) as u8 + 1; 32])
}

/// A libp2p peer id derived from `n`.
pub fn peer_id(n: u8) -> PeerId {
    let keypair = Keypair::ed25519_from_bytes([n; 32]).expect("any 32 bytes are an ed25519 key");
    PeerId::from_bytes(&keypair.public().to_peer_id().to_bytes()).expect("a libp2p peer id")
}

/// The transactions of the example block: one short, one empty, one of 300 bytes.
pub fn txs() -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"claim 17"),
        Bytes::new(),
        Bytes::from(vec![0xAB; 300]),
    ]
}

/// The example block's header, at height 5.
pub fn header() -> BlockHeader {
    BlockHeader {
        height: 5,
        time: 1_700_000_000,
        tx_count: 3,
        body_hash: body_hash(&txs()),
    }
}

/// The example block's id.
pub fn id() -> ValueId {
    header().id()
}

/// A signed vote at height 5, round 1; a precommit for a value carries an extension if `ext`.
pub fn vote(
    vote_type: VoteType,
    value: NilOrVal<ValueId>,
    validator: u16,
    ext: bool,
) -> SignedVote<Ctx> {
    let mut v = Vote::new(
        vote_type,
        Height(5),
        Round::new(1),
        value,
        Address(validator),
    );
    let k = key(validator);
    let signature = k.sign(&vote_sign_bytes(&ctx(), &v));
    if let (true, NilOrVal::Val(id)) = (ext, value) {
        let scope = VoteExtensionScope::new(v.height, v.round, id, v.validator);
        let message = Bytes::from(format!("checkpoint signature of member {validator}"));
        let s = k.sign(&extension_sign_bytes(&ctx(), &scope, &message));
        v.extension = Some(SignedMessage::new(message, s));
    }
    SignedMessage::new(v, signature)
}

/// Prevotes and precommits, nil and for the example block, one with an extension.
pub fn votes() -> Vec<SignedVote<Ctx>> {
    vec![
        vote(VoteType::Prevote, NilOrVal::Nil, 0, false),
        vote(VoteType::Prevote, NilOrVal::Val(id()), 1, false),
        vote(VoteType::Precommit, NilOrVal::Nil, 2, false),
        vote(VoteType::Precommit, NilOrVal::Val(id()), 3, false),
        vote(VoteType::Precommit, NilOrVal::Val(id()), 65535, true),
    ]
}

/// Validator 1's proposal of the example block in round 2.
pub fn proposal(pol_round: Round) -> SignedProposal<Ctx> {
    let p = Proposal {
        height: Height(5),
        round: Round::new(2),
        value: header(),
        pol_round,
        proposer: Address(1),
    };
    let signature = key(1).sign(&proposal_sign_bytes(&ctx(), &p));
    SignedMessage::new(p, signature)
}

/// The parts of that proposal's stream: `Init`, the transactions, an empty `Data`, `Fin`.
pub fn parts() -> Vec<ProposalPart> {
    let fin = key(1).sign(&parts_sign_bytes(
        &ctx(),
        Height(5),
        Round::new(2),
        Round::Nil,
        Address(1),
        &id(),
    ));
    vec![
        ProposalPart::Init {
            height: Height(5),
            round: Round::new(2),
            pol_round: Round::Nil,
            proposer: Address(1),
            header: header(),
        },
        ProposalPart::Data { txs: txs() },
        ProposalPart::Data { txs: vec![] },
        ProposalPart::Fin {
            signature: fin.to_bytes(),
        },
    ]
}

/// The stream id of the example proposal (height 5, round 2).
pub fn stream_id() -> StreamId {
    StreamId::new(Bytes::from_static(&[0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 2]))
}

/// The certificate of the example block with `n_signatures` precommits (every other one
/// extended).
pub fn extended_certificate(n_signatures: u16) -> ExtendedCommitCertificate<Ctx> {
    let precommits = (0..n_signatures)
        .map(|i| vote(VoteType::Precommit, NilOrVal::Val(id()), i, i % 2 == 0))
        .collect();
    let c = ExtendedCommitCertificate::from_votes(Height(5), Round::new(1), id(), precommits);
    assert_eq!(c.commit_signatures.len(), usize::from(n_signatures));
    c
}

/// A polka certificate signed by the voters of [`votes`].
pub fn polka_certificate() -> PolkaCertificate<Ctx> {
    PolkaCertificate {
        height: Height(5),
        round: Round::new(1),
        value_id: id(),
        polka_signatures: votes()
            .iter()
            .map(|v| PolkaSignature::new(v.validator, v.signature))
            .collect(),
    }
}

/// A round certificate of `cert_type` signed by the voters of [`votes`].
pub fn round_certificate(cert_type: RoundCertificateType) -> RoundCertificate<Ctx> {
    RoundCertificate {
        height: Height(5),
        round: Round::new(1),
        cert_type,
        round_signatures: votes()
            .iter()
            .map(|v| RoundSignature {
                vote_type: v.vote_type,
                value_id: v.value,
                address: v.validator,
                signature: v.signature,
            })
            .collect(),
    }
}

/// A sync response of two decided values (the example block's header with 4 signatures, an
/// empty value with 3).
pub fn response() -> Response<Ctx> {
    Response::ValueResponse(ValueResponse::new(
        Height(5),
        vec![
            RawDecidedValue::new(
                Bytes::from(header().encode().to_vec()),
                extended_certificate(4),
            ),
            RawDecidedValue::new(Bytes::new(), extended_certificate(3)),
        ],
    ))
}

/// A WAL entry: validator 2's proposal of the example block in round 3.
pub fn proposed_value(validity: Validity) -> ProposedValue<Ctx> {
    ProposedValue {
        height: Height(5),
        round: Round::new(3),
        valid_round: Round::Nil,
        proposer: Address(2),
        value: header(),
        validity,
    }
}

/// Validator 2's proof that it owns the libp2p identity `peer`.
pub fn validator_proof(peer: &PeerId) -> ValidatorProof<Ctx> {
    let k = key(2);
    let public_key = k.public_key().as_bytes().to_vec();
    let peer = peer.to_bytes();
    let signature = k.sign(&ValidatorProof::<Ctx>::signing_bytes(&public_key, &peer));
    ValidatorProof::new(public_key, peer, signature)
}

/// Every example above, encoded, each as the type it is (the codec reads any of them as any
/// type; the version byte comes first in each).
pub fn encodings() -> Vec<Vec<u8>> {
    fn enc<T>(value: &T) -> Vec<u8>
    where
        WireCodec: Codec<T, Error = CodecError>,
    {
        WireCodec
            .encode(value)
            .expect("the examples are within the codec's limits")
            .to_vec()
    }
    let mut out = Vec::new();
    for v in votes() {
        out.push(enc(&SignedConsensusMsg::Vote(v.clone())));
        out.push(enc(&LivenessMsg::Vote(v)));
    }
    for pol_round in [Round::Nil, Round::new(0)] {
        out.push(enc(&SignedConsensusMsg::Proposal(proposal(pol_round))));
    }
    for (i, part) in parts().into_iter().enumerate() {
        out.push(enc(&part));
        let data = StreamContent::Data(part);
        out.push(enc(&StreamMessage::new(stream_id(), i as u64, data)));
    }
    let fin = StreamMessage::<ProposalPart>::new(stream_id(), 4, StreamContent::Fin);
    out.push(enc(&fin));
    out.push(enc(&polka_certificate()));
    out.push(enc(&LivenessMsg::PolkaCertificate(polka_certificate())));
    for cert_type in [RoundCertificateType::Skip, RoundCertificateType::Precommit] {
        let round = round_certificate(cert_type);
        out.push(enc(&LivenessMsg::SkipRoundCertificate(round)));
    }
    for n in [0, 1, 4] {
        out.push(encode_extended_certificate(&extended_certificate(n)));
    }
    out.push(enc(&Status::<Ctx> {
        peer_id: peer_id(1),
        tip_height: Height(1_000),
        history_min_height: Height(1),
    }));
    let request = ValueRequest::<Ctx>::new(Height(6)..=Height(20));
    out.push(enc(&Request::ValueRequest(request)));
    out.push(enc(&Response::ValueResponse(ValueResponse::<Ctx>::new(
        Height(6),
        vec![],
    ))));
    out.push(enc(&response()));
    for validity in [Validity::Valid, Validity::Invalid] {
        out.push(enc(&proposed_value(validity)));
    }
    out.push(enc(&validator_proof(&peer_id(2))));
    out
}

//! The byte formats of consensus: [`WireCodec`] encodes every message the Malachite engine sends
//! to peers (votes, proposals, proposal parts, certificates, sync messages) and every entry it
//! writes to its write-ahead log; [`encode_extended_certificate`] is how the node stores the
//! certificate of a decided block.
//!
//! Hand-written binary: big-endian integers, one tag byte per enum variant, a u32 length in
//! front of every variable-length field or list, and the [`CONSENSUS_FORMAT`] version byte in
//! front of every top-level encoding. The format must stay stable, because the WAL and the store
//! written by one release are read by the next. Nothing here is signed (signatures cover the sign
//! bytes of [`super::ctx`]), so the encoding need not be canonical.
//!
//! Every input is untrusted: each length is checked against a named maximum and against the
//! remaining input before anything is allocated, trailing bytes are refused, and decoding never
//! panics.

use bytes::Bytes;
use malachitebft_app_channel::app::consensus::LivenessMsg;
use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::codec::{Codec, HasEncodedLen};
use malachitebft_app_channel::app::types::core::{
    ExtendedCommitCertificate, ExtendedCommitSignature, NilOrVal, PolkaCertificate, PolkaSignature,
    Round, RoundCertificate, RoundCertificateType, RoundSignature, SignedExtension, SignedMessage,
    SignedProposal, SignedVote, ValidatorProof, Validity, VoteType,
};
use malachitebft_app_channel::app::types::sync::{RawDecidedValue, Request, Response, Status};
use malachitebft_app_channel::app::types::{PeerId, ProposedValue, SignedConsensusMsg};
use malachitebft_signing_ed25519::Signature;
use malachitebft_sync::{ValueRequest, ValueResponse};

use super::ctx::{
    Address, BansosContext as Ctx, BlockHeader, CONSENSUS_FORMAT, Height, Proposal, ProposalPart,
    ValueId, Vote,
};

/// Most transactions in one [`ProposalPart::Data`].
pub const PART_TXS_MAX: usize = 10_000;
/// Most bytes in one transaction or vote extension.
pub const FIELD_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Most bytes in one decided value of a sync response (an encoded block); at least the
/// largest block the node stores (checked at compile time).
pub const DECIDED_VALUE_BYTES_MAX: usize = 16 * 1024 * 1024;
const _: () = assert!(DECIDED_VALUE_BYTES_MAX >= super::block::BLOCK_BYTES_MAX);
/// Most bytes in an identifier: a stream id, a public key, a peer id.
pub const ID_BYTES_MAX: usize = 256;
/// Most signatures in one certificate (so at most this many validators).
pub const CERTIFICATE_SIGNATURES_MAX: usize = 256;
/// Most decided values in one sync response.
pub const RESPONSE_VALUES_MAX: usize = 1_000;

/// Why bytes could not be decoded (or a message could not be encoded). Every decoding error
/// means the same to the caller: drop the message (or, for the WAL and the store, treat the
/// record as corrupt).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The input ends inside a field.
    #[error("truncated: the input ends inside a field")]
    Truncated,
    /// Bytes remain after a complete message.
    #[error("trailing bytes: {0} bytes after the end of the message")]
    TrailingBytes(usize),
    /// The leading version byte is not [`CONSENSUS_FORMAT`].
    #[error("format version {0} not supported (this node reads version {CONSENSUS_FORMAT})")]
    Version(u8),
    /// An enum tag byte names no variant.
    #[error("unknown tag {tag} for {what}")]
    UnknownTag {
        /// The enum being decoded.
        what: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// A length or count is above its maximum.
    #[error("{what}: length {len} is above the maximum {max}")]
    TooLong {
        /// The field or list.
        what: &'static str,
        /// The declared (or, when encoding, actual) length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A round is neither -1 (nil) nor in `0..=u32::MAX`.
    #[error("round {0} out of range")]
    Round(i64),
    /// A peer id is not a valid multihash.
    #[error("invalid peer id: {0}")]
    PeerId(String),
}

/// The codec of every consensus, sync and WAL message of a [`Ctx`] engine.
#[derive(Clone, Copy, Debug, Default)]
pub struct WireCodec;

/// Encodes a certificate for the node's store.
///
/// # Panics
///
/// If the certificate has more than [`CERTIFICATE_SIGNATURES_MAX`] signatures or an extension
/// above [`FIELD_BYTES_MAX`]: the engine builds certificates from the genesis validators and
/// from messages this codec decoded, so only a bug or a genesis above the limit gets here.
pub fn encode_extended_certificate(cert: &ExtendedCommitCertificate<Ctx>) -> Vec<u8> {
    encode(|w| w.certificate(cert))
        .expect("certificate within the codec limits")
        .into()
}

/// Decodes [`encode_extended_certificate`].
pub fn decode_extended_certificate(
    bytes: &[u8],
) -> Result<ExtendedCommitCertificate<Ctx>, CodecError> {
    decode(Bytes::copy_from_slice(bytes), Reader::certificate)
}

fn encode(f: impl FnOnce(&mut Writer)) -> Result<Bytes, CodecError> {
    let mut w = Writer {
        buf: vec![CONSENSUS_FORMAT],
        err: None,
    };
    f(&mut w);
    match w.err {
        Some(e) => Err(e),
        None => Ok(w.buf.into()),
    }
}

fn decode<T>(
    bytes: Bytes,
    f: impl FnOnce(&mut Reader) -> Result<T, CodecError>,
) -> Result<T, CodecError> {
    let mut r = Reader { rest: bytes };
    let version = r.u8()?;
    if version != CONSENSUS_FORMAT {
        return Err(CodecError::Version(version));
    }
    let value = f(&mut r)?;
    match r.rest.len() {
        0 => Ok(value),
        n => Err(CodecError::TrailingBytes(n)),
    }
}

macro_rules! impl_codec {
    ($($ty:ty => $method:ident;)*) => {$(
        impl Codec<$ty> for WireCodec {
            type Error = CodecError;
            fn decode(&self, bytes: Bytes) -> Result<$ty, CodecError> {
                decode(bytes, Reader::$method)
            }
            fn encode(&self, msg: &$ty) -> Result<Bytes, CodecError> {
                encode(|w| w.$method(msg))
            }
        }
    )*};
}

impl_codec! {
    ProposalPart => part;
    SignedConsensusMsg<Ctx> => consensus_msg;
    LivenessMsg<Ctx> => liveness_msg;
    StreamMessage<ProposalPart> => stream_msg;
    ValidatorProof<Ctx> => validator_proof;
    Status<Ctx> => status;
    Request<Ctx> => request;
    Response<Ctx> => response;
    ProposedValue<Ctx> => proposed_value;
    PolkaCertificate<Ctx> => polka_certificate;
}

/// The sync actor sizes each response value by its encoding to fill a response up to its limit.
impl HasEncodedLen<Response<Ctx>> for WireCodec {
    fn encoded_len(&self, msg: &Response<Ctx>) -> Result<usize, CodecError> {
        Ok(self.encode(msg)?.len())
    }
}

/// Appends encodings; the first length above its maximum is kept as the error.
struct Writer {
    buf: Vec<u8>,
    err: Option<CodecError>,
}

impl Writer {
    fn put(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    fn u64(&mut self, v: u64) {
        self.put(&v.to_be_bytes());
    }
    fn len(&mut self, len: usize, max: usize, what: &'static str) {
        if len > max && self.err.is_none() {
            self.err = Some(CodecError::TooLong { what, len, max });
        }
        // Every maximum fits a u32, so the cast only truncates once `err` is set.
        self.put(&(len as u32).to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8], max: usize, what: &'static str) {
        self.len(b.len(), max, what);
        self.put(b);
    }
    fn list<T>(&mut self, items: &[T], max: usize, what: &'static str, f: fn(&mut Self, &T)) {
        self.len(items.len(), max, what);
        for item in items {
            f(self, item);
        }
    }
    fn height(&mut self, h: &Height) {
        self.u64(h.0);
    }
    fn round(&mut self, r: &Round) {
        self.put(&r.as_i64().to_be_bytes());
    }
    fn address(&mut self, a: &Address) {
        self.put(&a.0.to_be_bytes());
    }
    fn value_id(&mut self, id: &ValueId) {
        self.put(&id.0);
    }
    fn header(&mut self, h: &BlockHeader) {
        self.put(&h.encode());
    }
    fn signature(&mut self, s: &Signature) {
        self.put(&s.to_bytes());
    }
    /// Same bytes as in `vote_sign_bytes`.
    fn vote_type(&mut self, t: &VoteType) {
        self.u8(match t {
            VoteType::Prevote => 1,
            VoteType::Precommit => 2,
        });
    }
    fn nil_or_val(&mut self, v: &NilOrVal<ValueId>) {
        match v {
            NilOrVal::Nil => self.u8(0),
            NilOrVal::Val(id) => {
                self.u8(1);
                self.value_id(id);
            }
        }
    }
    fn extension(&mut self, e: &Option<SignedExtension<Ctx>>) {
        match e {
            None => self.u8(0),
            Some(e) => {
                self.u8(1);
                self.bytes(&e.message, FIELD_BYTES_MAX, "vote extension");
                self.signature(&e.signature);
            }
        }
    }
    fn signed_vote(&mut self, v: &SignedVote<Ctx>) {
        let m = &v.message;
        self.vote_type(&m.vote_type);
        self.height(&m.height);
        self.round(&m.round);
        self.nil_or_val(&m.value);
        self.address(&m.validator);
        self.extension(&m.extension);
        self.signature(&v.signature);
    }
    fn signed_proposal(&mut self, p: &SignedProposal<Ctx>) {
        let m = &p.message;
        self.height(&m.height);
        self.round(&m.round);
        self.header(&m.value);
        self.round(&m.pol_round);
        self.address(&m.proposer);
        self.signature(&p.signature);
    }
    fn consensus_msg(&mut self, m: &SignedConsensusMsg<Ctx>) {
        match m {
            SignedConsensusMsg::Vote(v) => {
                self.u8(0);
                self.signed_vote(v);
            }
            SignedConsensusMsg::Proposal(p) => {
                self.u8(1);
                self.signed_proposal(p);
            }
        }
    }
    fn part(&mut self, p: &ProposalPart) {
        match p {
            ProposalPart::Init {
                height,
                round,
                pol_round,
                proposer,
                header,
            } => {
                self.u8(0);
                self.height(height);
                self.round(round);
                self.round(pol_round);
                self.address(proposer);
                self.header(header);
            }
            ProposalPart::Data { txs } => {
                self.u8(1);
                self.list(txs, PART_TXS_MAX, "transactions in a part", |w, tx| {
                    w.bytes(tx, FIELD_BYTES_MAX, "transaction")
                });
            }
            ProposalPart::Fin { signature } => {
                self.u8(2);
                self.put(signature);
            }
        }
    }
    fn polka_certificate(&mut self, c: &PolkaCertificate<Ctx>) {
        self.height(&c.height);
        self.round(&c.round);
        self.value_id(&c.value_id);
        self.list(
            &c.polka_signatures,
            CERTIFICATE_SIGNATURES_MAX,
            "polka signatures",
            |w, s| {
                w.address(&s.address);
                w.signature(&s.signature);
            },
        );
    }
    fn round_certificate(&mut self, c: &RoundCertificate<Ctx>) {
        self.height(&c.height);
        self.round(&c.round);
        self.u8(match c.cert_type {
            RoundCertificateType::Skip => 0,
            RoundCertificateType::Precommit => 1,
        });
        self.list(
            &c.round_signatures,
            CERTIFICATE_SIGNATURES_MAX,
            "round signatures",
            |w, s| {
                w.vote_type(&s.vote_type);
                w.nil_or_val(&s.value_id);
                w.address(&s.address);
                w.signature(&s.signature);
            },
        );
    }
    fn certificate(&mut self, c: &ExtendedCommitCertificate<Ctx>) {
        self.height(&c.height);
        self.round(&c.round);
        self.value_id(&c.value_id);
        self.list(
            &c.commit_signatures,
            CERTIFICATE_SIGNATURES_MAX,
            "commit signatures",
            |w, s| {
                w.address(&s.address);
                w.signature(&s.signature);
                w.extension(&s.extension);
            },
        );
    }
    fn liveness_msg(&mut self, m: &LivenessMsg<Ctx>) {
        match m {
            LivenessMsg::Vote(v) => {
                self.u8(0);
                self.signed_vote(v);
            }
            LivenessMsg::PolkaCertificate(c) => {
                self.u8(1);
                self.polka_certificate(c);
            }
            LivenessMsg::SkipRoundCertificate(c) => {
                self.u8(2);
                self.round_certificate(c);
            }
        }
    }
    fn stream_msg(&mut self, m: &StreamMessage<ProposalPart>) {
        self.bytes(&m.stream_id.to_bytes(), ID_BYTES_MAX, "stream id");
        self.u64(m.sequence);
        match &m.content {
            StreamContent::Data(p) => {
                self.u8(0);
                self.part(p);
            }
            StreamContent::Fin => self.u8(1),
        }
    }
    fn validator_proof(&mut self, p: &ValidatorProof<Ctx>) {
        self.bytes(&p.public_key, ID_BYTES_MAX, "public key");
        self.bytes(&p.peer_id, ID_BYTES_MAX, "peer id");
        self.signature(&p.signature);
    }
    fn status(&mut self, s: &Status<Ctx>) {
        self.bytes(&s.peer_id.to_bytes(), ID_BYTES_MAX, "peer id");
        self.height(&s.tip_height);
        self.height(&s.history_min_height);
    }
    fn request(&mut self, r: &Request<Ctx>) {
        let Request::ValueRequest(r) = r;
        self.u8(0);
        self.height(r.range.start());
        self.height(r.range.end());
    }
    fn response(&mut self, r: &Response<Ctx>) {
        let Response::ValueResponse(r) = r;
        self.u8(0);
        self.height(&r.start_height);
        self.list(
            &r.values,
            RESPONSE_VALUES_MAX,
            "values in a response",
            |w, v| {
                w.bytes(&v.value_bytes, DECIDED_VALUE_BYTES_MAX, "decided value");
                w.certificate(&v.certificate);
            },
        );
    }
    fn proposed_value(&mut self, v: &ProposedValue<Ctx>) {
        self.height(&v.height);
        self.round(&v.round);
        self.round(&v.valid_round);
        self.address(&v.proposer);
        self.header(&v.value);
        self.u8(match v.validity {
            Validity::Invalid => 0,
            Validity::Valid => 1,
        });
    }
}

/// Consumes an untrusted input; every read checks the remaining length first.
struct Reader {
    rest: Bytes,
}

impl Reader {
    fn take(&mut self, n: usize) -> Result<Bytes, CodecError> {
        if n > self.rest.len() {
            return Err(CodecError::Truncated);
        }
        Ok(self.rest.split_to(n))
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut a = [0u8; N];
        a.copy_from_slice(&self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.array::<1>()?[0])
    }
    fn u64(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    /// A length or count: at most `max`, and at most the remaining input (every list item takes
    /// at least one byte), so what it sizes is bounded by the input actually received.
    fn len(&mut self, max: usize, what: &'static str) -> Result<usize, CodecError> {
        let len = u32::from_be_bytes(self.array()?) as usize;
        if len > max {
            return Err(CodecError::TooLong { what, len, max });
        }
        if len > self.rest.len() {
            return Err(CodecError::Truncated);
        }
        Ok(len)
    }
    fn bytes(&mut self, max: usize, what: &'static str) -> Result<Bytes, CodecError> {
        let n = self.len(max, what)?;
        self.take(n)
    }
    fn list<T>(
        &mut self,
        max: usize,
        what: &'static str,
        f: fn(&mut Self) -> Result<T, CodecError>,
    ) -> Result<Vec<T>, CodecError> {
        let n = self.len(max, what)?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(f(self)?);
        }
        Ok(items)
    }
    fn tag(&mut self, what: &'static str, n_variants: u8) -> Result<u8, CodecError> {
        match self.u8()? {
            tag if tag < n_variants => Ok(tag),
            tag => Err(CodecError::UnknownTag { what, tag }),
        }
    }
    fn height(&mut self) -> Result<Height, CodecError> {
        Ok(Height(self.u64()?))
    }
    fn round(&mut self) -> Result<Round, CodecError> {
        match i64::from_be_bytes(self.array()?) {
            -1 => Ok(Round::Nil),
            r => u32::try_from(r)
                .map(Round::Some)
                .map_err(|_| CodecError::Round(r)),
        }
    }
    fn address(&mut self) -> Result<Address, CodecError> {
        Ok(Address(u16::from_be_bytes(self.array()?)))
    }
    fn value_id(&mut self) -> Result<ValueId, CodecError> {
        Ok(ValueId(self.array()?))
    }
    fn header(&mut self) -> Result<BlockHeader, CodecError> {
        let b: [u8; 52] = self.array()?;
        BlockHeader::decode(&b).ok_or(CodecError::Truncated)
    }
    fn signature(&mut self) -> Result<Signature, CodecError> {
        Ok(Signature::from_bytes(self.array()?))
    }
    fn vote_type(&mut self) -> Result<VoteType, CodecError> {
        match self.u8()? {
            1 => Ok(VoteType::Prevote),
            2 => Ok(VoteType::Precommit),
            tag => Err(CodecError::UnknownTag {
                what: "VoteType",
                tag,
            }),
        }
    }
    fn nil_or_val(&mut self) -> Result<NilOrVal<ValueId>, CodecError> {
        Ok(match self.tag("NilOrVal", 2)? {
            0 => NilOrVal::Nil,
            _ => NilOrVal::Val(self.value_id()?),
        })
    }
    fn extension(&mut self) -> Result<Option<SignedExtension<Ctx>>, CodecError> {
        Ok(match self.tag("Option<SignedExtension>", 2)? {
            0 => None,
            _ => {
                let message = self.bytes(FIELD_BYTES_MAX, "vote extension")?;
                Some(SignedMessage::new(message, self.signature()?))
            }
        })
    }
    fn signed_vote(&mut self) -> Result<SignedVote<Ctx>, CodecError> {
        let vote = Vote {
            vote_type: self.vote_type()?,
            height: self.height()?,
            round: self.round()?,
            value: self.nil_or_val()?,
            validator: self.address()?,
            extension: self.extension()?,
        };
        Ok(SignedMessage::new(vote, self.signature()?))
    }
    fn signed_proposal(&mut self) -> Result<SignedProposal<Ctx>, CodecError> {
        let proposal = Proposal {
            height: self.height()?,
            round: self.round()?,
            value: self.header()?,
            pol_round: self.round()?,
            proposer: self.address()?,
        };
        Ok(SignedMessage::new(proposal, self.signature()?))
    }
    fn consensus_msg(&mut self) -> Result<SignedConsensusMsg<Ctx>, CodecError> {
        Ok(match self.tag("SignedConsensusMsg", 2)? {
            0 => SignedConsensusMsg::Vote(self.signed_vote()?),
            _ => SignedConsensusMsg::Proposal(self.signed_proposal()?),
        })
    }
    fn part(&mut self) -> Result<ProposalPart, CodecError> {
        Ok(match self.tag("ProposalPart", 3)? {
            0 => ProposalPart::Init {
                height: self.height()?,
                round: self.round()?,
                pol_round: self.round()?,
                proposer: self.address()?,
                header: self.header()?,
            },
            1 => ProposalPart::Data {
                txs: self.list(PART_TXS_MAX, "transactions in a part", |r| {
                    r.bytes(FIELD_BYTES_MAX, "transaction")
                })?,
            },
            _ => ProposalPart::Fin {
                signature: self.array()?,
            },
        })
    }
    fn polka_certificate(&mut self) -> Result<PolkaCertificate<Ctx>, CodecError> {
        Ok(PolkaCertificate {
            height: self.height()?,
            round: self.round()?,
            value_id: self.value_id()?,
            polka_signatures: self.list(CERTIFICATE_SIGNATURES_MAX, "polka signatures", |r| {
                Ok(PolkaSignature::new(r.address()?, r.signature()?))
            })?,
        })
    }
    fn round_certificate(&mut self) -> Result<RoundCertificate<Ctx>, CodecError> {
        Ok(RoundCertificate {
            height: self.height()?,
            round: self.round()?,
            cert_type: match self.tag("RoundCertificateType", 2)? {
                0 => RoundCertificateType::Skip,
                _ => RoundCertificateType::Precommit,
            },
            round_signatures: self.list(CERTIFICATE_SIGNATURES_MAX, "round signatures", |r| {
                Ok(RoundSignature {
                    vote_type: r.vote_type()?,
                    value_id: r.nil_or_val()?,
                    address: r.address()?,
                    signature: r.signature()?,
                })
            })?,
        })
    }
    fn certificate(&mut self) -> Result<ExtendedCommitCertificate<Ctx>, CodecError> {
        Ok(ExtendedCommitCertificate {
            height: self.height()?,
            round: self.round()?,
            value_id: self.value_id()?,
            commit_signatures: self.list(CERTIFICATE_SIGNATURES_MAX, "commit signatures", |r| {
                Ok(ExtendedCommitSignature::new(
                    r.address()?,
                    r.signature()?,
                    r.extension()?,
                ))
            })?,
        })
    }
    fn liveness_msg(&mut self) -> Result<LivenessMsg<Ctx>, CodecError> {
        Ok(match self.tag("LivenessMsg", 3)? {
            0 => LivenessMsg::Vote(self.signed_vote()?),
            1 => LivenessMsg::PolkaCertificate(self.polka_certificate()?),
            _ => LivenessMsg::SkipRoundCertificate(self.round_certificate()?),
        })
    }
    fn stream_msg(&mut self) -> Result<StreamMessage<ProposalPart>, CodecError> {
        let stream_id = StreamId::new(self.bytes(ID_BYTES_MAX, "stream id")?);
        let sequence = self.u64()?;
        let content = match self.tag("StreamContent", 2)? {
            0 => StreamContent::Data(self.part()?),
            _ => StreamContent::Fin,
        };
        Ok(StreamMessage::new(stream_id, sequence, content))
    }
    fn validator_proof(&mut self) -> Result<ValidatorProof<Ctx>, CodecError> {
        Ok(ValidatorProof::new(
            self.bytes(ID_BYTES_MAX, "public key")?.into(),
            self.bytes(ID_BYTES_MAX, "peer id")?.into(),
            self.signature()?,
        ))
    }
    fn status(&mut self) -> Result<Status<Ctx>, CodecError> {
        let peer_id = self.bytes(ID_BYTES_MAX, "peer id")?;
        Ok(Status {
            peer_id: PeerId::from_bytes(&peer_id).map_err(|e| CodecError::PeerId(e.to_string()))?,
            tip_height: self.height()?,
            history_min_height: self.height()?,
        })
    }
    fn request(&mut self) -> Result<Request<Ctx>, CodecError> {
        self.tag("sync Request", 1)?;
        let start = self.height()?;
        Ok(Request::ValueRequest(ValueRequest::new(
            start..=self.height()?,
        )))
    }
    fn response(&mut self) -> Result<Response<Ctx>, CodecError> {
        self.tag("sync Response", 1)?;
        let start_height = self.height()?;
        let values = self.list(RESPONSE_VALUES_MAX, "values in a response", |r| {
            Ok(RawDecidedValue::new(
                r.bytes(DECIDED_VALUE_BYTES_MAX, "decided value")?,
                r.certificate()?,
            ))
        })?;
        Ok(Response::ValueResponse(ValueResponse::new(
            start_height,
            values,
        )))
    }
    fn proposed_value(&mut self) -> Result<ProposedValue<Ctx>, CodecError> {
        Ok(ProposedValue {
            height: self.height()?,
            round: self.round()?,
            valid_round: self.round()?,
            proposer: self.address()?,
            value: self.header()?,
            validity: match self.tag("Validity", 2)? {
                0 => Validity::Invalid,
                _ => Validity::Valid,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;

    use malachitebft_app_channel::app::types::Keypair;

    use super::*;
    use crate::consensus::testkit::wire::{
        extended_certificate, parts, peer_id, polka_certificate, proposal, proposed_value,
        response, round_certificate, stream_id, validator_proof, vote, votes,
    };

    fn decode_as<T>(bytes: Bytes) -> Result<T, CodecError>
    where
        WireCodec: Codec<T, Error = CodecError>,
    {
        <WireCodec as Codec<T>>::decode(&WireCodec, bytes)
    }

    /// Round-trips `value`; then checks that every strict prefix is `Truncated`, that a trailing
    /// byte and another version are refused, and that flipping any byte does not panic.
    fn check<T>(value: &T) -> T
    where
        WireCodec: Codec<T, Error = CodecError>,
        T: PartialEq + Debug,
    {
        let enc = <WireCodec as Codec<T>>::encode(&WireCodec, value).unwrap();
        assert_eq!(enc[0], CONSENSUS_FORMAT);
        let dec = decode_as::<T>(enc.clone()).unwrap();
        assert_eq!(&dec, value);
        for n in 0..enc.len() {
            let got = decode_as::<T>(enc.slice(..n)).err();
            assert_eq!(
                got,
                Some(CodecError::Truncated),
                "prefix {n} of {}",
                enc.len()
            );
        }
        let mut trailing = enc.to_vec();
        trailing.push(0);
        let got = decode_as::<T>(trailing.into()).err();
        assert_eq!(got, Some(CodecError::TrailingBytes(1)));
        let mut other = enc.to_vec();
        other[0] = CONSENSUS_FORMAT + 1;
        let got = decode_as::<T>(other.into()).err();
        assert_eq!(got, Some(CodecError::Version(CONSENSUS_FORMAT + 1)));
        for i in 1..enc.len() {
            for flip in [0x01, 0x80, 0xFF] {
                let mut b = enc.to_vec();
                b[i] ^= flip;
                let _ = decode_as::<T>(b.into());
            }
        }
        dec
    }

    /// The bounds of `EngineBuilder::build` (network, sync and WAL codec) and `start_engine`.
    #[test]
    fn the_engine_accepts_wire_codec_for_every_codec() {
        use malachitebft_app_channel::app::types::codec::{ConsensusCodec, SyncCodec, WalCodec};
        fn engine_codec<C: ConsensusCodec<Ctx> + SyncCodec<Ctx> + WalCodec<Ctx> + Clone>() {}
        engine_codec::<WireCodec>();
    }

    #[test]
    fn votes_round_trip_with_their_extensions() {
        for v in votes() {
            let SignedConsensusMsg::Vote(d) = check(&SignedConsensusMsg::Vote(v.clone())) else {
                panic!("not a vote");
            };
            // `Vote` equality ignores the extension, so compare it on its own.
            assert_eq!(d.message.extension, v.message.extension);
            let LivenessMsg::Vote(d) = check(&LivenessMsg::Vote(v.clone())) else {
                panic!("not a vote");
            };
            assert_eq!(d.message.extension, v.message.extension);
        }
        assert!(votes().iter().any(|v| v.message.extension.is_some()));
    }

    #[test]
    fn proposals_round_trip() {
        for pol_round in [Round::Nil, Round::new(0), Round::new(u32::MAX)] {
            check(&SignedConsensusMsg::Proposal(proposal(pol_round)));
        }
    }

    #[test]
    fn parts_and_stream_messages_round_trip() {
        for (i, part) in parts().into_iter().enumerate() {
            check(&part);
            check(&StreamMessage::new(
                stream_id(),
                i as u64,
                StreamContent::Data(part),
            ));
        }
        check(&StreamMessage::<ProposalPart>::new(
            stream_id(),
            4,
            StreamContent::Fin,
        ));
    }

    #[test]
    fn certificates_round_trip() {
        check(&polka_certificate());
        check(&LivenessMsg::PolkaCertificate(polka_certificate()));
        for cert_type in [RoundCertificateType::Skip, RoundCertificateType::Precommit] {
            check(&LivenessMsg::SkipRoundCertificate(round_certificate(
                cert_type,
            )));
        }
        for n in [0, 1, 4] {
            let c = extended_certificate(n);
            let enc = encode_extended_certificate(&c);
            assert_eq!(decode_extended_certificate(&enc), Ok(c));
            let mut trailing = enc.clone();
            trailing.push(0);
            assert_eq!(
                decode_extended_certificate(&trailing),
                Err(CodecError::TrailingBytes(1))
            );
            for k in 0..enc.len() {
                assert_eq!(
                    decode_extended_certificate(&enc[..k]),
                    Err(CodecError::Truncated)
                );
            }
        }
    }

    #[test]
    fn sync_messages_round_trip() {
        check(&Status::<Ctx> {
            peer_id: peer_id(1),
            tip_height: Height(1_000),
            history_min_height: Height(1),
        });
        check(&Request::ValueRequest(ValueRequest::<Ctx>::new(
            Height(6)..=Height(20),
        )));
        check(&Response::ValueResponse(ValueResponse::<Ctx>::new(
            Height(6),
            vec![],
        )));
        let response = response();
        check(&response);
        let len = WireCodec.encoded_len(&response).unwrap();
        assert_eq!(len, WireCodec.encode(&response).unwrap().len());
    }

    #[test]
    fn wal_entries_and_validator_proof_round_trip() {
        for validity in [Validity::Valid, Validity::Invalid] {
            check(&proposed_value(validity));
        }
        // A random peer id (the others are derived from fixed bytes).
        let libp2p_id = Keypair::generate_ed25519().public().to_peer_id();
        check(&validator_proof(
            &PeerId::from_bytes(&libp2p_id.to_bytes()).unwrap(),
        ));
    }

    /// Pins the format: a WAL written by this release must decode in the next.
    #[test]
    fn nil_prevote_golden_bytes() {
        let v = vote(VoteType::Prevote, NilOrVal::Nil, 0x0102, false);
        let mut want = vec![CONSENSUS_FORMAT, 0, 1];
        want.extend_from_slice(&5u64.to_be_bytes());
        want.extend_from_slice(&1i64.to_be_bytes());
        want.extend_from_slice(&[0, 0x01, 0x02, 0]);
        want.extend_from_slice(&v.signature.to_bytes());
        let got = WireCodec.encode(&SignedConsensusMsg::Vote(v)).unwrap();
        assert_eq!(got.to_vec(), want);
    }

    #[test]
    fn huge_lengths_are_refused_before_allocating() {
        let input = |tail: &[u8]| {
            let mut b = vec![CONSENSUS_FORMAT];
            b.extend_from_slice(tail);
            Bytes::from(b)
        };
        let too_long = |what, len, max| CodecError::TooLong { what, len, max };
        // A part declaring 4 billion transactions, then one declaring a 4 GiB transaction.
        assert_eq!(
            decode_as::<ProposalPart>(input(&[1, 0xFF, 0xFF, 0xFF, 0xFF])),
            Err(too_long(
                "transactions in a part",
                u32::MAX as usize,
                PART_TXS_MAX
            ))
        );
        assert_eq!(
            decode_as::<ProposalPart>(input(&[1, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF])),
            Err(too_long("transaction", u32::MAX as usize, FIELD_BYTES_MAX))
        );
        // Counts and lengths within the maximum but beyond the input are truncations.
        let at_max = (PART_TXS_MAX as u32).to_be_bytes();
        assert_eq!(
            decode_as::<ProposalPart>(input(&[&[1], &at_max[..]].concat())),
            Err(CodecError::Truncated)
        );
        let four_mib = (FIELD_BYTES_MAX as u32).to_be_bytes();
        assert_eq!(
            decode_as::<ProposalPart>(input(&[&[1, 0, 0, 0, 1], &four_mib[..]].concat())),
            Err(CodecError::Truncated)
        );
        // A response declaring a million values; a certificate declaring 257 signatures.
        let mut response = vec![0];
        response.extend_from_slice(&5u64.to_be_bytes());
        response.extend_from_slice(&1_000_000u32.to_be_bytes());
        assert_eq!(
            decode_as::<Response<Ctx>>(input(&response)),
            Err(too_long(
                "values in a response",
                1_000_000,
                RESPONSE_VALUES_MAX
            ))
        );
        let mut cert = encode_extended_certificate(&extended_certificate(0));
        let n = cert.len();
        cert[n - 4..].copy_from_slice(&257u32.to_be_bytes());
        cert.extend(std::iter::repeat_n(0, 257 * 67));
        assert_eq!(
            decode_extended_certificate(&cert),
            Err(too_long(
                "commit signatures",
                257,
                CERTIFICATE_SIGNATURES_MAX
            ))
        );
    }

    #[test]
    fn bad_tags_rounds_and_peer_ids_are_refused_with_a_clear_message() {
        let err =
            decode_as::<LivenessMsg<Ctx>>(Bytes::from(vec![CONSENSUS_FORMAT, 7])).unwrap_err();
        assert_eq!(err.to_string(), "unknown tag 7 for LivenessMsg");
        let err = decode_as::<ProposalPart>(Bytes::new()).unwrap_err();
        assert_eq!(err.to_string(), "truncated: the input ends inside a field");
        let err = decode_as::<ProposalPart>(Bytes::from(vec![2, 0])).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("format version 2 not supported"),
            "{err}"
        );

        let mut b = vec![CONSENSUS_FORMAT, 0];
        b.extend_from_slice(&5u64.to_be_bytes());
        b.extend_from_slice(&(1i64 << 32).to_be_bytes());
        let err = decode_as::<ProposalPart>(Bytes::from(b)).unwrap_err();
        assert_eq!(err, CodecError::Round(1 << 32));

        let mut b = vec![CONSENSUS_FORMAT, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF];
        b.extend_from_slice(&[0; 16]);
        let err = decode_as::<Status<Ctx>>(Bytes::from(b)).unwrap_err();
        assert!(matches!(err, CodecError::PeerId(_)), "{err}");
    }

    #[test]
    fn messages_above_the_limits_are_not_encoded() {
        let part = ProposalPart::Data {
            txs: vec![Bytes::new(); PART_TXS_MAX + 1],
        };
        assert_eq!(
            WireCodec.encode(&part),
            Err(CodecError::TooLong {
                what: "transactions in a part",
                len: PART_TXS_MAX + 1,
                max: PART_TXS_MAX
            })
        );
    }
}

//! The write side of a validator's API: `POST /v1/tx` and `POST /v1/txs` (admit signed
//! transactions to the mempool and forward them to the other validators), the pending and
//! rejected states of `GET /v1/tx/<hash>`, `GET /v1/status` and `GET /metrics`; and the
//! forwarding workers.
//!
//! A transaction is admitted after the checks that need no state (it decodes canonically, a
//! genesis member signed it for this network, the member's role may submit it); the rules that
//! need state (a double claim, an over-claim) run when a block is checked and committed.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TrySendError};
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bansos_ledger::mempool::Admission;
use bansos_ledger::rules::{Rejection, precheck};
use bansos_ledger::store::{StateRead, TxLocation};
use bansos_verifier::entry::{SignedTx, TX_BYTES_MAX};
use bansos_verifier::hash::Hash;

use crate::http::{ReadState, error};
use crate::live::{Counters, Live};

/// Most transactions in one `POST /v1/txs`.
pub const BATCH_TXS_MAX: usize = 10_000;
/// Largest `POST /v1/txs` body.
pub const BATCH_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Largest `POST /v1/tx` body.
pub const TX_BODY_MAX: usize = 64 * 1024;
/// Header marking a batch forwarded by another validator (not forwarded again).
pub const FORWARDED_HEADER: &str = "x-bansos-forwarded";

/// What became of one submitted transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Waiting in the mempool (new, or an identical resubmission).
    Pending(Hash),
    /// Already in the log.
    Committed(Hash, TxLocation),
    /// Refused; the sentence says why.
    Rejected(Hash, String),
    /// The mempool is full: retry later.
    Busy(Hash),
    /// The signing member is over its rate here (`crate::limits`): retry later.
    Limited(Hash),
}

/// Where submitted transactions come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A client at this address: the write limits apply; admitted ones are journalled and
    /// forwarded.
    Client(IpAddr),
    /// Another validator forwarding what it admitted: not forwarded again.
    Peer,
    /// This validator's own mempool journal after a restart.
    Journal,
}

impl Submitted {
    fn json(&self) -> serde_json::Value {
        match self {
            Submitted::Pending(h) => serde_json::json!({"hash": h.to_hex(), "status": "pending"}),
            Submitted::Committed(h, loc) => serde_json::json!({
                "hash": h.to_hex(), "status": "committed", "height": loc.height, "leaf": loc.leaf.0
            }),
            Submitted::Rejected(h, why) => {
                serde_json::json!({"hash": h.to_hex(), "status": "rejected", "message": why})
            }
            Submitted::Busy(h) => serde_json::json!({
                "hash": h.to_hex(), "status": "busy",
                "message": "The mempool is full; submit this transaction again in a moment."
            }),
            Submitted::Limited(h) => serde_json::json!({
                "hash": h.to_hex(), "status": "busy",
                "message": "Its signer is submitting faster than this validator's limit; submit it again in a moment."
            }),
        }
    }
}

/// Admits decoded transactions: the signature checks run first without any lock, then the
/// pool takes them in one go; new ones are queued for forwarding unless they were forwarded.
///
/// A transaction a block already rejected is answered with that verdict, not admitted again:
/// its bytes would be proposed, rejected and forwarded for ever. A transaction submitted by a
/// client (`forward`) is answered `Pending` only once the mempool journal holds it on disk, so
/// it outlives a crash of this validator; if the journal cannot be written it is answered
/// `Busy` and left out of the pool. Forwarded transactions are journalled by the validator that
/// acknowledged them.
///
/// A client is charged per signer for each transaction whose signature verified, and per
/// source for each that failed (`crate::limits`); a failed signature is not remembered as a
/// rejection: nobody signed those bytes, and junk must not push real verdicts out.
pub fn admit(s: &ReadState, live: &Live, txs: Vec<SignedTx>, source: Source) -> Vec<Submitted> {
    let forward = source != Source::Peer;
    // A full pool, or a signer holding its whole share of it, is refused before any signature
    // is checked: back-pressure must cost little.
    let (full, signer_full, roster) = {
        let pool = live.mempool.lock().expect("mempool lock");
        let mut signers: Vec<_> = txs.iter().map(|t| t.signer).collect();
        signers.sort_unstable();
        signers.dedup();
        signers.retain(|m| pool.is_signer_full(*m));
        (pool.is_full(), signers, pool.roster().clone())
    };
    let mut checked = Vec::with_capacity(txs.len());
    {
        let rejected = live.rejected.lock().expect("rejected lock");
        for tx in txs {
            let hash = tx.hash();
            let committed = match s.store.tx_location(&hash) {
                Ok(loc) => loc,
                Err(e) => {
                    tracing::error!(error = %e, "reading the store failed");
                    None
                }
            };
            if let Some(loc) = committed {
                checked.push((hash, Err(Submitted::Committed(hash, loc))));
                continue;
            }
            if let Some(why) = rejected.get(&hash) {
                checked.push((hash, Err(Submitted::Rejected(hash, why.clone()))));
                continue;
            }
            if full || signer_full.contains(&tx.signer) {
                checked.push((hash, Err(Submitted::Busy(hash))));
                continue;
            }
            checked.push((hash, Ok(tx)));
        }
    }
    let mut bad_signatures = 0;
    for (hash, c) in &mut checked {
        let Ok(tx) = c else { continue };
        match precheck(&live.network, &roster, tx) {
            Err(r) => {
                Counters::add(&live.counters.rejected_at_admission, 1);
                if matches!(r, Rejection::BadSignature | Rejection::UnknownSigner(_)) {
                    bad_signatures += 1;
                } else {
                    live.rejected
                        .lock()
                        .expect("rejected lock")
                        .insert(*hash, r.to_string());
                }
                *c = Err(Submitted::Rejected(*hash, r.to_string()));
            }
            Ok(()) => {
                if let Source::Client(_) = source
                    && live.limits.charge_signer(tx.signer).is_err()
                {
                    Counters::add(&live.counters.limited, 1);
                    *c = Err(Submitted::Limited(*hash));
                }
            }
        }
    }
    Counters::add(&live.counters.bad_signatures, bad_signatures as u64);
    if let Source::Client(ip) = source {
        live.limits.penalise_source(ip, bad_signatures);
    }
    let mut out = Vec::with_capacity(checked.len());
    // Client transactions answered pending: (index in `out`, hash, bytes, newly added).
    let mut journalled = Vec::new();
    {
        let mut pool = live.mempool.lock().expect("mempool lock");
        for (hash, c) in checked {
            match c {
                Err(done) => out.push(done),
                Ok(tx) => {
                    let bytes = if forward { Some(tx.encode()) } else { None };
                    let admission = pool.submit_prechecked(tx, hash, roster.epoch);
                    let new = matches!(admission, Admission::Added(_));
                    if let (Some(bytes), Admission::Added(_) | Admission::AlreadyPending(_)) =
                        (bytes, &admission)
                    {
                        journalled.push((out.len(), hash, bytes, new));
                    }
                    out.push(match admission {
                        Admission::Added(h) | Admission::AlreadyPending(h) => Submitted::Pending(h),
                        Admission::Rejected(h, r) => Submitted::Rejected(h, r.to_string()),
                        Admission::Full | Admission::SignerFull => Submitted::Busy(hash),
                    });
                }
            }
        }
    }
    let to_journal = journalled
        .iter()
        .map(|(_, h, b, _)| (*h, b.clone()))
        .collect();
    let mut added = Vec::new();
    match live.journal.append(to_journal) {
        Ok(()) => added.extend(
            journalled
                .into_iter()
                .filter(|(_, _, _, new)| *new)
                .map(|(_, _, b, _)| b),
        ),
        Err(e) => {
            tracing::error!(error = %e, "transactions not acknowledged");
            let mut pool = live.mempool.lock().expect("mempool lock");
            pool.remove(journalled.iter().filter(|j| j.3).map(|j| &j.1));
            for (i, h, _, _) in &journalled {
                out[*i] = Submitted::Busy(*h);
            }
        }
    }
    let n_added = out
        .iter()
        .filter(|o| matches!(o, Submitted::Pending(_)))
        .count();
    Counters::add(&live.counters.admitted, n_added as u64);
    let busy = out
        .iter()
        .filter(|o| matches!(o, Submitted::Busy(_)))
        .count();
    Counters::add(&live.counters.busy, busy as u64);
    for tx in added {
        for q in &live.forward {
            if let Err(TrySendError::Full(_)) = q.try_send(tx.clone()) {
                Counters::add(&live.counters.forward_dropped, 1);
            }
        }
    }
    out
}

/// Puts the transactions of the mempool journal back in the pool after a restart and forwards
/// them again; forgets those a block committed or rejected meanwhile. Returns how many wait.
pub fn restore_journal(s: &ReadState, live: &Live, journalled: Vec<(Hash, Vec<u8>)>) -> usize {
    let mut txs = Vec::with_capacity(journalled.len());
    let mut gone = Vec::new();
    for (hash, bytes) in journalled {
        match SignedTx::decode(&bytes) {
            Ok(tx) if tx.hash() == hash => txs.push(tx),
            _ => {
                tracing::warn!(tx = %hash.to_hex(), "a journalled transaction does not decode; dropped");
                gone.push(hash);
            }
        }
    }
    let out = admit(s, live, txs, Source::Journal);
    let mut waiting = 0;
    for o in &out {
        match o {
            Submitted::Pending(_) => waiting += 1,
            Submitted::Committed(h, _) | Submitted::Rejected(h, _) => gone.push(*h),
            Submitted::Busy(_) | Submitted::Limited(_) => {}
        }
    }
    live.journal.forget(gone);
    waiting
}

fn read_only() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "read_only",
        "This server only serves a stored log; submit transactions to a validator.",
    )
}

fn body_error(e: BytesRejection, max: usize) -> Response {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        crate::body::too_large(max)
    } else {
        error(
            StatusCode::BAD_REQUEST,
            "bad_body",
            "The request body could not be read.",
        )
    }
}

/// The one media type of a write: the canonical bytes of transactions.
pub const WRITE_CONTENT_TYPE: &str = "application/octet-stream";

/// Refuses a write that a web page could have made. A page of any origin may send a "simple"
/// cross-origin POST (text/plain, form data) without asking the server first, so writes must
/// declare [`WRITE_CONTENT_TYPE`], which a page can only send after a CORS preflight that this
/// server never grants; and a request a browser made (it carries `Origin` or `Sec-Fetch-*`) is
/// refused whatever it declares. Members submit with their own programs, which send neither.
pub fn refuse_browser_write(headers: &HeaderMap) -> Result<(), Box<Response>> {
    let from_browser = headers.contains_key(header::ORIGIN)
        || headers.contains_key("sec-fetch-mode")
        || headers.contains_key("sec-fetch-site");
    if from_browser {
        return Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "browser_write",
            "Transactions are not accepted from web pages: submit them with bansos-client or \
             the member's own system.",
        )));
    }
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if declared.as_deref() != Some(WRITE_CONTENT_TYPE) {
        return Err(Box::new(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            &format!("Send transactions with Content-Type: {WRITE_CONTENT_TYPE}."),
        )));
    }
    Ok(())
}

/// The validator's shared state and the request body, or the response refusing the request (a
/// read-only server, a write a web page could have made, an unreadable or too large body).
fn writable(
    s: &ReadState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    max: usize,
) -> Result<(Arc<Live>, Bytes), Box<Response>> {
    let Some(live) = s.live.clone() else {
        return Err(Box::new(read_only()));
    };
    refuse_browser_write(headers)?;
    body.map(|b| (live, b))
        .map_err(|e| Box::new(body_error(e, max)))
}

/// `POST /v1/tx`: one signed transaction, its canonical bytes as the body.
pub async fn post_tx(
    State(s): State<Arc<ReadState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (live, body) = match writable(&s, &headers, body, TX_BODY_MAX) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    let source = source_of(&live, peer, &headers);
    if let Err(response) = charge_source(&live, source, 1) {
        return *response;
    }
    if body.len() > TX_BYTES_MAX {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "tx_too_large",
            &format!("A signed transaction is at most {TX_BYTES_MAX} bytes."),
        );
    }
    let tx = match SignedTx::decode(&body) {
        Ok(tx) => tx,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "malformed_tx",
                &format!("The body is not a signed transaction in the canonical encoding: {e}."),
            );
        }
    };
    let st = s.clone();
    let result = tokio::task::spawn_blocking(move || admit(&st, &live, vec![tx], source)).await;
    let Ok(mut result) = result else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "The node failed while admitting the transaction.",
        );
    };
    let outcome = result.pop().expect("one result per transaction");
    let json = outcome.json();
    match outcome {
        Submitted::Pending(_) => (StatusCode::ACCEPTED, Json(json)).into_response(),
        Submitted::Committed(..) => (StatusCode::OK, Json(json)).into_response(),
        Submitted::Rejected(h, why) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({
                "hash": h.to_hex(),
                "error": {"code": "rejected", "message": format!("The transaction was refused: {why}.")}
            })),
        )
            .into_response(),
        Submitted::Busy(_) => busy(),
        Submitted::Limited(_) => limited(1, "Its signer is over this validator's rate"),
    }
}

/// Who sent a write: a validator forwarding (it says so and its address is trusted), or a
/// client, limited by its address.
fn source_of(live: &Live, peer: SocketAddr, headers: &HeaderMap) -> Source {
    let ip = peer.ip().to_canonical();
    if headers.contains_key(FORWARDED_HEADER) && live.limits.is_trusted(ip) {
        Source::Peer
    } else {
        Source::Client(ip)
    }
}

/// Charges a client's address for `n` transactions (`crate::limits`), or the 429 refusing them.
fn charge_source(live: &Live, source: Source, n: usize) -> Result<(), Box<Response>> {
    let Source::Client(ip) = source else {
        return Ok(());
    };
    live.limits.charge_source(ip, n).map_err(|refused| {
        Counters::add(&live.counters.limited, n as u64);
        let burst = live.limits.config().per_source_burst;
        Box::new(if refused.retry_after_s == u64::MAX {
            limited(
                60,
                &format!("A batch from this address may hold at most {burst} transactions"),
            )
        } else {
            limited(
                refused.retry_after_s,
                "This address is submitting faster than this validator allows",
            )
        })
    })
}

fn limited(retry_after_s: u64, why: &str) -> Response {
    let mut r = error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        &format!("{why}; retry after {retry_after_s} s."),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
    r
}

fn busy() -> Response {
    let mut r = error(
        StatusCode::SERVICE_UNAVAILABLE,
        "mempool_full",
        "The validator's mempool is full; retry in a moment.",
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// Splits a batch body: `[u32 big-endian length][signed transaction]`, repeated.
pub fn split_batch(body: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        if out.len() == BATCH_TXS_MAX {
            return Err(format!(
                "a batch holds at most {BATCH_TXS_MAX} transactions"
            ));
        }
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            return Err(format!(
                "item {}: the length prefix is cut short",
                out.len()
            ));
        };
        let len = u32::from_be_bytes(*len) as usize;
        if len > TX_BYTES_MAX {
            return Err(format!(
                "item {}: {len} bytes, more than the {TX_BYTES_MAX} a transaction may have",
                out.len()
            ));
        }
        if tail.len() < len {
            return Err(format!("item {}: the transaction is cut short", out.len()));
        }
        let (tx, tail) = tail.split_at(len);
        out.push(tx);
        rest = tail;
    }
    Ok(out)
}

/// Encodes a batch body for `POST /v1/txs`.
pub fn join_batch<T: AsRef<[u8]>>(txs: &[T]) -> Vec<u8> {
    let mut v = Vec::with_capacity(txs.iter().map(|t| 4 + t.as_ref().len()).sum());
    for t in txs {
        v.extend_from_slice(&(t.as_ref().len() as u32).to_be_bytes());
        v.extend_from_slice(t.as_ref());
    }
    v
}

/// `POST /v1/txs`: a batch. Nothing of a malformed batch is admitted.
pub async fn post_txs(
    State(s): State<Arc<ReadState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (live, body) = match writable(&s, &headers, body, BATCH_BYTES_MAX) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    if body.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "empty_batch",
            "The batch holds no transaction: send one or more, each as a 4-byte big-endian length followed by the signed transaction.",
        );
    }
    let source = source_of(&live, peer, &headers);
    let st = s.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<Vec<Submitted>, Box<Response>> {
        let items = split_batch(&body).map_err(malformed_batch)?;
        charge_source(&live, source, items.len())?;
        let txs = items
            .iter()
            .enumerate()
            .map(|(i, b)| {
                SignedTx::decode(b).map_err(|e| {
                    malformed_batch(format!("item {i} is not a signed transaction: {e}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(admit(&st, &live, txs, source))
    })
    .await;
    match result {
        Ok(Ok(results)) => {
            let any_busy = results
                .iter()
                .any(|r| matches!(r, Submitted::Busy(_) | Submitted::Limited(_)));
            let json: Vec<_> = results.iter().map(Submitted::json).collect();
            let mut r = Json(serde_json::json!({ "results": json })).into_response();
            if any_busy {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            r
        }
        Ok(Err(response)) => *response,
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "The node failed while admitting the batch.",
        ),
    }
}

fn malformed_batch(why: String) -> Box<Response> {
    Box::new(error(
        StatusCode::BAD_REQUEST,
        "malformed_batch",
        &format!("The batch was refused and nothing of it admitted: {why}."),
    ))
}

/// The pending or rejected state of a transaction not (yet) committed.
pub fn uncommitted_status(s: &ReadState, hash: &Hash) -> Option<serde_json::Value> {
    let live = s.live.as_ref()?;
    if live.mempool.lock().expect("mempool lock").contains(hash) {
        return Some(serde_json::json!({"status": "pending"}));
    }
    let rejected = live.rejected.lock().expect("rejected lock");
    rejected
        .get(hash)
        .map(|why| serde_json::json!({"status": "rejected", "message": why}))
}

/// Most hashes in one `POST /v1/tx-status`.
pub const STATUS_HASHES_MAX: usize = 10_000;

/// `POST /v1/tx-status`: the states of many transactions at once. Body: their 32-byte hashes
/// concatenated. Answer: `{"results": [...]}` in order, each as `GET /v1/tx/<hash>` would
/// answer (`{"status": "unknown"}` for a hash this validator does not know).
pub async fn tx_status(
    State(s): State<Arc<ReadState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return body_error(e, STATUS_HASHES_MAX * 32),
    };
    if body.len() % 32 != 0 || body.len() / 32 > STATUS_HASHES_MAX {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_hash_list",
            &format!(
                "The body must be at most {STATUS_HASHES_MAX} transaction hashes of 32 bytes each, concatenated."
            ),
        );
    }
    let st = s.clone();
    let result = tokio::task::spawn_blocking(move || {
        let snap = st.store.snapshot()?;
        let mut out = Vec::with_capacity(body.len() / 32);
        for chunk in body.chunks(32) {
            let hash = Hash(chunk.try_into().expect("32 bytes"));
            out.push(match snap.tx_location(&hash)? {
                Some(loc) => serde_json::json!({ "status": "committed", "height": loc.height, "leaf": loc.leaf.0 }),
                None => uncommitted_status(&st, &hash)
                    .unwrap_or_else(|| serde_json::json!({ "status": "unknown" })),
            });
        }
        Ok::<_, bansos_store::StoreError>(out)
    })
    .await;
    match result {
        Ok(Ok(results)) => Json(serde_json::json!({ "results": results })).into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "reading the store failed");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_error",
                "The node could not read its storage; try again or another node.",
            )
        }
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "The node failed while reading transaction states.",
        ),
    }
}

/// `GET /v1/status`.
pub async fn status(State(s): State<Arc<ReadState>>) -> Response {
    let Some(live) = &s.live else {
        return read_only();
    };
    let c = &live.counters;
    Json(serde_json::json!({
        "name": live.name,
        "network_id": data_encoding::HEXLOWER.encode(&live.network.id.0),
        "height": Counters::get(&c.height),
        "log_size": Counters::get(&c.log_size),
        "checkpoint_size": Counters::get(&c.checkpoint_size),
        "mempool": live.mempool.lock().expect("mempool lock").len(),
        "peers": Counters::get(&c.peers),
    }))
    .into_response()
}

/// `GET /metrics`, Prometheus text format.
pub async fn metrics(State(s): State<Arc<ReadState>>) -> Response {
    let Some(live) = &s.live else {
        return read_only();
    };
    let c = &live.counters;
    let mempool = live.mempool.lock().expect("mempool lock").len();
    let mut out = String::new();
    let mut put = |name: &str, kind: &str, help: &str, value: u64| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    };
    put(
        "bansos_height",
        "gauge",
        "Last committed block height.",
        Counters::get(&c.height),
    );
    put(
        "bansos_log_size",
        "gauge",
        "Entries in the log.",
        Counters::get(&c.log_size),
    );
    put(
        "bansos_checkpoint_size",
        "gauge",
        "Tree size of the published quorum-signed checkpoint.",
        Counters::get(&c.checkpoint_size),
    );
    put(
        "bansos_mempool_txs",
        "gauge",
        "Transactions waiting in the mempool.",
        mempool as u64,
    );
    put(
        "bansos_peers",
        "gauge",
        "Connected consensus peers.",
        Counters::get(&c.peers),
    );
    put(
        "bansos_committed_txs_total",
        "counter",
        "Transactions committed since start (rate() gives tx/s).",
        Counters::get(&c.committed_txs),
    );
    put(
        "bansos_admitted_txs_total",
        "counter",
        "Transactions admitted to the mempool through this node since start.",
        Counters::get(&c.admitted),
    );
    put(
        "bansos_write_limited_total",
        "counter",
        "Transactions refused by the write limits (per source address, per signer) since start.",
        Counters::get(&c.limited),
    );
    put(
        "bansos_bad_signatures_total",
        "counter",
        "Submitted transactions whose signature failed since start.",
        Counters::get(&c.bad_signatures),
    );
    put(
        "bansos_rejected_at_admission_total",
        "counter",
        "Transactions refused at admission since start.",
        Counters::get(&c.rejected_at_admission),
    );
    put(
        "bansos_rejected_in_blocks_total",
        "counter",
        "Transactions refused by the rules inside blocks since start.",
        Counters::get(&c.rejected_in_blocks),
    );
    put(
        "bansos_mempool_full_total",
        "counter",
        "Submissions refused because the mempool was full.",
        Counters::get(&c.busy),
    );
    put(
        "bansos_round_changes_total",
        "counter",
        "Consensus rounds above 0 started (a proposer was slow or down).",
        Counters::get(&c.round_changes),
    );
    put(
        "bansos_forward_dropped_total",
        "counter",
        "Transactions not forwarded because a peer's queue was full.",
        Counters::get(&c.forward_dropped),
    );
    put(
        "bansos_invalid_proposals_total",
        "counter",
        "Proposals this validator voted against: bad transactions or a block time out of bounds.",
        Counters::get(&c.invalid_proposals),
    );
    put(
        "bansos_refused_checkpoint_votes_total",
        "counter",
        "Other validators' checkpoint votes refused: a bad signature, or another log's checkpoint.",
        Counters::get(&c.refused_checkpoint_votes),
    );
    // Only a test validator configured with `[byzantine]` has it.
    if Counters::get(&c.byzantine) != 0 {
        put(
            "bansos_byzantine",
            "gauge",
            "1: this validator misbehaves on purpose ([byzantine] in node.toml, tests only).",
            1,
        );
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        out,
    )
        .into_response()
}

/// Forwards transactions admitted here to one peer validator's API, in batches; a peer that is
/// down loses nothing that matters (the transactions stay in this node's mempool and this node
/// proposes them in its turn).
pub fn forward_worker(peer: String, queue: Receiver<Vec<u8>>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}/v1/txs", peer.trim_end_matches('/'));
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        std::thread::sleep(Duration::from_millis(10));
        while batch.len() < 5000 {
            match queue.try_recv() {
                Ok(tx) => batch.push(tx),
                Err(_) => break,
            }
        }
        let body = join_batch(&batch);
        // No compression (the peer's answer is only read to reuse the connection).
        let sent = agent
            .post(&url)
            .header(FORWARDED_HEADER, "1")
            .header("content-type", "application/octet-stream")
            .header("accept-encoding", "identity")
            .send(&body[..]);
        match sent {
            Ok(mut r) if r.status().is_success() => {
                let _ = r.body_mut().read_to_vec();
            }
            Ok(r) => tracing::warn!(peer = %peer, status = %r.status(), "forwarding refused"),
            Err(e) => {
                tracing::debug!(peer = %peer, error = %e, "forwarding failed");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn refusal(pairs: &[(&'static str, &'static str)]) -> Option<StatusCode> {
        refuse_browser_write(&headers(pairs))
            .err()
            .map(|r| r.status())
    }

    #[test]
    fn writes_a_web_page_could_make_are_refused() {
        assert_eq!(
            refusal(&[("content-type", "application/octet-stream")]),
            None
        );
        assert_eq!(
            refusal(&[("content-type", "Application/Octet-Stream; x=1")]),
            None
        );
        // What a page may send cross-origin without a preflight.
        for simple in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ] {
            assert_eq!(
                refusal(&[("content-type", simple)]),
                Some(StatusCode::UNSUPPORTED_MEDIA_TYPE),
                "{simple}"
            );
        }
        assert_eq!(refusal(&[]), Some(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        for browser in ["origin", "sec-fetch-mode", "sec-fetch-site"] {
            assert_eq!(
                refusal(&[("content-type", "application/octet-stream"), (browser, "x")]),
                Some(StatusCode::FORBIDDEN),
                "{browser}"
            );
        }
    }

    #[test]
    fn batches_split_and_refuse_damage() {
        let txs = vec![vec![1u8, 2, 3], vec![], vec![9u8; 1000]];
        let body = join_batch(&txs);
        let back = split_batch(&body).unwrap();
        assert_eq!(back, txs.iter().map(|t| t.as_slice()).collect::<Vec<_>>());
        assert!(split_batch(&body[..body.len() - 1]).is_err());
        assert!(split_batch(&body[..2]).is_err());
        let mut big = Vec::new();
        big.extend_from_slice(&(TX_BYTES_MAX as u32 + 1).to_be_bytes());
        big.extend(vec![0u8; TX_BYTES_MAX + 1]);
        assert!(split_batch(&big).unwrap_err().contains("more than"));
        assert_eq!(split_batch(&[]).unwrap().len(), 0);
    }
}

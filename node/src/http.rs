//! The public read API: `GET /checkpoint` and the C2SP tlog-tiles paths
//! `/tile/<L>/<N>[.p/<W>]` and `/tile/entries/<N>[.p/<W>]`; JSON conveniences
//! `/v1/proof/inclusion`, `/v1/proof/consistency`, `/v1/allocations/<id>`, `/v1/tx/<hash>`,
//! `/v1/stats` (public totals per program, period, kabupaten/kota, payer and channel),
//! `/v1/allocation-events` (the events of one entry tile's allocations, for the citizen's
//! verifier); the public dashboard `/`; the citizen's page `/verify`; and `/healthz`.
//!
//! Tiles are immutable (a partial tile of width W never changes either), so they carry a
//! year-long `Cache-Control` and a CDN or a static mirror can serve them; the checkpoint may be
//! cached for two seconds only. Entry bundles and JSON are gzip-compressed when the client
//! accepts it; hash tiles are not (hashes do not compress).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, Version, header};
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::routing::{get, post};
use bansos_ledger::log::LogReader;
use bansos_ledger::store::StateRead;
use bansos_store::RedbStore;
use bansos_verifier::entry::AllocationId;
use bansos_verifier::hash::{Hash, LeafIndex, TreeSize};
use bansos_verifier::tile::{TileKind, TileRef};
use serde::Deserialize;
use tokio::sync::RwLock;
use tower_http::compression::predicate::{DefaultPredicate, Predicate as _};

/// Marks a response not worth compressing (hash tiles: 32-byte hashes do not compress).
#[derive(Clone, Copy)]
struct Incompressible;

/// Cache lifetime of tiles and bundles.
pub const TILE_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";
/// Cache lifetime of the checkpoint (C2SP: no more than a few seconds).
pub const CHECKPOINT_CACHE_CONTROL: &str = "public, max-age=2";

/// The checkpoint being served.
pub struct Published {
    /// The signed note, as served at `/checkpoint`.
    pub note: Vec<u8>,
    /// Its tree size: proofs are served for sizes up to it.
    pub size: TreeSize,
}

/// What the API serves from.
pub struct ReadState {
    /// The store.
    pub store: RedbStore,
    /// The latest checkpoint with a quorum of signatures, matching the store.
    pub checkpoint: Arc<RwLock<Published>>,
    /// A running validator's mempool and counters (`None` when serving a stored log).
    pub live: Option<Arc<crate::live::Live>>,
    /// The citizen's verification page, policy included (`crate::verify_page::render`).
    pub verify_page: String,
    /// The public dashboard, policy included (`crate::dashboard_page::render`).
    pub dashboard_page: String,
    /// The network id, when known (named in the key history).
    pub network_id: Option<bansos_verifier::entry::NetworkId>,
}

/// Runs `f` on a log reader over one consistent snapshot of the store.
fn read_log<T>(
    s: &ReadState,
    f: impl FnOnce(
        &LogReader<'_, bansos_store::Snapshot>,
    ) -> Result<T, bansos_ledger::log::LogError<bansos_store::StoreError>>,
) -> Result<T, String> {
    let snap = s.store.snapshot().map_err(|e| e.to_string())?;
    let reader = LogReader::new(&snap).map_err(|e| e.to_string())?;
    f(&reader).map_err(|e| e.to_string())
}

/// A JSON error with a machine-readable code and a sentence for people.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

async fn checkpoint(State(s): State<Arc<ReadState>>) -> Response {
    let note = s.checkpoint.read().await.note.clone();
    if note.is_empty() {
        let mut r = error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_checkpoint_yet",
            "The validators have not yet signed a checkpoint with a quorum; try again shortly.",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(CHECKPOINT_CACHE_CONTROL),
            ),
        ],
        note,
    )
        .into_response()
}

async fn tile(State(s): State<Arc<ReadState>>, Path(rest): Path<String>) -> Response {
    let path = format!("tile/{rest}");
    let Ok(t) = TileRef::parse(&path) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_tile_path",
            "This is not a C2SP tile path, e.g. /tile/0/x001/234 or /tile/entries/000.p/17.",
        );
    };
    let read = read_log(&s, |reader| reader.read_tile(&t));
    match read {
        Ok(Some(bytes)) => {
            let mut response = (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/octet-stream"),
                    ),
                    (
                        header::CACHE_CONTROL,
                        HeaderValue::from_static(TILE_CACHE_CONTROL),
                    ),
                ],
                bytes,
            )
                .into_response();
            if matches!(t.kind, TileKind::Hash(_)) {
                response.extensions_mut().insert(Incompressible);
            }
            response
        }
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "tile_not_found",
            "The log does not (yet) have this tile.",
        ),
        Err(e) => {
            tracing::error!(path = %path, error = %e, "reading a tile failed");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_error",
                "The node could not read its storage; try again or another node.",
            )
        }
    }
}

fn storage_error(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "reading the store failed");
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "storage_error",
        "The node could not read its storage; try again or another node.",
    )
}

fn b64(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(Hash::to_base64).collect()
}

/// `?index=I[&size=N]`.
#[derive(Deserialize)]
struct InclusionQuery {
    index: u64,
    size: Option<u64>,
}

fn bad_query(usage: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "bad_query",
        &format!("Expected {usage} (decimal numbers)."),
    )
}

async fn inclusion(
    State(s): State<Arc<ReadState>>,
    q: Result<Query<InclusionQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return bad_query("?index=I[&size=N]");
    };
    let published = s.checkpoint.read().await.size;
    let size = q.size.unwrap_or(published.0);
    if size > published.0 || q.index >= size {
        return error(
            StatusCode::BAD_REQUEST,
            "out_of_range",
            &format!(
                "Need index < size <= {}, the size of the current checkpoint.",
                published.0
            ),
        );
    }
    let result = read_log(&s, |reader| {
        Ok((
            reader.inclusion_proof(LeafIndex(q.index), TreeSize(size))?,
            reader.root_at(TreeSize(size))?,
        ))
    });
    match result {
        Ok((proof, root)) => Json(serde_json::json!({ "index": q.index, "size": size, "root": root.to_base64(), "proof": b64(&proof) })).into_response(),
        Err(e) => storage_error(e),
    }
}

/// `?old=M[&new=N]`.
#[derive(Deserialize)]
struct ConsistencyQuery {
    old: u64,
    new: Option<u64>,
}

async fn consistency(
    State(s): State<Arc<ReadState>>,
    q: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return bad_query("?old=M[&new=N]");
    };
    let published = s.checkpoint.read().await.size;
    let new = q.new.unwrap_or(published.0);
    if new > published.0 || q.old > new {
        return error(
            StatusCode::BAD_REQUEST,
            "out_of_range",
            &format!(
                "Need old <= new <= {}, the size of the current checkpoint.",
                published.0
            ),
        );
    }
    let result = read_log(&s, |reader| {
        let proof = reader.consistency_proof(TreeSize(q.old), TreeSize(new))?;
        Ok((
            proof,
            reader.root_at(TreeSize(q.old))?,
            reader.root_at(TreeSize(new))?,
        ))
    });
    match result {
        Ok((proof, old_root, new_root)) => Json(serde_json::json!({
            "old": q.old, "new": new, "old_root": old_root.to_base64(), "new_root": new_root.to_base64(), "proof": b64(&proof)
        }))
        .into_response(),
        Err(e) => storage_error(e),
    }
}

async fn allocation(State(s): State<Arc<ReadState>>, Path(id): Path<String>) -> Response {
    let Some(id) = AllocationId::from_hex(&id) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_allocation_id",
            "An allocation id is 32 hex digits.",
        );
    };
    match s.store.snapshot().and_then(|snap| snap.allocation(&id)) {
        Ok(Some(a)) => Json(a).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "allocation_not_found",
            "No committed allocation has this id.",
        ),
        Err(e) => storage_error(e),
    }
}

/// Most events answered for one entry tile (256 allocations, each with its claims).
pub const EVENTS_PER_TILE_MAX: usize = bansos_verifier::citizen::EVENTS_MAX;

/// `?tile=N&size=S`.
#[derive(Deserialize)]
struct EventsQuery {
    tile: u64,
    size: u64,
}

/// The claims, returns and revocations of every allocation whose leaf is in entry tile `N`,
/// each with its inclusion proof at size `S` (docs/VERIFY.md). A citizen's verifier asks for
/// the whole tile it already fetched, so the node never learns which allocation is checked.
async fn allocation_events(
    State(s): State<Arc<ReadState>>,
    q: Result<Query<EventsQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return bad_query("?tile=N&size=S");
    };
    let published = s.checkpoint.read().await.size;
    if q.size == 0 || q.size > published.0 {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_size",
            &format!(
                "Need 0 < size <= {}, the size of this node's current checkpoint.",
                published.0
            ),
        );
    }
    let first = q.tile.checked_mul(bansos_verifier::tile::TILE_WIDTH);
    let Some(first) = first.filter(|&f| f < q.size) else {
        return error(
            StatusCode::BAD_REQUEST,
            "out_of_range",
            "The entry tile is not inside a tree of that size.",
        );
    };
    let size = TreeSize(q.size);
    let result = (|| -> Result<Result<Vec<serde_json::Value>, Response>, String> {
        let snap = s.store.snapshot().map_err(|e| e.to_string())?;
        let reader = LogReader::new(&snap).map_err(|e| e.to_string())?;
        let entries = reader.entries(q.tile).map_err(|e| e.to_string())?;
        let mut events: Vec<(LeafIndex, AllocationId)> = Vec::new();
        for (offset, bytes) in entries.iter().enumerate() {
            if first + offset as u64 >= q.size {
                break;
            }
            let Ok(leaf) = bansos_verifier::entry::Leaf::decode(bytes) else {
                continue;
            };
            let bansos_verifier::entry::TxBody::Allocation(a) = leaf.tx.body else {
                continue;
            };
            let Some(state) = snap.allocation(&a.id).map_err(|e| e.to_string())? else {
                continue;
            };
            for leaf in state.claims.iter().chain(state.closed_by.iter()) {
                if leaf.0 < q.size {
                    events.push((*leaf, a.id));
                }
            }
        }
        if events.len() > EVENTS_PER_TILE_MAX {
            return Ok(Err(error(
                StatusCode::INSUFFICIENT_STORAGE,
                "too_many_events",
                "This tile has more events than one answer may carry.",
            )));
        }
        events.sort();
        let mut out = Vec::with_capacity(events.len());
        for (index, id) in events {
            let leaf = reader
                .entry(index)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("entry {index} is missing"))?;
            let proof = reader
                .inclusion_proof(index, size)
                .map_err(|e| e.to_string())?;
            out.push(serde_json::json!({
                "allocation": id.to_hex(),
                "index": index.0,
                "leaf": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &leaf),
                "proof": b64(&proof),
            }));
        }
        Ok(Ok(out))
    })();
    match result {
        // Events below a size that a checkpoint covers never change: cacheable like a tile.
        Ok(Ok(events)) => (
            [(header::CACHE_CONTROL, TILE_CACHE_CONTROL)],
            Json(serde_json::json!({ "tile": q.tile, "size": q.size, "events": events })),
        )
            .into_response(),
        Ok(Err(response)) => response,
        Err(e) => storage_error(e),
    }
}

async fn program(State(s): State<Arc<ReadState>>, Path(code): Path<String>) -> Response {
    let Some(code) = bansos_verifier::entry::ProgramCode::new(&code) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_program_code",
            "A program code is 2 to 16 capital letters, digits or underscores.",
        );
    };
    match s.store.snapshot().and_then(|snap| snap.program(&code)) {
        Ok(Some(p)) => Json(p).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "program_not_found",
            "No program with this code was registered on the log (programs of the genesis are in genesis.json).",
        ),
        Err(e) => storage_error(e),
    }
}

async fn tx(State(s): State<Arc<ReadState>>, Path(hash): Path<String>) -> Response {
    let Some(hash) = Hash::from_hex(&hash) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_tx_hash",
            "A transaction hash is 64 hex digits (SHA-256 of the signed transaction).",
        );
    };
    match s.store.snapshot().and_then(|snap| snap.tx_location(&hash)) {
        Ok(Some(loc)) => Json(
            serde_json::json!({ "status": "committed", "height": loc.height, "leaf": loc.leaf.0 }),
        )
        .into_response(),
        Ok(None) => match crate::write::uncommitted_status(&s, &hash) {
            Some(json) => Json(json).into_response(),
            None => error(
                StatusCode::NOT_FOUND,
                "tx_not_found",
                "No committed, pending or recently rejected transaction has this hash.",
            ),
        },
        Err(e) => storage_error(e),
    }
}

/// The key history (docs/VERIFY.md, "Key history"): every approved governance change with its
/// votes and the first checkpoint its epoch signed, from which anyone holding the genesis trust
/// policy follows the validators to the current ones. A change whose first checkpoint is not
/// signed yet is left out until it is.
async fn key_history(State(s): State<Arc<ReadState>>) -> Response {
    use bansos_verifier::governance::{KEY_HISTORY_FORMAT, KeyHistoryFile, Link};
    let snap = match s.store.snapshot() {
        Ok(snap) => snap,
        Err(e) => return storage_error(e),
    };
    let approved = match snap.governance() {
        Ok(g) => g.map(|g| g.approved).unwrap_or_default(),
        Err(e) => return storage_error(e),
    };
    let mut links = Vec::with_capacity(approved.len());
    for a in approved {
        let note = match snap.epoch_checkpoint(a.epoch) {
            Ok(Some(note)) => note,
            Ok(None) => break,
            Err(e) => return storage_error(e),
        };
        links.push(Link {
            epoch: a.epoch,
            change: data_encoding::HEXLOWER.encode(&a.change.to_bytes()),
            votes: a.votes,
            checkpoint: String::from_utf8_lossy(&note).into_owned(),
        });
    }
    let file = KeyHistoryFile {
        format: KEY_HISTORY_FORMAT.into(),
        network_id: s.network_id,
        links,
    };
    ([(header::CACHE_CONTROL, "no-cache")], Json(file)).into_response()
}

/// The governance state: the members and witnesses in force, the changes being voted with
/// their votes, and the approved ones (docs/API.md, "Governance").
async fn governance(State(s): State<Arc<ReadState>>) -> Response {
    let g = match s.store.snapshot().and_then(|snap| snap.governance()) {
        Ok(g) => g,
        Err(e) => return storage_error(e),
    };
    let Some(g) = g.or_else(|| {
        s.live
            .as_ref()
            .map(|l| bansos_ledger::store::GovernanceState::genesis(l.network.genesis_roster()))
    }) else {
        return error(
            StatusCode::NOT_FOUND,
            "no_governance",
            "This stored log has had no governance change, and the genesis is not known here.",
        );
    };
    let total = g.roster.total_power();
    let pending: Vec<serde_json::Value> = g
        .pending
        .iter()
        .map(|(hash, p)| {
            let power: u64 = p
                .voters
                .iter()
                .filter_map(|(m, _)| g.roster.member(*m))
                .map(|m| m.power)
                .sum();
            serde_json::json!({
                "change_hash": hash,
                "change": p.change,
                "voters": p.voters.iter().map(|(m, leaf)| serde_json::json!({"member": m, "leaf": leaf})).collect::<Vec<_>>(),
                "power": power,
                "approved_above": 2 * total / 3,
            })
        })
        .collect();
    let approved: Vec<serde_json::Value> = g
        .approved
        .iter()
        .map(|a| {
            serde_json::json!({
                "epoch": a.epoch,
                "change": a.change,
                "change_hash": a.change.hash(),
                "votes": a.votes.len(),
                "approved_at_height": a.height,
                "from_height": a.height + 1,
                "from_size": a.start_size,
            })
        })
        .collect();
    Json(serde_json::json!({
        "epoch": g.roster.epoch,
        "rules_version": bansos_verifier::governance::RULES_VERSION,
        "roster": g.roster,
        "total_power": total,
        "pending": pending,
        "approved": approved,
    }))
    .into_response()
}

async fn stats(State(s): State<Arc<ReadState>>) -> Response {
    match s.store.snapshot().and_then(|snap| snap.stats()) {
        Ok(rows) => {
            let mut totals = bansos_ledger::store::StatsRow::default();
            for (_, row) in &rows {
                totals.add(row);
            }
            let rows: Vec<serde_json::Value> = rows
                .into_iter()
                .map(|(k, v)| serde_json::json!({ "key": k, "totals": v }))
                .collect();
            Json(serde_json::json!({ "totals": totals, "rows": rows })).into_response()
        }
        Err(e) => storage_error(e),
    }
}

/// Seconds without a committed block after which a validator reports itself unhealthy.
pub const STALLED_AFTER_SECS: u64 = 30;

/// `ok`, or 503 when a validator's consensus has not committed a block for
/// [`STALLED_AFTER_SECS`] (it lost its peers, or the engine stopped on purpose after a safety
/// failure: see docs/OPERATIONS.md).
async fn healthz(State(s): State<Arc<ReadState>>) -> Response {
    if let Some(live) = &s.live {
        let last = crate::live::Counters::get(&live.counters.last_commit_unix);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if now.saturating_sub(last) > STALLED_AFTER_SECS {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "consensus_stalled",
                &format!(
                    "This validator has not committed a block for {} s; see its log.",
                    now.saturating_sub(last)
                ),
            );
        }
    }
    "ok\n".into_response()
}

async fn verify_page(State(s): State<Arc<ReadState>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        s.verify_page.clone(),
    )
        .into_response()
}

/// The dashboard changes only with the node's binary; its data comes from `/v1/stats`.
async fn dashboard_page(State(s): State<Arc<ReadState>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        s.dashboard_page.clone(),
    )
        .into_response()
}

/// A write route whose body is read within `max` bytes ([`crate::body`]).
fn bounded(route: MethodRouter<Arc<ReadState>>, max: usize) -> MethodRouter<Arc<ReadState>> {
    route
        .layer(DefaultBodyLimit::max(max))
        .layer(from_fn(move |r, n| crate::body::within(max, r, n)))
}

/// Which routes a listener serves: a validator with a `write_listen` address serves reads on
/// `http_listen` and writes on the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serves {
    /// Reads and writes on one address.
    All,
    /// The read API only; writes are answered with where to send them.
    Reads,
    /// The write API only.
    Writes,
}

/// Wraps a write route in the validator's concurrency and time limits (`crate::limits`):
/// more writes than allowed at once are shed with 503 at once rather than queued, and one that
/// takes too long, reading its body included, is cut with 408. The three write routes share
/// one count.
fn guarded(
    route: MethodRouter<Arc<ReadState>>,
    max: usize,
    guard: &Option<(Arc<tokio::sync::Semaphore>, std::time::Duration)>,
) -> MethodRouter<Arc<ReadState>> {
    let route = bounded(route, max);
    let Some((slots, timeout)) = guard else {
        return route;
    };
    route.layer(
        tower::ServiceBuilder::new()
            .layer(axum::error_handling::HandleErrorLayer::new(
                |_: tower::BoxError| async {
                    let mut r = error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "overloaded",
                        "The validator is serving as many writes as it allows; retry in a moment.",
                    );
                    r.headers_mut().insert(
                        axum::http::header::RETRY_AFTER,
                        axum::http::HeaderValue::from_static("1"),
                    );
                    r
                },
            ))
            .layer(tower::load_shed::LoadShedLayer::new())
            .layer(tower::limit::GlobalConcurrencyLimitLayer::with_semaphore(
                slots.clone(),
            ))
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                *timeout,
            )),
    )
}

/// The API's routes, reads and writes.
pub fn router(state: Arc<ReadState>) -> Router {
    routes(state, Serves::All)
}

/// The routes one listener serves.
pub fn routes(state: Arc<ReadState>, serves: Serves) -> Router {
    let mut r = Router::new();
    if serves != Serves::Writes {
        r = r
            .route("/", get(dashboard_page))
            .route("/checkpoint", get(checkpoint))
            .route("/tile/{*rest}", get(tile))
            .route("/healthz", get(healthz))
            .route("/verify", get(verify_page))
            .route("/v1/proof/inclusion", get(inclusion))
            .route("/v1/proof/consistency", get(consistency))
            .route("/v1/allocations/{id}", get(allocation))
            .route("/v1/allocation-events", get(allocation_events))
            .route("/v1/tx/{hash}", get(tx))
            .route("/v1/programs/{code}", get(program))
            .route("/v1/stats", get(stats))
            .route("/key-history", get(key_history))
            .route("/v1/governance", get(governance))
            .route("/v1/status", get(crate::write::status))
            .route("/metrics", get(crate::write::metrics));
    }
    if serves == Serves::Reads {
        let elsewhere = || async {
            error(
                StatusCode::NOT_FOUND,
                "writes_elsewhere",
                "This address serves reads only; members submit to the validator's write address.",
            )
        };
        for path in ["/v1/tx", "/v1/txs", "/v1/tx-status"] {
            r = r.route(path, post(elsewhere));
        }
    } else {
        let guard = state.live.as_ref().map(|l| {
            let c = l.limits.config();
            (
                Arc::new(tokio::sync::Semaphore::new(c.max_concurrent)),
                l.limits.timeout(),
            )
        });
        r = r
            .route(
                "/v1/tx",
                guarded(
                    post(crate::write::post_tx),
                    crate::write::TX_BODY_MAX,
                    &guard,
                ),
            )
            .route(
                "/v1/txs",
                guarded(
                    post(crate::write::post_txs),
                    crate::write::BATCH_BYTES_MAX,
                    &guard,
                ),
            )
            .route(
                "/v1/tx-status",
                guarded(
                    post(crate::write::tx_status),
                    crate::write::STATUS_HASHES_MAX * 32,
                    &guard,
                ),
            );
    }
    r.fallback(|| async {
        error(
            StatusCode::NOT_FOUND,
            "not_found",
            "No such resource. See /checkpoint and /tile/.",
        )
    })
    .with_state(state)
    // Any page (a saved copy of /verify, a mirror, a journalist's tool) may read the public
    // log from a browser; writes stay same-origin (their content type needs a preflight,
    // which only GET and HEAD pass).
    .layer(
        tower_http::cors::CorsLayer::new()
            .allow_origin(tower_http::cors::Any)
            .allow_methods([axum::http::Method::GET, axum::http::Method::HEAD]),
    )
    .layer(
        tower_http::compression::CompressionLayer::new()
            .gzip(true)
            .compress_when(DefaultPredicate::new().and(
                |_: StatusCode, _: Version, _: &HeaderMap, ext: &Extensions| {
                    ext.get::<Incompressible>().is_none()
                },
            )),
    )
}

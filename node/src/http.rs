//! The public read API: `GET /checkpoint` and the C2SP tlog-tiles paths
//! `/tile/<L>/<N>[.p/<W>]` and `/tile/entries/<N>[.p/<W>]`, plus `/healthz`.
//!
//! Tiles are immutable (a partial tile of width W never changes either), so they carry a
//! year-long `Cache-Control` and a CDN or a static mirror can serve them; the checkpoint may be
//! cached for two seconds only. Entry bundles are gzip-compressed when the client accepts it.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bansos_ledger::log::LogReader;
use bansos_store::RedbStore;
use bansos_verifier::tile::TileRef;
use tokio::sync::RwLock;

/// Cache lifetime of tiles and bundles.
pub const TILE_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";
/// Cache lifetime of the checkpoint (C2SP: no more than a few seconds).
pub const CHECKPOINT_CACHE_CONTROL: &str = "public, max-age=2";

/// What the read API serves from.
pub struct ReadState {
    /// The store.
    pub store: RedbStore,
    /// The latest signed checkpoint note, matching the store.
    pub checkpoint: RwLock<Vec<u8>>,
}

/// A JSON error with a machine-readable code and a sentence for people.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
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
    let note = s.checkpoint.read().await.clone();
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
    let read = s
        .store
        .snapshot()
        .map_err(|e| e.to_string())
        .and_then(|snap| {
            let reader = LogReader::new(&snap).map_err(|e| e.to_string())?;
            reader.read_tile(&t).map_err(|e| e.to_string())
        });
    match read {
        Ok(Some(bytes)) => (
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
            .into_response(),
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

async fn healthz() -> &'static str {
    "ok\n"
}

/// The read API's routes.
pub fn router(state: Arc<ReadState>) -> Router {
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*rest}", get(tile))
        .route("/healthz", get(healthz))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "not_found",
                "No such resource. See /checkpoint and /tile/.",
            )
        })
        .with_state(state)
        .layer(tower_http::compression::CompressionLayer::new().gzip(true))
}

//! The witness over HTTP (axum): `POST /add-checkpoint` (C2SP tlog-witness v1.0.0) and
//! `GET /checkpoint` (the latest cosigned checkpoint with its cosignature, for monitors).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bansos_verifier::tlog_witness::{ADD_CHECKPOINT_BYTES_MAX, TLOG_SIZE_CONTENT_TYPE, size_body};

use crate::Witness;

/// The router of one witness. Request bodies above [`ADD_CHECKPOINT_BYTES_MAX`] get 413.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/checkpoint", get(checkpoint))
        .layer(DefaultBodyLimit::max(ADD_CHECKPOINT_BYTES_MAX))
        .with_state(witness)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn text(status: StatusCode, content_type: &'static str, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body.into(),
    )
        .into_response()
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    // The check, the fsync and the cosignature run under the state lock: off the async workers.
    let w = witness.clone();
    let result = tokio::task::spawn_blocking(move || w.add_checkpoint(&body, unix_now())).await;
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "add-checkpoint task failed");
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain; charset=utf-8",
                "internal error\n",
            );
        }
    };
    match result {
        Ok(lines) => {
            tracing::info!(size = witness.latest_size().0, "cosigned");
            (
                StatusCode::OK,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                )],
                lines,
            )
                .into_response()
        }
        Err(refusal) => {
            let status =
                StatusCode::from_u16(refusal.status()).expect("refusal statuses are valid");
            if let Some(latest) = refusal.latest_size() {
                tracing::info!(code = refusal.code(), %refusal, "refused");
                return text(status, TLOG_SIZE_CONTENT_TYPE, size_body(latest));
            }
            if status == StatusCode::UNPROCESSABLE_ENTITY || status.is_server_error() {
                tracing::warn!(code = refusal.code(), %refusal, "refused");
            } else {
                tracing::info!(code = refusal.code(), %refusal, "refused");
            }
            let body = serde_json::json!({
                "error": { "code": refusal.code(), "message": refusal.to_string() }
            });
            text(status, "application/json", body.to_string())
        }
    }
}

async fn checkpoint(State(witness): State<Arc<Witness>>) -> Response {
    match witness.latest_note() {
        Some(note) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            note,
        )
            .into_response(),
        None => text(
            StatusCode::NOT_FOUND,
            "application/json",
            serde_json::json!({"error": {"code": "no_checkpoint_yet",
                "message": "This witness has not cosigned a checkpoint yet."}})
            .to_string(),
        ),
    }
}

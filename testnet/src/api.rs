//! A blocking client of one validator's HTTP API (the calls `bansos-testnet` needs):
//! `/healthz`, `/v1/status`, `POST /v1/txs` and `GET /v1/tx/<hash>`.

use std::time::Duration;

use anyhow::{Context, bail};
use bansos_testnet::batch;
use bansos_verifier::hash::Hash;
use serde::Deserialize;

/// Time allowed for a small request (status, one transaction).
pub const REQUEST_TIMEOUT_MS: u64 = 5_000;
/// Time allowed for a batch: up to 16 MiB to send and 10,000 results to check.
pub const BATCH_TIMEOUT_MS: u64 = 60_000;
/// Largest response read.
pub const RESPONSE_BYTES_MAX: u64 = 8 * 1024 * 1024;

/// `GET /v1/status`.
#[derive(Clone, Debug, Deserialize)]
pub struct Status {
    /// Height of the last decided block.
    pub height: u64,
    /// Entries in the log.
    pub log_size: u64,
    /// Size of the latest checkpoint signed by a quorum.
    #[serde(default)]
    pub checkpoint_size: u64,
    /// Transactions waiting in the mempool.
    #[serde(default)]
    pub mempool: u64,
}

/// One transaction's answer in a `POST /v1/txs` response.
#[derive(Clone, Debug, Deserialize)]
pub struct TxResult {
    /// The transaction's hash, hex.
    #[serde(default)]
    pub hash: String,
    /// `pending`, `committed`, `rejected` or `busy`.
    pub status: String,
    /// Why, for `rejected`.
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Deserialize)]
struct BatchResponse {
    results: Vec<TxResult>,
}

/// `GET /v1/tx/<hash>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxState {
    /// The node does not know it (404).
    Unknown,
    /// Waiting in a mempool.
    Pending,
    /// In the log.
    Committed {
        /// Its leaf index.
        leaf: u64,
    },
    /// Refused when its block was applied.
    Rejected(String),
}

#[derive(Deserialize)]
struct TxStateJson {
    status: String,
    #[serde(default)]
    leaf: Option<u64>,
    #[serde(default)]
    message: Option<String>,
}

/// A validator's API at a base URL.
#[derive(Clone)]
pub struct NodeApi {
    /// Member name, for messages.
    pub name: String,
    /// Base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    agent: ureq::Agent,
    batch_agent: ureq::Agent,
}

fn agent(timeout_ms: u64) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(timeout_ms)))
        // Status codes carry meaning here (404 unknown, 503 busy).
        .http_status_as_error(false)
        .user_agent(concat!("bansos-testnet/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// The `message` of a JSON error body, or the body itself.
fn error_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct E {
        message: String,
    }
    match serde_json::from_slice::<E>(body) {
        Ok(e) => e.message,
        Err(_) => String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
    }
}

impl NodeApi {
    /// A client of the node `name` at `url`.
    pub fn new(name: &str, url: &str) -> NodeApi {
        NodeApi {
            name: name.to_owned(),
            url: url.trim_end_matches('/').to_owned(),
            agent: agent(REQUEST_TIMEOUT_MS),
            batch_agent: agent(BATCH_TIMEOUT_MS),
        }
    }

    /// `GET <path>`: the status and the body.
    pub fn get(&self, path: &str) -> anyhow::Result<(u16, Vec<u8>)> {
        let url = format!("{}{path}", self.url);
        let mut r = self
            .agent
            .get(&url)
            .call()
            .with_context(|| format!("GET {url}"))?;
        let body = r
            .body_mut()
            .with_config()
            .limit(RESPONSE_BYTES_MAX)
            .read_to_vec()
            .with_context(|| format!("GET {url}: reading the response"))?;
        Ok((r.status().as_u16(), body))
    }

    /// `GET /healthz` answers 200.
    pub fn healthz(&self) -> anyhow::Result<()> {
        match self.get("/healthz")? {
            (200, _) => Ok(()),
            (code, body) => bail!(
                "GET {}/healthz: HTTP {code}: {}",
                self.url,
                error_message(&body)
            ),
        }
    }

    /// `GET /v1/status`.
    pub fn status(&self) -> anyhow::Result<Status> {
        match self.get("/v1/status")? {
            (200, body) => serde_json::from_slice(&body).with_context(|| {
                format!(
                    "GET {}/v1/status: unexpected answer {}",
                    self.url,
                    String::from_utf8_lossy(&body)
                )
            }),
            (code, body) => bail!(
                "GET {}/v1/status: HTTP {code}: {}",
                self.url,
                error_message(&body)
            ),
        }
    }

    /// `GET /v1/tx/<hash>`.
    pub fn tx(&self, hash: &Hash) -> anyhow::Result<TxState> {
        let path = format!("/v1/tx/{}", hash.to_hex());
        match self.get(&path)? {
            (404, _) => Ok(TxState::Unknown),
            (200, body) => {
                let s: TxStateJson = serde_json::from_slice(&body).with_context(|| {
                    format!(
                        "GET {}{path}: unexpected answer {}",
                        self.url,
                        String::from_utf8_lossy(&body)
                    )
                })?;
                Ok(match (s.status.as_str(), s.leaf) {
                    ("committed", Some(leaf)) => TxState::Committed { leaf },
                    ("rejected", _) => TxState::Rejected(s.message.unwrap_or_default()),
                    ("pending", _) => TxState::Pending,
                    (other, _) => bail!("GET {}{path}: unknown status {other:?}", self.url),
                })
            }
            (code, body) => bail!(
                "GET {}{path}: HTTP {code}: {}",
                self.url,
                error_message(&body)
            ),
        }
    }

    /// POSTs binary `body` to `url`: the status, the `Retry-After` seconds and the body.
    fn post_binary(&self, url: &str, body: &[u8]) -> anyhow::Result<(u16, Option<u64>, Vec<u8>)> {
        let mut r = self
            .batch_agent
            .post(url)
            .header("Content-Type", "application/octet-stream")
            .send(body)
            .with_context(|| format!("POST {url}"))?;
        let retry_after = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok());
        let status = r.status().as_u16();
        let bytes = r
            .body_mut()
            .with_config()
            .limit(RESPONSE_BYTES_MAX)
            .read_to_vec()
            .with_context(|| format!("POST {url}: reading the response"))?;
        Ok((status, retry_after, bytes))
    }

    /// `POST /v1/tx-status`: the status (`pending`, `committed`, `rejected`, `unknown`) of each
    /// of at most 10,000 transactions, in order.
    pub fn tx_states(&self, hashes: &[Hash]) -> anyhow::Result<Vec<String>> {
        #[derive(Deserialize)]
        struct One {
            status: String,
        }
        #[derive(Deserialize)]
        struct All {
            results: Vec<One>,
        }
        let url = format!("{}/v1/tx-status", self.url);
        let body: Vec<u8> = hashes.iter().flat_map(|h| h.0).collect();
        let (status, _, bytes) = self.post_binary(&url, &body)?;
        if status != 200 {
            bail!("POST {url}: HTTP {status}: {}", error_message(&bytes));
        }
        let all: All = serde_json::from_slice(&bytes)
            .with_context(|| format!("POST {url}: unexpected answer"))?;
        if all.results.len() != hashes.len() {
            bail!(
                "POST {url}: {} results for {} hashes",
                all.results.len(),
                hashes.len()
            );
        }
        Ok(all.results.into_iter().map(|o| o.status).collect())
    }

    /// `POST /v1/txs` with canonical signed transactions; one result per transaction, in order,
    /// and the `Retry-After` seconds if the node asked for it. A whole-request 503 counts as
    /// every transaction busy.
    pub fn submit(&self, txs: &[&[u8]]) -> anyhow::Result<(Vec<TxResult>, Option<u64>)> {
        let url = format!("{}/v1/txs", self.url);
        let body = batch::encode(txs.iter().copied());
        let (status, retry_after, bytes) = self.post_binary(&url, &body)?;
        match status {
            200 => {}
            // Overloaded, or over a write limit: the whole batch is busy.
            503 | 429 | 408 => {
                let busy = TxResult {
                    hash: String::new(),
                    status: "busy".into(),
                    message: Some(error_message(&bytes)),
                };
                return Ok((vec![busy; txs.len()], retry_after.or(Some(1))));
            }
            code => bail!(
                "POST {url} ({} transactions): HTTP {code}: {}",
                txs.len(),
                error_message(&bytes)
            ),
        }
        let parsed: BatchResponse = serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "POST {url}: unexpected answer {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            )
        })?;
        if parsed.results.len() != txs.len() {
            bail!(
                "POST {url}: {} results for {} transactions",
                parsed.results.len(),
                txs.len()
            );
        }
        Ok((parsed.results, retry_after))
    }
}

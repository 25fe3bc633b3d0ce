//! The validators' HTTP API as the client uses it (docs/API.md): batches of signed
//! transactions, transaction status, with failover between nodes and retries when a validator's
//! mempool is full.

use std::time::Duration;

use serde_json::Value;

/// What a validator answered for one submitted transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxState {
    /// In a mempool, not yet decided.
    Pending,
    /// In the log.
    Committed {
        /// Block height.
        height: u64,
        /// Leaf index.
        leaf: u64,
    },
    /// Refused, with the reason.
    Rejected(String),
    /// The mempool was full: send it again.
    Busy,
    /// The node does not know it (not submitted there, or forgotten).
    Unknown,
}

/// Why no node could answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Every node failed.
    #[error("no validator answered ({tried} tried); last error: {last}")]
    Unreachable {
        /// How many were tried.
        tried: usize,
        /// The last error.
        last: String,
    },
    /// A node refused the whole request.
    #[error("the validator refused the request: {0}")]
    Refused(String),
}

/// The validators this client talks to; it moves to the next one when one fails.
pub struct Nodes {
    urls: Vec<String>,
    current: usize,
    agent: ureq::Agent,
}

fn state_of(v: &Value) -> TxState {
    match v["status"].as_str() {
        Some("pending") => TxState::Pending,
        Some("committed") => TxState::Committed {
            height: v["height"].as_u64().unwrap_or(0),
            leaf: v["leaf"].as_u64().unwrap_or(0),
        },
        Some("rejected") => TxState::Rejected(v["message"].as_str().unwrap_or("").to_string()),
        Some("busy") => TxState::Busy,
        _ => TxState::Unknown,
    }
}

impl Nodes {
    /// Talks to these base URLs, the first one first.
    pub fn new(urls: Vec<String>) -> Nodes {
        Nodes {
            urls: urls
                .into_iter()
                .map(|u| u.trim_end_matches('/').to_string())
                .collect(),
            current: 0,
            agent: ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(30)))
                .http_status_as_error(false)
                .build()
                .into(),
        }
    }

    /// Runs `f` against the current node, moving on to the next on transport errors and 5xx.
    fn with_failover<T>(
        &mut self,
        mut f: impl FnMut(&ureq::Agent, &str) -> Result<Option<T>, String>,
    ) -> Result<T, ApiError> {
        let mut last = String::from("no node configured");
        for _ in 0..self.urls.len().max(1) * 2 {
            let Some(url) = self.urls.get(self.current) else {
                break;
            };
            match f(&self.agent, url) {
                Ok(Some(t)) => return Ok(t),
                Ok(None) => last = format!("{url} is unavailable"),
                Err(e) => last = format!("{url}: {e}"),
            }
            self.current = (self.current + 1) % self.urls.len();
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(ApiError::Unreachable {
            tried: self.urls.len(),
            last,
        })
    }

    /// Submits one batch; returns one state per transaction, in order. `Busy` ones are sent
    /// again (after the validator's Retry-After) until none is left.
    pub fn submit(&mut self, txs: &[Vec<u8>]) -> Result<Vec<TxState>, ApiError> {
        let mut states = vec![TxState::Busy; txs.len()];
        for _ in 0..600 {
            let todo: Vec<usize> = (0..txs.len())
                .filter(|&i| states[i] == TxState::Busy)
                .collect();
            if todo.is_empty() {
                return Ok(states);
            }
            let mut body = Vec::new();
            for &i in &todo {
                body.extend_from_slice(&(txs[i].len() as u32).to_be_bytes());
                body.extend_from_slice(&txs[i]);
            }
            let results = self.with_failover(|agent, url| {
                let mut r = agent
                    .post(&format!("{url}/v1/txs"))
                    .header("content-type", "application/octet-stream")
                    .send(&body[..])
                    .map_err(|e| e.to_string())?;
                let status = r.status().as_u16();
                let text = r.body_mut().read_to_string().map_err(|e| e.to_string())?;
                let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                match status {
                    200 => Ok(Some(Ok(v))),
                    400 | 413 => Ok(Some(Err(v["error"]["message"]
                        .as_str()
                        .unwrap_or("refused")
                        .to_string()))),
                    _ => Ok(None),
                }
            })?;
            let results = results.map_err(ApiError::Refused)?;
            let list = results["results"].as_array().cloned().unwrap_or_default();
            if list.len() != todo.len() {
                return Err(ApiError::Refused(format!(
                    "{} results for {} transactions",
                    list.len(),
                    todo.len()
                )));
            }
            for (&i, v) in todo.iter().zip(&list) {
                states[i] = state_of(v);
            }
            if states.contains(&TxState::Busy) {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        Err(ApiError::Refused(
            "the validators stayed full for ten minutes".into(),
        ))
    }

    /// The state of a transaction by its hash (hex).
    pub fn status(&mut self, hash: &str) -> Result<TxState, ApiError> {
        self.with_failover(|agent, url| {
            let mut r = agent
                .get(&format!("{url}/v1/tx/{hash}"))
                .call()
                .map_err(|e| e.to_string())?;
            let status = r.status().as_u16();
            let text = r.body_mut().read_to_string().map_err(|e| e.to_string())?;
            match status {
                200 => Ok(Some(state_of(
                    &serde_json::from_str(&text).unwrap_or(Value::Null),
                ))),
                404 => Ok(Some(TxState::Unknown)),
                _ => Ok(None),
            }
        })
    }

    /// The states of many transactions (hashes in hex), in order, in requests of up to 10,000.
    pub fn statuses(&mut self, hashes: &[String]) -> Result<Vec<TxState>, ApiError> {
        let mut out = Vec::with_capacity(hashes.len());
        for chunk in hashes.chunks(10_000) {
            let mut body = Vec::with_capacity(chunk.len() * 32);
            for h in chunk {
                let bytes = data_encoding::HEXLOWER
                    .decode(h.as_bytes())
                    .map_err(|e| ApiError::Refused(format!("not a transaction hash: {e}")))?;
                body.extend_from_slice(&bytes);
            }
            let list = self.with_failover(|agent, url| {
                let mut r = agent
                    .post(&format!("{url}/v1/tx-status"))
                    .header("content-type", "application/octet-stream")
                    .send(&body[..])
                    .map_err(|e| e.to_string())?;
                if r.status().as_u16() != 200 {
                    return Ok(None);
                }
                let text = r.body_mut().read_to_string().map_err(|e| e.to_string())?;
                let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                Ok(v["results"].as_array().cloned())
            })?;
            if list.len() != chunk.len() {
                return Err(ApiError::Refused(format!(
                    "{} states for {} transactions",
                    list.len(),
                    chunk.len()
                )));
            }
            out.extend(list.iter().map(state_of));
        }
        Ok(out)
    }

    /// Raw bytes from the API (a tile, the checkpoint); `None` on 404.
    pub fn get_bytes(&mut self, path: &str) -> Result<Option<Vec<u8>>, ApiError> {
        self.with_failover(|agent, url| {
            let mut r = agent
                .get(&format!("{url}{path}"))
                .call()
                .map_err(|e| e.to_string())?;
            match r.status().as_u16() {
                200 => Ok(Some(Some(
                    r.body_mut()
                        .with_config()
                        .limit(64 * 1024 * 1024)
                        .read_to_vec()
                        .map_err(|e| e.to_string())?,
                ))),
                404 => Ok(Some(None)),
                _ => Ok(None),
            }
        })
    }

    /// A JSON document from the API (e.g. `/v1/allocations/<id>`); `None` on 404.
    pub fn get_json(&mut self, path: &str) -> Result<Option<Value>, ApiError> {
        self.with_failover(|agent, url| {
            let mut r = agent
                .get(&format!("{url}{path}"))
                .call()
                .map_err(|e| e.to_string())?;
            let status = r.status().as_u16();
            let text = r.body_mut().read_to_string().map_err(|e| e.to_string())?;
            match status {
                200 => Ok(Some(Some(
                    serde_json::from_str(&text).map_err(|e| e.to_string())?,
                ))),
                404 => Ok(Some(None)),
                _ => Ok(None),
            }
        })
    }
}

//! The witness's one request to the log: `GET <node>/key-history` (ureq, blocking, bounded in
//! time and size), asked of the log's nodes in the order given until one answers. Used by
//! [`crate::Witness`] through [`crate::KeyHistorySource`] when the validators changed.

use std::time::Duration;

use bansos_verifier::governance::KEY_HISTORY_BYTES_MAX;

use crate::KeyHistorySource;

/// Time allowed for one request, connection to last byte.
pub const REQUEST_TIMEOUT_SECS: u64 = 10;

/// The log's nodes, asked over HTTP.
pub struct HttpKeyHistory {
    agent: ureq::Agent,
    urls: Vec<String>,
}

impl HttpKeyHistory {
    /// Asks the nodes at `urls` (base URLs, e.g. `https://node1.example`), in this order.
    pub fn new(urls: Vec<String>) -> HttpKeyHistory {
        HttpKeyHistory {
            agent: ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(REQUEST_TIMEOUT_SECS)))
                .http_status_as_error(false)
                .user_agent(concat!("bansos-witness/", env!("CARGO_PKG_VERSION")))
                .build()
                .into(),
            urls: urls
                .into_iter()
                .map(|u| u.trim_end_matches('/').to_string())
                .collect(),
        }
    }

    fn get(&self, url: &str) -> Result<Option<Vec<u8>>, String> {
        let url = format!("{url}/key-history");
        let mut r = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| format!("GET {url}: {e}"))?;
        match r.status().as_u16() {
            200 => r
                .body_mut()
                .with_config()
                .limit(KEY_HISTORY_BYTES_MAX as u64)
                .read_to_vec()
                .map(Some)
                .map_err(|e| format!("GET {url}: {e}")),
            404 => Ok(None),
            code => Err(format!("GET {url}: HTTP status {code}")),
        }
    }
}

impl KeyHistorySource for HttpKeyHistory {
    fn fetch(&self) -> Result<Option<Vec<u8>>, String> {
        let mut last = Ok(None);
        for url in &self.urls {
            match self.get(url) {
                Ok(Some(body)) => return Ok(Some(body)),
                other => last = other,
            }
        }
        last
    }
}

//! Reading a tlog-tiles log over HTTP: one GET per resource under the log's URL prefix, with a
//! timeout, a size bound per response, and gzip accepted whether or not it was negotiated.

use std::time::Duration;

use crate::audit::Fetch;
use crate::failure::{Failure, Outcome, invalid, unchecked};

/// Default time allowed for one request, connection to last byte.
pub const REQUEST_TIMEOUT_SECS_DEFAULT: u64 = 30;

/// A log reached at an `http://` or `https://` URL prefix (TLS with rustls and the Mozilla
/// root certificates bundled by `webpki-roots`, so no system store is needed).
pub struct HttpLog {
    agent: ureq::Agent,
    /// The prefix without trailing slashes.
    prefix: String,
}

impl HttpLog {
    /// A client for the log at `prefix` (with or without a trailing `/`).
    pub fn new(prefix: &str, timeout: Duration) -> Outcome<HttpLog> {
        let prefix = prefix.trim_end_matches('/');
        let scheme_len = ["http://", "https://"]
            .iter()
            .find(|s| prefix.starts_with(*s))
            .map(|s| s.len());
        if scheme_len.is_none_or(|n| prefix.len() == n) {
            return Err(unchecked(format!(
                "{prefix:?} is not an http:// or https:// URL prefix"
            )));
        }
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            // Status codes are handled here: 404 is meaningful for partial tiles.
            .http_status_as_error(false)
            // tlog-tiles: "Clients SHOULD include gzip and identity in their Accept-Encoding".
            .accept_encoding("gzip, identity")
            .user_agent(concat!("bansos-verify/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(HttpLog {
            agent: config.into(),
            prefix: prefix.to_owned(),
        })
    }

    /// The full URL of `path` under the prefix.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.prefix, path)
    }
}

impl Fetch for HttpLog {
    fn get(&self, path: &str, bytes_max: u64) -> Outcome<Option<Vec<u8>>> {
        let url = self.url(path);
        let mut response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| transport(&url, e))?;
        match response.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            code => return Err(unchecked(format!("GET {url}: HTTP status {code}"))),
        }
        // The limit applies after gzip decoding, so a compressed bomb is cut off as well.
        let body = response.body_mut().with_config().limit(bytes_max).read_to_vec().map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => {
                invalid(format!("GET {url}: the response is larger than {bytes_max} bytes, more than any valid {path} can be"))
            }
            e => transport(&url, e),
        })?;
        Ok(Some(body))
    }
}

fn transport(url: &str, e: ureq::Error) -> Failure {
    unchecked(format!("GET {url}: {e}"))
}

//! The checks behind `bansos-verify`, as a library so that other tools (`bansos-audit`) fetch
//! and verify a log the same way: `audit` (a whole C2SP tlog-tiles log from its checkpoint,
//! over any [`audit::Fetch`]), `http` (the blocking HTTP fetcher), `proof` (offline
//! tlog-proof files), `receipt` (the citizen's check), `keys` (trust from the command line) and
//! `failure` (proven wrong vs could not check, and their exit codes).

pub mod audit;
pub mod failure;
pub mod http;
pub mod keys;
pub mod proof;
pub mod receipt;

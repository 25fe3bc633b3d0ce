//! The in-memory backend passes the shared storage conformance suite.

#[test]
fn memory_store_conforms() {
    bansos_ledger::conformance::run(bansos_ledger::MemoryStore::new, |s| s);
}

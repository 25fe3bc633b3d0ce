//! The redb backend passes the shared storage conformance suite, reopening the file between
//! batches, and keeps a ledger across a restart.

use bansos_store::RedbStore;

#[test]
fn redb_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.redb");
    let p = path.clone();
    bansos_ledger::conformance::run(
        move || RedbStore::open(&p).unwrap(),
        move |store| {
            drop(store);
            RedbStore::open(&path).unwrap()
        },
    );
}

#[test]
fn a_store_of_another_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.redb");
    drop(RedbStore::open(&path).unwrap());
    {
        let db = redb::Database::open(&path).unwrap();
        let tx = db.begin_write().unwrap();
        tx.open_table(redb::TableDefinition::<&str, u64>::new("meta"))
            .unwrap()
            .insert("schema", 99)
            .unwrap();
        tx.commit().unwrap();
    }
    assert!(matches!(
        RedbStore::open(&path),
        Err(bansos_store::StoreError::Schema { found: 99 })
    ));
}

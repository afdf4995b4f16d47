//! The commit protocol in-process, on `object_store`'s in-memory store: no
//! daemon, no disk. Two stores on one memory are two daemons on one store.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use futures::{StreamExt, TryStreamExt};
use object_store::memory::InMemory;
use object_store::ObjectStore;

use super::data_writer::DataWriter;
use super::write::next_put_commit;
use super::*;
use crate::protocol::PutMode;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]))
}

fn rows(range: std::ops::Range<i64>) -> impl futures::Stream<Item = Result<RecordBatch>> + Send {
    let batch = RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from_iter_values(range))]).unwrap();
    futures::stream::iter([Ok(batch)])
}

fn store_on(memory: &Arc<InMemory>, options: StoreOptions) -> Store {
    Store::open(Location::Memory(memory.clone()), options).unwrap()
}

fn frame() -> (BucketId, Name) {
    (BucketId::Default, Name::parse("dataframe", "frame").unwrap())
}

async fn ids(store: &Store, snap: &Snapshot) -> Vec<i64> {
    let batches: Vec<RecordBatch> = store.scan(snap).try_collect().await.unwrap();
    batches.iter().flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec()).collect()
}

async fn data_objects(os: &dyn ObjectStore) -> usize {
    let listed: Vec<_> = os.list(Some(&"_default/frame/data".into())).try_collect().await.unwrap();
    listed.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_writers_one_wins_the_loser_retries_and_both_appends_survive() {
    let memory = Arc::new(InMemory::new());
    let (a, b) = (store_on(&memory, StoreOptions::default()), store_on(&memory, StoreOptions::default()));
    let (bucket, name) = frame();
    a.put(&bucket, &name, PutSpec::plain(PutMode::Error), schema(), rows(0..10)).await.unwrap();

    // A has written its files and read the head (version 1) when B commits
    // version 2 first; A's put-if-absent of version 2 must fail and retry.
    let (files, _writing) = DataWriter::new(&a, &bucket, &name, schema()).write_all(rows(10..20)).await.unwrap();
    let mut attempts = Vec::new();
    let commit = a
        .commit(&bucket, &name, |head| {
            attempts.push(head.map(|h| h.version));
            if attempts.len() == 1 {
                let b_append = b.put(&bucket, &name, PutSpec::plain(PutMode::Append), schema(), rows(20..30));
                assert_eq!(futures::executor::block_on(b_append).unwrap().version, 2);
            }
            next_put_commit(head, &bucket, &name, &PutSpec::plain(PutMode::Append), &schema(), &files)
        })
        .await
        .unwrap();

    assert_eq!(attempts, [Some(1), Some(2)], "the loser re-read the head and tried again");
    assert_eq!(commit.version, 3);
    let snap = b.snapshot(&bucket, &name, None).await.unwrap();
    assert_eq!(ids(&b, &snap).await, (0..10).chain(20..30).chain(10..20).collect::<Vec<_>>());
    let versions: Vec<u64> = b.history(&bucket, &name).await.unwrap().iter().map(|c| c.version).collect();
    assert_eq!(versions, [1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_through_two_stores_keep_every_row_and_contiguous_versions() {
    let memory = Arc::new(InMemory::new());
    let stores = [store_on(&memory, StoreOptions::default()), store_on(&memory, StoreOptions::default())];
    let (bucket, name) = frame();
    stores[0].put(&bucket, &name, PutSpec::plain(PutMode::Error), schema(), rows(0..0)).await.unwrap();
    let appends = (0..16i64).map(|i| {
        let store = &stores[i as usize % 2];
        store.put(&bucket, &name, PutSpec::plain(PutMode::Append), schema(), rows(i * 100..(i + 1) * 100))
    });
    futures::future::try_join_all(appends).await.unwrap();

    let snap = stores[1].snapshot(&bucket, &name, None).await.unwrap();
    let mut got = ids(&stores[1], &snap).await;
    got.sort_unstable();
    assert_eq!(got, (0..1600).collect::<Vec<_>>());
    let versions: Vec<u64> = stores[0].history(&bucket, &name).await.unwrap().iter().map(|c| c.version).collect();
    assert_eq!(versions, (1..=17).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_data_files_and_commit_leaves_nothing_visible_and_vacuum_removes_the_orphans() {
    let memory = Arc::new(InMemory::new());
    let store = store_on(&memory, StoreOptions::default());
    let (bucket, name) = frame();
    store.put(&bucket, &name, PutSpec::plain(PutMode::Error), schema(), rows(0..10)).await.unwrap();

    // The files of a put whose daemon died before its commit.
    let (files, writing) = DataWriter::new(&store, &bucket, &name, schema()).write_all(rows(10..20)).await.unwrap();
    drop(writing);
    assert_eq!(files.len(), 1);
    assert_eq!(data_objects(memory.as_ref()).await, 2);
    let snap = store.snapshot(&bucket, &name, None).await.unwrap();
    assert_eq!((snap.commit.version, ids(&store, &snap).await), (1, (0..10).collect()));

    // Young orphans stay (another daemon may be about to commit them)...
    assert_eq!(store.vacuum(&bucket, &name, 10).await.unwrap().files_deleted, 0);
    // ...old ones go, and only they.
    let impatient = store_on(&memory, StoreOptions { grace: std::time::Duration::ZERO, ..StoreOptions::default() });
    assert_eq!(impatient.vacuum(&bucket, &name, 10).await.unwrap().files_deleted, 1);
    assert_eq!(data_objects(memory.as_ref()).await, 1);
    assert_eq!(ids(&store, &snap).await, (0..10).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_pinned_to_a_version_reads_it_whole_through_a_replace_and_a_vacuum() {
    let memory = Arc::new(InMemory::new());
    let options = StoreOptions { read_batch_rows: 100, grace: std::time::Duration::ZERO, ..StoreOptions::default() };
    let store = store_on(&memory, options);
    let (bucket, name) = frame();
    store.put(&bucket, &name, PutSpec::plain(PutMode::Error), schema(), rows(0..1000)).await.unwrap();
    let v1 = store.snapshot(&bucket, &name, None).await.unwrap();
    let mut reading = store.scan(&v1);
    let first = reading.next().await.unwrap().unwrap();

    store.put(&bucket, &name, PutSpec::plain(PutMode::Replace), schema(), rows(5000..5010)).await.unwrap();
    store.put(&bucket, &name, PutSpec::plain(PutMode::Replace), schema(), rows(6000..6010)).await.unwrap();
    let vacuumed = store.vacuum(&bucket, &name, 1).await.unwrap();
    assert_eq!(vacuumed.versions_removed, 1, "version 2 goes, version 1 is being read");

    let mut got: Vec<i64> = first.column(0).as_primitive::<Int64Type>().values().to_vec();
    while let Some(batch) = reading.next().await {
        got.extend(batch.unwrap().column(0).as_primitive::<Int64Type>().values().iter());
    }
    assert_eq!(got, (0..1000).collect::<Vec<_>>());
    drop((reading, v1));

    // Once the reader is done, the next vacuum takes version 1 and its file.
    let vacuumed = store.vacuum(&bucket, &name, 1).await.unwrap();
    assert_eq!((vacuumed.versions_removed, vacuumed.files_deleted), (1, 1));
    assert!(store.snapshot(&bucket, &name, Some(1)).await.is_err());
    let current = store.snapshot(&bucket, &name, None).await.unwrap();
    assert_eq!(ids(&store, &current).await, (6000..6010).collect::<Vec<_>>());
    assert_eq!(first.column(0).len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compaction_commits_over_appends_and_names_the_commit_that_conflicts() {
    let memory = Arc::new(InMemory::new());
    let store = store_on(&memory, StoreOptions::default());
    let (bucket, name) = frame();
    store.put(&bucket, &name, PutSpec::plain(PutMode::Error), schema(), rows(0..10)).await.unwrap();
    store.put(&bucket, &name, PutSpec::plain(PutMode::Append), schema(), rows(10..20)).await.unwrap();

    // Appends land between the compaction's read and its commit.
    let snap = store.snapshot(&bucket, &name, None).await.unwrap();
    let (rewritten, _writing) =
        DataWriter::new(&store, &bucket, &name, schema()).write_all(store.scan(&snap)).await.unwrap();
    store.put(&bucket, &name, PutSpec::plain(PutMode::Append), schema(), rows(20..30)).await.unwrap();
    store.put(&bucket, &name, PutSpec::plain(PutMode::Append), schema(), rows(30..40)).await.unwrap();
    let compacted = super::maintain::commit_compaction(&store, &snap, 0, &rewritten).await.unwrap();
    assert_eq!((compacted.version, compacted.files.len()), (5, 3));
    let current = store.snapshot(&bucket, &name, None).await.unwrap();
    assert_eq!(ids(&store, &current).await, (0..40).collect::<Vec<_>>());

    // A replace in between takes the files away: that is a conflict, named.
    let snap = store.snapshot(&bucket, &name, None).await.unwrap();
    let (rewritten, _writing) =
        DataWriter::new(&store, &bucket, &name, schema()).write_all(store.scan(&snap)).await.unwrap();
    store.put(&bucket, &name, PutSpec::plain(PutMode::Replace), schema(), rows(100..110)).await.unwrap();
    let refused = super::maintain::commit_compaction(&store, &snap, 0, &rewritten).await.unwrap_err().to_string();
    assert!(refused.contains("version 6 (replace) removed files it was rewriting"), "{refused}");
    let current = store.snapshot(&bucket, &name, None).await.unwrap();
    assert_eq!(ids(&store, &current).await, (100..110).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compactions_asked_of_two_daemons_at_once_both_succeed_and_keep_every_row() {
    let memory = Arc::new(InMemory::new());
    let stores = [store_on(&memory, StoreOptions::default()), store_on(&memory, StoreOptions::default())];
    let (bucket, name) = frame();
    stores[0].put(&bucket, &name, PutSpec::plain(PutMode::Error), schema(), rows(0..10)).await.unwrap();
    for i in 1..12 {
        stores[0]
            .put(&bucket, &name, PutSpec::plain(PutMode::Append), schema(), rows(i * 10..(i + 1) * 10))
            .await
            .unwrap();
    }
    for _ in 0..4 {
        let (a, b) = tokio::join!(stores[0].compact(&bucket, &name), stores[1].compact(&bucket, &name));
        a.unwrap();
        b.unwrap();
        stores[1].put(&bucket, &name, PutSpec::plain(PutMode::Append), schema(), rows(0..1)).await.unwrap();
        stores[0].put(&bucket, &name, PutSpec::plain(PutMode::Append), schema(), rows(1..2)).await.unwrap();
    }
    let snap = stores[1].snapshot(&bucket, &name, None).await.unwrap();
    assert_eq!(ids(&stores[1], &snap).await.len(), 120 + 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding_the_current_version_costs_the_same_after_a_hundred_versions() {
    let memory = Arc::new(InMemory::new());
    let writer = store_on(&memory, StoreOptions::default());
    let (bucket, name) = frame();
    writer.put(&bucket, &name, PutSpec::plain(PutMode::Error), schema(), rows(0..1)).await.unwrap();
    let cost = |store: &Store| store.requests().values().sum::<u64>();

    let fresh = store_on(&memory, StoreOptions::default());
    fresh.current(&bucket, &name).await.unwrap().unwrap();
    let after_one = cost(&fresh);
    for i in 1..100 {
        writer.put(&bucket, &name, PutSpec::plain(PutMode::Append), schema(), rows(i..i + 1)).await.unwrap();
    }
    // A daemon new to the dataframe: the pointer, one listing, the commit.
    let other = store_on(&memory, StoreOptions::default());
    assert_eq!(other.current(&bucket, &name).await.unwrap().unwrap().commit.version, 100);
    assert_eq!(cost(&other), 3, "{:?}", other.requests());
    assert!(cost(&other) <= after_one + 1);
    // One that knew it: one listing of what is newer, one commit read.
    let before = cost(&fresh);
    assert_eq!(fresh.current(&bucket, &name).await.unwrap().unwrap().commit.version, 100);
    assert_eq!(cost(&fresh) - before, 2);
    // Nothing new since: the listing alone.
    let before = cost(&fresh);
    fresh.current(&bucket, &name).await.unwrap().unwrap();
    assert_eq!(cost(&fresh) - before, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dataframe_made_anew_under_the_same_versions_is_not_read_from_the_cache() {
    let memory = Arc::new(InMemory::new());
    let (a, b) = (store_on(&memory, StoreOptions::default()), store_on(&memory, StoreOptions::default()));
    let (bucket, name) = frame();
    a.put(&bucket, &name, PutSpec::plain(PutMode::Error), schema(), rows(0..10)).await.unwrap();
    let old = a.snapshot(&bucket, &name, None).await.unwrap();
    assert_eq!(ids(&a, &old).await, (0..10).collect::<Vec<_>>());

    b.delete(&bucket, &name).await.unwrap();
    assert!(a.current(&bucket, &name).await.unwrap().is_none());
    b.put(&bucket, &name, PutSpec::plain(PutMode::Error), schema(), rows(50..55)).await.unwrap();
    let new = a.snapshot(&bucket, &name, None).await.unwrap();
    assert_eq!(new.commit.version, 1);
    assert_eq!(ids(&a, &new).await, (50..55).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacuum_on_one_daemon_leaves_another_daemons_read_its_files_until_the_grace_period_ends() {
    let memory = Arc::new(InMemory::new());
    let options = StoreOptions { read_batch_rows: 100, ..StoreOptions::default() };
    let (reader, vacuumer) = (store_on(&memory, options.clone()), store_on(&memory, options));
    let (bucket, name) = frame();
    reader.put(&bucket, &name, PutSpec::plain(PutMode::Error), schema(), rows(0..1000)).await.unwrap();
    let v1 = reader.snapshot(&bucket, &name, None).await.unwrap();
    let mut reading = reader.scan(&v1);
    let mut got: Vec<i64> =
        reading.next().await.unwrap().unwrap().column(0).as_primitive::<Int64Type>().values().to_vec();

    // The other daemon cannot see this read: the version goes, its file waits.
    vacuumer.put(&bucket, &name, PutSpec::plain(PutMode::Replace), schema(), rows(5000..5010)).await.unwrap();
    let vacuumed = vacuumer.vacuum(&bucket, &name, 1).await.unwrap();
    assert_eq!((vacuumed.versions_removed, vacuumed.files_deleted, vacuumed.files_waiting), (1, 0, 1));
    assert!(vacuumer.snapshot(&bucket, &name, Some(1)).await.is_err());
    assert_eq!(vacuumer.vacuum(&bucket, &name, 1).await.unwrap().files_waiting, 1);
    while let Some(batch) = reading.next().await {
        got.extend(batch.unwrap().column(0).as_primitive::<Int64Type>().values().iter());
    }
    assert_eq!(got, (0..1000).collect::<Vec<_>>());

    // Once the grace period is over, the file goes.
    let after_grace = store_on(&memory, StoreOptions { grace: std::time::Duration::ZERO, ..StoreOptions::default() });
    let vacuumed = after_grace.vacuum(&bucket, &name, 1).await.unwrap();
    assert_eq!((vacuumed.files_deleted, vacuumed.files_waiting), (1, 0));
    assert_eq!(data_objects(memory.as_ref()).await, 1);
    let current = after_grace.snapshot(&bucket, &name, None).await.unwrap();
    assert_eq!(ids(&after_grace, &current).await, (5000..5010).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_rewrites_the_small_files_at_the_end_and_leaves_full_ones_alone() {
    let memory = Arc::new(InMemory::new());
    let store = store_on(&memory, StoreOptions { file_rows: 100, ..StoreOptions::default() });
    let (bucket, name) = frame();
    store.put(&bucket, &name, PutSpec::plain(PutMode::Error), schema(), rows(0..250)).await.unwrap();
    for k in 0..10 {
        store
            .put(&bucket, &name, PutSpec::plain(PutMode::Append), schema(), rows(250 + k * 5..255 + k * 5))
            .await
            .unwrap();
    }
    let before = store.snapshot(&bucket, &name, None).await.unwrap();
    assert_eq!(before.commit.files.iter().map(|f| f.rows).collect::<Vec<_>>()[..3], [100, 100, 50]);

    let done = store.compact(&bucket, &name).await.unwrap();
    assert_eq!((done.files_before, done.files_after), (13, 3));
    let after = store.snapshot(&bucket, &name, None).await.unwrap();
    assert_eq!(after.commit.files[..2], before.commit.files[..2], "full files are not rewritten");
    assert_eq!(after.commit.remove.len(), 11);
    assert_eq!(ids(&store, &after).await, (0..300).collect::<Vec<_>>());
    assert_eq!(store.compact(&bucket, &name).await.unwrap().version, None, "nothing left to do");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_footers_of_files_a_commit_removed_leave_the_cache_and_stay_out() {
    let memory = Arc::new(InMemory::new());
    let store = store_on(&memory, StoreOptions { file_rows: 100, ..StoreOptions::default() });
    let (bucket, name) = frame();
    store.put(&bucket, &name, PutSpec::plain(PutMode::Error), schema(), rows(0..150)).await.unwrap();
    for k in 0..5 {
        let appended = rows(150 + k * 5..155 + k * 5);
        store.put(&bucket, &name, PutSpec::plain(PutMode::Append), schema(), appended).await.unwrap();
    }
    let before = store.snapshot(&bucket, &name, None).await.unwrap();
    for file in &before.commit.files {
        super::read::footer(&store, &before, file).await.unwrap();
    }
    let cached = |file: &DataFile| store.footers().contains_key(&before.file_path(file));
    assert!(before.commit.files.iter().all(cached));

    store.compact(&bucket, &name).await.unwrap();
    let (full, replaced) = before.commit.files.split_at(1);
    assert!(cached(&full[0]), "the full file is still named, and its footer kept");
    assert!(!replaced.iter().any(cached), "no footer of a replaced file is kept");

    // A query that took the version before the compaction still reads
    // their footers, without caching them again.
    for file in replaced {
        super::read::footer(&store, &before, file).await.unwrap();
    }
    assert!(!replaced.iter().any(cached), "a read of the older version put no footer back");
    let now = store.snapshot(&bucket, &name, None).await.unwrap();
    let new_file = now.commit.files.last().unwrap();
    super::read::footer(&store, &now, new_file).await.unwrap();
    assert!(store.footers().contains_key(&now.file_path(new_file)), "the compacted file's footer is cached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_keeps_its_version_from_vacuum_until_it_is_dropped() {
    let memory = Arc::new(InMemory::new());
    let store = store_on(&memory, StoreOptions { grace: std::time::Duration::ZERO, ..StoreOptions::default() });
    let (bucket, name) = frame();
    store.put(&bucket, &name, PutSpec::plain(PutMode::Error), schema(), rows(0..10)).await.unwrap();
    // Taken, not yet read: what a query planning does before it scans.
    let v1 = store.snapshot(&bucket, &name, None).await.unwrap();
    for k in 0..3 {
        store
            .put(&bucket, &name, PutSpec::plain(PutMode::Replace), schema(), rows(100 * k..100 * k + 5))
            .await
            .unwrap();
    }
    let vacuumed = store.vacuum(&bucket, &name, 1).await.unwrap();
    assert_eq!(vacuumed.versions_removed, 2, "v1 is held, v2 and v3 go");
    assert_eq!(ids(&store, &v1).await, (0..10).collect::<Vec<_>>());
    drop(v1);
    let vacuumed = store.vacuum(&bucket, &name, 1).await.unwrap();
    assert_eq!((vacuumed.versions_removed, data_objects(memory.as_ref()).await), (1, 1));
}

/// A table of ints with nulls, strings and floats: `n` rows from `start`.
fn mixed(start: i64, n: i64) -> (SchemaRef, impl futures::Stream<Item = Result<RecordBatch>> + Send) {
    use arrow::array::{Float64Array, StringArray};
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("code", DataType::Int32, true),
        Field::new("site", DataType::Utf8, true),
        Field::new("value", DataType::Float64, false),
    ]));
    let ids = start..start + n;
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from_iter_values(ids.clone())),
            Arc::new(arrow::array::Int32Array::from_iter(ids.clone().map(|i| (i % 5 != 0).then_some((i % 37) as i32)))),
            Arc::new(StringArray::from_iter(ids.clone().map(|i| (i % 7 != 0).then(|| format!("site {}", i % 11))))),
            Arc::new(Float64Array::from_iter_values(ids.map(|i| (i % 3) as f64))),
        ],
    )
    .unwrap();
    (schema, futures::stream::iter([Ok(batch)]))
}

/// `mixed` rows 0..1000, then 5000..5050 appended, in files of 300 rows.
async fn mixed_in_files() -> (Store, Snapshot) {
    let memory = Arc::new(InMemory::new());
    let store = store_on(&memory, StoreOptions { file_rows: 300, ..StoreOptions::default() });
    let (bucket, name) = frame();
    let (schema, first) = mixed(0, 1000);
    store.put(&bucket, &name, PutSpec::plain(PutMode::Error), schema.clone(), first).await.unwrap();
    let (_, more) = mixed(5000, 50);
    store.put(&bucket, &name, PutSpec::plain(PutMode::Append), schema, more).await.unwrap();
    let snap = store.snapshot(&bucket, &name, None).await.unwrap();
    (store, snap)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinct_counts_come_from_the_dictionaries_across_files() {
    let (store, snap) = mixed_in_files().await;
    assert!(snap.commit.files.len() > 2);
    // `code` is i % 37 where i is not a multiple of 5 (every residue still
    // occurs: 37 values), `site` is one of 11 where i is not a multiple of 7.
    let counted = |column: &'static str| {
        let (store, snap) = (&store, &snap);
        async move { store.distinct_in_dictionaries(snap, column).await.unwrap() }
    };
    assert_eq!(counted("code").await, Some(37));
    assert_eq!(counted("site").await, Some(11));
    assert_eq!(counted("value").await, None, "floats are not counted from dictionaries");
    assert_eq!(counted("missing").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinct_counts_per_group_come_from_the_dictionary_indices_nulls_included() {
    use std::collections::{BTreeMap, BTreeSet};
    let (store, snap) = mixed_in_files().await;
    // The rows `mixed` makes, as (code, site).
    let rows: Vec<(Option<i64>, Option<String>)> = (0..1000)
        .chain(5000..5050)
        .map(|i: i64| ((i % 5 != 0).then_some(i % 37), (i % 7 != 0).then(|| format!("site {}", i % 11))))
        .collect();
    let counted = |group: &'static str, counted: &'static str| {
        let (store, snap) = (&store, &snap);
        async move {
            let (keys, counts) = store.distinct_per_group_in_dictionaries(snap, group, counted).await.unwrap()?;
            let keys = arrow::util::display::ArrayFormatter::try_new(&keys, &Default::default()).unwrap();
            Some((0..counts.len()).map(|i| (keys.value(i).to_string(), counts[i])).collect::<BTreeMap<_, _>>())
        }
    };
    let mut sites: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    let mut codes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (code, site) in &rows {
        let shown = |v: Option<String>| v.unwrap_or_default(); // a null shows as ""
        let by_site = sites.entry(shown(site.clone())).or_default();
        by_site.extend(*code);
        codes.entry(shown(code.map(|c| c.to_string()))).or_default().extend(site.clone());
    }
    fn sizes<T>(groups: BTreeMap<String, BTreeSet<T>>) -> BTreeMap<String, i64> {
        groups.into_iter().map(|(k, v)| (k, v.len() as i64)).collect()
    }
    assert_eq!(counted("site", "code").await, Some(sizes(sites)));
    assert_eq!(counted("code", "site").await, Some(sizes(codes)));
    assert_eq!(counted("site", "value").await, None, "floats are not counted from dictionaries");
    assert_eq!(counted("value", "code").await, None, "nor grouped by");
    assert_eq!(counted("site", "missing").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_distinct_count_from_dictionaries_once_rows_are_marked_deleted() {
    let memory = Arc::new(InMemory::new());
    let store = store_on(&memory, StoreOptions::default());
    let (bucket, name) = frame();
    let (schema, rows) = mixed(0, 1000);
    store.put(&bucket, &name, PutSpec::plain(PutMode::Error), schema, rows).await.unwrap();
    store.delete_rows(&bucket, &name, "code = 3").await.unwrap();
    let snap = store.snapshot(&bucket, &name, None).await.unwrap();
    assert!(snap.commit.files.iter().any(|f| f.deleted.is_some()), "the delete marked rows");
    assert_eq!(store.distinct_in_dictionaries(&snap, "code").await.unwrap(), None);
    assert_eq!(store.distinct_per_group_in_dictionaries(&snap, "site", "code").await.unwrap().map(|g| g.1), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_distinct_count_from_dictionaries_once_a_chunk_falls_back_to_plain_pages() {
    use arrow::array::{ArrayRef, StringArray};
    let memory = Arc::new(InMemory::new());
    let store = store_on(&memory, StoreOptions::default());
    let (bucket, name) = frame();
    // 100K distinct strings of 24 bytes pass the writer's 1 MiB dictionary
    // page: the rest of the chunk is written plain.
    let n = 100_000;
    let batch = RecordBatch::try_from_iter([
        ("id", Arc::new(StringArray::from_iter_values((0..n).map(|i| format!("a long name, {i:010}")))) as ArrayRef),
        ("site", Arc::new(StringArray::from_iter_values((0..n).map(|i| ["a", "b"][i % 2])))),
    ])
    .unwrap();
    let rows = futures::stream::iter([Ok(batch.clone())]);
    store.put(&bucket, &name, PutSpec::plain(PutMode::Error), batch.schema(), rows).await.unwrap();
    let snap = store.snapshot(&bucket, &name, None).await.unwrap();
    assert_eq!(store.distinct_in_dictionaries(&snap, "id").await.unwrap(), None);
    assert_eq!(store.distinct_per_group_in_dictionaries(&snap, "site", "id").await.unwrap().map(|g| g.1), None);
    assert_eq!(store.distinct_in_dictionaries(&snap, "site").await.unwrap(), Some(2));
}

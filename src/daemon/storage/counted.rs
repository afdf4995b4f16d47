//! Counting the requests the daemon makes of its store, by kind, so that
//! the benchmark (and `stats`) can show what a get or a put costs on S3.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions,
    PutOptions, PutPayload, PutResult, RenameOptions, Result, UploadPart,
};

/// Requests since the daemon started. A listing counts once however many
/// pages it takes; a delete counts per object (S3 batches them).
#[derive(Debug, Default)]
pub struct RequestCounts {
    get: AtomicU64,
    head: AtomicU64,
    put: AtomicU64,
    put_part: AtomicU64,
    list: AtomicU64,
    delete: AtomicU64,
    copy: AtomicU64,
}

impl RequestCounts {
    /// The counts at this moment, by kind (`put_part`: parts of multipart
    /// uploads, whose start and end count as `put`s).
    pub fn totals(&self) -> BTreeMap<&'static str, u64> {
        let counters = [
            ("get", &self.get),
            ("head", &self.head),
            ("put", &self.put),
            ("put_part", &self.put_part),
            ("list", &self.list),
            ("delete", &self.delete),
            ("copy", &self.copy),
        ];
        counters.into_iter().map(|(kind, n)| (kind, n.load(Ordering::Relaxed))).collect()
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// An object store that counts what passes through it.
#[derive(Debug)]
pub struct Counted {
    inner: Arc<dyn ObjectStore>,
    counts: Arc<RequestCounts>,
}

impl Counted {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Counted {
        Counted { inner, counts: Arc::default() }
    }

    pub fn counts(&self) -> Arc<RequestCounts> {
        self.counts.clone()
    }
}

impl std::fmt::Display for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

#[async_trait]
impl ObjectStore for Counted {
    async fn put_opts(&self, location: &Path, payload: PutPayload, opts: PutOptions) -> Result<PutResult> {
        bump(&self.counts.put);
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(&self, location: &Path, opts: PutMultipartOptions) -> Result<Box<dyn MultipartUpload>> {
        bump(&self.counts.put);
        let inner = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(CountedUpload { inner, counts: self.counts.clone() }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        bump(if options.head { &self.counts.head } else { &self.counts.get });
        self.inner.get_opts(location, options).await
    }

    // `get_ranges` is left to the default, which reads each coalesced range
    // through `get_opts` above and so counts each request made.

    fn delete_stream(&self, locations: BoxStream<'static, Result<Path>>) -> BoxStream<'static, Result<Path>> {
        let counts = self.counts.clone();
        self.inner.delete_stream(locations.inspect(move |_| bump(&counts.delete)).boxed())
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        bump(&self.counts.list);
        self.inner.list(prefix)
    }

    fn list_with_offset(&self, prefix: Option<&Path>, offset: &Path) -> BoxStream<'static, Result<ObjectMeta>> {
        bump(&self.counts.list);
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        bump(&self.counts.list);
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        bump(&self.counts.copy);
        self.inner.copy_opts(from, to, options).await
    }

    // Forwarded, so that a local store keeps its native rename.
    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        bump(&self.counts.copy);
        self.inner.rename_opts(from, to, options).await
    }
}

#[derive(Debug)]
struct CountedUpload {
    inner: Box<dyn MultipartUpload>,
    counts: Arc<RequestCounts>,
}

#[async_trait]
impl MultipartUpload for CountedUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        bump(&self.counts.put_part);
        self.inner.put_part(data)
    }

    async fn complete(&mut self) -> Result<PutResult> {
        bump(&self.counts.put);
        self.inner.complete().await
    }

    async fn abort(&mut self) -> Result<()> {
        bump(&self.counts.delete);
        self.inner.abort().await
    }
}

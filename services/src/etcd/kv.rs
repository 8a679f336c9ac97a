//! Keys, key ranges, and the KV requests and replies (range, put, delete, txn, compaction).
//!
//! `Display` of a request prints the `etcdctl` command that sends it; `Display` of a reply
//! prints what etcdctl's default ("simple") printer shows for it.

use super::lease::{fmt_lease, LeaseId};
use std::fmt;

/// A store revision: 1 on a fresh store, +1 per committed write.
pub type Revision = i64;

/// One key as the store holds it at some revision (etcd's `mvccpb.KeyValue`).
///
/// `Display` prints etcdctl's two lines, key then value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct KeyValue {
    /// The key.
    pub key: String,
    /// The value (empty in a deletion event and with `keys_only`).
    pub value: String,
    /// The revision of the put that created this incarnation of the key (0 in a deletion event).
    pub create_revision: Revision,
    /// The revision of its last write (in a deletion event: the deletion's revision).
    pub mod_revision: Revision,
    /// The number of puts since it was created: 1 after the first (0 in a deletion event).
    pub version: i64,
    /// The lease it is attached to, 0 for none.
    pub lease: LeaseId,
}

impl fmt::Display for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{}", self.key, self.value)
    }
}

/// The keys a request names: etcd's `key` + `range_end` pair, typed.
///
/// Keys compare byte-wise (Rust's `str` order is the byte order), as etcd's do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyRange {
    /// Exactly one key (`range_end` empty).
    Key(String),
    /// Every key starting with the prefix (`range_end` = the prefix plus one); the empty
    /// prefix names every key.
    Prefix(String),
    /// Every key at or after the key (`range_end` = `"\0"`).
    FromKey(String),
    /// Every key in `[start, end)`.
    Between {
        /// The first key of the range.
        start: String,
        /// The end of the range, excluded.
        end: String,
    },
}

impl KeyRange {
    /// Whether `key` is inside the range.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockproof_services::etcd::KeyRange;
    ///
    /// assert!(KeyRange::Prefix("m/".into()).contains("m/694d"));
    /// assert!(!KeyRange::Prefix("m/".into()).contains("m"));
    /// assert!(KeyRange::Key("k".into()).contains("k"));
    /// ```
    pub fn contains(&self, key: &str) -> bool {
        match self {
            KeyRange::Key(k) => key == k,
            KeyRange::Prefix(p) => key.starts_with(p.as_str()),
            KeyRange::FromKey(k) => key >= k.as_str(),
            KeyRange::Between { start, end } => key >= start.as_str() && key < end.as_str(),
        }
    }

    /// The first key of the range (the request's `key` field).
    pub fn start(&self) -> &str {
        match self {
            KeyRange::Key(k) | KeyRange::Prefix(k) | KeyRange::FromKey(k) => k,
            KeyRange::Between { start, .. } => start,
        }
    }

    /// The request's key is empty where the server requires one: a single key `""`, or a
    /// `Between` starting at `""` (a prefix or from-key range over `""` is sent as `"\0"`).
    pub(crate) fn is_empty_key(&self) -> bool {
        match self {
            KeyRange::Key(k) => k.is_empty(),
            KeyRange::Between { start, .. } => start.is_empty(),
            KeyRange::Prefix(_) | KeyRange::FromKey(_) => false,
        }
    }
}

fn fmt_key(f: &mut fmt::Formatter<'_>, key: &str) -> fmt::Result {
    if key.is_empty() || key.contains(char::is_whitespace) {
        write!(f, "{key:?}")
    } else {
        f.write_str(key)
    }
}

impl fmt::Display for KeyRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyRange::Key(k) => fmt_key(f, k),
            KeyRange::Prefix(p) => {
                fmt_key(f, p)?;
                f.write_str(" --prefix")
            }
            KeyRange::FromKey(k) => {
                fmt_key(f, k)?;
                f.write_str(" --from-key")
            }
            KeyRange::Between { start, end } => {
                fmt_key(f, start)?;
                f.write_str(" ")?;
                fmt_key(f, end)
            }
        }
    }
}

/// The header every reply carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ResponseHeader {
    /// The store's revision when the reply was made (after the request's own write, if any).
    pub revision: Revision,
}

/// What a range sorts by (`--sort-by`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SortTarget {
    /// The key (the store's own order).
    #[default]
    Key,
    /// The version.
    Version,
    /// The create revision.
    Create,
    /// The mod revision.
    Mod,
    /// The value.
    Value,
}

/// The sort order of a range (`--order`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SortOrder {
    /// No order requested: by key, or ascending when a target other than the key is given.
    #[default]
    None,
    /// Ascending.
    Ascend,
    /// Descending.
    Descend,
}

/// A read (`Range`): one key or a range, at the current or an earlier revision.
///
/// Built with [`RangeRequest::key`] or [`RangeRequest::prefix`] and the `with_*` methods.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RangeRequest {
    /// The keys to read.
    pub range: KeyRange,
    /// The revision to read at; 0 for the current one.
    pub revision: Revision,
    /// At most this many keys (0: no limit); `more` says whether some were left out.
    pub limit: i64,
    /// What to sort by.
    pub sort_target: SortTarget,
    /// The sort order.
    pub sort_order: SortOrder,
    /// Leave out keys whose create revision is above this (0: no filter).
    pub max_create_revision: Revision,
    /// Leave out keys whose create revision is below this (0: no filter).
    pub min_create_revision: Revision,
    /// Leave out keys whose mod revision is above this (0: no filter).
    pub max_mod_revision: Revision,
    /// Leave out keys whose mod revision is below this (0: no filter).
    pub min_mod_revision: Revision,
    /// Return keys without values.
    pub keys_only: bool,
    /// Return only the count.
    pub count_only: bool,
    /// A serializable read (`--consistency=s`): answered from the member's own state. On
    /// the single member modelled here it returns what a linearizable read returns.
    pub serializable: bool,
}

impl RangeRequest {
    /// A read of one key.
    pub fn key(key: impl Into<String>) -> Self {
        Self::range(KeyRange::Key(key.into()))
    }

    /// A read of every key with a prefix.
    pub fn prefix(prefix: impl Into<String>) -> Self {
        Self::range(KeyRange::Prefix(prefix.into()))
    }

    /// A read of a key range.
    pub fn range(range: KeyRange) -> Self {
        RangeRequest {
            range,
            revision: 0,
            limit: 0,
            sort_target: SortTarget::Key,
            sort_order: SortOrder::None,
            max_create_revision: 0,
            min_create_revision: 0,
            max_mod_revision: 0,
            min_mod_revision: 0,
            keys_only: false,
            count_only: false,
            serializable: false,
        }
    }

    /// Read at `revision` (`--rev`).
    pub fn at_revision(mut self, revision: Revision) -> Self {
        self.revision = revision;
        self
    }

    /// Return at most `limit` keys (`--limit`).
    pub fn with_limit(mut self, limit: i64) -> Self {
        self.limit = limit;
        self
    }

    /// Sort the result (`--sort-by`, `--order`).
    pub fn with_sort(mut self, target: SortTarget, order: SortOrder) -> Self {
        self.sort_target = target;
        self.sort_order = order;
        self
    }

    /// Keep only keys created at or before `revision` (clientv3's `WithMaxCreateRev`).
    pub fn with_max_create_revision(mut self, revision: Revision) -> Self {
        self.max_create_revision = revision;
        self
    }

    /// Keys only (`--keys-only`).
    pub fn with_keys_only(mut self) -> Self {
        self.keys_only = true;
        self
    }

    /// Count only (`--count-only`).
    pub fn with_count_only(mut self) -> Self {
        self.count_only = true;
        self
    }

    /// A serializable read (`--consistency=s`).
    pub fn with_serializable(mut self) -> Self {
        self.serializable = true;
        self
    }

    /// clientv3's `WithFirstCreate()`: the key of the range with the lowest create revision.
    pub fn first_create(range: KeyRange) -> Self {
        Self::range(range)
            .with_sort(SortTarget::Create, SortOrder::Ascend)
            .with_limit(1)
    }

    /// clientv3's `WithLastCreate()`: the key of the range with the highest create revision.
    pub fn last_create(range: KeyRange) -> Self {
        Self::range(range)
            .with_sort(SortTarget::Create, SortOrder::Descend)
            .with_limit(1)
    }
}

impl fmt::Display for RangeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "get {}", self.range)?;
        if self.revision != 0 {
            write!(f, " --rev={}", self.revision)?;
        }
        if self.sort_target != SortTarget::Key || self.sort_order != SortOrder::None {
            let target = match self.sort_target {
                SortTarget::Key => "KEY",
                SortTarget::Version => "VERSION",
                SortTarget::Create => "CREATE",
                SortTarget::Mod => "MODIFY",
                SortTarget::Value => "VALUE",
            };
            write!(f, " --sort-by={target}")?;
            match self.sort_order {
                SortOrder::None => {}
                SortOrder::Ascend => f.write_str(" --order=ASCEND")?,
                SortOrder::Descend => f.write_str(" --order=DESCEND")?,
            }
        }
        if self.limit != 0 {
            write!(f, " --limit={}", self.limit)?;
        }
        // Not etcdctl flags: clientv3's WithMin/MaxCreateRev and WithMin/MaxModRev.
        for (flag, v) in [
            ("max-create-rev", self.max_create_revision),
            ("min-create-rev", self.min_create_revision),
            ("max-mod-rev", self.max_mod_revision),
            ("min-mod-rev", self.min_mod_revision),
        ] {
            if v != 0 {
                write!(f, " --{flag}={v}")?;
            }
        }
        if self.keys_only {
            f.write_str(" --keys-only")?;
        }
        if self.count_only {
            f.write_str(" --count-only")?;
        }
        if self.serializable {
            f.write_str(" --consistency=s")?;
        }
        Ok(())
    }
}

/// The reply to a [`RangeRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct RangeResponse {
    /// The store's current revision (also when reading at an earlier one).
    pub header: ResponseHeader,
    /// The keys found, sorted as asked (by key by default); empty with `count_only`.
    pub kvs: Vec<KeyValue>,
    /// How many keys the range holds at the revision read (before filters and limit).
    pub count: i64,
    /// Whether `limit` left keys out.
    pub more: bool,
}

impl fmt::Display for RangeResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, kv) in self.kvs.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{kv}")?;
        }
        Ok(())
    }
}

/// A write of one key (`Put`), optionally attached to a lease.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PutRequest {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
    /// The lease to attach the key to; 0 for none (which also detaches it).
    pub lease: LeaseId,
    /// Return the key as it was before the put.
    pub prev_kv: bool,
}

impl PutRequest {
    /// `put key value`.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        PutRequest {
            key: key.into(),
            value: value.into(),
            lease: 0,
            prev_kv: false,
        }
    }

    /// Attach the key to `lease` (`--lease`).
    pub fn with_lease(mut self, lease: LeaseId) -> Self {
        self.lease = lease;
        self
    }

    /// Return the previous key (`--prev-kv`).
    pub fn with_prev_kv(mut self) -> Self {
        self.prev_kv = true;
        self
    }
}

impl fmt::Display for PutRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("put ")?;
        fmt_key(f, &self.key)?;
        f.write_str(" ")?;
        fmt_key(f, &self.value)?;
        if self.lease != 0 {
            write!(f, " --lease={}", fmt_lease(self.lease))?;
        }
        if self.prev_kv {
            f.write_str(" --prev-kv")?;
        }
        Ok(())
    }
}

/// The reply to a [`PutRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct PutResponse {
    /// The revision the put created.
    pub header: ResponseHeader,
    /// The key before the put, if asked for and it existed.
    pub prev_kv: Option<KeyValue>,
}

impl fmt::Display for PutResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OK")?;
        if let Some(kv) = &self.prev_kv {
            write!(f, "\n{kv}")?;
        }
        Ok(())
    }
}

/// A deletion of one key or a range (`DeleteRange`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DeleteRangeRequest {
    /// The keys to delete.
    pub range: KeyRange,
    /// Return the deleted keys.
    pub prev_kv: bool,
}

impl DeleteRangeRequest {
    /// `del key`.
    pub fn key(key: impl Into<String>) -> Self {
        Self::range(KeyRange::Key(key.into()))
    }

    /// `del prefix --prefix`.
    pub fn prefix(prefix: impl Into<String>) -> Self {
        Self::range(KeyRange::Prefix(prefix.into()))
    }

    /// A deletion of a key range.
    pub fn range(range: KeyRange) -> Self {
        DeleteRangeRequest {
            range,
            prev_kv: false,
        }
    }

    /// Return the deleted keys (`--prev-kv`).
    pub fn with_prev_kv(mut self) -> Self {
        self.prev_kv = true;
        self
    }
}

impl fmt::Display for DeleteRangeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "del {}", self.range)?;
        if self.prev_kv {
            f.write_str(" --prev-kv")?;
        }
        Ok(())
    }
}

/// The reply to a [`DeleteRangeRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct DeleteRangeResponse {
    /// The store's revision after the deletion (unchanged if nothing was deleted).
    pub header: ResponseHeader,
    /// How many keys were deleted.
    pub deleted: i64,
    /// The deleted keys, if asked for.
    pub prev_kvs: Vec<KeyValue>,
}

impl fmt::Display for DeleteRangeResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.deleted)?;
        for kv in &self.prev_kvs {
            write!(f, "\n{kv}")?;
        }
        Ok(())
    }
}

/// The relation a txn compare tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareResult {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `>`
    Greater,
    /// `<`
    Less,
}

impl fmt::Display for CompareResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CompareResult::Equal => "=",
            CompareResult::NotEqual => "!=",
            CompareResult::Greater => ">",
            CompareResult::Less => "<",
        })
    }
}

/// The field a txn compare tests, with the operand.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CompareTarget {
    /// The version (0 for an absent key).
    Version(i64),
    /// The create revision (0 for an absent key: `create_revision = 0` tests absence).
    Create(Revision),
    /// The mod revision (0 for an absent key).
    Mod(Revision),
    /// The value (a value compare on an absent key is always false).
    Value(String),
    /// The lease (0 for no lease or an absent key).
    Lease(LeaseId),
}

/// One condition of a txn: every key of `range` must satisfy `target result operand`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Compare {
    /// The key (or keys) tested.
    pub range: KeyRange,
    /// The field and the operand.
    pub target: CompareTarget,
    /// The relation.
    pub result: CompareResult,
}

impl Compare {
    /// `create("key") <result> "rev"`.
    pub fn create_revision(key: impl Into<String>, result: CompareResult, rev: Revision) -> Self {
        Self::on(key, CompareTarget::Create(rev), result)
    }

    /// `mod("key") <result> "rev"`.
    pub fn mod_revision(key: impl Into<String>, result: CompareResult, rev: Revision) -> Self {
        Self::on(key, CompareTarget::Mod(rev), result)
    }

    /// `version("key") <result> "n"`.
    pub fn version(key: impl Into<String>, result: CompareResult, version: i64) -> Self {
        Self::on(key, CompareTarget::Version(version), result)
    }

    /// `value("key") <result> "v"`.
    pub fn value(key: impl Into<String>, result: CompareResult, value: impl Into<String>) -> Self {
        Self::on(key, CompareTarget::Value(value.into()), result)
    }

    /// `lease("key") <result> "id"`.
    pub fn lease(key: impl Into<String>, result: CompareResult, lease: LeaseId) -> Self {
        Self::on(key, CompareTarget::Lease(lease), result)
    }

    fn on(key: impl Into<String>, target: CompareTarget, result: CompareResult) -> Self {
        Compare {
            range: KeyRange::Key(key.into()),
            target,
            result,
        }
    }

    /// Whether one key (or the zero key standing for an absent one) satisfies the compare.
    pub(crate) fn holds_for(&self, kv: &KeyValue) -> bool {
        let ord = match &self.target {
            CompareTarget::Version(v) => kv.version.cmp(v),
            CompareTarget::Create(r) => kv.create_revision.cmp(r),
            CompareTarget::Mod(r) => kv.mod_revision.cmp(r),
            CompareTarget::Value(v) => kv.value.as_str().cmp(v.as_str()),
            CompareTarget::Lease(l) => kv.lease.cmp(l),
        };
        match self.result {
            CompareResult::Equal => ord.is_eq(),
            CompareResult::NotEqual => ord.is_ne(),
            CompareResult::Greater => ord.is_gt(),
            CompareResult::Less => ord.is_lt(),
        }
    }
}

impl fmt::Display for Compare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, operand) = match &self.target {
            CompareTarget::Version(v) => ("version", v.to_string()),
            CompareTarget::Create(r) => ("create", r.to_string()),
            CompareTarget::Mod(r) => ("mod", r.to_string()),
            CompareTarget::Value(v) => ("value", v.clone()),
            CompareTarget::Lease(l) => ("lease", fmt_lease(*l)),
        };
        match &self.range {
            KeyRange::Key(k) => write!(f, "{name}({k:?}) {} {operand:?}", self.result),
            other => write!(f, "{name}({other}) {} {operand:?}", self.result),
        }
    }
}

/// One operation of a txn branch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TxnOp {
    /// A read.
    Range(RangeRequest),
    /// A put.
    Put(PutRequest),
    /// A deletion.
    DeleteRange(DeleteRangeRequest),
}

impl fmt::Display for TxnOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxnOp::Range(r) => write!(f, "{r}"),
            TxnOp::Put(r) => write!(f, "{r}"),
            TxnOp::DeleteRange(r) => write!(f, "{r}"),
        }
    }
}

/// `Txn(If compares… Then ops… Else ops…)`: atomic, one revision for all its writes.
///
/// # Examples
///
/// ```
/// use lockproof_services::etcd::{Compare, CompareResult, PutRequest, RangeRequest, TxnRequest};
///
/// let txn = TxnRequest::new()
///     .when(Compare::create_revision("t", CompareResult::Equal, 0))
///     .then(PutRequest::new("t", "owner1"))
///     .or_else(RangeRequest::key("t"));
/// assert_eq!(txn.to_string(), r#"txn if create("t") = "0" then put t owner1 else get t"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct TxnRequest {
    /// The conditions, all of which must hold for the `success` branch.
    pub compare: Vec<Compare>,
    /// The operations run when every compare holds.
    pub success: Vec<TxnOp>,
    /// The operations run otherwise.
    pub failure: Vec<TxnOp>,
}

impl TxnRequest {
    /// An empty txn (which succeeds and does nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a compare.
    pub fn when(mut self, c: Compare) -> Self {
        self.compare.push(c);
        self
    }

    /// Add an operation to the success branch.
    pub fn then(mut self, op: impl Into<TxnOp>) -> Self {
        self.success.push(op.into());
        self
    }

    /// Add an operation to the failure branch.
    pub fn or_else(mut self, op: impl Into<TxnOp>) -> Self {
        self.failure.push(op.into());
        self
    }
}

impl From<RangeRequest> for TxnOp {
    fn from(r: RangeRequest) -> Self {
        TxnOp::Range(r)
    }
}

impl From<PutRequest> for TxnOp {
    fn from(r: PutRequest) -> Self {
        TxnOp::Put(r)
    }
}

impl From<DeleteRangeRequest> for TxnOp {
    fn from(r: DeleteRangeRequest) -> Self {
        TxnOp::DeleteRange(r)
    }
}

fn fmt_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T], sep: &str) -> fmt::Result {
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{it}")?;
    }
    Ok(())
}

impl fmt::Display for TxnRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("txn")?;
        if !self.compare.is_empty() {
            f.write_str(" if ")?;
            fmt_list(f, &self.compare, " && ")?;
        }
        f.write_str(" then ")?;
        if self.success.is_empty() {
            f.write_str("-")?;
        }
        fmt_list(f, &self.success, "; ")?;
        if !self.failure.is_empty() {
            f.write_str(" else ")?;
            fmt_list(f, &self.failure, "; ")?;
        }
        Ok(())
    }
}

/// The reply of one txn operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TxnOpResponse {
    /// A read's reply.
    Range(RangeResponse),
    /// A put's reply.
    Put(PutResponse),
    /// A deletion's reply.
    DeleteRange(DeleteRangeResponse),
}

impl TxnOpResponse {
    /// The read's reply, if this is one.
    pub fn as_range(&self) -> Option<&RangeResponse> {
        match self {
            TxnOpResponse::Range(r) => Some(r),
            _ => None,
        }
    }
}

impl fmt::Display for TxnOpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxnOpResponse::Range(r) => write!(f, "{r}"),
            TxnOpResponse::Put(r) => write!(f, "{r}"),
            TxnOpResponse::DeleteRange(r) => write!(f, "{r}"),
        }
    }
}

/// The reply to a [`TxnRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct TxnResponse {
    /// The store's revision after the txn (unchanged if it wrote nothing).
    pub header: ResponseHeader,
    /// Whether every compare held (the success branch ran).
    pub succeeded: bool,
    /// The replies of the branch that ran, in order.
    pub responses: Vec<TxnOpResponse>,
}

impl fmt::Display for TxnResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.succeeded { "SUCCESS" } else { "FAILURE" })?;
        for r in &self.responses {
            write!(f, "\n\n{r}")?;
        }
        Ok(())
    }
}

/// The reply to a compaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CompactionResponse {
    /// The store's current revision.
    pub header: ResponseHeader,
    /// The revision compacted at.
    pub revision: Revision,
}

impl fmt::Display for CompactionResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "compacted revision {}", self.revision)
    }
}

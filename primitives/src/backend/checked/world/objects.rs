//! The objects of an execution, named for traces.

use super::super::fxhash::FxHashMap as HashMap;
use super::super::report::ObjectInfo;
use super::ids::ObjectId;

#[derive(Default)]
pub(super) struct Objects {
    infos: Vec<ObjectInfo>,
    kind_counts: HashMap<&'static str, usize>,
    /// Process-shared objects by (kind, address of their shared state).
    shared: HashMap<(&'static str, usize), ObjectId>,
    /// Name buffers of earlier executions' reports, reused by [`add`](Self::add).
    recycled: Vec<String>,
}

impl Objects {
    /// A new object of `kind`, named after it (`lock1`, `condition2`).
    pub fn add(&mut self, kind: &'static str) -> ObjectId {
        let n = self.kind_counts.entry(kind).or_insert(0);
        *n += 1;
        // No formatting, and no allocation once a report's buffer is recycled: the kind
        // lowercased in place, then the number.
        let mut name = self
            .recycled
            .pop()
            .unwrap_or_else(|| String::with_capacity(kind.len() + 4));
        name.clear();
        name.push_str(kind);
        name.make_ascii_lowercase();
        push_decimal(&mut name, *n);
        self.infos.push(ObjectInfo { kind, name });
        ObjectId::from_index(self.infos.len() - 1)
    }

    /// The object of `kind` at `key`, made on first use (see `ObjectTag::shared`).
    pub fn shared(&mut self, kind: &'static str, key: usize) -> ObjectId {
        if let Some(&id) = self.shared.get(&(kind, key)) {
            return id;
        }
        let id = self.add(kind);
        self.shared.insert((kind, key), id);
        id
    }

    pub fn rename(&mut self, object: ObjectId, name: &str) {
        if let Some(o) = self.infos.get_mut(object.index()) {
            // Into the default name's buffer: no allocation when the name fits.
            o.name.clear();
            o.name.push_str(name);
        }
    }

    /// The objects, moved out (the execution is over: nothing looks them up again).
    /// Keep the names of `infos` (a finished report's) as buffers for the next names.
    pub fn recycle(&mut self, infos: impl IntoIterator<Item = ObjectInfo>) {
        super::recycle(&mut self.recycled, infos.into_iter().map(|i| i.name));
    }

    /// Empty, keeping the allocations, for the next execution on this OS thread.
    pub fn reset(&mut self) {
        self.infos.clear();
        self.kind_counts.clear();
        self.shared.clear();
    }

    pub fn take_infos(&mut self) -> Vec<ObjectInfo> {
        std::mem::take(&mut self.infos)
    }

    pub fn infos(&self) -> &[ObjectInfo] {
        &self.infos
    }
}

/// Append `n` in decimal.
fn push_decimal(out: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[i..].iter().map(|&d| char::from(d)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_number_each_kind_from_one() {
        let mut o = Objects::default();
        for _ in 0..10 {
            o.add("Lock");
        }
        o.add("RLock");
        let names: Vec<&str> = o.infos().iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names[0], "lock1");
        assert_eq!(names[9], "lock10");
        assert_eq!(names[10], "rlock1");
        o.rename(ObjectId::from_index(9), "a much longer name than before");
        assert_eq!(o.infos()[9].name, "a much longer name than before");
    }

    #[test]
    fn decimals_match_display() {
        for n in [0, 7, 10, 99, 100, 12345, usize::MAX] {
            let mut s = String::new();
            push_decimal(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }
}

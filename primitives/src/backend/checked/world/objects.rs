//! The objects of an execution, named for traces.

use super::super::fxhash::FxHashMap as HashMap;
use super::super::report::ObjectInfo;
use super::ids::ObjectId;
use std::fmt::Write as _;

#[derive(Default)]
pub(super) struct Objects {
    infos: Vec<ObjectInfo>,
    kind_counts: HashMap<&'static str, usize>,
    /// Process-shared objects by (kind, address of their shared state).
    shared: HashMap<(&'static str, usize), ObjectId>,
}

impl Objects {
    /// A new object of `kind`, named after it (`lock1`, `condition2`).
    pub fn add(&mut self, kind: &'static str) -> ObjectId {
        let n = self.kind_counts.entry(kind).or_insert(0);
        *n += 1;
        // One allocation: the kind lowercased in place, then the number.
        let mut name = String::with_capacity(kind.len() + 4);
        name.push_str(kind);
        name.make_ascii_lowercase();
        let _ = write!(name, "{n}");
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
            o.name = name.to_owned();
        }
    }

    /// The objects, moved out (the execution is over: nothing looks them up again).
    pub fn take_infos(&mut self) -> Vec<ObjectInfo> {
        std::mem::take(&mut self.infos)
    }

    pub fn infos(&self) -> &[ObjectInfo] {
        &self.infos
    }
}

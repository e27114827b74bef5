//! Offset tables: the label offset table (`n = 1`, name, offset of the label index) and
//! the postings offset table (`n = 2`, name, value, offset of the postings list), and the
//! in-memory form of the latter that postings lookups use.

use std::collections::BTreeMap;

use super::section::{begin_section, end_section, read_section};
use super::write_error;
use crate::encoding::EncBuf;
use crate::error::{Error, Result};

const WHAT: &str = "index postings offset table";

/// Encodes an offset table whose entries have `keys.len()` strings each.
pub(crate) fn encode_offset_table<'a>(
    e: &mut EncBuf,
    entries: impl IntoIterator<Item = (&'a [&'a str], u64)>,
) -> Result<()> {
    let at = begin_section(e);
    e.put_be32(0);
    let mut n: u32 = 0;
    for (keys, off) in entries {
        e.put_uvarint(keys.len() as u64);
        for k in keys {
            e.put_uvarint_str(k);
        }
        e.put_uvarint(off);
        n = n
            .checked_add(1)
            .ok_or_else(|| write_error("offset table too long"))?;
    }
    if let Some(slot) = e.buf.get_mut(at + 4..at + 8) {
        slot.copy_from_slice(&n.to_be_bytes());
    }
    end_section(e, at)
}

/// One value of a label name: where its bytes sit in the file and where its postings are.
#[derive(Debug, Clone, Copy)]
struct ValueEntry {
    start: usize,
    len: u32,
    postings: u64,
}

impl ValueEntry {
    fn bytes<'a>(&self, file: &'a [u8]) -> &'a [u8] {
        file.get(self.start..self.start + self.len as usize)
            .unwrap_or_default()
    }
}

/// The postings offset table held in memory: per label name (sorted), its values (sorted)
/// as positions into the file, so no string is allocated per entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct PostingsTable {
    names: Vec<(String, Vec<ValueEntry>)>,
}

impl PostingsTable {
    /// Loads the table at `offset` (zero: no postings), checking its CRC. Entries are
    /// sorted here, because version 1 files do not store them in order.
    pub fn load(file: &[u8], offset: u64) -> Result<PostingsTable> {
        if offset == 0 {
            return Ok(PostingsTable::default());
        }
        let mut d = read_section(file, offset, WHAT)?;
        let n = d.be32()?;
        let mut by_name: BTreeMap<&str, Vec<ValueEntry>> = BTreeMap::new();
        for _ in 0..n {
            let keys = d.uvarint()?;
            if keys != 2 {
                return Err(Error::corruption(
                    WHAT,
                    offset,
                    format!("entry with {keys} keys, want 2"),
                ));
            }
            let name = d.uvarint_str()?;
            let value = d.uvarint_str()?;
            let start = offset as usize + 4 + d.position() - value.len();
            let len = u32::try_from(value.len())
                .map_err(|_| Error::corruption(WHAT, offset, "label value too long"))?;
            let postings = d.uvarint()?;
            by_name.entry(name).or_default().push(ValueEntry {
                start,
                len,
                postings,
            });
        }
        if !d.is_empty() {
            return Err(Error::corruption(WHAT, offset, "trailing bytes"));
        }
        let mut names = Vec::with_capacity(by_name.len());
        for (name, mut values) in by_name {
            if !values.is_sorted_by(|a, b| a.bytes(file) < b.bytes(file)) {
                values.sort_by(|a, b| a.bytes(file).cmp(b.bytes(file)));
                values.dedup_by(|a, b| a.bytes(file) == b.bytes(file));
            }
            names.push((name.to_owned(), values));
        }
        Ok(PostingsTable { names })
    }

    fn values(&self, name: &str) -> Option<&[ValueEntry]> {
        self.names
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .and_then(|i| self.names.get(i))
            .map(|(_, v)| v.as_slice())
    }

    /// Label names in order, the all-postings name `""` included.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|(n, _)| n.as_str())
    }

    /// The values of `name`, sorted.
    pub fn label_values(&self, file: &[u8], name: &str) -> Result<Vec<String>> {
        let Some(vals) = self.values(name) else {
            return Ok(Vec::new());
        };
        vals.iter()
            .map(|v| {
                std::str::from_utf8(v.bytes(file))
                    .map(str::to_owned)
                    .map_err(|e| Error::corruption(WHAT, v.start as u64, e.to_string()))
            })
            .collect()
    }

    /// The offset of the postings list of `name="value"`, if the pair exists.
    pub fn postings_offset(&self, file: &[u8], name: &str, value: &str) -> Option<u64> {
        let vals = self.values(name)?;
        let i = vals
            .binary_search_by(|v| v.bytes(file).cmp(value.as_bytes()))
            .ok()?;
        vals.get(i).map(|v| v.postings)
    }
}

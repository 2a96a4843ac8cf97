//! Where an index keeps its records' [`Hot`] blocks, by slot.
//!
//! A batch compares each request with a few hundred candidates spread
//! over the registry's blocks (96 MB at 500,000 records). With the
//! kernel's 4 KB pages nearly every candidate's block missed the TLB, so
//! the page tables were walked before its load could even start. A bulk
//! load's blocks therefore go to memory of their own, mapped for them and
//! advised to huge pages (2 MB: the whole array under a few dozen TLB
//! entries); the machine's transparent huge pages are most often set to
//! "madvise", which asks for exactly that advice. Records added later go
//! to a vector. Memory that cannot be mapped or advised falls back to a
//! vector too: the advice changes speed, never what is read.

use memmap2::{Advice, MmapMut};
use rayon::prelude::*;

use crate::record::{Hot, PreparedRecord};

/// Size of a huge page on x86-64 and most other targets: the mapping is
/// rounded up to it, so that its end, too, can be a huge page.
const HUGE_PAGE: usize = 2 << 20;

/// Blocks below this many bytes stay in a vector (a few huge pages' worth:
/// for less, a mapping of its own gains nothing).
const MIN_MAPPED: usize = 4 * HUGE_PAGE;

#[derive(Debug, Default)]
pub(crate) struct HotBlocks {
    /// The first `mapped_len` blocks, when a bulk load mapped them.
    mapped: Option<MmapMut>,
    mapped_len: usize,
    /// The blocks after those.
    added: Vec<Hot>,
}

impl HotBlocks {
    pub(crate) fn len(&self) -> usize {
        self.mapped_len + self.added.len()
    }

    pub(crate) fn get(&self, slot: usize) -> Option<&Hot> {
        if slot < self.mapped_len { self.mapped().get(slot) } else { self.added.get(slot - self.mapped_len) }
    }

    fn mapped(&self) -> &[Hot] {
        let bytes = self.mapped.as_deref().unwrap_or(&[]);
        bytes.get(..self.mapped_len * size_of::<Hot>()).map_or(&[], bytemuck::cast_slice)
    }

    pub(crate) fn push(&mut self, block: Hot) {
        self.added.push(block);
    }

    /// Adds the blocks of `records`, on every core: into memory advised to
    /// huge pages when these are the first blocks and there are enough of
    /// them, otherwise to the vector.
    pub(crate) fn extend(&mut self, records: &[PreparedRecord]) {
        if self.len() == 0
            && let Some(mut memory) = advised_memory(records.len())
        {
            let bytes = memory.get_mut(..records.len() * size_of::<Hot>()).unwrap_or(&mut []);
            let blocks: &mut [Hot] = bytemuck::cast_slice_mut(bytes);
            blocks.par_iter_mut().zip(records.par_iter()).for_each(|(block, p)| *block = Hot::new(p));
            self.mapped = Some(memory);
            self.mapped_len = records.len();
            return;
        }
        self.added.par_extend(records.par_iter().map(Hot::new));
    }
}

/// Zeroed memory for `blocks` blocks, advised to huge pages, or `None`
/// when there are too few blocks for it to help, or the memory cannot be
/// mapped or advised.
fn advised_memory(blocks: usize) -> Option<MmapMut> {
    let bytes = blocks.checked_mul(size_of::<Hot>())?;
    if bytes < MIN_MAPPED {
        return None;
    }
    let memory = MmapMut::map_anon(bytes.div_ceil(HUGE_PAGE) * HUGE_PAGE).ok()?;
    memory.advise(Advice::HugePage).ok()?;
    // A mapping starts on a page boundary, more than a block's alignment;
    // checked all the same, since the blocks are read through it.
    (memory.as_ptr().align_offset(align_of::<Hot>()) == 0).then_some(memory)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::MatchRecord;

    fn prepared(n: usize) -> Vec<PreparedRecord> {
        let data = crate::synth::generate(&crate::synth::SynthConfig::new(1, 500, 3));
        let mut kinds: Vec<PreparedRecord> = data.registry.into_iter().map(PreparedRecord::new).collect();
        kinds.push(PreparedRecord::new(MatchRecord {
            id: "x".into(),
            family_name: "X".into(),
            ..MatchRecord::default()
        }));
        (0..n).filter_map(|i| kinds.get(i % kinds.len()).cloned()).collect()
    }

    fn same(a: Option<&Hot>, b: &Hot) -> bool {
        a.is_some_and(|a| bytemuck::bytes_of(a) == bytemuck::bytes_of(b))
    }

    /// A bulk load large enough is mapped (and advised), the records added
    /// after it go to the vector, and every slot reads the block its record
    /// makes; a small load is not mapped.
    #[test]
    fn every_slot_reads_its_records_block() {
        let n = MIN_MAPPED / size_of::<Hot>() + 1_000;
        let records = prepared(n + 700);
        let (bulk, later) = records.split_at(n);
        let mut blocks = HotBlocks::default();
        blocks.extend(bulk);
        assert!(blocks.mapped.is_some(), "{n} blocks are mapped");
        blocks.extend(&later[..300]);
        for p in &later[300..] {
            blocks.push(Hot::new(p));
        }
        assert_eq!(blocks.len(), records.len());
        for (slot, p) in records.iter().enumerate() {
            assert!(same(blocks.get(slot), &Hot::new(p)), "slot {slot}");
        }
        assert!(blocks.get(records.len()).is_none());

        let mut small = HotBlocks::default();
        small.extend(&records[..100]);
        assert!(small.mapped.is_none() && small.len() == 100);
        assert!(same(small.get(99), &Hot::new(&records[99])));
    }
}

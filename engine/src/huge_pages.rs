//! The process's allocator: the system one, asking the kernel to back large
//! allocations with 2 MiB pages.
//!
//! The identity graph's tables (the key index, the identifier and order
//! nodes, the components) are hundreds of MiB read at random: with 4 KiB
//! pages almost every access of an increment misses the TLB as well as the
//! cache. Most kernels give huge pages only where asked (`madvise` mode of
//! transparent huge pages), so ask for them where they pay: allocations
//! large enough to span several.

use std::alloc::{GlobalAlloc, Layout, System};

/// The global allocator of the `ordergraph` binary and the benchmarks.
#[derive(Debug)]
pub struct HugePageAlloc;

const HUGE_PAGE: usize = 2 << 20;

/// Below this an allocation spans too few huge pages to matter.
const LARGE: usize = 4 * HUGE_PAGE;

// SAFETY: every call is forwarded to `System` unchanged; `advise` only
// gives the kernel a hint about whole pages inside the returned block.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        let p = unsafe { System.alloc(layout) };
        advise(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        advise(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        advise(p, new_size);
        p
    }
}

/// Asks for huge pages under the whole 2 MiB pages of a large block.
fn advise(p: *mut u8, size: usize) {
    if p.is_null() || size < LARGE {
        return;
    }
    let start = (p as usize).next_multiple_of(HUGE_PAGE);
    let end = (p as usize + size) & !(HUGE_PAGE - 1);
    if end > start {
        // SAFETY: the range lies inside the block just allocated; the
        // advice changes how it is backed, never its contents. A refusal
        // (no THP in this kernel) leaves small pages, which is correct.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The allocator hands out working memory whatever the advice did:
    /// contents survive growth across the large threshold.
    #[test]
    fn large_blocks_keep_their_contents_through_growth() {
        let layout = Layout::from_size_align(LARGE / 2, 8).unwrap();
        // SAFETY: the layout is non-zero; every block is freed with the
        // layout and size it was last given.
        unsafe {
            let p = HugePageAlloc.alloc(layout);
            assert!(!p.is_null());
            p.write_bytes(7, layout.size());
            let q = HugePageAlloc.realloc(p, layout, LARGE * 3 + 1);
            assert!(!q.is_null());
            let head = std::slice::from_raw_parts(q, layout.size());
            assert!(head.iter().all(|&b| b == 7));
            q.add(LARGE * 3).write(9);
            HugePageAlloc.dealloc(q, Layout::from_size_align(LARGE * 3 + 1, 8).unwrap());
            let z = HugePageAlloc.alloc_zeroed(Layout::from_size_align(LARGE, 8).unwrap());
            assert!(std::slice::from_raw_parts(z, LARGE).iter().all(|&b| b == 0));
            HugePageAlloc.dealloc(z, Layout::from_size_align(LARGE, 8).unwrap());
        }
    }
}

//! The page map of a memory: the state of every 64 KiB page (unmapped,
//! none, read, read-write; anonymous, file-backed or data image, and under
//! which ceiling), kept as an interval map of runs so that a 16 GiB virtual
//! memory costs nothing until pages are mapped.
//!
//! Pages without an entry are in the memory's *default* state: unmapped in
//! a virtual memory, the static layout (anonymous read-write in the
//! read-write part) in a plain one. The map also counts how many kernel
//! mappings (VMAs) its runs cost, gaps included, so a request can be
//! checked against the memory's mapping budget before any system call.

use std::collections::BTreeMap;

/// A page protection a guest or host may ask for (POSIX bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Prot {
    None = 0,
    Read = 1,
    ReadWrite = 3,
}

impl Prot {
    /// `0`, `1` or `3`; anything else is "bad prot".
    pub fn from_bits(bits: u32) -> Option<Prot> {
        match bits {
            0 => Some(Prot::None),
            1 => Some(Prot::Read),
            3 => Some(Prot::ReadWrite),
            _ => None,
        }
    }

    pub fn to_libc(self) -> libc::c_int {
        match self {
            Prot::None => libc::PROT_NONE,
            Prot::Read => libc::PROT_READ,
            Prot::ReadWrite => libc::PROT_READ | libc::PROT_WRITE,
        }
    }

    pub fn readable(self) -> bool {
        self != Prot::None
    }

    pub fn writable(self) -> bool {
        self == Prot::ReadWrite
    }
}

/// What is behind a run of pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// Private anonymous memory (zero-filled when mapped).
    Anonymous,
    /// A file or shared buffer, mapped by the host (`grant: None`) or by
    /// the guest's `map_handle` of grant `grant`. `eof`: the memory
    /// address of the first host page wholly past the end of the file
    /// when it was mapped (`u64::MAX`: none in the mapping); those pages
    /// fault, so the runtime's own accesses are denied there up front.
    File {
        shared: bool,
        grant: Option<u32>,
        eof: u64,
    },
    /// The module's data image, mapped copy-on-write at instantiation
    /// (see `image`): `MADV_DONTNEED` would bring the image back, so
    /// discard maps fresh anonymous pages over it.
    Image,
}

/// The state of a mapped page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageState {
    pub prot: Prot,
    /// The most the guest's `protect` may raise it to (the grant's
    /// `max_prot`, or the prot the host mapped a file with).
    pub max_prot: Prot,
    /// The most the host's `protect` may raise it to (what the kernel
    /// allows for the file: a shared mapping of a read-only descriptor
    /// can never be written).
    pub host_max: Prot,
    pub backing: Backing,
    /// The request that mapped the run: runs of different requests are
    /// different kernel mappings even when their states agree.
    pub id: u64,
}

impl PageState {
    /// Anonymous pages with `prot`, from request `id`.
    pub fn anonymous(prot: Prot, id: u64) -> PageState {
        PageState {
            prot,
            max_prot: Prot::ReadWrite,
            host_max: Prot::ReadWrite,
            backing: Backing::Anonymous,
            id,
        }
    }

    pub fn is_file(&self) -> bool {
        matches!(self.backing, Backing::File { .. })
    }

    /// The first memory address of the run whose host page lies wholly
    /// past the end of its file (`u64::MAX`: none).
    pub fn eof(&self) -> u64 {
        match self.backing {
            Backing::File { eof, .. } => eof,
            _ => u64::MAX,
        }
    }
}

/// A piece of `[a, b)`: pages `[start, end)` in one state (`None` = the
/// default state).
pub type Piece = (u64, u64, Option<PageState>);

/// Runs of pages keyed by their first page; adjacent runs in equal states
/// are always merged.
#[derive(Clone, Debug)]
pub struct PageMap {
    pages: u64,
    /// start → (end, state); non-overlapping, sorted.
    runs: BTreeMap<u64, (u64, PageState)>,
    /// Kernel mappings the whole range costs: 1 + the number of page
    /// boundaries where the state changes.
    kernel_runs: usize,
}

impl PageMap {
    /// `pages` pages, all in the default state.
    pub fn new(pages: u64) -> PageMap {
        PageMap {
            pages,
            runs: BTreeMap::new(),
            kernel_runs: 1,
        }
    }

    #[cfg(test)]
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Kernel mappings the memory's runs cost (gaps included).
    pub fn kernel_runs(&self) -> usize {
        self.kernel_runs
    }

    /// Whether no page differs from the default state.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The state of page `p` (`None`: default).
    pub fn state_at(&self, p: u64) -> Option<PageState> {
        let (_, &(end, st)) = self.runs.range(..=p).next_back()?;
        (p < end).then_some(st)
    }

    /// `[a, b)` cut into pieces of one state each, in order, gaps included.
    pub fn pieces(&self, a: u64, b: u64) -> Vec<Piece> {
        let mut out = Vec::new();
        let mut at = a;
        // The run that starts before `a` may reach into the range.
        let first = self
            .runs
            .range(..a)
            .next_back()
            .filter(|(_, &(e, _))| e > a);
        let inside = self.runs.range(a..b);
        for (&s, &(e, st)) in first.into_iter().chain(inside) {
            let s = s.max(a);
            if s > at {
                out.push((at, s, None));
            }
            let e = e.min(b);
            out.push((s, e, Some(st)));
            at = e;
        }
        if at < b {
            out.push((at, b, None));
        }
        out
    }

    /// Whether any page of `[a, b)` satisfies `f` (default pages as `None`).
    pub fn any(&self, a: u64, b: u64, f: impl Fn(Option<PageState>) -> bool) -> bool {
        a < b && self.pieces(a, b).into_iter().any(|(_, _, st)| f(st))
    }

    /// Kernel mappings after setting `[a, b)` (non-empty) to `new`.
    pub fn runs_after(&self, a: u64, b: u64, new: Option<PageState>) -> usize {
        self.runs_after_with(a, b, |_| new)
    }

    /// Kernel mappings after setting each piece of `[a, b)` (non-empty) to
    /// `f(its state)`: only the boundaries at and inside the range change.
    pub fn runs_after_with(
        &self,
        a: u64,
        b: u64,
        f: impl Fn(Option<PageState>) -> Option<PageState>,
    ) -> usize {
        debug_assert!(a < b && b <= self.pages);
        let left = (a > 0).then(|| self.state_at(a - 1));
        let right = (b < self.pages).then(|| self.state_at(b));
        let old: Vec<Option<PageState>> = self.pieces(a, b).into_iter().map(|p| p.2).collect();
        let new: Vec<Option<PageState>> = old.iter().map(|&s| f(s)).collect();
        let boundaries = |states: &[Option<PageState>]| {
            let mut n = states.windows(2).filter(|w| w[0] != w[1]).count();
            n += usize::from(left.is_some_and(|l| l != states[0]));
            n += usize::from(right.is_some_and(|r| r != states[states.len() - 1]));
            n
        };
        self.kernel_runs - boundaries(&old) + boundaries(&new)
    }

    /// Splits the run containing `p` (if any) so that one starts at `p`.
    fn split_at(&mut self, p: u64) {
        if let Some((&s, &(e, st))) = self.runs.range(..p).next_back() {
            if e > p {
                self.runs.insert(s, (p, st));
                self.runs.insert(p, (e, st));
            }
        }
    }

    /// Sets pages `[a, b)` to `new` (`None`: back to the default state).
    pub fn set(&mut self, a: u64, b: u64, new: Option<PageState>) {
        assert!(a <= b && b <= self.pages, "page range outside the map");
        if a == b {
            return;
        }
        self.kernel_runs = self.runs_after(a, b, new);
        self.split_at(a);
        self.split_at(b);
        let inside: Vec<u64> = self.runs.range(a..b).map(|(&s, _)| s).collect();
        for s in inside {
            self.runs.remove(&s);
        }
        let Some(st) = new else { return };
        let (mut start, mut end) = (a, b);
        if let Some((&s, &(e, l))) = self.runs.range(..a).next_back() {
            if e == a && l == st {
                self.runs.remove(&s);
                start = s;
            }
        }
        if let Some(&(e, r)) = self.runs.get(&b) {
            if r == st {
                self.runs.remove(&b);
                end = e;
            }
        }
        self.runs.insert(start, (end, st));
    }

    /// Sets each piece of `[a, b)` to `f(its state)`.
    pub fn set_with(&mut self, a: u64, b: u64, f: impl Fn(Option<PageState>) -> Option<PageState>) {
        for (s, e, st) in self.pieces(a, b) {
            self.set(s, e, f(st));
        }
    }

    /// Every run not in the default state.
    #[cfg(test)]
    pub fn runs(&self) -> impl Iterator<Item = Piece> + '_ {
        self.runs.iter().map(|(&s, &(e, st))| (s, e, Some(st)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(id: u64) -> Option<PageState> {
        Some(PageState::anonymous(Prot::ReadWrite, id))
    }

    fn ro(id: u64) -> Option<PageState> {
        Some(PageState::anonymous(Prot::Read, id))
    }

    /// Kernel runs counted page by page.
    fn slow_runs(m: &PageMap) -> usize {
        1 + (1..m.pages())
            .filter(|&p| m.state_at(p - 1) != m.state_at(p))
            .count()
    }

    #[test]
    fn set_split_merge() {
        let mut m = PageMap::new(16);
        assert_eq!((m.kernel_runs(), m.state_at(3)), (1, None));
        m.set(2, 6, rw(1));
        assert_eq!(m.kernel_runs(), 3);
        assert_eq!(
            m.pieces(0, 16),
            vec![(0, 2, None), (2, 6, rw(1)), (6, 16, None)]
        );
        // Protect the middle: three runs of one mapping.
        m.set(3, 5, ro(1));
        assert_eq!(m.kernel_runs(), 5);
        assert_eq!(
            m.pieces(2, 6),
            vec![(2, 3, rw(1)), (3, 5, ro(1)), (5, 6, rw(1))]
        );
        // And back: merged again.
        m.set(3, 5, rw(1));
        assert_eq!(m.runs().count(), 1);
        assert_eq!(m.kernel_runs(), 3);
        // Unmap a piece reaching past the run.
        m.set(4, 10, None);
        assert_eq!(
            m.pieces(0, 16),
            vec![(0, 2, None), (2, 4, rw(1)), (4, 16, None)]
        );
        assert_eq!(m.kernel_runs(), 3);
        // Another request next to it stays a separate run.
        m.set(4, 5, rw(2));
        assert_eq!(m.kernel_runs(), 4);
        assert_eq!(m.state_at(4), rw(2));
        m.set(0, 16, None);
        assert!(m.is_empty());
        assert_eq!(m.kernel_runs(), 1);
    }

    #[test]
    fn runs_after_predicts_set() {
        // A deterministic pseudo-random walk compared with a slow count.
        let mut m = PageMap::new(64);
        let mut x = 12345u64;
        for i in 0..2000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let a = (x >> 33) % 64;
            let b = (a + 1 + (x >> 20) % 8).min(64);
            let st = match (x >> 12) % 4 {
                0 => None,
                1 => rw(i % 3),
                2 => ro(i % 2),
                _ => Some(PageState {
                    backing: Backing::File {
                        shared: true,
                        grant: Some(1),
                        eof: u64::MAX,
                    },
                    ..PageState::anonymous(Prot::None, 7)
                }),
            };
            let predicted = m.runs_after(a, b, st);
            m.set(a, b, st);
            assert_eq!(m.kernel_runs(), predicted);
            assert_eq!(m.kernel_runs(), slow_runs(&m), "step {i}");
            // Adjacent runs are always merged.
            let runs: Vec<Piece> = m.runs().collect();
            for w in runs.windows(2) {
                assert!(w[0].1 < w[1].0 || w[0].2 != w[1].2, "{w:?}");
            }
        }
    }

    #[test]
    fn set_with_per_piece() {
        let mut m = PageMap::new(10);
        m.set(1, 3, rw(1));
        m.set(5, 7, rw(2));
        let to_ro = |s: Option<PageState>| {
            s.map(|p| PageState {
                prot: Prot::Read,
                ..p
            })
        };
        let predicted = m.runs_after_with(0, 10, to_ro);
        m.set_with(0, 10, to_ro);
        assert_eq!(m.kernel_runs(), predicted);
        assert_eq!(m.kernel_runs(), slow_runs(&m));
        assert_eq!(
            m.pieces(0, 10),
            vec![
                (0, 1, None),
                (1, 3, ro(1)),
                (3, 5, None),
                (5, 7, ro(2)),
                (7, 10, None)
            ]
        );
    }

    #[test]
    fn huge_maps_cost_nothing_until_used() {
        // A 16 GiB memory64 virtual memory: 2^18 pages, no entry.
        let mut m = PageMap::new(1 << 18);
        assert!(m.is_empty());
        assert_eq!(m.pieces(0, 1 << 18), vec![(0, 1 << 18, None)]);
        m.set((1 << 18) - 1, 1 << 18, rw(1));
        assert_eq!(m.runs().count(), 1);
        assert_eq!(m.kernel_runs(), 2);
        assert!(m.any(0, 1 << 18, |s| s.is_some()));
        assert!(!m.any(0, (1 << 18) - 1, |s| s.is_some()));
        assert!(!m.any(5, 5, |_| true));
    }

    #[test]
    fn prot_bits() {
        assert_eq!(Prot::from_bits(0), Some(Prot::None));
        assert_eq!(Prot::from_bits(1), Some(Prot::Read));
        assert_eq!(Prot::from_bits(3), Some(Prot::ReadWrite));
        for bad in [2, 4, 5, 7, u32::MAX] {
            assert_eq!(Prot::from_bits(bad), None);
        }
        assert!(Prot::Read < Prot::ReadWrite && Prot::None < Prot::Read);
    }
}

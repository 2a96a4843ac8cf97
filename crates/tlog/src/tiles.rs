//! C2SP tlog-tiles (c2sp.org/tlog-tiles): the log's Merkle tree and entries
//! served as static, cacheable files.
//!
//! A *tile* at level `L` and index `N` holds up to 256 consecutive Merkle
//! Tree Hashes at tree level `8 * L`: hash `i` of the tile is
//! `MTH(D[(N * 256 + i) * 256^L : (N * 256 + i + 1) * 256^L])`. Full tiles
//! hold 256 hashes (8,192 bytes); the rightmost tiles of a tree are
//! *partial*, with `floor(size / 256^L) mod 256` hashes. Paths are
//! `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, with `N` written in
//! zero-padded 3-digit path elements, all but the last prefixed with `x`
//! (`1234067` is `x001/x234/067`).
//!
//! This is the same idea as Go's sumdb tiles (`golang.org/x/mod/sumdb/tlog`,
//! `tile.go`) with the height fixed at 8, but the paths differ: C2SP has no
//! height element (`tile/0/...`, not `tile/8/0/...`), writes entry bundles at
//! `tile/entries/...` instead of `tile/8/data/...`, and only publishes the
//! partial tile of each checkpointed size instead of every width.
//!
//! Serving: [`Tile::for_tree`], [`new_tiles`] and [`read_tile`] build tile
//! files straight from a [`HashReader`] (the stored-hash layout already holds
//! every hash a tile needs). Fetching: [`TileHashReader`] is the client side.
//! Given a verified checkpoint's size and root it reads tiles from any
//! [`TileReader`], authenticates them against the root (as Go's
//! `TileHashReader` does) and is itself a [`HashReader`], so
//! [`crate::tree_hash`], [`crate::inclusion_proof`] and
//! [`crate::consistency_proof`] run unchanged over downloaded tiles and every
//! hash they return is proven to be in the tree.

use std::collections::HashMap;
use std::fmt;

use crate::hash::{HASH_SIZE, Hash, leaf_hash, node_hash, root_from_leaf_hashes};
use crate::tree::{HashReader, TreeError, split_stored_hash_index, stored_hash_index, sub_tree_index};

/// Tree levels covered by one tile level.
pub const TILE_HEIGHT: u32 = 8;

/// Hashes in a full tile, and entries in a full entry bundle.
pub const TILE_WIDTH: u16 = 256;

/// Highest tile level the path syntax allows.
pub const MAX_TILE_LEVEL: u8 = 63;

/// Bytes in a full hash tile.
pub const FULL_TILE_BYTES: usize = TILE_WIDTH as usize * HASH_SIZE;

/// Longest entry an entry bundle can hold (its length is a `u16`).
pub const MAX_ENTRY_LEN: usize = u16::MAX as usize;

/// Why a tile path, tile or entry bundle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// The path is not a canonical tile or entry bundle path.
    #[error("malformed tile path")]
    MalformedPath,
    /// Level, index or width out of range, or a tile that no tree of fewer
    /// than 2^64 entries has.
    #[error("invalid tile coordinates")]
    InvalidCoordinates,
    /// An entry is longer than 65,535 bytes.
    #[error("entry of {0} bytes does not fit an entry bundle")]
    EntryTooLong(usize),
    /// An entry bundle does not decode, or has the wrong number of entries.
    #[error("malformed entry bundle")]
    MalformedBundle,
    /// Tile data has the wrong length for its width.
    #[error("tile data of {got} bytes, expected {expected}")]
    WrongLength {
        /// Bytes expected for the tile's width.
        expected: usize,
        /// Bytes received.
        got: usize,
    },
    /// An entry does not hash to the matching hash of its level-0 tile.
    #[error("entry {0} does not match its tile")]
    EntryMismatch(u64),
}

/// Checks that `(n * 256 + width) * 256^level` entries fit in a `u64`, so a
/// tree of at most `u64::MAX` entries can hold the tile; every later index
/// computation then stays in range.
fn fits(level: u8, n: u64, width: u16) -> bool {
    if level > MAX_TILE_LEVEL || width == 0 || width > TILE_WIDTH {
        return false;
    }
    let Some(shift) = u32::from(level).checked_mul(TILE_HEIGHT) else {
        return false;
    };
    let end = u128::from(n) * u128::from(TILE_WIDTH) + u128::from(width);
    // 2^64 entries or more cannot be counted by a u64 tree size.
    shift < 64 && end.checked_shl(shift).is_some_and(|e| e <= u128::from(u64::MAX))
}

/// A hash tile: level, index within the level and width (1 to 256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    level: u8,
    n: u64,
    width: u16,
}

impl Tile {
    /// The tile at `level`, index `n`, holding `width` hashes.
    ///
    /// # Errors
    /// [`TileError::InvalidCoordinates`] for a level above 63, a width
    /// outside 1..=256, or a tile past the end of any `u64`-sized tree.
    pub fn new(level: u8, n: u64, width: u16) -> Result<Self, TileError> {
        if fits(level, n, width) { Ok(Self { level, n, width }) } else { Err(TileError::InvalidCoordinates) }
    }

    /// The tile at `level` and index `n` as published for a tree of
    /// `tree_size` entries: full, partial, or `None` if the tree has no hash
    /// in it yet.
    #[must_use]
    pub fn for_tree(level: u8, n: u64, tree_size: u64) -> Option<Self> {
        let hashes = hashes_at_tile_level(level, tree_size);
        let start = u128::from(n) * u128::from(TILE_WIDTH);
        if start >= u128::from(hashes) {
            return None;
        }
        let width = (u128::from(hashes) - start).min(u128::from(TILE_WIDTH));
        // `width` is in 1..=256 and the tile lies inside the tree.
        Some(Self { level, n, width: u16::try_from(width).ok()? })
    }

    /// Level (0 holds leaf hashes).
    #[must_use]
    pub const fn level(&self) -> u8 {
        self.level
    }

    /// Index of the tile within its level.
    #[must_use]
    pub const fn n(&self) -> u64 {
        self.n
    }

    /// Number of hashes, 1 to 256.
    #[must_use]
    pub const fn width(&self) -> u16 {
        self.width
    }

    /// Whether the tile holds all 256 hashes.
    #[must_use]
    pub const fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// Length of the tile's data in bytes.
    #[must_use]
    pub const fn data_len(&self) -> usize {
        self.width as usize * HASH_SIZE
    }

    /// The spec's *start index*: the first entry the tile spans,
    /// `n * 256^(level + 1)`.
    #[must_use]
    pub fn start_index(&self) -> u64 {
        // In range: checked by `fits` at construction.
        (self.n * u64::from(TILE_WIDTH)) << (u32::from(self.level) * TILE_HEIGHT)
    }

    /// One past the last entry the tile's hashes span: the spec's *end
    /// index* for a full tile, `(n + 1) * 256^(level + 1)`; for a partial
    /// tile, the end of its last hash.
    #[must_use]
    pub fn end_index(&self) -> u64 {
        (self.n * u64::from(TILE_WIDTH) + u64::from(self.width)) << (u32::from(self.level) * TILE_HEIGHT)
    }

    /// The tile's path, `tile/<L>/<N>[.p/<W>]`.
    #[must_use]
    pub fn path(&self) -> String {
        format!("tile/{}/{}", self.level, index_path(self.n, self.width))
    }

    /// The entry bundle for the entries under this level-0 tile, if it is one.
    #[must_use]
    pub fn entry_bundle(&self) -> Option<EntryBundle> {
        (self.level == 0).then_some(EntryBundle { n: self.n, width: self.width })
    }

    /// The tile's own tree coordinates of hash `i`: (tree level, index).
    fn hash_coordinates(&self, i: u16) -> (u32, u64) {
        (u32::from(self.level) * TILE_HEIGHT, self.n * u64::from(TILE_WIDTH) + u64::from(i))
    }
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// An entry bundle: the entries under the level-0 tile of the same index and
/// width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryBundle {
    n: u64,
    width: u16,
}

impl EntryBundle {
    /// The bundle with index `n` holding `width` entries.
    ///
    /// # Errors
    /// [`TileError::InvalidCoordinates`] as for [`Tile::new`] at level 0.
    pub fn new(n: u64, width: u16) -> Result<Self, TileError> {
        Tile::new(0, n, width).map(|t| Self { n: t.n, width: t.width })
    }

    /// The bundle with index `n` as published for a tree of `tree_size`.
    #[must_use]
    pub fn for_tree(n: u64, tree_size: u64) -> Option<Self> {
        Tile::for_tree(0, n, tree_size).and_then(|t| t.entry_bundle())
    }

    /// Index of the bundle.
    #[must_use]
    pub const fn n(&self) -> u64 {
        self.n
    }

    /// Number of entries, 1 to 256.
    #[must_use]
    pub const fn width(&self) -> u16 {
        self.width
    }

    /// Index of the first entry.
    #[must_use]
    pub fn start_index(&self) -> u64 {
        self.n * u64::from(TILE_WIDTH)
    }

    /// The level-0 hash tile whose hashes are this bundle's leaf hashes.
    #[must_use]
    pub const fn tile(&self) -> Tile {
        Tile { level: 0, n: self.n, width: self.width }
    }

    /// The bundle's path, `tile/entries/<N>[.p/<W>]`.
    #[must_use]
    pub fn path(&self) -> String {
        format!("tile/entries/{}", index_path(self.n, self.width))
    }
}

impl fmt::Display for EntryBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// What a path under the log's prefix names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TilePath {
    /// A hash tile.
    Hashes(Tile),
    /// An entry bundle.
    Entries(EntryBundle),
}

/// `<N>[.p/<W>]`: `N` in 3-digit elements, all but the last `x`-prefixed.
fn index_path(n: u64, width: u16) -> String {
    let mut s = format!("{:03}", n % 1000);
    let mut rest = n / 1000;
    while rest > 0 {
        s = format!("x{:03}/{s}", rest % 1000);
        rest /= 1000;
    }
    if width != TILE_WIDTH {
        s.push_str(&format!(".p/{width}"));
    }
    s
}

/// A decimal without sign or leading zeros (`0` itself is allowed).
fn canonical_decimal(s: &str) -> Option<u64> {
    let ok = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if ok { s.parse().ok() } else { None }
}

/// Parses the elements after `tile/<L>/` or `tile/entries/`.
fn parse_index_path(elements: &[&str]) -> Option<(u64, u16)> {
    let (mut elements, width) = match elements {
        [init @ .., last_index, w] if last_index.ends_with(".p") => {
            let width = u16::try_from(canonical_decimal(w)?).ok()?;
            if width == 0 || width >= TILE_WIDTH {
                return None;
            }
            let mut v = init.to_vec();
            v.push(last_index.strip_suffix(".p")?);
            (v, width)
        }
        _ => (elements.to_vec(), TILE_WIDTH),
    };
    let last = elements.pop()?;
    let mut n: u64 = 0;
    for (i, e) in elements.iter().map(|e| e.strip_prefix('x')).chain([Some(last)]).enumerate() {
        let e = e?;
        if e.len() != 3 || !e.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // The first element must not be a redundant leading `x000`.
        if i == 0 && !elements.is_empty() && e == "000" {
            return None;
        }
        n = n.checked_mul(1000)?.checked_add(e.parse().ok()?)?;
    }
    Some((n, width))
}

/// Parses a path relative to the log's prefix: `tile/<L>/<N>[.p/<W>]` or
/// `tile/entries/<N>[.p/<W>]`. Only the canonical form the spec describes is
/// accepted, so that each tile has exactly one path (and one cache entry).
///
/// # Errors
/// [`TileError::MalformedPath`], or [`TileError::InvalidCoordinates`] for a
/// well-formed path naming a tile that no `u64`-sized tree has.
pub fn parse_tile_path(path: &str) -> Result<TilePath, TileError> {
    let rest = path.strip_prefix("tile/").ok_or(TileError::MalformedPath)?;
    let elements: Vec<&str> = rest.split('/').collect();
    let (&kind, index) = elements.split_first().ok_or(TileError::MalformedPath)?;
    let (n, width) = parse_index_path(index).ok_or(TileError::MalformedPath)?;
    let parsed = if kind == "entries" {
        TilePath::Entries(EntryBundle::new(n, width)?)
    } else {
        let level = canonical_decimal(kind)
            .and_then(|l| u8::try_from(l).ok())
            .filter(|&l| l <= MAX_TILE_LEVEL)
            .ok_or(TileError::MalformedPath)?;
        TilePath::Hashes(Tile::new(level, n, width)?)
    };
    let canonical = match parsed {
        TilePath::Hashes(t) => t.path(),
        TilePath::Entries(b) => b.path(),
    };
    if canonical == path { Ok(parsed) } else { Err(TileError::MalformedPath) }
}

/// Number of hashes a tree of `tree_size` entries has at tree level
/// `8 * level`.
fn hashes_at_tile_level(level: u8, tree_size: u64) -> u64 {
    u32::from(level).checked_mul(TILE_HEIGHT).and_then(|shift| tree_size.checked_shr(shift)).unwrap_or(0)
}

/// The tiles to publish when the tree grows from `old_size` to `new_size`:
/// every tile that became full, then the partial tile of `new_size` at each
/// level where it changed. Ordered by level, then index.
///
/// Unlike Go's `NewTiles`, partial tiles of intermediate widths are not
/// listed: the spec only requires the partial tiles of checkpointed sizes.
#[must_use]
pub fn new_tiles(old_size: u64, new_size: u64) -> Vec<Tile> {
    let mut tiles = Vec::new();
    if new_size <= old_size {
        return tiles;
    }
    let width = u64::from(TILE_WIDTH);
    for level in 0..=MAX_TILE_LEVEL {
        let new_n = hashes_at_tile_level(level, new_size);
        if new_n == 0 {
            break;
        }
        let old_n = hashes_at_tile_level(level, old_size);
        for n in old_n / width..new_n / width {
            tiles.push(Tile { level, n, width: TILE_WIDTH });
        }
        let partial = new_n % width;
        if partial > 0 && new_n != old_n {
            tiles.push(Tile {
                level,
                n: new_n / width,
                // Below 256, so it fits.
                width: u16::try_from(partial).unwrap_or(TILE_WIDTH),
            });
        }
    }
    tiles
}

/// The tile's data: its hashes concatenated, 32 bytes each, read with one
/// call to `reader`.
///
/// The reader must hold the tree up to at least `tile.end_index()` entries
/// (true when `tile` came from [`Tile::for_tree`] for a size it holds).
///
/// # Errors
/// Reader errors.
pub fn read_tile<R: HashReader>(tile: &Tile, reader: &R) -> Result<Vec<u8>, TreeError<R::Error>> {
    let indexes: Vec<u64> = (0..tile.width)
        .map(|i| {
            let (level, n) = tile.hash_coordinates(i);
            stored_hash_index(level, n)
        })
        .collect();
    let hashes = reader.read_hashes(&indexes).map_err(TreeError::Reader)?;
    if hashes.len() != indexes.len() {
        return Err(TreeError::WrongHashCount { wanted: indexes.len(), got: hashes.len() });
    }
    Ok(hashes.iter().flat_map(|h| h.0).collect())
}

/// Splits tile data into hashes.
///
/// # Errors
/// [`TileError::WrongLength`] unless the data is exactly `tile.width()`
/// hashes.
pub fn tile_hashes(tile: &Tile, data: &[u8]) -> Result<Vec<Hash>, TileError> {
    if data.len() != tile.data_len() {
        return Err(TileError::WrongLength { expected: tile.data_len(), got: data.len() });
    }
    Ok(data.chunks_exact(HASH_SIZE).filter_map(Hash::from_slice).collect())
}

/// The RFC 9162 Merkle Tree Hash over a tile's hashes taken as the leaves of
/// a subtree. For a full tile at level `L` this is the hash at index `N` of
/// the tile level `L + 1`, which is how a full tile is checked against its
/// parent.
///
/// # Errors
/// [`TileError::WrongLength`] as [`tile_hashes`].
pub fn tile_root(tile: &Tile, data: &[u8]) -> Result<Hash, TileError> {
    Ok(root_from_leaf_hashes(&tile_hashes(tile, data)?))
}

/// Encodes entries as an entry bundle: each entry as a big-endian `u16`
/// length followed by its bytes.
///
/// # Errors
/// [`TileError::EntryTooLong`] for an entry above 65,535 bytes.
pub fn encode_entry_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.as_ref().len() + 2).sum());
    for entry in entries {
        let entry = entry.as_ref();
        let len = u16::try_from(entry.len()).map_err(|_| TileError::EntryTooLong(entry.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// Decodes an entry bundle into its entries.
///
/// # Errors
/// [`TileError::MalformedBundle`] for a truncated length or entry.
pub fn decode_entry_bundle(data: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let mut entries = Vec::new();
    let mut rest = data;
    while let [hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        if tail.len() < len {
            return Err(TileError::MalformedBundle);
        }
        let (entry, tail) = tail.split_at(len);
        entries.push(entry);
        rest = tail;
    }
    if rest.is_empty() { Ok(entries) } else { Err(TileError::MalformedBundle) }
}

/// Decodes `bundle` and checks it against the level-0 tile `tile_data` of
/// the same index and width, which the caller has authenticated (for
/// example read through a [`TileHashReader`]): the bundle must hold exactly
/// `width` entries and entry `i` must hash (RFC 9162 leaf hash) to hash `i`.
///
/// # Errors
/// [`TileError`] if it does not decode or does not match.
pub fn verify_entry_bundle<'a>(
    bundle: &EntryBundle,
    data: &'a [u8],
    tile_data: &[u8],
) -> Result<Vec<&'a [u8]>, TileError> {
    let hashes = tile_hashes(&bundle.tile(), tile_data)?;
    let entries = decode_entry_bundle(data)?;
    if entries.len() != hashes.len() {
        return Err(TileError::MalformedBundle);
    }
    for (i, (entry, hash)) in (bundle.start_index()..).zip(entries.iter().zip(&hashes)) {
        if leaf_hash(entry) != *hash {
            return Err(TileError::EntryMismatch(i));
        }
    }
    Ok(entries)
}

/// Source of tile data for [`TileHashReader`], typically an HTTP client
/// with a cache.
pub trait TileReader {
    /// The source's error.
    type Error;

    /// Returns the data of each tile, in order; each must be exactly
    /// `tile.data_len()` bytes. A reader that falls back to a full tile
    /// where a partial one is gone (as the spec allows) truncates it.
    ///
    /// Data from a server is untrusted until [`TileReader::save_tiles`]
    /// confirms it: do not cache it persistently before that.
    ///
    /// # Errors
    /// Whatever the source fails with.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, Self::Error>;

    /// Called with tiles once they have been authenticated against the tree
    /// root, so a cache may keep them. Does nothing by default.
    fn save_tiles(&self, _tiles: &[Tile], _data: &[Vec<u8>]) {}
}

impl<R: TileReader + ?Sized> TileReader for &R {
    type Error = R::Error;

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, Self::Error> {
        (**self).read_tiles(tiles)
    }

    fn save_tiles(&self, tiles: &[Tile], data: &[Vec<u8>]) {
        (**self).save_tiles(tiles, data);
    }
}

/// Why [`TileHashReader`] failed.
#[derive(Debug, thiserror::Error)]
pub enum TileReadError<E> {
    /// The tile source failed.
    #[error("reading tiles failed")]
    Reader(#[source] E),
    /// The tile source returned the wrong number of tiles or a tile of the
    /// wrong length.
    #[error("tile source returned malformed data")]
    BadTileData,
    /// A hash outside the tree of the trusted size was asked for.
    #[error("stored hash {0} is not in the tree")]
    NotInTree(u64),
    /// The tiles do not hash to the trusted root: at least one is wrong.
    #[error("downloaded tiles are inconsistent with the tree root")]
    Inconsistent,
}

/// A [`HashReader`] over tiles of the tree of a given size and root,
/// typically from a verified checkpoint. Every hash it returns has been
/// authenticated against that root, so proofs built over it are sound.
///
/// Each call fetches, in one [`TileReader::read_tiles`] call, the tiles
/// holding the requested hashes, the tiles that together give the root
/// (recomputed and compared), and the full-tile ancestors that link each
/// requested tile to those.
#[derive(Debug, Clone)]
pub struct TileHashReader<R> {
    size: u64,
    root: Hash,
    tiles: R,
}

/// The smallest tile holding stored hash `index`, and the byte range of the
/// tile data whose tile root is that hash (Go's `tileForIndex` with height 8).
fn tile_for_stored_index(index: u64) -> (Tile, std::ops::Range<usize>) {
    let (level, n) = split_stored_hash_index(index);
    let tile_level = level / TILE_HEIGHT;
    let r = level % TILE_HEIGHT; // level within the tile
    let tile_n = (n << r) >> TILE_HEIGHT;
    let within = n - ((tile_n << TILE_HEIGHT) >> r); // index at level r within the tile
    let width = (within + 1) << r;
    let hash = |i: u64| usize::try_from(i).unwrap_or(usize::MAX).saturating_mul(HASH_SIZE);
    (
        Tile {
            // At most 63 / 8: fits.
            level: u8::try_from(tile_level).unwrap_or(u8::MAX),
            n: tile_n,
            // At most 256.
            width: u16::try_from(width).unwrap_or(TILE_WIDTH),
        },
        hash(within << r)..hash((within + 1) << r),
    )
}

/// The subtree hash over `data`, which holds 2^k hashes.
fn subtree_hash(data: &[u8]) -> Hash {
    if data.len() <= HASH_SIZE {
        return Hash::from_slice(data).unwrap_or_default();
    }
    let (l, r) = data.split_at(data.len() / 2);
    node_hash(&subtree_hash(l), &subtree_hash(r))
}

/// The hash at stored `index`, from `data` of tile `tile`, which must be the
/// tile of [`tile_for_stored_index`] or a wider version of it.
fn hash_from_tile(tile: &Tile, data: &[u8], index: u64) -> Option<Hash> {
    let (t, range) = tile_for_stored_index(index);
    if t.level != tile.level || t.n != tile.n || t.width > tile.width || data.len() < range.end {
        return None;
    }
    Some(subtree_hash(&data[range]))
}

/// The `k`th ancestor of `tile` among the tiles of a tree of `size`
/// entries, at the width published for that size (Go's `tileParent`).
fn tile_parent(tile: &Tile, k: u8, size: u64) -> Option<Tile> {
    let level = tile.level.checked_add(k)?;
    let n = u32::from(k).checked_mul(TILE_HEIGHT).and_then(|s| tile.n.checked_shr(s)).unwrap_or(0);
    Tile::for_tree(level, n, size)
}

impl<R> TileHashReader<R> {
    /// A reader for the tree of `size` entries with root `root`, which the
    /// caller must have verified (for example from a signed checkpoint).
    pub const fn new(size: u64, root: Hash, tiles: R) -> Self {
        Self { size, root, tiles }
    }

    /// The tile source.
    pub const fn tiles(&self) -> &R {
        &self.tiles
    }
}

impl<R: TileReader> HashReader for TileHashReader<R> {
    type Error = TileReadError<R::Error>;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        // Stored-hash indexes are about twice the tree size; past 2^62
        // leaves they would overflow, and no real log is that big.
        if self.size > 1 << 62 {
            return Err(TileReadError::NotInTree(indexes.first().copied().unwrap_or(0)));
        }
        let end = stored_hash_index(0, self.size);
        if let Some(&bad) = indexes.iter().find(|&&i| i >= end) {
            return Err(TileReadError::NotInTree(bad));
        }
        if indexes.is_empty() {
            return Ok(Vec::new());
        }
        let mut order: HashMap<Tile, usize> = HashMap::new();
        let mut tiles: Vec<Tile> = Vec::new();
        let add = |tile: Tile, order: &mut HashMap<Tile, usize>, tiles: &mut Vec<Tile>| -> usize {
            *order.entry(tile).or_insert_with(|| {
                tiles.push(tile);
                tiles.len() - 1
            })
        };

        // The tiles holding the complete subtrees that make up the root.
        // Authenticating them against the root authenticates each of them.
        let mut roots = Vec::new();
        sub_tree_index(0, self.size, &mut roots);
        let root_tiles: Vec<usize> = roots
            .iter()
            .map(|&x| {
                let (tile, _) = tile_for_stored_index(x);
                tile_parent(&tile, 0, self.size)
                    .map(|t| add(t, &mut order, &mut tiles))
                    .ok_or(TileReadError::NotInTree(x))
            })
            .collect::<Result<_, _>>()?;
        let authenticated_by_root = tiles.len();

        // The tile of each requested hash, with the chain of full ancestors
        // up to one already planned, parents before children so that each
        // is authenticated by the one before.
        let mut index_tiles = Vec::with_capacity(indexes.len());
        for &x in indexes {
            let (tile, _) = tile_for_stored_index(x);
            let mut k = 0u8;
            let found = loop {
                let parent = tile_parent(&tile, k, self.size).ok_or(TileReadError::NotInTree(x))?;
                if let Some(&j) = order.get(&parent) {
                    break j;
                }
                k = k.checked_add(1).ok_or(TileReadError::NotInTree(x))?;
            };
            let mut j = found;
            for down in (0..k).rev() {
                let p = tile_parent(&tile, down, self.size).ok_or(TileReadError::NotInTree(x))?;
                if !p.is_full() {
                    // Only full tiles have parents; the root tiles cover the rest.
                    return Err(TileReadError::NotInTree(x));
                }
                j = add(p, &mut order, &mut tiles);
            }
            index_tiles.push(j);
        }

        let data = self.tiles.read_tiles(&tiles).map_err(TileReadError::Reader)?;
        if data.len() != tiles.len() || tiles.iter().zip(&data).any(|(t, d)| d.len() != t.data_len()) {
            return Err(TileReadError::BadTileData);
        }

        // Recompute the root from the root tiles, rightmost subtree first.
        let mut root: Option<Hash> = None;
        for (&x, &j) in roots.iter().zip(&root_tiles).rev() {
            let h = hash_from_tile(&tiles[j], &data[j], x).ok_or(TileReadError::BadTileData)?;
            root = Some(match root {
                None => h,
                Some(right) => node_hash(&h, &right),
            });
        }
        if root != Some(self.root) {
            return Err(TileReadError::Inconsistent);
        }

        // Each further tile is full and hashes to its entry in its parent,
        // which was planned (and so authenticated) before it.
        for i in authenticated_by_root..tiles.len() {
            let tile = tiles[i];
            let parent = tile_parent(&tile, 1, self.size).ok_or(TileReadError::Inconsistent)?;
            let j = *order.get(&parent).ok_or(TileReadError::Inconsistent)?;
            let expected =
                hash_from_tile(&parent, &data[j], stored_hash_index(u32::from(parent.level) * TILE_HEIGHT, tile.n))
                    .ok_or(TileReadError::Inconsistent)?;
            if j >= i || subtree_hash(&data[i]) != expected {
                return Err(TileReadError::Inconsistent);
            }
        }
        self.tiles.save_tiles(&tiles, &data);

        indexes
            .iter()
            .zip(&index_tiles)
            .map(|(&x, &j)| hash_from_tile(&tiles[j], &data[j], x).ok_or(TileReadError::BadTileData))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths_follow_the_spec() {
        let t = Tile::new(0, 1_234_067, 256).unwrap();
        assert_eq!(t.path(), "tile/0/x001/x234/067");
        assert_eq!(Tile::new(2, 0, 256).unwrap().path(), "tile/2/000");
        assert_eq!(Tile::new(1, 999, 256).unwrap().path(), "tile/1/999");
        assert_eq!(Tile::new(1, 1000, 256).unwrap().path(), "tile/1/x001/000");
        assert_eq!(Tile::new(0, 5, 17).unwrap().path(), "tile/0/005.p/17");
        assert_eq!(EntryBundle::new(1_234_067, 1).unwrap().path(), "tile/entries/x001/x234/067.p/1");
    }

    #[test]
    fn tile_for_stored_index_matches_go() {
        // Leaf 1234: level-0 tile 4, the 211th hash.
        let (t, r) = tile_for_stored_index(stored_hash_index(0, 1234));
        assert_eq!((t.level, t.n, t.width), (0, 4, 211));
        assert_eq!(r, 210 * 32..211 * 32);
        // Level 3 node 5 covers leaves 40..48: the level-0 tile's hashes 40..48.
        let (t, r) = tile_for_stored_index(stored_hash_index(3, 5));
        assert_eq!((t.level, t.n, t.width), (0, 0, 48));
        assert_eq!(r, 40 * 32..48 * 32);
        // Level 8 node 0 is the first hash of level-1 tile 0.
        let (t, r) = tile_for_stored_index(stored_hash_index(8, 0));
        assert_eq!((t.level, t.n, t.width), (1, 0, 1));
        assert_eq!(r, 0..32);
    }
}

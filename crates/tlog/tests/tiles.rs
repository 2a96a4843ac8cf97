//! C2SP tlog-tiles: paths and examples from the spec, tile contents against
//! the RFC 9162 definition, and the client-side `TileHashReader` (after Go's
//! `TestTileHashReader`): every stored hash read through tiles equals the
//! stored one, proofs built over tiles verify, and a tampered tile is caught.

use std::cell::RefCell;

use homeward_tlog::tiles::{FULL_TILE_BYTES, tile_hashes, tile_root};
use homeward_tlog::{
    EntryBundle, HashReader, MemoryStore, Tile, TileError, TileHashReader, TilePath, TileReadError, TileReader,
    consistency_proof, decode_entry_bundle, encode_entry_bundle, inclusion_proof, leaf_hash, new_tiles,
    parse_tile_path, read_tile, root_from_leaf_hashes, stored_hash_index, tree_hash, verify_consistency,
    verify_entry_bundle, verify_inclusion,
};

fn entry(i: u64) -> Vec<u8> {
    format!("entry {i}").into_bytes()
}

fn log(size: u64) -> (MemoryStore, Vec<homeward_tlog::Hash>) {
    let leaves: Vec<_> = (0..size).map(|i| leaf_hash(&entry(i))).collect();
    let mut store = MemoryStore::new();
    store.append_batch(&leaves).unwrap();
    (store, leaves)
}

#[test]
fn spec_path_examples_parse_and_round_trip() {
    let cases = [
        ("tile/0/x001/x234/067", TilePath::Hashes(Tile::new(0, 1_234_067, 256).unwrap())),
        ("tile/1/000", TilePath::Hashes(Tile::new(1, 0, 256).unwrap())),
        ("tile/0/273.p/112", TilePath::Hashes(Tile::new(0, 273, 112).unwrap())),
        ("tile/2/000.p/1", TilePath::Hashes(Tile::new(2, 0, 1).unwrap())),
        ("tile/entries/x001/x234/067", TilePath::Entries(EntryBundle::new(1_234_067, 256).unwrap())),
        ("tile/entries/000.p/255", TilePath::Entries(EntryBundle::new(0, 255).unwrap())),
        ("tile/3/x999/999", TilePath::Hashes(Tile::new(3, 999_999, 256).unwrap())),
    ];
    for (path, want) in cases {
        assert_eq!(parse_tile_path(path), Ok(want), "{path}");
        let back = match want {
            TilePath::Hashes(t) => t.path(),
            TilePath::Entries(b) => b.path(),
        };
        assert_eq!(back, path);
    }
}

#[test]
fn paths_match_other_implementations() {
    // Vectors from tlog-tiles implementations in Go (Tessera's layout
    // package documents "tile/0/x001/x234/067.p/8" for level 0, index
    // 1234067, width 8; others list the rest).
    for (level, n, width, want) in [
        (0, 0, 256, "tile/0/000"),
        (0, 1, 256, "tile/0/001"),
        (0, 67, 256, "tile/0/067"),
        (1, 42, 17, "tile/1/042.p/17"),
        (0, 1_234_067, 8, "tile/0/x001/x234/067.p/8"),
        (0, 1_234_067, 15, "tile/0/x001/x234/067.p/15"),
        (0, 3_555_699, 45, "tile/0/x003/x555/699.p/45"),
        (3, 0, 256, "tile/3/000"),
    ] {
        let tile = Tile::new(level, n, width).unwrap();
        assert_eq!(tile.path(), want);
        assert_eq!(parse_tile_path(want), Ok(TilePath::Hashes(tile)));
    }
}

#[test]
fn non_canonical_or_invalid_paths_are_refused() {
    for path in [
        "",
        "tile",
        "tile/",
        "tile/0",
        "tile/0/",
        "tile/0/1",         // not 3 digits
        "tile/0/0001",      // 4 digits
        "tile/0/x000/001",  // redundant leading element
        "tile/0/001/002",   // missing x prefix
        "tile/0/x001/x002", // x on the last element
        "tile/00/001",      // leading zero in level
        "tile/-1/001",
        "tile/64/000",      // level above 63
        "tile/0/001.p/0",   // width 0
        "tile/0/001.p/256", // a full tile has no .p
        "tile/0/001.p/05",  // leading zero in width
        "tile/0/001.p",
        "tile/0/001.p/",
        "tile/0/001/",
        "tile/data/001", // Go sumdb spelling
        "tile/8/0/001",  // Go sumdb path with height
        "tiles/0/001",
        "/tile/0/001",
        "tile/0/x01/001",
        "tile/0/+01",
    ] {
        assert!(parse_tile_path(path).is_err(), "{path:?} accepted");
    }
    // Well-formed but past the end of any u64-sized tree.
    assert_eq!(parse_tile_path("tile/8/000"), Err(TileError::InvalidCoordinates));
    assert_eq!(parse_tile_path("tile/0/x072/x057/x594/x037/x927/936"), Err(TileError::InvalidCoordinates));
}

#[test]
fn spec_example_sizes_give_the_spec_tiles() {
    // "a tree of size 70,000 will be represented by 273 full level 0 tiles,
    // one partial level 0 tile of width 112, one full level 1 tile, one
    // partial level 1 tile of width 17, and one partial level 2 tile of width 1."
    let tiles = new_tiles(0, 70_000);
    let full0 = tiles.iter().filter(|t| t.level() == 0 && t.is_full()).count();
    assert_eq!(full0, 273);
    let rest: Vec<_> = tiles.iter().filter(|t| !(t.level() == 0 && t.is_full())).map(Tile::path).collect();
    assert_eq!(rest, ["tile/0/273.p/112", "tile/1/000", "tile/1/001.p/17", "tile/2/000.p/1"]);
    assert_eq!(Tile::for_tree(0, 273, 70_000).unwrap().width(), 112);
    assert_eq!(Tile::for_tree(1, 1, 70_000).unwrap().width(), 17);
    assert_eq!(Tile::for_tree(2, 0, 70_000).unwrap().width(), 1);
    assert_eq!(Tile::for_tree(3, 0, 70_000), None);
    assert_eq!(Tile::for_tree(0, 274, 70_000), None);

    // "a tree of size 256 will be represented by a full level 0 tile and a
    // partial level 1 tile of width 1."
    let paths: Vec<_> = new_tiles(0, 256).iter().map(Tile::path).collect();
    assert_eq!(paths, ["tile/0/000", "tile/1/000.p/1"]);
}

#[test]
fn new_tiles_lists_only_what_changed() {
    assert!(new_tiles(5, 5).is_empty());
    assert!(new_tiles(6, 5).is_empty());
    let paths = |a, b| new_tiles(a, b).iter().map(Tile::path).collect::<Vec<_>>();
    assert_eq!(paths(0, 1), ["tile/0/000.p/1"]);
    assert_eq!(paths(100, 101), ["tile/0/000.p/101"]);
    assert_eq!(paths(255, 256), ["tile/0/000", "tile/1/000.p/1"]);
    assert_eq!(paths(256, 300), ["tile/0/001.p/44"]);
    assert_eq!(paths(300, 513), ["tile/0/001", "tile/0/002.p/1", "tile/1/000.p/2"]);
    // Across a size boundary of level 1 but within the same level-1 width.
    assert_eq!(paths(512, 700), ["tile/0/002.p/188"]);
    // Every tile of the final tree appears: full ones once, partial ones as of
    // the new size.
    let all = new_tiles(0, 1000);
    let mut grown = new_tiles(0, 300);
    grown.extend(new_tiles(300, 1000));
    for t in &all {
        assert!(grown.contains(t), "{t}");
        assert_eq!(Tile::for_tree(t.level(), t.n(), 1000), Some(*t));
    }
}

#[test]
fn tile_contents_match_the_rfc_definition() {
    let size = 70_000;
    let (store, leaves) = log(size);
    // Level 0: leaf hashes.
    let t = Tile::for_tree(0, 3, size).unwrap();
    let data = read_tile(&t, &store).unwrap();
    assert_eq!(data.len(), FULL_TILE_BYTES);
    assert_eq!(tile_hashes(&t, &data).unwrap(), leaves[768..1024]);
    // Level 1: hash i is MTH(D[(n*256+i)*256 : (n*256+i+1)*256]).
    let t = Tile::for_tree(1, 1, size).unwrap();
    assert_eq!(t.width(), 17);
    let hashes = tile_hashes(&t, &read_tile(&t, &store).unwrap()).unwrap();
    for (i, h) in hashes.iter().enumerate() {
        let lo = (256 + i) * 256;
        assert_eq!(*h, root_from_leaf_hashes(&leaves[lo..lo + 256]), "hash {i}");
    }
    // Level 2 partial tile: the single level-16 hash.
    let t = Tile::for_tree(2, 0, size).unwrap();
    let hashes = tile_hashes(&t, &read_tile(&t, &store).unwrap()).unwrap();
    assert_eq!(hashes, [root_from_leaf_hashes(&leaves[..65_536])]);
    // A full tile's root is its entry in the parent tile.
    let child = Tile::for_tree(0, 5, size).unwrap();
    let parent = Tile::for_tree(1, 0, size).unwrap();
    let parent_hashes = tile_hashes(&parent, &read_tile(&parent, &store).unwrap()).unwrap();
    assert_eq!(tile_root(&child, &read_tile(&child, &store).unwrap()).unwrap(), parent_hashes[5]);
    assert_eq!((child.start_index(), child.end_index()), (1280, 1536));
    assert_eq!((parent.start_index(), parent.end_index()), (0, 65_536));
}

#[test]
fn tiles_of_an_old_size_stay_readable_from_a_bigger_store() {
    let (store, _) = log(1000);
    let (small, _) = log(300);
    for t in new_tiles(0, 300) {
        assert_eq!(read_tile(&t, &store).unwrap(), read_tile(&t, &small).unwrap(), "{t}");
    }
}

#[test]
fn entry_bundles_round_trip_and_verify_against_level_0() {
    let size = 600;
    let (store, _) = log(size);
    let bundle = EntryBundle::for_tree(2, size).unwrap();
    assert_eq!(bundle.path(), "tile/entries/002.p/88");
    let entries: Vec<Vec<u8>> = (512..600).map(entry).collect();
    let data = encode_entry_bundle(&entries).unwrap();
    assert_eq!(&data[..2], &[0, 9]);
    assert_eq!(&data[2..11], b"entry 512");
    assert_eq!(decode_entry_bundle(&data).unwrap(), entries);
    let tile = read_tile(&bundle.tile(), &store).unwrap();
    assert_eq!(verify_entry_bundle(&bundle, &data, &tile).unwrap().len(), 88);

    // One entry changed, one missing, one extra, truncated data.
    let mut wrong = entries.clone();
    wrong[3] = b"forged".to_vec();
    let forged = encode_entry_bundle(&wrong).unwrap();
    assert_eq!(verify_entry_bundle(&bundle, &forged, &tile), Err(TileError::EntryMismatch(515)));
    let short = encode_entry_bundle(&entries[1..]).unwrap();
    assert_eq!(verify_entry_bundle(&bundle, &short, &tile), Err(TileError::MalformedBundle));
    assert_eq!(decode_entry_bundle(&data[..data.len() - 1]), Err(TileError::MalformedBundle));
    assert_eq!(decode_entry_bundle(&[0]), Err(TileError::MalformedBundle));
    assert_eq!(decode_entry_bundle(&[]).unwrap(), Vec::<&[u8]>::new());
    // Empty entries are allowed; oversized ones are not.
    assert_eq!(decode_entry_bundle(&encode_entry_bundle(&[b""]).unwrap()).unwrap(), [b""]);
    assert_eq!(encode_entry_bundle(&[vec![0u8; 65_536]]), Err(TileError::EntryTooLong(65_536)));
}

/// Serves tiles from a store, optionally zeroing one stored hash in every
/// tile that holds it (as Go's `zeroIndex`), and records what was fetched.
struct Served<'a> {
    store: &'a MemoryStore,
    tamper: Option<u64>,
    fetched: RefCell<usize>,
    saved: RefCell<usize>,
}

impl<'a> Served<'a> {
    fn new(store: &'a MemoryStore, tamper: Option<u64>) -> Self {
        Self { store, tamper, fetched: RefCell::new(0), saved: RefCell::new(0) }
    }
}

impl TileReader for Served<'_> {
    type Error = String;

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, String> {
        *self.fetched.borrow_mut() += 1;
        tiles
            .iter()
            .map(|t| {
                let mut data = read_tile(t, self.store).map_err(|e| e.to_string())?;
                if let Some(x) = self.tamper {
                    for i in 0..t.width() {
                        let level = u32::from(t.level()) * 8;
                        let n = t.n() * 256 + u64::from(i);
                        if stored_hash_index(level, n) == x {
                            data[usize::from(i) * 32] ^= 1;
                        }
                    }
                }
                Ok(data)
            })
            .collect()
    }

    fn save_tiles(&self, _: &[Tile], _: &[Vec<u8>]) {
        *self.saved.borrow_mut() += 1;
    }
}

#[test]
fn tile_hash_reader_serves_every_stored_hash_and_catches_tampering() {
    let (store, _) = log(1100);
    for size in [1u64, 2, 3, 7, 255, 256, 257, 511, 512, 513, 700, 1024, 1100] {
        let root = tree_hash(size, &store).unwrap();
        let served = Served::new(&store, None);
        let reader = TileHashReader::new(size, root, &served);
        let all: Vec<u64> = (0..stored_hash_index(0, size)).collect();
        let got = reader.read_hashes(&all).unwrap();
        assert_eq!(got, store.read_hashes(&all).unwrap(), "size {size}");
        assert_eq!(*served.fetched.borrow(), 1, "one batch per call");
        assert_eq!(*served.saved.borrow(), 1);

        // Out of the tree.
        assert!(matches!(reader.read_hashes(&[stored_hash_index(0, size)]), Err(TileReadError::NotInTree(_))));
        // A wrong root rejects everything.
        let wrong = TileHashReader::new(size, leaf_hash(b"not the root"), Served::new(&store, None));
        assert!(matches!(wrong.read_hashes(&[0]), Err(TileReadError::Inconsistent)));
    }

    // Tamper with each hash that a tile of a 700-leaf tree serves, and read
    // every hash: reading must fail, never return a wrong hash.
    let size = 700;
    let root = tree_hash(size, &store).unwrap();
    let all: Vec<u64> = (0..stored_hash_index(0, size)).collect();
    let served_hashes: Vec<u64> = new_tiles(0, size)
        .iter()
        .flat_map(|t| {
            (0..t.width()).map(move |i| stored_hash_index(u32::from(t.level()) * 8, t.n() * 256 + u64::from(i)))
        })
        .collect();
    for x in served_hashes {
        let reader = TileHashReader::new(size, root, Served::new(&store, Some(x)));
        assert!(reader.read_hashes(&all).is_err(), "tampered hash {x} went unnoticed");
        // Reading just the tampered hash fails too.
        assert!(reader.read_hashes(&[x]).is_err(), "tampered hash {x} read alone");
    }
}

#[test]
fn proofs_over_tiles_match_proofs_over_storage() {
    let (store, leaves) = log(70_000);
    let size = 69_999;
    let root = tree_hash(size, &store).unwrap();
    let reader = TileHashReader::new(size, root, Served::new(&store, None));
    assert_eq!(tree_hash(size, &reader).unwrap(), root);
    for index in [0u64, 1, 255, 256, 65_535, 65_536, 69_998] {
        let proof = inclusion_proof(index, size, &reader).unwrap();
        assert_eq!(proof, inclusion_proof(index, size, &store).unwrap());
        verify_inclusion(&leaves[index as usize], index, size, &proof, &root).unwrap();
    }
    for old in [1u64, 256, 1000, 65_536, 69_000] {
        let old_root = tree_hash(old, &store).unwrap();
        let proof = consistency_proof(old, size, &reader).unwrap();
        assert_eq!(proof, consistency_proof(old, size, &store).unwrap());
        verify_consistency(old, size, &old_root, &root, &proof).unwrap();
    }
}

#[test]
fn malformed_tile_data_is_refused() {
    struct Short;
    impl TileReader for Short {
        type Error = ();
        fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, ()> {
            Ok(tiles.iter().map(|_| vec![0; 32]).collect())
        }
    }
    let (store, _) = log(10);
    let reader = TileHashReader::new(10, tree_hash(10, &store).unwrap(), Short);
    assert!(matches!(reader.read_hashes(&[0]), Err(TileReadError::BadTileData)));
    let t = Tile::new(0, 0, 10).unwrap();
    assert_eq!(tile_hashes(&t, &[0; 31]), Err(TileError::WrongLength { expected: 320, got: 31 }));
    // An empty tree has no hashes.
    let empty = TileHashReader::new(0, homeward_tlog::empty_root(), Short);
    assert!(matches!(empty.read_hashes(&[0]), Err(TileReadError::NotInTree(0))));
    assert_eq!(empty.read_hashes(&[]).unwrap(), []);
}

//! homeward-store-sqlite

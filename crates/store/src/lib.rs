//! homeward-store

//! homeward-store-postgres

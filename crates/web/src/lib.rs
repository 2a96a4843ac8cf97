//! homeward-web

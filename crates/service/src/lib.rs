//! homeward-service

//! End-to-end tests through the ordo binary

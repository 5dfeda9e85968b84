//! Channels: where documents enter and leave ordo through folders. Each channel reads its
//! profiles from `config/`, takes inbound files in one store transaction each (raw bytes kept),
//! and moves a file only after that transaction committed. Outbound files go through the
//! outbox (`runtime::services::FILE_CHANNEL`), written after commit, atomically.

pub mod bank;
pub mod edi;
pub mod orders;

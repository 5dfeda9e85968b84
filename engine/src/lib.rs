//! ordo engine

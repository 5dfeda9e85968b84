//! X12 and EDIFACT codec, validation, acknowledgments and mappings (pure, no I/O)

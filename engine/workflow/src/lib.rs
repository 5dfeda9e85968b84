//! Workflow YAML model with source spans, loader and validator (pure, no I/O)

//! Rhai rule host: compile once, sandbox limits, typed inputs, rule test cases (pure, no I/O)

//! Bank statement parsers (camt.053/054, BAI2, MT940, CSV) and the reconciliation matcher (pure, no I/O)

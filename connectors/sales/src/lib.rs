//! Order-to-cash business connectors over the contract's transaction port

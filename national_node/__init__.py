"""The national tier: the coding authority, the node directory and (later) the national ledger."""

"""The evidence locker: content-addressed blobs, statements in an append-only Merkle log (RFC 9162
hashing), Ed25519-signed checkpoints, verification, retention, and the backends that hold it all.
"""

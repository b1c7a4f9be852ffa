"""Reliability tests: bad input, interrupted work, untrusted files, numerical faults."""

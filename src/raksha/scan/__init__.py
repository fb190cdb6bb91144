"""Scanning evidence: sources feed batches to hashing workers; one writer stores results."""

"""Erasure (right to be forgotten) and deletions at the source: who was erased, and removing them from every copy."""

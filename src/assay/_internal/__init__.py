"""Internals: not a public API."""

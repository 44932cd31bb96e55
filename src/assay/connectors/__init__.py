"""Connectors: one module per source, each implementing ``base.Connector``."""

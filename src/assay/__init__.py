"""Assay: self-hosted SOC 2 continuous compliance.

The public surface is small: the ``assay`` command, and the service functions each module
exposes (``assay.programme.load``, ``assay.catalog.load_catalog``, ``assay.monitor.run``).
"""

__version__ = "0.1.0"

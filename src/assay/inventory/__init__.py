"""The identity graph: normalised records from every source, and correlation to people."""

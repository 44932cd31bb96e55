"""Control tests as code: each check reads stored snapshots and returns a verdict with findings."""

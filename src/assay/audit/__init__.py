"""What the auditor and the programme owner read: the readiness report (exports come later)."""

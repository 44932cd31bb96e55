"""The main job: collect, record, correlate, check, report — and, later, schedules and drift."""

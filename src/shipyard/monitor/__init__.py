"""Monitoring between changes: health, dependency freshness, alerts (`invoke monitor`).

`run.run_monitor` runs every part and writes one report; docs/monitor.md
describes the parts, the configuration and the exit codes.
"""

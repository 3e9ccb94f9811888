"""Adopting a project where it stands: what `shipyard init` detects, and what it writes."""

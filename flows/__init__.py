"""Prefect flows. They only arrange library calls from `audits`; all logic lives there."""

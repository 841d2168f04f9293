"""The nightly audit as a library: its steps (steps.py), run history (history.py), the nightly lock
(lock.py), per-night sampling plans (plans.py), sequential breach tests across nights (breach.py) and
the demo's simulated reviewer (simulate.py). flows/nightly_audit.py arranges the steps as a Prefect flow.
"""

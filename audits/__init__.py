"""qa-audit: QA sampling and edge-case audit pipeline for customer support.

The library lives here; the CLI (`audits.cli`) and the Prefect flows (`flows/`) are thin skins
over it. Nothing in this package imports Prefect, and Great Expectations is imported lazily.
"""

import os as _os

# No network here and no telemetry wanted anywhere: set before any optional import happens.
for _name, _value in (
    ("GX_ANALYTICS_ENABLED", "false"),
    ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
    ("DO_NOT_TRACK", "1"),
):
    _os.environ.setdefault(_name, _value)

__version__ = "0.1.0"

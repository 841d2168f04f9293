"""The review web page (issue 8): queues, conversations, scorecard form, disputes, calibration.

create_app(warehouse)   the FastAPI app (audits.web.app); `qa-audit review serve` runs it with uvicorn
auth                    users (hashed tokens), signed session cookies, CSRF tokens
pages                   what each page reads, with the role and supplier rules applied
spool                   reviews submitted while the warehouse is busy, kept and written once later

docs/review.md describes the page.
"""

from audits.web.app import create_app

__all__ = ["create_app"]

"""Measuring instruments: exact discrete PID, continuous MI estimators and per-term representation capture.

Every number is in bits, and every estimator says whether it is a point estimate, a lower bound or an
upper bound. Depends only on ``interactions.types`` from the rest of the project.
"""

from __future__ import annotations

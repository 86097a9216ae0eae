"""Figures and tables from tidy result tables (no torch import)."""

from __future__ import annotations

"""Sweep definitions shipped as package data (TOML; read with ``interactions.sweep.load_sweep``)."""

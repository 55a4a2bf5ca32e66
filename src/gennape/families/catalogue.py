"""Imports every family module so that each registers itself."""

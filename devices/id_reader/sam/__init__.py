"""Resident ID cards through a SAM module on a serial line (the adapter comes with its issue)."""

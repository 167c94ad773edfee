"""Benchmarks: figures printed with a baseline measured in the same run (`python -m bench`)."""

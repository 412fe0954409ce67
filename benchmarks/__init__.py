"""Benchmarks of SMATI stream: figures measured in one run, printed by `smati bench`."""

"""Pure domain types and rules of SMATI stream: no I/O, importable anywhere."""

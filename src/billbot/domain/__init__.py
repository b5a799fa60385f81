"""The money rules: plain Python on plain data, no I/O."""

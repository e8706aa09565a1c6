"""The kit's protocol core: decisions and values, no I/O, no framework imports."""

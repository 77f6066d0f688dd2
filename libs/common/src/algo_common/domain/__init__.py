"""Pure domain: models, order book, ids. Imports no I/O library and takes time as an argument."""

"""The serving process around the WSGI app: logging, request records, metrics, background reload."""

"""Sheet importers: bytes in, typed rows and diagnostics out; no web framework, no database."""

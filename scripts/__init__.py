"""Developer tools, importable as `scripts.<module>` (the load generator lives in `scripts.felt_load`)."""

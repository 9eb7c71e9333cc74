"""sockjs-tornado 1.0.7: stubs for the part Felt uses (the package ships no types)."""

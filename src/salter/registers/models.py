"""The demo registers\x27 own tables."""

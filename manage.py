#!/usr/bin/env python
"""Kept for muscle memory; ``salter`` is the same command."""

from salter.__main__ import main

if __name__ == "__main__":
    main()

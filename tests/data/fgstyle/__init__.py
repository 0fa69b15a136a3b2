"""A tiny package written in FlagGems' style (tests only: read with `ast`, never imported or run)."""

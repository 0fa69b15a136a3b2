"""Stand-ins for flag_gems.utils: pointwise_dynamic and tl_extra_shim (never run)."""

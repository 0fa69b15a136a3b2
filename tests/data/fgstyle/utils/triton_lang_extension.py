"""int64 program ids, in the style of flag_gems/utils/triton_lang_extension.py (`tle`)."""

import triton
import triton.language as tl


@triton.jit
def program_id(axis):
    return tl.program_id(axis).to(tl.int64)

"""Valid test data: USCCs in a given region, code requests."""

from __future__ import annotations

import itertools

from stdnum.cn import uscc as stdnum_uscc

from common.codes import ALPHABET

_counter = itertools.count(1)


def make_uscc(division: str = "320100", *, department: str = "9", category: str = "1") -> str:
    """A valid USCC (correct GB 32100 check character) for a unit in ``division``."""
    n = next(_counter)
    organization = ""
    for _ in range(8):
        n, rest = divmod(n, 31)
        organization = ALPHABET[rest] + organization
    body = f"{department}{category}{division}{organization}X"
    return body + stdnum_uscc.calc_check_digit(body)

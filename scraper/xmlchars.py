"""Characters XML 1.0 cannot carry: one of them in a title would make a whole feed unreadable."""

from __future__ import annotations

import re

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def strip_xml_forbidden(text: str | None) -> str:
    """``text`` without the code points XML 1.0 forbids (``None`` becomes ``""``)."""
    return _FORBIDDEN.sub("", text or "")

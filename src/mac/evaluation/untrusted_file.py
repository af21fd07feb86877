"""Reading one file that a sandbox wrote: no symlink followed, no FIFO waited on, no hard link to elsewhere, and
never more than a cap. Used for the artifact's result file and its prediction journal."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def read_capped(path: Path, max_bytes: int, what: str = "result file", *,
                whole: bool = True) -> tuple[bytes | None, str | None]:
    """(content, None), or (None, why it is not read). Never raises on anything a sandbox could have made.
    A file over `max_bytes` is not read at all, or (whole=False) only its first `max_bytes`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None, f"no {what}"
    except OSError as exc:
        return None, f"{what} cannot be opened ({exc.strerror}); it must be a plain file"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            return None, f"{what} is not a plain file"
        if whole and st.st_size > max_bytes:
            return None, f"{what} is {st.st_size} bytes, over the {max_bytes} byte cap"
        return os.read(fd, max_bytes + 1)[:max_bytes], None
    finally:
        os.close(fd)

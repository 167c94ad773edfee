"""Files a technician's command made as root in a data directory that belongs to the kiosk's
own user (systemd's StateDirectory, owned by `kiosk`) are given to that user, or `kiosk run`
could not open its own lock, keys or databases. Nothing happens unless we run as root and
the directory belongs to someone else."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)


def hand_to_owner(data_dir: Path, also: Iterable[Path] = ()) -> int:
    """Everything under `data_dir` (and the files `also` names) made the directory owner's;
    how many were changed."""
    if os.geteuid() != 0:
        return 0
    try:
        owner = data_dir.stat()
    except OSError:
        return 0
    if owner.st_uid == 0:
        return 0
    changed = 0
    paths = [Path(root) / name for root, dirs, files in os.walk(data_dir)
             for name in [*dirs, *files]]
    for path in [*paths, *also]:
        try:
            st = path.lstat()
            if (st.st_uid, st.st_gid) != (owner.st_uid, owner.st_gid):
                os.chown(path, owner.st_uid, owner.st_gid, follow_symlinks=False)
                changed += 1
        except OSError as e:  # gone meanwhile, or not ours to change: said, not fatal
            log.warning("could not give %s to the data directory's owner: %s", path, e)
    return changed

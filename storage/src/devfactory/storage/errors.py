"""Errors the storage layer raises, each with a message that says what to do."""

from __future__ import annotations

import errno


class DatabaseError(RuntimeError):
    """The database cannot be opened as it is; the message says what to do."""


class SchemaTooNewError(DatabaseError):
    """The database was written by a newer DevFactory; it is left untouched."""


class StorageFull(DatabaseError):
    """A write failed because the disk (or the database's size limit) is full.

    Nothing of the write was kept, and the database works again once there is room.
    """

    def __init__(self, path: str | None) -> None:
        where = "the disk" if path is None else f"the disk holding {path}"
        super().__init__(f"{where} is full; free space and retry")
        self.path = path


def full_disk(exc: BaseException, path: str | None = None) -> StorageFull | None:
    """``exc`` as a :class:`StorageFull` naming ``path``, if it means the disk is full.

    Adapters turn their engine's own "full" errors into :class:`StorageFull` where they write.
    """
    if isinstance(exc, StorageFull):
        return exc
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(exc.filename or path)
    return None


class LeaseLost(DatabaseError):
    """A worker wrote for a run whose lease another worker has taken since (a higher epoch):
    nothing was written, and this worker must stop driving the run."""

    def __init__(self, run_id: int, epoch: int) -> None:
        super().__init__(
            f"run {run_id} was taken over by another worker (this worker's lease epoch {epoch}"
            " is stale); nothing was written and this worker stops driving it"
        )
        self.run_id = run_id
        self.epoch = epoch


class AlreadyExists(DatabaseError):
    """A record with that name already exists; the message names it."""

"""SnapStart: what the snapshot keeps, and what is renewed after a restore.

With SnapStart (template.yaml ``SnapStart=true``) Lambda runs the init phase
once, when a version is published, snapshots the execution environment, and
starts new environments from that snapshot. Anything made during init is
then shared by every restored environment, possibly days later:

* before the snapshot, the embedded model is loaded, so that restored
  environments answer without downloading or loading it (a model that cannot
  be loaded then is tried again on the first request, as without SnapStart);
* after a restore, the boto3 clients drop the connections they pooled (their
  sockets belong to the snapshotted machine), and the embedded backend's
  timer before it retries a failed load starts again (``time.monotonic`` of
  the snapshot means nothing in the restored environment). Credentials need
  nothing: on SnapStart Lambda gives boto3 a credentials endpoint it re-reads.

The hooks come from ``snapshot_restore_py``, which Lambda's Python runtime
provides (3.12 and later); where it is absent (tests, the local server) there
is no snapshot and nothing is registered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Restorable(Protocol):
    def before_snapshot(self) -> None:
        """Do now what every restored environment would otherwise redo."""
        ...

    def after_restore(self) -> None:
        """Renew what the snapshot may have made stale."""
        ...


#: snapshot_restore_py's register_before_snapshot / register_after_restore.
Register = Callable[[Callable[[], None]], object]


def register_hooks(
    target: object, before_snapshot: Register | None = None, after_restore: Register | None = None
) -> bool:
    """Register ``target``'s hooks with the runtime; whether they were registered.

    The two registration functions default to ``snapshot_restore_py``'s (tests inject them).
    """
    if not isinstance(target, Restorable):
        return False
    if before_snapshot is None or after_restore is None:
        try:
            import snapshot_restore_py  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError:
            return False
        before_snapshot = snapshot_restore_py.register_before_snapshot
        after_restore = snapshot_restore_py.register_after_restore
    before_snapshot(target.before_snapshot)
    after_restore(target.after_restore)
    return True


def close_connections(client: Any) -> None:
    """Close a boto3 client's pooled HTTP connections; its next call opens new ones.

    botocore has no public call for it: its endpoint's URLLib3Session.close()
    clears the connection pools, and the client stays usable.
    """
    client._endpoint.http_session.close()

"""Background processes goldloop starts (the sandbox, the report server): are they alive?"""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs. An exited child of ours is reaped first (a zombie still
    answers ``kill 0``); a process of another user counts as alive.

    >>> pid_alive(os.getpid())
    True
    """
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # our own child, already exited
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

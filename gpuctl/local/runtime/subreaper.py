"""A worker's (or pod's) container, as far as processes go: the small parent every worker runs
under on Linux, so that a stopped worker takes everything it started with it (review 6, R6-7).

    python -I -S subreaper.py <status fd> <argv...>

It is a child subreaper (PR_SET_CHILD_SUBREAPER, set by the server before this runs and kept
across exec), so a process the worker starts stays its descendant whatever it does: a new
session, a cleared environment, a parent that exits. It starts `argv` as the leader of a new session (which the server signals as before:
SIGTERM to drain, SIGKILL after the grace), reaps every orphan meanwhile as a container's init
would, and once the worker has ended it kills whatever is left of the tree and exits as the
worker did (same code, or the same signal). When the server dies (PR_SET_PDEATHSIG, set to
SIGUSR1 by the server before this runs) it kills the whole tree at once.

If this process itself is killed outright, the worker is not told by the kernel; the server
sees this process end and kills the worker's session.

On the status fd it writes `ok <pid>` once `argv` has been executed, or `err <errno>` when
it could not be, then closes it. It runs without site-packages (`-I -S`) and imports nothing
but `os`, `sys` and `_signal` (`signal` would import `enum`, ctypes costs as much again: tens
of milliseconds on a loaded machine, on every worker start).
"""

import _signal as signal  # the C module `signal` wraps: the same functions and numbers
import os
import sys

_server_gone = False


def _children_of() -> dict:
    """Every process's children, from /proc/<pid>/stat (the parent is field 4)."""
    children: dict = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(name))
    return children


def kill_tree(root: int) -> None:
    """SIGKILL every descendant of `root`: stop them first, rescanning until no new one has
    appeared, so that nothing forks away between the scan and the kill."""
    stopped: set = set()
    while True:
        children = _children_of()
        tree, todo = [], [root]
        while todo:
            for child in children.get(todo.pop(), ()):
                tree.append(child)
                todo.append(child)
        new = [pid for pid in tree if pid not in stopped]
        if not new:
            break
        for pid in new:
            try:
                os.kill(pid, signal.SIGSTOP)
            except OSError:
                pass
            stopped.add(pid)
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _spawn(argv: list) -> tuple:
    """Fork and exec `argv` in a new session; (pid, errno or 0)."""
    errors_r, errors_w = os.pipe()  # both close-on-exec: EOF on exec, the errno on failure
    pid = os.fork()
    if pid == 0:
        try:
            os.close(errors_r)
            for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGUSR1):
                signal.signal(sig, signal.SIG_DFL)  # as a fresh process has them (Python set some of these)
            os.setsid()
            os.execvp(argv[0], argv)
        except OSError as exc:
            os.write(errors_w, str(exc.errno or 0).encode())
        finally:
            os._exit(127)
    os.close(errors_w)
    with os.fdopen(errors_r, "rb") as errors:
        failed = errors.read()
    return pid, int(failed or 0)


def _exit_as(status: int) -> None:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            import resource
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # the worker's crash, not ours: no core of this process
        except (ImportError, OSError, ValueError):
            pass
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass  # SIGKILL and SIGSTOP cannot be caught anyway
        os.kill(os.getpid(), sig)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def main() -> None:
    status_fd, argv = int(sys.argv[1]), sys.argv[2:]
    me = os.getpid()
    os.set_inheritable(status_fd, False)  # the worker never holds it

    def server_died(*_: object) -> None:
        global _server_gone
        _server_gone = True
        kill_tree(me)

    signal.signal(signal.SIGUSR1, server_died)
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)  # the server stops the worker itself; we go when it has gone
    if os.getppid() == 1:  # the server died before we asked to hear of it
        os._exit(1)
    worker, failed = _spawn(argv)
    if _server_gone:  # it died while the worker was being started
        kill_tree(me)
    os.write(status_fd, f"err {failed}".encode() if failed else f"ok {worker}".encode())
    os.close(status_fd)
    status = None
    while True:
        try:
            pid, code = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == worker:
            status = code
            kill_tree(me)
    _exit_as(status if status is not None else 127 << 8)


if __name__ == "__main__":
    main()

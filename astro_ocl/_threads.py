"""Threads that never take SIGINT or SIGTERM (standard library only).

A signal sent to a process (Ctrl-C, ``kill``) is handed by the kernel to *any* of
its threads that does not block it. Python runs its handlers in the main thread
whichever thread took the signal, so normally that does not matter. It does in one
instant: galpy's C orbit integrators reset SIGINT to the default action
(``SIG_DFL``) when they end. `astro_ocl.utils.restore_signal_handlers` blocks
SIGINT and SIGTERM in the main thread around galpy's C code until Python's handlers
are back; but a SIGINT that arrives then is handed to another thread if one does
not block it, and the default action kills the whole process without a message.

The other threads of a build are native thread pools: OpenBLAS (one pool in
numpy, one in scipy, created when the library is loaded) and galpy's OpenMP
pool (created by its first parallel loop, which runs inside
`~astro_ocl.utils.restore_signal_handlers`). A new thread inherits the signal
mask of the thread that creates it, so this module loads numpy and scipy's
BLAS with SIGINT and SIGTERM blocked (`start_thread_pools`, run when
``astro_ocl`` is imported), and the pools never take these signals. A process
that imported numpy or scipy before ``astro_ocl`` already has their pools;
`threads_taking_signals` lists such threads.

This module imports nothing but the standard library: it must run before numpy is
imported.
"""
import contextlib
import os
import signal
import sys
import threading

__all__ = ["signals_blocked", "start_thread_pools", "threads_taking_signals",
           "HELD_SIGNALS"]

#: The signals that interrupt a run (`astro_ocl.utils.sigterm_as_interrupt`).
HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: Modules whose import starts a native thread pool (OpenBLAS): numpy's and scipy's.
THREAD_POOL_MODULES = ("numpy", "scipy.linalg")


@contextlib.contextmanager
def signals_blocked():
    """SIGINT and SIGTERM held back in the main thread inside the block.

    A signal that arrives meanwhile is delivered when the block ends; every thread
    started inside the block (by Python or by a C library) blocks them for good.
    A no-op outside the main thread and where ``pthread_sigmask`` is missing.
    """
    if (threading.current_thread() is not threading.main_thread()
            or not hasattr(signal, "pthread_sigmask")):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def start_thread_pools():
    """Import numpy and scipy.linalg with SIGINT and SIGTERM blocked.

    Their OpenBLAS thread pools start with these signals blocked, so that a Ctrl-C
    or ``kill`` is always handed to the main thread. Modules already imported are
    left alone (their pools exist; see `threads_taking_signals`).

    Returns
    -------
    list of str
        The modules that were already imported (their pools may take signals).
    """
    before = [m for m in THREAD_POOL_MODULES if m in sys.modules]
    with signals_blocked():
        for name in THREAD_POOL_MODULES:
            if name not in sys.modules:
                __import__(name)
    return before


def _blocked_mask(status):
    for line in status.splitlines():
        if line.startswith("SigBlk:"):
            return int(line.split(":", 1)[1].strip(), 16)
    return None


def threads_taking_signals(signals=HELD_SIGNALS):
    """Threads other than the main one that a SIGINT or SIGTERM may be handed to.

    Linux only (reads ``/proc/self/task``); elsewhere an empty list.

    Parameters
    ----------
    signals : iterable of int
        The signals that every other thread should block.

    Returns
    -------
    list of (int, str)
        Thread id and thread name of each such thread.
    """
    tasks = "/proc/self/task"
    if not os.path.isdir(tasks):
        return []
    wanted = 0
    for s in signals:
        wanted |= 1 << (int(s) - 1)
    out = []
    for tid in sorted(os.listdir(tasks), key=int):
        if int(tid) == os.getpid():  # the main thread: takes them on purpose
            continue
        try:
            with open(f"{tasks}/{tid}/status") as f:
                status = f.read()
        except OSError:  # the thread ended meanwhile
            continue
        mask = _blocked_mask(status)
        if mask is not None and mask & wanted != wanted:
            name = next((ln.split(":", 1)[1].strip() for ln in status.splitlines()
                         if ln.startswith("Name:")), "?")
            out.append((int(tid), name))
    return out

"""Certificate PDFs rendered in a child process that is replaced every few hundred renders.

WeasyPrint keeps native memory (in Pango, HarfBuzz and fontconfig, which it drives through cffi)
after every document it lays out: about 0.2 MiB per certificate, which no call from Python gives
back (docs/performance.md, «Certificates: a batch through the queue»). A worker issuing a
10,000-learner batch in one job would grow by 2 GiB. So the background jobs, which render one
certificate after another for as long as a batch lasts (academy/certificates/batches.py), render
in one child process that is replaced once it has rendered ``CERTIFICATE_RENDERS_PER_PROCESS``
certificates: what WeasyPrint kept goes with it, and the worker's memory stays flat.

The child is started with ``spawn``, a fresh interpreter: a fork of the worker would copy its
database connections, its Huey threads and whatever locks they held at that moment. It receives
plain data (the template's folder, the dict context, the metadata) and sends back the PDF's
bytes; it runs the very code that renders in-process (``rendering.render_folder``), so the
Jinja sandbox and the folder-only URL fetcher apply there too, and a template error comes back
as the same ``CertificateTemplateError`` with the same message. It starts with the first render,
not before, and stops when the process exits. As with any ``spawn``, the child imports the
program's main module again: a script that issues batches itself must keep its work under
``if __name__ == "__main__":`` (the ``academy`` and ``flask`` commands and pytest do).

Signing stays in the caller: pyHanko's memory is flat, and the key stays in one process.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

Result = TypeVar("Result")


class RenderProcessError(RuntimeError):
    """The child process died in the middle of a render twice in a row (killed, out of
    memory): nothing was rendered."""


def _child_started() -> None:
    # A Ctrl-C in a terminal, or systemd's KillSignal=SIGINT, reaches the whole process group:
    # SIGINT is the worker's graceful stop (it finishes the certificate in hand), so the child
    # must not die under that certificate; it ends when the worker does. A spawn from a worker
    # thread inherits that thread's blocked SIGTERM (academy/jobs.py): a SIGTERM stops it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    # A worker that exits stops its child; one killed outright (SIGKILL, out of memory) cannot,
    # and the child, which holds both ends of its queue's pipe, would wait for work forever.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: Any) -> None:
    parent.join()  # returns when the parent process has ended
    os._exit(1)


def _warm_up() -> None:
    """Load WeasyPrint and its fonts, the child's slow first second, before any certificate."""
    from weasyprint import HTML  # here: only a rendering process loads WeasyPrint

    HTML(string="<p>Academia</p>").render()


class ChildProcess:
    """One child process, shared by this process's threads (they take turns in it), replaced
    after a number of calls. Recycled here rather than with ``max_tasks_per_child``, so that
    the old child has exited before the next one starts (never two at once), and the count
    holds whatever the number of threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._calls = 0

    def run(self, limit: int, function: Callable[..., Result], *args: Any) -> Result:
        """``function(*args)`` in the child, whose exceptions are raised here; the child is
        replaced after ``limit`` calls. A call whose child died (killed) is made once more in
        a new child; a second death raises :class:`RenderProcessError`."""
        try:
            return self._run(limit, function, args)
        except BrokenProcessPool:
            try:
                return self._run(limit, function, args)
            except BrokenProcessPool as error:
                raise RenderProcessError(
                    "the certificate rendering process died twice in a row: see the log for "
                    "why (killed for memory?)"
                ) from error

    def _run(self, limit: int, function: Callable[..., Result], args: tuple[Any, ...]) -> Result:
        with self._lock:
            executor = self._current()
            try:
                future: Future[Result] = executor.submit(function, *args)
            except BrokenProcessPool:
                self._executor = None
                executor.shutdown(wait=True)
                raise
            self._calls += 1
            retire = self._calls >= limit
            if retire:
                self._executor = None  # the next call starts a new child
        try:
            return future.result()
        except BrokenProcessPool:
            retire = True
            with self._lock:
                if self._executor is executor:
                    self._executor = None
            raise
        finally:
            if retire:
                # Waits for other threads' calls already in this child, then for it to exit.
                executor.shutdown(wait=True)
                # The next child starts now, while the caller signs and stores: its start-up
                # is then mostly over when the next certificate needs it.
                self._start()

    def start(self) -> None:
        """Start the child, if none runs, and wait until it is ready to render. Callers do it
        before they lock rows (a batch, before its first step), so that the child's start-up
        (a second or two, more on a loaded machine) is not spent holding them."""
        future = self._start()
        if future is not None:
            try:
                future.result()
            except BrokenProcessPool:
                self._discard()  # the next render starts another, and says if it dies too

    def _start(self) -> Future[None] | None:
        with self._lock:
            if self._executor is not None:
                return None
            executor = self._current()
            try:
                return executor.submit(_warm_up)
            except BrokenProcessPool:
                return None

    def _discard(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    def _current(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_child_started,
            )
            self._calls = 0
        return self._executor

    def close(self) -> None:
        """Stop the child (if any) once its call in hand, if any, is done."""
        self._discard()


CHILD = ChildProcess()
atexit.register(CHILD.close)

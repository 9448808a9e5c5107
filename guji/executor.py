"""One executor interface for page-parallel work, robust against workers that fail.

Stages never create pools themselves: they hand picklable tasks and a module-level function to
``ctx.executor`` (through :func:`guji.stage.run_tasks`). Memory is bounded by the tasks in flight,
not by the batch size, because tasks are submitted lazily from an iterator.

Three ways a page can fail, three answers:

- the task **raises** (bad input, a bug): the exception comes back as a :class:`TaskFailure`;
  the other pages go on. Not retried — it would raise again.
- the **worker process dies** (SIGKILL from the OOM killer, a segfault in a native library):
  only the page it was running is affected; the pool replaces the process and the page is tried
  again, up to ``tries`` times in all.
- the page **runs too long** (``timeout`` seconds; a hanging engine): its worker process is
  stopped and replaced, and the page is tried again, up to ``tries`` times.

A page that killed or hung ``tries`` workers is **quarantined**: it comes back as a
``TaskFailure`` with ``quarantined=True`` and the reason, so the stage reports it and the rest of
the batch completes. Local processes use pebble's ``ProcessPool`` (as OCR-D does); on dask the
scheduler re-runs tasks of a lost worker elsewhere (``distributed.scheduler.allowed-failures``
bounds the tries) and a watchdog in the worker ends a task that overruns its timeout.

Every result says where it ran (:class:`Done.worker`: host, process id and, on dask, the worker's
address), so a run can prove which processes did the work.
"""

from __future__ import annotations

import contextvars
import logging
import os
import signal
import socket
import sys
import threading
import traceback
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Protocol

from guji.threads import default_jobs

log = logging.getLogger("guji")

DEFAULT_TIMEOUT = 600.0  # seconds per page: generous for a 75 MP master, ends a hung engine
DEFAULT_TRIES = 2  # a page that kills or hangs this many workers is quarantined

_current: contextvars.ContextVar[Any] = contextvars.ContextVar("guji_current_task", default=None)


def current_task() -> Any:
    """The task this worker is running now (``None`` outside a task): for logs and test engines."""
    return _current.get()


@dataclass
class TaskFailure:
    """What a task raised, as strings (exceptions may not pickle); or why it was quarantined."""

    error: str
    kind: str
    traceback: str
    quarantined: bool = False  # killed or hung its worker ``tries`` times: set aside
    tries: int = 1

    def __str__(self) -> str:
        return f"{self.kind}: {self.error}"


@dataclass
class Done:
    """One finished task: its result (or :class:`TaskFailure`), where it ran and after how many tries."""

    task: Any
    result: Any
    worker: dict[str, Any] | None = None  # {"host", "pid", "address" (dask) }
    tries: int = 1


def worker_identity() -> dict[str, Any]:
    ident: dict[str, Any] = {"host": socket.gethostname(), "pid": os.getpid()}
    if "distributed" in sys.modules:  # a dask worker has it loaded; never import it just to ask
        from distributed import get_worker

        try:
            ident["address"] = get_worker().address
        except ValueError:  # not in a dask worker
            pass
    return ident


def _call(fn: Callable[[Any], Any], task: Any) -> Any:
    token = _current.set(task)
    try:
        return fn(task)
    except Exception as e:  # noqa: BLE001 - reported per task, batch goes on
        return TaskFailure(str(e) or repr(e), type(e).__name__, traceback.format_exc())
    finally:
        _current.reset(token)


def _call_here(fn: Callable[[Any], Any], task: Any) -> tuple[Any, dict[str, Any]]:
    """Run in a worker process: the result and where it ran."""
    return _call(fn, task), worker_identity()


def _signal_name(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


class Executor(Protocol):
    jobs: int

    def map_tasks(self, fn: Callable[[Any], Any], tasks: Iterable[Any], *, timeout: float | None = None,
                  tries: int | None = None) -> Iterator[Done]:
        """Yield a :class:`Done` per task as tasks finish, in any order."""
        ...

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(task, result_or_TaskFailure)`` as tasks finish, in any order."""
        ...

    def close(self) -> None: ...


class _Base:
    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        for d in self.map_tasks(fn, tasks):  # type: ignore[attr-defined]
            yield d.task, d.result


class SerialExecutor(_Base):
    """Runs tasks in this process, in order (``--jobs 1``; easiest to debug).

    No worker process stands between the engine and guji here, so there is no timeout and a
    crash of a native library ends the run (resume it with the same command); use ``--jobs 2`` or
    more for that protection."""

    jobs = 1

    def map_tasks(self, fn: Callable[[Any], Any], tasks: Iterable[Any], *, timeout: float | None = None,
                  tries: int | None = None) -> Iterator[Done]:
        ident = worker_identity()
        for t in tasks:
            yield Done(t, _call(fn, t), ident)

    def close(self) -> None:
        pass


class LocalExecutor(_Base):
    """Local worker processes (the default): ``jobs`` processes of ``threads`` threads each, at most
    ``2 × jobs`` tasks in flight, a per-task ``timeout`` and ``tries`` (see the module doc)."""

    def __init__(self, jobs: int | None = None, max_in_flight: int | None = None, *, threads: int = 1,
                 timeout: float | None = DEFAULT_TIMEOUT, tries: int = DEFAULT_TRIES):
        self.jobs = max(1, jobs or default_jobs())
        self.max_in_flight = max_in_flight or self.jobs * 2
        self.threads = max(0, threads)  # 0: no caps (benchmark comparison only)
        self.timeout = timeout
        self.tries = max(1, tries)
        self._pool: Any = None

    def _get_pool(self) -> Any:
        if self._pool is None:
            import multiprocessing as mp

            from pebble import ProcessPool

            from guji.threads import init_worker

            # forkserver: safe with threads in the parent (sqlite, onnxruntime), cheap restarts.
            self._pool = ProcessPool(max_workers=self.jobs, context=mp.get_context("forkserver"),
                                     initializer=init_worker, initargs=(self.threads,))
        return self._pool

    def map_tasks(self, fn: Callable[[Any], Any], tasks: Iterable[Any], *, timeout: float | None = None,
                  tries: int | None = None) -> Iterator[Done]:
        from concurrent.futures import FIRST_COMPLETED, wait

        from pebble import ProcessExpired

        timeout = self.timeout if timeout is None else (timeout or None)
        tries = max(1, tries or self.tries)
        pool = self._get_pool()
        pending: dict[Any, tuple[Any, int]] = {}
        retry: deque[tuple[Any, int]] = deque()
        it = iter(tasks)
        exhausted = False
        try:
            while True:
                while len(pending) < self.max_in_flight:
                    if retry:
                        t, attempt = retry.popleft()
                    elif not exhausted:
                        try:
                            t, attempt = next(it), 1
                        except StopIteration:
                            exhausted = True
                            continue
                    else:
                        break
                    pending[pool.schedule(_call_here, args=(fn, t), timeout=timeout)] = (t, attempt)
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    t, attempt = pending.pop(fut)
                    reason = None
                    try:
                        res, ident = fut.result()
                    except TimeoutError:
                        reason = f"took longer than the page timeout of {timeout:g} s; its worker was stopped"
                    except ProcessExpired as e:
                        reason = f"its worker process died ({_signal_name(e.exitcode)}; out of memory?)"
                    except Exception as e:  # noqa: BLE001 - e.g. a result that does not pickle
                        yield Done(t, TaskFailure(str(e) or repr(e), type(e).__name__, traceback.format_exc()),
                                   None, attempt)
                        continue
                    if reason is None:
                        yield Done(t, res, ident, attempt)
                    elif attempt < tries:
                        log.warning("task %s %s; trying again (%d of %d)", _key(t), reason, attempt + 1, tries)
                        retry.append((t, attempt + 1))
                    else:
                        yield Done(t, TaskFailure(f"set aside after {attempt} tries: {reason}", "quarantined", "",
                                                  quarantined=True, tries=attempt), None, attempt)
        finally:
            for fut in pending:
                fut.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.stop()
            self._pool.join(timeout=30)
            self._pool = None


def _key(task: Any) -> str:
    return str(getattr(task, "key", None) or (task.get("page_id") or task.get("n") if isinstance(task, dict) else task))


# -- dask ---------------------------------------------------------------------------------------


def _dask_call(fn: Callable[[Any], Any], task: Any, timeout: float | None) -> tuple[Any, dict[str, Any]]:
    """Run on a dask worker: threads capped to the worker's share, a watchdog for ``timeout``."""
    from distributed import get_worker

    from guji.threads import limit_threads, tune_malloc

    w = get_worker()
    limit_threads(max(1, w.state.nthreads))
    tune_malloc()  # dask's MALLOC_TRIM_THRESHOLD_ costs ~30 % CPU per page (guji/threads.py)
    timer = None
    if timeout:
        # A hung native call cannot be interrupted from Python: like the local pool, stop the whole
        # worker process (its nanny starts a fresh one and the scheduler re-runs or gives up).
        timer = threading.Timer(timeout, _expire, args=(w, _key(task), timeout))
        timer.daemon = True
        timer.start()
    try:
        return _call(fn, task), worker_identity()
    finally:
        if timer is not None:
            timer.cancel()


def _expire(w: Any, key: str, timeout: float) -> None:  # pragma: no cover - runs in a dask worker
    import time

    try:
        w.log_event("guji-timeout", {"task": key, "timeout": timeout})
        time.sleep(1.0)  # let the event reach the scheduler
    finally:
        os.kill(os.getpid(), signal.SIGKILL)


class DaskExecutor(_Base):
    """Tasks on a dask.distributed cluster (``--cluster tcp://scheduler:8786``).

    The workers must have guji installed and see the same paths (batch, work folder) as this
    machine, e.g. through a shared file system. One task per worker thread is in flight, so
    memory stays bounded, a worker is never handed a queue of pages it could lose at once, and a
    lost worker's page is the only one the scheduler holds suspect. Results come back to this
    process, which alone writes the state store. Start workers with ``--nthreads 1`` (one
    process per core) — see cli.md.
    """

    def __init__(self, address: Any, max_in_flight: int | None = None, *,
                 timeout: float | None = DEFAULT_TIMEOUT, tries: int | None = None):
        try:
            from distributed import Client
        except ImportError as e:  # pragma: no cover - depends on the install
            from guji.errors import MissingDependency

            raise MissingDependency("--cluster needs dask.distributed: pip install 'guji[cluster]'") from e
        self.client = Client(address, set_as_default=False)
        threads = sum(self.client.nthreads().values()) or 1
        self.jobs = threads
        self.max_in_flight = max_in_flight or threads
        self.timeout = timeout
        self.tries = tries  # informational: the scheduler's allowed-failures decides on dask

    def map_tasks(self, fn: Callable[[Any], Any], tasks: Iterable[Any], *, timeout: float | None = None,
                  tries: int | None = None) -> Iterator[Done]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        timeout = self.timeout if timeout is None else (timeout or None)
        it = iter(tasks)
        pending: dict[Any, Any] = {}
        in_flight = max(1, self.max_in_flight, self.jobs)

        def submit_next() -> Any:
            try:
                t = next(it)
            except StopIteration:
                return None
            fut = self.client.submit(_dask_call, fn, t, timeout, pure=False)
            pending[fut.key] = t
            return fut

        first = [f for f in (submit_next() for _ in range(in_flight)) if f is not None]
        if not first:
            return
        ac = as_completed(first, loop=self.client.loop)
        try:
            for fut in ac:
                t = pending.pop(fut.key)
                ident = None
                try:
                    res, ident = fut.result()
                    done = Done(t, res, ident)
                except KilledWorker as e:
                    n = e.allowed_failures + 1
                    why = ("took longer than the page timeout of "
                           f"{timeout:g} s; its worker was stopped" if self._timed_out(_key(t))
                           else "its worker process died (out of memory?)")
                    done = Done(t, TaskFailure(f"set aside after {n} tries: {why}", "quarantined", "",
                                               quarantined=True, tries=n), None, n)
                except Exception as e:  # noqa: BLE001 - task could not run or result not readable
                    done = Done(t, TaskFailure(str(e) or repr(e), type(e).__name__, traceback.format_exc()))
                fut.release()
                nxt = submit_next()
                if nxt is not None:
                    ac.add(nxt)
                yield done
        finally:
            ac.clear()

    def _timed_out(self, key: str) -> bool:
        try:
            events = self.client.get_events("guji-timeout")
        except Exception:  # noqa: BLE001 - only refines the message
            return False
        return any(isinstance(m, dict) and m.get("task") == key for _, m in events)

    def close(self) -> None:
        self.client.close()


def make_executor(jobs: int | None, cluster: str | None = None, *, timeout: float | None = DEFAULT_TIMEOUT,
                  tries: int = DEFAULT_TRIES) -> Executor:
    """``cluster`` address → dask; ``jobs`` = 1 → in-process; else local processes (0 → one per core)."""
    if cluster:
        return DaskExecutor(cluster, timeout=timeout, tries=tries)
    if jobs == 1:
        return SerialExecutor()
    return LocalExecutor(jobs or None, timeout=timeout, tries=tries)

"""One executor interface for page-parallel work.

Stages never create pools themselves: they hand picklable tasks and a module-level function to
``ctx.executor.map_unordered``. Memory is bounded by the tasks in flight (``jobs × 2``), not by
the batch size, because tasks are submitted lazily from an iterator. A cluster engine
(e.g. dask.distributed) can implement the same two methods later without touching the stages.

A task that raises does not stop the others: the exception comes back as a :class:`TaskFailure`.
"""

from __future__ import annotations

import os
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Protocol


@dataclass
class TaskFailure:
    """What a task raised, as strings (exceptions may not pickle)."""

    error: str
    kind: str
    traceback: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.error}"


def _call(fn: Callable[[Any], Any], task: Any) -> Any:
    try:
        return fn(task)
    except Exception as e:  # noqa: BLE001 - reported per task, batch goes on
        return TaskFailure(str(e) or repr(e), type(e).__name__, traceback.format_exc())


class Executor(Protocol):
    jobs: int

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(task, result_or_TaskFailure)`` as tasks finish, in any order."""
        ...

    def close(self) -> None: ...


class SerialExecutor:
    """Runs tasks in this process, in order (``--jobs 1``; easiest to debug)."""

    jobs = 1

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        for t in tasks:
            yield t, _call(fn, t)

    def close(self) -> None:
        pass


class LocalExecutor:
    """Local worker processes (the default): ``jobs`` processes, at most ``2 × jobs`` tasks in flight."""

    def __init__(self, jobs: int | None = None, max_in_flight: int | None = None):
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.max_in_flight = max_in_flight or self.jobs * 2
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing as mp

            # forkserver: safe with threads in the parent (sqlite, onnxruntime), cheap restarts.
            ctx = mp.get_context("forkserver")
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=ctx)
        return self._pool

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        pool = self._get_pool()
        pending: dict[Future, Any] = {}
        it = iter(tasks)
        exhausted = False
        while True:
            while not exhausted and len(pending) < self.max_in_flight:
                try:
                    t = next(it)
                except StopIteration:
                    exhausted = True
                    break
                pending[pool.submit(_call, fn, t)] = t
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                t = pending.pop(fut)
                try:
                    res = fut.result()
                except Exception as e:  # worker died (e.g. OOM-killed)
                    res = TaskFailure(str(e) or repr(e), type(e).__name__, traceback.format_exc())
                yield t, res

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor:
    """Tasks on a dask.distributed cluster (``--cluster tcp://scheduler:8786``).

    The workers must have guji installed and see the same paths (batch, work folder) as this
    machine, e.g. through a shared file system. In flight: ``2 ×`` the cluster's worker threads,
    so memory stays bounded here too. Results come back to this process, which alone writes the
    state store.
    """

    def __init__(self, address: str, max_in_flight: int | None = None):
        try:
            from distributed import Client
        except ImportError as e:  # pragma: no cover - depends on the install
            from guji.errors import MissingDependency

            raise MissingDependency("--cluster needs dask.distributed: pip install 'guji[cluster]'") from e
        self.client = Client(address, set_as_default=False)
        threads = sum(self.client.nthreads().values()) or 1
        self.jobs = threads
        self.max_in_flight = max_in_flight or threads * 2

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        from distributed import as_completed

        it = iter(tasks)
        pending: dict[Any, Any] = {}

        def submit_next() -> Any:
            try:
                t = next(it)
            except StopIteration:
                return None
            fut = self.client.submit(_call, fn, t, pure=False)
            pending[fut.key] = t
            return fut

        first = [f for f in (submit_next() for _ in range(self.max_in_flight)) if f is not None]
        if not first:
            return
        ac = as_completed(first, loop=self.client.loop)
        for fut in ac:
            t = pending.pop(fut.key)
            try:
                res = fut.result()
            except Exception as e:  # noqa: BLE001 - worker lost, task could not run
                res = TaskFailure(str(e) or repr(e), type(e).__name__, traceback.format_exc())
            fut.release()
            nxt = submit_next()
            if nxt is not None:
                ac.add(nxt)
            yield t, res

    def close(self) -> None:
        self.client.close()


def make_executor(jobs: int | None, cluster: str | None = None) -> Executor:
    """``cluster`` address → dask; ``jobs`` = 1 → in-process; else local processes (0 → one per core)."""
    if cluster:
        return DaskExecutor(cluster)
    if jobs == 1:
        return SerialExecutor()
    return LocalExecutor(jobs or None)

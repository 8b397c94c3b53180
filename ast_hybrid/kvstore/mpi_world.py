"""MPI for the distributed kvstore: collectives waited on with a bound, and the failure rules."""
import atexit
import os
import sys
import time

from ..base import MXNetError

TIMEOUT_ENV = "AST_HYBRID_KVSTORE_TIMEOUT"
DEFAULT_TIMEOUT_S = 300.0
_LEFT_TAG = 7316
_SPIN_S = 0.05          # poll this long before sleeping: each Test() moves the collective on
_SLEEP_S = 5e-4
_FORWARD_S = 0.5


class WorkerFailure(MXNetError):
    """Another worker left or stopped answering: the collectives cannot complete."""


def _load_mpi():
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise MXNetError("kvstore 'dist_sync' runs over MPI and needs mpi4py with an MPI "
                         "runtime: pip install 'ast_hybrid[dist]'") from error
    return MPI


def _timeout():
    text = os.environ.get(TIMEOUT_ENV, "")
    try:
        value = float(text) if text else DEFAULT_TIMEOUT_S
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"{TIMEOUT_ENV} must be a positive number of seconds, not {text!r}")
    return value


class World:
    """This process's place among the workers. Every collective goes through wait(): it
    polls the request, reads notices of workers that have left, and gives up after the
    timeout, so a lost worker ends the run with an error instead of a hang."""

    def __init__(self):
        self.MPI = _load_mpi()
        world = self.MPI.COMM_WORLD
        self.rank, self.size = world.Get_rank(), world.Get_size()
        self.timeout = _timeout()
        self.done = 0           # collectives this worker has completed
        self.left = {}          # rank -> collectives it had completed when its process ended
        self.failure = None
        self.comm = world       # until our own communicator exists
        self.wait(world.Ibarrier(), "creating the kvstore")
        # a communicator of our own: the user's MPI messages never match ours
        self.comm = world.Dup()
        if self.size > 1:
            self._install_failure_rules()

    def wait(self, request, what):
        if self.failure is not None:
            raise self.failure
        number = self.done + 1
        start = time.monotonic()
        while not request.Test():
            waited = time.monotonic() - start
            self._read_notices()
            gone = sorted(r for r, done in self.left.items() if done < number)
            if gone:
                self._fail(f"worker rank {gone[0]} of {self.size} has ended after "
                           f"{self.left[gone[0]]} collective(s) while rank {self.rank} waits "
                           f"in collective {number} ({what}): every worker must run the same "
                           "steps (give each the same number of batches, e.g. with "
                           "gluon.data.SplitSampler)")
            if waited > self.timeout:
                self._fail(f"rank {self.rank} of {self.size} waited {self.timeout:g} s in "
                           f"collective {number} ({what}) and not every worker joined it: one "
                           "is stuck, far slower, or runs other collectives "
                           f"({TIMEOUT_ENV} sets the wait)")
            if waited > _SPIN_S:
                time.sleep(_SLEEP_S)
            else:
                os.sched_yield()    # a shared core goes to whoever is runnable, if anyone
        self.done = number

    def _fail(self, message):
        self.failure = WorkerFailure(message)
        raise self.failure

    def _read_notices(self):
        status = self.MPI.Status()
        while self.comm.Iprobe(source=self.MPI.ANY_SOURCE, tag=_LEFT_TAG, status=status):
            source = status.Get_source()
            self.left[source] = self.comm.recv(source=source, tag=_LEFT_TAG)

    def _install_failure_rules(self):
        previous = sys.excepthook

        def abort_every_worker(kind, value, traceback):
            # the others may be waiting in a collective this worker will never join
            previous(kind, value, traceback)
            sys.stderr.write(f"ast_hybrid.kvstore: worker rank {self.rank} of {self.size} "
                             f"stopped on an uncaught {kind.__name__}; aborting every worker "
                             "(MPI_Abort)\n")
            sys.stderr.flush()
            # mpiexec forwards output through its own processes: Abort ends them too, and
            # what they had not passed on yet, the message above included, would be lost
            time.sleep(_FORWARD_S)
            self.MPI.COMM_WORLD.Abort(1)

        sys.excepthook = abort_every_worker
        atexit.register(self._announce_exit)

    def _announce_exit(self):
        """Tell the others how far this worker got, so that one waiting for it in a later
        collective stops with an error naming it (after a normal end nobody reads it)."""
        requests = [self.comm.isend(self.done, dest=r, tag=_LEFT_TAG)
                    for r in range(self.size) if r != self.rank]
        deadline = time.monotonic() + 1.0
        while not self.MPI.Request.Testall(requests) and time.monotonic() < deadline:
            time.sleep(_SLEEP_S)


_world = None


def world():
    """The World of this process, made on first use (MPI starts then)."""
    global _world
    if _world is None:
        _world = World()
    return _world

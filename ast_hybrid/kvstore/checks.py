"""What the Trainer checks across workers before an update, so that they never drift apart."""
from ..base import MXNetError


def check_step(kv, names, fresh, late):
    """names/fresh: the parameters about to be reduced and whether backward wrote their
    gradient here; late: for each, whether its value was replaced by rank 0's in this very
    step (it was initialized after the Trainer was made), before that gradient was reduced.
    One collective for both checks."""
    counts = kv._count_over_workers(list(fresh) + list(late))
    workers, n = kv.num_workers, len(names)
    for name, here, count in zip(names, fresh, counts[:n]):
        if 0 < count < workers:
            raise MXNetError(
                f"Gradient of Parameter `{name}` was updated by backward on {count} of "
                f"{workers} workers since the last step (rank {kv.rank}: "
                f"{'yes' if here else 'no'}); the workers would update it differently and "
                "drift apart: use the same parameters on every worker")
    for name, fresh_count, replaced in zip(names, counts[:n], counts[n:]):
        if replaced and fresh_count:
            raise MXNetError(
                f"Parameter `{name}` was initialized differently on the workers, and its "
                "first gradient was computed before rank 0's value could be given to all "
                "(it was initialized after the Trainer was made, at the first forward): seed "
                "every worker alike (ast_hybrid.random.seed) or give the layer its input "
                "size (in_units, in_channels) so that the Trainer broadcasts it at once")

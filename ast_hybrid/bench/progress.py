"""A progress bar on stderr (tables on stdout stay clean): tqdm's, or a plain one without tqdm."""
import sys


def _tqdm():
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


class Progress:
    """`total` steps; `step(label)` advances one and shows the label after the bar."""

    def __init__(self, total, desc="", width=30, stream=None):
        self.total = max(total, 1)
        self.done = 0
        self.desc = desc
        self.width = width
        self.stream = stream or sys.stderr
        tqdm = _tqdm()
        self._bar = None if tqdm is None else tqdm(
            total=self.total, desc=desc or None, file=self.stream, ncols=100, leave=True)

    def step(self, label="", n=1):
        self.done = min(self.done + n, self.total)
        if self._bar is not None:
            self._bar.set_postfix_str(label[:40], refresh=False)
            self._bar.update(n)
            return
        filled = int(self.width * self.done / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        prefix = f"{self.desc} " if self.desc else ""
        self.stream.write(f"\r{prefix}[{bar}] {self.done:>4}/{self.total} {label[:40]:<40}")
        self.stream.flush()

    def close(self):
        if self._bar is not None:
            self._bar.close()
            return
        self.stream.write("\n")
        self.stream.flush()

"""A one-line text progress bar on stderr, so that the tables on stdout stay clean."""
import sys


class Progress:
    def __init__(self, total, width=30, stream=None):
        self.total = max(total, 1)
        self.done = 0
        self.width = width
        self.stream = stream or sys.stderr

    def step(self, label="", n=1):
        self.done = min(self.done + n, self.total)
        filled = int(self.width * self.done / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {self.done:>4}/{self.total} {label[:40]:<40}")
        self.stream.flush()

    def close(self):
        self.stream.write("\n")
        self.stream.flush()

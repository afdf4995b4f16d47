"""Peak resident memory of a process, by phase, for the benchmark."""

import threading
import time


class Peak:
    """Polls a process's VmHWM (peak RSS) from /proc while it runs."""

    def __init__(self, pid):
        self.pid, self.kb, self.stop = pid, 0, threading.Event()
        self.phases = {}
        # A poll that read the old peak must not land after a phase reset it.
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def read(self):
        with self.lock:
            try:
                for line in open(f"/proc/{self.pid}/status"):
                    if line.startswith("VmHWM:"):
                        self.kb = max(self.kb, int(line.split()[1]))
            except OSError:
                pass

    def run(self):
        while not self.stop.is_set():
            self.read()
            time.sleep(0.01)

    def mb(self):
        self.read()
        self.stop.set()
        return max([self.kb, *self.phases.values()]) / 1024

    def phase(self, label):
        """Ends a phase: keeps its peak and resets VmHWM for the next one."""
        self.read()
        with self.lock:
            self.phases[label] = self.kb
            try:
                with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                    f.write("5")
            except OSError:
                pass
            self.kb = 0

"""A cache of benchmark results, for detectors whose results do not change.

Shared by ``outliers.py`` and ``outliers_adbench.py``: the reference detectors
(IsolationForest, PyOD's, ...) are fitted once per task and seed, and later runs
read their results from one JSON file per detector.
"""

import json
from pathlib import Path


class Cache:
    """Results of the detectors that are not ours, one JSON file per detector."""

    def __init__(self, directory):
        self.directory = None if directory is None else Path(directory)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, method):
        return self.directory / (method.replace(" ", "_") + ".json")

    def get(self, method, key):
        if self.directory is None or not self._path(method).exists():
            return None
        return json.loads(self._path(method).read_text()).get(key)

    def put(self, method, key, value):
        if self.directory is None:
            return
        path = self._path(method)
        entries = json.loads(path.read_text()) if path.exists() else {}
        entries[key] = value
        path.write_text(json.dumps(entries))


def cached_times_note(cached):
    """What a results caption says of the times read from the cache, if any."""
    if not cached:
        return ""
    return (
        "; for the detectors that are not ours, as measured in the run that "
        "filled the cache (`--cache-dir`) on the same machine"
    )

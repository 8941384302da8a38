"""sphinx-gallery hooks of the documentation, named by string in ``conf.py``.

They live in a module, not in ``conf.py``, so that the configuration stays
picklable and Sphinx can cache it.
"""

import builtins
from pathlib import Path


class QuickstartFirst:
    """Order within the gallery: the quick start first, then by file name.

    sphinx-gallery instantiates it with the gallery's source folder and calls it
    with each example's file name (``within_subsection_order``).
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        return (not filename.startswith("quickstart"), filename)

    def __repr__(self):
        # stable, so that Sphinx sees an unchanged configuration
        return f"<{type(self).__name__}>"


def define_file(gallery_conf, fname, when):
    """Give each example the ``__file__`` a script run with ``python`` has.

    sphinx-gallery runs examples without ``__file__`` on purpose, while the
    examples are plain scripts that locate their output folder with it. Before
    an example runs, ``__file__`` is defined as a builtin (module globals still
    take precedence); after it, the builtin is removed (``reset_modules``).
    """
    builtins.__dict__.pop("__file__", None)
    if when != "before" or fname is None:
        return
    examples_dirs = gallery_conf["examples_dirs"]
    if isinstance(examples_dirs, str):
        examples_dirs = [examples_dirs]
    for examples_dir in examples_dirs:
        folder = Path(gallery_conf["src_dir"], examples_dir)
        for path in sorted(folder.rglob(Path(fname).name)):
            builtins.__file__ = str(path.resolve())
            return

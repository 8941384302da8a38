"""Sphinx configuration of the sk_autoencoder documentation.

Build from the repository root::

    sphinx-build -W --keep-going -b html docs docs/_build/html

``SK_AUTOENCODER_DOCS_FAST=1`` skips running the gallery examples (the pages are
still built, without their output and figures).
"""

import os
import re
import sys
from pathlib import Path

import matplotlib

# examples draw off screen, also when imported outside sphinx-gallery's scraper
matplotlib.use("Agg")

import sk_autoencoder  # noqa: E402

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "sphinxext"))

FAST = os.environ.get("SK_AUTOENCODER_DOCS_FAST", "").strip().lower() not in (
    "",
    "0",
    "false",
    "no",
)

# -- project -----------------------------------------------------------------

project = "sk_autoencoder"
author = "the sk_autoencoder developers"
copyright = "the sk_autoencoder developers"
release = sk_autoencoder.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",  # the benchmark tables are Markdown
]

templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "sphinxext",
    "_generated_results.rst",  # included by results.rst, not a page of its own
    "**.ipynb_checkpoints",
]
default_role = "literal"
pygments_style = "sphinx"

# -- API reference: autodoc, autosummary, numpydoc ---------------------------

autosummary_generate = True
autodoc_typehints = "none"
autodoc_member_order = "alphabetical"
# members are listed by autodoc through the autosummary class template; numpydoc
# only renders the sections of each docstring
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# Methods inherited from scikit-learn (set_output, get_params, ...) bring
# docstrings that cross-reference scikit-learn's own documentation, which is not
# part of this build (intersphinx needs the network): their :ref: and :term:
# roles become plain text instead of broken links.
_SKLEARN_ROLE = re.compile(
    r":(?:ref|term|doc):`(?:(?P<title>[^`<]+?)\s*<[^`>]+>|(?P<target>[^`]+))`"
)


def _sklearn_role_as_text(match):
    if match["title"]:
        return match["title"]
    if match["target"].startswith("sphx_glr_"):
        return "scikit-learn's example gallery"
    return match["target"]


def _sklearn_refs_as_text(app, what, name, obj, options, lines):
    if not (getattr(obj, "__module__", None) or "").startswith("sklearn."):
        return
    lines[:] = [_SKLEARN_ROLE.sub(_sklearn_role_as_text, line) for line in lines]


# -- example gallery: sphinx-gallery -----------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # executed: plot_*.py and quickstart.py; other scripts are shown, not run
    "filename_pattern": re.escape(os.sep) + r"(plot_|quickstart)",
    # helpers such as _common.py are not examples
    "ignore_pattern": r"(^|[/\\])_",
    "within_subsection_order": "sk_gallery.QuickstartFirst",
    # examples are plain scripts that use __file__, which sphinx-gallery leaves
    # undefined; matplotlib is reset between examples, as by default
    "reset_modules": ("matplotlib", "sk_gallery.define_file"),
    "reset_modules_order": "both",
    "plot_gallery": "False" if FAST else "True",
    "image_scrapers": ("matplotlib",),
    # links from example code to the API pages are resolved from this build
    "doc_module": ("sk_autoencoder",),
    "backreferences_dir": "gen_modules/backreferences",
    "remove_config_comments": True,
    "min_reported_time": 1,
}

# -- benchmark results -------------------------------------------------------

# tables written by benchmarks/*.py, in the order the results page shows them
RESULTS = {
    "throughput": "Training and inference throughput",
    "throughput_cuda": "Training and inference throughput on a GPU",
    "pca_quality": "Quality against PCA",
    "likelihood": "Likelihood against probabilistic PCA, and choosing n_components",
    "search": "Model selection against PCA",
    "outliers": "Outlier detection",
    "outliers_adbench": "Outlier detection on ADBench data sets",
    "memory": "Peak memory",
    "parallel": "Parallel grid search",
    "distributed": "One fit on several processes",
}


def _write_results_include():
    """Write ``_generated_results.rst``: one section per table that exists.

    The tables are included, not copied, so that rerunning a benchmark updates
    the page; a benchmark not run yet is left out instead of failing the build.
    The file is rewritten only when its text changes, so that Sphinx does not
    rebuild the page for nothing.
    """
    results = ROOT / "benchmarks" / "results"
    found = {path.stem: path for path in sorted(results.glob("*.md"))}
    names = [name for name in RESULTS if name in found]
    names += [name for name in found if name not in RESULTS]
    parts = []
    for name in names:
        title = RESULTS.get(name, name.replace("_", " ").capitalize())
        include = os.path.relpath(found[name], DOCS).replace(os.sep, "/")
        parts.append(
            f".. _results-{name.replace('_', '-')}:\n\n"
            f"{title}\n{'-' * len(title)}\n\n"
            f".. include:: {include}\n"
            f"   :parser: myst_parser.sphinx_\n"
        )
    if not parts:
        parts.append(
            "No benchmark has been run yet: run the scripts in ``benchmarks/`` "
            "and build the documentation again.\n"
        )
    text = "\n".join(parts)
    target = DOCS / "_generated_results.rst"
    if not target.is_file() or target.read_text() != text:
        target.write_text(text)


_write_results_include()

# -- HTML output -------------------------------------------------------------

try:
    import pydata_sphinx_theme  # noqa: F401
except ImportError:
    html_theme = "alabaster"
    html_theme_options = {}
else:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_with_keys": False,
        "show_toc_level": 2,
        "header_links_before_dropdown": 6,
        "navbar_end": ["theme-switcher", "navbar-icon-links"],
        "footer_start": ["copyright"],
        "footer_end": ["sphinx-version"],
    }
    html_sidebars = {
        "install": [],
        "results": [],
        "changelog": [],
        "contributing": [],
    }

html_static_path = ["_static"]
html_css_files = ["sk_autoencoder.css"]
html_title = f"sk_autoencoder {release}"
html_show_sourcelink = False


def setup(app):
    app.connect("autodoc-process-docstring", _sklearn_refs_as_text)

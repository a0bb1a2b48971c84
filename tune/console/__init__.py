"""What a search prints: the live console (callback.py), its lines (lines.py, no Ray), ASHA's
decisions (asha.py, the one reader of the scheduler's private records) and the closing summary
(summary.py). Imports nothing from tune.experiment.
"""

from __future__ import annotations


def __getattr__(name: str):
    # Runs saved before the console became a package pickled `tune.console.SearchConsole` into their
    # tuner.pkl; resolving it here (lazily: it imports Ray) keeps them resumable.
    if name == "SearchConsole":
        from tune.console.callback import SearchConsole

        return SearchConsole
    raise AttributeError(f"module 'tune.console' has no attribute {name!r}")

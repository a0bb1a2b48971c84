"""Runs saved before tune/ was reorganised into sub-packages stay resumable.

Ray pickles the searcher stack, the console and the trainable into a run's
tuner.pkl and searcher state by their module paths. Those paths moved
(tune.bridge -> tune.experiment.optuna_bridge and .relocatable, tune.deadline
-> tune.experiment.deadline, tune.trainable -> tune.experiment.trainable;
tune.console.SearchConsole is answered by the tune.console package itself).
Before Ray restores a run, `register` puts the old module names in
`sys.modules`, each holding the classes it held, so old pickles load; Ray
saves the restored objects under their new paths from then on.
"""

from __future__ import annotations

import sys
import types

# old module -> (new module, names it held)
MOVED = {
    "tune.bridge": {
        "tune.experiment.optuna_bridge": ("NumberedOptunaSearch", "TruthfulOptunaSearch"),
        "tune.experiment.relocatable": ("RelocatableSearchGenerator",),
    },
    "tune.deadline": {"tune.experiment.deadline": ("DeadlineSearcher",)},
    "tune.trainable": {"tune.experiment.trainable": ("TrialSettings", "train_trial")},
}


def register() -> None:
    """The old module paths, as modules holding what they held (once per process)."""
    for old, sources in MOVED.items():
        if old in sys.modules:
            continue
        module = types.ModuleType(old, f"moved: see {', '.join(sources)}")
        for new, names in sources.items():
            __import__(new)
            for name in names:
                setattr(module, name, getattr(sys.modules[new], name))
        sys.modules[old] = module

"""tune: the distributed layer, built on `au2bs`; the only package that imports Ray. Where each concept lives:

run.py, best.py, compare.py   the commands (thin); flags.py: tune.run's flags, derived from the settings
runfolder/    no Ray: layout.py (file and column names, once), storage.py, ray_state.py (Ray's saved state as
              plain data), trials.py (trials table), summary.py (summary.json), lock.py, study.py, settings.py
              (config.json: plan, resources, place), run.py (a run opened for reading, its best checkpoint)
experiment/   needs Ray: driver.py (one search, step by step), tuner.py, strategy.py (searcher stack and
              scheduler), optuna_bridge.py, relocatable.py, deadline.py, trainable.py, resources.py,
              interrupts.py, environment.py (Ray's settings, once), old_paths.py (runs saved before this layout)
console/      what a search prints: callback.py, lines.py, asha.py (the one reader of ASHA's records), summary.py
report/       tables, figures and the oracle comparison of tune.best and tune.compare
outcome.py    how a trial ended: one vocabulary for the study, the trials table and the console
"""

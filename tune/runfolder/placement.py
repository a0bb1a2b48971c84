"""Where trials ran and how often they failed, read back from what Ray Tune stored.

Trials report their node with every result (see `tune.trainable`); Ray Tune
appends each failure of a trial to its error.txt. On one machine with nothing
gone wrong there is nothing to say; on a cluster these tell which trials
moved after a node died.
"""

from __future__ import annotations

import pandas as pd


def placement(history: pd.DataFrame | None) -> dict:
    """Where a trial ran: its nodes in order of use (short ids) and how often it resumed.

    A trial that moved after a node failure reads e.g. "3f2a9c1d>8b7e6a5f", restarts 1.
    """
    if history is None or "node_id" not in history or not len(history):
        return {"nodes": None, "restarts": 0}
    nodes = [str(node)[:8] for node in history["node_id"].dropna()]
    distinct = [node for i, node in enumerate(nodes) if i == 0 or node != nodes[i - 1]]
    # A restart starts a new worker with a new start time, on the same node or another.
    restarts = max(0, history["started_at"].nunique() - 1) if "started_at" in history else 0
    return {"nodes": ">".join(distinct), "restarts": int(restarts)}


def placement_summary(trials: pd.DataFrame) -> str | None:
    """One line for the search's summary, e.g. "trials ran on 3 nodes; 2 restarted from a checkpoint, 2 failures"."""
    nodes = {node for path in trials["nodes"].dropna() for node in path.split(">")}
    restarted, failures = int((trials["restarts"] > 0).sum()), int(trials["failures"].sum())
    if len(nodes) <= 1 and not restarted and not failures:
        return None  # one machine, nothing went wrong: nothing to say
    plural = "" if len(nodes) == 1 else "s"
    return f"trials ran on {len(nodes)} node{plural}; {restarted} restarted from a checkpoint, {failures} failures"

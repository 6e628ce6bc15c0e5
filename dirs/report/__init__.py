"""Tables and figures of the evaluation (paper §V): ``figures``, ``tables``, and ``paper`` (the
paper's own printed numbers, shown beside ours)."""

"""Tables and figures of the evaluation (paper §V) and the paper's own numbers beside ours."""

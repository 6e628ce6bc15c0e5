# MLflow: one parent run per pipeline invocation; every job opens a child run under it
# (dirs.tracking reads the parent id from the environment the jobs inherit).
import os

from dirs.tracking import PARENT_ENV, end_parent, start_parent


onstart:
    if BASE.tracking.enabled and PARENT_ENV not in os.environ:
        start_parent(
            f"{BASE.tracking.experiment}-{PROFILE}",
            RESULTS,
            tags={"dirs.profile": PROFILE},
        )


onsuccess:
    if BASE.tracking.enabled:
        end_parent("FINISHED", RESULTS)


onerror:
    if BASE.tracking.enabled:
        end_parent("FAILED", RESULTS)

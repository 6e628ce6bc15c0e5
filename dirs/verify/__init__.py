"""Independent checks of the reference optimum's certificates (issue [certify]).

:mod:`dirs.verify.independent` prices and solves one channel sample with code that shares nothing
with :mod:`dirs.solvers` or :mod:`dirs.system` (own power minimisation, brute force, own HiGHS
model); :mod:`dirs.verify.fuzz` generates instances and cross-checks
:func:`dirs.solvers.reference.reference_optimum` against it; :mod:`dirs.verify.stored` re-verifies
the ``lower_bound`` of stored ``optimum.npz`` files (``python -m dirs.verify certificates``).
"""

"""The paper's printed numbers (Jiang et al., §V), shown beside ours in every table.

These are the published values, typed in from the paper on purpose: they are the reference the
reproduced numbers are compared with, never used in a computation of ours.
"""

from __future__ import annotations

#: Table II — imitation accuracy (%) train/test by demonstration count, for L1 and L_D.
TABLE2 = {
    "L1": {64: (90.8, 90.1), 128: (92.4, 91.8), 256: (96.7, 96.3), 512: (96.7, 96.5)},
    "LD": {64: (90.3, 85.5), 128: (92.2, 89.8), 256: (96.6, 93.4), 512: (96.6, 94.3)},
}

#: Table III — DIRS on the large scenario by IoTD placement: objective, time, energy, NRR (vs PSO).
TABLE3 = {
    "uniform": {"objective": 295.27, "time": 215.84, "energy": 79.43, "nrr": 0.9536},
    "gaussian": {"objective": 291.07, "time": 203.76, "energy": 87.31, "nrr": 0.9528},
    "levy": {"objective": 290.38, "time": 201.83, "energy": 88.55, "nrr": 0.9574},
}

#: Table IV — DIRS on the large scenario with other task sizes.
TABLE4 = {
    "d50kb": {"objective": 290.54, "time": 200.37, "energy": 90.17, "nrr": 0.9517},
    "d1000kb": {"objective": 304.89, "time": 225.52, "energy": 79.37, "nrr": 0.9519},
    "f0.5g": {"objective": 147.11, "time": 107.77, "energy": 39.34, "nrr": 0.9524},
    "f2g": {"objective": 587.99, "time": 395.72, "energy": 192.27, "nrr": 0.9508},
}

#: Table V — xlarge: training time (s), inference time (s), average time, average energy.
TABLE5 = {
    "dirs": {"train_s": 434.23, "inference_s": 0.0163, "time": 292.88, "energy": 40.52},
    "ac": {"train_s": 489.64, "inference_s": 0.017, "time": 322.73, "energy": 53.48},
    "ddpg": {"train_s": 517.17, "inference_s": 0.0198, "time": 302.82, "energy": 47.24},
    "pso": {"train_s": None, "inference_s": 1.8565, "time": 293.33, "energy": 40.83},
    "de": {"train_s": None, "inference_s": 1.8699, "time": 293.73, "energy": 40.69},
}

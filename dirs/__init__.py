"""DIRS: distributed intelligent resource scheduling for large MEC systems (Jiang et al., IEEE IoT J.).

Reference implementation as a reproducible workflow: the MEC system model with exact resource
allocation and exact optimum, the DIRS learner (multi-agent ensemble DRL with Lévy-flight action
refinement and imitation acceleration), every baseline, and every experiment of the paper.
"""

__version__ = "0.1.0"

"""Decision-space solvers: exact optimum, heuristics, local search (and Lévy flight, PSO, DE)."""

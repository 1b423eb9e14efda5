"""CMA-ES: the strategy on the unit cube and the searcher around it (private)."""

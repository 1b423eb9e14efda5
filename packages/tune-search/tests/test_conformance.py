"""Every searcher in tune-search runs the conformance kit."""

from tune_search import BasicVariantGenerator, ConcurrencyLimiter, QuasiRandomSearch, RandomSearch, Repeater
from tune_search.testing import SearcherConformance


class TestRandomSearch(SearcherConformance):
    def make_searcher(self, seed):
        return RandomSearch(seed=seed)


class TestBasicVariantGenerator(SearcherConformance):
    def make_searcher(self, seed):
        return BasicVariantGenerator(random_state=seed)


class TestSobolSearch(SearcherConformance):
    def make_searcher(self, seed):
        return QuasiRandomSearch(seed=seed, method="sobol")


class TestHaltonSearch(SearcherConformance):
    def make_searcher(self, seed):
        return QuasiRandomSearch(seed=seed, method="halton")


class TestConcurrencyLimiter(SearcherConformance):
    def make_searcher(self, seed):
        return ConcurrencyLimiter(RandomSearch(seed=seed), max_concurrent=2, batch=True)


class TestRepeater(SearcherConformance):
    def make_searcher(self, seed):
        return Repeater(QuasiRandomSearch(seed=seed), repeat=1, set_index=False)

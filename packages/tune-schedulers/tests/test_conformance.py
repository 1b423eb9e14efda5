"""Every scheduler in tune-schedulers runs the conformance kit."""

from tune_schedulers import (
    ASHAScheduler,
    FIFOScheduler,
    HyperBandForBOHB,
    HyperBandScheduler,
    MedianStoppingRule,
    PopulationBasedTraining,
    PromotionASHAScheduler,
    ResourceChangingScheduler,
)
from tune_schedulers.testing import SchedulerConformance
from tune_trial import Resources


class TestFIFO(SchedulerConformance):
    uses_metric = False

    def make_scheduler(self, metric, mode):
        return FIFOScheduler(metric=metric, mode=mode)


class TestASHA(SchedulerConformance):
    def make_scheduler(self, metric, mode):
        return ASHAScheduler(metric=metric, mode=mode, max_t=27, grace_period=1, reduction_factor=3)


class TestASHAWithBrackets(SchedulerConformance):
    def make_scheduler(self, metric, mode):
        return ASHAScheduler(metric=metric, mode=mode, max_t=27, reduction_factor=3, brackets=3, seed=0)


class TestPromotionASHA(SchedulerConformance):
    def make_scheduler(self, metric, mode):
        return PromotionASHAScheduler(metric=metric, mode=mode, max_t=27, grace_period=1, reduction_factor=3)


class TestMedianStoppingRule(SchedulerConformance):
    def make_scheduler(self, metric, mode):
        return MedianStoppingRule(
            time_attr="training_iteration", metric=metric, mode=mode, grace_period=2, min_samples_required=3
        )


class TestMedianStoppingRuleSoftStop(SchedulerConformance):
    def make_scheduler(self, metric, mode):
        return MedianStoppingRule(
            time_attr="training_iteration", metric=metric, mode=mode, grace_period=1, min_time_slice=3, hard_stop=False
        )


class TestPopulationBasedTraining(SchedulerConformance):
    def make_scheduler(self, metric, mode):
        return PopulationBasedTraining(
            time_attr="training_iteration",
            metric=metric,
            mode=mode,
            perturbation_interval=3,
            hyperparam_mutations={"scale": [0.8, 0.9, 1.0, 1.1, 1.2]},
            seed=0,
        )


class TestHyperBand(SchedulerConformance):
    def make_scheduler(self, metric, mode):
        return HyperBandScheduler(metric=metric, mode=mode, max_t=27, reduction_factor=3)


class TestSynchronousPopulationBasedTraining(SchedulerConformance):
    def make_scheduler(self, metric, mode):
        return PopulationBasedTraining(
            time_attr="training_iteration",
            metric=metric,
            mode=mode,
            perturbation_interval=4,
            hyperparam_mutations={"scale": [0.8, 0.9, 1.0, 1.1, 1.2]},
            quantile_fraction=0.5,
            synch=True,
            seed=1,
        )


class TestResourceChangingScheduler(SchedulerConformance):
    def make_scheduler(self, metric, mode):
        scheduler = ResourceChangingScheduler(ASHAScheduler(metric=metric, mode=mode, max_t=27, reduction_factor=3))
        scheduler.set_search_properties(metric, mode, total_resources=Resources(cpu=8))
        return scheduler


class TestHyperBandForBOHB(SchedulerConformance):
    def make_scheduler(self, metric, mode):
        return HyperBandForBOHB(metric=metric, mode=mode, max_t=27, reduction_factor=3)

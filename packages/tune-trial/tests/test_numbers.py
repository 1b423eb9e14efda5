import math
import numbers
from decimal import Decimal
from fractions import Fraction

import pytest

from tune_trial import as_number


@pytest.mark.parametrize("value", [0, 3, -2.5, Fraction(1, 4), math.inf, -math.inf])
def test_real_numbers_are_numbers(value):
    assert as_number(value) == float(value)
    assert type(as_number(value)) is float


def test_nan_is_a_number():
    number = as_number(math.nan)
    assert number is not None
    assert math.isnan(number)


@pytest.mark.parametrize("value", [True, False, None, "0.5", [1.0], {"x": 1.0}, Decimal("0.5"), 1j])
def test_everything_else_is_not(value):
    assert as_number(value) is None


class _Scalar:
    """A real number that is no Python number, the way numpy's float32 is one: registered as Real."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __float__(self) -> float:
        return self.value


numbers.Real.register(_Scalar)


def test_registered_real_types_are_numbers():
    """numpy registers its scalar types as ``numbers.Real`` (tune-search's tests pass numpy's own)."""
    assert as_number(_Scalar(0.5)) == 0.5

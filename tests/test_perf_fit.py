"""The fitted efficiency factors: reproducible from the calibration data, accurate on held-out rows and on the
published serving numbers (REFERENCE.md section 3)."""

from __future__ import annotations

import numpy as np
import pytest

from inferplan.perf import default_coefficients
from inferplan.perf.fit import CALIBRATION_REL, fit_calibration, h100, predict_rows, read_calibration
from inferplan.perf.published import PUBLISHED, predict


@pytest.fixture(scope="module")
def rows(shared_data):
    return read_calibration(shared_data / CALIBRATION_REL)


def test_calibration_holdout_median_error_under_15_percent(rows, catalog):
    held = [r for r in rows if r.held_out]
    assert 15 <= len(held) < len(rows) / 2
    pred = predict_rows(held, default_coefficients(), h100(catalog))
    err = np.abs(pred / np.array([r.seconds for r in held]) - 1)
    assert np.median(err) < 0.15


def test_shipped_coefficients_reproduce_from_the_fit(rows, catalog):
    refit = fit_calibration([r for r in rows if not r.held_out], h100(catalog))
    shipped = default_coefficients().model_dump()
    for k, v in refit.items():
        assert v == pytest.approx(shipped[k], rel=0.02, abs=1e-6), k


def test_published_median_error_under_30_percent(catalog):
    c = default_coefficients()
    err = [abs(predict(catalog, r, c) / r.tokens_per_s - 1) for r in PUBLISHED]
    assert np.median(err) < 0.30

"""A contract's payments sum to its stated value, whatever its ramp, term and the period length.

The value is spread over the term in proportion to capacity-hours: each ramp level weighs by the time it
covers (a plain average of the levels overpaid AWS's $38B deal by $3B on the reference).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gigawatt.periods import label_start, to_label


def _build(tmp_path, *, step, end_year, start_label, term_months, levels, value):
    """Portfolio with one capacity contract; ``levels`` maps each period label of the horizon to a level."""
    from gigawatt.portfolio import Portfolio
    from gigawatt.scenario.load import read
    from gigawatt.scenario.validate import validate
    from helpers import TEST_ACCELERATORS

    ramp = "{" + ", ".join(f"'{k}': {v}" for k, v in levels.items()) + "}" if levels else "flat"
    text = (f"meta: {{name: test}}\nhorizon: {{start: '{FIRST[step]}', end: '{end_year}', step: {step}, discount_rate: 0%}}\n"
            + TEST_ACCELERATORS
            + "providers:\n  aws: {kind: cloud, offers: {h100: {on_demand_price: 1 USD/h}}}\n"
            + f"contracts:\n  deal: {{counterparty: aws, kind: capacity, accelerator: h100, start: '{start_label}', "
            + f"term: {term_months} months, chips: 100, value: {value} USD, take_or_pay: 100%, ramp: {ramp}, source: test}}\n"
            + "workloads:\n  chat: {kind: inference, demand: 0 H100_hours}\n")
    path = tmp_path / f"s_{step}_{end_year}.yaml"
    path.write_text(text)
    resolved = read(path)
    return Portfolio.from_scenario(validate(resolved), resolved)


def _payments(p) -> pd.Series:
    return p.data["contract_fixed_payment_usd"].sel(supply="contract:deal").to_pandas()


FIRST = {"year": "2025", "quarter": "2025Q1", "month": "2025-01"}
LAST = {"year": "2031", "quarter": "2031Q4", "month": "2031-12"}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(step=st.sampled_from(["year", "quarter", "month"]), start_month=st.integers(0, 23),
       term_months=st.integers(1, 60), cut_months=st.integers(1, 72), data=st.data(),
       value=st.floats(1e6, 1e12))
def test_payments_sum_to_the_value_and_do_not_depend_on_the_horizon_end(tmp_path, step, start_month, term_months,
                                                                        cut_months, data, value):
    start = pd.Timestamp("2025-01-01") + pd.DateOffset(months=start_month)
    start_label = to_label(start, "month")
    # the long horizon holds the whole term (it ends 2031-12 at the latest); the short one cuts it
    long_p = _build(tmp_path, step=step, end_year=LAST[step], start_label=start_label, term_months=term_months,
                    levels={}, value=value)
    labels = list(long_p.horizon.labels)
    cover = long_p.data["contract_capacity_chips"].sel(supply="contract:deal").to_numpy() / 100  # flat ramp
    in_term = [lab for lab, c in zip(labels, cover) if c > 0]
    cut_at = start + pd.DateOffset(months=cut_months)
    short_labels = [lab for lab in labels if label_start(lab) < cut_at and label_start(lab) >= pd.Timestamp("2025")]
    short_in_term = [lab for lab in in_term if lab in short_labels]
    if not short_in_term or label_start(short_labels[-1]) < start:  # portfolio rejects a start past the last
        return                                                           # period's start
    # random levels up to the short horizon's end, then its last level (what the short horizon assumes)
    drawn = data.draw(st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.6, 1.0]), min_size=len(short_in_term),
                               max_size=len(short_in_term)))
    if sum(drawn) == 0:
        drawn[-1] = 1.0
    levels = dict(zip(short_in_term, drawn))
    levels.update({lab: drawn[-1] for lab in in_term if lab not in levels})
    long_p = _build(tmp_path, step=step, end_year=LAST[step], start_label=start_label, term_months=term_months,
                    levels=levels, value=value)
    full = _payments(long_p)
    assert full.sum() == pytest.approx(value, rel=1e-9)
    # payments by period are proportional to capacity-hours: each level weighs by the hours it covers
    cap_hours = (long_p.data["contract_capacity_chips"].sel(supply="contract:deal") * long_p.data["hours"]).to_pandas()
    assert np.allclose(full.to_numpy(), value * cap_hours.to_numpy() / cap_hours.sum(), rtol=1e-9, atol=1e-6)
    # a horizon that ends inside the term pays the same in the periods it shares (the rest falls after it)
    short_p = _build(tmp_path, step=step, end_year=short_labels[-1], start_label=start_label,
                     term_months=term_months, levels={k: levels[k] for k in short_in_term}, value=value)
    short = _payments(short_p)
    assert np.allclose(short.to_numpy(), full.loc[short.index].to_numpy(), rtol=1e-9, atol=1e-6)


def test_reference_contracts_pay_their_value():
    """The reference's fully-inside-the-horizon contracts pay exactly their value (aws_38b paid $41.05B)."""
    from pathlib import Path

    from gigawatt.finance import commitments
    from gigawatt.portfolio import Portfolio
    from gigawatt.scenario.load import read
    from gigawatt.scenario.validate import validate
    from helpers import ROOT

    resolved = read(Path(ROOT / "scenarios" / "openai.yaml"))
    p = Portfolio.from_scenario(validate(resolved), resolved)
    pay = p.data["contract_fixed_payment_usd"].sum("period").to_pandas()
    com = commitments(p)
    aws = pay["contract:aws_38b"] / p.contracts.at["aws_38b", "take_or_pay"]
    assert aws == pytest.approx(com.at["aws_38b", "value_usd"], rel=1e-9)

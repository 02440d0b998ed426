"""Claims are computed from tidy rows: synthetic frames where the answer is known."""

import math

import pandas as pd
import pytest

from explain_utils.claims import (
    Claim,
    breakdown_table,
    check_c1,
    check_c2,
    check_c3,
    check_c4,
    check_c5,
    check_c6,
    claims_table,
    curve_table,
    lead_over_none,
    read_claims,
    seed_accuracies,
    steps_to_threshold,
    verdict,
    write_claims,
)


def final_rows(acc: dict, task="listops", split="test", key="params"):
    rows = []
    for (group, level), values in acc.items():
        for seed, v in enumerate(values):
            rows.append(
                {
                    "model": f"m{group}",
                    "params": group if key == "params" else 1,
                    "train_size": group if key == "train_size" else 10,
                    "task": task,
                    "level": level,
                    "seed": seed,
                    "stage": "final",
                    "split": split,
                    "depth": "all",
                    "length_bucket": "all",
                    "step": 100,
                    "metric": "accuracy",
                    "value": v,
                }
            )
    return pd.DataFrame(rows)


def test_c1_holds_and_fails():
    good = final_rows({(1, "none"): [0.3, 0.32, 0.31], (1, "long"): [0.6, 0.62, 0.61]})
    assert check_c1(good).holds is True
    bad = final_rows({(1, "none"): [0.3, 0.32, 0.31], (1, "long"): [0.4, 0.42, 0.41]})
    claim = check_c1(bad)
    assert claim.holds is False and "+10.0 points" in claim.ours


def test_c2_compares_smallest_and_largest():
    frame = final_rows(
        {
            (1, "short"): [0.4] * 3,
            (1, "long"): [0.7] * 3,
            (9, "short"): [0.8] * 3,
            (9, "long"): [0.85] * 3,
        }
    )
    assert check_c2(frame).holds is True
    frame = final_rows(
        {
            (1, "short"): [0.4] * 3,
            (1, "long"): [0.45] * 3,
            (9, "short"): [0.5] * 3,
            (9, "long"): [0.85] * 3,
        }
    )
    assert check_c2(frame).holds is False


def test_c3_chance_and_best():
    frame = final_rows(
        {(1, "none"): [0.11, 0.09, 0.1], (1, "long"): [0.8, 0.75, 0.77]}, task="modular_sum"
    )
    assert check_c3(frame, modulus=10).holds is True
    frame = final_rows(
        {(1, "none"): [0.3, 0.3, 0.3], (1, "long"): [0.8, 0.75, 0.77]}, task="modular_sum"
    )
    assert check_c3(frame, modulus=10).holds is False


def test_c4_uses_smallest_train_size():
    frame = final_rows(
        {
            (250, "none"): [0.2] * 3,
            (250, "medium"): [0.4] * 3,
            (4000, "none"): [0.5] * 3,
            (4000, "medium"): [0.5] * 3,
        },
        key="train_size",
    )
    assert check_c4(frame).holds is True


def test_c5_needs_separated_intervals():
    apart = final_rows(
        {(1, "none"): [0.2, 0.22, 0.21], (1, "medium"): [0.5, 0.52, 0.51]}, split="test_long"
    )
    assert check_c5(apart).holds is True
    overlapping = final_rows(
        {(1, "none"): [0.2, 0.4, 0.3], (1, "medium"): [0.25, 0.45, 0.35]}, split="test_long"
    )
    assert check_c5(overlapping).holds is False


def curve(level, steps_values, seed=0):
    return [
        {
            "model": "m",
            "params": 1,
            "task": "listops",
            "level": level,
            "seed": seed,
            "stage": "curve",
            "split": "validation",
            "depth": "all",
            "length_bucket": "all",
            "step": s,
            "metric": "accuracy",
            "value": v,
        }
        for s, v in steps_values
    ]


def test_c6_steps_to_threshold_order():
    rows = (
        curve("long", [(100, 0.6)])
        + curve("medium", [(100, 0.3), (200, 0.6)])
        + curve("short", [(100, 0.2), (200, 0.3)])
    )
    frame = pd.DataFrame(rows)
    steps = steps_to_threshold(frame, 0.5).set_index("level")["steps_to_threshold"]
    assert steps["long"] == 100 and steps["medium"] == 200 and math.isinf(steps["short"])
    assert check_c6(frame, 0.5).holds is True
    rows = (
        curve("long", [(100, 0.3), (200, 0.6)])
        + curve("medium", [(100, 0.6)])
        + curve("short", [(100, 0.6)])
    )
    assert check_c6(pd.DataFrame(rows), 0.5).holds is False


def test_missing_levels_are_not_measured():
    frame = final_rows({(1, "none"): [0.3] * 3})
    table = claims_table([check_c1(frame), check_c2(frame)])
    assert list(table["holds"]) == ["not measured", "not measured"]


@pytest.mark.parametrize("check", [check_c1, check_c2, check_c4, check_c5])
def test_empty_frame(check):
    empty = final_rows({})
    empty = pd.DataFrame(
        columns=[
            "model",
            "params",
            "train_size",
            "task",
            "level",
            "seed",
            "stage",
            "split",
            "depth",
            "length_bucket",
            "step",
            "metric",
            "value",
        ]
    )
    assert check(empty).holds is None


def test_breakdown_table_orders_buckets_numerically():
    rows = []
    for bucket, split, acc in (
        ("15-18", "test_long", 0.2),
        ("8-10", "test", 0.5),
        ("1-7", "test", 0.6),
    ):
        for seed in range(3):
            rows.append(
                {
                    "model": "m",
                    "params": 1,
                    "task": "listops",
                    "level": "none",
                    "seed": seed,
                    "stage": "final",
                    "split": split,
                    "depth": "all",
                    "length_bucket": bucket,
                    "metric": "accuracy",
                    "value": acc,
                }
            )
    frame = pd.DataFrame(rows)
    table = breakdown_table(frame, "length_bucket", splits=("test", "test_long"))
    assert table["length_bucket"].tolist() == ["1-7", "8-10", "15-18"]
    assert table["mean"].tolist() == pytest.approx([0.6, 0.5, 0.2])
    assert breakdown_table(frame, "length_bucket").shape[0] == 2  # test split only by default


def test_curve_table_means_over_seeds():
    rows = [
        {
            "model": "m",
            "params": 1,
            "task": "listops",
            "level": "long",
            "seed": seed,
            "stage": "curve",
            "step": step,
            "metric": "accuracy",
            "value": value,
        }
        for seed, values in enumerate([(0.1, 0.5), (0.3, 0.7)])
        for step, value in zip((10, 20), values, strict=True)
    ]
    table = curve_table(pd.DataFrame(rows))
    assert table["step"].tolist() == [10, 20]
    assert table["mean"].tolist() == pytest.approx([0.2, 0.6])


def test_claims_round_trip_through_disk_in_claim_order(tmp_path):
    c1 = check_c1(final_rows({(1, "none"): [0.3] * 3, (1, "long"): [0.6] * 3}))
    c10 = Claim("C10", "s", "p", "o", None)
    write_claims([c10], tmp_path / "b.csv")
    write_claims([c1], tmp_path / "a.csv")
    table = read_claims(tmp_path)
    assert table["claim"].tolist() == ["C1", "C10"]
    assert table["holds"].tolist() == ["yes", "not measured"]
    assert verdict(c1) == "holds" and verdict(c10) == "not measured"
    with pytest.raises(FileNotFoundError, match="run notebooks 02-05"):
        read_claims(tmp_path / "empty")


def test_reported_interval_stays_within_accuracy_range():
    frame = final_rows(
        {(1, "none"): [0.1, 0.1, 0.11], (1, "long"): [0.44, 0.68, 0.9]}, task="modular_sum"
    )
    ours = check_c3(frame, modulus=10).ours
    low, high = (float(x) for x in ours.rsplit("[", 1)[1].rstrip("]").split(","))
    assert 0.0 <= low < high <= 100.0, ours


def test_seed_accuracies_and_lead_over_none_for_prose():
    frame = final_rows(
        {(1, "none"): [0.1, 0.12], (1, "long"): [0.9, 0.5], (2, "long"): [0.3, 0.3]},
        task="modular_sum",
    )
    assert seed_accuracies(frame, "long", task="modular_sum") == "50.0 %, 90.0 %"
    assert seed_accuracies(frame, "long", task="modular_sum", params=2) == "30.0 %, 30.0 %"
    assert seed_accuracies(frame, "short", task="modular_sum") == "not measured"
    table = pd.DataFrame(
        {
            "depth": ["1", "1", "2", "2"],
            "level": ["none", "long", "none", "long"],
            "mean": [0.5, 0.6, 0.3, 0.5],
        }
    )
    assert lead_over_none(table, "depth", "long") == "depth 1: +10.0 points, depth 2: +20.0 points"
    assert lead_over_none(table, "depth", "short") == "not measured"

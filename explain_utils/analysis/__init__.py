"""From runs to numbers: tidy results (one row per run x metric) with means and intervals over
seeds, paired bootstrap comparisons on the same seeds and rows, trivial baselines on the same
rows, the tables behind claims and figures (accuracies, curves, plateaus, contrasts), where a
generated explanation first goes wrong, and chapter 5's quadratic fit in the prompt-loss weight.
"""

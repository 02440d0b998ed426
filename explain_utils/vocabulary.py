"""The shared vocabulary at the bottom of the package: names every other module agrees on.

Nothing here imports from ``explain_utils``; every module may import from here (the import test
checks that the package's imports form no cycle).
"""

from __future__ import annotations

LEVELS: tuple[str, ...] = ("none", "short", "medium", "long")
TASKS: tuple[str, ...] = ("listops", "modular_sum")
SCHEDULERS: tuple[str, ...] = ("linear", "cosine", "constant", "constant_with_warmup")
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
# decoder-only: completion | plw | im; encoder-decoder: completion
LOSS_MODES: tuple[str, ...] = ("completion", "plw", "im")
# how a prompt-weighted loss is divided: by the sum of the weights (Huerta-Enochian & Ko's
# reference implementation) or by the completion tokens alone (so the prompt weight only adds
# prompt gradient and leaves the completion's step size as it is)
LOSS_NORMALIZATIONS: tuple[str, ...] = ("weights", "completion")
PROFILES: tuple[str, ...] = ("smoke", "quick", "paper")
DEFAULT_PROFILE = "quick"

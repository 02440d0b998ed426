"""The papers' claims judged on our tidy results: a claim's row (the paper's figure, ours, the
paired difference, its interval and the verdict), Ballout et al.'s C1-C6 on ListOps, C5 again
with the book's best explanation format, and the prompt-loss papers' C7 (PLW) and C8 (IM).
"""

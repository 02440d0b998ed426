"""The parameters of each study as one table per profile (``smoke`` / ``quick`` / ``paper``),
each module's ``PROFILE_VALUES``: the data (chapter 1), the explanation experiments (chapters
2-4), the prompt-loss study (chapter 5) and one's own data (chapter 6). Each ``*_config``
function merges a notebook's overrides onto its profile and validates them before any work.
"""

"""The training and evaluation engine: a word-level tokenizer built from the data, model presets
and pretrained checkpoints, encoding and batching, the token losses (completion, prompt-loss
weight, instruction modelling), ``TrainConfig`` and ``train`` (one entry point for every run, on
``transformers``' ``Trainer``), batched greedy evaluation, the run store that caches each run
under a key of everything that decides its numbers, and the parallel grid of runs.
"""

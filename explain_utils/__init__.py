"""Helper package for the book: ListOps data with explanations, training, evaluation and plots.

Module map, bottom to top (a module imports only from its own row or the rows above it; the
architecture test, tests/test_architecture.py, checks this and that there is no import cycle):

- ``vocabulary``   the names every module shares: levels, tasks, schedulers, loss modes, profiles
- ``validation``   parameter checks whose errors name the parameter and the allowed values
- ``storage``      atomic writes;  ``progress``  progress bars that stay off in papermill runs
- ``listops``      parse, evaluate, format and generate ListOps expressions; read the original TSV
- ``explanations`` target texts at the levels none/short/medium/long; parse answers back out
- ``data``         ``DataConfig``; disjoint splits saved as Parquet with a data card
- ``tokenization`` word-level tokenizer built from the data; the decoder-only prompt template
- ``models``       T5 / Llama presets from a config; pretrained checkpoints by name or path
- ``runs``         run directories: cache keys (config, data and checkpoint content), results on disk
- ``batching``     encode once; collation into padded tensors
- ``losses``       token weights for target, completion-only, PLW and IM losses; the normaliser
- ``evaluation``   batched greedy generation (budget from the train split); accuracy, steps, faithfulness
- ``training``     ``train``: one entry point for every run (``train_config``: ``TrainConfig``;
  ``trainer``: our pieces of ``transformers``' ``Trainer``)
- ``results``      tidy rows (one per run x metric), means with 95 % CIs over seeds; ``stats``
  paired bootstrap and verdicts; ``baselines`` trivial baselines on the same rows
- ``plw_fit``      chapter 5's quadratic fit in w_p;  ``plots*``  one colour per explanation level
- ``claims*``      the claims checked on tidy rows
- ``profiles``     the ``smoke`` / ``quick`` / ``paper`` parameter sets, validated (data here,
  chapters 2-4 in ``experiment_profiles``, chapter 5 in ``ablation_profiles``, shared checks in
  ``profile_checks``)
- ``experiments``  a grid of runs: cache hits first, the rest in parallel workers; chapters 2-4's grids
- ``prompt_loss``  chapter 5's data types and grid;  ``bench``  engine throughput figures
- ``calibrate``    ``make calibrate``: chapters 2-4's learning rate per cell, chosen on validation
- ``run_book``     runs the notebooks in ``_toc.yml`` order through papermill
"""

__version__ = "0.1.0"

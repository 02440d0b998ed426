"""Helper package for the book: ListOps data with explanations, training, evaluation and plots.

Module map (data flows down this list, never up):

- ``validation``   parameter checks whose errors name the parameter and the allowed values
- ``profiles``     the ``smoke`` / ``quick`` / ``paper`` parameter sets, validated
- ``listops``      parse, evaluate, format and generate ListOps expressions; read the original TSV
- ``explanations`` target texts at the levels none/short/medium/long; parse answers back out
- ``data``         disjoint splits saved as Parquet with a data card
- ``tokenization`` word-level tokenizer built from the data; the decoder-only prompt template
- ``models``       T5 / Llama presets from a config; pretrained checkpoints by name or path
- ``batching``     encode once, length-bucketed batches, collation
- ``losses``       target cross-entropy; prompt-weighted loss (PLW) and instruction modelling (IM)
- ``runs``         run directories: cache keys, checkpoints, results on disk
- ``training``     ``TrainConfig`` and ``train``: one entry point for every run
- ``evaluation``   batched greedy generation; accuracy, step accuracy, faithfulness
- ``experiments``  a grid of runs: cache hits first, the rest in parallel workers
- ``results``      tidy rows (one per run x metric), means with 95 % CIs over seeds
- ``plots``        figures with one colour per explanation level across the book
- ``storage``      atomic writes
- ``run_book``     runs the notebooks in ``_toc.yml`` order through papermill
- ``bench``        engine throughput, padding and evaluation speed-up figures
"""

__version__ = "0.1.0"

"""The book's helper package: explained ListOps, training, evaluation, claims and figures.

The module map. Each folder is a layer; the layers follow the data flow, bottom to top, and a module
imports only from its own folder or a lower layer (``tests/test_architecture.py`` reads the layers
from the folders and checks this, and that there is no import cycle).

``common/``    what every layer shares
    ``names`` the names the package agrees on (levels, formats, tasks, profiles, loss modes);
    ``checks`` parameter checks whose errors name the parameter and the allowed values;
    ``files`` atomic writes; ``progress`` progress bars that stay off in papermill runs.
``tasks/``     the data a model learns from
    ``listops`` parse, evaluate, format and generate expressions, read the original TSV;
    ``explanations`` targets at none / short / medium / long, answers and steps parsed back;
    ``formats`` the book's other explanation formats; ``splits`` ``DataConfig``, disjoint splits
    as Parquet with a data card; ``own_data`` one's own CSV / JSONL file checked and written as a
    task; ``prompt_loss_data`` chapter 5's pre-training corpus, its data types (two kinds of
    prompt at one R_g, and the expression alone) and the capability check's prompts.
``engine/``    training and evaluation
    ``tokenization`` a word-level tokenizer built from the train split; ``models`` presets and
    pretrained checkpoints; ``batching`` encode once, pad into tensors; ``losses`` token weights
    for completion, PLW and IM losses; ``train_config`` ``TrainConfig``; ``trainer`` our pieces of
    ``transformers``' ``Trainer``; ``training`` ``train``, one entry point for every run;
    ``evaluation`` batched greedy generation and exact metrics; ``decoding`` the greedy loop that
    drops finished rows from a batch; ``run_store`` a run's directory, cache key and result;
    ``grid`` a grid of runs, cache hits first, the rest in parallel workers.
``analysis/``  from runs to numbers
    ``results`` tidy rows (one per run x metric), means with 95 % intervals over seeds; ``stats``
    paired bootstrap and the verdict words; ``baselines`` rules that need no model, on the same
    rows; ``tables`` accuracies, curves, steps to a fixed accuracy, the calibration tables and
    paired contrasts; ``step_errors`` where an
    explanation first goes wrong; ``plw_fit`` chapter 5's quadratic fit in the prompt-loss weight.
``claims/``    the papers' claims judged on our rows
    ``claim`` a claim's row and its files; ``listops`` C1-C6; ``formats`` C5 with the book's best
    format; ``prompt_loss`` C7 (PLW) and C8 (IM). A claim that compares a cell still learning is
    inconclusive (``claim.with_still_learning``).
``plots/``     the figures: ``style`` colours and shared pieces; ``data`` chapter 1;
    ``accuracy``; ``curves``; ``prompt_loss`` chapter 5; ``claims`` the claims figure.
``profiles/``  one table of parameters per study and profile (smoke / quick / paper), validated:
    ``checks`` what every profile shares; ``data``; ``explanations`` chapters 2-4;
    ``prompt_loss`` chapter 5; ``own_data`` chapter 6.
``studies/``   the runs each study trains, from its profile: ``explanations`` chapters 2-4 and
    ``make calibrate``; ``prompt_loss`` chapter 5; ``capability`` what chapter 5's pre-trained
    model does before fine-tuning; ``own_data`` chapter 6.
``chapters/``  what each notebook computes and the sentences it glues: ``data_generation`` (1),
    ``fine_tuning`` (2), ``data_efficiency`` (3), ``length_generalization`` and
    ``explanation_formats`` (4), ``prompt_loss`` and ``prompt_loss_findings`` (5), ``own_data``
    (6), ``claims`` (the claims page); ``prose`` the phrases they share (a verdict's words, lists,
    trends); ``notebook`` glue and the run-cost sentence.

At the top, the command-line tools: ``run_book`` runs the notebooks in ``_toc.yml`` order (``make
book``); ``lab`` runs one chapter in a scratch folder; ``calibrate`` chooses chapters 2-4's
learning rates on validation, then their steps by doubling them while a longer run ends higher
(``make calibrate``); ``bench`` the engine's throughput figures.
"""

__version__ = "0.1.0"

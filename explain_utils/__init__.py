"""Helper package for the book: ListOps data with explanations, training, evaluation and plots.

Module map (data flows down this list, never up):

- ``validation``   parameter checks whose errors name the parameter and the allowed values
- ``profiles``     the ``smoke`` / ``quick`` / ``paper`` parameter sets, validated
- ``listops``      parse, evaluate, format and generate ListOps expressions; read the original TSV
- ``explanations`` target texts at the levels none/short/medium/long; parse answers back out
- ``data``         disjoint splits saved as Parquet with a data card
- ``storage``      atomic writes
- ``plots``        figures with one colour per explanation level across the book
"""

__version__ = "0.1.0"

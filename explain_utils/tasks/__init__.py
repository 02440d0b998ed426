"""The tasks and their data: ListOps expressions (parse, evaluate, generate), their explanations at
the levels none / short / medium / long and the book's other formats, disjoint splits saved as
Parquet with a data card, one's own explained data read from a CSV or JSONL file, and chapter 5's
pre-training corpus and prompt layouts. Everything a model trains on is written here; nothing here
knows about models.
"""

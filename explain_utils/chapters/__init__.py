"""What each notebook computes and says: the tables, figures' data and the sentences it glues,
computed from this run's results so that a rerun with any profile renders prose that agrees
with its own numbers. A module per chapter, named after it (a chapter of two concerns has
two), beside the phrases they share and what every notebook does alike.
"""

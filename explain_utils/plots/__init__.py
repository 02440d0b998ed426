"""The book's figures, one colour per explanation level everywhere: the shared style and pieces,
the data figures of chapter 1, accuracy figures with their baselines, learning curves, chapter
5's prompt-loss figures and the claims figure. Every function returns its figure.
"""

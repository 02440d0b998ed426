"""The runs each study trains, built from its validated profile: chapters 2-4's grids (and
``make calibrate``'s learning-rate grid), chapter 5's pre-training, selection and prompt-loss
sweeps, chapter 6's runs on one's own data. A study lists ``TrainConfig`` values; the engine's
grid runs them.
"""

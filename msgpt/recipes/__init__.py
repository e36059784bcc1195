"""What the command-line recipes (``recipes/*.py``) share: their options and checks, the
classification, pre-training and labelling runs, the demo's settings, and the reports a
run leaves behind."""

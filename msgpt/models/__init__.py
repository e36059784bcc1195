"""GPT-1 models: the classifier and the task heads, the language model, label names, and
what a saved model folder records of its training."""

"""The paper's task inputs (sec. 3.3): the names every layer checks a task against."""

from __future__ import annotations

#: One text, a text pair (entailment), a pair read in both orders (similarity), a context
#: with candidate answers (multiple choice).
TASKS = ("single", "pair", "similarity", "choice")
DEFAULT_TASK = "single"


def check_task(task: object) -> str:
    """``task`` when it is one of ``TASKS``, else a ``ValueError`` listing them."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    return task

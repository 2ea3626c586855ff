"""Evaluation: document score, expert committee, conflicts of interest, ranking and selection within budget."""

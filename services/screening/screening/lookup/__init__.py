"""The lookup side of screening, deployable alone: one worker process per registry (`python -m screening worker
--registry NAME`), as many replicas of each as the surge needs, sharing the registry's topic through their
consumer group. The worker asks its registry (adapters), holds what it cannot ask while the registry is away
(circuit), and answers screening with `LookupAnswered` (messages: what is asked and answered, shared with the
screening service); the prior-project similarity (duplicates) runs here too."""

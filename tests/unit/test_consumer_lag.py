"""Consumer lag per topic from offsets (sme_runtime.lag.lag_per_topic)."""
from aiokafka import TopicPartition

from sme_runtime.lag import lag_per_topic

A0, A1, B0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)


def test_waiting_events_are_summed_over_a_topics_partitions():
    assert lag_per_topic({A0: 10, A1: 4, B0: 7}, {A0: 0, A1: 0, B0: 0}, {A0: 8, A1: 4, B0: 0}) == {"a": 2, "b": 7}


def test_a_partition_never_committed_waits_from_its_first_retained_offset():
    assert lag_per_topic({A0: 100}, {A0: 60}, {A0: None}) == {"a": 40}
    assert lag_per_topic({A0: 100}, {A0: 60}, {A0: -1}) == {"a": 40}


def test_a_commit_past_the_end_is_no_negative_lag():
    assert lag_per_topic({A0: 5}, {A0: 0}, {A0: 9}) == {"a": 0}

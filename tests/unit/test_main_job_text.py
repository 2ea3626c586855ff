"""The main job's terminal text: display-width columns, cuts at a word with "…", one form for instants."""
from __future__ import annotations

from datetime import date, datetime, timezone

from hypothesis import given, strategies as st

from deploy.local.show import clip, day, instant, pad, width


def test_hangul_takes_two_columns_so_korean_names_line_up():
    assert width("(주)김포정밀") == 2 + 2 + 8 and width("abc") == 3  # ( ) narrow, 주 김 포 정 밀 wide
    rows = [pad(name, 20) + "|" for name in ("(주)김포정밀", "(주)전류엔지니어링", "ACME Korea")]
    assert {width(r) for r in rows} == {21}


def test_a_long_reason_is_cut_before_the_word_that_does_not_fit_and_says_so():
    reason = "컨설팅 희망분야 '해외부동산 투자자문'이 공고된 지원분야에 없습니다"
    cut = clip(reason, 30)
    assert cut.endswith("…") and width(cut) <= 30
    assert reason.startswith(cut[:-1]) and reason[len(cut) - 1] == " "  # cut where a word ended
    assert clip("짧은 사유", 30) == "짧은 사유"


@given(st.text(min_size=0, max_size=80), st.integers(2, 60))
def test_no_cut_is_wider_than_asked_and_every_cut_is_marked(text, columns):
    cut = clip(text, columns)
    assert width(cut) <= columns or width(text) <= columns
    assert cut == text or cut.endswith("…")
    assert width(pad(text, columns)) == columns or width(text) > columns and width(pad(text, columns)) <= columns


def test_every_instant_prints_one_way_in_kst_and_dates_as_iso():
    assert instant("2026-11-21T09:28:11.909204+00:00") == "2026-11-21 18:28 KST"
    assert instant(datetime(2026, 12, 31, 15, 0, tzinfo=timezone.utc)) == "2027-01-01 00:00 KST"
    assert day("20261013") == day("2026-10-13") == day(date(2026, 10, 13)) == "2026-10-13"

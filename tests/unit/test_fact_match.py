"""A label's facts found in a reply (``knowledge.fact_match``): whatever does not change a fact is
ignored, a number is never found as part of a longer one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.fact_match import canonical, missing_facts, states

# what a reply may do to a fact's spaces: keep, break the line, use a (narrow) no-break space
SPACES = st.sampled_from([" ", "\n", "\u00a0", "\u202f", "\u2009", "  ", " \n  "])
# text around a fact that ends in neither a digit nor a decimal mark
SURROUNDING = st.text(alphabet=st.characters(blacklist_categories=("Nd", "No", "Cs")), max_size=30).filter(
    lambda text: not text.endswith((".", ",", "'", "’")) and not text.startswith((".", ","))
)


@pytest.mark.parametrize(
    ("reply", "fact"),
    [
        ("Notre ligne d’urgence **0800 44 33 22** (gratuite)", "0800 44 33 22"),
        ("call 0800\u00a044\u202f33\n22 today", "0800 44 33 22"),
        ("call 0800443322", "0800 44 33 22"),
        ("eine Ausfallgebühr von CHF 90.– pro halbe Stunde", "CHF 90"),
        ("eine Ausfallgebühr von CHF 90.– pro halbe Stunde", "CHF 90.-"),
        ("CHF 90. – per session", "chf 90"),
        ("Der Jahreszins beträgt 4,9 %.", "4,9 %"),
        ("Der Jahreszins beträgt 4,9\u202f%.", "4.9%"),
        ("rate 4.90 %", "4,9 %"),
        ("bis zu __12__ Monatsraten", "12"),
        ("Ab CHF 1'000.– Rechnungsbetrag", "1000"),
        ("Ab CHF 1’000.– Rechnungsbetrag", "CHF 1 000"),
        ("from CHF 1,000.00", "CHF 1'000"),
        ("ab 1.000 €", "1000"),
        ("from ¥1,200", "1 200"),
        ("Implantat 3'800.– bis 5'200.–", "3800"),
        ("Standard 2–5 días", "2-5"),
        ("Standard 2—5 días", "2–5"),
        ("Email ESCALATIONS@NorthwindGoods.example.", "escalations@northwindgoods.example"),
        ("write to `first_last@shop.example`", "first_last@shop.example"),
        ("签收后 30 天内退货", "30天"),
        ("退货期限是30天", "30 天"),
        ("fees of ３０ EUR", "30 EUR"),
        ("costs 90€", "90"),
        ("costs 90%", "90"),
        ("It costs 90.", "90"),
        ("Mo–Fr 8:00–18:00", "8:00"),
        ("Ihre Patientennummer beginnt mit ZW- und …", "ZW-"),
        ("It’s free", "it's free"),
    ],
)
def test_what_does_not_change_a_fact_is_ignored(reply: str, fact: str) -> None:
    assert states(reply, fact), (canonical(reply), canonical(fact))


@pytest.mark.parametrize(
    ("reply", "fact"),
    [
        ("CHF 190", "90"),
        ("CHF 900", "90"),
        ("CHF 0.90", "90"),
        ("CHF 0,90", "90"),
        ("CHF 90.50", "90"),
        ("90,5 %", "90"),
        ("CHF 1'090.–", "90"),
        ("CHF 90 000", "90"),
        ("4,95 €", "4,9"),
        ("14,9 %", "4,9 %"),
        ("a 10800 44 33 22 line", "0800 44 33 22"),
        ("call 0800 44 33 221", "0800 44 33 22"),
        ("une séance de 90 minutes, CHF 590.–", "CHF 90"),
        ("0848 133 133", "0800 44 33 22"),
        ("1–3 business days", "2–5"),
        ("one to three business days", "1–3"),
    ],
)
def test_a_number_is_never_found_in_a_longer_one_nor_another_fact(reply: str, fact: str) -> None:
    assert not states(reply, fact), (canonical(reply), canonical(fact))


def test_missing_facts_keeps_the_labels_order() -> None:
    reply = "Ab CHF 1'000.– in bis zu 12 Monatsraten."
    assert missing_facts(reply, ["4,9 %", "12", "CHF 1000", "buchhaltung@zahnwerk.ch"]) == [
        "4,9 %",
        "buchhaltung@zahnwerk.ch",
    ]
    assert missing_facts(reply, []) == []


@pytest.mark.parametrize("fact", ["", "   ", "**", "__"])
def test_a_fact_with_nothing_to_look_for_is_refused(fact: str) -> None:
    with pytest.raises(ValueError, match="nothing to look for"):
        states("anything", fact)


@given(
    before=SURROUNDING,
    after=SURROUNDING,
    fact=st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=20
    ).filter(lambda f: canonical(f) != ""),
)
def test_a_fact_written_as_is_is_found(before: str, after: str, fact: str) -> None:
    """Any fact is found in a reply that contains it, between other words."""
    assert states(f"{before} {fact} {after}", fact)


@given(
    words=st.lists(st.from_regex(r"[A-Za-z0-9@.]{1,8}", fullmatch=True), min_size=1, max_size=5),
    spaces=st.lists(SPACES, min_size=4, max_size=4),
    emphasis=st.sampled_from(["", "**", "__", "*", "`"]),
    upper=st.booleans(),
)
def test_spacing_case_and_emphasis_do_not_change_a_fact(
    words: list[str], spaces: list[str], emphasis: str, upper: bool
) -> None:
    fact = " ".join(words)
    written = "".join(w + spaces[i % len(spaces)] for i, w in enumerate(words)).strip()
    written = written.upper() if upper else written
    assert states(f"It is {emphasis}{written}{emphasis}, see above.", fact)


@given(
    amount=st.integers(min_value=1000, max_value=99_999_999),
    separator=st.sampled_from(["'", "’", " ", "\u00a0", "\u202f", ",", "."]),
    labelled=st.sampled_from(["'", " ", ",", ""]),
)
def test_thousands_separators_are_one_number(amount: int, separator: str, labelled: str) -> None:
    reply = f"It costs CHF {amount:,}.– in total.".replace(",", separator)
    fact = f"{amount:,}".replace(",", labelled)
    assert states(reply, fact)


@given(
    number=st.integers(min_value=0, max_value=99_999),
    longer=st.sampled_from(["{d}{n}", "{n}{d}", "{d}.{n}", "{n}.{d}", "{n},{d}", "{d},{n}", "{n}{d}{d}"]),
    digit=st.integers(min_value=1, max_value=9),
)
def test_a_number_is_not_part_of_a_longer_one(number: int, longer: str, digit: int) -> None:
    """``90`` is not in ``190``, ``901``, ``1.90``, ``90.1``…: what is around it must not be digits
    joined to it (a thousands separator or a decimal mark included)."""
    written = longer.format(n=number, d=digit)
    reply = f"The fee is CHF {written}.– per visit."
    if canonical(str(number)) != canonical(written):
        assert not states(reply, str(number)), (reply, canonical(reply))

"""End to end: asking how to reach the company is a question for the documents, asking for a person
is a handoff (a new user's trial: a Polish car-rental firm's contact page was never used).

A small knowledge base written for this test — a car-rental firm's contact page in Polish
(``kontakt.html``) and in English, and its rental terms — ingested by the real pipeline, served by
the real app with no Claude key (extractive mode), no webhook and no ``HANDOFF_CONTACT`` (the
first-run defaults) and the bundled intents. Before the bundled intents had a ``contact`` label, the
phone-number questions below were ``human_agent`` at 0.95–1.0: a ``customer_request`` handoff with
"contact our support team directly" and no passage.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.handoff.messages import handoff_message
from tests.service_harness import Served, ask, in_process, ingested_pages, service_settings

pytestmark = pytest.mark.slow

PHONE = "+48 12 345 67 89"
EMAIL = "biuro@autonajem-krakow.example"

PAGES = {
    "kontakt.html": f"""<!doctype html><html lang="pl"><head><title>Kontakt</title></head><body>
<h1>Kontakt</h1>
<p>Biuro obsługi klienta AutoNajem Kraków odbiera telefony pod numerem {PHONE} od poniedziałku do
piątku w godzinach 8:00–18:00, a w soboty w godzinach 9:00–14:00. W niedziele i święta biuro jest
nieczynne.</p>
<p>Adres e-mail biura obsługi klienta: {EMAIL}. Na wiadomości odpowiadamy w ciągu jednego dnia
roboczego.</p>
<p>Nasze biuro znajduje się przy ulicy Długiej 12 w Krakowie, 31-147 Kraków. Samochody wydajemy także
na lotnisku Kraków-Balice, w hali przylotów, po wcześniejszej rezerwacji.</p>
<p>W razie awarii samochodu poza godzinami pracy biura prosimy dzwonić na całodobowy numer assistance
+48 800 111 222.</p>
</body></html>""",
    "contact.html": f"""<!doctype html><html lang="en"><head><title>Contact us</title></head><body>
<h1>Contact us</h1>
<p>The AutoNajem Krakow customer service office answers the phone on {PHONE} from Monday to Friday,
8:00 to 18:00, and on Saturdays from 9:00 to 14:00. The office is closed on Sundays and public
holidays.</p>
<p>You can write to customer service at {EMAIL}; we answer e-mails within one working day.</p>
<p>Our office is at Długa 12, 31-147 Kraków. Cars can also be collected at Kraków-Balice airport,
in the arrivals hall, when booked in advance.</p>
<p>If the car breaks down outside office hours, call the 24-hour assistance line +48 800 111 222.</p>
</body></html>""",
    "warunki-najmu.html": """<!doctype html><html lang="pl"><head><title>Warunki najmu</title></head>
<body><h1>Warunki najmu</h1>
<p>Najemca musi mieć ukończone 21 lat i od co najmniej dwóch lat posiadać prawo jazdy kategorii B.
Przy odbiorze samochodu pobieramy kaucję w wysokości 1500 zł, blokowaną na karcie kredytowej
najemcy. Kaucja jest zwalniana w ciągu siedmiu dni od zwrotu samochodu.</p>
<p>Samochód wydajemy z pełnym bakiem i należy go zwrócić z pełnym bakiem. Za brakujące paliwo
doliczamy opłatę za tankowanie oraz koszt paliwa.</p>
<p>Rezerwację można bezpłatnie anulować do 48 godzin przed odbiorem samochodu. Przy późniejszej
rezygnacji pobieramy opłatę w wysokości jednej doby najmu.</p>
</body></html>""",
    "rental-terms.html": """<!doctype html><html lang="en"><head><title>Rental terms</title></head>
<body><h1>Rental terms</h1>
<p>The driver must be at least 21 years old and have held a category B driving licence for at least
two years. When the car is collected we hold a deposit of 1500 PLN on the driver's credit card; it
is released within seven days of the car's return.</p>
<p>Cars are handed over with a full tank and must be returned full. Missing fuel is charged at the
cost of the fuel plus a refuelling fee.</p>
<p>A booking can be cancelled free of charge up to 48 hours before collection. Later cancellations
cost one day's rental.</p>
</body></html>""",
}

# How to reach the company: answered from the contact page, in the customer's language.
CONTACT_QUESTIONS = [
    ("Jaki jest numer telefonu do biura obsługi klienta?", "pl", "kontakt.html", PHONE),
    ("Jak mogę się z wami skontaktować?", "pl", "kontakt.html", None),
    ("W jakich godzinach jest czynne biuro w sobotę?", "pl", "kontakt.html", None),
    ("What is your customer service phone number?", "en", "contact.html", PHONE),
    ("How can I contact you?", "en", "contact.html", None),
    ("What is your e-mail address?", "en", "contact.html", EMAIL),
]
# A person now: handed off as the customer's request, whatever the documents say.
PERSON_REQUESTS = [
    ("I want to talk to a person", "en"),
    ("Connect me to an agent, please", "en"),
    ("Czy mogę porozmawiać z konsultantem?", "pl"),
    ("Chcę rozmawiać z człowiekiem, nie z botem", "pl"),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingested_pages(
        PAGES, tmp_path_factory.mktemp("autonajem"), tmp_path_factory.mktemp("autonajem-template")
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Served]:
    settings = service_settings(template, tmp_path_factory.mktemp("contact"))
    assert settings.anthropic.api_key is None and settings.handoff.webhook_url is None
    assert settings.handoff.contact == {} and settings.router.intents_file is None
    with in_process(settings) as running:
        yield running


@pytest.mark.parametrize(("question", "language", "page", "detail"), CONTACT_QUESTIONS)
def test_a_question_about_how_to_reach_the_company_is_answered_from_the_contact_page(
    served: Served, question: str, language: str, page: str, detail: str | None
) -> None:
    answer = ask(served.client, question)
    assert answer.meta["language"] == language
    assert answer.meta["intent"]["intent"] == "contact", answer.meta["intent"]
    assert answer.meta["handoff"] is None and answer.done["handoff"] is None
    assert answer.done["stop_reason"] == "extractive" and answer.meta["mode"] == "extractive"
    assert answer.meta["citations"][0]["doc_id"] == page, answer.meta["citations"]
    if detail is not None:  # the quoted passage gives it (the company's own, never redacted)
        assert detail in answer.text, answer.text


@pytest.mark.parametrize(("question", "language"), PERSON_REQUESTS)
def test_a_request_for_a_person_still_hands_off(served: Served, question: str, language: str) -> None:
    answer = ask(served.client, question)
    assert answer.meta["language"] == language
    assert answer.meta["intent"]["intent"] == "human_agent"
    assert answer.meta["handoff"]["reason"] == "customer_request"
    assert answer.done["stop_reason"] == "handoff"
    assert answer.text == handoff_message(language, "customer_request", delivery="none")


def test_asking_for_a_person_and_the_number_at_once_is_a_request_for_a_person(served: Served) -> None:
    answer = ask(served.client, "What is your phone number? I want to talk to a real person.")
    assert answer.meta["handoff"]["reason"] == "customer_request"

"""Off-topic questions in the documents' own language are handed to a person; answerable ones are not.

A bicycle workshop's pages, written for this test (three in Spanish, one in English), go through
the real ingest pipeline (which calibrates the relevance cut-off) into an in-process Qdrant with
the packaged multilingual model; the real service answers over its test client, extractively (no
API key), so the relevance gate alone decides the handoff.

A multilingual model scores a question higher against any passage in its own language: Spanish
questions about television series or paella scored 0.794 and 0.801 against these Spanish pages,
over the cosine cut-off of 0.791 fitted mostly on questions in other languages, and got three
unrelated quotes instead of a handoff. Judged against the unrelated questions of their own language
(``knowledge.cohort``), they fall under the cut-off, while the Spanish questions the pages answer,
and a German one about the Spanish pages, stay well over it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.answerability import RelevanceCalibration
from knowledge.search import KnowledgeBase
from tests.service_harness import Served, in_process, ingested_pages, post, service_settings

pytestmark = pytest.mark.slow

PAGES = {
    "horarios.md": """---
title: Horarios y cómo llegar
lang: es
---
# Horarios y cómo llegar

## Horario del taller
El taller Rueda Libre abre de martes a sábado, de 9:30 a 14:00 y de 16:30 a 20:00. Los domingos y
lunes está cerrado. En agosto solo abrimos por las mañanas, de 9:30 a 14:00.

## Dónde estamos
Estamos en la calle de Sueca 41, en el barrio de Russafa (Valencia). La parada de metro más cercana
es Bailén. Puede dejar la bicicleta en el patio interior mientras espera.
""",
    "reparaciones.md": """---
title: Reparaciones y revisiones
lang: es
---
# Reparaciones y revisiones

## Revisión completa
La revisión completa cuesta 45 € e incluye el ajuste de frenos y cambios, el centrado de ruedas y
el engrase de la cadena. Suele estar lista en dos días laborables.

## Pinchazos
Arreglamos un pinchazo en el momento por 8 € (cámara incluida: 12 €). No hace falta pedir cita.

## Garantía de las reparaciones
Todas las reparaciones tienen una garantía de tres meses. Si el mismo problema vuelve a aparecer,
lo arreglamos sin coste.
""",
    "alquiler.md": """---
title: Alquiler de bicicletas
lang: es
---
# Alquiler de bicicletas

## Tarifas
Una bicicleta de ciudad cuesta 12 € al día y 50 € a la semana. La bicicleta eléctrica cuesta 25 €
al día. El casco y el candado están incluidos en el precio.

## Fianza y documentos
Pedimos una fianza de 100 € con tarjeta y un documento de identidad. La fianza se devuelve al
entregar la bicicleta en buen estado.
""",
    "storage.md": """---
title: Bike storage for visitors
lang: en
---
# Bike storage for visitors

Visitors staying in Valencia can leave their own bike with us overnight for 5 € a night.
Bikes are kept indoors in a locked room; we do not accept bikes with a battery pack left on.
Pick-up is possible during opening hours only.
""",
}
# None of these is a calibration probe (knowledge/answerability_probes.py).
OFF_TOPIC = ["Recomiéndame una buena serie de televisión", "¿Cómo se hace una paella valenciana?"]
ANSWERABLE = {
    "¿Abrís los lunes?": "horarios.md",
    "¿Cuánto es la fianza del alquiler?": "alquiler.md",
    "¿Cuánto cuesta arreglar un pinchazo?": "reparaciones.md",
    "Was kostet eine komplette Inspektion?": "reparaciones.md",  # German, about a Spanish page
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingested_pages(
        PAGES, tmp_path_factory.mktemp("rueda-libre"), tmp_path_factory.mktemp("rueda-libre-store")
    )


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Served]:
    settings = service_settings(template, tmp_path_factory.mktemp("rueda-libre-svc"))
    assert settings.anthropic.api_key is None and settings.service.relevance_floor is None
    with in_process(settings) as served:
        yield served


def test_the_calibration_judges_passages_against_questions_in_the_same_language(
    tmp_path: Path, template: Path
) -> None:
    kb = KnowledgeBase.open(service_settings(template, tmp_path))
    try:
        calibration = RelevanceCalibration.from_dict(kb.meta().relevance)
    finally:
        kb.store.close()
    assert calibration is not None and calibration.cohort_threshold is not None
    # Asked in another language than the passage's, a question scores lower against its answer.
    assert calibration.cohort_cross_threshold is not None
    assert calibration.cohort_cross_threshold < calibration.cohort_threshold
    assert "standard deviations over unrelated questions" in calibration.summary()


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_an_off_topic_question_in_the_pages_language_is_handed_off(service: Served, question: str) -> None:
    answer = post(service.client, question).json()
    assert answer["language"] == "es"
    assert answer["handoff"] is not None and answer["handoff"]["reason"] == "no_relevant_passages"
    assert answer["citations"] == []


@pytest.mark.parametrize("question", sorted(ANSWERABLE))
def test_a_question_the_pages_answer_is_not_handed_off(service: Served, question: str) -> None:
    answer = post(service.client, question).json()
    assert answer["handoff"] is None, answer["handoff"]
    assert ANSWERABLE[question] in [c["doc_id"] for c in answer["citations"]]

"""A table quoted by the row the question names, end to end: a furniture shop's delivery page (a
new user's trial: Portuguese, a Markdown table of regions) and an English one written in HTML
(its ``<table>`` reaches the passage as one "a | b" line per row), ingested with the shipped
default model into the in-process Qdrant, the real service with no Anthropic key.

The trial: "Qual o prazo de entrega para o Nordeste?" found the page, but its quote stopped after
the table's first rows; the customer's region was never quoted. Now the quote holds the table's
header and the row the question names; a question naming no row is quoted as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.service_harness import Served, ask, in_process, ingested_pages, service_settings

pytestmark = pytest.mark.slow

PAGES = {
    "entrega.md": """---
title: Prazos e regiões de entrega
lang: pt
---
# Prazos e regiões de entrega

Entregamos móveis em todo o Brasil com transportadora própria e parceiros. O prazo conta a partir
da confirmação do pagamento e não inclui a montagem, que é agendada à parte pela nossa equipe.
Pedidos feitos até as 14h são separados no mesmo dia; os demais, no dia útil seguinte. Você recebe
o código de rastreio por e-mail assim que o pedido sai do nosso centro de distribuição em Jundiaí.

## Prazos por região

| Região | Prazo (dias úteis) | Frete | Cidades atendidas |
|---|---|---|---|
| Capital e Grande São Paulo | 3 a 5 | grátis acima de R$ 899 | São Paulo, Guarulhos, Osasco, Santo André |
| Sudeste (demais) | 5 a 8 | R$ 49 | Rio de Janeiro, Belo Horizonte, Vitória, Campinas |
| Sul | 6 a 9 | R$ 59 | Curitiba, Porto Alegre, Florianópolis, Londrina |
| Nordeste | 10 a 15 | R$ 89 | Recife, Salvador, Fortaleza, Natal, João Pessoa |
| Norte e Centro-Oeste | 12 a 20 | R$ 119 | Manaus, Belém, Brasília, Goiânia, Cuiabá |

Móveis grandes (guarda-roupas, sofás de três lugares) podem levar dois dias úteis a mais.
""",
    "delivery.html": """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Delivery times</title></head>
<body>
<h1>Delivery times</h1>
<p>We deliver furniture across the country with our own vans and trusted carriers. Delivery times
count from the day your payment is confirmed and do not include assembly, which is booked
separately. Orders placed before 2 pm leave the warehouse the same day; you get a tracking link by
email as soon as your order is on its way.</p>
<h2>Times by region</h2>
<table>
<tr><th>Region</th><th>Working days</th><th>Shipping</th><th>Cities</th></tr>
<tr><td>London and the South East</td><td>2 to 3</td><td>free over £500</td>
<td>London, Brighton, Reading</td></tr>
<tr><td>Midlands</td><td>3 to 4</td><td>£29</td><td>Birmingham, Nottingham, Leicester</td></tr>
<tr><td>North of England</td><td>4 to 6</td><td>£39</td><td>Manchester, Leeds, Newcastle</td></tr>
<tr><td>Scotland</td><td>5 to 8</td><td>£59</td><td>Glasgow, Edinburgh, Aberdeen</td></tr>
<tr><td>Wales and the South West</td><td>4 to 7</td><td>£45</td><td>Cardiff, Bristol, Plymouth</td></tr>
</table>
<p>Wardrobes and three-seat sofas may take two more working days.</p>
</body>
</html>
""",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    template = ingested_pages(PAGES, tmp_path_factory.mktemp("shop"), tmp_path_factory.mktemp("template"))
    with in_process(service_settings(template, tmp_path_factory.mktemp("svc"))) as running:
        yield running


def quote_of(served: Served, question: str, doc_id: str) -> str:
    answer = ask(served.client, question)
    assert answer.meta["mode"] == "extractive"
    citation = next(c for c in answer.meta["citations"] if c["doc_id"] == doc_id)
    assert len(citation["quote"]) > 420  # the passage is too long to be quoted whole
    found = re.findall(r"^\[(\d+)\] (.*?): (.*?)(?=^\[\d+\] |\Z)", answer.text, re.S | re.M)
    return str(next(quote.strip() for n, _, quote in found if n == str(citation["index"])))


def test_a_portuguese_table_is_quoted_by_the_region_asked_for(served: Served) -> None:
    header = "| Região | Prazo (dias úteis) | Frete | Cidades atendidas |\n|---|---|---|---|\n"
    nordeste = "| Nordeste | 10 a 15 | R$ 89 | Recife, Salvador, Fortaleza, Natal, João Pessoa |"
    for question in (
        "Qual o prazo de entrega para o Nordeste?",
        "Quanto tempo demora pra entregar em Recife?",
    ):
        quote = quote_of(served, question, "entrega.md")
        assert header + nordeste in quote, (question, quote)
        assert "Capital e Grande São Paulo" not in quote and "| Sul |" not in quote, (question, quote)


def test_an_english_html_table_is_quoted_by_the_region_asked_for(served: Served) -> None:
    quote = quote_of(served, "How long does delivery to Scotland take?", "delivery.html")
    assert "Region | Working days | Shipping | Cities\nScotland | 5 to 8 | £59 | Glasgow" in quote, quote
    assert "Midlands" not in quote and "London and the South East" not in quote, quote


def test_a_question_naming_no_row_is_quoted_as_before(served: Served) -> None:
    quote = quote_of(served, "Qual o prazo de entrega por região?", "entrega.md")
    assert "| Capital e Grande São Paulo | 3 a 5 |" in quote, quote  # the table's first rows
    assert "Nordeste" not in quote, quote

"""Which rows of a table an extractive quote shows (``service.answers.table_rows``): a trial's
furniture shop asked for its region's delivery time and was quoted the table's first rows."""

from __future__ import annotations

from knowledge.schema import ChunkPayload, SearchHit
from service.answers.extractive import EXCERPT_CHARS, excerpt, extractive_pieces, quoted_passages
from service.answers.quotable import quotable_units
from service.answers.table_rows import row_focus, tables
from service.core.text import collapse

LEAD = (
    "Entregamos móveis em todo o Brasil com transportadora própria e parceiros. O prazo conta a partir "
    "da confirmação do pagamento e não inclui a montagem, que é agendada à parte pela nossa equipe. "
    "Pedidos feitos até as 14h são separados no mesmo dia; os demais, no dia útil seguinte. "
)
TABLE = """**Prazos por região**
| Região | Prazo (dias úteis) | Frete | Cidades atendidas |
|---|---|---|---|
| Capital e Grande São Paulo | 3 a 5 dias | grátis acima de R$ 899 | São Paulo, Guarulhos, Osasco |
| Sudeste (demais) | 5 a 8 dias | R$ 49 | Rio de Janeiro, Belo Horizonte, Vitória |
| Sul | 6 a 9 dias | R$ 59 | Curitiba, Porto Alegre, Florianópolis |
| Nordeste | 10 a 15 dias | R$ 89 | Recife, Salvador, Fortaleza |
| Norte e Centro-Oeste | 12 a 20 dias | R$ 119 | Manaus, Belém, Brasília |
"""
PAGE = f"{LEAD * 2}\n\n{TABLE}\nMóveis grandes (guarda-roupas, sofás) podem levar dois dias úteis a mais."


def units_of(text: str) -> list[tuple[str, bool]]:
    return [(collapse(u), end) for u, end in quotable_units(text)]


def hit(text: str, language: str = "pt") -> SearchHit:
    payload = ChunkPayload(
        doc_id="entrega.md", chunk_index=0, chunk_count=1, doc_hash="h", text=text, language=language,
        title="Prazos e regiões de entrega", source="entrega.md", headings=["Prazos e regiões de entrega"],
    )  # fmt: skip
    return SearchHit(id="c1", score=0.5, dense_score=0.7, payload=payload)


def named(text: str, question: str, language: str = "pt") -> list[str]:
    units = units_of(text)
    focus = row_focus(units, question, language)
    return [] if focus is None else [units[i][0].split("|")[1].strip() for i in focus.rows]


def test_a_table_is_its_header_and_rows_one_per_line() -> None:
    units = units_of(PAGE)
    [table] = tables(units)
    assert [units[i][0] for i in table.header] == [
        "| Região | Prazo (dias úteis) | Frete | Cidades atendidas |",
        "|---|---|---|---|",
    ]
    assert units[table.rows[0][0]][0].startswith("| Capital e Grande São Paulo")
    assert len(table.rows) == 5
    # The HTML loader's rows ("a | b"), a row cut into sentences, and a header with one row.
    html = units_of("Plan | Price\nBasic | €5. Billed monthly.\nPro | €9\n\nIntro.\nA | B\nc | d\n")
    [table] = tables(html)
    assert [html[i][0] for i in table.header] == ["Plan | Price"]
    rows = [" ".join(html[i][0] for i in row) for row in table.rows]
    assert rows == ["Basic | €5. Billed monthly.", "Pro | €9"]


def test_the_rows_the_question_names() -> None:
    assert named(PAGE, "Qual o prazo de entrega para o Nordeste?") == ["Nordeste"]
    assert named(PAGE, "Quanto tempo demora pra entregar em Recife?") == ["Nordeste"]  # a row's city
    both = named(PAGE, "Quanto custa o frete para Curitiba e para Manaus?")
    assert both == ["Sul", "Norte e Centro-Oeste"]
    # The row sharing more naming terms wins ("rio", "janeiro" against "salvador").
    assert named(PAGE, "Qual a cidade do Rio de Janeiro e de Salvador?") == ["Sudeste (demais)"]
    # Terms of the header ("prazo", "frete") or of every row ("dias") name no row.
    assert named(PAGE, "Qual o prazo e o frete?") == []
    assert named(PAGE, "Quantos dias?") == []
    assert named(PAGE, "") == [] and named(LEAD * 3, "Nordeste?") == []


def test_the_quote_holds_the_header_and_the_named_row() -> None:
    """The trial: the quote stopped after the first rows; the Nordeste row was never quoted."""
    assert len(PAGE) > EXCERPT_CHARS
    quoted = extractive_pieces([hit(PAGE)], "pt", "Qual o prazo de entrega para o Nordeste?")[1]
    label, text = quoted.strip().split(": ", 1)
    assert label == "[1] Prazos e regiões de entrega › Prazos por região", label
    assert text.startswith(
        "… | Região | Prazo (dias úteis) | Frete | Cidades atendidas |\n"
        "|---|---|---|---|\n"
        "| Nordeste | 10 a 15 dias | R$ 89 | Recife, Salvador, Fortaleza |\n"
    ), text
    assert "Capital" not in text and "Sul |" not in text and len(text) <= EXCERPT_CHARS
    # A passage whose other rows left out fits is quoted from its top, the named row in its table.
    short = f"{LEAD.split('. ', maxsplit=1)[0]}.\n\n{TABLE}"
    assert len(short) > EXCERPT_CHARS
    text = extractive_pieces([hit(short)], "pt", "Quanto tempo demora pra entregar em Recife?")[1]
    assert text.split(": ", 1)[1].startswith("Entregamos móveis") and "| Nordeste | 10 a 15" in text, text
    assert "Capital" not in text


def test_a_question_that_names_no_row_is_quoted_as_before() -> None:
    for question in ("Qual o prazo de entrega?", "Vocês montam os móveis?", ""):
        [passage] = quoted_passages([hit(PAGE)], question)
        assert passage.focus is None
        text = extractive_pieces([hit(PAGE)], "pt", question)[1].split(": ", 1)[1].strip()
        assert text == excerpt(passage.units, passage.start or 0)[0], question
    # Another language than the page: the embedding model chooses the start, as before.
    [passage] = quoted_passages([hit(PAGE)], "How long to Recife?", language="en")
    assert passage.focus is None


def test_a_quote_never_ends_on_a_table_header_without_a_row() -> None:
    """A trial: "How long does delivery to Mexico City take?" (another language than the page: no
    row named) was quoted the intro and the table's header, no row. From the passage's top the
    table is quoted instead; from a chosen sentence the quote ends before the header."""
    page = f"{LEAD}\n\n{TABLE}"
    units = units_of(page)
    [table] = tables(units)
    header = units[table.header[0]][0]
    assert header in excerpt(units, 0)[0] and units[table.rows[0][0]][0] not in excerpt(units, 0)[0]
    [passage] = quoted_passages([hit(page)], "How long to Mexico City?", language="en")
    top = extractive_pieces([hit(page)], "en", "How long to Mexico City?")[1].split(": ", 1)[1]
    assert passage.start is None and top.startswith(f"… {header}\n|---|---|---|---|\n| Capital e Grande"), top
    chosen = extractive_pieces([hit(page)], "pt", "A montagem é agendada pela equipe?")[1].split(": ", 1)[1]
    assert "montagem" in chosen and "| Região |" not in chosen and "Capital" not in chosen, chosen


URGENCES = (
    "Pendant les heures d'ouverture, appelez directement votre clinique. Nous vous recevons en "
    "général le jour même, au plus tard le lendemain matin, et nous réservons chaque jour des "
    "créneaux pour les urgences dans toutes nos cliniques.\n\n"
    "**Soirs, week-ends et jours fériés**\n\n"
    "Notre ligne d'urgence 0800 44 33 22 (gratuite) est ouverte de 18h30 à 22h00 en semaine et de "
    "8h00 à 20h00 le samedi, le dimanche et les jours fériés. En dehors de ces horaires, appelez la "
    "Centrale des médecins de garde du canton au 0848 133 133.\n\n"
    """**Supplément**

| Moment | Supplément |
|---|---|
| Lundi–vendredi, heures d'ouverture | aucun |
| Lundi–vendredi après 18h30 | CHF 80.– |
| Samedi, dimanche, jours fériés | CHF 150.– |

Le supplément s'ajoute au traitement. Il est payable sur place par carte."""
)


def test_a_sentence_sharing_more_terms_than_the_named_row_starts_the_quote() -> None:
    """A trial (a dental clinic): "Quel est le numéro d'urgence le dimanche ?" named the surcharge
    row ("dimanche") and was quoted the fee, not the emergency line ("urgence", "dimanche")."""
    page = hit(URGENCES, "fr")
    assert len(URGENCES) > EXCERPT_CHARS
    question = "Quel est le numéro d'urgence le dimanche ?"
    assert named(URGENCES, question, "fr") == ["Samedi, dimanche, jours fériés"]  # the row is named
    [passage] = quoted_passages([page], question)
    assert passage.focus is None
    text = extractive_pieces([page], "fr", question)[1]
    assert "0800 44 33 22" in text and "CHF 150" not in text, text
    # A question the row answers better keeps the row: "supplément" is the header's, "samedi"
    # and "dimanche" the row's, and no sentence shares as many.
    [passage] = quoted_passages([page], "Quel est le supplément le samedi et le dimanche ?")
    assert passage.focus is not None
    fee = extractive_pieces([page], "fr", "Quel est le supplément le samedi et le dimanche ?")[1]
    assert "| Samedi, dimanche, jours fériés | CHF 150.– |" in fee and "| aucun |" not in fee, fee

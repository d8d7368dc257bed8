"""The web chat: a page served at ``/`` (plain HTML/CSS/JS under ``static/``, no build step) that
talks to ``/v1/answers`` on its own origin, and ``/widget.js``, which embeds it in another site as
an iframe with one ``<script>`` tag. Package data of ``service`` (``pyproject.toml``)."""

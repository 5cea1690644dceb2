"""The public quarterly report: what a province may publish on its portal.

* :mod:`.suppression` — the public view of a report: no free text, small groups withheld, and
  complementary suppression so that no withheld figure can be worked out by subtraction.
* :mod:`.quarters` — which quarters may be published (ended, in Vietnam's time).
* :mod:`.quarterly` — the use cases: the public report of a quarter, its charts, PDF and files.
* :mod:`.pdf`, :mod:`.texts` — the printable report and the sentences shared with the page.

The web pages are in survey/publication/ (``/cong-khai/``), the scheduled command in
survey/commands/publication.py (``flask publish-report``).
"""

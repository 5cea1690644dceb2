"""Reports an office can file: the report of a scope and period as an administrative document
(Decree 30/2020/NĐ-CP) in PDF and as an editable Word document.

* ``details`` — what the office writes on it (issuing body, number, place and date, signer,
  recipients) and the defaults taken from the province's organisation.
* ``document`` — the one document model both renderers draw (header, sections, tables, charts,
  closing), every number formatted by ``survey.formatting``.
* ``print_charts`` — the dashboard's charts drawn for paper (no text under 8 pt on A4).
* ``topics`` — the report's comments counted by topic.
* ``pdf`` (fpdf2, Liberation Serif embedded) and ``word`` (python-docx) — the renderers.
* ``files`` — the entry points: ``pdf_report``, ``word_report`` and ``file_report`` (the view's).
"""

from survey.services.filing.details import FilingDetails, default_details
from survey.services.filing.files import file_report, pdf_report, word_report

__all__ = ["FilingDetails", "default_details", "file_report", "pdf_report", "word_report"]

"""Dossiers (administrative-procedure cases) from the one-stop system, rated one by one.

* ``codes`` — the national dossier code (Circular 04/2025/TT-VPCP) read and checked;
* ``importing`` — the one-stop system's dossier list in, all or nothing, idempotent;
* ``links`` — the single-use rating link of each dossier (QR on the receipt, SMS, Zalo);
* ``rating`` — the citizen's one rating per dossier behind that link;
* ``complaints`` — complaint and petition cases (phản ánh, kiến nghị) from opening to closing;
* ``official`` — the Decision 766/QĐ-TTg ratios beside the survey estimate;
* ``staff`` — clerks as data and their results for those allowed to see them.
"""

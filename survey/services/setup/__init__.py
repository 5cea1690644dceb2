"""Setting up a province: organisation, official units, volumes, questionnaires, paper responses.

One module per use case; each import stores everything or, refused with a row-level report
(``survey.services.importing``), nothing (``all_or_nothing``: the caller's transaction goes on):

* ``organisation`` — agencies and service points from a CSV/XLSX file;
* ``volumes`` — citizens served per point per month (file or grid), and which points lack them;
* ``questionnaires`` — the versions, their state and items;
* ``paper`` — the response template of a questionnaire version and the import of paper surveys;
* ``units`` — agencies and points edited one at a time from the web pages;
* ``official`` — a province's communes and wards from the official list (``vietnam-provinces``).
"""

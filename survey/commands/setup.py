"""Setting up a province from the command line (the same services as the web pages).

``import-organisation FILE``, ``import-volumes FILE``, ``questionnaires``,
``response-template OUT --questionnaire CODE:VERSION``,
``import-responses FILE --questionnaire CODE:VERSION``, ``setup-province CODE``.

Each prints what it added, changed and left as it was, and on refusal every problem (row, column,
value, what is wrong, in English and Vietnamese) with exit status 1 and nothing stored.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from survey.extensions import get_session, one_transaction
from survey.services.errors import DomainError
from survey.services.importing import ImportRefused, ImportReport


def _print_report(report: ImportReport) -> None:
    click.echo(report.summary("en"))
    click.echo(report.summary("vi"))


def _run_import(action: Callable[[], ImportReport]) -> None:
    """Run an import; on refusal print every problem and exit 1 (never a traceback)."""
    try:
        report = action()
    except ImportRefused as refused:
        click.echo(f"Refused: {refused.message_en}", err=True)
        click.echo(f"Từ chối: {refused.message_vi}", err=True)
        for problem in refused.report.problems:
            click.echo(f"  {problem.describe('en')}", err=True)
            click.echo(f"    {problem.describe('vi')}", err=True)
        hidden = refused.report.problem_count - len(refused.report.problems)
        if hidden > 0:
            click.echo(f"  … and {hidden} more problems / và {hidden} lỗi khác", err=True)
        raise SystemExit(1) from None
    except DomainError as error:
        raise click.ClickException(f"{error.message_en} / {error.message_vi}") from None
    _print_report(report)


FILE = click.Path(dir_okay=False, path_type=Path)


@click.command("import-organisation")
@click.argument("file", type=FILE)
@with_appcontext
@one_transaction
def import_organisation_command(file: Path) -> None:
    """Add or change agencies and service points from a CSV or XLSX file (idempotent on codes)."""
    from survey.services.setup.organisation import import_organisation

    _run_import(lambda: import_organisation(get_session(), file))


@click.command("import-volumes")
@click.argument("file", type=FILE)
@with_appcontext
@one_transaction
def import_volumes_command(file: Path) -> None:
    """Store citizens served per point per month (service_point_code, month, citizens_served)."""
    from survey.services.setup.volumes import import_volumes

    _run_import(lambda: import_volumes(get_session(), file))


@click.command("questionnaires")
@with_appcontext
@one_transaction
def questionnaires_command() -> None:
    """List each questionnaire's CODE:VERSION, sector, state and item codes."""
    from survey.services.setup.questionnaires import questionnaire_listing

    for entry in questionnaire_listing(get_session()):
        click.echo(
            f"{entry.code}:{entry.version}\t{entry.sector}\t{entry.status}\t"
            f"{' '.join(entry.item_codes)}"
        )


QUESTIONNAIRE = click.option(
    "--questionnaire",
    "reference",
    required=True,
    metavar="CODE:VERSION",
    help="The questionnaire version, e.g. administrative:1 (see `questionnaires`).",
)


@click.command("response-template")
@click.argument("out", type=FILE)
@QUESTIONNAIRE
@with_appcontext
@one_transaction
def response_template_command(out: Path, reference: str) -> None:
    """Write the paper-response template of a questionnaire version (.csv or .xlsx)."""
    from survey.services.setup.paper import response_template
    from survey.services.setup.questionnaires import questionnaire_by_reference

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise click.ClickException("OUT must end in .csv or .xlsx.")
    session = get_session()
    try:
        questionnaire = questionnaire_by_reference(session, reference)
        content = response_template(session, questionnaire, fmt)
    except DomainError as error:
        raise click.ClickException(f"{error.message_en} / {error.message_vi}") from None
    out.write_bytes(content)
    click.echo(f"Wrote the template of {reference} ({len(questionnaire.items)} items) to {out}.")


@click.command("import-responses")
@click.argument("file", type=FILE)
@QUESTIONNAIRE
@click.option(
    "--channel",
    type=click.Choice(["paper", "import"]),
    default="paper",
    show_default=True,
    help="paper: surveys filled in on paper; import: from another system.",
)
@with_appcontext
@one_transaction
def import_responses_command(file: Path, reference: str, channel: str) -> None:
    """Import filled-in response templates (all or nothing; the same rows twice store nothing)."""
    from survey.services.setup.paper import import_responses
    from survey.services.setup.questionnaires import questionnaire_by_reference

    def run() -> ImportReport:
        session = get_session()
        questionnaire = questionnaire_by_reference(session, reference)
        return import_responses(session, file, questionnaire, channel=channel)

    _run_import(run)


@click.command("setup-province")
@click.argument("code")
@click.option("--no-desks", is_flag=True, help="Do not add a one-stop desk per commune.")
@with_appcontext
@one_transaction
def setup_province_command(code: str, no_desks: bool) -> None:
    """Create a province's communes and wards (since 1 July 2025) from the official list.

    CODE is the province's official code (e.g. 11 for Điện Biên); `setup-province list` lists them.
    """
    from survey.services.setup.official import province_choices, setup_province

    if code == "list":
        for value, label in province_choices():
            click.echo(f"{value}\t{label}")
        return
    _run_import(lambda: setup_province(get_session(), code, with_desks=not no_desks))


@click.command("questionnaire-draft")
@click.argument("reference", metavar="CODE:VERSION")
@with_appcontext
@one_transaction
def questionnaire_draft_command(reference: str) -> None:
    """Make a draft of the next version from CODE:VERSION (edit it on the web page)."""
    from survey.services.setup.drafts import new_draft
    from survey.services.setup.questionnaires import questionnaire_by_reference

    session = get_session()
    try:
        draft = new_draft(session, None, questionnaire_by_reference(session, reference))
    except DomainError as error:
        raise click.ClickException(f"{error.message_en} / {error.message_vi}") from None
    click.echo(f"Draft {draft.code}:{draft.version} made from {reference}.")


@click.command("publish-questionnaire")
@click.argument("reference", metavar="CODE:VERSION")
@with_appcontext
@one_transaction
def publish_questionnaire_command(reference: str) -> None:
    """Publish a draft: it becomes its sector's active version, the previous one is retired."""
    from survey.services.setup.drafts import publish
    from survey.services.setup.questionnaires import questionnaire_by_reference

    def run() -> ImportReport:
        session = get_session()
        publish(session, None, questionnaire_by_reference(session, reference).id)
        report = ImportReport()
        report.count("changed", "questionnaire")
        return report

    _run_import(run)


@click.command("import-translation")
@click.argument("file", type=FILE)
@QUESTIONNAIRE
@click.option("--language", required=True, help="BCP 47 tag, e.g. hmn (H'Mông) or tdd (Thái).")
@with_appcontext
@one_transaction
def import_translation_command(file: Path, reference: str, language: str) -> None:
    """Add or replace a questionnaire's texts in a further language (key, translation)."""
    from survey.services.setup.drafts import import_translation
    from survey.services.setup.questionnaires import questionnaire_by_reference

    def run() -> ImportReport:
        session = get_session()
        questionnaire = questionnaire_by_reference(session, reference)
        return import_translation(session, None, questionnaire, language, file)

    _run_import(run)


def register_setup_commands(app: Flask) -> None:
    for command in (
        import_organisation_command,
        import_volumes_command,
        questionnaires_command,
        response_template_command,
        import_responses_command,
        setup_province_command,
        questionnaire_draft_command,
        publish_questionnaire_command,
        import_translation_command,
    ):
        app.cli.add_command(command)

"""Topic tagging of comments: precision and recall per topic on a labelled sample, the matching
rules one by one, the province's lexicon changes, and batch tagging.

The sample (tests/services/data/comment_topics.csv) is 190 comments written for this purpose —
one-stop desks, hospitals, schools; 14 typed wholly without diacritics; negations, contrasts,
wishes and comments with no topic — with their true topics. Every third comment is held out:
the lexicon was tuned on the dev two thirds only, and the held-out third was scored once,
afterwards.

Floors, and why:

* dev, per topic: precision ≥ 0.85 and recall ≥ 0.75. With 10–29 positive comments per topic, one
  or two misses after a lexicon edit still pass; a broken negation does not (without it, praise
  precision falls to 0.73 and fees to 0.80).
* the unaccented comments (both parts), micro-averaged: recall ≥ 0.70 (measured 0.87; 0.20
  without the unaccented rule, which the per-topic floors alone would not notice).
* held-out, micro-averaged over topics: precision ≥ 0.85, recall ≥ 0.80 (measured 0.94 / 0.90);
  per topic ≥ 0.5, because with 5–9 positives per topic (20 for praise) a single comment moves a
  topic's figure by 11–20 points, so a tighter per-topic floor would test luck.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from survey.services.comments import lexicon_admin
from survey.services.comments.lexicon import Term, default_lexicon, lexicon_csv
from survey.services.comments.tagger import Tagger, canonical, plain, tagger_for
from survey.services.comments.tagging import current_lexicon, tag_all
from survey.services.comments.topics import TOPIC_CODES
from survey.services.importing import ImportRefused
from survey.services.questionnaires import open_service_point
from survey.services.responses import submit_response
from survey.services.spreadsheets import starts_formula
from survey.storage.models import AuditEvent, CommentState, CommentTopic, User

SAMPLE = Path(__file__).parent / "data" / "comment_topics.csv"


@dataclass(frozen=True)
class Scores:
    precision: dict[str, float]
    recall: dict[str, float]
    positives: dict[str, int]
    micro_precision: float
    micro_recall: float

    def table(self, title: str) -> str:
        lines = [title, f"{'topic':12} {'n':>3} {'precision':>9} {'recall':>7}"]
        for code in TOPIC_CODES:
            lines.append(
                f"{code:12} {self.positives[code]:>3} {self.precision[code]:>9.2f} "
                f"{self.recall[code]:>7.2f}"
            )
        lines.append(
            f"{'micro':12} {sum(self.positives.values()):>3} {self.micro_precision:>9.2f} "
            f"{self.micro_recall:>7.2f}"
        )
        return "\n".join(lines)


def _sample(split: str) -> list[tuple[str, set[str]]]:
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        return [
            (row["text"], set(filter(None, row["topics"].split(";"))))
            for row in csv.DictReader(handle)
            if row["split"] == split
        ]


def score(tagger: Tagger, items: list[tuple[str, set[str]]]) -> Scores:
    tp = dict.fromkeys(TOPIC_CODES, 0)
    fp, fn = dict(tp), dict(tp)
    for text, truth in items:
        predicted = tagger.topics(text)
        for code in TOPIC_CODES:
            tp[code] += code in truth and code in predicted
            fp[code] += code in predicted and code not in truth
            fn[code] += code in truth and code not in predicted

    def ratio(a: int, b: int) -> float:
        return a / (a + b) if a + b else 1.0

    return Scores(
        {c: ratio(tp[c], fp[c]) for c in TOPIC_CODES},
        {c: ratio(tp[c], fn[c]) for c in TOPIC_CODES},
        {c: tp[c] + fn[c] for c in TOPIC_CODES},
        ratio(sum(tp.values()), sum(fp.values())),
        ratio(sum(tp.values()), sum(fn.values())),
    )


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return tagger_for(default_lexicon())


def test_the_sample_is_big_enough_and_every_topic_is_in_both_parts():
    dev, held_out = _sample("dev"), _sample("heldout")
    assert len(dev) + len(held_out) >= 150
    for part in (dev, held_out):
        present = set().union(*(truth for _, truth in part))
        assert present == set(TOPIC_CODES)
        assert any(not truth for _, truth in part)  # comments with no topic too


def test_precision_and_recall_on_the_dev_part(tagger: Tagger):
    scores = score(tagger, _sample("dev"))
    table = scores.table("dev (lexicon tuned on these)")
    print("\n" + table)
    for code in TOPIC_CODES:
        assert scores.precision[code] >= 0.85, table
        assert scores.recall[code] >= 0.75, table


def test_precision_and_recall_on_the_held_out_part(tagger: Tagger):
    scores = score(tagger, _sample("heldout"))
    table = scores.table("held out (scored once, never tuned on)")
    print("\n" + table)
    assert scores.micro_precision >= 0.85, table
    assert scores.micro_recall >= 0.80, table
    for code in TOPIC_CODES:
        assert scores.precision[code] >= 0.5 and scores.recall[code] >= 0.5, table


def test_recall_on_comments_typed_without_diacritics(tagger: Tagger):
    items = [
        (text, truth)
        for part in ("dev", "heldout")
        for text, truth in _sample(part)
        if plain(text) == text.lower()
    ]
    assert len(items) >= 10
    scores = score(tagger, items)
    assert scores.micro_recall >= 0.70, scores.table("unaccented")


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("Thời gian chờ đợi quá lâu", {"waiting"}),
        ("Không phải chờ đợi, cán bộ làm nhanh", {"praise"}),  # negated complaint: praise
        ("Bác sĩ không nhiệt tình", {"attitude"}),  # negated praise: its topic
        ("Tôi không hiểu vì sao phải chờ lâu", {"waiting"}),  # the negator is too far
        ("Cán bộ không những chậm mà còn cáu gắt", {"attitude"}),  # not a negation
        ("Cán bộ nhiệt tình nhưng chờ lâu", {"praise", "waiting"}),  # two clauses
        ("Thái độ phục vụ chưa tốt", {"attitude"}),  # aspect + negated evaluation
        ("Thái độ phục vụ tốt", {"praise"}),
        ("Nên có thêm ghế chờ cho người già", {"facilities"}),  # a wish names what is missing
        ("Mong lần sau không phải chờ lâu", {"waiting"}),  # negation inside a wish
        ("Chỗ ngồi chờ sạch sẽ", {"praise"}),  # the longer facility term hides "chờ"
        ("Không có ý kiến", set()),
        ("", set()),
    ],
)
def test_matching_rules(tagger: Tagger, text: str, topics: set[str]):
    assert tagger.topics(text) == topics


def test_unaccented_typing_matches_terms_of_several_syllables(tagger: Tagger):
    assert tagger.topics("cho doi qua lau") == {"waiting"}
    assert tagger.topics("thu tuc ruom ra") == {"procedures"}
    assert tagger.topics("ko hai long ve thai do cua dieu duong") == {"attitude"}
    # a single unaccented syllable is too ambiguous: "cho" is "give" as often as "chờ"
    assert tagger.topics("cho toi xin cai giay") == set()


def test_word_boundaries_keep_short_terms_inside_their_own_words(tagger: Tagger):
    assert "fees" not in tagger.topics("Tránh lãng phí thời gian của dân")
    assert "online" not in tagger.topics("Bác sĩ đã cứu tính mạng con tôi")


def test_old_and_new_tone_placement_are_the_same_syllable(tagger: Tagger):
    assert canonical("hoà") == canonical("hòa") and canonical("khoẻ") == canonical("khỏe")
    assert tagger.topics("Cán bộ hoà nhã") == tagger.topics("Cán bộ hòa nhã") == {"praise"}


def test_the_tagger_explains_its_matches(tagger: Tagger):
    tagging = tagger.tag("Không phải chờ đợi")
    (match,) = tagging.matches
    assert match.term.text == "chờ đợi" and match.negated and match.effect == "praise"


# --- stored comments: batch tagging, the province's lexicon, the command line ----------------


def _comment(session, point, text: str | None, key: str, day: int = 1) -> int:
    found, questionnaire = open_service_point(session, point.public_code)
    return submit_response(
        session,
        point=found,
        questionnaire=questionnaire,
        answers={item.code: 4 for item in questionnaire.items},
        idempotency_key=f"topics-{key}-0123456789",
        channel="qr",
        comment=text,
        submitted_at=dt.datetime(2025, 8, day, 3, tzinfo=dt.UTC),
    ).response_id


def _topics(session) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for row in session.execute(select(CommentTopic.response_id, CommentTopic.topic)):
        found.setdefault(row.response_id, set()).add(row.topic)
    return found


def test_the_citizens_post_stores_no_topic_and_a_batch_tags_later(session, seeded):
    waiting = _comment(session, seeded.desk, "Chờ lâu quá", "a")
    praise = _comment(session, seeded.desk, "Cán bộ nhiệt tình", "b")
    nothing = _comment(session, seeded.desk, "Không có ý kiến", "c")
    _comment(session, seeded.desk, None, "d")  # no comment: nothing to tag
    assert _topics(session) == {}
    run = tag_all(session)
    assert (run.tagged, run.remaining) == (3, 0)
    assert _topics(session) == {waiting: {"waiting"}, praise: {"praise"}}
    states = session.scalars(select(CommentState)).all()
    assert {s.response_id for s in states} == {waiting, praise, nothing}  # tagged, even if none
    assert tag_all(session).tagged == 0  # nothing left


def test_a_province_change_to_the_lexicon_retags_lazily(session, seeded):
    admin = User(username="chief", password_hash="x", role="province_admin")
    session.add(admin)
    session.commit()
    noisy = _comment(session, seeded.desk, "Loa gọi số quá ồn ào", "e")
    tag_all(session)
    assert _topics(session) == {noisy: {"facilities"}}
    lexicon_admin.remove_term(session, admin, "facilities", "ồn ào")
    lexicon_admin.set_term(session, admin, "waiting", "loa gọi số", "=")
    lexicon_admin.set_term(session, admin, "general", "ồn ào", "-")
    assert tag_all(session).tagged == 1  # the version changed: tagged again
    assert _topics(session) == {noisy: {"waiting"}}
    lexicon_admin.restore_term(session, admin, "facilities", "ồn ào")
    page = lexicon_admin.lexicon_page(session)
    sources = {entry.term.text: entry.source for entry in page.entries["waiting"]}
    assert sources["loa gọi số"] == "added" and sources["chờ đợi"] == "shipped"
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == [
        "comment_lexicon.removed",
        "comment_lexicon.changed",
        "comment_lexicon.changed",
        "comment_lexicon.restored",
    ]


def test_a_lexicon_file_replaces_the_provinces_lexicon_all_or_nothing(session, seeded):
    admin = User(username="chief", password_hash="x", role="province_admin")
    session.add(admin)
    session.commit()
    shipped = lexicon_csv(default_lexicon()).decode("utf-8-sig").splitlines()
    edited = [line for line in shipped if line != "waiting,xếp hàng,complaint"]
    edited.append("fees,phụ thu,complaint")
    report = lexicon_admin.import_lexicon(session, admin, "\n".join(edited).encode(), "tu-dien.csv")
    assert report.added == {"term": 1} and report.changed == {"removed": 1}
    lexicon = current_lexicon(session)
    assert Term("fees", "phụ thu", "-") in lexicon.terms
    assert not any(t.text == "xếp hàng" and t.topic == "waiting" for t in lexicon.terms)
    bad = "topic,term,polarity\nwaiting,chờ,complaint\nnoise,ồn,complaint\nfees,=1+1,praise\n"
    with pytest.raises(ImportRefused) as refused:
        lexicon_admin.import_lexicon(session, admin, bad.encode(), "bad.csv")
    assert [p.row for p in refused.value.report.problems] == [3, 4]
    assert current_lexicon(session).version == lexicon.version  # nothing changed


def test_the_exported_lexicon_holds_no_formula(tmp_path):
    text = lexicon_csv(default_lexicon()).decode("utf-8-sig")
    assert not any(starts_formula(cell) for line in text.splitlines() for cell in line.split(","))


def test_tag_comments_command(runner, session, seeded):
    _comment(session, seeded.desk, "Thủ tục rườm rà", "f")
    session.commit()
    result = runner.invoke(args=["tag-comments", "--batch", "10"])
    assert result.exit_code == 0, result.output
    assert "Tagged 1 comments" in result.output and "0 left" in result.output
    assert runner.invoke(args=["tag-comments", "--limit", "0"]).exit_code == 2

"""Tag a comment with topics, offline: word segmentation by ``underthesea`` and the lexicon.

How a comment is read:

1. **Words.** ``underthesea.word_tokenize`` (a CRF model shipped inside the package; nothing is
   downloaded) splits the comment into words: ``Cán bộ | tiếp | dân | rất | nhiệt tình``. It is
   imported on first use, so the app starts without it (the first call in a process costs about
   1.3 s; later ones about 1.5 ms per comment).
2. **Syllables.** Each word is split into lower-cased syllables, and each syllable is compared in
   a canonical form in which the tone mark is taken apart from the letter, so ``hoà`` and
   ``hòa``, ``khoẻ`` and ``khỏe`` (old and new tone placement) are the same syllable.
3. **Terms.** A term of one syllable matches only a whole word: ``phí`` is found in ``lệ phí
   cao`` but not inside the word ``lãng phí``, nor ``mạng`` inside ``tính mạng``. A term of two or
   more syllables is specific enough to match any run of syllables, whatever the segmenter made
   of it (it joins words wrongly now and then: ``khoa | nội cáu | gắt``, and at random in
   unaccented text: ``can | bo thai | do | kem``). Where terms overlap the longest wins (``ghế
   ngồi chờ``, a facility, hides the waiting cue ``chờ``).
4. **Unaccented typing.** A syllable typed without any diacritic (``cho doi lau``) matches the
   accented syllable of a term of two or more syllables (``chờ đợi``). Single-syllable terms
   need their diacritics, because without them they are too ambiguous (``cho`` is "give",
   ``chờ`` "wait"; ``phi`` is not ``phí``); the lexicon may list unaccented forms itself.
5. **Clauses.** Punctuation and the conjunctions ``nhưng``, ``mà``, ``tuy``, ``song`` end a
   clause. ``Cán bộ nhiệt tình nhưng chờ lâu`` has two clauses: praise, then waiting.
6. **Negation (cheap on purpose).** A term is negated when ``không``, ``chẳng``, ``chả``,
   ``chưa`` (or ``ko``, ``k``, ``khong``…) stands just before it, with at most three filler words
   between (``phải``, ``bị``, ``cần``, ``có``, ``hề``, ``thấy``, ``còn``, ``được``, ``ai``…):
   ``không phải chờ`` is *not* a waiting complaint — it is praise; ``không nhiệt tình`` is an
   attitude complaint. A negator further away (``không hiểu vì sao phải chờ lâu``) does not count,
   and ``không những … mà còn`` is not a negation (``những`` is no filler).
7. **What a clause says.** A complaint cue tags its topic; a praise cue tags ``praise``; negation
   swaps them (a negated praise cue tags the cue's topic). A general evaluation (``tốt``,
   ``kém``, ``chậm``) tags ``praise`` when positive, and when negative tags every aspect named in
   its clause (``thái độ kém`` → attitude; ``chưa hài lòng về thời gian giải quyết`` → results).
   After a wish marker (``nên``, ``cần``, ``mong``, ``đề nghị``) every cue of the clause reads as
   a complaint (``mong lần sau không phải chờ lâu`` → waiting; ``nên có thêm ghế chờ`` →
   facilities) and nothing in it is praise.

Measured with the shipped lexicon on the labelled sample tests/services/data/comment_topics.csv
(190 comments written for the purpose; the lexicon was tuned on the dev two thirds, the held-out
third scored once afterwards; ``pytest -s tests/services/test_comment_topics.py`` prints this):

==========  ====================  ====================
topic       dev: n, P, R          held out: n, P, R
==========  ====================  ====================
waiting     18, 0.94, 0.94        8, 0.88, 0.88
attitude    17, 1.00, 0.88        8, 0.88, 0.88
fees        17, 1.00, 0.94        8, 1.00, 0.75
procedures  12, 1.00, 1.00        9, 1.00, 1.00
facilities  18, 1.00, 1.00        6, 1.00, 1.00
results     10, 1.00, 0.80        5, 0.80, 0.80
online      12, 1.00, 0.92        5, 1.00, 0.60
praise      29, 0.91, 1.00        20, 0.95, 1.00
micro       133, 0.97, 0.95       69, 0.94, 0.90
==========  ====================  ====================

The same person wrote the sample and the lexicon, so even the held-out figures are optimistic;
re-measure on real comments labelled by the province before trusting small differences. Typical
misses: a negation across a quantifier (``không thấy cán bộ nào gây khó dễ``), a consequence in
another clause (``… mà trường nói chưa có``), unaccented single syllables (``qua lau``).
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from survey.services.comments.lexicon import Lexicon, Term

log = logging.getLogger(__name__)

TONE_MARKS = {"\u0300": "1", "\u0301": "2", "\u0309": "3", "\u0303": "4", "\u0323": "5"}
NEGATORS = frozenset({"không", "chẳng", "chả", "chưa", "ko", "k", "kg", "khg", "hok", "hông"})
NEGATORS_UNACCENTED = frozenset({"khong", "chua", "ko", "k", "kg", "khg", "hok"})
FILLERS = frozenset(
    {
        "phải", "bị", "cần", "hề", "có", "thấy", "còn", "được", "ai", "mất", "gặp", "quá",
        "thu", "đòi", "nộp", "đóng", "đưa", "bao", "giờ", "là",
    }
)  # fmt: skip
FILLERS_UNACCENTED = frozenset(
    {"phai", "bi", "can", "he", "co", "thay", "con", "duoc", "dc", "ai", "mat", "qua", "thu"}
)
CLAUSE_WORDS = frozenset({"nhưng", "mà", "tuy", "song"})
CLAUSE_WORDS_UNACCENTED = frozenset({"nhung", "tuy"})
NEGATION_REACH = 4  # the negator and at most three fillers before the term
_WORD = re.compile(r"\w", re.UNICODE)


# --------------------------------------------------------------------------------------------
# Syllables


def canonical(syllable: str) -> str:
    """Lower case, letters composed, the tone mark (if any) moved to the end: ``hoà`` and
    ``hòa`` both give ``hoa|1``."""
    decomposed = unicodedata.normalize("NFD", syllable.lower())
    tones = [TONE_MARKS[c] for c in decomposed if c in TONE_MARKS]
    letters = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
    return f"{letters}|{tones[0]}" if tones else letters


def plain(syllable: str) -> str:
    """Without any diacritic: ``đợi`` → ``doi``."""
    decomposed = unicodedata.normalize("NFD", syllable.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_NEGATOR_KEYS = frozenset(canonical(w) for w in NEGATORS)
_FILLER_KEYS = frozenset(canonical(w) for w in FILLERS)
_CLAUSE_KEYS = frozenset(canonical(w) for w in CLAUSE_WORDS)


@dataclass(frozen=True)
class Syllable:
    canonical: str
    plain: str
    accented: bool  # carries a diacritic (so it was not typed unaccented)
    word_start: bool
    word_end: bool
    is_break: bool  # punctuation or a clause conjunction


def _syllables(words: Sequence[str]) -> list[Syllable]:
    out: list[Syllable] = []
    for word in words:
        parts = word.split()
        if not parts:
            continue
        if not _WORD.search(word):  # punctuation
            out.append(Syllable(word, word, False, True, True, True))
            continue
        for i, part in enumerate(parts):
            key, bare = canonical(part), plain(part)
            accented = bare != part.lower()
            is_break = len(parts) == 1 and (
                key in _CLAUSE_KEYS or (not accented and bare in CLAUSE_WORDS_UNACCENTED)
            )
            out.append(Syllable(key, bare, accented, i == 0, i == len(parts) - 1, is_break))
    return out


# --------------------------------------------------------------------------------------------
# Word segmentation (lazy: the app starts without underthesea loaded)

_segmenter: Callable[[str], list[str]] | None = None
_segmenter_lock = threading.Lock()


def segment(text: str) -> list[str]:
    """The words of a text, by ``underthesea.word_tokenize`` (imported on first use)."""
    global _segmenter
    with _segmenter_lock:
        if _segmenter is None:
            from underthesea import word_tokenize

            _segmenter = word_tokenize
        try:
            return list(_segmenter(text))
        except Exception:  # one odd comment must not stop a batch: fall back to spaces
            log.warning("word segmentation failed; splitting on spaces", exc_info=True)
            return re.findall(r"\w+|[^\w\s]", text)


# --------------------------------------------------------------------------------------------
# Matching


@dataclass(frozen=True)
class _Pattern:
    term: Term
    canonical: tuple[str, ...]
    plain: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """One term found in a comment, and what it did."""

    term: Term
    start: int  # syllable index
    end: int
    negated: bool
    effect: str | None = None  # the topic it tagged, if any


@dataclass(frozen=True)
class Tagging:
    topics: frozenset[str]
    matches: tuple[Match, ...] = field(default=())


class Tagger:
    """The compiled form of one lexicon: call ``tag(text)``."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.version = lexicon.version
        self._by_first: dict[str, list[_Pattern]] = {}
        for term in lexicon.terms:
            parts = term.text.split()
            pattern = _Pattern(
                term, tuple(canonical(p) for p in parts), tuple(plain(p) for p in parts)
            )
            self._by_first.setdefault(pattern.plain[0], []).append(pattern)

    def topics(self, text: str | None) -> frozenset[str]:
        return self.tag(text).topics

    def tag(self, text: str | None) -> Tagging:
        if not text or not text.strip():
            return Tagging(frozenset())
        syllables = _syllables(segment(text))
        matches = self._select(self._candidates(syllables))
        return _read(syllables, matches)

    def _candidates(self, syllables: list[Syllable]) -> list[tuple[int, int, Term]]:
        found = []
        for start, first in enumerate(syllables):
            for pattern in self._by_first.get(first.plain, ()):
                end = start + len(pattern.canonical)
                if end > len(syllables) or not _same(syllables[start:end], pattern):
                    continue
                several = end - start > 1
                if several or (first.word_start and syllables[end - 1].word_end):
                    found.append((start, end, pattern.term))
        return found

    @staticmethod
    def _select(candidates: list[tuple[int, int, Term]]) -> list[tuple[int, int, Term]]:
        """Longest spans first; a span overlapping a chosen one is dropped (terms with exactly
        the same span are all kept: one phrase may name two topics)."""
        spans = sorted({(s, e) for s, e, _ in candidates}, key=lambda se: (se[0] - se[1], se[0]))
        taken: list[tuple[int, int]] = []
        for s, e in spans:
            if all(e <= ts or s >= te for ts, te in taken):
                taken.append((s, e))
        chosen = set(taken)
        return sorted((c for c in candidates if (c[0], c[1]) in chosen), key=lambda c: c[0])


def _same(syllables: Sequence[Syllable], pattern: _Pattern) -> bool:
    several = len(pattern.canonical) > 1
    for syllable, key, bare in zip(syllables, pattern.canonical, pattern.plain, strict=True):
        if syllable.canonical == key:
            continue
        if several and not syllable.accented and syllable.plain == bare:
            continue  # typed without diacritics
        return False
    return True


def _negated(syllables: Sequence[Syllable], start: int) -> bool:
    """A negator just before ``start``, with only fillers between (module docstring, step 6)."""
    for k in range(start - 1, max(start - 1 - NEGATION_REACH, -1), -1):
        syllable = syllables[k]
        if syllable.is_break:
            return False
        unaccented = not syllable.accented
        if syllable.canonical in _NEGATOR_KEYS or (
            unaccented and syllable.plain in NEGATORS_UNACCENTED
        ):
            return True
        if syllable.canonical in _FILLER_KEYS or (
            unaccented and syllable.plain in FILLERS_UNACCENTED
        ):
            continue
        return False
    return False


def _read(syllables: list[Syllable], matches: list[tuple[int, int, Term]]) -> Tagging:
    """Apply the clause rules (module docstring, step 7) to the matches, in text order."""
    topics: set[str] = set()
    done: list[Match] = []
    clause_aspects: list[tuple[int, int, Term, bool]] = []
    clause_negative = False
    wish = False
    breaks = [i for i, s in enumerate(syllables) if s.is_break]

    def close_clause() -> None:
        nonlocal clause_negative, wish
        for s, e, term, after_wish in clause_aspects:
            tagged = clause_negative or after_wish
            if tagged:
                topics.add(term.topic)
            done.append(Match(term, s, e, False, term.topic if tagged else None))
        clause_aspects.clear()
        clause_negative = False
        wish = False

    next_break = iter([*breaks, len(syllables)])
    boundary = next(next_break)
    for start, end, term in matches:
        while start > boundary:
            close_clause()
            boundary = next(next_break)
        negated = _negated(syllables, start)
        effect: str | None = None
        if term.polarity == "0":
            pass
        elif term.topic == "wish":
            wish = wish or not negated
        elif term.polarity == "=":
            clause_aspects.append((start, end, term, wish))
            continue
        elif term.topic == "general":
            positive = (term.polarity == "+") != negated and not wish
            if positive:
                effect = "praise"
            else:
                clause_negative = True
        elif term.topic == "praise":
            if not negated and not wish:
                effect = "praise"
        else:
            complaint = wish or (term.polarity == "-") != negated
            effect = term.topic if complaint else "praise"
        if effect:
            topics.add(effect)
        done.append(Match(term, start, end, negated, effect))
    close_clause()
    return Tagging(frozenset(topics), tuple(sorted(done, key=lambda m: m.start)))


_taggers: dict[str, Tagger] = {}
_taggers_lock = threading.Lock()


def tagger_for(lexicon: Lexicon) -> Tagger:
    """The compiled tagger of a lexicon, kept per version (a few per process at most)."""
    with _taggers_lock:
        tagger = _taggers.get(lexicon.version)
        if tagger is None:
            if len(_taggers) > 8:
                _taggers.clear()
            tagger = _taggers[lexicon.version] = Tagger(lexicon)
        return tagger

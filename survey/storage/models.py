"""Tables of the platform, as SQLAlchemy 2.0 typed models.

The agency hierarchy is data (``Agency.parent``) of any depth, so the three-level structure of the
seeds (province → district → commune) and the two-level one in force since 1 July 2025 (province →
commune) live side by side: a retired agency keeps its rows and points at its ``successor``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

SECTORS = ("administrative", "health", "education")
LEVELS = ("province", "district", "commune")
CHANNELS = ("qr", "kiosk", "paper", "import")
ROLES = ("province_admin", "sector_admin", "agency_manager", "viewer")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

int_pk = Annotated[int, mapped_column(Integer, primary_key=True)]
code_str = Annotated[str, mapped_column(String(64))]
name_str = Annotated[str, mapped_column(String(300))]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes stored as UTC on every engine (SQLite keeps no zone) and read back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a time zone")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class EnglishName:
    """A unit's English name as the province gave it (column ``name_en``, None when it gave none).

    ``name_en`` is the name to show on an English page: the English name, or else the Vietnamese
    name with its diacritics (never a stripped or title-cased copy). It reads the same in Python
    and in queries (``COALESCE(name_en, name_vi)``); assigning it stores the English name, a
    blank one as None. ``english_name`` is the stored value, for forms and files.
    """

    name_vi: Mapped[name_str]
    english_name: Mapped[str | None] = mapped_column("name_en", String(300))

    @hybrid_property
    def name_en(self) -> str:
        return self.english_name or self.name_vi

    @name_en.inplace.setter
    def _name_en_setter(self, value: str | None) -> None:
        self.english_name = value.strip() if value and value.strip() else None

    @name_en.inplace.expression
    @classmethod
    def _name_en_expression(cls) -> ColumnElement[str]:
        return func.coalesce(cls.english_name, cls.name_vi)


class Agency(EnglishName, Base):
    """A body that serves citizens: a People's Committee, a department, a hospital, a school."""

    __tablename__ = "agency"
    __table_args__ = (
        CheckConstraint(_in("sector", SECTORS), name="sector"),
        CheckConstraint(_in("level", LEVELS), name="level"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity"),
    )

    id: Mapped[int_pk]
    code: Mapped[code_str] = mapped_column(unique=True)
    sector: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))

    parent: Mapped[Agency | None] = relationship(
        remote_side="Agency.id", foreign_keys=[parent_id], back_populates="children"
    )
    children: Mapped[list[Agency]] = relationship(foreign_keys=[parent_id], back_populates="parent")
    successor: Mapped[Agency | None] = relationship(
        remote_side="Agency.id", foreign_keys=[successor_id]
    )
    service_points: Mapped[list[ServicePoint]] = relationship(back_populates="agency")

    def is_active_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


def _public_code_default(context: Any) -> str:
    return str(context.get_current_parameters()["public_code"])


class ServicePoint(EnglishName, Base):
    """A desk, counter, hospital department or school office with its own QR code."""

    __tablename__ = "service_point"

    id: Mapped[int_pk]
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    public_code: Mapped[str] = mapped_column(String(32), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The province's own code for the point (organisation and volume files, paper templates);
    # the random ``public_code`` of its QR when none is given.
    code: Mapped[str] = mapped_column(String(64), unique=True, default=_public_code_default)
    # Where a closed point's QR sends citizens (a desk moved or merged into another).
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("service_point.id"))

    agency: Mapped[Agency] = relationship(back_populates="service_points")
    successor: Mapped[ServicePoint | None] = relationship(remote_side="ServicePoint.id")
    volumes: Mapped[list[ServiceVolume]] = relationship(back_populates="service_point")


class ServiceVolume(Base):
    """Citizens served at a point in one month: the population size behind the weights."""

    __tablename__ = "service_volume"
    __table_args__ = (
        UniqueConstraint("service_point_id", "month"),
        CheckConstraint("volume >= 0", name="volume_non_negative"),
    )

    id: Mapped[int_pk]
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"))
    month: Mapped[dt.date] = mapped_column(Date)  # first day of the month
    volume: Mapped[int] = mapped_column(Integer)
    # A month still to come when it was entered: a plan, replaced by the count once known.
    planned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    service_point: Mapped[ServicePoint] = relationship(back_populates="volumes")


class Questionnaire(Base):
    """One version of a sector's questionnaire; versions are never edited once answered."""

    __tablename__ = "questionnaire"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        CheckConstraint(_in("sector", SECTORS), name="sector"),
    )

    id: Mapped[int_pk]
    code: Mapped[code_str]
    version: Mapped[int] = mapped_column(Integer)
    sector: Mapped[str] = mapped_column(String(20))
    title_vi: Mapped[name_str]
    title_en: Mapped[name_str]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(Text, default="")
    # draft (being written, never shown to citizens), else published: ``active`` says whether
    # citizens answer it now; a published version that is not active is retired.
    state: Mapped[str] = mapped_column(String(10), default="published", server_default="published")

    elements: Mapped[list[Element]] = relationship(
        back_populates="questionnaire", order_by="Element.position"
    )
    items: Mapped[list[Item]] = relationship(
        back_populates="questionnaire", order_by="Item.position"
    )

    @property
    def status(self) -> str:
        """``draft``, ``active`` or ``retired``."""
        if self.state == "draft":
            return "draft"
        return "active" if self.active else "retired"


class QuestionnaireTranslation(Base):
    """A questionnaire's texts in a language beyond Vietnamese and English (e.g. H'Mông, Thái),
    written by the province's translators: ``key`` is ``title``, ``language``, ``element:<code>``
    or ``item:<code>``; ``language`` is a BCP 47 tag (``hmn``, ``tdd``)."""

    __tablename__ = "questionnaire_translation"
    __table_args__ = (UniqueConstraint("questionnaire_id", "language", "key"),)

    id: Mapped[int_pk]
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"), index=True)
    language: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)


class Element(Base):
    """A group of items (e.g. SIPAS 'access to services'); its weight enters the composite index."""

    __tablename__ = "element"
    __table_args__ = (UniqueConstraint("questionnaire_id", "code"),)

    id: Mapped[int_pk]
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"))
    code: Mapped[code_str]
    position: Mapped[int] = mapped_column(Integer)
    name_vi: Mapped[name_str]
    name_en: Mapped[name_str]
    weight: Mapped[float] = mapped_column(Float, default=1.0)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="elements")
    items: Mapped[list[Item]] = relationship(back_populates="element", order_by="Item.position")


class Item(Base):
    """A question on the 5-point scale. ``element_id`` is None for the overall item."""

    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("questionnaire_id", "code"),)

    id: Mapped[int_pk]
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"))
    element_id: Mapped[int | None] = mapped_column(ForeignKey("element.id"))
    code: Mapped[code_str]
    position: Mapped[int] = mapped_column(Integer)
    text_vi: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    allows_not_applicable: Mapped[bool] = mapped_column(Boolean, default=False)
    is_overall: Mapped[bool] = mapped_column(Boolean, default=False)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="items")
    element: Mapped[Element | None] = relationship(back_populates="items")


class Response(Base):
    """One citizen's answers. Anonymous: no address, device or person is recorded."""

    __tablename__ = "response"
    __table_args__ = (CheckConstraint(_in("channel", CHANNELS), name="channel"),)

    id: Mapped[int_pk]
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"), index=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"))
    channel: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(5), default="vi")
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    comment: Mapped[str | None] = mapped_column(Text)
    # Kiosk responses: the counter tablet (an office's device, not the citizen's) and the moment
    # the citizen pressed Send on it, which a queued answer keeps while the tablet is offline.
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosk.id"), index=True)
    device_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Set only by an administrator's logged decision (ResponseDecision); excluded from indices.
    excluded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    service_point: Mapped[ServicePoint] = relationship()
    questionnaire: Mapped[Questionnaire] = relationship()
    answers: Mapped[list[Answer]] = relationship(back_populates="response")


class Answer(Base):
    """One item's answer; ``value`` None means 'not applicable'."""

    __tablename__ = "answer"
    __table_args__ = (
        CheckConstraint("value IS NULL OR (value >= 1 AND value <= 5)", name="value_scale"),
    )

    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    value: Mapped[int | None] = mapped_column(SmallInteger)

    response: Mapped[Response] = relationship(back_populates="answers")
    item: Mapped[Item] = relationship()


class ResponseMonth(Base):
    """Responses not excluded per service point and calendar month in Vietnam time (UTC+7):
    what the reports count instead of reading every response. Kept by database triggers
    (migration 0010) in the transaction that inserts, excludes or includes a response; never
    written by the application."""

    __tablename__ = "response_month"
    __table_args__ = (Index("ix_response_month_month", "month"),)

    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # its first day
    responses: Mapped[int] = mapped_column(Integer, default=0)


class AnswerMonth(Base):
    """Answers 1…5 to an item per service point and month, from responses not excluded (blank =
    not applicable is not counted): counts n_k of each value, so that answered = Σn_k,
    satisfied = n_4 + n_5, Σx = Σk·n_k and Σx² = Σk²·n_k. Kept by the triggers of
    ResponseMonth."""

    __tablename__ = "answer_month"
    __table_args__ = (Index("ix_answer_month_month", "month", "item_id"),)

    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    value_1: Mapped[int] = mapped_column(Integer, default=0)
    value_2: Mapped[int] = mapped_column(Integer, default=0)
    value_3: Mapped[int] = mapped_column(Integer, default=0)
    value_4: Mapped[int] = mapped_column(Integer, default=0)
    value_5: Mapped[int] = mapped_column(Integer, default=0)


class ElementMonth(Base):
    """The element indices' per-respondent sums of one service point and month for one element
    structure (``shape``: a digest of the elements' item codes and the comprehensive items;
    survey/services/reporting/rollup.py), rolled up from the answers so that a report reads one
    row per point and month. ``responses`` and ``answers`` are the month's counts when it was
    rolled up: a row whose counts differ from the monthly summaries' is stale and not read (the
    report computes that month from the answers). ``sums``: the columns of
    :func:`survey.storage.reporting.respondent_sums` by name."""

    __tablename__ = "element_month"
    __table_args__ = (Index("ix_element_month_month", "month", "shape"),)

    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    shape: Mapped[str] = mapped_column(String(32), primary_key=True)
    responses: Mapped[int] = mapped_column(Integer)
    answers: Mapped[int] = mapped_column(Integer)
    sums: Mapped[dict[str, int]] = mapped_column(JSON)


class Target(Base):
    """A satisfaction target: sector × scope × period, a threshold (``low``) or a band."""

    __tablename__ = "target"
    __table_args__ = (
        CheckConstraint("low >= 0 AND low <= 1", name="low_share"),
        CheckConstraint("high IS NULL OR (high >= low AND high <= 1)", name="band"),
        CheckConstraint("sector IS NULL OR " + _in("sector", SECTORS), name="sector"),
        CheckConstraint("period_end >= period_start", name="period"),
    )

    id: Mapped[int_pk]
    sector: Mapped[str | None] = mapped_column(String(20))  # None: every sector
    scope_name: Mapped[name_str]  # "Toàn quốc" or a province's name
    scope_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")

    scope_agency: Mapped[Agency | None] = relationship()


class User(Base):
    """An official who signs in. Passwords are stored as argon2 hashes only.

    The role's scope is ``sector`` (sector administrators, sector viewers) or ``scope_agency``
    and its sub-units (agency managers, agency viewers); province administrators have neither.

    ``username`` is stored in lower case, and the database refuses any other: with its unique
    constraint, ``Hoa`` and ``hoa`` cannot be two accounts.

    ``session_epoch`` is copied into each signed-in session and moves on at sign-out, password
    change or reset, disabling and role changes: every session holding an older number ends on
    its next request (survey/auth.py).
    ``must_change_password``: set by a password reset, cleared when the user picks their own.
    """

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint("sector IS NULL OR " + _in("sector", SECTORS), name="sector"),
        # With the unique constraint on ``username``: unique regardless of case.
        CheckConstraint("username = lower(username)", name="username_lower_case"),
    )

    id: Mapped[int_pk]
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(30), default="province_admin")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    sector: Mapped[str | None] = mapped_column(String(20))
    scope_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    scope_agency: Mapped[Agency | None] = relationship()


class SignInThrottle(Base):
    """Failed sign-ins of one username from one client address (an IPv6 address counts by its
    /64), or, under ``address = "*"``, from every address within the current window.

    Keyed by the username as typed (normalised), not by the account, so an unknown username is
    slowed exactly like a real one and the delay tells nothing about which accounts exist. The
    rules are in survey/services/accounts.py (``SignInBackOff``).
    """

    __tablename__ = "sign_in_throttle"

    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    window_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    succeeded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)


FLAG_KINDS = ("too_fast", "identical_burst", "implausible_rate", "implausible_time")


class Kiosk(Base):
    """A counter tablet registered for one service point.

    Pairing: the administrator gets a one-time pairing code (only its hash is kept) that the tablet
    exchanges for a device token (only its hash is kept). Revoking stops its submissions at once.
    """

    __tablename__ = "kiosk"

    id: Mapped[int_pk]
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"), index=True)
    label: Mapped[str] = mapped_column(String(120))
    pairing_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    pairing_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    paired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # the latest pairing
    # The first pairing: no answer given on this kiosk can be older (survey/services/kiosks.py).
    first_paired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    service_point: Mapped[ServicePoint] = relationship()


class ResponseFlag(Base):
    """A reason to doubt a response (too fast after the previous one, a burst of identical
    answers, more responses than the point can plausibly serve). The response is kept and counted
    until an administrator records a decision."""

    __tablename__ = "response_flag"
    __table_args__ = (
        UniqueConstraint("response_id", "kind"),
        CheckConstraint(_in("kind", FLAG_KINDS), name="kind"),
    )

    id: Mapped[int_pk]
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"))
    kind: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)

    response: Mapped[Response] = relationship()


class ResponseDecision(Base):
    """An administrator's include/exclude decision on a flagged response: who, when and why.

    Append-only: the newest decision of a response is the one in force (copied to
    ``Response.excluded``); the older ones stay as the log.
    """

    __tablename__ = "response_decision"

    id: Mapped[int_pk]
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    excluded: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)

    decided_by: Mapped[User] = relationship()


class AuditEvent(Base):
    """One administrative action. Append-only: rows are inserted, never updated or deleted.

    ``actor_name`` keeps the name as it was (``system`` for the command line); ``details`` holds
    what changed, as JSON.
    """

    __tablename__ = "audit_event"

    id: Mapped[int_pk]
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    actor_name: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- Comments inbox: topics, read marks, lexicon overrides (survey/services/comments/) ---

LEXICON_ACTIONS = ("add", "remove")
LEXICON_POLARITIES = ("-", "+", "=", "0")


class CommentState(Base):
    """What officials' tools know of one comment: the lexicon version that tagged it (a changed
    lexicon re-tags it lazily) and, later, the complaint case it was linked to.

    ``complaint_case_id`` is the hook for the dossier/complaint issue: it is a plain nullable
    integer until that table exists; its migration adds the foreign key.
    """

    __tablename__ = "comment_state"

    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), primary_key=True)
    lexicon_version: Mapped[str] = mapped_column(String(16))
    tagged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    complaint_case_id: Mapped[int | None] = mapped_column(Integer)


class CommentTopic(Base):
    """One topic a comment is about (``survey.services.comments.topics``), found by the tagger."""

    __tablename__ = "comment_topic"

    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)


class CommentRead(Base):
    """A comment marked as read for one scope (the province, a sector, an agency subtree): the
    officials who share a scope share one inbox, and each level of the hierarchy has its own."""

    __tablename__ = "comment_read"

    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), primary_key=True)
    scope_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    read_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    read_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class CommentLexiconTerm(Base):
    """The province's change to the shipped topic lexicon: a term added (or its polarity
    changed) or a shipped term removed. The tagger uses shipped terms + these changes."""

    __tablename__ = "comment_lexicon_term"
    __table_args__ = (
        UniqueConstraint("topic", "term"),
        CheckConstraint(_in("action", LEXICON_ACTIONS), name="action"),
        CheckConstraint(_in("polarity", LEXICON_POLARITIES), name="polarity"),
    )

    id: Mapped[int_pk]
    topic: Mapped[str] = mapped_column(String(20))
    term: Mapped[str] = mapped_column(String(80))
    polarity: Mapped[str] = mapped_column(String(1))
    action: Mapped[str] = mapped_column(String(10))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


# --- Dossiers, their ratings and complaints (survey/services/dossiers/) -----------------------

DOSSIER_STATUSES = ("received", "processing", "returned", "cancelled")
COMPLAINT_SOURCES = ("low_rating", "comment", "staff")
COMPLAINT_EVENT_KINDS = ("opened", "note", "closed", "rated", "reopened")
INVITATION_CHANNELS = ("sms", "zalo")


class Staff(Base):
    """A clerk who handles dossiers. ``clerk_code`` is the one-stop system's id; a clerk first
    seen in a dossier import has no ``name`` until an official enters it."""

    __tablename__ = "staff"
    __table_args__ = (
        CheckConstraint(
            "active_to IS NULL OR active_from IS NULL OR active_to > active_from",
            name="active_dates",
        ),
    )

    id: Mapped[int_pk]
    clerk_code: Mapped[code_str] = mapped_column(unique=True)
    name: Mapped[str | None] = mapped_column(String(300))
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_point.id"), index=True)
    active_from: Mapped[dt.date | None] = mapped_column(Date)
    active_to: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)

    service_point: Mapped[ServicePoint | None] = relationship()


class Dossier(Base):
    """An administrative-procedure case from the one-stop system, one row per dossier code.

    ``received_month`` is the first day of the month of ``received_at`` in Vietnam time (the
    service volume a dossier counts towards). No citizen's identity is kept.
    """

    __tablename__ = "dossier"
    __table_args__ = (
        CheckConstraint(_in("status", DOSSIER_STATUSES), name="status"),
        CheckConstraint("returned_at IS NULL OR returned_at >= received_at", name="returned"),
    )

    id: Mapped[int_pk]
    code: Mapped[code_str] = mapped_column(unique=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    procedure: Mapped[name_str]
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    received_month: Mapped[dt.date] = mapped_column(Date)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12))
    status_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    service_point: Mapped[ServicePoint] = relationship()
    staff: Mapped[Staff | None] = relationship()


class DossierInvitation(Base):
    """The single-use rating link of one dossier: only a hash of its token is stored.

    The token itself is re-derived from ``nonce`` with the server's key when the slip is printed
    again or the link exported for SMS/Zalo (survey/services/dossiers/links.py). Counts: printed
    slips, exports to the messaging gateway, opens and the rating.
    """

    __tablename__ = "dossier_invitation"
    __table_args__ = (
        CheckConstraint(
            "channel IS NULL OR " + _in("channel", INVITATION_CHANNELS), name="channel"
        ),
    )

    id: Mapped[int_pk]
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), unique=True)
    nonce: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    slip_printed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str | None] = mapped_column(String(10))
    first_opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    open_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    used: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    dossier: Mapped[Dossier] = relationship()


class DossierRating(Base):
    """The one rating of a dossier: the primary key makes a second one impossible.

    Kept apart from the answers: the response holds no dossier. ``overall`` (1–5) is all the
    official ratios and clerks' results need; ``response_id`` joins the full answers and is None
    where the province keeps no link (``DOSSIER_RATING_LINK=none``) or after
    ``flask unlink-dossier-ratings``. No time is stored here, so the rating cannot be matched to a
    response by its moment.
    """

    __tablename__ = "dossier_rating"
    __table_args__ = (CheckConstraint("overall >= 1 AND overall <= 5", name="overall_scale"),)

    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), primary_key=True)
    overall: Mapped[int] = mapped_column(SmallInteger)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("response.id"), unique=True)

    dossier: Mapped[Dossier] = relationship()


class Complaint(Base):
    """A complaint or petition case (phản ánh, kiến nghị): opened by a low rating, a comment the
    citizen marked as a complaint, or an official; handled and closed by a due time; its handling
    rated by the citizen through the dossier's link."""

    __tablename__ = "complaint"
    __table_args__ = (
        CheckConstraint(_in("source", COMPLAINT_SOURCES), name="source"),
        CheckConstraint(
            "handling_rating IS NULL OR (handling_rating >= 1 AND handling_rating <= 5)",
            name="handling_rating_scale",
        ),
        CheckConstraint("closed_at IS NULL OR closed_at >= opened_at", name="closed"),
    )

    id: Mapped[int_pk]
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_point.id"))
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossier.id"), index=True)
    source: Mapped[str] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(Text)
    handling_rating: Mapped[int | None] = mapped_column(SmallInteger)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    agency: Mapped[Agency] = relationship()
    service_point: Mapped[ServicePoint | None] = relationship()
    dossier: Mapped[Dossier | None] = relationship()
    events: Mapped[list[ComplaintEvent]] = relationship(
        back_populates="complaint", order_by="ComplaintEvent.id"
    )


class ComplaintEvent(Base):
    """One step of a complaint's handling (opened, a note, closed, rated, reopened)."""

    __tablename__ = "complaint_event"
    __table_args__ = (CheckConstraint(_in("kind", COMPLAINT_EVENT_KINDS), name="kind"),)

    id: Mapped[int_pk]
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    kind: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")

    complaint: Mapped[Complaint] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class CommentReview(Base):
    """A comment that seems to name a person (a clerk's name, "anh/chị/cán bộ + Name"), held for
    an official's review; the decision (keep or blank the comment) is logged in the audit log."""

    __tablename__ = "comment_review"

    id: Mapped[int_pk]
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decision: Mapped[str | None] = mapped_column(String(12))

    response: Mapped[Response] = relationship()
